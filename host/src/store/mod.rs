//! SurrealDB, the source of truth: schema, the one-transaction batch write, and queries.
//!
//! Every record is keyed by a deterministic id (see `model::stable_id`), so writing an
//! interaction twice writes the same record. `seq` is a change counter: every ticket and
//! message written in a batch carries the batch's number, which the search index uses as
//! its watermark.

mod audit;
mod kv;
mod lease;
pub mod migrate;
pub mod backup;
mod recent;
mod records;

pub use audit::AuditFilter;
pub use lease::host_id;
use crate::model::{Activity, Contact, Message, Note, Ticket};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicI64, Ordering};
use surrealdb::engine::any::Any;
use surrealdb::types::RecordId;
use surrealdb::Surreal;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another writer (another host on the same store) changed what this write was planned
    /// from, or committed a later change first: nothing was written; plan again and retry.
    #[error("the write conflicted with another: {0}")]
    Conflict(String),
    /// The channel's poll lease passed to another host: this host's page is not written.
    #[error("{0}")]
    Fenced(String),
    #[error("database error: {0}")]
    Db(#[from] surrealdb::Error),
    #[error("stored data could not be read: {0}")]
    Decode(#[from] serde_json::Error),
    #[error("cannot open the store at `{url}`: {message}")]
    Open { url: String, message: String },
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// The tables and their indexes. Every secondary index costs each write of its table about as
/// much as the record itself: messages keep only the one their pages are read by (`ticket_id,
/// page` also serves `ticket_id` alone); the change counter on start comes from `ticket_seq`.
/// The COUNT indexes keep the tables' sizes, which `status` reads (otherwise a scan of every
/// record: 170 ms at 1M tickets).
const SCHEMA: &str = "
DEFINE TABLE IF NOT EXISTS ticket SCHEMALESS;
DEFINE INDEX IF NOT EXISTS ticket_seq ON ticket FIELDS seq;
DEFINE INDEX IF NOT EXISTS ticket_thread ON ticket FIELDS channel, thread_key;
DEFINE TABLE IF NOT EXISTS message SCHEMALESS;
DEFINE INDEX IF NOT EXISTS message_page ON message FIELDS ticket_id, page;
REMOVE INDEX IF EXISTS message_ticket ON message;
DEFINE INDEX IF NOT EXISTS ticket_count ON ticket COUNT;
DEFINE INDEX IF NOT EXISTS message_count ON message COUNT;
REMOVE INDEX IF EXISTS message_seq ON message;
DEFINE TABLE IF NOT EXISTS contact SCHEMALESS;
DEFINE INDEX IF NOT EXISTS contact_person ON contact FIELDS person;
-- `.*`: one entry per key, so `match_keys CONTAINSANY [...]` reads the index, not the table.
DEFINE INDEX IF NOT EXISTS contact_match ON contact FIELDS match_keys.*;
DEFINE TABLE IF NOT EXISTS contact_note SCHEMALESS;
DEFINE INDEX IF NOT EXISTS contact_note_contact ON contact_note FIELDS contact_id;
DEFINE TABLE IF NOT EXISTS contact_merge SCHEMALESS;
DEFINE INDEX IF NOT EXISTS contact_merge_moved ON contact_merge FIELDS moved.*.contact;
DEFINE TABLE IF NOT EXISTS activity SCHEMALESS;
DEFINE INDEX IF NOT EXISTS activity_ticket ON activity FIELDS ticket_id;
DEFINE TABLE IF NOT EXISTS channel_state SCHEMALESS;
DEFINE TABLE IF NOT EXISTS lease SCHEMALESS;
DEFINE TABLE IF NOT EXISTS presence SCHEMALESS;
DEFINE TABLE IF NOT EXISTS kv SCHEMALESS;
DEFINE INDEX IF NOT EXISTS kv_channel ON kv FIELDS channel;
DEFINE TABLE IF NOT EXISTS user SCHEMALESS;
DEFINE INDEX IF NOT EXISTS user_email ON user FIELDS email UNIQUE;
DEFINE TABLE IF NOT EXISTS session SCHEMALESS;
DEFINE INDEX IF NOT EXISTS session_user ON session FIELDS user_id;
DEFINE TABLE IF NOT EXISTS idempotency SCHEMALESS;
DEFINE TABLE IF NOT EXISTS api_token SCHEMALESS;
DEFINE TABLE IF NOT EXISTS availability SCHEMALESS;
DEFINE TABLE IF NOT EXISTS available_span SCHEMALESS;
DEFINE INDEX IF NOT EXISTS available_span_ended ON available_span FIELDS ended;
DEFINE TABLE IF NOT EXISTS report SCHEMALESS;
DEFINE TABLE IF NOT EXISTS audit SCHEMALESS;
DEFINE INDEX IF NOT EXISTS audit_at ON audit FIELDS at;
DEFINE TABLE IF NOT EXISTS team SCHEMALESS;
DEFINE TABLE IF NOT EXISTS settings SCHEMALESS;
DEFINE TABLE IF NOT EXISTS saved_reply SCHEMALESS;
DEFINE TABLE IF NOT EXISTS response_target SCHEMALESS;
DEFINE TABLE IF NOT EXISTS rule SCHEMALESS;
DEFINE TABLE IF NOT EXISTS rule_fired SCHEMALESS;
DEFINE TABLE IF NOT EXISTS channel_answer SCHEMALESS;
DEFINE TABLE IF NOT EXISTS notification_prefs SCHEMALESS;
DEFINE INDEX IF NOT EXISTS api_token_user ON api_token FIELDS user_id;
DEFINE TABLE IF NOT EXISTS invitation SCHEMALESS;
DEFINE TABLE IF NOT EXISTS note SCHEMALESS;
DEFINE INDEX IF NOT EXISTS note_ticket ON note FIELDS ticket_id;
DEFINE INDEX IF NOT EXISTS note_created ON note FIELDS created_at;
DEFINE TABLE IF NOT EXISTS consultation SCHEMALESS;
DEFINE INDEX IF NOT EXISTS consultation_ticket ON consultation FIELDS ticket_id;
DEFINE TABLE IF NOT EXISTS meta SCHEMALESS;
DEFINE TABLE IF NOT EXISTS channel_secret SCHEMALESS;
DEFINE INDEX IF NOT EXISTS channel_secret_channel ON channel_secret FIELDS channel;
DEFINE TABLE IF NOT EXISTS channel_config SCHEMALESS;
DEFINE TABLE IF NOT EXISTS channel_change SCHEMALESS;
DEFINE INDEX IF NOT EXISTS channel_change_channel ON channel_change FIELDS channel;
DEFINE INDEX IF NOT EXISTS channel_change_at ON channel_change FIELDS at;
-- Files agents send with replies: the record, and its bytes in chunks (`inbox::files`).
DEFINE TABLE IF NOT EXISTS file SCHEMALESS;
DEFINE TABLE IF NOT EXISTS file_chunk SCHEMALESS;
";

/// Everything one ingest batch or agent action changes, written in one transaction.
#[derive(Default, Debug)]
pub struct WriteBatch {
    /// Messages not stored yet: inserted (the fast path; an existing id fails the batch).
    pub new_messages: Vec<Message>,
    /// Stored messages that changed (edits, removals).
    pub messages: Vec<Message>,
    /// Tickets not stored yet.
    pub new_tickets: Vec<Ticket>,
    pub tickets: Vec<Ticket>,
    pub contacts: Vec<Contact>,
    pub activities: Vec<Activity>,
    /// The poll cursors covering this batch, by channel, saved with it.
    pub cursors: Vec<(String, String)>,
    /// The report rows this batch moves (documents with their `id`), replaced whole.
    pub reports: Vec<Value>,
    /// Audit log entries (platform actions), appended.
    pub audit: Vec<crate::model::AuditEntry>,
    /// Contacts linked into a person (or a link undone), replaced whole.
    pub contact_merges: Vec<crate::model::ContactMerge>,
    /// The change number its tickets and messages carry (`Store::next_seq`; 0: none).
    pub seq: i64,
    /// The poll leases (channel, epoch) its cursors were fetched under: the write fails
    /// (`StoreError::Fenced`) if another host has taken one over since.
    pub fences: Vec<(String, i64)>,
    /// The report rows it replaces, with the version each had when read (0: none): on a shared
    /// store the write fails (`StoreError::Conflict`) if another host changed one since.
    pub reports_read: Vec<(String, i64)>,
    /// The stored tickets it rewrites, with the change number each had when read: on a shared
    /// store the write fails (`StoreError::Conflict`) if another host changed one since.
    pub read_tickets: Vec<(String, i64)>,
}

impl WriteBatch {
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
            && self.new_messages.is_empty()
            && self.tickets.is_empty()
            && self.new_tickets.is_empty()
            && self.contacts.is_empty()
            && self.activities.is_empty()
            && self.cursors.is_empty()
            && self.reports.is_empty()
            && self.audit.is_empty()
            && self.contact_merges.is_empty()
    }
}

/// Credentials for a SurrealDB server (`ws://`, `wss://`): a root user's, from a secret file.
#[derive(Clone)]
pub struct StoreLogin {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for StoreLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StoreLogin({}, <password>)", self.user)
    }
}

/// Whether `url` names a SurrealDB server rather than an embedded store.
pub fn is_server_url(url: &str) -> bool {
    ["ws://", "wss://"].iter().any(|s| url.starts_with(s))
}

/// A connection to `url` in the helpdesk's namespace and database, signed in when it is a server.
async fn connect(url: &str, login: Option<&StoreLogin>) -> Result<Surreal<Any>> {
    let open_err = |message: String| StoreError::Open { url: url.to_string(), message };
    let db = surrealdb::engine::any::connect(url).await.map_err(|e| open_err(e.to_string()))?;
    if is_server_url(url) {
        let Some(login) = login else {
            return Err(open_err("a SurrealDB server needs a user and a password (`--store-user`, `--store-password-file`)".into()));
        };
        let root = surrealdb::opt::auth::Root { username: login.user.clone(), password: login.password.clone() };
        db.signin(root).await.map_err(|e| open_err(format!("the server refused the sign-in as `{}`: {e}", login.user)))?;
    }
    // Hosts starting at once on a new server each create the namespace and database: one of
    // them may lose that race, and tries again.
    again_on_conflict(|| db.use_ns("helpdesk").use_db("helpdesk").into_future()).await.map_err(|e| open_err(e.to_string()))?;
    Ok(db)
}

/// Run `attempt` again, a moment later, while it loses to a transaction of another host (or of
/// this one) on the same records: each use is a step that is right to repeat whole.
async fn again_on_conflict<T, Fut>(mut attempt: impl FnMut() -> Fut) -> std::result::Result<T, surrealdb::Error>
where
    Fut: std::future::Future<Output = std::result::Result<T, surrealdb::Error>>,
{
    let mut tries = 0;
    loop {
        match attempt().await {
            Err(e) if is_conflict(&e) && tries < 20 => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(5 + fastrand::u64(..50 * tries))).await;
            }
            other => return other,
        }
    }
}

/// `check`, answering with the statement that failed a transaction rather than the first of
/// those it left unexecuted (which say only "not executed due to a failed transaction").
fn checked(mut r: surrealdb::IndexedResults) -> std::result::Result<surrealdb::IndexedResults, surrealdb::Error> {
    let mut errors: Vec<(usize, surrealdb::Error)> = r.take_errors().into_iter().collect();
    if errors.is_empty() {
        return Ok(r);
    }
    errors.sort_by_key(|(n, _)| *n);
    let knock_on = |e: &surrealdb::Error| e.query_details().is_some_and(|d| matches!(d, surrealdb::types::QueryError::NotExecuted | surrealdb::types::QueryError::Cancelled));
    let at = errors.iter().position(|(_, e)| !knock_on(e)).unwrap_or(0);
    Err(errors.swap_remove(at).1)
}

/// A transaction that lost to another (SurrealDB's conflict, or our own check's `THROW`):
/// retrying it may succeed.
fn is_conflict(e: &surrealdb::Error) -> bool {
    e.query_details().is_some_and(|d| matches!(d, surrealdb::types::QueryError::TransactionConflict))
        || (e.is_thrown() && e.to_string().contains("conflict:"))
}

pub struct Store {
    /// On a server, one handle for every clone of the store: SurrealDB's client opens a new
    /// server session per clone of a `Surreal`, replaying the sign-in on each. Embedded, a
    /// session per clone, as before: queries of one session wait for each other.
    db: std::sync::Arc<Surreal<Any>>,
    /// A SurrealDB server other hosts may write to as well: change numbers come from the store,
    /// writes check what they were planned from, and nothing is kept in memory.
    shared: bool,
    /// On a shared store, the change numbers this host committed that its follower has not
    /// passed yet (`inbox::follow`): its own changes it does not take in twice.
    written_here: std::sync::Arc<std::sync::Mutex<std::collections::BTreeSet<i64>>>,
    /// The change number the follower has taken in every change up to.
    followed: std::sync::Arc<AtomicI64>,
    seq: std::sync::Arc<AtomicI64>,
    /// The plugins' kv usage per channel, for its quotas (`kv.rs`).
    kv_usage: std::sync::Arc<tokio::sync::Mutex<std::collections::HashMap<String, kv::Usage>>>,
    recent_tickets: std::sync::Arc<recent::Recent<Ticket>>,
    recent_contacts: std::sync::Arc<recent::Recent<Contact>>,
    /// Opened tickets' messages, history, notes and thread, by ticket: every agent viewing a
    /// busy ticket opens it again at each change.
    recent_parts: std::sync::Arc<recent::Recent<HeldParts>>,
}

#[derive(Clone)]
struct HeldParts {
    pages: std::ops::RangeInclusive<u32>,
    /// The post's (channel, thread key): a change to any of its tickets changes the thread.
    thread: Option<(String, String)>,
    parts: TicketParts,
}

/// The other tickets of a post the ticket view shows.
pub const THREAD: usize = 50;

/// See `Store::ticket_parts`.
#[derive(Clone)]
pub struct TicketParts {
    pub messages: Vec<Message>,
    pub activity: Vec<Activity>,
    pub notes: Vec<Note>,
    pub thread: Vec<Ticket>,
}

/// A stored message as the search index reads it in a rebuild.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredLine {
    pub ticket: String,
    pub page: u32,
    pub author: String,
    pub text: String,
}

/// Pages read per round trip by `page_texts` (the catch-up and the live indexer's pages not
/// held). Measured when the rebuild read this way: 16 a 20,000-ticket rebuild in 8.5 s, 64 in
/// 7.7 s; 4 round trips at once, 5.7 s; 8 at once no faster.
const PAGES_PER_QUERY: usize = 64;
/// Round trips of pages under way at once (`page_lines`).
const READS_AT_ONCE: usize = 4;

/// The runtime writes execute on. SurrealDB 3.3's local engine runs a query inside the task
/// that awaits it, and a write of a few hundred records holds its worker for milliseconds: on
/// threads of their own, writes leave the server's workers to agents' reads and webhooks
/// (the operating system shares the cores between both).
fn writer() -> &'static tokio::runtime::Runtime {
    static WRITER: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    WRITER.get_or_init(|| tokio::runtime::Builder::new_multi_thread().worker_threads(1).thread_name("store-writer").enable_all().build().expect("a runtime for store writes"))
}

/// Tickets and contacts each kept in memory once read (`recent.rs`): a few MiB each.
const RECENT: usize = 10_000;

impl Clone for Store {
    fn clone(&self) -> Self {
        Store {
            db: self.handle(),
            shared: self.shared,
            written_here: self.written_here.clone(),
            followed: self.followed.clone(),
            seq: self.seq.clone(),
            kv_usage: self.kv_usage.clone(),
            recent_tickets: self.recent_tickets.clone(),
            recent_contacts: self.recent_contacts.clone(),
            recent_parts: self.recent_parts.clone(),
        }
    }
}

/// Opened tickets kept (`recent_parts`): up to two pages of messages each.
const RECENT_PARTS: usize = 500;

impl Store {
    /// Open `url`: `surrealkv://DIR` (embedded, on disk), `mem://` (tests), or a server.
    pub async fn open(url: &str) -> Result<Self> {
        Self::open_as(url, None).await
    }

    /// `open`, signing in to a SurrealDB server with `login`.
    pub async fn open_as(url: &str, login: Option<&StoreLogin>) -> Result<Self> {
        Self::with_db(connect(url, login).await?, url, is_server_url(url)).await
    }

    /// An in-memory store that behaves as one shared by several hosts (tests).
    #[cfg(test)]
    pub async fn shared_in_memory() -> Store {
        Store::with_db(connect("mem://", None).await.unwrap(), "mem://", true).await.unwrap()
    }

    /// Another host's handle on the same shared store: the same data, its own memory (tests).
    #[cfg(test)]
    pub fn as_another_host(&self) -> Store {
        Store {
            written_here: Default::default(),
            followed: std::sync::Arc::new(AtomicI64::new(self.current_seq())),
            seq: std::sync::Arc::new(AtomicI64::new(self.current_seq())),
            kv_usage: Default::default(),
            ..self.clone()
        }
    }

    /// The database handle for a task of its own (see `db`).
    fn handle(&self) -> std::sync::Arc<Surreal<Any>> {
        if self.shared { self.db.clone() } else { std::sync::Arc::new((*self.db).clone()) }
    }

    /// Whether other hosts may write to this store too.
    pub fn is_shared(&self) -> bool {
        self.shared
    }

    /// The store on a connection already in `helpdesk/helpdesk`: its schema, its layout, its
    /// change counter.
    async fn with_db(db: Surreal<Any>, url: &str, shared: bool) -> Result<Self> {
        let db = std::sync::Arc::new(db);
        // Hosts starting at once on a new shared store define the same schema and counters:
        // each step is idempotent, so one that lost to another's is run again.
        let mut tries = 0;
        loop {
            match Self::prepare(db.clone(), url, shared).await {
                Err(StoreError::Db(e)) if is_conflict(&e) && tries < 20 => {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(5 + fastrand::u64(..50 * tries))).await;
                }
                other => return other,
            }
        }
    }

    async fn prepare(db: std::sync::Arc<Surreal<Any>>, url: &str, shared: bool) -> Result<Self> {
        db.query(SCHEMA).await.and_then(checked)?;
        fn recent<T: Clone>(shared: bool, n: usize) -> std::sync::Arc<recent::Recent<T>> {
            std::sync::Arc::new(if shared { recent::Recent::off() } else { recent::Recent::new(n) })
        }
        let store = Store {
            db,
            shared,
            written_here: Default::default(),
            followed: Default::default(),
            seq: Default::default(),
            kv_usage: Default::default(),
            recent_tickets: recent(shared, RECENT),
            recent_contacts: recent(shared, RECENT),
            recent_parts: recent(shared, RECENT_PARTS),
        };
        store.migrate(url).await?;
        // Every write that changes a message touches its ticket with the same change number,
        // so the tickets' newest is the store's.
        let mut r = store.db.query("SELECT VALUE seq FROM ticket ORDER BY seq DESC LIMIT 1").await?.check()?;
        let newest: Vec<Value> = r.take(0)?;
        let max = newest.first().and_then(Value::as_i64).unwrap_or(0);
        store.seq.store(max, Ordering::SeqCst);
        store.followed.store(max, Ordering::SeqCst);
        if shared {
            // The counters hosts share: handed out (`meta:seq`) and committed (`meta:committed`),
            // from the tickets' newest for a store written before it had them.
            store
                .db
                .query("UPSERT meta:seq SET n = math::max([n ?? 0, $max]) RETURN NONE; UPSERT meta:committed SET n = math::max([n ?? 0, $max]) RETURN NONE;")
                .bind(("max", max))
                .await
                .and_then(checked)?;
        }
        Ok(store)
    }

    /// The database itself, for tools (benchmarks, migrations) that need plain SurrealQL.
    pub fn raw(&self) -> &Surreal<Any> {
        &self.db
    }

    /// The next change number. Writers take one per batch. On a shared store it comes from
    /// the store, so that no two hosts hand out the same (ids derive from it).
    pub async fn next_seq(&self) -> Result<i64> {
        if !self.shared {
            return Ok(self.seq.fetch_add(1, Ordering::SeqCst) + 1);
        }
        // Two hosts taking one at the same moment: one of them takes the next.
        let mut r = again_on_conflict(|| async { self.db.query("UPSERT ONLY meta:seq SET n += 1 RETURN VALUE n").await.and_then(checked) }).await?;
        let n: Option<i64> = r.take(0)?;
        let n = n.ok_or_else(|| StoreError::Conflict("the store handed out no change number".into()))?;
        self.seq.fetch_max(n, Ordering::SeqCst);
        Ok(n)
    }

    /// Whether a record read with change number `seq` holds another host's change that the
    /// follower has not taken in yet (shared stores).
    pub fn unseen_change(&self, seq: i64) -> bool {
        self.shared && seq > self.followed.load(Ordering::SeqCst) && !self.wrote_here(seq)
    }

    /// Whether this host committed the change numbered `seq` (shared stores).
    pub fn wrote_here(&self, seq: i64) -> bool {
        self.written_here.lock().expect("not poisoned").contains(&seq)
    }

    /// The follower has taken in every change up to `seq`.
    pub fn saw(&self, seq: i64) {
        self.seq.fetch_max(seq, Ordering::SeqCst);
        self.followed.fetch_max(seq, Ordering::SeqCst);
        let mut own = self.written_here.lock().expect("not poisoned");
        *own = own.split_off(&(seq + 1));
    }

    /// The newest change number handed out (on a shared store: by this host, or seen).
    pub fn current_seq(&self) -> i64 {
        self.seq.load(Ordering::SeqCst)
    }

    /// Write a batch atomically: its records and its cursors, or nothing. Callers write one batch
    /// at a time (the inbox's write lock): the tickets and contacts kept in memory rely on it.
    pub async fn write(&self, batch: &WriteBatch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        // Only the statements this batch needs: SurrealDB plans each one (about 0.1 ms), which
        // costs more than writing a record. Stored records are replaced in one loop (an UPDATE
        // changes only the index entries whose fields changed: half the cost of deleting and
        // inserting them). Tickets and messages are never deleted, so a stored one is there to
        // update.
        let mut q = String::from("BEGIN TRANSACTION;\n");
        let mut vars = serde_json::Map::new();
        if self.shared && batch.seq > 0 {
            // Changes commit in the order of their numbers, whichever host wrote them: a host
            // following the store reads every change after the last one it saw. Every write
            // reads and moves `meta:committed`, so two at once conflict and one plans again.
            q.push_str("IF (SELECT VALUE n FROM ONLY meta:committed) >= $seq { THROW 'conflict: a later change was committed first' };\n");
            q.push_str("UPSERT meta:committed SET n = $seq RETURN NONE;\n");
            vars.insert("seq".into(), json!(batch.seq));
        }
        if !batch.fences.is_empty() {
            q.push_str("FOR $f IN $fences { IF (SELECT VALUE epoch FROM ONLY type::record('lease', $f[0])) != $f[1] { THROW 'fenced: channel ' + $f[0] + ' is polled by another host now' } };\n");
            vars.insert("fences".into(), json!(batch.fences));
        }
        if self.shared && !batch.reports_read.is_empty() {
            q.push_str("FOR $r IN $reports_read { IF ((SELECT VALUE v FROM ONLY type::record('report', $r[0])) ?? 0) != $r[1] { THROW 'conflict: report row ' + $r[0] + ' was changed by another writer' } };\n");
            vars.insert("reports_read".into(), json!(batch.reports_read));
        }
        if self.shared && !batch.read_tickets.is_empty() {
            q.push_str("FOR $t IN $read_tickets { IF (SELECT VALUE seq FROM ONLY type::record('ticket', $t[0])) != $t[1] { THROW 'conflict: ticket ' + $t[0] + ' was changed by another writer' } };\n");
            vars.insert("read_tickets".into(), json!(batch.read_tickets));
        }
        // Contacts and activities may or may not be stored yet: those are upserted.
        let tables: [(&str, Vec<Value>, Vec<Value>, &str); 7] = [
            ("message", docs(&batch.new_messages)?, docs(&batch.messages)?, "UPDATE"),
            ("ticket", docs(&batch.new_tickets)?, docs(&batch.tickets)?, "UPDATE"),
            ("contact", Vec::new(), docs(&batch.contacts)?, "UPSERT"),
            ("activity", Vec::new(), docs(&batch.activities)?, "UPSERT"),
            ("report", Vec::new(), batch.reports.clone(), "UPSERT"),
            ("audit", docs(&batch.audit)?, Vec::new(), "UPSERT"),
            ("contact_merge", Vec::new(), docs(&batch.contact_merges)?, "UPSERT"),
        ];
        for (table, new, stored, verb) in tables {
            if !stored.is_empty() {
                q.push_str(&format!("FOR $r IN $old_{table} {{ {verb} type::record('{table}', $r.id) CONTENT $r RETURN NONE; }};\n"));
                vars.insert(format!("old_{table}"), Value::Array(stored));
            }
            if !new.is_empty() {
                // A new record whose id is already stored fails the insert, and so the batch.
                q.push_str(&format!("INSERT INTO {table} $rows_{table} RETURN NONE;\n"));
                vars.insert(format!("rows_{table}"), Value::Array(new));
            }
        }
        if !batch.cursors.is_empty() {
            q.push_str("FOR $c IN $cursors { UPSERT type::record('channel_state', $c[0]) MERGE { cursor: $c[1] } RETURN NONE; };\n");
            vars.insert("cursors".into(), json!(batch.cursors));
        }
        q.push_str("COMMIT TRANSACTION;");
        let vars = Value::Object(vars);
        let db = self.handle();
        let written = match writer().spawn(async move { db.query(q).bind(vars).await.and_then(checked).map(drop) }).await {
            Ok(answer) => answer,
            Err(e) => Err(surrealdb::Error::internal(format!("the write was interrupted: {e}"))),
        };
        self.forget_parts(batch);
        if written.is_ok() && batch.seq > 0 {
            self.seq.fetch_max(batch.seq, Ordering::SeqCst);
            if self.shared {
                self.written_here.lock().expect("not poisoned").insert(batch.seq);
            }
        }
        if written.is_ok() {
            self.recent_tickets.written(batch.new_tickets.iter().chain(&batch.tickets).map(|t| (t.id.clone(), t.clone())));
            self.recent_contacts.written(batch.contacts.iter().map(|c| (c.id.clone(), c.clone())));
        } else {
            // Even a failed write may have committed (the answer was lost, not the transaction).
            self.recent_tickets.forget(batch.new_tickets.iter().chain(&batch.tickets).map(|t| t.id.as_str()));
            self.recent_contacts.forget(batch.contacts.iter().map(|c| c.id.as_str()));
        }
        written.map_err(|e| match () {
            _ if is_conflict(&e) => StoreError::Conflict(e.to_string()),
            // Another host stored the same new ticket or message first: plan again from it.
            _ if self.shared && e.is_already_exists() => StoreError::Conflict(e.to_string()),
            _ if e.is_thrown() && e.to_string().contains("fenced:") => StoreError::Fenced(e.to_string()),
            _ => e.into(),
        })?;
        Ok(())
    }

    pub async fn messages(&self, ids: &[String]) -> Result<Vec<Message>> {
        self.by_ids("message", ids).await
    }

    /// The tickets of these ids that exist, in the order asked.
    pub async fn tickets(&self, ids: &[String]) -> Result<Vec<Ticket>> {
        self.by_ids_recent("ticket", ids, &self.recent_tickets, |t| &t.id).await
    }

    pub async fn contacts(&self, ids: &[String]) -> Result<Vec<Contact>> {
        self.by_ids_recent("contact", ids, &self.recent_contacts, |c| &c.id).await
    }

    /// `by_ids`, answered from memory for the records read recently (`recent.rs`).
    async fn by_ids_recent<T: DeserializeOwned + Clone>(
        &self,
        table: &str,
        ids: &[String],
        recent: &recent::Recent<T>,
        id_of: fn(&T) -> &String,
    ) -> Result<Vec<T>> {
        let (held, generation) = recent.get(ids);
        let missing: Vec<String> = ids.iter().zip(&held).filter(|(_, h)| h.is_none()).map(|(id, _)| id.clone()).collect();
        let read: Vec<T> = self.by_ids(table, &missing).await?;
        recent.keep(generation, read.iter().map(|r| (id_of(r).clone(), r.clone())));
        let mut read: std::collections::HashMap<String, T> = read.into_iter().map(|r| (id_of(&r).clone(), r)).collect();
        Ok(ids.iter().zip(held).filter_map(|(id, h)| h.or_else(|| read.remove(id))).collect())
    }

    pub async fn ticket(&self, id: &str) -> Result<Option<Ticket>> {
        Ok(self.tickets(&[id.to_string()]).await?.pop())
    }

    /// One page of a ticket's messages (`model::PAGE_MESSAGES`), oldest first.
    pub async fn ticket_page(&self, ticket_id: &str, page: u32) -> Result<Vec<Message>> {
        let mut r = self
            .db
            .query("SELECT *, record::id(id) AS id FROM message WHERE ticket_id = $t AND page = $p ORDER BY created_at, seq, ordinal")
            .bind(("t", ticket_id.to_string()))
            .bind(("p", page as i64))
            .await?
            .check()?;
        decode(r.take::<Vec<Value>>(0)?)
    }

    /// What the ticket view shows besides the ticket and its contact, in one round trip:
    /// these pages of its messages (oldest first), its activity, its notes (oldest first)
    /// and, when `thread` is asked, up to `THREAD` other tickets of its post, newest first.
    pub async fn ticket_parts(&self, ticket: &Ticket, pages: std::ops::RangeInclusive<u32>, thread: bool) -> Result<TicketParts> {
        let thread_key = thread.then(|| (ticket.channel.clone(), ticket.thread_key.clone()));
        let (held, generation) = self.recent_parts.get(std::slice::from_ref(&ticket.id));
        if let Some(held) = held.into_iter().flatten().next().filter(|h| h.pages == pages && h.thread == thread_key) {
            return Ok(held.parts);
        }
        let parts = self.read_ticket_parts(ticket, pages.clone(), thread).await?;
        self.recent_parts.keep(generation, [(ticket.id.clone(), HeldParts { pages, thread: thread_key, parts: parts.clone() })]);
        Ok(parts)
    }

    /// Forget the opened tickets a write changed: their messages, history or thread.
    fn forget_parts(&self, batch: &WriteBatch) {
        let tickets: std::collections::HashSet<&str> = batch
            .new_messages
            .iter()
            .chain(&batch.messages)
            .map(|m| m.ticket_id.as_str())
            .chain(batch.activities.iter().map(|a| a.ticket_id.as_str()))
            .chain(batch.new_tickets.iter().chain(&batch.tickets).map(|t| t.id.as_str()))
            .collect();
        if tickets.is_empty() {
            return;
        }
        let threads: std::collections::HashSet<(&str, &str)> =
            batch.new_tickets.iter().chain(&batch.tickets).map(|t| (t.channel.as_str(), t.thread_key.as_str())).collect();
        self.recent_parts.forget_where(|id, held| {
            tickets.contains(id) || held.thread.as_ref().is_some_and(|(c, k)| threads.contains(&(c.as_str(), k.as_str())))
        });
    }

    async fn read_ticket_parts(&self, ticket: &Ticket, pages: std::ops::RangeInclusive<u32>, thread: bool) -> Result<TicketParts> {
        let mut q = String::new();
        let mut vars = serde_json::Map::new();
        let mut pages_asked = 0;
        for (n, page) in pages.enumerate() {
            q.push_str(&format!(
                "SELECT *, record::id(id) AS id FROM message WHERE ticket_id = $t AND page = $p{n} ORDER BY created_at, seq, ordinal;"
            ));
            vars.insert(format!("p{n}"), json!(page));
            pages_asked += 1;
        }
        q.push_str(
            "SELECT *, record::id(id) AS id FROM activity WHERE ticket_id = $t ORDER BY at;
             SELECT *, record::id(id) AS id FROM note WHERE ticket_id = $t ORDER BY created_at;",
        );
        if thread {
            q.push_str("SELECT *, record::id(id) AS id FROM ticket WHERE channel = $c AND thread_key = $k ORDER BY last_message_at DESC LIMIT $n;");
            vars.insert("c".into(), json!(ticket.channel));
            vars.insert("k".into(), json!(ticket.thread_key));
            vars.insert("n".into(), json!(THREAD + 1));
        }
        vars.insert("t".into(), json!(ticket.id));
        let mut r = self.db.query(q).bind(Value::Object(vars)).await?.check()?;
        let mut messages = Vec::new();
        for n in 0..pages_asked {
            messages.extend(decode::<Message>(r.take::<Vec<Value>>(n)?)?);
        }
        let activity = decode(r.take::<Vec<Value>>(pages_asked)?)?;
        let notes = decode(r.take::<Vec<Value>>(pages_asked + 1)?)?;
        let mut others: Vec<Ticket> = if thread { decode(r.take::<Vec<Value>>(pages_asked + 2)?)? } else { Vec::new() };
        others.retain(|t| t.id != ticket.id);
        others.truncate(THREAD);
        Ok(TicketParts { messages, activity, notes, thread: others })
    }

    /// Tickets changed after `seq`, in change order, about `limit` at a time (for the search
    /// index to catch up, or to rebuild from nothing). A page holds whole writes: a write's
    /// tickets share one change number, and a caller resumes after the page's last one.
    /// Pages walk the `seq` index, so each costs the same however deep into the table it is.
    pub async fn tickets_changed_since(&self, seq: i64, limit: usize) -> Result<Vec<Ticket>> {
        let mut r = self
            .db
            .query("SELECT *, record::id(id) AS id FROM ticket WHERE seq > $s ORDER BY seq LIMIT $n")
            .bind(("s", seq))
            .bind(("n", limit as i64))
            .await?
            .check()?;
        let mut page: Vec<Ticket> = decode(r.take::<Vec<Value>>(0)?)?;
        if page.len() == limit {
            let last = page.last().map(|t| t.seq).unwrap_or(seq);
            page.retain(|t| t.seq != last);
            page.extend(self.select::<Ticket, _>("SELECT *, record::id(id) AS id FROM ticket WHERE seq = $s", ("s", last)).await?);
        }
        Ok(page)
    }

    /// Tickets in id order after `after` (from the first when `None`), `limit` at a time. A
    /// record range, not a filter: each page costs the same however deep into the table it is
    /// (`WHERE id > …` scans the table from its start).
    pub async fn tickets_in_id_order(&self, after: Option<&str>, limit: usize) -> Result<Vec<Ticket>> {
        let q = match after {
            None => "SELECT *, record::id(id) AS id FROM ticket LIMIT $n",
            Some(_) => "SELECT *, record::id(id) AS id FROM type::record('ticket', $a>..) LIMIT $n",
        };
        let mut r = self.db.query(q).bind(("a", after.unwrap_or_default().to_string())).bind(("n", limit as i64)).await?.check()?;
        decode(r.take::<Vec<Value>>(0)?)
    }

    /// The searchable lines (not removed) of every ticket whose id is after `after` and up to
    /// `last`, ticket by ticket and page by page: one walk along the `message_page` index for
    /// a run of `tickets_in_id_order`, where a lookup per page costs a query each.
    /// What the reports count of the messages of tickets after `after` up to `last` (in id
    /// order): each one's ticket, direction, time and sender.
    pub async fn message_facts(&self, after: Option<&str>, last: &str) -> Result<Vec<(String, crate::model::Direction, i64, Option<String>)>> {
        let q = match after {
            None => "SELECT VALUE [ticket_id, direction, created_at, sent_by] FROM message WHERE ticket_id <= $b AND removed = false",
            Some(_) => "SELECT VALUE [ticket_id, direction, created_at, sent_by] FROM message WHERE ticket_id > $a AND ticket_id <= $b AND removed = false",
        };
        let mut r = self.db.query(q).bind(("a", after.unwrap_or_default().to_string())).bind(("b", last.to_string())).await?.check()?;
        decode(r.take::<Vec<Value>>(0)?)
    }

    pub async fn lines_of_tickets(&self, after: Option<&str>, last: &str) -> Result<Vec<StoredLine>> {
        let q = match after {
            None => "SELECT VALUE [ticket_id, page, author.name, text] FROM message WHERE ticket_id <= $b AND removed = false",
            Some(_) => "SELECT VALUE [ticket_id, page, author.name, text] FROM message WHERE ticket_id > $a AND ticket_id <= $b AND removed = false",
        };
        let mut r = self.db.query(q).bind(("a", after.unwrap_or_default().to_string())).bind(("b", last.to_string())).await?.check()?;
        let rows: Vec<(String, u32, Option<String>, Option<String>)> = decode(r.take::<Vec<Value>>(0)?)?;
        Ok(rows
            .into_iter()
            .map(|(ticket, page, author, text)| StoredLine { ticket, page, author: author.unwrap_or_default(), text: text.unwrap_or_default() })
            .collect())
    }

    /// One round trip to the store: it answers (a server store may be unreachable).
    pub async fn ping(&self) -> Result<()> {
        self.db.query("RETURN 1").await?.check()?;
        Ok(())
    }

    pub async fn count(&self, table: &str) -> Result<u64> {
        let mut r = self.db.query(format!("SELECT count() AS n FROM {table} GROUP ALL")).await?.check()?;
        let v: Vec<Value> = r.take(0)?;
        Ok(v.first().and_then(|row| row["n"].as_u64()).unwrap_or(0))
    }

    /// The text of the messages on these pages of tickets, for the search index: (author, text)
    /// per message, in the order of `pages`.
    pub async fn page_texts(&self, pages: &[(String, u32)]) -> Result<Vec<Vec<(String, String)>>> {
        Ok(self.page_lines(pages).await?.into_iter().map(|lines| lines.into_iter().map(|(_, a, t)| (a, t)).collect()).collect())
    }

    /// `page_texts` with each message's id: (id, author, text).
    pub async fn page_lines(&self, pages: &[(String, u32)]) -> Result<Vec<Vec<(String, String, String)>>> {
        if pages.is_empty() {
            return Ok(Vec::new());
        }
        // One indexed lookup per page, a few pages per round trip. (`ticket_id IN $ids` reads
        // faster on a small store but scans the whole message table: 10M rows a page at 1M
        // tickets.) Not all in one round trip: SurrealDB copies every bound variable into each
        // statement's context, so N statements with 2N variables cost N² (most of a rebuild).
        // A few round trips at once: SurrealDB runs each on its own task, so a rebuild's reads
        // use every core.
        let chunks: Vec<&[(String, u32)]> = pages.chunks(PAGES_PER_QUERY).collect();
        let mut out = Vec::with_capacity(pages.len());
        for group in chunks.chunks(READS_AT_ONCE) {
            let mut reads = Vec::with_capacity(group.len());
            for chunk in group {
                reads.push(self.page_lines_once(chunk));
            }
            out.extend(futures::future::try_join_all(reads).await?.into_iter().flatten());
        }
        Ok(out)
    }

    async fn page_lines_once(&self, chunk: &[(String, u32)]) -> Result<Vec<Vec<(String, String, String)>>> {
        let q: String = (0..chunk.len())
            .map(|n| format!("SELECT record::id(id) AS id, author.name AS author, text FROM message WHERE ticket_id = $t{n} AND page = $p{n} AND removed = false;"))
            .collect();
        let mut vars = serde_json::Map::new();
        for (n, (ticket, page)) in chunk.iter().enumerate() {
            vars.insert(format!("t{n}"), json!(ticket));
            vars.insert(format!("p{n}"), json!(page));
        }
        let mut r = self.db.query(q).bind(Value::Object(vars)).await?.check()?;
        let mut out = Vec::with_capacity(chunk.len());
        for n in 0..chunk.len() {
            let rows: Vec<Value> = r.take(n)?;
            out.push(
                rows.into_iter()
                    .map(|v| {
                        let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
                        (s("id"), s("author"), s("text"))
                    })
                    .collect(),
            );
        }
        Ok(out)
    }

    /// The saved poll cursor of a channel.
    pub async fn cursor(&self, channel: &str) -> Result<Option<String>> {
        let mut r = self
            .db
            .query("SELECT VALUE cursor FROM type::record('channel_state', $c)")
            .bind(("c", channel.to_string()))
            .await?
            .check()?;
        let v: Vec<Value> = r.take(0)?;
        Ok(v.into_iter().find_map(|c| c.as_str().map(str::to_string)))
    }

    async fn by_ids<T: DeserializeOwned>(&self, table: &str, ids: &[String]) -> Result<Vec<T>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<RecordId> = ids.iter().map(|id| RecordId::new(table, id.as_str())).collect();
        self.select("SELECT *, record::id(id) AS id FROM $ids", ("ids", ids)).await
    }

    async fn select<T: DeserializeOwned, V: surrealdb::types::SurrealValue>(&self, q: &str, var: (&str, V)) -> Result<Vec<T>> {
        let mut r = self.db.query(q.to_string()).bind((var.0.to_string(), var.1)).await?.check()?;
        decode(r.take::<Vec<Value>>(0)?)
    }
}

fn decode<T: DeserializeOwned>(rows: Vec<Value>) -> Result<Vec<T>> {
    rows.into_iter().map(|v| serde_json::from_value(v).map_err(StoreError::from)).collect()
}

/// Documents for `INSERT`: their string `id` becomes the record id.
fn docs<T: Serialize>(items: &[T]) -> Result<Vec<Value>> {
    Ok(items.iter().map(serde_json::to_value).collect::<std::result::Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_records_written_before_the_count_index_existed() {
        let store = Store::open("mem://").await.unwrap();
        store.db.query("REMOVE INDEX message_count ON message; CREATE message:a SET seq = 1; CREATE message:b SET seq = 2;").await.unwrap().check().unwrap();
        // An older store opened by this version.
        store.db.query(SCHEMA).await.unwrap().check().unwrap();
        assert_eq!(store.count("message").await.unwrap(), 2);
        store.db.query("CREATE message:c SET seq = 3; DELETE message:a;").await.unwrap().check().unwrap();
        assert_eq!(store.count("message").await.unwrap(), 2);
    }

    #[tokio::test]
    async fn a_write_saves_the_cursor_of_each_channel_it_carries() {
        let store = Store::open("mem://").await.unwrap();
        let cursors = vec![("a".to_string(), "17".to_string()), ("b".to_string(), "x:9".to_string())];
        store.write(&WriteBatch { cursors, ..Default::default() }).await.unwrap();
        store.write(&WriteBatch { cursors: vec![("a".into(), "18".into())], ..Default::default() }).await.unwrap();
        assert_eq!(store.cursor("a").await.unwrap().as_deref(), Some("18"));
        assert_eq!(store.cursor("b").await.unwrap().as_deref(), Some("x:9"));
        assert_eq!(store.cursor("c").await.unwrap(), None);
    }

    #[tokio::test]
    async fn counts_what_was_written() {
        let store = Store::open("mem://").await.unwrap();
        assert_eq!(store.count("ticket").await.unwrap(), 0);
        store.db.query("CREATE ticket:a SET seq = 1; CREATE ticket:b SET seq = 2;").await.unwrap().check().unwrap();
        assert_eq!(store.count("ticket").await.unwrap(), 2);
    }

    fn ticket(id: &str, seq: i64) -> Ticket {
        serde_json::from_value(json!({
            "id": id, "channel": "c", "platform": "telegram", "kind": "private_message",
            "queue": "new", "contact_id": "u", "contact": {"id": "u", "name": "U"}, "thread_key": format!("k{id}"),
            "preview": "", "message_count": 1, "created_at": 0, "updated_at": 0, "last_message_at": 0,
            "last_inbound_at": null, "tags": [], "assignee": null, "flagged": false, "from_ad": false, "seq": seq
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn an_id_walk_covers_every_ticket_once_with_exactly_its_searchable_lines() {
        let store = Store::open("mem://").await.unwrap();
        let ids: Vec<String> = (0..23).map(|n| crate::model::stable_id("c", &format!("thread:{n}"))).collect();
        store.write(&WriteBatch { new_tickets: ids.iter().map(|id| ticket(id, 1)).collect(), ..Default::default() }).await.unwrap();
        let mut q = String::new();
        for (n, id) in ids.iter().enumerate() {
            for m in 0..n % 4 {
                let removed = m == 2;
                q.push_str(&format!(
                    "CREATE type::record('message', '{id}-{m}') SET ticket_id = '{id}', page = {}, author = {{ name: 'A{m}' }}, text = 'text {n} {m}', removed = {removed};",
                    m % 2
                ));
            }
        }
        store.db.query(q).await.unwrap().check().unwrap();

        let mut seen = Vec::new();
        let mut lines = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let step = store.tickets_in_id_order(after.as_deref(), 5).await.unwrap();
            let Some(last) = step.last().map(|t| t.id.clone()) else { break };
            let read = store.lines_of_tickets(after.as_deref(), &last).await.unwrap();
            assert!(read.iter().all(|l| step.iter().any(|t| t.id == l.ticket)), "a step reads only its own tickets' lines");
            lines.extend(read);
            seen.extend(step.into_iter().map(|t| t.id));
            after = Some(last);
        }
        let mut expected_ids = ids.clone();
        expected_ids.sort();
        assert_eq!(seen, expected_ids, "every ticket once, in id order");
        let mut got: Vec<String> = lines.iter().map(|l| format!("{}/{} {}: {}", l.ticket, l.page, l.author, l.text)).collect();
        got.sort();
        let mut expected: Vec<String> = ids
            .iter()
            .enumerate()
            .flat_map(|(n, id)| (0..n % 4).filter(|m| *m != 2).map(move |m| format!("{id}/{} A{m}: text {n} {m}", m % 2)))
            .collect();
        expected.sort();
        assert_eq!(got, expected, "every line not removed, once");
    }

    #[tokio::test]
    async fn change_pages_cover_every_ticket_once_and_never_split_a_write() {
        let store = Store::open("mem://").await.unwrap();
        // Writes of various sizes (one change number each), one of them larger than a page.
        let mut n = 0;
        for (seq, size) in [(1, 1), (2, 3), (3, 7), (4, 12), (5, 1), (6, 3)] {
            let tickets: Vec<Ticket> = (0..size)
                .map(|_| {
                    n += 1;
                    ticket(&format!("t{n:03}"), seq)
                })
                .collect();
            store.write(&WriteBatch { new_tickets: tickets, ..Default::default() }).await.unwrap();
        }
        let mut seen = Vec::new();
        let mut after = 0;
        loop {
            let page = store.tickets_changed_since(after, 5).await.unwrap();
            let Some(last) = page.last() else { break };
            assert!(page.iter().all(|t| t.seq > after), "nothing at or before the resume point");
            after = last.seq;
            seen.extend(page.iter().map(|t| t.id.clone()));
        }
        assert_eq!(seen.len(), n, "every ticket once: {seen:?}");
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), n, "no ticket twice");
    }

    #[tokio::test]
    async fn a_page_of_a_long_conversation_is_read_by_its_index_not_by_scanning_the_ticket() {
        let store = Store::open("mem://").await.unwrap();
        let mut r = store
            .db
            .query("EXPLAIN SELECT record::id(id) AS id, author.name AS author, text FROM message WHERE ticket_id = 't' AND page = 3 AND removed = false")
            .await
            .unwrap();
        let plan: Vec<Value> = r.take(0).unwrap();
        let plan = serde_json::to_string(&plan).unwrap();
        assert!(plan.contains("message_page"), "{plan}");
    }
}
