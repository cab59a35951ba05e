//! The Page's feed webhooks (`feed`, `mention`, `ratings` fields) and Graph feed objects as
//! interactions: each comment, ad comment, visitor post, mention and rating is its own ticket,
//! threaded by its post so the ticket view shows the rest of the conversation under it.

use helpdesk_plugin_sdk::prelude::*;
use serde_json::Value;

fn author(from: &Value) -> Author {
    let id = from["id"].as_str().unwrap_or_default();
    let mut a = Author::new(id, from["name"].as_str().unwrap_or("Facebook user"));
    if !id.is_empty() {
        a.profile_url = Some(format!("https://www.facebook.com/{id}"));
    }
    a
}

/// A post paid to be shown as an ad: a dark (unpublished) post, or one being promoted.
pub fn is_ad(post: &Value) -> bool {
    post["is_published"].as_bool() == Some(false) || matches!(post["promotion_status"].as_str(), Some("active" | "extended"))
}

/// A comment (or reply to one) as an interaction.
pub fn comment(page: &str, v: &Value, post: &Value, fallback_time: i64) -> Option<Interaction> {
    let id = v["comment_id"].as_str().or(v["id"].as_str())?;
    let post_id = v["post_id"].as_str().or(post["id"].as_str()).unwrap_or_default();
    let parent = v["parent_id"].as_str().or(v["parent"]["id"].as_str()).unwrap_or(post_id);
    let from = author(&v["from"]);
    let ad = is_ad(post);
    let kind = if ad {
        InteractionKind::AdComment
    } else if !parent.is_empty() && parent != post_id {
        InteractionKind::Reply
    } else {
        InteractionKind::Comment
    };
    let direction = if from.id == page { Direction::Outbound } else { Direction::Inbound };
    let time = match helpdesk_meta::time_ms(&v["created_time"]) {
        0 => fallback_time,
        t => t,
    };
    let mut i = Interaction::new(id, kind, direction, post_id, from, v["message"].as_str().unwrap_or_default(), time);
    i.parent_id = Some(parent.to_string()).filter(|p| !p.is_empty());
    i.permalink = v["permalink_url"].as_str().or(post["permalink_url"].as_str()).map(str::to_string);
    i.from_ad = ad;
    i.meta = vec![("post_id".into(), post_id.into())];
    Some(i)
}

/// What one `changes[]` entry reports.
pub fn change(page: &str, field: &str, v: &Value, time: i64) -> Vec<Event> {
    let verb = v["verb"].as_str().unwrap_or("add");
    let item = v["item"].as_str().unwrap_or_default();
    let removed = |id: Option<&str>| id.map(|id| vec![Event::Removed(id.to_string())]).unwrap_or_default();
    match (field, item, verb) {
        (_, _, "remove" | "delete") => removed(v["comment_id"].as_str().or(v["post_id"].as_str())),
        ("feed", "comment", "add" | "edited" | "edit") => {
            let mut i = match comment(page, v, &v["post"], time) {
                Some(i) => i,
                None => return Vec::new(),
            };
            if verb != "add" {
                i.edited_at = Some(time.max(i.created_at.unwrap_or(0)));
            }
            vec![Event::Interaction(i)]
        }
        // A visitor writing on the Page (the Page's own posts are not tickets).
        ("feed", "post" | "status" | "photo" | "video", "add" | "edited") => {
            let from = author(&v["from"]);
            match v["post_id"].as_str() {
                Some(post_id) if from.id != page => vec![Event::Interaction(post(post_id, from, v, InteractionKind::Post, time))],
                _ => Vec::new(),
            }
        }
        ("mention", _, "add") => {
            let id = v["comment_id"].as_str().or(v["post_id"].as_str());
            match id {
                Some(id) => {
                    let from = author(&v["from"]);
                    let mut i = post(id, from, v, InteractionKind::Mention, time);
                    i.thread_key = v["post_id"].as_str().unwrap_or(id).to_string();
                    vec![Event::Interaction(i)]
                }
                None => Vec::new(),
            }
        }
        ("ratings", _, "add" | "edit" | "edited") => {
            let Some(story) = v["open_graph_story_id"].as_str() else { return Vec::new() };
            let mut from = Author::new(v["reviewer_id"].as_str().unwrap_or_default(), v["reviewer_name"].as_str().unwrap_or("Facebook user"));
            if !from.id.is_empty() {
                from.profile_url = Some(format!("https://www.facebook.com/{}", from.id));
            }
            let verdict = match v["recommendation_type"].as_str() {
                Some("positive") => "Recommends the Page",
                Some("negative") => "Does not recommend the Page",
                _ => "Rated the Page",
            };
            let text = match v["review_text"].as_str() {
                Some(t) if !t.is_empty() => format!("{verdict}: {t}"),
                _ => verdict.to_string(),
            };
            let mut i = Interaction::new(story, InteractionKind::Review, Direction::Inbound, story, from, text, created(v, time));
            i.permalink = Some(format!("https://www.facebook.com/{story}"));
            vec![Event::Interaction(i)]
        }
        // Reactions, shares, hides and the rest are not messages to answer.
        _ => Vec::new(),
    }
}

fn created(v: &Value, fallback: i64) -> i64 {
    match helpdesk_meta::time_ms(&v["created_time"]) {
        0 => fallback,
        t => t,
    }
}

fn post(id: &str, from: Author, v: &Value, kind: InteractionKind, time: i64) -> Interaction {
    let mut i = Interaction::new(id, kind, Direction::Inbound, id, from, v["message"].as_str().unwrap_or_default(), created(v, time));
    i.permalink = v["permalink_url"].as_str().or(v["post"]["permalink_url"].as_str()).map(str::to_string).or_else(|| Some(format!("https://www.facebook.com/{id}")));
    i
}

/// A post as the context of its comments: the Page's own (outbound, so it is not a ticket to
/// answer) or a visitor's, with its picture.
pub fn post_context(page: &str, p: &Value) -> Option<Interaction> {
    let id = p["id"].as_str()?;
    let mut i = post(id, author(&p["from"]), p, InteractionKind::Post, 0);
    if i.author.id == page || i.author.id.is_empty() {
        i.direction = Direction::Outbound;
    }
    i.from_ad = is_ad(p);
    if let Some(url) = p["full_picture"].as_str() {
        i.attachments.push(Attachment { kind: AttachmentKind::Image, platform_id: None, url: Some(url.into()), mime_type: None, name: None, size: None });
    }
    Some(i)
}

/// The reply the Page just posted under a comment or post.
pub fn own_comment(page: &str, id: &str, target: &Target, text: &str) -> Interaction {
    let kind = if target.kind == InteractionKind::AdComment { InteractionKind::AdComment } else { InteractionKind::Reply };
    // created-at 0: the host stamps the send time.
    let mut i = Interaction::new(id, kind, Direction::Outbound, target.thread_key.clone(), Author::new(page, "Page"), text, None);
    i.parent_id = Some(target.platform_id.clone());
    i
}
