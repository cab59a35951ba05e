//! `/webhooks/{channel_id}`: the raw delivery goes to the channel's plugin, which verifies it
//! and answers the platform. The answer is served from our own origin, so only a plain status,
//! a text or JSON body and nothing else of the plugin's reaches the sender; and the sender is
//! told no more than "not here" or "try again" (the details go to the log and channel health).

use super::error::ApiError;
use super::AppState;
use crate::plugins::WebhookRequest;
use crate::sync::SyncError;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// Request headers a plugin never sees: a browser tricked into posting here would carry the
/// agent's session in them.
const WITHHELD: [&str; 2] = ["cookie", "proxy-authorization"];

/// `Authorization` reaches the plugin only as a platform's bearer token (Google's signed
/// Pub/Sub token): never Basic credentials a browser may add by itself, never one of our own
/// API tokens.
fn passed_on(name: &str, value: &str) -> bool {
    if WITHHELD.contains(&name) {
        return false;
    }
    if name != "authorization" {
        return true;
    }
    match value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")) {
        Some(token) => !token.trim_start().starts_with(crate::accounts::TOKEN_PREFIX),
        None => false,
    }
}

/// The webhook answer's own policy: nothing in it may run, load or be framed.
const WEBHOOK_CSP: &str = "sandbox; default-src 'none'";

pub async fn deliver(
    State(state): State<AppState>,
    Path(channel): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path_and_query().map(|p| p.to_string()).unwrap_or_default();
    let req = WebhookRequest {
        method: method.to_string(),
        // The URL the platform called, which some sign (Twilio): ours, as `--public-url` says.
        url: match &state.public_origin {
            Some(origin) => format!("{origin}{path}"),
            None => path,
        },
        headers: headers
            .iter()
            .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_string())))
            .filter(|(k, v)| passed_on(k, v))
            .collect(),
        body: body.to_vec(),
    };
    let mut response = match state.channels.webhook(&channel, req).await {
        Ok(outcome) => answer(outcome.status, &outcome.headers, outcome.body),
        Err(e) => {
            tracing::warn!(%channel, "webhook not taken: {e}");
            platform_error(&e).into_response()
        }
    };
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(WEBHOOK_CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The plugin's answer, reduced to what a platform needs: a status of 200–599 and a body typed
/// as text or JSON (anything else is served as text, so a browser never renders it).
fn answer(status: u16, headers: &[(String, String)], body: Vec<u8>) -> Response {
    let Some(status) = StatusCode::from_u16(status).ok().filter(|s| (200..=599).contains(&s.as_u16())) else {
        tracing::warn!(status, "a plugin answered a webhook with a status outside 200-599");
        return ApiError::new(StatusCode::BAD_GATEWAY, "bad_plugin_answer", "the channel could not answer this delivery").into_response();
    };
    let json = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("content-type") && v.trim_start().to_ascii_lowercase().starts_with("application/json"));
    let content_type = if json { "application/json" } else { "text/plain; charset=utf-8" };
    (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// What the sender of a failed delivery is told: a status that makes platforms redeliver when
/// it may work later, and words that name no channel, key or internal error.
fn platform_error(e: &SyncError) -> ApiError {
    match e {
        SyncError::UnknownChannel(_) | SyncError::NoWebhooks(_) | SyncError::Disabled(_) => {
            ApiError::not_found("no webhook here")
        }
        SyncError::Busy(_) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", "busy; deliver again later").retry_after(1),
        SyncError::Unavailable(..)
        | SyncError::Plugin(..)
        | SyncError::Store(..)
        | SyncError::NotReady(..)
        | SyncError::Vault(_)
        | SyncError::BadSecrets(_)
        | SyncError::PluginRefused(_)
        | SyncError::BadChannel(_)
        | SyncError::Conflict(_) => {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "not taken; deliver again later")
        }
    }
}
