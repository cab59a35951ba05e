//! What operators and their tools ask a running host: `/healthz` (the process answers),
//! `/readyz` (the store answers and the search index has caught up: send it traffic),
//! `/metrics` (Prometheus), and the layer that counts every HTTP request by route.

use super::error::ApiError;
use super::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// Store changes the index may still have to take in for the host to count as ready: about a
/// second of the heaviest ingestion measured (docs/benchmarks.md), so a host busy ingesting
/// stays ready and one rebuilding or catching up after a crash is not.
const READY_LAG: i64 = 5_000;

pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

pub async fn readyz(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let (store, lag) = state.inbox.readiness().await;
    if let Err(e) = store {
        return Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", format!("the store does not answer: {e}")));
    }
    if lag > READY_LAG {
        return Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", format!("the search index is {lag} changes behind the store")));
    }
    Ok(Json(json!({"status": "ready", "index_lag": lag})))
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    // Gauges read at scrape time.
    let _ = state.inbox.readiness().await;
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], crate::metrics::render()).into_response()
}

/// Count and time a request by the route it matched (`/api/v1/tickets/{id}`, never the id).
pub async fn track(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_else(|| "unmatched".into());
    let method = request.method().to_string();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::histogram!(crate::metrics::HTTP_SECONDS, "route" => route.clone(), "method" => method.clone()).record(started.elapsed().as_secs_f64());
    metrics::counter!(crate::metrics::HTTP_REQUESTS, "route" => route, "method" => method, "status" => status).increment(1);
    response
}

/// A backup of the whole store as SurrealQL, read in one transaction while the server goes on
/// writing (`helpdesk backup --server` saves it; `helpdesk restore` loads it into an empty store).
#[utoipa::path(operation_id = "ops_backup", get, path = "/api/v1/backup",
    responses((status = 200, description = "The store as SurrealQL", content_type = "application/sql"), (status = 403, body = super::error::ErrorBody)))]
pub async fn backup(State(state): State<AppState>, super::auth::AdminUser(admin): super::auth::AdminUser) -> Result<Response, super::error::ApiError> {
    if state.inbox.store().is_shared() {
        return Err(super::error::ApiError::new(axum::http::StatusCode::NOT_IMPLEMENTED, "backup_unsupported", crate::store::backup::SERVER_BACKUP));
    }
    let chunks = state.inbox.store().export().await.map_err(crate::inbox::InboxError::from)?;
    tracing::info!(by = %admin.name, "a backup was taken");
    let name = format!("attachment; filename=\"helpdesk-{}.surql\"", chrono::Utc::now().format("%Y%m%d-%H%M%S"));
    let mut response = axum::body::Body::from_stream(chunks).into_response();
    let h = response.headers_mut();
    h.insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/sql"));
    if let Ok(v) = axum::http::HeaderValue::from_str(&name) {
        h.insert(axum::http::header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}
