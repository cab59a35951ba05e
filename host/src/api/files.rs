//! `/api/v1/files`: files agents upload to send with replies (a saved reply's, or one reply's),
//! the raw bytes as the body. Served back to agents as the message attachments are: pictures,
//! videos and sounds recognised by their bytes inline, anything else as a sandboxed download.

use super::auth::CurrentUser;
use super::error::{ApiError, ErrorBody};
use super::media::{serve, MediaQuery};
use super::AppState;
use crate::inbox::files::{StoredFile, MAX_FILE_BYTES};
use crate::plugins::Media;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use serde::Deserialize;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct UploadQuery {
    /// The file's name, as agents and customers see it (`return-label.pdf`).
    pub name: String,
}

/// Upload a file; what it is comes from its bytes (a picture, a video, a sound), else a file.
#[utoipa::path(operation_id = "files_upload", post, path = "/api/v1/files", params(UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file's bytes, at most 10 MB"),
    responses((status = 201, body = StoredFile), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<(StatusCode, Json<StoredFile>), ApiError> {
    let too_large = || ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", format!("a file is at most {} MB", MAX_FILE_BYTES >> 20));
    let bytes = axum::body::to_bytes(body, MAX_FILE_BYTES as usize).await.map_err(|_| too_large())?;
    let declared = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    Ok((StatusCode::CREATED, Json(state.inbox.upload_file(&user.name, &q.name, declared, &bytes).await?)))
}

#[utoipa::path(operation_id = "files_get", get, path = "/api/v1/files/{id}", params(MediaQuery),
    responses((status = 200, description = "The file: a picture, video or sound inline, anything else as a download"), (status = 404, body = ErrorBody)))]
pub async fn get(State(state): State<AppState>, _: CurrentUser, Path(id): Path<String>, Query(q): Query<MediaQuery>) -> Result<Response, ApiError> {
    let file = state.inbox.file(&id).await?;
    let bytes = state.inbox.file_bytes(&file).await?;
    Ok(serve(Media { content_type: Some(file.mime_type.clone()), bytes }, Some(&file.name), q.download))
}
