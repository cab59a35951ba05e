//! LinkedIn's Community Management API on loopback, as far as the LinkedIn channel uses it:
//! versioned calls (`LinkedIn-Version` required; a retired one answers 426), Rest.li 2.0, URNs
//! percent-encoded in paths and queries, the organization's posts, comments with one level of
//! replies (`start`/`count` paging with `total`), mention notifications in a time range,
//! comments as the organization (201 with `x-restli-id`), reactions, deletes; 429s and error
//! bodies on demand; webhook validation (`challengeCode`) and signed notification batches.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

pub const ACCESS_TOKEN: &str = "li-member-token";
pub const CLIENT_SECRET: &str = "li-client-secret";
pub const ORG_ID: &str = "2414183";
pub const ORG: &str = "urn:li:organization:2414183";

#[derive(Clone, Debug)]
pub struct Call {
    pub method: String,
    pub path: String,
    pub body: Value,
    pub version: Option<String>,
}

#[derive(Default)]
struct Inner {
    calls: Vec<Call>,
    next: u64,
    posts: Vec<Value>,
    comments: Vec<Value>,
    notifications: Vec<Value>,
    reactions: Vec<(String, String)>,
    failures: HashMap<String, VecDeque<(u16, Value)>>,
}

#[derive(Clone)]
pub struct LinkedInEmulator {
    inner: Arc<Mutex<Inner>>,
    addr: SocketAddr,
    http: reqwest::Client,
}

fn li_error(status: u16, message: &str) -> Response {
    (StatusCode::from_u16(status).unwrap(), Json(json!({"message": message, "serviceErrorCode": status, "status": status}))).into_response()
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Whether LinkedIn still serves version `v` (YYYYMM): about a year after its month.
fn active(v: &str) -> bool {
    let (Some(y), Some(m)) = (v.get(..4).and_then(|y| y.parse::<i32>().ok()), v.get(4..6).and_then(|m| m.parse::<u32>().ok())) else { return false };
    let Some(sunset) = chrono::NaiveDate::from_ymd_opt(y + 1, m, 15) else { return false };
    v.len() == 6 && sunset > chrono::Utc::now().date_naive()
}

impl LinkedInEmulator {
    pub async fn start() -> std::io::Result<Self> {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let app = Router::new().fallback(handle).with_state(inner.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(LinkedInEmulator { inner, addr, http: reqwest::Client::new() })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/rest", self.addr)
    }

    pub fn channel_toml(&self, id: &str, version: &str) -> String {
        format!(
            "\n[[channel]]\nid = \"{id}\"\nplugin = \"linkedin\"\ndisplay_name = \"LinkedIn {id}\"\nallowed_hosts = [\"http://{addr}\"]\n\
             [channel.config]\norganization_id = \"{ORG_ID}\"\nbase_url = \"{base}\"\nlinkedin_version = \"{version}\"\npoll_seconds = \"1\"\n\
             [channel.secrets]\naccess_token = \"{ACCESS_TOKEN}\"\nclient_secret = \"{CLIENT_SECRET}\"\n",
            addr = self.addr,
            base = self.base_url()
        )
    }

    fn next(inner: &mut Inner) -> u64 {
        inner.next += 1;
        6636062862760562000 + inner.next
    }

    /// A post by the organization: its URN.
    pub fn post(&self, text: &str) -> String {
        let mut inner = self.inner.lock().unwrap();
        let urn = format!("urn:li:share:{}", Self::next(&mut inner));
        inner.posts.insert(0, json!({"id": urn, "author": ORG, "commentary": text, "createdAt": now_ms() - 3_600_000, "lifecycleState": "PUBLISHED", "visibility": "PUBLIC"}));
        urn
    }

    /// A comment by member `person` (or `ORG`) on `post` (under `parent`, a comment URN, for a reply): its URN.
    pub fn comment(&self, post: &str, person: &str, text: &str, parent: Option<&str>) -> String {
        let actor = if person == ORG { ORG.to_string() } else { format!("urn:li:person:{person}") };
        add_comment(&mut self.inner.lock().unwrap(), post, &actor, text, parent).1
    }

    /// Member `person` mentions the organization in a post of their own: the notification's activity.
    pub fn mention(&self, person: &str, text: &str) -> String {
        let mut inner = self.inner.lock().unwrap();
        let n = Self::next(&mut inner);
        let activity = format!("urn:li:share:{n}");
        inner.notifications.push(json!({"notificationId": n, "action": "SHARE_MENTION", "organizationalEntity": ORG, "sourcePost": activity,
            "generatedActivity": activity, "lastModifiedAt": now_ms(),
            "decoratedGeneratedActivity": {"share": {"owner": format!("urn:li:person:{person}"), "text": text, "created": {"time": now_ms()}}}}));
        activity
    }

    pub fn comments_of(&self, post: &str) -> Vec<Value> {
        self.inner.lock().unwrap().comments.iter().filter(|c| c["object"] == post).cloned().collect()
    }

    pub fn reactions(&self) -> Vec<(String, String)> {
        self.inner.lock().unwrap().reactions.clone()
    }

    pub fn calls(&self, prefix: &str) -> Vec<Call> {
        self.inner.lock().unwrap().calls.iter().filter(|c| c.path.starts_with(&format!("/rest/{prefix}"))).cloned().collect()
    }

    pub fn fail_next(&self, prefix: &str, status: u16, message: &str) {
        self.inner.lock().unwrap().failures.entry(format!("/rest/{prefix}")).or_default().push_back((status, json!({"message": message, "serviceErrorCode": status, "status": status})));
    }

    /// LinkedIn's validation of a webhook URL: whether its answer proves the client secret.
    pub async fn validate(&self, url: &str) -> bool {
        let code = "890e4b5c-7c2b-4c83-9d5a-0a5c2e1c5f77";
        let Ok(r) = self.http.get(format!("{url}?challengeCode={code}&applicationId=kit")).send().await else { return false };
        let body: Value = r.json().await.unwrap_or(Value::Null);
        body["challengeCode"] == code && body["challengeResponse"].as_str() == Some(hex_hmac(code.as_bytes()).as_str())
    }

    /// A batch of notifications POSTed to `url`, signed (or with `signature`).
    pub async fn deliver(&self, url: &str, notifications: &[Value], signature: Option<&str>) -> u16 {
        let body = serde_json::to_vec(&json!({"type": "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS", "notifications": notifications})).unwrap();
        let sig = signature.map(str::to_string).unwrap_or_else(|| hex_hmac(&[b"hmacsha256=".as_slice(), &body].concat()));
        let mut req = self.http.post(url).header("content-type", "application/json").body(body);
        if !sig.is_empty() {
            req = req.header("X-LI-Signature", sig);
        }
        req.send().await.map(|r| r.status().as_u16()).unwrap_or(0)
    }

    /// A COMMENT notification for a new comment by `person` on `post`.
    pub fn comment_notification(&self, post: &str, person: &str, text: &str) -> Value {
        let urn = self.comment(post, person, text, None);
        let inner = self.inner.lock().unwrap();
        let c = inner.comments.iter().find(|c| c["commentUrn"] == urn.as_str()).cloned().unwrap();
        json!({"notificationId": inner.next, "action": "COMMENT", "organizationalEntity": ORG, "sourcePost": post, "generatedActivity": urn,
            "lastModifiedAt": now_ms(), "decoratedGeneratedActivity": {"comment": {"id": c["id"], "owner": c["actor"], "text": text, "created": c["created"]}}})
    }
}

fn add_comment(inner: &mut Inner, post: &str, actor: &str, text: &str, parent: Option<&str>) -> (String, String) {
    let id = LinkedInEmulator::next(inner).to_string();
    let urn = format!("urn:li:comment:({post},{id})");
    let t = now_ms() - 100_000 + inner.next as i64;
    inner.comments.push(json!({"id": id, "commentUrn": urn, "actor": actor, "object": post, "message": {"text": text},
        "created": {"actor": actor, "time": t}, "lastModified": {"actor": actor, "time": t}, "parentComment": parent,
        "commentsSummary": {"aggregatedTotalComments": 0}}));
    if let Some(p) = parent {
        if let Some(top) = inner.comments.iter_mut().find(|c| c["commentUrn"] == p) {
            let n = top["commentsSummary"]["aggregatedTotalComments"].as_u64().unwrap_or(0) + 1;
            top["commentsSummary"]["aggregatedTotalComments"] = json!(n);
        }
    }
    (id, urn)
}

fn hex_hmac(data: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(CLIENT_SECRET.as_bytes()).expect("any key length");
    mac.update(data);
    hex::encode(mac.finalize().into_bytes())
}

fn decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

fn paged(items: Vec<Value>, p: &HashMap<String, String>) -> Response {
    let start: usize = p.get("start").and_then(|s| s.parse().ok()).unwrap_or(0);
    let count: usize = p.get("count").and_then(|s| s.parse().ok()).unwrap_or(10).clamp(1, 100);
    let (chunk, _) = crate::page_of(&items, start, count);
    Json(json!({"paging": {"start": start, "count": count, "total": items.len(), "links": []}, "elements": chunk})).into_response()
}

async fn handle(State(inner): State<Arc<Mutex<Inner>>>, method: Method, uri: Uri, RawQuery(query): RawQuery, headers: HeaderMap, body: Bytes) -> Response {
    let raw_path = uri.path().to_string();
    let b: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let p: HashMap<String, String> = query.as_deref().map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default();
    let version = headers.get("linkedin-version").and_then(|v| v.to_str().ok()).map(str::to_string);
    let mut inner = inner.lock().unwrap();
    inner.calls.push(Call { method: method.to_string(), path: uri.path_and_query().map(|x| x.to_string()).unwrap_or_default(), body: b.clone(), version: version.clone() });
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {ACCESS_TOKEN}")) {
        return li_error(401, "Invalid access token");
    }
    let Some(v) = version else { return li_error(400, "A version must be present. Please specify a version by adding the LinkedIn-Version header.") };
    if !active(&v) {
        return li_error(426, &format!("Requested version {v} is not active"));
    }
    if headers.get("x-restli-protocol-version").and_then(|v| v.to_str().ok()) != Some("2.0.0") {
        return li_error(400, "Rest.li protocol 2.0.0 is required");
    }
    if let Some((status, body)) = inner.failures.iter_mut().find(|(k, q)| raw_path.starts_with(k.as_str()) && !q.is_empty()).and_then(|(_, q)| q.pop_front()) {
        return (StatusCode::from_u16(status).unwrap(), Json(body)).into_response();
    }
    let Some(rest) = raw_path.strip_prefix("/rest/") else { return li_error(404, "Not found") };
    // URNs arrive percent-encoded; a raw `:` in one is a client's mistake LinkedIn refuses.
    if rest.starts_with("socialActions/urn:") {
        return li_error(400, "Syntax exception in path variables: the URN must be URL-encoded");
    }
    let parts: Vec<String> = rest.split('/').map(decode).collect();
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    match (method.as_str(), parts.as_slice()) {
        ("GET", ["organizations", id]) if *id == ORG_ID => Json(json!({"id": ORG_ID, "localizedName": "Acme Outdoor"})).into_response(),
        ("GET", ["posts"]) => {
            if p.get("q").map(String::as_str) != Some("author") || p.get("author").map(String::as_str) != Some(ORG) {
                return li_error(400, "q=author and an author URN are required");
            }
            let posts = inner.posts.clone();
            paged(posts, &p)
        }
        ("GET", ["organizationalEntityNotifications"]) => {
            let raw = query.clone().unwrap_or_default();
            if !raw.contains("actions=List(") || !raw.contains("timeRange=(start:") {
                return li_error(400, "actions=List(...) and timeRange=(start:..,end:..) are required, unescaped");
            }
            let start: i64 = raw.split("timeRange=(start:").nth(1).and_then(|s| s.split(',').next()).and_then(|s| s.parse().ok()).unwrap_or(0);
            if start < now_ms() - 61 * 86_400_000 {
                return li_error(400, "timeRange may reach back 60 days at most");
            }
            let of: Vec<Value> = inner.notifications.iter().filter(|n| n["lastModifiedAt"].as_i64().unwrap_or(0) >= start).cloned().collect();
            paged(of, &p)
        }
        ("GET", ["socialActions", target, "comments"]) => {
            let of: Vec<Value> = if target.starts_with("urn:li:comment:") {
                inner.comments.iter().filter(|c| c["parentComment"] == *target).cloned().collect()
            } else {
                inner.comments.iter().filter(|c| c["object"] == *target && c["parentComment"].is_null()).cloned().collect()
            };
            paged(of, &p)
        }
        ("POST", ["socialActions", target, "comments"]) => {
            if b["actor"] != ORG {
                return li_error(403, "Not enough permissions to comment as this actor");
            }
            let post = b["object"].as_str().unwrap_or_default().to_string();
            let parent = b["parentComment"].as_str().map(str::to_string);
            if target.starts_with("urn:li:comment:") && parent.as_deref() != Some(*target) {
                return li_error(400, "parentComment must be the comment commented on");
            }
            if parent.as_ref().is_some_and(|p| inner.comments.iter().any(|c| c["commentUrn"] == p.as_str() && !c["parentComment"].is_null())) {
                return li_error(400, "Comments can only be nested one level deep");
            }
            let (id, urn) = add_comment(&mut inner, &post, ORG, b["message"]["text"].as_str().unwrap_or_default(), parent.as_deref());
            let created = inner.comments.iter().find(|c| c["commentUrn"] == urn.as_str()).cloned().unwrap_or_default();
            let mut r = (StatusCode::CREATED, Json(created)).into_response();
            r.headers_mut().insert("x-restli-id", id.parse().unwrap());
            r
        }
        ("DELETE", ["socialActions", target, "comments", id]) => {
            if p.get("actor").map(String::as_str) != Some(ORG) {
                return li_error(403, "Not enough permissions to delete as this actor");
            }
            let Some(pos) = inner.comments.iter().position(|c| c["id"] == *id) else { return li_error(404, "Comment not found") };
            let c = inner.comments[pos].clone();
            let on_our_post = inner.posts.iter().any(|p| p["id"] == c["object"]);
            if c["actor"] != ORG && !on_our_post {
                return li_error(403, "Only the comment's author or the post's organization can delete it");
            }
            let expected = c["parentComment"].as_str().unwrap_or(c["object"].as_str().unwrap_or_default()).to_string();
            if *target != expected.as_str() {
                return li_error(400, "The comment is not under that target");
            }
            inner.comments.remove(pos);
            StatusCode::NO_CONTENT.into_response()
        }
        ("POST", ["reactions"]) => {
            if p.get("actor").map(String::as_str) != Some(ORG) {
                return li_error(403, "Not enough permissions to react as this actor");
            }
            let kind = b["reactionType"].as_str().unwrap_or_default().to_string();
            if !["LIKE", "PRAISE", "EMPATHY", "INTEREST", "APPRECIATION", "ENTERTAINMENT"].contains(&kind.as_str()) {
                return li_error(400, "reactionType is not one of LinkedIn's");
            }
            let root = b["root"].as_str().unwrap_or_default().to_string();
            inner.reactions.retain(|(r, _)| *r != root);
            inner.reactions.push((root, kind));
            StatusCode::CREATED.into_response()
        }
        ("DELETE", ["reactions", key]) => {
            // reactions/(actor:{urn},entity:{urn}), both URNs encoded within the key.
            let Some(entity) = key.split_once("entity:").and_then(|(_, e)| e.strip_suffix(')')).map(str::to_string) else { return li_error(400, "bad reaction key") };
            inner.reactions.retain(|(r, _)| *r != entity);
            StatusCode::NO_CONTENT.into_response()
        }
        _ => li_error(404, "Not found"),
    }
}

