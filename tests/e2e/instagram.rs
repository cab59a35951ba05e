//! The Instagram channel end to end: the real plugin against the Graph emulator. Comments,
//! replies, ad comments, mentions and Direct messages (story replies and mentions, unsends)
//! arrive as the right tickets; actions reach the Graph API as it expects them; signatures
//! are enforced; every captured Instagram payload is handled.

mod support;

use helpdesk_testkit::graph::GraphEmulator;
use serde_json::{json, Value};
use std::time::Duration;
use support::*;

const IG: &str = "17841400000000001";
const PAGE: &str = "1010101010";
const MEDIA: &str = "17900000000000100";
const WAIT: Duration = Duration::from_secs(10);

async fn instagram() -> (GraphEmulator, Server) {
    let graph = GraphEmulator::start().await.unwrap();
    let server = Server::start(&graph.instagram_channel_toml("ig", IG, PAGE)).await;
    (graph, server)
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn change(field: &str, value: Value) -> Value {
    json!({"object": "instagram", "entry": [{"id": IG, "time": now(), "changes": [{"field": field, "value": value}]}]})
}

fn direct(message: Value) -> Value {
    let t = now() * 1000;
    json!({"object": "instagram", "entry": [{"id": IG, "time": t, "messaging": [{
        "sender": {"id": "igsid-9"}, "recipient": {"id": IG}, "timestamp": t, "message": message}]}]})
}

fn comment(id: &str, user: &str, text: &str, parent: Option<&str>, ad: bool) -> Value {
    let mut media = json!({"id": MEDIA, "media_product_type": "FEED"});
    if ad {
        media["ad_id"] = json!("23850000000000001");
        media["ad_title"] = json!("Autumn sale");
    }
    let mut v = json!({"id": id, "text": text, "from": {"id": format!("igsid-{user}"), "username": user}, "media": media});
    if let Some(p) = parent {
        v["parent_id"] = json!(p);
    }
    v
}

async fn deliver(graph: &GraphEmulator, server: &Server, body: &Value) -> u16 {
    graph.deliver(&server.url("/webhooks/ig"), &serde_json::to_vec(body).unwrap(), None).await
}

#[tokio::test]
async fn comments_mentions_and_direct_messages_become_the_right_tickets() {
    let (graph, server) = instagram().await;
    graph.fb_profile("igsid-9", "", "");
    graph.ig_mentioned_comment("17900000000000777", "rita.runs", "Loving my new shoes from @acme");
    graph.ig_media(MEDIA, "acme", "Autumn drop: the trail runner in rust red");
    for body in [
        change("comments", comment("17900000000000001", "ann.k", "Do you ship to Norway?", None, false)),
        change("comments", comment("17900000000000002", "bo.j", "Same question!", Some("17900000000000001"), false)),
        change("comments", comment("17900000000000003", "cy.d", "Link broken in the ad", None, true)),
        change("mentions", json!({"media_id": "17900000000000555", "comment_id": "17900000000000777"})),
        direct(json!({"mid": "aWdf1", "text": "Hi! Is the red one back?"})),
    ] {
        assert_eq!(deliver(&graph, &server, &body).await, 200);
    }
    // The account's photo came along once as its comments' context, archived.
    let tickets = server.wait_tickets("queue=all", 6, WAIT).await;
    assert_eq!(tickets.len(), 6, "{tickets:#?}");
    assert_eq!(graph.calls_to(MEDIA).len(), 2, "the media is looked up once for its comments, and once more when its ad's name came");
    let kind_of = |text: &str| tickets.iter().find(|t| t["preview"].as_str().unwrap().contains(text)).map(|t| t["kind"].as_str().unwrap().to_string());
    assert_eq!(kind_of("ship to Norway").as_deref(), Some("comment"));
    assert_eq!(kind_of("Same question").as_deref(), Some("reply"));
    assert_eq!(kind_of("Link broken").as_deref(), Some("ad_comment"));
    assert_eq!(kind_of("Loving my new shoes").as_deref(), Some("mention"), "the mention's words are looked up");
    assert_eq!(kind_of("red one back").as_deref(), Some("private_message"));
    let ann = tickets.iter().find(|t| t["kind"] == "comment").unwrap();
    assert_eq!(ann["contact"]["handle"], "ann.k");
    let view = server.ticket(ann["id"].as_str().unwrap()).await;
    let others = view["thread"].as_array().unwrap().iter().filter(|t| t["kind"] != "post").count();
    assert_eq!(others, 2, "the other comments on the media");
    assert_eq!(view["post"]["text"], "Autumn drop: the trail runner in rust red");
    assert_eq!(view["post"]["permalink"], format!("https://www.instagram.com/p/{MEDIA}/"));
    // The media is promoted: its ad's name (which comes with the ad's comments) heads it.
    assert_eq!((view["post"]["title"].as_str(), view["post"]["from_ad"].as_bool()), (Some("Autumn sale"), Some(true)), "{}", view["post"]);
    let (status, headers, _) = server.get_bytes(&format!("/api/v1/messages/{}/attachments/0", view["post"]["id"].as_str().unwrap())).await;
    assert_eq!((status, headers["content-type"].to_str().unwrap()), (200, "image/png"), "the photo, through the helpdesk");

    // A story reply and a story mention land in the conversation, with the story attached.
    deliver(&graph, &server, &direct(json!({"mid": "aWdf2", "text": "So cute!", "reply_to": {"story": {"id": "st1", "url": "https://cdn.example/story1.jpg"}}}))).await;
    deliver(&graph, &server, &direct(json!({"mid": "aWdf3", "attachments": [{"type": "story_mention", "payload": {"url": "https://cdn.example/story2.jpg"}}]}))).await;
    let dm = tickets.iter().find(|t| t["kind"] == "private_message").unwrap()["id"].as_str().unwrap().to_string();
    let three = eventually(WAIT, || async { server.ticket(&dm).await["messages"].as_array().unwrap().len() == 3 }).await;
    assert!(three, "{:#}", server.tickets("queue=all").await.iter().map(|t| format!("{} {}", t["kind"], t["preview"])).collect::<Vec<_>>().join("\n"));
    let view = server.ticket(&dm).await;
    let messages = view["messages"].as_array().unwrap();
    let by_id = |id: &str| messages.iter().find(|m| m["platform_id"] == id).cloned().unwrap();
    assert_eq!(by_id("aWdf2")["attachments"][0]["url"], "https://cdn.example/story1.jpg");
    assert_eq!(by_id("aWdf3")["text"], "Mentioned you in their story");
    // Unsend removes the message (kept for the record, marked removed).
    deliver(&graph, &server, &direct(json!({"mid": "aWdf2", "is_deleted": true}))).await;
    let removed = || async {
        let view = server.ticket(&dm).await;
        view["messages"].as_array().unwrap().iter().any(|m| m["platform_id"] == "aWdf2" && m["removed"] == true)
    };
    assert!(eventually(WAIT, removed).await);
}

#[tokio::test]
async fn instagram_actions_reach_the_graph_api_and_the_rest_are_refused() {
    let (graph, server) = instagram().await;
    deliver(&graph, &server, &change("comments", comment("17900000000000001", "ann.k", "Do you ship to Norway?", None, false))).await;
    deliver(&graph, &server, &change("comments", comment("17900000000000002", "bo.j", "Same question!", Some("17900000000000001"), false))).await;
    graph.ig_mentioned_comment("17900000000000777", "rita.runs", "Thanks @acme");
    deliver(&graph, &server, &change("mentions", json!({"media_id": "17900000000000555", "comment_id": "17900000000000777"}))).await;
    deliver(&graph, &server, &direct(json!({"mid": "aWdf1", "text": "Hello"}))).await;
    server.wait_tickets("queue=all", 4, WAIT).await;
    let id_of = |kind: &'static str| {
        let server = &server;
        async move { server.tickets(&format!("kind={kind}")).await[0]["id"].as_str().unwrap().to_string() }
    };
    let (comment, reply, mention, dm) = (id_of("comment").await, id_of("reply").await, id_of("mention").await, id_of("private_message").await);
    let act = |id: String, body: Value| {
        let server = &server;
        async move { server.post(format!("/api/v1/tickets/{id}/actions"), body).await }
    };

    let (s, b) = act(comment.clone(), json!({"type": "reply", "text": "Yes, we do!"})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(graph.calls_to("17900000000000001/replies")[0].body["message"], "Yes, we do!");
    // A reply to a reply goes under the top-level comment.
    let (s, _) = act(reply.clone(), json!({"type": "reply", "text": "You too!"})).await;
    assert_eq!(s, 200);
    assert_eq!(graph.calls_to("17900000000000001/replies").len(), 2);
    let (s, _) = act(comment.clone(), json!({"type": "hide"})).await;
    assert_eq!(s, 200);
    assert_eq!(graph.calls_to("17900000000000001")[0].body["hide"], true);
    let (s, _) = act(comment.clone(), json!({"type": "private_reply", "text": "Sent you the details"})).await;
    assert_eq!(s, 200);
    assert_eq!(graph.calls_to(&format!("{PAGE}/messages"))[0].body["recipient"]["comment_id"], "17900000000000001");
    let (s, _) = act(comment.clone(), json!({"type": "delete"})).await;
    assert_eq!(s, 200);
    assert_eq!(graph.calls_to("17900000000000001").last().unwrap().method, "DELETE");
    for refused in ["like", "block"] {
        let (s, b) = act(comment.clone(), json!({"type": refused})).await;
        assert_eq!(s, 422, "{refused}: {b}");
    }
    let (s, b) = act(mention.clone(), json!({"type": "reply", "text": "Thank you Rita!"})).await;
    assert_eq!(s, 200, "{b}");
    let m = graph.calls_to(&format!("{IG}/mentions"))[0].body.clone();
    assert_eq!((m["media_id"].as_str(), m["comment_id"].as_str()), (Some("17900000000000555"), Some("17900000000000777")));
    let (s, _) = act(mention, json!({"type": "hide"})).await;
    assert_eq!(s, 422);
    let (s, b) = act(dm, json!({"type": "reply", "text": "Hi! How can we help?"})).await;
    assert_eq!(s, 200, "{b}");
    let sent = graph.calls_to(&format!("{PAGE}/messages")).last().unwrap().body.clone();
    assert_eq!(sent["recipient"]["id"], "igsid-9");
}

#[tokio::test]
async fn every_captured_instagram_payload_is_handled_and_signatures_are_enforced() {
    let (graph, server) = instagram().await;
    let bad = serde_json::to_vec(&direct(json!({"mid": "x", "text": "forged"}))).unwrap();
    assert_eq!(graph.deliver(&server.url("/webhooks/ig"), &bad, Some("sha256=00")).await, 401);
    for name in ["instagram-comment-value-fork.json", "instagram-dm-message.json", "instagram-dm-seen.json", "instagram-dm-standby.json",
        "instagram-dm-story-mention.json", "instagram-dm-story-reply.json", "instagram-dm-unsend.json", "instagram-test-event-numeric-time.json"] {
        let mut body: Value = serde_json::from_slice(&fixture(name)).unwrap();
        if body.get("entry").is_none() {
            // The comment capture is a bare `value`.
            body = change("comments", body);
        }
        body["object"] = json!("instagram");
        // The captures come from other accounts: address them to this channel's.
        for e in body["entry"].as_array_mut().unwrap() {
            e["id"] = json!(IG);
        }
        assert_eq!(deliver(&graph, &server, &body).await, 200, "{name}");
    }
    // The comment; the message, standby message, story mention and story reply share a mid
    // (`message-id-1`) in the captures, so they are one message; the test event is another.
    let tickets = server.wait_tickets("queue=all", 3, WAIT).await;
    assert_eq!(tickets.len(), 3, "{tickets:#?}");
    assert!(tickets.iter().any(|t| t["kind"] == "comment" && t["preview"] == "This is a comment message"));
    assert_ne!(server.channel("ig").await["health"]["state"], "degraded");
}
