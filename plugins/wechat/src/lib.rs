//! WeChat channel (Official Account): WeChat pushes XML, signed with `sha1` of the sorted
//! token, timestamp and nonce (the server check a GET with `echostr` starts), and in "safe
//! mode" encrypted with the account's EncodingAESKey (AES-256-CBC, `msg_signature` over the
//! ciphertext too). A follower's messages are one private conversation; subscribe and
//! unsubscribe are recorded on the contact. Answers go through the customer-service message
//! API, which WeChat allows for 48 hours after the follower's last message; its access token
//! (2 hours) is kept and fetched again when WeChat says it expired.

use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::Engine;
use helpdesk_plugin_sdk::prelude::*;
use helpdesk_plugin_sdk::time;
use serde_json::{json, Value};
use sha1::{Digest, Sha1};
use std::collections::BTreeMap;

struct WeChat;

pub const PLATFORM: &str = "WeChat";
const DEFAULT_BASE_URL: &str = "https://api.weixin.qq.com";
/// WeChat's customer-service window.
const WINDOW_HOURS: u32 = 48;
/// A kept token is used until this close to its expiry.
const TOKEN_MARGIN_MS: i64 = 5 * 60 * 1000;

type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;
type Aes256CbcEnc = cbc::Encryptor<aes::Aes256>;

/// `sha1` of the parts sorted and joined, hex: WeChat's signature (and, with the ciphertext
/// among the parts, its `msg_signature`).
pub fn signature(parts: &[&str]) -> String {
    let mut sorted = parts.to_vec();
    sorted.sort_unstable();
    hex::encode(Sha1::digest(sorted.concat().as_bytes()))
}

/// A flat WeChat XML document (`<xml><Tag>value</Tag>…</xml>`) as its tags' texts.
pub fn parse_xml(xml: &[u8]) -> Result<BTreeMap<String, String>, String> {
    use quick_xml::events::Event as X;
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut fields = BTreeMap::new();
    let mut path: Vec<String> = Vec::new();
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).map_err(|e| format!("not XML: {e}"))? {
            X::Start(e) => path.push(String::from_utf8_lossy(e.name().as_ref()).into_owned()),
            X::End(_) => {
                path.pop();
            }
            X::Text(t) if path.len() == 2 => {
                let text = t.decode().map_err(|e| format!("bad text: {e}"))?;
                fields.entry(path[1].clone()).or_insert_with(String::new).push_str(&text);
            }
            X::GeneralRef(r) if path.len() == 2 => {
                let named = match r.decode().map_err(|e| format!("bad entity: {e}"))?.as_ref() {
                    "amp" => Some('&'),
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "quot" => Some('"'),
                    "apos" => Some('\''),
                    _ => None,
                };
                let c = named.or(r.resolve_char_ref().map_err(|e| format!("bad entity: {e}"))?).ok_or("an unknown entity")?;
                fields.entry(path[1].clone()).or_insert_with(String::new).push(c);
            }
            X::CData(c) if path.len() == 2 => fields.entry(path[1].clone()).or_insert_with(String::new).push_str(&String::from_utf8_lossy(&c)),
            X::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if fields.is_empty() {
        return Err("no fields".into());
    }
    Ok(fields)
}

fn aes_key(encoding_aes_key: &str) -> Result<[u8; 32], String> {
    // Its last character carries two bits more than the key: WeChat (and its SDKs) ignore them.
    const LENIENT: base64::engine::GeneralPurpose =
        base64::engine::GeneralPurpose::new(&base64::alphabet::STANDARD, base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true));
    let raw = LENIENT.decode(format!("{}=", encoding_aes_key.trim())).map_err(|_| "the EncodingAESKey is not 43 characters of base64")?;
    raw.try_into().map_err(|_| "the EncodingAESKey is not 43 characters of base64".to_string())
}

/// Safe mode's plaintext: 16 random bytes, the message's length (4 bytes, big-endian), the
/// message, the AppID; AES-256-CBC with the key's first 16 bytes as IV, padded to 32 bytes.
pub fn decrypt(encoding_aes_key: &str, app_id: &str, encrypted: &str) -> Result<Vec<u8>, String> {
    let key = aes_key(encoding_aes_key)?;
    let mut data = base64::engine::general_purpose::STANDARD.decode(encrypted.trim()).map_err(|_| "the ciphertext is not base64")?;
    let plain = Aes256CbcDec::new(&key.into(), key[..16].into())
        .decrypt_padded_mut::<aes::cipher::block_padding::NoPadding>(&mut data)
        .map_err(|_| "the ciphertext is not whole AES blocks")?;
    let pad = *plain.last().ok_or("empty plaintext")? as usize;
    if !(1..=32).contains(&pad) || pad > plain.len() || plain.len() < 20 + pad {
        return Err("wrong key: the padding does not decrypt".into());
    }
    let body = &plain[16..plain.len() - pad];
    let len = u32::from_be_bytes([body[0], body[1], body[2], body[3]]) as usize;
    let (msg, rest) = body[4..].split_at_checked(len).ok_or("wrong key: the length does not decrypt")?;
    if rest != app_id.as_bytes() {
        return Err("the message was encrypted for another AppID".into());
    }
    Ok(msg.to_vec())
}

/// Encrypt as WeChat does (for passive answers and the kit's fixtures).
pub fn encrypt(encoding_aes_key: &str, app_id: &str, random16: &[u8; 16], msg: &[u8]) -> Result<String, String> {
    let key = aes_key(encoding_aes_key)?;
    let mut plain = random16.to_vec();
    plain.extend_from_slice(&(msg.len() as u32).to_be_bytes());
    plain.extend_from_slice(msg);
    plain.extend_from_slice(app_id.as_bytes());
    let pad = 32 - plain.len() % 32;
    plain.extend(std::iter::repeat_n(pad as u8, pad));
    let n = plain.len();
    let out = Aes256CbcEnc::new(&key.into(), key[..16].into())
        .encrypt_padded_mut::<aes::cipher::block_padding::NoPadding>(&mut plain, n)
        .map_err(|_| "cannot encrypt")?;
    Ok(base64::engine::general_purpose::STANDARD.encode(out))
}

/// The access token, kept in kv until shortly before it expires; `fresh` fetches a new one.
fn access_token(fresh: bool) -> Result<String, ChannelError> {
    let now = time::now_ms();
    if !fresh {
        if let Some(v) = kv_get("access_token")?.and_then(|b| serde_json::from_slice::<Value>(&b).ok()) {
            if v["expires_at"].as_i64().is_some_and(|at| at - TOKEN_MARGIN_MS > now) {
                if let Some(t) = v["token"].as_str() {
                    return Ok(t.to_string());
                }
            }
        }
    }
    let url = format!("{}/cgi-bin/token", config_or("base_url", DEFAULT_BASE_URL).trim_end_matches('/'));
    let req = Request::get(url).query(&[("grant_type", "client_credential"), ("appid", &require_config("app_id")?), ("secret", &require_secret("app_secret")?)]);
    let v = answer(req.send()?)?;
    let token = v["access_token"].as_str().ok_or_else(|| err::transient("WeChat gave no access token"))?.to_string();
    let expires_at = now + v["expires_in"].as_i64().unwrap_or(7200) * 1000;
    kv_set("access_token", json!({"token": token, "expires_at": expires_at}).to_string().as_bytes())?;
    Ok(token)
}

/// WeChat answers HTTP 200 with an `errcode` (0 or absent: ok).
fn answer(resp: Response) -> Result<Value, ChannelError> {
    if resp.status >= 500 {
        return Err(err::transient(format!("WeChat answered HTTP {}", resp.status)));
    }
    let v: Value = resp.json()?;
    let code = v["errcode"].as_i64().unwrap_or(0);
    let words = format!("{} (errcode {code})", v["errmsg"].as_str().unwrap_or(""));
    match code {
        0 => Ok(v),
        -1 => Err(err::transient(format!("WeChat is busy: {words}"))),
        40001 | 40014 | 42001 => Err(err::unauthorized(format!("WeChat refused the access token: {words}"))),
        40013 | 40125 | 40164 => Err(err::unauthorized(format!("WeChat refused the AppID, AppSecret or this server's IP: {words}"))),
        45009 | 45011 => Err(err::rate_limited(60_000, format!("WeChat's call limit is reached: {words}"))),
        45015 => Err(err::permanent(format!("WeChat's 48-hour window is closed: the follower has not written for 48 hours, so no answer can be sent ({words})"))),
        45047 => Err(err::permanent(format!("WeChat allows no more answers until the follower writes again ({words})"))),
        43004 => Err(err::permanent(format!("the follower has unsubscribed from the account ({words})"))),
        _ => Err(err::permanent(format!("WeChat refused the request: {words}"))),
    }
}

/// A call with the access token, fetched again once if WeChat says it expired.
fn call(path: &str, body: Option<&Value>, query: &[(&str, &str)]) -> Result<Value, ChannelError> {
    let url = format!("{}{path}", config_or("base_url", DEFAULT_BASE_URL).trim_end_matches('/'));
    let send = |token: &str| {
        let mut q = vec![("access_token", token)];
        q.extend_from_slice(query);
        let req = match body {
            Some(b) => Request::post(url.clone()).query(&q).json(b),
            None => Request::get(url.clone()).query(&q),
        };
        answer(req.send()?)
    };
    match send(&access_token(false)?) {
        Err(ChannelError::Unauthorized(m)) if m.contains("access token") => send(&access_token(true)?),
        other => other,
    }
}

fn follower(openid: &str) -> Author {
    let tail: String = openid.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    Author::new(openid, format!("WeChat follower …{tail}"))
}

/// A message or event as what it means here.
fn event(f: &BTreeMap<String, String>) -> Vec<Event> {
    let get = |k: &str| f.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let Some(openid) = get("FromUserName") else { return Vec::new() };
    let at = get("CreateTime").and_then(|t| t.parse::<i64>().ok()).map(time::from_unix_seconds);
    let who = follower(openid);
    let kind = get("MsgType").unwrap_or("");
    if kind == "event" {
        let status = match get("Event") {
            Some("subscribe") => ContactStatus::OptedIn,
            Some("unsubscribe") => ContactStatus::OptedOut,
            // Menu clicks, scans, location reports: nothing an agent answers.
            _ => return Vec::new(),
        };
        return vec![Event::Contact(ContactEvent { author: who, status, at: at.unwrap_or_else(time::now_ms) })];
    }
    let Some(id) = get("MsgId") else { return Vec::new() };
    let file = |k: AttachmentKind, url: Option<&str>| Attachment {
        kind: k,
        platform_id: get("MediaId").map(str::to_string),
        url: url.map(str::to_string),
        mime_type: None,
        name: None,
        size: None,
    };
    let (text, attachments) = match kind {
        "text" => (get("Content").unwrap_or("").to_string(), Vec::new()),
        "image" => (String::new(), vec![file(AttachmentKind::Image, get("PicUrl"))]),
        // WeChat's own transcript of a voice message, where it made one.
        "voice" => (get("Recognition").unwrap_or("").to_string(), vec![file(AttachmentKind::Audio, None)]),
        "video" | "shortvideo" => (String::new(), vec![file(AttachmentKind::Video, None)]),
        "location" => {
            let (x, y) = (get("Location_X").unwrap_or("0"), get("Location_Y").unwrap_or("0"));
            let map = format!("https://www.openstreetmap.org/?mlat={x}&mlon={y}");
            let label = get("Label").map(str::to_string);
            (label.clone().unwrap_or_default(), vec![Attachment { kind: AttachmentKind::Location, platform_id: None, url: Some(map), mime_type: None, name: label, size: None }])
        }
        "link" => ([get("Title"), get("Description"), get("Url")].into_iter().flatten().collect::<Vec<_>>().join("\n"), Vec::new()),
        other => (format!("[{other}]"), Vec::new()),
    };
    let mut i = Interaction::new(id, InteractionKind::PrivateMessage, Direction::Inbound, openid, who, text, at);
    i.attachments = attachments;
    vec![Event::Interaction(i)]
}

impl Channel for WeChat {
    fn describe() -> ChannelInfo {
        ChannelInfo {
            platform: "wechat".into(),
            platform_name: PLATFORM.into(),
            capabilities: vec![Capability::new(InteractionKind::PrivateMessage, &[ActionKind::Reply])
                .note("WeChat allows answers for 48 hours after the follower's last message")
                .note("WeChat has no way to hide, like, delete or block through its API")
                .max_reply_chars(2000)],
            polls: false,
            webhooks: true,
            reply_window_hours: Some(WINDOW_HOURS),
            tagged_reply_window: None,
            settings: vec![
                Setting::config("app_id", "AppID").required().help("wx…: the Official Account's developer ID"),
                Setting::secret("app_secret", "AppSecret").required(),
                Setting::secret("token", "Token").required().help("The Token set in the account's server configuration: it signs WeChat's pushes"),
                Setting::secret("encoding_aes_key", "EncodingAESKey").optional().help("43 characters, for the safe (encrypted) mode; leave unset in plaintext mode"),
                Setting::config("base_url", "API URL").default_value(DEFAULT_BASE_URL),
            ],
            allowed_hosts: vec!["https://api.weixin.qq.com".into(), "https://*.qpic.cn".into()],
        }
    }

    fn check() -> Result<String, ChannelError> {
        access_token(true)?;
        let mode = if secret("encoding_aes_key").is_some_and(|k| !k.is_empty()) { "safe mode" } else { "plaintext mode" };
        Ok(format!("WeChat Official Account {} ({mode})", require_config("app_id")?))
    }

    fn handle_webhook(request: HttpRequest) -> Result<WebhookOutcome, ChannelError> {
        let token = require_secret("token")?;
        let q = |k: &str| request.query(k).unwrap_or_default();
        let (timestamp, nonce) = (q("timestamp"), q("nonce"));
        let signed = signature(&[&token, &timestamp, &nonce]);
        if timestamp.is_empty() || !helpdesk_plugin_sdk::constant_time_eq(signed.as_bytes(), q("signature").to_ascii_lowercase().as_bytes()) {
            return Ok(WebhookOutcome::reject(401, "missing or wrong signature"));
        }
        // The server check when an admin saves the URL: echo `echostr`.
        if request.method.eq_ignore_ascii_case("GET") {
            return Ok(WebhookOutcome { response: HttpResponse::text(200, &q("echostr")), events: Vec::new() });
        }
        let outer = match parse_xml(&request.body) {
            Ok(f) => f,
            Err(e) => return Ok(WebhookOutcome::reject(400, &format!("the push is not WeChat's XML: {e}"))),
        };
        let fields = match outer.get("Encrypt") {
            Some(encrypted) => {
                let Some(key) = secret("encoding_aes_key").filter(|k| !k.is_empty()) else {
                    return Err(err::invalid_config("WeChat sent an encrypted push: set `encoding_aes_key` (safe mode)"));
                };
                if !helpdesk_plugin_sdk::constant_time_eq(signature(&[&token, &timestamp, &nonce, encrypted]).as_bytes(), q("msg_signature").to_ascii_lowercase().as_bytes()) {
                    return Ok(WebhookOutcome::reject(401, "missing or wrong msg_signature"));
                }
                match decrypt(&key, &require_config("app_id")?, encrypted).and_then(|plain| parse_xml(&plain)) {
                    Ok(f) => f,
                    Err(e) => return Ok(WebhookOutcome::reject(400, &format!("the encrypted push does not decrypt: {e}"))),
                }
            }
            None => outer,
        };
        // "success": WeChat sends nothing back to the follower by itself, and does not retry.
        Ok(WebhookOutcome { response: HttpResponse::text(200, "success"), events: event(&fields) })
    }

    fn perform(target: Target, action: Action) -> Result<ActionOutcome, ChannelError> {
        let Action::Reply(r) = action else { return Err(err::unsupported("WeChat messages can only be answered")) };
        let body = json!({"touser": target.thread_key, "msgtype": "text", "text": {"content": r.text}});
        let sent = call("/cgi-bin/message/custom/send", Some(&body), &[])?;
        // WeChat names the message only sometimes (`msgid`); without it, the host records what was sent.
        let created = sent["msgid"].as_i64().map(|id| {
            Interaction::new(id.to_string(), InteractionKind::PrivateMessage, Direction::Outbound, target.thread_key, Author::new("brand", "Us"), r.text, None)
        });
        Ok(ActionOutcome { created })
    }

    /// A picture from its URL; voice and video from the temporary media API (kept 3 days).
    fn media(_target: Target, attachment: Attachment) -> Result<HttpRequest, ChannelError> {
        if let Some(url) = attachment.url.filter(|u| u.starts_with("http")) {
            return Ok(Request::get(url).unsent());
        }
        let id = attachment.platform_id.ok_or_else(|| err::unsupported("this attachment has no WeChat media id"))?;
        let url = format!("{}/cgi-bin/media/get", config_or("base_url", DEFAULT_BASE_URL).trim_end_matches('/'));
        Ok(Request::get(url).query(&[("access_token", access_token(false)?.as_str()), ("media_id", id.as_str())]).unsent())
    }
}

export_channel!(WeChat);

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

    #[test]
    fn the_signature_is_sha1_of_the_sorted_parts() {
        // sha1("1409659813" + "1372623149" + "token"), sorted: the digits first.
        assert_eq!(signature(&["token", "1409659813", "1372623149"]), hex::encode(Sha1::digest(b"13726231491409659813token")));
    }

    #[test]
    fn safe_mode_decrypts_what_wechat_encrypts_and_refuses_another_account() {
        let xml = b"<xml><ToUserName><![CDATA[gh_1]]></ToUserName><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[\xe4\xbd\xa0\xe5\xa5\xbd]]></Content></xml>";
        let encrypted = encrypt(KEY, "wx5823bf96d3bd56c7", b"0123456789abcdef", xml).unwrap();
        assert_eq!(decrypt(KEY, "wx5823bf96d3bd56c7", &encrypted).unwrap(), xml);
        assert!(decrypt(KEY, "wxother", &encrypted).unwrap_err().contains("another AppID"));
        assert!(decrypt("ZZcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wx5823bf96d3bd56c7", &encrypted).is_err());
        assert_eq!(parse_xml(&decrypt(KEY, "wx5823bf96d3bd56c7", &encrypted).unwrap()).unwrap()["Content"], "你好");
    }

    #[test]
    fn xml_fields_read_from_cdata_and_text() {
        let f = parse_xml(b"<xml><FromUserName><![CDATA[oABC]]></FromUserName><CreateTime>1348831860</CreateTime><Content>a &amp; b</Content></xml>").unwrap();
        assert_eq!((f["FromUserName"].as_str(), f["CreateTime"].as_str(), f["Content"].as_str()), ("oABC", "1348831860", "a & b"));
        assert!(parse_xml(b"not xml <<").is_err() || parse_xml(b"not xml <<").unwrap().is_empty());
    }
}
