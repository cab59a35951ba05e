//! Graph API calls for a WhatsApp number, and Meta's error codes as `channel-error`s.

use helpdesk_plugin_sdk::prelude::*;
use serde_json::Value;

/// `POST /{phone-number-id}/messages`.
pub fn post_message(body: Value) -> Result<Value, ChannelError> {
    call("POST", "messages", &body)
}

/// `{method} {base_url}/{phone-number-id}/{edge}` with a JSON body.
pub fn call(method: &str, edge: &str, body: &Value) -> Result<Value, ChannelError> {
    let base = config_or("base_url", "https://graph.facebook.com/v21.0");
    let number = require_config("phone_number_id")?;
    let token = require_secret("access_token")?;
    let resp = Request::new(method, format!("{}/{number}/{edge}", base.trim_end_matches('/')))
        .header("authorization", &format!("Bearer {token}"))
        .json(body)
        .send()?;
    if resp.is_success() {
        return resp.json();
    }
    if resp.status >= 500 {
        return Err(err::transient(format!("WhatsApp answered HTTP {}", resp.status)));
    }
    let body: Value = resp.json().unwrap_or(Value::Null);
    let e = &body["error"];
    let code = e["code"].as_i64().unwrap_or_default();
    let words = e["error_data"]["details"].as_str().or(e["message"].as_str()).unwrap_or("unknown error").to_string();
    Err(match code {
        190 => err::unauthorized(format!("the access token expired or was revoked ({words})")),
        4 | 17 | 32 | 613 | 80001 | 80007 | 130429 | 131056 => {
            err::rate_limited(wait_ms(&resp), format!("WhatsApp rate limit {code}: {words}"))
        }
        131047 => err::permanent(
            "WhatsApp only allows replies within 24 hours of the customer's last message; after that only approved templates (error 131047)",
        ),
        _ => err::permanent(format!("WhatsApp error {code}: {words}")),
    })
}

/// How long Meta says to wait: `estimated_time_to_regain_access` (minutes) in
/// `x-business-use-case-usage`, else a minute.
fn wait_ms(resp: &Response) -> u64 {
    let minutes = resp
        .header("x-business-use-case-usage")
        .and_then(|h| serde_json::from_str::<Value>(h).ok())
        .and_then(|usage| {
            usage.as_object()?.values().flat_map(|v| v.as_array().cloned().unwrap_or_default()).filter_map(|u| u["estimated_time_to_regain_access"].as_u64()).max()
        })
        .unwrap_or(1)
        .max(1);
    minutes * 60_000
}
