//! Wires the parts into a running server: store, search, inbox, plugins, channels, API.

use crate::accounts::{Accounts, NewUser, Role, SetupCode};
use crate::api::Presence;
use crate::config::PluginsFile;
use crate::events::EventBus;
use crate::inbox::{indexing, Inbox};
use crate::plugins::Runtime;
use crate::search::SearchIndex;
use crate::store::Store;
use crate::sync::Channels;
use anyhow::Context;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// Where things live and how to reach them.
#[derive(Clone, Debug)]
pub struct Paths {
    pub data: PathBuf,
    /// A SurrealDB URL; default `surrealkv://<data>/store`.
    pub store: Option<String>,
    /// Compiled plugins; default `<data>/cache`.
    pub cache: Option<PathBuf>,
    /// The embedded store's block cache, in MiB (`DEFAULT_STORE_CACHE_MIB`).
    pub store_cache_mib: u64,
    /// How to sign in to a SurrealDB server (`ws://`, `wss://`).
    pub store_login: Option<crate::store::StoreLogin>,
}

/// SurrealKV would otherwise size its block cache to half the machine's memory: 11 GiB here,
/// all of it resident once a large store has been read through.
pub const DEFAULT_STORE_CACHE_MIB: u64 = 512;

impl Paths {
    /// The store's URL; an embedded SurrealKV store gets its cache sizes as URL parameters
    /// (unless the URL sets its own): the block cache, and a memtable of a quarter of it
    /// (64–256 MiB), which holds the newest writes until they are flushed.
    pub fn store_url(&self) -> String {
        let url = self.store.clone().unwrap_or_else(|| format!("surrealkv://{}", self.data.join("store").display()));
        if !url.starts_with("surrealkv://") || url.contains('?') {
            return url;
        }
        let cache = self.store_cache_mib << 20;
        let memtable = (self.store_cache_mib / 4).clamp(64, 256) << 20;
        format!("{url}?surrealkv_block_cache_capacity={cache}&surrealkv_max_memtable_size={memtable}")
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
    Ok(Store::open_as(&paths.store_url(), paths.store_login.as_ref()).await?)
}

/// Users to create at start, and how the server is reached.
#[derive(Default)]
pub struct Seed {
    /// Created unless their email exists (the demo's logins).
    pub users: Vec<NewUser>,
    /// Created as an admin if there are no users at all (unattended installs).
    pub first_admin: Option<NewUser>,
    /// The URL people and platforms reach the server at (`https://help.example.com`): its
    /// origin is the only one allowed to open the live socket, and `https` makes the session
    /// cookie `Secure` and `__Host-`.
    pub public_url: Option<String>,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The key for the secrets admins enter (none: they cannot enter any).
    pub vault: Option<crate::sync::vault::Vault>,
    /// The installation's mail, set as an admin would (the demo's).
    pub mail: Option<crate::consult::MailInput>,
}

/// Connections served at once; past this, new ones wait in the kernel's backlog.
const MAX_CONNECTIONS: usize = 4_096;
/// A client must send its request headers within this long (slowloris).
const HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// How long in-flight requests get to finish on SIGTERM.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// Start everything and serve until SIGTERM or Ctrl-C; requests under way then finish first.
pub async fn serve(file: PluginsFile, paths: Paths, listen: SocketAddr, mut seed: Seed) -> anyhow::Result<()> {
    crate::metrics::install();
    let public_origin = seed.public_url.as_deref().map(public_origin).transpose()?;
    let store = open_store(&paths).await?;
    let search = Arc::new(SearchIndex::open(&paths.index_dir())?);
    let events = EventBus::default();
    let inbox = Arc::new(Inbox::start(store.clone(), search, events.clone()).await?);
    tokio::spawn(wake_snoozed(Arc::downgrade(&inbox)));
    let runtime = Runtime::new(Some(paths.cache_dir()))?;
    let accounts = Accounts::new(store.clone());
    accounts.follow_other_hosts();
    if let Some(admin) = seed.first_admin.filter(|_| seed.users.is_empty()) {
        if !accounts.has_users().await? {
            match accounts.add_user(NewUser { role: Role::Admin, ..admin }).await {
                Ok(admin) => println!("created the first admin: {}", admin.email),
                // Another host on the same store created it a moment before.
                Err(_) if store.is_shared() && accounts.has_users().await.unwrap_or(false) => {}
                Err(e) => return Err(anyhow::Error::from(e).context("cannot create the first admin")),
            }
        }
    }
    for user in seed.users {
        match accounts.add_user(user).await {
            Ok(_) | Err(crate::accounts::AccountError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let vault = seed.vault.take().map(Ok).unwrap_or_else(|| crate::sync::vault::Vault::load(None))?;
    let translator = Arc::new(crate::translation::Translator::new(store.clone(), vault.clone()));
    let vault_for_mail = vault.clone();
    let channels = Channels::start(&file, Arc::new(runtime), vault, inbox.clone(), store, events.clone()).await;
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let setup = if accounts.has_users().await? {
        None
    } else {
        let at = public_origin.clone().unwrap_or_else(|| format!("http://{addr}"));
        Some(Arc::new(SetupCode::new(move |code| {
            println!(
                "No users yet. Create the first admin at {at}/ with setup code {code}\n\
                 (or stop the server and run `helpdesk user add --role admin --email ... --name ...`)."
            )
        })))
    };
    let presence = Arc::new(Presence::new(events.clone()));
    presence.share(inbox.store().clone());
    let media = Arc::new(
        crate::inbox::MediaCache::open(paths.data.join("media"), crate::inbox::DEFAULT_MEDIA_CACHE_BYTES)
            .with_context(|| format!("cannot create the attachment cache in {}", paths.data.display()))?,
    );
    inbox.set_policy(accounts.teams().await?, accounts.channel_hours().await?).await?;
    crate::inbox::targets::watch(inbox.clone(), events.clone());
    if inbox.report_rows_held() == 0 && inbox.store().count("ticket").await? > 0 {
        // A store from before reports were kept: count what it holds, once, in the background.
        let inbox = inbox.clone();
        tokio::spawn(async move {
            match inbox.rebuild_reports().await {
                Ok(n) => tracing::info!(tickets = n, "reports counted from the stored tickets"),
                Err(e) => tracing::warn!(error = %e, "counting the reports from the stored tickets failed"),
            }
        });
    }
    // Contacts stored before links were suggested get their match keys, once, in the background.
    {
        let inbox = inbox.clone();
        tokio::spawn(async move {
            match inbox.key_old_contacts().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(contacts = n, "older contacts keyed for link suggestions"),
                Err(e) => tracing::warn!(error = %e, "keying older contacts for link suggestions failed"),
            }
        });
    }
    // The audit log keeps what its retention says, checked hourly.
    let store = inbox.store().clone();
    tokio::spawn(async move {
        let mut hourly = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            hourly.tick().await;
            if let Err(e) = crate::api::prune_audit(&store).await {
                tracing::warn!(error = %e, "pruning the audit log failed");
            }
        }
    });
    let consultations = crate::consult::Consultations::spawn(inbox.clone(), vault_for_mail, accounts.clone(), public_origin.clone());
    if let Some(mail) = seed.mail.take() {
        consultations.configure(mail).await.context("cannot set the installation's mail")?;
    }
    inbox.follow_other_hosts();
    let router = crate::inbox::routing::Router::spawn(inbox.clone(), accounts.clone(), events.clone());
    let automation = crate::sync::automation::Automation::spawn(inbox.clone(), channels.clone(), accounts.clone(), events.clone());
    let state = crate::api::AppState { inbox, channels, events, accounts, presence, automation, router, media, translator, consultations, setup, public_origin };
    let app = crate::api::router(state);
    // Scripts and tests read this line for the address (the port may have been 0).
    println!("helpdesk listening on http://{addr}");
    run_http(listener, app, Arc::new(seed.trusted_proxies), shutdown_signal()).await;
    println!("helpdesk stopped");
    Ok(())
}

/// `scheme://host[:port]` of a public URL.
fn public_origin(url: &str) -> anyhow::Result<String> {
    let u = reqwest::Url::parse(url).with_context(|| format!("--public-url `{url}` is not a URL"))?;
    anyhow::ensure!(matches!(u.scheme(), "http" | "https"), "--public-url must start with http:// or https://");
    Ok(u.origin().ascii_serialization())
}

async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

/// How often snoozed tickets are looked at: one range query on the index.
const SNOOZE_CHECK: std::time::Duration = std::time::Duration::from_secs(2);

/// Snoozed tickets go back to New when their time comes, for as long as the inbox runs.
async fn wake_snoozed(inbox: std::sync::Weak<Inbox>) {
    loop {
        tokio::time::sleep(SNOOZE_CHECK).await;
        let Some(inbox) = inbox.upgrade() else { return };
        if let Err(e) = inbox.wake_snoozed().await {
            tracing::warn!("snoozed tickets could not be woken (trying again): {e}");
        }
    }
}

/// The HTTP server: hyper with a header timeout, a bound on connections, the peer address for
/// the sign-in throttle, and a graceful stop.
async fn run_http(listener: tokio::net::TcpListener, app: axum::Router, trusted: Arc<Vec<std::net::IpAddr>>, shutdown: impl std::future::Future<Output = ()>) {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use tower::ServiceExt;
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(HEADER_TIMEOUT);
    builder.http2().timer(TokioTimer::new()).max_concurrent_streams(256);
    let builder = Arc::new(builder);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            _ = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors, usually: wait rather than spin.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let (app, trusted) = (app.clone(), trusted.clone());
        let service = hyper::service::service_fn(move |mut req: axum::http::Request<hyper::body::Incoming>| {
            let client = client_addr(remote, req.headers(), &trusted);
            req.extensions_mut().insert(axum::extract::ConnectInfo(client));
            app.clone().oneshot(req)
        });
        let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
            drop(slot);
        });
    }
    drop(listener);
    tracing::info!("stopping: finishing the requests under way");
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await.is_err() {
        tracing::warn!("requests still under way after {SHUTDOWN_GRACE:?}; stopping anyway");
    }
}

/// The client's address: the TCP peer, or behind a trusted proxy the last address in
/// `X-Forwarded-For` that is not one of the proxies (earlier entries are the client's to forge).
fn client_addr(remote: SocketAddr, headers: &axum::http::HeaderMap, trusted: &[std::net::IpAddr]) -> SocketAddr {
    if !trusted.contains(&remote.ip()) {
        return remote;
    }
    let hops: Vec<std::net::IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|hop| hop.trim().parse().ok())
        .collect();
    hops.iter().rev().find(|ip| !trusted.contains(ip)).map(|ip| SocketAddr::new(*ip, 0)).unwrap_or(remote)
}

/// Rebuild the search index from the store, with a progress bar.
pub async fn reindex(paths: &Paths) -> anyhow::Result<()> {
    rebuild_index(&open_store(paths).await?, paths).await
}

async fn rebuild_index(store: &Store, paths: &Paths) -> anyhow::Result<()> {
    let search = SearchIndex::open(&paths.index_dir())?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("reindexing {bar:40} {pos}/{len} tickets ({per_sec}, {eta} left)")
            .expect("valid template"),
    );
    let n = indexing::rebuild(store, &search, |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .await?;
    bar.finish();
    println!("reindexed {n} tickets; the index holds {} documents", search.doc_count());
    Ok(())
}

/// Where a backup is read from: a running server (its API, with an admin's API token), or the
/// store itself (the server stopped, or a SurrealDB server).
pub enum BackupSource {
    Server { url: String, token: String },
    Store(Paths),
}

/// Write a backup to `file` (through `file.partial`, renamed once whole): the bytes written.
pub async fn backup(source: BackupSource, file: &std::path::Path) -> anyhow::Result<u64> {
    use futures::StreamExt;
    use tokio::io::AsyncWriteExt;
    let partial = file.with_extension("partial");
    let mut out = tokio::fs::File::create(&partial).await.with_context(|| format!("cannot write {}", partial.display()))?;
    let mut written = 0u64;
    let result: anyhow::Result<()> = async {
        match source {
            BackupSource::Server { url, token } => {
                let url = format!("{}/api/v1/backup", url.trim_end_matches('/'));
                let response = reqwest::Client::new().get(&url).bearer_auth(token).send().await.with_context(|| format!("cannot reach {url}"))?;
                if !response.status().is_success() {
                    let status = response.status();
                    let body: serde_json::Value = response.json().await.unwrap_or_default();
                    anyhow::bail!("{url} answered {status}: {}", body["message"].as_str().unwrap_or("no reason given"));
                }
                let mut body = response.bytes_stream();
                while let Some(chunk) = body.next().await {
                    let chunk = chunk.context("the backup was cut off")?;
                    out.write_all(&chunk).await?;
                    written += chunk.len() as u64;
                }
            }
            BackupSource::Store(paths) => {
                let store = open_store(&paths).await?;
                anyhow::ensure!(!store.is_shared(), crate::store::backup::SERVER_BACKUP);
                let mut chunks = store.export().await?;
                while let Some(chunk) = chunks.next().await {
                    let chunk = chunk.context("the export failed")?;
                    out.write_all(&chunk).await?;
                    written += chunk.len() as u64;
                }
            }
        }
        out.flush().await?;
        out.sync_all().await?;
        Ok(())
    }
    .await;
    if let Err(e) = result {
        let _ = tokio::fs::remove_file(&partial).await;
        return Err(e);
    }
    tokio::fs::rename(&partial, file).await.with_context(|| format!("cannot write {}", file.display()))?;
    Ok(written)
}

/// Restore a backup into an empty store and rebuild the search index from it.
pub async fn restore(paths: &Paths, file: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(&paths.data).with_context(|| format!("cannot create data dir {}", paths.data.display()))?;
    let store = Store::restore(&paths.store_url(), paths.store_login.as_ref(), file).await?;
    println!("restored {} tickets and {} messages from {}", store.count("ticket").await?, store.count("message").await?, file.display());
    // The index of whatever was here before describes other tickets: rebuilt from the store.
    let index = paths.index_dir();
    if index.exists() {
        std::fs::remove_dir_all(&index).with_context(|| format!("cannot clear the old index {}", index.display()))?;
    }
    rebuild_index(&store, paths).await
}

/// Create a user from the command line. Without a password given, one is generated and printed.
pub async fn add_user(paths: &Paths, email: String, name: String, role: Role, password: Option<String>) -> anyhow::Result<()> {
    let store = open_store(paths).await?;
    let generated = password.is_none();
    // 128 bits from the OS.
    let password = password.unwrap_or_else(|| crate::accounts::random_secret()[..32].to_string());
    let user = Accounts::new(store).add_user(NewUser { email, name, role, password: password.clone() }).await?;
    println!("created {:?} {} <{}>", user.role, user.name, user.email);
    if generated {
        println!("password: {password}  (shown once; change it by signing in)");
    }
    Ok(())
}
