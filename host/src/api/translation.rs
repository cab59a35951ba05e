//! `/api/v1/translation`: the provider admins configure (its key never shown), each agent's
//! language and whether customers' messages are translated for them as they open a ticket;
//! translating a message (kept with it) and a reply before it is sent.

use super::auth::{AdminUser, CurrentUser};
use super::error::{ApiError, Body, ErrorBody};
use super::AppState;
use crate::model::{Message, Translation};
use crate::translation::{TranslationError, TranslationInput, TranslationSettings};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

impl From<TranslationError> for ApiError {
    fn from(e: TranslationError) -> Self {
        let message = e.to_string();
        match e {
            TranslationError::NotConfigured => ApiError::new(StatusCode::CONFLICT, "translation_not_configured", message),
            TranslationError::BadRequest(_) => ApiError::bad_request(message),
            TranslationError::Refused(_) | TranslationError::Unreachable(_) => ApiError::new(StatusCode::BAD_GATEWAY, "translation_failed", message),
            TranslationError::Vault(_) => ApiError::new(StatusCode::CONFLICT, "no_secret_key", message),
            TranslationError::Store(e) => e.into(),
        }
    }
}

#[utoipa::path(operation_id = "translation_settings", get, path = "/api/v1/translation/settings",
    responses((status = 200, body = Option<TranslationSettings>, description = "`null` when no provider is configured")))]
pub async fn settings(State(state): State<AppState>, _: CurrentUser) -> Result<Json<Option<TranslationSettings>>, ApiError> {
    Ok(Json(state.translator.settings().await?))
}

#[utoipa::path(operation_id = "translation_configure", put, path = "/api/v1/translation/settings", request_body = TranslationInput,
    responses((status = 200, body = TranslationSettings), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn configure(State(state): State<AppState>, _: AdminUser, Body(input): Body<TranslationInput>) -> Result<Json<TranslationSettings>, ApiError> {
    Ok(Json(state.translator.configure(input).await?))
}

/// One's own language and whether to translate customers' messages into it as tickets open.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TranslationPrefs {
    /// ISO 639-3 (`eng`); none: English.
    pub language: Option<String>,
    #[serde(default)]
    #[schema(required = true)]
    pub auto: bool,
}

#[derive(Deserialize)]
struct StoredPrefs {
    language: Option<String>,
    #[serde(default)]
    auto: bool,
}

async fn prefs_of(state: &AppState, user: &str) -> Result<TranslationPrefs, ApiError> {
    let stored: Option<StoredPrefs> = state.inbox.store().get("settings", &format!("translation_prefs:{user}")).await?;
    Ok(stored.map_or(TranslationPrefs { language: None, auto: false }, |p| TranslationPrefs { language: p.language, auto: p.auto }))
}

#[utoipa::path(operation_id = "translation_my_prefs", get, path = "/api/v1/me/translation", responses((status = 200, body = TranslationPrefs)))]
pub async fn my_prefs(State(state): State<AppState>, CurrentUser(user): CurrentUser) -> Result<Json<TranslationPrefs>, ApiError> {
    Ok(Json(prefs_of(&state, &user.id).await?))
}

#[utoipa::path(operation_id = "translation_set_my_prefs", put, path = "/api/v1/me/translation", request_body = TranslationPrefs,
    responses((status = 200, body = TranslationPrefs), (status = 400, body = ErrorBody)))]
pub async fn set_my_prefs(State(state): State<AppState>, CurrentUser(user): CurrentUser, Body(p): Body<TranslationPrefs>) -> Result<Json<TranslationPrefs>, ApiError> {
    if let Some(l) = p.language.as_deref().filter(|l| crate::translation::two_letters(l).is_none()) {
        return Err(ApiError::bad_request(format!("`{l}` is not a language to translate into (ISO 639-3, such as `eng`)")));
    }
    state.inbox.store().put("settings", &format!("translation_prefs:{}", user.id), &p).await?;
    Ok(Json(p))
}

/// Into which language (ISO 639-3); absent: the agent's own.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TranslateMessage {
    #[serde(default)]
    pub to: Option<String>,
}

#[utoipa::path(operation_id = "messages_translate", post, path = "/api/v1/messages/{id}/translate", request_body = TranslateMessage,
    responses((status = 200, body = Message, description = "The message with its translation (kept: asked of the provider once per language)"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn translate_message(State(state): State<AppState>, CurrentUser(user): CurrentUser, Path(id): Path<String>, Body(req): Body<TranslateMessage>) -> Result<Json<Message>, ApiError> {
    let to = match req.to {
        Some(to) => to,
        None => prefs_of(&state, &user.id).await?.language.unwrap_or_else(|| "eng".into()),
    };
    let m = state.inbox.message(&id).await?;
    if m.translations.iter().any(|t| t.language == to) {
        return Ok(Json(m));
    }
    let t = state.translator.translate(&m.interaction.text, &to).await?;
    Ok(Json(state.inbox.keep_translation(&id, t).await?))
}

/// A text (an agent's reply) and the language to put it into.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TranslateText {
    pub text: String,
    /// ISO 639-3 (`spa`): the customer's.
    pub to: String,
}

#[utoipa::path(operation_id = "translate_text", post, path = "/api/v1/translate", request_body = TranslateText,
    responses((status = 200, body = Translation), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn translate_text(State(state): State<AppState>, _: CurrentUser, Body(req): Body<TranslateText>) -> Result<Json<Translation>, ApiError> {
    Ok(Json(state.translator.translate(&req.text, &req.to).await?))
}
