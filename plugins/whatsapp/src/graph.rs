//! Graph API calls for a WhatsApp number (`/{phone-number-id}/...`).

use helpdesk_plugin_sdk::prelude::*;
use serde_json::Value;

/// `POST /{phone-number-id}/messages`.
pub fn post_message(body: Value) -> Result<Value, ChannelError> {
    call("POST", "messages", &body)
}

/// `{method} {base_url}/{phone-number-id}/{edge}` with a JSON body.
pub fn call(method: &str, edge: &str, body: &Value) -> Result<Value, ChannelError> {
    let number = require_config("phone_number_id")?;
    helpdesk_meta::graph(method, &format!("{number}/{edge}"), Some(body), "WhatsApp")
}
