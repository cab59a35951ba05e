//! One poll loop per channel: fetch with the saved cursor, store the page with its cursor,
//! wait as the plugin asks; back off on failures and pause as long as a rate limit says.

use super::ChannelRuntime;
use crate::inbox::Inbox;
use crate::plugins::{ChannelFailure, PluginError};
use std::sync::Arc;
use std::time::{Duration, Instant};

const MIN_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// A plugin asking to be called again at once, having waited for nothing and found nothing,
/// is called again after this instead: no hot loop.
const IDLE_FLOOR: Duration = Duration::from_secs(1);

/// Exponential backoff with jitter.
pub struct Backoff {
    next: Duration,
}

impl Backoff {
    pub fn new() -> Self {
        Backoff { next: MIN_BACKOFF }
    }
    pub fn reset(&mut self) {
        self.next = MIN_BACKOFF;
    }
    pub fn next_delay(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next * 2).min(MAX_BACKOFF);
        d.mul_f64(0.8 + fastrand::f64() * 0.4)
    }
}

pub async fn run(ch: Arc<ChannelRuntime>, inbox: Arc<Inbox>) {
    let id = ch.config.id.clone();
    let mut backoff = Backoff::new();
    while ch.keep_polling() {
        // Each round with the plugin and secrets of now: an upgrade or a reconnect applies from
        // the next fetch, the one under way finishes as it began.
        let Some(plugin) = ch.plugin() else { return };
        let platform = plugin.info().platform.clone();
        let cursor = match inbox.store().cursor(&id).await {
            Ok(c) => c,
            Err(e) => {
                let d = backoff.next_delay();
                ch.health.failed(crate::model::HealthState::Degraded, format!("cannot read the cursor: {e}"), Some(d));
                tokio::time::sleep(d).await;
                continue;
            }
        };
        let started = Instant::now();
        let wait = match plugin.fetch(ch.ctx(), cursor).await {
            Ok(mut page) => {
                let found = page.events.len();
                ch.health.quota(page.quota.take());
                ch.health.notice(page.notice.take());
                let fetched = started.elapsed();
                match inbox.ingest(&id, &platform, ch.ticket_rules(page.events), page.next_cursor).await {
                    Ok(report) => {
                        tracing::debug!(
                            channel = %id,
                            events = found,
                            fetch_ms = fetched.as_secs_f64() * 1e3,
                            store_ms = (started.elapsed() - fetched).as_secs_f64() * 1e3,
                            "page ingested"
                        );
                        ch.health.ok(report.new_messages > 0);
                        ch.health.dropped(&page.dropped);
                        backoff.reset();
                        if page.poll_after.is_zero() && found == 0 && started.elapsed() < Duration::from_millis(500) {
                            IDLE_FLOOR
                        } else {
                            page.poll_after
                        }
                    }
                    Err(e) => {
                        let d = backoff.next_delay();
                        ch.health.failed(crate::model::HealthState::Degraded, format!("storing failed: {e}"), Some(d));
                        d
                    }
                }
            }
            Err(PluginError::Channel(ChannelFailure::RateLimited { retry_after_ms, message })) => {
                let d = Duration::from_millis(retry_after_ms).max(MIN_BACKOFF);
                let e = PluginError::Channel(ChannelFailure::RateLimited { retry_after_ms, message });
                ch.health.plugin_failed(&e, Some(d));
                d
            }
            Err(e) => {
                let d = backoff.next_delay();
                ch.health.plugin_failed(&e, Some(d));
                d
            }
        };
        pause(&ch, wait).await;
    }
}

/// Wait `wait` before the next fetch; a channel that reads a mailbox wakes as soon as mail
/// arrives there (IMAP IDLE), where its server offers that.
async fn pause(ch: &ChannelRuntime, wait: Duration) {
    let ctx = ch.ctx();
    let Some((account, folder)) = ctx.watched_mailbox().filter(|_| wait >= IDLE_FLOOR) else {
        tokio::time::sleep(wait).await;
        return;
    };
    let started = Instant::now();
    match crate::mail::wait_for_new(&*ctx, &account, &folder, wait).await {
        Ok(crate::mail::Woken::NewMail) => {}
        Ok(crate::mail::Woken::Unsupported) => {
            ctx.mailbox_has_no_idle();
            tokio::time::sleep(wait.saturating_sub(started.elapsed())).await
        }
        Ok(crate::mail::Woken::Quiet) | Err(_) => tokio::time::sleep(wait.saturating_sub(started.elapsed())).await,
    }
}
