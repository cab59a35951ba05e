//! Search latency of agents' queries over the same inbox in: this helpdesk (Tantivy + a page
//! of tickets from SurrealDB, as `GET /api/v1/tickets` does), SurrealDB's own full-text index,
//! and PostgreSQL with `ILIKE` (what Chatwoot does) and with its full-text search.

use crate::stats::{summarize, Summary};
use crate::workload::Workload;
use helpdesk::events::EventBus;
use helpdesk::inbox::Inbox;
use helpdesk::search::{SearchIndex, TicketDoc, TicketQuery};
use helpdesk::store::{Store, WriteBatch};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One agent query, expressible in every engine.
#[derive(Clone)]
pub struct AgentQuery {
    pub name: &'static str,
    pub words: Vec<&'static str>,
    pub phrase: bool,
    pub queue: Option<&'static str>,
    pub platform: Option<&'static str>,
    pub tag: Option<&'static str>,
}

pub fn agent_queries() -> Vec<AgentQuery> {
    let q = |name, words: Vec<&'static str>, phrase, queue, platform, tag| AgentQuery { name, words, phrase, queue, platform, tag };
    vec![
        q("word: refund", vec!["refund"], false, None, None, None),
        q("word + queue: delivery in New", vec!["delivery"], false, Some("new"), None, None),
        q("two words: parcel broken", vec!["parcel", "broken"], false, None, None, None),
        q("phrase: \"order late\"", vec!["order", "late"], true, None, None, None),
        q("non-English word: Rückerstattung", vec!["Rückerstattung"], false, None, None, None),
        q("rare: an order number", vec!["54321"], false, None, None, None),
        q("filters: New on instagram", vec![], false, Some("new"), Some("instagram"), None),
        q("filters: tag vip in Pending", vec![], false, Some("pending"), None, Some("vip")),
    ]
}

impl AgentQuery {
    pub fn tantivy(&self) -> TicketQuery {
        let text = if self.words.is_empty() {
            None
        } else if self.phrase {
            Some(format!("\"{}\"", self.words.join(" ")))
        } else {
            Some(self.words.join(" "))
        };
        TicketQuery {
            q: text,
            queue: self.queue.map(Into::into),
            platform: self.platform.map(Into::into),
            tag: self.tag.map(Into::into),
            limit: Some(50),
            ..Default::default()
        }
    }
}

pub struct Loaded {
    pub inbox: Inbox,
    pub store: Store,
    pub load_time: Duration,
    pub index_time: Duration,
    _dir: tempfile::TempDir,
}

/// Write the workload through the store's own batch path, and index it.
pub async fn load(w: &Workload) -> anyhow::Result<Loaded> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(&format!("surrealkv://{}", dir.path().join("store").display())).await?;
    let search = Arc::new(SearchIndex::open(&dir.path().join("index"))?);
    let (mut load_time, mut index_time) = (Duration::ZERO, Duration::ZERO);
    for chunk in w.chunks() {
        let started = Instant::now();
        for part in chunk.messages.chunks(1_000) {
            store.write(&WriteBatch { new_messages: part.to_vec(), ..Default::default() }).await?;
        }
        for part in chunk.tickets.chunks(1_000) {
            store.write(&WriteBatch { new_tickets: part.to_vec(), ..Default::default() }).await?;
        }
        load_time += started.elapsed();

        let started = Instant::now();
        let mut texts: HashMap<&str, Vec<(String, String)>> = HashMap::new();
        for m in &chunk.messages {
            texts.entry(m.ticket_id.as_str()).or_default().push((m.interaction.author.name.clone(), m.interaction.text.clone()));
        }
        let docs: Vec<TicketDoc> = chunk.tickets.iter().map(|t| TicketDoc { texts: texts.remove(t.id.as_str()).unwrap_or_default(), ticket: t.clone() }).collect();
        search.upsert(&docs)?;
        index_time += started.elapsed();
    }
    let started = Instant::now();
    // Each ticket was last changed by its own write (see the workload).
    search.commit(w.ticket_count() as i64)?;
    index_time += started.elapsed();
    // Reopened, the index is no longer one this process created empty: the inbox would
    // otherwise rebuild it from the store on start.
    drop(search);
    let search = Arc::new(SearchIndex::open(&dir.path().join("index"))?);
    let inbox = Inbox::start(store.clone(), search, EventBus::default()).await?;
    Ok(Loaded { inbox, store, load_time, index_time, _dir: dir })
}

pub struct Rebuilt {
    pub tickets: u64,
    pub time: Duration,
    /// Tickets per second over the first and the last tenth: equal if a page costs the same
    /// wherever it is in the table.
    pub first_tenth: f64,
    pub last_tenth: f64,
}

/// `helpdesk reindex`: a fresh index rebuilt from the loaded store.
pub async fn rebuild(l: &Loaded) -> anyhow::Result<Rebuilt> {
    let dir = tempfile::tempdir()?;
    let search = SearchIndex::open(dir.path())?;
    let started = Instant::now();
    let marks = std::sync::Mutex::new(Vec::<(u64, Duration)>::new());
    let tickets = helpdesk::inbox::indexing::rebuild(&l.store, &search, |done, _| marks.lock().unwrap().push((done, started.elapsed()))).await?;
    let time = started.elapsed();
    let marks = marks.into_inner().unwrap();
    let at = |fraction: f64| marks.iter().find(|(d, _)| *d as f64 >= fraction * tickets as f64).copied().unwrap_or((tickets, time));
    let rate = |(d0, t0): (u64, Duration), (d1, t1): (u64, Duration)| (d1 - d0) as f64 / (t1 - t0).as_secs_f64().max(1e-9);
    Ok(Rebuilt { tickets, time, first_tenth: rate((0, Duration::ZERO), at(0.1)), last_tenth: rate(at(0.9), (tickets, time)) })
}

pub async fn helpdesk(l: &Loaded, q: &AgentQuery, reps: usize) -> anyhow::Result<(Summary, usize)> {
    let tq = q.tantivy();
    let mut samples = Vec::new();
    let mut total = 0;
    l.inbox.list(&tq).await?; // warm-up
    for _ in 0..reps {
        let started = Instant::now();
        let (t, page) = l.inbox.list(&tq).await?;
        samples.push(started.elapsed());
        total = t;
        std::hint::black_box(page);
    }
    Ok((summarize(samples), total))
}

/// SurrealDB's own full-text index on message text (BM25), then the same filters and order.
pub async fn surreal_define_fts(l: &Loaded) -> anyhow::Result<Duration> {
    let started = Instant::now();
    l.store
        .raw()
        .query("DEFINE ANALYZER bench_text TOKENIZERS blank,class FILTERS lowercase; DEFINE INDEX bench_fts ON message FIELDS text FULLTEXT ANALYZER bench_text BM25;")
        .await?
        .check()?;
    Ok(started.elapsed())
}

pub async fn surreal(l: &Loaded, q: &AgentQuery, reps: usize) -> anyhow::Result<Summary> {
    let mut filters = Vec::new();
    if let Some(v) = q.queue {
        filters.push(format!("queue = '{v}'"));
    }
    if let Some(v) = q.platform {
        filters.push(format!("platform = '{v}'"));
    }
    if let Some(v) = q.tag {
        filters.push(format!("tags CONTAINS '{v}'"));
    }
    let filter = if filters.is_empty() { String::new() } else { format!("WHERE {}", filters.join(" AND ")) };
    let sql = if q.words.is_empty() {
        format!("SELECT id, last_message_at FROM ticket {filter} ORDER BY last_message_at DESC LIMIT 50;")
    } else {
        // SurrealDB has no phrase query: the phrase runs as its words.
        format!(
            "LET $ids = array::distinct((SELECT VALUE ticket_id FROM message WHERE text @@ $q));
             SELECT id, last_message_at FROM array::map($ids, |$i| type::record('ticket', $i)) {filter} ORDER BY last_message_at DESC LIMIT 50;"
        )
    };
    let mut samples = Vec::new();
    l.store.raw().query(sql.clone()).bind(("q", q.words.join(" "))).await?.check()?; // warm-up
    for _ in 0..reps {
        let started = Instant::now();
        l.store.raw().query(sql.clone()).bind(("q", q.words.join(" "))).await?.check()?;
        samples.push(started.elapsed());
    }
    Ok(summarize(samples))
}
