//! `/api/v1/rules`: admins' automation and auto-moderation. A rule that cannot work is
//! refused when saved (a pattern that does not compile, an agent who does not exist, an action
//! its channels do not offer); a dry run over a past period lists what a rule would do.

use super::auth::AdminUser;
use super::error::{ApiError, Body, ErrorBody};
use super::AppState;
use crate::inbox::automation::{applies, Matcher, Rule, RuleAction, RuleInput};
use crate::search::TicketQuery;
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

/// What a rule would have done to one customer message.
#[derive(Serialize, ToSchema)]
pub struct WouldDo {
    pub ticket_id: String,
    pub message_id: String,
    pub text: String,
    pub actions: Vec<RuleAction>,
}

#[utoipa::path(operation_id = "rules_dry_run", post, path = "/api/v1/rules/{id}/dry-run", request_body = Period,
    responses((status = 200, body = Vec<WouldDo>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
/// The customer messages of a past period the rule matches (the newest 200 tickets of it), and
/// what it would do to each: nothing is changed.
pub async fn dry_run(State(state): State<AppState>, _: AdminUser, Path(id): Path<String>, Body(p): Body<Period>) -> Result<Json<Vec<WouldDo>>, ApiError> {
    if p.to <= p.from {
        return Err(ApiError::bad_request("`to` comes after `from`"));
    }
    let rule = state.inbox.automation_rules().await?.into_iter().find(|r| r.id == id).ok_or_else(|| ApiError::not_found(format!("no rule `{id}`")))?;
    let matcher = Matcher::new(&rule.conditions.text).map_err(ApiError::bad_request)?;
    // As if it had existed, and run, then.
    let past = Rule { enabled: true, paused: false, ..rule.clone() };
    let q = TicketQuery { from: Some(p.from), to: Some(p.to), limit: Some(200), ..Default::default() };
    let (_, tickets) = state.inbox.list(&q).await?;
    let teams = state.accounts.teams().await?;
    let mut out = Vec::new();
    for t in tickets {
        let view = state.inbox.view(&t.id).await?;
        let first = view.messages.iter().find(|m| m.interaction.direction == crate::model::Direction::Inbound).map(|m| m.id.clone());
        for m in view.messages.iter().filter(|m| m.interaction.direction == crate::model::Direction::Inbound && (p.from..p.to).contains(&m.interaction.created_at)) {
            let open = crate::sync::automation::hours_open(&teams, &t.channel, m.interaction.created_at);
            if applies(&past, &matcher, &t, m, first.as_deref() == Some(m.id.as_str()), open) {
                out.push(WouldDo { ticket_id: t.id.clone(), message_id: m.id.clone(), text: m.interaction.text.chars().take(200).collect(), actions: rule.actions.clone() });
            }
        }
    }
    Ok(Json(out))
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
