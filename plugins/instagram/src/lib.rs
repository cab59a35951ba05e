//! Instagram professional account channel (Instagram API with Facebook Login): comments and
//! replies on the account's media (ad comments marked), mentions of the account, and Direct
//! messages including story replies, story mentions and unsends, by Meta's signed webhooks;
//! replies, private replies and moderation through the Graph API.

mod comments;

use helpdesk_plugin_sdk::prelude::*;
use serde_json::json;

struct Instagram;

pub const PLATFORM: &str = "Instagram";

impl Channel for Instagram {
    fn describe() -> ChannelInfo {
        use ActionKind::*;
        let cap = |kind, actions: &[ActionKind], notes: &[&str]| notes.iter().fold(Capability::new(kind, actions), |c, n| c.note(*n));
        let moderation = "Instagram's API cannot like comments or block people";
        ChannelInfo {
            platform: "instagram".into(),
            platform_name: PLATFORM.into(),
            capabilities: vec![
                cap(InteractionKind::Comment, &[Reply, PrivateReply, Hide, Unhide, Delete], &[moderation]),
                cap(InteractionKind::Reply, &[Reply, PrivateReply, Hide, Unhide, Delete], &[moderation, "A reply to a reply is posted under the top-level comment"]),
                cap(InteractionKind::AdComment, &[Reply, PrivateReply, Hide, Unhide, Delete], &[moderation]),
                cap(InteractionKind::Mention, &[Reply], &["A mention lives on someone else's media: it can only be answered"]),
                cap(InteractionKind::PrivateMessage, &[Reply, Like, Unlike, React, MarkRead], &[
                    "Instagram allows free-form replies within 24 hours of the customer's last message (7 days with the HUMAN_AGENT tag)",
                ]),
            ],
            polls: false,
            webhooks: true,
            reply_window_hours: Some(24),
            tagged_reply_window: Some(TaggedWindow { hours: 7 * 24, tag: "HUMAN_AGENT".into() }),
            settings: helpdesk_meta::settings(vec![
                Setting::config("ig_user_id", "Instagram account id").required().help("The Instagram professional account's id"),
                Setting::config("page_id", "Page id").required().help("The Facebook Page the account is linked to (messages go through it)"),
            ]),
            allowed_hosts: helpdesk_meta::allowed_hosts(),
        }
    }

    fn check() -> Result<String, ChannelError> {
        helpdesk_meta::check("ig_user_id", PLATFORM)
    }

    fn handle_webhook(request: HttpRequest) -> Result<WebhookOutcome, ChannelError> {
        let body = match helpdesk_meta::verified_body(&request) {
            Ok(body) => body,
            Err(answer) => return answer,
        };
        let account = require_config("ig_user_id")?;
        let mut events = Vec::new();
        // One app can serve several accounts: only this channel's account's entries are its.
        for entry in body["entry"].as_array().into_iter().flatten().filter(|e| e["id"].as_str().is_none_or(|id| id == account)) {
            let time = helpdesk_meta::time_ms(&entry["time"]);
            for change in entry["changes"].as_array().into_iter().flatten() {
                events.extend(comments::change(&account, change["field"].as_str().unwrap_or("comments"), &change["value"], time));
            }
            let profile = |id: &str| helpdesk_meta::messaging::profile(id, "name,username,profile_pic", "Instagram user", PLATFORM);
            // `standby`: another app holds the conversation (handover protocol); still the customer's words.
            for m in entry["messaging"].as_array().into_iter().chain(entry["standby"].as_array()).flatten() {
                events.extend(helpdesk_meta::messaging::event(&account, m, time, profile));
            }
        }
        // The webhook names only the media: look it up once, for the comments' context (an ad
        // with the name its comments carried).
        let ad_title = |media_id: &str| {
            events.iter().find_map(|e| match e {
                Event::Interaction(i) if i.thread_key == media_id => i.meta.iter().find(|(k, _)| k == "ad_title").map(|(_, v)| v.clone()),
                _ => None,
            })
        };
        let lookup = |media_id: &str| {
            let path = format!("{}?fields={}", helpdesk_plugin_sdk::http::encode(media_id), comments::MEDIA_FIELDS);
            let mut context = comments::media_context(&account, &helpdesk_meta::graph("GET", &path, None, PLATFORM)?);
            if let (Some(c), Some(title)) = (context.as_mut(), ad_title(media_id)) {
                c.title = Some(title);
                c.from_ad = true;
            }
            Ok(context)
        };
        let mut media = helpdesk_meta::contexts_of_comments(&events, lookup);
        // Media first seen through organic comments and now promoted: read again, with the ad's name.
        let mut promoted: Vec<String> = events.iter().filter_map(|e| match e {
            Event::Interaction(i) if i.meta.iter().any(|(k, _)| k == "ad_title") => Some(i.thread_key.clone()),
            _ => None,
        }).collect();
        promoted.dedup();
        for id in promoted {
            let key = format!("ad:{id}");
            let named = media.iter().any(|e| matches!(e, Event::Interaction(i) if i.platform_id == id && i.title.is_some()));
            if !named && !matches!(kv_get(&key), Ok(Some(_))) {
                if let Ok(Some(c)) = lookup(&id) {
                    media.push(Event::Interaction(c));
                }
            }
            let _ = kv_set(&key, b"1");
        }
        events.extend(media);
        Ok(WebhookOutcome::accept(events))
    }

    fn perform(target: Target, action: Action) -> Result<ActionOutcome, ChannelError> {
        let page = require_config("page_id")?;
        if target.kind == InteractionKind::PrivateMessage {
            return helpdesk_meta::messaging::perform(&page, PLATFORM, &target, action);
        }
        let account = require_config("ig_user_id")?;
        let id = &target.platform_id;
        let graph = |method: &str, path: &str, body: Option<serde_json::Value>| helpdesk_meta::graph(method, path, body.as_ref(), PLATFORM);
        let meta = |key: &str| target.meta.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
        let created = match action {
            Action::Reply(r) if target.kind == InteractionKind::Mention => {
                let mut body = json!({"media_id": meta("media_id").unwrap_or_default(), "message": r.text});
                if let Some(c) = meta("comment_id") {
                    body["comment_id"] = json!(c);
                }
                graph("POST", &format!("{account}/mentions"), Some(body))?;
                None
            }
            Action::Reply(r) => {
                // Replies attach to top-level comments.
                let top = meta("top_comment_id").unwrap_or_else(|| id.clone());
                let sent = graph("POST", &format!("{top}/replies"), Some(json!({"message": r.text})))?;
                Some(comments::own_reply(&account, sent["id"].as_str().unwrap_or_default(), &target, &r.text))
            }
            Action::PrivateReply(r) => {
                graph("POST", &format!("{page}/messages"), Some(json!({"recipient": {"comment_id": id}, "message": {"text": r.text}})))?;
                None
            }
            Action::Hide | Action::Unhide => {
                graph("POST", id, Some(json!({"hide": matches!(action, Action::Hide)})))?;
                None
            }
            Action::Delete => {
                graph("DELETE", id, None)?;
                None
            }
            _ => return Err(err::unsupported("Instagram's API has no such action on comments")),
        };
        Ok(ActionOutcome { created })
    }
}

export_channel!(Instagram);
