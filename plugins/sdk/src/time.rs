//! Times as the contract wants them (milliseconds since the Unix epoch, UTC), from the
//! formats platforms send.

/// Now, in milliseconds (the fake clock under `cargo test` when one is set).
pub fn now_ms() -> i64 {
    #[cfg(not(target_arch = "wasm32"))]
    if let Some(now) = crate::testing::imports::now_ms() {
        return now;
    }
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// `2024-05-01T12:00:00Z`, `2024-05-01T12:00:00.123+02:00` (RFC 3339 / ISO 8601).
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s.trim()).ok().map(|d| d.timestamp_millis())
}

/// `Tue, 14 Nov 2023 22:13:20 GMT` (an HTTP date, as in `Retry-After` and `Date`).
pub fn parse_http_date(s: &str) -> Option<i64> {
    let t = httpdate::parse_http_date(s.trim()).ok()?;
    t.duration_since(std::time::UNIX_EPOCH).ok().map(|d| d.as_millis() as i64)
}

/// `Wed, 18 Aug 2010 20:01:40 +0000` (RFC 2822, as in Twilio's resources and mail).
pub fn parse_rfc2822(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc2822(s.trim()).ok().map(|d| d.timestamp_millis())
}

/// Seconds since the epoch (Telegram's `date`, Graph's `created_time` as a number) in ms.
pub fn from_unix_seconds(secs: i64) -> i64 {
    secs.saturating_mul(1000)
}

/// How long until `at_ms` from `now_ms`, never negative (a reset time already past: 0).
pub fn wait_until(at_ms: i64, now_ms: i64) -> u64 {
    at_ms.saturating_sub(now_ms).max(0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_times_become_milliseconds() {
        assert_eq!(parse_rfc3339("2023-11-14T22:13:20Z"), Some(1_700_000_000_000));
        assert_eq!(parse_rfc2822("Tue, 14 Nov 2023 22:13:20 +0000"), Some(1_700_000_000_000));
        assert_eq!(parse_rfc3339("2023-11-14T23:13:20.5+01:00"), Some(1_700_000_000_500));
        assert_eq!(parse_rfc3339("yesterday"), None);
        assert_eq!(parse_http_date("Tue, 14 Nov 2023 22:13:20 GMT"), Some(1_700_000_000_000));
        assert_eq!(wait_until(5_000, 7_000), 0);
        assert_eq!(wait_until(7_000, 5_000), 2_000);
    }
}
