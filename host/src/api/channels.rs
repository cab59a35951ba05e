//! `/api/v1/channels` and `/api/v1/status`: channels with their plugin, capabilities and health,
//! and the counts that show the store and the search index agree.

use super::error::ApiError;
use super::AppState;
use crate::inbox::Status;
use crate::sync::ChannelSummary;
use axum::extract::State;
use axum::Json;

#[utoipa::path(get, path = "/api/v1/channels", responses((status = 200, body = Vec<ChannelSummary>)))]
pub async fn list(State(state): State<AppState>) -> Json<Vec<ChannelSummary>> {
    Json(state.channels.list())
}

#[utoipa::path(get, path = "/api/v1/status", responses((status = 200, body = Status)))]
pub async fn status(State(state): State<AppState>) -> Result<Json<Status>, ApiError> {
    Ok(Json(state.inbox.status().await?))
}
