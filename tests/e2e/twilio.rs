//! The Twilio channel end to end: the real plugin against the Twilio emulator, behind the
//! host's public URL (which Twilio's signature covers). SMS, MMS and locations land in one
//! conversation per contact; answers go with Messages.json and their status callbacks become
//! delivery states; STOP and START are recorded on the contact; 20429 is tried again; the
//! reply note counts segments; WhatsApp through Twilio keeps its window; a backfill reads what
//! arrived while the host was down; a disabled channel refuses its webhooks.

mod support;

use helpdesk_testkit::twilio::{TwilioEmulator, NUMBER};
use serde_json::json;
use std::time::Duration;
use support::*;

const WAIT: Duration = Duration::from_secs(15);

/// A server with a public URL, and the Twilio channel `sms` whose status callbacks come back.
async fn start(tw: &TwilioEmulator, from: &str) -> (Server, String) {
    let port = free_port();
    let public = format!("http://127.0.0.1:{port}");
    let hook = format!("{public}/webhooks/sms");
    let opts = Options { listen: Some(format!("127.0.0.1:{port}")), public_url: Some(public), ..Options::memory() };
    (Server::start_with(&tw.channel_toml("sms", from, Some(&hook)), opts, None).await, hook)
}

fn chatwoot_fixture(name: &str) -> Vec<(String, String)> {
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(format!("{}/../../shared/fixtures/real-payloads/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()).unwrap();
    v.as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string())).collect()
}

#[tokio::test]
async fn texts_and_pictures_are_one_conversation_answered_with_their_delivery_and_stop_is_kept() {
    let tw = TwilioEmulator::start().await.unwrap();
    let (server, hook) = start(&tw, NUMBER).await;
    let (s, b) = server.post("/api/v1/channels/sms/check", json!({})).await;
    assert_eq!(s, 200, "{b}");
    assert!(b.to_string().contains("Acme Outdoor"), "{b}");

    let ana = "+4915170894541";
    let first = tw.inbound(ana, NUMBER, "Hallo, ist meine Bestellung 4711 schon unterwegs?", &[]);
    // Unsigned, signed with another token or over another URL: refused, nothing stored.
    assert_eq!(tw.deliver_as(&hook, &hook, &first, Some("")).await, 401);
    assert_eq!(tw.deliver_as(&hook, &hook, &first, Some("RSOYDt4T1cUTdK1PDd93/VVr8B8=")).await, 401);
    assert_eq!(tw.deliver_as(&hook, "https://elsewhere.example/webhooks/sms", &first, None).await, 401);
    assert!(server.tickets("platform=twilio&queue=all").await.is_empty(), "nothing stored");
    // Signed over the URL without its port, as some proxies present it: accepted.
    let portless = hook.replacen(&format!(":{}", hook.split(':').nth(2).unwrap().split('/').next().unwrap()), "", 1);
    assert_eq!(tw.deliver_as(&hook, &portless, &first, None).await, 200);
    assert_eq!(tw.deliver(&hook, &first).await, 200, "a redelivery");
    let picture = tw.inbound(ana, NUMBER, "so sieht der Karton aus", &[("image/png", helpdesk_testkit::PHOTO_PNG)]);
    assert_eq!(tw.deliver(&hook, &picture).await, 200);
    // Chatwoot's captured location message, as Twilio would sign it for this URL.
    let mut location = chatwoot_fixture("twilio-location-inbound-chatwoot.json");
    location.iter_mut().filter(|(k, _)| k == "From").for_each(|(_, v)| *v = ana.into());
    assert_eq!(tw.deliver(&hook, &location).await, 200);

    let t = server.wait_tickets("platform=twilio", 1, WAIT).await;
    let id = t[0]["id"].as_str().unwrap().to_string();
    assert!(eventually(WAIT, || async { server.ticket(&id).await["messages"].as_array().unwrap().len() == 3 }).await, "one conversation, the redelivery once");
    let view = server.ticket(&id).await;
    let kinds: Vec<&str> = view["messages"].as_array().unwrap().iter().filter_map(|m| m["attachments"][0]["kind"].as_str()).collect();
    assert_eq!(kinds, ["image", "location"]);
    // The picture opens: fetched with the account's credentials, through Twilio's redirect.
    let photo = view["messages"][1]["id"].as_str().unwrap();
    let (s, headers, bytes) = server.get_bytes(&format!("/api/v1/messages/{photo}/attachments/0")).await;
    assert_eq!((s, headers["content-type"].to_str().unwrap()), (200, "image/png"));
    assert_eq!(bytes, helpdesk_testkit::PHOTO_PNG);

    // The reply note counts segments as the agent writes.
    let long = "Ihre Bestellung ist unterwegs. ".repeat(7);
    let (s, note) = server.post(format!("/api/v1/tickets/{id}/reply-note"), json!({"text": long})).await;
    assert_eq!(s, 200, "{note}");
    assert_eq!(note["note"], "2 SMS segments (153 characters each)");
    let (_, note) = server.post(format!("/api/v1/tickets/{id}/reply-note"), json!({"text": "Danke!"})).await;
    assert_eq!(note["note"], serde_json::Value::Null);
    let (s, _) = server.post(format!("/api/v1/tickets/{id}/reply-note"), json!({"text": "x", "extra": 1})).await;
    assert_eq!(s, 400, "a bad draft is refused");

    // A concurrency refusal (20429) is tried again at once; the answer goes out, and Twilio's
    // status callbacks mark it delivered.
    tw.fail_next(429, 20429, "Too Many Requests");
    let (s, b) = action(&server, &id, json!({"type": "reply", "text": long})).await;
    assert_eq!(s, 200, "{b}");
    let sent = tw.sent();
    assert_eq!((sent[0]["to"].as_str(), sent[0]["from"].as_str(), sent[0]["num_segments"].as_str()), (Some(ana), Some(NUMBER), Some("2")));
    let sid = b["message"]["platform_id"].as_str().unwrap().to_string();
    assert!(sid.starts_with("SM"), "{b}");
    assert!(eventually(WAIT, || async {
        server.ticket(&id).await["messages"].as_array().unwrap().iter().any(|m| m["platform_id"] == sid.as_str() && m["delivery"]["state"] == "delivered")
    })
    .await, "delivered");
    // Throttled for good: the agent is told.
    for _ in 0..3 {
        tw.fail_next(429, 20429, "Too Many Requests");
    }
    let (s, b) = action(&server, &id, json!({"type": "reply", "text": "again"})).await;
    assert_eq!(s, 429, "{b}");
    // A carrier failure comes back with its code.
    tw.undeliverable(ana, 30003, "Unreachable destination handset");
    let (s, b) = action(&server, &id, json!({"type": "reply", "text": "Hallo?"})).await;
    assert_eq!(s, 200, "{b}");
    let failed = b["message"]["platform_id"].as_str().unwrap().to_string();
    assert!(eventually(WAIT, || async {
        server.ticket(&id).await["messages"].as_array().unwrap().iter().any(|m| m["platform_id"] == failed.as_str() && m["delivery"]["state"] == "failed" && m["delivery"]["error"].as_str().unwrap_or("").contains("30003"))
    })
    .await, "failed with Twilio's code");

    // STOP: the contact opted out and Twilio will not deliver; START opts back in.
    let stop = tw.inbound(ana, NUMBER, "STOP", &[]);
    assert_eq!(tw.deliver(&hook, &stop).await, 200);
    assert!(eventually(WAIT, || async { server.ticket(&id).await["contact"]["opted_out"] == true }).await);
    let (s, b) = action(&server, &id, json!({"type": "reply", "text": "Schade!"})).await;
    assert_eq!(s, 502, "{b}");
    assert!(b["message"].as_str().unwrap().contains("STOP"), "{b}");
    let start = tw.inbound(ana, NUMBER, "Start", &[]);
    assert_eq!(tw.deliver(&hook, &start).await, 200);
    assert!(eventually(WAIT, || async { server.ticket(&id).await["contact"]["opted_out"] == false }).await);
    assert_eq!(server.tickets("platform=twilio&queue=all").await.len(), 1, "STOP and START stay in the conversation");

    // Switched off, the channel refuses its deliveries and stores nothing; on again at once.
    let (s, _) = server.patch("/api/v1/channels/sms", json!({"enabled": false})).await;
    assert_eq!(s, 200);
    let later = tw.inbound("+4915100000001", NUMBER, "Hallo?", &[]);
    assert_eq!(tw.deliver(&hook, &later).await, 404);
    let (s, _) = server.patch("/api/v1/channels/sms", json!({"enabled": true})).await;
    assert_eq!(s, 200);
    assert_eq!(tw.deliver(&hook, &later).await, 200);
    assert_eq!(server.wait_tickets("platform=twilio", 2, WAIT).await.len(), 2);
}

#[tokio::test]
async fn whatsapp_through_twilio_names_the_contact_and_keeps_its_window() {
    let tw = TwilioEmulator::start().await.unwrap();
    let (server, hook) = start(&tw, &format!("whatsapp:{NUMBER}")).await;
    let wa = "whatsapp:+5511987654321";
    assert_eq!(tw.deliver(&hook, &tw.inbound(wa, &format!("whatsapp:{NUMBER}"), "Oi! Vocês entregam em Campinas?", &[])).await, 200);
    // Chatwoot's captured WhatsApp delivery (no MessageSid, only the legacy SmsSid).
    let mut captured = chatwoot_fixture("twilio-whatsapp-inbound-chatwoot.json");
    captured.iter_mut().filter(|(k, _)| k == "From").for_each(|(_, v)| *v = wa.into());
    assert_eq!(tw.deliver(&hook, &captured).await, 200);
    let t = server.wait_tickets("platform=twilio", 1, WAIT).await;
    let id = t[0]["id"].as_str().unwrap().to_string();
    assert!(eventually(WAIT, || async { server.ticket(&id).await["messages"].as_array().unwrap().len() == 2 }).await);
    let view = server.ticket(&id).await;
    assert_eq!(view["messages"][0]["author"]["name"], "Ana Souza", "ProfileName");
    assert_eq!(view["messages"][1]["author"]["name"], "John Doe");

    let (_, note) = server.post(format!("/api/v1/tickets/{id}/reply-note"), json!({"text": "Sim!"})).await;
    assert!(note["note"].as_str().unwrap().starts_with("WhatsApp: free-form answers until"), "{note}");
    let (s, b) = action(&server, &id, json!({"type": "reply", "text": "Sim, entregamos!"})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(tw.sent()[0]["from"].as_str(), Some(format!("whatsapp:{NUMBER}").as_str()));
    // Outside the window Twilio takes the message and then fails it with 63016.
    tw.age_whatsapp(wa, 25);
    let (s, b) = action(&server, &id, json!({"type": "reply", "text": "Ainda aí?"})).await;
    assert_eq!(s, 200, "{b}");
    let sid = b["message"]["platform_id"].as_str().unwrap().to_string();
    assert!(eventually(WAIT, || async {
        server.ticket(&id).await["messages"].as_array().unwrap().iter().any(|m| m["platform_id"] == sid.as_str() && m["delivery"]["error"].as_str().unwrap_or("").contains("63016"))
    })
    .await, "the window's failure shows on the message");
}

#[tokio::test]
async fn what_arrived_while_the_host_was_down_is_backfilled_once() {
    let tw = TwilioEmulator::start().await.unwrap();
    // Twilio took these while no host answered: they are only in the account's log.
    tw.inbound("+4917600000002", NUMBER, "Seid ihr da?", &[]);
    tw.inbound("+4917600000002", NUMBER, "Hier das Foto", &[("image/png", helpdesk_testkit::PHOTO_PNG)]);
    let delivered = tw.inbound("+4917600000003", NUMBER, "Und meine Rücksendung?", &[]);
    let (server, hook) = start(&tw, NUMBER).await;
    let t = server.wait_tickets("platform=twilio", 2, WAIT).await;
    assert_eq!(t.len(), 2, "{t:?}");
    let id = server.tickets("q=Foto").await[0]["id"].as_str().unwrap().to_string();
    assert!(eventually(WAIT, || async { server.ticket(&id).await["messages"].as_array().unwrap().len() == 2 }).await);
    let view = server.ticket(&id).await;
    let photo = view["messages"].as_array().unwrap().iter().find(|m| m["text"] == "Hier das Foto").cloned().unwrap();
    assert_eq!(photo["attachments"][0]["kind"], "image", "its media listed too: {photo}");
    // The late webhook of a message the backfill read is stored once.
    assert_eq!(tw.deliver(&hook, &delivered).await, 200);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let other = server.tickets("q=Rücksendung").await;
    assert_eq!(server.ticket(other[0]["id"].as_str().unwrap()).await["messages"].as_array().unwrap().len(), 1);
    assert!(tw.calls().iter().any(|c| c.path.contains("Messages.json?") && c.path.contains("DateSent")), "{:?}", tw.calls());
}
