//! LINE channel (Messaging API): webhooks signed `X-Line-Signature` (base64 HMAC-SHA256 of the
//! body with the channel secret). A user's messages are one private conversation, a group's or
//! room's one group conversation; follow and unfollow are recorded on the contact; unsent
//! messages are removed. Answers use the reply token of the newest message while it is valid
//! (free) and the push API after (counted against the plan's monthly messages, shown as the
//! channel's quota). Profiles are looked up once and kept.

use base64::Engine;
use helpdesk_plugin_sdk::prelude::*;
use helpdesk_plugin_sdk::time;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

struct Line;

pub const PLATFORM: &str = "LINE";
const DEFAULT_BASE_URL: &str = "https://api.line.me";
const DEFAULT_DATA_URL: &str = "https://api-data.line.me";
/// LINE's reply tokens are valid for about a minute; past this, push.
const REPLY_TOKEN_MS: i64 = 50_000;
/// How long a looked-up profile is kept before it is looked up again.
const PROFILE_DAYS: i64 = 7;
/// The quota is read this often (LINE counts push messages per month).
const QUOTA_EVERY_MS: u32 = 15 * 60 * 1000;

fn base() -> String {
    config_or("base_url", DEFAULT_BASE_URL).trim_end_matches('/').to_string()
}

/// A Messaging API call; LINE's errors are `{"message": "...", "details": [...]}`.
fn call(method: &str, path: &str, body: Option<&Value>) -> Result<Value, ChannelError> {
    let mut req = Request::new(method, format!("{}{path}", base())).bearer(&require_secret("channel_access_token")?);
    if let Some(b) = body {
        req = req.json(b);
    }
    let resp = req.send()?;
    if resp.is_success() {
        return Ok(if resp.body.is_empty() { json!({}) } else { resp.json()? });
    }
    let v: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
    let mut words = v["message"].as_str().unwrap_or("no message").to_string();
    if let Some(d) = v["details"].as_array().and_then(|d| d.first()) {
        words = format!("{words}: {} {}", d["property"].as_str().unwrap_or(""), d["message"].as_str().unwrap_or("")).trim_end().to_string();
    }
    Err(match resp.status {
        401 => err::unauthorized(format!("LINE refused the channel access token ({words})")),
        429 if words.contains("monthly limit") => err::permanent(format!("the plan's monthly messages are used up: LINE sends no more pushes this month ({words})")),
        429 => err::rate_limited(60_000, format!("LINE is throttling the channel ({words})")),
        s if s >= 500 => err::transient(format!("LINE answered HTTP {s} ({words})")),
        s => err::permanent(format!("LINE refused the request (HTTP {s}: {words})")),
    })
}

fn verified(secret: &str, request: &HttpRequest) -> bool {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(&request.body);
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let given = request.header("x-line-signature").unwrap_or_default().trim();
    helpdesk_plugin_sdk::constant_time_eq(given.as_bytes(), expected.as_bytes())
}

/// The person, as their profile shows them: looked up once and kept for a week. A profile LINE
/// will not give (the user blocked us, a group member who is not a friend) leaves the id.
fn person(user_id: &str, group: Option<&str>) -> Author {
    let key = format!("profile:{user_id}");
    let now = time::now_ms();
    if let Some(v) = kv_get(&key).ok().flatten().and_then(|b| serde_json::from_slice::<Value>(&b).ok()) {
        if v["at"].as_i64().is_some_and(|at| now - at < PROFILE_DAYS * 86_400_000) {
            return profile_author(user_id, &v);
        }
    }
    let path = match group {
        Some(g) => format!("/v2/bot/group/{g}/member/{user_id}"),
        None => format!("/v2/bot/profile/{user_id}"),
    };
    match call("GET", &path, None) {
        Ok(mut v) => {
            v["at"] = json!(now);
            let _ = kv_set(&key, v.to_string().as_bytes());
            profile_author(user_id, &v)
        }
        Err(e) => {
            log(Level::Info, &format!("no LINE profile for {user_id}: {e:?}"));
            Author::new(user_id, "LINE user")
        }
    }
}

fn profile_author(user_id: &str, v: &Value) -> Author {
    Author { avatar_url: v["pictureUrl"].as_str().map(str::to_string), ..Author::new(user_id, v["displayName"].as_str().unwrap_or("LINE user")) }
}

/// Where an event happened: the conversation's key and kind.
fn conversation(source: &Value) -> (String, InteractionKind, Option<String>) {
    match source["type"].as_str() {
        Some("group") => (source["groupId"].as_str().unwrap_or_default().to_string(), InteractionKind::GroupMessage, source["groupId"].as_str().map(str::to_string)),
        Some("room") => (source["roomId"].as_str().unwrap_or_default().to_string(), InteractionKind::GroupMessage, None),
        _ => (source["userId"].as_str().unwrap_or_default().to_string(), InteractionKind::PrivateMessage, None),
    }
}

fn media(kind: AttachmentKind, m: &Value) -> Attachment {
    let external = m["contentProvider"]["type"].as_str() == Some("external");
    Attachment {
        kind,
        platform_id: m["id"].as_str().map(str::to_string),
        url: if external { m["contentProvider"]["originalContentUrl"].as_str().map(str::to_string) } else { None },
        mime_type: None,
        name: m["fileName"].as_str().map(str::to_string),
        size: m["fileSize"].as_u64(),
    }
}

fn message(e: &Value) -> Option<Interaction> {
    let m = &e["message"];
    let id = m["id"].as_str()?.to_string();
    let (thread, kind, group) = conversation(&e["source"]);
    let user = e["source"]["userId"].as_str().unwrap_or(&thread).to_string();
    let who = person(&user, group.as_deref());
    let (text, attachments) = match m["type"].as_str().unwrap_or("") {
        "text" => (m["text"].as_str().unwrap_or_default().to_string(), Vec::new()),
        "image" => (String::new(), vec![media(AttachmentKind::Image, m)]),
        "video" => (String::new(), vec![media(AttachmentKind::Video, m)]),
        "audio" => (String::new(), vec![media(AttachmentKind::Audio, m)]),
        "file" => (String::new(), vec![media(AttachmentKind::File, m)]),
        "sticker" => {
            let sticker = m["stickerId"].as_str().unwrap_or_default();
            let url = format!("https://stickershop.line-scdn.net/stickershop/v1/sticker/{sticker}/android/sticker.png");
            let words = m["keywords"].as_array().and_then(|k| k.first()).and_then(Value::as_str).map(|k| format!("[sticker: {k}]")).unwrap_or_default();
            (words, vec![Attachment { kind: AttachmentKind::Sticker, platform_id: Some(sticker.to_string()), url: Some(url), mime_type: Some("image/png".into()), name: None, size: None }])
        }
        "location" => {
            let (lat, lon) = (m["latitude"].as_f64().unwrap_or(0.0), m["longitude"].as_f64().unwrap_or(0.0));
            let words = [m["title"].as_str(), m["address"].as_str()].into_iter().flatten().collect::<Vec<_>>().join(", ");
            let map = format!("https://www.openstreetmap.org/?mlat={lat}&mlon={lon}");
            (words, vec![Attachment { kind: AttachmentKind::Location, platform_id: None, url: Some(map), mime_type: None, name: m["title"].as_str().map(str::to_string), size: None }])
        }
        other => (format!("[{other}]"), Vec::new()),
    };
    let mut i = Interaction::new(id, kind, Direction::Inbound, thread, who, text, e["timestamp"].as_i64());
    i.attachments = attachments;
    i.parent_id = m["quotedMessageId"].as_str().map(str::to_string);
    Some(i)
}

/// Keep the newest message's reply token for the conversation (usable once, for about a minute).
fn keep_reply_token(e: &Value) {
    let (Some(token), Some(at)) = (e["replyToken"].as_str(), e["timestamp"].as_i64()) else { return };
    let (thread, _, _) = conversation(&e["source"]);
    let key = format!("reply:{thread}");
    let newer = kv_get(&key).ok().flatten().and_then(|b| serde_json::from_slice::<Value>(&b).ok()).is_none_or(|v| v["at"].as_i64().unwrap_or(0) < at);
    if newer {
        let _ = kv_set(&key, json!({"token": token, "at": at}).to_string().as_bytes());
    }
}

/// A reply token for `thread` that is still valid, taken (each is good for one answer).
fn take_reply_token(thread: &str) -> Option<String> {
    let key = format!("reply:{thread}");
    let v: Value = serde_json::from_slice(&kv_get(&key).ok().flatten()?).ok()?;
    kv_delete(&key);
    (time::now_ms() - v["at"].as_i64()? < REPLY_TOKEN_MS).then(|| v["token"].as_str().map(str::to_string)).flatten()
}

fn reply_token_age(thread: &str) -> Option<i64> {
    let v: Value = serde_json::from_slice(&kv_get(&format!("reply:{thread}")).ok().flatten()?).ok()?;
    Some(time::now_ms() - v["at"].as_i64()?).filter(|age| *age < REPLY_TOKEN_MS)
}

fn sent_id(v: &Value) -> Option<String> {
    v["sentMessages"][0]["id"].as_str().map(str::to_string)
}

impl Channel for Line {
    fn describe() -> ChannelInfo {
        ChannelInfo {
            platform: "line".into(),
            platform_name: PLATFORM.into(),
            capabilities: vec![
                Capability::new(InteractionKind::PrivateMessage, &[ActionKind::Reply])
                    .note("An answer within a minute of the customer's message is free (LINE's reply token); later ones are push messages, counted against the plan's monthly messages")
                    .note("LINE has no way to hide, like, delete or block from the Messaging API")
                    .max_reply_chars(5000),
                Capability::new(InteractionKind::GroupMessage, &[ActionKind::Reply]).max_reply_chars(5000),
            ],
            polls: true,
            webhooks: true,
            reply_window_hours: None,
            tagged_reply_window: None,
            settings: vec![
                Setting::secret("channel_secret", "Channel secret").required().help("Signs LINE's webhooks (LINE Developers console, Basic settings)"),
                Setting::secret("channel_access_token", "Channel access token").required().help("A long-lived token (Messaging API tab)"),
                Setting::config("base_url", "API URL").default_value(DEFAULT_BASE_URL),
                Setting::config("data_url", "Content API URL").default_value(DEFAULT_DATA_URL),
            ],
            allowed_hosts: vec!["https://api.line.me".into(), "https://api-data.line.me".into(), "https://*.line-scdn.net".into()],
        }
    }

    fn check() -> Result<String, ChannelError> {
        let info = call("GET", "/v2/bot/info", None)?;
        Ok(format!("LINE Official Account {} ({})", info["displayName"].as_str().unwrap_or("?"), info["basicId"].as_str().unwrap_or("?")))
    }

    /// No events (webhooks bring them): the monthly message quota, for the channel's health.
    fn fetch(_cursor: Option<String>) -> Result<Page, ChannelError> {
        let limit = call("GET", "/v2/bot/message/quota", None)?;
        let used = call("GET", "/v2/bot/message/quota/consumption", None)?;
        let quota = (limit["type"].as_str() == Some("limited")).then(|| Quota {
            unit: "push messages this month".into(),
            used: used["totalUsage"].as_u64().unwrap_or(0),
            limit: limit["value"].as_u64().unwrap_or(0),
            resets_at: None,
        });
        Ok(Page { events: Vec::new(), next_cursor: None, poll_after_ms: QUOTA_EVERY_MS, quota, notice: None })
    }

    fn handle_webhook(request: HttpRequest) -> Result<WebhookOutcome, ChannelError> {
        if !verified(&require_secret("channel_secret")?, &request) {
            return Ok(WebhookOutcome::reject(401, "missing or wrong X-Line-Signature"));
        }
        let body: Value = serde_json::from_slice(&request.body).map_err(|e| err::permanent(format!("a delivery that is not JSON: {e}")))?;
        let mut events = Vec::new();
        // The console's "Verify" sends no events: 200 is the answer.
        for e in body["events"].as_array().into_iter().flatten() {
            let at = e["timestamp"].as_i64().unwrap_or_else(time::now_ms);
            let user = || {
                let id = e["source"]["userId"].as_str().unwrap_or_default();
                person(id, None)
            };
            match e["type"].as_str().unwrap_or_default() {
                "message" => {
                    keep_reply_token(e);
                    events.extend(message(e).map(Event::Interaction));
                }
                // Following again is unblocking: answers reach them again.
                "follow" => events.push(Event::Contact(ContactEvent { author: user(), status: ContactStatus::UnblockedUs, at })),
                // An unfollowing user blocked the account: no profile to read any more.
                "unfollow" => {
                    let id = e["source"]["userId"].as_str().unwrap_or_default();
                    events.push(Event::Contact(ContactEvent { author: Author::new(id, "LINE user"), status: ContactStatus::BlockedUs, at }));
                }
                "unsend" => events.extend(e["unsend"]["messageId"].as_str().map(|id| Event::Removed(id.to_string()))),
                // join, leave, postback, beacon, memberJoined…: nothing an agent answers.
                _ => {}
            }
        }
        Ok(WebhookOutcome::accept(events))
    }

    fn perform(target: Target, action: Action) -> Result<ActionOutcome, ChannelError> {
        let Action::Reply(r) = action else { return Err(err::unsupported("LINE chats can only be answered")) };
        let messages = json!([{"type": "text", "text": r.text}]);
        let sent = match take_reply_token(&target.thread_key) {
            Some(token) => match call("POST", "/v2/bot/message/reply", Some(&json!({"replyToken": token, "messages": messages}))) {
                Ok(v) => v,
                // Expired or used after all: the answer goes as a push.
                Err(ChannelError::Permanent(m)) if m.contains("reply token") => push(&target.thread_key, &messages)?,
                Err(e) => return Err(e),
            },
            None => push(&target.thread_key, &messages)?,
        };
        let id = sent_id(&sent).unwrap_or_else(|| format!("sent-{}", time::now_ms()));
        let kind = if target.kind == InteractionKind::GroupMessage { InteractionKind::GroupMessage } else { InteractionKind::PrivateMessage };
        let i = Interaction::new(id, kind, Direction::Outbound, target.thread_key.clone(), Author::new("brand", "Us"), r.text, None);
        Ok(ActionOutcome { created: Some(i) })
    }

    /// LINE's own files come from the content API, with the token; others from their URL.
    fn media(_target: Target, attachment: Attachment) -> Result<HttpRequest, ChannelError> {
        if let Some(url) = attachment.url.filter(|u| u.starts_with("https://") || u.starts_with("http://")) {
            return Ok(Request::get(url).unsent());
        }
        let id = attachment.platform_id.ok_or_else(|| err::unsupported("this attachment has no LINE message id"))?;
        let url = format!("{}/v2/bot/message/{id}/content", config_or("data_url", DEFAULT_DATA_URL).trim_end_matches('/'));
        Ok(Request::get(url).bearer(&require_secret("channel_access_token")?).unsent())
    }

    fn reply_note(target: Target, _text: String) -> Option<String> {
        Some(match reply_token_age(&target.thread_key) {
            Some(age) => format!("Free answer: LINE's reply token is valid for about {} s more", (REPLY_TOKEN_MS - age) / 1000),
            None => "Sent as a push message: it counts against the plan's monthly messages".into(),
        })
    }
}

fn push(to: &str, messages: &Value) -> Result<Value, ChannelError> {
    call("POST", "/v2/bot/message/push", Some(&json!({"to": to, "messages": messages})))
}

export_channel!(Line);
