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
            capabilities: vec![Capability::new(InteractionKind::PrivateMessage, &[Reply, Like, Unlike, React, MarkRead, Block, Unblock])
                .note("Free-form replies only within 24 hours of the customer's last message; after that only approved templates")
                .note("Received messages cannot be hidden or deleted")
                .max_reply_chars(4096)],
            polls: false,
            webhooks: true,
            reply_window_hours: Some(24),
            tagged_reply_window: None,
            settings: helpdesk_meta::settings(vec![Setting::config("phone_number_id", "Phone number id").required().help("The WhatsApp Business phone number's id (not the number itself)")]),
            allowed_hosts: helpdesk_meta::allowed_hosts(),
        }
    }

    fn check() -> Result<String, ChannelError> {
        helpdesk_meta::check("phone_number_id", "WhatsApp")
    }

    fn handle_webhook(request: HttpRequest) -> Result<WebhookOutcome, ChannelError> {
        let body = match helpdesk_meta::verified_body(&request) {
            Ok(body) => body,
            Err(answer) => return answer,
        };
        let number = config("phone_number_id");
        Ok(WebhookOutcome::accept(inbound::events(&body, number.as_deref())))
    }

    /// A media id becomes a short-lived URL (`GET /{media-id}`), downloaded with the token.
    fn media(_target: Target, attachment: Attachment) -> Result<HttpRequest, ChannelError> {
        let id = attachment.platform_id.ok_or_else(|| err::unsupported("this attachment has no WhatsApp media id"))?;
        let found = helpdesk_meta::graph("GET", &helpdesk_plugin_sdk::http::encode(&id), None, "WhatsApp")?;
        let url = found["url"].as_str().ok_or_else(|| err::permanent("WhatsApp gave no URL for this media (expired after 30 days?)"))?;
        let token = require_secret("access_token")?;
        Ok(Request::get(url).bearer(&token).unsent())
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

export_channel!(WhatsApp);
