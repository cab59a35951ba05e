//! Drives the channels: loads each enabled channel's plugin, runs its poll loop, dispatches
//! its webhooks, and keeps its health.

mod health;
pub mod poll;
pub mod automation;
pub mod vault;

use crate::config::{ChannelConfig, PluginsFile};
use crate::events::EventBus;
use crate::inbox::{ActionChannel, Inbox};
use crate::model::{ChannelHealth, HealthState};
use crate::plugins::{Capability, ChannelContext, Setting, KvBackend, Plugin, PluginError, Runtime, WebhookOutcome, WebhookRequest};
use crate::store::Store;
use health::HealthCell;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("no channel `{0}`")]
    UnknownChannel(String),
    #[error("channel `{0}` is disabled")]
    Disabled(String),
    #[error("channel `{0}` does not receive webhooks")]
    NoWebhooks(String),
    #[error("channel `{0}` is not available: {1}")]
    Unavailable(String, String),
    #[error("channel `{0}`: {1}")]
    Plugin(String, PluginError),
    #[error("channel `{0}`: storing failed: {1}")]
    Store(String, crate::inbox::InboxError),
    #[error("channel `{0}` is handling as many webhooks as it may at once")]
    Busy(String),
    /// It cannot be enabled as it is configured (a required setting is missing, its plugin
    /// did not load); says why.
    #[error("channel `{0}` cannot be enabled: {1}")]
    NotReady(String, String),
    /// Secrets cannot be stored: no key is configured.
    #[error(transparent)]
    Vault(#[from] vault::VaultError),
    #[error("{0}")]
    BadSecrets(String),
    /// An uploaded plugin that cannot run here; the running version goes on.
    #[error("the plugin was refused: {0}")]
    PluginRefused(String),
    #[error("{0}")]
    BadChannel(String),
    #[error("{0}")]
    Conflict(String),
}

/// A channel an admin connects in the UI, as stored (`channel_config`); its secrets are sealed
/// apart (`channel_secret`), never in this record.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectedChannel {
    /// Used in URLs (`/webhooks/{id}`): letters, digits, `-` and `_`.
    pub id: String,
    /// An installed plugin's name (`GET /api/v1/plugins`).
    pub plugin: String,
    pub display_name: String,
    /// Its declared settings that are not secrets.
    #[serde(default)]
    pub config: BTreeMap<String, String>,
    /// Its declared secrets: sealed apart when saved (stored empty here), never shown again.
    #[serde(default)]
    #[schema(write_only)]
    pub secrets: BTreeMap<String, String>,
    /// The hosts the admin grants: those the plugin asks for that they approve, and any other
    /// its settings point at (`http://127.0.0.1:8081` for a local server).
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
}

impl ConnectedChannel {
    fn to_config(&self) -> ChannelConfig {
        ChannelConfig {
            id: self.id.clone(),
            plugin: self.plugin.clone(),
            display_name: self.display_name.clone(),
            enabled: true,
            poll: None,
            config: self.config.iter().map(|(k, v)| (k.clone(), toml::Value::String(v.clone()))).collect(),
            secrets: BTreeMap::new(),
            allowed_hosts: self.allowed_hosts.clone(),
            limits: Default::default(),
            webhook_group: None,
            sha256: None,
            reply_chains: Default::default(),
        }
    }
}

/// An installed plugin an admin may connect a channel with.
#[derive(Debug, Serialize, ToSchema)]
pub struct AvailablePlugin {
    pub name: String,
    pub platform_name: String,
    pub contract: String,
    pub webhooks: bool,
    pub polls: bool,
    pub settings: Vec<Setting>,
    pub declared_hosts: Vec<String>,
}

/// A plugin an admin installed.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstalledPlugin {
    pub name: String,
    pub contract: String,
    pub sha256: String,
    /// The channels now running it.
    pub channels: Vec<String>,
}

/// How often the plugin directory is looked at for files dropped in.
const WATCH_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// How often a host on a shared store looks for the channel changes admins made on the others.
const CHANNEL_CHANGES_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// On a shared store: run each channel another host's admin changed as it is now. Every change
/// is in the channels' history (`Channels::record`); hosts' clocks may differ a little, so the
/// entries of the last minute are read again and those already seen skipped.
async fn follow_other_hosts(channels: std::sync::Weak<Channels>) {
    let mut seen: std::collections::HashMap<String, i64> = Default::default();
    let mut since = crate::model::now_ms();
    loop {
        tokio::time::sleep(CHANNEL_CHANGES_EVERY).await;
        let Some(channels) = channels.upgrade() else { return };
        let q = "SELECT record::id(id) AS key, channel, at FROM channel_change WHERE at > $since";
        let rows: Vec<serde_json::Value> = match channels.store.select_where(q, serde_json::json!({"since": since - 60_000})).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::debug!("cannot read the channels' changes: {e}");
                continue;
            }
        };
        let mut changed = std::collections::BTreeSet::new();
        for row in rows {
            let (Some(key), Some(channel), Some(at)) = (row["key"].as_str(), row["channel"].as_str(), row["at"].as_i64()) else { continue };
            if seen.insert(key.to_string(), at).is_none() && !channels.recorded_here.lock().expect("not poisoned").contains(key) {
                changed.insert(channel.to_string());
            }
            since = since.max(at);
        }
        seen.retain(|_, at| *at > since - 120_000);
        for id in changed {
            channels.resync(&id).await;
        }
    }
}

/// A `.wasm` dropped into the plugin directory (copied over, or renamed in) is installed as an
/// upload is: checked, then swapped in; a broken one is refused (in the log and the channels'
/// history) and the running version goes on. Ends with the channels.
async fn watch_plugin_dir(channels: std::sync::Weak<Channels>) {
    // What each file looked like at the last look, and when it was last acted on (or at start):
    // a file is taken once it looked the same twice, so one still being copied is not.
    let mut seen: BTreeMap<std::path::PathBuf, (std::time::SystemTime, u64)> = BTreeMap::new();
    let mut taken: BTreeMap<std::path::PathBuf, (std::time::SystemTime, u64)> = BTreeMap::new();
    let mut first = true;
    loop {
        let Some(channels) = channels.upgrade() else { return };
        let dir = channels.file.plugin_file("x").parent().map(std::path::Path::to_path_buf).unwrap_or_default();
        let files: Vec<_> = std::fs::read_dir(&dir).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
        for path in files.into_iter().filter(|p| p.extension().is_some_and(|x| x == "wasm")) {
            let Ok(meta) = std::fs::metadata(&path) else { continue };
            let stamp = (meta.modified().unwrap_or(std::time::UNIX_EPOCH), meta.len());
            let settled = seen.insert(path.clone(), stamp) == Some(stamp);
            if first {
                taken.insert(path.clone(), stamp);
            }
            if !settled || taken.get(&path) == Some(&stamp) {
                continue;
            }
            taken.insert(path.clone(), stamp);
            let Some(name) = path.file_stem().and_then(|n| n.to_str()).map(str::to_string) else { continue };
            let Ok(bytes) = std::fs::read(&path) else { continue };
            let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
            let users: Vec<_> = channels.all().into_iter().filter(|ch| channels.file.plugin_path(&ch.config) == path).collect();
            if users.iter().all(|ch| ch.plugin().is_some_and(|p| p.info().sha256 == sha)) {
                continue; // Installed through the API, or the same file again.
            }
            match channels.install(&name, &bytes, "the plugin directory", false).await {
                Ok(p) => tracing::info!(plugin = %name, sha256 = %p.sha256, "plugin file changed: installed"),
                Err(e) => {
                    tracing::warn!(plugin = %name, "plugin file changed, not installed: {e}");
                    for ch in users {
                        channels.record(&ch.config.id, "the plugin directory", format!("refused the new {name}.wasm: {e}")).await;
                    }
                }
            }
        }
        first = false;
        drop(channels);
        tokio::time::sleep(WATCH_EVERY).await;
    }
}

/// Write `bytes` to `path` whole or not at all (a crash leaves the old file).
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("wasm.partial");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// The channel's answer to the connection test.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionTest {
    pub ok: bool,
    /// The account reached, in the plugin's words.
    pub account: Option<String>,
    /// Why not.
    pub error: Option<String>,
}

/// Webhook deliveries one channel's plugin handles at once: a flood (say, of badly signed
/// requests) to one channel takes at most this many of the plugin instances all channels share.
/// (Writing what they delivered is bounded apart, in `Inbox::ingest`.)
pub const WEBHOOK_CONCURRENCY: usize = 8;

/// How long a delivery waits for one of those before it is answered 503 (the platform retries).
const WEBHOOK_SLOT_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// One configured channel at run time.
pub struct ChannelRuntime {
    pub config: ChannelConfig,
    /// Its plugin and the context calls run in; replaced when an admin reconnects it, while
    /// calls already under way finish with what they started with.
    loaded: std::sync::RwLock<Loaded>,
    pub health: HealthCell,
    /// plugins.toml's `enabled`, unless an admin changed it since.
    enabled: AtomicBool,
    /// Whether its poll loop is running.
    polling: AtomicBool,
    /// Connected by an admin in the UI (not in plugins.toml): they may remove it there.
    connected_in_ui: bool,
    /// Replaced by an edited version of itself, or removed: its poll loop ends quietly.
    retired: AtomicBool,
    webhook_slots: tokio::sync::Semaphore,
}

#[derive(Clone)]
struct Loaded {
    /// `None` when loading failed (the reason is in the health).
    plugin: Option<Arc<Plugin>>,
    ctx: Arc<ChannelContext>,
}

/// A channel as the API lists it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelSummary {
    pub id: String,
    pub display_name: String,
    pub plugin: String,
    pub enabled: bool,
    /// From the plugin's `describe` (absent if it did not load).
    pub platform: Option<String>,
    pub platform_name: Option<String>,
    pub polls: bool,
    pub webhooks: bool,
    /// Where the platform should deliver webhooks (relative to the server).
    pub webhook_path: String,
    pub reply_window_hours: Option<u32>,
    pub capabilities: Vec<Capability>,
    /// The contract version its plugin was built against.
    pub contract: Option<String>,
    /// SHA-256 of its plugin's component.
    pub plugin_sha256: Option<String>,
    /// The config values and secrets the plugin reads (values never shown).
    pub settings: Vec<Setting>,
    /// The hosts the plugin asks to reach.
    pub declared_hosts: Vec<String>,
    pub health: ChannelHealth,
    /// Connected in the UI (changed and removed there), not from plugins.toml.
    pub connected_in_ui: bool,
    /// Its settings that are not secrets, as given (secrets are never shown).
    pub config: BTreeMap<String, String>,
}

pub struct Channels {
    /// plugins.toml's channels, then those admins connected; more join while it runs.
    map: std::sync::RwLock<BTreeMap<String, Arc<ChannelRuntime>>>,
    inbox: Arc<Inbox>,
    store: Store,
    vault: vault::Vault,
    runtime: Arc<Runtime>,
    file: PluginsFile,
    events: EventBus,
    /// One admin change of a channel's secrets at a time.
    reconnecting: tokio::sync::Mutex<()>,
    /// The history entries this host recorded (on a shared store the others' are followed).
    recorded_here: std::sync::Mutex<std::collections::HashSet<String>>,
}

/// One change an admin made to a channel, as its history shows it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
pub struct ChannelChange {
    #[serde(default)]
    pub id: String,
    pub channel: String,
    pub at: i64,
    /// The admin's name.
    pub by: String,
    /// What changed, in words (never a secret's value).
    pub change: String,
}

/// The longest secret value an admin may enter.
const MAX_SECRET: usize = 8 << 10;

impl Channels {
    /// Load every channel and start the poll loops. A channel that fails to load is kept,
    /// marked degraded with the reason; the others run.
    pub async fn start(file: &PluginsFile, runtime: Arc<Runtime>, vault: vault::Vault, inbox: Arc<Inbox>, store: Store, events: EventBus) -> Arc<Self> {
        let channels = Arc::new(Channels {
            map: Default::default(),
            inbox: inbox.clone(),
            store: store.clone(),
            vault,
            runtime,
            file: file.clone(),
            events,
            reconnecting: Default::default(),
            recorded_here: Default::default(),
        });
        let mut configs = file.channels.clone();
        match store.all::<ConnectedChannel>("channel_config", "id").await {
            Ok(connected) => {
                for c in connected {
                    if configs.iter().any(|f| f.id == c.id) {
                        tracing::warn!(channel = %c.id, "plugins.toml has a channel of this id too: it is the one that runs");
                    } else {
                        configs.push(c.to_config());
                    }
                }
            }
            Err(e) => tracing::warn!("cannot read the channels admins connected: {e}"),
        }
        for config in configs {
            let ch = channels.build(config).await;
            channels.map.write().expect("not poisoned").insert(ch.config.id.clone(), ch);
        }
        for ch in channels.all() {
            ch.start_polling(&inbox);
        }
        tokio::spawn(watch_plugin_dir(Arc::downgrade(&channels)));
        if store.is_shared() {
            tokio::spawn(follow_other_hosts(Arc::downgrade(&channels)));
        }
        channels
    }

    /// Run channel `id` as the store and plugins.toml have it now: a change another host made
    /// (connected, removed, enabled or disabled, new settings or secrets).
    async fn resync(&self, id: &str) {
        let _one = self.reconnecting.lock().await;
        let config = match self.file.channels.iter().find(|c| c.id == id) {
            Some(c) => Some(c.clone()),
            None => match self.store.get::<ConnectedChannel>("channel_config", id).await {
                Ok(stored) => stored.map(|c| c.to_config()),
                Err(e) => {
                    tracing::warn!(channel = %id, "cannot read the channel another host changed: {e}");
                    return;
                }
            },
        };
        let old = self.map.write().expect("not poisoned").remove(id);
        if let Some(old) = old {
            old.retired.store(true, Ordering::SeqCst);
        }
        if let Some(config) = config {
            let ch = self.build(config).await;
            self.map.write().expect("not poisoned").insert(ch.config.id.clone(), ch.clone());
            ch.start_polling(&self.inbox);
        }
        tracing::info!(channel = %id, "changed on another host: running it as the store has it now");
    }

    /// A channel's runtime: its plugin loaded with its settings and secrets, or the reason it
    /// did not load in its health.
    async fn build(&self, config: ChannelConfig) -> Arc<ChannelRuntime> {
        let (store, runtime) = (&self.store, &self.runtime);
        let stored = stored_secrets(store, &self.vault, &config.id).await;
        let kv: Arc<dyn KvBackend> = Arc::new(store.clone());
        let enabled = match store.channel_enabled(&config.id).await {
            Ok(Some(e)) => e,
            Ok(None) => config.enabled,
            Err(e) => {
                tracing::warn!(channel = %config.id, "cannot read whether an admin disabled it: {e}");
                config.enabled
            }
        };
        // Disabled channels are loaded too, so an admin can enable them without a restart.
        let loaded = Self::load(&self.file, &config, runtime, kv.clone(), &stored).await;
        let secrets = resolve_secrets(&config, &stored).map(|s| s.into_values().collect()).unwrap_or_default();
        let state = if enabled { HealthState::Starting } else { HealthState::Disabled };
        let health = HealthCell::new(&config.id, state, self.events.clone(), secrets);
        let (plugin, ctx) = match loaded {
            Ok((plugin, ctx)) => (Some(plugin), ctx),
            Err(reason) => {
                health.failed(if enabled { HealthState::Degraded } else { HealthState::Disabled }, reason, None);
                (None, runtime.channel_context(&config, BTreeMap::new(), kv))
            }
        };
        if let Some(p) = &plugin {
            tracing::info!(channel = %config.id, platform = %p.info().platform, enabled, "channel loaded");
            if enabled && p.info().webhooks && !config.poll.unwrap_or(p.info().polls) {
                health.ok(false);
            }
        }
        let connected_in_ui = !self.file.channels.iter().any(|c| c.id == config.id);
        Arc::new(ChannelRuntime {
            connected_in_ui,
            retired: AtomicBool::new(false),
            config,
            loaded: std::sync::RwLock::new(Loaded { plugin, ctx }),
            health,
            enabled: AtomicBool::new(enabled),
            polling: AtomicBool::new(false),
            webhook_slots: tokio::sync::Semaphore::new(WEBHOOK_CONCURRENCY),
        })
    }

    /// The plugins in the plugin directory, as an admin connecting a channel picks one: what
    /// each declares (settings, hosts). One that does not load is left out.
    pub async fn plugins(&self) -> Vec<AvailablePlugin> {
        let dir = self.file.plugin_file("x").parent().map(std::path::Path::to_path_buf).unwrap_or_default();
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .map(|d| d.flatten().filter_map(|e| e.file_name().to_str()?.strip_suffix(".wasm").map(str::to_string)).collect())
            .unwrap_or_default();
        names.sort();
        let mut out = Vec::new();
        for name in names {
            match self.runtime.load(&self.file.plugin_file(&name)).await {
                Ok(p) => {
                    let i = p.info();
                    out.push(AvailablePlugin {
                        name,
                        platform_name: i.platform_name.clone(),
                        contract: i.contract.clone(),
                        webhooks: i.webhooks,
                        polls: i.polls,
                        settings: i.settings.clone(),
                        declared_hosts: i.allowed_hosts.clone(),
                    })
                }
                Err(e) => tracing::warn!(plugin = %name, "not offered to admins, it does not load: {e}"),
            }
        }
        out
    }

    /// An admin connects a new channel: an installed plugin, its declared settings and secrets
    /// (sealed), the declared hosts the admin approves. Refused, with nothing stored, if
    /// anything is missing or not the plugin's; otherwise it runs at once and after restarts.
    pub async fn connect(&self, new: ConnectedChannel, by: &str) -> Result<ChannelSummary, SyncError> {
        let bad = |m: String| SyncError::BadChannel(m);
        let config = new.to_config();
        // The rules plugins.toml's channels follow.
        let text = format!("[[channel]]\nid = {}\nplugin = \"x\"\ndisplay_name = {}\n", toml::Value::String(config.id.clone()), toml::Value::String(config.display_name.clone()));
        PluginsFile::parse(&text).map_err(bad)?;
        if !new.plugin.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') || new.plugin.is_empty() {
            return Err(bad(format!("`{}` is not a plugin name", new.plugin)));
        }
        let _one = self.reconnecting.lock().await;
        if self.get(&config.id).is_some() {
            return Err(SyncError::Conflict(format!("a channel `{}` exists already", config.id)));
        }
        let plugin = self.runtime.load(&self.file.plugin_file(&new.plugin)).await.map_err(|e| bad(format!("plugin `{}`: {e}", new.plugin)))?;
        let info = plugin.info();
        for name in new.config.keys() {
            if !info.settings.iter().any(|s| !s.secret && &s.name == name) {
                return Err(bad(format!("`{name}` is not a setting of plugin `{}`", new.plugin)));
            }
        }
        for name in new.secrets.keys() {
            if !info.settings.iter().any(|s| s.secret && &s.name == name) {
                return Err(bad(format!("`{name}` is not a secret of plugin `{}`", new.plugin)));
            }
        }
        // The hosts it asks for, or others the admin names (a local Bot API server, say).
        for host in &new.allowed_hosts {
            crate::config::AllowedHost::parse(host).map_err(|e| bad(format!("host `{host}`: {e}")))?;
        }
        let given: BTreeMap<String, String> = new.secrets.iter().filter(|(_, v)| !v.trim().is_empty()).map(|(k, v)| (k.clone(), v.trim().to_string())).collect();
        missing_settings(&plugin, &config, &given).map_err(|e| SyncError::NotReady(config.id.clone(), e))?;
        self.save_secrets(&config.id, &given).await?;
        let store_err = |e: crate::store::StoreError| SyncError::Unavailable(config.id.clone(), e.to_string());
        self.store.put("channel_config", &config.id, &ConnectedChannel { secrets: BTreeMap::new(), ..new.clone() }).await.map_err(store_err)?;
        self.record(&config.id, by, format!("connected it (plugin {}, hosts {})", new.plugin, if new.allowed_hosts.is_empty() { "none".into() } else { new.allowed_hosts.join(", ") })).await;
        let ch = self.build(config).await;
        ch.health.also_redact(given.into_values());
        self.map.write().expect("not poisoned").insert(ch.config.id.clone(), ch.clone());
        ch.start_polling(&self.inbox);
        Ok(ch.summary())
    }

    /// An admin replaces some of a channel's secrets (a revoked token, say): sealed into the
    /// store, and the channel runs with them from its next call, without a restart. Calls under
    /// way finish with the old ones. They override plugins.toml's from now on.
    pub async fn set_secrets(&self, id: &str, values: BTreeMap<String, String>, by: &str) -> Result<ChannelSummary, SyncError> {
        let ch = self.get(id).ok_or_else(|| SyncError::UnknownChannel(id.into()))?;
        if values.is_empty() {
            return Err(SyncError::BadSecrets("give at least one secret".into()));
        }
        let _one = self.reconnecting.lock().await;
        let plugin = match ch.plugin() {
            Some(p) => p,
            None => self.runtime.load(&self.file.plugin_path(&ch.config)).await.map_err(|e| SyncError::Unavailable(id.into(), e.to_string()))?,
        };
        let declared: Vec<&str> = plugin.info().settings.iter().filter(|s| s.secret).map(|s| s.name.as_str()).collect();
        for (name, value) in &values {
            if !declared.contains(&name.as_str()) && !ch.config.secrets.contains_key(name) {
                return Err(SyncError::BadSecrets(format!(
                    "`{name}` is not a secret of channel `{id}`; its plugin's secrets are: {}",
                    if declared.is_empty() { "none".to_string() } else { declared.join(", ") }
                )));
            }
            if value.trim().is_empty() || value.len() > MAX_SECRET {
                return Err(SyncError::BadSecrets(format!("`{name}` must be 1 to {MAX_SECRET} bytes")));
            }
        }
        let values: BTreeMap<String, String> = values.into_iter().map(|(k, v)| (k, v.trim().to_string())).collect();
        self.save_secrets(id, &values).await?;
        let names: Vec<&str> = values.keys().map(String::as_str).collect();
        self.record(id, by, format!("replaced the secret{} {}", if names.len() > 1 { "s" } else { "" }, names.join(", "))).await;
        ch.health.also_redact(values.values().cloned());
        let launch = self.prepare(&ch, plugin).await?;
        self.launch(&ch, launch);
        tracing::info!(channel = %id, by, "secrets replaced by an admin");
        Ok(ch.summary())
    }

    /// `plugin` with the channel's settings and secrets of now, ready to run; refused if the
    /// channel lacks a setting it requires.
    async fn prepare(&self, ch: &ChannelRuntime, plugin: Arc<Plugin>) -> Result<Loaded, SyncError> {
        let id = ch.config.id.as_str();
        let stored = stored_secrets(&self.store, &self.vault, id).await;
        let secrets = resolve_secrets(&ch.config, &stored).map_err(|e| SyncError::NotReady(id.into(), e))?;
        missing_settings(&plugin, &ch.config, &secrets).map_err(|e| SyncError::NotReady(id.into(), e))?;
        let kv: Arc<dyn KvBackend> = Arc::new(self.store.clone());
        Ok(Loaded { plugin: Some(plugin), ctx: self.runtime.channel_context(&ch.config, secrets, kv) })
    }

    /// Run the channel with `loaded` from its next call; calls under way finish as they began.
    fn launch(&self, ch: &Arc<ChannelRuntime>, loaded: Loaded) {
        *ch.loaded.write().expect("not poisoned") = loaded;
        if ch.is_enabled() {
            // The next successful call says ok; until then it is starting again.
            ch.health.set_state(if ch.polls() { HealthState::Starting } else { HealthState::Ok });
            ch.start_polling(&self.inbox);
        }
    }

    /// An admin installs or upgrades plugin `name` (`<plugin_dir>/<name>.wasm`): checked as
    /// `helpdesk plugin check` does, against each channel that runs it (a pinned SHA-256, the
    /// settings it requires), then written and swapped in without a restart. A version that
    /// fails any of that is refused and the running one goes on.
    pub async fn install_plugin(&self, name: &str, wasm: &[u8], by: &str) -> Result<InstalledPlugin, SyncError> {
        self.install(name, wasm, by, true).await
    }

    /// `install_plugin`, writing the file or not (it is already there).
    async fn install(&self, name: &str, wasm: &[u8], by: &str, write: bool) -> Result<InstalledPlugin, SyncError> {
        if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(SyncError::PluginRefused(format!("`{name}` is not a plugin name (letters, digits, - and _)")));
        }
        let _one = self.reconnecting.lock().await;
        // Compiling takes a core for seconds: not on a worker that webhooks and sockets need.
        let (runtime, bytes, handle) = (self.runtime.clone(), wasm.to_vec(), tokio::runtime::Handle::current());
        let plugin = tokio::task::spawn_blocking(move || handle.block_on(runtime.load_bytes(&bytes)))
            .await
            .map_err(|e| SyncError::PluginRefused(format!("checking it failed: {e}")))?
            .map_err(|e| SyncError::PluginRefused(format!("it does not load: {e}")))?;
        let info = plugin.info();
        let path = self.file.plugin_file(name);
        let users: Vec<Arc<ChannelRuntime>> = self.all().into_iter().filter(|ch| self.file.plugin_path(&ch.config) == path).collect();
        let mut ready = Vec::new();
        for ch in &users {
            if let Some(pinned) = &ch.config.sha256 {
                if !pinned.eq_ignore_ascii_case(&info.sha256) {
                    return Err(SyncError::PluginRefused(format!(
                        "plugins.toml pins channel `{}` to SHA-256 {pinned}; this file's is {}",
                        ch.config.id, info.sha256
                    )));
                }
            }
            let loaded = self.prepare(ch, plugin.clone()).await.map_err(|e| SyncError::PluginRefused(e.to_string()))?;
            ready.push((ch, loaded));
        }
        if write {
            write_atomically(&path, wasm).map_err(|e| SyncError::Unavailable(name.into(), format!("cannot write {}: {e}", path.display())))?;
        }
        let change = format!("installed plugin {name} (contract {}, SHA-256 {})", info.contract, info.sha256);
        for (ch, loaded) in ready {
            self.launch(ch, loaded);
            self.record(&ch.config.id, by, change.clone()).await;
        }
        tracing::info!(plugin = %name, sha256 = %info.sha256, by, "plugin installed by an admin");
        Ok(InstalledPlugin {
            name: name.into(),
            contract: info.contract.clone(),
            sha256: info.sha256.clone(),
            channels: users.iter().map(|c| c.config.id.clone()).collect(),
        })
    }

    /// An admin changes a channel they connected: its name, its settings (those not secret;
    /// Reconnect replaces secrets). It runs with them from its next call.
    pub async fn edit(&self, id: &str, display_name: Option<String>, config: Option<BTreeMap<String, String>>, by: &str) -> Result<ChannelSummary, SyncError> {
        let ch = self.get(id).ok_or_else(|| SyncError::UnknownChannel(id.into()))?;
        if !ch.connected_in_ui {
            return Err(SyncError::Conflict(format!("channel `{id}` comes from plugins.toml: change it there")));
        }
        let _one = self.reconnecting.lock().await;
        let store_err = |e: crate::store::StoreError| SyncError::Unavailable(id.into(), e.to_string());
        let mut stored: ConnectedChannel =
            self.store.get("channel_config", id).await.map_err(store_err)?.ok_or_else(|| SyncError::UnknownChannel(id.into()))?;
        let mut changed = Vec::new();
        if let Some(name) = display_name {
            let name = name.trim().to_string();
            if name.is_empty() || name.chars().count() > 255 {
                return Err(SyncError::BadChannel("the name must be 1 to 255 characters".into()));
            }
            stored.display_name = name;
            changed.push("its name".to_string());
        }
        if let Some(config) = config {
            let plugin = ch.plugin().ok_or_else(|| SyncError::Unavailable(id.into(), "its plugin did not load".into()))?;
            for name in config.keys() {
                if !plugin.info().settings.iter().any(|s| !s.secret && &s.name == name) {
                    return Err(SyncError::BadChannel(format!("`{name}` is not a setting of plugin `{}`", stored.plugin)));
                }
            }
            changed.push(format!("its settings ({})", config.keys().cloned().collect::<Vec<_>>().join(", ")));
            stored.config = config.into_iter().filter(|(_, v)| !v.trim().is_empty()).collect();
        }
        if changed.is_empty() {
            return Err(SyncError::BadChannel("nothing to change: give `enabled`, `display_name` or `config`".into()));
        }
        let next = self.build(stored.to_config()).await;
        if let Some(plugin) = next.plugin() {
            let secrets = resolve_secrets(&next.config, &stored_secrets(&self.store, &self.vault, id).await).unwrap_or_default();
            missing_settings(&plugin, &next.config, &secrets).map_err(|e| SyncError::NotReady(id.into(), e))?;
        }
        self.store.put("channel_config", id, &stored).await.map_err(store_err)?;
        ch.retired.store(true, Ordering::SeqCst);
        next.health.also_redact(ch.ctx().secrets.values().cloned());
        self.map.write().expect("not poisoned").insert(id.to_string(), next.clone());
        next.start_polling(&self.inbox);
        self.record(id, by, format!("changed {}", changed.join(" and "))).await;
        Ok(next.summary())
    }

    /// An admin removes a channel they connected: it stops (calls under way finish), its
    /// settings and sealed secrets go; its tickets stay, and its history stays in the store.
    /// plugins.toml's channels are removed from plugins.toml.
    pub async fn remove(&self, id: &str, by: &str) -> Result<(), SyncError> {
        let ch = self.get(id).ok_or_else(|| SyncError::UnknownChannel(id.into()))?;
        if !ch.connected_in_ui {
            return Err(SyncError::Conflict(format!("channel `{id}` comes from plugins.toml: remove it there (or disable it here)")));
        }
        let _one = self.reconnecting.lock().await;
        let store_err = |e: crate::store::StoreError| SyncError::Unavailable(id.into(), e.to_string());
        self.store.delete("channel_config", id).await.map_err(store_err)?;
        let sealed: Vec<vault::SealedSecret> = self.store.find("channel_secret", "channel", id, "name").await.map_err(store_err)?;
        for s in sealed {
            self.store.delete("channel_secret", &crate::model::stable_id(id, &s.name)).await.map_err(store_err)?;
        }
        ch.retired.store(true, Ordering::SeqCst);
        self.map.write().expect("not poisoned").remove(id);
        self.record(id, by, "removed it".into()).await;
        tracing::info!(channel = %id, by, "removed by an admin");
        Ok(())
    }

    /// Seal these secret values of channel `id` and store them (over any stored before); all
    /// are sealed before any is written, so a missing key stores none.
    async fn save_secrets(&self, id: &str, values: &BTreeMap<String, String>) -> Result<(), SyncError> {
        let now = crate::model::now_ms();
        let sealed = values
            .iter()
            .map(|(name, value)| Ok(vault::SealedSecret { channel: id.into(), name: name.clone(), sealed: self.vault.seal(id, name, value)?, updated_at: now }))
            .collect::<Result<Vec<_>, vault::VaultError>>()?;
        for secret in &sealed {
            self.store
                .put("channel_secret", &crate::model::stable_id(id, &secret.name), secret)
                .await
                .map_err(|e| SyncError::Unavailable(id.into(), e.to_string()))?;
        }
        Ok(())
    }

    /// What admins changed on a channel, newest first.
    pub async fn history(&self, id: &str) -> Result<Vec<ChannelChange>, SyncError> {
        self.get(id).ok_or_else(|| SyncError::UnknownChannel(id.into()))?;
        let mut changes: Vec<ChannelChange> =
            self.store.find("channel_change", "channel", id, "at").await.map_err(|e| SyncError::Unavailable(id.into(), e.to_string()))?;
        changes.reverse();
        Ok(changes)
    }

    async fn record(&self, id: &str, by: &str, change: String) {
        let at = crate::model::now_ms();
        let entry = ChannelChange { id: String::new(), channel: id.into(), at, by: by.into(), change };
        let key = crate::model::stable_id(id, &format!("change:{at}:{}", fastrand::u64(..)));
        self.recorded_here.lock().expect("not poisoned").insert(key.clone());
        if let Err(e) = self.store.put("channel_change", &key, &entry).await {
            tracing::warn!(channel = %id, "the change could not be recorded in its history: {e}");
        }
    }

    /// An admin enables or disables a channel; remembered across restarts.
    pub async fn set_enabled(&self, id: &str, enabled: bool, by: &str) -> Result<ChannelSummary, SyncError> {
        let ch = self.get(id).ok_or_else(|| SyncError::UnknownChannel(id.into()))?;
        self.store.set_channel_enabled(id, enabled).await.map_err(|e| SyncError::Unavailable(id.into(), e.to_string()))?;
        if ch.enabled.swap(enabled, Ordering::SeqCst) != enabled {
            tracing::info!(channel = %id, enabled, "changed by an admin");
            self.record(id, by, if enabled { "enabled it".into() } else { "disabled it".into() }).await;
            if !enabled {
                ch.health.set_state(HealthState::Disabled);
            } else if ch.plugin().is_some() {
                let webhook_only = !ch.polls();
                ch.health.set_state(if webhook_only { HealthState::Ok } else { HealthState::Starting });
                ch.start_polling(&self.inbox);
            } else {
                ch.enabled.store(false, Ordering::SeqCst);
                let _ = self.store.set_channel_enabled(id, false).await;
                let why = ch.health.get().last_error.unwrap_or_else(|| "its plugin did not load".into());
                return Err(SyncError::NotReady(id.into(), why));
            }
        }
        Ok(ch.summary())
    }

    async fn load(
        file: &PluginsFile,
        config: &ChannelConfig,
        runtime: &Runtime,
        kv: Arc<dyn KvBackend>,
        stored: &Result<BTreeMap<String, String>, String>,
    ) -> Result<(Arc<Plugin>, Arc<ChannelContext>), String> {
        let secrets = resolve_secrets(config, stored)?;
        let plugin = runtime.load(&file.plugin_path(config)).await.map_err(|e| e.to_string())?;
        if let Some(pinned) = &config.sha256 {
            if !pinned.eq_ignore_ascii_case(&plugin.info().sha256) {
                return Err(format!(
                    "the plugin file's SHA-256 is {}, not the {pinned} plugins.toml pins: it was not started",
                    plugin.info().sha256
                ));
            }
        }
        missing_settings(&plugin, config, &secrets)?;
        Ok((plugin, runtime.channel_context(config, secrets, kv)))
    }

    /// The plugin's own connection test with the channel's settings (admins' "test connection").
    pub async fn test_connection(&self, id: &str) -> Result<ConnectionTest, SyncError> {
        let ch = self.get(id).ok_or_else(|| SyncError::UnknownChannel(id.into()))?;
        let plugin = ch.plugin().ok_or_else(|| SyncError::Unavailable(id.into(), ch.health.get().last_error.unwrap_or_default()))?;
        let ctx = ch.ctx();
        Ok(match plugin.check(ctx.clone()).await {
            Ok(account) => ConnectionTest { ok: true, account: Some(ctx.redact(&account)), error: None },
            Err(e) => {
                if let PluginError::Channel(crate::plugins::ChannelFailure::Unauthorized(_)) = &e {
                    ch.health.plugin_failed(&e, None);
                }
                ConnectionTest { ok: false, account: None, error: Some(ctx.redact(&e.to_string())) }
            }
        })
    }

    pub fn get(&self, id: &str) -> Option<Arc<ChannelRuntime>> {
        self.map.read().expect("not poisoned").get(id).cloned()
    }

    fn all(&self) -> Vec<Arc<ChannelRuntime>> {
        self.map.read().expect("not poisoned").values().cloned().collect()
    }

    pub fn list(&self) -> Vec<ChannelSummary> {
        self.all().iter().map(|ch| ch.summary()).collect()
    }

    pub fn ids(&self) -> Vec<String> {
        self.map.read().expect("not poisoned").keys().cloned().collect()
    }

    /// The channel an action on a ticket of `channel_id` goes through.
    pub fn for_action(&self, channel_id: &str) -> Result<ActionChannel, SyncError> {
        let ch = self.get(channel_id).ok_or_else(|| SyncError::UnknownChannel(channel_id.into()))?;
        if !ch.is_enabled() {
            return Err(SyncError::Disabled(channel_id.into()));
        }
        let plugin = ch.plugin().ok_or_else(|| SyncError::Unavailable(channel_id.into(), ch.health.get().last_error.unwrap_or_default()))?;
        Ok(ActionChannel { id: channel_id.into(), platform: plugin.info().platform.clone(), plugin, ctx: ch.ctx() })
    }

    /// An action's failure says something about the channel too: an expired token or a rate
    /// limit shows in its health, as if a poll had met it.
    pub fn record_action_failure(&self, channel_id: &str, e: &PluginError) {
        use crate::plugins::ChannelFailure::{RateLimited, Unauthorized};
        let Some(ch) = self.get(channel_id) else { return };
        match e {
            PluginError::Channel(RateLimited { retry_after_ms, .. }) => {
                ch.health.plugin_failed(e, Some(std::time::Duration::from_millis(*retry_after_ms)))
            }
            PluginError::Channel(Unauthorized(_)) => ch.health.plugin_failed(e, None),
            _ => {}
        }
    }

    /// Hand a webhook delivery to the channel's plugin and store what it carried before
    /// answering, so the platform redelivers anything we failed to store. Channels of the same
    /// `webhook_group` receive it too (after this one accepted it: the signature was good).
    pub async fn webhook(&self, id: &str, req: WebhookRequest) -> Result<WebhookOutcome, SyncError> {
        let ch = self.get(id).ok_or_else(|| SyncError::UnknownChannel(id.into()))?;
        let group = ch.config.webhook_group.clone();
        let siblings_req = group.is_some().then(|| req.clone());
        let outcome = self.deliver(&ch, req).await?;
        let accepted = (200..300).contains(&outcome.status);
        if let (Some(group), Some(req), true) = (group, siblings_req, accepted) {
            let mut retry = None;
            for sib in self.all().into_iter().filter(|s| s.config.id != id && s.config.webhook_group.as_deref() == Some(&group)) {
                match self.deliver(&sib, req.clone()).await {
                    Ok(_) | Err(SyncError::Disabled(_) | SyncError::NoWebhooks(_)) => {}
                    // One Page's entries could not be stored: the platform must deliver again
                    // (to everyone: stable ids make the others' second copy a no-op).
                    Err(e) => {
                        tracing::warn!(channel = %sib.config.id, "shared webhook delivery failed; asking the platform to redeliver: {e}");
                        retry.get_or_insert(e);
                    }
                }
            }
            if let Some(e) = retry {
                return Err(e);
            }
        }
        Ok(outcome)
    }

    async fn deliver(&self, ch: &ChannelRuntime, req: WebhookRequest) -> Result<WebhookOutcome, SyncError> {
        let id = ch.config.id.as_str();
        if !ch.is_enabled() {
            return Err(SyncError::Disabled(id.into()));
        }
        let plugin = ch.plugin().ok_or_else(|| SyncError::Unavailable(id.into(), ch.health.get().last_error.unwrap_or_default()))?;
        if !plugin.info().webhooks {
            return Err(SyncError::NoWebhooks(id.into()));
        }
        let mut outcome = {
            // A burst waits a moment for a slot; a flood (or a plugin that hangs) gets 503 after
            // it. The slot bounds the plugin's instances, not the writing: deliveries waiting to
            // be written are written together (`Inbox::ingest`).
            let _slot = tokio::time::timeout(WEBHOOK_SLOT_WAIT, ch.webhook_slots.acquire())
                .await
                .map_err(|_| SyncError::Busy(id.into()))?
                .map_err(|_| SyncError::Busy(id.into()))?;
            match plugin.handle_webhook(ch.ctx(), req).await {
                Ok(o) => o,
                Err(e) => {
                    ch.health.webhook_failed(&e);
                    return Err(SyncError::Plugin(id.into(), e));
                }
            }
        };
        let events = ch.ticket_rules(std::mem::take(&mut outcome.events));
        if !events.is_empty() {
            let report = self
                .inbox
                .ingest(id, &plugin.info().platform, events, None, None)
                .await
                .map_err(|e| SyncError::Store(id.into(), e))?;
            ch.health.ok(report.new_messages > 0);
        }
        ch.health.dropped(&outcome.dropped);
        Ok(outcome)
    }
}

/// The channel's secrets an admin stored, opened; an error if one cannot be opened (another
/// key, or none).
async fn stored_secrets(store: &Store, vault: &vault::Vault, id: &str) -> Result<BTreeMap<String, String>, String> {
    let sealed: Vec<vault::SealedSecret> = store.find("channel_secret", "channel", id, "name").await.map_err(|e| format!("its stored secrets cannot be read: {e}"))?;
    sealed.iter().map(|s| Ok((s.name.clone(), vault.open(s).map_err(|e| e.to_string())?))).collect()
}

/// plugins.toml's secrets with the ones an admin stored since over them.
fn resolve_secrets(config: &ChannelConfig, stored: &Result<BTreeMap<String, String>, String>) -> Result<BTreeMap<String, String>, String> {
    let stored = stored.as_ref().map_err(Clone::clone)?;
    let mut from_file = ChannelConfig { secrets: config.secrets.clone(), ..config.clone() };
    from_file.secrets.retain(|name, _| !stored.contains_key(name));
    let mut secrets = from_file.resolve_secrets().map_err(|e| e.to_string())?;
    secrets.extend(stored.iter().map(|(k, v)| (k.clone(), v.clone())));
    Ok(secrets)
}

/// A required setting the plugin declares and the channel does not give, named for the admin.
fn missing_settings(plugin: &Plugin, config: &ChannelConfig, secrets: &BTreeMap<String, String>) -> Result<(), String> {
    let values = config.config_strings();
    let missing: Vec<String> = plugin
        .info()
        .settings
        .iter()
        .filter(|s| s.required && s.default.is_none())
        .filter(|s| {
            let given = if s.secret { secrets.get(&s.name) } else { values.get(&s.name) };
            given.is_none_or(|v| v.is_empty())
        })
        .map(|s| format!("`{}` ({}{})", s.name, s.label, if s.secret { ", a secret" } else { "" }))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!("missing required setting{} {}", if missing.len() > 1 { "s" } else { "" }, missing.join(", ")))
}

impl ChannelRuntime {
    /// The channel's own ticket options applied to what its plugin delivered: reply chains are
    /// one ticket only where the admin asked for it.
    pub fn ticket_rules(&self, mut events: Vec<crate::model::ChannelEvent>) -> Vec<crate::model::ChannelEvent> {
        if self.config.reply_chains == crate::config::ReplyChains::Separate {
            for e in &mut events {
                if let crate::model::ChannelEvent::Interaction(i) = e {
                    i.chain_key = None;
                }
            }
        }
        events
    }

    pub fn is_enabled(&self) -> bool {
        self.enabled.load(Ordering::SeqCst)
    }

    /// Its plugin, if it loaded.
    pub fn plugin(&self) -> Option<Arc<Plugin>> {
        self.loaded.read().expect("not poisoned").plugin.clone()
    }

    /// The context its plugin's calls run in (settings, secrets, hosts).
    pub fn ctx(&self) -> Arc<ChannelContext> {
        self.loaded.read().expect("not poisoned").ctx.clone()
    }

    fn polls(&self) -> bool {
        self.plugin().is_some_and(|p| self.config.poll.unwrap_or(p.info().polls) && p.info().polls)
    }

    /// Start the poll loop if the channel polls, is enabled and has none running.
    fn start_polling(self: &Arc<Self>, inbox: &Arc<Inbox>) {
        if self.polls() && self.is_enabled() && !self.polling.swap(true, Ordering::SeqCst) {
            tokio::spawn(poll::run(self.clone(), inbox.clone()));
        }
    }

    /// The poll loop asks whether to go on; if not, it is marked stopped. Checked again after
    /// that, so an enable racing the stop still gets a loop.
    fn keep_polling(&self) -> bool {
        if self.retired.load(Ordering::SeqCst) {
            self.polling.store(false, Ordering::SeqCst);
            return false;
        }
        if self.is_enabled() {
            return true;
        }
        self.polling.store(false, Ordering::SeqCst);
        // A fetch that was under way when the admin disabled it may have marked it ok.
        self.health.set_state(HealthState::Disabled);
        self.is_enabled() && !self.polling.swap(true, Ordering::SeqCst)
    }

    pub fn summary(&self) -> ChannelSummary {
        let plugin = self.plugin();
        let info = plugin.as_ref().map(|p| p.info());
        ChannelSummary {
            id: self.config.id.clone(),
            display_name: self.config.display_name.clone(),
            plugin: self.config.plugin.clone(),
            enabled: self.is_enabled(),
            platform: info.map(|i| i.platform.clone()),
            platform_name: info.map(|i| i.platform_name.clone()),
            polls: info.is_some_and(|i| i.polls && self.config.poll.unwrap_or(true)),
            webhooks: info.is_some_and(|i| i.webhooks),
            webhook_path: format!("/webhooks/{}", self.config.id),
            reply_window_hours: info.and_then(|i| i.reply_window_hours),
            capabilities: info.map(|i| i.capabilities_for(&self.ctx().config)).unwrap_or_default(),
            contract: info.map(|i| i.contract.clone()),
            plugin_sha256: info.map(|i| i.sha256.clone()),
            settings: info.map(|i| i.settings.clone()).unwrap_or_default(),
            declared_hosts: info.map(|i| i.allowed_hosts.clone()).unwrap_or_default(),
            health: self.health.get(),
            connected_in_ui: self.connected_in_ui,
            // Only what the plugin declares as not secret: plugins.toml may hold other keys.
            config: self
                .config
                .config_strings()
                .into_iter()
                .filter(|(k, _)| info.is_some_and(|i| i.settings.iter().any(|s| !s.secret && &s.name == k)))
                .collect(),
        }
    }
}
