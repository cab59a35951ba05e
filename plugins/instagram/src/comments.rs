//! Comment and mention webhooks as interactions: each comment is its own ticket, threaded by
//! its media so the ticket view shows the rest of the conversation under it.

use helpdesk_plugin_sdk::prelude::*;
use serde_json::Value;

fn author(from: &Value, fallback_name: Option<&str>) -> Author {
    let username = from["username"].as_str().or(fallback_name);
    let mut a = Author::new(from["id"].as_str().unwrap_or_default(), username.unwrap_or("Instagram user"));
    a.handle = username.map(str::to_string);
    a.profile_url = username.map(|u| format!("https://www.instagram.com/{u}"));
    a
}

/// What one `changes[]` entry (`comments`, `live_comments`, `mentions`) reports.
pub fn change(account: &str, field: &str, v: &Value, time: i64) -> Vec<Event> {
    match field {
        "comments" | "live_comments" => comment(account, v, time).map(Event::Interaction).into_iter().collect(),
        "mentions" => mention(v, time).map(Event::Interaction).into_iter().collect(),
        _ => Vec::new(),
    }
}

fn comment(account: &str, v: &Value, time: i64) -> Option<Interaction> {
    let id = v["id"].as_str()?;
    let media = &v["media"];
    let media_id = media["id"].as_str().unwrap_or_default();
    let from = author(&v["from"], v["username"].as_str());
    let parent = v["parent_id"].as_str();
    let ad = media["ad_id"].is_string() || media["ad_id"].is_number();
    let kind = match (ad, parent) {
        (true, _) => InteractionKind::AdComment,
        (false, Some(_)) => InteractionKind::Reply,
        (false, None) => InteractionKind::Comment,
    };
    let direction = if from.id == account { Direction::Outbound } else { Direction::Inbound };
    let created = match helpdesk_meta::time_ms(&v["timestamp"]) {
        0 => time,
        t => t,
    };
    let mut i = Interaction::new(id, kind, direction, media_id, from, v["text"].as_str().unwrap_or_default(), created);
    i.parent_id = Some(parent.unwrap_or(media_id).to_string()).filter(|p| !p.is_empty());
    i.from_ad = ad;
    i.meta = vec![("media_id".into(), media_id.into()), ("top_comment_id".into(), parent.unwrap_or(id).into())];
    // The ad's name comes only with its comments: kept for the ad's context.
    if let Some(title) = media["ad_title"].as_str() {
        i.meta.push(("ad_title".into(), title.into()));
    }
    Some(i)
}

/// A mention of the account in someone's comment or caption. The webhook names only the ids;
/// the words are read with the `mentioned_comment` / `mentioned_media` lookups.
fn mention(v: &Value, time: i64) -> Option<Interaction> {
    let media_id = v["media_id"].as_str()?;
    let comment_id = v["comment_id"].as_str();
    let account = config("ig_user_id").unwrap_or_default();
    let lookup = match comment_id {
        Some(c) => format!("{account}?fields=mentioned_comment.comment_id({c}){{id,text,timestamp,username}}"),
        None => format!("{account}?fields=mentioned_media.media_id({media_id}){{id,caption,timestamp,username,permalink}}"),
    };
    let found = helpdesk_meta::graph("GET", &lookup, None, crate::PLATFORM).unwrap_or(Value::Null);
    let m = if comment_id.is_some() { &found["mentioned_comment"] } else { &found["mentioned_media"] };
    let username = m["username"].as_str();
    let mut from = Author::new(username.unwrap_or_default(), username.unwrap_or("Instagram user"));
    from.handle = username.map(str::to_string);
    from.profile_url = username.map(|u| format!("https://www.instagram.com/{u}"));
    let text = m["text"].as_str().or(m["caption"].as_str()).unwrap_or("Mentioned you").to_string();
    let created = match helpdesk_meta::time_ms(&m["timestamp"]) {
        0 => time,
        t => t,
    };
    let mut i = Interaction::new(comment_id.unwrap_or(media_id), InteractionKind::Mention, Direction::Inbound, media_id, from, text, created);
    i.permalink = m["permalink"].as_str().map(str::to_string);
    i.meta = vec![("media_id".into(), media_id.into())];
    if let Some(c) = comment_id {
        i.meta.push(("comment_id".into(), c.into()));
    }
    Some(i)
}

/// What `media_context` reads of a media object.
pub const MEDIA_FIELDS: &str = "id,caption,media_type,media_url,thumbnail_url,permalink,timestamp,username";

/// The account's own photo or video, as the context of its comments (outbound: not a ticket).
pub fn media_context(account: &str, m: &Value) -> Option<Interaction> {
    let id = m["id"].as_str()?;
    let username = m["username"].as_str().unwrap_or("Instagram");
    let mut author = Author::new(account, username);
    author.handle = m["username"].as_str().map(str::to_string);
    let created = helpdesk_meta::time_ms(&m["timestamp"]);
    let mut i = Interaction::new(id, InteractionKind::Post, Direction::Outbound, id, author, m["caption"].as_str().unwrap_or_default(), created);
    i.permalink = m["permalink"].as_str().map(str::to_string);
    let (kind, url) = match m["media_type"].as_str() {
        Some("VIDEO") => (AttachmentKind::Video, m["media_url"].as_str()),
        _ => (AttachmentKind::Image, m["media_url"].as_str()),
    };
    if let Some(url) = url {
        i.attachments.push(Attachment { kind, platform_id: None, url: Some(url.into()), mime_type: None, name: None, size: None });
    }
    Some(i)
}

/// The reply the account just posted.
pub fn own_reply(account: &str, id: &str, target: &Target, text: &str) -> Interaction {
    let kind = if target.kind == InteractionKind::AdComment { InteractionKind::AdComment } else { InteractionKind::Reply };
    // created-at 0: the host stamps the send time.
    let mut i = Interaction::new(id, kind, Direction::Outbound, target.thread_key.clone(), Author::new(account, "You"), text, None);
    i.parent_id = Some(target.platform_id.clone());
    i
}
