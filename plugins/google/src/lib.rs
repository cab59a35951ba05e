//! What Google's APIs share: an OAuth2 access token kept fresh from the refresh token (the new
//! token kept in kv), Google's JSON error bodies as `channel-error`s, and the midnight in
//! Pacific time when daily quotas start again.

use chrono::{Datelike, NaiveDate, TimeZone, Utc, Weekday};
use helpdesk_plugin_sdk::prelude::*;
use serde_json::{json, Value};

pub const DEFAULT_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
/// Refresh this long before the token's end, so no call goes out with a dying token.
const REFRESH_MARGIN_MS: i64 = 60_000;
const TOKEN_KEY: &str = "google:access-token";

/// The OAuth2 settings every Google channel has.
pub fn settings() -> Vec<Setting> {
    vec![
        Setting::config("client_id", "OAuth client id").required().help("The Google Cloud project's OAuth 2.0 client id"),
        Setting::secret("client_secret", "OAuth client secret").help("The same OAuth client's secret"),
        Setting::secret("refresh_token", "Refresh token")
            .help("A refresh token granted to that client by the account (offline access); the plugin gets access tokens from it"),
        Setting::config("token_url", "Token endpoint").default_value(DEFAULT_TOKEN_URL),
    ]
}

/// An access token: the one kept, while it lasts; else a new one from the refresh token.
pub fn access_token(platform: &str) -> Result<String, ChannelError> {
    if let Some(saved) = kv_get(TOKEN_KEY)?.and_then(|b| serde_json::from_slice::<Value>(&b).ok()) {
        if saved["expires_at"].as_i64().unwrap_or(0) > helpdesk_plugin_sdk::time::now_ms() + REFRESH_MARGIN_MS {
            if let Some(t) = saved["token"].as_str() {
                return Ok(t.to_string());
            }
        }
    }
    refresh(platform)
}

/// Trade the refresh token for a new access token and keep it.
pub fn refresh(platform: &str) -> Result<String, ChannelError> {
    let url = config_or("token_url", DEFAULT_TOKEN_URL);
    let form = [
        ("grant_type", "refresh_token".to_string()),
        ("refresh_token", require_secret("refresh_token")?),
        ("client_id", require_config("client_id")?),
        ("client_secret", require_secret("client_secret")?),
    ];
    let resp = Request::post(url).form(&form).send()?;
    let body: Value = resp.json().unwrap_or(Value::Null);
    if !resp.is_success() {
        let what = body["error"].as_str().unwrap_or("error");
        let words = body["error_description"].as_str().unwrap_or("");
        return Err(match (resp.status, what) {
            (_, "invalid_grant") => err::unauthorized(format!(
                "Google refused the refresh token (invalid_grant: {words}); reconnect {platform} with a new one"
            )),
            (_, "invalid_client" | "unauthorized_client") => err::unauthorized(format!("Google refused the OAuth client ({what}: {words})")),
            (429, _) | (500..=599, _) => err::transient(format!("Google's token endpoint answered HTTP {}", resp.status)),
            _ => err::permanent(format!("Google's token endpoint refused the refresh ({what}: {words})")),
        });
    }
    let token = body["access_token"].as_str().ok_or_else(|| err::transient("Google's token endpoint gave no access_token"))?.to_string();
    let expires_at = helpdesk_plugin_sdk::time::now_ms() + body["expires_in"].as_i64().unwrap_or(3600) * 1000;
    kv_set(TOKEN_KEY, json!({"token": token, "expires_at": expires_at}).to_string().as_bytes())?;
    Ok(token)
}

/// Call a Google API with the access token; a 401 refreshes the token once and tries again.
/// `None` for an empty answer (`204`).
pub fn call(method: &str, url: &str, body: Option<&Value>, platform: &str) -> Result<Option<Value>, ChannelError> {
    let send = |token: &str| {
        let mut req = Request::new(method, url).bearer(token);
        if let Some(b) = body {
            req = req.json(b);
        }
        req.send()
    };
    let mut resp = send(&access_token(platform)?)?;
    if resp.status == 401 {
        resp = send(&refresh(platform)?)?;
    }
    if !resp.is_success() {
        return Err(error(&resp, platform));
    }
    Ok(if resp.body.is_empty() { None } else { Some(resp.json()?) })
}

/// The first `errors[].reason` of a Google error body (`quotaExceeded`), if any.
pub fn reason(body: &Value) -> Option<&str> {
    body["error"]["errors"][0]["reason"].as_str()
}

/// A Google JSON error (`{"error":{"code","message","status","errors":[{"reason"}]}}`) as the
/// host should act on it.
pub fn error(resp: &Response, platform: &str) -> ChannelError {
    let body: Value = resp.json().unwrap_or(Value::Null);
    let e = &body["error"];
    let words = e["message"].as_str().unwrap_or("unknown error");
    let status = e["status"].as_str().unwrap_or("");
    let reason = reason(&body).unwrap_or("");
    let now = helpdesk_plugin_sdk::time::now_ms();
    match (resp.status, reason, status) {
        (_, "quotaExceeded" | "dailyLimitExceeded", _) => {
            let reset = next_pacific_midnight(now);
            err::rate_limited(
                helpdesk_plugin_sdk::time::wait_until(reset, now).max(1000),
                format!(
                    "{platform}'s daily quota is used up ({reason}); calls start again at midnight Pacific time, in {} h {} min",
                    (reset - now) / 3_600_000,
                    (reset - now) % 3_600_000 / 60_000
                ),
            )
        }
        (429, ..) | (_, "rateLimitExceeded" | "userRateLimitExceeded", _) | (_, _, "RESOURCE_EXHAUSTED") => {
            err::rate_limited(resp.retry_after_ms(now).unwrap_or(60_000), format!("{platform} is throttling calls: {words}"))
        }
        (401, ..) => err::unauthorized(format!("{platform} refused the access token: {words}")),
        (403, ..) => err::permanent(format!("{platform} does not allow this: {words}")),
        (404, ..) => err::permanent(format!("{platform} has no such thing (it may have been deleted): {words}")),
        (408 | 500..=599, ..) => err::transient(format!("{platform} answered HTTP {}: {words}", resp.status)),
        _ => err::permanent(format!("{platform} refused the request (HTTP {}): {words}", resp.status)),
    }
}

/// The next midnight in US Pacific time after `now_ms` (Google's daily quotas start again
/// then): UTC−7 from the second Sunday of March to the first Sunday of November, else UTC−8.
pub fn next_pacific_midnight(now_ms: i64) -> i64 {
    let offset_h = pacific_offset_hours(now_ms);
    let local = Utc.timestamp_millis_opt(now_ms + offset_h * 3_600_000).single().unwrap_or_default().date_naive();
    let next = local.succ_opt().unwrap_or(local).and_hms_opt(0, 0, 0).unwrap_or_default().and_utc().timestamp_millis();
    // The offset of the midnight itself (a DST change happens at 2 am, after it).
    next - pacific_offset_hours(next - offset_h * 3_600_000) * 3_600_000
}

/// The Pacific day `now_ms` falls on, as a number (for counting a day's use).
pub fn pacific_day(now_ms: i64) -> i64 {
    (now_ms + pacific_offset_hours(now_ms) * 3_600_000).div_euclid(86_400_000)
}

fn pacific_offset_hours(utc_ms: i64) -> i64 {
    let year = Utc.timestamp_millis_opt(utc_ms).single().unwrap_or_default().year();
    let at = |month, n, hour_utc| {
        NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Sun, n)
            .and_then(|d| d.and_hms_opt(hour_utc, 0, 0))
            .map(|t| t.and_utc().timestamp_millis())
            .unwrap_or(0)
    };
    // 2 am local: 10:00 UTC in March (from PST), 09:00 UTC in November (from PDT).
    if utc_ms >= at(3, 2, 10) && utc_ms < at(11, 1, 9) { -7 } else { -8 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> i64 {
        helpdesk_plugin_sdk::time::parse_rfc3339(s).unwrap()
    }

    #[test]
    fn daily_quotas_start_again_at_midnight_pacific_summer_and_winter() {
        assert_eq!(next_pacific_midnight(utc("2026-07-01T12:00:00Z")), utc("2026-07-02T07:00:00Z"));
        assert_eq!(next_pacific_midnight(utc("2026-12-01T12:00:00Z")), utc("2026-12-02T08:00:00Z"));
        // 23:30 in Los Angeles is already the next day in UTC.
        assert_eq!(next_pacific_midnight(utc("2026-12-02T07:30:00Z")), utc("2026-12-02T08:00:00Z"));
        assert_eq!(pacific_day(utc("2026-12-02T07:59:00Z")) + 1, pacific_day(utc("2026-12-02T08:00:00Z")));
    }
}
