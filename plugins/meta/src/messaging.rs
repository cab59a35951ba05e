//! Messenger-shaped private messages, shared by Facebook Messenger and Instagram Direct: messages
//! in (the account's own sends come back as echoes and are outbound; unsent ones are removed),
//! delivery receipts onto our messages; replies, reactions and "seen" out through the Send API.

use helpdesk_plugin_sdk::prelude::*;
use serde_json::{json, Value};

/// What one `messaging[]` (or `standby[]`) entry for `account` reports. Reads and reactions
/// create no tickets. `profile` names the customer from their scoped id.
pub fn event(account: &str, m: &Value, entry_time: i64, profile: impl Fn(&str) -> Author) -> Vec<Event> {
    let time = match crate::time_ms(&m["timestamp"]) {
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
    // Instagram names the message read; Messenger gives a watermark: every message we sent to
    // this person up to then.
    if let Some(mid) = m["read"]["mid"].as_str() {
        return vec![Event::Delivery(Delivery { platform_id: mid.to_string(), state: DeliveryState::Read, at: time, error: None })];
    }
    if m["read"]["watermark"].is_string() || m["read"]["watermark"].is_number() {
        let reader = m["sender"]["id"].as_str().unwrap_or_default();
        let watermark = crate::time_ms(&m["read"]["watermark"]);
        return read_up_to(reader, watermark, time);
    }
    if let Some(mid) = m["reaction"]["mid"].as_str() {
        let emoji = if m["reaction"]["action"] == "unreact" { "" } else { m["reaction"]["emoji"].as_str().unwrap_or("👍") };
        let who = m["sender"]["id"].as_str().unwrap_or_default();
        return vec![Event::Reaction(Reaction { platform_id: mid.to_string(), author: profile(who), emoji: emoji.to_string(), at: time })];
    }
    let msg = &m["message"];
    let Some(mid) = msg["mid"].as_str() else {
        // Reads (a watermark), reactions, postbacks without text, and echoes without an id.
        return Vec::new();
    };
    if msg["is_deleted"].as_bool() == Some(true) {
        return vec![Event::Removed(mid.to_string())];
    }
    let echo = msg["is_echo"].as_bool() == Some(true);
    let (sender, recipient) = (m["sender"]["id"].as_str().unwrap_or_default(), m["recipient"]["id"].as_str().unwrap_or_default());
    let (customer, direction, author) = if echo || sender == account {
        (recipient, Direction::Outbound, Author::new(account, "You"))
    } else {
        (sender, Direction::Inbound, profile(sender))
    };
    let mut attachments: Vec<Attachment> = msg["attachments"]
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
                Some("story_mention") => AttachmentKind::Image,
                _ => AttachmentKind::Other,
            },
            platform_id: None,
            url: a["payload"]["url"].as_str().map(str::to_string),
            mime_type: None,
            name: a["title"].as_str().map(str::to_string).or_else(|| (a["type"] == "story_mention").then(|| "their story".into())),
            size: None,
        })
        .collect();
    let mut text = msg["text"].as_str().unwrap_or_default().to_string();
    if msg["attachments"].as_array().is_some_and(|a| a.iter().any(|a| a["type"] == "story_mention")) && text.is_empty() {
        text = "Mentioned you in their story".into();
    }
    let story = &msg["reply_to"]["story"];
    if story.is_object() {
        attachments.push(Attachment {
            kind: AttachmentKind::Image,
            platform_id: story["id"].as_str().map(str::to_string),
            url: story["url"].as_str().map(str::to_string),
            mime_type: None,
            name: Some("the story they replied to".into()),
            size: None,
        });
    }
    if direction == Direction::Outbound {
        remember_sent(customer, mid, time);
    }
    let mut i = Interaction::new(mid, InteractionKind::PrivateMessage, direction, customer, author, text, time);
    i.attachments = attachments;
    i.parent_id = msg["reply_to"]["mid"].as_str().map(str::to_string);
    i.from_ad = m["referral"]["source"].as_str() == Some("ADS");
    vec![Event::Interaction(i)]
}

/// The customer's name and picture, asked once with `fields` and kept in the channel's kv
/// (webhooks carry only a scoped id). A failed lookup leaves `fallback`.
pub fn profile(id: &str, fields: &str, fallback: &str, platform: &str) -> Author {
    let key = format!("profile:{id}");
    // A cache: an unreadable store only costs a lookup.
    let cached = kv_get(&key).ok().flatten().and_then(|b| serde_json::from_slice::<Value>(&b).ok());
    let p = match cached {
        Some(p) => p,
        None => match crate::graph("GET", &format!("{id}?fields={fields}"), None, platform) {
            Ok(p) => {
                let _ = kv_set(&key, &serde_json::to_vec(&p).unwrap_or_default());
                p
            }
            Err(_) => Value::Null,
        },
    };
    let full = [p["first_name"].as_str(), p["last_name"].as_str()].into_iter().flatten().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ");
    let name = p["name"].as_str().map(str::to_string).filter(|n| !n.is_empty()).or(Some(full).filter(|n| !n.is_empty()));
    let mut a = Author::new(id, name.as_deref().or(p["username"].as_str()).unwrap_or(fallback));
    a.handle = p["username"].as_str().map(str::to_string);
    a.avatar_url = p["profile_pic"].as_str().map(str::to_string);
    a
}

/// A private-message action through the Send API at `{sender}/messages` (the Page).
pub fn perform(sender: &str, platform: &str, target: &Target, action: Action) -> Result<ActionOutcome, ChannelError> {
    let page = sender.to_string();
    let send = |body: Value| crate::graph("POST", &format!("{page}/messages"), Some(&body), platform);
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
            // Sent now; the echo or a read receipt will say when exactly.
            remember_sent(psid, mid, i64::MAX / 2);
            let mut i = Interaction::new(mid, InteractionKind::PrivateMessage, Direction::Outbound, target.thread_key.clone(), Author::new(&page, "You"), r.text, None);
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
        _ => return Err(err::unsupported(format!("{platform} has no such action on private messages"))),
    };
    Ok(ActionOutcome { created })
}

/// Messages we sent to a person and not yet seen read, kept in the channel's kv (the newest 50),
/// so that a read watermark can name them.
fn remember_sent(person: &str, mid: &str, at: i64) {
    let key = format!("unread:{person}");
    // Unreadable now: leave the list as it is rather than overwrite it with this one alone.
    let Ok(stored) = kv_get(&key) else { return };
    let mut sent: Vec<(String, i64)> = stored.and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
    match sent.iter_mut().find(|(m, _)| m == mid) {
        Some(entry) => entry.1 = entry.1.min(at),
        None => sent.push((mid.to_string(), at)),
    }
    let drop = sent.len().saturating_sub(50);
    sent.drain(..drop);
    let _ = kv_set(&key, &serde_json::to_vec(&sent).unwrap_or_default());
}

fn read_up_to(person: &str, watermark: i64, at: i64) -> Vec<Event> {
    let key = format!("unread:{person}");
    let sent: Vec<(String, i64)> = kv_get(&key).ok().flatten().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
    let (read, unread): (Vec<_>, Vec<_>) = sent.into_iter().partition(|(_, t)| *t <= watermark);
    if !read.is_empty() {
        let _ = kv_set(&key, &serde_json::to_vec(&unread).unwrap_or_default());
    }
    read.into_iter().map(|(mid, _)| Event::Delivery(Delivery { platform_id: mid, state: DeliveryState::Read, at, error: None })).collect()
}
