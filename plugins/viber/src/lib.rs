//! Viber channel (REST Bot API): webhooks only, each signed `X-Viber-Content-Signature` (hex
//! HMAC-SHA256 of the raw body with the bot's token). Messages of every type are a private
//! conversation per user; subscribe and unsubscribe are recorded on the contact; delivered,
//! seen and failed are delivery reports. Answers go with `send_message`. Every answer is HTTP
//! 200 with a `status`: 0 is ok, the others are mapped (12 throttled, 2 a refused token, 6 a user
//! who is not subscribed).

use helpdesk_plugin_sdk::prelude::*;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

struct Viber;

pub const PLATFORM: &str = "Viber";
const DEFAULT_BASE_URL: &str = "https://chatapi.viber.com/pa";
const MAX_SENDER_NAME: usize = 28;

fn call(endpoint: &str, body: &Value) -> Result<Value, ChannelError> {
    let url = format!("{}/{endpoint}", config_or("base_url", DEFAULT_BASE_URL).trim_end_matches('/'));
    let resp = Request::post(url).header("X-Viber-Auth-Token", &require_secret("auth_token")?).json(body).send()?;
    if resp.status >= 500 {
        return Err(err::transient(format!("Viber answered HTTP {}", resp.status)));
    }
    let v: Value = resp.json()?;
    let words = v["status_message"].as_str().unwrap_or("").to_string();
    match v["status"].as_i64().unwrap_or(-1) {
        0 => Ok(v),
        2 => Err(err::unauthorized(format!("Viber refused the bot's token ({words})"))),
        12 => Err(err::rate_limited(60_000, format!("Viber is throttling the bot (status 12, {words})"))),
        5 | 6 => Err(err::permanent(format!("the user has not subscribed to the bot or left it, so Viber will not deliver to them ({words})"))),
        7 | 8 | 9 | 15 => Err(err::unauthorized(format!("Viber says the bot account cannot be used ({words})"))),
        code => Err(err::permanent(format!("Viber refused the request (status {code}: {words})"))),
    }
}

fn sender(u: &Value) -> Author {
    let id = u["id"].as_str().unwrap_or_default();
    Author { avatar_url: u["avatar"].as_str().map(str::to_string), ..Author::new(id, u["name"].as_str().unwrap_or("Viber user")) }
}

fn attachment(kind: AttachmentKind, m: &Value) -> Attachment {
    Attachment {
        kind,
        platform_id: None,
        url: m["media"].as_str().map(str::to_string),
        mime_type: None,
        name: m["file_name"].as_str().map(str::to_string),
        size: m["size"].as_u64(),
    }
}

/// A `message` event as the user's interaction in their conversation.
fn message(e: &Value) -> Option<Interaction> {
    let token = e["message_token"].as_u64().map(|t| t.to_string()).or_else(|| e["message_token"].as_str().map(str::to_string))?;
    let who = sender(&e["sender"]);
    let m = &e["message"];
    let (text, attachments) = match m["type"].as_str().unwrap_or("text") {
        "text" => (m["text"].as_str().unwrap_or_default().to_string(), Vec::new()),
        "picture" => (m["text"].as_str().unwrap_or_default().to_string(), vec![attachment(AttachmentKind::Image, m)]),
        "video" => (m["text"].as_str().unwrap_or_default().to_string(), vec![attachment(AttachmentKind::Video, m)]),
        "file" => (String::new(), vec![attachment(AttachmentKind::File, m)]),
        "sticker" => (String::new(), vec![attachment(AttachmentKind::Sticker, m)]),
        "location" => {
            let (lat, lon) = (m["location"]["lat"].as_f64().unwrap_or(0.0), m["location"]["lon"].as_f64().unwrap_or(0.0));
            let map = format!("https://www.openstreetmap.org/?mlat={lat}&mlon={lon}");
            (String::new(), vec![Attachment { kind: AttachmentKind::Location, platform_id: None, url: Some(map), mime_type: None, name: None, size: None }])
        }
        "contact" => (format!("Contact: {} {}", m["contact"]["name"].as_str().unwrap_or(""), m["contact"]["phone_number"].as_str().unwrap_or("")).trim().to_string(), Vec::new()),
        "url" => (m["media"].as_str().unwrap_or_default().to_string(), Vec::new()),
        other => (format!("[{other}]"), Vec::new()),
    };
    let mut i = Interaction::new(token, InteractionKind::PrivateMessage, Direction::Inbound, who.id.clone(), who, text, e["timestamp"].as_i64());
    i.attachments = attachments;
    Some(i)
}

impl Channel for Viber {
    fn describe() -> ChannelInfo {
        ChannelInfo {
            platform: "viber".into(),
            platform_name: PLATFORM.into(),
            capabilities: vec![Capability::new(InteractionKind::PrivateMessage, &[ActionKind::Reply])
                .note("Viber delivers only to users who subscribed to the bot or have an open conversation with it")
                .note("Viber has no way to hide, like, delete or block")
                .max_reply_chars(7000)],
            polls: false,
            webhooks: true,
            reply_window_hours: None,
            tagged_reply_window: None,
            settings: vec![
                Setting::secret("auth_token", "Bot token").help("The token of the Viber bot (Viber's partner portal)"),
                Setting::config("sender_name", "Sender name").default_value("Support").help("Shown to users above each answer, 28 characters at most"),
                Setting::config("webhook_url", "Webhook URL").help(
                    "https://<your host>/webhooks/<channel>: the connection test registers it with Viber (set_webhook)",
                ),
                Setting::config("base_url", "API URL").default_value(DEFAULT_BASE_URL),
            ],
            allowed_hosts: vec!["https://chatapi.viber.com".into(), "https://*.viber.com".into()],
        }
    }

    /// The account, and (when `webhook_url` is set) the webhook registered there.
    fn check() -> Result<String, ChannelError> {
        let info = call("get_account_info", &json!({}))?;
        let name = info["name"].as_str().unwrap_or("the bot").to_string();
        let Some(url) = config("webhook_url").filter(|u| !u.is_empty()) else { return Ok(format!("Viber bot {name}")) };
        let events = ["delivered", "seen", "failed", "subscribed", "unsubscribed", "conversation_started"];
        call("set_webhook", &json!({"url": url, "event_types": events, "send_name": true, "send_photo": true}))?;
        Ok(format!("Viber bot {name}; webhook registered at {url}"))
    }

    fn handle_webhook(request: HttpRequest) -> Result<WebhookOutcome, ChannelError> {
        let token = require_secret("auth_token")?;
        let mut mac = Hmac::<Sha256>::new_from_slice(token.as_bytes()).expect("any key length");
        mac.update(&request.body);
        let expected = hex::encode(mac.finalize().into_bytes());
        let given = request.header("x-viber-content-signature").unwrap_or_default().to_ascii_lowercase();
        if !helpdesk_plugin_sdk::constant_time_eq(given.as_bytes(), expected.as_bytes()) {
            return Ok(WebhookOutcome::reject(401, "missing or wrong X-Viber-Content-Signature"));
        }
        let e: Value = serde_json::from_slice(&request.body).map_err(|err| err::permanent(format!("a delivery that is not JSON: {err}")))?;
        let at = e["timestamp"].as_i64().unwrap_or_else(helpdesk_plugin_sdk::time::now_ms);
        let user = |v: &Value| sender(v);
        let token_of = |e: &Value| e["message_token"].as_u64().map(|t| t.to_string()).or_else(|| e["message_token"].as_str().map(str::to_string));
        let delivery = |state| token_of(&e).map(|t| Event::Delivery(Delivery { platform_id: t, state, at, error: e["descr"].as_str().map(str::to_string) }));
        let events: Vec<Event> = match e["event"].as_str().unwrap_or_default() {
            "message" => message(&e).map(Event::Interaction).into_iter().collect(),
            "subscribed" => vec![Event::Contact(ContactEvent { author: user(&e["user"]), status: ContactStatus::OptedIn, at })],
            // Unsubscribing only names the user's id.
            "unsubscribed" => vec![Event::Contact(ContactEvent { author: Author::new(e["user_id"].as_str().unwrap_or_default(), "Viber user"), status: ContactStatus::OptedOut, at })],
            "delivered" => delivery(DeliveryState::Delivered).into_iter().collect(),
            "seen" => delivery(DeliveryState::Read).into_iter().collect(),
            "failed" => delivery(DeliveryState::Failed).into_iter().collect(),
            // `webhook` (the set-up call) and `conversation_started` store nothing; 200 is the answer.
            _ => Vec::new(),
        };
        Ok(WebhookOutcome::accept(events))
    }

    fn perform(target: Target, action: Action) -> Result<ActionOutcome, ChannelError> {
        let Action::Reply(r) = action else { return Err(err::unsupported("Viber bots can only answer")) };
        let name: String = config_or("sender_name", "Support").chars().take(MAX_SENDER_NAME).collect();
        let body = json!({"receiver": target.thread_key, "min_api_version": 1, "sender": {"name": name}, "type": "text", "text": r.text});
        let sent = call("send_message", &body)?;
        let token = sent["message_token"].as_u64().map(|t| t.to_string()).or_else(|| sent["message_token"].as_str().map(str::to_string)).unwrap_or_default();
        let i = Interaction::new(token, InteractionKind::PrivateMessage, Direction::Outbound, target.thread_key.clone(), Author::new("bot", name), r.text, None);
        Ok(ActionOutcome { created: Some(i) })
    }
}

export_channel!(Viber);
