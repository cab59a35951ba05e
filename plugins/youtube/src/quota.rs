//! The Data API's daily budget of units (10,000 by default, new each midnight Pacific time):
//! every call is counted before it goes, polling is spread so the budget lasts the day, and a
//! share is kept for agents' writes (50 units each).

use helpdesk_plugin_sdk::prelude::*;
use helpdesk_plugin_sdk::time::now_ms;
use serde_json::{json, Value};

const KEY: &str = "youtube:quota";
pub const DEFAULT_DAILY: u64 = 10_000;
/// What one write costs (comments.insert, setModerationStatus, comments.delete).
pub const WRITE: u64 = 50;
/// Never poll more often than this (`poll_seconds`), however much is left.
const MIN_POLL_MS: i64 = 30_000;

fn min_poll_ms() -> i64 {
    config("poll_seconds").and_then(|s| s.trim().parse::<i64>().ok()).filter(|s| *s > 0).map(|s| s * 1000).unwrap_or(MIN_POLL_MS)
}

pub fn limit() -> u64 {
    config("daily_quota").and_then(|q| q.trim().parse().ok()).filter(|q| *q > 0).unwrap_or(DEFAULT_DAILY)
}

/// Kept for agents: a tenth of the day's budget, at least ten writes.
fn reserve(limit: u64) -> u64 {
    (limit / 10).max(10 * WRITE).min(limit / 2)
}

/// Units used today (Pacific).
pub fn used() -> u64 {
    let today = helpdesk_google::pacific_day(now_ms());
    match kv_get(KEY).ok().flatten().and_then(|b| serde_json::from_slice::<Value>(&b).ok()) {
        Some(v) if v["day"].as_i64() == Some(today) => v["used"].as_u64().unwrap_or(0),
        _ => 0,
    }
}

fn exhausted(what: &str) -> ChannelError {
    let now = now_ms();
    let reset = helpdesk_google::next_pacific_midnight(now);
    err::rate_limited(
        helpdesk_plugin_sdk::time::wait_until(reset, now).max(1000),
        format!(
            "YouTube's daily quota ({} units) has no room {what}; it starts again at midnight Pacific time, in {} h {} min",
            limit(),
            (reset - now) / 3_600_000,
            (reset - now) % 3_600_000 / 60_000
        ),
    )
}

/// Count `units` before a call; refused when it would eat into what is kept for agents
/// (`write`: an agent's action, which may use that share).
pub fn spend(units: u64, write: bool) -> Result<(), ChannelError> {
    let limit = limit();
    let used = used();
    let ceiling = if write { limit } else { limit - reserve(limit) };
    if used + units > ceiling {
        return Err(exhausted(if write { "for this action" } else { "for polling (the rest is kept for agents' answers)" }));
    }
    let today = helpdesk_google::pacific_day(now_ms());
    kv_set(KEY, json!({"day": today, "used": used + units}).to_string().as_bytes())
}

/// YouTube said the quota is gone: count it as gone, so no call goes out until the reset.
pub fn mark_exhausted() {
    let today = helpdesk_google::pacific_day(now_ms());
    let _ = kv_set(KEY, json!({"day": today, "used": limit()}).to_string().as_bytes());
}

/// How long to wait before the next poll of `cost` units, so what is left for polling lasts
/// until the reset.
pub fn poll_after_ms(cost: u64) -> u32 {
    let now = now_ms();
    let limit = limit();
    let left = (limit - reserve(limit)).saturating_sub(used());
    let until_reset = helpdesk_google::next_pacific_midnight(now) - now;
    let floor = min_poll_ms();
    if left < cost.max(1) {
        return until_reset.clamp(floor, u32::MAX as i64) as u32;
    }
    let polls = (left / cost.max(1)) as i64;
    (until_reset / polls.max(1)).clamp(floor, 3_600_000.max(floor)) as u32
}

pub fn report() -> Quota {
    Quota { unit: "units".into(), used: used(), limit: limit(), resets_at: Some(helpdesk_google::next_pacific_midnight(now_ms())) }
}
