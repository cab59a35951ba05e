//! Telegram end to end: the real `helpdesk` server running the real compiled plugin against
//! the Telegram Bot API emulator.

mod support;

use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use futures::StreamExt;
use serde_json::{json, Value};
use std::time::Duration;
use support::*;

const WAIT: Duration = Duration::from_secs(20);

fn ann() -> User {
    User::new(9001, "Ann", Some("Lee"), Some("annlee"))
}

async fn poll_server() -> (TelegramEmulator, Server) {
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let server = Server::start(&telegram_channel("tg", &emu, true, TOKEN)).await;
    (emu, server)
}

#[tokio::test]
async fn a_message_becomes_a_searchable_ticket_and_a_reply_reaches_telegram() {
    let (emu, server) = poll_server().await;
    let user = ann();
    let first = emu.private_text(&user, "Where is my parcel? Order 4821 is late");

    let found = server.wait_tickets("queue=new", 1, WAIT).await;
    assert_eq!(found.len(), 1, "the message should arrive in New");
    let t = &found[0];
    assert_eq!(t["kind"], "private_message");
    assert_eq!(t["platform"], "telegram");
    assert_eq!(t["channel_name"], "Telegram tg");
    assert_eq!(t["contact"]["name"], "Ann Lee");
    assert_eq!(t["contact"]["handle"], "annlee");
    assert_eq!(t["preview"], "Where is my parcel? Order 4821 is late");
    let id = t["id"].as_str().unwrap().to_string();

    // Findable by a word of its text, and by the contact's name.
    assert_eq!(server.wait_tickets("q=parcel", 1, WAIT).await.len(), 1);
    assert_eq!(server.tickets("q=ann").await.len(), 1);
    assert_eq!(server.tickets("q=refund").await.len(), 0);

    // The agent replies: the emulator receives it as a reply to the customer's message.
    let (status, out) = server.post(&format!("/api/v1/tickets/{id}/actions"), json!({"type": "reply", "text": "It ships today!"})).await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["ticket"]["queue"], "pending");
    let sent = emu.calls("sendMessage");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].params["chat_id"], json!(user.id));
    assert_eq!(sent[0].params["text"], "It ships today!");
    assert_eq!(sent[0].params["reply_parameters"]["message_id"], json!(first));

    let view = server.ticket(&id).await;
    assert_eq!(view["ticket"]["queue"], "pending");
    let msgs = view["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[1]["direction"], "outbound");
    assert_eq!(msgs[1]["text"], "It ships today!");
    assert_eq!(view["activity"][0]["what"], "action.reply");
    assert_eq!(server.wait_tickets("queue=pending", 1, WAIT).await.len(), 1);

    // The customer writes again: same ticket, back to New, the list shows the newest.
    emu.private_text(&user, "Thanks, and can I change the address?");
    assert!(eventually(WAIT, || async { server.ticket(&id).await["ticket"]["queue"] == "new" }).await);
    let view = server.ticket(&id).await;
    assert_eq!(view["messages"].as_array().unwrap().len(), 3);
    assert_eq!(view["ticket"]["preview"], "Thanks, and can I change the address?");
    let all = server.wait_tickets("q=address", 1, WAIT).await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["id"], id.as_str());
    assert_eq!(server.tickets("queue=all").await.len(), 1, "a conversation is one ticket");
}

#[tokio::test]
async fn groups_channels_and_people_get_the_right_tickets() {
    let (emu, server) = poll_server().await;
    let (a, b) = (ann(), User::new(9002, "Bo", None, None));
    emu.private_text(&a, "hello from ann");
    emu.private_text(&b, "hello from bo");
    emu.group_text(-1001, "Acme Fans", &a, "group hello one");
    emu.group_text(-1001, "Acme Fans", &b, "group hello two");
    emu.channel_post(-2002, "Acme News", "Big sale tomorrow");
    emu.private_photo(&b, "the broken box");

    let all = server.wait_tickets("queue=all", 4, WAIT).await;
    assert_eq!(all.len(), 4, "{all:#?}");
    let kinds = |k: &str| all.iter().filter(|t| t["kind"] == k).count();
    assert_eq!(kinds("private_message"), 2, "one ticket per person");
    assert_eq!(kinds("group_message"), 1, "one ticket per group");
    assert_eq!(kinds("post"), 1);
    // The channel's post is the brand's own: context, not a ticket to answer.
    let post = all.iter().find(|t| t["kind"] == "post").unwrap();
    assert_eq!(post["queue"], "archived", "{post}");
    assert!(server.tickets("queue=new").await.iter().all(|t| t["kind"] != "post"));
    assert!(eventually(WAIT, || async { server.tickets("q=broken").await.len() == 1 }).await);
    let bo = server.tickets("q=broken").await;
    let view = server.ticket(bo[0]["id"].as_str().unwrap()).await;
    let photo = &view["messages"][1];
    assert_eq!(photo["text"], "the broken box");
    assert_eq!(photo["attachments"][0]["kind"], "image");
    assert!(photo["attachments"][0]["platform_id"].as_str().unwrap().starts_with("large"), "the largest size is kept");
    assert_eq!(server.tickets("kind=group_message").await.len(), 1);
    let group = server.tickets("kind=group_message").await;
    let gview = server.ticket(group[0]["id"].as_str().unwrap()).await;
    assert_eq!(gview["messages"].as_array().unwrap().len(), 2);
    assert_eq!(gview["messages"][0]["permalink"].as_str().unwrap().starts_with("https://t.me/acme_fans/"), true);
}

#[tokio::test]
async fn a_customers_files_open_through_the_helpdesk_and_never_run_in_it() {
    let (emu, server) = poll_server().await;
    let user = ann();
    emu.private_photo(&user, "the dent");
    emu.private_document(&user, "invoice.html", "text/html", b"<html><script>alert(document.cookie)</script></html>");
    emu.private_location(&user, 52.52, 13.405);
    assert!(eventually(WAIT, || async {
        let t = server.tickets("queue=all").await;
        t.len() == 1 && server.ticket(t[0]["id"].as_str().unwrap()).await["messages"].as_array().unwrap().len() == 3
    })
    .await);
    let t = server.tickets("queue=all").await;
    let view = server.ticket(t[0]["id"].as_str().unwrap()).await;
    let ids: Vec<String> = view["messages"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap().to_string()).collect();

    // The photo: Telegram's file, fetched with the bot's token, shown as the picture it is.
    let (status, headers, body) = server.get_bytes(&format!("/api/v1/messages/{}/attachments/0", ids[0])).await;
    assert_eq!(status, 200);
    assert_eq!(body, helpdesk_testkit::PHOTO_PNG);
    assert_eq!(headers["content-type"], "image/png", "recognised by its bytes (Telegram says octet-stream)");
    assert!(headers["content-disposition"].to_str().unwrap().starts_with("inline"));
    assert!(headers["content-security-policy"].to_str().unwrap().contains("sandbox"));
    assert_eq!(emu.calls("getFile").len(), 1);
    assert_eq!(emu.calls("getFile")[0].params["file_id"], json!(view["messages"][0]["attachments"][0]["platform_id"]));
    // Opened again: from the cache, Telegram is not asked twice.
    let (status, _, again) = server.get_bytes(&format!("/api/v1/messages/{}/attachments/0", ids[0])).await;
    assert_eq!((status, again.len()), (200, body.len()));
    assert_eq!(emu.calls("getFile").len(), 1);
    let (_, headers, _) = server.get_bytes(&format!("/api/v1/messages/{}/attachments/0?download=true", ids[0])).await;
    assert!(headers["content-disposition"].to_str().unwrap().starts_with("attachment"), "a picture can be saved too");

    // An HTML file is a download, never a page of ours.
    let (status, headers, body) = server.get_bytes(&format!("/api/v1/messages/{}/attachments/0", ids[1])).await;
    assert_eq!(status, 200);
    assert!(body.starts_with(b"<html>"));
    assert_eq!(headers["content-type"], "application/octet-stream");
    assert_eq!(headers["content-disposition"], "attachment; filename*=UTF-8''invoice.html");
    assert_eq!(headers["x-content-type-options"], "nosniff");

    // A location is a link; a file that is not there is a clear error.
    let (status, body) = server.get(&format!("/api/v1/messages/{}/attachments/0", ids[2])).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["message"].as_str().unwrap().contains("location"), "{body}");
    let (status, body) = server.get(&format!("/api/v1/messages/{}/attachments/5", ids[0])).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
    let (status, _) = server.get("/api/v1/messages/nope/attachments/0").await;
    assert_eq!(status, 404);
    // Not for anyone signed out.
    let r = reqwest::get(server.url(&format!("/api/v1/messages/{}/attachments/0", ids[0]))).await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
}

#[tokio::test]
async fn an_edit_updates_the_stored_message_instead_of_adding_one() {
    let (emu, server) = poll_server().await;
    let user = ann();
    let id = emu.private_text(&user, "my order numbr is 1234");
    server.wait_tickets("queue=new", 1, WAIT).await;
    emu.edit_private_text(&user, id, "my order number is 5678");
    assert!(eventually(WAIT, || async { server.tickets("q=5678").await.len() == 1 }).await, "the edit is searchable");
    let t = server.tickets("queue=all").await;
    assert_eq!(t.len(), 1);
    let view = server.ticket(t[0]["id"].as_str().unwrap()).await;
    let msgs = view["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 1, "an edit is not a new message");
    assert_eq!(msgs[0]["text"], "my order number is 5678");
    assert!(msgs[0]["edited_at"].is_i64());
    assert_eq!(server.tickets("q=numbr").await.len(), 0, "the old text is gone from search");
}

#[tokio::test]
async fn the_same_message_by_webhook_and_by_poll_is_stored_once() {
    let (emu, server) = poll_server().await;
    let user = ann();
    let mid = emu.private_text(&user, "delivered twice");
    server.wait_tickets("queue=all", 1, WAIT).await;
    // The same message also arrives by webhook, several times at once.
    let update = json!({"update_id": 1, "message": {
        "message_id": mid, "from": {"id": user.id, "is_bot": false, "first_name": "Ann", "last_name": "Lee", "username": "annlee"},
        "chat": {"id": user.id, "type": "private", "first_name": "Ann"}, "date": 1_700_000_000, "text": "delivered twice"}});
    let body = serde_json::to_vec(&update).unwrap();
    let posts = (0..8).map(|_| server.webhook("tg", body.clone(), Some(SECRET)));
    for status in futures::future::join_all(posts).await {
        assert_eq!(status, 200);
    }
    let t = server.tickets("queue=all").await;
    assert_eq!(t.len(), 1);
    let view = server.ticket(t[0]["id"].as_str().unwrap()).await;
    assert_eq!(view["messages"].as_array().unwrap().len(), 1);
    assert_eq!(view["ticket"]["message_count"], 1);
}

#[tokio::test]
async fn a_burst_of_webhooks_is_stored_whole_each_message_once() {
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let server = Server::start(&telegram_channel("tg", &emu, false, TOKEN)).await;
    // 300 deliveries at once from 30 customers, every tenth one delivered twice: deliveries
    // that wait together are written together, and none is lost, doubled or misfiled.
    let update = |n: i64| {
        let user = 7_000 + n % 30;
        let body = json!({"update_id": n, "message": {"message_id": n, "from": {"id": user, "is_bot": false, "first_name": format!("C{user}")},
            "chat": {"id": user, "type": "private"}, "date": 1_700_000_000 + n, "text": format!("burst message {n}")}});
        serde_json::to_vec(&body).unwrap()
    };
    let posts = (0..300).chain((0..300).step_by(10)).map(|n| server.webhook("tg", update(n), Some(SECRET)));
    for status in futures::future::join_all(posts).await {
        assert_eq!(status, 200);
    }
    // Answered 200 means stored: listed at once, with every message in its customer's ticket.
    let tickets = server.tickets("queue=all").await;
    assert_eq!(tickets.len(), 30);
    for t in &tickets {
        assert_eq!(t["message_count"], 10, "{t}");
    }
    assert_eq!(server.status().await["messages"], 300);
    let view = server.ticket(tickets[0]["id"].as_str().unwrap()).await;
    let texts: Vec<&str> = view["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
    let customer: i64 = texts[0].rsplit(' ').next().unwrap().parse::<i64>().unwrap() % 30;
    assert_eq!(texts, (0..10).map(|k| format!("burst message {}", customer + 30 * k)).collect::<Vec<_>>());
}

#[tokio::test]
async fn bursts_on_several_channels_at_once_are_each_stored_on_their_own_channel() {
    // Three bots whose customers and update ids are the same numbers: what arrives together
    // is written together, and each channel keeps its own tickets and its own poll cursor.
    let (a, b, c) = (TelegramEmulator::start(TOKEN).await.unwrap(), TelegramEmulator::start(TOKEN).await.unwrap(), TelegramEmulator::start(TOKEN).await.unwrap());
    let toml = [telegram_channel("tga", &a, false, TOKEN), telegram_channel("tgb", &b, false, TOKEN), telegram_channel("tgc", &c, true, TOKEN)].concat();
    let server = Server::start_with(&toml, Options::disk(), None).await;
    let update = |n: i64, bot: &str| {
        let user = 7_000 + n % 20;
        let body = json!({"update_id": n, "message": {"message_id": n, "from": {"id": user, "is_bot": false, "first_name": format!("C{user}")},
            "chat": {"id": user, "type": "private"}, "date": 1_700_000_000 + n, "text": format!("{bot} burst {n}")}});
        serde_json::to_vec(&body).unwrap()
    };
    let users: Vec<User> = (0..20).map(|u| User::new(7_000 + u, &format!("C{}", 7_000 + u), None, None)).collect();
    for n in 0..200 {
        c.private_text(&users[n % 20], &format!("tgc burst {n}"));
    }
    let posts = (0..200).flat_map(|n| [server.webhook("tga", update(n, "tga"), Some(SECRET)), server.webhook("tgb", update(n, "tgb"), Some(SECRET))]);
    for status in futures::future::join_all(posts).await {
        assert_eq!(status, 200);
    }
    assert!(eventually(WAIT, || async { server.status().await["messages"] == 600 }).await, "{}", server.status().await);
    for bot in ["tga", "tgb", "tgc"] {
        let tickets = server.tickets(&format!("queue=all&channel={bot}")).await;
        assert_eq!(tickets.len(), 20, "{bot}");
        for t in &tickets {
            assert_eq!(t["message_count"], 10, "{t}");
            let view = server.ticket(t["id"].as_str().unwrap()).await;
            assert!(view["messages"].as_array().unwrap().iter().all(|m| m["text"].as_str().unwrap().starts_with(bot)), "{bot}: {view}");
        }
    }
    assert!(eventually(WAIT, || async { c.pending_updates() == 0 }).await, "the poll's cursor moved past every update");
    // After a restart the poll resumes from its cursor: nothing is fetched twice.
    let calls = c.calls("getUpdates").len();
    let data = server.kill().await;
    let server = Server::start_with(&toml, Options::disk(), Some(data)).await;
    c.private_text(&users[0], "tgc after the restart");
    assert!(eventually(WAIT, || async { server.status().await["messages"] == 601 }).await);
    let resumed = &c.calls("getUpdates")[calls..];
    assert!(resumed.iter().all(|call| call.params["offset"].as_i64().unwrap_or(0) > 0), "{resumed:?}");
}

#[tokio::test]
async fn webhooks_with_a_wrong_or_missing_secret_store_nothing() {
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let server = Server::start(&telegram_channel("tg", &emu, false, TOKEN)).await;
    let body = fixture("telegram-message-text-chatwoot.json");
    assert_eq!(server.webhook("tg", body.clone(), Some("wrong")).await, 401);
    assert_eq!(server.webhook("tg", body.clone(), None).await, 401);
    assert_eq!(server.webhook("tg", b"not json".to_vec(), Some(SECRET)).await, 400);
    assert_eq!(server.webhook("nope", body.clone(), Some(SECRET)).await, 404);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(server.tickets("queue=all").await.len(), 0);
    assert_eq!(server.webhook("tg", body, Some(SECRET)).await, 200);
    assert_eq!(server.wait_tickets("queue=all", 1, WAIT).await.len(), 1);
}

#[tokio::test]
async fn telegram_delivers_by_webhook_with_its_secret_token() {
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let server = Server::start(&telegram_channel("tg", &emu, false, TOKEN)).await;
    // As an admin would: register the webhook with Telegram.
    let r = reqwest::Client::new()
        .post(format!("{}/bot{TOKEN}/setWebhook", emu.base_url()))
        .json(&json!({"url": server.url("/webhooks/tg"), "secret_token": SECRET}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    emu.private_text(&ann(), "sent through the webhook");
    assert_eq!(server.wait_tickets("q=webhook", 1, WAIT).await.len(), 1);
    assert!(eventually(WAIT, || async { emu.pending_updates() == 0 }).await, "the delivery was acknowledged");
    assert!(emu.calls("getUpdates").is_empty(), "a webhook channel does not poll");
}

#[tokio::test]
async fn every_captured_telegram_payload_is_handled() {
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let fixtures = [
        "telegram-message-text-chatwoot.json",
        "telegram-message-sticker-chatwoot.json",
        "telegram-message-video-chatwoot.json",
        "telegram-edited-message.json",
    ];
    // One channel per payload: several reuse the same chat and message id.
    let channels: String = (0..fixtures.len()).map(|n| telegram_channel(&format!("fx{n}"), &emu, false, TOKEN)).collect();
    let server = Server::start(&channels).await;
    for (n, f) in fixtures.iter().enumerate() {
        assert_eq!(server.webhook(&format!("fx{n}"), fixture(f), Some(SECRET)).await, 200, "{f}");
    }
    let message = |channel: &'static str| {
        let server = &server;
        async move {
            let t = server.wait_tickets(&format!("channel={channel}"), 1, WAIT).await;
            assert_eq!(t.len(), 1, "{channel}");
            server.ticket(t[0]["id"].as_str().unwrap()).await["messages"][0].clone()
        }
    };
    let text = message("fx0").await;
    assert_eq!(text["text"], "test");
    assert_eq!(text["author"]["name"], "Sojan Jose");
    let sticker = message("fx1").await;
    assert_eq!(sticker["attachments"][0]["kind"], "sticker");
    assert_eq!(sticker["attachments"][0]["name"], "👍");
    let video = message("fx2").await;
    assert_eq!(video["attachments"][0]["kind"], "video");
    assert_eq!(video["attachments"][0]["mime_type"], "video/mp4");
    assert_eq!(video["attachments"][0]["name"], "IMG_2170.MOV");
    let edited = message("fx3").await;
    assert_eq!(edited["text"], "updated message");
    assert_eq!(edited["edited_at"], json!(1_680_088_056_000i64));
    // Large ids (beyond 32 bits) survive.
    assert_eq!(edited["platform_id"], "517123213211248:48");
}

#[tokio::test]
async fn a_user_blocking_the_bot_is_recorded_on_the_contact_without_a_ticket() {
    let (emu, server) = poll_server().await;
    let user = ann();
    emu.private_text(&user, "bye");
    let t = server.wait_tickets("queue=all", 1, WAIT).await;
    let id = t[0]["id"].as_str().unwrap().to_string();
    emu.block_bot(&user);
    assert!(eventually(WAIT, || async { server.ticket(&id).await["contact"]["blocked_us"] == true }).await);
    assert_eq!(server.tickets("queue=all").await.len(), 1, "no ticket for a block");
    let (status, body) = server.post(&format!("/api/v1/tickets/{id}/actions"), json!({"type": "reply", "text": "hello?"})).await;
    assert_eq!(status, 502);
    assert!(body["message"].as_str().unwrap().contains("blocked the bot"), "{body}");
    let view = server.ticket(&id).await;
    let activity = view["activity"].as_array().unwrap();
    assert_eq!(activity.last().unwrap()["ok"], false, "the failure is recorded on the ticket");
}

#[tokio::test]
async fn actions_reach_telegram_and_unsupported_ones_are_refused() {
    let (emu, server) = poll_server().await;
    let user = ann();
    let mid = emu.private_text(&user, "please like this");
    emu.group_text(-1001, "Acme Fans", &user, "spam spam spam");
    let all = server.wait_tickets("queue=all", 2, WAIT).await;
    let private = all.iter().find(|t| t["kind"] == "private_message").unwrap()["id"].as_str().unwrap().to_string();
    let group = all.iter().find(|t| t["kind"] == "group_message").unwrap()["id"].as_str().unwrap().to_string();
    let act = |id: &str, body: Value| server.post(format!("/api/v1/tickets/{id}/actions"), body);

    let (s, b) = act(&private, json!({"type": "like"})).await;
    assert_eq!(s, 200, "{b}");
    let r = emu.calls("setMessageReaction");
    assert_eq!(r[0].params["message_id"], json!(mid));
    assert_eq!(r[0].params["reaction"][0]["emoji"], "👍");

    let (s, b) = act(&private, json!({"type": "block"})).await;
    assert_eq!(s, 422, "{b}");
    assert!(b["message"].as_str().unwrap().contains("private chats"), "{b}");
    let (s, b) = act(&private, json!({"type": "hide"})).await;
    assert_eq!(s, 422, "{b}");
    let (s, _) = act(&private, json!({"type": "reply", "text": "  "})).await;
    assert_eq!(s, 400);
    let (s, _) = act(&private, json!({"type": "teleport"})).await;
    assert_eq!(s, 400);
    let (s, _) = act("nonexistent", json!({"type": "like"})).await;
    assert_eq!(s, 404);
    let r = reqwest::Client::new()
        .post(server.url(&format!("/api/v1/tickets/{private}/actions")))
        .body("{")
        .header("content-type", "application/json")
        .header("cookie", &server.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.json::<Value>().await.unwrap()["message"].is_string());

    let (s, b) = act(&group, json!({"type": "block"})).await;
    assert_eq!(s, 200, "{b}");
    let ban = emu.calls("banChatMember");
    assert_eq!(ban[0].params["chat_id"], json!(-1001));
    assert_eq!(ban[0].params["user_id"], json!(user.id));

    let (s, b) = act(&group, json!({"type": "delete"})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(emu.calls("deleteMessage").len(), 1);
    let view = server.ticket(&group).await;
    assert_eq!(view["messages"][0]["removed"], true);
    // The platform's own refusal is shown in words.
    let (s, b) = act(&group, json!({"type": "delete", "message_id": view["messages"][0]["id"]})).await;
    assert_eq!(s, 502);
    assert!(b["message"].as_str().unwrap().contains("message to delete not found"), "{b}");

    // The ticket view says what the channel offers.
    let caps = view["capabilities"].as_array().unwrap();
    let pm = caps.iter().find(|c| c["kind"] == "private_message").unwrap();
    assert!(!pm["actions"].as_array().unwrap().contains(&json!("block")));
}

#[tokio::test]
async fn the_sidebar_counts_follow_every_change_at_once_and_after_a_restart() {
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let toml = telegram_channel("tg", &emu, true, TOKEN);
    let server = Server::start_with(&toml, Options::disk(), None).await;
    for n in 0..3 {
        emu.private_text(&User::new(9500 + n, &format!("Counted {n}"), None, None), "count me");
    }
    let tickets = server.wait_tickets("queue=new", 3, WAIT).await;
    let ids: Vec<String> = tickets.iter().map(|t| t["id"].as_str().unwrap().to_string()).collect();
    let me = server.get("/api/v1/me").await.1["id"].as_str().unwrap().to_string();
    let counts = async |server: &Server| {
        let c = server.get("/api/v1/counts").await.1;
        ["new", "pending", "resolved", "all", "mine", "flagged"].map(|k| c[k].as_u64().unwrap())
    };
    assert_eq!(counts(&server).await, [3, 0, 0, 3, 0, 0]);
    // Each answer counts the change just made, with no wait for the search index.
    let change = async |id: &str, patch: Value| assert_eq!(server.patch(&format!("/api/v1/tickets/{id}"), patch).await.0, 200);
    change(&ids[0], json!({"assignee": me})).await;
    assert_eq!(counts(&server).await, [3, 0, 0, 3, 1, 0]);
    change(&ids[1], json!({"queue": "pending", "flagged": true})).await;
    assert_eq!(counts(&server).await, [2, 1, 0, 3, 1, 1]);
    change(&ids[0], json!({"queue": "resolved"})).await;
    assert_eq!(counts(&server).await, [1, 1, 1, 3, 0, 1]);
    change(&ids[0], json!({"queue": "new"})).await;
    emu.private_text(&User::new(9600, "Latecomer", None, None), "me too");
    assert!(eventually(WAIT, || async { counts(&server).await == [3, 1, 0, 4, 1, 1] }).await, "{:?}", counts(&server).await);
    // Started again, the counts are the index's, and they agree with the lists.
    let data = server.kill().await;
    let server = Server::start_with(&toml, Options::disk(), Some(data)).await;
    assert_eq!(counts(&server).await, [3, 1, 0, 4, 1, 1]);
    assert_eq!(server.tickets("queue=new").await.len(), 3);
    assert_eq!(server.tickets(&format!("queue=new&assignee={me}")).await.len(), 1);
    // Mine is what is still my work: waiting on the customer (Pending) too, not once resolved.
    let change = async |id: &str, patch: Value| assert_eq!(server.patch(&format!("/api/v1/tickets/{id}"), patch).await.0, 200);
    change(&ids[1], json!({"assignee": me})).await;
    assert_eq!(counts(&server).await[4], 2, "a Pending ticket assigned to me is mine");
    let mine: Vec<String> = server.tickets(&format!("queue=open&assignee={me}")).await.iter().map(|t| t["queue"].as_str().unwrap().to_string()).collect();
    assert_eq!(mine.len(), 2);
    assert!(mine.contains(&"new".to_string()) && mine.contains(&"pending".to_string()), "{mine:?}");
    change(&ids[1], json!({"queue": "resolved"})).await;
    assert_eq!(counts(&server).await[4], 1);
    assert_eq!(server.tickets(&format!("queue=open&assignee={me}")).await.len(), 1);
}

#[tokio::test]
async fn a_search_lists_oldest_first_when_asked() {
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let server = Server::start(&telegram_channel("tg", &emu, false, TOKEN)).await;
    // Sent a minute apart, in an order that is not the order of their dates.
    for n in [1i64, 0, 2] {
        let user = 9700 + n;
        let body = json!({"update_id": n, "message": {"message_id": n, "from": {"id": user, "is_bot": false, "first_name": format!("Sorted {n}")},
            "chat": {"id": user, "type": "private"}, "date": 1_700_000_000 + 60 * n, "text": format!("sorted message {n}")}});
        assert_eq!(server.webhook("tg", serde_json::to_vec(&body).unwrap(), Some(SECRET)).await, 200);
    }
    let names = async |query: &str| -> Vec<String> {
        server.tickets(query).await.iter().map(|t| t["contact"]["name"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(names("q=sorted").await, ["Sorted 2", "Sorted 1", "Sorted 0"]);
    assert_eq!(names("q=sorted&sort=newest").await, ["Sorted 2", "Sorted 1", "Sorted 0"]);
    assert_eq!(names("q=sorted&sort=oldest&limit=2").await, ["Sorted 0", "Sorted 1"]);
    let (status, body) = server.get("/api/v1/tickets?sort=sideways").await;
    assert_eq!(status, 400, "{body}");
    assert!(body["message"].as_str().unwrap().contains("sort"), "{body}");
}

#[tokio::test]
async fn a_phrase_finds_its_words_next_to_each_other_in_one_message() {
    let (emu, server) = poll_server().await;
    let (a, b, c) = (User::new(9801, "Ann", Some("Lee"), None), User::new(9802, "Bo", None, None), User::new(9803, "Cy", None, None));
    emu.private_text(&a, "My ORDER late again, sadly");
    emu.private_text(&b, "late order, order was late");
    emu.private_text(&c, "where is my order");
    emu.private_text(&c, "late, as usual");
    assert!(eventually(WAIT, || async { server.status().await["messages"] == 4 }).await);
    let names = async |q: &str| -> Vec<String> {
        let mut n: Vec<String> = server.tickets(&format!("q={q}")).await.iter().map(|t| t["contact"]["name"].as_str().unwrap().to_string()).collect();
        n.sort();
        n
    };
    assert_eq!(names("order%20late").await, ["Ann Lee", "Bo", "Cy"], "words anywhere");
    assert_eq!(names("%22order%20late%22").await, ["Ann Lee"], "next to each other, in this order, in one message");
    assert_eq!(names("%22order%20late%20again%22").await, ["Ann Lee"]);
    assert_eq!(names("%22late%20again%20sadly%22").await, ["Ann Lee"]);
    assert!(names("%22order%20again%20late%22").await.is_empty());
    assert_eq!(names("%22ann%20lee%22").await, ["Ann Lee"], "a phrase also matches the contact's name");
    assert_eq!(names("%22order%20late%22%20-sadly").await, Vec::<String>::new());
    assert_eq!(names("%22order%22").await, ["Ann Lee", "Bo", "Cy"], "one quoted word is the word");
}

#[tokio::test]
async fn internal_changes_move_queues_and_filter() {
    let (emu, server) = poll_server().await;
    emu.private_text(&ann(), "status change please");
    let t = server.wait_tickets("queue=new", 1, WAIT).await;
    let id = t[0]["id"].as_str().unwrap().to_string();
    let (s, _) = server.patch(&format!("/api/v1/tickets/{id}"), json!({"assignee": "nobody-by-that-id"})).await;
    assert_eq!(s, 400, "only a user can be assigned");
    let (s, sam) = server
        .post("/api/v1/users", json!({"email": "sam@example.com", "name": "Sam", "role": "agent", "password": "sam-password"}))
        .await;
    assert_eq!(s, 201, "{sam}");
    let sam = sam["id"].as_str().unwrap();
    let (s, b) = server.patch(&format!("/api/v1/tickets/{id}"), json!({"tags": ["vip", "billing"], "flagged": true, "assignee": sam})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["tags"], json!(["billing", "vip"]));
    assert_eq!(server.wait_tickets(&format!("tag=vip&flagged=true&assignee={sam}"), 1, WAIT).await.len(), 1);
    let (s, _) = server.patch(&format!("/api/v1/tickets/{id}"), json!({"queue": "resolved"})).await;
    assert_eq!(s, 200);
    assert_eq!(server.wait_tickets("queue=resolved", 1, WAIT).await.len(), 1);
    assert!(eventually(WAIT, || async { server.tickets("queue=new").await.is_empty() }).await);
    let (s, _) = server.patch(&format!("/api/v1/tickets/{id}"), json!({"queue": "nowhere"})).await;
    assert_eq!(s, 400);
    let activity = server.ticket(&id).await["activity"].as_array().unwrap().len();
    assert!(activity >= 4, "every change is in the history");
}

#[tokio::test]
async fn bad_queries_get_a_clear_400() {
    let (_emu, server) = poll_server().await;
    for q in ["q=text:(", "queue=someday", "kind=tweet", "limit=0", "flagged=maybe"] {
        let (status, body) = server.get(&format!("/api/v1/tickets?{q}")).await;
        assert_eq!(status, 400, "{q}: {body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{q}: {body}");
    }
    let (status, _) = server.get("/api/v1/nothing-here").await;
    assert_eq!(status, 404);
    let (status, doc) = server.get("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    for path in ["/api/v1/tickets", "/api/v1/tickets/{id}", "/api/v1/tickets/{id}/actions", "/api/v1/channels"] {
        assert!(doc["paths"][path].is_object(), "{path} missing from the OpenAPI document");
    }
}

#[tokio::test]
async fn new_tickets_are_pushed_over_the_websocket() {
    let (emu, server) = poll_server().await;
    let mut ws_req = server.url("/api/v1/events").replacen("http", "ws", 1).into_client_request().unwrap();
    ws_req.headers_mut().insert("cookie", server.cookie.parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_req).await.unwrap();
    let hello = ws.next().await.unwrap().unwrap();
    assert!(hello.to_text().unwrap().contains("hello"));
    let (mut to_server, mut ws) = ws.split();
    emu.private_text(&ann(), "live please");
    // Events queued behind one another come in one frame, `{"type":"batch","events":[...]}`.
    let mut events = std::collections::VecDeque::new();
    let mut next_event = async || -> Value {
        loop {
            if let Some(v) = events.pop_front() {
                return v;
            }
            let msg = ws.next().await.unwrap().unwrap();
            let v: Value = serde_json::from_str(msg.to_text().unwrap()).unwrap();
            match v["type"].as_str() {
                Some("batch") => events.extend(v["events"].as_array().unwrap().iter().cloned()),
                _ => events.push_back(v),
            }
        }
    };
    let event: Value = tokio::time::timeout(WAIT, async {
        loop {
            let v = next_event().await;
            if v["type"] == "ticket_created" {
                return v;
            }
        }
    })
    .await
    .expect("a ticket_created event");
    assert_eq!(event["ticket"]["preview"], "live please");
    // The message itself goes only to the tabs that have the ticket open.
    assert!(event["message"].is_null(), "{event}");
    let ticket_id = event["ticket"]["id"].as_str().unwrap().to_string();
    let view = serde_json::json!({"type": "view", "ticket_id": ticket_id}).to_string();
    futures::SinkExt::send(&mut to_server, tokio_tungstenite::tungstenite::Message::Text(view.into())).await.unwrap();
    // The view reaches the server before the next message does (presence says so).
    tokio::time::timeout(WAIT, async {
        loop {
            let v = next_event().await;
            if v["type"] == "presence" && v["ticket_id"] == ticket_id.as_str() {
                break;
            }
        }
    })
    .await
    .expect("the socket's own presence");
    emu.private_text(&ann(), "and now with the text");
    let update: Value = tokio::time::timeout(WAIT, async {
        loop {
            let v = next_event().await;
            if v["type"] == "ticket_updated" {
                return v;
            }
        }
    })
    .await
    .expect("a ticket_updated event");
    assert_eq!(update["message"]["text"], "and now with the text");
    // A list or count fetched right after the event already holds the ticket: a browser that
    // reloads its list on (re)connecting must not lose what it was just told about.
    assert_eq!(server.tickets("queue=new").await.len(), 1);
    assert_eq!(server.get("/api/v1/counts").await.1["new"], 1);

    // A burst reaches the socket whole, each event once, however it is framed.
    for n in 0..40 {
        emu.private_text(&User::new(9100 + n, "Burst", None, None), &format!("burst {n}"));
    }
    let burst: Vec<String> = tokio::time::timeout(WAIT, async {
        let mut seen = Vec::new();
        while seen.len() < 40 {
            let v = next_event().await;
            if v["type"] == "ticket_created" {
                seen.push(v["ticket"]["preview"].as_str().unwrap_or_default().to_string());
            }
        }
        seen
    })
    .await
    .expect("every event of the burst");
    let mut burst = burst;
    burst.sort_by_key(|t| t[6..].parse::<u32>().unwrap_or(0));
    assert_eq!(burst, (0..40).map(|n| format!("burst {n}")).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_webhook_message_is_listed_as_soon_as_it_is_accepted() {
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let server = Server::start(&telegram_channel("tg", &emu, false, TOKEN)).await;
    for n in 1..=5 {
        let update = json!({"update_id": n, "message": {
            "message_id": n, "from": {"id": 900 + n, "is_bot": false, "first_name": format!("Customer {n}")},
            "chat": {"id": 900 + n, "type": "private", "first_name": format!("Customer {n}")}, "date": 1_700_000_000 + n, "text": format!("parcel {n} is late")}});
        assert_eq!(server.webhook("tg", serde_json::to_vec(&update).unwrap(), Some(SECRET)).await, 200);
        assert_eq!(server.tickets("queue=new").await.len(), n as usize, "listed straight after webhook {n}");
        assert_eq!(server.tickets("q=late").await.len(), n as usize, "found by word straight after webhook {n}");
    }
}

#[tokio::test]
async fn rate_limits_pause_polling_and_show_in_health() {
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    emu.fail_next("getUpdates", 429, "Too Many Requests: retry after 3", Some(3));
    let server = Server::start(&telegram_channel("tg", &emu, true, TOKEN)).await;
    let ch = server.wait_channel("tg", WAIT, |c| c["health"]["last_error"].is_string()).await;
    assert!(ch["health"]["last_error"].as_str().unwrap().contains("rate limited"), "{ch}");
    emu.private_text(&ann(), "after the pause");
    assert_eq!(server.wait_tickets("queue=all", 1, WAIT).await.len(), 1);
    let calls = emu.calls("getUpdates");
    let gap = calls[1].at - calls[0].at;
    assert!(gap >= Duration::from_millis(2900), "polled again after {gap:?}, before retry_after");
    assert_eq!(server.channel("tg").await["health"]["state"], "ok");
}

#[tokio::test]
async fn a_refused_token_asks_for_a_reconnect() {
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let server = Server::start(&telegram_channel("tg", &emu, true, "9999:WRONG")).await;
    let ch = server.wait_channel("tg", WAIT, |c| c["health"]["state"] == "needs_reconnect").await;
    assert_eq!(ch["health"]["state"], "needs_reconnect", "{ch}");
    assert!(!ch["health"]["last_error"].as_str().unwrap().contains("9999"), "the token is not shown");
}

#[tokio::test]
async fn a_webhook_left_set_is_explained_in_health() {
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    reqwest::Client::new()
        .post(format!("{}/bot{TOKEN}/setWebhook", emu.base_url()))
        .json(&json!({"url": "http://127.0.0.1:9/elsewhere"}))
        .send()
        .await
        .unwrap();
    let server = Server::start(&telegram_channel("tg", &emu, true, TOKEN)).await;
    let ch = server.wait_channel("tg", WAIT, |c| c["health"]["state"] == "degraded").await;
    assert!(ch["health"]["last_error"].as_str().unwrap().contains("webhook"), "{ch}");
}

#[tokio::test]
async fn a_plugin_cannot_reach_a_host_it_was_not_granted() {
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    // Pointed at the emulator, but only granted Telegram's real host.
    let channel = telegram_channel("tg", &emu, true, TOKEN).replace(&format!("[\"{}\"]", emu.host()), "[\"api.telegram.org\"]");
    let server = Server::start(&channel).await;
    let ch = server.wait_channel("tg", WAIT, |c| c["health"]["state"] == "degraded").await;
    let error = ch["health"]["last_error"].as_str().unwrap_or_default();
    assert!(error.contains("127.0.0.1") && error.contains("allowed_hosts"), "{ch}");
    assert!(emu.calls("getUpdates").is_empty(), "no request left the sandbox");
    assert!(ch["health"]["next_retry_at"].is_i64(), "retried later, with backoff");
}

#[tokio::test]
async fn words_inside_japanese_and_chinese_sentences_are_found() {
    let (emu, server) = poll_server().await;
    emu.private_text(&ann(), "こんにちは、注文をキャンセルしたいのですが、どうすればいいですか？");
    emu.private_text(&User::new(9003, "Wei", None, None), "我的包裹还没有到，请帮我查一下物流");
    assert_eq!(server.wait_tickets("queue=all", 2, WAIT).await.len(), 2);
    for (q, expected) in [("注文", 1), ("キャンセル", 1), ("包裹", 1), ("物流", 1), ("注文 物流", 0), ("返品", 0)] {
        assert!(
            eventually(WAIT, || async { server.tickets(&format!("q={q}")).await.len() == expected }).await,
            "`{q}` should find {expected} ticket(s)"
        );
    }
}

#[tokio::test]
async fn a_long_conversation_opens_on_its_newest_messages_and_every_older_page_and_word_stays_reachable() {
    let (emu, server) = poll_server().await;
    let user = ann();
    let total = 1_050;
    let mut first = 0;
    for n in 0..total {
        let text = match n {
            0 => "apricot was my first question".to_string(),
            500 => "banana in the middle".to_string(),
            n if n == total - 1 => "cherry is the latest".to_string(),
            n => format!("chat line {n}"),
        };
        let id = emu.private_text(&user, &text);
        if n == 0 {
            first = id;
        }
    }
    assert!(eventually(Duration::from_secs(120), || async { server.status().await["messages"] == total }).await, "all messages stored");
    let id = server.wait_tickets("q=cherry", 1, WAIT).await[0]["id"].as_str().unwrap().to_string();

    // The ticket opens on its last two pages of 100: the 50 newest and the 100 before them.
    let view = server.ticket(&id).await;
    let newest = view["messages"].as_array().unwrap();
    assert_eq!(newest.len(), 150);
    assert_eq!(newest.last().unwrap()["text"], "cherry is the latest");
    assert_eq!(newest[0]["text"], "chat line 900");
    assert_eq!(view["older_page"], 8);

    // Reading back page by page gives every message once, in order.
    let mut texts: Vec<String> = newest.iter().map(|m| m["text"].as_str().unwrap().to_string()).collect();
    let mut page = view["older_page"].clone();
    while let Some(p) = page.as_u64() {
        let (status, older) = server.get(&format!("/api/v1/tickets/{id}/messages?page={p}")).await;
        assert_eq!(status, 200, "{older}");
        let batch: Vec<String> = older["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap().to_string()).collect();
        assert_eq!(batch.len(), 100);
        texts.splice(0..0, batch);
        page = older["older_page"].clone();
    }
    assert_eq!(texts.len(), total);
    assert_eq!(texts[0], "apricot was my first question");
    assert_eq!(texts[500], "banana in the middle");
    assert!(texts[1..500].iter().enumerate().all(|(n, t)| *t == format!("chat line {}", n + 1)), "in order");

    let (status, body) = server.get(&format!("/api/v1/tickets/{id}/messages?page=11")).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")), "{body}");
    let (status, body) = server.get(&format!("/api/v1/tickets/{id}/messages?page=last")).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("bad_request")), "{body}");

    // Words on full pages are found, alone, together with words on other pages, and excluded.
    for (q, hits) in [
        ("apricot", 1),
        ("banana", 1),
        ("apricot%20cherry", 1),
        ("apricot%20banana%20cherry", 1),
        ("%22first%20question%22", 1),
        ("apricot%20-cherry", 0),
        ("apricot%20durian", 0),
        ("(apricot%20OR%20durian)%20AND%20contact:ann", 1),
    ] {
        assert_eq!(server.tickets(&format!("q={q}")).await.len(), hits, "q={q}");
    }
    assert_eq!(server.status().await["indexed_tickets"], 1, "pages are not counted as tickets");

    // An edit far back in the conversation is searchable like a new message.
    emu.edit_private_text(&user, first, "avocado was my first question");
    assert_eq!(server.wait_tickets("q=avocado", 1, WAIT).await.len(), 1);
    assert_eq!(server.tickets("q=apricot").await.len(), 0, "the old version is not matched");
}

#[tokio::test]
async fn the_list_shows_who_waits_longest_and_what_no_agent_has_seen() {
    let (emu, server) = poll_server().await;
    // Ann wrote first (twice), Bo later, then Cy.
    let send = |id: i64, user: i64, name: &str, date: i64, text: &str| {
        emu.push_update(json!({"message": {"message_id": id, "from": {"id": user, "is_bot": false, "first_name": name},
            "chat": {"id": user, "type": "private", "first_name": name}, "date": date, "text": text}}));
    };
    send(9001, 9901, "Waits Ann", 1_700_000_000, "waiting hello");
    send(9002, 9902, "Waits Bo", 1_700_000_600, "waiting too");
    send(9003, 9901, "Waits Ann", 1_700_000_900, "waiting still");
    send(9004, 9903, "Waits Cy", 1_700_001_200, "waiting answered");
    assert!(eventually(WAIT, || async { server.status().await["messages"] == 4 }).await);
    let rows = server.tickets("q=waiting&sort=waiting").await;
    let by_name = |rows: &[Value], name: &str| rows.iter().find(|t| t["contact"]["name"] == name).cloned().unwrap();
    let names: Vec<&str> = rows.iter().map(|t| t["contact"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Waits Ann", "Waits Bo", "Waits Cy"], "longest waiting first");
    let ann = by_name(&rows, "Waits Ann");
    assert_eq!((ann["unseen"].as_u64(), ann["waiting_since"].as_i64()), (Some(2), Some(1_700_000_000_000)), "{ann}");
    assert_eq!(ann["last_from_us"], false);

    // Cy is answered: no longer waiting, the preview is ours, nothing unseen.
    let cy = by_name(&rows, "Waits Cy")["id"].as_str().unwrap().to_string();
    let (status, body) = server.post(&format!("/api/v1/tickets/{cy}/actions"), json!({"type": "reply", "text": "Sorted!"})).await;
    assert_eq!(status, 200, "{body}");
    let rows = server.tickets("q=waiting&sort=waiting").await;
    let cy_row = by_name(&rows, "Waits Cy");
    assert_eq!((cy_row["waiting_since"].clone(), cy_row["last_from_us"].clone(), cy_row["unseen"].clone()), (Value::Null, json!(true), json!(0)), "{cy_row}");
    assert_eq!(rows.last().unwrap()["contact"]["name"], "Waits Cy", "an answered ticket after every waiting one");

    // An agent opens Bo's ticket: seen, still waiting for an answer.
    let bo = by_name(&rows, "Waits Bo")["id"].as_str().unwrap().to_string();
    let (status, body) = server.post(&format!("/api/v1/tickets/{bo}/seen"), json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["unseen"].clone(), body["waiting_since"].clone()), (json!(0), json!(1_700_000_600_000i64)), "{body}");
    let rows = server.tickets("q=waiting").await;
    assert_eq!(by_name(&rows, "Waits Bo")["unseen"], 0);
    assert_eq!(by_name(&rows, "Waits Ann")["unseen"], 2, "only the ticket opened is seen");

    let (status, body) = server.post("/api/v1/tickets/nope/seen", json!({})).await;
    assert_eq!(status, 404, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
}

#[tokio::test]
async fn a_log_that_is_not_a_terminal_has_no_colour_codes() {
    let (_emu, server) = poll_server().await;
    assert!(eventually(WAIT, || async { server.log().contains("channel loaded") }).await, "{}", server.log());
    assert!(!server.log().contains('\u{1b}'), "escape codes in a piped log: {:?}", server.log());
}

#[tokio::test]
async fn a_snoozed_ticket_returns_to_new_when_its_time_comes_or_the_customer_writes() {
    let (emu, server) = poll_server().await;
    let (ann, bo) = (User::new(9951, "Snooze Ann", None, None), User::new(9952, "Snooze Bo", None, None));
    emu.private_text(&ann, "call me back tomorrow");
    emu.private_text(&bo, "I will send the photo later");
    let tickets = server.wait_tickets("q=snooze", 2, WAIT).await;
    let id_of = |name: &str| tickets.iter().find(|t| t["contact"]["name"] == name).unwrap()["id"].as_str().unwrap().to_string();
    let (a, b) = (id_of("Snooze Ann"), id_of("Snooze Bo"));
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;

    let (status, body) = server.patch(&format!("/api/v1/tickets/{a}"), json!({"snooze_until": now - 1000})).await;
    assert_eq!(status, 400, "a snooze in the past: {body}");
    assert!(body["message"].as_str().unwrap().contains("future"), "{body}");

    let (status, t) = server.patch(&format!("/api/v1/tickets/{a}"), json!({"snooze_until": now + 2_500})).await;
    assert_eq!(status, 200, "{t}");
    assert_eq!((t["queue"].as_str(), t["snoozed_until"].as_i64()), (Some("pending"), Some(now + 2_500)));
    let (_, t) = server.patch(&format!("/api/v1/tickets/{b}"), json!({"snooze_until": now + 3_600_000})).await;
    assert_eq!(t["queue"], "pending");

    // Ann's time comes: back in New, with a line saying why.
    assert!(eventually(WAIT, || async { server.ticket(&a).await["ticket"]["queue"] == "new" }).await);
    let view = server.ticket(&a).await;
    assert_eq!(view["ticket"]["snoozed_until"], Value::Null);
    assert!(view["activity"].as_array().unwrap().iter().any(|x| x["what"].as_str().unwrap().starts_with("snooze.ended") && x["actor"] == "system"), "{}", view["activity"]);

    // Bo writes long before his: back in New at once, no longer snoozed.
    emu.private_text(&bo, "here is the photo");
    assert!(eventually(WAIT, || async { server.ticket(&b).await["ticket"]["queue"] == "new" }).await);
    assert_eq!(server.ticket(&b).await["ticket"]["snoozed_until"], Value::Null);
}

#[tokio::test]
async fn a_contacts_other_tickets_are_listed_by_their_contact() {
    let (emu, server) = poll_server().await;
    let (ann, bo) = (User::new(9961, "Other Ann", None, None), User::new(9962, "Other Bo", None, None));
    emu.private_text(&ann, "my order is late");
    emu.group_text(-99_600, "Buyers club", &ann, "anyone else waiting for an order?");
    emu.private_text(&bo, "hello");
    assert!(eventually(WAIT, || async { server.status().await["messages"] == 3 }).await);
    let private = server.wait_tickets("q=late", 1, WAIT).await;
    let contact = private[0]["contact_id"].as_str().unwrap().to_string();
    let mut kinds: Vec<String> = server.tickets(&format!("contact={contact}&queue=all")).await.iter().map(|t| t["kind"].as_str().unwrap().to_string()).collect();
    kinds.sort();
    assert_eq!(kinds, ["group_message", "private_message"], "Ann's conversation and the group she spoke in last, not Bo's");
    assert!(server.tickets("contact=nobody&queue=all").await.is_empty());
}

#[tokio::test]
async fn operators_probe_health_and_readiness_scrape_metrics_and_read_json_logs_with_request_ids() {
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let opts = Options { json_logs: true, ..Options::memory() };
    let server = Server::start_with(&telegram_channel("tg", &emu, true, TOKEN), opts, None).await;
    emu.private_text(&ann(), "Is my order on its way?");
    emu.private_text(&ann(), "It is order 4411");
    let t = server.wait_tickets("queue=all", 1, WAIT).await;
    assert!(eventually(WAIT, || async { server.ticket(t[0]["id"].as_str().unwrap()).await["messages"].as_array().unwrap().len() == 2 }).await);

    let (s, sent) = action(&server, t[0]["id"].as_str().unwrap(), json!({"type": "reply", "text": "It left today."})).await;
    assert_eq!(s, 200, "{sent}");
    let (s, health) = server.get("/healthz").await;
    assert_eq!((s, health["status"].as_str()), (200, Some("ok")));
    let (s, ready) = server.get("/readyz").await;
    assert_eq!((s, ready["status"].as_str()), (200, Some("ready")), "{ready}");
    assert!(ready["index_lag"].as_i64().unwrap() >= 0);

    // Without signing in, as Prometheus scrapes.
    let scrape = reqwest::get(server.url("/metrics")).await.unwrap();
    assert_eq!(scrape.status(), 200);
    assert!(scrape.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = scrape.text().await.unwrap();
    let value = |series: &str| -> f64 {
        text.lines().find(|l| l.starts_with(series)).and_then(|l| l.rsplit(' ').next()).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("no {series} in\n{text}"))
    };
    assert_eq!(value(r#"helpdesk_interactions_ingested_total{channel="tg"}"#), 2.0, "each message once");
    assert!(value(r#"helpdesk_plugin_calls_total{channel="tg",call="fetch",result="ok"}"#) >= 1.0);
    assert!(text.contains(r#"helpdesk_plugin_call_seconds_bucket{channel="tg",call="fetch",le="#), "latency histogram");
    assert!(value(r#"helpdesk_http_requests_total{route="/api/v1/tickets",method="GET",status="200"}"#) >= 1.0, "by route, never by id");
    assert!(!text.contains(t[0]["id"].as_str().unwrap()), "no ticket ids in the labels");
    assert!(value("helpdesk_index_lag_changes") >= 0.0);
    assert_eq!(value(r#"helpdesk_actions_total{action="reply",result="done"}"#), 1.0);

    // A request id is made (or the proxy's kept) and is in the response and in what the
    // request logs (an admin disabling the channel).
    let r = reqwest::Client::new()
        .patch(server.url("/api/v1/channels/tg"))
        .header("x-request-id", "req-from-proxy-42")
        .header("cookie", &server.cookie)
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!((r.status().as_u16(), &r.headers()["x-request-id"]), (200, &"req-from-proxy-42".parse::<reqwest::header::HeaderValue>().unwrap()));
    let made = reqwest::get(server.url("/healthz")).await.unwrap();
    assert_eq!(made.headers()["x-request-id"].to_str().unwrap().len(), 36, "a UUID");
    assert!(eventually(WAIT, || async { server.log().contains("changed by an admin") }).await, "{}", server.log());
    let lines: Vec<serde_json::Value> = server.log().lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
    assert!(lines.iter().all(|l| l["level"].is_string() && l["timestamp"].is_string()), "every line is JSON with a level and a time");
    let changed = lines.iter().find(|l| l["fields"]["message"] == "changed by an admin").unwrap();
    assert_eq!(changed["span"]["request_id"], "req-from-proxy-42", "{changed}");
    assert!(!server.log().contains('\u{1b}'), "no colour codes");
}
