//! Wires the parts into a running server: store, search, inbox, plugins, channels, API.

use crate::config::PluginsFile;
use crate::events::EventBus;
use crate::inbox::{indexing, Inbox};
use crate::plugins::Runtime;
use crate::search::SearchIndex;
use crate::store::Store;
use crate::sync::Channels;
use anyhow::Context;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where things live and how to reach them.
#[derive(Clone, Debug)]
pub struct Paths {
    pub data: PathBuf,
    /// A SurrealDB URL; default `surrealkv://<data>/store`.
    pub store: Option<String>,
    /// Compiled plugins; default `<data>/cache`.
    pub cache: Option<PathBuf>,
}

impl Paths {
    pub fn store_url(&self) -> String {
        self.store.clone().unwrap_or_else(|| format!("surrealkv://{}", self.data.join("store").display()))
    }
    pub fn index_dir(&self) -> PathBuf {
        self.data.join("index")
    }
    pub fn cache_dir(&self) -> PathBuf {
        self.cache.clone().unwrap_or_else(|| self.data.join("cache"))
    }
}

pub async fn open_store(paths: &Paths) -> anyhow::Result<Store> {
    std::fs::create_dir_all(&paths.data).with_context(|| format!("cannot create data dir {}", paths.data.display()))?;
    Ok(Store::open(&paths.store_url()).await?)
}

/// Start everything and serve until the process ends.
pub async fn serve(file: PluginsFile, paths: Paths, listen: SocketAddr) -> anyhow::Result<()> {
    let store = open_store(&paths).await?;
    let search = Arc::new(SearchIndex::open(&paths.index_dir())?);
    let events = EventBus::default();
    let inbox = Arc::new(Inbox::start(store.clone(), search, events.clone()).await?);
    let runtime = Runtime::new(Some(paths.cache_dir()))?;
    let channels = Channels::start(&file, &runtime, inbox.clone(), store, events.clone()).await;
    let app = crate::api::router(crate::api::AppState { inbox, channels, events });
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    // Scripts and tests read this line for the address (the port may have been 0).
    println!("helpdesk listening on http://{addr}");
    axum::serve(listener, app).await?;
    Ok(())
}

/// Rebuild the search index from the store, with a progress bar.
pub async fn reindex(paths: &Paths) -> anyhow::Result<()> {
    let store = open_store(paths).await?;
    let search = SearchIndex::open(&paths.index_dir())?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("reindexing {bar:40} {pos}/{len} tickets ({per_sec}, {eta} left)")
            .expect("valid template"),
    );
    let n = indexing::rebuild(&store, &search, |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .await?;
    bar.finish();
    println!("reindexed {n} tickets; the index holds {} documents", search.doc_count());
    Ok(())
}

/// Load a component and print what it describes.
pub async fn check_plugin(path: &Path) -> anyhow::Result<()> {
    let runtime = Runtime::new(None)?;
    let plugin = runtime.load(path).await.with_context(|| format!("{} was refused", path.display()))?;
    let info = plugin.info();
    println!("{}: a channel plugin for {} ({})", path.display(), info.platform_name, info.platform);
    println!("  receives: {}", [(info.polls, "polling"), (info.webhooks, "webhooks")]
        .iter().filter(|(on, _)| *on).map(|(_, n)| *n).collect::<Vec<_>>().join(" and "));
    if let Some(h) = info.reply_window_hours {
        println!("  replies allowed within {h} h of the customer's last message");
    }
    for c in &info.capabilities {
        println!("  {:?}: {}", c.kind, c.actions.join(", "));
        for note in &c.notes {
            println!("    note: {note}");
        }
    }
    println!("  config keys: {}", info.config_keys.join(", "));
    println!("  secrets: {}", info.secret_names.join(", "));
    Ok(())
}
