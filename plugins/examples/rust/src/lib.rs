//! A channel for the Example platform: polls its messages API, replies in conversations.
//! The shape of most messaging platforms: a token, a paged list of messages, a send call.

use helpdesk_plugin_sdk::prelude::*;
use helpdesk_plugin_sdk::time::parse_rfc3339;
use serde_json::{json, Value};

struct Example;

const DEFAULT_BASE: &str = "https://api.example.com";

fn base() -> String {
    config_or("base_url", DEFAULT_BASE).trim_end_matches('/').to_string()
}

/// `GET {base}{path}` or another method, with the token; an error status becomes the
/// `channel-error` the host acts on (401 unauthorized, 429 rate-limited, 5xx transient).
fn call(req: Request) -> Result<Value, ChannelError> {
    req.bearer(&require_secret("api_token")?).send_checked()?.json()
}

fn message(m: &Value) -> Option<Interaction> {
    let id = m["id"].as_str()?;
    let conversation = m["conversation_id"].as_str()?;
    let author = Author::new(m["author"]["id"].as_str()?, m["author"]["name"].as_str().unwrap_or("Someone"));
    let direction = if m["from_us"].as_bool() == Some(true) { Direction::Outbound } else { Direction::Inbound };
    let created = m["created_at"].as_str().and_then(parse_rfc3339);
    let mut i = Interaction::new(id, InteractionKind::PrivateMessage, direction, conversation, author, m["text"].as_str().unwrap_or_default(), created);
    i.parent_id = m["reply_to"].as_str().map(str::to_string);
    Some(i)
}

impl Channel for Example {
    fn describe() -> ChannelInfo {
        ChannelInfo {
            platform: "example".into(),
            platform_name: "Example".into(),
            capabilities: vec![Capability::new(InteractionKind::PrivateMessage, &[ActionKind::Reply]).max_reply_chars(2000)],
            polls: true,
            webhooks: false,
            reply_window_hours: None,
            tagged_reply_window: None,
            settings: vec![
                Setting::secret("api_token", "API token").help("Settings → API on the Example dashboard"),
                Setting::config("base_url", "API URL").default_value(DEFAULT_BASE),
            ],
            allowed_hosts: vec![DEFAULT_BASE.into()],
        }
    }

    fn check() -> Result<String, ChannelError> {
        let me = call(Request::get(format!("{}/v1/me", base())))?;
        Ok(format!("account {}", me["name"].as_str().unwrap_or("?")))
    }

    fn fetch(cursor: Option<String>) -> Result<Page, ChannelError> {
        let since = cursor.unwrap_or_default();
        let page = call(Request::get(format!("{}/v1/messages", base())).query(&[("since", since.as_str()), ("limit", "100")]))?;
        let messages = page["messages"].as_array().cloned().unwrap_or_default();
        let events = messages.iter().filter_map(message).map(Event::Interaction).collect();
        // More waiting: ask again at once; otherwise in 5 s.
        let more = page["has_more"].as_bool() == Some(true);
        let next = page["next"].as_str().filter(|n| !n.is_empty()).map(str::to_string);
        Ok(Page { events, next_cursor: next, poll_after_ms: if more { 0 } else { 5_000 }, quota: None, notice: None })
    }

    fn perform(target: Target, action: Action) -> Result<ActionOutcome, ChannelError> {
        let Action::Reply(reply) = action else { return Err(err::unsupported("Example only takes replies")) };
        let url = format!("{}/v1/conversations/{}/messages", base(), helpdesk_plugin_sdk::http::encode(&target.thread_key));
        let sent = call(Request::post(url).json(&json!({"text": reply.text, "reply_to": target.platform_id})))?;
        Ok(ActionOutcome { created: message(&sent) })
    }
}

export_channel!(Example);

#[cfg(test)]
mod tests {
    use super::*;
    use helpdesk_plugin_sdk::testing::{Fake, Reply};

    #[test]
    fn a_page_of_messages_becomes_interactions_and_the_cursor_moves() {
        let fake = Fake::new().secret("api_token", "t").on(
            "GET",
            "https://api.example.com/v1/messages?limit=100",
            Reply::json(200, json!({"messages": [{"id": "m1", "conversation_id": "c1", "author": {"id": "u1", "name": "Ann"}, "text": "Hi", "created_at": "2024-05-01T12:00:00Z"}], "next": "m1"})),
        );
        let page = Example::fetch(None).unwrap();
        assert_eq!(page.next_cursor.as_deref(), Some("m1"));
        let Event::Interaction(i) = &page.events[0] else { panic!("an interaction") };
        assert_eq!((i.platform_id.as_str(), i.thread_key.as_str(), i.created_at), ("m1", "c1", Some(1_714_564_800_000)));
        assert_eq!(fake.requests()[0].header("authorization"), Some("Bearer t"));
    }

    #[test]
    fn a_refused_token_asks_for_a_reconnect() {
        let _fake = Fake::new().secret("api_token", "old").on("GET", "https://api.example.com/v1/me", Reply::json(401, json!({"error": "invalid token"})));
        assert!(matches!(Example::check(), Err(ChannelError::Unauthorized(_))));
    }
}
