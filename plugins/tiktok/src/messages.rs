//! Business Messaging: direct messages arrive as `im_receive_msg` webhooks, signed
//! `TikTok-Signature: t=<seconds>,s=<hex HMAC-SHA256(app secret, "<t>.<raw body>")>`; the
//! message is the JSON in the event's `content`, or, when `content` names only the
//! conversation, is read from it. One ticket per conversation.

use crate::api;
use crate::comments::time_ms;
use helpdesk_plugin_sdk::prelude::*;
use helpdesk_plugin_sdk::time::now_ms;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

/// How old a signed delivery may be: older ones are replays.
const TOLERANCE_S: i64 = 300;

/// Whether the delivery carries a valid, fresh signature.
pub fn verified(request: &HttpRequest, secret: &str) -> bool {
    let Some(header) = request.header("tiktok-signature") else { return false };
    let mut t = None;
    let mut s = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("s", v)) => s = hex::decode(v).ok(),
            _ => {}
        }
    }
    let (Some(t), Some(s)) = (t, s) else { return false };
    if (now_ms() / 1000 - t).abs() > TOLERANCE_S {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{t}.").as_bytes());
    mac.update(&request.body);
    mac.verify_slice(&s).is_ok()
}

/// A Business Messaging message as an interaction of its conversation.
pub fn message(m: &Value, business: &str) -> Option<Interaction> {
    let id = m["message_id"].as_str()?;
    let conversation = m["conversation_id"].as_str()?;
    let from_id = m["from_user"]["id"].as_str().unwrap_or_default();
    let ours = from_id == business;
    let name = m["from"].as_str().filter(|n| !n.is_empty()).unwrap_or("TikTok user");
    let author = Author::new(if from_id.is_empty() { name } else { from_id }, name);
    let (text, attachments) = match m["type"].as_str().unwrap_or("text") {
        "text" => (m["text"]["body"].as_str().unwrap_or_default().to_string(), Vec::new()),
        other => {
            let kind = match other {
                "image" => AttachmentKind::Image,
                "video" => AttachmentKind::Video,
                "sticker" => AttachmentKind::Sticker,
                _ => AttachmentKind::Other,
            };
            let media = &m[other];
            let a = Attachment {
                kind,
                platform_id: media["media_id"].as_str().map(str::to_string),
                url: media["url"].as_str().map(str::to_string),
                mime_type: None,
                name: None,
                size: None,
            };
            (String::new(), vec![a])
        }
    };
    let direction = if ours { Direction::Outbound } else { Direction::Inbound };
    let mut i = Interaction::new(id, InteractionKind::PrivateMessage, direction, conversation, author, text, time_ms(&m["timestamp"]));
    i.attachments = attachments;
    i.meta = vec![("conversation".into(), conversation.into())];
    Some(i)
}

/// The interactions of one `im_receive_msg` event.
pub fn event(body: &Value, business: &str) -> Result<Vec<Event>, ChannelError> {
    if body["event"].as_str() != Some("im_receive_msg") {
        return Ok(Vec::new());
    }
    let content: Value = match &body["content"] {
        Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
        other => other.clone(),
    };
    if let Some(i) = message(&content, business) {
        return Ok(vec![Event::Interaction(i)]);
    }
    // Only the conversation named: read its newest messages (the host stores each once).
    let Some(conversation) = content["conversation_id"].as_str() else { return Ok(Vec::new()) };
    let data = api::get("business/message/content/list/", &[("business_id", business.to_string()), ("conversation_id", conversation.to_string())])?;
    Ok(data["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| {
            let mut m = m.clone();
            m.as_object_mut()?.entry("conversation_id").or_insert_with(|| json!(conversation));
            message(&m, business)
        })
        .map(Event::Interaction)
        .collect())
}

/// Answer in the conversation.
pub fn reply(business: &str, conversation: &str, text: &str) -> Result<Interaction, ChannelError> {
    let body = json!({"business_id": business, "recipient_type": "CONVERSATION", "recipient": conversation, "message_type": "TEXT", "text": {"body": text}});
    let sent = api::post("business/message/send/", &body)?;
    let id = sent["message_id"].as_str().map(str::to_string).unwrap_or_else(|| format!("sent:{conversation}:{}", now_ms()));
    let mut i = Interaction::new(id, InteractionKind::PrivateMessage, Direction::Outbound, conversation, Author::new(business, "Us"), text, None);
    i.meta = vec![("conversation".into(), conversation.into())];
    Ok(i)
}
