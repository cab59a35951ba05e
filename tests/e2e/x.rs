//! The X channel end to end: the real plugin against the X emulator. Mentions, replies in our
//! posts' conversations (our post as their context), DMs and what the listening terms find
//! arrive as the right tickets; Account Activity's CRC and signatures are enforced and its
//! events (the captured payload too) stored once beside the polls; actions reach the API as it
//! expects them and are refused where X does not allow them; rate limits show in health.

mod support;

use helpdesk_testkit::x::{XEmulator, BRAND_ID};
use serde_json::json;
use std::time::Duration;
use support::*;

const WAIT: Duration = Duration::from_secs(15);

async fn x(listen: &[&str], plan: &str) -> (XEmulator, Server) {
    let emu = XEmulator::start().await.unwrap();
    for (id, name, handle) in [("201", "Ann Lee", "annlee"), ("202", "Bo", "bo_j"), ("203", "Cy", "cy"), ("204", "Di", "di_runs"), ("205", "Ed", "ed")] {
        emu.add_user(id, name, handle);
    }
    let server = Server::start(&emu.channel_toml("x", listen, plan)).await;
    (emu, server)
}

#[tokio::test]
async fn mentions_replies_dms_and_listening_become_the_right_tickets() {
    let (emu, server) = x(&["kettle"], "basic").await;
    let ours = emu.post(BRAND_ID, "Our autumn collection is out today!", None);
    let ann = emu.post("201", "@acme love the colours", Some(&ours));
    emu.post("202", "agreed, the green one especially", Some(&ann));
    emu.post("203", "@acme where is my order #4521?", None);
    emu.post("204", "anyone know a good kettle for camping?", None);
    emu.dm("205", "Hi, can I change my delivery address?");

    let tickets = server.wait_tickets("platform=x&queue=all", 6, WAIT).await;
    assert_eq!(tickets.len(), 6, "two replies, a mention, a listened post, a DM and our post as context: {tickets:#?}");
    assert_eq!(by_text(&tickets, "love the colours")["kind"], "reply");
    assert_eq!(by_text(&tickets, "the green one")["kind"], "reply", "a reply to a reply in our conversation, found without a mention");
    assert_eq!(by_text(&tickets, "where is my order")["kind"], "mention");
    let listened = by_text(&tickets, "good kettle");
    assert_eq!(listened["kind"], "mention");
    let view = server.ticket(listened["id"].as_str().unwrap()).await;
    assert_eq!(view["messages"][0]["found_by"], "kettle", "marked as found by listening: {view}");
    let dm = by_text(&tickets, "delivery address");
    assert_eq!(dm["kind"], "private_message");
    assert_eq!(dm["contact"]["handle"], "ed");
    let reply = server.ticket(by_text(&tickets, "love the colours")["id"].as_str().unwrap()).await;
    assert_eq!(reply["post"]["text"], "Our autumn collection is out today!", "{reply}");
    assert_eq!(reply["messages"][0]["author"]["profile_url"], "https://x.com/annlee");

    // The next polls ask from where they left off, and store nothing twice.
    emu.post("203", "@acme still waiting…", None);
    server.wait_tickets("platform=x&queue=all&q=waiting", 1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(server.tickets("platform=x&queue=all").await.len(), 7);
    let mentions = emu.calls("users/1500000000000000001/mentions");
    assert!(mentions.last().unwrap().path.contains("since_id="), "{:?}", mentions.last());
}

#[tokio::test]
async fn account_activity_is_verified_and_stored_once_beside_the_polls() {
    let (emu, server) = x(&[], "basic").await;
    let url = server.url("/webhooks/x");
    assert!(emu.crc(&url).await, "the CRC is answered with the consumer secret's HMAC");
    let ours = emu.post(BRAND_ID, "Big news tomorrow", None);
    let mention = emu.post("201", "@acme my parcel is late", None);
    server.wait_tickets("platform=x&kind=mention", 1, WAIT).await;

    let event = json!({"for_user_id": BRAND_ID, "tweet_create_events": [{"id_str": mention, "text": "@acme my parcel is late", "created_at": "Wed Feb 05 08:39:31 +0000 2020",
        "user": {"id_str": "201", "name": "Ann Lee", "screen_name": "annlee"}}]});
    assert_eq!(emu.deliver(&url, &event, Some("")).await, 401, "unsigned");
    assert_eq!(emu.deliver(&url, &event, Some("sha256=AAAA")).await, 401, "wrongly signed");
    assert_eq!(emu.deliver(&url, &event, None).await, 200);
    let dm = json!({"for_user_id": BRAND_ID, "direct_message_events": [{"type": "message_create", "id": "1578999000000000001", "created_timestamp": "1700000000000",
        "message_create": {"target": {"recipient_id": BRAND_ID}, "sender_id": "202", "message_data": {"text": "Hello via webhook"}}}],
        "users": {"202": {"id": "202", "name": "Bo", "screen_name": "bo_j"}}});
    assert_eq!(emu.deliver(&url, &dm, None).await, 200);
    let like = json!({"for_user_id": BRAND_ID, "favorite_events": [{"id": "f1", "timestamp_ms": "1700000000000", "favorited_status": {"id_str": ours},
        "user": {"id_str": "203", "name": "Cy", "screen_name": "cy"}}], "follow_events": [{"type": "follow", "source": {"id": "204", "screen_name": "di_runs"}}]});
    assert_eq!(emu.deliver(&url, &like, None).await, 200);
    server.wait_tickets("platform=x&kind=private_message", 1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    // The mention by webhook is the polled one; a like and a follow are no tickets.
    let tickets = server.tickets("platform=x&queue=all").await;
    assert_eq!(tickets.len(), 2, "{tickets:#?}");

    // The captured Account Activity payload (Chatwoot's), for the account it names.
    let emu2 = XEmulator::start().await.unwrap();
    let toml = emu2.channel_toml("x2", &[], "basic").replace(BRAND_ID, "1");
    let server2 = Server::start(&toml).await;
    let body = fixture("twitter-aaa-tweet-create-chatwoot.json");
    let status = reqwest::Client::new().post(server2.url("/webhooks/x2")).header("x-twitter-webhooks-signature", XEmulator::sign(&body)).body(body).send().await.unwrap().status();
    assert_eq!(status.as_u16(), 200);
    let t = server2.wait_tickets("platform=x&queue=all", 1, WAIT).await;
    assert_eq!((t[0]["kind"].as_str(), t[0]["contact"]["handle"].as_str()), (Some("mention"), Some("surveyjoyHQ")), "{t:#?}");
}

#[tokio::test]
async fn actions_reach_x_as_it_allows_them() {
    let (emu, server) = x(&[], "basic").await;
    let ours = emu.post(BRAND_ID, "Ask us anything", None);
    let reply = emu.post("201", "@acme do you ship to Norway?", Some(&ours));
    let mention = emu.post("202", "@acme is great", None);
    emu.dm("203", "Hello!");
    let tickets = server.wait_tickets("platform=x&queue=all", 4, WAIT).await;
    let r = by_text(&tickets, "ship to Norway")["id"].as_str().unwrap().to_string();
    let m = by_text(&tickets, "is great")["id"].as_str().unwrap().to_string();

    let (s, b) = action(&server, &r, json!({"type": "reply", "text": "Yes, in 3 days!"})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(emu.calls("tweets").iter().find(|c| c.method == "POST").unwrap().body["reply"]["in_reply_to_tweet_id"], reply.as_str());
    for (kind, method, path) in [("like", "POST", "users/1500000000000000001/likes"), ("unlike", "DELETE", "users/1500000000000000001/likes/"),
        ("repost", "POST", "users/1500000000000000001/retweets"), ("unrepost", "DELETE", "users/1500000000000000001/retweets/"),
        ("follow", "POST", "users/1500000000000000001/following"), ("unfollow", "DELETE", "users/1500000000000000001/following/202"),
        ("mute", "POST", "users/1500000000000000001/muting"), ("unmute", "DELETE", "users/1500000000000000001/muting/202")] {
        let (s, b) = action(&server, &m, json!({"type": kind})).await;
        assert_eq!(s, 200, "{kind}: {b}");
        assert!(emu.calls(path).iter().any(|c| c.method == method), "{kind} went to {method} {path}");
    }
    assert_eq!(emu.calls("users/1500000000000000001/following").iter().find(|c| c.method == "POST").unwrap().body["target_user_id"], "202");
    let (s, b) = action(&server, &m, json!({"type": "quote", "text": "Thank you!"})).await;
    assert_eq!(s, 200, "{b}");
    assert!(emu.calls("tweets").iter().any(|c| c.body["quote_tweet_id"] == mention.as_str()));
    // Hiding is for replies in our own conversations: offered there, not on a mention.
    let (s, b) = action(&server, &r, json!({"type": "hide"})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(emu.tweet(&reply)["hidden"], true);
    let (s, _) = action(&server, &m, json!({"type": "hide"})).await;
    assert_eq!(s, 422);
    // Deleting: only our own posts.
    let (s, _) = action(&server, &m, json!({"type": "delete"})).await;
    assert_eq!(s, 422);
    let own = server.ticket(&r).await["messages"].as_array().unwrap().iter().find(|x| x["direction"] == "outbound").unwrap()["id"].as_str().unwrap().to_string();
    let (s, b) = action(&server, &r, json!({"type": "delete", "message_id": own})).await;
    assert_eq!(s, 200, "{b}");
    // Blocking needs the Enterprise plan: not offered on this channel, refused in words.
    let caps = server.ticket(&m).await["capabilities"].clone();
    let mention_caps = caps.as_array().unwrap().iter().find(|c| c["kind"] == "mention").unwrap().clone();
    assert!(!mention_caps["actions"].as_array().unwrap().contains(&json!("block")), "{mention_caps}");
    assert!(mention_caps["action_notes"]["block"][0].as_str().unwrap().contains("Enterprise"), "{mention_caps}");
    let (s, b) = action(&server, &m, json!({"type": "block"})).await;
    assert_eq!(s, 422, "{b}");
    assert!(emu.calls("users/1500000000000000001/blocking").is_empty());
    // A DM is answered in its conversation.
    let d = server.tickets("platform=x&kind=private_message").await[0]["id"].as_str().unwrap().to_string();
    let (s, b) = action(&server, &d, json!({"type": "reply", "text": "Hi! How can we help?"})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(emu.calls("dm_conversations/with/203/messages")[0].body["text"], "Hi! How can we help?");
}

#[tokio::test]
async fn on_the_enterprise_plan_blocking_goes_through() {
    let (emu, server) = x(&[], "enterprise").await;
    emu.set_enterprise(true);
    emu.post("202", "@acme spam spam", None);
    let t = server.wait_tickets("platform=x", 1, WAIT).await;
    let caps = server.ticket(t[0]["id"].as_str().unwrap()).await["capabilities"].clone();
    assert!(caps.as_array().unwrap().iter().any(|c| c["kind"] == "mention" && c["actions"].as_array().unwrap().contains(&json!("block"))), "offered on this plan");
    let (s, b) = action(&server, t[0]["id"].as_str().unwrap(), json!({"type": "block"})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(emu.calls("users/1500000000000000001/blocking")[0].body["target_user_id"], "202");
}

#[tokio::test]
async fn rate_limits_wait_until_the_reset_and_both_error_shapes_are_read() {
    let (emu, server) = x(&[], "basic").await;
    emu.post("201", "@acme hello", None);
    let t = server.wait_tickets("platform=x", 1, WAIT).await;
    let id = t[0]["id"].as_str().unwrap().to_string();
    emu.rate_limit_next("users/1500000000000000001/likes", 600);
    let (s, b) = action(&server, &id, json!({"type": "like"})).await;
    assert_eq!(s, 429, "{b}");
    let c = server.wait_channel("x", WAIT, |c| c["health"]["state"] == "degraded").await;
    let wait = c["health"]["next_retry_at"].as_i64().unwrap() - helpdesk_testkit::now_secs() * 1000;
    assert!(wait > 9 * 60_000, "waits until x-rate-limit-reset: {c}");
    // The v1-style body, and problem JSON.
    emu.fail_next("users/1500000000000000001/likes", 429, json!({"errors": [{"code": 88, "message": "Rate limit exceeded"}]}));
    let (s, b) = action(&server, &id, json!({"type": "like"})).await;
    assert_eq!(s, 429, "{b}");
    assert!(b["message"].as_str().unwrap().contains("Rate limit exceeded"), "{b}");
    emu.fail_next("users/1500000000000000001/retweets", 403, json!({"title": "Forbidden", "detail": "You are not permitted to perform this action.", "type": "https://api.x.com/2/problems/not-authorized-for-resource"}));
    let (s, b) = action(&server, &id, json!({"type": "repost"})).await;
    assert_eq!(s, 502, "{b}");
    assert!(b["message"].as_str().unwrap().contains("not permitted"), "{b}");
}

#[tokio::test]
async fn a_restart_resumes_from_the_cursors_and_doubles_nothing() {
    use helpdesk_testkit::linkedin::LinkedInEmulator;
    let emu = XEmulator::start().await.unwrap();
    emu.add_user("201", "Ann Lee", "annlee");
    for n in 0..120 {
        // More than a page of 100: next_token is followed.
        emu.post("201", &format!("@acme question number {n}"), None);
    }
    let li = LinkedInEmulator::start().await.unwrap();
    let post = li.post("Hello LinkedIn");
    li.comment(&post, "ACoAAA1", "first comment", None);
    let toml = [emu.channel_toml("x", &[], "basic"), li.channel_toml("li", "202611")].concat();
    let server = Server::start_with(&toml, Options::disk(), None).await;
    assert_eq!(server.wait_tickets("platform=x&kind=mention&limit=200", 120, WAIT).await.len(), 120);
    server.wait_tickets("platform=linkedin&kind=comment", 1, WAIT).await;
    let data = server.kill().await;
    emu.post("201", "@acme written while you were down", None);
    li.comment(&post, "ACoAAA2", "comment while you were down", None);
    let server = Server::start_with(&toml, Options::disk(), Some(data)).await;
    assert!(eventually(WAIT, || async {
        server.tickets("platform=x&kind=mention&limit=200").await.len() == 121 && server.tickets("platform=linkedin&kind=comment").await.len() == 2
    })
    .await);
    let after = emu.calls("users/1500000000000000001/mentions");
    assert!(after.last().unwrap().path.contains("since_id="), "resumed from its cursor");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(server.tickets("platform=x&kind=mention&limit=200").await.len(), 121);
    assert_eq!(server.tickets("platform=linkedin&kind=comment").await.len(), 2);
}
