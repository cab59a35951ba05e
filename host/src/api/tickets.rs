//! `/api/v1/tickets`: list and search, open one, act on it, change it.

use super::auth::CurrentUser;
use super::error::{ApiError, Body, ErrorBody};
use super::AppState;
use crate::inbox::{ActionRequest, ActionResult, DraftReply, MessagePage, QueueCounts, ReplyNote, TicketPatch, TicketView};
use crate::model::{Message, Ticket};
use crate::plugins::Capability;
use crate::search::TicketQuery;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// The queues, `all`, and `open` (New or Pending: what is still someone's work).
const QUEUES: [&str; 6] = ["new", "pending", "resolved", "archived", "all", "open"];
const KINDS: [&str; 8] = ["private_message", "group_message", "comment", "reply", "ad_comment", "post", "mention", "review"];

/// A ticket as the list shows it.
#[derive(Serialize, ToSchema)]
pub struct TicketRow {
    #[serde(flatten)]
    pub ticket: Ticket,
    pub channel_name: String,
}

#[derive(Serialize, ToSchema)]
pub struct TicketList {
    /// Matching tickets in all.
    pub total: usize,
    pub tickets: Vec<TicketRow>,
}

/// A ticket with its messages and what can be done with it.
#[derive(Serialize, ToSchema)]
pub struct TicketDetail {
    #[serde(flatten)]
    pub view: TicketView,
    pub channel_name: String,
    /// The actions the channel offers, per kind of interaction.
    pub capabilities: Vec<Capability>,
    /// What files replies may carry, per kind of interaction (none listed: no files).
    pub files: Vec<crate::plugins::FileCapability>,
    /// When free-form replies stop being allowed (ms), on platforms with a messaging window.
    pub reply_window_closes_at: Option<i64>,
    /// After that, until when replies still go with the platform's tag (Messenger's HUMAN_AGENT).
    pub tagged_window_closes_at: Option<i64>,
    /// That tag.
    pub reply_tag: Option<String>,
}

fn channel_name(state: &AppState, id: &str) -> String {
    state.channels.get(id).map(|c| c.config.display_name.clone()).unwrap_or_else(|| id.to_string())
}

#[utoipa::path(operation_id = "tickets_list", get, path = "/api/v1/tickets", params(TicketQuery),
    responses((status = 200, body = TicketList), (status = 400, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>, _: CurrentUser, params: Result<Query<TicketQuery>, QueryRejection>) -> Result<Json<TicketList>, ApiError> {
    let Query(mut query) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    // The contract's spelling (`private-message`) works as the API's (`private_message`).
    query.kind = query.kind.map(|k| k.replace('-', "_"));
    if let Some(q) = query.queue.as_deref().filter(|q| !QUEUES.contains(q)) {
        return Err(ApiError::bad_request(format!("unknown queue `{q}`; use one of {}", QUEUES.join(", "))));
    }
    if let Some(k) = query.kind.as_deref().filter(|k| !KINDS.contains(k)) {
        return Err(ApiError::bad_request(format!("unknown kind `{k}`; use one of {}", KINDS.join(", "))));
    }
    if query.limit.is_some_and(|l| !(1..=TicketQuery::MAX_LIMIT).contains(&l)) {
        return Err(ApiError::bad_request(format!("limit must be between 1 and {}", TicketQuery::MAX_LIMIT)));
    }
    query.check().map_err(|e| ApiError::bad_request(e.to_string()))?;
    if let Some(p) = &query.person {
        query.contacts = state.inbox.person_of(p).await?.into_iter().map(|c| c.id).collect();
    }
    let (total, tickets) = state.inbox.list(&query).await?;
    let tickets = tickets.into_iter().map(|t| TicketRow { channel_name: channel_name(&state, &t.channel), ticket: t }).collect();
    Ok(Json(TicketList { total, tickets }))
}

#[utoipa::path(operation_id = "tickets_get", get, path = "/api/v1/tickets/{id}",
    responses((status = 200, body = TicketDetail), (status = 404, body = ErrorBody)))]
pub async fn get(State(state): State<AppState>, _: CurrentUser, Path(id): Path<String>) -> Result<Json<TicketDetail>, ApiError> {
    let view = state.inbox.view(&id).await?;
    let channel = state.channels.get(&view.ticket.channel);
    let info = channel.as_ref().and_then(|c| c.plugin());
    let capabilities = match (&channel, &info) {
        (Some(c), Some(p)) => p.info().capabilities_for(&c.ctx().config),
        _ => Vec::new(),
    };
    let files = info.as_ref().map(|p| p.info().files.clone()).unwrap_or_default();
    let reply_window_closes_at = info
        .clone()
        .filter(|_| view.ticket.kind.is_conversation())
        .and_then(|p| p.info().reply_window_hours)
        .zip(view.ticket.last_inbound_at)
        .map(|(h, last)| last + i64::from(h) * 3_600_000);
    let tagged = info.as_ref().and_then(|p| p.info().tagged_reply_window.clone()).filter(|_| view.ticket.kind.is_conversation());
    let tagged_window_closes_at = tagged.as_ref().zip(view.ticket.last_inbound_at).map(|((h, _), last)| last + i64::from(*h) * 3_600_000);
    Ok(Json(TicketDetail {
        channel_name: channel_name(&state, &view.ticket.channel),
        view,
        capabilities,
        files,
        reply_window_closes_at,
        tagged_window_closes_at,
        reply_tag: tagged.map(|(_, tag)| tag),
    }))
}

/// Which page of a ticket's messages.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// From 0 (the oldest); a ticket's `older_page` names the next one back.
    pub page: u32,
}

#[utoipa::path(operation_id = "tickets_messages", get, path = "/api/v1/tickets/{id}/messages", params(PageQuery),
    responses((status = 200, body = MessagePage), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn messages(
    State(state): State<AppState>,
    _: CurrentUser,
    Path(id): Path<String>,
    params: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<MessagePage>, ApiError> {
    let Query(q) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    Ok(Json(state.inbox.messages_page(&id, q.page).await?))
}

#[utoipa::path(operation_id = "tickets_action", post, path = "/api/v1/tickets/{id}/actions", request_body = ActionRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Any unique string per intended action: a retry with the same key is performed once and gets the first answer")),
    responses(
        (status = 200, body = ActionResult),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "An action with this Idempotency-Key is under way, or was made on another ticket", body = ErrorBody),
        (status = 422, description = "The channel does not offer this action here, or the messaging window is closed", body = ErrorBody),
        (status = 429, body = ErrorBody),
        (status = 502, description = "The platform refused", body = ErrorBody)))]
pub async fn action(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    Body(req): Body<ActionRequest>,
) -> Result<Json<ActionResult>, ApiError> {
    let ticket = state.inbox.ticket(&id).await?;
    let channel = state.channels.for_action(&ticket.channel)?;
    let key = headers.get("idempotency-key").map(|v| v.to_str().unwrap_or("\u{0}"));
    match state.inbox.perform_once(&channel, &id, req, &user, key).await {
        Ok(result) => Ok(Json(result)),
        Err(e) => {
            if let crate::inbox::InboxError::Platform(p) = &e {
                state.channels.record_action_failure(&ticket.channel, p);
            }
            let mut e = ApiError::from(e);
            e.message = channel.ctx.redact(&e.message);
            Err(e)
        }
    }
}

#[utoipa::path(operation_id = "tickets_reply_note", post, path = "/api/v1/tickets/{id}/reply-note", request_body = DraftReply,
    responses((status = 200, body = ReplyNote), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 502, body = ErrorBody)))]
/// What the channel says about a reply as the agent writes it (SMS segments, a closing window).
pub async fn reply_note(
    State(state): State<AppState>,
    _: CurrentUser,
    Path(id): Path<String>,
    Body(draft): Body<DraftReply>,
) -> Result<Json<ReplyNote>, ApiError> {
    let ticket = state.inbox.ticket(&id).await?;
    let channel = state.channels.for_action(&ticket.channel)?;
    Ok(Json(state.inbox.reply_note(&channel, &id, draft).await?))
}

#[utoipa::path(operation_id = "tickets_update", patch, path = "/api/v1/tickets/{id}", request_body = TicketPatch,
    responses((status = 200, body = Ticket), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    Body(patch): Body<TicketPatch>,
) -> Result<Json<Ticket>, ApiError> {
    if let Some(a) = patch.assignee.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        // Assignees are user ids, so "assigned to me" survives a change of name.
        state.accounts.user(a).await.map_err(|_| ApiError::bad_request(format!("no user `{a}` to assign to")))?;
    }
    Ok(Json(state.inbox.update(&id, patch, &user.name).await?))
}

/// An agent's mark of how a customer's message reads.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SentimentMark {
    /// `null`: no mark (the offline suggestion, if any, shows again).
    pub sentiment: Option<crate::model::Sentiment>,
}

#[utoipa::path(operation_id = "messages_sentiment", put, path = "/api/v1/messages/{id}/sentiment", request_body = SentimentMark,
    responses((status = 200, body = Message), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn mark_sentiment(State(state): State<AppState>, CurrentUser(user): CurrentUser, Path(id): Path<String>, Body(mark): Body<SentimentMark>) -> Result<Json<Message>, ApiError> {
    Ok(Json(state.inbox.mark_message(&id, mark.sentiment, &user.name).await?))
}

#[utoipa::path(operation_id = "tickets_seen", post, path = "/api/v1/tickets/{id}/seen",
    responses((status = 200, body = Ticket), (status = 404, body = ErrorBody)))]
pub async fn seen(State(state): State<AppState>, _: CurrentUser, Path(id): Path<String>) -> Result<Json<Ticket>, ApiError> {
    Ok(Json(state.inbox.mark_seen(&id).await?))
}

#[utoipa::path(operation_id = "tickets_counts", get, path = "/api/v1/counts", responses((status = 200, body = QueueCounts)))]
pub async fn counts(State(state): State<AppState>, CurrentUser(user): CurrentUser) -> Result<Json<QueueCounts>, ApiError> {
    Ok(Json(state.inbox.counts(&user.id).await?))
}

/// A language the helpdesk tells customers' messages by.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Language {
    /// ISO 639-3: `eng`.
    pub code: String,
    /// In English: `English`.
    pub name: String,
}

#[utoipa::path(operation_id = "languages", get, path = "/api/v1/languages", responses((status = 200, body = Vec<Language>)))]
/// The languages messages are told by (for filters and rules), by name.
pub async fn languages(_: CurrentUser) -> axum::Json<Vec<Language>> {
    let mut all: Vec<Language> = crate::inbox::language::all().into_iter().map(|(code, name)| Language { code: code.into(), name: name.into() }).collect();
    all.sort_by(|a, b| a.name.cmp(&b.name));
    axum::Json(all)
}
