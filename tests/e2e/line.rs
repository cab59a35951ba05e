//! The LINE channel end to end: the real plugin against the LINE emulator. Signed webhooks
//! become one conversation per user (every message type, the captured real payloads too);
//! profiles are read once; follow and unfollow are recorded on the contact; unsent messages
//! are removed; answers use the reply token while it is valid and push after; the quota shows
//! in the channel's health.

mod support;

use helpdesk_testkit::line::LineEmulator;
use serde_json::{json, Value};
use std::time::Duration;
use support::*;

const WAIT: Duration = Duration::from_secs(15);

fn captured(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../../shared/fixtures/real-payloads/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

async fn post_signed(url: &str, body: Vec<u8>) -> u16 {
    let sig = LineEmulator::sign(&body);
    reqwest::Client::new().post(url).header("content-type", "application/json").header("x-line-signature", sig).body(body).send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn a_users_messages_are_one_conversation_answered_by_reply_token_then_push() {
    let line = LineEmulator::start().await.unwrap();
    let server = Server::start(&line.channel_toml("ln")).await;
    let (s, b) = server.post("/api/v1/channels/ln/check", json!({})).await;
    assert_eq!(s, 200, "{b}");
    assert!(b.to_string().contains("@acme.outdoor"), "{b}");
    let url = server.url("/webhooks/ln");
    let yui = "U4af4980629yui";
    line.add_user(yui, "Yui Tanaka");

    let first = line.message(yui, json!({"type": "text", "text": "注文したテントはいつ届きますか？"}));
    assert_eq!(line.deliver(&url, vec![first.clone()], Some("")).await, 401, "unsigned");
    assert_eq!(line.deliver(&url, vec![first.clone()], Some("bm90IGl0")).await, 401, "wrongly signed");
    assert!(server.tickets("platform=line&queue=all").await.is_empty(), "nothing stored");
    // The console's Verify button: no events, 200.
    assert_eq!(line.deliver(&url, vec![], None).await, 200);
    assert_eq!(line.deliver(&url, vec![first.clone()], None).await, 200);
    assert_eq!(line.deliver(&url, vec![first], None).await, 200, "a redelivery");
    let more = vec![
        line.message(yui, json!({"type": "image"})),
        line.message(yui, json!({"type": "sticker", "packageId": "11537", "stickerId": "52002738", "keywords": ["thanks"]})),
        line.message(yui, json!({"type": "location", "title": "Acme Shibuya", "address": "Tokyo, Shibuya", "latitude": 35.658, "longitude": 139.7016})),
        line.message(yui, json!({"type": "file", "fileName": "receipt.pdf", "fileSize": 2048})),
    ];
    assert_eq!(line.deliver(&url, more, None).await, 200);
    let t = server.wait_tickets("platform=line", 1, WAIT).await;
    let id = t[0]["id"].as_str().unwrap().to_string();
    assert!(eventually(WAIT, || async { server.ticket(&id).await["messages"].as_array().unwrap().len() == 5 }).await, "one conversation, the redelivery once");
    let view = server.ticket(&id).await;
    assert_eq!(view["ticket"]["contact"]["name"], "Yui Tanaka");
    assert_eq!(line.profile_reads(yui), 1, "the profile is read once and kept");
    let kinds: Vec<&str> = view["messages"].as_array().unwrap().iter().filter_map(|m| m["attachments"][0]["kind"].as_str()).collect();
    assert_eq!(kinds, ["image", "sticker", "location", "file"]);
    // The picture comes from LINE's content API, with the token.
    let photo = view["messages"][1]["id"].as_str().unwrap();
    let (s, headers, bytes) = server.get_bytes(&format!("/api/v1/messages/{photo}/attachments/0")).await;
    assert_eq!((s, headers["content-type"].to_str().unwrap()), (200, "image/png"));
    assert_eq!(bytes, helpdesk_testkit::PHOTO_PNG);

    // Within the minute: a free answer with the newest message's reply token.
    let (_, note) = server.post(format!("/api/v1/tickets/{id}/reply-note"), json!({"text": "明日です"})).await;
    assert!(note["note"].as_str().unwrap().starts_with("Free answer"), "{note}");
    let (s, b) = action(&server, &id, json!({"type": "reply", "text": "明日お届けします！"})).await;
    assert_eq!(s, 200, "{b}");
    // The token is used: the next answer is a push, and the note says so.
    let (_, note) = server.post(format!("/api/v1/tickets/{id}/reply-note"), json!({"text": "追記"})).await;
    assert!(note["note"].as_str().unwrap().contains("push message"), "{note}");
    let (s, _) = action(&server, &id, json!({"type": "reply", "text": "追跡番号は 1234 です"})).await;
    assert_eq!(s, 200);
    // A new message's token, expired on LINE's side before we answer: pushed instead.
    assert_eq!(line.deliver(&url, vec![line.message(yui, json!({"type": "text", "text": "ありがとう"}))], None).await, 200);
    assert!(eventually(WAIT, || async { server.ticket(&id).await["messages"].as_array().unwrap().len() == 8 }).await);
    line.expire_reply_tokens();
    let (s, b) = action(&server, &id, json!({"type": "reply", "text": "どういたしまして"})).await;
    assert_eq!(s, 200, "{b}");
    let via: Vec<&str> = line.sent().iter().map(|m| if m["via"] == "reply" { "reply" } else { "push" }).collect::<Vec<_>>().into_iter().collect();
    assert_eq!(via, ["reply", "push", "push"]);
    assert!(line.sent().iter().all(|m| m["to"] == yui));

    // Unsent on LINE: gone here too.
    let unsend = json!({"type": "unsend", "mode": "active", "timestamp": 1_700_000_000_000i64, "source": {"type": "user", "userId": yui}, "unsend": {"messageId": view["messages"][0]["platform_id"]}});
    assert_eq!(line.deliver(&url, vec![unsend], None).await, 200);
    assert!(eventually(WAIT, || async { server.ticket(&id).await["messages"][0]["removed"] == true }).await);
    // Unfollowing blocks the account; following again unblocks it. No tickets for either.
    line.unfollow(yui);
    assert_eq!(line.deliver(&url, vec![line.event("unfollow", yui)], None).await, 200);
    assert!(eventually(WAIT, || async { server.ticket(&id).await["contact"]["blocked_us"] == true }).await, "{}", server.ticket(&id).await["contact"]);
    let (s, b) = action(&server, &id, json!({"type": "reply", "text": "また来てね"})).await;
    assert_eq!(s, 502, "{b}");
    line.add_user(yui, "Yui Tanaka");
    assert_eq!(line.deliver(&url, vec![line.event("follow", yui)], None).await, 200);
    assert!(eventually(WAIT, || async { server.ticket(&id).await["contact"]["blocked_us"] == false }).await);
    assert_eq!(server.tickets("platform=line&queue=all").await.len(), 1);

    // The plan's push messages, in the channel's health; the monthly limit in words.
    let c = server.wait_channel("ln", WAIT, |c| c["health"]["quota"]["limit"] == 500).await;
    assert_eq!(c["health"]["quota"]["unit"], "push messages this month", "{c}");
    line.expire_reply_tokens();
    line.fail_next(429, "You have reached your monthly limit.");
    let (s, b) = action(&server, &id, json!({"type": "reply", "text": "もう一度"})).await;
    assert_eq!(s, 502, "{b}");
    assert!(b["message"].as_str().unwrap().contains("monthly messages"), "{b}");
}

#[tokio::test]
async fn lines_captured_payloads_are_stored_and_the_follow_is_recorded() {
    let line = LineEmulator::start().await.unwrap();
    let server = Server::start(&line.channel_toml("ln")).await;
    line.add_user("U4af4980629", "Taro Yamada");
    let url = server.url("/webhooks/ln");
    for name in ["line-message-text-and-follow.json", "line-message-image.json", "line-message-sticker.json"] {
        assert_eq!(post_signed(&url, captured(name)).await, 200, "{name}");
    }
    let t = server.wait_tickets("platform=line", 1, WAIT).await;
    let id = t[0]["id"].as_str().unwrap().to_string();
    assert!(eventually(WAIT, || async { server.ticket(&id).await["messages"].as_array().unwrap().len() == 3 }).await);
    let view = server.ticket(&id).await;
    let texts: Vec<Value> = view["messages"].as_array().unwrap().iter().map(|m| m["text"].clone()).collect();
    assert!(texts.contains(&json!("Hello, world")), "{texts:?}");
    assert_eq!(view["ticket"]["contact"]["name"], "Taro Yamada");
    assert_eq!(server.tickets("platform=line&queue=all").await.len(), 1, "the follow events are no tickets");
}
