//! The queue that assigns, through the API with several agents: a team's waiting tickets go
//! to its Available members in turn up to their capacity; resolving frees room at once; going
//! Away gives back what was not answered and coming back takes work again; many tickets at once
//! land on exactly one agent each; settings that cannot work are refused in words. Saved
//! replies are one's own, a team's or everyone's, and checked when saved.

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
