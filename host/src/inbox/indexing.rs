//! Keeps the search index following the store: near-real-time after each write, catch-up
//! from the watermark on start, and full rebuilds.

use crate::model::Ticket;
use crate::search::{PageDoc, SearchError, SearchIndex, TicketDoc};
use crate::store::{Store, StoreError};
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
    pub seq: i64,
}

/// Commits are spaced at least this far apart; a change is searchable within about this long.
const COMMIT_INTERVAL: Duration = Duration::from_millis(250);

#[derive(Debug, thiserror::Error)]
pub enum IndexingError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Search(#[from] SearchError),
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
        while let Some(first) = rx.recv().await {
            tokio::time::sleep_until((last_commit + COMMIT_INTERVAL).into()).await;
            let mut ids: BTreeSet<String> = first.tickets.into_iter().collect();
            let mut pages: BTreeSet<(String, u32)> = first.pages.into_iter().collect();
            let mut seq = first.seq;
            while let Ok(job) = rx.try_recv() {
                ids.extend(job.tickets);
                pages.extend(job.pages);
                seq = seq.max(job.seq);
            }
            let ids: Vec<String> = ids.into_iter().collect();
            let pages: Vec<(String, u32)> = pages.into_iter().collect();
            let mut delay = Duration::from_millis(100);
            // The store is local: a failure is passing, and skipping would lose the tickets
            // from search until the next rebuild, so retry.
            while let Err(e) = index_and_commit(&store, &search, &ids, &pages, seq).await {
                tracing::error!("indexing failed, retrying in {delay:?}: {e}");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
            last_commit = Instant::now();
            visible_tx.send_replace(seq);
        }
    });
    Indexer { jobs: tx, requested: AtomicI64::new(0), visible }
}

/// Read the tickets from the store, then index and commit on a blocking thread: tokenising and
/// merging are CPU work that would stall the async workers serving webhooks and sockets.
async fn index_and_commit(store: &Store, search: &Arc<SearchIndex>, ids: &[String], pages: &[(String, u32)], seq: i64) -> Result<(), IndexingError> {
    let docs = load_docs(store, store.tickets(ids).await?).await?;
    let pages = load_pages(store, pages.to_vec()).await?;
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

/// Drop the index's content and index every ticket again. `progress` gets (done, total).
pub async fn rebuild(store: &Store, search: &SearchIndex, progress: impl Fn(u64, u64)) -> Result<u64, IndexingError> {
    let total = store.count("ticket").await?;
    let watermark = store.current_seq();
    search.clear()?;
    let mut after = i64::MIN;
    let mut done = 0u64;
    loop {
        let page = store.tickets_changed_since(after, 500).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        done += page.len() as u64;
        index_loaded(store, search, page).await?;
        progress(done, total);
    }
    search.commit(watermark.max(after))?;
    Ok(done)
}
