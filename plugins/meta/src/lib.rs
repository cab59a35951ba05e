//! What Meta's platforms share: the `hub.challenge` handshake, `X-Hub-Signature-256`, Graph API
//! calls with the page or system-user token, and Graph error codes as `channel-error`s.

pub mod messaging;

use helpdesk_plugin_sdk::prelude::*;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

pub const DEFAULT_BASE_URL: &str = "https://graph.facebook.com/v21.0";

/// The host every Meta plugin asks to reach.
pub const GRAPH_HOST: &str = "https://graph.facebook.com";

/// Where Meta serves the files of messages, comments and posts (asked for the `media` downloads).
pub const MEDIA_HOSTS: [&str; 3] = ["https://lookaside.fbsbx.com", "https://*.fbcdn.net", "https://*.cdninstagram.com"];

/// The hosts a Meta plugin asks to reach: the Graph API and the media hosts.
pub fn allowed_hosts() -> Vec<String> {
    std::iter::once(GRAPH_HOST).chain(MEDIA_HOSTS).map(str::to_string).collect()
}

/// The posts (or media) new comments are under, looked up once each (now in the SDK).
pub fn contexts_of_comments(events: &[Event], lookup: impl Fn(&str) -> Result<Option<Interaction>, ChannelError>) -> Vec<Event> {
    helpdesk_plugin_sdk::contexts_of(events, &[InteractionKind::Comment, InteractionKind::Reply, InteractionKind::AdComment], lookup)
}

/// The settings every Meta channel has (token, app secret, verify token, Graph URL), after
/// the platform's own `ids`.
pub fn settings(ids: Vec<Setting>) -> Vec<Setting> {
    ids.into_iter()
        .chain([
            Setting::secret("access_token", "Access token").help("A long-lived Page (or system user) access token with the app's permissions"),
            Setting::secret("app_secret", "App secret").help("The Meta app's secret: webhook deliveries are signed with it (X-Hub-Signature-256)"),
            // Not a credential (the app secret signs deliveries): shown beside the webhook URL,
            // so an admin can paste both into the app's webhook settings.
            Setting::config("verify_token", "Verify token").help("Any string you choose; enter the same one in the app's webhook settings"),
            Setting::config("base_url", "Graph API URL").default_value(DEFAULT_BASE_URL),
        ])
        .collect()
}

/// The connection test: who `{id}` is, with the channel's token.
pub fn check(id_key: &str, platform: &str) -> Result<String, ChannelError> {
    let id = require_config(id_key)?;
    let me = graph("GET", &format!("{id}?fields=id,name,username,display_phone_number"), None, platform)?;
    let name = ["name", "username", "display_phone_number"].iter().find_map(|k| me[*k].as_str()).unwrap_or(&id).to_string();
    Ok(format!("{platform} {name}"))
}

/// `sha256=<hex HMAC-SHA256(app secret, raw body)>`, compared in constant time.
pub fn signature_valid(app_secret: &str, header: Option<&str>, body: &[u8]) -> bool {
    let Some(given) = header.and_then(|h| h.strip_prefix("sha256=")).and_then(|h| hex::decode(h).ok()) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()).expect("any key length");
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

pub use helpdesk_plugin_sdk::constant_time_eq;

/// Meta's subscription handshake: echo `hub.challenge` when `hub.verify_token` matches.
pub fn verify_subscription(url: &str) -> Result<WebhookOutcome, ChannelError> {
    // Channels set up before it was a plain setting keep it among their secrets.
    let expected = match config("verify_token").filter(|t| !t.is_empty()) {
        Some(token) => token,
        None => require_secret("verify_token")?,
    };
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let param = |name: &str| query.split('&').filter_map(|kv| kv.split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v.to_string());
    match (param("hub.mode").as_deref(), param("hub.verify_token"), param("hub.challenge")) {
        (Some("subscribe"), Some(token), Some(challenge)) if constant_time_eq(token.as_bytes(), expected.as_bytes()) => {
            Ok(WebhookOutcome { response: HttpResponse::text(200, &challenge), events: Vec::new() })
        }
        _ => Ok(WebhookOutcome::reject(403, "verification failed")),
    }
}

/// A webhook delivery: the handshake for GET, else the signature checked and the body parsed.
/// `Err(outcome)` is the answer to give at once.
pub fn verified_body(request: &HttpRequest) -> Result<Value, Result<WebhookOutcome, ChannelError>> {
    if request.method.eq_ignore_ascii_case("GET") {
        return Err(verify_subscription(&request.url));
    }
    let app_secret = require_secret("app_secret").map_err(Err)?;
    if !signature_valid(&app_secret, request.header("x-hub-signature-256"), &request.body) {
        return Err(Ok(WebhookOutcome::reject(401, "bad or missing X-Hub-Signature-256")));
    }
    serde_json::from_slice(&request.body).map_err(|_| Ok(WebhookOutcome::reject(400, "the body is not JSON")))
}

/// `{method} {base_url}/{path}` with the channel's `access_token`; `platform` names it in errors.
pub fn graph(method: &str, path: &str, body: Option<&Value>, platform: &str) -> Result<Value, ChannelError> {
    let base = config_or("base_url", DEFAULT_BASE_URL);
    let token = require_secret("access_token")?;
    let mut req = Request::new(method, format!("{}/{}", base.trim_end_matches('/'), path.trim_start_matches('/')))
        .header("authorization", &format!("Bearer {token}"));
    if let Some(b) = body {
        req = req.json(b);
    }
    let resp = req.send()?;
    if resp.is_success() {
        return Ok(resp.json().unwrap_or(Value::Null));
    }
    Err(error(&resp, platform))
}

/// A Graph error response as the host should act on it: switch on `error.code`, never the words.
pub fn error(resp: &Response, platform: &str) -> ChannelError {
    if resp.status >= 500 {
        return err::transient(format!("{platform} answered HTTP {}", resp.status));
    }
    let body: Value = resp.json().unwrap_or(Value::Null);
    let e = &body["error"];
    let code = e["code"].as_i64().unwrap_or_default();
    let words = e["error_data"]["details"].as_str().or(e["error_user_msg"].as_str()).or(e["message"].as_str()).unwrap_or("unknown error").to_string();
    match code {
        190 => err::unauthorized(format!("the access token expired or was revoked ({words})")),
        4 | 17 | 32 | 613 | 80001 | 80002 | 80006 | 80007 | 130429 | 131056 => {
            err::rate_limited(wait_ms(resp), format!("{platform} rate limit {code}: {words}"))
        }
        131047 => err::permanent(format!("{} (error 131047)", outside_window(platform))),
        _ => err::permanent(format!("{platform} error {code}: {words}")),
    }
}

pub fn outside_window(platform: &str) -> String {
    format!("{platform} only allows replies within 24 hours of the customer's last message; after that only approved templates or tags")
}

/// How long Meta says to wait: the largest `estimated_time_to_regain_access` (minutes) in
/// `x-business-use-case-usage`; else 5 minutes when `x-app-usage` shows the app at 100 % of a
/// limit; else a minute.
pub fn wait_ms(resp: &Response) -> u64 {
    let header = |name: &str| resp.header(name).and_then(|h| serde_json::from_str::<Value>(h).ok());
    let buc = header("x-business-use-case-usage").and_then(|usage| {
        usage.as_object()?.values().flat_map(|v| v.as_array().cloned().unwrap_or_default()).filter_map(|u| u["estimated_time_to_regain_access"].as_u64()).max()
    });
    let app_full = header("x-app-usage").is_some_and(|u| ["call_count", "total_cputime", "total_time"].iter().any(|k| u[*k].as_u64().unwrap_or(0) >= 100));
    let minutes = buc.unwrap_or(if app_full { 5 } else { 1 }).max(1);
    minutes * 60_000
}

/// Graph times: ISO 8601 (`2021-08-10T18:45:03+0000`), or seconds or milliseconds since the epoch.
pub fn time_ms(v: &Value) -> i64 {
    if let Some(n) = v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok())) {
        return if n > 100_000_000_000 { n } else { n * 1000 };
    }
    v.as_str().and_then(parse_iso).unwrap_or_default()
}

/// `YYYY-MM-DDTHH:MM:SS+0000` (Graph always answers in UTC) to ms.
fn parse_iso(s: &str) -> Option<i64> {
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d, h, mi, se) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (mo + if mo > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + h) * 60 + mi) * 60_000 + se * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_times_in_every_shape() {
        assert_eq!(time_ms(&serde_json::json!("2021-08-10T18:45:03+0000")), 1_628_621_103_000);
        assert_eq!(time_ms(&serde_json::json!(1742667604)), 1_742_667_604_000);
        assert_eq!(time_ms(&serde_json::json!(1457764197627i64)), 1_457_764_197_627);
    }

    #[test]
    fn signatures() {
        let body = b"{}";
        let mut mac = Hmac::<Sha256>::new_from_slice(b"s").unwrap();
        mac.update(body);
        let good = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert!(signature_valid("s", Some(&good), body));
        assert!(!signature_valid("t", Some(&good), body));
        assert!(!signature_valid("s", None, body));
    }
}

/// `GET` a full Graph URL (a `paging.next` link) with the channel's token.
pub fn get_url(url: &str, platform: &str) -> Result<Value, ChannelError> {
    let token = require_secret("access_token")?;
    let resp = Request::new("GET", url).header("authorization", &format!("Bearer {token}")).send()?;
    if resp.is_success() {
        return Ok(resp.json().unwrap_or(Value::Null));
    }
    Err(error(&resp, platform))
}
