//! The queue that assigns, through the API with several agents: a team's waiting tickets go
//! to its Available members in turn up to their capacity; resolving frees room at once; going
//! Away gives back what was not answered and coming back takes work again; many tickets at once
//! land on exactly one agent each; settings that cannot work are refused in words. Saved
//! replies are one's own, a team's or everyone's, and checked when saved; their files go with
//! the reply where the channel takes them and are refused in words where it does not.

mod support;

use serde_json::{json, Value};
use std::time::Duration;
use support::*;

const WAIT: Duration = Duration::from_secs(20);

/// Another person signed in: their requests with their session.
struct As {
    http: reqwest::Client,
    base: String,
    cookie: String,
}

impl As {
    async fn sign_in(server: &Server, email: &str) -> As {
        let http = reqwest::Client::new();
        let cookie = helpdesk_testkit::server::sign_in(&http, &server.base, email, "agent-password").await;
        As { http, base: server.base.clone(), cookie }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut r = self.http.request(method, format!("{}{path}", self.base)).header("cookie", &self.cookie);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let r = r.send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self.http.put(format!("{}{path}", self.base)).header("cookie", &self.cookie).json(&body).send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }
}

async fn agent(server: &Server, email: &str, name: &str) -> String {
    let (s, u) = server.post("/api/v1/users", json!({"email": email, "name": name, "role": "agent", "password": "agent-password"})).await;
    assert_eq!(s, 201, "{u}");
    u["id"].as_str().unwrap().to_string()
}

/// Who holds each of the channel's open tickets.
async fn holders(server: &Server) -> Vec<(String, Option<String>)> {
    server.tickets("channel=tg&queue=open&limit=200").await.iter().map(|t| (t["id"].as_str().unwrap().to_string(), t["assignee"].as_str().map(str::to_string))).collect()
}

async fn held_by(server: &Server, who: &str) -> usize {
    holders(server).await.iter().filter(|(_, a)| a.as_deref() == Some(who)).count()
}

#[tokio::test]
async fn waiting_tickets_go_to_available_agents_in_turn_and_the_backlog_drains() {
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let server = Server::start(&telegram_channel("tg", &emu, true, TOKEN)).await;
    let ann = agent(&server, "ann@team.example", "Ann").await;
    let bob = agent(&server, "bob@team.example", "Bob").await;
    let (s, team) = server
        .post("/api/v1/teams", json!({"name": "Support", "members": [ann, bob], "channels": ["tg"], "auto_assign": true, "capacity": 2, "return_when_away": true}))
        .await;
    assert_eq!(s, 201, "{team}");

    for n in 0..5 {
        emu.private_text(&User::new(8100 + n, &format!("Cust{n}"), None, None), &format!("Hello, order {n} is late"));
    }
    server.wait_tickets("channel=tg", 5, WAIT).await;
    assert!(eventually(WAIT, || async { held_by(&server, &ann).await == 2 && held_by(&server, &bob).await == 2 }).await, "{:?}", holders(&server).await);
    let waiting: Vec<String> = holders(&server).await.into_iter().filter(|(_, a)| a.is_none()).map(|(t, _)| t).collect();
    assert_eq!(waiting.len(), 1, "the fifth waits: both are full");
    // The history says who assigned it.
    let mine = server.tickets(&format!("assignee={ann}")).await;
    let view = server.ticket(mine[0]["id"].as_str().unwrap()).await;
    assert!(view["activity"].as_array().unwrap().iter().any(|a| a["actor"] == "Auto-assignment" && a["what"] == format!("assignee:{ann}")), "{}", view["activity"]);
    assert_eq!(mine[0]["auto_assigned"], true);

    // Ann resolves one: the waiting ticket is hers at once.
    let (s, _) = server.patch(&format!("/api/v1/tickets/{}", mine[0]["id"].as_str().unwrap()), json!({"queue": "resolved"})).await;
    assert_eq!(s, 200);
    assert!(eventually(WAIT, || async { holders(&server).await.iter().any(|(t, a)| *t == waiting[0] && a.as_deref() == Some(ann.as_str())) }).await);

    // Bob goes away: his unanswered tickets go back; nobody has room, so they wait.
    let bob_s = As::sign_in(&server, "bob@team.example").await;
    let (s, a) = bob_s.put("/api/v1/availability/me", json!({"status": "away"})).await;
    assert_eq!((s, a["status"].as_str()), (200, Some("away")), "{a}");
    assert!(eventually(WAIT, || async { held_by(&server, &bob).await == 0 }).await, "{:?}", holders(&server).await);
    assert_eq!(holders(&server).await.iter().filter(|(_, a)| a.is_none()).count(), 2);
    let (_, list) = server.get("/api/v1/availability").await;
    assert!(list["people"].as_array().unwrap().iter().any(|p| p["user_id"] == bob.as_str() && p["status"] == "away"), "teammates see it: {list}");
    // Back: he takes the waiting work again.
    let (s, _) = bob_s.put("/api/v1/availability/me", json!({"status": "available"})).await;
    assert_eq!(s, 200);
    assert!(eventually(WAIT, || async { held_by(&server, &bob).await == 2 }).await, "{:?}", holders(&server).await);

    // Assigned by hand, a ticket says so.
    let t = holders(&server).await.into_iter().find(|(_, a)| a.as_deref() == Some(bob.as_str())).unwrap().0;
    let (s, patched) = server.patch(&format!("/api/v1/tickets/{t}"), json!({"assignee": ann})).await;
    assert_eq!((s, patched["auto_assigned"].as_bool()), (200, Some(false)), "{patched}");
}

#[tokio::test]
async fn many_tickets_at_once_each_go_to_exactly_one_agent_evenly() {
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let server = Server::start(&telegram_channel("tg", &emu, true, TOKEN)).await;
    let mut agents = Vec::new();
    for (e, n) in [("a@x.example", "A"), ("b@x.example", "B"), ("c@x.example", "C")] {
        agents.push(agent(&server, e, n).await);
    }
    let (s, _) = server.post("/api/v1/teams", json!({"name": "All", "members": agents, "channels": ["tg"], "auto_assign": true, "capacity": 10})).await;
    assert_eq!(s, 201);
    for n in 0..21 {
        emu.private_text(&User::new(9100 + n, &format!("P{n}"), None, None), "Hi there");
    }
    server.wait_tickets("channel=tg", 21, WAIT).await;
    assert!(eventually(WAIT, || async { holders(&server).await.iter().all(|(_, a)| a.is_some()) }).await, "{:?}", holders(&server).await);
    let mut counts: Vec<usize> = Vec::new();
    for a in &agents {
        counts.push(held_by(&server, a).await);
    }
    assert_eq!(counts, [7, 7, 7], "fair, and each ticket once");
}

#[tokio::test]
async fn settings_that_cannot_work_are_refused_in_words() {
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let server = Server::start(&telegram_channel("tg", &emu, true, TOKEN)).await;
    let ann = agent(&server, "ann@team.example", "Ann").await;
    for (body, want) in [
        (json!({"name": "X", "members": ["nobody"]}), "no user `nobody`"),
        (json!({"name": "X", "channels": ["nope"]}), "no channel `nope`"),
        (json!({"name": "X", "capacity": 0}), "capacity is 1 to"),
        (json!({"name": "X", "capacity": 3, "conversation_capacity": 4}), "conversation_capacity is 1 to the capacity"),
        (json!({"name": ""}), "1 to 60 characters"),
        (json!({"name": "X", "colour": "red"}), "unknown field"),
    ] {
        let (s, b) = server.post("/api/v1/teams", body.clone()).await;
        assert_eq!(s, 400, "{body}: {b}");
        assert!(b["message"].as_str().unwrap().contains(want), "{body}: {b}");
    }
    let (s, _) = server.post("/api/v1/teams", json!({"name": "One", "members": [ann], "channels": ["tg"]})).await;
    assert_eq!(s, 201);
    let (s, b) = server.post("/api/v1/teams", json!({"name": "Two", "channels": ["tg"]})).await;
    assert_eq!(s, 409, "a channel routes to one team: {b}");
    // Away statuses are the admin's: an unknown one is refused, a defined one counts as away.
    let ann_s = As::sign_in(&server, "ann@team.example").await;
    let (s, b) = ann_s.put("/api/v1/availability/me", json!({"status": "Lunch"})).await;
    assert_eq!(s, 400, "{b}");
    let (s, b) = ann_s.put("/api/v1/availability/settings", json!({"statuses": ["Lunch"]})).await;
    assert_eq!(s, 403, "only admins: {b}");
    let (s, _) = server.put("/api/v1/availability/settings", json!({"statuses": ["Lunch", "Training"], "idle_minutes": 15})).await;
    assert_eq!(s, 200);
    let (s, b) = ann_s.put("/api/v1/availability/me", json!({"status": "Lunch"})).await;
    assert_eq!((s, b["status"].as_str()), (200, Some("Lunch")), "{b}");
    let (s, b) = server.put("/api/v1/availability/settings", json!({"statuses": ["away"]})).await;
    assert_eq!(s, 400, "{b}");
}

#[tokio::test]
async fn saved_replies_are_ones_own_a_teams_or_everyones_and_checked_when_saved() {
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let server = Server::start(&telegram_channel("tg", &emu, true, TOKEN)).await;
    let ann = agent(&server, "ann@team.example", "Ann").await;
    agent(&server, "bob@team.example", "Bob").await;
    let (_, team) = server.post("/api/v1/teams", json!({"name": "Billing", "members": [ann]})).await;
    let (ann_s, bob_s) = (As::sign_in(&server, "ann@team.example").await, As::sign_in(&server, "bob@team.example").await);
    use reqwest::Method;
    let (s, mine) = ann_s.send(Method::POST, "/api/v1/saved-replies", Some(json!({"title": "Hello", "text": "Hi {{contact.first_name}}, {{agent.first_name}} here"}))).await;
    assert_eq!(s, 201, "{mine}");
    assert_eq!(mine["variables"], json!(["contact.first_name", "agent.first_name"]));
    let (s, b) = ann_s.send(Method::POST, "/api/v1/saved-replies", Some(json!({"title": "Bad", "text": "Hi {{contact.nick}}"}))).await;
    assert_eq!(s, 400);
    assert!(b["message"].as_str().unwrap().contains("unknown variable `{{contact.nick}}`"), "{b}");
    let (s, _) = ann_s.send(Method::POST, "/api/v1/saved-replies", Some(json!({"title": "All", "text": "x", "scope": {"type": "global"}}))).await;
    assert_eq!(s, 403, "global ones are the admins'");
    let (s, _) = server.post("/api/v1/saved-replies", json!({"title": "Refunds", "text": "Refunds take 5 days.", "scope": {"type": "global"}})).await;
    assert_eq!(s, 201);
    let (s, _) = server.post("/api/v1/saved-replies", json!({"title": "Invoices", "text": "Invoices are in your account.", "scope": {"type": "team", "id": team["id"]}})).await;
    assert_eq!(s, 201);
    let titles = |v: Value| -> Vec<String> { v.as_array().unwrap().iter().map(|r| r["title"].as_str().unwrap().to_string()).collect() };
    let (_, a) = ann_s.send(Method::GET, "/api/v1/saved-replies", None).await;
    assert_eq!(titles(a), ["Hello", "Invoices", "Refunds"], "hers, her team's, everyone's");
    let (_, b) = bob_s.send(Method::GET, "/api/v1/saved-replies", None).await;
    assert_eq!(titles(b), ["Refunds"], "not Ann's, not a team he is not in");
    let id = mine["id"].as_str().unwrap();
    let (s, _) = bob_s.send(Method::DELETE, &format!("/api/v1/saved-replies/{id}"), None).await;
    assert_eq!(s, 404, "he cannot see it, so it is not there for him");
    let (s, _) = ann_s.send(Method::DELETE, &format!("/api/v1/saved-replies/{id}"), None).await;
    assert_eq!(s, 204);
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[tokio::test]
async fn a_saved_replys_files_go_with_the_reply_where_the_channel_takes_them_and_are_refused_in_words_elsewhere() {
    use helpdesk_testkit::example::ExampleEmulator;
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let ex = ExampleEmulator::start("example-token").await.unwrap();
    let channels = format!("{}{}", telegram_channel("tg", &emu, true, TOKEN), ex.channel_toml("ex", "example_channel"));
    let server = Server::start(&channels).await;

    // Upload: what a file is comes from its bytes, not from what the browser said.
    let png = helpdesk_testkit::PHOTO_PNG.to_vec();
    let (s, photo) = server.upload("shelf.png", "application/octet-stream", png.clone()).await;
    assert_eq!(s, 201, "{photo}");
    assert_eq!((photo["kind"].as_str(), photo["mime_type"].as_str(), photo["size"].as_u64()), (Some("image"), Some("image/png"), Some(png.len() as u64)));
    let pdf = [b"%PDF-1.7\n".to_vec(), vec![b'x'; 700 << 10], b"\n%%EOF\n".to_vec()].concat();
    let (s, label) = server.upload("../../return label.pdf", "application/pdf", pdf.clone()).await;
    assert_eq!(s, 201, "{label}");
    assert_eq!((label["kind"].as_str(), label["name"].as_str()), (Some("file"), Some("return label.pdf")), "{label}");
    let (s, back, bytes) = server.get_bytes(&format!("/api/v1/files/{}", label["id"].as_str().unwrap())).await;
    assert_eq!((s, bytes == pdf), (200, true), "a file of two chunks reads back whole");
    assert!(back["content-disposition"].to_str().unwrap().starts_with("attachment;"), "a document is a download");

    // Refused: an empty file, one past 10 MB, a saved reply naming a file that does not exist.
    let (s, e) = server.upload("empty.txt", "text/plain", Vec::new()).await;
    assert_eq!(s, 400, "{e}");
    let (s, e) = server.upload("huge.bin", "application/octet-stream", vec![0; (10 << 20) + 1]).await;
    assert_eq!((s, e["code"].as_str()), (413, Some("too_large")), "{e}");
    let (s, e) = server.post("/api/v1/saved-replies", json!({"title": "Bad", "text": "Here", "files": ["nope"]})).await;
    assert_eq!(s, 400, "{e}");
    assert!(e["message"].as_str().unwrap().contains("no file `nope`"), "{e}");

    // A saved reply with a contact attribute and both files.
    let (s, _) = server.put("/api/v1/contact-attributes", json!({"attributes": [{"key": "order", "label": "Order", "kind": "text"}]})).await;
    assert_eq!(s, 200);
    let (s, saved) = server
        .post("/api/v1/saved-replies", json!({"title": "Returns", "text": "Hi {{contact.first_name}}, the label for {{contact.order}} is attached.", "files": [photo["id"], label["id"]]}))
        .await;
    assert_eq!(s, 201, "{saved}");
    assert_eq!(saved["variables"], json!(["contact.first_name", "contact.order"]));
    assert_eq!(saved["files"].as_array().unwrap().len(), 2);

    // Telegram takes them: a photo with the text as its caption, then the document.
    emu.private_text(&User::new(8300, "Ana", None, None), "How do I send it back?");
    let t = server.wait_tickets("channel=tg", 1, WAIT).await;
    let id = t[0]["id"].as_str().unwrap().to_string();
    let (_, detail) = server.get(&format!("/api/v1/tickets/{id}")).await;
    assert!(detail["files"].as_array().unwrap().iter().any(|c| c["kind"] == "private_message" && c["max_files"] == 10), "{}", detail["files"]);
    let text = "Hi Ana, the label for A-77 is attached.";
    let (s, out) = server.post(&format!("/api/v1/tickets/{id}/actions"), json!({"type": "reply", "text": text, "files": [photo["id"], label["id"]]})).await;
    assert_eq!(s, 200, "{out}");
    let photos = emu.calls("sendPhoto");
    let docs = emu.calls("sendDocument");
    assert_eq!((photos.len(), docs.len()), (1, 1));
    assert_eq!(photos[0].params["caption"], text);
    assert_eq!(photos[0].params["photo"]["sha256"].as_str(), Some(sha256(&png).as_str()), "the photo's bytes reached Telegram");
    assert_eq!(photos[0].params["chat_id"], 8300);
    assert_eq!((docs[0].params["document"]["file_name"].as_str(), docs[0].params["document"]["sha256"].as_str()), (Some("return label.pdf"), Some(sha256(&pdf).as_str())));
    assert!(docs[0].params.get("caption").is_none(), "the text goes once");
    // One message in the ticket, with both files, that opens like any attachment.
    let sent = &out["message"];
    assert_eq!(sent["text"], text);
    let kinds: Vec<&str> = sent["attachments"].as_array().unwrap().iter().map(|a| a["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["image", "file"], "{sent}");
    let (s, _, bytes) = server.get_bytes(&format!("/api/v1/messages/{}/attachments/1", sent["id"].as_str().unwrap())).await;
    assert_eq!((s, bytes == pdf), (200, true));

    // Past what Telegram takes in one reply: refused in words, nothing sent.
    let mut many = Vec::new();
    for n in 0..11 {
        let (_, f) = server.upload(&format!("n{n}.txt"), "text/plain", format!("note {n}").into_bytes()).await;
        many.push(f["id"].clone());
    }
    let (s, e) = server.post(&format!("/api/v1/tickets/{id}/actions"), json!({"type": "reply", "text": "All", "files": many})).await;
    assert_eq!((s, e["code"].as_str()), (422, Some("unsupported_action")), "{e}");
    assert!(e["message"].as_str().unwrap().contains("at most 10 files"), "{e}");
    assert_eq!(emu.calls("sendDocument").len(), 1);
    let (s, e) = server.post(&format!("/api/v1/tickets/{id}/actions"), json!({"type": "like", "files": [photo["id"]]})).await;
    assert_eq!(s, 400, "{e}");

    // A channel that sends no files: refused in words, before anything is sent; the text alone goes.
    ex.customer_writes("c1", "Bo", "Where is my parcel?");
    let t = server.wait_tickets("channel=ex", 1, WAIT).await;
    let ex_id = t[0]["id"].as_str().unwrap().to_string();
    let (s, e) = server.post(&format!("/api/v1/tickets/{ex_id}/actions"), json!({"type": "reply", "text": "Label attached", "files": [label["id"]]})).await;
    assert_eq!((s, e["code"].as_str()), (422, Some("unsupported_action")), "{e}");
    assert!(e["message"].as_str().unwrap().contains("cannot send files with a reply on"), "{e}");
    assert!(ex.sent().is_empty(), "nothing went out");
    let (s, _) = server.post(&format!("/api/v1/tickets/{ex_id}/actions"), json!({"type": "reply", "text": "Label attached"})).await;
    assert_eq!(s, 200);
    assert_eq!(ex.sent().len(), 1);
}
