//! One poll loop per channel: fetch with the saved cursor, store the page with its cursor,
//! wait as the plugin asks; back off on failures and pause as long as a rate limit says.
//! On a store shared by several hosts, a channel is polled under a lease (`store::lease`):
//! one host at a time, the others ready to take over when it stops renewing.

use super::ChannelRuntime;
use crate::inbox::Inbox;
use crate::store::host_id;
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

/// How long a poll lease lasts unless renewed (`HELPDESK_LEASE_SECONDS`, default 10): a
/// stopped host's channels are polled again by another within two of these.
pub fn lease_period() -> Duration {
    static PERIOD: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();
    *PERIOD.get_or_init(|| {
        let secs = std::env::var("HELPDESK_LEASE_SECONDS").ok().and_then(|s| s.parse::<f64>().ok()).filter(|s| *s >= 0.5 && *s <= 600.0);
        Duration::from_secs_f64(secs.unwrap_or(10.0))
    })
}

/// Hold the channel's lease for a round of polling: its epoch, or `None` (after a wait) while
/// another host polls it. An unshared store needs none.
async fn lease(ch: &ChannelRuntime, inbox: &Inbox, backoff: &mut Backoff) -> Option<Option<i64>> {
    let store = inbox.store();
    if !store.is_shared() {
        return Some(None);
    }
    match store.take_lease(&ch.config.id, host_id(), lease_period()).await {
        Ok(Some(epoch)) => Some(Some(epoch)),
        Ok(None) => {
            ch.health.standby();
            tokio::time::sleep(lease_period() / 2).await;
            None
        }
        Err(e) => {
            let d = backoff.next_delay();
            ch.health.failed(crate::model::HealthState::Degraded, format!("cannot take the poll lease: {e}"), Some(d));
            tokio::time::sleep(d).await;
            None
        }
    }
}

/// Renew the lease every third of its period while `work` runs (a long poll, or the wait the
/// platform asks for, outlasts it).
async fn renewing<T>(ch: &ChannelRuntime, inbox: &Inbox, epoch: Option<i64>, work: impl std::future::Future<Output = T>) -> T {
    if epoch.is_none() {
        return work.await;
    }
    tokio::pin!(work);
    let mut tick = tokio::time::interval(lease_period() / 3);
    tick.tick().await;
    loop {
        tokio::select! {
            out = &mut work => return out,
            _ = tick.tick() => {
                // A lease lost meanwhile fences this round's write; the next round finds out.
                let _ = inbox.store().take_lease(&ch.config.id, host_id(), lease_period()).await;
            }
        }
    }
}

pub async fn run(ch: Arc<ChannelRuntime>, inbox: Arc<Inbox>) {
    let id = ch.config.id.clone();
    let mut backoff = Backoff::new();
    while ch.keep_polling() {
        let Some(epoch) = lease(&ch, &inbox, &mut backoff).await else { continue };
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
        let fetched = renewing(&ch, &inbox, epoch, plugin.fetch(ch.ctx(), cursor)).await;
        let wait = match fetched {
            Ok(mut page) => {
                let found = page.events.len();
                ch.health.quota(page.quota.take());
                ch.health.notice(page.notice.take());
                let fetched = started.elapsed();
                let stored = renewing(&ch, &inbox, epoch, inbox.ingest(&id, &platform, ch.ticket_rules(page.events), page.next_cursor, epoch)).await;
                match stored {
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
                    // Another host polls it now: this page is its to fetch again.
                    Err(crate::inbox::InboxError::Store(crate::store::StoreError::Fenced(why))) => {
                        tracing::info!(channel = %id, "{why}");
                        Duration::ZERO
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
        // Held through the wait too: another host taking over would poll sooner than asked.
        renewing(&ch, &inbox, epoch, pause(&ch, wait)).await;
    }
    if inbox.store().is_shared() {
        let _ = inbox.store().release_lease(&id, host_id()).await;
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
