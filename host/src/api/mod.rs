//! The HTTP surface: REST under `/api/v1`, live events, platform webhooks, the UI.

mod channels;
mod error;
mod events;
mod tickets;
mod webhooks;

pub use error::ApiError;

use crate::events::EventBus;
use crate::inbox::Inbox;
use crate::sync::Channels;
use axum::extract::DefaultBodyLimit;
use axum::response::Html;
use axum::routing::{any, get, post};
use axum::{Json, Router};
use std::sync::Arc;
use utoipa::OpenApi;

#[derive(Clone)]
pub struct AppState {
    pub inbox: Arc<Inbox>,
    pub channels: Arc<Channels>,
    pub events: EventBus,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Helpdesk API", description = "Tickets from every social channel, one inbox."),
    paths(tickets::list, tickets::get, tickets::action, tickets::update, channels::list, channels::status),
    components(schemas(crate::events::Event))
)]
struct ApiDoc;

/// Largest webhook body accepted.
const MAX_WEBHOOK_BODY: usize = 5 << 20;

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/tickets", get(tickets::list))
        .route("/tickets/{id}", get(tickets::get).patch(tickets::update))
        .route("/tickets/{id}/actions", post(tickets::action))
        .route("/channels", get(channels::list))
        .route("/status", get(channels::status))
        .route("/events", get(events::subscribe))
        .route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
        .fallback(|| async { ApiError::not_found("no such API route") });
    Router::new()
        .nest("/api/v1", api)
        .route("/webhooks/{channel_id}", any(webhooks::deliver).layer(DefaultBodyLimit::max(MAX_WEBHOOK_BODY)))
        .route("/", get(|| async { Html(include_str!("../../../web/index.html")) }))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}
