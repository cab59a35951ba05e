//! Backfill and gap-fill: the Page's feed and each post's comments since the cursor (the newest
//! time already seen, in seconds), following Graph's `paging.next` cursors. Webhooks are the
//! live path; anything they also delivered is stored once by the host.

use crate::feed;
use helpdesk_plugin_sdk::prelude::*;
use serde_json::Value;

/// Pages of one listing followed per fetch; the rest comes on the next fetch.
const MAX_PAGES: usize = 5;
pub const POST_FIELDS: &str = "id,message,from,created_time,updated_time,permalink_url,is_published,promotion_status,full_picture";
const COMMENT_FIELDS: &str = "id,message,from,created_time,parent{id},permalink_url";

pub fn fetch(cursor: Option<String>) -> Result<Page, ChannelError> {
    let page = require_config("page_id")?;
    let since: i64 = match cursor.as_deref() {
        Some(c) => c.parse().map_err(|_| err::permanent(format!("bad cursor `{c}`")))?,
        None => 0,
    };
    let since_param = if since > 0 { format!("&since={since}") } else { String::new() };
    let mut events = Vec::new();
    let mut newest = since * 1000;
    for post in list(&format!("{page}/feed?fields={POST_FIELDS}&limit=25{since_param}"))? {
        let Some(post_id) = post["id"].as_str() else { continue };
        let from = post["from"]["id"].as_str().unwrap_or(&page);
        if from != page {
            // A visitor's post, as the feed webhook would have reported it.
            let mut v = post.clone();
            v["post_id"] = Value::from(post_id);
            v["item"] = Value::from("post");
            v["verb"] = Value::from("add");
            events.extend(feed::change(&page, "feed", &v, 0));
        } else if let Some(ours) = feed::post_context(&page, &post) {
            // The Page's own post: shown above its comments.
            events.push(Event::Interaction(crate::ads::named(ours)));
        }
        let comments = list(&format!("{post_id}/comments?filter=stream&order=chronological&fields={COMMENT_FIELDS}&limit=100{since_param}"))?;
        for c in comments {
            let mut v = c.clone();
            v["post_id"] = Value::from(post_id);
            if let Some(i) = feed::comment(&page, &v, &post, 0) {
                newest = newest.max(i.created_at.unwrap_or(0));
                events.push(Event::Interaction(i));
            }
        }
        newest = newest.max(helpdesk_meta::time_ms(&post["created_time"]));
    }
    Ok(Page { events, next_cursor: Some((newest / 1000).to_string()), poll_after_ms: 60_000, quota: None, notice: None })
}

/// The `data` of a Graph listing, following `paging.next` for up to `MAX_PAGES` pages.
fn list(path: &str) -> Result<Vec<Value>, ChannelError> {
    let mut out = Vec::new();
    let mut page = helpdesk_meta::graph("GET", path, None, crate::PLATFORM)?;
    for _ in 0..MAX_PAGES {
        out.extend(page["data"].as_array().cloned().unwrap_or_default());
        let Some(next) = page["paging"]["next"].as_str().map(str::to_string) else { break };
        page = helpdesk_meta::get_url(&next, crate::PLATFORM)?;
    }
    Ok(out)
}
