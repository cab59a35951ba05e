//! Comment threads of the channel's videos, for each moderation status, newest first down to
//! the last one seen (the cursor: that time); replies a thread did not embed are listed when
//! its reply count moved. Each video is looked up once, as its comments' context.

use crate::{quota, DEFAULT_API_URL, PLATFORM};
use helpdesk_plugin_sdk::http::encode;
use helpdesk_plugin_sdk::prelude::*;
use helpdesk_plugin_sdk::time::parse_rfc3339;
use serde_json::Value;

/// Pages of 50 threads read per status and fetch.
const MAX_PAGES: usize = 3;
const STATUSES: [(&str, Visibility); 3] =
    [("published", Visibility::Public), ("heldForReview", Visibility::HeldForReview), ("likelySpam", Visibility::LikelySpam)];

fn url(path: &str) -> String {
    format!("{}/{}", config_or("api_url", DEFAULT_API_URL).trim_end_matches('/'), path)
}

fn call(method: &str, path: &str, body: Option<&Value>) -> Result<Option<Value>, ChannelError> {
    helpdesk_google::call(method, &url(path), body, PLATFORM).inspect_err(|e| {
        if matches!(e, ChannelError::RateLimited(r) if r.message.contains("quotaExceeded")) {
            quota::mark_exhausted();
        }
    })
}

/// A read of `units` (polling's share of the quota).
pub fn get(path: &str, units: u64) -> Result<Value, ChannelError> {
    quota::spend(units, false)?;
    Ok(call("GET", path, None)?.unwrap_or(Value::Null))
}

/// An agent's write: 50 units, from the whole budget.
pub fn write(method: &str, path: &str, body: Option<&Value>) -> Result<Option<Value>, ChannelError> {
    quota::spend(quota::WRITE, true)?;
    call(method, path, body)
}

/// A comment resource as an interaction: a reply when `top` (its thread's first comment) is given.
pub fn interaction(c: &Value, video: &str, top: Option<&str>, visibility: Option<Visibility>) -> Option<Interaction> {
    let id = c["id"].as_str()?;
    let s = &c["snippet"];
    let name = s["authorDisplayName"].as_str().unwrap_or("YouTube user");
    let author_id = s["authorChannelId"]["value"].as_str().unwrap_or(name);
    let ours = config("channel_id").is_some_and(|ch| ch == author_id);
    let author = Author {
        handle: name.strip_prefix('@').map(str::to_string),
        avatar_url: s["authorProfileImageUrl"].as_str().map(str::to_string),
        profile_url: s["authorChannelUrl"].as_str().map(str::to_string),
        ..Author::new(author_id, name)
    };
    let text = match s["textOriginal"].as_str() {
        Some(t) => t.to_string(),
        None => helpdesk_plugin_sdk::text::html_to_text(s["textDisplay"].as_str().unwrap_or("")),
    };
    let video = s["videoId"].as_str().unwrap_or(video);
    let created = s["publishedAt"].as_str().and_then(parse_rfc3339);
    let updated = s["updatedAt"].as_str().and_then(parse_rfc3339);
    let kind = if top.is_some() { InteractionKind::Reply } else { InteractionKind::Comment };
    let direction = if ours { Direction::Outbound } else { Direction::Inbound };
    let mut i = Interaction::new(id, kind, direction, video, author, text, created);
    i.parent_id = top.map(str::to_string).or_else(|| s["parentId"].as_str().map(str::to_string));
    i.edited_at = updated.filter(|u| created.is_some_and(|c| *u > c));
    i.permalink = Some(format!("https://www.youtube.com/watch?v={}&lc={}", encode(video), encode(id)));
    i.visibility = visibility;
    i.meta = vec![("top".into(), top.unwrap_or(id).to_string()), ("video".into(), video.to_string())];
    Some(i)
}

/// The video, as the context its comments show.
fn video_context(video: &str) -> Result<Option<Interaction>, ChannelError> {
    let v = get(&format!("videos?part=snippet&id={}", encode(video)), 1)?;
    let Some(s) = v["items"][0]["snippet"].as_object() else { return Ok(None) };
    let channel = Author::new(s.get("channelId").and_then(Value::as_str).unwrap_or("channel"), s.get("channelTitle").and_then(Value::as_str).unwrap_or("Our channel"));
    let description: String = s.get("description").and_then(Value::as_str).unwrap_or("").chars().take(2_000).collect();
    let published = s.get("publishedAt").and_then(Value::as_str).and_then(parse_rfc3339);
    let mut i = Interaction::new(video, InteractionKind::Post, Direction::Outbound, video, channel, description, published);
    i.title = s.get("title").and_then(Value::as_str).map(str::to_string);
    i.permalink = Some(format!("https://www.youtube.com/watch?v={}", encode(video)));
    let thumbs = s.get("thumbnails");
    if let Some(url) = thumbs.and_then(|t| t["high"]["url"].as_str().or(t["default"]["url"].as_str())) {
        i.attachments.push(Attachment { kind: AttachmentKind::Image, platform_id: None, url: Some(url.into()), mime_type: None, name: Some("thumbnail".into()), size: None });
    }
    Ok(Some(i))
}

pub fn poll(cursor: Option<String>) -> Result<Page, ChannelError> {
    let channel = require_config("channel_id")?;
    let since: i64 = cursor.as_deref().and_then(|c| c.parse().ok()).unwrap_or(0);
    let used_before = quota::used();
    let mut newest = since;
    let mut events = Vec::new();
    for (status, visibility) in STATUSES {
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut path = format!(
                "commentThreads?part=snippet,replies&allThreadsRelatedToChannelId={}&order=time&maxResults=50&moderationStatus={status}&textFormat=plainText",
                encode(&channel)
            );
            if let Some(t) = &token {
                path.push_str(&format!("&pageToken={}", encode(t)));
            }
            let page = get(&path, 1)?;
            let mut reached_seen = false;
            for thread in page["items"].as_array().into_iter().flatten() {
                let top = &thread["snippet"]["topLevelComment"];
                let video = thread["snippet"]["videoId"].as_str().unwrap_or_default();
                let Some(first) = interaction(top, video, None, Some(visibility)) else { continue };
                let at = first.edited_at.or(first.created_at).unwrap_or(0);
                newest = newest.max(at);
                reached_seen |= at < since;
                let top_id = first.platform_id.clone();
                events.push(Event::Interaction(first));
                for reply in replies(thread, &top_id)? {
                    if let Some(r) = interaction(&reply, video, Some(&top_id), Some(visibility)) {
                        newest = newest.max(r.edited_at.or(r.created_at).unwrap_or(0));
                        events.push(Event::Interaction(r));
                    }
                }
            }
            token = page["nextPageToken"].as_str().filter(|t| !t.is_empty()).map(str::to_string);
            if token.is_none() || reached_seen {
                break;
            }
        }
    }
    events.extend(helpdesk_plugin_sdk::contexts_of(&events, &[InteractionKind::Comment, InteractionKind::Reply], video_context));
    let cost = quota::used().saturating_sub(used_before).max(STATUSES.len() as u64);
    Ok(Page { events, next_cursor: Some(newest.to_string()), poll_after_ms: quota::poll_after_ms(cost), quota: Some(quota::report()), notice: None })
}

/// A thread's replies: the ones it embeds, or all of them (`comments.list?parentId`) when it
/// has more and their number changed since last read.
fn replies(thread: &Value, top: &str) -> Result<Vec<Value>, ChannelError> {
    let embedded = thread["replies"]["comments"].as_array().cloned().unwrap_or_default();
    let total = thread["snippet"]["totalReplyCount"].as_u64().unwrap_or(0);
    if total as usize <= embedded.len() {
        return Ok(embedded);
    }
    let key = format!("replies:{top}");
    if kv_get(&key)?.is_some_and(|seen| seen == total.to_string().as_bytes()) {
        return Ok(embedded);
    }
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut path = format!("comments?part=snippet&parentId={}&maxResults=100&textFormat=plainText", encode(top));
        if let Some(t) = &token {
            path.push_str(&format!("&pageToken={}", encode(t)));
        }
        let page = get(&path, 1)?;
        all.extend(page["items"].as_array().cloned().unwrap_or_default());
        token = page["nextPageToken"].as_str().filter(|t| !t.is_empty()).map(str::to_string);
        if token.is_none() || all.len() > 2_000 {
            break;
        }
    }
    kv_set(&key, total.to_string().as_bytes())?;
    Ok(all)
}
