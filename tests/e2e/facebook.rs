//! The Facebook Page channel end to end: the real plugin against the Graph emulator. Comments,
//! replies, ad comments, visitor posts, mentions, ratings and Messenger arrive as the right
//! tickets; actions reach the Graph API as it expects them; signatures are enforced; webhook and
//! backfill poll store each interaction once; captured payloads are handled.

mod support;

use helpdesk_testkit::graph::{fb_comment_webhook, messenger_webhook, GraphEmulator, APP_SECRET, VERIFY_TOKEN};
use serde_json::{json, Value};
use std::time::Duration;
use support::*;

const PAGE: &str = "1010101010";
const POST: &str = "1010101010_5001";
const AD_POST: &str = "1010101010_5002";
const WAIT: Duration = Duration::from_secs(10);

async fn facebook() -> (GraphEmulator, Server) {
    let graph = GraphEmulator::start().await.unwrap();
    let server = Server::start(&graph.facebook_channel_toml("fb", PAGE)).await;
    (graph, server)
}

async fn deliver(graph: &GraphEmulator, server: &Server, body: &Value) -> u16 {
    graph.deliver(&server.url("/webhooks/fb"), &serde_json::to_vec(body).unwrap(), None).await
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

#[tokio::test]
async fn every_kind_of_page_interaction_becomes_the_right_ticket() {
    let (graph, server) = facebook().await;
    graph.fb_post(POST, (PAGE, "Acme"), "Spring collection: the copper kettle is back", now() - 3600, false);
    let ann = ("2001", "Ann Lee");
    assert_eq!(deliver(&graph, &server, &fb_comment_webhook(PAGE, POST, "5001_7001", ann, "Is this in stock?", "add", None, false)).await, 200);
    assert_eq!(deliver(&graph, &server, &fb_comment_webhook(PAGE, POST, "5001_7002", ("2002", "Bo"), "Me too!", "add", Some("5001_7001"), false)).await, 200);
    assert_eq!(deliver(&graph, &server, &fb_comment_webhook(PAGE, AD_POST, "5002_7003", ("2003", "Cy"), "Price?", "add", None, true)).await, 200);
    let visitor_post = json!({"object": "page", "entry": [{"id": PAGE, "time": now(), "changes": [{"field": "feed", "value": {
        "from": {"id": "2004", "name": "Di"}, "item": "post", "verb": "add", "post_id": "1010101010_6001", "message": "Great shop!", "created_time": now()}}]}]});
    assert_eq!(deliver(&graph, &server, &visitor_post).await, 200);
    let mention = json!({"object": "page", "entry": [{"id": PAGE, "time": now(), "changes": [{"field": "mention", "value": {
        "from": {"id": "2005", "name": "Ed"}, "item": "post", "verb": "add", "post_id": "3003_9001", "message": "Thanks @Acme for the help", "created_time": now()}}]}]});
    assert_eq!(deliver(&graph, &server, &mention).await, 200);
    let rating = json!({"object": "page", "entry": [{"id": PAGE, "time": now(), "changes": [{"field": "ratings", "value": {
        "item": "rating", "verb": "add", "review_text": "Fast delivery", "recommendation_type": "positive", "reviewer_id": "2006",
        "reviewer_name": "Flo", "open_graph_story_id": "4004_1", "created_time": now()}}]}]});
    assert_eq!(deliver(&graph, &server, &rating).await, 200);
    assert_eq!(deliver(&graph, &server, &messenger_webhook(PAGE, "psid-77", "m_IN1", "Hello, where is my order?", false)).await, 200);

    // Our own post came along as the comments' context: archived, not a ticket to answer.
    let tickets = server.wait_tickets("queue=all", 8, WAIT).await;
    assert_eq!(tickets.len(), 8, "{tickets:#?}");
    let ours = tickets.iter().find(|t| t["preview"].as_str().unwrap().contains("copper kettle")).unwrap().clone();
    assert_eq!((ours["kind"].as_str(), ours["queue"].as_str()), (Some("post"), Some("archived")));
    assert_eq!(graph.calls_to(POST).len(), 1, "the post is looked up once for its two comments");
    let tickets: Vec<Value> = tickets.into_iter().filter(|t| t["id"] != ours["id"]).collect();
    let kind_of = |text: &str| tickets.iter().find(|t| t["preview"].as_str().unwrap().contains(text)).map(|t| t["kind"].as_str().unwrap().to_string());
    assert_eq!(kind_of("Is this in stock").as_deref(), Some("comment"));
    assert_eq!(kind_of("Me too").as_deref(), Some("reply"));
    assert_eq!(kind_of("Price?").as_deref(), Some("ad_comment"));
    assert_eq!(kind_of("Great shop").as_deref(), Some("post"));
    assert_eq!(kind_of("Thanks @Acme").as_deref(), Some("mention"));
    assert_eq!(kind_of("Fast delivery").as_deref(), Some("review"));
    assert_eq!(kind_of("where is my order").as_deref(), Some("private_message"));
    let ad = tickets.iter().find(|t| t["kind"] == "ad_comment").unwrap();
    assert_eq!(ad["from_ad"], true);

    // A comment shows the rest of its post's thread.
    let comment = tickets.iter().find(|t| t["kind"] == "comment").unwrap()["id"].as_str().unwrap().to_string();
    let view = server.ticket(&comment).await;
    let under: Vec<&str> = view["thread"].as_array().unwrap().iter().map(|t| t["kind"].as_str().unwrap()).collect();
    assert_eq!(under, ["reply", "post"], "the reply under the same post, and the post: {view}");
    // The post it answers is shown above it: its text, picture (through the helpdesk) and link.
    assert_eq!(view["post"]["text"], "Spring collection: the copper kettle is back");
    assert_eq!(view["post"]["permalink"], format!("https://www.facebook.com/{POST}"));
    assert_eq!(view["post"]["direction"], "outbound");
    let (status, headers, _) = server.get_bytes(&format!("/api/v1/messages/{}/attachments/0", view["post"]["id"].as_str().unwrap())).await;
    assert_eq!((status, headers["content-type"].to_str().unwrap()), (200, "image/png"));
    let ad_view = server.ticket(ad["id"].as_str().unwrap()).await;
    assert_eq!(ad_view["post"], Value::Null, "a post the Graph API does not give is simply not shown");
    assert_eq!(view["reply_window_closes_at"], Value::Null, "comments have no messaging window");
    let dm = tickets.iter().find(|t| t["kind"] == "private_message").unwrap()["id"].as_str().unwrap().to_string();
    assert!(server.ticket(&dm).await["reply_window_closes_at"].is_i64());

    // An edit updates, a removal marks; neither adds a ticket.
    deliver(&graph, &server, &fb_comment_webhook(PAGE, POST, "5001_7001", ann, "Is this in stock in blue?", "edited", None, false)).await;
    assert!(eventually(WAIT, || async { server.tickets("q=blue").await.len() == 1 }).await);
    deliver(&graph, &server, &fb_comment_webhook(PAGE, POST, "5001_7002", ("2002", "Bo"), "", "remove", Some("5001_7001"), false)).await;
    let reply = tickets.iter().find(|t| t["kind"] == "reply").unwrap()["id"].as_str().unwrap().to_string();
    assert!(eventually(WAIT, || async { server.ticket(&reply).await["messages"][0]["removed"] == true }).await);
    assert_eq!(server.tickets("queue=all").await.len(), 8);
}

#[tokio::test]
async fn comment_and_messenger_actions_reach_the_graph_api() {
    let (graph, server) = facebook().await;
    graph.fb_profile("psid-77", "Mia", "Kato");
    deliver(&graph, &server, &fb_comment_webhook(PAGE, POST, "5001_7001", ("2001", "Ann"), "Is this in stock?", "add", None, false)).await;
    deliver(&graph, &server, &messenger_webhook(PAGE, "psid-77", "m_IN1", "Hi there", false)).await;
    let comment = server.wait_tickets("kind=comment", 1, WAIT).await[0]["id"].as_str().unwrap().to_string();
    let dm = server.wait_tickets("kind=private_message", 1, WAIT).await[0].clone();
    assert_eq!(dm["contact"]["name"], "Mia Kato", "the Messenger profile is looked up");
    let dm = dm["id"].as_str().unwrap().to_string();
    let act = |id: &str, body: Value| {
        let path = format!("/api/v1/tickets/{id}/actions");
        let server = &server;
        async move { server.post(path, body).await }
    };

    let (s, b) = act(&comment, json!({"type": "reply", "text": "Yes, all sizes!"})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(graph.calls_to("5001_7001/comments")[0].body["message"], "Yes, all sizes!");
    assert_eq!(b["ticket"]["queue"], "pending");
    let (s, _) = act(&comment, json!({"type": "private_reply", "text": "Sending you the catalogue"})).await;
    assert_eq!(s, 200);
    let sent = graph.calls_to(&format!("{PAGE}/messages"));
    assert_eq!(sent[0].body["recipient"]["comment_id"], "5001_7001");
    // In the thread, in order: the comment, our public reply, our private reply (a private
    // message in the data, labelled so in the UI).
    let view = server.ticket(&comment).await;
    let thread: Vec<(&str, &str)> = view["messages"].as_array().unwrap().iter().map(|m| (m["kind"].as_str().unwrap(), m["direction"].as_str().unwrap())).collect();
    assert_eq!(thread, [("comment", "inbound"), ("reply", "outbound"), ("private_message", "outbound")], "{view}");
    for (kind, method, path) in [("hide", "POST", "5001_7001"), ("unhide", "POST", "5001_7001"), ("like", "POST", "5001_7001/likes"), ("unlike", "DELETE", "5001_7001/likes"), ("block", "POST", "1010101010/blocked"), ("delete", "DELETE", "5001_7001")] {
        let before = graph.calls_to(path).len();
        let (s, b) = act(&comment, json!({"type": kind})).await;
        assert_eq!(s, 200, "{kind}: {b}");
        let calls = graph.calls_to(path);
        assert_eq!(calls.len(), before + 1, "{kind} did not reach {path}");
        assert_eq!(calls.last().unwrap().method, method);
        // What we did shows on the comment itself.
        let view = server.ticket(&comment).await;
        let m = view["messages"].as_array().unwrap().iter().find(|m| m["platform_id"] == "5001_7001").unwrap().clone();
        let expected = match kind {
            "hide" => (true, false),
            "unhide" | "unlike" => (false, false),
            "like" => (false, true),
            _ => (m["hidden"].as_bool().unwrap(), m["liked"].as_bool().unwrap()),
        };
        assert_eq!((m["hidden"].as_bool().unwrap(), m["liked"].as_bool().unwrap()), expected, "after {kind}: {m}");
    }
    assert_eq!(graph.calls_to("5001_7001")[0].body["is_hidden"], true);
    assert_eq!(graph.calls_to("1010101010/blocked")[0].body["user"][0], "2001");

    let (s, b) = act(&dm, json!({"type": "reply", "text": "Hello! How can I help?"})).await;
    assert_eq!(s, 200, "{b}");
    let reply = graph.calls_to(&format!("{PAGE}/messages")).last().unwrap().body.clone();
    assert_eq!((reply["recipient"]["id"].as_str(), reply["messaging_type"].as_str()), (Some("psid-77"), Some("RESPONSE")));
    let (s, _) = act(&dm, json!({"type": "react", "emoji": "❤"})).await;
    assert_eq!(s, 200);
    let (s, _) = act(&dm, json!({"type": "mark_read"})).await;
    assert_eq!(s, 200);
    let actions: Vec<Value> = graph.calls_to(&format!("{PAGE}/messages")).iter().map(|c| c.body["sender_action"].clone()).collect();
    assert!(actions.contains(&json!("react")) && actions.contains(&json!("mark_seen")), "{actions:?}");
    let (s, b) = act(&dm, json!({"type": "delete"})).await;
    assert_eq!(s, 422, "Messenger messages cannot be deleted: {b}");

    // The echo of our own reply is the same message, outbound: no new customer message.
    let mid = server.ticket(&dm).await["messages"].as_array().unwrap().iter().find(|m| m["direction"] == "outbound").unwrap()["platform_id"].clone();
    deliver(&graph, &server, &messenger_webhook(PAGE, "psid-77", mid.as_str().unwrap(), "Hello! How can I help?", true)).await;
    deliver(&graph, &server, &messenger_webhook(PAGE, "psid-77", "m_NATIVE1", "Sent from the Page inbox", true)).await;
    assert!(eventually(WAIT, || async { server.ticket(&dm).await["messages"].as_array().unwrap().len() == 3 }).await);
    let view = server.ticket(&dm).await;
    let inbound = view["messages"].as_array().unwrap().iter().filter(|m| m["direction"] == "inbound").count();
    assert_eq!(inbound, 1, "echoes are outbound");

    // Reactions and reads are recorded on the messages, never as tickets.
    let t = now() * 1000 + 5_000;
    let event = |e: Value| json!({"object": "page", "entry": [{"id": PAGE, "time": t, "messaging": [e]}]});
    let who = json!({"sender": {"id": "psid-77"}, "recipient": {"id": PAGE}, "timestamp": t});
    let mut reaction = who.clone();
    reaction["reaction"] = json!({"mid": mid, "action": "react", "reaction": "love", "emoji": "❤"});
    deliver(&graph, &server, &event(reaction)).await;
    let mut read = who.clone();
    read["read"] = json!({"watermark": t});
    deliver(&graph, &server, &event(read)).await;
    let ours = |view: &Value| view["messages"].as_array().unwrap().iter().find(|m| m["platform_id"] == mid).cloned().unwrap();
    assert!(eventually(WAIT, || async { ours(&server.ticket(&dm).await)["delivery"]["state"] == "read" }).await, "read up to the watermark");
    let view = server.ticket(&dm).await;
    assert_eq!(ours(&view)["reactions"][0]["emoji"], "❤");
    assert_eq!(ours(&view)["reactions"][0]["author_name"], "Mia Kato");
    assert_eq!(server.tickets("queue=all").await.len(), 2, "no tickets from reactions or reads");
}

#[tokio::test]
async fn signatures_handshake_and_other_pages() {
    let (graph, server) = facebook().await;
    let http = reqwest::Client::new();
    let ok = http.get(server.url(&format!("/webhooks/fb?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=42"))).send().await.unwrap();
    assert_eq!((ok.status().as_u16(), ok.text().await.unwrap()), (200, "42".to_string()));
    let body = serde_json::to_vec(&messenger_webhook(PAGE, "psid-1", "m_SIG", "hello", false)).unwrap();
    assert_eq!(graph.deliver(&server.url("/webhooks/fb"), &body, Some("sha256=00")).await, 401);
    let unsigned = http.post(server.url("/webhooks/fb")).body(body.clone()).send().await.unwrap();
    assert_eq!(unsigned.status(), 401);
    let _ = APP_SECRET;
    // Another Page of the same app: not this channel's.
    assert_eq!(deliver(&graph, &server, &messenger_webhook("9999", "psid-1", "m_OTHER", "not yours", false)).await, 200);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(server.tickets("queue=all").await.is_empty());
}

#[tokio::test]
async fn backfill_polls_follow_cursors_and_meet_webhooks_once() {
    let graph = GraphEmulator::start().await.unwrap();
    let t = now() - 600;
    graph.fb_post(POST, (PAGE, "Acme"), "New collection!", t, false);
    graph.fb_post("1010101010_6001", ("2004", "Di"), "Visitor post while we were down", t + 1, false);
    // More comments than one Graph page (limit 100): the plugin follows paging.next.
    for n in 0..130 {
        graph.fb_comment(POST, &format!("5001_8{n:03}"), ("2100", "Gil"), &format!("backfilled comment {n}"), t + 2 + n, None);
    }
    let server = Server::start(&graph.facebook_channel_toml("fb", PAGE)).await;
    let found = server.wait_tickets("queue=all&limit=200", 132, Duration::from_secs(30)).await;
    assert_eq!(found.len(), 132, "130 comments, the visitor post, and our post as their context");
    assert!(graph.calls_to(&format!("{POST}/comments")).len() >= 2, "paging.next was followed");
    // The same comment by webhook is not a second ticket.
    deliver(&graph, &server, &fb_comment_webhook(PAGE, POST, "5001_8000", ("2100", "Gil"), "backfilled comment 0", "add", None, false)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(server.tickets("queue=all&limit=200").await.len(), 132);
}

#[tokio::test]
async fn token_expiry_and_rate_limits_show_in_channel_health() {
    let (graph, server) = facebook().await;
    deliver(&graph, &server, &fb_comment_webhook(PAGE, POST, "5001_7001", ("2001", "Ann"), "Hello", "add", None, false)).await;
    let id = server.wait_tickets("queue=all", 1, WAIT).await[0]["id"].as_str().unwrap().to_string();
    graph.fail_next("likes", 400, 80001, "There have been too many calls to this Page account", &[("x-business-use-case-usage", r#"{"1010101010":[{"type":"pages","call_count":100,"total_cputime":3,"total_time":4,"estimated_time_to_regain_access":7}]}"#)]);
    let (s, b) = server.post(format!("/api/v1/tickets/{id}/actions"), json!({"type": "like"})).await;
    assert_eq!(s, 429, "{b}");
    let c = server.wait_channel("fb", WAIT, |c| c["health"]["state"] == "degraded").await;
    let retry_in = c["health"]["next_retry_at"].as_i64().unwrap_or_default() - now() * 1000;
    assert!(retry_in > 6 * 60_000, "waits the 7 minutes Meta said: {c}");
    graph.fail_next("likes", 400, 190, "Error validating access token: The session has been invalidated", &[]);
    let (s, _) = server.post(format!("/api/v1/tickets/{id}/actions"), json!({"type": "like"})).await;
    assert_eq!(s, 502);
    let c = server.wait_channel("fb", WAIT, |c| c["health"]["state"] == "needs_reconnect").await;
    assert_eq!(c["health"]["state"], "needs_reconnect", "{c}");
}

#[tokio::test]
async fn every_captured_facebook_and_messenger_payload_is_handled() {
    let (graph, server) = facebook().await;
    for name in ["facebook-feed-comment-change-fork.json", "facebook-feed-comment-value-fork2.json", "messenger-delivery.json", "messenger-echo-from-app.json",
        "messenger-message-text.json", "messenger-reaction.json", "messenger-read.json"] {
        let fixture: Value = serde_json::from_slice(&fixture(name)).unwrap();
        // The captures are the inner parts of a delivery; put them in Meta's envelope.
        let body = if let Some(m) = fixture.get("messaging") {
            json!({"object": "page", "entry": [{"id": PAGE, "time": now() * 1000, "messaging": [m]}]})
        } else {
            let value = fixture.pointer("/change/value").or(fixture.pointer("/value/value")).unwrap().clone();
            json!({"object": "page", "entry": [{"id": PAGE, "time": now(), "changes": [{"field": "feed", "value": value}]}]})
        };
        assert_eq!(deliver(&graph, &server, &body).await, 200, "{name}");
    }
    // Two comments and one Messenger message; receipts, reads, reactions and a bare echo are not tickets.
    let tickets = server.wait_tickets("queue=all", 3, WAIT).await;
    assert_eq!(tickets.len(), 3, "{tickets:#?}");
    assert!(tickets.iter().any(|t| t["preview"] == "facebook message" && t["kind"] == "private_message"));
    assert!(tickets.iter().any(|t| t["preview"] == "comment message" && t["kind"] == "comment"));
    let c = server.channel("fb").await;
    assert_ne!(c["health"]["state"], "degraded", "{c}");
}

#[tokio::test]
async fn one_meta_app_serves_several_pages_through_one_callback_url() {
    let graph = GraphEmulator::start().await.unwrap();
    let page_b = "2020202020";
    let grouped = |id: &str, page: &str| graph.facebook_channel_toml(id, page).replacen("[channel.config]", "webhook_group = \"acme-meta-app\"\n[channel.config]", 1);
    let server = Server::start(&format!("{}{}", grouped("fb-a", PAGE), grouped("fb-b", page_b))).await;
    // The app's callback URL is fb-a's; one delivery carries an entry for each Page.
    let mut body = messenger_webhook(PAGE, "psid-1", "m_A1", "for page A", false);
    let other = messenger_webhook(page_b, "psid-2", "m_B1", "for page B", false);
    body["entry"].as_array_mut().unwrap().push(other["entry"][0].clone());
    assert_eq!(graph.deliver(&server.url("/webhooks/fb-a"), &serde_json::to_vec(&body).unwrap(), None).await, 200);
    let a = server.wait_tickets("channel=fb-a", 1, WAIT).await;
    let b = server.wait_tickets("channel=fb-b", 1, WAIT).await;
    assert_eq!((a.len(), b.len()), (1, 1));
    assert_eq!(a[0]["preview"], "for page A");
    assert_eq!(b[0]["preview"], "for page B");
    // A bad signature is refused before anyone sees it.
    let bad = serde_json::to_vec(&messenger_webhook(page_b, "psid-3", "m_B2", "forged", false)).unwrap();
    assert_eq!(graph.deliver(&server.url("/webhooks/fb-a"), &bad, Some("sha256=00")).await, 401);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(server.tickets("channel=fb-b").await.len(), 1);
}

#[tokio::test]
async fn past_24_hours_messenger_replies_go_with_the_human_agent_tag_and_past_7_days_not_at_all() {
    let (graph, server) = facebook().await;
    let day = 86_400_000i64;
    let message = |psid: &str, mid: &str, ago_ms: i64| {
        let t = now() * 1000 - ago_ms;
        json!({"object": "page", "entry": [{"id": PAGE, "time": t, "messaging": [{
            "sender": {"id": psid}, "recipient": {"id": PAGE}, "timestamp": t, "message": {"mid": mid, "text": format!("written {} days ago", ago_ms / day)}}]}]})
    };
    deliver(&graph, &server, &message("psid-2d", "m_OLD2", 2 * day)).await;
    deliver(&graph, &server, &message("psid-8d", "m_OLD8", 8 * day)).await;
    let two = server.wait_tickets("q=written+2+days", 1, WAIT).await[0]["id"].as_str().unwrap().to_string();
    let eight = server.wait_tickets("q=written+8+days", 1, WAIT).await[0]["id"].as_str().unwrap().to_string();
    let view = server.ticket(&two).await;
    assert_eq!(view["reply_tag"], "HUMAN_AGENT");
    assert!(view["tagged_window_closes_at"].as_i64().unwrap() > view["reply_window_closes_at"].as_i64().unwrap());

    let (s, b) = server.post(format!("/api/v1/tickets/{two}/actions"), json!({"type": "reply", "text": "Sorry for the wait!"})).await;
    assert_eq!(s, 200, "{b}");
    let sent = graph.calls_to(&format!("{PAGE}/messages")).last().unwrap().body.clone();
    assert_eq!((sent["messaging_type"].as_str(), sent["tag"].as_str()), (Some("MESSAGE_TAG"), Some("HUMAN_AGENT")), "{sent}");

    let before = graph.calls_to(&format!("{PAGE}/messages")).len();
    let (s, b) = server.post(format!("/api/v1/tickets/{eight}/actions"), json!({"type": "reply", "text": "Hello?"})).await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["code"], "outside_messaging_window");
    assert!(b["message"].as_str().unwrap().contains("HUMAN_AGENT"), "{b}");
    assert_eq!(graph.calls_to(&format!("{PAGE}/messages")).len(), before, "refused before calling Facebook");
}

#[tokio::test]
async fn a_comment_on_an_ad_names_its_ad_from_the_ad_account_read_once() {
    let graph = GraphEmulator::start().await.unwrap();
    let server = Server::start(&graph.facebook_channel_toml_with_ads("fb", PAGE, "act_777")).await;
    graph.fb_post(AD_POST, (PAGE, "Acme"), "Kettles, 20% off this week", now() - 60, true);
    graph.fb_ad("6001", "Spring sale: kettles", AD_POST);
    graph.fb_ad("6002", "Brand video", "1010101010_5003");
    for (id, who, text) in [("5002_8001", ("2011", "Gus"), "Does it come in red?"), ("5002_8002", ("2012", "Hal"), "Ships to Austria?")] {
        assert_eq!(deliver(&graph, &server, &fb_comment_webhook(PAGE, AD_POST, id, who, text, "add", None, true)).await, 200);
    }
    let tickets = server.wait_tickets("queue=all&kind=ad_comment", 2, WAIT).await;
    for t in &tickets {
        let view = server.ticket(t["id"].as_str().unwrap()).await;
        assert_eq!((view["post"]["title"].as_str(), &view["post"]["from_ad"]), (Some("Spring sale: kettles"), &json!(true)), "{view}");
        assert_eq!(view["post"]["text"], "Kettles, 20% off this week");
    }
    assert_eq!(graph.calls_to("act_777/ads").len(), 1, "the ads are read once, not per comment");
}
