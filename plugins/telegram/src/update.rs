//! Telegram `Update`s to helpdesk events.

use helpdesk_plugin_sdk::prelude::*;
use serde_json::Value;

/// The events one Update carries (none for updates that are not interactions).
pub fn events(update: &Value) -> Vec<Event> {
    let message = |key: &str| update.get(key).filter(|v| v.is_object());
    // A bot sees a channel's posts only in channels it administers: the brand's own posts.
    if let Some(m) = message("message") {
        return interaction(m, None, Direction::Inbound).map(Event::Interaction).into_iter().collect();
    }
    if let Some(m) = message("channel_post") {
        return interaction(m, None, Direction::Outbound).map(Event::Interaction).into_iter().collect();
    }
    for (key, direction) in [("edited_message", Direction::Inbound), ("edited_channel_post", Direction::Outbound)] {
        if let Some(m) = message(key) {
            let edited = m["edit_date"].as_i64().map(|s| s * 1000).or(Some(0));
            return interaction(m, edited, direction).map(Event::Interaction).into_iter().collect();
        }
    }
    if let Some(member) = message("my_chat_member") {
        return contact_event(member).map(Event::Contact).into_iter().collect();
    }
    Vec::new()
}

/// The host's limit on an interaction's text.
const MAX_TEXT_CHARS: usize = 100_000;

/// `chat_id:message_id`, the platform id of a message (message ids are per chat).
pub fn split_id(platform_id: &str) -> Option<(i64, i64)> {
    let (chat, msg) = platform_id.split_once(':')?;
    Some((chat.parse().ok()?, msg.parse().ok()?))
}

/// A Telegram `Message` as an interaction; `None` for service messages with no content.
pub fn interaction(m: &Value, edited_at: Option<i64>, direction: Direction) -> Option<Interaction> {
    let chat = &m["chat"];
    let chat_id = chat["id"].as_i64()?;
    let message_id = m["message_id"].as_i64()?;
    let kind = match chat["type"].as_str() {
        Some("private") => InteractionKind::PrivateMessage,
        Some("channel") => InteractionKind::Post,
        _ => InteractionKind::GroupMessage,
    };
    let attachments = attachments(m);
    let text = m["text"].as_str().or(m["caption"].as_str()).unwrap_or_default().to_string();
    if text.is_empty() && attachments.is_empty() {
        return None;
    }
    let mut author = if m["from"].is_object() { user(&m["from"]) } else { chat_author(m.get("sender_chat").unwrap_or(chat)) };
    if author.id.is_empty() {
        // An author Telegram did not identify: the chat stands in (in a private chat it is the person).
        author.id = chat_id.to_string();
    }
    // Telegram caps a message at 4096 characters; anything far beyond is not a real message.
    let text: String = text.chars().take(MAX_TEXT_CHARS).collect();
    let permalink = chat["username"].as_str().filter(|_| kind != InteractionKind::PrivateMessage)
        .map(|u| format!("https://t.me/{u}/{message_id}"));
    let parent_id = m["reply_to_message"]["message_id"].as_i64().map(|p| format!("{chat_id}:{p}"));
    Some(Interaction {
        platform_id: format!("{chat_id}:{message_id}"),
        kind,
        direction,
        thread_key: chat_id.to_string(),
        parent_id,
        author,
        text,
        attachments,
        created_at: m["date"].as_i64().map(helpdesk_plugin_sdk::time::from_unix_seconds),
        edited_at,
        permalink,
        from_ad: false,
        meta: chat["title"].as_str().map(|t| vec![("chat_title".to_string(), t.to_string())]).unwrap_or_default(),
        chain_key: None,
        title: None,
        rating: None,
        visibility: None,
        found_by: None,
    })
}

fn user(u: &Value) -> Author {
    let name = [u["first_name"].as_str(), u["last_name"].as_str()].into_iter().flatten().collect::<Vec<_>>().join(" ");
    let handle = u["username"].as_str().map(str::to_string);
    Author {
        id: id_string(&u["id"]),
        name: if name.is_empty() { handle.clone().unwrap_or_else(|| "Telegram user".into()) } else { name },
        profile_url: handle.as_ref().map(|h| format!("https://t.me/{h}")),
        handle,
        avatar_url: None,
    }
}

fn chat_author(chat: &Value) -> Author {
    let handle = chat["username"].as_str().map(str::to_string);
    Author {
        id: id_string(&chat["id"]),
        name: chat["title"].as_str().map(str::to_string).or(handle.clone()).unwrap_or_else(|| "Telegram chat".into()),
        profile_url: handle.as_ref().map(|h| format!("https://t.me/{h}")),
        handle,
        avatar_url: None,
    }
}

fn id_string(v: &Value) -> String {
    v.as_i64().map(|i| i.to_string()).unwrap_or_else(|| v.as_str().unwrap_or_default().to_string())
}

fn attachments(m: &Value) -> Vec<Attachment> {
    let file = |kind, v: &Value| Attachment {
        kind,
        platform_id: v["file_id"].as_str().map(str::to_string),
        url: None,
        mime_type: v["mime_type"].as_str().map(str::to_string),
        name: v["file_name"].as_str().map(str::to_string),
        size: v["file_size"].as_u64(),
    };
    let mut out = Vec::new();
    // Telegram sends every size of a photo; the last is the largest.
    if let Some(largest) = m["photo"].as_array().and_then(|sizes| sizes.last()) {
        out.push(file(AttachmentKind::Image, largest));
    }
    for (key, kind) in [
        ("sticker", AttachmentKind::Sticker),
        ("video", AttachmentKind::Video),
        ("animation", AttachmentKind::Video),
        ("video_note", AttachmentKind::Video),
        ("audio", AttachmentKind::Audio),
        ("voice", AttachmentKind::Audio),
        ("document", AttachmentKind::File),
    ] {
        // `animation` messages also carry a `document` copy of the same file.
        if key == "document" && m["animation"].is_object() {
            continue;
        }
        if m[key].is_object() {
            let mut a = file(kind, &m[key]);
            if key == "sticker" {
                a.name = m[key]["emoji"].as_str().map(str::to_string);
            }
            out.push(a);
        }
    }
    if let (Some(lat), Some(lon)) = (m["location"]["latitude"].as_f64(), m["location"]["longitude"].as_f64()) {
        out.push(Attachment {
            kind: AttachmentKind::Location,
            platform_id: None,
            url: Some(format!("https://maps.google.com/?q={lat},{lon}")),
            mime_type: None,
            name: Some(format!("{lat}, {lon}")),
            size: None,
        });
    }
    out
}

/// `my_chat_member` in a private chat: the user blocked (`kicked`) or unblocked the bot.
fn contact_event(member: &Value) -> Option<ContactEvent> {
    if member["chat"]["type"].as_str() != Some("private") {
        return None;
    }
    let status = match member["new_chat_member"]["status"].as_str()? {
        "kicked" => ContactStatus::BlockedUs,
        "member" => ContactStatus::UnblockedUs,
        _ => return None,
    };
    Some(ContactEvent { author: user(&member["from"]), status, at: member["date"].as_i64().unwrap_or_default() * 1000 })
}
