//! Viber's REST Bot API on loopback, as far as the Viber channel uses it: `get_account_info`,
//! `set_webhook` (which calls the webhook with the `webhook` event at once, as Viber does),
//! `send_message` (only to subscribed users; sender names of 28 characters at most); every
//! answer HTTP 200 with a `status` (non-zero on demand: 12 throttled, 2 a bad token); and
//! callbacks signed `X-Viber-Content-Signature` like Viber's.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

pub const AUTH_TOKEN: &str = "445da6az1s345z78-dazcczb2542zv51a-e0vc5fva17480im9";

#[derive(Default)]
struct Inner {
    calls: Vec<crate::Call>,
    next: u64,
    subscribed: HashSet<String>,
    sent: Vec<Value>,
    webhook: Option<String>,
    failures: VecDeque<(i64, String)>,
}

#[derive(Clone)]
pub struct ViberEmulator {
    inner: Arc<Mutex<Inner>>,
    addr: SocketAddr,
    http: reqwest::Client,
}

fn status(code: i64, message: &str) -> Response {
    Json(json!({"status": code, "status_message": message})).into_response()
}

impl ViberEmulator {
    pub async fn start() -> std::io::Result<Self> {
        let inner = Arc::new(Mutex::new(Inner { next: 4912661846655238145, ..Default::default() }));
        let (listener, addr) = crate::listen().await?;
        let emu = ViberEmulator { inner: inner.clone(), addr, http: reqwest::Client::new() };
        let app = Router::new().route("/pa/{endpoint}", post(handle)).with_state(emu.clone());
        crate::serve(listener, app);
        Ok(emu)
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/pa", self.addr)
    }

    pub fn channel_toml(&self, id: &str, webhook_url: Option<&str>) -> String {
        let hook = webhook_url.map(|u| format!("webhook_url = \"{u}\"\n")).unwrap_or_default();
        format!(
            "\n[[channel]]\nid = \"{id}\"\nplugin = \"viber\"\ndisplay_name = \"Viber {id}\"\nallowed_hosts = [\"http://{addr}\"]\n\
             [channel.config]\nbase_url = \"{base}\"\nsender_name = \"Acme Outdoor customer support team\"\n{hook}[channel.secrets]\nauth_token = \"{AUTH_TOKEN}\"\n",
            addr = self.addr,
            base = self.base_url()
        )
    }

    pub fn subscribe(&self, user: &str) {
        self.inner.lock().unwrap().subscribed.insert(user.into());
    }

    pub fn sent(&self) -> Vec<Value> {
        self.inner.lock().unwrap().sent.clone()
    }

    pub fn webhook(&self) -> Option<String> {
        self.inner.lock().unwrap().webhook.clone()
    }

    /// The next call answers this status (with HTTP 200, as Viber does).
    pub fn fail_next(&self, code: i64, message: &str) {
        self.inner.lock().unwrap().failures.push_back((code, message.into()));
    }

    pub fn sign(body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(AUTH_TOKEN.as_bytes()).expect("any key length");
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
    }

    /// A callback to `url`, signed (or with `signature`).
    pub async fn deliver(&self, url: &str, body: &Value, signature: Option<&str>) -> u16 {
        let bytes = serde_json::to_vec(body).unwrap();
        let sig = signature.map(str::to_string).unwrap_or_else(|| Self::sign(&bytes));
        let mut req = self.http.post(url).header("content-type", "application/json").body(bytes);
        if !sig.is_empty() {
            req = req.header("X-Viber-Content-Signature", sig);
        }
        req.send().await.map(|r| r.status().as_u16()).unwrap_or(0)
    }

    /// A user writes to the bot.
    pub fn message(&self, user: &str, name: &str, message: Value) -> Value {
        let mut inner = self.inner.lock().unwrap();
        inner.next += 1;
        json!({"event": "message", "timestamp": chrono::Utc::now().timestamp_millis(), "message_token": inner.next,
            "sender": {"id": user, "name": name, "avatar": "http://avatar.example/a.jpg", "api_version": 2}, "message": message, "silent": false})
    }
}

async fn handle(State(emu): State<ViberEmulator>, axum::extract::Path(endpoint): axum::extract::Path<String>, headers: HeaderMap, Json(b): Json<Value>) -> Response {
    let hook = {
        let mut inner = emu.inner.lock().unwrap();
        inner.calls.push(crate::Call { method: "POST".into(), path: format!("/pa/{endpoint}"), body: b.clone() });
        let token = headers.get("x-viber-auth-token").and_then(|v| v.to_str().ok()).map(str::to_string).or_else(|| b["auth_token"].as_str().map(str::to_string));
        if token.as_deref() != Some(AUTH_TOKEN) {
            return status(2, "invalidAuthToken");
        }
        if let Some((code, message)) = inner.failures.pop_front() {
            return status(code, &message);
        }
        match endpoint.as_str() {
            "get_account_info" => return Json(json!({"status": 0, "status_message": "ok", "id": "pa:75346594275468546724", "name": "Acme Outdoor", "uri": "acmeoutdoor"})).into_response(),
            "send_message" => {
                let receiver = b["receiver"].as_str().unwrap_or_default().to_string();
                if !inner.subscribed.contains(&receiver) {
                    return status(6, "receiverNotSubscribed");
                }
                if b["sender"]["name"].as_str().is_none_or(|n| n.chars().count() > 28) {
                    return status(3, "badData: sender.name is required, 28 characters at most");
                }
                inner.next += 1;
                let token = inner.next;
                inner.sent.push(b.clone());
                return Json(json!({"status": 0, "status_message": "ok", "message_token": token, "chat_hostname": "SN-CHAT-01_"})).into_response();
            }
            "set_webhook" => {
                let Some(url) = b["url"].as_str() else { return status(4, "missingData: url") };
                inner.webhook = Some(url.to_string());
                url.to_string()
            }
            _ => return status(1, "invalidUrl"),
        }
    };
    // Viber checks the URL at once with the `webhook` event and wants 200.
    let check = json!({"event": "webhook", "timestamp": chrono::Utc::now().timestamp_millis(), "chat_hostname": "SN-CHAT-01_", "message_token": 5390485037263425000u64});
    if emu.deliver(&hook, &check, None).await != 200 {
        return status(1, "invalidUrl: the webhook did not answer 200");
    }
    Json(json!({"status": 0, "status_message": "ok", "event_types": b["event_types"]})).into_response()
}
