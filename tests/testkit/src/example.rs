//! The Example platform of `plugins/examples` (the channel written in Rust, TypeScript and
//! Python): a token, a paged list of messages (`GET /v1/messages?since=&limit=`), a send call
//! (`POST /v1/conversations/{id}/messages`) and `GET /v1/me`, as its fixtures record them.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Inner {
    messages: Vec<Value>,
    sent: Vec<Value>,
}

struct Shared {
    token: String,
    inner: Mutex<Inner>,
}

#[derive(Clone)]
pub struct ExampleEmulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
}

impl ExampleEmulator {
    pub async fn start(token: &str) -> std::io::Result<Self> {
        let shared = Arc::new(Shared { token: token.into(), inner: Mutex::default() });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let app = Router::new()
            .route("/v1/me", get(me))
            .route("/v1/messages", get(messages))
            .route("/v1/conversations/{id}/messages", post(send))
            .with_state(shared.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(ExampleEmulator { shared, addr })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A `[[channel]]` of `plugin` (one of the Example's components) against this emulator.
    pub fn channel_toml(&self, id: &str, plugin: &str) -> String {
        let base = self.base_url();
        format!(
            "\n[[channel]]\nid = \"{id}\"\nplugin = \"{plugin}\"\ndisplay_name = \"Example {id}\"\nallowed_hosts = [\"{base}\"]\n\
             [channel.config]\nbase_url = \"{base}\"\n[channel.secrets]\napi_token = \"{}\"\n",
            self.shared.token
        )
    }

    /// A customer writes in conversation `conversation`.
    pub fn customer_writes(&self, conversation: &str, name: &str, text: &str) -> String {
        let mut inner = self.shared.inner.lock().unwrap();
        let id = format!("m{}", inner.messages.len() + 1);
        inner.messages.push(json!({"id": id, "conversation_id": conversation, "author": {"id": format!("u-{name}"), "name": name},
            "text": text, "created_at": chrono::Utc::now().to_rfc3339()}));
        id
    }

    /// What the plugin sent (`POST /v1/conversations/{id}/messages`), with the conversation.
    pub fn sent(&self) -> Vec<Value> {
        self.shared.inner.lock().unwrap().sent.clone()
    }
}

fn authorized(s: &Shared, headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {}", s.token))
}

fn refused() -> Response {
    (StatusCode::UNAUTHORIZED, Json(json!({"error": "invalid_token"}))).into_response()
}

async fn me(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if !authorized(&s, &headers) {
        return refused();
    }
    Json(json!({"name": "Acme Support"})).into_response()
}

async fn messages(State(s): State<Arc<Shared>>, headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    if !authorized(&s, &headers) {
        return refused();
    }
    let inner = s.inner.lock().unwrap();
    let limit: usize = q.get("limit").and_then(|l| l.parse().ok()).unwrap_or(100).clamp(1, 100);
    let start = q.get("since").and_then(|since| inner.messages.iter().position(|m| m["id"] == since.as_str())).map(|p| p + 1).unwrap_or(0);
    let (page, _) = crate::page_of(&inner.messages, start, limit);
    let next = page.last().map(|m| m["id"].clone()).unwrap_or(json!(""));
    let has_more = start + page.len() < inner.messages.len();
    Json(json!({"messages": page, "next": next, "has_more": has_more})).into_response()
}

async fn send(State(s): State<Arc<Shared>>, Path(conversation): Path<String>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if !authorized(&s, &headers) {
        return refused();
    }
    let mut inner = s.inner.lock().unwrap();
    let id = format!("out{}", inner.sent.len() + 1);
    inner.sent.push(json!({"conversation": conversation, "text": body["text"], "reply_to": body["reply_to"]}));
    Json(json!({"id": id, "conversation_id": conversation, "author": {"id": "acme", "name": "Acme"}, "text": body["text"],
        "from_us": true, "reply_to": body["reply_to"], "created_at": chrono::Utc::now().to_rfc3339()}))
    .into_response()
}
