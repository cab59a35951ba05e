//! Collision notices: which agents have a ticket open and which of them are typing a reply.
//! Kept in memory per server from the agents' WebSockets; a closed socket leaves. Hosts sharing
//! a store also publish their seats there with a short expiry and read each other's (`share`).

use crate::events::{Event, EventBus, Viewer};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

/// How often a host sharing a store publishes its seats and reads the others'.
const SHARE_EVERY: Duration = Duration::from_millis(500);
/// A host's seats count this long after it last published them (a stopped host's lapse).
const SEATS_LAST: Duration = Duration::from_secs(5);

/// One agent's WebSocket.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
struct Seat {
    ticket_id: String,
    user_id: String,
    name: String,
    typing: bool,
}

pub struct Presence {
    seats: Mutex<BTreeMap<u64, Seat>>,
    /// The seats of the other hosts on a shared store, as they last published them.
    elsewhere: Mutex<Vec<Seat>>,
    /// Seats changed since they were last published.
    dirty: std::sync::atomic::AtomicBool,
    events: EventBus,
}

impl Presence {
    pub fn new(events: EventBus) -> Self {
        Presence { seats: Mutex::default(), elsewhere: Mutex::default(), dirty: Default::default(), events }
    }

    /// On a store shared by several hosts: publish this host's seats there and follow the
    /// others', so that agents on different hosts see each other on a ticket.
    pub fn share(self: &std::sync::Arc<Self>, store: crate::store::Store) {
        if !store.is_shared() {
            return;
        }
        let presence = self.clone();
        tokio::spawn(async move {
            let host = crate::store::host_id();
            let mut published_at = std::time::Instant::now() - SEATS_LAST;
            loop {
                tokio::time::sleep(SHARE_EVERY).await;
                // Published when they change, and again well before they lapse.
                if presence.dirty.swap(false, std::sync::atomic::Ordering::SeqCst) || published_at.elapsed() >= SEATS_LAST / 3 {
                    let mine: Vec<Seat> = presence.seats.lock().expect("presence lock").values().cloned().collect();
                    match store.put_presence(host, serde_json::to_value(&mine).unwrap_or_default(), SEATS_LAST).await {
                        Ok(()) => published_at = std::time::Instant::now(),
                        Err(e) => {
                            presence.dirty.store(true, std::sync::atomic::Ordering::SeqCst);
                            tracing::debug!(error = %e, "publishing this host's viewers failed");
                        }
                    }
                }
                let Ok(theirs) = store.presence_elsewhere(host).await else { continue };
                let theirs: Vec<Seat> = theirs.into_iter().flat_map(|seats| serde_json::from_value::<Vec<Seat>>(seats).unwrap_or_default()).collect();
                let changed: std::collections::BTreeSet<String> = {
                    let mut elsewhere = presence.elsewhere.lock().expect("presence lock");
                    let before: std::collections::BTreeSet<(String, String, bool)> = elsewhere.iter().map(|s| (s.ticket_id.clone(), s.user_id.clone(), s.typing)).collect();
                    let after: std::collections::BTreeSet<(String, String, bool)> = theirs.iter().map(|s| (s.ticket_id.clone(), s.user_id.clone(), s.typing)).collect();
                    *elsewhere = theirs;
                    before.symmetric_difference(&after).map(|(t, _, _)| t.clone()).collect()
                };
                for ticket in changed {
                    presence.publish(&ticket);
                }
            }
        });
    }

    /// The connection now views `ticket_id` (or nothing).
    pub fn view(&self, conn: u64, user_id: &str, name: &str, ticket_id: Option<&str>) {
        let left = {
            let mut seats = self.seats.lock().expect("presence lock");
            let left = seats.remove(&conn).map(|s| s.ticket_id);
            if let Some(t) = ticket_id {
                seats.insert(conn, Seat { ticket_id: t.to_string(), user_id: user_id.into(), name: name.into(), typing: false });
            }
            left
        };
        self.dirty.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(t) = left.filter(|t| Some(t.as_str()) != ticket_id) {
            self.publish(&t);
        }
        if let Some(t) = ticket_id {
            self.publish(t);
        }
    }

    pub fn typing(&self, conn: u64, typing: bool) {
        let changed = {
            let mut seats = self.seats.lock().expect("presence lock");
            match seats.get_mut(&conn) {
                Some(s) if s.typing != typing => {
                    s.typing = typing;
                    Some(s.ticket_id.clone())
                }
                _ => None,
            }
        };
        if let Some(t) = changed {
            self.dirty.store(true, std::sync::atomic::Ordering::SeqCst);
            self.publish(&t);
        }
    }

    pub fn leave(&self, conn: u64) {
        self.view(conn, "", "", None);
    }

    /// Who has `ticket_id` open: one entry per agent (typing if typing in any tab).
    pub fn viewers(&self, ticket_id: &str) -> Vec<Viewer> {
        let seats = self.seats.lock().expect("presence lock");
        let elsewhere = self.elsewhere.lock().expect("presence lock");
        let mut by_user: HashMap<&str, Viewer> = HashMap::new();
        for s in seats.values().chain(elsewhere.iter()).filter(|s| s.ticket_id == ticket_id) {
            let v = by_user
                .entry(&s.user_id)
                .or_insert_with(|| Viewer { user_id: s.user_id.clone(), name: s.name.clone(), typing: false });
            v.typing |= s.typing;
        }
        let mut out: Vec<Viewer> = by_user.into_values().collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    fn publish(&self, ticket_id: &str) {
        self.events.publish(Event::Presence { ticket_id: ticket_id.to_string(), viewers: self.viewers(ticket_id) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracks_viewers_and_typing_per_ticket() {
        let p = Presence::new(EventBus::default());
        p.view(1, "ann", "Ann", Some("t1"));
        p.view(2, "bob", "Bob", Some("t1"));
        p.view(3, "bob", "Bob", Some("t1"));
        p.typing(3, true);
        let v = p.viewers("t1");
        assert_eq!(v.len(), 2);
        assert!(v.iter().any(|v| v.user_id == "bob" && v.typing));
        p.view(1, "ann", "Ann", Some("t2"));
        assert_eq!(p.viewers("t1").len(), 1);
        p.leave(2);
        p.leave(3);
        assert!(p.viewers("t1").is_empty());
        assert_eq!(p.viewers("t2")[0].name, "Ann");
    }
}
