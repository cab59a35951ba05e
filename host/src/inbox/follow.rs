//! Several hosts on one store: each follows what the others commit into its own search index,
//! its queue counts and its agents' live events. The store hands out change numbers in commit
//! order (`Store::next_seq`, `Store::write`), so reading the tickets changed after the last
//! number seen misses none.

use super::{indexing, Inbox, InboxError};
use crate::events::Event;
use std::sync::Arc;
use std::time::Duration;

/// How often a host asks the store for the others' changes: an agent on this host sees a
/// ticket another host wrote within about this long (its search within a commit more).
const FOLLOW_EVERY: Duration = Duration::from_millis(100);
/// Tickets read per round.
const FOLLOW_PAGE: usize = 500;
/// How often at most the report rows are read again while other hosts write.
const REPORTS_EVERY: Duration = Duration::from_secs(2);

impl Inbox {
    /// Follow the other hosts' changes to a shared store, from what this host has indexed.
    pub fn follow_other_hosts(self: &Arc<Self>) {
        if !self.store.is_shared() {
            return;
        }
        let inbox = self.clone();
        tokio::spawn(async move {
            let mut after = inbox.store.current_seq();
            let mut failing = false;
            loop {
                match inbox.follow_once(after).await {
                    Ok((next, more)) => {
                        after = next;
                        failing = false;
                        if more {
                            continue;
                        }
                    }
                    Err(e) if !failing => {
                        failing = true;
                        tracing::warn!(error = %e, "following the other hosts' changes failed; retrying");
                    }
                    Err(_) => {}
                }
                tokio::time::sleep(FOLLOW_EVERY).await;
            }
        });
    }

    /// One round: the tickets changed after `after` by other hosts go to the index and to the
    /// agents' sockets. The number followed to, and whether there is more to read at once.
    async fn follow_once(&self, after: i64) -> Result<(i64, bool), InboxError> {
        let tickets = self.store.tickets_changed_since(after, FOLLOW_PAGE).await?;
        let Some(last) = tickets.last().map(|t| t.seq) else { return Ok((after, false)) };
        let more = tickets.len() >= FOLLOW_PAGE;
        let theirs: Vec<_> = tickets.into_iter().filter(|t| !self.store.wrote_here(t.seq)).collect();
        self.store.saw(last);
        if theirs.is_empty() {
            return Ok((last, more));
        }
        // Counted again from the index: what a ticket was before another host's change is not known here.
        self.tally_stale.store(true, std::sync::atomic::Ordering::SeqCst);
        // The reports' rows as the other hosts moved them, every few seconds at most.
        if self.reports_read_at.lock().expect("not poisoned").is_none_or(|at| at.elapsed() >= REPORTS_EVERY) {
            *self.reports_read_at.lock().expect("not poisoned") = Some(std::time::Instant::now());
            if let Err(e) = self.reload_reports().await {
                tracing::debug!(error = %e, "reading the report rows again failed");
            }
        }
        self.indexer.send(indexing::IndexJob {
            tickets: theirs.iter().map(|t| t.id.clone()).collect(),
            // The page a conversation's newest messages may just have filled.
            pages: theirs.iter().filter(|t| t.open_page() > 0).map(|t| (t.id.clone(), t.open_page() - 1)).collect(),
            lines: Vec::new(),
            seq: last,
            elsewhere: true,
        });
        for ticket in theirs {
            self.events.publish(Event::TicketUpdated { ticket, message: None, was: None });
        }
        Ok((last, more))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ChannelEvent;

    async fn host(store: &crate::store::Store) -> (Arc<Inbox>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let search = Arc::new(crate::search::SearchIndex::open(dir.path()).unwrap());
        let inbox = Arc::new(Inbox::start(store.clone(), search, crate::events::EventBus::default()).await.unwrap());
        inbox.follow_other_hosts();
        (inbox, dir)
    }

    fn message(n: u32, text: &str) -> ChannelEvent {
        ChannelEvent::Interaction(serde_json::from_value(serde_json::json!({
            "platform_id": format!("m{n}"), "kind": "private_message", "direction": "inbound", "thread_key": "chat-1",
            "parent_id": null, "author": {"id": "u1", "name": "Ann"}, "text": text, "attachments": [],
            "created_at": 1_700_000_000_000i64 + i64::from(n), "edited_at": null, "permalink": null, "from_ad": false, "meta": []}))
        .unwrap())
    }

    #[tokio::test]
    async fn two_hosts_writing_one_ticket_at_once_keep_both_messages_and_each_follows_the_other() {
        let store = crate::store::Store::shared_in_memory().await;
        let ((a, _a_dir), (b, _b_dir)) = (host(&store).await, host(&store.as_another_host()).await);
        let mut writes = Vec::new();
        for n in 0..40u32 {
            let inbox = if n % 2 == 0 { a.clone() } else { b.clone() };
            writes.push(tokio::spawn(async move { inbox.ingest("tg", "telegram", vec![message(n, &format!("word{n} hello"))], None, None).await }));
        }
        for w in writes {
            w.await.unwrap().expect("each write lands, planned again when it lost to the other host's");
        }
        let tickets = store.tickets_changed_since(0, 100).await.unwrap();
        assert_eq!(tickets.len(), 1, "one conversation, one ticket");
        assert_eq!(tickets[0].message_count, 40, "no message lost to a concurrent rewrite of the ticket");
        // The day's report rows, which both hosts add to, count every message once.
        let rows: Vec<serde_json::Value> = store.select_where("SELECT dim, tallies FROM report", serde_json::json!({})).await.unwrap();
        let counted: u64 = rows.iter().filter(|r| r["dim"] == "all").map(|r| r["tallies"]["messages_in"].as_u64().unwrap_or(0)).sum();
        assert_eq!(counted, 40, "{rows:?}");
        // Each host's index finds what the other wrote.
        for inbox in [&a, &b] {
            let q = crate::search::TicketQuery { q: Some("word39".into()), ..Default::default() };
            let mut found = 0;
            for _ in 0..50 {
                found = inbox.list(&q).await.unwrap().0;
                if found == 1 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert_eq!(found, 1);
        }
    }
}
