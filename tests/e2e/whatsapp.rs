//! WhatsApp Cloud API end to end: the real server and compiled plugin against the Graph
//! emulator, with Meta's handshake, signatures, message types, statuses, actions, the 24-hour
//! window and Meta's error codes.

mod support;

use helpdesk_testkit::graph::{whatsapp_status, whatsapp_text, GraphEmulator, VERIFY_TOKEN};
use serde_json::{json, Value};
use std::time::Duration;
use support::*;

const WAIT: Duration = Duration::from_secs(20);
const NUMBER: &str = "1122334455667";

async fn whatsapp() -> (GraphEmulator, Server) {
    let graph = GraphEmulator::start().await.unwrap();
    let server = Server::start(&graph.whatsapp_channel_toml("wa", NUMBER)).await;
    (graph, server)
}

async fn deliver(graph: &GraphEmulator, server: &Server, body: &Value) -> u16 {
    graph.deliver(&server.url("/webhooks/wa"), &serde_json::to_vec(body).unwrap(), None).await
}

#[tokio::test]
async fn meta_verification_handshake() {
    let (_graph, server) = whatsapp().await;
    let http = reqwest::Client::new();
    let ok = http.get(server.url(&format!("/webhooks/wa?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444"))).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "1158201444");
    let bad = http.get(server.url("/webhooks/wa?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1")).send().await.unwrap();
    assert_eq!(bad.status(), 403);
    // Shown to admins beside the webhook URL: it is a plain setting.
    assert_eq!(server.channel("wa").await["config"]["verify_token"], VERIFY_TOKEN);
}

#[tokio::test]
async fn a_channel_that_keeps_its_verify_token_among_its_secrets_still_verifies() {
    let graph = GraphEmulator::start().await.unwrap();
    let toml = graph
        .whatsapp_channel_toml("old", NUMBER)
        .replace(&format!("verify_token = \"{VERIFY_TOKEN}\"\n"), "")
        .replace("[channel.secrets]\n", &format!("[channel.secrets]\nverify_token = \"{VERIFY_TOKEN}\"\n"));
    let server = Server::start(&toml).await;
    let ok = reqwest::get(server.url(&format!("/webhooks/old?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=77"))).await.unwrap();
    assert_eq!((ok.status().as_u16(), ok.text().await.unwrap()), (200, "77".to_string()));
}

#[tokio::test]
async fn bad_or_missing_signatures_store_nothing() {
    let (graph, server) = whatsapp().await;
    let body = serde_json::to_vec(&whatsapp_text(NUMBER, "15551230000", "Eve", "wamid.SIG1", "hello")).unwrap();
    let url = server.url("/webhooks/wa");
    assert_eq!(graph.deliver(&url, &body, Some("sha256=00ff")).await, 401);
    assert_eq!(graph.deliver(&url, &body, Some("")).await, 401);
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    assert_eq!(graph.deliver(&url, &tampered, Some(&GraphEmulator::sign(&body))).await, 401, "signed over other bytes");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(server.tickets("queue=all").await.is_empty());
    assert_eq!(graph.deliver(&url, &body, None).await, 200);
    assert_eq!(server.wait_tickets("queue=all", 1, WAIT).await.len(), 1);
}

#[tokio::test]
async fn every_captured_whatsapp_payload_is_handled() {
    let graph = GraphEmulator::start().await.unwrap();
    let fixtures = [
        "whatsapp-cloud-image-chatwoot.json",
        "whatsapp-cloud-bsuid-only-chatwoot.json",
        "whatsapp-cloud-unsupported-type-chatwoot.json",
        "whatsapp-360dialog-text-chatwoot.json",
        "whatsapp-360dialog-status-failed-chatwoot.json",
    ];
    let channels: String = (0..fixtures.len()).map(|n| graph.whatsapp_channel_toml(&format!("fx{n}"), NUMBER)).collect();
    let server = Server::start(&channels).await;
    graph.add_media("b1c68f38-8734-4ad3-b4a1-ef0c10d683", "image/jpeg", helpdesk_testkit::PHOTO_PNG);
    for (n, f) in fixtures.iter().enumerate() {
        let body = fixture(f);
        assert_eq!(graph.deliver(&server.url(&format!("/webhooks/fx{n}")), &body, None).await, 200, "{f}");
    }
    let first = |channel: &'static str| {
        let server = &server;
        async move {
            let t = server.wait_tickets(&format!("channel={channel}"), 1, WAIT).await;
            assert_eq!(t.len(), 1, "{channel}");
            server.ticket(t[0]["id"].as_str().unwrap()).await
        }
    };
    let image = first("fx0").await;
    assert_eq!(image["messages"][0]["text"], "Check out my product!");
    assert_eq!(image["messages"][0]["attachments"][0]["kind"], "image");
    assert_eq!(image["messages"][0]["attachments"][0]["mime_type"], "image/jpeg");
    assert_eq!(image["ticket"]["contact"]["name"], "Sojan Jose");
    // The picture opens through the helpdesk: the media id looked up, the file fetched with the token.
    let (status, headers, bytes) = server.get_bytes(&format!("/api/v1/messages/{}/attachments/0", image["messages"][0]["id"].as_str().unwrap())).await;
    assert_eq!(status, 200);
    assert_eq!(bytes, helpdesk_testkit::PHOTO_PNG);
    assert_eq!(headers["content-type"], "image/png", "what the bytes are, whatever the label");
    assert_eq!(graph.calls_to("b1c68f38-8734-4ad3-b4a1-ef0c10d683").len(), 1);
    let bsuid = first("fx1").await;
    assert_eq!(bsuid["ticket"]["contact"]["id"], "IN.2081978709342942", "a contact without a phone number");
    assert_eq!(bsuid["ticket"]["contact"]["handle"], "muhsin");
    assert_eq!(bsuid["messages"][0]["text"], "testing bsuid");
    let unsupported = first("fx2").await;
    assert!(unsupported["messages"][0]["text"].as_str().unwrap().contains("unsupported"), "{unsupported}");
    let legacy = first("fx3").await;
    assert_eq!(legacy["messages"][0]["text"], "Test");
    // A delivery report is not an interaction: no ticket.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(server.tickets("channel=fx4").await.is_empty());
    assert_eq!(server.channel("fx4").await["health"]["state"], "ok");
}

#[tokio::test]
async fn replies_actions_and_delivery_reports() {
    let (graph, server) = whatsapp().await;
    assert_eq!(deliver(&graph, &server, &whatsapp_text(NUMBER, "15551234567", "Ana", "wamid.IN1", "is my order shipped?")).await, 200);
    let t = server.wait_tickets("queue=new", 1, WAIT).await;
    let id = t[0]["id"].as_str().unwrap().to_string();
    let act = |body: Value| server.post(format!("/api/v1/tickets/{id}/actions"), body);

    let (s, out) = act(json!({"type": "reply", "text": "Yes, this morning!"})).await;
    assert_eq!(s, 200, "{out}");
    assert_eq!(out["ticket"]["queue"], "pending");
    let sent = graph.calls("messages");
    assert_eq!(sent[0].path, format!("{NUMBER}/messages"));
    assert_eq!(sent[0].body["to"], "15551234567");
    assert_eq!(sent[0].body["text"]["body"], "Yes, this morning!");
    assert_eq!(sent[0].body["context"]["message_id"], "wamid.IN1", "the reply quotes the message");
    let wamid = out["message"]["platform_id"].as_str().unwrap().to_string();

    // Meta reports the reply delivered, then read; a late "sent" does not go backwards.
    for status in ["delivered", "read", "sent"] {
        assert_eq!(deliver(&graph, &server, &whatsapp_status(NUMBER, &wamid, status, None)).await, 200);
    }
    assert!(eventually(WAIT, || async { server.ticket(&id).await["messages"][1]["delivery"]["state"] == "read" }).await);
    assert_eq!(server.tickets("queue=all").await.len(), 1, "statuses create no tickets");

    let (s, _) = act(json!({"type": "react", "emoji": "🙏"})).await;
    assert_eq!(s, 200);
    let (s, _) = act(json!({"type": "mark_read"})).await;
    assert_eq!(s, 200);
    let (s, _) = act(json!({"type": "block"})).await;
    assert_eq!(s, 200);
    let calls = graph.calls("messages");
    assert_eq!(calls[1].body["reaction"], json!({"message_id": "wamid.IN1", "emoji": "🙏"}));
    assert_eq!(calls[2].body["status"], "read");
    let block = graph.calls("block_users");
    assert_eq!(block[0].method, "POST");
    assert_eq!(block[0].body["block_users"][0]["user"], "15551234567");
    let (s, b) = act(json!({"type": "delete"})).await;
    assert_eq!(s, 422, "{b}");
}

#[tokio::test]
async fn the_24_hour_window_and_meta_errors() {
    let (graph, server) = whatsapp().await;
    // A customer message from 2021 (a captured payload): the window closed long ago.
    let old = fixture("whatsapp-360dialog-text-chatwoot.json");
    assert_eq!(graph.deliver(&server.url("/webhooks/wa"), &old, None).await, 200);
    let t = server.wait_tickets("queue=all", 1, WAIT).await;
    let old_id = t[0]["id"].as_str().unwrap().to_string();
    let (s, b) = server.post(format!("/api/v1/tickets/{old_id}/actions"), json!({"type": "reply", "text": "hi"})).await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["code"], "outside_messaging_window");
    assert!(graph.calls("messages").is_empty(), "refused before calling WhatsApp");

    assert_eq!(deliver(&graph, &server, &whatsapp_text(NUMBER, "15550000002", "Bo", "wamid.NEW", "help")).await, 200);
    let t = server.wait_tickets("q=help", 1, WAIT).await;
    let id = t[0]["id"].as_str().unwrap().to_string();
    let reply = || server.post(format!("/api/v1/tickets/{id}/actions"), json!({"type": "reply", "text": "hello"}));
    graph.fail_next("messages", 400, 131047, "Re-engagement message", &[]);
    let (s, b) = reply().await;
    assert_eq!(s, 502);
    assert!(b["message"].as_str().unwrap().contains("within 24 hours"), "{b}");
    graph.fail_next("messages", 400, 130429, "Rate limit hit", &[("x-business-use-case-usage", r#"{"1122":[{"type":"whatsapp","estimated_time_to_regain_access":3}]}"#)]);
    let (s, b) = reply().await;
    assert_eq!(s, 429, "{b}");
    assert!(b["message"].as_str().unwrap().contains("180s"), "waits Meta's 3 minutes: {b}");
    assert!(server.channel("wa").await["health"]["last_error"].as_str().unwrap().contains("rate limited"));
    graph.fail_next("messages", 401, 190, "Session has expired", &[]);
    let (s, b) = reply().await;
    assert_eq!(s, 502);
    assert_eq!(b["code"], "needs_reconnect");
    assert_eq!(server.channel("wa").await["health"]["state"], "needs_reconnect", "matched on code 190, shown in health");
}
