//! The Page's Messenger inbox: messages in (the Page's own sends come back as echoes and are
//! outbound), delivery receipts onto our messages; replies, reactions and "seen" out.

use helpdesk_plugin_sdk::prelude::*;
use serde_json::{json, Value};

/// What one `messaging[]` entry reports. Reads and reactions create no tickets.
pub fn event(page: &str, m: &Value, entry_time: i64) -> Vec<Event> {
    let time = match helpdesk_meta::time_ms(&m["timestamp"]) {
        0 => entry_time,
        t => t,
    };
    if let Some(mids) = m["delivery"]["mids"].as_array() {
        return mids
            .iter()
            .filter_map(Value::as_str)
            .map(|mid| Event::Delivery(Delivery { platform_id: mid.to_string(), state: DeliveryState::Delivered, at: time, error: None }))
            .collect();
    }
    let msg = &m["message"];
    let Some(mid) = msg["mid"].as_str() else {
        // Reads (a watermark), reactions, postbacks without text, and echoes without an id.
        return Vec::new();
    };
    let echo = msg["is_echo"].as_bool() == Some(true);
    let (sender, recipient) = (m["sender"]["id"].as_str().unwrap_or_default(), m["recipient"]["id"].as_str().unwrap_or_default());
    let (customer, direction, author) = if echo || sender == page {
        (recipient, Direction::Outbound, Author::new(page, "Page"))
    } else {
        (sender, Direction::Inbound, profile(sender))
    };
    let attachments = msg["attachments"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| Attachment {
            kind: match a["type"].as_str() {
                Some("image") => AttachmentKind::Image,
                Some("video") => AttachmentKind::Video,
                Some("audio") => AttachmentKind::Audio,
                Some("file") => AttachmentKind::File,
                Some("location") => AttachmentKind::Location,
                _ => AttachmentKind::Other,
            },
            platform_id: None,
            url: a["payload"]["url"].as_str().map(str::to_string),
            mime_type: None,
            name: a["title"].as_str().map(str::to_string),
            size: None,
        })
        .collect();
    let mut i = Interaction::new(mid, InteractionKind::PrivateMessage, direction, customer, author, msg["text"].as_str().unwrap_or_default(), time);
    i.attachments = attachments;
    i.parent_id = msg["reply_to"]["mid"].as_str().map(str::to_string);
    i.from_ad = m["referral"]["source"].as_str() == Some("ADS");
    vec![Event::Interaction(i)]
}

/// The customer's name and picture: Messenger webhooks carry only their page-scoped id, so the
/// profile is asked once and kept in the channel's kv. A failed lookup leaves a generic name.
fn profile(psid: &str) -> Author {
    let key = format!("profile:{psid}");
    let cached = kv_get(&key).and_then(|b| serde_json::from_slice::<Value>(&b).ok());
    let p = match cached {
        Some(p) => p,
        None => match helpdesk_meta::graph("GET", &format!("{psid}?fields=first_name,last_name,profile_pic"), None, crate::PLATFORM) {
            Ok(p) => {
                let _ = kv_set(&key, &serde_json::to_vec(&p).unwrap_or_default());
                p
            }
            Err(_) => Value::Null,
        },
    };
    let name = [p["first_name"].as_str(), p["last_name"].as_str()].into_iter().flatten().collect::<Vec<_>>().join(" ");
    let mut a = Author::new(psid, if name.is_empty() { "Messenger user" } else { &name });
    a.avatar_url = p["profile_pic"].as_str().map(str::to_string);
    a
}

pub fn perform(target: &Target, action: Action) -> Result<ActionOutcome, ChannelError> {
    let page = require_config("page_id")?;
    let send = |body: Value| helpdesk_meta::graph("POST", &format!("{page}/messages"), Some(&body), crate::PLATFORM);
    let psid = &target.author_id;
    let created = match action {
        Action::Reply(r) => {
            let mut body = json!({"recipient": {"id": psid}, "messaging_type": "RESPONSE", "message": {"text": r.text}});
            if let Some(tag) = &r.tag {
                body["messaging_type"] = json!("MESSAGE_TAG");
                body["tag"] = json!(tag);
            }
            let sent = send(body)?;
            let mid = sent["message_id"].as_str().unwrap_or_default();
            let mut i = Interaction::new(mid, InteractionKind::PrivateMessage, Direction::Outbound, target.thread_key.clone(), Author::new(&page, "Page"), r.text, 0);
            i.parent_id = Some(target.platform_id.clone());
            Some(i)
        }
        Action::Like | Action::React(_) => {
            let emoji = if let Action::React(e) = action { e } else { "👍".into() };
            send(json!({"recipient": {"id": psid}, "sender_action": "react", "payload": {"message_id": target.platform_id, "reaction": emoji}}))?;
            None
        }
        Action::Unlike => {
            send(json!({"recipient": {"id": psid}, "sender_action": "unreact", "payload": {"message_id": target.platform_id}}))?;
            None
        }
        Action::MarkRead => {
            send(json!({"recipient": {"id": psid}, "sender_action": "mark_seen"}))?;
            None
        }
        _ => return Err(err::unsupported("Messenger has no such action for a Page")),
    };
    Ok(ActionOutcome { created })
}
