//! YouTube channel: the comments and replies on the channel's videos, each its own ticket with
//! the video as context, polled by `commentThreads.list` for every moderation status (held and
//! likely-spam comments come in marked as such, and `publish` releases them). Every call is
//! counted against the daily quota (`quota`); answers and moderation go through the Data API.
//! The API has no way to like a comment.

mod comments;
mod quota;

use helpdesk_plugin_sdk::prelude::*;
use serde_json::json;

struct YouTube;

pub const PLATFORM: &str = "YouTube";
pub const DEFAULT_API_URL: &str = "https://www.googleapis.com/youtube/v3";

impl Channel for YouTube {
    fn describe() -> ChannelInfo {
        use ActionKind::*;
        let actions = [Reply, Hide, Unhide, Publish, Reject, Block, Delete];
        let cap = |kind| {
            Capability::new(kind, &actions)
                .only_on(Delete, Direction::Outbound)
                .action_note(Hide, "Holds the comment for review: only its author sees it")
                .action_note(Reject, "Removes the comment and its replies from the video")
                .action_note(Block, "Rejects the comment and bans its author from the channel's comments")
                .action_note(Delete, "Only the channel's own comments can be deleted; a customer's can be rejected")
                .note("The YouTube Data API cannot like comments")
                .note("Each answer or moderation costs 50 of the channel's 10,000 daily quota units")
                .max_reply_chars(10_000)
        };
        let mut settings = vec![
            Setting::config("channel_id", "Channel id").required().help("The UC… id of the YouTube channel whose videos' comments come in"),
            Setting::config("daily_quota", "Daily quota").default_value(quota::DEFAULT_DAILY.to_string()).help(
                "The Google Cloud project's daily YouTube Data API units; polling is spread so they last the day",
            ),
            Setting::config("poll_seconds", "Shortest poll interval").default_value("30").help("Seconds; polling is slower when the quota left asks for it"),
            Setting::config("api_url", "Data API URL").default_value(DEFAULT_API_URL),
        ];
        settings.extend(helpdesk_google::settings());
        ChannelInfo {
            platform: "youtube".into(),
            platform_name: PLATFORM.into(),
            capabilities: vec![cap(InteractionKind::Comment), cap(InteractionKind::Reply)],
            polls: true,
            webhooks: false,
            reply_window_hours: None,
            tagged_reply_window: None,
            settings,
            allowed_hosts: vec![
                "https://www.googleapis.com".into(),
                "https://oauth2.googleapis.com".into(),
                "https://i.ytimg.com".into(),
                "https://yt3.ggpht.com".into(),
            ],
        }
    }

    fn check() -> Result<String, ChannelError> {
        let id = require_config("channel_id")?;
        let v = comments::get(&format!("channels?part=snippet&id={}", helpdesk_plugin_sdk::http::encode(&id)), 1)?;
        let title = v["items"][0]["snippet"]["title"].as_str().ok_or_else(|| err::invalid_config(format!("YouTube has no channel `{id}`")))?;
        Ok(format!("channel {title} ({} of {} quota units used today)", quota::used(), quota::limit()))
    }

    fn fetch(cursor: Option<String>) -> Result<Page, ChannelError> {
        comments::poll(cursor)
    }

    fn perform(target: Target, action: Action) -> Result<ActionOutcome, ChannelError> {
        let id = target.platform_id.clone();
        let status = |s: &str, ban: bool| {
            let ban = if ban { "&banAuthor=true" } else { "" };
            comments::write("POST", &format!("comments/setModerationStatus?id={}&moderationStatus={s}{ban}", helpdesk_plugin_sdk::http::encode(&id)), None)
        };
        match action {
            Action::Reply(r) => {
                // Replies all hang from the thread's top-level comment.
                let top = target.meta.iter().find(|(k, _)| k == "top").map(|(_, v)| v.clone()).unwrap_or_else(|| id.clone());
                let body = json!({"snippet": {"parentId": top, "textOriginal": r.text}});
                let created = comments::write("POST", "comments?part=snippet", Some(&body))?;
                let video = target.thread_key.clone();
                let mut reply = comments::interaction(&created.unwrap_or_default(), &video, Some(&top), None);
                if let Some(reply) = reply.as_mut() {
                    // Filed with the comment answered, whichever it was.
                    reply.parent_id = Some(id);
                    if reply.text.is_empty() {
                        reply.text = r.text;
                    }
                }
                Ok(ActionOutcome { created: reply })
            }
            Action::Hide => status("heldForReview", false).map(|_| ActionOutcome { created: None }),
            Action::Unhide | Action::Publish => status("published", false).map(|_| ActionOutcome { created: None }),
            Action::Reject => status("rejected", false).map(|_| ActionOutcome { created: None }),
            Action::Block => status("rejected", true).map(|_| ActionOutcome { created: None }),
            Action::Delete if target.direction == Direction::Outbound => {
                comments::write("DELETE", &format!("comments?id={}", helpdesk_plugin_sdk::http::encode(&id)), None)?;
                Ok(ActionOutcome { created: None })
            }
            Action::Delete => Err(err::unsupported("YouTube lets a channel delete only its own comments; reject a customer's instead")),
            Action::Like | Action::Unlike => Err(err::unsupported("the YouTube Data API has no way to like a comment")),
            _ => Err(err::unsupported("YouTube has no such action on comments")),
        }
    }
}

export_channel!(YouTube);
