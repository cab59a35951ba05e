//! The Telegram Bot API on loopback: `{base}/bot{token}/{method}`.
//!
//! Faithful where the connector depends on it: `getUpdates` offset confirmation, long polling,
//! 409 while a webhook is set or when another poller takes over, webhook delivery with
//! `X-Telegram-Bot-Api-Secret-Token` (redelivered until answered 2xx), the error envelope,
//! 429 with `retry_after` on demand, and uploads (`sendPhoto`, `sendDocument`, ... as
//! `multipart/form-data`, kept for `getFile`). Every method call is recorded for assertions,
//! an uploaded file as its name, type, size and SHA-256.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use crate::PHOTO_PNG;

/// The bot the emulator plays.
pub const BOT_ID: i64 = 7_000_000_001;

/// A method call the emulator received.
#[derive(Clone, Debug)]
pub struct Call {
    pub method: String,
    pub params: Value,
    pub at: Instant,
}

#[derive(Default)]
struct Inner {
    updates: VecDeque<Value>,
    next_update_id: i64,
    next_message_id: i64,
    /// Messages by (chat, message id), for replies, reactions and deletions.
    messages: HashMap<(i64, i64), Value>,
    chats: HashMap<i64, Value>,
    webhook: Option<(String, Option<String>)>,
    calls: Vec<Call>,
    failures: HashMap<String, VecDeque<(u16, Value)>>,
    blocked: HashSet<i64>,
    poll_generation: u64,
    webhook_deliveries: u64,
    /// Files customers sent, by `file_id`: the path `getFile` gives, and the bytes.
    files: HashMap<String, (String, Vec<u8>)>,
}


struct Shared {
    /// The bot's token; BotFather's /revoke replaces it and the old one gets 401.
    token: std::sync::RwLock<String>,
    inner: Mutex<Inner>,
    /// Wakes long polls and the webhook sender.
    changed: Notify,
    http: reqwest::Client,
}

/// A running emulator. Dropping it does not stop the server (it ends with the runtime).
#[derive(Clone)]
pub struct TelegramEmulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
}

/// A person writing to the bot.
#[derive(Clone, Debug)]
pub struct User {
    pub id: i64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
}

impl User {
    pub fn new(id: i64, first_name: &str, last_name: Option<&str>, username: Option<&str>) -> Self {
        User { id, first_name: first_name.into(), last_name: last_name.map(Into::into), username: username.map(Into::into) }
    }
    fn json(&self) -> Value {
        let mut u = json!({"id": self.id, "is_bot": false, "first_name": self.first_name, "language_code": "en"});
        if let Some(l) = &self.last_name {
            u["last_name"] = json!(l);
        }
        if let Some(n) = &self.username {
            u["username"] = json!(n);
        }
        u
    }
    fn private_chat(&self) -> Value {
        let mut c = self.json();
        c.as_object_mut().map(|o| {
            o.remove("is_bot");
            o.remove("language_code");
        });
        c["type"] = json!("private");
        c
    }
}

impl TelegramEmulator {
    /// Start on 127.0.0.1 (a free port) with this bot token.
    pub async fn start(token: &str) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            token: std::sync::RwLock::new(token.to_string()),
            inner: Mutex::new(Inner { next_update_id: 100_000, next_message_id: 1, ..Default::default() }),
            changed: Notify::new(),
            http: reqwest::Client::new(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let emulator = TelegramEmulator { shared: shared.clone(), addr };
        let app = Router::new()
            .route("/_emulator/sent", get(sent_view))
            .route("/_emulator/messages", post(move |body| customer_writes(emulator.clone(), body)))
            .route("/_emulator/revoke", post(revoke))
            .route("/{bot}/{method}", any(method))
            .route("/file/{bot}/{*path}", get(download))
            // Uploads: the Bot API takes files of up to 50 MB.
            .layer(axum::extract::DefaultBodyLimit::max(50 << 20))
            .with_state(shared.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        tokio::spawn(deliver_webhooks(shared.clone()));
        Ok(TelegramEmulator { shared, addr })
    }

    /// BotFather's /revoke: the bot gets `new_token` and the old one stops working.
    pub fn revoke_token(&self, new_token: &str) {
        *self.shared.token.write().unwrap() = new_token.to_string();
    }

    /// The Bot API base URL, e.g. `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A `[[channel]]` table for `plugins.toml` running the Telegram plugin against this emulator
    /// (long polls of 2 s, so tests and restarts stay quick).
    pub fn channel_toml(&self, id: &str, poll: bool, token: &str, webhook_secret: &str) -> String {
        format!(
            r#"
[[channel]]
id = "{id}"
plugin = "telegram"
display_name = "Telegram {id}"
poll = {poll}
allowed_hosts = ["{host}"]
[channel.config]
base_url = "{base}"
long_poll_seconds = 2
[channel.secrets]
bot_token = "{token}"
webhook_secret = "{webhook_secret}"
"#,
            host = self.host(),
            base = self.base_url(),
        )
    }

    /// The `allowed_hosts` entry for this emulator (plain HTTP on loopback, named by IP).
    pub fn host(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.shared.inner.lock().expect("emulator lock")
    }

    /// Queue an update (its `update_id` is assigned). Returns the update id.
    pub fn push_update(&self, mut update: Value) -> i64 {
        let id = {
            let mut inner = self.lock();
            inner.next_update_id += 1;
            let id = inner.next_update_id;
            update["update_id"] = json!(id);
            for key in ["message", "edited_message", "channel_post", "edited_channel_post"] {
                if let Some(m) = update.get(key) {
                    if let (Some(chat), Some(mid)) = (m["chat"]["id"].as_i64(), m["message_id"].as_i64()) {
                        inner.chats.insert(chat, m["chat"].clone());
                        inner.messages.insert((chat, mid), m.clone());
                    }
                }
            }
            inner.updates.push_back(update);
            id
        };
        self.shared.changed.notify_waiters();
        id
    }

    fn new_message_id(&self) -> i64 {
        let mut inner = self.lock();
        inner.next_message_id += 1;
        inner.next_message_id
    }

    fn now() -> i64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs() as i64
    }

    /// A private text message from `user`. Returns its message id.
    pub fn private_text(&self, user: &User, text: &str) -> i64 {
        let id = self.new_message_id();
        self.push_update(json!({"message": {
            "message_id": id, "from": user.json(), "chat": user.private_chat(), "date": Self::now(), "text": text
        }}));
        id
    }

    /// A file the Bot API keeps under `file_id`, as `getFile` and `/file/bot<token>/` give it.
    pub fn add_file(&self, file_id: &str, path: &str, bytes: &[u8]) {
        self.lock().files.insert(file_id.to_string(), (path.to_string(), bytes.to_vec()));
    }

    /// A private photo with a caption (its largest size is [`crate::PHOTO_PNG`]).
    pub fn private_photo(&self, user: &User, caption: &str) -> i64 {
        let id = self.new_message_id();
        self.add_file(&format!("large{id}"), &format!("photos/file_{id}.jpg"), PHOTO_PNG);
        let size = |w: i64, fid: &str| json!({"file_id": fid, "file_unique_id": format!("u{fid}"), "file_size": w * 90, "width": w, "height": w});
        self.push_update(json!({"message": {
            "message_id": id, "from": user.json(), "chat": user.private_chat(), "date": Self::now(),
            "photo": [size(90, &format!("small{id}")), size(800, &format!("large{id}"))], "caption": caption
        }}));
        id
    }

    /// A private document (any file) with its name and type.
    pub fn private_document(&self, user: &User, name: &str, mime: &str, bytes: &[u8]) -> i64 {
        let id = self.new_message_id();
        let file_id = format!("doc{id}");
        self.add_file(&file_id, &format!("documents/file_{id}"), bytes);
        self.push_update(json!({"message": {
            "message_id": id, "from": user.json(), "chat": user.private_chat(), "date": Self::now(),
            "document": {"file_id": file_id, "file_unique_id": format!("u{file_id}"), "file_name": name, "mime_type": mime, "file_size": bytes.len()}
        }}));
        id
    }

    /// A private location.
    pub fn private_location(&self, user: &User, latitude: f64, longitude: f64) -> i64 {
        let id = self.new_message_id();
        self.push_update(json!({"message": {
            "message_id": id, "from": user.json(), "chat": user.private_chat(), "date": Self::now(),
            "location": {"latitude": latitude, "longitude": longitude}
        }}));
        id
    }

    /// A message in a group chat.
    pub fn group_text(&self, group_id: i64, title: &str, user: &User, text: &str) -> i64 {
        let id = self.new_message_id();
        self.push_update(json!({"message": {
            "message_id": id, "from": user.json(),
            "chat": {"id": group_id, "title": title, "type": "supergroup", "username": title.to_lowercase().replace(' ', "_")},
            "date": Self::now(), "text": text
        }}));
        id
    }

    /// A post in a channel the bot administers.
    pub fn channel_post(&self, channel_id: i64, title: &str, text: &str) -> i64 {
        let id = self.new_message_id();
        let chat = json!({"id": channel_id, "title": title, "type": "channel", "username": title.to_lowercase().replace(' ', "_")});
        self.push_update(json!({"channel_post": {
            "message_id": id, "sender_chat": chat, "chat": chat, "date": Self::now(), "text": text
        }}));
        id
    }

    /// The user edits a message they sent earlier.
    pub fn edit_private_text(&self, user: &User, message_id: i64, text: &str) {
        self.push_update(json!({"edited_message": {
            "message_id": message_id, "from": user.json(), "chat": user.private_chat(),
            "date": Self::now() - 5, "edit_date": Self::now(), "text": text
        }}));
    }

    /// The user blocks the bot: a `my_chat_member` update, and 403 on later sends.
    pub fn block_bot(&self, user: &User) {
        self.lock().blocked.insert(user.id);
        self.push_update(json!({"my_chat_member": {
            "chat": user.private_chat(), "from": user.json(), "date": Self::now(),
            "old_chat_member": {"user": {"id": BOT_ID, "is_bot": true, "first_name": "Support"}, "status": "member"},
            "new_chat_member": {"user": {"id": BOT_ID, "is_bot": true, "first_name": "Support"}, "status": "kicked", "until_date": 0}
        }}));
    }

    /// The next `method` call fails with this status and Telegram's error envelope.
    pub fn fail_next(&self, method: &str, status: u16, description: &str, retry_after: Option<u64>) {
        let mut body = json!({"ok": false, "error_code": status, "description": description});
        if let Some(s) = retry_after {
            body["parameters"] = json!({"retry_after": s});
        }
        self.lock().failures.entry(method.to_lowercase()).or_default().push_back((status, body));
    }

    /// Every call of `method` so far.
    pub fn calls(&self, method: &str) -> Vec<Call> {
        self.lock().calls.iter().filter(|c| c.method.eq_ignore_ascii_case(method)).cloned().collect()
    }

    /// Updates not yet confirmed by an offset (or, with a webhook, not yet delivered).
    pub fn pending_updates(&self) -> usize {
        self.lock().updates.len()
    }

    pub fn webhook_deliveries(&self) -> u64 {
        self.lock().webhook_deliveries
    }

    /// Wait until `method` has been called `n` times (or the timeout passes).
    pub async fn wait_calls(&self, method: &str, n: usize, timeout: Duration) -> Vec<Call> {
        let deadline = Instant::now() + timeout;
        loop {
            let calls = self.calls(method);
            if calls.len() >= n || Instant::now() > deadline {
                return calls;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn ok(result: Value) -> Response {
    Json(json!({"ok": true, "result": result})).into_response()
}

fn error(status: u16, description: &str) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (code, Json(json!({"ok": false, "error_code": status, "description": description}))).into_response()
}

/// A file uploaded with a method call: its field, name, type and bytes.
struct Upload {
    field: String,
    name: String,
    mime_type: String,
    bytes: Vec<u8>,
}

/// Parameters from the query string, a form, a JSON body or a multipart form (Telegram accepts
/// each), and the files uploaded; a file's parameter is its name, type, size and SHA-256.
async fn params(query: HashMap<String, String>, headers: &HeaderMap, body: Bytes) -> Result<(Value, Vec<Upload>), Response> {
    let mut p: serde_json::Map<String, Value> =
        query.into_iter().map(|(k, v)| (k, serde_json::from_str(&v).unwrap_or(Value::String(v)))).collect();
    let mut uploads = Vec::new();
    let ct = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !body.is_empty() {
        if ct.starts_with("multipart/form-data") {
            let bad = || error(400, "Bad Request: can't parse multipart/form-data");
            let boundary = multer::parse_boundary(ct).map_err(|_| bad())?;
            let stream = futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(body) });
            let mut form = multer::Multipart::new(stream, boundary);
            while let Some(field) = form.next_field().await.map_err(|_| bad())? {
                let name = field.name().unwrap_or_default().to_string();
                let file = field.file_name().map(str::to_string);
                let mime = field.content_type().map(|m| m.to_string()).unwrap_or_else(|| "application/octet-stream".into());
                let bytes = field.bytes().await.map_err(|_| bad())?.to_vec();
                match file {
                    Some(file_name) => {
                        use sha2::Digest;
                        let sha = hex::encode(sha2::Sha256::digest(&bytes));
                        p.insert(name.clone(), json!({"file_name": file_name, "mime_type": mime, "size": bytes.len(), "sha256": sha}));
                        uploads.push(Upload { field: name, name: file_name, mime_type: mime, bytes });
                    }
                    None => {
                        let v = String::from_utf8_lossy(&bytes).into_owned();
                        p.insert(name, serde_json::from_str(&v).unwrap_or(Value::String(v)));
                    }
                }
            }
        } else if ct.starts_with("application/json") {
            match serde_json::from_slice::<Value>(&body) {
                Ok(Value::Object(o)) => p.extend(o),
                _ => return Err(error(400, "Bad Request: can't parse JSON object")),
            }
        } else if ct.starts_with("application/x-www-form-urlencoded") {
            for pair in String::from_utf8_lossy(&body).split('&') {
                if let Some((k, v)) = pair.split_once('=') {
                    let v = v.replace('+', " ");
                    p.insert(k.to_string(), serde_json::from_str(&v).unwrap_or(Value::String(v)));
                }
            }
        }
    }
    Ok((Value::Object(p), uploads))
}

/// `POST /_emulator/revoke {"token": NEW}`: `revoke_token` for the browser tests.
async fn revoke(State(s): State<Arc<Shared>>, Json(body): Json<Value>) -> StatusCode {
    match body["token"].as_str() {
        Some(t) if !t.is_empty() => {
            *s.token.write().unwrap() = t.to_string();
            StatusCode::NO_CONTENT
        }
        _ => StatusCode::BAD_REQUEST,
    }
}

/// `GET /file/bot<token>/<file_path>`: a file's bytes, as `application/octet-stream`.
async fn download(State(s): State<Arc<Shared>>, Path((bot, path)): Path<(String, String)>) -> Response {
    if bot.strip_prefix("bot") != Some(s.token.read().unwrap().as_str()) {
        return error(401, "Unauthorized");
    }
    let inner = s.inner.lock().expect("emulator lock");
    match inner.files.values().find(|(p, _)| *p == path) {
        Some((_, bytes)) => ([("content-type", "application/octet-stream")], bytes.clone()).into_response(),
        None => error(404, "Not Found"),
    }
}

async fn method(
    State(s): State<Arc<Shared>>,
    Path((bot, method)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if bot.strip_prefix("bot") != Some(s.token.read().unwrap().as_str()) {
        return error(401, "Unauthorized");
    }
    let (p, uploads) = match params(query, &headers, body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let name = method.to_lowercase();
    {
        let mut inner = s.inner.lock().expect("emulator lock");
        inner.calls.push(Call { method: method.clone(), params: p.clone(), at: Instant::now() });
        if let Some((status, body)) = inner.failures.get_mut(&name).and_then(|q| q.pop_front()) {
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
            return (code, Json(body)).into_response();
        }
    }
    match name.as_str() {
        "getme" => ok(bot_user()),
        "getfile" => {
            let id = p["file_id"].as_str().unwrap_or_default();
            match s.inner.lock().expect("emulator lock").files.get(id) {
                // The Bot API downloads files of up to 20 MB; past that `file_path` is absent.
                Some((path, bytes)) => ok(json!({"file_id": id, "file_unique_id": format!("u{id}"), "file_size": bytes.len(), "file_path": path})),
                None => error(400, "Bad Request: invalid file_id"),
            }
        }
        "getupdates" => get_updates(&s, &p).await,
        "setwebhook" => {
            let url = p["url"].as_str().unwrap_or_default().to_string();
            let secret = p["secret_token"].as_str().map(str::to_string);
            if let Some(sec) = &secret {
                if sec.is_empty() || sec.len() > 256 || !sec.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                    return error(400, "Bad Request: secret token contains unallowed characters");
                }
            }
            s.inner.lock().expect("emulator lock").webhook = if url.is_empty() { None } else { Some((url, secret)) };
            s.changed.notify_waiters();
            ok(json!(true))
        }
        "deletewebhook" => {
            s.inner.lock().expect("emulator lock").webhook = None;
            ok(json!(true))
        }
        "getwebhookinfo" => {
            let inner = s.inner.lock().expect("emulator lock");
            let url = inner.webhook.as_ref().map(|w| w.0.clone()).unwrap_or_default();
            ok(json!({"url": url, "has_custom_certificate": false, "pending_update_count": inner.updates.len()}))
        }
        "sendmessage" => send_message(&s, &p),
        "sendphoto" => send_file(&s, &p, uploads, "photo"),
        "sendvideo" => send_file(&s, &p, uploads, "video"),
        "sendaudio" => send_file(&s, &p, uploads, "audio"),
        "senddocument" => send_file(&s, &p, uploads, "document"),
        "setmessagereaction" => {
            let key = (p["chat_id"].as_i64().unwrap_or_default(), p["message_id"].as_i64().unwrap_or_default());
            if !s.inner.lock().expect("emulator lock").messages.contains_key(&key) {
                return error(400, "Bad Request: message to react not found");
            }
            ok(json!(true))
        }
        "deletemessage" => {
            let key = (p["chat_id"].as_i64().unwrap_or_default(), p["message_id"].as_i64().unwrap_or_default());
            match s.inner.lock().expect("emulator lock").messages.remove(&key) {
                Some(_) => ok(json!(true)),
                None => error(400, "Bad Request: message to delete not found"),
            }
        }
        "banchatmember" => {
            let chat = p["chat_id"].as_i64().unwrap_or_default();
            let inner = s.inner.lock().expect("emulator lock");
            match inner.chats.get(&chat).and_then(|c| c["type"].as_str()) {
                Some("supergroup" | "group" | "channel") => ok(json!(true)),
                Some(_) => error(400, "Bad Request: method is available for supergroup and channel chats only"),
                None => error(400, "Bad Request: chat not found"),
            }
        }
        _ => error(404, "Not Found"),
    }
}

fn bot_user() -> Value {
    json!({"id": BOT_ID, "is_bot": true, "first_name": "Acme Support", "username": "acme_support_bot"})
}

fn send_message(s: &Shared, p: &Value) -> Response {
    let Some(chat_id) = p["chat_id"].as_i64() else { return error(400, "Bad Request: chat_id is empty") };
    let text = p["text"].as_str().unwrap_or_default();
    if text.is_empty() {
        return error(400, "Bad Request: message text is empty");
    }
    if text.chars().count() > 4096 {
        return error(400, "Bad Request: message is too long");
    }
    bot_writes(s, chat_id, p, |_, _, message| message["text"] = json!(text))
}

/// The bot's message in `chat_id`, as `fill` completes it (its text, its file), answering
/// `reply_parameters`; refused as Telegram does when the user blocked the bot or the chat is unknown.
fn bot_writes(s: &Shared, chat_id: i64, p: &Value, fill: impl FnOnce(&mut Inner, i64, &mut Value)) -> Response {
    let mut inner = s.inner.lock().expect("emulator lock");
    if inner.blocked.contains(&chat_id) {
        return error(403, "Forbidden: bot was blocked by the user");
    }
    let Some(chat) = inner.chats.get(&chat_id).cloned() else { return error(400, "Bad Request: chat not found") };
    inner.next_message_id += 1;
    let id = inner.next_message_id;
    let mut message = json!({"message_id": id, "from": bot_user(), "chat": chat, "date": TelegramEmulator::now()});
    fill(&mut inner, id, &mut message);
    if let Some(reply_to) = p["reply_parameters"]["message_id"].as_i64() {
        if let Some(original) = inner.messages.get(&(chat_id, reply_to)) {
            message["reply_to_message"] = original.clone();
        }
    }
    inner.messages.insert((chat_id, id), message.clone());
    ok(message)
}

/// `sendPhoto`, `sendVideo`, `sendAudio`, `sendDocument`: the file uploaded as `field` (a
/// `file_id` sent before is not supported here), with an optional caption.
fn send_file(s: &Shared, p: &Value, uploads: Vec<Upload>, field: &str) -> Response {
    let Some(chat_id) = p["chat_id"].as_i64() else { return error(400, "Bad Request: chat_id is empty") };
    let Some(upload) = uploads.into_iter().find(|u| u.field == field) else {
        return error(400, &format!("Bad Request: there is no {field} in the request"));
    };
    if upload.bytes.is_empty() {
        return error(400, "Bad Request: file must be non-empty");
    }
    // Photos are at most 10 MB; other files 50 MB (the body limit).
    if field == "photo" && upload.bytes.len() > 10 << 20 {
        return error(400, "Bad Request: PHOTO_INVALID_DIMENSIONS");
    }
    let caption = p["caption"].as_str().unwrap_or_default();
    if caption.chars().count() > 1024 {
        return error(400, "Bad Request: message caption is too long");
    }
    bot_writes(s, chat_id, p, |inner, id, message| {
        let file_id = format!("sent{field}{id}");
        let size = upload.bytes.len();
        inner.files.insert(file_id.clone(), (format!("{field}s/file_{id}"), upload.bytes));
        let mut file = json!({"file_id": file_id, "file_unique_id": format!("u{file_id}"), "file_size": size});
        message[field] = if field == "photo" {
            file["width"] = json!(800);
            file["height"] = json!(800);
            json!([file])
        } else {
            file["file_name"] = json!(upload.name);
            file["mime_type"] = json!(upload.mime_type);
            file
        };
        if !caption.is_empty() {
            message["caption"] = json!(caption);
        }
    })
}

async fn get_updates(s: &Shared, p: &Value) -> Response {
    let offset = p["offset"].as_i64();
    let limit = p["limit"].as_u64().unwrap_or(100).clamp(1, 100) as usize;
    let timeout = Duration::from_secs(p["timeout"].as_u64().unwrap_or(0).min(50));
    let generation = {
        let mut inner = s.inner.lock().expect("emulator lock");
        if inner.webhook.is_some() {
            return error(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
        }
        inner.poll_generation += 1;
        // Confirm everything before the offset.
        match offset {
            Some(o) if o >= 0 => inner.updates.retain(|u| u["update_id"].as_i64().unwrap_or_default() >= o),
            Some(o) => {
                let keep = o.unsigned_abs() as usize;
                while inner.updates.len() > keep {
                    inner.updates.pop_front();
                }
            }
            None => {}
        }
        inner.poll_generation
    };
    // A newer getUpdates ends this one with 409, as Telegram does.
    s.changed.notify_waiters();
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let notified = s.changed.notified();
        {
            let inner = s.inner.lock().expect("emulator lock");
            if inner.poll_generation != generation {
                return error(409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running");
            }
            let batch: Vec<Value> = inner.updates.iter().take(limit).cloned().collect();
            if !batch.is_empty() || tokio::time::Instant::now() >= deadline {
                return ok(Value::Array(batch));
            }
        }
        let _ = tokio::time::timeout_at(deadline, notified).await;
    }
}

async fn deliver_webhooks(s: Arc<Shared>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let notified = s.changed.notified();
        let next = {
            let inner = s.inner.lock().expect("emulator lock");
            inner.webhook.clone().and_then(|w| inner.updates.front().cloned().map(|u| (w, u)))
        };
        let Some(((url, secret), update)) = next else {
            let _ = tokio::time::timeout(Duration::from_millis(500), notified).await;
            continue;
        };
        let mut req = s.http.post(&url).json(&update).timeout(Duration::from_secs(30));
        if let Some(secret) = secret {
            req = req.header("X-Telegram-Bot-Api-Secret-Token", secret);
        }
        let delivered = matches!(req.send().await, Ok(r) if r.status().is_success());
        {
            let mut inner = s.inner.lock().expect("emulator lock");
            inner.webhook_deliveries += 1;
            if delivered {
                let id = update["update_id"].as_i64();
                inner.updates.retain(|u| u["update_id"].as_i64() != id);
            }
        }
        if delivered {
            backoff = Duration::from_millis(100);
        } else {
            // Telegram keeps an undelivered update and retries it later.
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    }
}

/// `POST /_emulator/messages {"user_id", "first_name", "text", "count"?, "edits"?}`: a customer writes to
/// the bot (`count` numbered messages at once), or edits an earlier message
/// (for tests and tools outside Rust, such as the browser tests).
async fn customer_writes(emu: TelegramEmulator, Json(body): Json<Value>) -> Response {
    let (Some(id), Some(name), Some(text)) = (body["user_id"].as_i64(), body["first_name"].as_str(), body["text"].as_str()) else {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "need user_id, first_name and text"}))).into_response();
    };
    let user = User::new(id, name, body["last_name"].as_str(), body["username"].as_str());
    // `edits`: the customer changes the text of that earlier message instead.
    if let Some(earlier) = body["edits"].as_i64() {
        emu.edit_private_text(&user, earlier, text);
        return Json(json!({"message_id": earlier})).into_response();
    }
    // `photo`: a picture with the text as its caption.
    if body["photo"].as_bool() == Some(true) {
        return Json(json!({"message_id": emu.private_photo(&user, text)})).into_response();
    }
    let count = body["count"].as_u64().unwrap_or(1).clamp(1, 10_000);
    let mut last = 0;
    for n in 0..count {
        last = emu.private_text(&user, &if count == 1 { text.to_string() } else { format!("{text} {}", n + 1) });
    }
    Json(json!({"message_id": last})).into_response()
}

async fn sent_view(State(s): State<Arc<Shared>>) -> Json<Value> {
    let inner = s.inner.lock().expect("emulator lock");
    let sent: Vec<Value> = inner
        .calls
        .iter()
        .filter(|c| !c.method.eq_ignore_ascii_case("getUpdates"))
        .map(|c| json!({"method": c.method, "params": c.params}))
        .collect();
    Json(json!({"calls": sent}))
}
