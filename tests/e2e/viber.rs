//! The Viber channel end to end: the real plugin against the Viber emulator. Signed callbacks
//! become one conversation per user (every message type), subscriptions are recorded on the
//! contact, receipts on our messages; the webhook is registered on the admin's connection test;
//! answers go with send_message, and Viber's statuses (12, 2, 6) show in words.

mod support;

use helpdesk_testkit::viber::ViberEmulator;
use serde_json::json;
use std::time::Duration;
use support::*;

const WAIT: Duration = Duration::from_secs(15);

#[tokio::test]
async fn a_users_messages_are_one_conversation_and_answers_reach_them() {
    let vb = ViberEmulator::start().await.unwrap();
    let port = free_port();
    let hook = format!("http://127.0.0.1:{port}/webhooks/vb");
    let opts = Options { listen: Some(format!("127.0.0.1:{port}")), ..Options::memory() };
    let server = Server::start_with(&vb.channel_toml("vb", Some(&hook)), opts, None).await;
    // The connection test registers the webhook; Viber's `webhook` call is answered 200.
    let (s, b) = server.post("/api/v1/channels/vb/check", json!({})).await;
    assert_eq!(s, 200, "{b}");
    assert!(b.to_string().contains("webhook registered"), "{b}");
    assert_eq!(vb.webhook().as_deref(), Some(hook.as_str()));

    let url = server.url("/webhooks/vb");
    let text = vb.message("01234567890A=", "Ana", json!({"type": "text", "text": "Hola, ¿tenéis la tienda abierta hoy?"}));
    assert_eq!(vb.deliver(&url, &text, Some("")).await, 401, "unsigned");
    assert_eq!(vb.deliver(&url, &text, Some("00ff")).await, 401, "wrongly signed");
    assert_eq!(vb.deliver(&url, &text, None).await, 200);
    for m in [json!({"type": "picture", "text": "this one", "media": "https://dl-media.viber.com/p/1.jpg"}), json!({"type": "location", "location": {"lat": 38.72, "lon": -9.14}}),
        json!({"type": "contact", "contact": {"name": "Rui", "phone_number": "+351900000000"}}), json!({"type": "sticker", "sticker_id": 46105, "media": "https://viber.com/s/46105.png"})] {
        assert_eq!(vb.deliver(&url, &vb.message("01234567890A=", "Ana", m), None).await, 200);
    }
    let t = server.wait_tickets("platform=viber", 1, WAIT).await;
    let id = t[0]["id"].as_str().unwrap().to_string();
    assert!(eventually(WAIT, || async { server.ticket(&id).await["messages"].as_array().unwrap().len() == 5 }).await, "one conversation");
    let view = server.ticket(&id).await;
    let kinds: Vec<String> = view["messages"].as_array().unwrap().iter().filter_map(|m| m["attachments"][0]["kind"].as_str().map(str::to_string)).collect();
    assert_eq!(kinds, ["image", "location", "sticker"]);

    // Not subscribed yet: Viber will not deliver, and the agent is told so.
    let (s, b) = action(&server, &id, json!({"type": "reply", "text": "¡Sí, hasta las 20h!"})).await;
    assert_eq!(s, 502, "{b}");
    assert!(b["message"].as_str().unwrap().contains("not subscribed"), "{b}");
    vb.subscribe("01234567890A=");
    let subscribed = json!({"event": "subscribed", "timestamp": 1457764197627u64, "user": {"id": "01234567890A=", "name": "Ana"}, "message_token": 4912661846655238145u64});
    assert_eq!(vb.deliver(&url, &subscribed, None).await, 200);
    let (s, b) = action(&server, &id, json!({"type": "reply", "text": "¡Sí, hasta las 20h!"})).await;
    assert_eq!(s, 200, "{b}");
    let sent = vb.sent();
    assert_eq!((sent[0]["receiver"].as_str(), sent[0]["sender"]["name"].as_str()), (Some("01234567890A="), Some("Acme Outdoor customer suppor")), "the name cut to 28");
    // Receipts land on our message.
    let token = b["message"]["platform_id"].as_str().unwrap().to_string();
    let seen = json!({"event": "seen", "timestamp": 1457764197627u64, "message_token": token.parse::<u64>().unwrap(), "user_id": "01234567890A="});
    assert_eq!(vb.deliver(&url, &seen, None).await, 200);
    assert!(eventually(WAIT, || async {
        server.ticket(&id).await["messages"].as_array().unwrap().iter().any(|m| m["delivery"]["state"] == "read")
    })
    .await);
    // Unsubscribing is recorded on the contact: replies would not reach them.
    let unsub = json!({"event": "unsubscribed", "timestamp": 1457764197627u64, "user_id": "01234567890A=", "message_token": 4912661846655238146u64});
    assert_eq!(vb.deliver(&url, &unsub, None).await, 200);
    assert!(eventually(WAIT, || async { server.ticket(&id).await["contact"]["opted_out"] == true }).await);
    assert_eq!(server.tickets("platform=viber&queue=all").await.len(), 1, "subscriptions are no tickets");

    // Status 12 on HTTP 200 is throttling; status 2 a token to renew.
    vb.fail_next(12, "tooManyRequests");
    let (s, b) = action(&server, &id, json!({"type": "reply", "text": "again"})).await;
    assert_eq!(s, 429, "{b}");
    vb.fail_next(2, "invalidAuthToken");
    let (s, _) = action(&server, &id, json!({"type": "reply", "text": "again"})).await;
    assert_eq!(s, 502);
    let c = server.wait_channel("vb", WAIT, |c| c["health"]["state"] == "needs_reconnect").await;
    assert_eq!(c["health"]["state"], "needs_reconnect", "{c}");
}
