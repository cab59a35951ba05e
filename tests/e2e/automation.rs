//! Admins' rules end to end: a rule hides a spam comment on Facebook (the Graph emulator
//! records it), tags and archives it, and the history says the rule did it; an ordinary comment
//! is left alone; a welcome rule answers a new Messenger conversation with one of its saved
//! replies, once; what arrived before a rule existed is untouched but shows in its dry run, and
//! a run over that period applies it once; status changes, languages, contact tags, first
//! contacts and channels' own business hours drive rules; rules that cannot work are refused
//! when saved.

mod support;

use helpdesk_testkit::graph::{fb_comment_webhook, messenger_webhook, GraphEmulator};
use serde_json::{json, Value};
use std::time::Duration;
use support::*;

const WAIT: Duration = Duration::from_secs(15);
const PAGE: &str = "1010101010";
const POST: &str = "1010101010_5001";

async fn deliver(graph: &GraphEmulator, server: &Server, body: &Value) -> u16 {
    graph.deliver(&server.url("/webhooks/fb"), &serde_json::to_vec(body).unwrap(), None).await
}

#[tokio::test]
async fn a_rule_hides_spam_comments_and_another_welcomes_new_conversations() {
    let graph = GraphEmulator::start().await.unwrap();
    let server = Server::start(&graph.facebook_channel_toml("fb", PAGE)).await;
    // Before the rule: not touched by it, but its dry run finds it.
    assert_eq!(deliver(&graph, &server, &fb_comment_webhook(PAGE, POST, "5001_6000", ("2000", "Early"), "Free money here, earlier", "add", None, false)).await, 200);
    server.wait_tickets("q=earlier", 1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(20)).await;

    let rule = json!({"name": "Hide spam", "trigger": "new_ticket",
        "conditions": {"channels": ["fb"], "kinds": ["comment"], "text": {"type": "words", "any": ["free money", "crypt*"]}},
        "actions": [{"type": "platform", "action": "hide"}, {"type": "tag", "tag": "spam"}, {"type": "queue", "queue": "archived"}]});
    let (s, spam) = server.post("/api/v1/rules", rule).await;
    assert_eq!(s, 201, "{spam}");
    // Their picture cannot go on Messenger here (the plugin sends no files): the text goes alone.
    let (_, map) = server.upload("map.png", "image/png", helpdesk_testkit::PHOTO_PNG.to_vec()).await;
    let (_, a) = server.post("/api/v1/saved-replies", json!({"title": "Hi 1", "text": "Hi {{contact.first_name}}, thanks for writing!", "scope": {"type": "global"}, "files": [map["id"]]})).await;
    let (_, b) = server.post("/api/v1/saved-replies", json!({"title": "Hi 2", "text": "Hello {{contact.first_name}}, we are on it.", "scope": {"type": "global"}, "files": [map["id"]]})).await;
    let welcome = json!({"name": "Welcome", "trigger": "new_ticket", "conditions": {"kinds": ["private_message"]},
        "actions": [{"type": "reply", "saved_replies": [a["id"], b["id"]], "private": false}, {"type": "note", "text": "Welcomed automatically"}]});
    let (s, w) = server.post("/api/v1/rules", welcome).await;
    assert_eq!(s, 201, "{w}");

    assert_eq!(deliver(&graph, &server, &fb_comment_webhook(PAGE, POST, "5001_7001", ("2001", "Spammer"), "Get FREE MONEY with cryptocoins!", "add", None, false)).await, 200);
    assert_eq!(deliver(&graph, &server, &fb_comment_webhook(PAGE, POST, "5001_7002", ("2002", "Ann"), "Is this tent waterproof?", "add", None, false)).await, 200);
    let t = server.wait_tickets("q=cryptocoins&queue=all", 1, WAIT).await;
    let id = t[0]["id"].as_str().unwrap().to_string();
    assert!(eventually(WAIT, || async { server.ticket(&id).await["ticket"]["queue"] == "archived" }).await, "{}", server.ticket(&id).await["ticket"]);
    let view = server.ticket(&id).await;
    assert_eq!(view["ticket"]["tags"], json!(["spam"]));
    assert_eq!(graph.calls_to("5001_7001")[0].body["is_hidden"], true, "hidden on Facebook");
    assert!(view["messages"][0]["hidden"].as_bool().unwrap());
    assert!(view["activity"].as_array().unwrap().iter().any(|a| a["actor"] == "Rule: Hide spam" && a["what"] == "action.hide"), "{}", view["activity"]);
    // The ordinary comment and the earlier one are left alone.
    let ann = server.tickets("q=waterproof").await;
    assert_eq!((ann[0]["queue"].as_str(), ann[0]["tags"].as_array().unwrap().len()), (Some("new"), 0));
    assert!(graph.calls_to("5001_7002").is_empty() && graph.calls_to("5001_6000").is_empty());
    let (s, would) = server.post(format!("/api/v1/rules/{}/dry-run", spam["id"].as_str().unwrap()), json!({"from": 0, "to": i64::MAX / 2})).await;
    assert_eq!(s, 200, "{would}");
    let texts: Vec<&str> = would.as_array().unwrap().iter().map(|w| w["text"].as_str().unwrap()).collect();
    // Messages from before the rule was made: the earlier one, and the cryptocoins comment when
    // it came within the rule's second (Facebook stamps comments in whole seconds).
    assert!(texts.contains(&"Free money here, earlier") && texts.iter().all(|t| t.to_lowercase().contains("money")), "{texts:?}");

    // A new conversation is welcomed once, with one of the two saved replies; our reply does
    // not trigger anything, nor does the customer's second message.
    graph.fb_profile("psid-9", "Mia", "Kato");
    assert_eq!(deliver(&graph, &server, &messenger_webhook(PAGE, "psid-9", "m_1", "Hello!", false)).await, 200);
    let dm = server.wait_tickets("kind=private_message", 1, WAIT).await[0]["id"].as_str().unwrap().to_string();
    assert!(eventually(WAIT, || async { server.ticket(&dm).await["notes"].as_array().unwrap().len() == 1 }).await);
    assert_eq!(deliver(&graph, &server, &messenger_webhook(PAGE, "psid-9", "m_2", "Are you there?", false)).await, 200);
    tokio::time::sleep(Duration::from_millis(800)).await;
    let sent = graph.calls_to(&format!("{PAGE}/messages"));
    assert_eq!(sent.len(), 1, "{sent:?}");
    let text = sent[0].body["message"]["text"].as_str().unwrap();
    assert!(["Hi Mia, thanks for writing!", "Hello Mia, we are on it."].contains(&text), "{text}");
    assert_eq!(server.ticket(&dm).await["notes"][0]["author_name"], "Rule: Welcome");
}

#[tokio::test]
async fn a_rules_reply_carries_its_saved_replys_picture_where_the_channel_takes_files() {
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let server = Server::start(&telegram_channel("tg", &emu, true, TOKEN)).await;
    let (_, map) = server.upload("map.png", "image/png", helpdesk_testkit::PHOTO_PNG.to_vec()).await;
    let (_, saved) = server.post("/api/v1/saved-replies", json!({"title": "Directions", "text": "Hi {{contact.first_name}}, here is how to find us.", "scope": {"type": "global"}, "files": [map["id"]]})).await;
    let rule = json!({"name": "Directions", "trigger": "new_ticket", "conditions": {"text": {"type": "words", "any": ["where are you"]}},
        "actions": [{"type": "reply", "saved_replies": [saved["id"]], "private": false}]});
    let (s, r) = server.post("/api/v1/rules", rule).await;
    assert_eq!(s, 201, "{r}");
    emu.private_text(&User::new(8400, "Lea", None, None), "Where are you exactly?");
    let photos = emu.wait_calls("sendPhoto", 1, WAIT).await;
    assert_eq!(photos.len(), 1, "the rule sent the picture");
    assert_eq!(photos[0].params["caption"], "Hi Lea, here is how to find us.");
    assert!(emu.calls("sendMessage").is_empty(), "the text went as its caption, once");
}

#[tokio::test]
async fn rules_that_cannot_work_are_refused_when_saved() {
    let graph = GraphEmulator::start().await.unwrap();
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let server = Server::start(&[graph.facebook_channel_toml("fb", PAGE), telegram_channel("tg", &emu, false, TOKEN)].concat()).await;
    let (_, agentish) = server.post("/api/v1/saved-replies", json!({"title": "Signed", "text": "Best, {{agent.name}}", "scope": {"type": "global"}})).await;
    for (rule, want) in [
        (json!({"name": "R", "trigger": "new_ticket", "conditions": {"text": {"type": "regex", "pattern": "(oops"}}, "actions": [{"type": "flag"}]}), "does not work"),
        (json!({"name": "R", "trigger": "new_ticket", "conditions": {"channels": ["tg"]}, "actions": [{"type": "platform", "action": "hide"}]}), "does not offer `hide`"),
        (json!({"name": "R", "trigger": "new_ticket", "actions": [{"type": "assign", "user_id": "nobody"}]}), "no user `nobody`"),
        (json!({"name": "R", "trigger": "new_ticket", "conditions": {"channels": ["nope"]}, "actions": [{"type": "flag"}]}), "no channel `nope`"),
        (json!({"name": "R", "trigger": "new_ticket", "actions": []}), "1 to 10 actions"),
        (json!({"name": "R", "trigger": "new_ticket", "actions": [{"type": "platform", "action": "block"}]}), "hide, delete or like"),
        (json!({"name": "R", "trigger": "new_ticket", "actions": [{"type": "reply", "saved_replies": [agentish["id"]], "private": false}]}), "no agent to fill it"),
        (json!({"name": "R", "trigger": "whenever", "actions": [{"type": "flag"}]}), "unknown variant"),
    ] {
        let (s, b) = server.post("/api/v1/rules", rule.clone()).await;
        assert_eq!(s, 400, "{rule}: {b}");
        assert!(b["message"].as_str().unwrap().contains(want), "{rule}: {b}");
    }
    assert!(server.get("/api/v1/rules").await.1.as_array().unwrap().is_empty(), "nothing was saved");
}

#[tokio::test]
async fn outside_business_hours_a_conversation_gets_one_auto_reply_not_one_per_message() {
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let server = Server::start(&telegram_channel("tg", &emu, true, TOKEN)).await;
    // A team whose hours are never open (every day closed), and one that is always open.
    let closed: Vec<Value> = (0..7).map(|_| json!([])).collect();
    let (s, t) = server.post("/api/v1/teams", json!({"name": "Support", "channels": ["tg"], "business_hours": {"timezone": "Europe/Berlin", "week": closed}})).await;
    assert_eq!(s, 201, "{t}");
    let (s, b) = server.post("/api/v1/teams", json!({"name": "Bad", "business_hours": {"timezone": "Mars/Olympus", "week": closed}})).await;
    assert_eq!(s, 400, "{b}");
    assert!(b["message"].as_str().unwrap().contains("not a time zone"), "{b}");
    let (_, saved) = server.post("/api/v1/saved-replies", json!({"title": "Closed", "text": "Hi {{contact.first_name}}, we are closed now and answer from 9:00.", "scope": {"type": "global"}})).await;
    let rule = json!({"name": "After hours", "trigger": "customer_message", "cooldown_hours": 12,
        "conditions": {"kinds": ["private_message"], "business_hours": false},
        "actions": [{"type": "reply", "saved_replies": [saved["id"]], "private": false}]});
    let (s, r) = server.post("/api/v1/rules", rule).await;
    assert_eq!(s, 201, "{r}");
    let ann = User::new(8801, "Ann", None, None);
    emu.private_text(&ann, "Hello, are you there?");
    server.wait_tickets("q=there", 1, WAIT).await;
    let sent = || emu.calls("sendMessage");
    assert!(eventually(WAIT, || async { sent().len() == 1 }).await, "the auto-reply");
    assert_eq!(sent()[0].params["text"], "Hi Ann, we are closed now and answer from 9:00.");
    emu.private_text(&ann, "Hello??");
    emu.private_text(&ann, "Anyone?");
    assert!(eventually(WAIT, || async { server.tickets("q=Anyone").await.len() == 1 }).await);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(sent().len(), 1, "once per conversation in 12 hours");
}

#[tokio::test]
async fn a_customer_left_waiting_is_flagged_by_a_no_reply_rule_once_and_an_answered_one_is_not() {
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let server = Server::start(&telegram_channel("tg", &emu, true, TOKEN)).await;
    let (s, b) = server.post("/api/v1/rules", json!({"name": "Late", "trigger": "no_reply", "actions": [{"type": "flag"}]})).await;
    assert_eq!(s, 400, "the minutes are needed: {b}");
    let rule = json!({"name": "Late", "trigger": "no_reply", "no_reply_minutes": 1, "conditions": {"kinds": ["private_message"]},
        "actions": [{"type": "flag"}, {"type": "tag", "tag": "late"}]});
    let (s, r) = server.post("/api/v1/rules", rule).await;
    assert_eq!(s, 201, "{r}");
    emu.private_text(&User::new(8901, "Wait", None, None), "Still waiting for my refund");
    emu.private_text(&User::new(8902, "Quick", None, None), "Quick question about sizes");
    let quick = server.wait_tickets("q=sizes", 1, WAIT).await[0]["id"].as_str().unwrap().to_string();
    let (s, _) = action(&server, &quick, json!({"type": "reply", "text": "Happy to help!"})).await;
    assert_eq!(s, 200);
    let waiting = server.wait_tickets("q=refund", 1, WAIT).await[0]["id"].as_str().unwrap().to_string();
    // A minute, and the rule's next look (every 15 s).
    assert!(eventually(Duration::from_secs(100), || async { server.ticket(&waiting).await["ticket"]["flagged"] == true }).await);
    let view = server.ticket(&waiting).await;
    assert_eq!(view["ticket"]["tags"], json!(["late"]));
    assert!(view["activity"].as_array().unwrap().iter().any(|a| a["actor"] == "Rule: Late"), "{}", view["activity"]);
    assert_eq!(server.ticket(&quick).await["ticket"]["flagged"], false, "answered: not waiting");
}

#[tokio::test]
async fn a_status_change_tags_a_ticket_and_a_spanish_conversation_goes_to_the_spanish_team() {
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let server = Server::start(&telegram_channel("tg", &emu, true, TOKEN)).await;
    let (_, rosa) = server.post("/api/v1/users", json!({"email": "rosa@team.example", "name": "Rosa", "role": "agent", "password": "agent-password"})).await;
    // The Spanish team owns no channel: rules route to it.
    let (s, team) = server.post("/api/v1/teams", json!({"name": "Español", "members": [rosa["id"]], "auto_assign": true})).await;
    assert_eq!(s, 201, "{team}");
    let rules = [
        json!({"name": "Spanish", "trigger": "new_ticket", "conditions": {"languages": ["spa"]}, "actions": [{"type": "team", "team_id": team["id"]}, {"type": "tag", "tag": "es"}]}),
        json!({"name": "Done", "trigger": "status_changed", "conditions": {"queues": ["resolved"]}, "actions": [{"type": "tag", "tag": "closed"}, {"type": "note", "text": "Survey sent"}]}),
    ];
    for r in rules {
        let (s, b) = server.post("/api/v1/rules", r).await;
        assert_eq!(s, 201, "{b}");
    }
    emu.private_text(&User::new(9301, "Lucía", None, None), "¿Cuándo abre la tienda el domingo? Necesito cambiar una talla");
    emu.private_text(&User::new(9302, "Ann", None, None), "Hi, I ordered the blue jacket last week and it still hasn't shipped");
    let es = server.wait_tickets("q=talla", 1, WAIT).await[0]["id"].as_str().unwrap().to_string();
    assert!(eventually(WAIT, || async { server.ticket(&es).await["ticket"]["assignee"] == rosa["id"] }).await, "{}", server.ticket(&es).await["ticket"]);
    let view = server.ticket(&es).await;
    assert_eq!((view["ticket"]["team"].clone(), view["ticket"]["language"].clone()), (team["id"].clone(), json!("spa")));
    assert_eq!(view["messages"][0]["language"], "spa");
    assert_eq!(server.tickets("language=spa").await.len(), 1);
    assert_eq!(server.tickets("language=eng").await.len(), 1);
    let (s, b) = server.get("/api/v1/tickets?language=klingon").await;
    assert_eq!(s, 400, "{b}");
    let en = server.tickets("q=jacket").await[0].clone();
    assert!(en["team"].is_null() && en["assignee"].is_null(), "not Spanish: {en}");

    // An agent resolves it: the status rule tags it and leaves a note, once.
    let (s, _) = server.patch(&format!("/api/v1/tickets/{es}"), json!({"queue": "resolved"})).await;
    assert_eq!(s, 200);
    assert!(eventually(WAIT, || async { server.ticket(&es).await["notes"].as_array().unwrap().len() == 1 }).await);
    let view = server.ticket(&es).await;
    assert_eq!(view["ticket"]["tags"], json!(["closed", "es"]));
    assert!(view["activity"].as_array().unwrap().iter().any(|a| a["actor"] == "Rule: Done"), "{}", view["activity"]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(server.ticket(&es).await["notes"].as_array().unwrap().len(), 1, "its own change does not trigger it again");
    // Moving it to Pending is not Resolved: nothing.
    let (s, _) = server.patch(&format!("/api/v1/tickets/{}", en["id"].as_str().unwrap()), json!({"queue": "pending"})).await;
    assert_eq!(s, 200);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(server.ticket(en["id"].as_str().unwrap()).await["notes"].as_array().unwrap().is_empty());

    for (rule, want) in [
        (json!({"name": "R", "trigger": "status_changed", "actions": [{"type": "flag"}]}), "to which statuses"),
        (json!({"name": "R", "trigger": "status_changed", "conditions": {"queues": ["new"]}, "actions": [{"type": "queue", "queue": "archived"}]}), "cannot change the status"),
        (json!({"name": "R", "trigger": "new_ticket", "conditions": {"languages": ["xx"]}, "actions": [{"type": "flag"}]}), "not a language code"),
        (json!({"name": "R", "trigger": "new_ticket", "actions": [{"type": "team", "team_id": "nope"}]}), "no team `nope`"),
        (json!({"name": "R", "trigger": "new_ticket", "conditions": {"earlier_tickets": {"min": 3, "max": 1}}, "actions": [{"type": "flag"}]}), "at most `max`"),
    ] {
        let (s, b) = server.post("/api/v1/rules", rule.clone()).await;
        assert_eq!(s, 400, "{rule}: {b}");
        assert!(b["message"].as_str().unwrap().contains(want), "{rule}: {b}");
    }
}

#[tokio::test]
async fn first_contacts_and_vip_contacts_get_their_rules_and_a_past_period_is_run_once() {
    let graph = GraphEmulator::start().await.unwrap();
    let server = Server::start(&graph.facebook_channel_toml("fb", PAGE)).await;
    // Before any rule: two comments, one of them about a refund.
    assert_eq!(deliver(&graph, &server, &fb_comment_webhook(PAGE, POST, "5001_8001", ("3001", "Old"), "I want a refund for this", "add", None, false)).await, 200);
    assert_eq!(deliver(&graph, &server, &fb_comment_webhook(PAGE, POST, "5001_8002", ("3002", "Older"), "Nice tent", "add", None, false)).await, 200);
    server.wait_tickets("channel=fb", 2, WAIT).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (s, refunds) = server.post("/api/v1/rules", json!({"name": "Refunds", "trigger": "customer_message",
        "conditions": {"text": {"type": "words", "any": ["refund*"]}}, "actions": [{"type": "tag", "tag": "refund"}]})).await;
    assert_eq!(s, 201, "{refunds}");
    let (s, first) = server.post("/api/v1/rules", json!({"name": "First contact", "trigger": "new_ticket",
        "conditions": {"earlier_tickets": {"max": 0}}, "actions": [{"type": "tag", "tag": "first-contact"}]})).await;
    assert_eq!(s, 201, "{first}");
    let (s, vip) = server.post("/api/v1/rules", json!({"name": "VIP", "trigger": "customer_message",
        "conditions": {"contact_tags": ["vip"]}, "actions": [{"type": "flag"}]})).await;
    assert_eq!(s, 201, "{vip}");

    // A new person's first comment is a first contact; their comment on another post is not.
    assert_eq!(deliver(&graph, &server, &fb_comment_webhook(PAGE, POST, "5001_8003", ("3003", "Newcomer"), "Hello there", "add", None, false)).await, 200);
    let one = server.wait_tickets("q=\"Hello there\"", 1, WAIT).await[0].clone();
    assert!(eventually(WAIT, || async { server.ticket(one["id"].as_str().unwrap()).await["ticket"]["tags"] == json!(["first-contact"]) }).await);
    // Their contact is a VIP from now on.
    let (s, c) = server.patch(&format!("/api/v1/contacts/{}", one["contact_id"].as_str().unwrap()), json!({"tags": ["vip"]})).await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(deliver(&graph, &server, &fb_comment_webhook(PAGE, "1010101010_5002", "5002_8004", ("3003", "Newcomer"), "Another question", "add", None, false)).await, 200);
    let two = server.wait_tickets("q=\"Another question\"", 1, WAIT).await[0]["id"].as_str().unwrap().to_string();
    assert!(eventually(WAIT, || async { server.ticket(&two).await["ticket"]["flagged"] == true }).await, "a VIP's message is flagged");
    assert!(server.ticket(&two).await["ticket"]["tags"].as_array().unwrap().is_empty(), "not a first contact");

    // The past: a dry run lists the refund comment, nothing changes; a run tags it, once.
    let rid = refunds["id"].as_str().unwrap();
    let period = json!({"from": 0, "to": i64::MAX / 2});
    let (s, would) = server.post(format!("/api/v1/rules/{rid}/dry-run"), period.clone()).await;
    assert_eq!(s, 200, "{would}");
    assert_eq!(would.as_array().unwrap().iter().map(|w| w["text"].as_str().unwrap()).collect::<Vec<_>>(), ["I want a refund for this"]);
    let old = server.tickets("q=refund").await[0]["id"].as_str().unwrap().to_string();
    assert!(server.ticket(&old).await["ticket"]["tags"].as_array().unwrap().is_empty(), "a dry run changes nothing");
    let (s, did) = server.post(format!("/api/v1/rules/{rid}/run"), period.clone()).await;
    assert_eq!(s, 200, "{did}");
    assert_eq!((did.as_array().unwrap().len(), did[0]["error"].clone()), (1, Value::Null), "{did}");
    let view = server.ticket(&old).await;
    assert_eq!(view["ticket"]["tags"], json!(["refund"]));
    assert!(view["activity"].as_array().unwrap().iter().any(|a| a["actor"] == "Rule: Refunds"), "{}", view["activity"]);
    let (s, again) = server.post(format!("/api/v1/rules/{rid}/run"), period.clone()).await;
    assert_eq!((s, again.as_array().unwrap().len()), (200, 0), "once: {again}");
    let (s, b) = server.post(format!("/api/v1/rules/{rid}/run"), json!({"from": 10, "to": 5})).await;
    assert_eq!(s, 400, "{b}");
}

#[tokio::test]
async fn a_channel_with_its_own_business_hours_answers_outside_them_without_a_team() {
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let server = Server::start(&telegram_channel("tg", &emu, true, TOKEN)).await;
    let closed: Vec<Value> = (0..7).map(|_| json!([])).collect();
    let (s, b) = server.put("/api/v1/channels/tg/business-hours", json!({"business_hours": {"timezone": "Asia/Tokyo", "week": closed}})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(server.get("/api/v1/business-hours").await.1["tg"]["timezone"], "Asia/Tokyo");
    let (s, b) = server.put("/api/v1/channels/nope/business-hours", json!({"business_hours": null})).await;
    assert_eq!(s, 404, "{b}");
    let (s, b) = server.put("/api/v1/channels/tg/business-hours", json!({"business_hours": {"timezone": "Asia/Tokyo", "week": [[{"from": "18:00", "to": "09:00"}], [], [], [], [], [], []]}})).await;
    assert_eq!(s, 400, "{b}");
    assert!(b["message"].as_str().unwrap().contains("not a time range"), "{b}");
    let (_, saved) = server.post("/api/v1/saved-replies", json!({"title": "Closed", "text": "We are closed, back at 9.", "scope": {"type": "global"}})).await;
    let (s, r) = server.post("/api/v1/rules", json!({"name": "After hours", "trigger": "new_ticket", "conditions": {"business_hours": false},
        "actions": [{"type": "reply", "saved_replies": [saved["id"]], "private": false}]})).await;
    assert_eq!(s, 201, "{r}");
    emu.private_text(&User::new(9401, "Kei", None, None), "Hello, anyone?");
    assert!(eventually(WAIT, || async { emu.calls("sendMessage").len() == 1 }).await, "the channel's hours are closed");
    // Its hours removed: no hours known, so an outside-hours rule stays quiet.
    let (s, _) = server.put("/api/v1/channels/tg/business-hours", json!({"business_hours": null})).await;
    assert_eq!(s, 200);
    emu.private_text(&User::new(9402, "Yui", None, None), "Hi there");
    server.wait_tickets("q=there", 1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(emu.calls("sendMessage").len(), 1);
}
