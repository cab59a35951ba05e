//! `/api/v1/reports`: how fast the team answers and where its work comes from, by period or
//! by platform, channel, kind, agent, team or tag, as JSON or CSV (everyone signed in reads
//! them; admins set the time zone days are counted in).

use super::auth::{AdminUser, CurrentUser};
use super::error::{ApiError, Body, ErrorBody};
use super::AppState;
use crate::inbox::reports::{Dim, Figures, Group, Report, ReportLine, ReportQuery, ReportSettings};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

/// What a report covers. At most one of `platform`, `channel`, `kind`, `agent`, `team`, `tag`
/// narrows a report by day, week or month.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportParams {
    /// First day, `YYYY-MM-DD` (default: 29 days before `to`).
    from: Option<String>,
    /// Last day, `YYYY-MM-DD` (default: today).
    to: Option<String>,
    /// `day` (default), `week`, `month`, `platform`, `channel`, `kind`, `agent`, `team`, `tag`.
    by: Option<String>,
    platform: Option<String>,
    channel: Option<String>,
    kind: Option<String>,
    /// An agent, by the name on their answers.
    agent: Option<String>,
    team: Option<String>,
    tag: Option<String>,
    /// `json` (default) or `csv`.
    format: Option<String>,
}

fn date(s: &str, what: &str) -> Result<chrono::NaiveDate, ApiError> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| ApiError::bad_request(format!("`{what}` is a date: YYYY-MM-DD, not `{s}`")))
}

#[utoipa::path(operation_id = "reports_get", get, path = "/api/v1/reports", params(ReportParams),
    responses((status = 200, body = Report, description = "JSON, or CSV with `format=csv`"), (status = 400, body = ErrorBody)))]
/// Tickets and messages in and out, replies, resolutions, and first response, next response and
/// resolution times (median, p90, in business hours, % of targets met) for each line.
pub async fn get(State(state): State<AppState>, _: CurrentUser, params: Result<Query<ReportParams>, QueryRejection>) -> Result<Response, ApiError> {
    let Query(p) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let zone = state.inbox.report_zone();
    let today = chrono::Utc::now().with_timezone(&zone).date_naive();
    let to = p.to.as_deref().map(|s| date(s, "to")).transpose()?.unwrap_or(today);
    let from = p.from.as_deref().map(|s| date(s, "from")).transpose()?.unwrap_or(to - chrono::Duration::days(29));
    let by: Group = serde_json::from_value(serde_json::Value::String(p.by.clone().unwrap_or_else(|| "day".into())))
        .map_err(|_| ApiError::bad_request("`by` is one of day, week, month, platform, channel, kind, agent, team, tag"))?;
    let filters = [(Dim::Platform, &p.platform), (Dim::Channel, &p.channel), (Dim::Kind, &p.kind), (Dim::Agent, &p.agent), (Dim::Team, &p.team), (Dim::Tag, &p.tag)];
    let mut only = filters.into_iter().filter_map(|(d, v)| v.clone().map(|v| (d, v)));
    let only = only.next().map(|first| (first, only.next().is_some()));
    let only = match only {
        Some((_, true)) => return Err(ApiError::bad_request("a report narrows to one platform, channel, kind, agent, team or tag at a time")),
        // Kinds as the API spells them, or as the contract does (`private-message`).
        Some(((Dim::Kind, k), _)) => {
            let kind: crate::model::Kind = serde_json::from_value(serde_json::Value::String(k.replace('-', "_"))).map_err(|_| ApiError::bad_request(format!("unknown kind `{k}`")))?;
            Some((Dim::Kind, kind.as_str().to_string()))
        }
        Some((only, _)) => Some(only),
        None => None,
    };
    let mut report = state.inbox.report(&ReportQuery { from, to, by, only: only.clone() })?;
    if by == Group::Agent || matches!(only, Some((Dim::Agent, _))) {
        add_available(&state, &mut report, zone).await?;
    }
    match p.format.as_deref() {
        None | Some("json") => Ok(Json(report).into_response()),
        Some("csv") => {
            let name = format!("report-{}-{}-by-{}.csv", report.from, report.to, p.by.as_deref().unwrap_or("day"));
            Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\""))], to_csv(&report)?).into_response())
        }
        Some(f) => Err(ApiError::bad_request(format!("`format` is json or csv, not `{f}`"))),
    }
}

/// Agents' time Available over the report's days (from the accounts' stretches of status).
async fn add_available(state: &AppState, report: &mut Report, zone: chrono_tz::Tz) -> Result<(), ApiError> {
    use chrono::TimeZone;
    let start = |d: chrono::NaiveDate| zone.from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight")).earliest().map(|t| t.timestamp_millis()).unwrap_or(0);
    let (from, to) = (start(report.from), start(report.to + chrono::Duration::days(1)));
    // Reports know agents by the name their answers and changes carry.
    let users = state.accounts.users().await?;
    let available: std::collections::BTreeMap<String, i64> = state
        .accounts
        .available_ms(from, to)
        .await?
        .into_iter()
        .map(|(id, ms)| (users.iter().find(|u| u.id == id).map(|u| u.name.clone()).unwrap_or(id), ms))
        .collect();
    if report.by == Group::Agent {
        for line in &mut report.lines {
            line.available_ms = Some(available.get(&line.key).copied().unwrap_or(0));
        }
        // Agents with time Available and nothing else to count still show.
        for (agent, ms) in &available {
            if !report.lines.iter().any(|l| &l.key == agent) {
                let mut line = ReportLine::of(agent.clone(), &Default::default());
                line.available_ms = Some(*ms);
                report.lines.push(line);
            }
        }
    }
    report.total.available_ms = Some(available.values().sum());
    Ok(())
}

/// The report as CSV: a line per row and the total, every figure in its own column.
fn to_csv(report: &Report) -> Result<String, ApiError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut head: Vec<String> = ["key", "tickets_in", "messages_in", "messages_out", "auto_replies", "replies", "resolved", "reopened"].map(String::from).to_vec();
    for clock in ["first_response", "next_response", "resolution"] {
        for f in ["count", "median_s", "p90_s", "business_median_s", "business_p90_s", "met", "missed", "met_percent"] {
            head.push(format!("{clock}_{f}"));
        }
    }
    head.push("available_s".into());
    let fail = |e: csv::Error| ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string());
    w.write_record(&head).map_err(fail)?;
    let seconds = |ms: Option<i64>| ms.map(|ms| (ms / 1000).to_string()).unwrap_or_default();
    for l in report.lines.iter().chain(std::iter::once(&report.total)) {
        let mut rec = vec![l.key.clone()];
        rec.extend([l.tickets_in, l.messages_in, l.messages_out, l.auto_replies, l.replies, l.resolved, l.reopened].map(|n| n.to_string()));
        for f in [&l.first_response, &l.next_response, &l.resolution] {
            let Figures { count, median_ms, p90_ms, business_median_ms, business_p90_ms, met, missed, met_percent } = f;
            rec.extend([count.to_string(), seconds(*median_ms), seconds(*p90_ms), seconds(*business_median_ms), seconds(*business_p90_ms), met.to_string(), missed.to_string(), met_percent.map(|p| p.to_string()).unwrap_or_default()]);
        }
        rec.push(seconds(l.available_ms));
        w.write_record(&rec).map_err(fail)?;
    }
    String::from_utf8(w.into_inner().map_err(|e| fail(e.into_error().into()))?).map_err(|e| ApiError::bad_request(e.to_string()))
}

#[utoipa::path(operation_id = "reports_settings", get, path = "/api/v1/reports/settings", responses((status = 200, body = ReportSettings)))]
pub async fn settings(State(state): State<AppState>, _: CurrentUser) -> Result<Json<ReportSettings>, ApiError> {
    Ok(Json(state.inbox.report_settings().await?))
}

#[utoipa::path(operation_id = "reports_set_settings", put, path = "/api/v1/reports/settings", request_body = ReportSettings,
    responses((status = 200, body = ReportSettings), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn set_settings(State(state): State<AppState>, _: AdminUser, Body(s): Body<ReportSettings>) -> Result<Json<ReportSettings>, ApiError> {
    Ok(Json(state.inbox.set_report_settings(s).await?))
}
