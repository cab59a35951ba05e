//! The WeChat channel end to end: the real plugin against the WeChat emulator, in plaintext
//! and in safe (encrypted) mode. The server check echoes; signed pushes become one conversation
//! per follower (every message type); subscribe and unsubscribe are recorded on the contact;
//! answers go through the customer-service API within the 48-hour window (shown, and refused
//! after it), with the access token fetched again when WeChat says it expired.

mod support;

use helpdesk_testkit::wechat::{WeChatEmulator, TOKEN};
use serde_json::json;
use std::time::Duration;
use support::*;

const WAIT: Duration = Duration::from_secs(15);

async fn conversation(safe: bool) {
    let wc = WeChatEmulator::start().await.unwrap();
    let server = Server::start(&wc.channel_toml("wc", safe)).await;
    let (s, b) = server.post("/api/v1/channels/wc/check", json!({})).await;
    assert_eq!(s, 200, "{b}");
    assert!(b.to_string().contains(if safe { "safe mode" } else { "plaintext mode" }), "{b}");
    let url = server.url("/webhooks/wc");
    // Saving the URL in WeChat's console: the check is echoed, a forged one is not.
    assert_eq!(wc.verify(&url, TOKEN).await, (200, "5838479218127813673".to_string()));
    assert_eq!(wc.verify(&url, "not-the-token").await.0, 401);

    let li = "oLVPpjqs9BhvzwPj5A-vTYAX3GLc";
    let hello = wc.message(li, "text", &[("Content", "你好，我的订单 8812 什么时候发货？")]);
    assert_eq!(wc.deliver(&url, &hello, safe, "not-the-token").await.0, 401, "forged");
    assert!(server.tickets("platform=wechat&queue=all").await.is_empty(), "nothing stored");
    assert_eq!(wc.deliver(&url, &hello, safe, TOKEN).await, (200, "success".to_string()));
    assert_eq!(wc.deliver(&url, &hello, safe, TOKEN).await.0, 200, "WeChat retries: stored once");
    for (kind, fields) in [
        ("image", vec![("PicUrl", "http://mmbiz.qpic.cn/mmbiz/photo.jpg"), ("MediaId", "media_img_1")]),
        ("voice", vec![("MediaId", "media_voice_1"), ("Format", "amr"), ("Recognition", "快点发货")]),
        ("video", vec![("MediaId", "media_video_1"), ("ThumbMediaId", "thumb_1")]),
        ("location", vec![("Location_X", "31.2304"), ("Location_Y", "121.4737"), ("Scale", "15"), ("Label", "上海市黄浦区")]),
        ("link", vec![("Title", "订单详情"), ("Description", "8812"), ("Url", "https://shop.example/orders/8812")]),
    ] {
        assert_eq!(wc.deliver(&url, &wc.message(li, kind, &fields), safe, TOKEN).await.0, 200, "{kind}");
    }
    let t = server.wait_tickets("platform=wechat", 1, WAIT).await;
    let id = t[0]["id"].as_str().unwrap().to_string();
    assert!(eventually(WAIT, || async { server.ticket(&id).await["messages"].as_array().unwrap().len() == 6 }).await, "one conversation");
    let view = server.ticket(&id).await;
    let kinds: Vec<&str> = view["messages"].as_array().unwrap().iter().filter_map(|m| m["attachments"][0]["kind"].as_str()).collect();
    assert_eq!(kinds, ["image", "audio", "video", "location"]);
    assert!(view["messages"][2]["text"].as_str().unwrap().contains("快点发货"), "WeChat's transcript of the voice message");
    // The voice message (AMR, which browsers do not play) downloads: fetched from the
    // temporary media API with the access token.
    let voice = view["messages"][2]["id"].as_str().unwrap();
    let (s, _, bytes) = server.get_bytes(&format!("/api/v1/messages/{voice}/attachments/0")).await;
    assert_eq!(s, 200);
    assert!(bytes.starts_with(b"#!AMR"));
    // The 48-hour window shows on the ticket.
    assert!(view["reply_window_closes_at"].as_i64().is_some(), "{view}");

    let (s, b) = action(&server, &id, json!({"type": "reply", "text": "您好，明天发货！"})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(wc.sent()[0]["touser"], li);
    assert_eq!(wc.sent()[0]["text"]["content"], "您好，明天发货！");
    // The token expired (42001): fetched again, and the answer goes.
    let fetched = wc.token_fetches();
    wc.expire_tokens();
    let (s, b) = action(&server, &id, json!({"type": "reply", "text": "顺丰快递"})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(wc.token_fetches(), fetched + 1);
    // WeChat's own window refusal (45015), in words.
    wc.fail_next(45015, "response out of time limit or subscription is canceled");
    let (s, b) = action(&server, &id, json!({"type": "reply", "text": "还在吗？"})).await;
    assert_eq!(s, 502, "{b}");
    assert!(b["message"].as_str().unwrap().contains("48-hour window"), "{b}");

    // Unsubscribing is recorded on the contact, subscribing again too; neither is a ticket.
    assert_eq!(wc.deliver(&url, &wc.event(li, "unsubscribe"), safe, TOKEN).await.0, 200);
    assert!(eventually(WAIT, || async { server.ticket(&id).await["contact"]["opted_out"] == true }).await);
    assert_eq!(wc.deliver(&url, &wc.event(li, "subscribe"), safe, TOKEN).await.0, 200);
    assert!(eventually(WAIT, || async { server.ticket(&id).await["contact"]["opted_out"] == false }).await);
    assert_eq!(server.tickets("platform=wechat&queue=all").await.len(), 1);
}

#[tokio::test]
async fn a_followers_messages_are_one_conversation_answered_within_the_window() {
    conversation(false).await;
}

#[tokio::test]
async fn in_safe_mode_the_encrypted_pushes_are_decrypted_and_checked() {
    conversation(true).await;
    // A push encrypted for another account, or with its msg_signature wrong, stores nothing.
    let wc = WeChatEmulator::start().await.unwrap();
    let server = Server::start(&wc.channel_toml("wc", true)).await;
    let url = server.url("/webhooks/wc");
    let xml = wc.message("oOther", "text", &[("Content", "hi")]);
    let encrypted = helpdesk_testkit::wechat::encrypt(&xml);
    let (ts, nonce) = ("1700000000", "42");
    let sig = helpdesk_testkit::wechat::sign(&[TOKEN, ts, nonce]);
    let body = format!("<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>");
    let wrong = reqwest::Client::new()
        .post(format!("{url}?signature={sig}&timestamp={ts}&nonce={nonce}&encrypt_type=aes&msg_signature=0000"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    assert!(server.tickets("platform=wechat&queue=all").await.is_empty());
}

#[tokio::test]
async fn past_48_hours_the_host_refuses_before_wechat_is_asked() {
    let wc = WeChatEmulator::start().await.unwrap();
    let server = Server::start(&wc.channel_toml("wc", false)).await;
    let url = server.url("/webhooks/wc");
    // A message from three days ago (WeChat's CreateTime), arriving late.
    let old = wc.message("oLate", "text", &[("Content", "有人吗")]).replace(&format!("<CreateTime>{}</CreateTime>", helpdesk_testkit::now_secs()), &format!("<CreateTime>{}</CreateTime>", helpdesk_testkit::now_secs() - 72 * 3600));
    assert_eq!(wc.deliver(&url, &old, false, TOKEN).await.0, 200);
    let t = server.wait_tickets("platform=wechat", 1, WAIT).await;
    let id = t[0]["id"].as_str().unwrap().to_string();
    let (s, b) = action(&server, &id, json!({"type": "reply", "text": "在的"})).await;
    assert_eq!(s, 422, "{b}");
    assert!(wc.sent().is_empty(), "WeChat was not asked");
}
