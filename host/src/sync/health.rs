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
}

impl HealthCell {
    pub fn new(channel: &str, state: HealthState, events: EventBus) -> Self {
        HealthCell { channel: channel.to_string(), inner: Mutex::new(ChannelHealth::new(state)), events }
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
        if before.state != after.state || before.last_error != after.last_error {
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

    /// A failure, retried after `retry_in`.
    pub fn failed(&self, state: HealthState, reason: String, retry_in: Option<Duration>) {
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
        let state = match e {
            PluginError::Channel(ChannelFailure::Unauthorized(_)) => HealthState::NeedsReconnect,
            _ => HealthState::Degraded,
        };
        self.failed(state, e.to_string(), retry_in);
    }
}
