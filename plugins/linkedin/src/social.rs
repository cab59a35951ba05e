//! The organization's posts (context), their comments and one level of replies, and mentions
//! of the organization (organizationalEntityNotifications, which LinkedIn keeps 60 days).

use crate::api::{self, urn};
use helpdesk_plugin_sdk::prelude::*;
use helpdesk_plugin_sdk::time::now_ms;
use serde_json::{json, Map, Value};

/// Comments read per post and listing page.
const COUNT: usize = 50;
const MAX_PAGES: usize = 4;
/// How far back LinkedIn keeps notifications.
const RETENTION_MS: i64 = 60 * 86_400_000;

pub fn author(actor: &str, org: &str) -> Author {
    if actor == org {
        return Author::new(actor, "Our organization");
    }
    let id = actor.rsplit(':').next().unwrap_or(actor);
    let kind = if actor.starts_with("urn:li:organization:") { "LinkedIn page" } else { "LinkedIn member" };
    Author::new(actor, format!("{kind} {}", id.chars().take(8).collect::<String>()))
}

pub fn permalink(post: &str) -> String {
    format!("https://www.linkedin.com/feed/update/{post}/")
}

/// A comment element (on `post`; under `parent` for a reply).
pub fn comment(c: &Value, post: &str, parent: Option<&str>, org: &str) -> Option<Interaction> {
    let id = c["commentUrn"].as_str()?;
    let actor = c["actor"].as_str().or(c["created"]["actor"].as_str()).unwrap_or_default();
    let direction = if actor == org { Direction::Outbound } else { Direction::Inbound };
    let kind = if parent.is_some() { InteractionKind::Reply } else { InteractionKind::Comment };
    let created = c["created"]["time"].as_i64();
    let mut i = Interaction::new(id, kind, direction, post, author(actor, org), c["message"]["text"].as_str().unwrap_or_default(), created);
    i.parent_id = parent.map(str::to_string);
    let modified = c["lastModified"]["time"].as_i64();
    i.edited_at = modified.filter(|m| created.is_some_and(|c| *m > c));
    i.permalink = Some(permalink(post));
    i.meta = vec![("post".into(), post.into()), ("comment_id".into(), c["id"].as_str().unwrap_or_default().into())];
    if let Some(p) = parent {
        i.meta.push(("parent".into(), p.into()));
    }
    Some(i)
}

fn list(path: &str) -> Result<Vec<Value>, ChannelError> {
    let mut out = Vec::new();
    for n in 0..MAX_PAGES {
        let sep = if path.contains('?') { '&' } else { '?' };
        let page = api::get(&format!("{path}{sep}start={}&count={COUNT}", n * COUNT))?;
        let items = page["elements"].as_array().cloned().unwrap_or_default();
        let got = items.len();
        out.extend(items);
        let total = page["paging"]["total"].as_u64().unwrap_or(0) as usize;
        if got < COUNT || out.len() >= total {
            break;
        }
    }
    Ok(out)
}

/// A mention notification (a post or comment naming the organization).
pub fn mention(n: &Value, org: &str) -> Option<Interaction> {
    let activity = n["generatedActivity"].as_str()?;
    let decorated = &n["decoratedGeneratedActivity"];
    let body = if decorated["comment"].is_object() { &decorated["comment"] } else { &decorated["share"] };
    let actor = body["owner"].as_str().or(body["actor"].as_str()).unwrap_or_default();
    let thread = n["sourcePost"].as_str().unwrap_or(activity);
    let at = body["created"]["time"].as_i64().or(n["lastModifiedAt"].as_i64());
    let mut i = Interaction::new(activity, InteractionKind::Mention, Direction::Inbound, thread, author(actor, org), body["text"].as_str().unwrap_or_default(), at);
    i.permalink = Some(permalink(thread));
    i.meta = vec![("post".into(), thread.into())];
    if body["id"].is_string() && decorated["comment"].is_object() {
        i.meta.push(("comment_id".into(), body["id"].as_str().unwrap_or_default().into()));
    }
    Some(i)
}

pub fn poll(cursor: Option<String>) -> Result<Page, ChannelError> {
    let org = api::org()?;
    let mut seen: Map<String, Value> = cursor.as_deref().and_then(|c| serde_json::from_str(c).ok()).unwrap_or_default();
    let mut events = Vec::new();

    // Mentions first (the listing the cursor moves).
    let now = now_ms();
    let since = seen.get("mentions").and_then(Value::as_i64).unwrap_or(now - RETENTION_MS).max(now - RETENTION_MS + 60_000);
    let path = format!(
        "organizationalEntityNotifications?q=criteria&organizationalEntity={}&actions=List(SHARE_MENTION,COMMENT_MENTION)&timeRange=(start:{since},end:{now})",
        urn(&org)
    );
    let mut newest = since;
    for n in list(&path)? {
        newest = newest.max(n["lastModifiedAt"].as_i64().unwrap_or(0));
        events.extend(mention(&n, &org).map(Event::Interaction));
    }
    seen.insert("mentions".into(), json!(newest));

    let recent: usize = config("recent_posts").and_then(|n| n.parse().ok()).unwrap_or(5);
    let posts = api::get(&format!("posts?q=author&author={}&count={recent}&sortBy=LAST_MODIFIED", urn(&org)))?;
    let posts: Vec<Value> = posts["elements"].as_array().cloned().unwrap_or_default();
    for p in &posts {
        let Some(post) = p["id"].as_str() else { continue };
        for c in list(&format!("socialActions/{}/comments", urn(post)))? {
            let Some(i) = comment(&c, post, None, &org) else { continue };
            let top = i.platform_id.clone();
            events.push(Event::Interaction(i));
            let replies = c["commentsSummary"]["aggregatedTotalComments"].as_u64().unwrap_or(0);
            let key = format!("replies:{top}");
            if replies > 0 && !matches!(kv_get(&key), Ok(Some(n)) if n == replies.to_string().as_bytes()) {
                for r in list(&format!("socialActions/{}/comments", urn(&top)))? {
                    events.extend(comment(&r, post, Some(&top), &org).map(Event::Interaction));
                }
                let _ = kv_set(&key, replies.to_string().as_bytes());
            }
        }
    }
    let context: std::collections::HashMap<&str, &Value> = posts.iter().filter_map(|p| Some((p["id"].as_str()?, p))).collect();
    events.extend(helpdesk_plugin_sdk::contexts_of(&events, &[InteractionKind::Comment, InteractionKind::Reply], |id| {
        Ok(context.get(id).map(|p| {
            let mut i = Interaction::new(id, InteractionKind::Post, Direction::Outbound, id, author(&org, &org), p["commentary"].as_str().unwrap_or_default(), p["createdAt"].as_i64());
            i.permalink = Some(permalink(id));
            i
        }))
    }));
    let poll_ms = config("poll_seconds").and_then(|s| s.parse::<u32>().ok()).unwrap_or(120).max(1) * 1000;
    Ok(Page { events, next_cursor: Some(Value::Object(seen).to_string()), poll_after_ms: poll_ms, quota: None, notice: crate::api::sunset_notice() })
}
