//! Knowing the work, through the API: response targets make tickets due (first answer, then
//! resolution), the inbox filters and sorts by it and says when one is breaching soon; reports
//! count tickets, messages, replies, resolutions and response times by day, channel and agent,
//! as JSON and CSV, kept across a restart; the audit log says who did what, secrets left out,
//! with what a platform delete removed; messages carry a sentiment (suggested in English,
//! marked by agents) that filters and rules read; messages and replies are translated by the
//! provider an admin configured (DeepL, LibreTranslate); contacts carry the attributes admins
//! define, checked, and are linked into one person across platforms where a phone, email or
//! handle matches, reversibly; what cannot work is refused in words.

mod support;

use serde_json::{json, Value};
use std::time::Duration;
use support::*;

const WAIT: Duration = Duration::from_secs(20);

async fn reply(server: &Server, ticket: &str, text: &str) {
    let (s, r) = action(server, ticket, json!({"type": "reply", "text": text})).await;
    assert_eq!(s, 200, "{r}");
}

fn ids(tickets: &[Value]) -> Vec<&str> {
    tickets.iter().map(|t| t["id"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn a_response_target_makes_tickets_due_and_an_answer_stops_the_first_clock() {
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let server = Server::start(&telegram_channel("tg", &emu, true, TOKEN)).await;

    for (body, why) in [
        (json!({"name": "", "first_response_minutes": 5}), "name"),
        (json!({"name": "No clock"}), "a first response, next response or resolution"),
        (json!({"name": "Zero", "first_response_minutes": 0}), "1 to"),
        (json!({"name": "Teamless", "team": "nope", "first_response_minutes": 5}), "no team"),
        (json!({"name": "Elsewhere", "channels": ["nope"], "first_response_minutes": 5}), "nope"),
    ] {
        let (s, e) = server.post("/api/v1/response-targets", body).await;
        assert_eq!((s, e["code"].as_str()), (400, Some("bad_request")), "{e}");
        assert!(e["message"].as_str().unwrap().contains(why), "{e}");
    }

    // Tickets that were there before the target are stamped too.
    emu.private_text(&User::new(7001, "Early", None, None), "Where is my parcel?");
    emu.private_text(&User::new(7003, "Quiet", None, None), "Anyone?");
    let before = server.wait_tickets("channel=tg", 2, WAIT).await;
    let quiet = before.iter().find(|t| t["contact"]["name"] == "Quiet").unwrap()["id"].as_str().unwrap().to_string();
    let (s, target) = server.post("/api/v1/response-targets", json!({"name": "Chat", "channels": ["tg"], "first_response_minutes": 1, "resolution_minutes": 600})).await;
    assert_eq!(s, 201, "{target}");
    let early = before.iter().find(|t| t["contact"]["name"] == "Early").unwrap().clone();
    assert!(eventually(WAIT, || async { server.ticket(early["id"].as_str().unwrap()).await["ticket"]["due"]["clock"] == "first_response" }).await);
    let due = server.ticket(early["id"].as_str().unwrap()).await["ticket"]["due"].clone();
    assert_eq!(due["at"].as_i64().unwrap() - early["created_at"].as_i64().unwrap(), 60_000, "{due}");
    assert_eq!(due["target"], target["id"]);

    emu.private_text(&User::new(7002, "Later", None, None), "Hello?");
    let both = server.wait_tickets("channel=tg", 3, WAIT).await;
    let later = both.iter().find(|t| t["contact"]["name"] == "Later").unwrap()["id"].as_str().unwrap().to_string();
    let early = early["id"].as_str().unwrap().to_string();
    assert_eq!(ids(&server.tickets("sort=due").await)[2], later.as_str(), "the one due last, last");
    assert!(server.tickets("breach=breached").await.is_empty());

    // An agent's answer stops the first clock: only the resolution is due now.
    reply(&server, &early, "On its way!").await;
    let t = server.ticket(&early).await["ticket"].clone();
    assert_eq!(t["due"]["clock"], "resolution", "{t}");
    assert!(t["first_response_at"].as_i64().is_some());

    // The unanswered one breaches soon (the last quarter of its minute), then is breached; the
    // agents are told once, as it starts.
    let events = listen(&server).await;
    assert!(eventually(Duration::from_secs(70), || async { ids(&server.tickets("breach=soon").await).contains(&later.as_str()) }).await);
    assert!(eventually(Duration::from_secs(30), || async { ids(&server.tickets("breach=breached&sort=due").await) == [quiet.as_str(), later.as_str()] }).await,
        "the one stamped after it arrived too: {:?}", ids(&server.tickets("breach=breached").await));
    // The socket sends an event alone, or several at once under `events`.
    let events: Vec<Value> = events.lock().unwrap().iter().flat_map(|e| e["events"].as_array().cloned().unwrap_or_else(|| vec![e.clone()])).collect();
    assert_eq!(events.iter().filter(|e| e["type"] == "breach_soon" && e["ticket"]["id"] == later.as_str()).count(), 1, "{events:?}");

    let (s, e) = server.get("/api/v1/tickets?breach=sideways").await;
    assert_eq!(s, 400, "{e}");
    // Deleting the target: nothing is due any more.
    let (s, _) = call(&server, reqwest::Method::DELETE, &format!("/api/v1/response-targets/{}", target["id"].as_str().unwrap()), Some(&server.cookie), None).await;
    assert_eq!(s, 204);
    assert!(eventually(WAIT, || async { server.ticket(&later).await["ticket"]["due"].is_null() }).await);
}

#[tokio::test]
async fn reports_count_the_work_by_day_channel_and_agent_in_json_and_csv_and_survive_a_restart() {
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let channels = telegram_channel("tg", &emu, true, TOKEN);
    let server = Server::start_with(&channels, Options::disk(), None).await;
    let (_, me) = server.get("/api/v1/me").await;
    // Reports know agents by the name on their answers.
    let me = me["name"].as_str().unwrap().to_string();
    let (s, _) = server.post("/api/v1/response-targets", json!({"name": "Chat", "first_response_minutes": 60})).await;
    assert_eq!(s, 201);

    for n in 0..3 {
        emu.private_text(&User::new(7100 + n, &format!("Cust{n}"), None, None), &format!("Question {n}"));
    }
    let tickets = server.wait_tickets("channel=tg", 3, WAIT).await;
    reply(&server, tickets[0]["id"].as_str().unwrap(), "Answer 0").await;
    reply(&server, tickets[1]["id"].as_str().unwrap(), "Answer 1").await;
    let (s, _) = server.patch(&format!("/api/v1/tickets/{}", tickets[0]["id"].as_str().unwrap()), json!({"queue": "resolved"})).await;
    assert_eq!(s, 200);
    // The customer writes again: reopened.
    let again = tickets[0]["contact"]["name"].as_str().unwrap().trim_start_matches("Cust").parse::<i64>().unwrap();
    emu.private_text(&User::new(7100 + again, &format!("Cust{again}"), None, None), "One more thing");
    assert!(eventually(WAIT, || async { server.ticket(tickets[0]["id"].as_str().unwrap()).await["ticket"]["queue"] == "new" }).await);
    // Some time Available, for the agents' report.
    server.put("/api/v1/availability/me", json!({"status": "away"})).await;
    server.put("/api/v1/availability/me", json!({"status": "available"})).await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    let check = |r: &Value| {
        let total = &r["total"];
        assert_eq!((total["tickets_in"].as_u64(), total["messages_in"].as_u64(), total["replies"].as_u64()), (Some(3), Some(4), Some(2)), "{total}");
        assert_eq!((total["resolved"].as_u64(), total["reopened"].as_u64()), (Some(1), Some(1)), "{total}");
        let first = &total["first_response"];
        assert_eq!((first["count"].as_u64(), first["met"].as_u64(), first["met_percent"].as_f64()), (Some(2), Some(2), Some(100.0)), "{first}");
        assert!(first["median_ms"].as_i64().unwrap() < 60_000, "{first}");
    };
    let (s, by_day) = server.get("/api/v1/reports").await;
    assert_eq!(s, 200, "{by_day}");
    check(&by_day);
    let days = by_day["lines"].as_array().unwrap();
    assert_eq!(days.len(), 30, "the last 30 days, every one");
    assert_eq!(days.last().unwrap()["tickets_in"], 3, "all of it today");

    let (_, by_channel) = server.get("/api/v1/reports?by=channel").await;
    assert_eq!(by_channel["lines"][0]["key"], "tg");
    assert_eq!(by_channel["lines"][0]["tickets_in"], 3);
    let (_, by_agent) = server.get("/api/v1/reports?by=agent").await;
    let mine = by_agent["lines"].as_array().unwrap().iter().find(|l| l["key"] == me.as_str()).unwrap_or_else(|| panic!("{by_agent}"));
    assert_eq!((mine["replies"].as_u64(), mine["resolved"].as_u64()), (Some(2), Some(1)), "{mine}");
    assert!(mine["available_ms"].as_i64().unwrap() > 0, "{mine}");
    let (_, only_tg) = server.get("/api/v1/reports?by=week&channel=tg").await;
    assert_eq!(only_tg["total"]["tickets_in"], 3, "{only_tg}");
    let (_, other) = server.get("/api/v1/reports?channel=elsewhere").await;
    assert_eq!(other["total"]["tickets_in"], 0);

    let (s, headers, csv) = server.get_bytes("/api/v1/reports?by=channel&format=csv").await;
    assert_eq!(s, 200);
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(headers["content-disposition"].to_str().unwrap().contains(".csv"));
    let csv = String::from_utf8(csv).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("key,tickets_in,messages_in,messages_out"), "{csv}");
    assert!(lines[1].starts_with("tg,3,4,"), "{csv}");
    assert!(lines.last().unwrap().starts_with("total,3,4,"), "{csv}");

    for (query, why) in [
        ("by=year", "`by`"),
        ("from=2026-12-10&to=2026-12-01", "days"),
        ("from=2020-01-01&to=2026-01-01", "days"),
        ("from=yesterday", "YYYY-MM-DD"),
        ("channel=tg&tag=vip", "one"),
        ("by=channel&tag=vip", "filter only by day"),
        ("kind=bogus", "unknown kind"),
        ("format=pdf", "json or csv"),
        ("color=red", "color"),
    ] {
        let (s, e) = server.get(&format!("/api/v1/reports?{query}")).await;
        assert_eq!((s, e["code"].as_str()), (400, Some("bad_request")), "{query}: {e}");
        assert!(e["message"].as_str().unwrap().contains(why), "{query}: {e}");
    }
    let (s, e) = server.put("/api/v1/reports/settings", json!({"time_zone": "Mars/Olympus"})).await;
    assert_eq!(s, 400, "{e}");
    let (s, set) = server.put("/api/v1/reports/settings", json!({"time_zone": "Europe/Berlin"})).await;
    assert_eq!((s, set["time_zone"].as_str()), (200, Some("Europe/Berlin")));

    // Kept with the work: the same after a restart.
    let data = server.kill().await;
    let server = Server::start_with(&channels, Options::disk(), Some(data)).await;
    let (_, again) = server.get("/api/v1/reports?by=channel").await;
    check(&again);
    assert_eq!(again["time_zone"], "Europe/Berlin");
}

#[tokio::test]
async fn the_audit_log_says_who_did_what_without_secrets_and_keeps_what_a_delete_removed() {
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let server = Server::start(&telegram_channel("tg", &emu, true, TOKEN)).await;
    let (_, me) = server.get("/api/v1/me").await;
    let me_name = me["name"].as_str().unwrap().to_string();

    // A wrong password, then a teammate made with one.
    let (s, _) = call(&server, reqwest::Method::POST, "/api/v1/session", None, Some(json!({"email": "nobody@team.example", "password": "guess-guess-guess"}))).await;
    assert_eq!(s, 401);
    let (s, u) = server.post("/api/v1/users", json!({"email": "rae@team.example", "name": "Rae", "role": "agent", "password": "rae-secret-password"})).await;
    assert_eq!(s, 201, "{u}");
    let (s, _) = server.put("/api/v1/channels/tg/secrets", json!({"secrets": {"bot_token": "999:SECRET-never-logged"}})).await;
    assert!(s < 500, "{s}");
    let (s, rule) = server.post("/api/v1/rules", json!({"name": "Tag refunds", "trigger": "customer_message", "conditions": {"text": {"type": "words", "any": ["refund"]}}, "actions": [{"type": "tag", "tag": "refund"}]})).await;
    assert_eq!(s, 201, "{rule}");

    // A customer's spam in a group, deleted: Telegram cannot bring it back, the log keeps it.
    emu.group_text(-1001, "Acme Fans", &User::new(7300, "Spammer", None, None), "BUY CHEAP FOLLOWERS at spam.example");
    let group = server.wait_tickets("kind=group_message", 1, WAIT).await[0]["id"].as_str().unwrap().to_string();
    let (s, b) = action(&server, &group, json!({"type": "delete"})).await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = action(&server, &group, json!({"type": "delete"})).await;
    assert_eq!(s, 502, "the platform refuses a second time: {b}");

    let (s, log) = server.get("/api/v1/audit").await;
    assert_eq!(s, 200, "{log}");
    let entries = log.as_array().unwrap();
    let of = |kind: &str| entries.iter().filter(|e| e["kind"] == kind).collect::<Vec<_>>();
    assert!(of("sign_in_failed").iter().any(|e| e["actor"] == "nobody@team.example" && e["ok"] == false), "{log}");
    let user = of("user");
    assert!(user.iter().any(|e| e["actor"] == me_name.as_str() && e["detail"].as_str().unwrap().contains("rae@team.example")), "{log}");
    let text = log.to_string();
    assert!(!text.contains("rae-secret-password") && !text.contains("SECRET-never-logged") && !text.contains("guess-guess-guess"), "no password or secret: {text}");
    assert!(of("channel").iter().any(|e| e["target"] == "tg" && e["detail"].as_str().unwrap().contains("bot_token")), "{log}");
    assert!(of("rule").iter().any(|e| e["detail"].as_str().unwrap().contains("Tag refunds") && e["status"] == 201), "{log}");
    let deletes: Vec<_> = of("platform_action").into_iter().filter(|e| e["action"] == "delete").collect();
    assert_eq!(deletes.len(), 2, "{log}");
    assert!(deletes.iter().all(|e| e["actor"] == me_name.as_str() && e["target"] == group.as_str()));
    assert!(deletes.iter().any(|e| e["ok"] == true && e["content"] == "BUY CHEAP FOLLOWERS at spam.example"), "{deletes:?}");
    assert!(deletes.iter().any(|e| e["ok"] == false), "the refusal too");
    // Newest first; filters; CSV.
    let ats: Vec<i64> = entries.iter().map(|e| e["at"].as_i64().unwrap()).collect();
    assert!(ats.windows(2).all(|w| w[0] >= w[1]), "{ats:?}");
    let (_, only) = server.get("/api/v1/audit?kind=sign_in_failed").await;
    assert!(only.as_array().unwrap().iter().all(|e| e["kind"] == "sign_in_failed") && !only.as_array().unwrap().is_empty());
    let (_, by) = server.get("/api/v1/audit?actor=NOBODY").await;
    assert_eq!(by.as_array().unwrap().len(), 1, "{by}");
    let (s, headers, csv) = server.get_bytes("/api/v1/audit?format=csv").await;
    assert_eq!(s, 200);
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.starts_with("at,actor,kind,action,target,status,ok,detail,content"), "{csv}");
    assert!(csv.contains("BUY CHEAP FOLLOWERS"), "{csv}");

    for (query, why) in [("kind=everything", "unknown kind"), ("limit=0", "limit"), ("format=xml", "json or csv")] {
        let (s, e) = server.get(&format!("/api/v1/audit?{query}")).await;
        assert_eq!((s, e["code"].as_str()), (400, Some("bad_request")), "{query}: {e}");
        assert!(e["message"].as_str().unwrap().contains(why), "{query}: {e}");
    }
    let (s, e) = server.put("/api/v1/audit/settings", json!({"retention_days": 0})).await;
    assert_eq!(s, 400, "{e}");
    let (s, set) = server.put("/api/v1/audit/settings", json!({"retention_days": 30})).await;
    assert_eq!((s, set["retention_days"].as_u64()), (200, Some(30)));
    // Agents cannot read it.
    let rae = helpdesk_testkit::server::sign_in(&reqwest::Client::new(), &server.base, "rae@team.example", "rae-secret-password").await;
    let (s, _) = call(&server, reqwest::Method::GET, "/api/v1/audit", Some(&rae), None).await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn english_messages_get_a_suggested_sentiment_agents_mark_any_and_filters_and_rules_read_it() {
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let server = Server::start(&telegram_channel("tg", &emu, true, TOKEN)).await;
    let (s, r) = server.post("/api/v1/rules", json!({"name": "Upset", "trigger": "customer_message", "conditions": {"sentiments": ["negative"]}, "actions": [{"type": "tag", "tag": "upset"}]})).await;
    assert_eq!(s, 201, "{r}");

    emu.private_text(&User::new(7400, "Angry", None, None), "This is the worst service ever, my parcel arrived broken");
    emu.private_text(&User::new(7401, "Hans", None, None), "Wann öffnet der Laden am Sonntag? Ich brauche eine andere Größe");
    let tickets = server.wait_tickets("channel=tg", 2, WAIT).await;
    let angry = tickets.iter().find(|t| t["contact"]["name"] == "Angry").unwrap()["id"].as_str().unwrap().to_string();
    let hans = tickets.iter().find(|t| t["contact"]["name"] == "Hans").unwrap()["id"].as_str().unwrap().to_string();
    let view = server.ticket(&angry).await;
    assert_eq!((view["ticket"]["sentiment"].as_str(), view["ticket"]["sentiment_marked"].as_bool()), (Some("negative"), Some(false)), "{}", view["ticket"]);
    assert_eq!(view["messages"][0]["sentiment"], "negative");
    assert!(eventually(WAIT, || async { server.ticket(&angry).await["ticket"]["tags"] == json!(["upset"]) }).await, "the rule read it");
    let german = server.ticket(&hans).await;
    assert!(german["ticket"]["sentiment"].is_null() && german["messages"][0]["sentiment"].is_null(), "no suggestion in German: {german}");
    assert_eq!(ids(&server.tickets("sentiment=negative").await), [angry.as_str()]);

    // An agent reads the German message as positive: the message and its ticket say so.
    let message = german["messages"][0]["id"].as_str().unwrap();
    let (s, m) = server.put(&format!("/api/v1/messages/{message}/sentiment"), json!({"sentiment": "positive"})).await;
    assert_eq!((s, m["sentiment"].as_str(), m["sentiment_marked"].as_bool()), (200, Some("positive"), Some(true)), "{m}");
    assert!(eventually(WAIT, || async { ids(&server.tickets("sentiment=positive").await) == [hans.as_str()] }).await);
    // The ticket's own mark wins over its messages'.
    let (s, t) = server.patch(&format!("/api/v1/tickets/{angry}"), json!({"sentiment": "neutral"})).await;
    assert_eq!((s, t["sentiment"].as_str(), t["sentiment_marked"].as_bool()), (200, Some("neutral"), Some(true)), "{t}");
    emu.private_text(&User::new(7400, "Angry", None, None), "Terrible, still broken and nobody cares");
    assert!(eventually(WAIT, || async { server.ticket(&angry).await["messages"].as_array().unwrap().len() == 2 }).await);
    assert_eq!(server.ticket(&angry).await["ticket"]["sentiment"], "neutral", "the agent's mark stays");
    let history = server.ticket(&angry).await["activity"].clone();
    assert!(history.as_array().unwrap().iter().any(|a| a["what"] == "sentiment:neutral"), "{history}");

    let (s, e) = server.get("/api/v1/tickets?sentiment=furious").await;
    assert_eq!(s, 400, "{e}");
    assert!(e["message"].as_str().unwrap().contains("positive, neutral or negative"), "{e}");
    let (s, e) = server.put(&format!("/api/v1/messages/{message}/sentiment"), json!({"sentiment": "furious"})).await;
    assert_eq!(s, 400, "{e}");
    let (s, e) = server.put("/api/v1/messages/nope/sentiment", json!({"sentiment": "positive"})).await;
    assert_eq!(s, 404, "{e}");
    reply(&server, &hans, "Sonntags ab 10 Uhr!").await;
    let ours = server.ticket(&hans).await["messages"].as_array().unwrap().iter().find(|m| m["direction"] == "outbound").unwrap()["id"].as_str().unwrap().to_string();
    let (s, e) = server.put(&format!("/api/v1/messages/{ours}/sentiment"), json!({"sentiment": "positive"})).await;
    assert_eq!((s, e["code"].as_str()), (400, Some("bad_request")), "{e}");
}

#[tokio::test]
async fn messages_and_replies_are_translated_by_the_configured_provider_once_and_its_key_is_never_shown() {
    use helpdesk_testkit::translate::TranslateEmulator;
    const KEY: &str = "deepl-key-0123:fx";
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let provider = TranslateEmulator::start(KEY).await.unwrap();
    let opts = Options { secret_key: Some("9c".repeat(32)), ..Options::memory() };
    let server = Server::start_with(&telegram_channel("tg", &emu, true, TOKEN), opts, None).await;
    emu.private_text(&User::new(7500, "Hans", None, None), "Wann öffnet der Laden am Sonntag?");
    let ticket = server.wait_tickets("channel=tg", 1, WAIT).await[0]["id"].as_str().unwrap().to_string();
    let message = server.ticket(&ticket).await["messages"][0]["id"].as_str().unwrap().to_string();

    let (s, e) = server.post(&format!("/api/v1/messages/{message}/translate"), json!({})).await;
    assert_eq!((s, e["code"].as_str()), (409, Some("translation_not_configured")), "{e}");
    for (body, why) in [
        (json!({"provider": "deepl", "url": "not a url"}), "not a URL"),
        (json!({"provider": "deepl", "url": provider.url()}), "needs an API key"),
        (json!({"provider": "deepl", "url": provider.url(), "api_key": KEY, "timeout_seconds": 0}), "timeout_seconds"),
        (json!({"provider": "babelfish", "url": provider.url()}), "provider"),
    ] {
        let (s, e) = server.put("/api/v1/translation/settings", body).await;
        assert_eq!(s, 400, "{e}");
        assert!(e["message"].as_str().unwrap().contains(why), "{e}");
    }
    let (s, set) = server.put("/api/v1/translation/settings", json!({"provider": "deepl", "url": provider.url(), "api_key": KEY})).await;
    assert_eq!((s, set["api_key_set"].as_bool()), (200, Some(true)), "{set}");
    let (_, shown) = server.get("/api/v1/translation/settings").await;
    assert!(!shown.to_string().contains(KEY), "the key is never shown: {shown}");

    // Into the agent's language (English unless they chose another), kept with the message.
    let (s, m) = server.post(&format!("/api/v1/messages/{message}/translate"), json!({})).await;
    assert_eq!(s, 200, "{m}");
    assert_eq!((m["translations"][0]["language"].as_str(), m["translations"][0]["text"].as_str()), (Some("eng"), Some("When does the shop open on Sunday?")), "{m}");
    assert_eq!((m["translations"][0]["detected"].as_str(), m["translations"][0]["provider"].as_str()), (Some("deu"), Some("deepl")));
    let (s, _) = server.post(&format!("/api/v1/messages/{message}/translate"), json!({})).await;
    assert_eq!(s, 200);
    assert_eq!(provider.calls().len(), 1, "asked once: the second came from the message");
    assert_eq!(server.ticket(&ticket).await["messages"][0]["translations"][0]["text"], "When does the shop open on Sunday?", "every agent sees it");
    let (s, prefs) = server.put("/api/v1/me/translation", json!({"language": "spa", "auto": true})).await;
    assert_eq!((s, prefs["language"].as_str()), (200, Some("spa")));
    let (s, m) = server.post(&format!("/api/v1/messages/{message}/translate"), json!({})).await;
    assert_eq!((s, m["translations"].as_array().unwrap().len()), (200, 2), "now into Spanish too: {m}");

    // A reply in the customer's language, by LibreTranslate this time.
    let (s, _) = server.put("/api/v1/translation/settings", json!({"provider": "libretranslate", "url": provider.url()})).await;
    assert_eq!(s, 200, "the stored key stays");
    let (s, t) = server.post("/api/v1/translate", json!({"text": "We open at 10 on Sundays.", "to": "deu"})).await;
    assert_eq!((s, t["text"].as_str(), t["provider"].as_str()), (200, Some("Sonntags öffnen wir um 10."), Some("libretranslate")), "{t}");

    // A wrong key: refused in words, the key not in them.
    let (s, _) = server.put("/api/v1/translation/settings", json!({"provider": "deepl", "url": provider.url(), "api_key": "wrong-key-xyz"})).await;
    assert_eq!(s, 200);
    let (s, e) = server.post("/api/v1/translate", json!({"text": "Hello there", "to": "deu"})).await;
    assert_eq!((s, e["code"].as_str()), (502, Some("translation_failed")), "{e}");
    assert!(e["message"].as_str().unwrap().contains("not accepted") && !e.to_string().contains("wrong-key-xyz"), "{e}");
    for (body, why) in [(json!({"text": "", "to": "deu"}), "1 to 5,000"), (json!({"text": "Hi", "to": "klingon"}), "not a language")] {
        let (s, e) = server.post("/api/v1/translate", body).await;
        assert_eq!(s, 400, "{e}");
        assert!(e["message"].as_str().unwrap().contains(why), "{e}");
    }
    let (s, e) = server.put("/api/v1/me/translation", json!({"language": "xx"})).await;
    assert_eq!(s, 400, "{e}");
    // Nowhere else: the provider's URL is the only place asked (an unreachable one fails in words).
    let (s, _) = server.put("/api/v1/translation/settings", json!({"provider": "libretranslate", "url": format!("http://127.0.0.1:{}", free_port()), "api_key": KEY})).await;
    assert_eq!(s, 200);
    let (s, e) = server.post("/api/v1/translate", json!({"text": "Hello there", "to": "deu"})).await;
    assert_eq!((s, e["code"].as_str()), (502, Some("translation_failed")), "{e}");
    assert!(e["message"].as_str().unwrap().contains("cannot be reached"), "{e}");
}

#[tokio::test]
async fn contacts_keep_checked_attributes_and_link_across_platforms_into_one_person_reversibly() {
    use helpdesk_testkit::graph::{whatsapp_text, GraphEmulator};
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let graph = GraphEmulator::start().await.unwrap();
    let server = Server::start(&[graph.whatsapp_channel_toml("wa", "1122334455667"), telegram_channel("tg", &emu, true, TOKEN)].concat()).await;
    let delete = |path: String| {
        let server = &server;
        async move { call(server, reqwest::Method::DELETE, &path, Some(&server.cookie), None).await }
    };

    for (defs, why) in [
        (json!([{"key": "Plan", "label": "Plan", "kind": "text"}]), "lowercase"),
        (json!([{"key": "plan", "label": "Plan", "kind": "text"}, {"key": "plan", "label": "Again", "kind": "text"}]), "twice"),
        (json!([{"key": "plan", "label": "Plan", "kind": "list", "options": []}]), "choices"),
        (json!([{"key": "no", "label": "Number", "kind": "number", "pattern": "[0-9]+"}]), "only a text"),
        (json!([{"key": "no", "label": "Number", "kind": "text", "pattern": "(["}]), "regular expression"),
        (json!([{"key": "no", "label": "", "kind": "text"}]), "label"),
        (json!([{"key": "no", "label": "No", "kind": "colour"}]), "colour"),
    ] {
        let (s, e) = server.put("/api/v1/contact-attributes", json!({"attributes": defs})).await;
        assert_eq!((s, e["code"].as_str()), (400, Some("bad_request")), "{e}");
        assert!(e["message"].as_str().unwrap().contains(why), "{why}: {e}");
    }
    let defs = json!([
        {"key": "customer_no", "label": "Customer number", "kind": "text", "required": true, "pattern": "C-[0-9]{6}"},
        {"key": "plan", "label": "Plan", "kind": "list", "options": ["Gold", "Silver"]},
        {"key": "phone", "label": "Phone", "kind": "phone"},
        {"key": "birthday", "label": "Birthday", "kind": "date"},
        {"key": "vip", "label": "VIP", "kind": "checkbox"},
        {"key": "orders", "label": "Orders", "kind": "number"},
        {"key": "site", "label": "Website", "kind": "link"},
        {"key": "legacy_id", "label": "Legacy id", "kind": "text", "required": true, "shown": false},
    ]);
    let (s, saved) = server.put("/api/v1/contact-attributes", json!({"attributes": defs})).await;
    assert_eq!(s, 200, "{saved}");
    assert_eq!(server.get("/api/v1/contact-attributes").await.1["attributes"], saved["attributes"]);

    // Ann writes on WhatsApp from her number and on Telegram under her handle.
    graph.deliver(&server.url("/webhooks/wa"), &serde_json::to_vec(&whatsapp_text("1122334455667", "4915112345678", "Ann", "wamid.ANN1", "Hi from WhatsApp")).unwrap(), None).await;
    emu.private_text(&User::new(8101, "Ann", Some("B"), Some("ann_b")), "Hi from Telegram");
    let both = server.wait_tickets("queue=all", 2, WAIT).await;
    let wa_ticket = by_text(&both, "WhatsApp")["id"].as_str().unwrap().to_string();
    let tg_ticket = by_text(&both, "Telegram")["id"].as_str().unwrap().to_string();
    let wa = by_text(&both, "WhatsApp")["contact_id"].as_str().unwrap().to_string();
    let tg = by_text(&both, "Telegram")["contact_id"].as_str().unwrap().to_string();
    assert_eq!(server.get("/api/v1/contacts/nobody").await.0, 404);
    let page = server.get(&format!("/api/v1/contacts/{tg}")).await.1;
    assert_eq!(page["contact"]["match_keys"], json!(["handle:ann_b"]), "{page}");
    assert_eq!(page["suggestions"], json!([]), "a handle and a number do not match");

    let attrs = format!("/api/v1/contacts/{tg}/attributes");
    for (change, why) in [
        (json!({"plan": "Gold"}), "Customer number is required"),
        (json!({"customer_no": "X-1"}), "does not match"),
        (json!({"customer_no": "C-123456", "phone": "0151 12345678"}), "international"),
        (json!({"customer_no": "C-123456", "plan": "Platinum"}), "Gold, Silver"),
        (json!({"customer_no": "C-123456", "birthday": "03/02/1990"}), "YYYY-MM-DD"),
        (json!({"customer_no": "C-123456", "vip": "yes"}), "true or false"),
        (json!({"customer_no": "C-123456", "orders": "many"}), "number"),
        (json!({"customer_no": "C-123456", "site": "javascript:alert(1)"}), "http"),
        (json!({"customer_no": "C-123456", "shoe_size": "42"}), "shoe_size"),
    ] {
        let (s, e) = server.put(&attrs, json!({"attributes": change})).await;
        assert_eq!((s, e["code"].as_str()), (400, Some("bad_request")), "{change}: {e}");
        assert!(e["message"].as_str().unwrap().contains(why), "{why}: {e}");
    }
    assert_eq!(server.get(&format!("/api/v1/contacts/{tg}")).await.1["attributes"], json!({}), "nothing refused was kept");
    let (s, page) = server
        .put(&attrs, json!({"attributes": {"customer_no": "C-123456", "plan": "Gold", "phone": "+49 151 12345678", "birthday": "1990-02-03", "vip": true, "orders": "3"}}))
        .await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(page["attributes"], json!({"customer_no": "C-123456", "plan": "Gold", "phone": "+4915112345678", "birthday": "1990-02-03", "vip": true, "orders": 3.0}));

    // Her phone number, now known on Telegram, is her WhatsApp id: each suggests the other.
    let wa_page = server.get(&format!("/api/v1/contacts/{wa}")).await.1;
    assert_eq!(wa_page["suggestions"].as_array().unwrap().len(), 1, "{wa_page}");
    assert_eq!(wa_page["suggestions"][0]["contact"]["id"], tg.as_str());
    assert_eq!(wa_page["suggestions"][0]["matched"], json!(["phone:4915112345678"]));
    assert_eq!(server.get(&format!("/api/v1/tickets?person={wa}&queue=all")).await.1["tickets"].as_array().unwrap().len(), 1);

    let links = format!("/api/v1/contacts/{wa}/links");
    assert_eq!(server.post(&links, json!({"contact": wa})).await.0, 400, "not to itself");
    assert_eq!(server.post(&links, json!({"contact": "nobody"})).await.0, 404);
    let (s, merge) = server.post(&links, json!({"contact": tg})).await;
    assert_eq!(s, 201, "{merge}");
    assert_eq!(merge["matched"], json!(["phone:4915112345678"]));
    let (s, again) = server.post(&format!("/api/v1/contacts/{tg}/links"), json!({"contact": wa})).await;
    assert_eq!((s, again["code"].as_str()), (409, Some("conflict")), "{again}");

    // One person: both contacts, her attributes and both tickets, from either side.
    for side in [&wa, &tg] {
        let page = server.get(&format!("/api/v1/contacts/{side}")).await.1;
        assert_eq!(page["contacts"].as_array().unwrap().len(), 2, "{page}");
        assert_eq!(page["contact"]["id"], side.as_str());
        assert_eq!(page["attributes"]["customer_no"], "C-123456");
        assert_eq!(page["suggestions"], json!([]), "no longer a suggestion: the same person");
        let mut tickets = ids(&server.get(&format!("/api/v1/tickets?person={side}&queue=all")).await.1["tickets"].as_array().unwrap().clone()).into_iter().map(str::to_string).collect::<Vec<_>>();
        tickets.sort();
        let mut want = vec![wa_ticket.clone(), tg_ticket.clone()];
        want.sort();
        assert_eq!(tickets, want);
    }
    // A note written on one side is the person's; a newer value written there wins.
    let (s, note) = server.post(format!("/api/v1/contacts/{wa}/notes"), json!({"text": "Prefers WhatsApp in the evening"})).await;
    assert_eq!(s, 201, "{note}");
    assert_eq!(server.post(format!("/api/v1/contacts/{wa}/notes"), json!({"text": "  "})).await.0, 400);
    assert_eq!(server.get(&format!("/api/v1/contacts/{tg}")).await.1["notes"][0]["text"], "Prefers WhatsApp in the evening");
    let (s, page) = server.put(&format!("/api/v1/contacts/{wa}/attributes"), json!({"attributes": {"plan": "Silver"}})).await;
    assert_eq!((s, page["attributes"]["plan"].as_str()), (200, Some("Silver")), "{page}");
    assert_eq!(server.get(&format!("/api/v1/contacts/{tg}")).await.1["attributes"]["plan"], "Silver");

    // Undone: each stands alone again with what was written on it; the history says so.
    let (s, undone) = server.post(format!("/api/v1/contact-merges/{}/undo", merge["id"].as_str().unwrap()), json!({})).await;
    assert_eq!(s, 200, "{undone}");
    let me = server.get("/api/v1/me").await.1["name"].clone();
    assert_eq!(undone["undone_by"], me);
    assert_eq!(server.post(format!("/api/v1/contact-merges/{}/undo", merge["id"].as_str().unwrap()), json!({})).await.0, 409);
    let tg_page = server.get(&format!("/api/v1/contacts/{tg}")).await.1;
    assert_eq!((tg_page["contacts"].as_array().unwrap().len(), &tg_page["contact"]["person"]), (1, &Value::Null), "{tg_page}");
    assert_eq!(tg_page["attributes"]["plan"], "Gold", "Silver was written on the WhatsApp contact");
    assert_eq!(tg_page["merges"][0]["undone_by"], me);
    assert_eq!(tg_page["merges"][0]["linked_name"], "Ann B");
    assert_eq!(server.get(&format!("/api/v1/tickets?person={wa}&queue=all")).await.1["tickets"].as_array().unwrap().len(), 1);
    assert_eq!(tg_page["suggestions"][0]["contact"]["id"], wa.as_str(), "suggested again");

    // Linked again, then unlinked from the other side.
    assert_eq!(server.post(&format!("/api/v1/contacts/{tg}/links"), json!({"contact": wa})).await.0, 201);
    let (s, alone) = delete(format!("/api/v1/contacts/{tg}/person")).await;
    assert_eq!((s, &alone["person"]), (200, &Value::Null), "{alone}");
    assert_eq!(server.get(&format!("/api/v1/contacts/{wa}")).await.1["contact"]["person"], Value::Null, "the one left is alone too");
    assert_eq!(delete(format!("/api/v1/contacts/{tg}/person")).await.0, 409);
    let note_id = note["id"].as_str().unwrap();
    assert_eq!(delete(format!("/api/v1/contacts/{wa}/notes/{note_id}")).await.0, 204);
    assert_eq!(server.get(&format!("/api/v1/contacts/{wa}")).await.1["notes"], json!([]));

    let audit = server.get("/api/v1/audit?kind=contact").await.1;
    assert!(audit.as_array().unwrap().len() >= 4, "links, undo and unlink are audited: {audit}");
}
