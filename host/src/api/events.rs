//! `/api/v1/events`: a WebSocket pushing every new or changed ticket and channel health.

use super::AppState;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use tokio::sync::broadcast::error::RecvError;

pub async fn subscribe(State(state): State<AppState>, ws: WebSocketUpgrade) -> Response {
    let rx = state.events.subscribe();
    ws.on_upgrade(move |socket| forward(socket, rx))
}

async fn forward(mut socket: WebSocket, mut rx: tokio::sync::broadcast::Receiver<crate::events::Event>) {
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
                    Err(RecvError::Closed) => return,
                };
                if socket.send(Message::Text(text.into())).await.is_err() {
                    return;
                }
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                _ => {}
            },
        }
    }
}
