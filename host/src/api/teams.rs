//! `/api/v1/availability` and `/api/v1/teams`: who is Available (everyone sees teammates;
//! each sets their own), the away statuses and idle time admins set, and teams with their
//! channels and auto-assignment (admins manage them, everyone sees them).

use super::auth::{AdminUser, CurrentUser};
use super::error::{ApiError, Body, ErrorBody};
use super::AppState;
use crate::accounts::{Availability, AvailabilitySettings, NotificationPrefs, Schedule, Status, Team, TeamInput};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Everyone's availability, and the statuses there are.
#[derive(Serialize, ToSchema)]
pub struct AvailabilityList {
    pub people: Vec<Availability>,
    /// `available`, `away`, then the admins' away statuses.
    pub statuses: Vec<String>,
    pub idle_minutes: u32,
}

/// One's own status, and the one to come back to after idling.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    #[schema(value_type = Option<String>)]
    pub status: Option<Status>,
    #[schema(value_type = Option<String>)]
    pub default_status: Option<Status>,
}

#[utoipa::path(operation_id = "availability_list", get, path = "/api/v1/availability", responses((status = 200, body = AvailabilityList)))]
pub async fn list(State(state): State<AppState>, _: CurrentUser) -> Result<Json<AvailabilityList>, ApiError> {
    let settings = state.accounts.availability_settings().await?;
    let mut statuses = vec!["available".to_string(), "away".to_string()];
    statuses.extend(settings.statuses);
    Ok(Json(AvailabilityList { people: state.accounts.availabilities().await?, statuses, idle_minutes: settings.idle_minutes }))
}

#[utoipa::path(operation_id = "availability_set", put, path = "/api/v1/availability/me", request_body = StatusChange,
    responses((status = 200, body = Availability), (status = 400, body = ErrorBody)))]
pub async fn set_mine(State(state): State<AppState>, CurrentUser(user): CurrentUser, Body(change): Body<StatusChange>) -> Result<Json<Availability>, ApiError> {
    let (a, flipped) = state.accounts.set_status(&user.id, change.status, change.default_status).await?;
    if flipped {
        state.router.status_changed(&state.inbox, &state.accounts, &user.id, a.status.is_available()).await;
    }
    state.events.publish(crate::events::Event::Availability { availability: a.clone() });
    Ok(Json(a))
}

#[utoipa::path(operation_id = "availability_settings", put, path = "/api/v1/availability/settings", request_body = AvailabilitySettings,
    responses((status = 200, body = AvailabilitySettings), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn settings(State(state): State<AppState>, _: AdminUser, Body(s): Body<AvailabilitySettings>) -> Result<Json<AvailabilitySettings>, ApiError> {
    Ok(Json(state.accounts.set_availability_settings(s).await?))
}

#[utoipa::path(operation_id = "teams_list", get, path = "/api/v1/teams", responses((status = 200, body = Vec<Team>)))]
pub async fn teams(State(state): State<AppState>, _: CurrentUser) -> Result<Json<Vec<Team>>, ApiError> {
    Ok(Json(state.accounts.teams().await?))
}

#[utoipa::path(operation_id = "teams_create", post, path = "/api/v1/teams", request_body = TeamInput,
    responses((status = 201, body = Team), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(State(state): State<AppState>, _: AdminUser, Body(input): Body<TeamInput>) -> Result<(StatusCode, Json<Team>), ApiError> {
    check_channels(&state, &input.channels)?;
    let team = state.accounts.save_team(None, input).await?;
    state.router.teams_changed();
    super::targets::refresh(&state).await?;
    Ok((StatusCode::CREATED, Json(team)))
}

#[utoipa::path(operation_id = "teams_update", put, path = "/api/v1/teams/{id}", request_body = TeamInput,
    responses((status = 200, body = Team), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update(State(state): State<AppState>, _: AdminUser, Path(id): Path<String>, Body(input): Body<TeamInput>) -> Result<Json<Team>, ApiError> {
    check_channels(&state, &input.channels)?;
    let team = state.accounts.save_team(Some(&id), input).await?;
    state.router.teams_changed();
    super::targets::refresh(&state).await?;
    Ok(Json(team))
}

#[utoipa::path(operation_id = "teams_delete", delete, path = "/api/v1/teams/{id}",
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(State(state): State<AppState>, _: AdminUser, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    state.accounts.delete_team(&id).await?;
    state.router.teams_changed();
    super::targets::refresh(&state).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A team (or a response target) names channels that exist.
pub(super) fn check_channels(state: &AppState, channels: &[String]) -> Result<(), ApiError> {
    let known = state.channels.ids();
    match channels.iter().find(|c| !known.contains(c)) {
        Some(c) => Err(ApiError::bad_request(format!("no channel `{c}`"))),
        None => Ok(()),
    }
}

/// One channel's own business hours (none: its team's, if any).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelHours {
    pub business_hours: Option<Schedule>,
}

#[utoipa::path(operation_id = "business_hours_list", get, path = "/api/v1/business-hours",
    responses((status = 200, body = std::collections::BTreeMap<String, Schedule>)))]
/// Channels' own business hours, by channel id (channels not listed follow their team's).
pub async fn channel_hours(State(state): State<AppState>, _: CurrentUser) -> Result<Json<std::collections::BTreeMap<String, Schedule>>, ApiError> {
    Ok(Json(state.accounts.channel_hours().await?))
}

#[utoipa::path(operation_id = "business_hours_set", put, path = "/api/v1/channels/{id}/business-hours", request_body = ChannelHours,
    responses((status = 200, body = std::collections::BTreeMap<String, Schedule>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_channel_hours(
    State(state): State<AppState>,
    _: AdminUser,
    Path(id): Path<String>,
    Body(input): Body<ChannelHours>,
) -> Result<Json<std::collections::BTreeMap<String, Schedule>>, ApiError> {
    if !state.channels.list().iter().any(|c| c.id == id) {
        return Err(ApiError::not_found(format!("no channel `{id}`")));
    }
    let hours = state.accounts.set_channel_hours(&id, input.business_hours).await?;
    super::targets::refresh(&state).await?;
    Ok(Json(hours))
}

#[utoipa::path(operation_id = "notifications_mine", get, path = "/api/v1/me/notifications", responses((status = 200, body = NotificationPrefs)))]
/// What I am notified of.
pub async fn my_notifications(State(state): State<AppState>, CurrentUser(me): CurrentUser) -> Result<Json<NotificationPrefs>, ApiError> {
    Ok(Json(state.accounts.notification_prefs(&me.id).await?))
}

#[utoipa::path(operation_id = "notifications_set_mine", put, path = "/api/v1/me/notifications", request_body = NotificationPrefs,
    responses((status = 200, body = NotificationPrefs), (status = 400, body = ErrorBody)))]
pub async fn set_my_notifications(State(state): State<AppState>, CurrentUser(me): CurrentUser, Body(prefs): Body<NotificationPrefs>) -> Result<Json<NotificationPrefs>, ApiError> {
    if let Some(c) = prefs.muted_channels.iter().find(|c| !state.channels.list().iter().any(|s| &s.id == *c)) {
        return Err(ApiError::bad_request(format!("no channel `{c}`")));
    }
    Ok(Json(state.accounts.set_notification_prefs(&me.id, prefs).await?))
}
