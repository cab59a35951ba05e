//! Signing in: the session cookie for the web UI, bearer API tokens for integrations, and the
//! first admin on a fresh install. Every `/api/v1` route but these takes a `CurrentUser`.

use super::error::{ApiError, Body, ErrorBody};
use super::AppState;
use crate::accounts::{NewUser, Role, SetupCheck, User};
use axum::extract::{ConnectInfo, FromRequestParts, State};
use std::net::SocketAddr;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const SESSION_COOKIE: &str = "helpdesk_session";
/// The cookie's name over TLS: `__Host-` makes the browser refuse it unless it is `Secure`,
/// host-only and for `/`, so a sibling subdomain cannot plant or shadow it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-helpdesk_session";

/// The signed-in user making the request.
pub struct CurrentUser(pub User);

/// The signed-in user is an admin.
pub struct AdminUser(pub User);

pub(super) fn credential(headers: &HeaderMap) -> Option<String> {
    if let Some(token) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")) {
        return Some(token.trim().to_string());
    }
    session_cookie(headers)
}

pub(super) fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE || *k == SECURE_SESSION_COOKIE)
        .map(|(_, v)| v.to_string())
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let unauthorized = || ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "sign in first (session cookie or `Authorization: Bearer` token)");
        let secret = credential(&parts.headers).ok_or_else(unauthorized)?;
        let user = state.accounts.authenticate(&secret).await?.ok_or_else(unauthorized)?;
        Ok(CurrentUser(user))
    }
}

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let CurrentUser(user) = CurrentUser::from_request_parts(parts, state).await?;
        if !user.is_admin() {
            return Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden", "only admins can do this"));
        }
        Ok(AdminUser(user))
    }
}

#[derive(Deserialize, ToSchema)]
pub struct SignIn {
    pub email: String,
    pub password: String,
}

/// The `Set-Cookie` value for a session secret (`None`: expire it).
fn session_cookie_header(state: &AppState, secret: Option<&str>) -> String {
    let (name, secure) = if state.secure_cookies() { (SECURE_SESSION_COOKIE, "; Secure") } else { (SESSION_COOKIE, "") };
    // Strict: the cookie never rides on a request started by another site.
    match secret {
        Some(s) => format!("{name}={s}; HttpOnly; SameSite=Strict; Path=/; Max-Age=1209600{secure}"),
        None => format!("{name}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{secure}"),
    }
}

pub(super) fn with_session(state: &AppState, user: User, secret: &str) -> Response {
    ([(header::SET_COOKIE, session_cookie_header(state, Some(secret)))], Json(user)).into_response()
}

#[utoipa::path(operation_id = "sign_in", post, path = "/api/v1/session", request_body = SignIn,
    responses((status = 200, body = User, description = "Signed in; sets the session cookie"), (status = 401, body = ErrorBody),
        (status = 429, description = "Too many attempts from this address or on this account (see `Retry-After`)", body = ErrorBody)))]
pub async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Body(req): Body<SignIn>,
) -> Result<Response, ApiError> {
    let ip = Some(peer.ip());
    let (user, secret) = state.accounts.sign_in(&req.email, &req.password, ip).await?;
    Ok(with_session(&state, user, &secret))
}

#[utoipa::path(operation_id = "sign_out", delete, path = "/api/v1/session", responses((status = 204, description = "Signed out")))]
pub async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(secret) = session_cookie(&headers) {
        state.accounts.sign_out(&secret).await?;
    }
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, session_cookie_header(&state, None))]).into_response())
}

#[utoipa::path(operation_id = "me", get, path = "/api/v1/me", responses((status = 200, body = User), (status = 401, body = ErrorBody)))]
pub async fn me(CurrentUser(user): CurrentUser) -> Json<User> {
    Json(user)
}

/// Whether the install still needs its first admin.
#[derive(Serialize, ToSchema)]
pub struct SetupState {
    pub needs_first_admin: bool,
}

#[derive(Deserialize, ToSchema)]
pub struct FirstAdmin {
    /// The one-time code the server printed at start.
    pub setup_code: String,
    pub email: String,
    pub name: String,
    pub password: String,
}

#[utoipa::path(operation_id = "setup_state", get, path = "/api/v1/setup", responses((status = 200, body = SetupState)))]
pub async fn setup_state(State(state): State<AppState>) -> Result<Json<SetupState>, ApiError> {
    Ok(Json(SetupState { needs_first_admin: !state.accounts.has_users().await? }))
}

#[utoipa::path(operation_id = "setup", post, path = "/api/v1/setup", request_body = FirstAdmin,
    responses((status = 200, body = User, description = "The first admin, signed in"), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn setup(State(state): State<AppState>, Body(req): Body<FirstAdmin>) -> Result<Response, ApiError> {
    if state.accounts.has_users().await? {
        return Err(ApiError::new(StatusCode::CONFLICT, "already_set_up", "this helpdesk already has users: sign in instead"));
    }
    let wrong = |why: String| ApiError::new(StatusCode::FORBIDDEN, "wrong_setup_code", why);
    match state.setup.as_ref().map(|s| s.check(&req.setup_code)) {
        Some(SetupCheck::Right) => {}
        Some(SetupCheck::Wrong(left)) => {
            return Err(wrong(format!("wrong setup code ({left} tries left): it is printed in the server's output at start")))
        }
        Some(SetupCheck::Replaced) => {
            return Err(wrong("wrong setup code, too many times: the server printed a new one in its output".into()))
        }
        None => return Err(wrong("this server was started with users; sign in instead".into())),
    }
    let password = req.password.clone();
    let user = state.accounts.add_user(NewUser { email: req.email, name: req.name, role: Role::Admin, password }).await?;
    let (user, secret) = state.accounts.sign_in(&user.email, &req.password, None).await?;
    Ok(with_session(&state, user, &secret))
}
