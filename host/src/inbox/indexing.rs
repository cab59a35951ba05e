//! Keeps the search index following the store: near-real-time after each write, catch-up
//! from the watermark on start, and full rebuilds.

use crate::model::Ticket;
use crate::search::{PageDoc, SearchError, SearchIndex, TicketDoc};
use crate::store::{Store, StoreError, StoredLine};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// Tickets changed by the store write numbered `seq`, and the full pages of long tickets
/// whose messages it changed (a page that just filled up, an edit deep in a conversation).
pub struct IndexJob {
    pub tickets: Vec<String>,
    pub pages: Vec<(String, u32)>,
    /// Every message the write stored or changed, as the index reads it.
    pub lines: Vec<Line>,
    pub seq: i64,
    /// The pages held for these tickets may be stale (another host on a shared store wrote
    /// to them): read again from the store.
    pub elsewhere: bool,
}

/// A message as its page's search document holds it.
#[derive(Clone, Debug)]
pub struct Line {
    pub ticket: String,
    pub page: u32,
    pub message: String,
    pub author: String,
    pub text: String,
    /// Removed messages are not searchable.
    pub removed: bool,
}

impl Line {
    pub fn of(m: &crate::model::Message) -> Line {
        Line {
            ticket: m.ticket_id.clone(),
            page: m.page,
            message: m.id.clone(),
            author: m.interaction.author.name.clone(),
            text: m.interaction.text.clone(),
            removed: m.removed,
        }
    }
}

/// The searchable lines of the pages indexed lately, as the store holds them, so that a new
/// message re-indexes its ticket's page without reading the page back from the store (which
/// cost 15 record reads per new message at 15 messages a page, and more as pages fill).
/// Only the indexing task uses it, in the order the writes committed.
pub struct PageTexts {
    pages: lru::LruCache<(String, u32), Vec<(String, String, String)>>,
    bytes: usize,
    budget: usize,
}

impl PageTexts {
    pub fn new(budget: usize) -> Self {
        PageTexts { pages: lru::LruCache::unbounded(), bytes: 0, budget }
    }

    /// Apply a write's lines to the pages held (pages not held are read whole when needed).
    fn apply(&mut self, lines: &[Line]) {
        for l in lines {
            let Some(page) = self.pages.get_mut(&(l.ticket.clone(), l.page)) else { continue };
            let before: usize = page.iter().map(size).sum();
            page.retain(|(id, _, _)| *id != l.message);
            if !l.removed {
                page.push((l.message.clone(), l.author.clone(), l.text.clone()));
            }
            let after: usize = page.iter().map(size).sum();
            self.bytes = self.bytes + after - before;
        }
        self.shrink();
    }

    /// The (author, text) of each page, reading from the store the pages not held.
    async fn texts(&mut self, store: &Store, pages: &[(String, u32)]) -> Result<Vec<Vec<(String, String)>>, IndexingError> {
        let missing: Vec<(String, u32)> = pages.iter().filter(|p| !self.pages.contains(*p)).cloned().collect();
        let read = store.page_lines(&missing).await?;
        for (key, lines) in missing.into_iter().zip(read) {
            self.bytes += lines.iter().map(size).sum::<usize>();
            self.pages.put(key, lines);
        }
        let out = pages
            .iter()
            .map(|p| self.pages.get(p).map(|lines| lines.iter().map(|(_, a, t)| (a.clone(), t.clone())).collect()).unwrap_or_default())
            .collect();
        self.shrink();
        Ok(out)
    }

    fn shrink(&mut self) {
        while self.bytes > self.budget {
            let Some((_, lines)) = self.pages.pop_lru() else { break };
            self.bytes -= lines.iter().map(size).sum::<usize>();
        }
    }

    /// Drop the pages held of these tickets (changed where this host did not see the lines).
    fn forget(&mut self, tickets: &BTreeSet<String>) {
        let gone: Vec<(String, u32)> = self.pages.iter().filter(|((t, _), _)| tickets.contains(t)).map(|(k, _)| k.clone()).collect();
        for key in gone {
            if let Some(lines) = self.pages.pop(&key) {
                self.bytes -= lines.iter().map(size).sum::<usize>();
            }
        }
    }

    fn clear(&mut self) {
        self.pages.clear();
        self.bytes = 0;
    }
}

fn size((id, author, text): &(String, String, String)) -> usize {
    id.len() + author.len() + text.len() + 72
}

/// Memory for `PageTexts`: the open pages of some 50,000 busy conversations.
const PAGE_TEXTS_BUDGET: usize = 64 << 20;

/// Commits are spaced at least this far apart; a change is searchable within about this long.
const COMMIT_INTERVAL: Duration = Duration::from_millis(250);

#[derive(Debug, thiserror::Error)]
pub enum IndexingError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Search(#[from] SearchError),
    #[error("a read of the rebuild stopped: {0}")]
    Read(#[from] tokio::task::JoinError),
}

/// The longest a reader waits for the index to show writes made before it asked.
const READ_WAIT: Duration = Duration::from_secs(2);

/// The inbox's end of the indexing task: hands it jobs, and lets readers wait until what was
/// written before they asked is searchable, so a list fetched after a "ticket created" event
/// shows that ticket.
pub struct Indexer {
    jobs: mpsc::UnboundedSender<IndexJob>,
    /// The newest change number handed to the task.
    requested: AtomicI64,
    /// The newest change number searchable.
    visible: watch::Receiver<i64>,
}

impl Indexer {
    pub fn send(&self, job: IndexJob) {
        self.requested.fetch_max(job.seq, Ordering::SeqCst);
        let _ = self.jobs.send(job);
    }

    /// Wait (at most `READ_WAIT`, then read what is there) until every change handed over so
    /// far is searchable.
    pub async fn caught_up(&self) {
        let wanted = self.requested.load(Ordering::SeqCst);
        let mut visible = self.visible.clone();
        let _ = tokio::time::timeout(READ_WAIT, visible.wait_for(|v| *v >= wanted)).await;
    }
}

/// Start the task that indexes changed tickets as the inbox writes them.
pub fn spawn(store: Store, search: Arc<SearchIndex>) -> Indexer {
    let (tx, mut rx) = mpsc::unbounded_channel::<IndexJob>();
    let (visible_tx, visible) = watch::channel(0);
    tokio::spawn(async move {
        let mut last_commit = Instant::now() - COMMIT_INTERVAL;
        let mut held = PageTexts::new(PAGE_TEXTS_BUDGET);
        while let Some(first) = rx.recv().await {
            tokio::time::sleep_until((last_commit + COMMIT_INTERVAL).into()).await;
            let mut ids: BTreeSet<String> = first.tickets.into_iter().collect();
            let mut pages: BTreeSet<(String, u32)> = first.pages.into_iter().collect();
            let mut lines = first.lines;
            let mut seq = first.seq;
            if first.elsewhere {
                held.forget(&ids);
            }
            while let Ok(job) = rx.try_recv() {
                if job.elsewhere {
                    held.forget(&job.tickets.iter().cloned().collect());
                }
                ids.extend(job.tickets);
                pages.extend(job.pages);
                lines.extend(job.lines);
                seq = seq.max(job.seq);
            }
            let ids: Vec<String> = ids.into_iter().collect();
            let pages: Vec<(String, u32)> = pages.into_iter().collect();
            held.apply(&lines);
            let mut delay = Duration::from_millis(100);
            // The store is local: a failure is passing, and skipping would lose the tickets
            // from search until the next rebuild, so retry.
            while let Err(e) = index_and_commit(&store, &search, &mut held, &ids, &pages, seq).await {
                tracing::error!("indexing failed, retrying in {delay:?}: {e}");
                // What is held may be half-updated: read the pages again.
                held.clear();
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
            last_commit = Instant::now();
            visible_tx.send_replace(seq);
        }
    });
    Indexer { jobs: tx, requested: AtomicI64::new(0), visible }
}

/// Read the tickets (and the pages not held) from the store, then index and commit on a
/// blocking thread: tokenising and merging are CPU work that would stall the async workers
/// serving webhooks and sockets.
async fn index_and_commit(
    store: &Store,
    search: &Arc<SearchIndex>,
    held: &mut PageTexts,
    ids: &[String],
    pages: &[(String, u32)],
    seq: i64,
) -> Result<(), IndexingError> {
    let tickets = store.tickets(ids).await?;
    let open: Vec<(String, u32)> = tickets.iter().map(|t| (t.id.clone(), t.open_page())).collect();
    let texts = held.texts(store, &open).await?;
    let docs: Vec<TicketDoc> = tickets.into_iter().zip(texts).map(|(ticket, texts)| TicketDoc { ticket, texts }).collect();
    let texts = held.texts(store, pages).await?;
    let pages: Vec<PageDoc> = pages.iter().cloned().zip(texts).map(|((ticket, page), texts)| PageDoc { ticket, page, texts }).collect();
    let search = search.clone();
    tokio::task::spawn_blocking(move || -> Result<(), SearchError> {
        search.upsert(&docs)?;
        search.upsert_pages(&pages)?;
        search.commit(seq)
    })
    .await
    .map_err(|e| SearchError::Io(std::io::Error::other(e.to_string())))??;
    Ok(())
}

/// Index tickets whole: their open pages and every full page (catching up, rebuilding).
async fn index_loaded(store: &Store, search: &SearchIndex, tickets: Vec<Ticket>) -> Result<(), IndexingError> {
    let full: Vec<(String, u32)> = tickets.iter().flat_map(|t| (0..t.open_page()).map(|p| (t.id.clone(), p))).collect();
    search.upsert(&load_docs(store, tickets).await?)?;
    for chunk in full.chunks(100) {
        search.upsert_pages(&load_pages(store, chunk.to_vec()).await?)?;
    }
    Ok(())
}

/// The tickets with the text of their open page.
async fn load_docs(store: &Store, tickets: Vec<Ticket>) -> Result<Vec<TicketDoc>, IndexingError> {
    let open: Vec<(String, u32)> = tickets.iter().map(|t| (t.id.clone(), t.open_page())).collect();
    let texts = store.page_texts(&open).await?;
    Ok(tickets.into_iter().zip(texts).map(|(ticket, texts)| TicketDoc { ticket, texts }).collect())
}

async fn load_pages(store: &Store, pages: Vec<(String, u32)>) -> Result<Vec<PageDoc>, IndexingError> {
    let texts = store.page_texts(&pages).await?;
    Ok(pages.into_iter().zip(texts).map(|((ticket, page), texts)| PageDoc { ticket, page, texts }).collect())
}

/// Index what the store changed after the index's watermark (after a crash or restart).
pub async fn catch_up(store: &Store, search: &SearchIndex) -> Result<u64, IndexingError> {
    let mut watermark = search.watermark();
    let mut count = 0u64;
    loop {
        let tickets = store.tickets_changed_since(watermark, 500).await?;
        let Some(last) = tickets.last() else { break };
        watermark = last.seq;
        count += tickets.len() as u64;
        index_loaded(store, search, tickets).await?;
    }
    if count > 0 {
        search.commit(watermark.max(store.current_seq()))?;
    }
    Ok(count)
}

/// Tickets read per step of a rebuild, and steps whose messages are read at once (each on a
/// task of its own: SurrealDB's local engine runs a query in the task awaiting it, so two at
/// once use both cores; more are no faster here).
const REBUILD_STEP: usize = 500;
const REBUILD_READS: usize = 3;

/// Drop the index's content and index every ticket again. `progress` gets (done, total).
///
/// Tickets are walked in id order, so each step's messages are one range of the
/// `message_page` index rather than a lookup per page (2.4× faster at 250,000 tickets). What
/// is written meanwhile is after the watermark taken first, and `catch_up` indexes it.
pub async fn rebuild(store: &Store, search: &SearchIndex, progress: impl Fn(u64, u64)) -> Result<u64, IndexingError> {
    let total = store.count("ticket").await?;
    let watermark = store.current_seq();
    search.clear()?;
    let mut done = 0u64;
    let mut after: Option<String> = None;
    let mut walked = false;
    let mut reading = std::collections::VecDeque::new();
    loop {
        while !walked && reading.len() < REBUILD_READS {
            let tickets = store.tickets_in_id_order(after.as_deref(), REBUILD_STEP).await?;
            let Some(last) = tickets.last().map(|t| t.id.clone()) else {
                walked = true;
                break;
            };
            let (store, from) = (store.clone(), after.replace(last.clone()));
            reading.push_back(tokio::spawn(async move { store.lines_of_tickets(from.as_deref(), &last).await.map(|lines| (tickets, lines)) }));
        }
        let Some(step) = reading.pop_front() else { break };
        let (tickets, lines) = step.await??;
        done += tickets.len() as u64;
        let (docs, pages) = whole_docs(tickets, lines);
        search.upsert(&docs)?;
        search.upsert_pages(&pages)?;
        progress(done, total);
    }
    search.commit(watermark)?;
    Ok(done)
}

/// The documents of tickets read whole: each ticket with its open page, and its full pages.
fn whole_docs(tickets: Vec<Ticket>, lines: Vec<StoredLine>) -> (Vec<TicketDoc>, Vec<PageDoc>) {
    let mut texts: std::collections::HashMap<(String, u32), Vec<(String, String)>> = std::collections::HashMap::new();
    for l in lines {
        texts.entry((l.ticket, l.page)).or_default().push((l.author, l.text));
    }
    let mut pages = Vec::new();
    let docs = tickets
        .into_iter()
        .map(|ticket| {
            for page in 0..ticket.open_page() {
                pages.push(PageDoc { texts: texts.remove(&(ticket.id.clone(), page)).unwrap_or_default(), ticket: ticket.id.clone(), page });
            }
            TicketDoc { texts: texts.remove(&(ticket.id.clone(), ticket.open_page())).unwrap_or_default(), ticket }
        })
        .collect();
    (docs, pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(message: &str, text: &str, removed: bool) -> Line {
        Line { ticket: "t".into(), page: 0, message: message.into(), author: "Ann".into(), text: text.into(), removed }
    }

    fn held_texts(held: &mut PageTexts) -> Vec<String> {
        held.pages.get(&("t".to_string(), 0)).map(|p| p.iter().map(|(_, _, t)| t.clone()).collect()).unwrap_or_default()
    }

    #[test]
    fn a_rebuilt_ticket_holds_its_open_page_and_each_full_page_apart() {
        let mut ticket: Ticket = serde_json::from_value(serde_json::json!({
            "id": "t", "channel": "c", "platform": "telegram", "kind": "private_message",
            "queue": "new", "contact_id": "u", "contact": {"id": "u", "name": "U"}, "thread_key": "k",
            "preview": "", "message_count": 1, "created_at": 0, "updated_at": 0, "last_message_at": 0,
            "last_inbound_at": null, "tags": [], "assignee": null, "flagged": false, "from_ad": false, "seq": 1
        }))
        .unwrap();
        ticket.message_count = 2 * crate::model::PAGE_MESSAGES + 1;
        let line = |page, text: &str| StoredLine { ticket: "t".into(), page, author: "Ann".into(), text: text.into() };
        let (docs, pages) = whole_docs(vec![ticket], vec![line(0, "first"), line(2, "newest"), line(0, "second")]);
        assert_eq!(docs[0].texts, [("Ann".to_string(), "newest".to_string())]);
        let pages: Vec<(u32, usize)> = pages.iter().map(|p| (p.page, p.texts.len())).collect();
        assert_eq!(pages, [(0, 2), (1, 0)], "every full page, even one whose messages were all removed");
    }

    #[test]
    fn a_held_page_follows_new_messages_edits_and_removals() {
        let mut held = PageTexts::new(1 << 20);
        held.pages.put(("t".into(), 0), vec![("m1".into(), "Ann".into(), "hello".into())]);
        held.apply(&[line("m2", "where is my order", false)]);
        held.apply(&[line("m1", "hello again", false)]);
        assert_eq!(held_texts(&mut held), ["where is my order", "hello again"]);
        held.apply(&[line("m2", "where is my order", true)]);
        assert_eq!(held_texts(&mut held), ["hello again"]);
    }

    #[test]
    fn a_page_not_held_is_left_to_be_read_whole() {
        let mut held = PageTexts::new(1 << 20);
        held.apply(&[line("m1", "hello", false)]);
        assert!(held.pages.is_empty(), "a page starting from one line would miss the rest of it");
    }

    #[test]
    fn the_least_recently_used_pages_go_past_the_budget() {
        let mut held = PageTexts::new(300);
        for n in 0..10u32 {
            let lines = vec![("m".to_string(), "Ann".to_string(), "x".repeat(50))];
            held.bytes += lines.iter().map(size).sum::<usize>();
            held.pages.put(("t".into(), n), lines);
            held.shrink();
        }
        assert!(held.bytes <= 300 && held.pages.len() == 2, "{} bytes in {} pages", held.bytes, held.pages.len());
        assert!(held.pages.contains(&("t".to_string(), 9)));
    }
}
