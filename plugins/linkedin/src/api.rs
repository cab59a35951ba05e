//! LinkedIn's versioned REST API: every call carries `LinkedIn-Version` (a YYYYMM that LinkedIn
//! sunsets about a year later) and `X-Restli-Protocol-Version: 2.0.0`; URNs in paths and queries
//! are percent-encoded; errors are `{message, serviceErrorCode, status}`.

use helpdesk_plugin_sdk::http::encode;
use helpdesk_plugin_sdk::prelude::*;
use helpdesk_plugin_sdk::time::now_ms;
use serde_json::Value;

pub const DEFAULT_BASE_URL: &str = "https://api.linkedin.com/rest";
pub const DEFAULT_VERSION: &str = "202611";

pub fn version() -> String {
    config_or("linkedin_version", DEFAULT_VERSION)
}

pub fn org() -> Result<String, ChannelError> {
    Ok(format!("urn:li:organization:{}", require_config("organization_id")?))
}

/// When LinkedIn retires the configured version: about twelve months after its month, the
/// middle of that month.
pub fn sunset(version: &str) -> Option<chrono::NaiveDate> {
    let (y, m) = (version.get(..4)?.parse::<i32>().ok()?, version.get(4..6)?.parse::<u32>().ok()?);
    chrono::NaiveDate::from_ymd_opt(y + 1, m, 15)
}

/// Days until the configured version retires, from today.
pub fn days_left() -> Option<(chrono::NaiveDate, i64)> {
    let d = sunset(&version())?;
    let today = chrono::DateTime::from_timestamp_millis(now_ms()).unwrap_or_default().date_naive();
    Some((d, d.signed_duration_since(today).num_days()))
}

/// A word for the admin once the version is within 60 days of retiring.
pub fn sunset_notice() -> Option<String> {
    let (d, days) = days_left().filter(|(_, days)| *days <= 60)?;
    Some(format!("LinkedIn-Version {} retires on {d} (in {days} days): set linkedin_version to a newer YYYYMM", version()))
}

fn midnight_utc_in_ms() -> u64 {
    let day = 86_400_000;
    (day - now_ms().rem_euclid(day)) as u64
}

pub fn error(resp: &Response) -> ChannelError {
    let body: Value = resp.json().unwrap_or(Value::Null);
    let words = body["message"].as_str().unwrap_or("unknown error").to_string();
    match resp.status {
        401 => err::unauthorized(format!("LinkedIn refused the access token: {words}")),
        426 => err::invalid_config(format!("LinkedIn-Version {} is no longer active ({words}): set linkedin_version to a current YYYYMM", version())),
        429 => err::rate_limited(midnight_utc_in_ms().max(60_000), format!("LinkedIn's daily limit is reached ({words}); it resets at midnight UTC")),
        403 => err::permanent(format!("LinkedIn does not allow this: {words}")),
        404 => err::permanent(format!("LinkedIn has no such post or comment: {words}")),
        500..=599 => err::transient(format!("LinkedIn answered HTTP {}: {words}", resp.status)),
        _ => err::permanent(format!("LinkedIn refused the request (HTTP {}): {words}", resp.status)),
    }
}

/// A call; `path` is already encoded. The answer's JSON (Null when empty) and its headers.
pub fn call(method: &str, path: &str, body: Option<&Value>) -> Result<(Value, Response), ChannelError> {
    let url = format!("{}/{}", config_or("base_url", DEFAULT_BASE_URL).trim_end_matches('/'), path.trim_start_matches('/'));
    let mut req = Request::new(method, url)
        .bearer(&require_secret("access_token")?)
        .header("LinkedIn-Version", &version())
        .header("X-Restli-Protocol-Version", "2.0.0");
    if let Some(b) = body {
        req = req.json(b);
    }
    let resp = req.send()?;
    if !resp.is_success() {
        return Err(error(&resp));
    }
    let v = if resp.body.is_empty() { Value::Null } else { resp.json()? };
    Ok((v, resp))
}

pub fn get(path: &str) -> Result<Value, ChannelError> {
    call("GET", path, None).map(|(v, _)| v)
}

pub fn urn(u: &str) -> String {
    encode(u)
}
