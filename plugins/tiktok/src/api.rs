//! TikTok API for Business: `Access-Token` calls answered in the `{code, message, data}`
//! envelope (an error is a non-zero `code`, usually with HTTP 200), and the access token kept
//! fresh from the refresh token, which TikTok replaces on every refresh (the new one is kept).

use helpdesk_plugin_sdk::prelude::*;
use helpdesk_plugin_sdk::time::now_ms;
use serde_json::{json, Value};

pub const DEFAULT_BASE_URL: &str = "https://business-api.tiktok.com/open_api/v1.3";
const TOKENS: &str = "tiktok:tokens";
const REFRESH_MARGIN_MS: i64 = 5 * 60_000;

fn base() -> String {
    config_or("base_url", DEFAULT_BASE_URL).trim_end_matches('/').to_string()
}

/// What the codes in TikTok's envelope mean to the host. The sheet leaves the exact throttling
/// and token codes unverified; these are the ones TikTok's Business API documents for them.
fn failure(code: i64, message: &str) -> ChannelError {
    match code {
        40100 | 40133 | 61000 => err::rate_limited(60_000, format!("TikTok is throttling calls (code {code}): {message}")),
        40104 | 40105 | 40106 => err::unauthorized(format!("TikTok refused the access token (code {code}): {message}")),
        40001 | 40002 | 40003 => err::permanent(format!("TikTok refused the request (code {code}): {message}")),
        50000..=59999 => err::transient(format!("TikTok failed (code {code}): {message}")),
        _ => err::permanent(format!("TikTok error {code}: {message}")),
    }
}

fn is_token_failure(e: &ChannelError) -> bool {
    matches!(e, ChannelError::Unauthorized(_))
}

/// The envelope's `data`, or its code as an error.
fn envelope(resp: Response) -> Result<Value, ChannelError> {
    if resp.status == 429 {
        return Err(err::rate_limited(resp.retry_after_ms(now_ms()).unwrap_or(60_000), "TikTok answered HTTP 429"));
    }
    if resp.status >= 500 {
        return Err(err::transient(format!("TikTok answered HTTP {}", resp.status)));
    }
    let body: Value = resp.json()?;
    match body["code"].as_i64() {
        Some(0) => Ok(body["data"].clone()),
        Some(code) => Err(failure(code, body["message"].as_str().unwrap_or(""))),
        None if resp.status == 401 => Err(err::unauthorized("TikTok refused the access token")),
        None => Err(err::transient(format!("TikTok answered HTTP {} without its envelope", resp.status))),
    }
}

/// The refresh token to use: the newest TikTok gave, unless the admin has since entered
/// another one (a reconnect).
fn tokens() -> Result<Value, ChannelError> {
    let secret = require_secret("refresh_token")?;
    let kept = kv_get(TOKENS)?.and_then(|b| serde_json::from_slice::<Value>(&b).ok()).unwrap_or(Value::Null);
    if kept["from_secret"].as_str() == Some(&secret) {
        return Ok(kept);
    }
    Ok(json!({"refresh_token": secret, "from_secret": secret}))
}

/// An access token: the one kept while it lasts, else a fresh one.
pub fn access_token() -> Result<String, ChannelError> {
    let t = tokens()?;
    if t["expires_at"].as_i64().unwrap_or(0) > now_ms() + REFRESH_MARGIN_MS {
        if let Some(a) = t["access_token"].as_str() {
            return Ok(a.to_string());
        }
    }
    refresh()
}

/// Trade the refresh token for a new access token (and a new refresh token), and keep both.
pub fn refresh() -> Result<String, ChannelError> {
    let t = tokens()?;
    let body = json!({
        "client_id": require_config("app_id")?,
        "client_secret": require_secret("app_secret")?,
        "grant_type": "refresh_token",
        "refresh_token": t["refresh_token"],
    });
    let data = envelope(Request::post(format!("{}/tt_user/oauth2/refresh_token/", base())).json(&body).send()?).map_err(|e| match e {
        ChannelError::Unauthorized(m) | ChannelError::Permanent(m) => {
            err::unauthorized(format!("TikTok refused the refresh token ({m}); reconnect the account with a new one"))
        }
        other => other,
    })?;
    let access = data["access_token"].as_str().ok_or_else(|| err::transient("TikTok's token answer has no access_token"))?.to_string();
    let now = now_ms();
    let kept = json!({
        "access_token": access,
        "expires_at": now + data["expires_in"].as_i64().unwrap_or(86_400) * 1000,
        "refresh_token": data["refresh_token"].as_str().unwrap_or(t["refresh_token"].as_str().unwrap_or_default()),
        "refresh_expires_at": data["refresh_token_expires_in"].as_i64().map(|s| now + s * 1000),
        "from_secret": t["from_secret"],
    });
    kv_set(TOKENS, kept.to_string().as_bytes())?;
    Ok(access)
}

fn call(req: impl Fn(&str) -> Request) -> Result<Value, ChannelError> {
    match envelope(req(&access_token()?).send()?) {
        Err(e) if is_token_failure(&e) => envelope(req(&refresh()?).send()?),
        other => other,
    }
}

/// `GET path?query` (query pairs encoded here).
pub fn get(path: &str, query: &[(&str, String)]) -> Result<Value, ChannelError> {
    let url = format!("{}/{}?{}", base(), path.trim_start_matches('/'), helpdesk_plugin_sdk::http::query_string(query));
    call(|token| Request::get(url.clone()).header("Access-Token", token))
}

/// `POST path` with a JSON body.
pub fn post(path: &str, body: &Value) -> Result<Value, ChannelError> {
    let url = format!("{}/{}", base(), path.trim_start_matches('/'));
    call(|token| Request::post(url.clone()).header("Access-Token", token).json(body))
}
