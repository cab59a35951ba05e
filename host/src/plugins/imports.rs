//! The host side of the WIT imports: HTTP only to granted hosts, the channel's own config,
//! secrets and kv, and logging. Time spent here does not count against the CPU budget.

use super::bindings::helpdesk::channel::{config, http, kv, log, secrets, types};
use super::bindings::wit::{HttpRequest, HttpResponse};
use super::sandbox::HostState;
use futures::StreamExt;
use std::time::{Duration, Instant};

/// Largest request body a plugin may send.
const MAX_REQUEST_BODY: usize = 8 << 20;
/// Largest response body handed to a plugin.
const MAX_RESPONSE_BODY: usize = 16 << 20;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_TIMEOUT: Duration = Duration::from_secs(120);
/// Requests one plugin call may make: a plugin in a request loop is cut off, not the platform.
const MAX_REQUESTS_PER_CALL: u32 = 100;
const MAX_KV_VALUE: usize = 64 << 10;

impl types::Host for HostState {}

impl http::Host for HostState {
    async fn send(&mut self, request: HttpRequest, timeout_ms: Option<u32>) -> Result<HttpResponse, http::HttpError> {
        let started = Instant::now();
        let result = self.send_checked(request, timeout_ms).await;
        self.host_time += started.elapsed();
        result
    }
}

impl HostState {
    async fn send_checked(&mut self, req: HttpRequest, timeout_ms: Option<u32>) -> Result<HttpResponse, http::HttpError> {
        use http::HttpError as E;
        self.http_requests += 1;
        if self.http_requests > MAX_REQUESTS_PER_CALL {
            return Err(E::LimitExceeded(format!("more than {MAX_REQUESTS_PER_CALL} HTTP requests in one call")));
        }
        let url = reqwest::Url::parse(&req.url).map_err(|e| E::InvalidRequest(format!("bad URL `{}`: {e}", req.url)))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(E::InvalidRequest(format!("scheme `{}` is not allowed", url.scheme())));
        }
        let host = url.host_str().unwrap_or_default().to_string();
        if !self.channel.host_allowed(&host, url.port_or_known_default()) {
            tracing::warn!(channel = %self.channel.id, %host, "plugin tried to reach a host it was not granted");
            return Err(E::NotAllowed(host));
        }
        if req.body.len() > MAX_REQUEST_BODY {
            return Err(E::TooLarge);
        }
        let method = reqwest::Method::from_bytes(req.method.as_bytes())
            .map_err(|_| E::InvalidRequest(format!("bad method `{}`", req.method)))?;
        let timeout = timeout_ms.map(|ms| Duration::from_millis(ms.into())).unwrap_or(DEFAULT_TIMEOUT).min(MAX_TIMEOUT);
        let mut builder = self.channel.http.request(method, url).timeout(timeout).body(req.body);
        for (name, value) in &req.headers {
            builder = builder.header(name, value);
        }
        let resp = builder.send().await.map_err(|e| {
            if e.is_timeout() { E::Timeout } else { E::Connection(without_url(e)) }
        })?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        let mut body = Vec::new();
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| if e.is_timeout() { E::Timeout } else { E::Connection(without_url(e)) })?;
            if body.len() + chunk.len() > MAX_RESPONSE_BODY {
                return Err(E::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpResponse { status, headers, body })
    }
}

/// reqwest's message without the URL, which carries the token on some platforms (Telegram).
fn without_url(e: reqwest::Error) -> String {
    let e = e.without_url();
    match std::error::Error::source(&e) {
        Some(src) => format!("{e}: {src}"),
        None => e.to_string(),
    }
}

impl config::Host for HostState {
    async fn get(&mut self, key: String) -> Option<String> {
        self.channel.config.get(&key).cloned()
    }
}

impl secrets::Host for HostState {
    async fn get(&mut self, name: String) -> Option<String> {
        self.channel.secrets.get(&name).cloned()
    }
}

impl kv::Host for HostState {
    async fn get(&mut self, key: String) -> Option<Vec<u8>> {
        let started = Instant::now();
        let v = self.channel.kv.get(&self.channel.id, &key).await;
        self.host_time += started.elapsed();
        v
    }

    async fn set(&mut self, key: String, value: Vec<u8>) -> Result<(), String> {
        if value.len() > MAX_KV_VALUE {
            return Err(format!("values are limited to {} KiB", MAX_KV_VALUE >> 10));
        }
        let started = Instant::now();
        let r = self.channel.kv.set(&self.channel.id, &key, value).await;
        self.host_time += started.elapsed();
        r
    }

    async fn delete(&mut self, key: String) {
        let started = Instant::now();
        self.channel.kv.delete(&self.channel.id, &key).await;
        self.host_time += started.elapsed();
    }
}

impl log::Host for HostState {
    async fn log(&mut self, level: log::Level, message: String) {
        let message: String = message.chars().take(2000).collect();
        let channel = &self.channel.id;
        match level {
            log::Level::Trace => tracing::trace!(%channel, "{message}"),
            log::Level::Debug => tracing::debug!(%channel, "{message}"),
            log::Level::Info => tracing::info!(%channel, "{message}"),
            log::Level::Warn => tracing::warn!(%channel, "{message}"),
            log::Level::Error => tracing::error!(%channel, "{message}"),
        }
    }
}
