//! Twilio's Messaging API on loopback, as far as the Twilio channel uses it: the account,
//! `Messages.json` to send (Basic auth; 1600 characters; nothing to a number that sent STOP)
//! and to list (`To`, `DateSent>`, pages by `next_page_uri`), a message's media (behind the
//! account's credentials, redirected to a CDN path); status callbacks after each send (sent,
//! then delivered, or failed with the error code: 63016 outside WhatsApp's window); errors
//! on demand (429/20429); and inbound deliveries form-encoded and signed `X-Twilio-Signature`
//! over the whole URL, as Twilio's request validator checks them.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha1::Sha1;
use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

pub const ACCOUNT_SID: &str = "AC2721a062eb43000b76a88df0ca9787ed";
pub const AUTH_TOKEN: &str = "9f3c1b7e5d2a4c6e8b0d1f3a5c7e9b2d";
/// The helpdesk's number at Twilio.
pub const NUMBER: &str = "+4915735986865";

const OPT_OUT: [&str; 6] = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"];
const OPT_IN: [&str; 3] = ["START", "YES", "UNSTOP"];

#[derive(Default)]
struct Inner {
    calls: Vec<crate::Call>,
    next: u64,
    /// Every message, as the list resource shows it, oldest first.
    messages: Vec<Value>,
    media: HashMap<String, Vec<(String, String)>>,
    opted_out: HashSet<String>,
    /// When each WhatsApp contact last wrote (seconds).
    last_inbound: HashMap<String, i64>,
    failures: VecDeque<(u16, i64, String)>,
    /// Sends fail afterwards with this code (carrier errors).
    undeliverable: HashMap<String, (i64, String)>,
}

#[derive(Clone)]
pub struct TwilioEmulator {
    inner: Arc<Mutex<Inner>>,
    addr: SocketAddr,
    http: reqwest::Client,
}

fn error(status: u16, code: i64, message: &str) -> Response {
    let body = json!({"code": code, "message": message, "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status});
    (StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST), Json(body)).into_response()
}

fn rfc2822(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default().to_rfc2822()
}

/// Twilio's signature: base64 HMAC-SHA1 of the URL, then each name and value, sorted.
pub fn sign(url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut mac = Hmac::<Sha1>::new_from_slice(AUTH_TOKEN.as_bytes()).expect("any key length");
    mac.update(url.as_bytes());
    for (k, v) in sorted {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Segments as Twilio counts them (GSM-7 160/153, else UCS-2 70/67).
fn segments(body: &str) -> usize {
    let gsm = body.chars().all(|c| c.is_ascii() && c != '`' || "£¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà€".contains(c));
    let units = if gsm { body.chars().map(|c| if "^{}\\[~]|€".contains(c) { 2 } else { 1 }).sum() } else { body.encode_utf16().count() };
    let (one, part) = if gsm { (160, 153) } else { (70, 67) };
    if units <= one { 1 } else { units.div_ceil(part) }
}

impl TwilioEmulator {
    pub async fn start() -> std::io::Result<Self> {
        let inner = Arc::new(Mutex::new(Inner { next: 1, ..Default::default() }));
        let (listener, addr) = crate::listen().await?;
        let emu = TwilioEmulator { inner, addr, http: reqwest::Client::new() };
        let app = Router::new()
            .route("/2010-04-01/Accounts/{file}", get(account))
            .route("/2010-04-01/Accounts/{sid}/Messages.json", post(send).get(list))
            .route("/2010-04-01/Accounts/{sid}/Messages/{msg}/Media.json", get(media_list))
            .route("/2010-04-01/Accounts/{sid}/Messages/{msg}/Media/{media}", get(media))
            .route("/cdn/{media}", get(cdn))
            .with_state(emu.clone());
        crate::serve(listener, app);
        Ok(emu)
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A channel of the `twilio` plugin against this emulator; `status_callback` is where
    /// Twilio reports what became of our messages.
    pub fn channel_toml(&self, id: &str, from: &str, status_callback: Option<&str>) -> String {
        let cb = status_callback.map(|u| format!("status_callback = \"{u}\"\n")).unwrap_or_default();
        format!(
            "\n[[channel]]\nid = \"{id}\"\nplugin = \"twilio\"\ndisplay_name = \"SMS {id}\"\nallowed_hosts = [\"http://{addr}\"]\n\
             [channel.config]\nbase_url = \"{base}\"\naccount_sid = \"{ACCOUNT_SID}\"\nfrom = \"{from}\"\n{cb}[channel.secrets]\nauth_token = \"{AUTH_TOKEN}\"\n",
            addr = self.addr,
            base = self.base_url()
        )
    }

    fn sid(inner: &mut Inner, prefix: &str) -> String {
        inner.next += 1;
        format!("{prefix}{:032x}", 0x5e1f_0000_0000u64 + inner.next)
    }

    /// A contact writes to `to`: the delivery's parameters as Twilio posts them (the message is
    /// in the account's log from now on). `media` are (content type, bytes) of MMS parts.
    pub fn inbound(&self, from: &str, to: &str, body: &str, media: &[(&str, &[u8])]) -> Vec<(String, String)> {
        let mut inner = self.inner.lock().unwrap();
        let sid = Self::sid(&mut inner, "SM");
        let now = crate::now_secs();
        let word = body.trim().to_ascii_uppercase();
        let bare = from.strip_prefix("whatsapp:").unwrap_or(from).to_string();
        if OPT_OUT.contains(&word.as_str()) {
            inner.opted_out.insert(bare.clone());
        } else if OPT_IN.contains(&word.as_str()) {
            inner.opted_out.remove(&bare);
        }
        if from.starts_with("whatsapp:") {
            inner.last_inbound.insert(from.to_string(), now);
        }
        let mut p: Vec<(String, String)> = [
            ("ToCountry", "DE"), ("ToState", ""), ("SmsMessageSid", &sid), ("NumMedia", &media.len().to_string()), ("ToCity", ""), ("FromZip", ""),
            ("SmsSid", &sid), ("FromState", ""), ("SmsStatus", "received"), ("FromCity", ""), ("Body", body), ("FromCountry", "DE"), ("To", to),
            ("ToZip", ""), ("NumSegments", &segments(body).to_string()), ("MessageSid", &sid), ("AccountSid", ACCOUNT_SID), ("From", from), ("ApiVersion", "2010-04-01"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let mut parts = Vec::new();
        for (n, (mime, bytes)) in media.iter().enumerate() {
            let me = Self::sid(&mut inner, "ME");
            p.push((format!("MediaUrl{n}"), format!("{}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}/Media/{me}", self.base_url())));
            p.push((format!("MediaContentType{n}"), mime.to_string()));
            inner.media.insert(format!("bytes:{me}"), vec![(String::new(), hex::encode(bytes))]);
            parts.push((me, mime.to_string()));
        }
        inner.media.insert(sid.clone(), parts);
        if let Some(name) = from.strip_prefix("whatsapp:").map(|_| "Ana Souza") {
            p.push(("ProfileName".into(), name.into()));
            p.push(("WaId".into(), bare.trim_start_matches('+').into()));
        }
        inner.messages.push(json!({"sid": sid, "account_sid": ACCOUNT_SID, "from": from, "to": to, "body": body, "status": "received",
            "direction": "inbound", "num_segments": segments(body).to_string(), "num_media": media.len().to_string(),
            "date_created": rfc2822(now), "date_sent": rfc2822(now), "date_updated": rfc2822(now), "error_code": null,
            "uri": format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json")}));
        p
    }

    /// WhatsApp's last message from `from` was `hours` ago (its window may be closed).
    pub fn age_whatsapp(&self, from: &str, hours: i64) {
        self.inner.lock().unwrap().last_inbound.insert(from.into(), crate::now_secs() - hours * 3600);
    }

    /// The carrier fails messages to `to` with this code (e.g. 30003 unreachable).
    pub fn undeliverable(&self, to: &str, code: i64, message: &str) {
        self.inner.lock().unwrap().undeliverable.insert(to.into(), (code, message.into()));
    }

    /// The next API call answers this error (HTTP status and Twilio code).
    pub fn fail_next(&self, status: u16, code: i64, message: &str) {
        self.inner.lock().unwrap().failures.push_back((status, code, message.into()));
    }

    /// What we sent, as Twilio recorded it.
    pub fn sent(&self) -> Vec<Value> {
        self.inner.lock().unwrap().messages.iter().filter(|m| m["direction"] == "outbound-api").cloned().collect()
    }

    pub fn calls(&self) -> Vec<crate::Call> {
        self.inner.lock().unwrap().calls.clone()
    }

    /// Post `params` to `url` form-encoded, signed over `sign_url` (the URL Twilio was told;
    /// usually `url` itself) or with `signature`.
    pub async fn deliver_as(&self, url: &str, sign_url: &str, params: &[(String, String)], signature: Option<&str>) -> u16 {
        let sig = signature.map(str::to_string).unwrap_or_else(|| sign(sign_url, params));
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
        let mut req = self.http.post(url).header("content-type", "application/x-www-form-urlencoded").header("I-Twilio-Idempotency-Token", "a1b2").body(body);
        if !sig.is_empty() {
            req = req.header("X-Twilio-Signature", sig);
        }
        req.send().await.map(|r| r.status().as_u16()).unwrap_or(0)
    }

    pub async fn deliver(&self, url: &str, params: &[(String, String)]) -> u16 {
        self.deliver_as(url, url, params, None).await
    }
}

fn authorized(headers: &HeaderMap) -> bool {
    let expected = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT_SID}:{AUTH_TOKEN}")));
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(expected.as_str())
}

/// Authentication, the call's record and a failure asked for, before any endpoint.
fn gate(emu: &TwilioEmulator, method: &str, path: String, headers: &HeaderMap, body: Value) -> Option<Response> {
    let mut inner = emu.inner.lock().unwrap();
    inner.calls.push(crate::Call { method: method.into(), path, body });
    if !authorized(headers) {
        return Some(error(401, 20003, "Authenticate"));
    }
    inner.failures.pop_front().map(|(status, code, message)| error(status, code, &message))
}

async fn account(State(emu): State<TwilioEmulator>, Path(file): Path<String>, headers: HeaderMap) -> Response {
    if let Some(r) = gate(&emu, "GET", format!("/2010-04-01/Accounts/{file}"), &headers, Value::Null) {
        return r;
    }
    if file != format!("{ACCOUNT_SID}.json") {
        return error(404, 20404, "The requested resource was not found");
    }
    Json(json!({"sid": ACCOUNT_SID, "friendly_name": "Acme Outdoor", "status": "active", "type": "Full"})).into_response()
}

async fn send(State(emu): State<TwilioEmulator>, Path(sid): Path<String>, headers: HeaderMap, body: String) -> Response {
    let form: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes()).into_owned().collect();
    let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let as_json = Value::Object(form.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect());
    if let Some(r) = gate(&emu, "POST", format!("/2010-04-01/Accounts/{sid}/Messages.json"), &headers, as_json) {
        return r;
    }
    let (Some(to), Some(text)) = (field("To"), field("Body")) else { return error(400, 21604, "A 'To' phone number and a 'Body' are required.") };
    if field("From").is_none() && field("MessagingServiceSid").is_none() {
        return error(400, 21603, "A 'From' phone number is required.");
    }
    if text.chars().count() > 1600 {
        return error(400, 21617, "The concatenated message body exceeds the 1600 character limit.");
    }
    let (message, callback, outcome) = {
        let mut inner = emu.inner.lock().unwrap();
        let bare = to.strip_prefix("whatsapp:").unwrap_or(&to).to_string();
        if inner.opted_out.contains(&bare) {
            return error(400, 21610, "Attempt to send to unsubscribed recipient");
        }
        let msid = TwilioEmulator::sid(&mut inner, "SM");
        let now = crate::now_secs();
        let closed = to.starts_with("whatsapp:") && inner.last_inbound.get(&to).is_none_or(|t| now - t > 24 * 3600);
        let outcome = if closed {
            Some((63016, "Failed to send freeform message because you are outside the allowed window.".to_string()))
        } else {
            inner.undeliverable.get(&to).cloned()
        };
        let m = json!({"sid": msid, "account_sid": ACCOUNT_SID, "from": field("From").unwrap_or_else(|| NUMBER.into()), "to": to, "body": text,
            "status": "queued", "direction": "outbound-api", "num_segments": segments(&text).to_string(), "num_media": "0",
            "messaging_service_sid": field("MessagingServiceSid"), "date_created": rfc2822(now), "date_sent": null, "date_updated": rfc2822(now),
            "error_code": null, "error_message": null, "price": null, "uri": format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{msid}.json")});
        inner.messages.push(m.clone());
        (m, field("StatusCallback"), outcome)
    };
    if let Some(url) = callback {
        let emu = emu.clone();
        let sid = message["sid"].as_str().unwrap_or_default().to_string();
        let to = message["to"].as_str().unwrap_or_default().to_string();
        tokio::spawn(async move {
            let mut steps = vec![("sent", None)];
            steps.push(match &outcome {
                Some((code, words)) => ("failed", Some((code.to_string(), words.clone()))),
                None => ("delivered", None),
            });
            for (status, err) in steps {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                let mut p: Vec<(String, String)> = vec![
                    ("SmsSid".into(), sid.clone()), ("SmsStatus".into(), status.into()), ("MessageStatus".into(), status.into()), ("To".into(), to.clone()),
                    ("MessageSid".into(), sid.clone()), ("AccountSid".into(), ACCOUNT_SID.into()), ("From".into(), NUMBER.into()), ("ApiVersion".into(), "2010-04-01".into()),
                ];
                if let Some((code, words)) = err {
                    p.push(("ErrorCode".into(), code));
                    p.push(("ErrorMessage".into(), words));
                }
                emu.deliver(&url, &p).await;
            }
        });
    }
    (StatusCode::CREATED, Json(message)).into_response()
}

async fn list(State(emu): State<TwilioEmulator>, Path(sid): Path<String>, RawQuery(q): RawQuery, headers: HeaderMap) -> Response {
    let q = q.unwrap_or_default();
    if let Some(r) = gate(&emu, "GET", format!("/2010-04-01/Accounts/{sid}/Messages.json?{q}"), &headers, Value::Null) {
        return r;
    }
    let params: HashMap<String, String> = url::form_urlencoded::parse(q.as_bytes()).into_owned().collect();
    let since = params.get("DateSent>").and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()).map(|d| d.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp());
    let size: usize = params.get("PageSize").and_then(|s| s.parse().ok()).unwrap_or(50).min(1000);
    let page: usize = params.get("Page").and_then(|s| s.parse().ok()).unwrap_or(0);
    let inner = emu.inner.lock().unwrap();
    // Newest first, as Twilio lists them.
    let matching: Vec<Value> = inner
        .messages
        .iter()
        .rev()
        .filter(|m| params.get("To").is_none_or(|to| m["to"].as_str() == Some(to.as_str())))
        .filter(|m| since.is_none_or(|s| m["date_created"].as_str().and_then(|d| chrono::DateTime::parse_from_rfc2822(d).ok()).is_some_and(|d| d.timestamp() >= s)))
        .cloned()
        .collect();
    let (items, next) = crate::page_of(&matching, page * size, size);
    let base = format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json");
    let uri = |p: usize| {
        let mut rest: Vec<(String, String)> = params.iter().filter(|(k, _)| *k != "Page").map(|(k, v)| (k.clone(), v.clone())).collect();
        rest.sort();
        rest.push(("Page".into(), p.to_string()));
        format!("{base}?{}", url::form_urlencoded::Serializer::new(String::new()).extend_pairs(rest).finish())
    };
    Json(json!({"messages": items, "page": page, "page_size": size, "uri": uri(page), "first_page_uri": uri(0),
        "next_page_uri": next.map(|_| uri(page + 1)), "previous_page_uri": (page > 0).then(|| uri(page - 1))}))
    .into_response()
}

async fn media_list(State(emu): State<TwilioEmulator>, Path((sid, msg)): Path<(String, String)>, headers: HeaderMap) -> Response {
    if let Some(r) = gate(&emu, "GET", format!("/2010-04-01/Accounts/{sid}/Messages/{msg}/Media.json"), &headers, Value::Null) {
        return r;
    }
    let inner = emu.inner.lock().unwrap();
    let list: Vec<Value> = inner.media.get(&msg).into_iter().flatten().map(|(me, mime)| json!({"sid": me, "parent_sid": msg, "content_type": mime,
        "uri": format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{msg}/Media/{me}.json")})).collect();
    Json(json!({"media_list": list, "page": 0, "page_size": 50, "next_page_uri": null})).into_response()
}

/// A media URL: behind the account's credentials, redirected to the CDN.
async fn media(State(emu): State<TwilioEmulator>, Path((sid, msg, me)): Path<(String, String, String)>, headers: HeaderMap) -> Response {
    if let Some(r) = gate(&emu, "GET", format!("/2010-04-01/Accounts/{sid}/Messages/{msg}/Media/{me}"), &headers, Value::Null) {
        return r;
    }
    let me = me.trim_end_matches(".json").to_string();
    (StatusCode::TEMPORARY_REDIRECT, [("location", format!("{}/cdn/{me}", emu.base_url()))]).into_response()
}

async fn cdn(State(emu): State<TwilioEmulator>, Path(me): Path<String>) -> Response {
    let inner = emu.inner.lock().unwrap();
    let Some(bytes) = inner.media.get(&format!("bytes:{me}")).and_then(|v| v.first()).and_then(|(_, h)| hex::decode(h).ok()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mime = inner.media.values().flatten().find(|(id, _)| *id == me).map(|(_, m)| m.clone()).unwrap_or_else(|| "application/octet-stream".into());
    ([("content-type", mime)], bytes).into_response()
}
