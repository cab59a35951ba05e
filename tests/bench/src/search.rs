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
#[derive(Clone, Default)]
pub struct AgentQuery {
    pub name: &'static str,
    pub words: Vec<&'static str>,
    pub phrase: bool,
    /// Words no message of the ticket may have.
    pub without: Vec<&'static str>,
    pub queue: Option<&'static str>,
    pub platform: Option<&'static str>,
    pub tag: Option<&'static str>,
    pub assignee: Option<&'static str>,
    /// Last message within these days before the workload's "now".
    pub days: Option<(i64, i64)>,
    /// A customer's handle.
    pub contact: Option<&'static str>,
    pub oldest_first: bool,
}

pub fn agent_queries() -> Vec<AgentQuery> {
    let q = |name, words: Vec<&'static str>| AgentQuery { name, words, ..Default::default() };
    vec![
        q("word: refund", vec!["refund"]),
        AgentQuery { queue: Some("new"), ..q("word + queue: delivery in New", vec!["delivery"]) },
        q("two words: parcel broken", vec!["parcel", "broken"]),
        AgentQuery { phrase: true, ..q("phrase: \"order late\"", vec!["order", "late"]) },
        q("non-English word: Rückerstattung", vec!["Rückerstattung"]),
        q("rare: an order number", vec!["54321"]),
        AgentQuery { queue: Some("new"), platform: Some("instagram"), ..q("filters: New on instagram", vec![]) },
        AgentQuery { queue: Some("pending"), tag: Some("vip"), ..q("filters: tag vip in Pending", vec![]) },
        AgentQuery { tag: Some("billing"), assignee: Some("agent2"), ..q("tag + assignee: billing, agent2's", vec![]) },
        AgentQuery { days: Some((14, 7)), ..q("date range: refund, last week but one", vec!["refund"]) },
        AgentQuery { without: vec!["broken"], ..q("negation: refund -broken", vec!["refund"]) },
        AgentQuery { oldest_first: true, queue: Some("new"), ..q("oldest first: New", vec![]) },
        AgentQuery { contact: Some("cust4242"), ..q("a customer's handle: cust4242", vec![]) },
    ]
}

/// The workload's "now" (`workload.rs`), for date ranges.
pub const NOW: i64 = crate::workload::NOW;

impl AgentQuery {
    pub fn tantivy(&self) -> TicketQuery {
        let mut text: Vec<String> = Vec::new();
        if self.phrase {
            text.push(format!("\"{}\"", self.words.join(" ")));
        } else {
            text.extend(self.words.iter().map(|w| w.to_string()));
        }
        text.extend(self.without.iter().map(|w| format!("-{w}")));
        text.extend(self.contact.iter().map(|c| format!("contact:{c}")));
        TicketQuery {
            q: (!text.is_empty()).then(|| text.join(" ")),
            queue: self.queue.map(Into::into),
            platform: self.platform.map(Into::into),
            tag: self.tag.map(Into::into),
            assignee: self.assignee.map(Into::into),
            from: self.days.map(|(from, _)| NOW - from * 86_400_000),
            to: self.days.map(|(_, to)| NOW - to * 86_400_000),
            sort: self.oldest_first.then_some(helpdesk::search::Sort::Oldest),
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
    dir: tempfile::TempDir,
}

impl Loaded {
    /// Close the store and the index, leaving their files (`store/`, `index/`) to a server.
    pub async fn close(self) -> (tempfile::TempDir, Duration, Duration) {
        let Loaded { inbox, store, load_time, index_time, dir } = self;
        drop((inbox, store));
        // The embedded engine and the indexer's task wind down after their last handle.
        tokio::time::sleep(Duration::from_secs(3)).await;
        (dir, load_time, index_time)
    }

    /// Open what `close` left (and a server may have added to) again.
    pub async fn reopen(dir: tempfile::TempDir, load_time: Duration, index_time: Duration) -> anyhow::Result<Loaded> {
        let store = Store::open(&crate::env::store_url(dir.path())).await?;
        let search = Arc::new(SearchIndex::open(&dir.path().join("index"))?);
        let inbox = Inbox::start(store.clone(), search, EventBus::default()).await?;
        Ok(Loaded { inbox, store, load_time, index_time, dir })
    }
}

/// Write the workload through the store's own batch path, and index it.
pub async fn load(w: &Workload) -> anyhow::Result<Loaded> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(&crate::env::store_url(dir.path())).await?;
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
    Ok(Loaded { inbox, store, load_time, index_time, dir })
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
    if let Some(v) = q.assignee {
        filters.push(format!("assignee = '{v}'"));
    }
    if let Some((from, to)) = q.days {
        filters.push(format!("last_message_at >= {} AND last_message_at < {}", NOW - from * 86_400_000, NOW - to * 86_400_000));
    }
    if let Some(v) = q.contact {
        filters.push(format!("contact.handle = '{v}'"));
    }
    if !q.without.is_empty() {
        filters.push("record::id(id) NOTINSIDE $without".into());
    }
    let filter = if filters.is_empty() { String::new() } else { format!("WHERE {}", filters.join(" AND ")) };
    let order = if q.oldest_first { "ASC" } else { "DESC" };
    let without = if q.without.is_empty() {
        String::new()
    } else {
        "LET $without = array::distinct((SELECT VALUE ticket_id FROM message WHERE text @@ $not));".into()
    };
    let sql = if q.words.is_empty() {
        format!("{without} SELECT id, last_message_at FROM ticket {filter} ORDER BY last_message_at {order} LIMIT 50;")
    } else {
        // SurrealDB has no phrase query: the phrase runs as its words.
        format!(
            "{without} LET $ids = array::distinct((SELECT VALUE ticket_id FROM message WHERE text @@ $q));
             SELECT id, last_message_at FROM array::map($ids, |$i| type::record('ticket', $i)) {filter} ORDER BY last_message_at {order} LIMIT 50;"
        )
    };
    let mut samples = Vec::new();
    let run = || l.store.raw().query(sql.clone()).bind(("q", q.words.join(" "))).bind(("not", q.without.join(" ")));
    run().await?.check()?; // warm-up
    for _ in 0..reps {
        let started = Instant::now();
        run().await?.check()?;
        samples.push(started.elapsed());
    }
    Ok(summarize(samples))
}
