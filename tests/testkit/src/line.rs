//! LINE's Messaging API on loopback, as far as the LINE channel uses it: the bot's info,
//! profiles (counted, to show they are looked up once), reply (each token once, for a minute,
//! unless expired on demand) and push (to followers; the monthly limit on demand), the quota,
//! message content on the data API; and webhooks signed `X-Line-Signature` like LINE's.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

pub const CHANNEL_SECRET: &str = "8c570fa6dd201bb328f1c1eac23a96d8";
pub const ACCESS_TOKEN: &str = "nLzRr3Cq8kB2+line+long+lived+token/Ud44=";

#[derive(Default)]
struct Inner {
    calls: Vec<crate::Call>,
    next: u64,
    profiles: HashMap<String, (String, u32)>,
    followers: HashSet<String>,
    /// Reply tokens: to whom, issued when (ms), used.
    tokens: HashMap<String, (String, i64, bool)>,
    sent: Vec<Value>,
    content: HashMap<String, Vec<u8>>,
    failures: VecDeque<(u16, String)>,
    pushes: u64,
}

#[derive(Clone)]
pub struct LineEmulator {
    inner: Arc<Mutex<Inner>>,
    addr: SocketAddr,
    http: reqwest::Client,
}

fn error(status: u16, message: &str) -> Response {
    (StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST), Json(json!({"message": message}))).into_response()
}

impl LineEmulator {
    pub async fn start() -> std::io::Result<Self> {
        let inner = Arc::new(Mutex::new(Inner { next: 325_708, ..Default::default() }));
        let (listener, addr) = crate::listen().await?;
        let emu = LineEmulator { inner, addr, http: reqwest::Client::new() };
        let app = Router::new()
            .route("/v2/bot/info", get(info))
            .route("/v2/bot/profile/{user}", get(profile))
            .route("/v2/bot/message/reply", post(reply))
            .route("/v2/bot/message/push", post(push))
            .route("/v2/bot/message/quota", get(quota))
            .route("/v2/bot/message/quota/consumption", get(consumption))
            .route("/v2/bot/message/{id}/content", get(content))
            .with_state(emu.clone());
        crate::serve(listener, app);
        Ok(emu)
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn channel_toml(&self, id: &str) -> String {
        format!(
            "\n[[channel]]\nid = \"{id}\"\nplugin = \"line\"\ndisplay_name = \"LINE {id}\"\nallowed_hosts = [\"http://{addr}\"]\n\
             [channel.config]\nbase_url = \"{base}\"\ndata_url = \"{base}\"\n[channel.secrets]\nchannel_secret = \"{CHANNEL_SECRET}\"\nchannel_access_token = \"{ACCESS_TOKEN}\"\n",
            addr = self.addr,
            base = self.base_url()
        )
    }

    /// A LINE user with this display name, who follows the account.
    pub fn add_user(&self, user: &str, name: &str) {
        let mut inner = self.inner.lock().unwrap();
        inner.profiles.insert(user.into(), (name.into(), 0));
        inner.followers.insert(user.into());
    }

    pub fn unfollow(&self, user: &str) {
        self.inner.lock().unwrap().followers.remove(user);
    }

    /// How often a profile was read.
    pub fn profile_reads(&self, user: &str) -> u32 {
        self.inner.lock().unwrap().profiles.get(user).map(|p| p.1).unwrap_or(0)
    }

    /// Every reply token issued so far is past its minute.
    pub fn expire_reply_tokens(&self) {
        for t in self.inner.lock().unwrap().tokens.values_mut() {
            t.1 -= 120_000;
        }
    }

    pub fn fail_next(&self, status: u16, message: &str) {
        self.inner.lock().unwrap().failures.push_back((status, message.into()));
    }

    /// What we sent: `{"via": "reply"|"push", "to", "messages"}`.
    pub fn sent(&self) -> Vec<Value> {
        self.inner.lock().unwrap().sent.clone()
    }

    pub fn sign(body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(CHANNEL_SECRET.as_bytes()).expect("any key length");
        mac.update(body);
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    }

    /// A webhook delivery of `events` to `url`, signed (or with `signature`).
    pub async fn deliver(&self, url: &str, events: Vec<Value>, signature: Option<&str>) -> u16 {
        let bytes = serde_json::to_vec(&json!({"destination": "U4af4980629dest", "events": events})).unwrap();
        let sig = signature.map(str::to_string).unwrap_or_else(|| Self::sign(&bytes));
        let mut req = self.http.post(url).header("content-type", "application/json").body(bytes);
        if !sig.is_empty() {
            req = req.header("x-line-signature", sig);
        }
        req.send().await.map(|r| r.status().as_u16()).unwrap_or(0)
    }

    /// A message event from `user` (its reply token issued now); `message` without its id.
    pub fn message(&self, user: &str, mut message: Value) -> Value {
        let mut inner = self.inner.lock().unwrap();
        inner.next += 1;
        let id = inner.next.to_string();
        let token = format!("{:032x}", 0x0f37_79fb_u64 * 1000 + inner.next);
        let now = chrono::Utc::now().timestamp_millis();
        inner.tokens.insert(token.clone(), (user.to_string(), now, false));
        message["id"] = json!(id);
        if message["type"] == "image" {
            message["contentProvider"] = json!({"type": "line"});
            inner.content.insert(id.clone(), crate::PHOTO_PNG.to_vec());
        }
        json!({"replyToken": token, "type": "message", "mode": "active", "timestamp": now, "webhookEventId": format!("01H{id}"),
            "deliveryContext": {"isRedelivery": false}, "source": {"type": "user", "userId": user}, "message": message})
    }

    pub fn event(&self, kind: &str, user: &str) -> Value {
        json!({"type": kind, "mode": "active", "timestamp": chrono::Utc::now().timestamp_millis(), "source": {"type": "user", "userId": user},
            "webhookEventId": format!("01H{kind}{user}"), "deliveryContext": {"isRedelivery": false}})
    }
}

/// The token, the call's record and a failure asked for, before any endpoint.
fn gate(emu: &LineEmulator, method: &str, path: String, headers: &HeaderMap, body: Value) -> Option<Response> {
    let mut inner = emu.inner.lock().unwrap();
    inner.calls.push(crate::Call { method: method.into(), path, body });
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(format!("Bearer {ACCESS_TOKEN}").as_str()) {
        return Some(error(401, "Authentication failed. Confirm that the access token in the authorization header is valid."));
    }
    inner.failures.pop_front().map(|(s, m)| error(s, &m))
}

async fn info(State(emu): State<LineEmulator>, headers: HeaderMap) -> Response {
    if let Some(r) = gate(&emu, "GET", "/v2/bot/info".into(), &headers, Value::Null) {
        return r;
    }
    Json(json!({"userId": "U4af4980629dest", "basicId": "@acme.outdoor", "displayName": "Acme Outdoor", "chatMode": "chat", "markAsReadMode": "manual"})).into_response()
}

async fn profile(State(emu): State<LineEmulator>, Path(user): Path<String>, headers: HeaderMap) -> Response {
    if let Some(r) = gate(&emu, "GET", format!("/v2/bot/profile/{user}"), &headers, Value::Null) {
        return r;
    }
    let mut inner = emu.inner.lock().unwrap();
    let following = inner.followers.contains(&user);
    match inner.profiles.get_mut(&user) {
        Some((name, reads)) if following => {
            *reads += 1;
            Json(json!({"displayName": name, "userId": user, "language": "ja", "pictureUrl": "https://profile.line-scdn.net/abcdefghijklmn", "statusMessage": "Hello, LINE!"})).into_response()
        }
        _ => error(404, "Not found"),
    }
}

async fn reply(State(emu): State<LineEmulator>, headers: HeaderMap, Json(b): Json<Value>) -> Response {
    if let Some(r) = gate(&emu, "POST", "/v2/bot/message/reply".into(), &headers, b.clone()) {
        return r;
    }
    let mut inner = emu.inner.lock().unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    let token = b["replyToken"].as_str().unwrap_or_default();
    let Some((to, _, _)) = inner.tokens.get(token).filter(|(_, at, used)| !used && now - at < 60_000).cloned() else {
        return error(400, "Invalid reply token");
    };
    inner.tokens.get_mut(token).unwrap().2 = true;
    inner.next += 1;
    let id = inner.next.to_string();
    inner.sent.push(json!({"via": "reply", "to": to, "messages": b["messages"]}));
    Json(json!({"sentMessages": [{"id": id, "quoteToken": "IStG5h1Tz7b..."}]})).into_response()
}

async fn push(State(emu): State<LineEmulator>, headers: HeaderMap, Json(b): Json<Value>) -> Response {
    if let Some(r) = gate(&emu, "POST", "/v2/bot/message/push".into(), &headers, b.clone()) {
        return r;
    }
    let mut inner = emu.inner.lock().unwrap();
    let to = b["to"].as_str().unwrap_or_default().to_string();
    if !inner.followers.contains(&to) {
        return error(400, "Failed to send messages");
    }
    inner.next += 1;
    inner.pushes += 1;
    let id = inner.next.to_string();
    inner.sent.push(json!({"via": "push", "to": to, "messages": b["messages"]}));
    Json(json!({"sentMessages": [{"id": id, "quoteToken": "IStG5h1Tz7b..."}]})).into_response()
}

async fn quota(State(emu): State<LineEmulator>, headers: HeaderMap) -> Response {
    if let Some(r) = gate(&emu, "GET", "/v2/bot/message/quota".into(), &headers, Value::Null) {
        return r;
    }
    Json(json!({"type": "limited", "value": 500})).into_response()
}

async fn consumption(State(emu): State<LineEmulator>, headers: HeaderMap) -> Response {
    if let Some(r) = gate(&emu, "GET", "/v2/bot/message/quota/consumption".into(), &headers, Value::Null) {
        return r;
    }
    let used = emu.inner.lock().unwrap().pushes;
    Json(json!({"totalUsage": used})).into_response()
}

async fn content(State(emu): State<LineEmulator>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if let Some(r) = gate(&emu, "GET", format!("/v2/bot/message/{id}/content"), &headers, Value::Null) {
        return r;
    }
    match emu.inner.lock().unwrap().content.get(&id) {
        Some(bytes) => ([("content-type", "image/png")], bytes.clone()).into_response(),
        None => error(404, "Not found"),
    }
}
