//! Plugin runtime: loads channel components (with a compiled-code cache on disk), and calls
//! them sandboxed. Nothing here knows about tickets or the store.

mod bindings;
mod convert;
mod error;
mod imports;
mod sandbox;

pub use convert::action_kind_name;
pub use error::{ChannelFailure, PluginError};
pub use sandbox::Limits;

use crate::config::ChannelConfig;
use crate::model::{ChannelEvent, Interaction, Kind};
use bindings::{wit, Channel, ChannelPre};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::Engine;

pub use bindings::wit::{Action, Reply as ReplyAction};

/// Durable per-channel key-value state for plugins (implemented by the store).
#[async_trait::async_trait]
pub trait KvBackend: Send + Sync {
    async fn get(&self, channel: &str, key: &str) -> Option<Vec<u8>>;
    async fn set(&self, channel: &str, key: &str, value: Vec<u8>) -> Result<(), String>;
    async fn delete(&self, channel: &str, key: &str);
}

/// What a channel's plugin may see and reach.
pub struct ChannelContext {
    pub id: String,
    pub config: BTreeMap<String, String>,
    pub secrets: BTreeMap<String, String>,
    allowed_hosts: Vec<String>,
    http: reqwest::Client,
    kv: Arc<dyn KvBackend>,
}

impl ChannelContext {
    fn host_allowed(&self, host: &str, port: Option<u16>) -> bool {
        crate::config::host_allowed(&self.allowed_hosts, host, port)
    }
}

/// What a plugin says it is (`describe`), in host types.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct PluginInfo {
    pub platform: String,
    pub platform_name: String,
    pub capabilities: Vec<Capability>,
    pub polls: bool,
    pub webhooks: bool,
    pub reply_window_hours: Option<u32>,
    pub config_keys: Vec<String>,
    pub secret_names: Vec<String>,
}

#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Capability {
    pub kind: Kind,
    /// Action names: `reply`, `like`, `delete`, `block`, ...
    pub actions: Vec<String>,
    pub notes: Vec<String>,
}

impl PluginInfo {
    pub fn capability(&self, kind: Kind) -> Option<&Capability> {
        self.capabilities.iter().find(|c| c.kind == kind)
    }
}

/// A page of `fetch`.
pub struct Page {
    pub events: Vec<ChannelEvent>,
    pub next_cursor: Option<String>,
    pub poll_after: Duration,
}

/// The HTTP answer and the events of a webhook delivery.
pub struct WebhookOutcome {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub events: Vec<ChannelEvent>,
}

/// A raw webhook request for the plugin.
pub struct WebhookRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What an action is applied to.
pub struct ActionTarget {
    pub kind: Kind,
    pub platform_id: String,
    pub thread_key: String,
    pub author_id: String,
    pub meta: Vec<(String, String)>,
}

/// The shared engine, linker and compile cache.
pub struct Runtime {
    engine: Engine,
    linker: Linker<sandbox::HostState>,
    cache_dir: Option<PathBuf>,
    limits: Limits,
    http: reqwest::Client,
}

impl Runtime {
    pub fn new(cache_dir: Option<PathBuf>, limits: Limits) -> anyhow::Result<Self> {
        let engine = sandbox::engine(&limits)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        Channel::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
        if let Some(dir) = &cache_dir {
            std::fs::create_dir_all(dir)?;
        }
        let http = reqwest::Client::builder().pool_idle_timeout(Duration::from_secs(90)).build()?;
        Ok(Runtime { engine, linker, cache_dir, limits, http })
    }

    /// Load a component file, check it implements the channel world, and ask what it is.
    pub async fn load(&self, path: &Path) -> Result<Arc<Plugin>, PluginError> {
        let bytes = std::fs::read(path).map_err(|e| PluginError::Load(format!("cannot read {}: {e}", path.display())))?;
        self.load_bytes(&bytes).await
    }

    pub async fn load_bytes(&self, wasm: &[u8]) -> Result<Arc<Plugin>, PluginError> {
        let component = self.compile_cached(wasm)?;
        let pre = self.linker.instantiate_pre(&component).map_err(|e| {
            PluginError::Load(format!(
                "it does not target this host's contract (helpdesk:channel@0.1.0, world `channel`): {}",
                root_cause(&e)
            ))
        })?;
        let pre = ChannelPre::new(pre).map_err(|e| {
            PluginError::Load(format!("it does not export the `channel` world of helpdesk:channel@0.1.0: {}", root_cause(&e)))
        })?;
        let mut plugin = Plugin { pre, info: None, limits: self.limits, engine: self.engine.clone() };
        let probe = Arc::new(ChannelContext {
            id: "plugin-check".into(),
            config: BTreeMap::new(),
            secrets: BTreeMap::new(),
            allowed_hosts: Vec::new(),
            http: self.http.clone(),
            kv: Arc::new(NoKv),
        });
        let info = plugin.call(probe, Duration::from_secs(10), |b, s| Box::pin(async move { b.call_describe(s).await })).await?;
        plugin.info = Some(describe_info(info));
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
            config: channel.config_strings(),
            secrets,
            allowed_hosts: channel.allowed_hosts.clone(),
            http: self.http.clone(),
            kv,
        })
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

fn root_cause(e: &wasmtime::Error) -> String {
    e.chain().map(|c| c.to_string()).collect::<Vec<_>>().join(": ")
}

fn describe_info(i: wit::ChannelInfo) -> PluginInfo {
    PluginInfo {
        platform: i.platform,
        platform_name: i.platform_name,
        capabilities: i
            .capabilities
            .into_iter()
            .map(|c| Capability {
                kind: c.kind.into(),
                actions: c.actions.into_iter().map(|a| action_kind_name(a).to_string()).collect(),
                notes: c.notes,
            })
            .collect(),
        polls: i.polls,
        webhooks: i.webhooks,
        reply_window_hours: i.reply_window_hours,
        config_keys: i.config_keys,
        secret_names: i.secret_names,
    }
}

/// A loaded, checked plugin component.
pub struct Plugin {
    pre: ChannelPre<sandbox::HostState>,
    info: Option<PluginInfo>,
    limits: Limits,
    engine: Engine,
}

type CallFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = wasmtime::Result<T>> + Send + 'a>>;

impl Plugin {
    pub fn info(&self) -> &PluginInfo {
        self.info.as_ref().expect("described at load")
    }

    /// Run one export in a fresh sandboxed instance.
    async fn call<T: Send + 'static>(
        &self,
        channel: Arc<ChannelContext>,
        timeout: Duration,
        f: impl for<'a> FnOnce(&'a Channel, &'a mut wasmtime::Store<sandbox::HostState>) -> CallFuture<'a, T> + Send,
    ) -> Result<T, PluginError> {
        let mut store = sandbox::new_store(&self.engine, channel, &self.limits);
        let run = async {
            let instance = self.pre.instantiate_async(&mut store).await?;
            f(&instance, &mut store).await
        };
        let result = tokio::time::timeout(timeout, run).await;
        let cpu_exceeded = store.data().cpu_exceeded;
        match result {
            Err(_) => Err(PluginError::Timeout(timeout.as_secs())),
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(self.classify(e, cpu_exceeded)),
        }
    }

    fn classify(&self, e: wasmtime::Error, cpu_exceeded: bool) -> PluginError {
        if cpu_exceeded {
            return PluginError::CpuBudget(self.limits.cpu_budget.as_secs());
        }
        let text = root_cause(&e);
        if text.contains("memory") && (text.contains("grow") || text.contains("limit")) {
            return PluginError::Memory((self.limits.memory_bytes >> 20) as u64);
        }
        if text.contains("pooling") || text.contains("maximum concurrent") {
            return PluginError::Busy;
        }
        let trap = e.downcast_ref::<wasmtime::Trap>().map(|t| t.to_string());
        PluginError::Trap(trap.unwrap_or_else(|| text.lines().next().unwrap_or_default().to_string()))
    }

    pub async fn fetch(&self, ch: Arc<ChannelContext>, cursor: Option<String>) -> Result<Page, PluginError> {
        // Long polls wait on the platform for up to the HTTP maximum.
        let page = self
            .call(ch, Duration::from_secs(150), move |b, s| Box::pin(async move { b.call_fetch(s, cursor.as_deref()).await }))
            .await?
            .map_err(ChannelFailure::from)?;
        Ok(Page {
            events: page.events.into_iter().map(Into::into).collect(),
            next_cursor: page.next_cursor,
            poll_after: Duration::from_millis(page.poll_after_ms.into()),
        })
    }

    pub async fn handle_webhook(&self, ch: Arc<ChannelContext>, req: WebhookRequest) -> Result<WebhookOutcome, PluginError> {
        let req = wit::HttpRequest { method: req.method, url: req.url, headers: req.headers, body: req.body };
        let out = self
            .call(ch, Duration::from_secs(15), move |b, s| Box::pin(async move { b.call_handle_webhook(s, &req).await }))
            .await?
            .map_err(ChannelFailure::from)?;
        Ok(WebhookOutcome {
            status: out.response.status,
            headers: out.response.headers,
            body: out.response.body,
            events: out.events.into_iter().map(Into::into).collect(),
        })
    }

    pub async fn perform(&self, ch: Arc<ChannelContext>, target: ActionTarget, action: Action) -> Result<Option<Interaction>, PluginError> {
        let target = wit::Target {
            kind: target.kind.into(),
            platform_id: target.platform_id,
            thread_key: target.thread_key,
            author_id: target.author_id,
            meta: target.meta,
        };
        let out = self
            .call(ch, Duration::from_secs(60), move |b, s| Box::pin(async move { b.call_perform(s, &target, &action).await }))
            .await?
            .map_err(ChannelFailure::from)?;
        Ok(out.created.map(Into::into))
    }
}

struct NoKv;

#[async_trait::async_trait]
impl KvBackend for NoKv {
    async fn get(&self, _: &str, _: &str) -> Option<Vec<u8>> {
        None
    }
    async fn set(&self, _: &str, _: &str, _: Vec<u8>) -> Result<(), String> {
        Err("no storage while checking a plugin".into())
    }
    async fn delete(&self, _: &str, _: &str) {}
}
