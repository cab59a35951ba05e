//! X API v2 calls with the account's user token, and X's two error shapes (problem JSON and
//! the v1-style `errors[]`) as `channel-error`s: 429 waits until `x-rate-limit-reset`; a used-up
//! monthly cap says so.

use helpdesk_plugin_sdk::prelude::*;
use helpdesk_plugin_sdk::time::now_ms;
use serde_json::Value;

pub const DEFAULT_BASE_URL: &str = "https://api.x.com/2";

pub fn url(path: &str) -> String {
    format!("{}/{}", config_or("base_url", DEFAULT_BASE_URL).trim_end_matches('/'), path.trim_start_matches('/'))
}

/// The words of an X error body, whichever shape it has.
fn words(body: &Value) -> String {
    if let Some(e) = body["errors"].as_array().and_then(|e| e.first()) {
        return e["message"].as_str().or(e["detail"].as_str()).unwrap_or("error").to_string();
    }
    let title = body["title"].as_str().unwrap_or("");
    match body["detail"].as_str() {
        Some(d) if !title.is_empty() => format!("{title}: {d}"),
        Some(d) => d.to_string(),
        None if !title.is_empty() => title.to_string(),
        None => "unknown error".into(),
    }
}

pub fn error(resp: &Response) -> ChannelError {
    let body: Value = resp.json().unwrap_or(Value::Null);
    let words = words(&body);
    let v1_code = body["errors"][0]["code"].as_i64();
    let capped = body["title"].as_str() == Some("UsageCapExceeded") || body["type"].as_str().is_some_and(|t| t.ends_with("usage-capped"));
    match resp.status {
        _ if capped => err::rate_limited(
            resp.retry_after_ms(now_ms()).unwrap_or(86_400_000),
            format!("the X plan's monthly cap of posts read is used up ({words}); it starts again with the next billing month"),
        ),
        429 => err::rate_limited(resp.retry_after_ms(now_ms()).unwrap_or(15 * 60_000), format!("X rate limit: {words}")),
        _ if v1_code == Some(88) => err::rate_limited(resp.retry_after_ms(now_ms()).unwrap_or(15 * 60_000), format!("X rate limit: {words}")),
        401 => err::unauthorized(format!("X refused the access token: {words}")),
        403 => err::permanent(format!("X does not allow this: {words}")),
        404 => err::permanent(format!("X has no such post or user (deleted?): {words}")),
        408 | 500..=599 => err::transient(format!("X answered HTTP {}: {words}", resp.status)),
        _ => err::permanent(format!("X refused the request (HTTP {}): {words}", resp.status)),
    }
}

pub fn call(method: &str, path: &str, body: Option<&Value>) -> Result<Value, ChannelError> {
    let mut req = Request::new(method, url(path)).bearer(&require_secret("access_token")?);
    if let Some(b) = body {
        req = req.json(b);
    }
    let resp = req.send()?;
    if !resp.is_success() {
        return Err(error(&resp));
    }
    Ok(if resp.body.is_empty() { Value::Null } else { resp.json()? })
}

pub fn get(path: &str, query: &[(&str, String)]) -> Result<Value, ChannelError> {
    call("GET", &format!("{path}?{}", helpdesk_plugin_sdk::http::query_string(query)), None)
}
