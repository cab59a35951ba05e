//! Google's APIs on loopback, as far as the YouTube and Google Business Profile channels use
//! them: the OAuth2 token endpoint (refresh tokens, expiring access tokens, `invalid_grant`);
//! the My Business v4 reviews of locations (paged newest update first, reply create/update and
//! delete) and the Business Information API's location titles; the YouTube Data API v3's
//! comment threads, comments, videos and channels, with moderation statuses, writes and a daily
//! quota counted in units (403 `quotaExceeded` past it); Google's JSON error bodies on demand;
//! and Pub/Sub pushes of review notifications.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use crate::now_secs;

pub const CLIENT_ID: &str = "helpdesk-test.apps.googleusercontent.com";
pub const CLIENT_SECRET: &str = "google-client-secret";
pub const REFRESH_TOKEN: &str = "1//google-refresh-token";
pub const PUSH_TOKEN: &str = "pubsub-push-token";
pub const ACCOUNT: &str = "1234567890";
pub const YT_CHANNEL: &str = "UCacmeSupportChannel0001";
/// The service account Pub/Sub pushes authenticate as, and the id of the key signing them.
pub const PUSH_ACCOUNT: &str = "gbp-push@acme-helpdesk.iam.gserviceaccount.com";
const KEY_ID: &str = "emulator-key-1";
/// Google's signing key here: a fixed test key (generated once with openssl), so no test waits
/// on generating one.
const SIGNING_KEY: &str = include_str!("../assets/google-push-key.pem");

fn signing_key() -> rsa::RsaPrivateKey {
    use rsa::pkcs8::DecodePrivateKey;
    rsa::RsaPrivateKey::from_pkcs8_pem(SIGNING_KEY).expect("the test key parses")
}

fn b64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// An RS256 JWT of `claims`, signed with `key` under `kid`.
pub fn jwt(claims: &Value, key: &rsa::RsaPrivateKey, kid: &str) -> String {
    use rsa::signature::{SignatureEncoding, Signer};
    let header = b64url(json!({"alg": "RS256", "kid": kid, "typ": "JWT"}).to_string().as_bytes());
    let payload = b64url(claims.to_string().as_bytes());
    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key.clone());
    let signature = signer.sign(format!("{header}.{payload}").as_bytes());
    format!("{header}.{payload}.{}", b64url(&signature.to_bytes()))
}

/// A token like [`push_token`]'s under Google's key id, but signed by a key of someone else's
/// making (a fresh one from openssl).
pub fn push_token_signed_by_a_stranger(audience: &str) -> String {
    use rsa::pkcs8::DecodePrivateKey;
    let pem = std::process::Command::new("openssl").args(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]).output().expect("openssl").stdout;
    let stranger = rsa::RsaPrivateKey::from_pkcs8_pem(std::str::from_utf8(&pem).unwrap()).expect("openssl made a key");
    let now = chrono::Utc::now().timestamp();
    jwt(&json!({"iss": "https://accounts.google.com", "aud": audience, "exp": now + 3600, "email": PUSH_ACCOUNT, "email_verified": true}), &stranger, KEY_ID)
}

/// The OIDC token Pub/Sub sends with an authenticated push for `audience`, `exp_in` seconds from now.
pub fn push_token(audience: &str, exp_in: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"iss": "https://accounts.google.com", "aud": audience, "azp": "1133", "email": PUSH_ACCOUNT, "email_verified": true,
        "iat": now, "exp": now + exp_in, "sub": "1133"});
    jwt(&claims, &signing_key(), KEY_ID)
}

pub use crate::Call;

struct Inner {
    calls: Vec<Call>,
    tokens: Vec<String>,
    /// Seconds an access token lives.
    token_life: i64,
    refresh_revoked: bool,
    next: u64,
    failures: HashMap<String, VecDeque<(u16, Value)>>,
    /// Locations by id: title; reviews by name, in the order written.
    locations: HashMap<String, String>,
    reviews: Vec<Value>,
    /// YouTube: videos by id, comments (top-level and replies) in order, units used today.
    videos: HashMap<String, Value>,
    comments: Vec<Value>,
    units: u64,
    quota: u64,
}

#[derive(Clone)]
pub struct GoogleEmulator {
    inner: Arc<Mutex<Inner>>,
    addr: SocketAddr,
    http: reqwest::Client,
}

fn iso(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0).unwrap().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

const STARS: [&str; 5] = ["ONE", "TWO", "THREE", "FOUR", "FIVE"];

impl GoogleEmulator {
    pub async fn start() -> std::io::Result<Self> {
        let inner = Arc::new(Mutex::new(Inner {
            calls: Vec::new(),
            tokens: Vec::new(),
            token_life: 3600,
            refresh_revoked: false,
            next: 1,
            failures: HashMap::new(),
            locations: HashMap::new(),
            reviews: Vec::new(),
            videos: HashMap::new(),
            comments: Vec::new(),
            units: 0,
            quota: 10_000,
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let emu = GoogleEmulator { inner: inner.clone(), addr, http: reqwest::Client::new() };
        // For tests outside Rust (the browser tests): a customer reviews, a viewer comments.
        let control = Router::new()
            .route("/_emulator/reviews", axum::routing::post(|State(e): State<GoogleEmulator>, Json(b): Json<Value>| async move {
                let name = e.add_review(b["location"].as_str().unwrap_or_default(), b["reviewer"].as_str().unwrap_or("Someone"), b["stars"].as_u64().unwrap_or(5) as u8, b["comment"].as_str().unwrap_or_default());
                Json(json!({"name": name}))
            }))
            .route("/_emulator/comments", axum::routing::post(|State(e): State<GoogleEmulator>, Json(b): Json<Value>| async move {
                let id = e.add_comment(b["video"].as_str().unwrap_or_default(), b["parent"].as_str(), b["author"].as_str(), b["text"].as_str().unwrap_or_default(), b["status"].as_str().unwrap_or("published"));
                Json(json!({"id": id}))
            }))
            .route("/_emulator/comments/{id}", axum::routing::get(|State(e): State<GoogleEmulator>, axum::extract::Path(id): axum::extract::Path<String>| async move { Json(e.comment(&id)) }))
            .with_state(emu.clone());
        let certs = {
            use rsa::traits::PublicKeyParts;
            let public = signing_key().to_public_key();
            json!({"keys": [{"kid": KEY_ID, "kty": "RSA", "alg": "RS256", "use": "sig", "n": b64url(&public.n().to_bytes_be()), "e": b64url(&public.e().to_bytes_be())}]})
        };
        let app = Router::new()
            .route("/cdn/{name}", axum::routing::get(|| async { ([("content-type", "image/png")], crate::PHOTO_PNG) }))
            .route("/oauth2/v3/certs", axum::routing::get(move || async move { Json(certs) }))
            .fallback(handle)
            .with_state(inner)
            .merge(control);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(emu)
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn channel_toml(&self, id: &str, plugin: &str, display_name: &str, config: &[(&str, String)], push: bool) -> String {
        let config: String = config.iter().map(|(k, v)| format!("{k} = \"{v}\"\n")).collect();
        let push = if push { format!("push_token = \"{PUSH_TOKEN}\"\n") } else { String::new() };
        format!(
            "\n[[channel]]\nid = \"{id}\"\nplugin = \"{plugin}\"\ndisplay_name = \"{display_name}\"\nallowed_hosts = [\"http://{addr}\"]\n\
             [channel.config]\nclient_id = \"{CLIENT_ID}\"\ntoken_url = \"{base}/token\"\n{config}\
             [channel.secrets]\nclient_secret = \"{CLIENT_SECRET}\"\nrefresh_token = \"{REFRESH_TOKEN}\"\n{push}",
            addr = self.addr,
            base = self.base_url()
        )
    }

    /// A Google Business Profile `[[channel]]` for these locations (with the push token when `push`).
    pub fn gbp_channel_toml(&self, id: &str, locations: &[&str], push: bool) -> String {
        let base = self.base_url();
        self.channel_toml(
            id,
            "gbp",
            &format!("Reviews {id}"),
            &[("account_id", ACCOUNT.into()), ("location_ids", locations.join(",")), ("api_url", format!("{base}/v4")), ("info_url", format!("{base}/v1")), ("poll_seconds", "1".into())],
            push,
        )
    }

    /// A Google Business Profile `[[channel]]` whose pushes are authenticated (Google-signed
    /// tokens for `audience`, from the push service account).
    pub fn gbp_channel_toml_authenticated(&self, id: &str, locations: &[&str], audience: &str) -> String {
        let base = self.base_url();
        self.channel_toml(
            id,
            "gbp",
            &format!("Reviews {id}"),
            &[
                ("account_id", ACCOUNT.into()),
                ("location_ids", locations.join(",")),
                ("api_url", format!("{base}/v4")),
                ("info_url", format!("{base}/v1")),
                ("poll_seconds", "1".into()),
                ("push_audience", audience.into()),
                ("push_service_account", PUSH_ACCOUNT.into()),
                ("certs_url", format!("{base}/oauth2/v3/certs")),
            ],
            false,
        )
    }

    /// A YouTube `[[channel]]` for the test channel.
    pub fn youtube_channel_toml(&self, id: &str, daily_quota: u64) -> String {
        let base = self.base_url();
        self.channel_toml(
            id,
            "youtube",
            &format!("YouTube {id}"),
            &[("channel_id", YT_CHANNEL.into()), ("api_url", format!("{base}/youtube/v3")), ("daily_quota", daily_quota.to_string()), ("poll_seconds", "1".into())],
            false,
        )
    }

    pub fn add_location(&self, id: &str, title: &str) {
        self.inner.lock().unwrap().locations.insert(id.to_string(), title.to_string());
    }

    /// A customer reviews location `location`: the review's name.
    pub fn add_review(&self, location: &str, reviewer: &str, stars: u8, comment: &str) -> String {
        let mut inner = self.inner.lock().unwrap();
        let id = format!("AbFvOq{}", inner.next);
        inner.next += 1;
        let name = format!("accounts/{ACCOUNT}/locations/{location}/reviews/{id}");
        // A second apart, so "newest update first" is an order.
        let at = iso(now_secs() - 1000 + inner.next as i64);
        inner.reviews.push(json!({"name": name, "reviewId": id,
            "reviewer": {"displayName": reviewer, "isAnonymous": false},
            "starRating": STARS[(stars.clamp(1, 5) - 1) as usize], "comment": comment, "createTime": at, "updateTime": at}));
        name
    }

    /// The customer changes their review.
    pub fn edit_review(&self, name: &str, stars: u8, comment: &str) {
        let mut inner = self.inner.lock().unwrap();
        let r = inner.reviews.iter_mut().find(|r| r["name"] == name).expect("a review of that name");
        r["starRating"] = json!(STARS[(stars.clamp(1, 5) - 1) as usize]);
        r["comment"] = json!(comment);
        r["updateTime"] = json!(iso(now_secs() + 1));
    }

    /// The business answered in Google's own tools.
    pub fn answer_review(&self, name: &str, comment: &str) {
        let mut inner = self.inner.lock().unwrap();
        let r = inner.reviews.iter_mut().find(|r| r["name"] == name).expect("a review of that name");
        r["reviewReply"] = json!({"comment": comment, "updateTime": iso(now_secs())});
    }

    pub fn review(&self, name: &str) -> Value {
        self.inner.lock().unwrap().reviews.iter().find(|r| r["name"] == name).cloned().unwrap_or(Value::Null)
    }

    pub fn add_video(&self, id: &str, title: &str) {
        let v = json!({"kind": "youtube#video", "id": id, "snippet": {"title": title, "description": format!("{title}: our latest video."),
            "channelId": YT_CHANNEL, "channelTitle": "Acme Support", "publishedAt": iso(now_secs() - 86_400),
            "thumbnails": {"high": {"url": format!("http://{}/cdn/{id}.png", self.addr)}}}});
        self.inner.lock().unwrap().videos.insert(id.to_string(), v);
    }

    /// A comment on `video` (`parent`: the top-level comment it answers), with its moderation
    /// status (`published`, `heldForReview`, `likelySpam`); by the channel itself when `author`
    /// is `None`. Its id.
    pub fn add_comment(&self, video: &str, parent: Option<&str>, author: Option<&str>, text: &str, status: &str) -> String {
        let mut inner = self.inner.lock().unwrap();
        let id = format!("Ugz{}AaABAg", inner.next);
        inner.next += 1;
        let at = iso(now_secs() - 1000 + inner.next as i64);
        let (name, channel) = match author {
            Some(a) => (a.to_string(), format!("UC{}", a.replace(' ', ""))),
            None => ("@AcmeSupport".to_string(), YT_CHANNEL.to_string()),
        };
        let mut snippet = json!({"authorDisplayName": name, "authorChannelId": {"value": channel},
            "authorChannelUrl": format!("http://www.youtube.com/channel/{channel}"),
            "channelId": YT_CHANNEL, "videoId": video, "textDisplay": text, "textOriginal": text, "canRate": true, "viewerRating": "none",
            "likeCount": 0, "publishedAt": at, "updatedAt": at, "moderationStatus": status});
        if let Some(p) = parent {
            snippet["parentId"] = json!(p);
        }
        inner.comments.push(json!({"kind": "youtube#comment", "id": id, "snippet": snippet}));
        id
    }

    pub fn comment(&self, id: &str) -> Value {
        self.inner.lock().unwrap().comments.iter().find(|c| c["id"] == id).cloned().unwrap_or(Value::Null)
    }

    /// YouTube units used so far today, and the day's quota.
    pub fn units_used(&self) -> u64 {
        self.inner.lock().unwrap().units
    }
    pub fn set_quota(&self, units: u64) {
        self.inner.lock().unwrap().quota = units;
    }

    /// Every access token given so far stops working (as an hour passing would).
    pub fn expire_access_tokens(&self) {
        self.inner.lock().unwrap().tokens.clear();
    }
    /// The account revoked the refresh token: refreshing answers `invalid_grant`.
    pub fn revoke_refresh_token(&self) {
        let mut inner = self.inner.lock().unwrap();
        inner.refresh_revoked = true;
        inner.tokens.clear();
    }

    /// The next call whose path starts with `prefix` fails with this Google error.
    pub fn fail_next(&self, prefix: &str, status: u16, reason: &str, message: &str) {
        let body = json!({"error": {"code": status, "message": message, "errors": [{"message": message, "domain": "global", "reason": reason}],
            "status": if status == 429 { "RESOURCE_EXHAUSTED" } else { "FAILED_PRECONDITION" }}});
        self.inner.lock().unwrap().failures.entry(prefix.to_string()).or_default().push_back((status, body));
    }

    pub fn calls(&self, prefix: &str) -> Vec<Call> {
        self.inner.lock().unwrap().calls.iter().filter(|c| c.path.starts_with(prefix)).cloned().collect()
    }

    /// The Pub/Sub push of a review notification (`NEW_REVIEW`, `UPDATED_REVIEW`) to `url`.
    pub async fn push_review(&self, url: &str, kind: &str, review: &str) -> u16 {
        self.push_review_with(url, kind, review, None).await
    }

    /// The same push, authenticated with `bearer` (see [`push_token`]).
    pub async fn push_review_with(&self, url: &str, kind: &str, review: &str, bearer: Option<&str>) -> u16 {
        use base64::Engine;
        let location = review.split("/reviews/").next().unwrap_or_default();
        let data = json!({"notificationType": kind, "review": review, "location": location});
        let body = json!({"message": {"data": base64::engine::general_purpose::STANDARD.encode(data.to_string()),
            "messageId": "136969346945", "publishTime": iso(now_secs())}, "subscription": "projects/acme/subscriptions/gbp-push"});
        let mut req = self.http.post(url).json(&body);
        if let Some(token) = bearer {
            req = req.header("authorization", format!("Bearer {token}"));
        }
        req.send().await.map(|r| r.status().as_u16()).unwrap_or(0)
    }
}

fn google_error(status: u16, reason: &str, message: &str) -> Response {
    let body = json!({"error": {"code": status, "message": message, "errors": [{"message": message, "domain": "global", "reason": reason}]}});
    (StatusCode::from_u16(status).unwrap(), Json(body)).into_response()
}

fn params(query: &Option<String>) -> HashMap<String, String> {
    query.as_deref().map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default()
}

/// What a YouTube Data API method costs.
fn units(method: &Method, path: &str) -> u64 {
    if method == Method::GET { 1 } else if path.contains("youtube") { 50 } else { 0 }
}

async fn handle(State(inner): State<Arc<Mutex<Inner>>>, method: Method, uri: Uri, RawQuery(query): RawQuery, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path().to_string();
    let full = uri.path_and_query().map(|p| p.to_string()).unwrap_or_else(|| path.clone());
    let json_body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let p = params(&query);
    let mut inner = inner.lock().unwrap();
    if path == "/token" {
        let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
        inner.calls.push(Call { method: method.to_string(), path: full, body: json!(form) });
        if form.get("client_id").map(String::as_str) != Some(CLIENT_ID) || form.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET) {
            return (StatusCode::UNAUTHORIZED, Json(json!({"error": "invalid_client", "error_description": "The OAuth client was not found."}))).into_response();
        }
        if inner.refresh_revoked || form.get("refresh_token").map(String::as_str) != Some(REFRESH_TOKEN) || form.get("grant_type").map(String::as_str) != Some("refresh_token") {
            return (StatusCode::BAD_REQUEST, Json(json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."}))).into_response();
        }
        let token = format!("ya29.test-{}", inner.next);
        inner.next += 1;
        inner.tokens.push(token.clone());
        return Json(json!({"access_token": token, "expires_in": inner.token_life, "scope": "https://www.googleapis.com/auth/youtube.force-ssl", "token_type": "Bearer"})).into_response();
    }
    inner.calls.push(Call { method: method.to_string(), path: full.clone(), body: json_body.clone() });
    let bearer = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).unwrap_or("");
    if !inner.tokens.iter().any(|t| t == bearer) {
        return (StatusCode::UNAUTHORIZED, Json(json!({"error": {"code": 401, "message": "Request had invalid authentication credentials.", "status": "UNAUTHENTICATED"}})))
            .into_response();
    }
    if let Some((status, body)) = inner.failures.iter_mut().find(|(prefix, q)| full.starts_with(prefix.as_str()) && !q.is_empty()).and_then(|(_, q)| q.pop_front()) {
        return (StatusCode::from_u16(status).unwrap(), Json(body)).into_response();
    }
    if let Some(yt) = path.strip_prefix("/youtube/v3/") {
        let cost = units(&method, &path);
        if inner.units + cost > inner.quota {
            let body = json!({"error": {"code": 403, "message": "The request cannot be completed because you have exceeded your <a href=\"/youtube/v3/getting-started#quota\">quota</a>.",
                "errors": [{"message": "quota exceeded", "domain": "youtube.quota", "reason": "quotaExceeded"}]}});
            return (StatusCode::FORBIDDEN, Json(body)).into_response();
        }
        inner.units += cost;
        return youtube(&mut inner, &method, yt, &p, &json_body);
    }
    if let Some(v1) = path.strip_prefix("/v1/locations/") {
        return match inner.locations.get(v1) {
            Some(title) => Json(json!({"name": format!("locations/{v1}"), "title": title,
                "storefrontAddress": {"addressLines": ["1 Main Street"], "locality": "Springfield"},
                "metadata": {"mapsUri": format!("https://maps.google.com/maps?cid={v1}")}})).into_response(),
            None => google_error(404, "notFound", "Requested entity was not found."),
        };
    }
    if let Some(v4) = path.strip_prefix("/v4/") {
        return gbp(&mut inner, &method, v4, &p, &json_body);
    }
    google_error(404, "notFound", "no such method")
}

fn gbp(inner: &mut Inner, method: &Method, path: &str, p: &HashMap<String, String>, body: &Value) -> Response {
    if path.contains("/questions") {
        return google_error(404, "notFound", "The Q&A API was discontinued on 2025-11-03.");
    }
    if let Some(location) = path.strip_suffix("/reviews") {
        if !location.rsplit('/').next().is_some_and(|id| inner.locations.contains_key(id)) {
            return google_error(404, "notFound", "Requested entity was not found.");
        }
        let prefix = format!("{location}/reviews/");
        let mut of: Vec<Value> = inner.reviews.iter().filter(|r| r["name"].as_str().is_some_and(|n| n.starts_with(&prefix))).cloned().collect();
        of.sort_by(|a, b| b["updateTime"].as_str().cmp(&a["updateTime"].as_str()));
        let size: usize = p.get("pageSize").and_then(|s| s.parse().ok()).unwrap_or(50).clamp(1, 50);
        let start: usize = p.get("pageToken").and_then(|t| t.parse().ok()).unwrap_or(0);
        let (page, next) = crate::page_of(&of, start, size);
        let mut out = json!({"reviews": page, "totalReviewCount": of.len(), "averageRating": 4.1});
        if let Some(next) = next {
            out["nextPageToken"] = json!(next.to_string());
        }
        return Json(out).into_response();
    }
    let (name, reply) = match path.strip_suffix("/reply") {
        Some(n) => (n, true),
        None => (path, false),
    };
    let Some(r) = inner.reviews.iter_mut().find(|r| r["name"] == name) else {
        return google_error(404, "notFound", "Requested entity was not found.");
    };
    match (method.as_str(), reply) {
        ("GET", false) => Json(r.clone()).into_response(),
        ("PUT", true) => {
            let Some(comment) = body["comment"].as_str() else { return google_error(400, "badRequest", "comment is required") };
            if comment.len() > 4096 {
                return google_error(400, "badRequest", "The reply is longer than 4096 bytes.");
            }
            let answer = json!({"comment": comment, "updateTime": iso(now_secs())});
            r["reviewReply"] = answer.clone();
            Json(answer).into_response()
        }
        ("DELETE", true) => {
            if r.as_object_mut().and_then(|o| o.remove("reviewReply")).is_none() {
                return google_error(404, "notFound", "This review has no reply.");
            }
            Json(json!({})).into_response()
        }
        _ => google_error(405, "methodNotAllowed", "Reviews can only be read; their reply written or deleted."),
    }
}

fn youtube(inner: &mut Inner, method: &Method, path: &str, p: &HashMap<String, String>, body: &Value) -> Response {
    let page = |items: Vec<Value>, p: &HashMap<String, String>, kind: &str| {
        let size: usize = p.get("maxResults").and_then(|s| s.parse().ok()).unwrap_or(20).clamp(1, 100);
        let start: usize = p.get("pageToken").and_then(|t| t.parse().ok()).unwrap_or(0);
        let (chunk, next) = crate::page_of(&items, start, size);
        let mut out = json!({"kind": kind, "pageInfo": {"totalResults": items.len(), "resultsPerPage": size}, "items": chunk});
        if let Some(next) = next {
            out["nextPageToken"] = json!(next.to_string());
        }
        Json(out).into_response()
    };
    match (method.as_str(), path) {
        ("GET", "channels") => {
            let items = if p.get("id").map(String::as_str) == Some(YT_CHANNEL) {
                vec![json!({"kind": "youtube#channel", "id": YT_CHANNEL, "snippet": {"title": "Acme Support"}})]
            } else {
                Vec::new()
            };
            Json(json!({"kind": "youtube#channelListResponse", "items": items})).into_response()
        }
        ("GET", "videos") => {
            let items: Vec<Value> = p.get("id").and_then(|id| inner.videos.get(id)).cloned().into_iter().collect();
            Json(json!({"kind": "youtube#videoListResponse", "items": items})).into_response()
        }
        ("GET", "commentThreads") => {
            if p.get("allThreadsRelatedToChannelId").map(String::as_str) != Some(YT_CHANNEL) {
                return google_error(400, "channelNotFound", "allThreadsRelatedToChannelId names no channel of this account");
            }
            let status = p.get("moderationStatus").map(String::as_str).unwrap_or("published");
            let mut tops: Vec<&Value> =
                inner.comments.iter().filter(|c| c["snippet"]["parentId"].is_null() && c["snippet"]["moderationStatus"] == status).collect();
            tops.reverse(); // order=time: newest first
            let threads = tops
                .into_iter()
                .map(|top| {
                    let id = top["id"].as_str().unwrap_or_default();
                    let replies: Vec<Value> = inner.comments.iter().filter(|c| c["snippet"]["parentId"] == id).cloned().collect();
                    // A thread embeds at most its first five replies.
                    let embedded: Vec<Value> = replies.iter().take(5).cloned().collect();
                    json!({"kind": "youtube#commentThread", "id": id, "snippet": {"channelId": YT_CHANNEL, "videoId": top["snippet"]["videoId"],
                        "topLevelComment": top, "canReply": true, "totalReplyCount": replies.len(), "isPublic": true},
                        "replies": {"comments": embedded}})
                })
                .collect();
            page(threads, p, "youtube#commentThreadListResponse")
        }
        ("GET", "comments") => {
            let Some(parent) = p.get("parentId") else { return google_error(400, "missingRequiredParameter", "No filter selected.") };
            let replies: Vec<Value> = inner.comments.iter().filter(|c| c["snippet"]["parentId"] == parent.as_str()).cloned().collect();
            page(replies, p, "youtube#commentListResponse")
        }
        ("POST", "comments") => {
            let parent = body["snippet"]["parentId"].as_str().unwrap_or_default().to_string();
            let Some(top) = inner.comments.iter().find(|c| c["id"] == parent.as_str()).cloned() else {
                return google_error(404, "parentCommentNotFound", "The comment to reply to was not found.");
            };
            if !top["snippet"]["parentId"].is_null() {
                return google_error(400, "operationNotSupported", "Replies can only be made to top-level comments.");
            }
            let text = body["snippet"]["textOriginal"].as_str().unwrap_or_default().to_string();
            let id = format!("Ugz{}AaABAg.reply", inner.next);
            inner.next += 1;
            let at = iso(now_secs());
            let c = json!({"kind": "youtube#comment", "id": id, "snippet": {"authorDisplayName": "@AcmeSupport", "authorChannelId": {"value": YT_CHANNEL},
                "channelId": YT_CHANNEL, "videoId": top["snippet"]["videoId"], "textDisplay": text, "textOriginal": text, "parentId": parent,
                "publishedAt": at, "updatedAt": at, "moderationStatus": "published"}});
            inner.comments.push(c.clone());
            Json(c).into_response()
        }
        ("POST", "comments/setModerationStatus") => {
            let status = p.get("moderationStatus").cloned().unwrap_or_default();
            if !["heldForReview", "published", "rejected"].contains(&status.as_str()) {
                return google_error(400, "invalidModerationStatus", "moderationStatus must be heldForReview, published or rejected");
            }
            if p.get("banAuthor").map(String::as_str) == Some("true") && status != "rejected" {
                return google_error(400, "banWithoutReject", "banAuthor can only be used with moderationStatus=rejected");
            }
            let ids: Vec<String> = p.get("id").map(|s| s.split(',').map(str::to_string).collect()).unwrap_or_default();
            for id in ids {
                match inner.comments.iter_mut().find(|c| c["id"] == id.as_str()) {
                    Some(c) => c["snippet"]["moderationStatus"] = json!(status),
                    None => return google_error(404, "commentNotFound", "The comment was not found."),
                }
            }
            StatusCode::NO_CONTENT.into_response()
        }
        ("POST", "comments/markAsSpam") => google_error(400, "operationNotSupported", "comments.markAsSpam is no longer supported."),
        ("DELETE", "comments") => {
            let id = p.get("id").cloned().unwrap_or_default();
            let Some(pos) = inner.comments.iter().position(|c| c["id"] == id.as_str()) else {
                return google_error(404, "commentNotFound", "The comment was not found.");
            };
            if inner.comments[pos]["snippet"]["authorChannelId"]["value"] != YT_CHANNEL {
                return google_error(403, "forbidden", "The comment cannot be deleted: only its author can delete it.");
            }
            inner.comments.remove(pos);
            StatusCode::NO_CONTENT.into_response()
        }
        _ => google_error(404, "notFound", "no such method"),
    }
}
