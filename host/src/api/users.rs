//! `/api/v1/users` and `/api/v1/tokens`: teammates (everyone sees them, to assign work;
//! admins manage them) and one's own API tokens.

use super::auth::{AdminUser, CurrentUser};
use super::error::{ApiError, Body, ErrorBody};
use super::AppState;
use crate::accounts::{Acceptance, ApiToken, Invitation, NewUser, Role, User, UserPatch};
use axum::response::Response;
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

#[derive(Deserialize, ToSchema)]
pub struct NewInvitation {
    pub role: Role,
    /// Who it is for; the form the invitee fills in starts with it.
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedInvitation {
    #[serde(flatten)]
    pub invitation: Invitation,
    /// The link to send (the secret rides in its `#` part, which browsers never send to servers).
    /// Shown this once only.
    pub url: String,
}

/// An invitation link's secret, to see what it invites to.
#[derive(Deserialize, ToSchema)]
pub struct InvitationSecret {
    pub secret: String,
}

#[utoipa::path(operation_id = "invitations_create", post, path = "/api/v1/invitations", request_body = NewInvitation,
    responses((status = 201, body = CreatedInvitation), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn invite(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    headers: HeaderMap,
    Body(req): Body<NewInvitation>,
) -> Result<(StatusCode, Json<CreatedInvitation>), ApiError> {
    let (invitation, secret) = state.accounts.invite(&admin, req.role, req.email).await?;
    // The origin people reach the server at: the configured one, else the one this request came to.
    let origin = state.public_origin.clone().or_else(|| {
        headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).map(|h| format!("http://{h}"))
    });
    let url = format!("{}/invite#{secret}", origin.unwrap_or_default());
    Ok((StatusCode::CREATED, Json(CreatedInvitation { invitation, url })))
}

#[utoipa::path(operation_id = "invitations_list", get, path = "/api/v1/invitations", responses((status = 200, body = Vec<Invitation>), (status = 403, body = ErrorBody)))]
pub async fn invitations(State(state): State<AppState>, _: AdminUser) -> Result<Json<Vec<Invitation>>, ApiError> {
    Ok(Json(state.accounts.invitations().await?))
}

#[utoipa::path(operation_id = "invitations_revoke", delete, path = "/api/v1/invitations/{id}", responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn revoke_invitation(State(state): State<AppState>, _: AdminUser, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    state.accounts.revoke_invitation(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(operation_id = "invitation_open", post, path = "/api/v1/invitation", request_body = InvitationSecret,
    responses((status = 200, body = Invitation), (status = 404, description = "Used, revoked or expired", body = ErrorBody)))]
pub async fn open_invitation(State(state): State<AppState>, Body(req): Body<InvitationSecret>) -> Result<Json<Invitation>, ApiError> {
    Ok(Json(state.accounts.invitation(&req.secret).await?))
}

#[utoipa::path(operation_id = "invitation_accept", post, path = "/api/v1/invitation/accept", request_body = Acceptance,
    responses((status = 200, body = User, description = "The new user, signed in"), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn accept_invitation(State(state): State<AppState>, Body(req): Body<Acceptance>) -> Result<Response, ApiError> {
    let (user, secret) = state.accounts.accept(req).await?;
    Ok(super::auth::with_session(&state, user, &secret))
}
