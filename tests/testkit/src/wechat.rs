//! WeChat's Official Account API on loopback, as far as the WeChat channel uses it: access
//! tokens (2 hours; expired on demand, answered 42001), the customer-service message API (only
//! within 48 hours of the follower's last message, else 45015; 43004 once they unsubscribed;
//! any errcode on demand), temporary media; and pushes as WeChat sends them: the GET server
//! check with `echostr`, XML signed over the sorted token, timestamp and nonce, and in safe
//! mode encrypted with the EncodingAESKey (AES-256-CBC, `msg_signature`).

use aes::cipher::{BlockEncryptMut, KeyIvInit};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde_json::{json, Value};
use sha1::{Digest, Sha1};
use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

pub const APP_ID: &str = "wx5823bf96d3bd56c7";
pub const APP_SECRET: &str = "c5d7b2c0a9e84ff3b9b0f4b6a1e2d3c4";
pub const TOKEN: &str = "acmeWeChatToken2026";
pub const AES_KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
/// The account's own id (`ToUserName`).
pub const ACCOUNT: &str = "gh_3d9e1acme01";

#[derive(Default)]
struct Inner {
    calls: Vec<crate::Call>,
    next: u64,
    tokens: HashSet<String>,
    /// When each follower last wrote (seconds).
    last: HashMap<String, i64>,
    unsubscribed: HashSet<String>,
    sent: Vec<Value>,
    failures: VecDeque<(i64, String)>,
}

#[derive(Clone)]
pub struct WeChatEmulator {
    inner: Arc<Mutex<Inner>>,
    addr: SocketAddr,
    http: reqwest::Client,
}

fn err(code: i64, msg: &str) -> Response {
    Json(json!({"errcode": code, "errmsg": msg})).into_response()
}

/// `sha1` of the sorted parts, hex.
pub fn sign(parts: &[&str]) -> String {
    let mut p = parts.to_vec();
    p.sort_unstable();
    hex::encode(Sha1::digest(p.concat().as_bytes()))
}

/// Safe mode's ciphertext of `xml`, as WeChat makes it.
pub fn encrypt(xml: &str) -> String {
    let lenient = base64::engine::GeneralPurpose::new(&base64::alphabet::STANDARD, base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true));
    let key: [u8; 32] = lenient.decode(format!("{AES_KEY}=")).unwrap().try_into().unwrap();
    let mut plain: Vec<u8> = (0..16).map(|_| fastrand::alphanumeric() as u8).collect();
    plain.extend_from_slice(&(xml.len() as u32).to_be_bytes());
    plain.extend_from_slice(xml.as_bytes());
    plain.extend_from_slice(APP_ID.as_bytes());
    let pad = 32 - plain.len() % 32;
    plain.extend(std::iter::repeat_n(pad as u8, pad));
    let n = plain.len();
    let out = cbc::Encryptor::<aes::Aes256>::new(&key.into(), key[..16].into()).encrypt_padded_mut::<aes::cipher::block_padding::NoPadding>(&mut plain, n).unwrap().to_vec();
    base64::engine::general_purpose::STANDARD.encode(out)
}

impl WeChatEmulator {
    pub async fn start() -> std::io::Result<Self> {
        let inner = Arc::new(Mutex::new(Inner { next: 23_137_000_000_000_000, ..Default::default() }));
        let (listener, addr) = crate::listen().await?;
        let emu = WeChatEmulator { inner, addr, http: reqwest::Client::new() };
        let app = Router::new()
            .route("/cgi-bin/token", get(token))
            .route("/cgi-bin/message/custom/send", post(send))
            .route("/cgi-bin/media/get", get(media))
            .with_state(emu.clone());
        crate::serve(listener, app);
        Ok(emu)
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A channel of the `wechat` plugin; `safe` adds the EncodingAESKey (safe mode).
    pub fn channel_toml(&self, id: &str, safe: bool) -> String {
        let key = if safe { format!("encoding_aes_key = \"{AES_KEY}\"\n") } else { String::new() };
        format!(
            "\n[[channel]]\nid = \"{id}\"\nplugin = \"wechat\"\ndisplay_name = \"WeChat {id}\"\nallowed_hosts = [\"http://{addr}\"]\n\
             [channel.config]\nbase_url = \"{base}\"\napp_id = \"{APP_ID}\"\n[channel.secrets]\napp_secret = \"{APP_SECRET}\"\ntoken = \"{TOKEN}\"\n{key}",
            addr = self.addr,
            base = self.base_url()
        )
    }

    /// Every access token issued so far expires.
    pub fn expire_tokens(&self) {
        self.inner.lock().unwrap().tokens.clear();
    }

    /// The follower last wrote `hours` ago.
    pub fn age(&self, openid: &str, hours: i64) {
        self.inner.lock().unwrap().last.insert(openid.into(), crate::now_secs() - hours * 3600);
    }

    pub fn fail_next(&self, code: i64, msg: &str) {
        self.inner.lock().unwrap().failures.push_back((code, msg.into()));
    }

    pub fn sent(&self) -> Vec<Value> {
        self.inner.lock().unwrap().sent.clone()
    }

    pub fn token_fetches(&self) -> usize {
        self.inner.lock().unwrap().calls.iter().filter(|c| c.path.starts_with("/cgi-bin/token")).count()
    }

    /// A follower's message of `msg_type` with these fields, as WeChat's XML.
    pub fn message(&self, openid: &str, msg_type: &str, fields: &[(&str, &str)]) -> String {
        let mut inner = self.inner.lock().unwrap();
        inner.next += 1;
        let now = crate::now_secs();
        inner.last.insert(openid.into(), now);
        let extra: String = fields.iter().map(|(k, v)| format!("<{k}><![CDATA[{v}]]></{k}>")).collect();
        format!(
            "<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{now}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>{extra}<MsgId>{}</MsgId></xml>",
            inner.next
        )
    }

    /// A subscribe or unsubscribe event.
    pub fn event(&self, openid: &str, event: &str) -> String {
        let mut inner = self.inner.lock().unwrap();
        match event {
            "unsubscribe" => inner.unsubscribed.insert(openid.into()),
            _ => inner.unsubscribed.remove(openid),
        };
        format!(
            "<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event></xml>",
            crate::now_secs()
        )
    }

    /// The server check WeChat makes when the URL is saved: (status, body).
    pub async fn verify(&self, url: &str, token: &str) -> (u16, String) {
        let (timestamp, nonce) = (crate::now_secs().to_string(), fastrand::u32(..).to_string());
        let q = [("signature", sign(&[token, &timestamp, &nonce])), ("timestamp", timestamp), ("nonce", nonce), ("echostr", "5838479218127813673".into())];
        let q = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(q).finish();
        let Ok(r) = self.http.get(format!("{url}?{q}")).send().await else { return (0, String::new()) };
        (r.status().as_u16(), r.text().await.unwrap_or_default())
    }

    /// Push `xml` to `url` signed with `token`, encrypted when `safe` (status, body).
    pub async fn deliver(&self, url: &str, xml: &str, safe: bool, token: &str) -> (u16, String) {
        let (timestamp, nonce) = (crate::now_secs().to_string(), fastrand::u32(..).to_string());
        let mut q = vec![("signature", sign(&[token, &timestamp, &nonce])), ("timestamp", timestamp.clone()), ("nonce", nonce.clone()), ("openid", "o".into())];
        let body = if safe {
            let encrypted = encrypt(xml);
            q.push(("encrypt_type", "aes".into()));
            q.push(("msg_signature", sign(&[token, &timestamp, &nonce, &encrypted])));
            format!("<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>")
        } else {
            xml.to_string()
        };
        let q = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(q).finish();
        let Ok(r) = self.http.post(format!("{url}?{q}")).header("content-type", "text/xml").body(body).send().await else { return (0, String::new()) };
        (r.status().as_u16(), r.text().await.unwrap_or_default())
    }
}

async fn token(State(emu): State<WeChatEmulator>, Query(q): Query<HashMap<String, String>>) -> Response {
    let mut inner = emu.inner.lock().unwrap();
    inner.calls.push(crate::Call { method: "GET".into(), path: "/cgi-bin/token".into(), body: json!(q) });
    if q.get("appid").map(String::as_str) != Some(APP_ID) {
        return err(40013, "invalid appid");
    }
    if q.get("secret").map(String::as_str) != Some(APP_SECRET) {
        return err(40125, "invalid appsecret");
    }
    inner.next += 1;
    let t = format!("ACCESS_TOKEN_{}", inner.next);
    inner.tokens.insert(t.clone());
    Json(json!({"access_token": t, "expires_in": 7200})).into_response()
}

async fn send(State(emu): State<WeChatEmulator>, Query(q): Query<HashMap<String, String>>, Json(b): Json<Value>) -> Response {
    let mut inner = emu.inner.lock().unwrap();
    inner.calls.push(crate::Call { method: "POST".into(), path: "/cgi-bin/message/custom/send".into(), body: b.clone() });
    if !q.get("access_token").is_some_and(|t| inner.tokens.contains(t)) {
        return err(42001, "access_token expired");
    }
    if let Some((code, msg)) = inner.failures.pop_front() {
        return err(code, &msg);
    }
    let to = b["touser"].as_str().unwrap_or_default().to_string();
    if inner.unsubscribed.contains(&to) {
        return err(43004, "require subscribe");
    }
    if inner.last.get(&to).is_none_or(|t| crate::now_secs() - t > 48 * 3600) {
        return err(45015, "response out of time limit or subscription is canceled");
    }
    inner.sent.push(b);
    err(0, "ok")
}

async fn media(State(emu): State<WeChatEmulator>, Query(q): Query<HashMap<String, String>>) -> Response {
    let inner = emu.inner.lock().unwrap();
    if !q.get("access_token").is_some_and(|t| inner.tokens.contains(t)) {
        return err(42001, "access_token expired");
    }
    ([("content-type", "audio/amr")], b"#!AMR\n-fake-voice-".to_vec()).into_response()
}
