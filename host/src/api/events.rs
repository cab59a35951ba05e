//! `/api/v1/events`: a WebSocket pushing every new or changed ticket, note, channel health and
//! presence; the agent sends which ticket they view and whether they are typing.

use super::auth::CurrentUser;
use super::presence::Presence;
use super::AppState;
use crate::accounts::User;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;

/// What an agent's UI tells the server over the socket.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// The ticket now open in this tab (`null`: none).
    View { ticket_id: Option<String> },
    /// Whether the agent is typing a reply in the open ticket.
    Typing { typing: bool },
}

static NEXT_CONNECTION: AtomicU64 = AtomicU64::new(1);

pub async fn subscribe(State(state): State<AppState>, CurrentUser(user): CurrentUser, ws: WebSocketUpgrade) -> Response {
    let rx = state.events.subscribe();
    let presence = state.presence.clone();
    ws.on_upgrade(move |socket| forward(socket, rx, presence, user))
}

async fn forward(mut socket: WebSocket, mut rx: tokio::sync::broadcast::Receiver<crate::events::Event>, presence: Arc<Presence>, user: User) {
    let conn = NEXT_CONNECTION.fetch_add(1, Ordering::Relaxed);
    if socket.send(Message::Text(r#"{"type":"hello"}"#.into())).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            event = rx.recv() => {
                let text = match event {
                    Ok(e) => serde_json::to_string(&e).unwrap_or_default(),
                    // Too slow to keep up: tell the client to reload rather than show a gap.
                    Err(RecvError::Lagged(n)) => format!(r#"{{"type":"resync","missed":{n}}}"#),
                    Err(RecvError::Closed) => break,
                };
                if socket.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => match serde_json::from_str::<ClientMessage>(&text) {
                    Ok(ClientMessage::View { ticket_id }) => presence.view(conn, &user.id, &user.name, ticket_id.as_deref()),
                    Ok(ClientMessage::Typing { typing }) => presence.typing(conn, typing),
                    Err(e) => {
                        let error = serde_json::json!({"type": "error", "message": format!("unreadable message: {e}")});
                        if socket.send(Message::Text(error.to_string().into())).await.is_err() {
                            break;
                        }
                    }
                },
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                _ => {}
            },
        }
    }
    presence.leave(conn);
}
