//! The host side of the WIT imports: HTTP only to granted hosts, the channel's own config,
//! secrets and kv, and logging. Time spent waiting here does not count against the CPU budget.

use super::bindings::latest::helpdesk::channel::{config, http, kv, log, secrets};
use super::bindings::wit::{HttpRequest, HttpResponse};
use super::sandbox::HostState;
use futures::StreamExt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Largest request body a plugin may send: a reply's largest file (10 MiB) and its framing.
const MAX_REQUEST_BODY: usize = 12 << 20;
/// Largest response body handed to a plugin.
const MAX_RESPONSE_BODY: usize = 16 << 20;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_TIMEOUT: Duration = Duration::from_secs(120);
/// Requests one plugin call may make: a plugin in a request loop is cut off, not the platform.
const MAX_REQUESTS_PER_CALL: u32 = 100;
const MAX_REQUEST_HEADERS: usize = 64;
const MAX_URL: usize = 8 << 10;

/// Headers the host owns, as in wasi-http: framing and routing are ours, never the plugin's,
/// so it cannot smuggle a second request or talk to a proxy.
const FORBIDDEN_HEADERS: [&str; 9] =
    ["host", "connection", "transfer-encoding", "content-length", "keep-alive", "te", "trailer", "upgrade", "referer"];

fn forbidden_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    FORBIDDEN_HEADERS.contains(&name.as_str()) || name.starts_with("proxy-")
}

/// Addresses a plugin may reach through a host *name*: not loopback, private, link-local,
/// shared (CGNAT), multicast or unspecified. Only an `allowed_hosts` entry that is an IP
/// literal reaches those (the emulators' `http://127.0.0.1:PORT`), so a granted name that
/// is re-pointed at 127.0.0.1 or the cloud metadata address (DNS rebinding) is refused.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback() || v6.is_unspecified() || v6.is_multicast() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80)
        }
    }
}

/// The plugins' DNS: names resolve to public addresses only (see `is_public`). IP literals in
/// URLs never come here; the allowlist decides about them.
pub struct PublicOnlyResolver;

impl reqwest::dns::Resolve for PublicOnlyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = name.as_str().to_string();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = addrs.iter().copied().filter(|a| is_public(a.ip())).collect();
            if public.is_empty() && !addrs.is_empty() {
                let e: Box<dyn std::error::Error + Send + Sync> = format!(
                    "`{host}` resolves to a loopback, private or link-local address; only an allowed_hosts entry naming that IP itself may reach it"
                )
                .into();
                return Err(e);
            }
            let it: reqwest::dns::Addrs = Box::new(public.into_iter());
            Ok(it)
        })
    }
}

/// The client plugins' requests go through: no redirects followed (the plugin gets the 3xx and
/// its next request passes the allowlist again), no Referer, names resolved to public addresses.
pub fn http_client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .pool_idle_timeout(Duration::from_secs(90))
        .redirect(reqwest::redirect::Policy::none())
        .referer(false)
        .dns_resolver(std::sync::Arc::new(PublicOnlyResolver))
        .build()
}

impl http::Host for HostState {
    async fn send(&mut self, request: HttpRequest, timeout_ms: Option<u32>) -> wasmtime::Result<Result<HttpResponse, http::HttpError>> {
        let started = std::time::Instant::now();
        let answer = self.send_checked(request, timeout_ms).await;
        self.host_call_ended(started);
        Ok(answer)
    }
}

impl HostState {
    pub(crate) async fn send_checked(&mut self, req: HttpRequest, timeout_ms: Option<u32>) -> Result<HttpResponse, http::HttpError> {
        self.http_requests += 1;
        if self.http_requests > MAX_REQUESTS_PER_CALL {
            return Err(http::HttpError::LimitExceeded(format!("more than {MAX_REQUESTS_PER_CALL} HTTP requests in one call")));
        }
        send(&self.channel, req, timeout_ms, MAX_RESPONSE_BODY).await
    }
}

/// Send `req` for `channel` under the plugins' rules (granted hosts, host-owned headers, size
/// caps), reading at most `max_body` bytes of the answer.
pub(crate) async fn send(channel: &super::ChannelContext, req: HttpRequest, timeout_ms: Option<u32>, max_body: usize) -> Result<HttpResponse, http::HttpError> {
    use http::HttpError as E;
    if req.url.len() > MAX_URL {
        return Err(E::InvalidRequest(format!("a URL of {} bytes (at most {MAX_URL})", req.url.len())));
    }
    // The URL may carry a token (Telegram's /bot<TOKEN>/): errors name only its host.
    let url = reqwest::Url::parse(&req.url)
        .map_err(|e| E::InvalidRequest(channel.redact(&format!("bad URL `{}`: {e}", req.url))))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(E::InvalidRequest(format!("scheme `{}` is not allowed", url.scheme())));
    }
    let host = url.host_str().unwrap_or_default().to_string();
    let port = url.port_or_known_default().unwrap_or(0);
    if !channel.host_allowed(url.scheme(), &host, port) {
        let shown = format!("{}://{host}:{port}", url.scheme());
        tracing::warn!(channel = %channel.id, host = %shown, "plugin tried to reach a host it was not granted");
        if let Some(replay) = &channel.replay {
            replay.refused(&shown);
        }
        return Err(E::NotAllowed(shown));
    }
    if req.body.len() > MAX_REQUEST_BODY {
        return Err(E::TooLarge);
    }
    if req.headers.len() > MAX_REQUEST_HEADERS {
        return Err(E::InvalidRequest(format!("more than {MAX_REQUEST_HEADERS} headers")));
    }
    if let Some((name, _)) = req.headers.iter().find(|(name, _)| forbidden_header(name)) {
        return Err(E::InvalidRequest(format!("the `{name}` header is set by the host, not by plugins")));
    }
    let method = reqwest::Method::from_bytes(req.method.as_bytes())
        .map_err(|_| E::InvalidRequest(format!("bad method `{}`", req.method)))?;
    if let Some(replay) = &channel.replay {
        let recorded = super::WebhookRequest { method: req.method, url: req.url, headers: req.headers, body: req.body };
        return replay
            .answer(&recorded)
            .map(|a| HttpResponse { status: a.status, headers: a.headers, body: a.body })
            .map_err(E::Connection);
    }
    let timeout = timeout_ms.map(|ms| Duration::from_millis(ms.into())).unwrap_or(DEFAULT_TIMEOUT).min(MAX_TIMEOUT);
    let mut headers = reqwest::header::HeaderMap::new();
    for (name, value) in &req.headers {
        let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| E::InvalidRequest(format!("bad header name `{name}`")))?;
        let value = reqwest::header::HeaderValue::from_str(value)
            .map_err(|_| E::InvalidRequest(format!("bad value for header `{name}`")))?;
        headers.append(name, value);
    }
    let resp = channel.http.request(method, url).timeout(timeout).headers(headers).body(req.body).send().await.map_err(|e| {
        if e.is_timeout() { E::Timeout } else { E::Connection(channel.redact(&without_url(e))) }
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
        let chunk = chunk.map_err(|e| if e.is_timeout() { E::Timeout } else { E::Connection(channel.redact(&without_url(e))) })?;
        if body.len() + chunk.len() > max_body {
            return Err(E::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(HttpResponse { status, headers, body })
}

/// reqwest's message without the URL, which carries the token on some platforms (Telegram).
fn without_url(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

impl config::Host for HostState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        Ok(self.channel.config.get(&key).cloned())
    }
}

impl secrets::Host for HostState {
    async fn get(&mut self, name: String) -> wasmtime::Result<Option<String>> {
        Ok(self.channel.secrets.get(&name).cloned())
    }
}

impl kv::Host for HostState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<Vec<u8>>, String>> {
        // "Absent" must mean absent: a store failure is an error the plugin sees (0.1.0
        // plugins, which cannot be told, are stopped instead).
        let started = std::time::Instant::now();
        let value = self.channel.kv.get(&self.channel.id, &key).await;
        self.host_call_ended(started);
        Ok(value.map_err(|e| format!("the plugin's state could not be read: {e}")))
    }

    async fn set(&mut self, key: String, value: Vec<u8>) -> wasmtime::Result<Result<(), String>> {
        let started = std::time::Instant::now();
        let done = self.channel.kv.set(&self.channel.id, &key, value).await;
        self.host_call_ended(started);
        Ok(done)
    }

    async fn delete(&mut self, key: String) -> wasmtime::Result<()> {
        let started = std::time::Instant::now();
        self.channel.kv.delete(&self.channel.id, &key).await;
        self.host_call_ended(started);
        Ok(())
    }
}

impl log::Host for HostState {
    async fn log(&mut self, level: log::Level, message: String) -> wasmtime::Result<()> {
        let message = self.channel.redact(&message.chars().take(2000).collect::<String>());
        let channel = &self.channel.id;
        match level {
            log::Level::Trace => tracing::trace!(%channel, "{message}"),
            log::Level::Debug => tracing::debug!(%channel, "{message}"),
            log::Level::Info => tracing::info!(%channel, "{message}"),
            log::Level::Warn => tracing::warn!(%channel, "{message}"),
            log::Level::Error => tracing::error!(%channel, "{message}"),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_reached_by_name() {
        for private in ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "fe80::1", "fd00::1", "::ffff:127.0.0.1"] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["149.154.167.220", "157.240.1.1", "2a03:2880::1"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn framing_and_proxy_headers_belong_to_the_host() {
        for h in ["Host", "content-length", "Transfer-Encoding", "connection", "Proxy-Authorization", "referer"] {
            assert!(forbidden_header(h), "{h}");
        }
        assert!(!forbidden_header("authorization") && !forbidden_header("content-type"));
    }
}
