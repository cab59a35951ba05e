//! The API's one error type: every failure is a status and a JSON body with a message.

use crate::accounts::AccountError;
use crate::inbox::InboxError;
use crate::plugins::{ChannelFailure, PluginError};
use crate::sync::SyncError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds, for a `Retry-After` header (429, 503).
    pub retry_after: Option<u64>,
}

/// The body of every error response.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// A stable, machine-readable code: `not_found`, `bad_request`, `unsupported_action`, ...
    pub code: String,
    /// What went wrong, in words for a person.
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), retry_after: None }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds.max(1));
        self
    }
}

/// A JSON request body whose rejection (wrong content type, unreadable JSON, missing fields) is
/// an `ApiError`: a 400 with the reason, like every other error.
#[derive(axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Body<T>(pub T);

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(e: axum::extract::rejection::JsonRejection) -> Self {
        Self::bad_request(e.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(status = %self.status, "{}", self.message);
        }
        let mut response = (self.status, Json(ErrorBody { code: self.code.into(), message: self.message })).into_response();
        if let Some(s) = self.retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, s.into());
        }
        response
    }
}

impl From<InboxError> for ApiError {
    fn from(e: InboxError) -> Self {
        let message = e.to_string();
        match e {
            InboxError::NotFound(_) => Self::not_found(message),
            InboxError::BadRequest(_) => Self::bad_request(message),
            InboxError::Forbidden(_) => Self::new(StatusCode::FORBIDDEN, "forbidden", message),
            InboxError::Unsupported(_) => Self::new(StatusCode::UNPROCESSABLE_ENTITY, "unsupported_action", message),
            InboxError::OutsideWindow(_) => Self::new(StatusCode::UNPROCESSABLE_ENTITY, "outside_messaging_window", message),
            InboxError::Platform(p) => platform_error(p),
            InboxError::Search(crate::search::SearchError::BadQuery(_)) => Self::bad_request(message),
            InboxError::Search(crate::search::SearchError::Busy) => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "busy", message).retry_after(1)
            }
            InboxError::Conflict(_) => Self::new(StatusCode::CONFLICT, "conflict", message),
            InboxError::Busy(_) => Self::new(StatusCode::SERVICE_UNAVAILABLE, "busy", message).retry_after(1),
            InboxError::Interrupted => Self::new(StatusCode::SERVICE_UNAVAILABLE, "interrupted", message).retry_after(1),
            InboxError::Store(_) | InboxError::Search(_) => Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message),
        }
    }
}

fn platform_error(e: PluginError) -> ApiError {
    let message = e.to_string();
    match e {
        PluginError::Channel(ChannelFailure::RateLimited { .. }) => ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message),
        PluginError::Channel(ChannelFailure::Unauthorized(_)) => ApiError::new(StatusCode::BAD_GATEWAY, "needs_reconnect", message),
        PluginError::Busy => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", message),
        PluginError::Channel(_) => ApiError::new(StatusCode::BAD_GATEWAY, "platform_error", message),
        _ => ApiError::new(StatusCode::BAD_GATEWAY, "plugin_failed", message),
    }
}

impl From<SyncError> for ApiError {
    fn from(e: SyncError) -> Self {
        let message = e.to_string();
        match e {
            SyncError::UnknownChannel(_) | SyncError::NoWebhooks(_) | SyncError::Disabled(_) => Self::not_found(message),
            SyncError::Unavailable(..) => Self::new(StatusCode::SERVICE_UNAVAILABLE, "channel_unavailable", message),
            // 5xx makes the platform redeliver later.
            SyncError::Plugin(..) => Self::new(StatusCode::SERVICE_UNAVAILABLE, "plugin_failed", message),
            SyncError::Store(..) => Self::new(StatusCode::SERVICE_UNAVAILABLE, "store_failed", message),
            SyncError::Busy(..) => Self::new(StatusCode::SERVICE_UNAVAILABLE, "busy", message).retry_after(1),
            SyncError::NotReady(..) => Self::new(StatusCode::UNPROCESSABLE_ENTITY, "channel_not_ready", message),
            SyncError::Vault(crate::sync::vault::VaultError::NoKey) => Self::new(StatusCode::CONFLICT, "no_secret_key", message),
            SyncError::Vault(_) => Self::new(StatusCode::INTERNAL_SERVER_ERROR, "secret_key", message),
            SyncError::BadSecrets(_) => Self::new(StatusCode::UNPROCESSABLE_ENTITY, "bad_secrets", message),
            SyncError::PluginRefused(_) => Self::new(StatusCode::UNPROCESSABLE_ENTITY, "plugin_refused", message),
            SyncError::BadChannel(_) => Self::new(StatusCode::UNPROCESSABLE_ENTITY, "bad_channel", message),
            SyncError::Conflict(_) => Self::new(StatusCode::CONFLICT, "conflict", message),
        }
    }
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        let message = e.to_string();
        match e {
            AccountError::BadRequest(_) => Self::bad_request(message),
            AccountError::NotFound(_) => Self::not_found(message),
            AccountError::Conflict(_) => Self::new(StatusCode::CONFLICT, "conflict", message),
            AccountError::WrongCredentials => Self::new(StatusCode::UNAUTHORIZED, "wrong_credentials", message),
            AccountError::Throttled(wait) => {
                Self::new(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", message).retry_after(wait.as_secs_f64().ceil() as u64)
            }
            AccountError::Busy => Self::new(StatusCode::TOO_MANY_REQUESTS, "busy", message).retry_after(1),
            AccountError::Store(_) => Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message),
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        InboxError::from(e).into()
    }
}
