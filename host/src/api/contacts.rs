//! `/api/v1/contacts/{id}` and `/api/v1/contact-attributes`: who a customer is across platforms.

use super::auth::{AdminUser, CurrentUser};
use super::error::{ApiError, Body, ErrorBody};
use super::AppState;
use crate::inbox::contacts::{AttributeDefs, ContactPage};
use crate::model::{Contact, ContactMerge, ContactNote};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

#[utoipa::path(operation_id = "contacts_get", get, path = "/api/v1/contacts/{id}",
    responses((status = 200, body = ContactPage), (status = 404, body = ErrorBody)))]
pub async fn get(State(state): State<AppState>, _: CurrentUser, Path(id): Path<String>) -> Result<Json<ContactPage>, ApiError> {
    Ok(Json(state.inbox.contact_page(&id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactPatch {
    pub tags: Vec<String>,
}

#[utoipa::path(operation_id = "contacts_update", patch, path = "/api/v1/contacts/{id}", request_body = ContactPatch,
    responses((status = 200, body = Contact), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(State(state): State<AppState>, _: CurrentUser, Path(id): Path<String>, Body(req): Body<ContactPatch>) -> Result<Json<Contact>, ApiError> {
    Ok(Json(state.inbox.set_contact_tags(&id, req.tags).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributesChange {
    /// The attributes to change, by key; `null` or `""` clears one.
    pub attributes: BTreeMap<String, serde_json::Value>,
}

#[utoipa::path(operation_id = "contacts_set_attributes", put, path = "/api/v1/contacts/{id}/attributes", request_body = AttributesChange,
    responses((status = 200, body = ContactPage), (status = 400, body = ErrorBody, description = "A value that does not fit, an unknown key, or a required one left empty"), (status = 404, body = ErrorBody)))]
pub async fn set_attributes(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    Body(req): Body<AttributesChange>,
) -> Result<Json<ContactPage>, ApiError> {
    Ok(Json(state.inbox.set_contact_attributes(&id, req.attributes, &user.name).await?))
}

#[utoipa::path(operation_id = "contacts_add_note", post, path = "/api/v1/contacts/{id}/notes", request_body = super::notes::NoteText,
    responses((status = 201, body = ContactNote), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn add_note(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    Body(req): Body<super::notes::NoteText>,
) -> Result<(StatusCode, Json<ContactNote>), ApiError> {
    Ok((StatusCode::CREATED, Json(state.inbox.add_contact_note(&id, &user.id, &user.name, &req.text).await?)))
}

#[utoipa::path(operation_id = "contacts_delete_note", delete, path = "/api/v1/contacts/{id}/notes/{note_id}",
    responses((status = 204), (status = 403, body = ErrorBody, description = "Another agent's note"), (status = 404, body = ErrorBody)))]
pub async fn delete_note(State(state): State<AppState>, CurrentUser(user): CurrentUser, Path((id, note_id)): Path<(String, String)>) -> Result<StatusCode, ApiError> {
    state.inbox.delete_contact_note(&id, &note_id, &user.id, user.is_admin()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Link {
    /// The contact (with the rest of its person) to link to this one's person.
    pub contact: String,
}

#[utoipa::path(operation_id = "contacts_link", post, path = "/api/v1/contacts/{id}/links", request_body = Link,
    responses((status = 201, body = ContactMerge), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "Already the same person")))]
pub async fn link(State(state): State<AppState>, CurrentUser(user): CurrentUser, Path(id): Path<String>, Body(req): Body<Link>) -> Result<(StatusCode, Json<ContactMerge>), ApiError> {
    Ok((StatusCode::CREATED, Json(state.inbox.link_contacts(&id, &req.contact, &user.name).await?)))
}

#[utoipa::path(operation_id = "contacts_unlink", delete, path = "/api/v1/contacts/{id}/person",
    responses((status = 200, body = Contact), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "Not linked")))]
pub async fn unlink(State(state): State<AppState>, _: CurrentUser, Path(id): Path<String>) -> Result<Json<Contact>, ApiError> {
    Ok(Json(state.inbox.unlink_contact(&id).await?))
}

#[utoipa::path(operation_id = "contacts_undo_merge", post, path = "/api/v1/contact-merges/{id}/undo",
    responses((status = 200, body = ContactMerge), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "Already undone")))]
pub async fn undo_merge(State(state): State<AppState>, CurrentUser(user): CurrentUser, Path(id): Path<String>) -> Result<Json<ContactMerge>, ApiError> {
    Ok(Json(state.inbox.undo_merge(&id, &user.name).await?))
}

#[utoipa::path(operation_id = "contacts_attribute_defs", get, path = "/api/v1/contact-attributes", responses((status = 200, body = AttributeDefs)))]
pub async fn defs(State(state): State<AppState>, _: CurrentUser) -> Result<Json<AttributeDefs>, ApiError> {
    Ok(Json(AttributeDefs { attributes: state.inbox.attribute_defs().await? }))
}

#[utoipa::path(operation_id = "contacts_set_attribute_defs", put, path = "/api/v1/contact-attributes", request_body = AttributeDefs,
    responses((status = 200, body = AttributeDefs), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn set_defs(State(state): State<AppState>, _: AdminUser, Body(req): Body<AttributeDefs>) -> Result<Json<AttributeDefs>, ApiError> {
    Ok(Json(state.inbox.set_attribute_defs(req).await?))
}
