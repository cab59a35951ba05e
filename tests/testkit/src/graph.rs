//! Meta's Graph API on loopback, as far as the WhatsApp and Facebook Page channels use it:
//! WhatsApp's `POST /{version}/{phone-number-id}/messages` (text, reactions, read receipts) and
//! block lists; a Facebook Page's feed and comments with cursor paging, comment replies, likes,
//! hiding, deleting, blocking and the Messenger Send API; Graph error bodies and usage headers
//! on demand; and webhooks signed with the app secret (`X-Hub-Signature-256`).
//! Facebook object ids carry an underscore (`page_post`, `post_comment`), phone number ids do not.

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
use crate::now_secs;

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
    /// The Page's feed, oldest first, and each post's comments.
    posts: Vec<Value>,
    comments: HashMap<String, Vec<Value>>,
    /// Messenger profiles by page-scoped id.
    profiles: HashMap<String, Value>,
    /// The ad account's ads (Marketing API), each naming the post it shows.
    ads: Vec<Value>,
    /// Instagram media objects by id.
    ig_media: HashMap<String, Value>,
    /// WhatsApp media by id: its type and bytes.
    media: HashMap<String, (String, Vec<u8>)>,
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
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let base = format!("http://{addr}/v21.0");
        let app = Router::new()
            .route("/whatsapp_business/attachments/", axum::routing::get(whatsapp_download))
            .route("/cdn/{name}", axum::routing::get(|| async { ([("content-type", "image/png")], crate::PHOTO_PNG) }))
            // What the Graph API was asked to do to one object (`?path=5001_7001`), for browser tests.
            .route("/_emulator/calls", axum::routing::get(calls_of))
            .route("/{version}/{id}/{edge}", any(edge))
            .route("/{version}/{id}", any(object))
            .with_state((inner.clone(), base));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(GraphEmulator { inner, addr, http: reqwest::Client::new() })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/v21.0", self.addr)
    }

    /// A `[[channel]]` table running `plugin` against this emulator, with `config` lines
    /// (`key = "value"`) and the test app's secrets.
    fn channel_toml(&self, id: &str, plugin: &str, display_name: &str, config: &[(&str, &str)]) -> String {
        let config: String = config.iter().map(|(k, v)| format!("{k} = \"{v}\"\n")).collect();
        format!(
            r#"
[[channel]]
id = "{id}"
plugin = "{plugin}"
display_name = "{display_name}"
allowed_hosts = ["http://{addr}"]
[channel.config]
base_url = "{base}"
verify_token = "{VERIFY_TOKEN}"
{config}[channel.secrets]
access_token = "{ACCESS_TOKEN}"
app_secret = "{APP_SECRET}"
"#,
            addr = self.addr,
            base = self.base_url()
        )
    }

    /// A photo on the Instagram account, as `GET /{media-id}` gives it (its picture served here).
    pub fn ig_media(&self, id: &str, username: &str, caption: &str) {
        let m = json!({"id": id, "caption": caption, "media_type": "IMAGE", "media_url": format!("http://{}/cdn/{id}.jpg", self.addr),
            "permalink": format!("https://www.instagram.com/p/{id}/"), "timestamp": iso(now_secs() - 3600), "username": username});
        self.inner.lock().unwrap().ig_media.insert(id.to_string(), m);
    }

    /// A file a WhatsApp customer sent, under its media id.
    pub fn add_media(&self, id: &str, mime_type: &str, bytes: &[u8]) {
        self.inner.lock().unwrap().media.insert(id.to_string(), (mime_type.to_string(), bytes.to_vec()));
    }

    /// A WhatsApp `[[channel]]` table for `plugins.toml` against this emulator.
    pub fn whatsapp_channel_toml(&self, id: &str, phone_number_id: &str) -> String {
        self.channel_toml(id, "whatsapp", &format!("WhatsApp {id}"), &[("phone_number_id", phone_number_id)])
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

    /// A `[[channel]]` table running the Facebook plugin for Page `page_id` against this emulator.
    pub fn facebook_channel_toml(&self, id: &str, page_id: &str) -> String {
        self.channel_toml(id, "facebook", &format!("Facebook {id}"), &[("page_id", page_id)])
    }

    /// The same, with the ad account whose ads name the ad comments (`act_…`).
    pub fn facebook_channel_toml_with_ads(&self, id: &str, page_id: &str, ad_account: &str) -> String {
        self.channel_toml(id, "facebook", &format!("Facebook {id}"), &[("page_id", page_id), ("ad_account_id", ad_account)])
    }

    /// A post on the Page's feed (`from` the Page itself or a visitor); `ad` makes it a dark post.
    pub fn fb_post(&self, post_id: &str, from: (&str, &str), message: &str, created: i64, ad: bool) {
        let post = json!({"id": post_id, "from": {"id": from.0, "name": from.1}, "message": message,
            "created_time": iso(created), "permalink_url": format!("https://www.facebook.com/{post_id}"),
            "is_published": !ad, "promotion_status": if ad { "active" } else { "inactive" },
            "full_picture": format!("http://{}/cdn/{post_id}.png", self.addr)});
        self.inner.lock().unwrap().posts.push(post);
    }

    /// An ad of the ad account showing `post_id` (its creative's `effective_object_story_id`).
    pub fn fb_ad(&self, ad_id: &str, name: &str, post_id: &str) {
        let ad = json!({"id": ad_id, "name": name, "creative": {"id": format!("{ad_id}0"), "effective_object_story_id": post_id}});
        self.inner.lock().unwrap().ads.push(ad);
    }

    /// A comment under a post, as `GET /{post}/comments` will list it.
    pub fn fb_comment(&self, post_id: &str, comment_id: &str, from: (&str, &str), message: &str, created: i64, parent: Option<&str>) {
        let mut c = json!({"id": comment_id, "from": {"id": from.0, "name": from.1}, "message": message, "created_time": iso(created),
            "permalink_url": format!("https://www.facebook.com/{post_id}?comment_id={comment_id}")});
        if let Some(p) = parent {
            c["parent"] = json!({"id": p});
        }
        self.inner.lock().unwrap().comments.entry(post_id.to_string()).or_default().push(c);
    }

    /// A `[[channel]]` table running the Instagram plugin for account `ig_user_id` (sending
    /// through Page `page_id`) against this emulator.
    pub fn instagram_channel_toml(&self, id: &str, ig_user_id: &str, page_id: &str) -> String {
        self.channel_toml(id, "instagram", &format!("Instagram {id}"), &[("ig_user_id", ig_user_id), ("page_id", page_id)])
    }

    /// A comment mentioning the Instagram account, as the `mentioned_comment` lookup answers it.
    pub fn ig_mentioned_comment(&self, comment_id: &str, username: &str, text: &str) {
        let m = json!({"id": comment_id, "text": text, "username": username, "timestamp": iso(now_secs())});
        self.inner.lock().unwrap().profiles.insert(format!("mention:{comment_id}"), m);
    }

    /// What `GET /{psid}` answers for a Messenger customer.
    pub fn fb_profile(&self, psid: &str, first_name: &str, last_name: &str) {
        let p = json!({"id": psid, "first_name": first_name, "last_name": last_name});
        self.inner.lock().unwrap().profiles.insert(psid.to_string(), p);
    }

    /// Every call to exactly this path (`{id}` or `{id}/{edge}`) so far.
    pub fn calls_to(&self, path: &str) -> Vec<Call> {
        self.inner.lock().unwrap().calls.iter().filter(|c| c.path == path).cloned().collect()
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

/// Graph's time format.
fn iso(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default().format("%Y-%m-%dT%H:%M:%S+0000").to_string()
}

/// A `feed` webhook for a comment (`parent` for a reply to a comment).
pub fn fb_comment_webhook(page_id: &str, post_id: &str, comment_id: &str, from: (&str, &str), message: &str, verb: &str, parent: Option<&str>, ad: bool) -> Value {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    json!({"object": "page", "entry": [{"id": page_id, "time": now, "changes": [{"field": "feed", "value": {
        "from": {"id": from.0, "name": from.1},
        "post": {"status_type": "mobile_status_update", "is_published": !ad, "promotion_status": if ad { "active" } else { "inactive" }, "id": post_id,
                 "permalink_url": format!("https://www.facebook.com/{post_id}")},
        "message": message, "post_id": post_id, "comment_id": comment_id, "created_time": now,
        "item": "comment", "parent_id": parent.unwrap_or(post_id), "verb": verb}}]}]})
}

/// A Messenger webhook: a customer (`psid`) writes to the Page, or the Page's own send echoes.
pub fn messenger_webhook(page_id: &str, psid: &str, mid: &str, text: &str, echo: bool) -> Value {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let (sender, recipient) = if echo { (page_id, psid) } else { (psid, page_id) };
    let mut message = json!({"mid": mid, "text": text});
    if echo {
        message["is_echo"] = json!(true);
        message["app_id"] = json!(1134227931892276u64);
    }
    json!({"object": "page", "entry": [{"id": page_id, "time": now, "messaging": [{
        "sender": {"id": sender}, "recipient": {"id": recipient}, "timestamp": now, "message": message}]}]})
}

type Shared = (Arc<Mutex<Inner>>, String);

fn graph_error(status: StatusCode, code: i64, message: &str) -> Response {
    (status, Json(json!({"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf"}}))).into_response()
}

async fn calls_of(State((inner, _)): State<(Arc<Mutex<Inner>>, String)>, axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>) -> Json<Value> {
    let path = q.get("path").cloned().unwrap_or_default();
    let calls: Vec<Value> = inner.lock().unwrap().calls.iter().filter(|c| c.path == path).map(|c| json!({"method": c.method, "body": c.body})).collect();
    Json(json!({"calls": calls}))
}

/// `/{version}/{id}` on a Facebook or Instagram object: hide or unhide (`POST is_hidden` /
/// `hide`), delete, profiles, and Instagram's `mentioned_comment` lookup.
async fn object(
    State((inner, base)): State<Shared>,
    Path((_version, id)): Path<(String, String)>,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (inner, body) = match admit(&inner, &headers, &method, id.clone(), "object", &body) {
        Ok(admitted) => admitted,
        Err(refused) => return refused,
    };
    let fields = query.get("fields").cloned().unwrap_or_default();
    if let Some(rest) = fields.strip_prefix("mentioned_comment.comment_id(") {
        let comment = rest.split(')').next().unwrap_or_default();
        return match inner.profiles.get(&format!("mention:{comment}")) {
            Some(m) => Json(json!({"id": id, "mentioned_comment": m})).into_response(),
            None => graph_error(StatusCode::BAD_REQUEST, 100, "(#100) Invalid comment_id"),
        };
    }
    if let (&Method::GET, Some((mime, bytes))) = (&method, inner.media.get(&id)) {
        // WhatsApp's media lookup: a URL valid for 5 minutes, downloaded with the token.
        let host = base.trim_end_matches("/v21.0");
        return Json(json!({"messaging_product": "whatsapp", "url": format!("{host}/whatsapp_business/attachments/?mid={id}&ext=1"),
            "mime_type": mime, "sha256": "0", "file_size": bytes.len(), "id": id}))
        .into_response();
    }
    match method {
        Method::GET => match inner.profiles.get(&id).or_else(|| inner.posts.iter().find(|p| p["id"] == id.as_str())).or_else(|| inner.ig_media.get(&id)) {
            Some(p) => Json(p.clone()).into_response(),
            None => graph_error(StatusCode::BAD_REQUEST, 100, "(#100) Object does not exist or cannot be loaded due to missing permissions"),
        },
        Method::DELETE => Json(json!({"success": true})).into_response(),
        Method::POST if body["is_hidden"].is_boolean() || body["hide"].is_boolean() => Json(json!({"success": true})).into_response(),
        _ => graph_error(StatusCode::BAD_REQUEST, 100, "(#100) Unsupported request"),
    }
}

/// Every call: the token checked, the call recorded, a planned failure (keyed `failure_key`)
/// answered; else the state and the JSON body for the handler.
fn admit<'a>(
    inner: &'a Mutex<Inner>,
    headers: &HeaderMap,
    method: &Method,
    path: String,
    failure_key: &str,
    body: &Bytes,
) -> Result<(std::sync::MutexGuard<'a, Inner>, Value), Response> {
    if let Some(denied) = check_token(headers) {
        return Err(denied);
    }
    let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let mut inner = inner.lock().unwrap();
    inner.calls.push(Call { method: method.to_string(), path, body: body.clone() });
    match planned_failure(&mut inner, failure_key) {
        Some(failed) => Err(failed),
        None => Ok((inner, body)),
    }
}

/// `GET /whatsapp_business/attachments/?mid=…` (lookaside.fbsbx.com): a media file's bytes,
/// for the token only.
async fn whatsapp_download(
    State((inner, _)): State<Shared>,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(denied) = check_token(&headers) {
        return denied;
    }
    let inner = inner.lock().unwrap();
    match query.get("mid").and_then(|id| inner.media.get(id)) {
        Some((mime, bytes)) => ([("content-type", mime.clone())], bytes.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn check_token(headers: &HeaderMap) -> Option<Response> {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    (auth != format!("Bearer {ACCESS_TOKEN}")).then(|| {
        let body = json!({"error": {"message": "Error validating access token: Session has expired", "type": "OAuthException", "code": 190, "error_subcode": 463}});
        (StatusCode::UNAUTHORIZED, Json(body)).into_response()
    })
}

fn planned_failure(inner: &mut Inner, edge: &str) -> Option<Response> {
    let (status, err, extra) = inner.failures.get_mut(edge).and_then(|q| q.pop_front())?;
    let mut resp = (StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST), Json(err)).into_response();
    for (k, v) in extra {
        resp.headers_mut().insert(axum::http::HeaderName::try_from(k).unwrap(), v.parse().unwrap());
    }
    Some(resp)
}

/// A Graph listing page: `since` (seconds) filters by creation, `after` is an offset cursor.
fn listing(items: &[Value], query: &HashMap<String, String>, base: &str, path: &str) -> Response {
    let since: i64 = query.get("since").and_then(|s| s.parse().ok()).unwrap_or(0);
    let limit: usize = query.get("limit").and_then(|s| s.parse().ok()).unwrap_or(25).clamp(1, 100);
    let after: usize = query.get("after").and_then(|s| s.parse().ok()).unwrap_or(0);
    let matching: Vec<&Value> = items
        .iter()
        .filter(|v| chrono::DateTime::parse_from_str(v["created_time"].as_str().unwrap_or_default(), "%Y-%m-%dT%H:%M:%S%z").map(|t| t.timestamp() >= since).unwrap_or(true))
        .collect();
    let page: Vec<&Value> = matching.iter().skip(after).take(limit).copied().collect();
    let mut paging = json!({"cursors": {"before": after.to_string(), "after": (after + page.len()).to_string()}});
    if after + page.len() < matching.len() {
        let mut q: Vec<String> = query.iter().filter(|(k, _)| *k != "after").map(|(k, v)| format!("{k}={v}")).collect();
        q.push(format!("after={}", after + page.len()));
        paging["next"] = json!(format!("{base}/{path}?{}", q.join("&")));
    }
    Json(json!({"data": page, "paging": paging})).into_response()
}

fn facebook_edge(inner: &mut Inner, base: &str, id: &str, edge: &str, method: &Method, body: &Value, query: &HashMap<String, String>) -> Response {
    inner.next_id += 1;
    let n = inner.next_id;
    match (method, edge) {
        (&Method::GET, "feed") => listing(&inner.posts, query, base, &format!("{id}/feed")),
        (&Method::GET, "ads") if id.starts_with("act_") => listing(&inner.ads, query, base, &format!("{id}/ads")),
        (&Method::GET, "comments") => listing(inner.comments.get(id).map(Vec::as_slice).unwrap_or_default(), query, base, &format!("{id}/comments")),
        (&Method::POST, "comments") if body["message"].is_string() => Json(json!({"id": format!("{id}_r{n}")})).into_response(),
        (&Method::POST, "replies") if body["message"].is_string() => Json(json!({"id": format!("1791000000{n:07}")})).into_response(),
        (&Method::POST, "mentions") if body["message"].is_string() && body["media_id"].is_string() => Json(json!({"id": format!("1791000000{n:07}")})).into_response(),
        (&Method::POST | &Method::DELETE, "likes") => Json(json!({"success": true})).into_response(),
        (&Method::POST, "blocked") => Json(json!({body["user"][0].as_str().unwrap_or_default(): true})).into_response(),
        (&Method::POST, "messages") if body["sender_action"].is_string() => Json(json!({"recipient_id": body["recipient"]["id"]})).into_response(),
        (&Method::POST, "messages") if body["message"]["text"].is_string() => {
            let recipient = body["recipient"]["id"].as_str().map(str::to_string).unwrap_or_else(|| format!("psid-for-{}", body["recipient"]["comment_id"].as_str().unwrap_or_default()));
            Json(json!({"recipient_id": recipient, "message_id": format!("m_OUT{n}")})).into_response()
        }
        _ => graph_error(StatusCode::BAD_REQUEST, 100, "(#100) Invalid parameter"),
    }
}

async fn edge(
    State((inner, base)): State<Shared>,
    Path((_version, id, edge)): Path<(String, String, String)>,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (mut inner, body) = match admit(&inner, &headers, &method, format!("{id}/{edge}"), &edge, &body) {
        Ok(admitted) => admitted,
        Err(refused) => return refused,
    };
    let facebook = id.contains('_') || body["messaging_product"].is_null() && matches!(edge.as_str(), "feed" | "comments" | "likes" | "blocked" | "messages" | "replies" | "mentions");
    if facebook {
        return facebook_edge(&mut inner, &base, &id, &edge, &method, &body, &query);
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
