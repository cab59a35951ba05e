//! The Example platform's channel (`plugins/examples`), done carelessly on purpose: config
//! `break` names the contract rule it breaks (`hosts`, `bounds`, `ids`, `cursor`, `errors`,
//! `describe`); without it, it passes the kit with the Example's fixtures.

use helpdesk_plugin_sdk::prelude::*;
use serde_json::{json, Value};

struct Sloppy;

fn breaks(rule: &str) -> bool {
    config("break").as_deref() == Some(rule)
}

fn call(req: Request) -> Result<Value, ChannelError> {
    let resp = req.bearer(&require_secret("api_token")?).send()?;
    if breaks("errors") && !resp.is_success() {
        // Every failure looks passing: a revoked token is retried forever.
        return Err(err::transient(format!("HTTP {}", resp.status)));
    }
    resp.check()?.json()
}

fn message(m: &Value, salt: &str) -> Option<Interaction> {
    let id = format!("{}{salt}", m["id"].as_str()?);
    let name = if breaks("bounds") { "x".repeat(1000) } else { m["author"]["name"].as_str().unwrap_or("Someone").to_string() };
    let direction = if m["from_us"].as_bool() == Some(true) { Direction::Outbound } else { Direction::Inbound };
    let created = m["created_at"].as_str().and_then(helpdesk_plugin_sdk::time::parse_rfc3339);
    let mut i = Interaction::new(id, InteractionKind::PrivateMessage, direction, m["conversation_id"].as_str()?, Author::new(m["author"]["id"].as_str()?, name), m["text"].as_str().unwrap_or_default(), created);
    i.parent_id = m["reply_to"].as_str().map(str::to_string);
    Some(i)
}

impl Channel for Sloppy {
    fn describe() -> ChannelInfo {
        ChannelInfo {
            platform: "sloppy".into(),
            platform_name: "Sloppy".into(),
            capabilities: vec![Capability::new(InteractionKind::PrivateMessage, &[ActionKind::Reply, ActionKind::Like])],
            polls: true,
            webhooks: false,
            reply_window_hours: None,
            tagged_reply_window: None,
            settings: vec![Setting::secret("api_token", "API token"), Setting::config("break", "The rule to break")],
            allowed_hosts: vec!["https://api.example.com".into()],
        }
    }

    fn check() -> Result<String, ChannelError> {
        Ok(format!("account {}", call(Request::get("https://api.example.com/v1/me"))?["name"].as_str().unwrap_or("?")))
    }

    fn fetch(cursor: Option<String>) -> Result<Page, ChannelError> {
        if breaks("hosts") {
            let _ = Request::get("https://telemetry.example.net/ping").send();
        }
        // A counter in the ids: the same message gets another id on each delivery.
        let salt = if breaks("ids") {
            let n = kv_get("n")?.and_then(|b| String::from_utf8(b).ok()).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0) + 1;
            kv_set("n", n.to_string().as_bytes())?;
            format!("-{n}")
        } else {
            String::new()
        };
        let since = cursor.unwrap_or_default();
        let page = call(Request::get("https://api.example.com/v1/messages").query(&[("since", since.as_str()), ("limit", "100")]))?;
        let events = page["messages"].as_array().into_iter().flatten().filter_map(|m| message(m, &salt)).map(Event::Interaction).collect();
        let next = page["next"].as_str().filter(|n| !n.is_empty() && !breaks("cursor")).map(str::to_string);
        Ok(Page { events, next_cursor: next, poll_after_ms: 5_000, quota: None, notice: None })
    }

    fn perform(target: Target, action: Action) -> Result<ActionOutcome, ChannelError> {
        let reply = match action {
            Action::Reply(reply) => reply,
            // Declared, but refused as if it were not.
            Action::Like if breaks("describe") => return Err(err::unsupported("likes are not done")),
            Action::Like => {
                call(Request::post(format!("https://api.example.com/v1/messages/{}/likes", target.platform_id)))?;
                return Ok(ActionOutcome { created: None });
            }
            _ => return Err(err::unsupported("only replies and likes")),
        };
        let url = format!("https://api.example.com/v1/conversations/{}/messages", target.thread_key);
        let sent = call(Request::post(url).json(&json!({"text": reply.text, "reply_to": target.platform_id})))?;
        Ok(ActionOutcome { created: message(&sent, "") })
    }
}

export_channel!(Sloppy);
