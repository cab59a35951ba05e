//! The test harness: runs the real `helpdesk` binary against emulated platforms and talks to
//! it over HTTP like any client.
#![allow(dead_code, unused_imports)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use helpdesk_testkit::server::{Options, Server, free_port};
pub use helpdesk_testkit::telegram::{TelegramEmulator, User};

/// Start the real `helpdesk` binary serving `channels`, with the test plugin dir and cache.
pub trait Launch: Sized {
    async fn start(channels: &str) -> Self;
    async fn start_with(channels: &str, opts: Options, data: Option<tempfile::TempDir>) -> Self;
}

impl Launch for Server {
    async fn start(channels: &str) -> Self {
        Self::start_with(channels, Options::memory(), None).await
    }

    async fn start_with(channels: &str, opts: Options, data: Option<tempfile::TempDir>) -> Self {
        let config = format!("plugin_dir = \"{}\"\n{channels}", plugin_dir().display());
        Server::spawn(bin().as_ref(), &config, &cache_dir(), opts, data).await
    }
}

pub const TOKEN: &str = "4242:TEST-token";
pub const SECRET: &str = "s3cret-Token_1";

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_helpdesk")
}

/// Where the compiled plugins are (`./dev test` builds them).
pub fn plugin_dir() -> PathBuf {
    components_dir("HELPDESK_PLUGIN_DIR", "../plugins/dist", "telegram.wasm")
}

/// Where the test plugins (hostile, wrong contract) are.
pub fn test_plugin_dir() -> PathBuf {
    components_dir("HELPDESK_TEST_PLUGIN_DIR", "../tests/plugins/dist", "hostile.wasm")
}

/// `$env`, else `default` under the host crate; it must hold `expected` (built by `./dev test`).
fn components_dir(env: &str, default: &str, expected: &str) -> PathBuf {
    let dir = std::env::var_os(env)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(default));
    assert!(dir.join(expected).exists(), "{} has no {expected}: run ./dev test", dir.display());
    dir
}

/// Compiled plugins are cached across the test servers of a run.
pub fn cache_dir() -> PathBuf {
    std::env::temp_dir().join("helpdesk-test-plugin-cache")
}

pub fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/real-payloads")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// A `[[channel]]` table for a Telegram channel on `emu`.
pub fn telegram_channel(id: &str, emu: &TelegramEmulator, poll: bool, token: &str) -> String {
    emu.channel_toml(id, poll, token, SECRET)
}

/// A request with an optional `Cookie` or bearer credential.
pub async fn call(
    server: &Server,
    method: reqwest::Method,
    path: &str,
    auth: Option<&str>,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut r = reqwest::Client::new().request(method, server.url(path));
    match auth {
        Some(a) if a.starts_with("hdk_") => r = r.bearer_auth(a),
        Some(a) => r = r.header("cookie", a),
        None => {}
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(serde_json::Value::Null))
}

/// Wait for `cond` to hold, polling.
pub async fn eventually<F, Fut>(timeout: Duration, mut cond: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if cond().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// An agent's action on a ticket: the status and the answer.
pub async fn action(server: &Server, ticket: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
    server.post(format!("/api/v1/tickets/{ticket}/actions"), body).await
}

/// The ticket whose preview shows `text`.
pub fn by_text<'a>(tickets: &'a [serde_json::Value], text: &str) -> &'a serde_json::Value {
    tickets.iter().find(|t| t["preview"].as_str().unwrap_or_default().contains(text)).unwrap_or_else(|| panic!("no ticket with {text}: {tickets:#?}"))
}

/// Every event the live socket brings from now on.
pub async fn listen(server: &Server) -> std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>> {
    use futures::StreamExt;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut r = server.url("/api/v1/events").replacen("http", "ws", 1).into_client_request().unwrap();
    r.headers_mut().insert("cookie", server.cookie.parse().unwrap());
    r.headers_mut().insert("origin", server.base.parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(r).await.unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let into = seen.clone();
    tokio::spawn(async move {
        while let Some(Ok(m)) = ws.next().await {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(m.to_text().unwrap_or_default()) {
                into.lock().unwrap().push(v);
            }
        }
    });
    seen
}

