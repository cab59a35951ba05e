//! The live event bus: what changed, for every agent's WebSocket.

use crate::model::{ChannelHealth, Message, Ticket};
use serde::Serialize;
use tokio::sync::broadcast;
use utoipa::ToSchema;

#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A new ticket, with its first message.
    TicketCreated { ticket: Ticket, message: Option<Message> },
    /// A ticket changed: a new or edited message (given), or its queue, tags, assignee...
    TicketUpdated { ticket: Ticket, message: Option<Message> },
    /// A channel's health changed.
    ChannelHealth { channel: String, health: ChannelHealth },
}

#[derive(Clone)]
pub struct EventBus(broadcast::Sender<Event>);

impl Default for EventBus {
    fn default() -> Self {
        EventBus(broadcast::channel(4096).0)
    }
}

impl EventBus {
    pub fn publish(&self, event: Event) {
        // No subscriber is not an error: nobody is watching.
        let _ = self.0.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.0.subscribe()
    }
}
