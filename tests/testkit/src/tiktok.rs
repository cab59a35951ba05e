//! TikTok API for Business on loopback, as far as the TikTok channel uses it: the refresh of
//! access tokens (each refresh replaces the refresh token; an old one is refused), the Accounts
//! API's videos, comments and replies (cursor + `has_more`, replies of 150 characters at most,
//! like, hide, pin, delete only the account's own), the Ads API's comments by day (hide, reply,
//! delete), Business Messaging (a conversation's messages, sending), every answer in the
//! `{code, message, request_id, data}` envelope with HTTP 200 (errors as non-zero codes, on
//! demand too), and signed `im_receive_msg` webhooks.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use crate::now_secs;

pub const APP_ID: &str = "7100000000000000001";
pub const APP_SECRET: &str = "tiktok-app-secret";
pub const FIRST_REFRESH_TOKEN: &str = "rft.first-refresh-token";
pub const BUSINESS: &str = "biz-123";
pub const ADVERTISER: &str = "7000000000000000777";

pub use crate::Call;

struct Inner {
    calls: Vec<Call>,
    next: u64,
    access: Vec<String>,
    refresh: Option<String>,
    access_life: i64,
    failures: HashMap<String, VecDeque<(i64, String)>>,
    videos: Vec<Value>,
    comments: Vec<Value>,
    ad_comments: Vec<Value>,
    messages: Vec<Value>,
}

#[derive(Clone)]
pub struct TikTokEmulator {
    inner: Arc<Mutex<Inner>>,
    addr: SocketAddr,
    http: reqwest::Client,
}

fn ok(data: Value) -> Response {
    Json(json!({"code": 0, "message": "OK", "request_id": format!("{}", now_secs()), "data": data})).into_response()
}

fn fail(code: i64, message: &str) -> Response {
    Json(json!({"code": code, "message": message, "request_id": format!("{}", now_secs()), "data": {}})).into_response()
}

impl TikTokEmulator {
    pub async fn start() -> std::io::Result<Self> {
        let inner = Arc::new(Mutex::new(Inner {
            calls: Vec::new(),
            next: 1,
            access: Vec::new(),
            refresh: Some(FIRST_REFRESH_TOKEN.into()),
            access_life: 86_400,
            failures: HashMap::new(),
            videos: Vec::new(),
            comments: Vec::new(),
            ad_comments: Vec::new(),
            messages: Vec::new(),
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let app = Router::new()
            .route("/cdn/{name}", axum::routing::get(|| async { ([("content-type", "image/png")], crate::PHOTO_PNG) }))
            .fallback(handle)
            .with_state(inner.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(TikTokEmulator { inner, addr, http: reqwest::Client::new() })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/open_api/v1.3", self.addr)
    }

    /// A `[[channel]]` for the test account (with the advertiser when `ads`).
    pub fn channel_toml(&self, id: &str, ads: bool) -> String {
        let ads = if ads { format!("advertiser_id = \"{ADVERTISER}\"\n") } else { String::new() };
        format!(
            "\n[[channel]]\nid = \"{id}\"\nplugin = \"tiktok\"\ndisplay_name = \"TikTok {id}\"\nallowed_hosts = [\"http://{addr}\"]\n\
             [channel.config]\nbusiness_id = \"{BUSINESS}\"\napp_id = \"{APP_ID}\"\nbase_url = \"{base}\"\npoll_seconds = \"1\"\n{ads}\
             [channel.secrets]\napp_secret = \"{APP_SECRET}\"\nrefresh_token = \"{FIRST_REFRESH_TOKEN}\"\n",
            addr = self.addr,
            base = self.base_url()
        )
    }

    pub fn add_video(&self, id: &str, caption: &str) {
        let v = json!({"item_id": id, "caption": caption, "create_time": now_secs() - 86_400,
            "thumbnail_url": format!("http://{}/cdn/{id}.png", self.addr), "share_url": format!("https://www.tiktok.com/@acme/video/{id}")});
        self.inner.lock().unwrap().videos.insert(0, v);
    }

    /// A comment on `video` (a reply to `parent`), by `user` or by the account itself (`None`).
    pub fn add_comment(&self, video: &str, user: Option<&str>, text: &str, parent: Option<&str>) -> String {
        let mut inner = self.inner.lock().unwrap();
        let id = format!("71119071851647{:05}", inner.next);
        inner.next += 1;
        let at = now_secs() - 1000 + inner.next as i64;
        let mut c = json!({"video_id": video, "comment_id": id, "unique_identifier": format!("u-{}", user.unwrap_or("acme")), "username": user.unwrap_or("acme"),
            "text": text, "create_time": at.to_string(), "likes": 0, "replies": 0, "liked": false, "pinned": false, "owner": user.is_none(), "status": "PUBLIC"});
        if let Some(p) = parent {
            c["parent_comment_id"] = json!(p);
            if let Some(top) = inner.comments.iter_mut().find(|c| c["comment_id"] == p) {
                top["replies"] = json!(top["replies"].as_u64().unwrap_or(0) + 1);
            }
        }
        inner.comments.push(c);
        id
    }

    pub fn add_ad_comment(&self, ad_id: &str, ad_name: &str, user: &str, text: &str) -> String {
        let mut inner = self.inner.lock().unwrap();
        let id = format!("73000000000{:05}", inner.next);
        inner.next += 1;
        let at = chrono::DateTime::from_timestamp(now_secs() - 500 + inner.next as i64, 0).unwrap().format("%Y-%m-%d %H:%M:%S").to_string();
        inner.ad_comments.push(json!({"comment_id": id, "ad_id": ad_id, "ad_name": ad_name, "campaign_id": "1800000000000001", "user_id": format!("adu-{user}"),
            "user_name": user, "text": text, "create_time": at, "status": "PUBLIC", "comment_type": "COMMENT", "is_advertiser": false}));
        id
    }

    pub fn comment(&self, id: &str) -> Value {
        let inner = self.inner.lock().unwrap();
        inner.comments.iter().chain(&inner.ad_comments).find(|c| c["comment_id"] == id).cloned().unwrap_or(Value::Null)
    }

    pub fn calls(&self, path: &str) -> Vec<Call> {
        self.inner.lock().unwrap().calls.iter().filter(|c| c.path.starts_with(&format!("/open_api/v1.3/{path}"))).cloned().collect()
    }

    /// The next call to `path` answers this non-zero code (with HTTP 200, as TikTok does).
    pub fn fail_next(&self, path: &str, code: i64, message: &str) {
        self.inner.lock().unwrap().failures.entry(format!("/open_api/v1.3/{path}")).or_default().push_back((code, message.into()));
    }

    /// Access tokens given so far stop working.
    pub fn expire_access_tokens(&self) {
        self.inner.lock().unwrap().access.clear();
    }
    /// The refresh token expires: the account must be reconnected.
    pub fn expire_refresh_token(&self) {
        let mut inner = self.inner.lock().unwrap();
        inner.refresh = None;
        inner.access.clear();
    }

    /// The message `content` of an `im_receive_msg`, as TikTok's docs and Chatwoot's fixtures show it.
    pub fn dm(&self, conversation: &str, user: &str, text: &str) -> Value {
        let mut inner = self.inner.lock().unwrap();
        let id = format!("tt-msg-{}", inner.next);
        inner.next += 1;
        let m = json!({"type": "text", "message_id": id, "timestamp": chrono::Utc::now().timestamp_millis(), "conversation_id": conversation,
            "text": {"body": text}, "from": user, "from_user": {"id": format!("user-{user}")}, "to": "Acme", "to_user": {"id": BUSINESS}});
        inner.messages.push(m.clone());
        m
    }

    /// `TikTok-Signature: t=<now>,s=<hex HMAC-SHA256(app secret, "t.body")>`.
    pub fn sign(body: &[u8], at: i64) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(APP_SECRET.as_bytes()).expect("any key length");
        mac.update(format!("{at}.").as_bytes());
        mac.update(body);
        format!("t={at},s={}", hex::encode(mac.finalize().into_bytes()))
    }

    /// POST a webhook to `url`, signed now (or with `signature`).
    pub async fn deliver(&self, url: &str, body: &[u8], signature: Option<&str>) -> u16 {
        let sig = signature.map(str::to_string).unwrap_or_else(|| Self::sign(body, now_secs()));
        let mut req = self.http.post(url).header("content-type", "application/json").body(body.to_vec());
        if !sig.is_empty() {
            req = req.header("TikTok-Signature", sig);
        }
        req.send().await.map(|r| r.status().as_u16()).unwrap_or(0)
    }

    /// The `im_receive_msg` envelope carrying `message` (as a JSON string, as TikTok sends it).
    pub fn envelope(message: &Value) -> Vec<u8> {
        serde_json::to_vec(&json!({"event": "im_receive_msg", "user_openid": BUSINESS, "content": message.to_string()})).unwrap()
    }

    /// Messages the account sent.
    pub fn sent_messages(&self) -> Vec<Value> {
        self.inner.lock().unwrap().messages.iter().filter(|m| m["from_user"]["id"] == BUSINESS).cloned().collect()
    }
}

fn params(query: &Option<String>) -> HashMap<String, String> {
    query.as_deref().map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default()
}

async fn handle(State(inner): State<Arc<Mutex<Inner>>>, method: Method, uri: Uri, RawQuery(query): RawQuery, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path().to_string();
    let b: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let p = params(&query);
    let mut inner = inner.lock().unwrap();
    inner.calls.push(Call { method: method.to_string(), path: uri.path_and_query().map(|x| x.to_string()).unwrap_or_default(), body: b.clone() });
    let Some(api) = path.strip_prefix("/open_api/v1.3/") else { return fail(40404, "no such path") };
    if api == "tt_user/oauth2/refresh_token/" {
        if b["client_id"] != APP_ID || b["client_secret"] != APP_SECRET {
            return fail(40001, "app_id or secret is invalid");
        }
        if inner.refresh.is_none() || b["refresh_token"].as_str() != inner.refresh.as_deref() || b["grant_type"] != "refresh_token" {
            return fail(40106, "The refresh_token is invalid or has expired");
        }
        let n = inner.next;
        inner.next += 1;
        let (access, refresh) = (format!("act.{n}"), format!("rft.{n}"));
        inner.access.push(access.clone());
        inner.refresh = Some(refresh.clone());
        return ok(json!({"access_token": access, "expires_in": inner.access_life, "refresh_token": refresh, "refresh_token_expires_in": 31_536_000,
            "open_id": BUSINESS, "scope": "user.info.basic,comment.list,comment.list.manage"}));
    }
    let token = headers.get("access-token").and_then(|v| v.to_str().ok()).unwrap_or("");
    if !inner.access.iter().any(|t| t == token) {
        return fail(40105, "Access token is invalid or has expired");
    }
    if let Some((code, message)) = inner.failures.get_mut(&path).and_then(VecDeque::pop_front) {
        return fail(code, &message);
    }
    let business_ok = |v: &Value| v.as_str() == Some(BUSINESS);
    match (method.as_str(), api) {
        ("GET", "business/get/") => ok(json!({"display_name": "Acme Outdoor", "username": "acme"})),
        ("GET", "business/video/list/") => ok(json!({"videos": inner.videos, "cursor": 0, "has_more": false})),
        ("GET", "business/comment/list/") => {
            if p.get("business_id").map(String::as_str) != Some(BUSINESS) {
                return fail(40002, "business_id is invalid");
            }
            let video = p.get("video_id").cloned().unwrap_or_default();
            let mut of: Vec<Value> = inner.comments.iter().filter(|c| c["video_id"] == video.as_str() && c["parent_comment_id"].is_null()).cloned().collect();
            of.reverse();
            let size: usize = p.get("max_count").and_then(|s| s.parse().ok()).unwrap_or(20).clamp(1, 30);
            let start: usize = p.get("cursor").and_then(|s| s.parse().ok()).unwrap_or(0);
            let (page, next) = crate::page_of(&of, start, size);
            ok(json!({"comments": page, "cursor": start + page.len(), "has_more": next.is_some()}))
        }
        ("GET", "business/comment/reply/list/") => {
            let parent = p.get("comment_id").cloned().unwrap_or_default();
            let replies: Vec<Value> = inner.comments.iter().filter(|c| c["parent_comment_id"] == parent.as_str()).cloned().collect();
            ok(json!({"comments": replies, "cursor": replies.len(), "has_more": false}))
        }
        ("POST", "business/comment/reply/create/") => {
            if !business_ok(&b["business_id"]) {
                return fail(40002, "business_id is invalid");
            }
            let text = b["text"].as_str().unwrap_or_default().to_string();
            if text.chars().count() > 150 {
                return fail(40002, "text: the length must be at most 150 characters");
            }
            let parent = b["comment_id"].as_str().unwrap_or_default().to_string();
            if !inner.comments.iter().any(|c| c["comment_id"] == parent.as_str()) {
                return fail(40002, "comment_id does not exist");
            }
            let id = format!("71119071851647{:05}", inner.next);
            inner.next += 1;
            let at = now_secs();
            let video = b["video_id"].clone();
            inner.comments.push(json!({"video_id": video, "comment_id": id, "unique_identifier": "u-acme", "username": "acme", "text": text,
                "create_time": at.to_string(), "likes": 0, "replies": 0, "owner": true, "status": "PUBLIC", "parent_comment_id": parent}));
            if let Some(top) = inner.comments.iter_mut().find(|c| c["comment_id"] == parent.as_str()) {
                top["replies"] = json!(top["replies"].as_u64().unwrap_or(0) + 1);
            }
            ok(json!({"comment_id": id, "video_id": video, "create_time": at.to_string(), "text": text}))
        }
        ("POST", "business/comment/like/" | "business/comment/hide/" | "business/comment/pin/" | "business/comment/delete/") => {
            let id = b["comment_id"].as_str().unwrap_or_default().to_string();
            let Some(pos) = inner.comments.iter().position(|c| c["comment_id"] == id.as_str()) else { return fail(40002, "comment_id does not exist") };
            let action = b["action"].as_str().unwrap_or_default();
            let c = &mut inner.comments[pos];
            match api {
                "business/comment/like/" => c["liked"] = json!(action == "LIKE"),
                "business/comment/hide/" => c["status"] = json!(if action == "HIDE" { "HIDDEN" } else { "PUBLIC" }),
                "business/comment/pin/" => c["pinned"] = json!(action == "PIN"),
                _ => {
                    if c["owner"] != true {
                        return fail(40001, "You can only delete comments posted by your own account");
                    }
                    inner.comments.remove(pos);
                }
            }
            ok(json!({}))
        }
        ("GET", "comment/list/") => {
            if p.get("advertiser_id").map(String::as_str) != Some(ADVERTISER) {
                return fail(40002, "advertiser_id is invalid");
            }
            if p.get("start_time").is_none() || p.get("end_time").is_none() {
                return fail(40002, "start_time and end_time are required");
            }
            let all = inner.ad_comments.clone();
            ok(json!({"comments": all, "page_info": {"page": 1, "page_size": 100, "total_number": all.len(), "total_page": 1}}))
        }
        ("POST", "comment/post/") => {
            let id = format!("73000000000{:05}", inner.next);
            inner.next += 1;
            let at = chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string();
            inner.ad_comments.push(json!({"comment_id": id, "ad_id": b["ad_id"], "ad_name": "", "user_name": "Acme", "text": b["text"], "create_time": at,
                "status": "PUBLIC", "comment_type": "REPLY", "is_advertiser": true, "original_comment_id": b["comment_id"]}));
            ok(json!({"comment_id": id, "create_time": at}))
        }
        ("POST", "comment/status/update/") => {
            let op = b["operation"].as_str().unwrap_or_default().to_string();
            for id in b["comment_ids"].as_array().cloned().unwrap_or_default() {
                if let Some(c) = inner.ad_comments.iter_mut().find(|c| c["comment_id"] == id) {
                    c["status"] = json!(op);
                }
            }
            ok(json!({}))
        }
        ("POST", "comment/delete/") => {
            for id in b["comment_ids"].as_array().cloned().unwrap_or_default() {
                if inner.ad_comments.iter().any(|c| c["comment_id"] == id && c["is_advertiser"] != true) {
                    return fail(40001, "You can only delete your own comments");
                }
                inner.ad_comments.retain(|c| c["comment_id"] != id);
            }
            ok(json!({}))
        }
        ("GET", "business/message/content/list/") => {
            let conversation = p.get("conversation_id").cloned().unwrap_or_default();
            let messages: Vec<Value> = inner.messages.iter().filter(|m| m["conversation_id"] == conversation.as_str()).cloned().collect();
            ok(json!({"messages": messages, "has_more": false}))
        }
        ("POST", "business/message/send/") => {
            if !business_ok(&b["business_id"]) || b["recipient_type"] != "CONVERSATION" {
                return fail(40002, "business_id or recipient is invalid");
            }
            let id = format!("tt-out-{}", inner.next);
            inner.next += 1;
            inner.messages.push(json!({"type": "text", "message_id": id, "timestamp": chrono::Utc::now().timestamp_millis(), "conversation_id": b["recipient"],
                "text": b["text"], "from": "Acme", "from_user": {"id": BUSINESS}}));
            ok(json!({"message_id": id}))
        }
        _ => fail(40404, "no such endpoint"),
    }
}
