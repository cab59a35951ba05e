//! X API v2 on loopback, as far as the X channel uses it: the account's posts, mentions
//! (newest first, `since_id`, `next_token` paging, authors in `includes.users`), recent search
//! (`conversation_id:` and words, `-from:`), DM events, the write endpoints (posts, replies,
//! quotes, likes, reposts, hidden replies, follows, mutes; blocking only on the Enterprise
//! plan), 429s with `x-rate-limit-*` headers and both error shapes on demand; and Account
//! Activity deliveries signed like X's, with its CRC.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

pub const ACCESS_TOKEN: &str = "x-user-access-token";
pub const CONSUMER_SECRET: &str = "x-consumer-secret";
pub const BRAND_ID: &str = "1500000000000000001";
pub const BRAND: &str = "acme";

pub use crate::Call;

struct Inner {
    calls: Vec<Call>,
    next: u64,
    users: HashMap<String, Value>,
    tweets: Vec<Value>,
    dms: Vec<Value>,
    enterprise: bool,
    failures: HashMap<String, VecDeque<(u16, Value, Vec<(String, String)>)>>,
}

#[derive(Clone)]
pub struct XEmulator {
    inner: Arc<Mutex<Inner>>,
    addr: SocketAddr,
    http: reqwest::Client,
}

fn problem(status: u16, title: &str, detail: &str) -> Response {
    (StatusCode::from_u16(status).unwrap(), Json(json!({"title": title, "detail": detail, "type": format!("https://api.x.com/2/problems/{}", title.to_lowercase().replace(' ', "-"))})))
        .into_response()
}

impl XEmulator {
    pub async fn start() -> std::io::Result<Self> {
        let mut users = HashMap::new();
        users.insert(BRAND_ID.to_string(), json!({"id": BRAND_ID, "name": "Acme", "username": BRAND}));
        let inner = Arc::new(Mutex::new(Inner { calls: Vec::new(), next: 1, users, tweets: Vec::new(), dms: Vec::new(), enterprise: false, failures: HashMap::new() }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let app = Router::new().fallback(handle).with_state(inner.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(XEmulator { inner, addr, http: reqwest::Client::new() })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/2", self.addr)
    }

    pub fn channel_toml(&self, id: &str, listen: &[&str], plan: &str) -> String {
        format!(
            "\n[[channel]]\nid = \"{id}\"\nplugin = \"x\"\ndisplay_name = \"X {id}\"\nallowed_hosts = [\"http://{addr}\"]\n\
             [channel.config]\nuser_id = \"{BRAND_ID}\"\nusername = \"{BRAND}\"\nbase_url = \"{base}\"\npoll_seconds = \"1\"\nlisten_terms = \"{terms}\"\nplan = \"{plan}\"\n\
             [channel.secrets]\naccess_token = \"{ACCESS_TOKEN}\"\nconsumer_secret = \"{CONSUMER_SECRET}\"\n",
            addr = self.addr,
            base = self.base_url(),
            terms = listen.join(",")
        )
    }

    pub fn set_enterprise(&self, on: bool) {
        self.inner.lock().unwrap().enterprise = on;
    }

    fn id(inner: &mut Inner) -> String {
        inner.next += 1;
        // Snowflakes grow with time.
        format!("1578{:015}", inner.next)
    }

    pub fn add_user(&self, id: &str, name: &str, username: &str) {
        self.inner.lock().unwrap().users.insert(id.into(), json!({"id": id, "name": name, "username": username,
            "profile_image_url": format!("https://pbs.twimg.com/profile_images/{id}_normal.jpg")}));
    }

    /// A post by `author` (`reply_to`: the post it answers). Its id.
    pub fn post(&self, author: &str, text: &str, reply_to: Option<&str>) -> String {
        let mut inner = self.inner.lock().unwrap();
        let id = Self::id(&mut inner);
        let (conversation, reply_user) = match reply_to.and_then(|p| inner.tweets.iter().find(|t| t["id"] == p)) {
            Some(parent) => (parent["conversation_id"].as_str().unwrap_or(&id).to_string(), parent["author_id"].as_str().map(str::to_string)),
            None => (id.clone(), None),
        };
        let mut t = json!({"id": id, "text": text, "author_id": author, "conversation_id": conversation, "created_at": chrono::Utc::now().to_rfc3339(),
            "edit_history_tweet_ids": [id]});
        if let Some(p) = reply_to {
            t["referenced_tweets"] = json!([{"type": "replied_to", "id": p}]);
            t["in_reply_to_user_id"] = json!(reply_user);
        }
        inner.tweets.push(t);
        id
    }

    /// A DM from `sender` to the brand. Its event id.
    pub fn dm(&self, sender: &str, text: &str) -> String {
        let mut inner = self.inner.lock().unwrap();
        let id = Self::id(&mut inner);
        let conversation = conversation(sender, BRAND_ID);
        inner.dms.push(json!({"id": id, "event_type": "MessageCreate", "text": text, "sender_id": sender, "dm_conversation_id": conversation,
            "created_at": chrono::Utc::now().to_rfc3339()}));
        id
    }

    pub fn tweet(&self, id: &str) -> Value {
        self.inner.lock().unwrap().tweets.iter().find(|t| t["id"] == id).cloned().unwrap_or(Value::Null)
    }

    pub fn calls(&self, prefix: &str) -> Vec<Call> {
        self.inner.lock().unwrap().calls.iter().filter(|c| c.path.starts_with(&format!("/2/{prefix}"))).cloned().collect()
    }

    /// The next call whose path starts with `/2/{prefix}` answers 429, reset in `reset_in` seconds.
    pub fn rate_limit_next(&self, prefix: &str, reset_in: i64) {
        let reset = (crate::now_secs() + reset_in).to_string();
        let headers = vec![("x-rate-limit-limit".into(), "450".into()), ("x-rate-limit-remaining".into(), "0".into()), ("x-rate-limit-reset".into(), reset)];
        let body = json!({"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429});
        self.inner.lock().unwrap().failures.entry(format!("/2/{prefix}")).or_default().push_back((429, body, headers));
    }

    /// The next such call fails with this status and body (problem JSON or `errors[]`).
    pub fn fail_next(&self, prefix: &str, status: u16, body: Value) {
        self.inner.lock().unwrap().failures.entry(format!("/2/{prefix}")).or_default().push_back((status, body, Vec::new()));
    }

    /// `sha256=<base64 HMAC-SHA256(consumer secret, data)>`.
    pub fn sign(data: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(CONSUMER_SECRET.as_bytes()).expect("any key length");
        mac.update(data);
        format!("sha256={}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()))
    }

    /// X's CRC against `url`: whether the answer proves the secret.
    pub async fn crc(&self, url: &str) -> bool {
        let token = "challenge-1234";
        let Ok(r) = self.http.get(format!("{url}?crc_token={token}")).send().await else { return false };
        let body: Value = r.json().await.unwrap_or(Value::Null);
        body["response_token"].as_str() == Some(Self::sign(token.as_bytes()).as_str())
    }

    /// An Account Activity delivery to `url`, signed (or with `signature`).
    pub async fn deliver(&self, url: &str, body: &Value, signature: Option<&str>) -> u16 {
        let bytes = serde_json::to_vec(body).unwrap();
        let sig = signature.map(str::to_string).unwrap_or_else(|| Self::sign(&bytes));
        let mut req = self.http.post(url).header("content-type", "application/json").body(bytes);
        if !sig.is_empty() {
            req = req.header("x-twitter-webhooks-signature", sig);
        }
        req.send().await.map(|r| r.status().as_u16()).unwrap_or(0)
    }
}

pub fn conversation(a: &str, b: &str) -> String {
    let key = |s: &str| (s.len(), s.to_string());
    if key(a) <= key(b) { format!("{a}-{b}") } else { format!("{b}-{a}") }
}

fn params(query: &Option<String>) -> HashMap<String, String> {
    query.as_deref().map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default()
}

fn newer(a: &str, b: &str) -> bool {
    (a.len(), a) > (b.len(), b)
}

/// A page of `items` (newest first) as X lists them: `since_id`, `max_results`, `pagination_token`.
fn page(inner: &Inner, mut items: Vec<Value>, p: &HashMap<String, String>) -> Response {
    items.sort_by(|a, b| {
        let (x, y) = (a["id"].as_str().unwrap_or(""), b["id"].as_str().unwrap_or(""));
        (y.len(), y).cmp(&(x.len(), x))
    });
    if let Some(since) = p.get("since_id") {
        items.retain(|t| newer(t["id"].as_str().unwrap_or(""), since));
    }
    let size: usize = p.get("max_results").and_then(|s| s.parse().ok()).unwrap_or(10).clamp(1, 100);
    let start: usize = p.get("pagination_token").and_then(|t| t.strip_prefix("next-")).and_then(|t| t.parse().ok()).unwrap_or(0);
    let (chunk, next) = crate::page_of(&items, start, size);
    let authors: Vec<Value> = chunk
        .iter()
        .filter_map(|t| t["author_id"].as_str().or(t["sender_id"].as_str()))
        .filter_map(|id| inner.users.get(id).cloned())
        .collect();
    let mut meta = json!({"result_count": chunk.len()});
    if let (Some(first), Some(last)) = (chunk.first(), chunk.last()) {
        meta["newest_id"] = first["id"].clone();
        meta["oldest_id"] = last["id"].clone();
    }
    if let Some(next) = next {
        meta["next_token"] = json!(format!("next-{next}"));
    }
    let mut out = json!({"meta": meta});
    if !chunk.is_empty() {
        out["data"] = json!(chunk);
        out["includes"] = json!({"users": authors});
    }
    Json(out).into_response()
}

async fn handle(State(inner): State<Arc<Mutex<Inner>>>, method: Method, uri: Uri, RawQuery(query): RawQuery, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path().to_string();
    let b: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let p = params(&query);
    let mut inner = inner.lock().unwrap();
    inner.calls.push(Call { method: method.to_string(), path: uri.path_and_query().map(|x| x.to_string()).unwrap_or_default(), body: b.clone() });
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {ACCESS_TOKEN}")) {
        return problem(401, "Unauthorized", "Unauthorized");
    }
    if let Some((status, body, hs)) = inner.failures.iter_mut().find(|(k, q)| path.starts_with(k.as_str()) && !q.is_empty()).and_then(|(_, q)| q.pop_front()) {
        let mut r = (StatusCode::from_u16(status).unwrap(), Json(body)).into_response();
        for (k, v) in hs {
            r.headers_mut().insert(axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        return r;
    }
    let Some(rest) = path.strip_prefix("/2/") else { return problem(404, "Not Found Error", "no such resource") };
    let parts: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    let me = |id: &str| id == BRAND_ID;
    match (method.as_str(), parts.as_slice()) {
        ("GET", ["users", "me"]) => Json(json!({"data": inner.users[BRAND_ID]})).into_response(),
        ("GET", ["users", id, "tweets"]) => {
            let of: Vec<Value> = inner.tweets.iter().filter(|t| t["author_id"] == *id && t["referenced_tweets"].is_null()).cloned().collect();
            page(&inner, of, &p)
        }
        ("GET", ["users", id, "mentions"]) => {
            let handle = inner.users.get(*id).and_then(|u| u["username"].as_str()).unwrap_or("").to_string();
            let of: Vec<Value> = inner.tweets.iter().filter(|t| t["author_id"] != *id && t["text"].as_str().unwrap_or("").contains(&format!("@{handle}"))).cloned().collect();
            page(&inner, of, &p)
        }
        ("GET", ["tweets", "search", "recent"]) => {
            let Some(q) = p.get("query") else { return problem(400, "Invalid Request", "The `query` query parameter can not be empty") };
            let mut words = Vec::new();
            let (mut conversation, mut not_from) = (None, None);
            for w in q.split_whitespace() {
                if let Some(c) = w.strip_prefix("conversation_id:") {
                    conversation = Some(c.to_string());
                } else if let Some(u) = w.strip_prefix("-from:") {
                    not_from = inner.users.values().find(|x| x["username"] == u).and_then(|x| x["id"].as_str()).map(str::to_string);
                } else {
                    words.push(w.to_lowercase());
                }
            }
            let of: Vec<Value> = inner
                .tweets
                .iter()
                .filter(|t| conversation.as_ref().is_none_or(|c| t["conversation_id"] == c.as_str() && t["id"] != c.as_str()))
                .filter(|t| not_from.as_ref().is_none_or(|u| t["author_id"] != u.as_str()))
                .filter(|t| words.iter().all(|w| t["text"].as_str().unwrap_or("").to_lowercase().contains(w)))
                .cloned()
                .collect();
            page(&inner, of, &p)
        }
        ("GET", ["dm_events"]) => {
            let all = inner.dms.clone();
            page(&inner, all, &p)
        }
        ("POST", ["tweets"]) => {
            let Some(text) = b["text"].as_str() else { return problem(400, "Invalid Request", "text is required") };
            if text.chars().count() > 280 {
                return problem(400, "Invalid Request", "Your Tweet text is too long.");
            }
            let id = XEmulator::id(&mut inner);
            let mut t = json!({"id": id, "text": text, "author_id": BRAND_ID, "conversation_id": id, "created_at": chrono::Utc::now().to_rfc3339()});
            if let Some(parent) = b["reply"]["in_reply_to_tweet_id"].as_str() {
                let Some(pt) = inner.tweets.iter().find(|x| x["id"] == parent).cloned() else { return problem(400, "Invalid Request", "The tweet you are replying to does not exist") };
                t["conversation_id"] = pt["conversation_id"].clone();
                t["referenced_tweets"] = json!([{"type": "replied_to", "id": parent}]);
                t["in_reply_to_user_id"] = pt["author_id"].clone();
            }
            if let Some(quoted) = b["quote_tweet_id"].as_str() {
                t["referenced_tweets"] = json!([{"type": "quoted", "id": quoted}]);
            }
            inner.tweets.push(t);
            (StatusCode::CREATED, Json(json!({"data": {"id": id, "text": text, "edit_history_tweet_ids": [id]}}))).into_response()
        }
        ("DELETE", ["tweets", id]) => {
            let Some(pos) = inner.tweets.iter().position(|t| t["id"] == *id) else { return problem(404, "Not Found Error", "Could not find tweet") };
            if inner.tweets[pos]["author_id"] != BRAND_ID {
                return problem(403, "Forbidden", "You are not allowed to delete a Tweet that is not yours.");
            }
            inner.tweets.remove(pos);
            Json(json!({"data": {"deleted": true}})).into_response()
        }
        ("PUT", ["tweets", id, "hidden"]) => {
            let Some(t) = inner.tweets.iter().find(|t| t["id"] == *id).cloned() else { return problem(404, "Not Found Error", "Could not find tweet") };
            let root_ours = inner.tweets.iter().any(|r| r["id"] == t["conversation_id"] && r["author_id"] == BRAND_ID);
            if !root_ours || t["referenced_tweets"].is_null() {
                return problem(403, "Forbidden", "You can only hide replies to conversations you started.");
            }
            let hidden = b["hidden"].as_bool().unwrap_or(false);
            if let Some(t) = inner.tweets.iter_mut().find(|t| t["id"] == *id) {
                t["hidden"] = json!(hidden);
            }
            Json(json!({"data": {"hidden": hidden}})).into_response()
        }
        ("POST", ["users", u, edge]) if me(u) => {
            let answer = match *edge {
                "likes" => json!({"liked": true}),
                "retweets" => json!({"retweeted": true}),
                "following" => json!({"following": true, "pending_follow": false}),
                "muting" => json!({"muting": true}),
                "blocking" if inner.enterprise => json!({"blocking": true}),
                "blocking" => return problem(403, "Client Forbidden", "Blocking is only available on the Enterprise plan."),
                _ => return problem(404, "Not Found Error", "no such resource"),
            };
            Json(json!({"data": answer})).into_response()
        }
        ("DELETE", ["users", u, edge, _]) if me(u) => {
            let answer = match *edge {
                "likes" => json!({"liked": false}),
                "retweets" => json!({"retweeted": false}),
                "following" => json!({"following": false}),
                "muting" => json!({"muting": false}),
                _ => return problem(404, "Not Found Error", "no such resource"),
            };
            Json(json!({"data": answer})).into_response()
        }
        ("POST", ["dm_conversations", "with", participant, "messages"]) => {
            let id = XEmulator::id(&mut inner);
            let conversation = conversation(participant, BRAND_ID);
            inner.dms.push(json!({"id": id, "event_type": "MessageCreate", "text": b["text"], "sender_id": BRAND_ID, "dm_conversation_id": conversation,
                "created_at": chrono::Utc::now().to_rfc3339()}));
            (StatusCode::CREATED, Json(json!({"data": {"dm_conversation_id": conversation, "dm_event_id": id}}))).into_response()
        }
        _ => problem(404, "Not Found Error", "no such resource"),
    }
}
