//! The TikTok channel end to end: the real plugin against the TikTok emulator. Comments and
//! replies on the account's videos arrive with the video as context, ad comments as ad comments
//! under their ad's name, direct messages by signed webhook (the captured payloads included) in
//! one ticket per conversation; actions reach the API as it expects them and are refused where
//! TikTok has no such thing; tokens are refreshed (TikTok replaces the refresh token each time)
//! and an expired refresh token or throttling shows in channel health in words.

mod support;

use helpdesk_testkit::tiktok::{TikTokEmulator, FIRST_REFRESH_TOKEN};
use serde_json::{json, Value};
use std::time::Duration;
use support::*;

const WAIT: Duration = Duration::from_secs(15);

#[tokio::test]
async fn comments_ad_comments_and_direct_messages_become_the_right_tickets() {
    let tt = TikTokEmulator::start().await.unwrap();
    tt.add_video("7109065174526479622", "Pitching the Trailhead 2 in 90 seconds #camping");
    let q = tt.add_comment("7109065174526479622", Some("klein_kunkun"), "Does it fit two people?", None);
    tt.add_comment("7109065174526479622", Some("mia.hikes"), "It does, I own one", Some(&q));
    tt.add_ad_comment("1790000000000001", "Autumn sale · tents", "ad.viewer", "Is the discount still on?");
    let server = Server::start(&tt.channel_toml("tt", true)).await;

    let tickets = server.wait_tickets("platform=tiktok&queue=all", 5, WAIT).await;
    assert_eq!(tickets.len(), 5, "a comment, a reply, an ad comment, the video and the ad as context: {tickets:#?}");
    let comment = by_text(&tickets, "fit two people");
    assert_eq!((comment["kind"].as_str(), comment["queue"].as_str()), (Some("comment"), Some("new")));
    assert_eq!(by_text(&tickets, "I own one")["kind"], "reply");
    let ad = by_text(&tickets, "discount still on");
    assert_eq!((ad["kind"].as_str(), ad["from_ad"].as_bool()), (Some("ad_comment"), Some(true)));
    let view = server.ticket(comment["id"].as_str().unwrap()).await;
    assert_eq!(view["post"]["text"], "Pitching the Trailhead 2 in 90 seconds #camping", "{view}");
    assert_eq!(view["post"]["permalink"], "https://www.tiktok.com/@acme/video/7109065174526479622");
    let ad_view = server.ticket(ad["id"].as_str().unwrap()).await;
    assert_eq!(ad_view["post"]["title"], "Autumn sale · tents", "the ad's name heads it: {ad_view}");

    // Direct messages: a signed webhook with the message, and the captured envelope that only
    // names the conversation (the plugin reads it).
    let url = server.url("/webhooks/tt");
    let first = tt.dm("tt-conv-9", "Alice", "Hello from TikTok");
    assert_eq!(tt.deliver(&url, &TikTokEmulator::envelope(&first), None).await, 200);
    tt.dm("tt-conv-9", "Alice", "Are you there?");
    let only_conversation = serde_json::to_vec(&json!({"event": "im_receive_msg", "user_openid": "biz-123", "content": "{\"conversation_id\": \"tt-conv-9\"}"})).unwrap();
    assert_eq!(tt.deliver(&url, &only_conversation, None).await, 200);
    let dms = server.wait_tickets("platform=tiktok&kind=private_message", 1, WAIT).await;
    let dm = dms[0]["id"].as_str().unwrap().to_string();
    assert!(eventually(WAIT, || async { server.ticket(&dm).await["messages"].as_array().unwrap().len() == 2 }).await, "one ticket for the conversation");

    // Unsigned, wrongly signed or stale deliveries store nothing.
    let body = TikTokEmulator::envelope(&tt.dm("tt-conv-10", "Mallory", "unsigned"));
    assert_eq!(tt.deliver(&url, &body, Some("")).await, 401);
    assert_eq!(tt.deliver(&url, &body, Some("t=1,s=00")).await, 401);
    let stale = TikTokEmulator::sign(&body, chrono_now() - 3600);
    assert_eq!(tt.deliver(&url, &body, Some(&stale)).await, 401);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(server.tickets("q=unsigned&queue=all").await.is_empty());

    // The captured Chatwoot payloads: the message content, and the bare envelope.
    let content: Value = serde_json::from_slice(&fixture("tiktok-im-content-text.json")).unwrap();
    assert_eq!(tt.deliver(&url, &TikTokEmulator::envelope(&content), None).await, 200);
    assert_eq!(tt.deliver(&url, &fixture("tiktok-im-receive-msg-envelope.json"), None).await, 200);
    server.wait_tickets("q=%22Hello%20from%20TikTok%22&queue=all", 2, WAIT).await;
    let c = server.channel("tt").await;
    assert_ne!(c["health"]["state"], "degraded", "{c}");
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

#[tokio::test]
async fn actions_reach_tiktok_as_it_allows_them_and_the_rest_are_refused() {
    let tt = TikTokEmulator::start().await.unwrap();
    tt.add_video("vid1", "Unboxing");
    let q = tt.add_comment("vid1", Some("ann"), "Where can I buy it?", None);
    let ad_comment = tt.add_ad_comment("1790000000000001", "Autumn sale", "ad.viewer", "Price?");
    let server = Server::start(&tt.channel_toml("tt", true)).await;
    let tickets = server.wait_tickets("platform=tiktok&queue=all", 4, WAIT).await;
    let id = by_text(&tickets, "Where can I buy").to_owned()["id"].as_str().unwrap().to_string();

    // Past 150 characters the host refuses before TikTok is asked.
    let (s, b) = action(&server, &id, json!({"type": "reply", "text": "x".repeat(151)})).await;
    assert_eq!(s, 400, "{b}");
    assert!(b["message"].as_str().unwrap().contains("150"), "{b}");
    assert!(tt.calls("business/comment/reply/create/").is_empty());
    let (s, b) = action(&server, &id, json!({"type": "reply", "text": "In our shop and online!"})).await;
    assert_eq!(s, 200, "{b}");
    let sent = tt.calls("business/comment/reply/create/");
    assert_eq!((sent[0].body["comment_id"].as_str(), sent[0].body["video_id"].as_str()), (Some(q.as_str()), Some("vid1")));
    assert_eq!(b["message"]["direction"], "outbound");

    for (kind, path, field) in [("like", "business/comment/like/", "LIKE"), ("unlike", "business/comment/like/", "UNLIKE"), ("hide", "business/comment/hide/", "HIDE"),
        ("unhide", "business/comment/hide/", "UNHIDE"), ("pin", "business/comment/pin/", "PIN"), ("unpin", "business/comment/pin/", "UNPIN")] {
        let (s, b) = action(&server, &id, json!({"type": kind})).await;
        assert_eq!(s, 200, "{kind}: {b}");
        assert_eq!(tt.calls(path).last().unwrap().body["action"], field, "{kind}");
    }
    assert_eq!(tt.comment(&q)["pinned"], false);
    // A customer's comment cannot be deleted (offered only on ours), nor its author blocked.
    let (s, b) = action(&server, &id, json!({"type": "delete"})).await;
    assert_eq!(s, 422, "{b}");
    let (s, b) = action(&server, &id, json!({"type": "block"})).await;
    assert_eq!(s, 422, "{b}");
    assert!(tt.calls("business/comment/delete/").is_empty());
    // Our own reply can.
    let ours = server.ticket(&id).await["messages"].as_array().unwrap().iter().find(|m| m["direction"] == "outbound").unwrap()["id"].as_str().unwrap().to_string();
    let (s, b) = action(&server, &id, json!({"type": "delete", "message_id": ours})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(tt.calls("business/comment/delete/").len(), 1);

    // Ad comments go through the Ads API.
    let ad = by_text(&server.tickets("platform=tiktok&kind=ad_comment").await, "Price").to_owned();
    let ad_id = ad["id"].as_str().unwrap();
    let (s, b) = action(&server, ad_id, json!({"type": "hide"})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(tt.comment(&ad_comment)["status"], "HIDDEN");
    let (s, b) = action(&server, ad_id, json!({"type": "reply", "text": "20% off until Sunday"})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(tt.calls("comment/post/")[0].body["comment_id"], ad_comment.as_str());

    // A direct message is answered in its conversation.
    let m = tt.dm("tt-conv-1", "Bo", "Hi, is my order shipped?");
    tt.deliver(&server.url("/webhooks/tt"), &TikTokEmulator::envelope(&m), None).await;
    let dm = server.wait_tickets("platform=tiktok&kind=private_message", 1, WAIT).await[0]["id"].as_str().unwrap().to_string();
    let (s, b) = action(&server, &dm, json!({"type": "reply", "text": "Yes, it left today"})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(tt.sent_messages()[0]["conversation_id"], "tt-conv-1");
    assert_eq!(tt.sent_messages()[0]["text"]["body"], "Yes, it left today");
}

#[tokio::test]
async fn tokens_are_refreshed_as_tiktok_replaces_them_and_an_expired_one_needs_a_reconnect() {
    let tt = TikTokEmulator::start().await.unwrap();
    tt.add_video("vid1", "Unboxing");
    tt.add_comment("vid1", Some("ann"), "first", None);
    let server = Server::start(&tt.channel_toml("tt", false)).await;
    server.wait_tickets("platform=tiktok&kind=comment", 1, WAIT).await;
    // The access token stops working: the plugin refreshes with the refresh token TikTok gave
    // last time (the first one is spent), and goes on.
    tt.expire_access_tokens();
    tt.add_comment("vid1", Some("bo"), "second", None);
    assert_eq!(server.wait_tickets("platform=tiktok&kind=comment", 2, WAIT).await.len(), 2);
    let refreshes = tt.calls("tt_user/oauth2/refresh_token/");
    assert!(refreshes.len() >= 2, "{refreshes:?}");
    assert_ne!(refreshes.last().unwrap().body["refresh_token"], FIRST_REFRESH_TOKEN, "the replaced refresh token was used");
    // Throttled (a non-zero code with HTTP 200): rate-limited, in words.
    let id = server.tickets("platform=tiktok&kind=comment").await[0]["id"].as_str().unwrap().to_string();
    tt.fail_next("business/comment/like/", 40100, "Too many requests. Please retry in some time.");
    let (s, b) = action(&server, &id, json!({"type": "like"})).await;
    assert_eq!(s, 429, "{b}");
    let c = server.wait_channel("tt", WAIT, |c| c["health"]["last_error"].as_str().unwrap_or_default().contains("throttling")).await;
    assert!(c["health"]["last_error"].as_str().unwrap_or_default().contains("40100"), "{c}");
    // The refresh token expires: an admin must reconnect.
    tt.expire_refresh_token();
    let (s, b) = action(&server, &id, json!({"type": "like"})).await;
    assert_eq!(s, 502, "{b}");
    let c = server.wait_channel("tt", WAIT, |c| c["health"]["state"] == "needs_reconnect").await;
    assert_eq!(c["health"]["state"], "needs_reconnect", "{c}");
    assert!(c["health"]["last_error"].as_str().unwrap().contains("refresh token"), "{c}");
}

#[tokio::test]
async fn polls_store_each_comment_once_and_a_restart_misses_nothing() {
    let tt = TikTokEmulator::start().await.unwrap();
    tt.add_video("vid1", "Unboxing");
    for n in 0..45 {
        // More than one page of 30: the cursor is followed while has_more.
        tt.add_comment("vid1", Some(&format!("viewer{n}")), &format!("comment number {n}"), None);
    }
    let toml = tt.channel_toml("tt", false);
    let server = Server::start_with(&toml, Options::disk(), None).await;
    assert_eq!(server.wait_tickets("platform=tiktok&kind=comment&limit=100", 45, WAIT).await.len(), 45);
    let data = server.kill().await;
    tt.add_comment("vid1", Some("late"), "while you were away", None);
    let server = Server::start_with(&toml, Options::disk(), Some(data)).await;
    assert!(eventually(WAIT, || async { server.tickets("platform=tiktok&kind=comment&limit=100").await.len() == 46 }).await);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(server.tickets("platform=tiktok&kind=comment&limit=100").await.len(), 46);
}
