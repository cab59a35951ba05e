//! The `helpdesk` binary: serve, demo, reindex, plugin check.

use anyhow::Context;
use helpdesk::{app, config, demo};
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "helpdesk", version, about = "Every social interaction, one live inbox.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct DataArgs {
    /// Data directory (store, search index, compiled plugins).
    #[arg(long, env = "HELPDESK_DATA", default_value = "data")]
    data: PathBuf,
    /// SurrealDB URL instead of the embedded store: `mem://`, `surrealkv://DIR`, `ws://HOST:PORT`.
    #[arg(long, env = "HELPDESK_STORE")]
    store: Option<String>,
    /// Where compiled plugins are cached (default: DATA/cache).
    #[arg(long, env = "HELPDESK_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
}

impl DataArgs {
    fn paths(&self) -> app::Paths {
        app::Paths { data: self.data.clone(), store: self.store.clone(), cache: self.cache_dir.clone() }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run the helpdesk.
    Serve {
        /// The channels to run.
        #[arg(long, env = "HELPDESK_CONFIG", default_value = "plugins.toml")]
        config: PathBuf,
        #[command(flatten)]
        data: DataArgs,
        #[arg(long, env = "HELPDESK_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
    },
    /// Run the helpdesk with emulated platforms sending live traffic, for a first look.
    Demo {
        #[arg(long, env = "HELPDESK_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Where the demo's compiled plugins are (default: plugins/dist).
        #[arg(long, env = "HELPDESK_PLUGIN_DIR", default_value = "plugins/dist")]
        plugin_dir: PathBuf,
        /// Seconds between customer messages, on average.
        #[arg(long, default_value_t = 4.0)]
        every: f64,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Rebuild the search index from the store (stop the server first).
    Reindex {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Work with plugin components.
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
    },
}

#[derive(Subcommand)]
enum PluginCommand {
    /// Load a component, check it implements the channel contract, print what it describes.
    Check { wasm: PathBuf },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,tantivy=warn,surrealdb=warn".into()))
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Serve { config, data, listen } => {
            let file = config::PluginsFile::load(&config)?;
            app::serve(file, data.paths(), listen).await
        }
        Command::Demo { listen, plugin_dir, every, data } => demo::run(listen, plugin_dir, every, data.paths()).await,
        Command::Reindex { data } => app::reindex(&data.paths()).await,
        Command::Plugin { command: PluginCommand::Check { wasm } } => {
            app::check_plugin(&wasm).await.context("plugin check failed")
        }
    }
}
