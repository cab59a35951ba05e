//! HTTP through the host with JSON helpers. The host only lets requests through to the
//! channel's `allowed_hosts`.

use crate::bindings::helpdesk::channel::http::{self as host_http, HttpError};
use crate::{err, ChannelError, HttpRequest};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A request being built.
pub struct Request {
    inner: HttpRequest,
    timeout_ms: Option<u32>,
}

/// A platform's answer.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn new(method: &str, url: impl Into<String>) -> Self {
        Request {
            inner: HttpRequest { method: method.into(), url: url.into(), headers: Vec::new(), body: Vec::new() },
            timeout_ms: None,
        }
    }
    pub fn get(url: impl Into<String>) -> Self {
        Self::new("GET", url)
    }
    pub fn post(url: impl Into<String>) -> Self {
        Self::new("POST", url)
    }
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.inner.headers.push((name.into(), value.into()));
        self
    }
    /// A JSON body (and its content type).
    pub fn json<T: Serialize>(mut self, body: &T) -> Self {
        self.inner.body = serde_json::to_vec(body).unwrap_or_default();
        self.header("content-type", "application/json")
    }
    /// Wait up to this long for the answer (long polling), within the host's maximum.
    pub fn timeout_ms(mut self, ms: u32) -> Self {
        self.timeout_ms = Some(ms);
        self
    }
    /// Send it. Transport failures map to `channel-error`s: a refused host is `permanent`
    /// (an admin must grant it), timeouts and connection errors are `transient`.
    pub fn send(self) -> Result<Response, ChannelError> {
        let resp = host_http::send(&self.inner, self.timeout_ms).map_err(|e| match e {
            HttpError::NotAllowed(host) => {
                err::permanent(format!("host `{host}` is not in this channel's allowed_hosts"))
            }
            HttpError::Timeout => err::transient("the platform did not answer in time"),
            HttpError::Connection(m) => err::transient(format!("connection failed: {m}")),
            HttpError::TooLarge => err::permanent("the platform's answer was too large"),
            HttpError::InvalidRequest(m) => err::permanent(format!("invalid request: {m}")),
            HttpError::LimitExceeded(m) => err::permanent(format!("stopped by the host: {m}")),
        })?;
        Ok(Response { status: resp.status, headers: resp.headers, body: resp.body })
    }
}

impl Response {
    /// The body parsed as JSON; a body that is not the expected JSON is a `transient` error
    /// (a proxy's error page, a truncated answer).
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ChannelError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| err::transient(format!("unexpected answer from the platform (HTTP {}): {e}", self.status)))
    }
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}
