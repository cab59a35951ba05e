//! Comments polled from the Accounts API (the account's recent videos, newest comments first
//! down to the last one seen per video, replies when a comment's count moved) and from the Ads
//! API (comments on the advertiser's ads, by day), within a budget of calls per poll.

use crate::api;
use helpdesk_plugin_sdk::prelude::*;
use helpdesk_plugin_sdk::time::now_ms;
use serde_json::{json, Map, Value};
use std::cell::Cell;

fn number(config_key: &str, default: u64) -> u64 {
    config(config_key).and_then(|v| v.trim().parse().ok()).filter(|v| *v > 0).unwrap_or(default)
}

/// TikTok's times: epoch seconds as a number or a string, or `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn time_ms(v: &Value) -> Option<i64> {
    let secs = match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse::<i64>().ok().or_else(|| {
            chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").ok().map(|t| t.and_utc().timestamp())
        }),
        _ => None,
    }?;
    Some(if secs > 100_000_000_000 { secs } else { secs * 1000 })
}

/// A comment of the Accounts API (on one of the account's videos).
pub fn comment(c: &Value) -> Option<Interaction> {
    let id = c["comment_id"].as_str()?;
    let video = c["video_id"].as_str().unwrap_or_default();
    let username = c["username"].as_str().filter(|u| !u.is_empty());
    let user = c["unique_identifier"].as_str().or(c["user_id"].as_str()).or(username).unwrap_or("tiktok-user");
    let author = Author {
        handle: username.map(str::to_string),
        avatar_url: c["profile_image"].as_str().map(str::to_string),
        profile_url: username.map(|u| format!("https://www.tiktok.com/@{u}")),
        ..Author::new(user, c["display_name"].as_str().or(username).unwrap_or("TikTok user"))
    };
    let parent = c["parent_comment_id"].as_str().filter(|p| !p.is_empty() && *p != "0" && *p != id);
    let kind = if parent.is_some() { InteractionKind::Reply } else { InteractionKind::Comment };
    let direction = if c["owner"].as_bool() == Some(true) { Direction::Outbound } else { Direction::Inbound };
    let mut i = Interaction::new(id, kind, direction, video, author, c["text"].as_str().unwrap_or_default(), time_ms(&c["create_time"]));
    i.parent_id = parent.map(str::to_string);
    i.visibility = match c["status"].as_str() {
        Some("HIDDEN") => Some(Visibility::Hidden),
        Some("PUBLIC") => Some(Visibility::Public),
        _ => None,
    };
    i.meta = vec![("surface".into(), "video".into()), ("video".into(), video.into())];
    Some(i)
}

/// A comment of the Ads API, on one of the advertiser's ads.
pub fn ad_comment(c: &Value) -> Option<Interaction> {
    let id = c["comment_id"].as_str()?;
    let ad = c["ad_id"].as_str().map(str::to_string).or_else(|| c["ad_id"].as_i64().map(|n| n.to_string())).unwrap_or_default();
    let name = c["user_name"].as_str().or(c["username"].as_str()).unwrap_or("TikTok user");
    let author = Author { handle: Some(name.to_string()), ..Author::new(c["user_id"].as_str().unwrap_or(name), name) };
    let ours = c["comment_type"].as_str() == Some("REPLY") && c["is_advertiser"].as_bool() == Some(true);
    let direction = if ours { Direction::Outbound } else { Direction::Inbound };
    let mut i = Interaction::new(id, InteractionKind::AdComment, direction, format!("ad:{ad}"), author, c["text"].as_str().unwrap_or_default(), time_ms(&c["create_time"]));
    i.from_ad = true;
    i.parent_id = c["original_comment_id"].as_str().or(c["parent_comment_id"].as_str()).filter(|p| !p.is_empty() && *p != "0").map(str::to_string);
    i.visibility = match c["status"].as_str() {
        Some("HIDDEN") => Some(Visibility::Hidden),
        Some("PUBLIC") => Some(Visibility::Public),
        _ => None,
    };
    i.meta = vec![("surface".into(), "ads".into()), ("ad_id".into(), ad), ("ad_name".into(), c["ad_name"].as_str().unwrap_or_default().into())];
    Some(i)
}

/// The video, as its comments' context.
fn video_context(v: &Value) -> Option<Interaction> {
    let id = v["item_id"].as_str()?;
    let caption = v["caption"].as_str().unwrap_or_default();
    let account = Author::new("business", "Our account");
    let mut i = Interaction::new(id, InteractionKind::Post, Direction::Outbound, id, account, caption, time_ms(&v["create_time"]));
    i.permalink = v["share_url"].as_str().map(str::to_string);
    if let Some(cover) = v["thumbnail_url"].as_str() {
        i.attachments.push(Attachment { kind: AttachmentKind::Image, platform_id: None, url: Some(cover.into()), mime_type: None, name: Some("cover".into()), size: None });
    }
    Some(i)
}

/// The ad, named, as its comments' context.
fn ad_context(id: &str, name: &str) -> Interaction {
    let mut i = Interaction::new(id, InteractionKind::Post, Direction::Outbound, id, Author::new("advertiser", "Our ad"), "", None);
    i.title = Some(name.to_string()).filter(|n| !n.is_empty());
    i.from_ad = true;
    i
}

/// Calls left in this poll.
struct Budget(Cell<u64>);

impl Budget {
    fn take(&self) -> bool {
        let left = self.0.get();
        self.0.set(left.saturating_sub(1));
        left > 0
    }
}

pub fn poll(cursor: Option<String>) -> Result<Page, ChannelError> {
    let business = require_config("business_id")?;
    let mut seen: Map<String, Value> = cursor.as_deref().and_then(|c| serde_json::from_str(c).ok()).unwrap_or_default();
    let budget = Budget(Cell::new(number("max_calls", 20)));
    let mut events = Vec::new();
    let mut unfinished = false;

    budget.take();
    let fields = r#"["item_id","create_time","thumbnail_url","share_url","caption"]"#;
    let list = api::get("business/video/list/", &[("business_id", business.clone()), ("fields", fields.into()), ("max_count", "20".into())])?;
    let videos: Vec<Value> = list["videos"].as_array().cloned().unwrap_or_default();
    let recent = number("recent_videos", 10) as usize;
    let mut marks = seen.get("videos").and_then(Value::as_object).cloned().unwrap_or_default();
    for video in videos.iter().take(recent) {
        let Some(video_id) = video["item_id"].as_str() else { continue };
        let since = marks.get(video_id).and_then(Value::as_i64).unwrap_or(0);
        let mut newest = since;
        let mut cursor = "0".to_string();
        let mut done = false;
        while !done {
            if !budget.take() {
                unfinished = true;
                break;
            }
            let query = [
                ("business_id", business.clone()),
                ("video_id", video_id.to_string()),
                ("sort_field", "create_time".into()),
                ("sort_order", "desc".into()),
                ("status", "ALL".into()),
                ("max_count", "30".into()),
                ("cursor", cursor.clone()),
            ];
            let page = api::get("business/comment/list/", &query)?;
            for c in page["comments"].as_array().into_iter().flatten() {
                let Some(i) = comment(c) else { continue };
                let at = i.created_at.unwrap_or(0);
                if at < since {
                    done = true;
                    break;
                }
                newest = newest.max(at);
                let replies = c["replies"].as_u64().unwrap_or(0);
                let id = i.platform_id.clone();
                events.push(Event::Interaction(i));
                if replies > 0 && !replies_known(&id, replies) {
                    if !budget.take() {
                        unfinished = true;
                        continue;
                    }
                    let query = [("business_id", business.clone()), ("video_id", video_id.to_string()), ("comment_id", id.clone()), ("max_count", "30".into())];
                    let replies_page = api::get("business/comment/reply/list/", &query)?;
                    for r in replies_page["comments"].as_array().into_iter().flatten() {
                        let mut r = r.clone();
                        // Replies name their parent; the listing may leave it out.
                        r.as_object_mut().map(|o| o.entry("parent_comment_id").or_insert_with(|| json!(id)));
                        r.as_object_mut().map(|o| o.entry("video_id").or_insert_with(|| json!(video_id)));
                        events.extend(comment(&r).map(Event::Interaction));
                    }
                    let _ = kv_set(&format!("replies:{id}"), replies.to_string().as_bytes());
                }
            }
            done |= page["has_more"].as_bool() != Some(true);
            cursor = page["cursor"].as_i64().map(|c| c.to_string()).or(page["cursor"].as_str().map(str::to_string)).unwrap_or_default();
        }
        // A video read only in part keeps its mark, so the next poll reads on.
        if done {
            marks.insert(video_id.to_string(), json!(newest));
        }
    }
    seen.insert("videos".into(), Value::Object(marks));
    let by_id: std::collections::HashMap<&str, &Value> = videos.iter().filter_map(|v| Some((v["item_id"].as_str()?, v))).collect();
    events.extend(helpdesk_plugin_sdk::contexts_of(&events, &[InteractionKind::Comment, InteractionKind::Reply], |id| Ok(by_id.get(id).and_then(|v| video_context(v)))));

    if let Some(advertiser) = config("advertiser_id").filter(|a| !a.is_empty()) {
        if budget.take() {
            let since = seen.get("ads").and_then(Value::as_i64).unwrap_or(now_ms() - 7 * 86_400_000);
            let day = |ms: i64| chrono::DateTime::from_timestamp_millis(ms).map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default();
            let query = [
                ("advertiser_id", advertiser),
                ("start_time", day(since)),
                ("end_time", day(now_ms())),
                ("page", "1".into()),
                ("page_size", "100".into()),
            ];
            let page = api::get("comment/list/", &query)?;
            let mut newest = since;
            let mut ads = Vec::new();
            for c in page["comments"].as_array().into_iter().flatten() {
                if let Some(i) = ad_comment(c) {
                    newest = newest.max(i.created_at.unwrap_or(0));
                    ads.push(Event::Interaction(i));
                }
            }
            let names: std::collections::HashMap<String, String> = ads
                .iter()
                .filter_map(|e| match e {
                    Event::Interaction(i) => Some((i.thread_key.clone(), i.meta.iter().find(|(k, _)| k == "ad_name")?.1.clone())),
                    _ => None,
                })
                .collect();
            let contexts = helpdesk_plugin_sdk::contexts_of(&ads, &[InteractionKind::AdComment], |id| Ok(names.get(id).map(|n| ad_context(id, n))));
            events.extend(ads);
            events.extend(contexts);
            seen.insert("ads".into(), json!(newest));
        } else {
            unfinished = true;
        }
    }
    let poll_ms = (number("poll_seconds", 60) * 1000).min(if unfinished { 15_000 } else { u64::MAX }) as u32;
    Ok(Page { events, next_cursor: Some(Value::Object(seen).to_string()), poll_after_ms: poll_ms, quota: None, notice: None })
}

fn replies_known(comment: &str, count: u64) -> bool {
    matches!(kv_get(&format!("replies:{comment}")), Ok(Some(seen)) if seen == count.to_string().as_bytes())
}
