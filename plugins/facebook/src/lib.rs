//! Facebook Page channel: the Page's feed (comments and replies, comments on ads, visitor posts,
//! mentions, ratings) and its Messenger inbox arrive by Meta's signed webhooks; the feed is also
//! polled with Graph cursors to fill gaps after downtime. Actions go out through the Graph API.

mod ads;
mod feed;
mod poll;

use helpdesk_plugin_sdk::prelude::*;
use serde_json::{json, Value};

struct Facebook;

pub const PLATFORM: &str = "Facebook";

impl Channel for Facebook {
    fn describe() -> ChannelInfo {
        use ActionKind::*;
        let cap = |kind, actions: &[ActionKind], notes: &[&str]| notes.iter().fold(Capability::new(kind, actions), |c, n| c.note(*n));
        let comment_actions = [Reply, PrivateReply, Hide, Unhide, Delete, Like, Unlike, Block];
        let private_reply = "A private reply opens a Messenger conversation: once per comment, within 7 days of it";
        ChannelInfo {
            platform: "facebook".into(),
            platform_name: PLATFORM.into(),
            capabilities: vec![
                cap(InteractionKind::Comment, &comment_actions, &[private_reply]),
                cap(InteractionKind::Reply, &comment_actions, &[private_reply]),
                cap(InteractionKind::AdComment, &comment_actions, &[private_reply, "Comments on ads are moderated like comments on posts"]),
                cap(InteractionKind::Post, &[Reply, PrivateReply, Hide, Unhide, Delete, Like, Unlike, Block], &["Visitor posts on the Page"]),
                cap(InteractionKind::Mention, &[Reply, Like, Unlike], &["A mention lives on someone else's post: it cannot be hidden or deleted"]),
                cap(InteractionKind::Review, &[Reply], &[
                    "Page ratings (recommendations) are deprecated from Graph v22.0 (error 12); they arrive while the Page's Graph version still sends them",
                ]),
                cap(InteractionKind::PrivateMessage, &[Reply, Like, Unlike, React, MarkRead], &[
                    "Messenger allows free-form replies within 24 hours of the customer's last message",
                    "Messenger messages cannot be deleted or hidden by the Page",
                ]),
            ],
            polls: true,
            webhooks: true,
            reply_window_hours: Some(24),
            tagged_reply_window: Some(TaggedWindow { hours: 7 * 24, tag: "HUMAN_AGENT".into() }),
            settings: helpdesk_meta::settings(vec![
                Setting::config("page_id", "Page id").required().help("The numeric id of the Facebook Page"),
                Setting::config("ad_account_id", "Ad account id")
                    .help("Optional: the ad account running the Page's ads (its number, with or without act_); comments on ads then name their ad. The token needs ads_read"),
            ]),
            allowed_hosts: helpdesk_meta::allowed_hosts(),
        }
    }

    fn fetch(cursor: Option<String>) -> Result<Page, ChannelError> {
        poll::fetch(cursor)
    }

    fn check() -> Result<String, ChannelError> {
        helpdesk_meta::check("page_id", PLATFORM)
    }

    fn handle_webhook(request: HttpRequest) -> Result<WebhookOutcome, ChannelError> {
        let body = match helpdesk_meta::verified_body(&request) {
            Ok(body) => body,
            Err(answer) => return answer,
        };
        let page = require_config("page_id")?;
        let mut events = Vec::new();
        // One app can serve several Pages: only this channel's Page's entries are its.
        for entry in body["entry"].as_array().into_iter().flatten().filter(|e| e["id"].as_str().is_none_or(|id| id == page)) {
            let time = helpdesk_meta::time_ms(&entry["time"]);
            for change in entry["changes"].as_array().into_iter().flatten() {
                events.extend(feed::change(&page, change["field"].as_str().unwrap_or("feed"), &change["value"], time));
            }
            let profile = |psid: &str| helpdesk_meta::messaging::profile(psid, "first_name,last_name,profile_pic", "Messenger user", PLATFORM);
            for m in entry["messaging"].as_array().into_iter().flatten() {
                events.extend(helpdesk_meta::messaging::event(&page, m, time, profile));
            }
        }
        // The webhook names only the post: look it up once, for the comments' context.
        let posts = helpdesk_meta::contexts_of_comments(&events, |post_id| {
            let path = format!("{}?fields={}", helpdesk_plugin_sdk::http::encode(post_id), poll::POST_FIELDS);
            Ok(feed::post_context(&page, &helpdesk_meta::graph("GET", &path, None, PLATFORM)?).map(ads::named))
        });
        events.extend(posts);
        Ok(WebhookOutcome::accept(events))
    }

    fn perform(target: Target, action: Action) -> Result<ActionOutcome, ChannelError> {
        let page = require_config("page_id")?;
        if target.kind == InteractionKind::PrivateMessage {
            return helpdesk_meta::messaging::perform(&page, "Messenger", &target, action);
        }
        let id = &target.platform_id;
        let graph = |method: &str, path: &str, body: Option<Value>| helpdesk_meta::graph(method, path, body.as_ref(), PLATFORM);
        let created = match action {
            Action::Reply(r) => {
                let sent = graph("POST", &format!("{id}/comments"), Some(json!({"message": r.text})))?;
                let reply_id = sent["id"].as_str().unwrap_or_default();
                Some(feed::own_comment(&page, reply_id, &target, &r.text))
            }
            Action::PrivateReply(r) => {
                let sent = graph("POST", &format!("{page}/messages"), Some(json!({"recipient": {"comment_id": id}, "message": {"text": r.text}})))?;
                let _ = sent;
                None
            }
            Action::Hide | Action::Unhide => {
                graph("POST", id, Some(json!({"is_hidden": matches!(action, Action::Hide)})))?;
                None
            }
            Action::Delete => {
                graph("DELETE", id, None)?;
                None
            }
            Action::Like => {
                graph("POST", &format!("{id}/likes"), None)?;
                None
            }
            Action::Unlike => {
                graph("DELETE", &format!("{id}/likes"), None)?;
                None
            }
            Action::Block => {
                graph("POST", &format!("{page}/blocked"), Some(json!({"user": [target.author_id]})))?;
                None
            }
            _ => return Err(err::unsupported("the Graph API has no such action on Page comments")),
        };
        Ok(ActionOutcome { created })
    }
}

export_channel!(Facebook);
