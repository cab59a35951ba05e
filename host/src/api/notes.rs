//! `/api/v1/tickets/{id}/notes`: internal work beside the ticket.

use super::auth::CurrentUser;
use super::error::{ApiError, Body, ErrorBody};
use super::AppState;
use crate::inbox::NoteAuthor;
use crate::model::Note;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
pub struct NoteText {
    pub text: String,
}

fn author<'a>(user: &'a crate::accounts::User, people: &'a [(String, String)]) -> NoteAuthor<'a> {
    NoteAuthor { id: &user.id, name: &user.name, people }
}

/// The teammates a note may mention.
async fn people(state: &AppState) -> Result<Vec<(String, String)>, ApiError> {
    Ok(state.accounts.users().await?.into_iter().filter(|u| !u.disabled).map(|u| (u.id, u.name)).collect())
}

#[utoipa::path(operation_id = "notes_add", post, path = "/api/v1/tickets/{id}/notes", request_body = NoteText,
    responses((status = 201, body = Note), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn add(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    Body(req): Body<NoteText>,
) -> Result<(StatusCode, Json<Note>), ApiError> {
    let people = people(&state).await?;
    Ok((StatusCode::CREATED, Json(state.inbox.add_note(&id, author(&user, &people), &req.text).await?)))
}

#[utoipa::path(operation_id = "notes_edit", patch, path = "/api/v1/tickets/{id}/notes/{note_id}", request_body = NoteText,
    responses((status = 200, body = Note), (status = 403, body = ErrorBody, description = "Not the note's author"), (status = 404, body = ErrorBody)))]
pub async fn edit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, note_id)): Path<(String, String)>,
    Body(req): Body<NoteText>,
) -> Result<Json<Note>, ApiError> {
    let people = people(&state).await?;
    Ok(Json(state.inbox.edit_note(&id, &note_id, author(&user, &people), &req.text).await?))
}

#[utoipa::path(operation_id = "notes_delete", delete, path = "/api/v1/tickets/{id}/notes/{note_id}",
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, note_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.inbox.delete_note(&id, &note_id, author(&user, &[])).await?;
    Ok(StatusCode::NO_CONTENT)
}
