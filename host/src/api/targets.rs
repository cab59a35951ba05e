//! `/api/v1/response-targets`: how soon the team promises to answer and resolve (admins set
//! them, everyone sees them). A change restamps the stored tickets' due times in the background.

use super::auth::{AdminUser, CurrentUser};
use super::error::{ApiError, Body, ErrorBody};
use super::AppState;
use crate::inbox::targets::{ResponseTarget, ResponseTargetInput};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

#[utoipa::path(operation_id = "targets_list", get, path = "/api/v1/response-targets", responses((status = 200, body = Vec<ResponseTarget>)))]
/// The targets in the order they apply: the first that covers a ticket is its target.
pub async fn list(State(state): State<AppState>, _: CurrentUser) -> Result<Json<Vec<ResponseTarget>>, ApiError> {
    Ok(Json(state.inbox.response_targets().await?))
}

#[utoipa::path(operation_id = "targets_create", post, path = "/api/v1/response-targets", request_body = ResponseTargetInput,
    responses((status = 201, body = ResponseTarget), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create(State(state): State<AppState>, _: AdminUser, Body(input): Body<ResponseTargetInput>) -> Result<(StatusCode, Json<ResponseTarget>), ApiError> {
    super::teams::check_channels(&state, &input.channels)?;
    let target = state.inbox.save_target(None, input, &state.accounts.teams().await?).await?;
    refresh(&state).await?;
    Ok((StatusCode::CREATED, Json(target)))
}

#[utoipa::path(operation_id = "targets_update", put, path = "/api/v1/response-targets/{id}", request_body = ResponseTargetInput,
    responses((status = 200, body = ResponseTarget), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(State(state): State<AppState>, _: AdminUser, Path(id): Path<String>, Body(input): Body<ResponseTargetInput>) -> Result<Json<ResponseTarget>, ApiError> {
    super::teams::check_channels(&state, &input.channels)?;
    let target = state.inbox.save_target(Some(&id), input, &state.accounts.teams().await?).await?;
    refresh(&state).await?;
    Ok(Json(target))
}

#[utoipa::path(operation_id = "targets_delete", delete, path = "/api/v1/response-targets/{id}",
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(State(state): State<AppState>, _: AdminUser, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    state.inbox.delete_target(&id).await?;
    refresh(&state).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Targets, teams or business hours changed: tickets are due anew, from now on and (in the
/// background) the stored ones.
pub async fn refresh(state: &AppState) -> Result<(), ApiError> {
    if !state.inbox.set_policy(state.accounts.teams().await?, state.accounts.channel_hours().await?).await? {
        return Ok(());
    }
    let inbox = state.inbox.clone();
    tokio::spawn(async move {
        match inbox.retarget().await {
            Ok(n) => tracing::info!(tickets = n, "due times restamped"),
            Err(e) => tracing::warn!(error = %e, "restamping due times failed"),
        }
    });
    Ok(())
}
