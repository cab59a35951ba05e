//! The HTTP surface: REST under `/api/v1`, live events, platform webhooks, the UI.

mod audit;
mod auth;
mod channels;
mod consult;
mod contacts;
mod error;
mod events;
mod media;
mod notes;
mod ops;
mod presence;
mod reports;
mod rules;
mod saved_replies;
mod files;
mod targets;
mod teams;
mod tickets;
mod translation;
mod ui;
mod users;
mod webhooks;

pub use audit::prune as prune_audit;
pub use error::ApiError;
pub use presence::Presence;

use crate::accounts::Accounts;
use crate::events::EventBus;
use crate::inbox::Inbox;
use crate::sync::Channels;
use axum::extract::DefaultBodyLimit;
use axum::routing::{any, get, patch, post, put};
use axum::{Json, Router};
use std::sync::Arc;
use utoipa::OpenApi;

#[derive(Clone)]
pub struct AppState {
    pub inbox: Arc<Inbox>,
    pub channels: Arc<Channels>,
    pub events: EventBus,
    pub accounts: Accounts,
    pub presence: Arc<Presence>,
    /// Runs the admins' rules on what customers send.
    pub automation: Arc<crate::sync::automation::Automation>,
    /// Hands out auto-assigning teams' tickets.
    pub router: Arc<crate::inbox::routing::Router>,
    /// Attachments agents opened.
    pub media: Arc<crate::inbox::MediaCache>,
    /// The translation provider admins configured.
    pub translator: Arc<crate::translation::Translator>,
    /// The installation's mail and the consultations sent through it.
    pub consultations: Arc<crate::consult::Consultations>,
    /// Required to create the first admin; `None` when the server started with users.
    pub setup: Option<Arc<crate::accounts::SetupCode>>,
    /// `scheme://host[:port]` the server is reached at (`--public-url`), when configured.
    pub public_origin: Option<String>,
}

impl AppState {
    /// Served over TLS (as `--public-url https://...` says): cookies are `Secure`.
    pub fn secure_cookies(&self) -> bool {
        self.public_origin.as_deref().is_some_and(|o| o.starts_with("https://"))
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Helpdesk API", description = "Tickets from every social channel, one inbox. \
        Sign in with `POST /api/v1/session` (a session cookie) or send `Authorization: Bearer <API token>`."),
    paths(
        tickets::list, tickets::get, tickets::messages, tickets::action, tickets::reply_note, tickets::update, tickets::mark_sentiment, tickets::seen, tickets::counts, media::attachment,
        notes::add, notes::edit, notes::delete,
        contacts::get, contacts::update, contacts::set_attributes, contacts::add_note, contacts::delete_note, contacts::link, contacts::unlink, contacts::undo_merge, contacts::defs, contacts::set_defs,
        channels::list, channels::answers, channels::status, channels::update, channels::check, channels::set_secrets, channels::history, channels::install_plugin, channels::plugins, channels::connect, channels::remove,
        auth::sign_in, auth::sign_out, auth::me, auth::setup_state, auth::setup,
        rules::list, rules::create, rules::update, rules::delete, rules::dry_run, rules::run, tickets::languages,
        saved_replies::list, saved_replies::create, saved_replies::update, saved_replies::delete, files::upload, files::get, ops::backup,
        targets::list, targets::create, targets::update, targets::delete,
        reports::get, reports::settings, reports::set_settings, audit::list, audit::settings, audit::set_settings,
        consult::settings, consult::configure, consult::check, consult::list, consult::start, consult::follow_up, consult::send_digests,
        translation::settings, translation::configure, translation::my_prefs, translation::set_my_prefs, translation::translate_message, translation::translate_text,
        teams::list, teams::set_mine, teams::settings, teams::teams, teams::create, teams::update, teams::delete, teams::channel_hours, teams::set_channel_hours, teams::my_notifications, teams::set_my_notifications,
        users::list, users::create, users::update, users::tokens, users::create_token, users::revoke_token,
        users::invite, users::invitations, users::revoke_invitation, users::open_invitation, users::accept_invitation,
    ),
    components(schemas(crate::events::Event, events::ClientMessage, crate::search::Sort))
)]
pub struct ApiDoc;

/// The OpenAPI document, as served at `/api/v1/openapi.json` (the web UI's types come from it).
pub fn openapi_json() -> String {
    ApiDoc::openapi().to_pretty_json().expect("the OpenAPI document serialises")
}

/// Largest webhook body accepted.
const MAX_WEBHOOK_BODY: usize = 5 << 20;
/// The largest plugin an admin may upload (an interpreter's component, Python's, is ~40 MiB).
const MAX_PLUGIN_BODY: usize = 96 << 20;
/// A request body must arrive within this long (slow senders hold a connection otherwise).
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The UI's policy: scripts and connections only from this origin, never framed, no plugins.
/// Images may come from the platforms' CDNs (avatars, attachments).
const UI_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: https: http:; \
    connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Headers every answer carries (webhook answers set their own, stricter CSP first).
fn security_headers() -> [(axum::http::HeaderName, &'static str); 5] {
    use axum::http::header;
    [
        (header::CONTENT_SECURITY_POLICY, UI_CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (axum::http::HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
    ]
}

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/session", post(auth::sign_in).delete(auth::sign_out))
        .route("/me", get(auth::me))
        .route("/setup", get(auth::setup_state).post(auth::setup))
        .route("/tickets", get(tickets::list))
        .route("/tickets/{id}", get(tickets::get).patch(tickets::update))
        .route("/tickets/{id}/messages", get(tickets::messages))
        .route("/tickets/{id}/actions", post(tickets::action))
        .route("/tickets/{id}/reply-note", post(tickets::reply_note))
        .route("/tickets/{id}/seen", post(tickets::seen))
        .route("/tickets/{id}/notes", post(notes::add))
        .route("/tickets/{id}/notes/{note_id}", patch(notes::edit).delete(notes::delete))
        .route("/messages/{id}/attachments/{n}", get(media::attachment))
        .route("/messages/{id}/sentiment", put(tickets::mark_sentiment))
        .route("/messages/{id}/translate", post(translation::translate_message))
        .route("/translate", post(translation::translate_text))
        .route("/translation/settings", get(translation::settings).put(translation::configure))
        .route("/mail/settings", get(consult::settings).put(consult::configure))
        .route("/mail/settings/check", post(consult::check))
        .route("/mail/digests", post(consult::send_digests))
        .route("/tickets/{id}/consultations", get(consult::list).post(consult::start))
        .route("/tickets/{id}/consultations/{consultation_id}/messages", post(consult::follow_up))
        .route("/me/translation", get(translation::my_prefs).put(translation::set_my_prefs))
        .route("/contacts/{id}", get(contacts::get).patch(contacts::update))
        .route("/contacts/{id}/attributes", put(contacts::set_attributes))
        .route("/contacts/{id}/notes", post(contacts::add_note))
        .route("/contacts/{id}/notes/{note_id}", axum::routing::delete(contacts::delete_note))
        .route("/contacts/{id}/links", post(contacts::link))
        .route("/contacts/{id}/person", axum::routing::delete(contacts::unlink))
        .route("/contact-merges/{id}/undo", post(contacts::undo_merge))
        .route("/contact-attributes", get(contacts::defs).put(contacts::set_defs))
        .route("/counts", get(tickets::counts))
        .route("/channels", get(channels::list).post(channels::connect))
        .route("/channels/answers", get(channels::answers))
        .route("/channels/{id}", patch(channels::update).delete(channels::remove))
        .route("/channels/{id}/check", post(channels::check))
        .route("/channels/{id}/secrets", axum::routing::put(channels::set_secrets))
        .route("/channels/{id}/history", get(channels::history))
        .route("/plugins", get(channels::plugins))
        .route("/plugins/{name}", axum::routing::put(channels::install_plugin).layer(DefaultBodyLimit::max(MAX_PLUGIN_BODY)))
        .route("/status", get(channels::status))
        .route("/users", get(users::list).post(users::create))
        .route("/availability", get(teams::list))
        .route("/availability/me", put(teams::set_mine))
        .route("/me/notifications", get(teams::my_notifications).put(teams::set_my_notifications))
        .route("/availability/settings", put(teams::settings))
        .route("/teams", get(teams::teams).post(teams::create))
        .route("/rules", get(rules::list).post(rules::create))
        .route("/rules/{id}", put(rules::update).delete(rules::delete))
        .route("/rules/{id}/dry-run", post(rules::dry_run))
        .route("/rules/{id}/run", post(rules::run))
        .route("/business-hours", get(teams::channel_hours))
        .route("/channels/{id}/business-hours", put(teams::set_channel_hours))
        .route("/languages", get(tickets::languages))
        .route("/response-targets", get(targets::list).post(targets::create))
        .route("/response-targets/{id}", put(targets::update).delete(targets::delete))
        .route("/reports", get(reports::get))
        .route("/reports/settings", get(reports::settings).put(reports::set_settings))
        .route("/audit", get(audit::list))
        .route("/audit/settings", get(audit::settings).put(audit::set_settings))
        .route("/saved-replies", get(saved_replies::list).post(saved_replies::create))
        .route("/saved-replies/{id}", put(saved_replies::update).delete(saved_replies::delete))
        // The handler reads the body within the file limit itself, and answers 413 past it.
        .route("/files", post(files::upload).layer(DefaultBodyLimit::disable()))
        .route("/files/{id}", get(files::get))
        .route("/backup", get(ops::backup))
        .route("/teams/{id}", put(teams::update).delete(teams::delete))
        .route("/users/{id}", patch(users::update))
        .route("/tokens", get(users::tokens).post(users::create_token))
        .route("/invitations", get(users::invitations).post(users::invite))
        .route("/invitations/{id}", axum::routing::delete(users::revoke_invitation))
        .route("/invitation", post(users::open_invitation))
        .route("/invitation/accept", post(users::accept_invitation))
        .route("/tokens/{id}", axum::routing::delete(users::revoke_token))
        .route("/events", get(events::subscribe))
        .route("/openapi.json", get(|_: auth::CurrentUser| async { Json(ApiDoc::openapi()) }))
        // Every change to people, channels, rules and settings is appended to the audit log.
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), audit::layer))
        .route_layer(axum::middleware::from_fn(ops::track))
        .fallback(|| async { ApiError::not_found("no such API route") });
    let mut router = Router::new()
        .route("/webhooks/{channel_id}", any(webhooks::deliver).layer(DefaultBodyLimit::max(MAX_WEBHOOK_BODY)))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route_layer(axum::middleware::from_fn(ops::track))
        .nest("/api/v1", api)
        // The UI's files go compressed (brotli or gzip, as the browser accepts): its 65 KB of
        // script is 23 KB gzipped.
        .fallback_service(any(ui::serve).layer(tower_http::compression::CompressionLayer::new()));
    for (name, value) in security_headers() {
        router = router.layer(tower_http::set_header::SetResponseHeaderLayer::if_not_present(name, axum::http::HeaderValue::from_static(value)));
    }
    router
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(BODY_TIMEOUT))
        // Every request gets an id (or keeps the proxy's `x-request-id`), in its log lines and
        // its response.
        .layer(tower_http::request_id::PropagateRequestIdLayer::x_request_id())
        .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default();
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(tower_http::request_id::SetRequestIdLayer::x_request_id(tower_http::request_id::MakeRequestUuid))
        .with_state(state)
}
