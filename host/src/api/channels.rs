//! `/api/v1/channels` and `/api/v1/status`: channels with their plugin, capabilities and health,
//! and the counts that show the store and the search index agree.

use super::auth::{AdminUser, CurrentUser};
use super::error::{ApiError, Body, ErrorBody};
use super::AppState;
use crate::inbox::Status;
use crate::sync::{AvailablePlugin, ChannelChange, ChannelSummary, ConnectedChannel, ConnectionTest, InstalledPlugin};
use axum::extract::{Path, State};
use axum::Json;

#[utoipa::path(operation_id = "channels_list", get, path = "/api/v1/channels", responses((status = 200, body = Vec<ChannelSummary>)))]
pub async fn list(State(state): State<AppState>, _: CurrentUser) -> Json<Vec<ChannelSummary>> {
    Json(state.channels.list())
}

#[utoipa::path(operation_id = "channels_status", get, path = "/api/v1/status", responses((status = 200, body = Status)))]
pub async fn status(State(state): State<AppState>, _: CurrentUser) -> Result<Json<Status>, ApiError> {
    Ok(Json(state.inbox.status().await?))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelPatch {
    pub enabled: Option<bool>,
    /// For channels connected in the UI: the name agents see.
    pub display_name: Option<String>,
    /// For channels connected in the UI: all its settings that are not secrets (absent ones go
    /// back to the plugin's defaults).
    pub config: Option<std::collections::BTreeMap<String, String>>,
}

#[utoipa::path(operation_id = "channels_update", patch, path = "/api/v1/channels/{id}", request_body = ChannelPatch,
    responses((status = 200, body = ChannelSummary), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "Its name or settings come from plugins.toml", body = ErrorBody),
        (status = 422, description = "It cannot be enabled as configured (a required setting is missing), or a setting is not the plugin's; says which", body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<String>,
    Body(patch): Body<ChannelPatch>,
) -> Result<Json<ChannelSummary>, ApiError> {
    let mut summary = None;
    if patch.display_name.is_some() || patch.config.is_some() {
        summary = Some(state.channels.edit(&id, patch.display_name, patch.config, &admin.name).await?);
    }
    if let Some(enabled) = patch.enabled {
        summary = Some(state.channels.set_enabled(&id, enabled, &admin.name).await?);
    }
    summary.map(Json).ok_or_else(|| ApiError::bad_request("nothing to change: give `enabled`, `display_name` or `config`"))
}

/// New values for some of a channel's secrets (by setting name).
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretsUpdate {
    pub secrets: std::collections::BTreeMap<String, String>,
}

/// Replace secrets (reconnect a channel whose token was revoked): sealed at rest, used from the
/// channel's next call, never shown again.
#[utoipa::path(operation_id = "channels_set_secrets", put, path = "/api/v1/channels/{id}/secrets", request_body = SecretsUpdate,
    responses((status = 200, body = ChannelSummary), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "No secret key is configured (`--secret-key-file`)", body = ErrorBody),
        (status = 422, description = "Not a secret of this channel, or empty", body = ErrorBody)))]
pub async fn set_secrets(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<String>,
    Body(update): Body<SecretsUpdate>,
) -> Result<Json<ChannelSummary>, ApiError> {
    Ok(Json(state.channels.set_secrets(&id, update.secrets, &admin.name).await?))
}

/// What admins changed on the channel, newest first.
#[utoipa::path(operation_id = "channels_history", get, path = "/api/v1/channels/{id}/history",
    responses((status = 200, body = Vec<ChannelChange>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn history(State(state): State<AppState>, _: AdminUser, Path(id): Path<String>) -> Result<Json<Vec<ChannelChange>>, ApiError> {
    Ok(Json(state.channels.history(&id).await?))
}

#[utoipa::path(operation_id = "channels_check", post, path = "/api/v1/channels/{id}/check",
    responses((status = 200, description = "The plugin's connection test, passed or not", body = ConnectionTest),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, description = "Its plugin did not load", body = ErrorBody)))]
pub async fn check(State(state): State<AppState>, _: AdminUser, Path(id): Path<String>) -> Result<Json<ConnectionTest>, ApiError> {
    Ok(Json(state.channels.test_connection(&id).await?))
}

/// Install or upgrade a plugin: the `.wasm` component as the body. Checked as `helpdesk plugin
/// check` does and against every channel that runs it, then swapped in without a restart (calls
/// under way finish on the old version); a version that fails is refused and the old one runs on.
#[utoipa::path(operation_id = "plugins_install", put, path = "/api/v1/plugins/{name}", request_body(content = Vec<u8>, content_type = "application/wasm"),
    responses((status = 200, body = InstalledPlugin), (status = 403, body = ErrorBody),
        (status = 422, description = "Refused: not a component of a contract this host runs, its describe failed, a pinned SHA-256 differs, or a channel lacks a setting it requires", body = ErrorBody)))]
pub async fn install_plugin(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(name): Path<String>,
    wasm: axum::body::Bytes,
) -> Result<Json<InstalledPlugin>, ApiError> {
    Ok(Json(state.channels.install_plugin(&name, &wasm, &admin.name).await?))
}

/// The installed plugins an admin may connect a channel with, and what each declares.
#[utoipa::path(operation_id = "plugins_list", get, path = "/api/v1/plugins",
    responses((status = 200, body = Vec<AvailablePlugin>), (status = 403, body = ErrorBody)))]
pub async fn plugins(State(state): State<AppState>, _: AdminUser) -> Json<Vec<AvailablePlugin>> {
    Json(state.channels.plugins().await)
}

/// Connect a new channel: an installed plugin, its settings and secrets (sealed, never shown
/// again), the hosts approved of those it asks for. It runs at once and after restarts.
#[utoipa::path(operation_id = "channels_connect", post, path = "/api/v1/channels", request_body = ConnectedChannel,
    responses((status = 201, body = ChannelSummary), (status = 403, body = ErrorBody),
        (status = 409, description = "The id is taken, or no secret key is configured", body = ErrorBody),
        (status = 422, description = "Not the plugin's setting, secret or host; a required one missing; a bad id", body = ErrorBody)))]
pub async fn connect(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Body(new): Body<ConnectedChannel>,
) -> Result<(axum::http::StatusCode, Json<ChannelSummary>), ApiError> {
    Ok((axum::http::StatusCode::CREATED, Json(state.channels.connect(new, &admin.name).await?)))
}

/// Remove a channel an admin connected: it stops, its settings and secrets go; its tickets
/// stay. A plugins.toml channel is removed from plugins.toml (409 here).
#[utoipa::path(operation_id = "channels_remove", delete, path = "/api/v1/channels/{id}",
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "It comes from plugins.toml", body = ErrorBody)))]
pub async fn remove(State(state): State<AppState>, AdminUser(admin): AdminUser, Path(id): Path<String>) -> Result<axum::http::StatusCode, ApiError> {
    state.channels.remove(&id, &admin.name).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[utoipa::path(operation_id = "channels_answers", get, path = "/api/v1/channels/answers",
    responses((status = 200, body = Vec<crate::inbox::LastAnswer>), (status = 403, body = ErrorBody)))]
/// When an agent last answered on each channel (channels never answered on are not listed):
/// the admins see the channels left without answers.
pub async fn answers(State(state): State<AppState>, _: AdminUser) -> Result<Json<Vec<crate::inbox::LastAnswer>>, ApiError> {
    Ok(Json(state.inbox.last_answers().await?))
}
