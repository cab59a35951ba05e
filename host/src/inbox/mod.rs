//! The domain: interactions become contacts, tickets and messages under the ticket rules;
//! agents act on tickets. Every write goes through here, one at a time, so each batch is
//! planned against what is stored and lands in one transaction.

mod actions;
mod follow;
pub mod assign;
pub mod routing;
pub mod saved_replies;
pub mod automation;
pub mod contacts;
pub mod indexing;
pub mod language;
mod media;
pub mod files;
mod notes;
pub mod rules;
pub mod sentiment;
mod translations;
pub mod reports;
mod tally;
pub mod targets;

pub use actions::{action_from, check_files, ActionChannel, ActionRequest, ActionResult, DraftReply, LastAnswer, ReplyNote, TicketPatch};
pub use media::{MediaCache, DEFAULT_MEDIA_CACHE_BYTES};
pub use notes::NoteAuthor;

use crate::events::{Event, EventBus};
use crate::model::{now_ms, Activity, ChannelEvent, Contact, Message, Note, Queue, Ticket};
use crate::plugins::PluginError;
use crate::search::{Hits, SearchError, SearchIndex, TicketQuery};
use crate::store::{Store, StoreError, WriteBatch};
use std::collections::HashMap;
use rules::Working;
use std::sync::Arc;
use tokio::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    /// Allowed to others, not to this user (another agent's note).
    #[error("{0}")]
    Forbidden(String),
    /// The channel does not offer this action on this kind of interaction.
    #[error("{0}")]
    Unsupported(String),
    /// The platform's messaging window is closed.
    #[error("{0}")]
    OutsideWindow(String),
    #[error("the platform refused: {0}")]
    Platform(PluginError),
    /// The request clashes with one under way (the same idempotency key).
    #[error("{0}")]
    Conflict(String),
    /// Too many deliveries of this channel are waiting to be written: deliver again later.
    #[error("{0}")]
    Busy(String),
    /// The request that was writing this delivery with its own went away mid-write: it may or
    /// may not be stored, and delivering it again is safe.
    #[error("the write was interrupted; deliver again")]
    Interrupted,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Search(#[from] SearchError),
}

fn pick<T: Clone>(ids: &std::collections::BTreeSet<String>, map: &std::collections::HashMap<String, T>) -> Vec<T> {
    ids.iter().filter_map(|id| map.get(id).cloned()).collect()
}

/// What an ingest stored.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct IngestReport {
    pub new_messages: usize,
    pub changed_tickets: usize,
}

/// Deliveries of one channel that may wait to be written; more are refused (the platform
/// delivers again). About a second of the heaviest traffic we measured, a few MiB.
const MAX_WAITING: usize = 1_000;

/// Deliveries written in one transaction at most.
const MAX_TOGETHER: usize = 200;
/// Times a write that lost to another host's is planned again before the error is the answer.
const CONFLICT_RETRIES: u32 = 50;

/// A delivery waiting to be written (`Inbox::ingest`).
struct Delivery {
    channel: String,
    platform: String,
    events: Vec<ChannelEvent>,
    cursor: Option<String>,
    /// The poll lease's epoch the page was fetched under (shared stores).
    lease: Option<i64>,
    done: tokio::sync::oneshot::Sender<Result<IngestReport, InboxError>>,
}

/// A ticket with everything the ticket view shows.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct TicketView {
    pub ticket: Ticket,
    /// The newest messages (the last one or two pages of `PAGE_MESSAGES`), oldest first.
    pub messages: Vec<Message>,
    /// The page of older messages to ask for next (`GET /api/v1/tickets/{id}/messages?page=N`);
    /// none when `messages` goes back to the first one.
    pub older_page: Option<u32>,
    pub contact: Option<Contact>,
    /// For comments, posts and mentions: the other tickets under the same post, newest first.
    pub thread: Vec<Ticket>,
    /// For comments: the post, video or ad they are under; for reviews, the place reviewed;
    /// when the channel delivered it.
    pub post: Option<Message>,
    pub activity: Vec<Activity>,
    /// Internal notes, oldest first.
    pub notes: Vec<Note>,
}

/// A page of a ticket's older messages.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct MessagePage {
    /// Oldest first.
    pub messages: Vec<Message>,
    /// The page before this one, none at the first.
    pub older_page: Option<u32>,
}

/// Tickets per queue; `mine` counts the open (New or Pending) tickets assigned to the asking agent.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct QueueCounts {
    pub new: u64,
    pub pending: u64,
    pub resolved: u64,
    pub archived: u64,
    pub all: u64,
    pub mine: u64,
    pub flagged: u64,
}

/// Counts that show the store and the search index agree.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Status {
    pub tickets: u64,
    pub messages: u64,
    /// The store's newest change number.
    pub store_seq: i64,
    /// Documents in the search index (one per ticket).
    pub indexed_tickets: u64,
    /// The store change number the index has caught up to.
    pub index_watermark: i64,
}

pub struct Inbox {
    store: Store,
    search: Arc<SearchIndex>,
    indexer: indexing::Indexer,
    events: EventBus,
    write_lock: Mutex<()>,
    /// Deliveries waiting for the write lock: whoever takes it next writes them all at once.
    waiting: std::sync::Mutex<Vec<Delivery>>,
    /// Searches run on blocking threads, this many at once; more wait briefly, then get `Busy`.
    search_slots: Arc<tokio::sync::Semaphore>,
    /// Agents' reads (lists, counts, opened tickets) under way at once. Hundreds of them in
    /// flight would each wait behind all the others at every step, and so would the webhooks
    /// and live sockets sharing the runtime: a platform gives up on a webhook after seconds.
    /// More wait their turn here, where waiting costs nothing.
    reads: tokio::sync::Semaphore,
    /// Idempotency keys of actions under way.
    actions_in_flight: std::sync::Mutex<std::collections::HashSet<String>>,
    /// Every queue's count, moved by each write (`tally.rs`).
    tally: std::sync::Mutex<tally::Tally>,
    /// A write failed, so it may or may not have committed: count again from the index.
    tally_stale: std::sync::atomic::AtomicBool,
    /// Response targets with the teams and hours they read: every ticket written is stamped
    /// with when it is due.
    policy: std::sync::RwLock<Arc<targets::Policy>>,
    /// The reports' day rows as stored, moved by each write (`reports.rs`).
    reports: std::sync::Mutex<reports::Rows>,
    /// A write failed, so it may or may not have committed: read the rows again.
    reports_stale: std::sync::atomic::AtomicBool,
    /// The time zone the reports count days in.
    report_zone: std::sync::RwLock<chrono_tz::Tz>,
    /// When the follower last read the report rows again (shared stores).
    reports_read_at: std::sync::Mutex<Option<std::time::Instant>>,
}

/// Every queue's count as the index has it (caught up, with no write under way).
fn tally_from(search: &SearchIndex) -> Result<tally::Tally, SearchError> {
    let count = |queue: &str, flagged: Option<bool>| -> Result<u64, SearchError> {
        let q = TicketQuery { queue: Some(queue.into()), flagged, limit: Some(1), ..Default::default() };
        Ok(search.search(&q)?.total as u64)
    };
    Ok(tally::Tally::new(
        count("new", None)?,
        count("pending", None)?,
        count("resolved", None)?,
        count("archived", None)?,
        count("all", None)?,
        count("all", Some(true))?,
    ))
}

/// Searches at once: about two per core, so searching cannot take every blocking thread.
fn search_slots() -> usize {
    std::thread::available_parallelism().map(|n| n.get() * 2).unwrap_or(2)
}

/// How long a search waits for a free slot before the answer is "busy".
const SEARCH_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// How long an agent's read waits for its turn before the answer is "busy".
const READ_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

impl Inbox {
    /// Catch the search index up with the store, then follow every write.
    pub async fn start(store: Store, search: Arc<SearchIndex>, events: EventBus) -> Result<Self, indexing::IndexingError> {
        if search.was_reset && store.count("ticket").await? > 0 {
            tracing::info!("rebuilding the search index from the store");
            indexing::rebuild(&store, &search, |_, _| {}).await?;
        } else {
            let n = indexing::catch_up(&store, &search).await?;
            if n > 0 {
                tracing::info!("search index caught up on {n} tickets");
            }
        }
        let indexer = indexing::spawn(store.clone(), search.clone());
        // The index holds every stored ticket now, and nothing writes before `start` returns.
        let tally = tally_from(&search)?;
        let (rows, zone) = Self::load_reports(&store).await?;
        Ok(Inbox {
            store,
            search,
            indexer,
            events,
            write_lock: Mutex::new(()),
            waiting: Default::default(),
            search_slots: Arc::new(tokio::sync::Semaphore::new(search_slots())),
            reads: tokio::sync::Semaphore::new(search_slots()),
            actions_in_flight: Default::default(),
            tally: std::sync::Mutex::new(tally),
            tally_stale: Default::default(),
            policy: Default::default(),
            reports: std::sync::Mutex::new(rows),
            reports_stale: Default::default(),
            report_zone: std::sync::RwLock::new(zone),
            reports_read_at: Default::default(),
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Store what a channel delivered, with the cursor that covers it. Safe to call with
    /// interactions already stored: they are skipped (or updated, for edits).
    ///
    /// Deliveries that arrive while a write is under way wait for it together, and the next of
    /// them to take the write lock writes them all in one transaction, whatever their channels:
    /// under a flood of webhooks and polls a transaction carries many, instead of each waiting
    /// for its own (a transaction costs SurrealDB about as much to plan as a hundred records).
    pub async fn ingest(
        &self,
        channel: &str,
        platform: &str,
        events: Vec<ChannelEvent>,
        cursor: Option<String>,
        lease: Option<i64>,
    ) -> Result<IngestReport, InboxError> {
        if events.is_empty() && cursor.is_none() {
            return Ok(IngestReport::default());
        }
        let (done, report) = tokio::sync::oneshot::channel();
        {
            let mut waiting = self.waiting.lock().expect("not poisoned");
            if waiting.iter().filter(|d| d.channel == channel).count() >= MAX_WAITING {
                return Err(InboxError::Busy(format!("{MAX_WAITING} deliveries of `{channel}` are waiting to be written")));
            }
            waiting.push(Delivery {
                channel: channel.to_string(),
                platform: platform.to_string(),
                events,
                cursor,
                lease,
                done,
            });
        }
        {
            let _write = self.write_lock.lock().await;
            // Ours may have been written by the one before; then this writes the ones after.
            let mut waiting = std::mem::take(&mut *self.waiting.lock().expect("not poisoned"));
            while !waiting.is_empty() {
                let rest = waiting.split_off(waiting.len().min(MAX_TOGETHER));
                self.ingest_group(std::mem::replace(&mut waiting, rest)).await;
            }
        }
        let answer = report.await.unwrap_or(Err(InboxError::Interrupted));
        if let Ok(r) = &answer {
            metrics::counter!(crate::metrics::INGESTED, "channel" => channel.to_string()).increment(r.new_messages as u64);
        }
        answer
    }

    /// Write waiting deliveries in one transaction; if that fails, each on its own, so that
    /// one that cannot be stored does not fail the others. Callers hold the write lock.
    async fn ingest_group(&self, mut group: Vec<Delivery>) {
        if group.len() > 1 {
            let answers = self.ingest_together(&group).await;
            match answers {
                Ok(reports) => {
                    for (d, report) in group.into_iter().zip(reports) {
                        let _ = d.done.send(Ok(report));
                    }
                    return;
                }
                Err(e) => tracing::warn!("{} deliveries could not be stored together, storing each alone: {e}", group.len()),
            }
        }
        for d in group.drain(..) {
            let answer = self.ingest_together(std::slice::from_ref(&d)).await.map(|mut r| r.remove(0));
            let _ = d.done.send(answer);
        }
    }

    /// One transaction for these deliveries; a report for each.
    async fn ingest_together(&self, group: &[Delivery]) -> Result<Vec<IngestReport>, InboxError> {
        self.planned_again(|| self.ingest_together_once(group)).await
    }

    /// Run `plan_and_write` again, from what the store holds now, while its write loses to
    /// another host's (`StoreError::Conflict`): the tickets' rules are planned again each time.
    pub(crate) async fn planned_again<T, Fut>(&self, mut plan_and_write: impl FnMut() -> Fut) -> Result<T, InboxError>
    where
        Fut: std::future::Future<Output = Result<T, InboxError>>,
    {
        let mut tries = 0u32;
        loop {
            match plan_and_write().await {
                Err(InboxError::Store(crate::store::StoreError::Conflict(why))) if tries < CONFLICT_RETRIES => {
                    tries += 1;
                    metrics::counter!(crate::metrics::STORE_RETRIES).increment(1);
                    tracing::debug!("planning a write again ({tries}): {why}");
                    // Apart, so that two hosts on the same tickets do not collide again in step.
                    let spread = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().subsec_nanos() % 5_000;
                    tokio::time::sleep(std::time::Duration::from_micros(u64::from(spread) * u64::from(tries.min(8)))).await;
                }
                other => return other,
            }
        }
    }

    async fn ingest_together_once(&self, group: &[Delivery]) -> Result<Vec<IngestReport>, InboxError> {
        let touched: Vec<(&str, &[ChannelEvent])> = group.iter().map(|d| (d.channel.as_str(), d.events.as_slice())).collect();
        let (mut w, stored) = self.load_working(&touched, &[]).await?;
        let seq = self.store.next_seq().await?;
        let mut reports = Vec::with_capacity(group.len());
        for d in group {
            let before = w.new_messages.len();
            let tickets_before = w.changed_tickets.len();
            for e in d.events.iter().cloned() {
                w.apply(&d.channel, &d.platform, e, seq);
            }
            reports.push(IngestReport {
                new_messages: w.new_messages.len() - before,
                changed_tickets: w.changed_tickets.len() - tickets_before,
            });
        }
        // A channel's cursors only move forward: its newest one covers what came before it.
        let mut cursors: Vec<(String, String)> = Vec::new();
        for d in group.iter().rev() {
            if let Some(c) = &d.cursor
                && !cursors.iter().any(|(ch, _)| *ch == d.channel)
            {
                cursors.push((d.channel.clone(), c.clone()));
            }
        }
        let fences = group.iter().filter_map(|d| d.lease.map(|epoch| (d.channel.clone(), epoch))).collect();
        self.commit(w, &stored, cursors, fences, Vec::new(), seq).await?;
        Ok(reports)
    }

    /// Load what the events of these channels touch: their messages, tickets (also those of
    /// known messages) and contacts, plus `extra_tickets`; and the tickets' counted shapes.
    async fn load_working(
        &self,
        touched: &[(&str, &[ChannelEvent])],
        extra_tickets: &[String],
    ) -> Result<(Working, HashMap<String, Ticket>), InboxError> {
        let (mut message_ids, mut ticket_ids, mut contact_ids) = (Vec::new(), Vec::new(), Vec::new());
        for (channel, events) in touched {
            let (m, t, c) = rules::ids_touched(channel, events);
            message_ids.extend(m);
            ticket_ids.extend(t);
            contact_ids.extend(c);
        }
        for ids in [&mut message_ids, &mut contact_ids] {
            ids.sort();
            ids.dedup();
        }
        let messages = self.store.messages(&message_ids).await?;
        ticket_ids.extend(messages.iter().map(|m| m.ticket_id.clone()));
        ticket_ids.extend_from_slice(extra_tickets);
        ticket_ids.sort();
        ticket_ids.dedup();
        let tickets = self.store.tickets(&ticket_ids).await?;
        let contacts = self.store.contacts(&contact_ids).await?;
        let before = tickets.iter().map(|t| (t.id.clone(), t.clone())).collect();
        Ok((Working::new(messages, tickets, contacts), before))
    }

    /// Write what `w` changed in one transaction, then index it and tell the agents.
    /// Callers hold the write lock.
    async fn commit(
        &self,
        mut w: Working,
        before: &HashMap<String, Ticket>,
        cursors: Vec<(String, String)>,
        fences: Vec<(String, i64)>,
        activities: Vec<Activity>,
        seq: i64,
    ) -> Result<(), InboxError> {
        let policy = self.policy();
        let now = now_ms();
        for id in &w.changed_tickets {
            if let Some(t) = w.tickets.get_mut(id) {
                if before.get(id).is_some_and(|b| b.queue == Queue::Resolved) && t.queue != Queue::Resolved {
                    t.reopened_at = Some(now);
                }
                t.due = policy.due(t);
            }
        }
        let (report_rows, reports_read) = self.report_rows(&w, before, &activities, &policy, now).await?;
        let stored_messages: std::collections::BTreeSet<String> =
            w.changed_messages.iter().filter(|id| !w.created_messages.contains(*id)).cloned().collect();
        let stored_tickets: std::collections::BTreeSet<String> =
            w.changed_tickets.iter().filter(|id| !w.created_tickets.contains(*id)).cloned().collect();
        let batch = WriteBatch {
            new_messages: pick(&w.created_messages, &w.messages),
            messages: pick(&stored_messages, &w.messages),
            new_tickets: pick(&w.created_tickets, &w.tickets),
            tickets: pick(&stored_tickets, &w.tickets),
            contacts: pick(&w.changed_contacts, &w.contacts),
            activities,
            cursors,
            // A row's version moves with each write of it (other hosts check it: `reports_read`).
            reports: report_rows
                .iter()
                .map(|r| {
                    let id = r.id();
                    let v = reports_read.iter().find(|(read, _)| *read == id).map_or(0, |(_, v)| v + 1);
                    serde_json::json!({ "id": id, "day": r.day, "dim": r.dim, "value": r.value, "tallies": r.tallies, "v": v })
                })
                .collect(),
            audit: std::mem::take(&mut w.audit),
            contact_merges: Vec::new(),
            fences,
            reports_read,
            read_tickets: stored_tickets.iter().filter_map(|id| before.get(id).map(|t| (id.clone(), t.seq))).collect(),
            seq,
        };
        if let Err(e) = self.store.write(&batch).await {
            self.tally_stale.store(true, std::sync::atomic::Ordering::SeqCst);
            self.reports_stale.store(true, std::sync::atomic::Ordering::SeqCst);
            return Err(e.into());
        }
        self.reports.lock().expect("not poisoned").written(report_rows);
        // A ticket this write changed held another host's change the follower will not report
        // (its latest change is this host's now): the counts cannot move by this write alone.
        if before.values().any(|b| self.store.unseen_change(b.seq)) {
            self.tally_stale.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        {
            let mut tally = self.tally.lock().expect("not poisoned");
            for t in batch.new_tickets.iter().chain(&batch.tickets) {
                tally.apply(before.get(&t.id).map(tally::Shape::of).as_ref(), &tally::Shape::of(t));
            }
        }
        if !w.changed_tickets.is_empty() {
            // Messages changed on a page that is full now: a page just filled, or an edit or a
            // removal further back in a long conversation.
            let pages: std::collections::BTreeSet<(String, u32)> = w
                .changed_messages
                .iter()
                .filter_map(|id| w.messages.get(id))
                .filter(|m| w.tickets.get(&m.ticket_id).is_some_and(|t| m.page < t.open_page()))
                .map(|m| (m.ticket_id.clone(), m.page))
                .collect();
            self.indexer.send(indexing::IndexJob {
                tickets: w.changed_tickets.iter().cloned().collect(),
                pages: pages.into_iter().collect(),
                lines: batch.new_messages.iter().chain(&batch.messages).map(indexing::Line::of).collect(),
                seq,
                // On a shared store the pages held may lack another host's newest messages:
                // the follower skips a ticket whose latest change is this host's own.
                elsewhere: self.store.is_shared(),
            });
        }
        for ticket in batch.new_tickets.into_iter().chain(batch.tickets) {
            let newest = w
                .new_messages
                .iter()
                .rev()
                .chain(w.changed_messages.iter())
                .find_map(|id| w.messages.get(id).filter(|m| m.ticket_id == ticket.id))
                .cloned();
            let event = if w.created_tickets.remove(&ticket.id) {
                Event::TicketCreated { ticket, message: newest }
            } else {
                let was = before.get(&ticket.id).map(|b| b.queue).filter(|q| *q != ticket.queue);
                Event::TicketUpdated { ticket, message: newest, was }
            };
            self.events.publish(event);
        }
        Ok(())
    }

    /// Tickets matching a search, newest activity first, as stored now. Every write that was
    /// announced before the call is in the answer.
    pub async fn list(&self, q: &TicketQuery) -> Result<(usize, Vec<Ticket>), InboxError> {
        self.indexer.caught_up().await;
        let _turn = self.read_turn().await?;
        let Hits { total, ids } = self.find(q.clone()).await?;
        let mut tickets = self.store.tickets(&ids).await?;
        // Keep the index's order.
        tickets.sort_by_key(|t| ids.iter().position(|id| *id == t.id));
        Ok((total, tickets))
    }

    /// How many tickets each queue and personal view holds, for the inbox's sidebar: every
    /// write announced before the call is counted, and nothing waits for the search index.
    pub async fn counts(&self, user_id: &str) -> Result<QueueCounts, InboxError> {
        let stale = self.tally_stale.load(std::sync::atomic::Ordering::SeqCst);
        if stale || self.tally.lock().expect("not poisoned").mine(user_id).is_none() {
            // From the index, with no write under way and the index caught up: an agent's new
            // tickets once (then followed write by write), everything after a failed write.
            let _write = self.write_lock.lock().await;
            self.indexer.caught_up().await;
            let (search, user) = (self.search.clone(), user_id.to_string());
            let (fresh, mine) = self
                .blocking_search(move || {
                    let q = TicketQuery { assignee: Some(user), queue: Some(crate::search::OPEN.into()), limit: Some(1), ..Default::default() };
                    Ok((if stale { Some(tally_from(&search)?) } else { None }, search.search(&q)?.total as u64))
                })
                .await?;
            let mut tally = self.tally.lock().expect("not poisoned");
            if let Some(fresh) = fresh {
                *tally = fresh;
                self.tally_stale.store(false, std::sync::atomic::Ordering::SeqCst);
            }
            tally.knows(user_id, mine);
        }
        let tally = self.tally.lock().expect("not poisoned");
        let t = &*tally;
        Ok(QueueCounts { new: t.new, pending: t.pending, resolved: t.resolved, archived: t.archived, all: t.all, mine: t.mine(user_id).unwrap_or(0), flagged: t.flagged })
    }

    /// Wait for a turn among agents' reads (`reads`).
    async fn read_turn(&self) -> Result<tokio::sync::SemaphorePermit<'_>, InboxError> {
        Ok(tokio::time::timeout(READ_WAIT, self.reads.acquire())
            .await
            .map_err(|_| SearchError::Busy)?
            .expect("the semaphore is never closed"))
    }

    async fn find(&self, q: TicketQuery) -> Result<Hits, InboxError> {
        q.check().map_err(SearchError::from)?;
        let search = self.search.clone();
        self.blocking_search(move || search.search(&q)).await
    }

    /// Tantivy's work is CPU-bound: it runs on a blocking thread, not on an async worker that
    /// webhooks and sockets need, and a bounded number at a time.
    async fn blocking_search<T: Send + 'static>(&self, f: impl FnOnce() -> Result<T, SearchError> + Send + 'static) -> Result<T, InboxError> {
        let slot = tokio::time::timeout(SEARCH_WAIT, self.search_slots.clone().acquire_owned())
            .await
            .map_err(|_| SearchError::Busy)?
            .expect("the semaphore is never closed");
        let out = tokio::task::spawn_blocking(move || {
            let _slot = slot;
            f()
        })
        .await
        .map_err(|_| SearchError::Busy)??;
        Ok(out)
    }

    pub async fn status(&self) -> Result<Status, InboxError> {
        Ok(Status {
            tickets: self.store.count("ticket").await?,
            messages: self.store.count("message").await?,
            store_seq: self.store.current_seq(),
            indexed_tickets: self.search.doc_count(),
            index_watermark: self.search.watermark(),
        })
    }

    /// Whether the store answers, and how many of its changes the search index has yet to
    /// take in.
    pub async fn readiness(&self) -> (Result<(), InboxError>, i64) {
        let lag = (self.store.current_seq() - self.search.watermark()).max(0);
        metrics::gauge!(crate::metrics::INDEX_LAG).set(lag as f64);
        metrics::gauge!(crate::metrics::STORE_SEQ).set(self.store.current_seq() as f64);
        (self.store.ping().await.map_err(InboxError::from), lag)
    }

    pub async fn ticket(&self, id: &str) -> Result<Ticket, InboxError> {
        self.store.ticket(id).await?.ok_or_else(|| InboxError::NotFound(format!("no ticket `{id}`")))
    }

    pub async fn view(&self, id: &str) -> Result<TicketView, InboxError> {
        let _turn = self.read_turn().await?;
        let ticket = self.ticket(id).await?;
        let open = ticket.open_page();
        // The newest page can hold a single message: the one before it gives the agent context.
        let first = open.saturating_sub(1);
        let contact = self.store.contacts(&[ticket.contact_id.clone()]).await?.pop();
        let parts = self.store.ticket_parts(&ticket, first..=open, !ticket.kind.is_conversation()).await?;
        let post = match ticket.kind {
            // The post's message has the post's platform id, which is its comments' thread key.
            // A review's is the place reviewed (a shop's location).
            crate::model::Kind::Comment | crate::model::Kind::Reply | crate::model::Kind::AdComment | crate::model::Kind::Review => {
                self.store.messages(&[rules::message_id(&ticket.channel, &ticket.thread_key)]).await?.pop().filter(|m| m.interaction.kind == crate::model::Kind::Post)
            }
            _ => None,
        };
        Ok(TicketView {
            post,
            ticket,
            messages: parts.messages,
            older_page: first.checked_sub(1),
            contact,
            thread: parts.thread,
            activity: parts.activity,
            notes: parts.notes,
        })
    }

    /// One page of a ticket's messages, for reading further back than the view.
    pub async fn messages_page(&self, id: &str, page: u32) -> Result<MessagePage, InboxError> {
        let _turn = self.read_turn().await?;
        let ticket = self.ticket(id).await?;
        if page > ticket.open_page() {
            return Err(InboxError::NotFound(format!("ticket `{id}` has pages 0 to {}", ticket.open_page())));
        }
        Ok(MessagePage { messages: self.store.ticket_page(id, page).await?, older_page: page.checked_sub(1) })
    }
}
