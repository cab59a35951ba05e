//! TikTok channel (API for Business): comments and replies on the account's videos (Accounts
//! API, polled for the recent videos within a budget of calls), comments on its ads (Ads API,
//! marked as ad comments, the ad's name as their context), and direct messages by Business
//! Messaging webhooks (one ticket per conversation). Actions exactly as TikTok allows them:
//! reply (150 characters at most), like, hide, pin, and delete only our own comments.

mod api;
mod comments;
mod messages;

use helpdesk_plugin_sdk::prelude::*;
use serde_json::{json, Value};

struct TikTok;

pub const PLATFORM: &str = "TikTok";
const MAX_REPLY: u32 = 150;

fn meta<'a>(target: &'a Target, key: &str) -> Option<&'a str> {
    target.meta.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

impl Channel for TikTok {
    fn describe() -> ChannelInfo {
        use ActionKind::*;
        let own_delete = "Only our own comments can be deleted; a customer's can be hidden";
        let organic = |kind| {
            Capability::new(kind, &[Reply, Like, Unlike, Hide, Unhide, Pin, Unpin, Delete])
                .only_on(Delete, Direction::Outbound)
                .action_note(Delete, own_delete)
                .action_note(Hide, "Hidden comments stay visible to their author")
                .note("TikTok offers no way to block a commenter through its API")
                .max_reply_chars(MAX_REPLY)
        };
        let ads = Capability::new(InteractionKind::AdComment, &[Reply, Hide, Unhide, Delete])
            .only_on(Delete, Direction::Outbound)
            .action_note(Delete, own_delete)
            .note("Comments on ads are moderated through the Ads API (needs the advertiser id)")
            .max_reply_chars(MAX_REPLY);
        let dm = Capability::new(InteractionKind::PrivateMessage, &[Reply]).note("Direct messages arrive by Business Messaging webhooks");
        ChannelInfo {
            platform: "tiktok".into(),
            platform_name: PLATFORM.into(),
            capabilities: vec![organic(InteractionKind::Comment), organic(InteractionKind::Reply), ads, dm],
            polls: true,
            webhooks: true,
            reply_window_hours: None,
            tagged_reply_window: None,
            settings: vec![
                Setting::config("business_id", "Business id").required().help("The account's open_id, from the token call"),
                Setting::config("app_id", "App id").required().help("The TikTok for Business app's id (client_id)"),
                Setting::secret("app_secret", "App secret").help("The app's secret: token refreshes and webhook signatures use it"),
                Setting::secret("refresh_token", "Refresh token").help("The account's refresh token; the plugin keeps the new one TikTok gives on each refresh"),
                Setting::config("advertiser_id", "Advertiser id").help("For comments on ads (Ads API); leave empty for organic comments only"),
                Setting::config("recent_videos", "Videos watched").default_value("10").help("How many of the newest videos are polled for comments"),
                Setting::config("max_calls", "Calls per poll").default_value("20").help("The most API calls one poll makes; the rest waits for the next"),
                Setting::config("poll_seconds", "Poll interval").default_value("60"),
                Setting::config("base_url", "API URL").default_value(api::DEFAULT_BASE_URL),
            ],
            allowed_hosts: vec!["https://business-api.tiktok.com".into(), "https://*.tiktokcdn.com".into()],
        }
    }

    fn check() -> Result<String, ChannelError> {
        let business = require_config("business_id")?;
        let fields = r#"["display_name","username"]"#;
        let data = api::get("business/get/", &[("business_id", business), ("fields", fields.into())])?;
        let name = data["display_name"].as_str().or(data["username"].as_str()).unwrap_or("the account");
        Ok(format!("TikTok account {name}"))
    }

    fn fetch(cursor: Option<String>) -> Result<Page, ChannelError> {
        comments::poll(cursor)
    }

    fn handle_webhook(request: HttpRequest) -> Result<WebhookOutcome, ChannelError> {
        let secret = require_secret("app_secret")?;
        if !messages::verified(&request, &secret) {
            return Ok(WebhookOutcome::reject(401, "missing, wrong or stale TikTok-Signature"));
        }
        let body: Value = serde_json::from_slice(&request.body).map_err(|e| err::permanent(format!("a webhook that is not JSON: {e}")))?;
        let business = require_config("business_id")?;
        // Events for another account of the same app are not this channel's.
        if body["user_openid"].as_str().is_some_and(|id| id != business) {
            return Ok(WebhookOutcome::accept(Vec::new()));
        }
        Ok(WebhookOutcome::accept(messages::event(&body, &business)?))
    }

    fn perform(target: Target, action: Action) -> Result<ActionOutcome, ChannelError> {
        let business = require_config("business_id")?;
        let id = target.platform_id.clone();
        if target.kind == InteractionKind::PrivateMessage {
            return match action {
                Action::Reply(r) => {
                    let conversation = meta(&target, "conversation").unwrap_or(&target.thread_key).to_string();
                    Ok(ActionOutcome { created: Some(messages::reply(&business, &conversation, &r.text)?) })
                }
                _ => Err(err::unsupported("TikTok direct messages can only be answered")),
            };
        }
        if let Action::Reply(r) = &action {
            if r.text.chars().count() > MAX_REPLY as usize {
                return Err(err::permanent(format!("TikTok takes replies of at most {MAX_REPLY} characters")));
            }
        }
        if meta(&target, "surface") == Some("ads") || target.kind == InteractionKind::AdComment {
            return ad_action(&target, action);
        }
        let video = meta(&target, "video").unwrap_or(&target.thread_key).to_string();
        let done = |_: Value| ActionOutcome { created: None };
        match action {
            Action::Reply(r) => {
                let sent = api::post("business/comment/reply/create/", &json!({"business_id": business, "video_id": video, "comment_id": id, "text": r.text}))?;
                let mut reply = comments::comment(&json!({"comment_id": sent["comment_id"], "video_id": video, "text": sent["text"].as_str().unwrap_or(&r.text),
                    "create_time": sent["create_time"], "owner": true, "parent_comment_id": id, "username": ""}))
                .ok_or_else(|| err::transient("TikTok's answer to the reply has no comment_id"))?;
                reply.author = Author::new(business, "Us");
                Ok(ActionOutcome { created: Some(reply) })
            }
            Action::Like | Action::Unlike => {
                let act = if matches!(action, Action::Like) { "LIKE" } else { "UNLIKE" };
                api::post("business/comment/like/", &json!({"business_id": business, "comment_id": id, "action": act})).map(done)
            }
            Action::Hide | Action::Unhide => {
                let act = if matches!(action, Action::Hide) { "HIDE" } else { "UNHIDE" };
                api::post("business/comment/hide/", &json!({"business_id": business, "video_id": video, "comment_id": id, "action": act})).map(done)
            }
            Action::Pin | Action::Unpin => {
                let act = if matches!(action, Action::Pin) { "PIN" } else { "UNPIN" };
                api::post("business/comment/pin/", &json!({"business_id": business, "video_id": video, "comment_id": id, "action": act})).map(done)
            }
            Action::Delete if target.direction == Direction::Outbound => {
                api::post("business/comment/delete/", &json!({"business_id": business, "comment_id": id})).map(done)
            }
            Action::Delete => Err(err::unsupported("TikTok lets an account delete only its own comments; hide a customer's instead")),
            _ => Err(err::unsupported("TikTok has no such action on comments")),
        }
    }
}

/// Actions on ad comments, through the Ads API.
fn ad_action(target: &Target, action: Action) -> Result<ActionOutcome, ChannelError> {
    let advertiser = require_config("advertiser_id").map_err(|_| err::invalid_config("ad comments need the channel's advertiser_id"))?;
    let ad = meta(target, "ad_id").unwrap_or_else(|| target.thread_key.trim_start_matches("ad:")).to_string();
    let id = target.platform_id.clone();
    match action {
        Action::Reply(r) => {
            let sent = api::post("comment/post/", &json!({"advertiser_id": advertiser, "ad_id": ad, "comment_id": id, "comment_type": "REPLY", "text": r.text}))?;
            let mut reply = comments::ad_comment(&json!({"comment_id": sent["comment_id"], "ad_id": ad, "text": r.text, "create_time": sent["create_time"],
                "comment_type": "REPLY", "is_advertiser": true, "original_comment_id": id, "user_name": "Us"}))
            .ok_or_else(|| err::transient("TikTok's answer to the reply has no comment_id"))?;
            reply.parent_id = Some(id);
            Ok(ActionOutcome { created: Some(reply) })
        }
        Action::Hide | Action::Unhide => {
            let operation = if matches!(action, Action::Hide) { "HIDDEN" } else { "PUBLIC" };
            api::post("comment/status/update/", &json!({"advertiser_id": advertiser, "comment_ids": [id], "operation": operation}))?;
            Ok(ActionOutcome { created: None })
        }
        Action::Delete if target.direction == Direction::Outbound => {
            api::post("comment/delete/", &json!({"advertiser_id": advertiser, "comment_ids": [id]}))?;
            Ok(ActionOutcome { created: None })
        }
        Action::Delete => Err(err::unsupported("TikTok lets an advertiser delete only its own comments on ads; hide a customer's instead")),
        _ => Err(err::unsupported("the Ads API has no such action on ad comments")),
    }
}

export_channel!(TikTok);
