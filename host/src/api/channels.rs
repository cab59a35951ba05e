//! `/api/v1/channels`: every channel with its plugin, capabilities and health.

use super::AppState;
use crate::sync::ChannelSummary;
use axum::extract::State;
use axum::Json;

#[utoipa::path(get, path = "/api/v1/channels", responses((status = 200, body = Vec<ChannelSummary>)))]
pub async fn list(State(state): State<AppState>) -> Json<Vec<ChannelSummary>> {
    Json(state.channels.list())
}
