//! Plugin runtime: loads channel components (with a compiled-code cache on disk), and calls
//! them sandboxed. Nothing here knows about tickets or the store.

mod bindings;
mod convert;
mod error;
mod imports;
mod mail;
mod media;
mod sandbox;
mod validate;

pub use bindings::ContractVersion;
pub use error::{ChannelFailure, PluginError};
pub use media::{Media, MAX_MEDIA_BYTES};
pub use validate::{MAX_FILE_BYTES, MAX_REPLY_FILES};
pub use sandbox::Limits;

use crate::config::{AllowedHost, ChannelConfig};
use crate::model::{ActionKind, ChannelEvent, Direction, Interaction, Kind};
use bindings::{wit, Channel, ChannelPre};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::{Component, Linker};
use wasmtime::Engine;

pub use bindings::wit::{Action, Reply as ReplyAction};
pub use bindings::files::OutgoingFile;

/// Durable per-channel key-value state for plugins (implemented by the store).
#[async_trait::async_trait]
pub trait KvBackend: Send + Sync {
    /// `Ok(None)`: no such key. An error is a store failure, never reported as absent.
    async fn get(&self, channel: &str, key: &str) -> Result<Option<Vec<u8>>, String>;
    /// Refused, with the reason, past the quotas (key length, value size, keys, bytes).
    async fn set(&self, channel: &str, key: &str, value: Vec<u8>) -> Result<(), String>;
    async fn delete(&self, channel: &str, key: &str);
}

/// Answers a plugin's HTTP requests instead of the network: the conformance kit's recorded
/// exchanges. Requests reach it only after every check the network would get.
pub trait Replay: Send + Sync {
    fn answer(&self, request: &WebhookRequest) -> Result<HttpAnswer, String>;
    /// The plugin asked for `origin` (scheme://host:port), which it was not granted.
    fn refused(&self, origin: &str);
}

/// An HTTP response given to a plugin.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpAnswer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What a channel's plugin may see and reach.
pub struct ChannelContext {
    pub id: String,
    pub limits: Limits,
    pub config: BTreeMap<String, String>,
    pub secrets: BTreeMap<String, String>,
    allowed_hosts: Vec<AllowedHost>,
    http: reqwest::Client,
    kv: Arc<dyn KvBackend>,
    replay: Option<Arc<dyn Replay>>,
    /// The mailbox the plugin last fetched from, which the poll loop watches with IDLE.
    mailbox: std::sync::Mutex<Option<(crate::mail::Account, String)>>,
    /// Its server said it has no IDLE: the poll loop sleeps instead of asking at every wait.
    no_idle: std::sync::atomic::AtomicBool,
}

impl ChannelContext {
    fn watch_mailbox(&self, account: crate::mail::Account, folder: String) {
        *self.mailbox.lock().expect("not poisoned") = Some((account, folder));
    }

    /// The account and folder the plugin last read mail from, if it reads mail from a server
    /// with IDLE.
    pub fn watched_mailbox(&self) -> Option<(crate::mail::Account, String)> {
        if self.no_idle.load(std::sync::atomic::Ordering::Relaxed) {
            return None;
        }
        self.mailbox.lock().expect("not poisoned").clone()
    }

    /// The watched mailbox's server has no IDLE.
    pub fn mailbox_has_no_idle(&self) {
        self.no_idle.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    fn host_allowed(&self, scheme: &str, host: &str, port: u16) -> bool {
        crate::config::host_allowed(&self.allowed_hosts, scheme, host, port)
    }

    /// `text` with every secret of the channel replaced by `[secret]`: errors, health, logs
    /// and API answers are read by people who must not see them (a Telegram URL holds the token).
    pub fn redact(&self, text: &str) -> String {
        redact(text, self.secrets.values())
    }
}

/// `text` with each of `secrets` (of 4 characters or more) replaced by `[secret]`.
pub fn redact<'a>(text: &str, secrets: impl IntoIterator<Item = &'a String>) -> String {
    let mut out = text.to_string();
    for s in secrets {
        if s.chars().count() >= 4 && out.contains(s.as_str()) {
            out = out.replace(s.as_str(), "[secret]");
        }
    }
    out
}

/// What a plugin says it is (`describe`), in host types.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct PluginInfo {
    pub platform: String,
    pub platform_name: String,
    /// The contract version the plugin was built against (`0.1.0` to `0.7.0`).
    pub contract: String,
    /// SHA-256 of the component file, hex (what `plugins.toml` may pin with `sha256`).
    pub sha256: String,
    pub capabilities: Vec<Capability>,
    pub polls: bool,
    pub webhooks: bool,
    pub reply_window_hours: Option<u32>,
    /// A longer window for replies carrying this tag: (hours, tag), e.g. (168, `HUMAN_AGENT`).
    pub tagged_reply_window: Option<(u32, String)>,
    /// The config values and secrets it reads.
    pub settings: Vec<Setting>,
    /// The hosts it asks to reach (`allowed_hosts` entries); an admin grants them.
    pub allowed_hosts: Vec<String>,
    /// The kinds whose replies may carry files, and what files (none before contract 0.6.0).
    pub files: Vec<FileCapability>,
}

/// The files a plugin sends with replies on one kind of interaction.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct FileCapability {
    pub kind: Kind,
    /// Image, video, audio or file.
    pub kinds: Vec<crate::model::AttachmentKind>,
    pub max_bytes: u64,
    pub max_files: u32,
    /// What an agent should know, in words.
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Capability {
    pub kind: Kind,
    pub actions: Vec<ActionKind>,
    /// What an agent should know about some of the actions, in words.
    pub action_notes: BTreeMap<ActionKind, Vec<String>>,
    /// Actions offered only on messages of one direction (delete: only our own comments).
    pub action_only: BTreeMap<ActionKind, crate::model::Direction>,
    /// Actions offered only on channels whose config sets this key to this value.
    pub action_requires: BTreeMap<ActionKind, (String, String)>,
    /// What an agent should know about this kind, in words.
    pub notes: Vec<String>,
    /// The longest reply the platform takes here, in characters.
    pub max_reply_chars: Option<u32>,
}

/// A config value or secret a plugin reads.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Setting {
    pub name: String,
    pub label: String,
    pub help: String,
    pub required: bool,
    pub default: Option<String>,
    /// Read with `secrets.get`, kept apart, never shown again.
    pub secret: bool,
}

impl PluginInfo {
    pub fn capability(&self, kind: Kind) -> Option<&Capability> {
        self.capabilities.iter().find(|c| c.kind == kind)
    }

    /// What files replies on `kind` may carry, if any.
    pub fn files_for(&self, kind: Kind) -> Option<&FileCapability> {
        self.files.iter().find(|c| c.kind == kind && c.max_files > 0 && !c.kinds.is_empty())
    }

    /// The capabilities as one channel offers them: without the actions its config does not
    /// allow (`requires`).
    pub fn capabilities_for(&self, config: &BTreeMap<String, String>) -> Vec<Capability> {
        self.capabilities
            .iter()
            .map(|c| {
                let mut c = c.clone();
                let offered = |a: &ActionKind| match c.action_requires.get(a) {
                    Some((key, value)) => config.get(key).is_some_and(|v| v.eq_ignore_ascii_case(value)),
                    None => true,
                };
                let kept: Vec<ActionKind> = c.actions.iter().copied().filter(offered).collect();
                c.actions = kept;
                c
            })
            .collect()
    }
}

/// A page of `fetch`.
pub struct Page {
    pub events: Vec<ChannelEvent>,
    pub next_cursor: Option<String>,
    pub poll_after: Duration,
    /// Why events of this page broke the host's bounds and were left out.
    pub dropped: Vec<String>,
    /// The platform's call budget, where the plugin counts one.
    pub quota: Option<crate::model::Quota>,
    /// What the admin should know, in words.
    pub notice: Option<String>,
}

/// The HTTP answer and the events of a webhook delivery.
pub struct WebhookOutcome {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub events: Vec<ChannelEvent>,
    /// Why events of this delivery broke the host's bounds and were left out.
    pub dropped: Vec<String>,
}

/// A reply note is asked for as the agent types: it answers from what the plugin knows, or not at all.
const REPLY_NOTE_TIMEOUT: Duration = Duration::from_secs(2);

/// A raw webhook request for the plugin.
#[derive(Clone)]
pub struct WebhookRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What an action is applied to.
pub struct ActionTarget {
    pub kind: Kind,
    /// The customer's message, or the brand's own.
    pub direction: Direction,
    pub platform_id: String,
    pub thread_key: String,
    pub author_id: String,
    pub meta: Vec<(String, String)>,
}

impl ActionTarget {
    /// The target of this interaction.
    pub fn of(i: &Interaction) -> Self {
        ActionTarget {
            kind: i.kind,
            direction: i.direction,
            platform_id: i.platform_id.clone(),
            thread_key: i.thread_key.clone(),
            author_id: i.author.id.clone(),
            meta: i.meta.clone(),
        }
    }

    fn into_wit(self) -> wit::Target {
        wit::Target {
            kind: self.kind.into(),
            direction: self.direction.into(),
            platform_id: self.platform_id,
            thread_key: self.thread_key,
            author_id: self.author_id,
            meta: self.meta,
        }
    }
}

/// The shared engine, linker and compile cache.
pub struct Runtime {
    engine: Engine,
    linker: Linker<sandbox::HostState>,
    cache_dir: Option<PathBuf>,
    http: reqwest::Client,
}

impl Runtime {
    pub fn new(cache_dir: Option<PathBuf>) -> anyhow::Result<Self> {
        let engine = sandbox::engine()?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        bindings::add_to_linker(&mut linker)?;
        if let Some(dir) = &cache_dir {
            std::fs::create_dir_all(dir)?;
        }
        let http = imports::http_client()?;
        Ok(Runtime { engine, linker, cache_dir, http })
    }

    /// Load a component file, check it implements the channel world, and ask what it is.
    pub async fn load(&self, path: &Path) -> Result<Arc<Plugin>, PluginError> {
        let bytes = std::fs::read(path).map_err(|e| PluginError::Load(format!("cannot read {}: {e}", path.display())))?;
        self.load_bytes(&bytes).await
    }

    pub async fn load_bytes(&self, wasm: &[u8]) -> Result<Arc<Plugin>, PluginError> {
        let sha256 = hex::encode(Sha256::digest(wasm));
        let component = self.compile_cached(wasm)?;
        let version = self.contract_version(&component)?;
        let pre = ChannelPre::new(version, &self.linker, &component).map_err(|e| {
            PluginError::Load(format!("it does not implement the `channel` world of helpdesk:channel@{version}: {}", root_cause(&e)))
        })?;
        let mut plugin = Plugin { pre, info: None, engine: self.engine.clone() };
        let probe = Arc::new(ChannelContext {
            id: "plugin-check".into(),
            limits: Limits::default(),
            config: BTreeMap::new(),
            secrets: BTreeMap::new(),
            allowed_hosts: Vec::new(),
            http: self.http.clone(),
            kv: Arc::new(NoKv),
            replay: None,
            mailbox: Default::default(),
            no_idle: Default::default(),
        });
        let info = plugin.call(probe.clone(), "describe", Duration::from_secs(10), |b, s| Box::pin(async move { b.describe(s).await })).await?;
        validate_info(&info).map_err(PluginError::Malformed)?;
        let mut described = describe_info(info, version);
        described.sha256 = sha256;
        let files = plugin.call(probe, "file_capabilities", Duration::from_secs(10), |b, s| Box::pin(async move { b.file_capabilities(s).await })).await?;
        described.files = validate::file_capabilities(files).map_err(PluginError::Malformed)?;
        plugin.info = Some(described);
        Ok(Arc::new(plugin))
    }

    /// The context a channel's calls run in.
    pub fn channel_context(
        &self,
        channel: &ChannelConfig,
        secrets: BTreeMap<String, String>,
        kv: Arc<dyn KvBackend>,
    ) -> Arc<ChannelContext> {
        Arc::new(ChannelContext {
            id: channel.id.clone(),
            limits: Limits::for_channel(&channel.limits),
            config: channel.config_strings(),
            secrets,
            allowed_hosts: channel.granted_hosts(),
            http: self.http.clone(),
            kv,
            replay: None,
            mailbox: Default::default(),
            no_idle: Default::default(),
        })
    }

    /// A context built by hand (the plugin tools): these settings and hosts, and optionally
    /// recorded answers instead of the network.
    pub fn custom_context(
        &self,
        id: &str,
        config: BTreeMap<String, String>,
        secrets: BTreeMap<String, String>,
        allowed_hosts: Vec<AllowedHost>,
        kv: Arc<dyn KvBackend>,
        replay: Option<Arc<dyn Replay>>,
    ) -> Arc<ChannelContext> {
        Arc::new(ChannelContext { id: id.into(), limits: Limits::default(), config, secrets, allowed_hosts, http: self.http.clone(), kv, replay, mailbox: Default::default(), no_idle: Default::default() })
    }

    /// The contract version a component was built against, from its import names
    /// (`helpdesk:channel/http@0.2.0`); one this host does not load is named with the ones it does.
    fn contract_version(&self, component: &Component) -> Result<ContractVersion, PluginError> {
        let ty = component.component_type();
        let mut found: Option<(String, ContractVersion)> = None;
        for (name, _) in ty.imports(&self.engine) {
            let Some(version) = name.strip_prefix("helpdesk:channel/").and_then(|rest| rest.split_once('@')).map(|(_, v)| v) else {
                continue;
            };
            let Some(v) = ContractVersion::matching(version) else {
                return Err(PluginError::Load(format!(
                    "it was built against helpdesk:channel@{version}; this host loads {}",
                    supported_versions()
                )));
            };
            match &found {
                Some((other, w)) if *w != v => {
                    return Err(PluginError::Load(format!("it mixes helpdesk:channel@{other} and @{version}")));
                }
                _ => found = Some((version.to_string(), v)),
            }
        }
        Ok(found.map(|(_, v)| v).unwrap_or(ContractVersion::LATEST))
    }

    /// Compiling is the slow part of loading: reuse machine code compiled earlier by an
    /// engine with the same settings, keyed by the wasm's hash and the engine's.
    fn compile_cached(&self, wasm: &[u8]) -> Result<Component, PluginError> {
        if !wasm.starts_with(b"\0asm") {
            return Err(PluginError::Load("the file is not WebAssembly".into()));
        }
        let compile = || {
            Component::new(&self.engine, wasm).map_err(|e| {
                PluginError::Load(format!("it is not a valid WebAssembly component (build it for wasm32-wasip2): {}", root_cause(&e)))
            })
        };
        let Some(dir) = &self.cache_dir else { return compile() };
        let mut engine_hash = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(&self.engine.precompile_compatibility_hash(), &mut engine_hash);
        let key = format!("{}-{:016x}.cwasm", hex::encode(Sha256::digest(wasm)), std::hash::Hasher::finish(&engine_hash));
        let path = dir.join(key);
        if path.exists() {
            // SAFETY: the file was written by `Component::serialize` of an engine with the same
            // compatibility hash, in a cache directory only this host writes.
            match unsafe { Component::deserialize_file(&self.engine, &path) } {
                Ok(c) => return Ok(c),
                Err(e) => tracing::warn!(path = %path.display(), "ignoring unreadable compiled plugin: {e}"),
            }
        }
        let component = compile()?;
        if let Ok(bytes) = component.serialize() {
            let tmp = path.with_extension(format!("tmp{}", std::process::id()));
            if std::fs::write(&tmp, bytes).and_then(|_| std::fs::rename(&tmp, &path)).is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
        }
        Ok(component)
    }
}

/// The contract versions this host loads, in words.
fn supported_versions() -> String {
    let mut all: Vec<String> = ContractVersion::ALL.iter().map(|v| format!("helpdesk:channel@{v}")).collect();
    let last = all.pop().unwrap_or_default();
    if all.is_empty() { last } else { format!("{} and {last}", all.join(", ")) }
}

fn root_cause(e: &wasmtime::Error) -> String {
    e.chain().map(|c| c.to_string()).collect::<Vec<_>>().join(": ")
}

fn describe_info(i: wit::ChannelInfo, version: ContractVersion) -> PluginInfo {
    PluginInfo {
        platform: i.platform,
        platform_name: i.platform_name,
        contract: version.to_string(),
        sha256: String::new(),
        capabilities: i
            .capabilities
            .into_iter()
            .map(|c| Capability {
                kind: c.kind.into(),
                actions: c.actions.iter().map(|a| a.action.into()).collect(),
                action_notes: c.actions.iter().filter(|a| !a.notes.is_empty()).map(|a| (a.action.into(), a.notes.clone())).collect(),
                action_only: c
                    .actions
                    .iter()
                    .filter_map(|a| {
                        let only = match a.only? {
                            wit::Direction::Inbound => crate::model::Direction::Inbound,
                            wit::Direction::Outbound => crate::model::Direction::Outbound,
                        };
                        Some((a.action.into(), only))
                    })
                    .collect(),
                action_requires: c.actions.iter().filter_map(|a| Some((a.action.into(), a.requires.clone()?))).collect(),
                notes: c.notes,
                max_reply_chars: c.max_reply_chars,
            })
            .collect(),
        polls: i.polls,
        webhooks: i.webhooks,
        reply_window_hours: i.reply_window_hours,
        tagged_reply_window: i.tagged_reply_window.map(|w| (w.hours, w.tag)),
        settings: i
            .settings
            .into_iter()
            .map(|s| Setting { name: s.name, label: s.label, help: s.help, required: s.required, default: s.default, secret: s.secret })
            .collect(),
        allowed_hosts: i.allowed_hosts,
        files: Vec::new(),
    }
}

/// A loaded, checked plugin component.
pub struct Plugin {
    pre: ChannelPre,
    info: Option<PluginInfo>,
    engine: Engine,
}

/// Whether an export answered with the plugin's own error (for the calls' metrics).
trait Answer {
    fn failed(&self) -> bool {
        false
    }
}
impl<T, E> Answer for Result<T, E> {
    fn failed(&self) -> bool {
        self.is_err()
    }
}
impl Answer for Option<String> {}
impl Answer for wit::ChannelInfo {}
impl Answer for Vec<bindings::files::FileCapability> {}

type CallFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = wasmtime::Result<T>> + Send + 'a>>;

impl Plugin {
    pub fn info(&self) -> &PluginInfo {
        self.info.as_ref().expect("described at load")
    }

    pub fn contract(&self) -> ContractVersion {
        self.pre.version()
    }

    /// Run one export (`export`, for the metrics) in a fresh sandboxed instance.
    async fn call<T: Answer + Send + 'static>(
        &self,
        channel: Arc<ChannelContext>,
        export: &'static str,
        timeout: Duration,
        f: impl for<'a> FnOnce(&'a Channel, &'a mut wasmtime::Store<sandbox::HostState>) -> CallFuture<'a, T> + Send,
    ) -> Result<T, PluginError> {
        let limits = channel.limits;
        let id = channel.id.clone();
        let started = std::time::Instant::now();
        let mut store = sandbox::new_store(&self.engine, channel);
        let run = async {
            let instance = self.pre.instantiate(&mut store).await?;
            f(&instance, &mut store).await
        };
        let answer = match tokio::time::timeout(timeout, run).await {
            Err(_) => Err(PluginError::Timeout(timeout.as_secs())),
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(classify(e, store.data(), &limits)),
        };
        let result = match &answer {
            Ok(v) if v.failed() => "failed",
            Ok(_) => "ok",
            Err(PluginError::Timeout(_)) => "timeout",
            Err(_) => "trap",
        };
        metrics::histogram!(crate::metrics::PLUGIN_CALL_SECONDS, "channel" => id.clone(), "call" => export).record(started.elapsed().as_secs_f64());
        metrics::counter!(crate::metrics::PLUGIN_CALLS, "channel" => id, "call" => export, "result" => result).increment(1);
        answer
    }

    /// The plugin's own connection test with the channel's settings: the account it reaches.
    pub async fn check(&self, ch: Arc<ChannelContext>) -> Result<String, PluginError> {
        let timeout = ch.limits.timeout;
        let account = self.call(ch, "check", timeout, |b, s| Box::pin(async move { b.check(s).await })).await?.map_err(ChannelFailure::from)?;
        Ok(account.chars().take(500).collect())
    }

    pub async fn fetch(&self, ch: Arc<ChannelContext>, cursor: Option<String>) -> Result<Page, PluginError> {
        // Long polls wait on the platform for up to the HTTP maximum.
        let timeout = ch.limits.timeout.max(Duration::from_secs(150));
        let page = self
            .call(ch, "fetch", timeout, move |b, s| Box::pin(async move { b.fetch(s, cursor.as_deref()).await }))
            .await?
            .map_err(ChannelFailure::from)?;
        validate::cursor(page.next_cursor.as_deref()).map_err(PluginError::Malformed)?;
        let (events, dropped) = validate::events(page.events.into_iter().map(Into::into).collect()).map_err(PluginError::Malformed)?;
        let quota = page.quota.map(|q| crate::model::Quota {
            unit: q.unit.chars().take(64).collect(),
            used: q.used,
            limit: q.limit,
            resets_at: q.resets_at,
        });
        let notice = page.notice.map(|n| n.chars().take(500).collect());
        Ok(Page { events, next_cursor: page.next_cursor, poll_after: Duration::from_millis(page.poll_after_ms.into()), dropped, quota, notice })
    }

    pub async fn handle_webhook(&self, ch: Arc<ChannelContext>, req: WebhookRequest) -> Result<WebhookOutcome, PluginError> {
        let req = wit::HttpRequest { method: req.method, url: req.url, headers: req.headers, body: req.body };
        let timeout = ch.limits.timeout;
        let out = self
            .call(ch, "handle_webhook", timeout, move |b, s| Box::pin(async move { b.handle_webhook(s, &req).await }))
            .await?
            .map_err(ChannelFailure::from)?;
        validate::webhook_response(&out.response).map_err(PluginError::Malformed)?;
        let (events, dropped) = validate::events(out.events.into_iter().map(Into::into).collect()).map_err(PluginError::Malformed)?;
        Ok(WebhookOutcome { status: out.response.status, headers: out.response.headers, body: out.response.body, events, dropped })
    }

    /// What the agent should know before sending `text` to `target` (SMS segments, a closing
    /// window), in words, at most 300 characters.
    pub async fn reply_note(&self, ch: Arc<ChannelContext>, target: ActionTarget, text: String) -> Result<Option<String>, PluginError> {
        let target = target.into_wit();
        let note = self.call(ch, "reply_note", REPLY_NOTE_TIMEOUT, move |b, s| Box::pin(async move { b.reply_note(s, &target, &text).await })).await?;
        Ok(note.map(|n| n.trim().chars().take(300).collect::<String>()).filter(|n| !n.is_empty()))
    }

    pub async fn perform(&self, ch: Arc<ChannelContext>, target: ActionTarget, action: Action) -> Result<Option<Interaction>, PluginError> {
        let target = target.into_wit();
        let timeout = ch.limits.timeout;
        let out = self
            .call(ch, "perform", timeout, move |b, s| Box::pin(async move { b.perform(s, &target, &action).await }))
            .await?
            .map_err(ChannelFailure::from)?;
        Ok(Self::sent(out))
    }

    /// A reply with files (checked by the caller against `files_for`), public or `private`.
    pub async fn send_files(
        &self,
        ch: Arc<ChannelContext>,
        target: ActionTarget,
        reply: ReplyAction,
        private: bool,
        files: Vec<OutgoingFile>,
    ) -> Result<Option<Interaction>, PluginError> {
        let target = target.into_wit();
        // Uploads take longer than other calls.
        let timeout = ch.limits.timeout.max(Duration::from_secs(60));
        let out = self
            .call(ch, "send_files", timeout, move |b, s| Box::pin(async move { b.send_files(s, &target, &reply, private, &files).await }))
            .await?
            .map_err(ChannelFailure::from)?;
        Ok(Self::sent(out))
    }

    fn sent(out: wit::ActionOutcome) -> Option<Interaction> {
        let created: Option<Interaction> = out.created.map(Into::into);
        // The platform accepted the action: an incomplete account of what it created must not
        // turn into an error an agent would retry (and send twice). The host records the reply
        // under a local id instead.
        created.and_then(|i| match validate::interaction(&i) {
            Ok(()) => Some(validate::clamp_times(i)),
            Err(e) => {
                tracing::warn!("the plugin's account of the message it sent is unusable ({e}); recording it under a local id");
                None
            }
        })
    }
}

/// Why a call failed, in words: the CPU budget, the memory limit, or the guest's own panic
/// message (Rust writes it to stderr before trapping).
fn classify(e: wasmtime::Error, state: &sandbox::HostState, limits: &Limits) -> PluginError {
    if state.cpu_exceeded {
        return PluginError::CpuBudget(limits.cpu_budget.as_millis() as u64);
    }
    let text = root_cause(&e);
    // The limiter's trap, or Rust's own report when an allocation fails without one.
    let stderr = String::from_utf8_lossy(&state.stderr.contents()).to_string();
    if text.contains("forcing trap when growing memory") || stderr.contains("memory allocation of") {
        return PluginError::Memory((limits.memory_bytes >> 20) as u64);
    }
    if text.contains("pooling") || text.contains("maximum concurrent") {
        return PluginError::Busy;
    }
    let panic = stderr
        .split_once("panicked at ")
        .map(|(_, rest)| rest.lines().take(2).collect::<Vec<_>>().join(" ").trim().to_string());
    let trap = e.downcast_ref::<wasmtime::Trap>().map(|t| t.to_string());
    let what = trap.unwrap_or_else(|| text.lines().next().unwrap_or_default().to_string());
    PluginError::Trap(match panic {
        Some(p) => format!("it panicked at {p}"),
        None => what,
    })
}

fn validate_info(info: &wit::ChannelInfo) -> Result<(), String> {
    if info.platform.is_empty() || info.platform.len() > 64 || info.platform_name.len() > 255 {
        return Err("describe() returned an empty or oversized platform name".into());
    }
    validate::describe_lists(info)
}

struct NoKv;

#[async_trait::async_trait]
impl KvBackend for NoKv {
    async fn get(&self, _: &str, _: &str) -> Result<Option<Vec<u8>>, String> {
        Ok(None)
    }
    async fn set(&self, _: &str, _: &str, _: Vec<u8>) -> Result<(), String> {
        Err("no storage while checking a plugin".into())
    }
    async fn delete(&self, _: &str, _: &str) {}
}
