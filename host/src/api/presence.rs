//! Collision notices: which agents have a ticket open and which of them are typing a reply.
//! Kept in memory per server from the agents' WebSockets; a closed socket leaves.

use crate::events::{Event, EventBus, Viewer};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// One agent's WebSocket.
#[derive(Clone)]
struct Seat {
    ticket_id: String,
    user_id: String,
    name: String,
    typing: bool,
}

pub struct Presence {
    seats: Mutex<BTreeMap<u64, Seat>>,
    events: EventBus,
}

impl Presence {
    pub fn new(events: EventBus) -> Self {
        Presence { seats: Mutex::default(), events }
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
            self.publish(&t);
        }
    }

    pub fn leave(&self, conn: u64) {
        self.view(conn, "", "", None);
    }

    /// Who has `ticket_id` open: one entry per agent (typing if typing in any tab).
    pub fn viewers(&self, ticket_id: &str) -> Vec<Viewer> {
        let seats = self.seats.lock().expect("presence lock");
        let mut by_user: HashMap<&str, Viewer> = HashMap::new();
        for s in seats.values().filter(|s| s.ticket_id == ticket_id) {
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
