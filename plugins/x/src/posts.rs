//! Posts and DMs as interactions: API v2 objects (authors from `includes.users`) for polling,
//! v1.1 objects for Account Activity webhooks. A reply in the conversation of one of our own
//! posts is a reply (its chain the conversation); any other post naming us is a mention; a post
//! found by a listening term is a mention marked with the term.

use crate::api;
use helpdesk_plugin_sdk::prelude::*;
use helpdesk_plugin_sdk::time::parse_rfc3339;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

pub const TWEET_FIELDS: &str = "created_at,conversation_id,in_reply_to_user_id,referenced_tweets,author_id,attachments";
pub const USER_FIELDS: &str = "name,username,profile_image_url";
/// Pages of 100 read per listing and fetch (mentions reach back 800 at most, X says).
const MAX_PAGES: usize = 3;

pub fn me() -> Result<String, ChannelError> {
    require_config("user_id")
}

pub fn author(id: &str, name: Option<&str>, username: Option<&str>, avatar: Option<&str>) -> Author {
    Author {
        handle: username.map(str::to_string),
        avatar_url: avatar.map(str::to_string),
        profile_url: username.map(|u| format!("https://x.com/{u}")),
        ..Author::new(id, name.or(username).unwrap_or("X user"))
    }
}

fn users(includes: &Value) -> HashMap<String, Author> {
    includes["users"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| {
            let id = u["id"].as_str()?;
            Some((id.to_string(), author(id, u["name"].as_str(), u["username"].as_str(), u["profile_image_url"].as_str())))
        })
        .collect()
}

/// How a post relates to us: its kind, the post it answers.
fn place(t: &Value, ours: &[String], me: &str) -> (InteractionKind, Option<String>) {
    let replied = t["referenced_tweets"].as_array().into_iter().flatten().find(|r| r["type"] == "replied_to").and_then(|r| r["id"].as_str()).map(str::to_string);
    let conversation = t["conversation_id"].as_str().unwrap_or_default();
    let in_ours = ours.iter().any(|p| p == conversation) || t["in_reply_to_user_id"].as_str() == Some(me);
    if t["author_id"].as_str() == Some(me) && replied.is_none() {
        return (InteractionKind::Post, None);
    }
    match (in_ours, replied) {
        (true, Some(parent)) => (InteractionKind::Reply, Some(parent)),
        (_, parent) => (InteractionKind::Mention, parent),
    }
}

/// An API v2 post.
pub fn post(t: &Value, authors: &HashMap<String, Author>, ours: &[String], me: &str, found_by: Option<&str>) -> Option<Interaction> {
    let id = t["id"].as_str()?;
    let author_id = t["author_id"].as_str().unwrap_or_default();
    let who = authors.get(author_id).cloned().unwrap_or_else(|| Author::new(author_id, "X user"));
    let (kind, parent) = place(t, ours, me);
    let direction = if author_id == me { Direction::Outbound } else { Direction::Inbound };
    let conversation = t["conversation_id"].as_str().unwrap_or(id);
    let handle = who.handle.clone().unwrap_or_else(|| "i".into());
    let mut i = Interaction::new(id, kind, direction, conversation, who, t["text"].as_str().unwrap_or_default(), t["created_at"].as_str().and_then(parse_rfc3339));
    i.parent_id = parent;
    i.permalink = Some(format!("https://x.com/{handle}/status/{id}"));
    // X's users read a reply chain as one conversation: the channel may file it as one ticket.
    i.chain_key = Some(conversation.to_string()).filter(|_| kind != InteractionKind::Post);
    i.found_by = found_by.map(str::to_string);
    i.meta = vec![("author".into(), author_id.into())];
    Some(i)
}

/// A v1.1 post of an Account Activity `tweet_create_events`.
pub fn v1_post(t: &Value, ours: &[String], me: &str) -> Option<Interaction> {
    let id = t["id_str"].as_str().map(str::to_string).or_else(|| t["id"].as_u64().map(|n| n.to_string()))?;
    let u = &t["user"];
    let author_id = u["id_str"].as_str().map(str::to_string).or_else(|| u["id"].as_u64().map(|n| n.to_string())).unwrap_or_default();
    let who = author(&author_id, u["name"].as_str(), u["screen_name"].as_str(), u["profile_image_url_https"].as_str());
    let parent = t["in_reply_to_status_id_str"].as_str().map(str::to_string);
    let v2 = json!({
        "id": id, "author_id": author_id, "text": t["extended_tweet"]["full_text"].as_str().or(t["text"].as_str()),
        "conversation_id": t["conversation_id_str"].as_str().or(parent.as_deref()).unwrap_or(&id),
        "in_reply_to_user_id": t["in_reply_to_user_id_str"],
        "referenced_tweets": parent.as_ref().map(|p| vec![json!({"type": "replied_to", "id": p})]).unwrap_or_default(),
        "created_at": t["created_at"].as_str().and_then(|c| chrono::DateTime::parse_from_str(c, "%a %b %d %H:%M:%S %z %Y").ok()).map(|d| d.to_rfc3339()),
    });
    let authors = HashMap::from([(author_id.clone(), who)]);
    post(&v2, &authors, ours, me, None)
}

/// A v2 DM event (`MessageCreate`): one ticket per `dm_conversation_id`.
pub fn dm(e: &Value, authors: &HashMap<String, Author>, me: &str) -> Option<Interaction> {
    if e["event_type"].as_str().is_some_and(|t| t != "MessageCreate") {
        return None;
    }
    let id = e["id"].as_str()?;
    let sender = e["sender_id"].as_str().unwrap_or_default();
    let conversation = e["dm_conversation_id"].as_str()?;
    let who = authors.get(sender).cloned().unwrap_or_else(|| Author::new(sender, "X user"));
    let direction = if sender == me { Direction::Outbound } else { Direction::Inbound };
    let mut i = Interaction::new(id, InteractionKind::PrivateMessage, direction, conversation, who, e["text"].as_str().unwrap_or_default(), e["created_at"].as_str().and_then(parse_rfc3339));
    let other = conversation.split('-').find(|p| *p != me).unwrap_or(sender);
    i.meta = vec![("participant".into(), other.into())];
    Some(i)
}

/// A 1:1 conversation's id, as X forms it: the smaller user id first.
pub fn conversation_id(a: &str, b: &str) -> String {
    let key = |s: &str| (s.len(), s.to_string());
    if key(a) <= key(b) { format!("{a}-{b}") } else { format!("{b}-{a}") }
}

/// Whether snowflake `a` is newer than `b`.
fn newer(a: &str, b: &str) -> bool {
    (a.len(), a) > (b.len(), b)
}

/// A listing followed by `next_token`, newest first, down to `since_id`: its items and users.
fn listing(path: &str, mut query: Vec<(&'static str, String)>, since: Option<&str>) -> Result<(Vec<Value>, HashMap<String, Author>), ChannelError> {
    if let Some(s) = since {
        query.push(("since_id", s.to_string()));
    }
    let (mut items, mut authors) = (Vec::new(), HashMap::new());
    for _ in 0..MAX_PAGES {
        let page = api::get(path, &query)?;
        items.extend(page["data"].as_array().cloned().unwrap_or_default());
        authors.extend(users(&page["includes"]));
        let Some(next) = page["meta"]["next_token"].as_str().map(str::to_string) else { break };
        query.retain(|(k, _)| *k != "pagination_token");
        query.push(("pagination_token", next));
    }
    Ok((items, authors))
}

fn post_query() -> Vec<(&'static str, String)> {
    vec![
        ("max_results", "100".into()),
        ("expansions", "author_id".into()),
        ("tweet.fields", TWEET_FIELDS.into()),
        ("user.fields", USER_FIELDS.into()),
    ]
}

/// Everything new since the cursor: our recent posts (context) and the replies in their
/// conversations, mentions, DMs, and what the listening terms find.
pub fn poll(cursor: Option<String>) -> Result<Page, ChannelError> {
    let me = me()?;
    let mut seen: Map<String, Value> = cursor.as_deref().and_then(|c| serde_json::from_str(c).ok()).unwrap_or_default();
    let mark = |seen: &Map<String, Value>, k: &str| seen.get(k).and_then(Value::as_str).map(str::to_string);
    let mut events = Vec::new();
    let mut newest: HashMap<String, String> = HashMap::new();
    let mut bump = |key: String, id: &str| {
        let e = newest.entry(key).or_default();
        if e.is_empty() || newer(id, e) {
            *e = id.to_string();
        }
    };

    // Mentions first: the listing that moves with the cursor.
    let (mentions, authors) = listing(&format!("users/{me}/mentions"), post_query(), mark(&seen, "mentions").as_deref())?;
    let recent: usize = config("recent_posts").and_then(|n| n.parse().ok()).unwrap_or(5);
    let mut own_query = post_query();
    own_query[0].1 = recent.clamp(5, 100).to_string();
    let own = api::get(&format!("users/{me}/tweets"), &own_query)?;
    let own_authors = users(&own["includes"]);
    let ours: Vec<String> = own["data"].as_array().into_iter().flatten().filter_map(|t| t["id"].as_str().map(str::to_string)).collect();
    let context: HashMap<String, Interaction> =
        own["data"].as_array().into_iter().flatten().filter_map(|t| post(t, &own_authors, &ours, &me, None)).map(|i| (i.platform_id.clone(), i)).collect();

    for t in &mentions {
        if let Some(i) = post(t, &authors, &ours, &me, None) {
            bump("mentions".into(), &i.platform_id);
            events.push(Event::Interaction(i));
        }
    }
    // Replies to our posts that do not name us (a reply to a reply) come with the conversation.
    for id in &ours {
        let key = format!("conversation:{id}");
        let mut q = post_query();
        q.push(("query", format!("conversation_id:{id}")));
        let since = mark(&seen, &key).unwrap_or_else(|| id.clone());
        let (found, authors) = listing("tweets/search/recent", q, Some(&since))?;
        bump(key.clone(), &since);
        for t in &found {
            if let Some(i) = post(t, &authors, &ours, &me, None) {
                bump(key.clone(), &i.platform_id);
                events.push(Event::Interaction(i));
            }
        }
    }
    let terms: Vec<String> = config("listen_terms").unwrap_or_default().split(',').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect();
    let username = config("username").unwrap_or_default();
    for term in &terms {
        let key = format!("listen:{term}");
        let mut q = post_query();
        let not_ours = if username.is_empty() { String::new() } else { format!(" -from:{username}") };
        q.push(("query", format!("{term}{not_ours}")));
        let (found, authors) = listing("tweets/search/recent", q, mark(&seen, &key).as_deref())?;
        for t in &found {
            if t["author_id"].as_str() == Some(me.as_str()) {
                continue;
            }
            if let Some(mut i) = post(t, &authors, &ours, &me, Some(term)) {
                bump(key.clone(), &i.platform_id);
                // Found by the term, not a mention of us (unless it names us too: then the mention poll has it).
                i.kind = InteractionKind::Mention;
                events.push(Event::Interaction(i));
            }
        }
    }
    let mut dm_query = vec![
        ("event_types", "MessageCreate".to_string()),
        ("dm_event.fields", "id,text,sender_id,dm_conversation_id,created_at,attachments".into()),
        ("expansions", "sender_id".into()),
        ("user.fields", USER_FIELDS.into()),
        ("max_results", "100".into()),
    ];
    let dm_since = mark(&seen, "dms");
    let mut dm_authors = HashMap::new();
    let mut dms = Vec::new();
    'pages: for _ in 0..MAX_PAGES {
        let page = api::get("dm_events", &dm_query)?;
        dm_authors.extend(users(&page["includes"]));
        for e in page["data"].as_array().into_iter().flatten() {
            // Newest first: the last one seen ends the news.
            if dm_since.as_deref().is_some_and(|s| !newer(e["id"].as_str().unwrap_or("0"), s)) {
                break 'pages;
            }
            dms.push(e.clone());
        }
        let Some(next) = page["meta"]["next_token"].as_str().map(str::to_string) else { break };
        dm_query.retain(|(k, _)| *k != "pagination_token");
        dm_query.push(("pagination_token", next));
    }
    for e in &dms {
        if let Some(i) = dm(e, &dm_authors, &me) {
            bump("dms".into(), &i.platform_id);
            events.push(Event::Interaction(i));
        }
    }
    events.extend(helpdesk_plugin_sdk::contexts_of(&events, &[InteractionKind::Reply], |id| Ok(context.get(id).cloned())));
    for (k, v) in newest {
        seen.insert(k, json!(v));
    }
    let poll_ms = config("poll_seconds").and_then(|s| s.parse::<u32>().ok()).unwrap_or(60).max(1) * 1000;
    Ok(Page { events, next_cursor: Some(Value::Object(seen).to_string()), poll_after_ms: poll_ms, quota: None, notice: None })
}
