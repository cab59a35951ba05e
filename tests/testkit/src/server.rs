//! Runs the real `helpdesk` binary as a child process and talks to it over HTTP like any
//! client: for the end-to-end tests and the benchmarks.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub struct Options {
    /// `mem://`, a SurrealDB server's `ws://` URL, or None for the embedded on-disk store in the data dir.
    pub store: Option<String>,
    /// `--store-password-file`, for a SurrealDB server.
    pub store_password_file: Option<PathBuf>,
    /// A fixed listen address (for webhooks that must find the server after a restart).
    pub listen: Option<String>,
    /// Start with the test admin (signed in); without, a fresh install waiting for its setup code.
    pub first_admin: bool,
    /// `--public-url`.
    pub public_url: Option<String>,
    /// `--trusted-proxy`.
    pub trusted_proxies: Vec<String>,
    /// `HELPDESK_SECRET_KEY`: the key sealing the secrets admins enter.
    pub secret_key: Option<String>,
    /// `--log-format json`.
    pub json_logs: bool,
    /// More environment for the server (`HELPDESK_MAIL_CA` for the test mail servers).
    pub env: Vec<(String, String)>,
}

impl Options {
    /// The embedded on-disk store, as in production.
    pub fn disk() -> Self {
        Options { store: None, store_password_file: None, listen: None, first_admin: true, public_url: None, trusted_proxies: Vec::new(), secret_key: None, json_logs: false, env: Vec::new() }
    }
    /// The in-memory store.
    pub fn memory() -> Self {
        Options { store: Some("mem://".into()), store_password_file: None, listen: None, first_admin: true, public_url: None, trusted_proxies: Vec::new(), secret_key: None, json_logs: false, env: Vec::new() }
    }
    /// The store on a SurrealDB server (`surreal::SurrealServer`), signed in as its root user.
    pub fn server(store: &crate::surreal::SurrealServer) -> Self {
        Options { store: Some(store.url.clone()), store_password_file: Some(store.password_file.clone()), ..Self::disk() }
    }
}

/// Sign in and return the session's `Cookie` header value.
pub async fn sign_in(http: &reqwest::Client, base: &str, email: &str, password: &str) -> String {
    let r = http
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await
        .expect("sign in");
    assert_eq!(r.status().as_u16(), 200, "signing in as {email} failed");
    let set = r.headers().get("set-cookie").and_then(|v| v.to_str().ok()).expect("a session cookie").to_string();
    // Over (pretended) TLS the cookie is `Secure`; this client sends it anyway.
    set.split(';').next().unwrap().to_string()
}

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The admin every test server starts with.
pub const ADMIN_EMAIL: &str = "admin@test.example";
pub const ADMIN_PASSWORD: &str = "test-admin-password";

pub struct Server {
    child: Child,
    pub base: String,
    pub data: tempfile::TempDir,
    pub config: PathBuf,
    http: reqwest::Client,
    /// The signed-in admin's `Cookie` header value (empty without a first admin).
    pub cookie: String,
    /// The setup code a server without users printed.
    pub setup_code: Option<String>,
    /// Every setup code it printed so far (a new one after too many wrong tries).
    pub setup_codes: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    log: std::sync::Arc<std::sync::Mutex<String>>,
}

/// How much of a server's log a test can read back.
const LOG_KEPT: usize = 1 << 20;

impl Server {
    /// Start `bin serve` with this `plugins.toml` text, reusing `data` when given (a restart).
    pub async fn spawn(bin: &Path, plugins_toml: &str, cache_dir: &Path, opts: Options, data: Option<tempfile::TempDir>) -> Server {
        let data = data.unwrap_or_else(|| tempfile::tempdir().unwrap());
        let config = data.path().join("plugins.toml");
        std::fs::write(&config, plugins_toml).unwrap();
        let mut cmd = Command::new(bin);
        cmd.arg("serve")
            .arg("--config")
            .arg(&config)
            .arg("--data")
            .arg(data.path())
            .arg("--listen")
            .arg(opts.listen.as_deref().unwrap_or("127.0.0.1:0"))
            .arg("--cache-dir")
            .arg(cache_dir)
            .env("RUST_LOG", "info,tantivy=warn,surrealdb=warn,tower_http=warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if opts.first_admin {
            cmd.env("HELPDESK_FIRST_ADMIN_EMAIL", ADMIN_EMAIL).env("HELPDESK_FIRST_ADMIN_PASSWORD", ADMIN_PASSWORD);
        } else {
            cmd.env_remove("HELPDESK_FIRST_ADMIN_EMAIL");
        }
        if let Some(store) = &opts.store {
            cmd.arg("--store").arg(store);
        }
        if let Some(file) = &opts.store_password_file {
            cmd.arg("--store-password-file").arg(file);
        }
        for (k, v) in &opts.env {
            cmd.env(k, v);
        }
        match &opts.secret_key {
            Some(key) => cmd.env("HELPDESK_SECRET_KEY", key),
            None => cmd.env_remove("HELPDESK_SECRET_KEY"),
        };
        if let Some(url) = &opts.public_url {
            cmd.arg("--public-url").arg(url);
        }
        if opts.json_logs {
            cmd.arg("--log-format").arg("json");
        }
        for proxy in &opts.trusted_proxies {
            cmd.arg("--trusted-proxy").arg(proxy);
        }
        let mut child = cmd.spawn().expect("start helpdesk");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Its log goes on to the test's stderr, and is kept (the last MiB) for tests to read.
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let mut err_lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let kept = log.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = err_lines.next_line().await {
                eprintln!("{line}");
                let mut kept = kept.lock().unwrap();
                if kept.len() > LOG_KEPT {
                    let cut = kept.len() - LOG_KEPT / 2;
                    let cut = (cut..kept.len()).find(|&i| kept.is_char_boundary(i)).unwrap_or(kept.len());
                    kept.drain(..cut);
                }
                kept.push_str(&line);
                kept.push('\n');
            }
        });
        let mut setup_code = None;
        let setup_codes = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let code_of = |line: &str| line.split_once("with setup code ").and_then(|(_, code)| code.split_whitespace().next().map(str::to_string));
        let base = tokio::time::timeout(Duration::from_secs(120), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(code) = code_of(&line) {
                    setup_codes.lock().unwrap().push(code.clone());
                    setup_code = Some(code);
                }
                if let Some(url) = line.strip_prefix("helpdesk listening on ") {
                    return url.to_string();
                }
            }
            panic!("helpdesk exited before listening");
        })
        .await
        .expect("helpdesk did not start within 120 s");
        let codes = setup_codes.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(code) = code_of(&line) {
                    codes.lock().unwrap().push(code);
                }
            }
        });
        let http = reqwest::Client::new();
        let cookie = if opts.first_admin { sign_in(&http, &base, ADMIN_EMAIL, ADMIN_PASSWORD).await } else { String::new() };
        Server { child, base, data, config, http, cookie, setup_code, setup_codes, log }
    }

    /// What the server logged so far (its last MiB).
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Ask the server to stop (SIGTERM) and wait for it: its exit status.
    pub async fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.pid().to_string();
        std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
        tokio::time::timeout(Duration::from_secs(40), self.child.wait()).await.expect("stopped within 40 s").unwrap()
    }

    /// Stop the server (SIGKILL) and hand back its data dir.
    pub async fn kill(mut self) -> tempfile::TempDir {
        self.child.kill().await.unwrap();
        let data = tempfile::tempdir().unwrap();
        std::mem::replace(&mut self.data, data)
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("server running")
    }

    /// Resident memory of the server process, in MiB (0 if it cannot be read just now, say
    /// when a load test has taken every file descriptor).
    pub fn rss_mib(&self) -> u64 {
        rss_mib_of(self.pid())
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self.http.get(self.url(path)).header("cookie", &self.cookie).send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// A signed-in GET answered with bytes: the status, the headers, the body.
    pub async fn get_bytes(&self, path: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let r = self.http.get(self.url(path)).header("cookie", &self.cookie).send().await.unwrap();
        let (status, headers) = (r.status().as_u16(), r.headers().clone());
        (status, headers, r.bytes().await.unwrap().to_vec())
    }

    pub async fn post(&self, path: impl Into<String>, body: Value) -> (u16, Value) {
        let r = self.http.post(self.url(&path.into())).header("cookie", &self.cookie).json(&body).send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// Upload a file to send with replies (`POST /api/v1/files?name=`).
    pub async fn upload(&self, name: &str, content_type: &str, bytes: Vec<u8>) -> (u16, Value) {
        let r = self
            .http
            .post(self.url("/api/v1/files"))
            .query(&[("name", name)])
            .header("cookie", &self.cookie)
            .header("content-type", content_type)
            .body(bytes)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    pub async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self.http.patch(self.url(path)).header("cookie", &self.cookie).json(&body).send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self.http.put(self.url(path)).header("cookie", &self.cookie).json(&body).send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// POST a raw webhook body with an optional secret header; returns the status.
    pub async fn webhook(&self, channel: &str, body: Vec<u8>, secret: Option<&str>) -> u16 {
        let mut r = self.http.post(self.url(&format!("/webhooks/{channel}"))).header("content-type", "application/json").body(body);
        if let Some(s) = secret {
            r = r.header("X-Telegram-Bot-Api-Secret-Token", s);
        }
        r.send().await.unwrap().status().as_u16()
    }

    /// Tickets matching a query string (`queue=new&q=word`).
    pub async fn status(&self) -> Value {
        let (status, body) = self.get("/api/v1/status").await;
        assert_eq!(status, 200, "{body}");
        body
    }

    pub async fn tickets(&self, query: &str) -> Vec<Value> {
        let (status, body) = self.get(&format!("/api/v1/tickets?{query}")).await;
        assert_eq!(status, 200, "{body}");
        body["tickets"].as_array().cloned().unwrap_or_default()
    }

    /// Poll `tickets(query)` until `n` tickets match or `timeout` passes.
    pub async fn wait_tickets(&self, query: &str, n: usize, timeout: Duration) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let t = self.tickets(query).await;
            if t.len() >= n || Instant::now() > deadline {
                return t;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn ticket(&self, id: &str) -> Value {
        let (status, body) = self.get(&format!("/api/v1/tickets/{id}")).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    pub async fn channel(&self, id: &str) -> Value {
        let (_, body) = self.get("/api/v1/channels").await;
        body.as_array().unwrap().iter().find(|c| c["id"] == id).cloned().unwrap()
    }

    /// Wait until `f(value)` holds for the channel's summary.
    pub async fn wait_channel(&self, id: &str, timeout: Duration, f: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let c = self.channel(id).await;
            if f(&c) || Instant::now() > deadline {
                return c;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A process's resident memory, in MiB (0 once it is gone).
pub fn rss_mib_of(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0);
    kb / 1024
}
