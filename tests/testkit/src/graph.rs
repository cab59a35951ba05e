//! Meta's Graph API on loopback, as far as the WhatsApp Cloud API channel uses it:
//! `POST /{version}/{phone-number-id}/messages` (text, reactions, read receipts), block lists,
//! Graph error bodies and usage headers on demand, and webhooks signed with the app secret
//! (`X-Hub-Signature-256`).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

pub const ACCESS_TOKEN: &str = "EAAG-test-token";
pub const APP_SECRET: &str = "meta-app-secret";
pub const VERIFY_TOKEN: &str = "verify-me";

/// A call the emulator received.
#[derive(Clone, Debug)]
pub struct Call {
    pub method: String,
    /// `{id}/{edge}`, e.g. `1122334455/messages`.
    pub path: String,
    pub body: Value,
}

#[derive(Default)]
struct Inner {
    calls: Vec<Call>,
    next_id: u64,
    /// Planned failures per edge: (status, body, headers).
    failures: HashMap<String, VecDeque<(u16, Value, Vec<(String, String)>)>>,
}

#[derive(Clone)]
pub struct GraphEmulator {
    inner: Arc<Mutex<Inner>>,
    addr: SocketAddr,
    http: reqwest::Client,
}

impl GraphEmulator {
    pub async fn start() -> std::io::Result<Self> {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new().route("/{version}/{id}/{edge}", any(edge)).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(GraphEmulator { inner, addr, http: reqwest::Client::new() })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/v21.0", self.addr)
    }

    /// A WhatsApp `[[channel]]` table for `plugins.toml` against this emulator.
    pub fn whatsapp_channel_toml(&self, id: &str, phone_number_id: &str) -> String {
        format!(
            r#"
[[channel]]
id = "{id}"
plugin = "whatsapp"
display_name = "WhatsApp {id}"
allowed_hosts = ["{addr}"]
[channel.config]
base_url = "{base}"
phone_number_id = "{phone_number_id}"
[channel.secrets]
access_token = "{ACCESS_TOKEN}"
app_secret = "{APP_SECRET}"
verify_token = "{VERIFY_TOKEN}"
"#,
            addr = self.addr,
            base = self.base_url(),
        )
    }

    /// `sha256=<hex HMAC-SHA256(app secret, body)>`.
    pub fn sign(body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(APP_SECRET.as_bytes()).expect("any key length");
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }

    /// POST a webhook body to `url` as Meta does, signed (or with `signature` when given).
    pub async fn deliver(&self, url: &str, body: &[u8], signature: Option<&str>) -> u16 {
        let sig = signature.map(str::to_string).unwrap_or_else(|| Self::sign(body));
        let mut req = self.http.post(url).header("content-type", "application/json").body(body.to_vec());
        if !sig.is_empty() {
            req = req.header("X-Hub-Signature-256", sig);
        }
        req.send().await.map(|r| r.status().as_u16()).unwrap_or(0)
    }

    /// The next call to `edge` fails with this Graph error.
    pub fn fail_next(&self, edge: &str, status: u16, code: i64, message: &str, headers: &[(&str, &str)]) {
        let body = json!({"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf"}});
        let headers = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.inner.lock().unwrap().failures.entry(edge.to_string()).or_default().push_back((status, body, headers));
    }

    /// Every call to `edge` so far.
    pub fn calls(&self, edge: &str) -> Vec<Call> {
        self.inner.lock().unwrap().calls.iter().filter(|c| c.path.ends_with(&format!("/{edge}"))).cloned().collect()
    }
}

/// A WhatsApp Cloud API `messages` webhook carrying one text message, sent now.
pub fn whatsapp_text(phone_number_id: &str, from: &str, name: &str, id: &str, text: &str) -> Value {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": phone_number_id},
        "contacts": [{"profile": {"name": name}, "wa_id": from}],
        "messages": [{"from": from, "id": id, "timestamp": now.to_string(), "type": "text", "text": {"body": text}}]}}]}]})
}

/// A `statuses` webhook for an outbound message.
pub fn whatsapp_status(phone_number_id: &str, message_id: &str, status: &str, error: Option<(i64, &str)>) -> Value {
    let mut s = json!({"id": message_id, "status": status, "timestamp": "1700000000", "recipient_id": "15551234567"});
    if let Some((code, title)) = error {
        s["errors"] = json!([{"code": code, "title": title}]);
    }
    json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"phone_number_id": phone_number_id}, "statuses": [s]}}]}]})
}

async fn edge(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path((_version, id, edge)): Path<(String, String, String)>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if auth != format!("Bearer {ACCESS_TOKEN}") {
        let body = json!({"error": {"message": "Error validating access token: Session has expired", "type": "OAuthException", "code": 190, "error_subcode": 463}});
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut inner = inner.lock().unwrap();
    inner.calls.push(Call { method: method.to_string(), path: format!("{id}/{edge}"), body: body.clone() });
    if let Some((status, err, extra)) = inner.failures.get_mut(&edge).and_then(|q| q.pop_front()) {
        let mut resp = (StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST), Json(err)).into_response();
        for (k, v) in extra {
            resp.headers_mut().insert(axum::http::HeaderName::try_from(k).unwrap(), v.parse().unwrap());
        }
        return resp;
    }
    if body["messaging_product"] != "whatsapp" {
        let e = json!({"error": {"message": "(#100) The parameter messaging_product is required.", "type": "OAuthException", "code": 100}});
        return (StatusCode::BAD_REQUEST, Json(e)).into_response();
    }
    match edge.as_str() {
        "messages" if body["status"] == "read" => Json(json!({"success": true})).into_response(),
        "messages" => {
            inner.next_id += 1;
            let to = body["to"].clone();
            Json(json!({"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": format!("wamid.OUT{}", inner.next_id)}]}))
            .into_response()
        }
        "block_users" => {
            let key = if method == Method::DELETE { "removed_users" } else { "added_users" };
            let users: Vec<Value> = body["block_users"].as_array().cloned().unwrap_or_default().iter()
                .map(|u| json!({"input": u["user"], "wa_id": u["user"]})).collect();
            Json(json!({"messaging_product": "whatsapp", "block_users": {key: users}})).into_response()
        }
        _ => {
            let e = json!({"error": {"message": "Unknown path components", "type": "OAuthException", "code": 2500}});
            (StatusCode::BAD_REQUEST, Json(e)).into_response()
        }
    }
}
