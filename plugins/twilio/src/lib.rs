//! Twilio channel: SMS, MMS and WhatsApp conversations through Twilio's Messaging API. Twilio
//! posts form-encoded webhooks signed `X-Twilio-Signature` (base64 HMAC-SHA1, keyed with the
//! auth token, of the whole URL it called followed by the sorted parameters), so the host's
//! public URL is part of what is checked. Every contact is one private conversation; status
//! callbacks are delivery reports; STOP and START are recorded on the contact. Answers go with
//! `Messages.json`; a backfill reads `Messages.json` for what arrived while we were down.

use base64::Engine;
use helpdesk_plugin_sdk::prelude::*;
use helpdesk_plugin_sdk::time;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha1::Sha1;
use sha2::{Digest, Sha256};

struct Twilio;

pub const PLATFORM: &str = "SMS & WhatsApp (Twilio)";
const DEFAULT_BASE_URL: &str = "https://api.twilio.com";
/// Twilio's limit on a message's body.
const MAX_BODY: u32 = 1600;
/// WhatsApp's customer-service window, as for WhatsApp Cloud.
const WHATSAPP_WINDOW_MS: i64 = 24 * 3600 * 1000;
/// Twilio's standard opt-out and opt-in keywords (what its Advanced Opt-Out acts on by default).
const OPT_OUT: [&str; 7] = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT"];
const OPT_IN: [&str; 4] = ["START", "YES", "UNSTOP", "OPTIN"];
/// How often a 20429 (too many concurrent requests) is tried again at once: Twilio never
/// processed it, so it is always safe to repeat.
const CONCURRENCY_RETRIES: usize = 2;
/// The backfill's pace: a safety net for deliveries missed while the host was down.
const BACKFILL_EVERY_MS: u32 = 5 * 60 * 1000;

fn account() -> Result<(String, String), ChannelError> {
    Ok((require_config("account_sid")?, require_secret("auth_token")?))
}

fn api(path: &str) -> Result<String, ChannelError> {
    let (sid, _) = account()?;
    Ok(format!("{}/2010-04-01/Accounts/{sid}/{path}", config_or("base_url", DEFAULT_BASE_URL).trim_end_matches('/')))
}

fn basic() -> Result<String, ChannelError> {
    let (sid, token) = account()?;
    Ok(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{sid}:{token}"))))
}

/// A Twilio REST call, its error body mapped: `{"code":20003,"message":"Authenticate","status":401}`.
fn call(req: Request) -> Result<Value, ChannelError> {
    let auth = basic()?;
    let mut tries = 0;
    loop {
        let resp = req.clone().header("Authorization", &auth).send()?;
        if resp.is_success() {
            return resp.json();
        }
        let body: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
        let code = body["code"].as_i64().unwrap_or(0);
        let words = format!("{} (Twilio error {code})", body["message"].as_str().unwrap_or("no message"));
        if (resp.status == 429 || code == 20429) && tries < CONCURRENCY_RETRIES {
            tries += 1;
            continue;
        }
        return Err(match (resp.status, code) {
            (429, _) | (_, 20429) => err::rate_limited(1000, format!("Twilio is throttling this account: {words}")),
            (401, _) | (_, 20003) => err::unauthorized(format!("Twilio refused the account SID and auth token: {words}")),
            (_, 21610) => err::permanent(format!("the contact replied STOP, so Twilio will not deliver until they send START: {words}")),
            (_, 63016) => err::permanent(format!("WhatsApp's 24-hour window is closed: only an approved template can be sent now ({words})")),
            (_, 21211) | (_, 21614) => err::permanent(format!("Twilio cannot deliver to this number: {words}")),
            (s, _) if s >= 500 => err::transient(format!("Twilio answered HTTP {s}: {words}")),
            _ => err::permanent(format!("Twilio refused the request: {words}")),
        });
    }
}

/// `X-Twilio-Signature` as Twilio's request validator computes it: base64 HMAC-SHA1 of the URL,
/// then each parameter name and value, names sorted (a repeated name's values sorted too).
pub fn signature(token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    sorted.dedup();
    let mut mac = Hmac::<Sha1>::new_from_slice(token.as_bytes()).expect("any key length");
    mac.update(url.as_bytes());
    for (k, v) in sorted {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The URL as called and with its port toggled: Twilio's validator accepts either, since
/// proxies differ in whether the default port reaches the application.
fn url_variants(url: &str) -> Vec<String> {
    let mut out = vec![url.to_string()];
    let Some((scheme, rest)) = url.split_once("://") else { return out };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let default = if scheme == "https" { "443" } else { "80" };
    match authority.rsplit_once(':').filter(|(_, p)| p.chars().all(|c| c.is_ascii_digit())) {
        Some((host, _)) => out.push(format!("{scheme}://{host}{tail}")),
        None => out.push(format!("{scheme}://{authority}:{default}{tail}")),
    }
    out
}

/// Whether a delivery carries Twilio's signature. JSON bodies are signed through the URL's
/// `bodySHA256` (the hex SHA-256 of the body) with no parameters.
pub fn verified(token: &str, request: &HttpRequest) -> bool {
    let Some(given) = request.header("x-twilio-signature") else { return false };
    let params = match request.query("bodySHA256") {
        Some(digest) => {
            if !helpdesk_plugin_sdk::constant_time_eq(hex::encode(Sha256::digest(&request.body)).as_bytes(), digest.to_ascii_lowercase().as_bytes()) {
                return false;
            }
            Vec::new()
        }
        None => request.form(),
    };
    url_variants(&request.url).iter().any(|url| helpdesk_plugin_sdk::constant_time_eq(signature(token, url, &params).as_bytes(), given.trim().as_bytes()))
}

/// A delivery's fields, by name (form fields, or a JSON object's strings).
struct Fields(Vec<(String, String)>);

impl Fields {
    fn of(request: &HttpRequest) -> Fields {
        if request.query("bodySHA256").is_some() {
            let v: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
            let pairs = v.as_object().map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))).collect());
            return Fields(pairs.unwrap_or_default());
        }
        Fields(request.form())
    }
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }
    fn sid(&self) -> Option<&str> {
        self.get("MessageSid").or_else(|| self.get("SmsMessageSid")).or_else(|| self.get("SmsSid"))
    }
}

fn kind_of(mime: &str) -> AttachmentKind {
    match mime.split('/').next().unwrap_or("") {
        "image" => AttachmentKind::Image,
        "video" => AttachmentKind::Video,
        "audio" => AttachmentKind::Audio,
        _ if mime == "text/vcard" || mime == "text/x-vcard" => AttachmentKind::Other,
        _ => AttachmentKind::File,
    }
}

fn author(from: &str, profile_name: Option<&str>) -> Author {
    let number = from.strip_prefix("whatsapp:").unwrap_or(from);
    Author { handle: Some(number.to_string()), ..Author::new(from, profile_name.unwrap_or(number)) }
}

/// What an opt-out or opt-in keyword means for the contact: Twilio's `OptOutType` when its
/// Advanced Opt-Out is on, else the standard keywords.
fn opt_status(f: &Fields) -> Option<ContactStatus> {
    match f.get("OptOutType").map(str::to_ascii_uppercase).as_deref() {
        Some("STOP") => return Some(ContactStatus::OptedOut),
        Some("START") => return Some(ContactStatus::OptedIn),
        Some(_) => return None,
        None => {}
    }
    let word = f.get("Body")?.trim().trim_end_matches(['.', '!']).to_ascii_uppercase();
    if OPT_OUT.contains(&word.as_str()) {
        Some(ContactStatus::OptedOut)
    } else if OPT_IN.contains(&word.as_str()) {
        Some(ContactStatus::OptedIn)
    } else {
        None
    }
}

fn window_key(thread: &str) -> String {
    format!("inbound:{thread}")
}

/// An inbound message: text, media, a shared location.
fn inbound(f: &Fields, at: Option<i64>) -> Option<Interaction> {
    let sid = f.sid()?.to_string();
    let from = f.get("From")?.to_string();
    let mut attachments = Vec::new();
    let count: usize = f.get("NumMedia").and_then(|n| n.parse().ok()).unwrap_or(0).min(10);
    for n in 0..count {
        let Some(url) = f.get(&format!("MediaUrl{n}")) else { continue };
        let mime = f.get(&format!("MediaContentType{n}")).map(str::to_string);
        attachments.push(Attachment {
            kind: kind_of(mime.as_deref().unwrap_or("")),
            platform_id: url.rsplit('/').next().map(str::to_string),
            url: Some(url.to_string()),
            mime_type: mime,
            name: None,
            size: None,
        });
    }
    if let (Some(lat), Some(lon)) = (f.get("Latitude"), f.get("Longitude")) {
        let map = format!("https://www.openstreetmap.org/?mlat={lat}&mlon={lon}");
        attachments.push(Attachment { kind: AttachmentKind::Location, platform_id: None, url: Some(map), mime_type: None, name: f.get("Label").map(str::to_string), size: None });
    }
    let who = author(&from, f.get("ProfileName"));
    let mut i = Interaction::new(sid, InteractionKind::PrivateMessage, Direction::Inbound, from, who, f.get("Body").unwrap_or(""), at);
    i.attachments = attachments;
    i.meta = f.get("WaId").map(|w| vec![("wa_id".to_string(), w.to_string())]).unwrap_or_default();
    Some(i)
}

/// A status callback as a delivery report on our message; the states before `sent` say nothing yet.
fn status(f: &Fields, status: &str) -> Option<Event> {
    let state = match status {
        "sent" => DeliveryState::Sent,
        "delivered" => DeliveryState::Delivered,
        "read" => DeliveryState::Read,
        "failed" | "undelivered" => DeliveryState::Failed,
        _ => return None,
    };
    let error = f.get("ErrorCode").map(|c| format!("Twilio error {c}: {}", f.get("ErrorMessage").unwrap_or(status)));
    Some(Event::Delivery(Delivery { platform_id: f.sid()?.to_string(), state, at: time::now_ms(), error }))
}

/// The events a message carries, and what is remembered of it: when the contact last wrote
/// (WhatsApp's window).
fn message_events(i: Interaction, opt: Option<ContactStatus>, at: i64) -> Vec<Event> {
    let mut events = Vec::new();
    if i.thread_key.starts_with("whatsapp:") {
        let key = window_key(&i.thread_key);
        let newer = kv_get(&key).ok().flatten().and_then(|v| String::from_utf8(v).ok()?.parse::<i64>().ok()).is_none_or(|last| last < at);
        if newer {
            let _ = kv_set(&key, at.to_string().as_bytes());
        }
    }
    if let Some(status) = opt {
        events.push(Event::Contact(ContactEvent { author: i.author.clone(), status, at }));
    }
    events.insert(0, Event::Interaction(i));
    events
}

/// The number we send from to a contact: the configured sender, on the contact's channel.
fn sender_for(thread: &str) -> Option<String> {
    let from = config("from").filter(|f| !f.is_empty())?;
    let bare = from.strip_prefix("whatsapp:").unwrap_or(&from).to_string();
    Some(if thread.starts_with("whatsapp:") { format!("whatsapp:{bare}") } else { bare })
}

/// How many SMS segments a text takes: GSM-7 packs 160 characters into one (153 per part when
/// split, the extension table's characters counting twice); anything else is UCS-2, 70 (67).
pub fn segments(text: &str) -> (usize, bool) {
    const GSM: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
    const GSM_EXT: &str = "^{}\\[~]|€\u{c}";
    let gsm: Option<usize> = text.chars().try_fold(0usize, |n, c| {
        if GSM.contains(c) {
            Some(n + 1)
        } else if GSM_EXT.contains(c) {
            Some(n + 2)
        } else {
            None
        }
    });
    let (units, single, part, unicode) = match gsm {
        Some(n) => (n, 160, 153, false),
        None => (text.encode_utf16().count(), 70, 67, true),
    };
    if units == 0 {
        return (0, unicode);
    }
    (if units <= single { 1 } else { units.div_ceil(part) }, unicode)
}

/// A message of the list resource (`Messages.json`) as an interaction.
fn listed(m: &Value) -> Option<Interaction> {
    let sid = m["sid"].as_str()?;
    let at = m["date_sent"].as_str().or(m["date_created"].as_str()).and_then(time::parse_rfc2822);
    let (from, to) = (m["from"].as_str()?, m["to"].as_str()?);
    let inbound = m["direction"].as_str() == Some("inbound");
    let (thread, who, direction) = if inbound { (from, author(from, None), Direction::Inbound) } else { (to, Author::new("brand", "Us"), Direction::Outbound) };
    let mut i = Interaction::new(sid, InteractionKind::PrivateMessage, direction, thread, who, m["body"].as_str().unwrap_or(""), at);
    let media: usize = m["num_media"].as_str().and_then(|n| n.parse().ok()).unwrap_or(0);
    if media > 0 {
        if let Ok(list) = api(&format!("Messages/{sid}/Media.json")).and_then(|u| call(Request::get(u))) {
            let base = config_or("base_url", DEFAULT_BASE_URL);
            for item in list["media_list"].as_array().into_iter().flatten() {
                let mime = item["content_type"].as_str().unwrap_or("");
                let uri = item["uri"].as_str().unwrap_or("").trim_end_matches(".json");
                i.attachments.push(Attachment {
                    kind: kind_of(mime),
                    platform_id: item["sid"].as_str().map(str::to_string),
                    url: Some(format!("{}{uri}", base.trim_end_matches('/'))),
                    mime_type: Some(mime.to_string()),
                    name: None,
                    size: None,
                });
            }
        }
    }
    Some(i)
}

impl Channel for Twilio {
    fn describe() -> ChannelInfo {
        ChannelInfo {
            platform: "twilio".into(),
            platform_name: PLATFORM.into(),
            capabilities: vec![Capability::new(InteractionKind::PrivateMessage, &[ActionKind::Reply])
                .note("Long texts go as several SMS segments, each billed: 160 plain characters in one (153 per part), 70 with emoji or other scripts (67)")
                .note("A contact who sent STOP gets nothing until they send START")
                .note("WhatsApp through Twilio: free-form answers within 24 hours of the contact's last message")
                .note("Twilio has no way to hide, like or block")
                .max_reply_chars(MAX_BODY)],
            polls: true,
            webhooks: true,
            // Only WhatsApp conversations have a window; the plugin enforces it and the reply note says it.
            reply_window_hours: None,
            tagged_reply_window: None,
            settings: vec![
                Setting::config("account_sid", "Account SID").required().help("AC…, on the Twilio console's dashboard"),
                Setting::secret("auth_token", "Auth token").required().help("Signs Twilio's webhooks and authenticates our calls"),
                Setting::config("from", "Sender").help("The Twilio number answers go from (+15551234567), or whatsapp:+15551234567"),
                Setting::config("messaging_service_sid", "Messaging Service SID").help("MG…: send through a Messaging Service instead of one number"),
                Setting::config("status_callback", "Status callback URL").help(
                    "https://<your host>/webhooks/<channel>: where Twilio reports delivered and failed (the host needs --public-url for its signature)",
                ),
                Setting::config("base_url", "API URL").default_value(DEFAULT_BASE_URL),
            ],
            allowed_hosts: vec!["https://api.twilio.com".into(), "https://*.twiliocdn.com".into(), "https://*.twilio.com".into()],
        }
    }

    fn check() -> Result<String, ChannelError> {
        let (sid, _) = account()?;
        let url = format!("{}/2010-04-01/Accounts/{sid}.json", config_or("base_url", DEFAULT_BASE_URL).trim_end_matches('/'));
        let acct = call(Request::get(url))?;
        if config("from").is_none_or(|f| f.is_empty()) && config("messaging_service_sid").is_none_or(|f| f.is_empty()) {
            return Err(err::invalid_config("set `from` (a Twilio number) or `messaging_service_sid` so answers can be sent"));
        }
        Ok(format!("Twilio account {} ({})", acct["friendly_name"].as_str().unwrap_or(&sid), acct["status"].as_str().unwrap_or("active")))
    }

    fn handle_webhook(request: HttpRequest) -> Result<WebhookOutcome, ChannelError> {
        let token = require_secret("auth_token")?;
        if !request.url.starts_with("http") {
            log(Level::Warn, "Twilio signs the whole URL it calls: start the host with --public-url so deliveries can be checked");
            return Ok(WebhookOutcome::reject(401, "the signature cannot be checked: the host has no public URL"));
        }
        if !verified(&token, &request) {
            return Ok(WebhookOutcome::reject(401, "missing or wrong X-Twilio-Signature"));
        }
        let f = Fields::of(&request);
        let now = time::now_ms();
        let events = match (f.get("MessageStatus"), f.get("SmsStatus")) {
            (Some(s), _) => status(&f, s).into_iter().collect(),
            (None, Some(s)) if s != "received" => status(&f, s).into_iter().collect(),
            _ => match inbound(&f, None) {
                Some(i) => message_events(i, opt_status(&f), now),
                None => Vec::new(),
            },
        };
        // An empty TwiML answer: Twilio sends nothing back by itself.
        let twiml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>";
        let mut out = WebhookOutcome::accept(events);
        out.response = HttpResponse { status: 200, headers: vec![("content-type".into(), "text/xml".into())], body: twiml.as_bytes().to_vec() };
        Ok(out)
    }

    /// What arrived while the host was down: today's (and, past midnight, yesterday's) messages
    /// to our number. Messages already stored are stored once.
    fn fetch(cursor: Option<String>) -> Result<Page, ChannelError> {
        let Some(number) = config("from").filter(|f| !f.is_empty()) else {
            return Ok(Page { events: Vec::new(), next_cursor: None, poll_after_ms: BACKFILL_EVERY_MS, quota: None, notice: None });
        };
        let now = time::now_ms();
        // From the last run (a day before, for Twilio's day-granular filter), at most 2 days back.
        let since = cursor.and_then(|c| c.parse::<i64>().ok()).unwrap_or(now).max(now - 2 * 86_400_000) - 86_400_000;
        let day = {
            let days = since.div_euclid(86_400_000);
            let (y, m, d) = civil(days);
            format!("{y:04}-{m:02}-{d:02}")
        };
        let mut url = Request::get(api("Messages.json")?).query(&[("To", number.as_str()), ("DateSent>", day.as_str()), ("PageSize", "100")]).url().to_string();
        let mut events = Vec::new();
        for _ in 0..10 {
            let page = call(Request::get(url.clone()))?;
            for m in page["messages"].as_array().into_iter().flatten() {
                if let Some(i) = listed(m).filter(|i| i.direction == Direction::Inbound) {
                    let at = i.created_at.unwrap_or(now);
                    let f = Fields(vec![("Body".into(), i.text.clone())]);
                    events.extend(message_events(i, opt_status(&f), at));
                }
            }
            match page["next_page_uri"].as_str().filter(|u| !u.is_empty()) {
                Some(next) => url = format!("{}{next}", config_or("base_url", DEFAULT_BASE_URL).trim_end_matches('/')),
                None => break,
            }
        }
        Ok(Page { events, next_cursor: Some(now.to_string()), poll_after_ms: BACKFILL_EVERY_MS, quota: None, notice: None })
    }

    fn perform(target: Target, action: Action) -> Result<ActionOutcome, ChannelError> {
        let Action::Reply(r) = action else { return Err(err::unsupported("Twilio messages can only be answered")) };
        let thread = target.thread_key.clone();
        if thread.starts_with("whatsapp:") {
            if let Some(closed) = window_closed(&thread) {
                return Err(err::permanent(closed));
            }
        }
        let mut form: Vec<(String, String)> = vec![("To".into(), thread.clone()), ("Body".into(), r.text.clone())];
        match (config("messaging_service_sid").filter(|s| !s.is_empty()), sender_for(&thread)) {
            (Some(ms), _) => form.push(("MessagingServiceSid".into(), ms)),
            (None, Some(from)) => form.push(("From".into(), from)),
            (None, None) => return Err(err::invalid_config("set `from` or `messaging_service_sid` to send")),
        }
        if let Some(cb) = config("status_callback").filter(|c| !c.is_empty()) {
            form.push(("StatusCallback".into(), cb));
        }
        let sent = call(Request::post(api("Messages.json")?).form(&form))?;
        let sid = sent["sid"].as_str().ok_or_else(|| err::transient("Twilio's answer had no message sid"))?;
        let at = sent["date_created"].as_str().and_then(time::parse_rfc2822);
        let i = Interaction::new(sid, InteractionKind::PrivateMessage, Direction::Outbound, thread, Author::new("brand", "Us"), r.text, at);
        Ok(ActionOutcome { created: Some(i) })
    }

    /// Twilio's media URLs want the account's credentials (when HTTP auth on media is on, as it
    /// should be); the CDN it redirects to does not get them.
    fn media(_target: Target, attachment: Attachment) -> Result<HttpRequest, ChannelError> {
        let url = attachment.url.ok_or_else(|| err::unsupported("this attachment has no Twilio media URL"))?;
        Ok(Request::get(url).header("Authorization", &basic()?).unsent())
    }

    fn reply_note(target: Target, text: String) -> Option<String> {
        if target.thread_key.starts_with("whatsapp:") {
            return Some(window_closed(&target.thread_key).unwrap_or_else(|| match last_inbound(&target.thread_key) {
                Some(last) => format!("WhatsApp: free-form answers until {} UTC", http_time(last + WHATSAPP_WINDOW_MS)),
                None => "WhatsApp: free-form answers within 24 hours of the contact's last message".into(),
            }));
        }
        let (n, unicode) = segments(&text);
        match n {
            0 | 1 => None,
            n if unicode => Some(format!("{n} SMS segments (emoji or non-Latin letters: 67 characters each)")),
            n => Some(format!("{n} SMS segments (153 characters each)")),
        }
    }
}

fn last_inbound(thread: &str) -> Option<i64> {
    kv_get(&window_key(thread)).ok().flatten().and_then(|v| String::from_utf8(v).ok()?.parse().ok())
}

/// Why a WhatsApp answer cannot go now, if it cannot.
fn window_closed(thread: &str) -> Option<String> {
    let last = last_inbound(thread)?;
    (time::now_ms() > last + WHATSAPP_WINDOW_MS).then(|| {
        format!("WhatsApp's 24-hour window closed at {} UTC: only an approved template can be sent until the contact writes again", http_time(last + WHATSAPP_WINDOW_MS))
    })
}

/// `2026-12-02 14:05`.
fn http_time(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let secs = ms.rem_euclid(86_400_000) / 1000;
    let (y, m, d) = civil(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}", secs / 3600, secs / 60 % 60)
}

/// Days since the epoch as a calendar date (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

export_channel!(Twilio);

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_signature_is_twilios_own_test_vector() {
        let params = pairs(&[("CallSid", "CA1234567890ABCDE"), ("Digits", "1234"), ("From", "+14158675309"), ("To", "+18005551212"), ("Caller", "+14158675309")]);
        assert_eq!(signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", &params), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
    }

    #[test]
    fn a_url_is_checked_with_and_without_its_port() {
        assert_eq!(url_variants("https://a.example/x?y=1"), ["https://a.example/x?y=1", "https://a.example:443/x?y=1"]);
        assert_eq!(url_variants("http://127.0.0.1:8080/w"), ["http://127.0.0.1:8080/w", "http://127.0.0.1/w"]);
    }

    #[test]
    fn a_json_body_is_signed_through_its_digest() {
        let body = br#"{"MessageSid":"SM1","From":"+1"}"#.to_vec();
        let url = format!("https://a.example/w?bodySHA256={}", hex::encode(Sha256::digest(&body)));
        let sig = signature("tok", &url, &[]);
        let req = |body: Vec<u8>, sig: &str| HttpRequest { method: "POST".into(), url: url.clone(), headers: vec![("X-Twilio-Signature".into(), sig.into())], body };
        assert!(verified("tok", &req(body.clone(), &sig)));
        assert!(!verified("tok", &req(br#"{"MessageSid":"SM2","From":"+1"}"#.to_vec(), &sig)), "another body");
        assert!(!verified("other", &req(body, &sig)), "another token");
    }

    #[test]
    fn long_texts_count_their_segments_as_carriers_do() {
        assert_eq!(segments(&"a".repeat(160)), (1, false));
        assert_eq!(segments(&"a".repeat(161)), (2, false));
        assert_eq!(segments(&"€".repeat(80)), (1, false), "extension characters count twice");
        assert_eq!(segments(&"€".repeat(81)), (2, false));
        assert_eq!(segments(&"é".repeat(70)), (1, false), "é is in GSM-7");
        assert_eq!(segments(&"ć".repeat(71)), (2, true));
        assert_eq!(segments("👍"), (1, true));
    }

    #[test]
    fn a_whatsapp_answer_past_the_window_is_refused_before_twilio_is_asked() {
        use helpdesk_plugin_sdk::testing::Fake;
        let hour = 3_600_000;
        let fake = Fake::new().config("account_sid", "AC1").secret("auth_token", "t").config("from", "whatsapp:+1555").now(1_700_000_000_000);
        let inbound = Interaction::new("SM1", InteractionKind::PrivateMessage, Direction::Inbound, "whatsapp:+49", author("whatsapp:+49", None), "Oi", None);
        message_events(inbound, None, 1_700_000_000_000);
        let target = Target {
            kind: InteractionKind::PrivateMessage, platform_id: "SM1".into(), thread_key: "whatsapp:+49".into(), author_id: "whatsapp:+49".into(),
            meta: Vec::new(), direction: Direction::Inbound,
        };
        assert_eq!(Twilio::reply_note(target.clone(), "Sim".into()).as_deref(), Some("WhatsApp: free-form answers until 2023-11-15 22:13 UTC"));
        fake.set_now(1_700_000_000_000 + 25 * hour);
        let note = Twilio::reply_note(target.clone(), "Sim".into()).unwrap();
        assert!(note.starts_with("WhatsApp's 24-hour window closed at 2023-11-15 22:13 UTC"), "{note}");
        let refused = Twilio::perform(target, Action::Reply(Reply { text: "Sim".into(), tag: None }));
        assert!(matches!(refused, Err(ChannelError::Permanent(ref m)) if m.contains("template")), "{refused:?}");
        assert!(fake.requests().is_empty(), "Twilio was not asked");
    }

    #[test]
    fn dates_are_civil() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(http_time(1_700_000_000_000), "2023-11-14 22:13");
    }
}
