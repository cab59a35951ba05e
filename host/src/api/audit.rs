//! The audit log: every change an admin or agent makes to sign-ins, people, channels, rules,
//! saved replies, teams, targets and settings is appended as it is answered (a layer on the API
//! routes, with the request as sent minus passwords and secrets); platform actions are appended
//! by the inbox in their own write. Admins read it (`/api/v1/audit`, JSON or CSV) and set how
//! long it is kept.

use super::auth::{credential, AdminUser};
use super::error::{ApiError, Body, ErrorBody};
use super::AppState;
use crate::model::{now_ms, stable_id, AuditEntry, AuditKind, Millis};
use crate::store::{AuditFilter, Store};
use axum::extract::rejection::QueryRejection;
use axum::extract::{MatchedPath, Query, Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// What a route's changes are, if they are audited (reads, tickets' own work and one's own
/// status are not: tickets keep their history themselves).
fn kind_of(method: &Method, route: &str) -> Option<AuditKind> {
    let r = route.strip_prefix("/api/v1").unwrap_or(route);
    Some(match r {
        "/session" if method == Method::POST => AuditKind::SignIn,
        "/session" => AuditKind::SignOut,
        "/setup" => AuditKind::Setup,
        "/invitation" | "/channels/{id}/check" | "/rules/{id}/dry-run" => return None,
        _ if r.starts_with("/users") => AuditKind::User,
        _ if r.starts_with("/invitation") => AuditKind::Invitation,
        _ if r.starts_with("/tokens") => AuditKind::Token,
        _ if r.starts_with("/channels") => AuditKind::Channel,
        _ if r.starts_with("/plugins") => AuditKind::Plugin,
        _ if r.starts_with("/rules") => AuditKind::Rule,
        _ if r.starts_with("/saved-replies") => AuditKind::SavedReply,
        _ if r.starts_with("/teams") => AuditKind::Team,
        _ if r.starts_with("/response-targets") => AuditKind::ResponseTarget,
        "/contacts/{id}/links" | "/contacts/{id}/person" | "/contact-merges/{id}/undo" => AuditKind::Contact,
        "/contact-attributes" | "/availability/settings" | "/reports/settings" | "/audit/settings" | "/translation/settings" => AuditKind::Settings,
        _ => return None,
    })
}

/// Fields whose values never go into the log.
fn secret(key: &str) -> bool {
    let k = key.to_lowercase();
    ["password", "secret", "token", "key", "credential"].iter().any(|s| k.contains(s))
}

/// The body as logged: JSON with its secrets' values left out; for a channel's secrets, only
/// their names.
fn redact(route: &str, body: &[u8]) -> String {
    fn walk(v: &mut Value, all: bool) {
        match v {
            Value::Object(m) => {
                for (k, v) in m.iter_mut() {
                    let hide = all || secret(k);
                    if v.is_object() {
                        // A secret's group (`secrets: {…}`) keeps its names.
                        walk(v, hide);
                    } else if hide {
                        *v = Value::String("(left out)".into());
                    } else {
                        walk(v, false);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|v| walk(v, all)),
            _ => {}
        }
    }
    if body.is_empty() {
        return String::new();
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(mut v) => {
            walk(&mut v, route.ends_with("/secrets"));
            let s = v.to_string();
            if s.len() > 4_000 { format!("{}…", &s[..s.floor_char_boundary(4_000)]) } else { s }
        }
        Err(_) => format!("({} bytes, not JSON)", body.len()),
    }
}

/// The values of the path's `{…}` segments.
fn target_of(route: &str, path: &str) -> Option<String> {
    // From the end: inside the nested API router the path has lost its `/api/v1`.
    let mut ids: Vec<&str> = route.rsplit('/').zip(path.rsplit('/')).filter(|(r, _)| r.starts_with('{')).map(|(_, p)| p).collect();
    ids.reverse();
    (!ids.is_empty()).then(|| ids.join("/"))
}

/// The layer: run the request, then append what it did and how it was answered.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    if matches!(method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let Some(route) = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()) else { return next.run(req).await };
    let Some(mut kind) = kind_of(&method, &route) else { return next.run(req).await };
    // Who, before the handler runs (signing out ends the session).
    let user = match credential(req.headers()) {
        Some(secret) => state.accounts.authenticate(&secret).await.ok().flatten(),
        None => None,
    };
    let path = req.uri().path().to_string();
    let (parts, body) = req.into_parts();
    // A plugin upload is a component, not words: its size is enough.
    let (req, logged) = if route.ends_with("/plugins/{name}") {
        let size = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).unwrap_or("?").to_string();
        (Request::from_parts(parts, body), (format!("({size} bytes)"), None))
    } else {
        let bytes = match axum::body::to_bytes(body, 1 << 20).await {
            Ok(b) => b,
            Err(_) => return ApiError::new(axum::http::StatusCode::PAYLOAD_TOO_LARGE, "too_large", "the request body is over 1 MiB").into_response(),
        };
        let email = serde_json::from_slice::<Value>(&bytes).ok().and_then(|v| v.get("email").and_then(Value::as_str).map(str::to_string));
        let text = redact(&route, &bytes);
        (Request::from_parts(parts, axum::body::Body::from(bytes)), (text, email))
    };
    let response = next.run(req).await;
    let status = response.status();
    let ok = status.is_success();
    if kind == AuditKind::SignIn && !ok {
        kind = AuditKind::SignInFailed;
    }
    let (detail, email) = logged;
    let (actor, actor_id) = match &user {
        Some(u) => (u.name.clone(), Some(u.id.clone())),
        None => (email.unwrap_or_else(|| "(not signed in)".into()), None),
    };
    let at = now_ms();
    let entry = AuditEntry {
        id: stable_id(&actor, &format!("audit:{at}:{}:{}", fastrand::u64(..), path)),
        at,
        actor,
        actor_id,
        kind,
        action: format!("{method} {route}"),
        target: target_of(&route, &path),
        detail,
        content: None,
        status: status.as_u16(),
        ok,
    };
    if let Err(e) = state.inbox.store().audit(&entry).await {
        tracing::error!(error = %e, "the audit log could not be written");
    }
    response
}

/// Which entries, as the query string says.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// From this time (ms since the epoch).
    from: Option<Millis>,
    /// Before this time.
    to: Option<Millis>,
    /// Part of the actor's name.
    actor: Option<String>,
    /// `sign_in`, `sign_in_failed`, `user`, `channel`, `rule`, `saved_reply`, `platform_action`...
    kind: Option<String>,
    ok: Option<bool>,
    /// The next page: entries before this time (the last one's `at`).
    before: Option<Millis>,
    /// 1 to 1000 (default 200).
    limit: Option<usize>,
    /// `json` (default) or `csv`.
    format: Option<String>,
}

#[utoipa::path(operation_id = "audit_list", get, path = "/api/v1/audit", params(AuditParams),
    responses((status = 200, body = Vec<AuditEntry>, description = "Newest first; CSV with `format=csv`"), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>, _: AdminUser, params: Result<Query<AuditParams>, QueryRejection>) -> Result<Response, ApiError> {
    let Query(p) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let kind = p
        .kind
        .as_deref()
        .map(|k| serde_json::from_value::<AuditKind>(Value::String(k.to_string())).map_err(|_| ApiError::bad_request(format!("unknown kind `{k}`"))))
        .transpose()?;
    let limit = p.limit.unwrap_or(200);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("limit is 1 to 1000"));
    }
    let f = AuditFilter { from: p.from, to: p.to, actor: p.actor.filter(|a| !a.trim().is_empty()), kind, ok: p.ok, before: p.before, limit };
    let entries = state.inbox.store().audit_entries(&f).await?;
    match p.format.as_deref() {
        None | Some("json") => Ok(Json(entries).into_response()),
        Some("csv") => Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8"), (header::CONTENT_DISPOSITION, "attachment; filename=\"audit-log.csv\"")], to_csv(&entries)?).into_response()),
        Some(f) => Err(ApiError::bad_request(format!("`format` is json or csv, not `{f}`"))),
    }
}

fn to_csv(entries: &[AuditEntry]) -> Result<String, ApiError> {
    let fail = |e: csv::Error| ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string());
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["at", "actor", "kind", "action", "target", "status", "ok", "detail", "content"]).map_err(fail)?;
    for e in entries {
        let at = chrono::DateTime::from_timestamp_millis(e.at).map(|t| t.to_rfc3339()).unwrap_or_default();
        let kind = serde_json::to_value(e.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        w.write_record([at, e.actor.clone(), kind, e.action.clone(), e.target.clone().unwrap_or_default(), e.status.to_string(), e.ok.to_string(), e.detail.clone(), e.content.clone().unwrap_or_default()]).map_err(fail)?;
    }
    String::from_utf8(w.into_inner().map_err(|e| fail(e.into_error().into()))?).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// How long the log is kept.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditSettings {
    /// Entries older than this many days are removed (1 to 3650).
    pub retention_days: u32,
}

/// The settings as stored (with the record's id beside them).
#[derive(Deserialize)]
struct Stored {
    retention_days: u32,
}

const SETTINGS_ID: &str = "audit";
const DEFAULT_RETENTION_DAYS: u32 = 365;

async fn settings_of(store: &Store) -> Result<AuditSettings, crate::store::StoreError> {
    Ok(AuditSettings { retention_days: store.get::<Stored>("settings", SETTINGS_ID).await?.map_or(DEFAULT_RETENTION_DAYS, |s| s.retention_days) })
}

#[utoipa::path(operation_id = "audit_settings", get, path = "/api/v1/audit/settings", responses((status = 200, body = AuditSettings), (status = 403, body = ErrorBody)))]
pub async fn settings(State(state): State<AppState>, _: AdminUser) -> Result<Json<AuditSettings>, ApiError> {
    Ok(Json(settings_of(state.inbox.store()).await?))
}

#[utoipa::path(operation_id = "audit_set_settings", put, path = "/api/v1/audit/settings", request_body = AuditSettings,
    responses((status = 200, body = AuditSettings), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn set_settings(State(state): State<AppState>, _: AdminUser, Body(s): Body<AuditSettings>) -> Result<Json<AuditSettings>, ApiError> {
    if !(1..=3650).contains(&s.retention_days) {
        return Err(ApiError::bad_request("retention_days is 1 to 3650"));
    }
    state.inbox.store().put("settings", SETTINGS_ID, &s).await?;
    prune(state.inbox.store()).await?;
    Ok(Json(s))
}

/// Remove what is older than the retention.
pub async fn prune(store: &Store) -> Result<u64, crate::store::StoreError> {
    let days = settings_of(store).await?.retention_days;
    store.prune_audit(now_ms() - i64::from(days) * 86_400_000).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_and_secrets_never_reach_the_log() {
        let body = br#"{"email":"a@b.c","password":"hunter2","profile":{"api_key":"k","name":"Ann"}}"#;
        let logged = redact("/api/v1/users", body);
        assert!(!logged.contains("hunter2") && !logged.contains("\"k\""), "{logged}");
        assert!(logged.contains("Ann") && logged.contains("a@b.c"), "{logged}");
        let secrets = redact("/api/v1/channels/{id}/secrets", br#"{"secrets":{"bot_token":"123:abc","note":"x"}}"#);
        assert!(!secrets.contains("123:abc") && !secrets.contains("\"x\"") && secrets.contains("bot_token"), "{secrets}");
    }

    #[test]
    fn changes_are_audited_and_reads_and_ticket_work_are_not() {
        assert_eq!(kind_of(&Method::POST, "/api/v1/session"), Some(AuditKind::SignIn));
        assert_eq!(kind_of(&Method::PATCH, "/api/v1/users/{id}"), Some(AuditKind::User));
        assert_eq!(kind_of(&Method::PUT, "/api/v1/channels/{id}/secrets"), Some(AuditKind::Channel));
        assert_eq!(kind_of(&Method::POST, "/api/v1/tickets/{id}/actions"), None, "the inbox logs platform actions itself");
        assert_eq!(kind_of(&Method::POST, "/api/v1/rules/{id}/dry-run"), None, "a dry run changes nothing");
        assert_eq!(target_of("/api/v1/rules/{id}", "/api/v1/rules/r1").as_deref(), Some("r1"));
        assert_eq!(target_of("/api/v1/channels/{id}/secrets", "/channels/tg/secrets").as_deref(), Some("tg"));
    }
}
