//! `/api/v1/mail` and `/api/v1/tickets/{id}/consultations`: the installation's mail an admin
//! configures (its password never shown), and consulting someone outside from a ticket.

use super::auth::{AdminUser, CurrentUser};
use super::error::{ApiError, Body, ErrorBody};
use super::AppState;
use crate::consult::{ConsultError, Consultation, MailInput, MailSettings, MailView, StartConsultation};
use crate::mail::MailError;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

impl From<ConsultError> for ApiError {
    fn from(e: ConsultError) -> Self {
        let message = e.to_string();
        match e {
            ConsultError::NotConfigured => ApiError::new(StatusCode::CONFLICT, "mail_not_configured", message),
            ConsultError::BadRequest(_) => ApiError::bad_request(message),
            ConsultError::NotFound(_) => ApiError::not_found(message),
            ConsultError::Mail(MailError::Auth(_)) => ApiError::new(StatusCode::BAD_GATEWAY, "mail_login_refused", message),
            ConsultError::Mail(MailError::Rejected(_) | MailError::Invalid(_) | MailError::NotAllowed(_)) => ApiError::new(StatusCode::BAD_GATEWAY, "mail_refused", message),
            ConsultError::Mail(MailError::Connection(_) | MailError::Timeout) => ApiError::new(StatusCode::BAD_GATEWAY, "mail_unreachable", message),
            ConsultError::Vault(_) => ApiError::new(StatusCode::CONFLICT, "no_secret_key", message),
            ConsultError::Inbox(e) => e.into(),
            ConsultError::Accounts(e) => e.into(),
            ConsultError::Store(e) => e.into(),
        }
    }
}

#[utoipa::path(operation_id = "mail_settings", get, path = "/api/v1/mail/settings",
    responses((status = 200, body = MailView, description = "`settings` is `null` until an admin configures mail"), (status = 403, body = ErrorBody)))]
pub async fn settings(State(state): State<AppState>, _: AdminUser) -> Result<Json<MailView>, ApiError> {
    Ok(Json(state.consultations.view().await?))
}

#[utoipa::path(operation_id = "mail_configure", put, path = "/api/v1/mail/settings", request_body = MailInput,
    responses((status = 200, body = MailSettings), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn configure(State(state): State<AppState>, _: AdminUser, Body(input): Body<MailInput>) -> Result<Json<MailSettings>, ApiError> {
    Ok(Json(state.consultations.configure(input).await?))
}

#[derive(Serialize, ToSchema)]
pub struct MailCheck {
    pub ok: bool,
    pub detail: String,
}

#[utoipa::path(operation_id = "mail_check", post, path = "/api/v1/mail/settings/check",
    responses((status = 200, body = MailCheck, description = "Whether both servers took the login, in words"), (status = 409, body = ErrorBody)))]
pub async fn check(State(state): State<AppState>, _: AdminUser) -> Result<Json<MailCheck>, ApiError> {
    Ok(Json(match state.consultations.check().await {
        Ok(detail) => MailCheck { ok: true, detail },
        Err(e @ ConsultError::Mail(_)) => MailCheck { ok: false, detail: e.to_string() },
        Err(e) => return Err(e.into()),
    }))
}

#[utoipa::path(operation_id = "consultations_list", get, path = "/api/v1/tickets/{id}/consultations",
    responses((status = 200, body = Vec<Consultation>), (status = 404, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>, _: CurrentUser, Path(id): Path<String>) -> Result<Json<Vec<Consultation>>, ApiError> {
    Ok(Json(state.consultations.of_ticket(&id).await?))
}

#[utoipa::path(operation_id = "consultations_start", post, path = "/api/v1/tickets/{id}/consultations", request_body = StartConsultation,
    responses((status = 201, body = Consultation), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "No mail is configured"), (status = 502, body = ErrorBody, description = "The mail server refused or could not be reached")))]
pub async fn start(State(state): State<AppState>, CurrentUser(user): CurrentUser, Path(id): Path<String>, Body(req): Body<StartConsultation>) -> Result<(StatusCode, Json<Consultation>), ApiError> {
    Ok((StatusCode::CREATED, Json(state.consultations.start(&id, (&user.id, &user.name), req).await?)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUp {
    pub text: String,
}

#[utoipa::path(operation_id = "consultations_follow_up", post, path = "/api/v1/tickets/{id}/consultations/{consultation_id}/messages", request_body = FollowUp,
    responses((status = 200, body = Consultation), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn follow_up(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, consultation_id)): Path<(String, String)>,
    Body(req): Body<FollowUp>,
) -> Result<Json<Consultation>, ApiError> {
    Ok(Json(state.consultations.follow_up(&id, &consultation_id, (&user.id, &user.name), &req.text).await?))
}

#[derive(Serialize, ToSchema)]
pub struct DigestsSent {
    pub sent: usize,
}

#[utoipa::path(operation_id = "mail_send_digests", post, path = "/api/v1/mail/digests",
    responses((status = 200, body = DigestsSent, description = "Digests sent now to every away agent who asked for them and missed something since their last"),
        (status = 403, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn send_digests(State(state): State<AppState>, _: AdminUser) -> Result<Json<DigestsSent>, ApiError> {
    let sent = state.consultations.send_digests(&state.accounts, state.public_origin.as_deref(), None).await?;
    Ok(Json(DigestsSent { sent }))
}
