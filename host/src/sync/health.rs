//! Channel health as admins see it, updated by every poll, webhook and load.

use crate::events::{Event, EventBus};
use crate::model::{now_ms, ChannelHealth, HealthState};
use crate::plugins::{ChannelFailure, PluginError};
use std::sync::Mutex;
use std::time::Duration;

pub struct HealthCell {
    channel: String,
    inner: Mutex<ChannelHealth>,
    events: EventBus,
    /// The channel's secrets, old and new: every agent reads health, so none may appear in it.
    secrets: Mutex<Vec<String>>,
}

impl HealthCell {
    pub fn new(channel: &str, state: HealthState, events: EventBus, secrets: Vec<String>) -> Self {
        HealthCell { channel: channel.to_string(), inner: Mutex::new(ChannelHealth::new(state)), events, secrets: Mutex::new(secrets) }
    }

    /// Secrets an admin gave since: kept out of what health says, as the first ones are.
    pub fn also_redact(&self, more: impl IntoIterator<Item = String>) {
        self.secrets.lock().expect("health lock").extend(more);
    }

    fn redact(&self, text: &str) -> String {
        crate::plugins::redact(text, self.secrets.lock().expect("health lock").iter())
    }

    pub fn get(&self) -> ChannelHealth {
        self.inner.lock().expect("health lock").clone()
    }

    fn update(&self, f: impl FnOnce(&mut ChannelHealth)) {
        let (before, after) = {
            let mut h = self.inner.lock().expect("health lock");
            let before = h.clone();
            f(&mut h);
            (before, h.clone())
        };
        if before.state != after.state || before.last_error != after.last_error || before.quota != after.quota || before.notice != after.notice {
            self.events.publish(Event::ChannelHealth { channel: self.channel.clone(), health: after });
        }
    }

    /// Enabled or disabled by an admin: the state changes, the last error stays on record.
    pub fn set_state(&self, state: HealthState) {
        self.update(|h| {
            h.state = state;
            h.next_retry_at = None;
        });
    }

    /// A call succeeded; `activity` when it delivered interactions.
    pub fn ok(&self, activity: bool) {
        self.update(|h| {
            h.state = HealthState::Ok;
            h.consecutive_failures = 0;
            h.next_retry_at = None;
            h.last_ok_at = Some(now_ms());
            if activity {
                h.last_activity_at = Some(now_ms());
            }
        });
    }

    /// Another host sharing the store polls this channel now; this one stands by to take over.
    pub fn standby(&self) {
        self.update(|h| {
            h.state = HealthState::Ok;
            h.notice = Some("polled by another host on the same store; this one takes over if it stops".into());
        });
    }

    /// The platform's call budget as the plugin counted it; none keeps the last one.
    pub fn quota(&self, quota: Option<crate::model::Quota>) {
        if let Some(q) = quota {
            self.update(|h| h.quota = Some(q));
        }
    }

    /// What the plugin says the admin should know now (none: nothing).
    pub fn notice(&self, notice: Option<String>) {
        let notice = notice.map(|n| self.redact(&n));
        self.update(|h| h.notice = notice);
    }

    /// Events the plugin returned broke the host's bounds and were left out; the rest were
    /// stored and the channel goes on, so the state stays, with the reason on record.
    pub fn dropped(&self, reasons: &[String]) {
        let Some(first) = reasons.first() else { return };
        let reason = self.redact(&format!("left out {} event(s) the plugin returned, breaking the host's bounds: {first}", reasons.len()));
        tracing::warn!(channel = %self.channel, "{reason}");
        self.update(|h| {
            h.last_error = Some(reason);
            h.last_error_at = Some(now_ms());
        });
    }

    /// A failure, retried after `retry_in`.
    pub fn failed(&self, state: HealthState, reason: String, retry_in: Option<Duration>) {
        let reason = self.redact(&reason);
        tracing::warn!(channel = %self.channel, "{reason}");
        self.update(|h| {
            h.state = state;
            h.last_error = Some(reason);
            h.last_error_at = Some(now_ms());
            h.consecutive_failures += 1;
            h.next_retry_at = retry_in.map(|d| now_ms() + d.as_millis() as i64);
        });
    }

    /// Record a plugin call's failure with the state it implies.
    pub fn plugin_failed(&self, e: &PluginError, retry_in: Option<Duration>) {
        self.failed(Self::state_for(e), e.to_string(), retry_in);
    }

    fn state_for(e: &PluginError) -> HealthState {
        match e {
            PluginError::Channel(ChannelFailure::Unauthorized(_)) => HealthState::NeedsReconnect,
            _ => HealthState::Degraded,
        }
    }

    /// A webhook's failure: anyone can POST, so the same failure again (a channel missing its
    /// secret, met by every unauthenticated delivery) changes nothing and publishes nothing.
    pub fn webhook_failed(&self, e: &PluginError) {
        let reason = self.redact(&e.to_string());
        let current = self.get();
        if current.state == Self::state_for(e) && current.last_error.as_deref() == Some(reason.as_str()) {
            return;
        }
        self.plugin_failed(e, None);
    }
}
