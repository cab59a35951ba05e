//! WhatsApp Cloud API channel: Meta's verified, signed webhooks in; replies, reactions, read
//! receipts and blocking out through the Graph API. WhatsApp has no API to poll for messages.

mod graph;
mod inbound;

use helpdesk_plugin_sdk::prelude::*;
use serde_json::json;

struct WhatsApp;

impl Channel for WhatsApp {
    fn describe() -> ChannelInfo {
        use ActionKind::*;
        ChannelInfo {
            platform: "whatsapp".into(),
            platform_name: "WhatsApp".into(),
            capabilities: vec![Capability {
                kind: InteractionKind::PrivateMessage,
                actions: vec![Reply, Like, Unlike, React, MarkRead, Block, Unblock],
                notes: vec![
                    "Free-form replies only within 24 hours of the customer's last message; after that only approved templates".into(),
                    "Received messages cannot be hidden or deleted".into(),
                ],
            }],
            polls: false,
            webhooks: true,
            reply_window_hours: Some(24),
            config_keys: vec!["base_url".into(), "phone_number_id".into()],
            secret_names: vec!["access_token".into(), "app_secret".into(), "verify_token".into()],
        }
    }

    fn handle_webhook(request: HttpRequest) -> Result<WebhookOutcome, ChannelError> {
        if request.method.eq_ignore_ascii_case("GET") {
            return verify_subscription(&request.url);
        }
        let app_secret = require_secret("app_secret")?;
        if !inbound::signature_valid(&app_secret, request.header("x-hub-signature-256"), &request.body) {
            return Ok(WebhookOutcome::reject(401, "bad or missing X-Hub-Signature-256"));
        }
        let Ok(body) = serde_json::from_slice::<serde_json::Value>(&request.body) else {
            return Ok(WebhookOutcome::reject(400, "the body is not JSON"));
        };
        let number = config("phone_number_id");
        Ok(WebhookOutcome::accept(inbound::events(&body, number.as_deref())))
    }

    fn perform(target: Target, action: Action) -> Result<ActionOutcome, ChannelError> {
        let to = &target.author_id;
        let message = |body: serde_json::Value| graph::post_message(body);
        let created = match action {
            Action::Reply(reply) => {
                let sent = message(json!({
                    "messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
                    "type": "text", "text": {"body": reply.text, "preview_url": false},
                    "context": {"message_id": target.platform_id},
                }))?;
                let id = sent["messages"][0]["id"].as_str().unwrap_or_default().to_string();
                Some(inbound::outbound(&id, to, &target.thread_key, &target.platform_id, &reply.text))
            }
            Action::Like | Action::React(_) | Action::Unlike => {
                let emoji = match action {
                    Action::React(e) => e,
                    Action::Like => "👍".into(),
                    _ => String::new(),
                };
                message(json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
                    "type": "reaction", "reaction": {"message_id": target.platform_id, "emoji": emoji}}))?;
                None
            }
            Action::MarkRead => {
                message(json!({"messaging_product": "whatsapp", "status": "read", "message_id": target.platform_id}))?;
                None
            }
            Action::Block | Action::Unblock => {
                let method = if matches!(action, Action::Block) { "POST" } else { "DELETE" };
                graph::call(method, "block_users", &json!({"messaging_product": "whatsapp", "block_users": [{"user": to}]}))?;
                None
            }
            _ => return Err(err::unsupported("WhatsApp's Cloud API has no such action")),
        };
        Ok(ActionOutcome { created })
    }
}

/// Meta's subscription handshake: echo `hub.challenge` when `hub.verify_token` matches.
fn verify_subscription(url: &str) -> Result<WebhookOutcome, ChannelError> {
    let expected = require_secret("verify_token")?;
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let param = |name: &str| {
        query.split('&').filter_map(|kv| kv.split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    };
    match (param("hub.mode").as_deref(), param("hub.verify_token"), param("hub.challenge")) {
        (Some("subscribe"), Some(token), Some(challenge)) if inbound::constant_time_eq(token.as_bytes(), expected.as_bytes()) => {
            Ok(WebhookOutcome { response: HttpResponse::text(200, &challenge), events: Vec::new() })
        }
        _ => Ok(WebhookOutcome::reject(403, "verification failed")),
    }
}

export_channel!(WhatsApp);
