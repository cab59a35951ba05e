//! `/api/v1/rules`: admins' automation and auto-moderation. A rule that cannot work is
//! refused when saved (a pattern that does not compile, an agent who does not exist, an action
//! its channels do not offer); a dry run over a past period lists what a rule would do.

use super::auth::AdminUser;
use super::error::{ApiError, Body, ErrorBody};
use super::AppState;
use crate::inbox::automation::{Rule, RuleAction, RuleInput};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[utoipa::path(operation_id = "rules_list", get, path = "/api/v1/rules", responses((status = 200, body = Vec<Rule>), (status = 403, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>, _: AdminUser) -> Result<Json<Vec<Rule>>, ApiError> {
    Ok(Json(state.inbox.automation_rules().await?))
}

#[utoipa::path(operation_id = "rules_create", post, path = "/api/v1/rules", request_body = RuleInput,
    responses((status = 201, body = Rule), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create(State(state): State<AppState>, _: AdminUser, Body(input): Body<RuleInput>) -> Result<(StatusCode, Json<Rule>), ApiError> {
    check(&state, &input).await?;
    let rule = state.inbox.save_automation_rule(None, input).await?;
    state.automation.rules_changed();
    Ok((StatusCode::CREATED, Json(rule)))
}

#[utoipa::path(operation_id = "rules_update", put, path = "/api/v1/rules/{id}", request_body = RuleInput,
    responses((status = 200, body = Rule), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(State(state): State<AppState>, _: AdminUser, Path(id): Path<String>, Body(input): Body<RuleInput>) -> Result<Json<Rule>, ApiError> {
    check(&state, &input).await?;
    let rule = state.inbox.save_automation_rule(Some(&id), input).await?;
    state.automation.rules_changed();
    Ok(Json(rule))
}

#[utoipa::path(operation_id = "rules_delete", delete, path = "/api/v1/rules/{id}", responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(State(state): State<AppState>, _: AdminUser, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    state.inbox.delete_automation_rule(&id).await?;
    state.automation.rules_changed();
    Ok(StatusCode::NO_CONTENT)
}

/// A past period to try a rule on.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Period {
    /// From (ms since the epoch).
    pub from: i64,
    /// Until (ms since the epoch).
    pub to: i64,
}

/// What a rule would have done (a dry run) or did to one customer message.
#[derive(Serialize, ToSchema)]
pub struct WouldDo {
    pub ticket_id: String,
    pub message_id: String,
    pub text: String,
    pub actions: Vec<RuleAction>,
    /// For a run: what stopped it, in words (none: it did it all).
    pub error: Option<String>,
}

impl WouldDo {
    fn of(rule: &Rule, t: &crate::model::Ticket, m: &crate::model::Message, error: Option<String>) -> Self {
        WouldDo { ticket_id: t.id.clone(), message_id: m.id.clone(), text: m.interaction.text.chars().take(200).collect(), actions: rule.actions.clone(), error }
    }
}

async fn rule_for_period(state: &AppState, id: &str, p: &Period) -> Result<Rule, ApiError> {
    if p.to <= p.from {
        return Err(ApiError::bad_request("`to` comes after `from`"));
    }
    state.inbox.automation_rules().await?.into_iter().find(|r| r.id == id).ok_or_else(|| ApiError::not_found(format!("no rule `{id}`")))
}

#[utoipa::path(operation_id = "rules_dry_run", post, path = "/api/v1/rules/{id}/dry-run", request_body = Period,
    responses((status = 200, body = Vec<WouldDo>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
/// The customer messages of a past period (before the rule was made) it matches, and what it
/// would do to each: nothing is changed.
pub async fn dry_run(State(state): State<AppState>, _: AdminUser, Path(id): Path<String>, Body(p): Body<Period>) -> Result<Json<Vec<WouldDo>>, ApiError> {
    let rule = rule_for_period(&state, &id, &p).await?;
    let found = crate::sync::automation::over_period(&state.inbox, &state.accounts, &rule, p.from, p.to).await?;
    Ok(Json(found.iter().map(|(t, m)| WouldDo::of(&rule, t, m, None)).collect()))
}

#[utoipa::path(operation_id = "rules_run", post, path = "/api/v1/rules/{id}/run", request_body = Period,
    responses((status = 200, body = Vec<WouldDo>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
/// Apply the rule to what its dry run lists: each message once, however often it is run.
pub async fn run(State(state): State<AppState>, _: AdminUser, Path(id): Path<String>, Body(p): Body<Period>) -> Result<Json<Vec<WouldDo>>, ApiError> {
    let rule = rule_for_period(&state, &id, &p).await?;
    if !rule.enabled || rule.paused {
        return Err(ApiError::bad_request(format!("“{}” is {}: switch it on first", rule.name, if rule.paused { "paused" } else { "off" })));
    }
    let done = crate::sync::automation::run_over_period(&state.inbox, &state.channels, &state.accounts, &state.automation, &rule, p.from, p.to).await?;
    Ok(Json(done.iter().map(|(t, m, e)| WouldDo::of(&rule, t, m, e.clone())).collect()))
}

/// What needs the people and the channels: the agent exists, the channels exist and offer
/// the rule's channel actions.
async fn check(state: &AppState, input: &RuleInput) -> Result<(), ApiError> {
    let channels = state.channels.list();
    for c in &input.conditions.channels {
        if !channels.iter().any(|s| &s.id == c) {
            return Err(ApiError::bad_request(format!("no channel `{c}`")));
        }
    }
    for a in &input.actions {
        if let RuleAction::Team { team_id } = a {
            state.accounts.team(team_id).await.map_err(|_| ApiError::bad_request(format!("no team `{team_id}` to route to")))?;
        }
        if let RuleAction::Assign { user_id } = a {
            state.accounts.user(user_id).await.map_err(|_| ApiError::bad_request(format!("no user `{user_id}` to assign to")))?;
        }
        let Some(kind) = a.channel_action() else { continue };
        let scope: Vec<_> = channels.iter().filter(|s| input.conditions.channels.is_empty() || input.conditions.channels.contains(&s.id)).collect();
        let offered = |s: &&crate::sync::ChannelSummary| {
            s.capabilities.iter().any(|c| (input.conditions.kinds.is_empty() || input.conditions.kinds.contains(&c.kind)) && c.actions.contains(&kind))
        };
        if !input.conditions.channels.is_empty() {
            if let Some(s) = scope.iter().find(|s| !offered(s)) {
                return Err(ApiError::bad_request(format!("{} does not offer `{kind}` on these kinds: a rule cannot do it there", s.display_name)));
            }
        } else if !scope.iter().any(offered) {
            return Err(ApiError::bad_request(format!("no channel offers `{kind}` on these kinds")));
        }
    }
    Ok(())
}
