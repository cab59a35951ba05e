//! The Example channel written in Rust, TypeScript and Python: component size, compiling it
//! (cold) and loading it from the cache (warm), and a fresh instance + `fetch` of one page from
//! the Example platform's emulator per call.

use crate::env::Env;
use crate::stats::{summarize, Summary};
use helpdesk::config::PluginsFile;
use helpdesk::plugins::KvBackend;
use helpdesk::store::Store;
use helpdesk_testkit::example::ExampleEmulator;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Language {
    pub name: &'static str,
    pub size_mib: f64,
    pub compile_cold: Duration,
    pub load_warm: Duration,
    pub fetch: Summary,
}

pub async fn run(env: &Env, calls: usize) -> anyhow::Result<Vec<Language>> {
    let emu = ExampleEmulator::start("bench-token").await?;
    for n in 0..10 {
        emu.customer_writes("c1", "Ann", &format!("message {n}"));
    }
    let mut out = Vec::new();
    for (name, file) in [("Rust", "example_channel.wasm"), ("TypeScript", "example_typescript.wasm"), ("Python", "example_python.wasm")] {
        let wasm = env.plugin_dir.join(file);
        let size_mib = std::fs::metadata(&wasm)?.len() as f64 / 1_048_576.0;
        let (compile_cold, load_warm, runtime, plugin, _cache) = crate::plugin::compile_and_load(&wasm).await?;
        let channel = PluginsFile::parse(&emu.channel_toml("ex", file.trim_end_matches(".wasm"))).map_err(anyhow::Error::msg)?.channels.remove(0);
        let kv: Arc<dyn KvBackend> = Arc::new(Store::open("mem://").await?);
        let ctx = runtime.channel_context(&channel, channel.resolve_secrets()?, kv);
        let mut samples = Vec::with_capacity(calls);
        for _ in 0..calls {
            let started = Instant::now();
            let page = plugin.fetch(ctx.clone(), None).await?;
            anyhow::ensure!(page.events.len() == 10, "{name}: {} events", page.events.len());
            samples.push(started.elapsed());
        }
        let fetch = summarize(samples);
        println!("{name}: {size_mib:.1} MiB, compile {compile_cold:?}, cached load {load_warm:?}, fetch p50 {:?}", fetch.p50);
        out.push(Language { name, size_mib, compile_cold, load_warm, fetch });
    }
    Ok(out)
}
