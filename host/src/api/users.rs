//! `/api/v1/users` and `/api/v1/tokens`: teammates (everyone sees them, to assign work;
//! admins manage them) and one's own API tokens.

use super::auth::{AdminUser, CurrentUser};
use super::error::{ApiError, Body, ErrorBody};
use super::AppState;
use crate::accounts::{ApiToken, NewUser, User, UserPatch};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[utoipa::path(operation_id = "users_list", get, path = "/api/v1/users", responses((status = 200, body = Vec<User>)))]
pub async fn list(State(state): State<AppState>, _: CurrentUser) -> Result<Json<Vec<User>>, ApiError> {
    Ok(Json(state.accounts.users().await?))
}

#[utoipa::path(operation_id = "users_create", post, path = "/api/v1/users", request_body = NewUser,
    responses((status = 201, body = User), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    _: AdminUser,
    Body(new): Body<NewUser>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    Ok((StatusCode::CREATED, Json(state.accounts.add_user(new).await?)))
}

#[utoipa::path(operation_id = "users_update", patch, path = "/api/v1/users/{id}", request_body = UserPatch,
    responses((status = 200, body = User), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    _: AdminUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    Body(patch): Body<UserPatch>,
) -> Result<Json<User>, ApiError> {
    // A new password, role or disabling signs the user out everywhere but here.
    let own_session = super::auth::session_cookie(&headers);
    Ok(Json(state.accounts.update_user(&id, patch, own_session.as_deref()).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct NewToken {
    /// What the token is for, e.g. "CRM sync".
    pub name: String,
    /// Days until the token stops working (1 to 3650); absent: until revoked.
    #[serde(default)]
    pub expires_in_days: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub token: ApiToken,
    /// Send as `Authorization: Bearer <secret>`. Shown this once only.
    pub secret: String,
}

#[utoipa::path(operation_id = "users_tokens", get, path = "/api/v1/tokens", responses((status = 200, body = Vec<ApiToken>)))]
pub async fn tokens(State(state): State<AppState>, CurrentUser(user): CurrentUser) -> Result<Json<Vec<ApiToken>>, ApiError> {
    Ok(Json(state.accounts.tokens(&user).await?))
}

#[utoipa::path(operation_id = "users_create_token", post, path = "/api/v1/tokens", request_body = NewToken,
    responses((status = 201, body = CreatedToken), (status = 400, body = ErrorBody)))]
pub async fn create_token(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Body(req): Body<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let (token, secret) = state.accounts.create_token(&user, &req.name, req.expires_in_days).await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { token, secret })))
}

#[utoipa::path(operation_id = "users_revoke_token", delete, path = "/api/v1/tokens/{id}", responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn revoke_token(State(state): State<AppState>, CurrentUser(user): CurrentUser, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    state.accounts.revoke_token(&user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
