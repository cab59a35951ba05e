//! X channel (API v2): mentions of the account, replies in the conversations of its recent
//! posts, DMs (one ticket per conversation) and posts found by the admin's listening terms,
//! polled with `since_id` cursors; and, where the plan has them, Account Activity webhooks
//! (the CRC challenge answered, every delivery's `x-twitter-webhooks-signature` checked).
//! Likes of our posts become reactions; follows are logged, not tickets.

mod api;
mod posts;

use base64::Engine;
use helpdesk_plugin_sdk::prelude::*;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::HashMap;

struct X;

pub const PLATFORM: &str = "X";

fn hmac_b64(secret: &str, data: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(data);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn enterprise() -> bool {
    config("plan").is_some_and(|p| p.eq_ignore_ascii_case("enterprise"))
}

impl Channel for X {
    fn describe() -> ChannelInfo {
        use ActionKind::*;
        let public = |kind, extra: &[ActionKind]| {
            let mut actions = vec![Reply, Like, Unlike, Repost, Unrepost, Quote, Follow, Unfollow, Mute, Unmute, Delete, Block];
            actions.extend_from_slice(extra);
            Capability::new(kind, &actions)
                .only_on(Delete, Direction::Outbound)
                .action_note(Delete, "Only our own posts can be deleted")
                .action_note(Block, "X offers blocking only on the Enterprise plan; mute works on every plan")
                .requires(Block, "plan", "enterprise")
                .max_reply_chars(280)
        };
        ChannelInfo {
            platform: "x".into(),
            platform_name: PLATFORM.into(),
            capabilities: vec![
                public(InteractionKind::Mention, &[]).note("X lets mentions be read back 800 at most"),
                public(InteractionKind::Reply, &[Hide, Unhide]).action_note(Hide, "Only replies in our own posts' conversations can be hidden"),
                Capability::new(InteractionKind::PrivateMessage, &[Reply, Follow, Unfollow, Mute, Unmute]).max_reply_chars(10_000),
            ],
            polls: true,
            webhooks: true,
            reply_window_hours: None,
            tagged_reply_window: None,
            settings: vec![
                Setting::config("user_id", "Account id").required().help("The numeric id of the brand's X account"),
                Setting::config("username", "Handle").help("The account's @handle, without the @ (its own posts are left out of listening)"),
                Setting::secret("access_token", "User access token").help("An OAuth 2.0 user token of the account (tweet.read tweet.write users.read like.write dm.read dm.write)"),
                Setting::secret("consumer_secret", "Consumer secret").optional().help("For Account Activity webhooks: the app's consumer secret (CRC and signatures)"),
                Setting::config("listen_terms", "Listening terms").help("Words or phrases, separated by commas: posts with them come in as mentions, even without @"),
                Setting::config("plan", "X plan").default_value("basic").help("basic, pro or enterprise; blocking needs enterprise"),
                Setting::config("recent_posts", "Own posts watched").default_value("5").help("How many of the account's newest posts have their replies polled"),
                Setting::config("poll_seconds", "Poll interval").default_value("60"),
                Setting::config("base_url", "API URL").default_value(api::DEFAULT_BASE_URL),
            ],
            allowed_hosts: vec!["https://api.x.com".into(), "https://pbs.twimg.com".into()],
        }
    }

    fn check() -> Result<String, ChannelError> {
        let me = api::get("users/me", &[("user.fields", posts::USER_FIELDS.into())])?;
        Ok(format!("X account @{}", me["data"]["username"].as_str().unwrap_or("?")))
    }

    fn fetch(cursor: Option<String>) -> Result<Page, ChannelError> {
        posts::poll(cursor)
    }

    fn handle_webhook(request: HttpRequest) -> Result<WebhookOutcome, ChannelError> {
        let Some(secret) = secret("consumer_secret") else {
            return Ok(WebhookOutcome::reject(404, "Account Activity is not set up for this channel (no consumer_secret)"));
        };
        if request.method == "GET" {
            // The CRC: prove we hold the consumer secret.
            let Some(crc) = request.query("crc_token") else { return Ok(WebhookOutcome::reject(400, "no crc_token")) };
            let body = json!({"response_token": format!("sha256={}", hmac_b64(&secret, crc.as_bytes()))}).to_string();
            return Ok(WebhookOutcome {
                response: HttpResponse { status: 200, headers: vec![("content-type".into(), "application/json".into())], body: body.into_bytes() },
                events: Vec::new(),
            });
        }
        let expected = format!("sha256={}", hmac_b64(&secret, &request.body));
        let given = request.header("x-twitter-webhooks-signature").unwrap_or_default();
        if !helpdesk_plugin_sdk::constant_time_eq(given.as_bytes(), expected.as_bytes()) {
            return Ok(WebhookOutcome::reject(401, "missing or wrong x-twitter-webhooks-signature"));
        }
        let body: Value = serde_json::from_slice(&request.body).map_err(|e| err::permanent(format!("a delivery that is not JSON: {e}")))?;
        let me = posts::me()?;
        if body["for_user_id"].as_str().is_some_and(|u| u != me) {
            return Ok(WebhookOutcome::accept(Vec::new()));
        }
        let mut events = Vec::new();
        for t in body["tweet_create_events"].as_array().into_iter().flatten() {
            events.extend(posts::v1_post(t, &[], &me).map(Event::Interaction));
        }
        let users: HashMap<String, Author> = body["users"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(id, u)| (id.clone(), posts::author(id, u["name"].as_str(), u["screen_name"].as_str(), u["profile_image_url_https"].as_str())))
            .collect();
        for d in body["direct_message_events"].as_array().into_iter().flatten().filter(|d| d["type"] == "message_create") {
            let m = &d["message_create"];
            let (sender, recipient) = (m["sender_id"].as_str().unwrap_or_default(), m["target"]["recipient_id"].as_str().unwrap_or_default());
            let created = d["created_timestamp"].as_str().and_then(|t| t.parse::<i64>().ok()).and_then(chrono::DateTime::from_timestamp_millis).map(|t| t.to_rfc3339());
            let v2 = json!({"event_type": "MessageCreate", "id": d["id"], "sender_id": sender, "text": m["message_data"]["text"],
                "dm_conversation_id": posts::conversation_id(sender, recipient), "created_at": created});
            events.extend(posts::dm(&v2, &users, &me).map(Event::Interaction));
        }
        for f in body["favorite_events"].as_array().into_iter().flatten() {
            let u = &f["user"];
            let who = posts::author(u["id_str"].as_str().unwrap_or_default(), u["name"].as_str(), u["screen_name"].as_str(), u["profile_image_url_https"].as_str());
            if let Some(post) = f["favorited_status"]["id_str"].as_str() {
                let at = f["timestamp_ms"].as_str().and_then(|t| t.parse().ok()).unwrap_or_else(helpdesk_plugin_sdk::time::now_ms);
                events.push(Event::Reaction(Reaction { platform_id: post.into(), author: who, emoji: "❤️".into(), at }));
            }
        }
        for f in body["follow_events"].as_array().into_iter().flatten() {
            let (kind, who) = (f["type"].as_str().unwrap_or("follow"), f["source"]["screen_name"].as_str().unwrap_or("someone"));
            log(Level::Info, &format!("X: @{who} {kind}ed the account"));
        }
        Ok(WebhookOutcome::accept(events))
    }

    fn perform(target: Target, action: Action) -> Result<ActionOutcome, ChannelError> {
        let me = posts::me()?;
        let id = target.platform_id.clone();
        let user = target.meta.iter().find(|(k, _)| k == "author" || k == "participant").map(|(_, v)| v.clone()).unwrap_or_else(|| target.author_id.clone());
        let done = |_: Value| ActionOutcome { created: None };
        let mine = |path: &str| format!("users/{me}/{path}");
        if target.kind == InteractionKind::PrivateMessage {
            if let Action::Reply(r) = &action {
                let sent = api::call("POST", &format!("dm_conversations/with/{user}/messages"), Some(&json!({"text": r.text})))?;
                let event = sent["data"]["dm_event_id"].as_str().unwrap_or_default();
                let mut i = Interaction::new(event, InteractionKind::PrivateMessage, Direction::Outbound, target.thread_key.clone(), Author::new(&me, "Us"), r.text.clone(), None);
                i.meta = vec![("participant".into(), user.clone())];
                return Ok(ActionOutcome { created: Some(i) });
            }
        }
        let created = |sent: Value, text: &str, kind: InteractionKind| {
            let new_id = sent["data"]["id"].as_str().unwrap_or_default().to_string();
            let mut i = Interaction::new(new_id, kind, Direction::Outbound, target.thread_key.clone(), Author::new(&me, "Us"), text, None);
            i.parent_id = Some(id.clone());
            i.chain_key = Some(target.thread_key.clone());
            i
        };
        match action {
            Action::Reply(r) => {
                let sent = api::call("POST", "tweets", Some(&json!({"text": r.text, "reply": {"in_reply_to_tweet_id": id}})))?;
                Ok(ActionOutcome { created: Some(created(sent, &r.text, InteractionKind::Reply)) })
            }
            Action::Quote(r) => {
                let sent = api::call("POST", "tweets", Some(&json!({"text": r.text, "quote_tweet_id": id})))?;
                Ok(ActionOutcome { created: Some(created(sent, &r.text, InteractionKind::Post)) })
            }
            Action::Like => api::call("POST", &mine("likes"), Some(&json!({"tweet_id": id}))).map(done),
            Action::Unlike => api::call("DELETE", &mine(&format!("likes/{id}")), None).map(done),
            Action::Repost => api::call("POST", &mine("retweets"), Some(&json!({"tweet_id": id}))).map(done),
            Action::Unrepost => api::call("DELETE", &mine(&format!("retweets/{id}")), None).map(done),
            Action::Hide | Action::Unhide => api::call("PUT", &format!("tweets/{id}/hidden"), Some(&json!({"hidden": matches!(action, Action::Hide)}))).map(done),
            Action::Follow => api::call("POST", &mine("following"), Some(&json!({"target_user_id": user}))).map(done),
            Action::Unfollow => api::call("DELETE", &mine(&format!("following/{user}")), None).map(done),
            Action::Mute => api::call("POST", &mine("muting"), Some(&json!({"target_user_id": user}))).map(done),
            Action::Unmute => api::call("DELETE", &mine(&format!("muting/{user}")), None).map(done),
            Action::Delete if target.direction == Direction::Outbound => api::call("DELETE", &format!("tweets/{id}"), None).map(done),
            Action::Delete => Err(err::unsupported("X lets an account delete only its own posts; hide a reply or mute its author instead")),
            Action::Block if enterprise() => api::call("POST", &mine("blocking"), Some(&json!({"target_user_id": user}))).map(done),
            Action::Block => Err(err::permanent("X offers blocking only on the Enterprise plan; if yours is, set the channel's plan to enterprise. Mute works on every plan")),
            _ => Err(err::unsupported("X has no such action")),
        }
    }
}

export_channel!(X);
