//! Plugin calls: compiling a component (cold) and loading it from the cache (warm), a fresh
//! sandboxed instance + `fetch` per call, and the memory each enabled channel costs the server.

use crate::env::{Env, SECRET, TOKEN};
use crate::stats::{summarize, Summary};
use helpdesk::config::PluginsFile;
use helpdesk::plugins::{KvBackend, Runtime};
use helpdesk::store::Store;
use helpdesk_testkit::server::Options;
use helpdesk_testkit::telegram::TelegramEmulator;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Figures {
    pub compile_cold: Duration,
    pub load_warm: Duration,
    pub fetch: Summary,
    /// A fresh instance + a `fetch` that returns 100 messages without any HTTP.
    pub bare: Summary,
    /// The same returning an empty page: the instance's own cost.
    pub empty: Summary,
    pub rss_one_channel_mib: u64,
    pub rss_per_channel_kib: u64,
    pub channels: usize,
}

/// Compile `wasm` with an empty cache (cold), then load it again from that cache (warm); the
/// second runtime and plugin are ready for calls (and live while the cache directory does).
pub async fn compile_and_load(wasm: &std::path::Path) -> anyhow::Result<(Duration, Duration, Runtime, Arc<helpdesk::plugins::Plugin>, tempfile::TempDir)> {
    let cache = tempfile::tempdir()?;
    let started = Instant::now();
    Runtime::new(Some(cache.path().into()))?.load(wasm).await?;
    let compile_cold = started.elapsed();
    let runtime = Runtime::new(Some(cache.path().into()))?;
    let started = Instant::now();
    let plugin = runtime.load(wasm).await?;
    Ok((compile_cold, started.elapsed(), runtime, plugin, cache))
}

/// `calls` fresh instances + `fetch` of `plugin` as the channel `toml` configures it; the
/// events of the last page.
async fn time_fetches(runtime: &Runtime, plugin: &helpdesk::plugins::Plugin, toml: &str, calls: usize) -> anyhow::Result<(Summary, usize)> {
    let channel = PluginsFile::parse(toml).map_err(anyhow::Error::msg)?.channels.remove(0);
    let kv: Arc<dyn KvBackend> = Arc::new(Store::open("mem://").await?);
    let ctx = runtime.channel_context(&channel, channel.resolve_secrets()?, kv);
    let (mut samples, mut events) = (Vec::new(), 0);
    for _ in 0..calls {
        let started = Instant::now();
        events = plugin.fetch(ctx.clone(), None).await?.events.len();
        samples.push(started.elapsed());
    }
    Ok((summarize(samples), events))
}

/// The test plugin answering with no HTTP: a page of 100 messages (`misbehave = "page"`) or an
/// empty one (`"none"`).
async fn bare_calls(env: &Env, calls: usize, misbehave: &str, events: usize) -> anyhow::Result<Summary> {
    let (_, _, runtime, plugin, _cache) = compile_and_load(&env.test_plugin_dir.join("hostile.wasm")).await?;
    let toml = format!("[[channel]]\nid = \"bare\"\nplugin = \"hostile\"\ndisplay_name = \"Bare\"\n[channel.config]\nmisbehave = \"{misbehave}\"\n");
    let (summary, got) = time_fetches(&runtime, &plugin, &toml, calls).await?;
    anyhow::ensure!(got == events, "the bare page has {got} events");
    Ok(summary)
}

pub async fn run(env: &Env, calls: usize, channels: usize) -> anyhow::Result<Figures> {
    let (compile_cold, load_warm, runtime, plugin, _cache) = compile_and_load(&env.plugin_dir.join("telegram.wasm")).await?;

    let emu = TelegramEmulator::start(TOKEN).await?;
    let toml = emu.channel_toml("tg", true, TOKEN, SECRET).replace("long_poll_seconds = 2", "long_poll_seconds = 0");
    let (fetch, _) = time_fetches(&runtime, &plugin, &toml, calls).await?;
    let bare = bare_calls(env, calls, "page", 100).await?;
    let empty = bare_calls(env, calls, "none", 0).await?;

    // Memory: one Telegram channel, then `channels` of them, each on its own bot.
    let settle = Duration::from_secs(3);
    let (_emu, one) = env.telegram_server(true, Options::memory()).await;
    tokio::time::sleep(settle).await;
    let rss_one = one.rss_mib();
    drop(one);
    let mut tables = String::new();
    let mut emulators = Vec::new();
    for n in 0..channels {
        let emu = TelegramEmulator::start(TOKEN).await?;
        tables.push_str(&emu.channel_toml(&format!("tg{n}"), true, TOKEN, SECRET));
        emulators.push(emu);
    }
    let many = env.server(&tables, Options::memory()).await;
    tokio::time::sleep(settle * 2).await;
    let rss_many = many.rss_mib();
    let per_channel = (rss_many.saturating_sub(rss_one) * 1024) / (channels as u64 - 1).max(1);
    println!("plugin: cold compile {compile_cold:?}, warm load {load_warm:?}, fetch p50 {:?}; RSS {rss_one} MiB with 1 channel, {rss_many} MiB with {channels}", fetch.p50);
    Ok(Figures { compile_cold, load_warm, fetch, bare, empty, rss_one_channel_mib: rss_one, rss_per_channel_kib: per_channel, channels })
}
