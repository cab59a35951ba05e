//! Bot API calls (`{base_url}/bot{token}/{method}`) and the mapping of Telegram's error
//! envelope to `channel-error`s.

use helpdesk_plugin_sdk::prelude::*;
use serde::de::DeserializeOwned;
use serde::Deserialize;

#[derive(Deserialize)]
struct Envelope {
    ok: bool,
    result: Option<serde_json::Value>,
    error_code: Option<u16>,
    description: Option<String>,
    parameters: Option<Parameters>,
}

#[derive(Deserialize)]
struct Parameters {
    retry_after: Option<u64>,
}

/// Call `method` with JSON `params`.
pub fn call<T: DeserializeOwned>(method: &str, params: &serde_json::Value) -> Result<T, ChannelError> {
    call_with_timeout(method, params, 30_000)
}

/// Call `method`, waiting up to `timeout_ms` (long polling).
pub fn call_with_timeout<T: DeserializeOwned>(
    method: &str,
    params: &serde_json::Value,
    timeout_ms: u32,
) -> Result<T, ChannelError> {
    send(method, Request::post(method_url(method)?).json(params).timeout_ms(timeout_ms))
}

/// Call `method` with a `multipart/form-data` body (uploads), waiting up to a minute.
pub fn call_multipart<T: DeserializeOwned>(method: &str, form: Multipart) -> Result<T, ChannelError> {
    send(method, Request::post(method_url(method)?).multipart(form).timeout_ms(60_000))
}

fn method_url(method: &str) -> Result<String, ChannelError> {
    let token = require_secret("bot_token")?;
    let base = config_or("base_url", "https://api.telegram.org");
    Ok(format!("{}/bot{token}/{method}", base.trim_end_matches('/')))
}

fn send<T: DeserializeOwned>(method: &str, request: Request) -> Result<T, ChannelError> {
    let resp = request.send()?;
    if resp.status >= 500 {
        return Err(err::transient(format!("Telegram answered HTTP {}", resp.status)));
    }
    let env: Envelope = resp.json()?;
    if env.ok {
        let result = env.result.unwrap_or(serde_json::Value::Null);
        return serde_json::from_value(result)
            .map_err(|e| err::transient(format!("unexpected result from {method}: {e}")));
    }
    Err(map_error(env.error_code.unwrap_or(resp.status), env.description.unwrap_or_default(), env.parameters))
}

/// Where a file `getFile` named is downloaded from.
pub fn file_url(path: &str) -> Result<String, ChannelError> {
    let token = require_secret("bot_token")?;
    let base = config_or("base_url", "https://api.telegram.org");
    Ok(format!("{}/file/bot{token}/{}", base.trim_end_matches('/'), path.trim_start_matches('/')))
}

fn map_error(code: u16, description: String, parameters: Option<Parameters>) -> ChannelError {
    match code {
        429 => {
            let secs = parameters.and_then(|p| p.retry_after).unwrap_or(5);
            err::rate_limited(secs * 1000, description)
        }
        401 | 404 => err::unauthorized(format!("Telegram refused the bot token ({description})")),
        409 if description.contains("webhook is active") => err::invalid_config(format!(
            "{description}: this bot has a webhook set; set `poll = false` for the channel or delete the webhook"
        )),
        409 => err::transient(format!("{description} (another process is polling this bot)")),
        403 if description.contains("blocked by the user") => {
            err::permanent("the user blocked the bot, so it cannot write to them")
        }
        _ => err::permanent(format!("Telegram error {code}: {description}")),
    }
}
