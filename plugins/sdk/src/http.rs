//! HTTP through the host (only to the channel's `allowed_hosts`), with the pieces every
//! platform client needs: query strings, JSON and form bodies, the usual status → error
//! mapping, `Retry-After` and rate-limit resets, and `Link`-header paging.

use crate::{err, ChannelError, HttpRequest};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A request being built.
#[derive(Clone)]
pub struct Request {
    inner: HttpRequest,
    timeout_ms: Option<u32>,
}

/// A platform's answer.
#[derive(Clone, Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Why a request did not produce a response, as the host says.
#[derive(Clone, Debug, PartialEq)]
pub enum SendError {
    /// The host is not in the channel's `allowed_hosts`.
    NotAllowed(String),
    Timeout,
    Connection(String),
    TooLarge,
    InvalidRequest(String),
    LimitExceeded(String),
}

#[cfg(target_arch = "wasm32")]
fn send_raw(req: &HttpRequest, timeout_ms: Option<u32>) -> Result<Response, SendError> {
    use crate::bindings::helpdesk::channel::http::{self as host_http, HttpError};
    host_http::send(req, timeout_ms)
        .map(|r| Response { status: r.status, headers: r.headers, body: r.body })
        .map_err(|e| match e {
            HttpError::NotAllowed(h) => SendError::NotAllowed(h),
            HttpError::Timeout => SendError::Timeout,
            HttpError::Connection(m) => SendError::Connection(m),
            HttpError::TooLarge => SendError::TooLarge,
            HttpError::InvalidRequest(m) => SendError::InvalidRequest(m),
            HttpError::LimitExceeded(m) => SendError::LimitExceeded(m),
        })
}

#[cfg(not(target_arch = "wasm32"))]
fn send_raw(req: &HttpRequest, timeout_ms: Option<u32>) -> Result<Response, SendError> {
    crate::testing::imports::send(req, timeout_ms)
}

/// Characters left as they are in a query value (RFC 3986 unreserved).
const QUERY: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// `s` percent-encoded for a URL's path segment or query value.
pub fn encode(s: &str) -> String {
    utf8_percent_encode(s, QUERY).to_string()
}

/// `a=1&b=2` (a query string or form body) as decoded pairs, in order.
pub fn parse_pairs(s: &str) -> Vec<(String, String)> {
    s.split('&').filter(|p| !p.is_empty()).map(|pair| pair.split_once('=').unwrap_or((pair, ""))).map(|(k, v)| (decode(k), decode(v))).collect()
}

/// `s` percent-decoded (`+` as a space, as in forms and query strings).
pub fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned()
}

/// `k=v&k2=v2`, encoded.
pub fn query_string<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", encode(k.as_ref()), encode(v.as_ref()))).collect::<Vec<_>>().join("&")
}

impl Request {
    pub fn new(method: &str, url: impl Into<String>) -> Self {
        Request { inner: HttpRequest { method: method.into(), url: url.into(), headers: Vec::new(), body: Vec::new() }, timeout_ms: None }
    }
    pub fn get(url: impl Into<String>) -> Self {
        Self::new("GET", url)
    }
    pub fn post(url: impl Into<String>) -> Self {
        Self::new("POST", url)
    }
    pub fn put(url: impl Into<String>) -> Self {
        Self::new("PUT", url)
    }
    pub fn patch(url: impl Into<String>) -> Self {
        Self::new("PATCH", url)
    }
    pub fn delete(url: impl Into<String>) -> Self {
        Self::new("DELETE", url)
    }
    pub fn head(url: impl Into<String>) -> Self {
        Self::new("HEAD", url)
    }
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.inner.headers.push((name.into(), value.into()));
        self
    }
    /// `Authorization: Bearer <token>`.
    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }
    /// Append query parameters, encoded (`?` or `&` as needed); empty values are skipped.
    pub fn query<K: AsRef<str>, V: AsRef<str>>(mut self, pairs: &[(K, V)]) -> Self {
        let kept: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref())).filter(|(_, v)| !v.is_empty()).collect();
        if !kept.is_empty() {
            let sep = if self.inner.url.contains('?') { '&' } else { '?' };
            self.inner.url = format!("{}{sep}{}", self.inner.url, query_string(&kept));
        }
        self
    }
    /// A JSON body (and its content type).
    pub fn json<T: Serialize>(mut self, body: &T) -> Self {
        self.inner.body = serde_json::to_vec(body).unwrap_or_default();
        self.header("content-type", "application/json")
    }
    /// A form body (`application/x-www-form-urlencoded`).
    pub fn form<K: AsRef<str>, V: AsRef<str>>(mut self, pairs: &[(K, V)]) -> Self {
        self.inner.body = query_string(pairs).into_bytes();
        self.header("content-type", "application/x-www-form-urlencoded")
    }
    /// A `multipart/form-data` body (file uploads).
    pub fn multipart(self, form: Multipart) -> Self {
        let (content_type, body) = form.finish();
        self.body(&content_type, body)
    }
    /// A raw body.
    pub fn body(mut self, content_type: &str, body: Vec<u8>) -> Self {
        self.inner.body = body;
        self.header("content-type", content_type)
    }
    /// Wait up to this long for the answer (long polling), within the host's maximum.
    pub fn timeout_ms(mut self, ms: u32) -> Self {
        self.timeout_ms = Some(ms);
        self
    }
    pub fn url(&self) -> &str {
        &self.inner.url
    }
    /// The request itself, for the host to send (what `media` answers).
    pub fn unsent(self) -> HttpRequest {
        self.inner
    }
    /// Send it. Transport failures map to `channel-error`s: a refused host is `permanent`
    /// (an admin must grant it), timeouts and connection errors are `transient`. Any status
    /// is a response: see [`Response::check`].
    pub fn send(self) -> Result<Response, ChannelError> {
        send_raw(&self.inner, self.timeout_ms).map_err(|e| match e {
            SendError::NotAllowed(host) => err::permanent(format!("host `{host}` is not in this channel's allowed_hosts")),
            SendError::Timeout => err::transient("the platform did not answer in time"),
            SendError::Connection(m) => err::transient(format!("connection failed: {m}")),
            SendError::TooLarge => err::permanent("the platform's answer was too large"),
            SendError::InvalidRequest(m) => err::permanent(format!("invalid request: {m}")),
            SendError::LimitExceeded(m) => err::permanent(format!("stopped by the host: {m}")),
        })
    }
    /// Send it and map an error status to the matching `channel-error` ([`Response::check`]).
    pub fn send_checked(self) -> Result<Response, ChannelError> {
        self.send()?.check()
    }
}

impl Response {
    /// The body parsed as JSON; a body that is not the expected JSON is a `transient` error
    /// (a proxy's error page, a truncated answer).
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ChannelError> {
        serde_json::from_slice(&self.body).map_err(|e| err::transient(format!("unexpected answer from the platform (HTTP {}): {e}", self.status)))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The response if its status is a success, else the error the host acts on: 401 is
    /// `unauthorized` (an admin reconnects), 429 `rate-limited` (for as long as the platform
    /// asks, see [`Response::retry_after_ms`]), 408 and 5xx `transient`, other 4xx `permanent`.
    /// The message carries the status and the start of the platform's answer.
    pub fn check(self) -> Result<Response, ChannelError> {
        if self.is_success() {
            return Ok(self);
        }
        let words: String = self.text().chars().take(300).collect();
        let msg = format!("HTTP {}: {}", self.status, words.trim());
        Err(match self.status {
            401 => err::unauthorized(msg),
            429 => err::rate_limited(self.retry_after_ms(crate::time::now_ms()).unwrap_or(60_000), msg),
            408 | 500..=599 => err::transient(msg),
            _ => err::permanent(msg),
        })
    }

    /// How long the platform asks us to wait, from `Retry-After` (seconds or an HTTP date) or
    /// a rate-limit reset header (`x-ratelimit-reset`, `x-rate-limit-reset`: epoch seconds).
    pub fn retry_after_ms(&self, now_ms: i64) -> Option<u64> {
        if let Some(v) = self.header("retry-after") {
            if let Ok(secs) = v.trim().parse::<u64>() {
                return Some(secs * 1000);
            }
            if let Some(at) = crate::time::parse_http_date(v) {
                return Some(crate::time::wait_until(at, now_ms));
            }
        }
        ["x-ratelimit-reset", "x-rate-limit-reset"].iter().find_map(|h| {
            let v = self.header(h)?.trim().parse::<f64>().ok()?;
            // Some send epoch seconds, some seconds from now.
            let at = if v > 1e9 { (v * 1000.0) as i64 } else { now_ms + (v * 1000.0) as i64 };
            Some(crate::time::wait_until(at, now_ms))
        })
    }

    /// The `rel="next"` URL of a `Link` header (RFC 8288), for paging.
    pub fn next_link(&self) -> Option<String> {
        link_rel(self.header("link")?, "next")
    }
}

/// A `multipart/form-data` body (RFC 7578) being built: text fields and files, in order.
#[derive(Default)]
pub struct Multipart {
    parts: Vec<(String, Option<(String, String)>, Vec<u8>)>,
}

impl Multipart {
    pub fn new() -> Self {
        Self::default()
    }
    /// A text field.
    pub fn text(mut self, name: &str, value: impl Into<String>) -> Self {
        self.parts.push((name.into(), None, value.into().into_bytes()));
        self
    }
    /// A file field: its file name and content type, and its bytes.
    pub fn file(mut self, name: &str, file_name: &str, content_type: &str, bytes: Vec<u8>) -> Self {
        self.parts.push((name.into(), Some((file_name.into(), content_type.into())), bytes));
        self
    }
    /// The content type (with its boundary) and the body. The boundary is one that occurs in
    /// no part.
    pub fn finish(self) -> (String, Vec<u8>) {
        let mut boundary = String::from("helpdesk-form-7MA4YWxkTrZu0gW");
        let mut n = 0;
        while self.parts.iter().any(|(_, _, b)| contains(b, boundary.as_bytes())) {
            n += 1;
            boundary = format!("helpdesk-form-7MA4YWxkTrZu0gW-{n}");
        }
        // As browsers write names: quotes and line breaks percent-encoded (WHATWG HTML).
        let quoted = |s: &str| s.replace('"', "%22").replace('\r', "%0D").replace('\n', "%0A");
        let mut body = Vec::new();
        for (name, file, bytes) in &self.parts {
            body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"", quoted(name)).as_bytes());
            if let Some((file_name, content_type)) = file {
                body.extend_from_slice(format!("; filename=\"{}\"\r\nContent-Type: {content_type}", quoted(file_name)).as_bytes());
            }
            body.extend_from_slice(b"\r\n\r\n");
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        (format!("multipart/form-data; boundary={boundary}"), body)
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The URL a `Link` header gives for `rel`.
pub fn link_rel(header: &str, rel: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (url, params) = part.trim().split_once(';')?;
        let url = url.trim().strip_prefix('<')?.strip_suffix('>')?;
        let has_rel = params.split(';').any(|p| {
            let p = p.trim();
            p.strip_prefix("rel=").map(|v| v.trim_matches('"').split_whitespace().any(|r| r == rel)).unwrap_or(false)
        });
        has_rel.then(|| url.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, headers: &[(&str, &str)]) -> Response {
        Response { status, headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(), body: b"nope".to_vec() }
    }

    #[test]
    fn statuses_become_the_errors_the_host_acts_on() {
        assert!(matches!(resp(401, &[]).check(), Err(ChannelError::Unauthorized(m)) if m.contains("401") && m.contains("nope")));
        assert!(matches!(resp(429, &[("retry-after", "7")]).check(), Err(ChannelError::RateLimited(r)) if r.retry_after_ms == 7000));
        assert!(matches!(resp(503, &[]).check(), Err(ChannelError::Transient(_))));
        assert!(matches!(resp(404, &[]).check(), Err(ChannelError::Permanent(_))));
        assert!(resp(204, &[]).check().is_ok());
    }

    #[test]
    fn waits_come_from_retry_after_or_a_reset_time() {
        let now = 1_700_000_000_000;
        assert_eq!(resp(429, &[("Retry-After", "Tue, 14 Nov 2023 22:13:50 GMT")]).retry_after_ms(now), Some(30_000));
        assert_eq!(resp(429, &[("x-ratelimit-reset", "1700000045")]).retry_after_ms(now), Some(45_000));
        assert_eq!(resp(429, &[("x-rate-limit-reset", "12")]).retry_after_ms(now), Some(12_000));
        assert_eq!(resp(429, &[]).retry_after_ms(now), None);
    }

    #[test]
    fn link_headers_and_queries() {
        let link = r#"<https://x.example/api?max_id=9>; rel="next", <https://x.example/api?min_id=3>; rel="prev""#;
        assert_eq!(link_rel(link, "next").as_deref(), Some("https://x.example/api?max_id=9"));
        assert_eq!(link_rel(link, "prev").as_deref(), Some("https://x.example/api?min_id=3"));
        assert_eq!(link_rel(link, "last"), None);
        let r = Request::get("https://x.example/a?x=1").query(&[("q", "a b&c"), ("skip", ""), ("ü", "é")]);
        assert_eq!(r.url(), "https://x.example/a?x=1&q=a%20b%26c&%C3%BC=%C3%A9");
        assert_eq!(decode("a+b%26c"), "a b&c");
    }

    #[test]
    fn a_multipart_form_carries_fields_and_files_with_a_boundary_found_in_neither() {
        let evil = b"--helpdesk-form-7MA4YWxkTrZu0gW\r\n".to_vec();
        let (ct, body) = Multipart::new().text("chat_id", "42").file("photo", "a\"b.png", "image/png", evil.clone()).finish();
        let boundary = ct.strip_prefix("multipart/form-data; boundary=").unwrap();
        assert_eq!(boundary, "helpdesk-form-7MA4YWxkTrZu0gW-1");
        let text = String::from_utf8_lossy(&body);
        assert!(text.starts_with(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"chat_id\"\r\n\r\n42\r\n")), "{text}");
        assert!(text.contains("name=\"photo\"; filename=\"a%22b.png\"\r\nContent-Type: image/png\r\n\r\n"), "{text}");
        assert!(text.ends_with(&format!("--{boundary}--\r\n")));
    }
}
