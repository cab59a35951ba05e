//! Tools for plugin authors, on the command line: `plugin check` (what a component
//! describes), `plugin run` (one export against the real platform), `plugin test` (the
//! conformance kit over recorded exchanges) and `plugin new` (a plugin crate that builds and
//! passes the kit). Each runs the component in the same sandbox as the server.

mod check;
mod fixture;
mod kit;
mod new;
mod run;

pub use check::check_plugin;
pub use kit::{test_plugin, KitReport};
pub use new::new_plugin;
pub use run::{run_plugin, Export, RunArgs};

use crate::plugins::{KvBackend, Plugin, Runtime};
use crate::store::Store;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// The runtime and a plugin loaded from `wasm`. Compiled code is cached in
/// `$HELPDESK_PLUGIN_CACHE` (default: the system's temporary directory), as the server caches
/// it: a component of an interpreted language takes seconds to compile, once.
async fn load(wasm: &Path) -> anyhow::Result<(Runtime, Arc<Plugin>)> {
    use anyhow::Context;
    let cache = std::env::var_os("HELPDESK_PLUGIN_CACHE").map(std::path::PathBuf::from).unwrap_or_else(|| std::env::temp_dir().join("helpdesk-plugin-cache"));
    let runtime = Runtime::new(Some(cache))?;
    let plugin = runtime.load(wasm).await.with_context(|| format!("{} was refused", wasm.display()))?;
    Ok((runtime, plugin))
}

/// The plugin's kv: the store's own implementation and quotas, in memory.
async fn memory_kv() -> anyhow::Result<Arc<dyn KvBackend>> {
    Ok(Arc::new(Store::open("mem://").await?))
}

/// `key=value` pairs from the command line.
fn pairs(items: &[String], what: &str) -> anyhow::Result<BTreeMap<String, String>> {
    items
        .iter()
        .map(|item| {
            let (k, v) = item.split_once('=').ok_or_else(|| anyhow::anyhow!("--{what} `{item}` is not key=value"))?;
            Ok((k.trim().to_string(), v.to_string()))
        })
        .collect()
}
