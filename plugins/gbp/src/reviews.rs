//! Reviews through the My Business API v4: listed newest update first per location, stopping
//! at the last update already seen (the cursor: per location, that update's time); the
//! location's title and Maps link from the Business Information API, as the reviews' context.

use crate::{DEFAULT_API_URL, DEFAULT_INFO_URL, PLATFORM};
use helpdesk_plugin_sdk::http::encode;
use helpdesk_plugin_sdk::prelude::*;
use helpdesk_plugin_sdk::time::parse_rfc3339;
use serde_json::{json, Map, Value};

/// Pages of 50 reviews read per location and fetch; an older backlog comes on the next fetch.
const MAX_PAGES: usize = 4;
fn poll_ms() -> u32 {
    config("poll_seconds").and_then(|s| s.trim().parse::<u32>().ok()).filter(|s| *s > 0).unwrap_or(60).saturating_mul(1000)
}

fn api(path: &str) -> String {
    format!("{}/{}", config_or("api_url", DEFAULT_API_URL).trim_end_matches('/'), path)
}

fn call(method: &str, path: &str, body: Option<&Value>) -> Result<Option<Value>, ChannelError> {
    helpdesk_google::call(method, &api(path), body, PLATFORM)
}

/// `accounts/{a}/locations/{l}` for each configured location.
pub fn locations() -> Result<Vec<String>, ChannelError> {
    let account = require_config("account_id")?;
    let ids: Vec<String> = require_config("location_ids")?.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    if ids.is_empty() {
        return Err(err::invalid_config("location_ids names no location"));
    }
    Ok(ids.into_iter().map(|l| format!("accounts/{account}/locations/{l}")).collect())
}

pub struct LocationInfo {
    pub title: Option<String>,
    pub maps_uri: Option<String>,
    pub address: Option<String>,
}

/// The location's title, address and Maps link.
pub fn location(name: &str) -> Result<LocationInfo, ChannelError> {
    let id = name.rsplit('/').next().unwrap_or(name);
    let url = format!(
        "{}/locations/{}?readMask=title,storefrontAddress,metadata",
        config_or("info_url", DEFAULT_INFO_URL).trim_end_matches('/'),
        encode(id)
    );
    let v = helpdesk_google::call("GET", &url, None, PLATFORM)?.unwrap_or(Value::Null);
    let address = v["storefrontAddress"]["addressLines"].as_array().map(|lines| {
        let mut parts: Vec<&str> = lines.iter().filter_map(Value::as_str).collect();
        parts.extend(v["storefrontAddress"]["locality"].as_str());
        parts.join(", ")
    });
    Ok(LocationInfo {
        title: v["title"].as_str().map(str::to_string),
        maps_uri: v["metadata"]["mapsUri"].as_str().map(str::to_string),
        address: address.filter(|a| !a.is_empty()),
    })
}

/// The location as the context its reviews show: kept as the brand's own post.
fn location_context(name: &str) -> Result<Option<Interaction>, ChannelError> {
    let info = location(name)?;
    let business = Author::new("business", info.title.clone().unwrap_or_else(|| "Our business".into()));
    let mut i = Interaction::new(name, InteractionKind::Post, Direction::Outbound, name, business, info.address.unwrap_or_default(), None);
    i.title = info.title;
    i.permalink = info.maps_uri;
    Ok(Some(i))
}

fn stars(v: &Value) -> Option<u8> {
    match v["starRating"].as_str()? {
        "ONE" => Some(1),
        "TWO" => Some(2),
        "THREE" => Some(3),
        "FOUR" => Some(4),
        "FIVE" => Some(5),
        _ => None,
    }
}

/// A review, and our answer to it if there is one.
pub fn review_events(v: &Value, location: &str) -> Vec<Event> {
    let Some(name) = v["name"].as_str() else { return Vec::new() };
    let reviewer = &v["reviewer"];
    let anonymous = reviewer["isAnonymous"].as_bool().unwrap_or(false);
    let display = reviewer["displayName"].as_str().filter(|n| !n.is_empty() && !anonymous).unwrap_or("A Google user");
    // Google gives reviewers no id: their picture's address is theirs alone, else their name.
    let id = match (anonymous, reviewer["profilePhotoUrl"].as_str()) {
        (true, _) => format!("anonymous:{}", v["reviewId"].as_str().unwrap_or(name)),
        (false, Some(photo)) => photo.to_string(),
        (false, None) => display.to_string(),
    };
    let author = Author { avatar_url: reviewer["profilePhotoUrl"].as_str().map(str::to_string), ..Author::new(id, display) };
    let created = v["createTime"].as_str().and_then(parse_rfc3339);
    let updated = v["updateTime"].as_str().and_then(parse_rfc3339);
    let mut review = Interaction::new(name, InteractionKind::Review, Direction::Inbound, location, author, v["comment"].as_str().unwrap_or(""), created);
    review.rating = stars(v);
    review.edited_at = updated.filter(|u| created.is_some_and(|c| *u > c));
    review.meta = vec![("review".into(), name.into())];
    review.attachments = v["reviewMediaItems"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| {
            let url = m["googleUrl"].as_str().or(m["thumbnailUrl"].as_str())?;
            Some(Attachment { kind: AttachmentKind::Image, platform_id: None, url: Some(url.into()), mime_type: None, name: None, size: None })
        })
        .collect();
    let mut events = vec![Event::Interaction(review)];
    if let Some(answer) = v["reviewReply"].as_object() {
        events.push(Event::Interaction(answer_of(name, location, answer)));
    }
    events
}

/// Our answer to review `name`, as Google keeps it: one per review, its id the review's + `/reply`.
fn answer_of(name: &str, location: &str, reply: &Map<String, Value>) -> Interaction {
    let at = reply.get("updateTime").and_then(Value::as_str).and_then(parse_rfc3339);
    let mut i = Interaction::new(
        format!("{name}/reply"),
        InteractionKind::Review,
        Direction::Outbound,
        location,
        Author::new("business", "Our answer"),
        reply.get("comment").and_then(Value::as_str).unwrap_or(""),
        at,
    );
    i.parent_id = Some(name.to_string());
    // An answer replaced later (here or in Google's own tools) is an edit of the one stored.
    i.edited_at = at;
    i.meta = vec![("review".into(), name.into())];
    i
}

/// What changed since the cursor, on every location.
pub fn poll(cursor: Option<String>) -> Result<Page, ChannelError> {
    let mut seen: Map<String, Value> = cursor.as_deref().and_then(|c| serde_json::from_str(c).ok()).unwrap_or_default();
    let mut events = Vec::new();
    let mut more = false;
    for location in locations()? {
        let since = seen.get(&location).and_then(Value::as_i64).unwrap_or(0);
        let mut newest = since;
        let mut token: Option<String> = None;
        'pages: for n in 0..MAX_PAGES {
            let mut path = format!("{location}/reviews?pageSize=50&orderBy={}", encode("updateTime desc"));
            if let Some(t) = &token {
                path.push_str(&format!("&pageToken={}", encode(t)));
            }
            let page = call("GET", &path, None)?.unwrap_or(Value::Null);
            for r in page["reviews"].as_array().into_iter().flatten() {
                let updated = r["updateTime"].as_str().and_then(parse_rfc3339).unwrap_or(0);
                // Newest first: the first one seen before ends this location's news. The one
                // of the same time comes again (the host stores it once).
                if updated < since {
                    break 'pages;
                }
                newest = newest.max(updated);
                events.extend(review_events(r, &location));
            }
            token = page["nextPageToken"].as_str().filter(|t| !t.is_empty()).map(str::to_string);
            if token.is_none() {
                break;
            }
            if n + 1 == MAX_PAGES {
                more = true;
            }
        }
        // With pages left unread, keep the old mark so the next fetch reads on from there.
        if !more {
            seen.insert(location.clone(), json!(newest));
        }
    }
    events.extend(helpdesk_plugin_sdk::contexts_of(&events, &[InteractionKind::Review], location_context));
    Ok(Page { events, next_cursor: Some(Value::Object(seen).to_string()), poll_after_ms: if more { 0 } else { poll_ms() }, quota: None, notice: None })
}

/// The review Pub/Sub named, if it is of one of our locations.
pub fn one(name: &str) -> Result<Vec<Event>, ChannelError> {
    let Some(location) = locations()?.into_iter().find(|l| name.starts_with(&format!("{l}/reviews/"))) else { return Ok(Vec::new()) };
    let v = call("GET", name, None)?.unwrap_or(Value::Null);
    let mut events = review_events(&v, &location);
    events.extend(helpdesk_plugin_sdk::contexts_of(&events, &[InteractionKind::Review], location_context));
    Ok(events)
}

/// Answer (or replace the answer to) review `name`.
pub fn reply(name: &str, text: &str) -> Result<Interaction, ChannelError> {
    let answer = call("PUT", &format!("{name}/reply"), Some(&json!({"comment": text})))?.unwrap_or(Value::Null);
    let location = name.split("/reviews/").next().unwrap_or(name);
    let mut fields = answer.as_object().cloned().unwrap_or_default();
    fields.entry("comment").or_insert_with(|| json!(text));
    Ok(answer_of(name, location, &fields))
}

pub fn delete_reply(name: &str) -> Result<(), ChannelError> {
    call("DELETE", &format!("{name}/reply"), None).map(|_| ())
}
