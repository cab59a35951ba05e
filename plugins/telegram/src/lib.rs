//! Telegram Bot API channel: long-polls `getUpdates` or receives webhooks, and replies,
//! reacts, deletes and bans through the Bot API.

mod api;
mod update;

use helpdesk_plugin_sdk::prelude::*;
use serde_json::json;

struct Telegram;

const PRIVATE_NOTE: &str = "Telegram bots cannot block users in private chats (the user can block the bot)";
/// The Bot API takes photos of up to 10 MB (other uploads up to 50 MB, past the host's limit).
const MAX_UPLOAD: u64 = 10_000_000;
/// The longest caption under a file; a longer text goes as a message of its own first.
const MAX_CAPTION: usize = 1024;

impl Channel for Telegram {
    fn describe() -> ChannelInfo {
        use ActionKind::*;
        let cap = |kind, actions: &[ActionKind]| Capability::new(kind, actions).max_reply_chars(4096);
        ChannelInfo {
            platform: "telegram".into(),
            platform_name: "Telegram".into(),
            capabilities: vec![
                cap(InteractionKind::PrivateMessage, &[Reply, Like, Unlike, React, Delete])
                    .note(PRIVATE_NOTE)
                    .action_note(Delete, "Messages can be deleted for 48 hours after they were sent"),
                cap(InteractionKind::GroupMessage, &[Reply, Like, Unlike, React, Delete, Block])
                    .action_note(Delete, "The bot must be an admin of the group")
                    .action_note(Block, "The bot must be an admin of the group"),
                cap(InteractionKind::Post, &[Reply, Like, Unlike, React, Delete])
                    .note("Channel posts are answered in the channel; the bot must be an admin"),
            ],
            polls: true,
            webhooks: true,
            reply_window_hours: None,
            tagged_reply_window: None,
            settings: vec![
                Setting::secret("bot_token", "Bot token").help("From @BotFather: /newbot, or /token for an existing bot"),
                Setting::secret("webhook_secret", "Webhook secret")
                    .optional()
                    .help("Only for webhooks: the secret_token given to setWebhook, checked on every delivery"),
                Setting::config("base_url", "Bot API URL").default_value("https://api.telegram.org").help("A local Bot API server, if you run one"),
                Setting::config("long_poll_seconds", "Long poll seconds").default_value("25"),
            ],
            allowed_hosts: vec!["https://api.telegram.org".into()],
        }
    }

    fn file_capabilities() -> Vec<FileCapability> {
        use AttachmentKind::*;
        [InteractionKind::PrivateMessage, InteractionKind::GroupMessage, InteractionKind::Post]
            .into_iter()
            .map(|kind| {
                FileCapability::new(kind, &[Image, Video, Audio, File], MAX_UPLOAD, 10)
                    .note("Pictures go as photos (Telegram compresses them), other files as documents; each file is a message of its own")
            })
            .collect()
    }

    /// Each file is a message of its own (`sendPhoto`, `sendVideo`, `sendAudio`, `sendDocument`),
    /// the text the first one's caption (or a message before them, past 1024 characters).
    fn send_files(target: Target, reply: Reply, private: bool, files: Vec<OutgoingFile>) -> Result<ActionOutcome, ChannelError> {
        if private {
            return Err(err::unsupported("Telegram bots answer in the chat itself; there is no private reply"));
        }
        let (chat_id, message_id) = update::split_id(&target.platform_id)
            .ok_or_else(|| err::permanent(format!("`{}` is not a Telegram message id", target.platform_id)))?;
        let reply_to = json!({"message_id": message_id, "allow_sending_without_reply": true}).to_string();
        let mut caption = Some(reply.text.clone()).filter(|t| !t.is_empty());
        let mut sent: Vec<serde_json::Value> = Vec::new();
        if caption.as_ref().is_some_and(|t| t.chars().count() > MAX_CAPTION) {
            let text = caption.take().unwrap_or_default();
            sent.push(api::call("sendMessage", &json!({"chat_id": chat_id, "text": text, "reply_parameters": {"message_id": message_id, "allow_sending_without_reply": true}}))?);
        }
        for f in files {
            let (method, field) = match f.kind {
                AttachmentKind::Image => ("sendPhoto", "photo"),
                AttachmentKind::Video => ("sendVideo", "video"),
                AttachmentKind::Audio => ("sendAudio", "audio"),
                _ => ("sendDocument", "document"),
            };
            let mut form = Multipart::new().text("chat_id", chat_id.to_string()).text("reply_parameters", reply_to.clone());
            if let Some(text) = caption.take() {
                form = form.text("caption", text);
            }
            sent.push(api::call_multipart(method, form.file(field, &f.name, &f.mime_type, f.bytes))?);
        }
        // One message in the ticket: the first sent, with every file and the whole text.
        let created = sent.first().and_then(|first| update::interaction(first, None, Direction::Outbound)).map(|i| Interaction {
            text: reply.text.clone(),
            attachments: sent.iter().filter_map(|m| update::interaction(m, None, Direction::Outbound)).flat_map(|m| m.attachments).collect(),
            ..i
        });
        Ok(ActionOutcome { created })
    }

    fn check() -> Result<String, ChannelError> {
        let me: serde_json::Value = api::call("getMe", &json!({}))?;
        let name = me["username"].as_str().map(|u| format!("@{u}")).unwrap_or_else(|| me["first_name"].as_str().unwrap_or("?").to_string());
        Ok(format!("bot {name}"))
    }

    fn fetch(cursor: Option<String>) -> Result<Page, ChannelError> {
        let offset: Option<i64> = match cursor.as_deref() {
            Some(c) => Some(c.parse().map_err(|_| err::permanent(format!("bad cursor `{c}`")))?),
            None => None,
        };
        let long_poll: u32 = config_or("long_poll_seconds", "25")
            .parse()
            .map_err(|_| err::invalid_config("long_poll_seconds must be a whole number of seconds"))?;
        let mut params = json!({ "timeout": long_poll, "limit": 100 });
        if let Some(offset) = offset {
            params["offset"] = json!(offset);
        }
        let updates: Vec<serde_json::Value> =
            api::call_with_timeout("getUpdates", &params, (long_poll + 10) * 1000)?;
        let next = updates.iter().filter_map(|u| u["update_id"].as_i64()).max().map(|id| (id + 1).to_string());
        let events = updates.iter().flat_map(update::events).collect();
        Ok(Page { events, next_cursor: next, poll_after_ms: if long_poll == 0 { 1000 } else { 0 }, quota: None, notice: None })
    }

    fn handle_webhook(request: HttpRequest) -> Result<WebhookOutcome, ChannelError> {
        let expected = require_secret("webhook_secret")?;
        match request.header("x-telegram-bot-api-secret-token") {
            Some(given) if helpdesk_plugin_sdk::constant_time_eq(given.as_bytes(), expected.as_bytes()) => {}
            _ => return Ok(WebhookOutcome::reject(401, "wrong or missing X-Telegram-Bot-Api-Secret-Token")),
        }
        let Ok(update) = serde_json::from_slice::<serde_json::Value>(&request.body) else {
            return Ok(WebhookOutcome::reject(400, "the body is not a Telegram Update"));
        };
        Ok(WebhookOutcome::accept(update::events(&update)))
    }

    /// Files are fetched by `file_id`: `getFile` gives a path under `/file/bot<token>/`.
    fn media(_target: Target, attachment: Attachment) -> Result<HttpRequest, ChannelError> {
        let Some(file_id) = attachment.platform_id else {
            return Err(err::unsupported("this attachment has no Telegram file id"));
        };
        let file: serde_json::Value = api::call("getFile", &json!({ "file_id": file_id }))?;
        let path = file["file_path"].as_str().ok_or_else(|| err::permanent("Telegram gave no path for this file (larger than 20 MB?)"))?;
        Ok(Request::get(api::file_url(path)?).unsent())
    }

    fn perform(target: Target, action: Action) -> Result<ActionOutcome, ChannelError> {
        let (chat_id, message_id) = update::split_id(&target.platform_id)
            .ok_or_else(|| err::permanent(format!("`{}` is not a Telegram message id", target.platform_id)))?;
        let react = |emoji: Option<&str>| {
            let reaction: Vec<_> = emoji.map(|e| json!({"type": "emoji", "emoji": e})).into_iter().collect();
            api::call::<serde_json::Value>(
                "setMessageReaction",
                &json!({"chat_id": chat_id, "message_id": message_id, "reaction": reaction}),
            )
        };
        let created = match action {
            Action::Reply(reply) => {
                let sent: serde_json::Value = api::call("sendMessage", &json!({
                    "chat_id": chat_id,
                    "text": reply.text,
                    "reply_parameters": {"message_id": message_id, "allow_sending_without_reply": true},
                }))?;
                update::interaction(&sent, None, Direction::Outbound)
            }
            Action::Like => react(Some("👍")).map(|_| None)?,
            Action::React(emoji) => react(Some(&emoji)).map(|_| None)?,
            Action::Unlike => react(None).map(|_| None)?,
            Action::Delete => {
                api::call::<serde_json::Value>("deleteMessage", &json!({"chat_id": chat_id, "message_id": message_id}))?;
                None
            }
            Action::Block if target.kind == InteractionKind::GroupMessage => {
                let user_id: i64 = target.author_id.parse().map_err(|_| err::permanent("the author is a chat, not a user"))?;
                api::call::<serde_json::Value>("banChatMember", &json!({"chat_id": chat_id, "user_id": user_id}))?;
                None
            }
            Action::Block => return Err(err::unsupported(PRIVATE_NOTE)),
            _ => return Err(err::unsupported("Telegram's Bot API has no such action")),
        };
        Ok(ActionOutcome { created })
    }
}

export_channel!(Telegram);
