//! `/api/v1/saved-replies`: the answers agents insert in the reply box. Everyone lists what
//! they may use; agents manage their own, admins the team and global ones.

use super::auth::CurrentUser;
use super::error::{ApiError, Body, ErrorBody};
use super::AppState;
use crate::inbox::saved_replies::{SavedReply, SavedReplyInput};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

#[utoipa::path(operation_id = "saved_replies_list", get, path = "/api/v1/saved-replies", responses((status = 200, body = Vec<SavedReply>)))]
pub async fn list(State(state): State<AppState>, CurrentUser(user): CurrentUser) -> Result<Json<Vec<SavedReply>>, ApiError> {
    let teams = state.accounts.teams().await?;
    Ok(Json(state.inbox.saved_replies(&user, &teams).await?))
}

#[utoipa::path(operation_id = "saved_replies_create", post, path = "/api/v1/saved-replies", request_body = SavedReplyInput,
    responses((status = 201, body = SavedReply), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create(State(state): State<AppState>, CurrentUser(user): CurrentUser, Body(input): Body<SavedReplyInput>) -> Result<(StatusCode, Json<SavedReply>), ApiError> {
    let teams = state.accounts.teams().await?;
    Ok((StatusCode::CREATED, Json(state.inbox.save_reply(&user, &teams, None, input).await?)))
}

#[utoipa::path(operation_id = "saved_replies_update", put, path = "/api/v1/saved-replies/{id}", request_body = SavedReplyInput,
    responses((status = 200, body = SavedReply), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(State(state): State<AppState>, CurrentUser(user): CurrentUser, Path(id): Path<String>, Body(input): Body<SavedReplyInput>) -> Result<Json<SavedReply>, ApiError> {
    let teams = state.accounts.teams().await?;
    Ok(Json(state.inbox.save_reply(&user, &teams, Some(&id), input).await?))
}

#[utoipa::path(operation_id = "saved_replies_delete", delete, path = "/api/v1/saved-replies/{id}",
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(State(state): State<AppState>, CurrentUser(user): CurrentUser, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    let teams = state.accounts.teams().await?;
    state.inbox.delete_reply(&user, &teams, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
