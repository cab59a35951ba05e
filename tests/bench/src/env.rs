//! What every section needs: the binaries, a server with Telegram channels, waiting for it.

use helpdesk_testkit::server::{Options, Server};
use helpdesk_testkit::telegram::TelegramEmulator;
use std::path::PathBuf;
use std::time::Duration;

pub const TOKEN: &str = "5555:BENCH-token";
pub const SECRET: &str = "bench-secret";

pub struct Env {
    pub helpdesk: PathBuf,
    pub plugin_dir: PathBuf,
    /// The test plugins (`tests/plugins/dist`).
    pub test_plugin_dir: PathBuf,
    pub cache: tempfile::TempDir,
}

impl Env {
    /// A server whose `plugins.toml` holds these channel tables.
    pub async fn server(&self, channels: &str, opts: Options) -> Server {
        let toml = format!("plugin_dir = \"{}\"\n{channels}", self.plugin_dir.display());
        Server::spawn(&self.helpdesk, &toml, self.cache.path(), opts, None).await
    }

    /// A server with one Telegram channel on a fresh emulator.
    pub async fn telegram_server(&self, poll: bool, opts: Options) -> (TelegramEmulator, Server) {
        let emu = TelegramEmulator::start(TOKEN).await.unwrap();
        let server = self.server(&emu.channel_toml("tg", poll, TOKEN, SECRET), opts).await;
        (emu, server)
    }
}

/// Wait until the store holds `messages` messages and the index has caught up with it.
pub async fn settled(server: &Server, messages: u64, timeout: Duration) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline {
        let s = server.status().await;
        if s["messages"].as_u64() == Some(messages) && s["index_watermark"] == s["store_seq"] && s["indexed_tickets"] == s["tickets"] {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// The store in `dir/store` as the server opens it, with its default cache sizes (SurrealKV's
/// own default is half the machine).
pub fn store_url(dir: &std::path::Path) -> String {
    helpdesk::app::Paths { data: dir.into(), store: None, cache: None, store_cache_mib: helpdesk::app::DEFAULT_STORE_CACHE_MIB, store_login: None }.store_url()
}
