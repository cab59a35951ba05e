//! `/api/v1/events`: a WebSocket pushing every new or changed ticket, note, channel health and
//! presence; the agent sends which ticket they view and whether they are typing.

use super::auth::CurrentUser;
use super::error::ApiError;
use super::presence::Presence;
use super::AppState;
use crate::accounts::{Accounts, User};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use std::time::Duration;
use serde::Deserialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

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

/// The largest message a client may send: its messages are a ticket id and a flag.
const MAX_CLIENT_MESSAGE: usize = 4 << 10;
/// A socket's read buffer: clients only send small messages.
const READ_BUFFER: usize = 8 << 10;
/// How often a socket checks that its sign-in still holds (signed out, disabled, demoted).
const RECHECK: Duration = Duration::from_secs(2);
/// The longest a socket goes without asking the store whether its sign-in still holds.
const RECHECK_ANYWAY: Duration = Duration::from_secs(60);

pub async fn subscribe(State(state): State<AppState>, CurrentUser(user): CurrentUser, headers: HeaderMap, ws: WebSocketUpgrade) -> Result<Response, ApiError> {
    // Browsers send their page's origin with every socket; a page on another site must not
    // open one with the agent's cookie (cross-site WebSocket hijacking).
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or_default();
        if !same_origin(origin, &state, &headers) {
            return Err(ApiError::new(StatusCode::FORBIDDEN, "wrong_origin", format!("sockets are only opened from this server's own pages, not from `{origin}`")));
        }
    }
    let credential = super::auth::credential(&headers).unwrap_or_default();
    let rx = state.events.subscribe();
    let presence = state.presence.clone();
    let accounts = state.accounts.clone();
    // An open page is someone at work: back from Away-for-idling, counted until it closes.
    let (router, inbox) = (state.router.clone(), state.inbox.clone());
    Ok(ws
        .max_message_size(MAX_CLIENT_MESSAGE)
        .max_frame_size(MAX_CLIENT_MESSAGE)
        // tungstenite zero-fills its read buffer as it reads: at its 128 KiB default, 1,000
        // sockets woken by each event spent a third of the server's CPU in memset.
        .read_buffer_size(READ_BUFFER)
        .on_upgrade(move |socket| async move {
            let id = user.id.clone();
            router.page_opened(&inbox, &accounts, &id).await;
            forward(socket, rx, presence, user, accounts, credential).await;
            router.page_closed(&id);
        }))
}

/// The page's origin is the configured public URL's, or else the one the request was sent to.
fn same_origin(origin: &str, state: &AppState, headers: &HeaderMap) -> bool {
    match &state.public_origin {
        Some(public) => origin.eq_ignore_ascii_case(public),
        None => {
            let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
            origin.split_once("://").is_some_and(|(_, rest)| !host.is_empty() && rest.eq_ignore_ascii_case(host))
        }
    }
}

/// Events at most sent in one frame.
const MAX_BATCH: usize = 1024;
/// The shortest time between two frames of one socket.
const MIN_FRAME_GAP: Duration = Duration::from_millis(100);

/// `first`, or with the events already queued behind it, as one frame: under load a socket
/// sends fewer, larger frames (`{"type":"batch","events":[...]}`) with no added wait; one
/// event alone goes as itself. Each event was serialised once, for every socket.
fn batch(first: crate::events::Published, rx: &mut tokio::sync::broadcast::Receiver<crate::events::Published>, viewing: Option<&str>) -> Utf8Bytes {
    let first = first.json_for(viewing).clone();
    let mut more = Vec::new();
    while more.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(e) => more.push(e.json_for(viewing).clone()),
            // The gap is reported once: pass it on in the batch, where it falls.
            Err(TryRecvError::Lagged(n)) => more.push(format!(r#"{{"type":"resync","missed":{n}}}"#).into()),
            Err(_) => break,
        }
    }
    if more.is_empty() {
        return Utf8Bytes::try_from(first).unwrap_or_default();
    }
    let mut out = Vec::with_capacity(first.len() * (more.len() + 1) + 40);
    out.extend_from_slice(br#"{"type":"batch","events":["#);
    for (n, json) in std::iter::once(&first).chain(&more).enumerate() {
        if n > 0 {
            out.push(b',');
        }
        out.extend_from_slice(json);
    }
    out.extend_from_slice(b"]}");
    Utf8Bytes::try_from(bytes::Bytes::from(out)).unwrap_or_default()
}

/// A ticket id as the store makes them (`model::stable_id`): 20 hex digits.
fn plausible_ticket_id(id: &str) -> bool {
    id.len() <= 64 && !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A socket counted in the metrics while it is open, however its task ends.
struct Open;

impl Open {
    fn new() -> Open {
        metrics::gauge!(crate::metrics::WEBSOCKETS).increment(1.0);
        Open
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        metrics::gauge!(crate::metrics::WEBSOCKETS).decrement(1.0);
    }
}

async fn forward(
    mut socket: WebSocket,
    mut rx: tokio::sync::broadcast::Receiver<crate::events::Published>,
    presence: Arc<Presence>,
    user: User,
    accounts: Accounts,
    credential: String,
) {
    let conn = NEXT_CONNECTION.fetch_add(1, Ordering::Relaxed);
    let _open = Open::new();
    if socket.send(Message::Text(r#"{"type":"hello"}"#.into())).await.is_err() {
        return;
    }
    let mut recheck = tokio::time::interval(RECHECK);
    recheck.tick().await;
    let (mut seen, mut checked_at) = (accounts.generation(), std::time::Instant::now());
    let mut last_frame = std::time::Instant::now() - MIN_FRAME_GAP;
    // The ticket this tab has open: its events come with their message.
    let mut viewing: Option<String> = None;
    loop {
        tokio::select! {
            _ = recheck.tick() => {
                // Ask the store only when a sign-in may have ended, and now and then anyway
                // (expiry, changes made by another process).
                if accounts.generation() == seen && checked_at.elapsed() < RECHECK_ANYWAY {
                    continue;
                }
                (seen, checked_at) = (accounts.generation(), std::time::Instant::now());
                let still = accounts.authenticate(&credential).await.ok().flatten();
                if still.is_none_or(|u| u.role != user.role) {
                    let _ = socket.send(Message::Close(Some(CloseFrame { code: 4001, reason: "signed out".into() }))).await;
                    break;
                }
            }
            event = rx.recv() => {
                let text = match event {
                    Ok(first) => {
                        // At most one frame per `MIN_FRAME_GAP`: a quiet inbox gets each event
                        // at once, a busy one gets them together, a few frames a second.
                        let since = last_frame.elapsed();
                        if since < MIN_FRAME_GAP {
                            tokio::time::sleep(MIN_FRAME_GAP - since).await;
                        }
                        batch(first, &mut rx, viewing.as_deref())
                    }
                    // Too slow to keep up: tell the client to reload rather than show a gap.
                    Err(RecvError::Lagged(n)) => format!(r#"{{"type":"resync","missed":{n}}}"#).into(),
                    Err(RecvError::Closed) => break,
                };
                if socket.send(Message::Text(text)).await.is_err() {
                    break;
                }
                last_frame = std::time::Instant::now();
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => match serde_json::from_str::<ClientMessage>(&text) {
                    Ok(ClientMessage::View { ticket_id }) if ticket_id.as_deref().is_none_or(plausible_ticket_id) => {
                        presence.view(conn, &user.id, &user.name, ticket_id.as_deref());
                        viewing = ticket_id;
                    }
                    Ok(ClientMessage::View { .. }) => {
                        let error = serde_json::json!({"type": "error", "message": "that is not a ticket id"});
                        if socket.send(Message::Text(error.to_string().into())).await.is_err() {
                            break;
                        }
                    }
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
