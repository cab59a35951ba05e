//! The live event bus: what changed, for every agent's WebSocket.

use crate::model::{Activity, ChannelHealth, Contact, Message, Note, Ticket};
use serde::Serialize;
use tokio::sync::broadcast;
use utoipa::ToSchema;

#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A new ticket, with its first message (to the sockets viewing the ticket; the others get
    /// `null`: the list shows the ticket's preview).
    TicketCreated { ticket: Ticket, message: Option<Message> },
    /// A ticket changed: a new or edited message (given, as above), or its queue, tags, assignee...
    TicketUpdated {
        ticket: Ticket,
        message: Option<Message>,
        /// Its status before, when this change moved it (for the rules, not the sockets).
        #[serde(skip)]
        was: Option<crate::model::Queue>,
    },
    /// A channel's health changed.
    ChannelHealth { channel: String, health: ChannelHealth },
    /// An internal note was added, edited or deleted.
    Note { ticket_id: String, note: Note, deleted: bool, activity: Activity },
    /// A line was added to a ticket's history on its own (a consultation's email bounced).
    Activity { ticket_id: String, activity: Activity },
    /// A contact's tags changed.
    ContactUpdated { contact: Contact },
    /// Who is viewing a ticket, and who of them is typing a reply.
    Presence { ticket_id: String, viewers: Vec<Viewer> },
    /// Someone's availability changed (Available, Away, an away status).
    Availability { availability: crate::accounts::Availability },
    /// A ticket entered the last quarter of its response target's time (once per due time).
    BreachSoon { ticket: Ticket },
}

/// An agent with a ticket open.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Viewer {
    pub user_id: String,
    pub name: String,
    pub typing: bool,
}

/// An event with its JSON, serialised once however many sockets send it.
#[derive(Clone, Debug)]
pub struct Published {
    pub event: std::sync::Arc<Event>,
    pub json: bytes::Bytes,
    /// The JSON for sockets not viewing the event's ticket: without its message. Each new
    /// message reaches every agent; its text and details are half of the bytes, and only the
    /// agents with the ticket open read them.
    pub brief: bytes::Bytes,
}

impl Published {
    /// What a socket viewing `viewing` is sent.
    pub fn json_for(&self, viewing: Option<&str>) -> &bytes::Bytes {
        match &*self.event {
            Event::TicketCreated { ticket, .. } | Event::TicketUpdated { ticket, .. } if viewing != Some(ticket.id.as_str()) => &self.brief,
            _ => &self.json,
        }
    }
}

/// A ticket event without its message (`Published::brief`).
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Brief<'a> {
    TicketCreated { ticket: &'a Ticket, message: Option<&'a Message> },
    TicketUpdated { ticket: &'a Ticket, message: Option<&'a Message> },
}

/// The sockets' broadcast (a slow socket skips ahead and resyncs), and the watchers that must
/// see every change, such as the rules: a burst waits in their queue instead of being dropped.
#[derive(Clone)]
pub struct EventBus {
    live: broadcast::Sender<Published>,
    every: std::sync::Arc<std::sync::Mutex<Vec<tokio::sync::mpsc::UnboundedSender<std::sync::Arc<Event>>>>>,
}

impl Default for EventBus {
    fn default() -> Self {
        EventBus { live: broadcast::channel(4096).0, every: Default::default() }
    }
}

impl EventBus {
    pub fn publish(&self, event: Event) {
        let event = std::sync::Arc::new(event);
        {
            let mut every = self.every.lock().unwrap_or_else(|e| e.into_inner());
            every.retain(|tx| tx.send(event.clone()).is_ok());
        }
        if self.live.receiver_count() == 0 {
            return;
        }
        let json: bytes::Bytes = serde_json::to_vec(&event).unwrap_or_default().into();
        let brief = match &*event {
            Event::TicketCreated { ticket, message: Some(_) } => serde_json::to_vec(&Brief::TicketCreated { ticket, message: None }).unwrap_or_default().into(),
            Event::TicketUpdated { ticket, message: Some(_), .. } => serde_json::to_vec(&Brief::TicketUpdated { ticket, message: None }).unwrap_or_default().into(),
            _ => json.clone(),
        };
        // No subscriber is not an error: nobody is watching.
        let _ = self.live.send(Published { event, json, brief });
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Published> {
        self.live.subscribe()
    }

    /// Every event from now on, none skipped however far behind the receiver falls.
    pub fn subscribe_all(&self) -> tokio::sync::mpsc::UnboundedReceiver<std::sync::Arc<Event>> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        self.every.lock().unwrap_or_else(|e| e.into_inner()).push(tx);
        rx
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn health(n: usize) -> Event {
        Event::ChannelHealth { channel: format!("c{n}"), health: ChannelHealth::new(crate::model::HealthState::Ok) }
    }

    #[tokio::test]
    async fn a_watcher_of_every_change_gets_a_burst_the_sockets_skip() {
        let bus = EventBus::default();
        let mut socket = bus.subscribe();
        let mut rules = bus.subscribe_all();
        for n in 0..10_000 {
            bus.publish(health(n));
        }
        assert!(matches!(socket.recv().await, Err(broadcast::error::RecvError::Lagged(_))), "a socket skips ahead");
        for n in 0..10_000 {
            let e = rules.recv().await.unwrap();
            assert!(matches!(&*e, Event::ChannelHealth { channel, .. } if *channel == format!("c{n}")));
        }
    }

    #[tokio::test]
    async fn a_watcher_that_stopped_is_forgotten() {
        let bus = EventBus::default();
        drop(bus.subscribe_all());
        bus.publish(health(0));
        assert!(bus.every.lock().unwrap().is_empty());
    }
}
