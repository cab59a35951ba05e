//! Ads' names for the posts they show (the Marketing API's ads of the channel's ad account), so
//! a comment on an ad names the ad, as the Ads Manager does. Optional: without an ad account,
//! or when its ads cannot be read, the comment still arrives, marked as an ad's.

use helpdesk_plugin_sdk::prelude::*;
use serde_json::Value;

/// The account's ads are listed again at most this often, however many unknown posts arrive.
const RELIST_MS: i64 = 10 * 60 * 1000;
/// Pages of 100 ads read per listing.
const MAX_PAGES: usize = 20;

fn key(post_id: &str) -> String {
    format!("ad-name:{post_id}")
}

/// `post` with its ad's name as its title, when it is an ad the account's ads name.
pub fn named(mut post: Interaction) -> Interaction {
    if post.from_ad && post.title.is_none() {
        post.title = name_of(&post.platform_id);
    }
    post
}

fn name_of(post_id: &str) -> Option<String> {
    let account = config("ad_account_id")?;
    if let Ok(Some(name)) = kv_get(&key(post_id)) {
        return String::from_utf8(name).ok();
    }
    let now = helpdesk_plugin_sdk::time::now_ms();
    let listed: i64 = kv_get("ads-listed-at").ok().flatten().and_then(|v| String::from_utf8(v).ok()?.parse().ok()).unwrap_or(0);
    if now - listed < RELIST_MS {
        return None;
    }
    let _ = kv_set("ads-listed-at", now.to_string().as_bytes());
    let account = account.trim_start_matches("act_");
    let mut page = match helpdesk_meta::graph("GET", &format!("act_{account}/ads?fields=name,creative%7Beffective_object_story_id%7D&limit=100"), None, crate::PLATFORM) {
        Ok(page) => page,
        Err(e) => {
            log(Level::Warn, &format!("cannot read the ad account's ads for their names: {e:?}"));
            return None;
        }
    };
    let mut found = None;
    for _ in 0..MAX_PAGES {
        for ad in page["data"].as_array().into_iter().flatten() {
            let (Some(story), Some(name)) = (ad["creative"]["effective_object_story_id"].as_str(), ad["name"].as_str()) else { continue };
            let _ = kv_set(&key(story), name.as_bytes());
            if story == post_id {
                found = Some(name.to_string());
            }
        }
        let Some(next) = page["paging"]["next"].as_str().map(str::to_string) else { break };
        page = match helpdesk_meta::get_url(&next, crate::PLATFORM) {
            Ok(p) => p,
            Err(_) => Value::Null,
        };
    }
    found
}
