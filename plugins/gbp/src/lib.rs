//! Google Business Profile channel: each review of the business's locations is a ticket of kind
//! review with its stars; the location is its context. Reviews are polled newest update first
//! (stopping at the last one seen), or pushed by Pub/Sub (`NEW_REVIEW`, `UPDATED_REVIEW`) and
//! then fetched. Google offers only a reply (create or update) and deleting that reply: reviews
//! cannot be hidden, deleted or their authors blocked, and Q&A was discontinued on 2025-11-03.

mod push;
mod reviews;

use helpdesk_plugin_sdk::prelude::*;
use serde_json::Value;

struct Gbp;

pub const PLATFORM: &str = "Google Business Profile";
pub const DEFAULT_API_URL: &str = "https://mybusiness.googleapis.com/v4";
pub const DEFAULT_INFO_URL: &str = "https://mybusinessbusinessinformation.googleapis.com/v1";
/// Google's limit on a reply, in bytes of UTF-8.
const MAX_REPLY_BYTES: usize = 4096;

impl Channel for Gbp {
    fn describe() -> ChannelInfo {
        use ActionKind::*;
        let review = Capability::new(InteractionKind::Review, &[Reply, Delete])
            .only_on(Delete, Direction::Outbound)
            .action_note(Reply, "A review has one answer: replying again replaces it")
            .action_note(Delete, "Deletes our answer; the review itself stays")
            .note("Google offers no way to hide or delete a review or block its author: only an answer")
            .note("Questions & Answers cannot be read or answered: Google discontinued that API on 2025-11-03")
            .max_reply_chars(MAX_REPLY_BYTES as u32);
        let mut settings = vec![
            Setting::config("account_id", "Account id").required().help("The number in accounts/{id}: the Business Profile account"),
            Setting::config("location_ids", "Location ids")
                .required()
                .help("The numbers in locations/{id}, separated by commas: the shops whose reviews come in"),
            Setting::config("push_audience", "Pub/Sub push audience").help(
                "For push with authentication (recommended): the audience set on the push subscription; each push's Google-signed token is checked against it",
            ),
            Setting::config("push_service_account", "Pub/Sub push service account").help("Optional: the service account email the push subscription authenticates as"),
            Setting::secret("push_token", "Pub/Sub push token")
                .optional()
                .help("For push without authentication: a random string; make the push endpoint /webhooks/{channel}?token=<it>"),
            Setting::config("poll_seconds", "Poll interval").default_value("60").help("Seconds between two looks for new and changed reviews"),
            Setting::config("api_url", "My Business API URL").default_value(DEFAULT_API_URL),
            Setting::config("info_url", "Business Information API URL").default_value(DEFAULT_INFO_URL),
            Setting::config("certs_url", "Google's signing keys").default_value(push::DEFAULT_CERTS_URL),
        ];
        settings.extend(helpdesk_google::settings());
        ChannelInfo {
            platform: "gbp".into(),
            platform_name: PLATFORM.into(),
            capabilities: vec![review],
            polls: true,
            webhooks: true,
            reply_window_hours: None,
            tagged_reply_window: None,
            settings,
            allowed_hosts: vec![
                "https://mybusiness.googleapis.com".into(),
                "https://mybusinessbusinessinformation.googleapis.com".into(),
                "https://oauth2.googleapis.com".into(),
                "https://www.googleapis.com".into(),
                "https://lh3.googleusercontent.com".into(),
            ],
        }
    }

    fn check() -> Result<String, ChannelError> {
        let locations = reviews::locations()?;
        let mut names = Vec::new();
        for l in &locations {
            let info = reviews::location(l)?;
            names.push(info.title.unwrap_or_else(|| l.clone()));
        }
        Ok(format!("{} location(s): {}", names.len(), names.join(", ")))
    }

    fn fetch(cursor: Option<String>) -> Result<Page, ChannelError> {
        reviews::poll(cursor)
    }

    fn handle_webhook(request: HttpRequest) -> Result<WebhookOutcome, ChannelError> {
        if let Some(refusal) = push::refused(&request)? {
            return Ok(refusal);
        }
        let push: Value = serde_json::from_slice(&request.body).map_err(|e| err::permanent(format!("a push that is not JSON: {e}")))?;
        let Some(data) = push["message"]["data"].as_str() else {
            return Ok(WebhookOutcome::reject(400, "a Pub/Sub push without message.data"));
        };
        use base64::Engine;
        let decoded = base64::engine::general_purpose::STANDARD.decode(data).map_err(|_| err::permanent("message.data is not base64"))?;
        let note: Value = serde_json::from_slice(&decoded).map_err(|_| err::permanent("message.data is not a JSON notification"))?;
        let kind = note["notificationType"].as_str().or(note["type"].as_str()).unwrap_or("");
        let review = note["review"].as_str().or(note["review_name"].as_str()).or(note["reviewName"].as_str());
        let events = match (kind, review) {
            ("NEW_REVIEW" | "UPDATED_REVIEW", Some(name)) => reviews::one(name)?,
            // Other notification types (and a review of a location not ours) store nothing.
            _ => Vec::new(),
        };
        Ok(WebhookOutcome::accept(events))
    }

    fn perform(target: Target, action: Action) -> Result<ActionOutcome, ChannelError> {
        let review = target.meta.iter().find(|(k, _)| k == "review").map(|(_, v)| v.clone()).unwrap_or_else(|| target.platform_id.clone());
        match action {
            Action::Reply(r) => {
                if r.text.len() > MAX_REPLY_BYTES {
                    return Err(err::permanent(format!("Google takes answers of at most {MAX_REPLY_BYTES} bytes; this one has {}", r.text.len())));
                }
                let created = reviews::reply(&review, &r.text)?;
                Ok(ActionOutcome { created: Some(created) })
            }
            Action::Delete if target.direction == Direction::Outbound => {
                reviews::delete_reply(&review)?;
                Ok(ActionOutcome { created: None })
            }
            Action::Delete => Err(err::unsupported("Google does not let a business delete a customer's review, only its own answer")),
            _ => Err(err::unsupported("Google Business Profile offers only answering a review and deleting that answer")),
        }
    }
}

export_channel!(Gbp);
