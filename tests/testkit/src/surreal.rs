//! A real SurrealDB server (the workspace's `surreal` binary, `tests/surreal`) on a loopback
//! port, in memory: the store several helpdesk hosts share in the tests.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

pub struct SurrealServer {
    child: Child,
    /// `ws://127.0.0.1:PORT`.
    pub url: String,
    /// A file holding the root password, as `--store-password-file` reads it.
    pub password_file: PathBuf,
    pub password: String,
    _dir: tempfile::TempDir,
}

/// The `surreal` binary: `HELPDESK_SURREAL_BIN`, else beside `helpdesk` (`./dev test` builds it).
pub fn binary(helpdesk: &Path) -> PathBuf {
    let path = std::env::var_os("HELPDESK_SURREAL_BIN").map(PathBuf::from).unwrap_or_else(|| helpdesk.with_file_name("surreal"));
    assert!(path.exists(), "no SurrealDB server at {}: run ./dev test (or cargo build -p helpdesk-surreal)", path.display());
    path
}

impl SurrealServer {
    /// Start a server with an empty in-memory store and wait until it answers.
    pub async fn start(bin: &Path) -> SurrealServer {
        let dir = tempfile::tempdir().unwrap();
        let password = format!("pw-{}", crate::server::free_port());
        let password_file = dir.path().join("store-password");
        std::fs::write(&password_file, format!("{password}\n")).unwrap();
        let port = crate::server::free_port();
        let child = Command::new(bin)
            .args(["start", "--user", "root", "--pass", &password, "--bind", &format!("127.0.0.1:{port}"), "--log", "warn", "--no-banner", "memory"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start the SurrealDB server");
        let http = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if http.get(format!("http://127.0.0.1:{port}/health")).send().await.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(60), "the SurrealDB server did not answer within 60 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        SurrealServer { child, url: format!("ws://127.0.0.1:{port}"), password_file, password, _dir: dir }
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("the SurrealDB server is running")
    }
}
