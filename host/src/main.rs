//! The `helpdesk` binary: serve, demo, reindex, plugin check, user add, openapi.

#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use anyhow::Context;
use helpdesk::accounts::{NewUser, Role};
use helpdesk::{app, config};
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "helpdesk", version, about = "Every social interaction, one live inbox.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Logs on standard error as text, or as one JSON object a line (for a log collector).
    #[arg(long, global = true, env = "HELPDESK_LOG_FORMAT", value_enum, default_value = "text")]
    log_format: LogFormat,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(clap::Args, Clone)]
struct DataArgs {
    /// Data directory (store, search index, compiled plugins).
    #[arg(long, env = "HELPDESK_DATA", default_value = "data")]
    data: PathBuf,
    /// SurrealDB URL instead of the embedded store: `mem://`, `surrealkv://DIR`, or a SurrealDB
    /// server, `ws://HOST:PORT` or `wss://HOST` (several hosts may share one: docs/DEPLOYMENT.md).
    #[arg(long, env = "HELPDESK_STORE")]
    store: Option<String>,
    /// The SurrealDB server's user (a root user) the helpdesk signs in as.
    #[arg(long, env = "HELPDESK_STORE_USER", default_value = "root")]
    store_user: String,
    /// A file holding that user's password (a secret mounted by systemd or the container
    /// runtime; one line, trailing newline ignored). Needed with a `ws://` or `wss://` store.
    #[arg(long, env = "HELPDESK_STORE_PASSWORD_FILE")]
    store_password_file: Option<PathBuf>,
    /// Where compiled plugins are cached (default: DATA/cache).
    #[arg(long, env = "HELPDESK_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
    /// Memory for the embedded store's block cache, in MiB (the store's share of the server's
    /// memory budget; the rest is about 300 MiB plus the memtable, a quarter of this).
    #[arg(long, env = "HELPDESK_STORE_CACHE_MIB", default_value_t = app::DEFAULT_STORE_CACHE_MIB, value_parser = clap::value_parser!(u64).range(16..=1 << 20))]
    store_cache_mib: u64,
}

impl DataArgs {
    fn paths(&self) -> anyhow::Result<app::Paths> {
        let store_login = match &self.store_password_file {
            Some(file) => {
                let password = std::fs::read_to_string(file).with_context(|| format!("cannot read the store's password from {}", file.display()))?;
                let password = password.trim_end_matches(['\r', '\n']).to_string();
                anyhow::ensure!(!password.is_empty(), "the store's password file {} is empty", file.display());
                Some(helpdesk::store::StoreLogin { user: self.store_user.clone(), password })
            }
            None => None,
        };
        Ok(app::Paths { data: self.data.clone(), store: self.store.clone(), cache: self.cache_dir.clone(), store_cache_mib: self.store_cache_mib, store_login })
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
        /// On a fresh install, create this admin (with HELPDESK_FIRST_ADMIN_PASSWORD) instead of
        /// waiting for the setup page.
        #[arg(long, env = "HELPDESK_FIRST_ADMIN_EMAIL")]
        first_admin_email: Option<String>,
        /// The URL people reach the server at (`https://help.example.com`): only its origin may
        /// open the live socket, and with https the session cookie is `Secure` and `__Host-`.
        #[arg(long, env = "HELPDESK_PUBLIC_URL")]
        public_url: Option<String>,
        /// A reverse proxy in front of the server (its IP, repeatable or comma-separated): from
        /// it, the client's address is taken from `X-Forwarded-For` (for sign-in throttling).
        #[arg(long = "trusted-proxy", env = "HELPDESK_TRUSTED_PROXIES", value_delimiter = ',')]
        trusted_proxies: Vec<std::net::IpAddr>,
        /// The key that seals the channel secrets admins enter in the UI (64 hex digits: `openssl
        /// rand -hex 32`), kept apart from the data; or the key itself in HELPDESK_SECRET_KEY.
        #[arg(long, env = "HELPDESK_SECRET_KEY_FILE")]
        secret_key_file: Option<PathBuf>,
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
    /// Write a backup of the whole store (SurrealQL, one consistent moment). From a running
    /// server with `--server` and an admin's API token; else from the store itself (`--data`,
    /// `--store`) with the embedded store's server stopped.
    Backup {
        /// The file to write.
        file: PathBuf,
        /// A running server's URL (`http://127.0.0.1:8080`).
        #[arg(long)]
        server: Option<String>,
        /// A file holding an admin's API token (Users → API tokens); or HELPDESK_TOKEN.
        #[arg(long)]
        token_file: Option<PathBuf>,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Restore a backup into an empty store (a new data directory, or an empty SurrealDB
    /// database), then rebuild the search index from it. Start the server on it afterwards.
    Restore {
        /// The backup file.
        file: PathBuf,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Work with plugin components.
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
    },
    /// Manage users (stop the server first when using the embedded store).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Print the HTTP API's OpenAPI document (the web UI's types are generated from it).
    Openapi,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user who signs in with email and password.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_enum, default_value = "agent")]
        role: helpdesk::accounts::Role,
        /// Read the password from the first line of standard input (otherwise one is generated).
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Subcommand)]
enum PluginCommand {
    /// Load a component, check it implements the channel contract, print what it describes.
    Check { wasm: PathBuf },
    /// Call one export against the real platform and print what it returned, as JSON.
    Run(helpdesk::devkit::RunArgs),
    /// The conformance kit: run the component against recorded exchanges and check the
    /// contract's rules (fixture format: docs/plugins.md).
    Test {
        wasm: PathBuf,
        /// The directory of fixtures (`*.json`, and `defaults.json`).
        #[arg(long)]
        fixtures: PathBuf,
        /// A config value for every case, `key=value` (repeatable).
        #[arg(long = "config", value_name = "KEY=VALUE")]
        config: Vec<String>,
    },
    /// Create a plugin crate that builds to a component and passes the kit.
    New {
        /// The new crate's directory; its last part names the plugin.
        dir: PathBuf,
        /// An SDK checkout to depend on, instead of a copy written beside the plugin.
        #[arg(long)]
        sdk: Option<PathBuf>,
    },
}

fn main() -> std::process::ExitCode {
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        // SurrealDB makes an error (and, when RUST_BACKTRACE is set, a backtrace) for expected
        // outcomes such as an upsert finding its record: 3% of the CPU under a flood of
        // webhooks. Errors do not need backtraces; panics keep theirs.
        // SAFETY: no other thread exists yet.
        unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    match runtime.block_on(run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,tantivy=warn,surrealdb=warn".into()))
        .with_writer(std::io::stderr);
    match cli.log_format {
        // A log file (the demo's, a service's journal) gets plain text, not colour codes.
        LogFormat::Text => logs.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).init(),
        LogFormat::Json => logs.json().with_current_span(true).with_span_list(false).init(),
    }
    match cli.command {
        Command::Serve { config, data, listen, first_admin_email, public_url, trusted_proxies, secret_key_file } => {
            let file = config::PluginsFile::load(&config)?;
            let first_admin = match first_admin_email {
                Some(email) => {
                    let password = std::env::var("HELPDESK_FIRST_ADMIN_PASSWORD")
                        .context("--first-admin-email needs the password in HELPDESK_FIRST_ADMIN_PASSWORD")?;
                    Some(NewUser { name: email.split('@').next().unwrap_or("Admin").to_string(), email, role: Role::Admin, password })
                }
                None => None,
            };
            let vault = helpdesk::sync::vault::Vault::load(secret_key_file.as_deref())?;
            app::serve(file, data.paths()?, listen, app::Seed { first_admin, users: Vec::new(), public_url, trusted_proxies, mail: None, vault: Some(vault) }).await
        }
        #[cfg(feature = "demo")]
        Command::Demo { listen, plugin_dir, every, data } => helpdesk::demo::run(listen, plugin_dir, every, data.paths()?).await,
        #[cfg(not(feature = "demo"))]
        Command::Demo { .. } => {
            anyhow::bail!("this build has no demo: its emulated platforms are test code, left out of a release. Run `./dev demo` (it builds with `--features demo`)")
        }
        Command::Reindex { data } => app::reindex(&data.paths()?).await,
        Command::Backup { file, server, token_file, data } => {
            let source = match server {
                Some(url) => {
                    let token = match token_file {
                        Some(path) => std::fs::read_to_string(&path).with_context(|| format!("cannot read the token file {}", path.display()))?,
                        None => std::env::var("HELPDESK_TOKEN").context("a backup from a server needs an admin's API token: --token-file or HELPDESK_TOKEN")?,
                    };
                    app::BackupSource::Server { url, token: token.trim().to_string() }
                }
                None => app::BackupSource::Store(data.paths()?),
            };
            let bytes = app::backup(source, &file).await.context("the backup failed")?;
            println!("backed up {bytes} bytes to {}", file.display());
            Ok(())
        }
        Command::Restore { file, data } => app::restore(&data.paths()?, &file).await.context("the restore failed"),
        Command::Plugin { command: PluginCommand::Check { wasm } } => {
            helpdesk::devkit::check_plugin(&wasm).await.context("plugin check failed")
        }
        Command::Plugin { command: PluginCommand::Run(args) } => helpdesk::devkit::run_plugin(args).await.context("plugin run failed"),
        Command::Plugin { command: PluginCommand::Test { wasm, fixtures, config } } => {
            let report = helpdesk::devkit::test_plugin(&wasm, &fixtures, &config).await.context("plugin test failed")?;
            for line in &report.passed {
                println!("ok    {line}");
            }
            for line in &report.failed {
                println!("FAIL  {line}");
            }
            println!("{} passed, {} failed", report.passed.len(), report.failed.len());
            anyhow::ensure!(report.failed.is_empty(), "{} of the kit's checks failed", report.failed.len());
            Ok(())
        }
        Command::Plugin { command: PluginCommand::New { dir, sdk } } => helpdesk::devkit::new_plugin(&dir, sdk).context("plugin new failed"),
        Command::User { command: UserCommand::Add { email, name, role, password_stdin, data } } => {
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line).context("cannot read the password from standard input")?;
                Some(line.trim_end_matches(['\r', '\n']).to_string())
            } else {
                None
            };
            app::add_user(&data.paths()?, email, name, role, password).await.context("cannot add the user")
        }
        Command::Openapi => {
            println!("{}", helpdesk::api::openapi_json());
            Ok(())
        }
    }
}
