//! `/webhooks/{channel_id}`: the raw delivery goes to the channel's plugin, which verifies it
//! and answers the platform.

use super::error::ApiError;
use super::AppState;
use crate::plugins::WebhookRequest;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

pub async fn deliver(
    State(state): State<AppState>,
    Path(channel): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req = WebhookRequest {
        method: method.to_string(),
        url: uri.path_and_query().map(|p| p.to_string()).unwrap_or_default(),
        headers: headers.iter().filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_string()))).collect(),
        body: body.to_vec(),
    };
    let outcome = state.channels.webhook(&channel, req).await?;
    let status = StatusCode::from_u16(outcome.status).unwrap_or(StatusCode::OK);
    let mut response = (status, outcome.body).into_response();
    for (k, v) in outcome.headers {
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
            response.headers_mut().insert(k, v);
        }
    }
    Ok(response)
}
