//! Who may do what: sign-in, sessions, API tokens, roles, the first admin on a fresh install,
//! notes only their author may change, and admins enabling or disabling a channel.

mod support;

use helpdesk_testkit::server::{sign_in, ADMIN_EMAIL};
use reqwest::{Client, Method};
use serde_json::json;
use std::time::Duration;
use support::*;

const WAIT: Duration = Duration::from_secs(10);

async fn agent(server: &Server, email: &str) -> (String, String) {
    let (s, u) = call(server, Method::POST, "/api/v1/users", Some(&server.cookie), Some(json!({"email": email, "name": "Sam", "role": "agent", "password": "sam-password"}))).await;
    assert_eq!(s, 201, "{u}");
    let cookie = sign_in(&Client::new(), &server.base, email, "sam-password").await;
    (u["id"].as_str().unwrap().to_string(), cookie)
}

#[tokio::test]
async fn the_api_needs_a_signed_in_user_and_roles_are_enforced() {
    let server = Server::start("").await;
    for path in ["/api/v1/tickets", "/api/v1/channels", "/api/v1/me", "/api/v1/openapi.json", "/api/v1/events", "/api/v1/users"] {
        let (s, b) = call(&server, Method::GET, path, None, None).await;
        assert_eq!(s, 401, "{path} answered without a user");
        assert_eq!(b["code"], "unauthorized", "{path}: {b}");
    }
    let (s, _) = call(&server, Method::GET, "/api/v1/tickets", Some("helpdesk_session=forged"), None).await;
    assert_eq!(s, 401);
    let (s, b) = call(&server, Method::POST, "/api/v1/session", None, Some(json!({"email": ADMIN_EMAIL, "password": "guess"}))).await;
    assert_eq!((s, b["message"].as_str().unwrap()), (401, "wrong email or password"));
    let (s, b) = call(&server, Method::POST, "/api/v1/session", None, Some(json!({"email": "nobody@example.com", "password": "guess"}))).await;
    assert_eq!((s, b["message"].as_str().unwrap()), (401, "wrong email or password"), "unknown emails look the same");

    let (_, sam) = agent(&server, "sam@example.com").await;
    let (s, me) = call(&server, Method::GET, "/api/v1/me", Some(&sam), None).await;
    assert_eq!((s, me["role"].as_str().unwrap()), (200, "agent"));
    let (s, users) = call(&server, Method::GET, "/api/v1/users", Some(&sam), None).await;
    assert_eq!(s, 200);
    assert!(!users.to_string().contains("argon2"), "password hashes never leave the server: {users}");
    for (method, path, body) in [
        (Method::POST, "/api/v1/users", json!({"email": "x@example.com", "name": "X", "role": "admin", "password": "12345678"})),
        (Method::PATCH, "/api/v1/users/whoever", json!({"role": "admin"})),
        (Method::PATCH, "/api/v1/channels/any", json!({"enabled": false})),
    ] {
        let (s, b) = call(&server, method, path, Some(&sam), Some(body)).await;
        assert_eq!(s, 403, "an agent could {path}: {b}");
        assert_eq!(b["message"], "only admins can do this");
    }

    // Bad input is refused in words and stores nothing.
    let bad_users = [
        (json!({"email": "not-an-email", "name": "X", "role": "agent", "password": "12345678"}), "not an email address"),
        (json!({"email": "y@example.com", "name": "Y", "role": "agent", "password": "short"}), "at least 8 characters"),
        (json!({"email": "sam@example.com", "name": "Sam 2", "role": "agent", "password": "12345678"}), "already exists"),
        (json!({"email": "z@example.com", "name": "Z", "role": "owner", "password": "12345678"}), "role"),
    ];
    for (body, expected) in bad_users {
        let (s, b) = call(&server, Method::POST, "/api/v1/users", Some(&server.cookie), Some(body)).await;
        assert!(s == 400 || s == 409 || s == 422, "{s} {b}");
        assert!(b["message"].as_str().unwrap().contains(expected), "{b}");
    }
    let (_, users) = call(&server, Method::GET, "/api/v1/users", Some(&server.cookie), None).await;
    assert_eq!(users.as_array().unwrap().len(), 2);

    // The last admin cannot be demoted or disabled.
    let admin_id = users.as_array().unwrap().iter().find(|u| u["role"] == "admin").unwrap()["id"].as_str().unwrap().to_string();
    let (s, b) = call(&server, Method::PATCH, &format!("/api/v1/users/{admin_id}"), Some(&server.cookie), Some(json!({"role": "agent"}))).await;
    assert_eq!(s, 409, "{b}");
    assert!(b["message"].as_str().unwrap().contains("last admin"));
}

#[tokio::test]
async fn sessions_end_on_sign_out_and_when_a_user_is_disabled_and_tokens_work_until_revoked() {
    let server = Server::start("").await;
    let (sam_id, sam) = agent(&server, "sam@example.com").await;

    let (s, t) = call(&server, Method::POST, "/api/v1/tokens", Some(&sam), Some(json!({"name": "CRM sync"}))).await;
    assert_eq!(s, 201, "{t}");
    let secret = t["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("hdk_"));
    let (s, me) = call(&server, Method::GET, "/api/v1/me", Some(&secret), None).await;
    assert_eq!((s, me["id"].as_str().unwrap()), (200, sam_id.as_str()));
    let (_, list) = call(&server, Method::GET, "/api/v1/tokens", Some(&sam), None).await;
    assert!(!list.to_string().contains(&secret), "the secret is shown once only");
    let (s, _) = call(&server, Method::DELETE, &format!("/api/v1/tokens/{}", t["id"].as_str().unwrap()), Some(&sam), None).await;
    assert_eq!(s, 204);
    let (s, _) = call(&server, Method::GET, "/api/v1/me", Some(&secret), None).await;
    assert_eq!(s, 401, "a revoked token stops working");

    let other = sign_in(&Client::new(), &server.base, "sam@example.com", "sam-password").await;
    let (s, _) = call(&server, Method::DELETE, "/api/v1/session", Some(&sam), None).await;
    assert_eq!(s, 204);
    let (s, _) = call(&server, Method::GET, "/api/v1/me", Some(&sam), None).await;
    assert_eq!(s, 401, "signed out");
    let (s, _) = call(&server, Method::GET, "/api/v1/me", Some(&other), None).await;
    assert_eq!(s, 200, "another session of the same user goes on");

    let (s, _) = call(&server, Method::PATCH, &format!("/api/v1/users/{sam_id}"), Some(&server.cookie), Some(json!({"disabled": true}))).await;
    assert_eq!(s, 200);
    let (s, _) = call(&server, Method::GET, "/api/v1/me", Some(&other), None).await;
    assert_eq!(s, 401, "a disabled user's sessions stop working");
    let (s, _) = call(&server, Method::POST, "/api/v1/session", None, Some(json!({"email": "sam@example.com", "password": "sam-password"}))).await;
    assert_eq!(s, 401, "a disabled user cannot sign in");
}

#[tokio::test]
async fn a_fresh_install_creates_its_first_admin_with_the_printed_setup_code() {
    let opts = Options { first_admin: false, ..Options::memory() };
    let server = Server::start_with("", opts, None).await;
    let code = server.setup_code.clone().expect("the server printed a setup code");
    let (_, state) = call(&server, Method::GET, "/api/v1/setup", None, None).await;
    assert_eq!(state["needs_first_admin"], true);
    let admin = json!({"email": "boss@example.com", "name": "Boss", "password": "boss-password", "setup_code": "000000x"});
    let (s, b) = call(&server, Method::POST, "/api/v1/setup", None, Some(admin.clone())).await;
    assert_eq!(s, 403, "{b}");
    let mut good = admin.clone();
    good["setup_code"] = json!(code);
    let (s, b) = call(&server, Method::POST, "/api/v1/setup", None, Some(good.clone())).await;
    assert_eq!((s, b["role"].as_str()), (200, Some("admin")), "{b}");
    let (s, _) = call(&server, Method::POST, "/api/v1/setup", None, Some(good)).await;
    assert_eq!(s, 409, "only once");
    let cookie = sign_in(&Client::new(), &server.base, "boss@example.com", "boss-password").await;
    let (s, _) = call(&server, Method::GET, "/api/v1/channels", Some(&cookie), None).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn notes_are_changed_only_by_their_author_and_contacts_carry_tags() {
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let server = Server::start(&telegram_channel("tg", &emu, true, TOKEN)).await;
    let (_, sam) = agent(&server, "sam@example.com").await;
    emu.private_text(&User::new(77, "Ann", None, None), "where is my order");
    let id = server.wait_tickets("queue=all", 1, WAIT).await[0]["id"].as_str().unwrap().to_string();

    let (s, note) = call(&server, Method::POST, &format!("/api/v1/tickets/{id}/notes"), Some(&sam), Some(json!({"text": "  checking the warehouse  "}))).await;
    assert_eq!(s, 201, "{note}");
    assert_eq!(note["text"], "checking the warehouse");
    let note_path = format!("/api/v1/tickets/{id}/notes/{}", note["id"].as_str().unwrap());
    let (s, b) = call(&server, Method::PATCH, &note_path, Some(&server.cookie), Some(json!({"text": "mine now"}))).await;
    assert_eq!(s, 403, "{b}");
    let (s, _) = call(&server, Method::DELETE, &note_path, Some(&server.cookie), None).await;
    assert_eq!(s, 403);
    let (s, b) = call(&server, Method::PATCH, &note_path, Some(&sam), Some(json!({"text": "warehouse says Monday"}))).await;
    assert_eq!((s, b["edited_at"].is_i64()), (200, true));
    let (s, _) = call(&server, Method::POST, &format!("/api/v1/tickets/{id}/notes"), Some(&sam), Some(json!({"text": "   "}))).await;
    assert_eq!(s, 400);
    let view = server.ticket(&id).await;
    assert_eq!(view["notes"][0]["text"], "warehouse says Monday");
    assert_eq!(view["notes"][0]["author_name"], "Sam");
    let history: Vec<&str> = view["activity"].as_array().unwrap().iter().map(|a| a["what"].as_str().unwrap()).collect();
    assert!(history.contains(&"note.added") && history.contains(&"note.edited"), "{history:?}");
    let (s, _) = call(&server, Method::DELETE, &note_path, Some(&sam), None).await;
    assert_eq!(s, 204);
    assert!(server.ticket(&id).await["notes"].as_array().unwrap().is_empty());

    let contact = view["contact"]["id"].as_str().unwrap();
    let (s, c) = call(&server, Method::PATCH, &format!("/api/v1/contacts/{contact}"), Some(&sam), Some(json!({"tags": ["vip", " vip ", "b2b"]}))).await;
    assert_eq!((s, c["tags"].clone()), (200, json!(["b2b", "vip"])));
    assert_eq!(server.ticket(&id).await["contact"]["tags"], json!(["b2b", "vip"]));
    let (s, _) = call(&server, Method::PATCH, "/api/v1/contacts/nobody", Some(&sam), Some(json!({"tags": []}))).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn an_admin_disables_and_enables_a_channel_without_a_restart() {
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let server = Server::start(&telegram_channel("tg", &emu, true, TOKEN)).await;
    let ann = User::new(77, "Ann", None, None);
    emu.private_text(&ann, "first");
    server.wait_tickets("queue=all", 1, WAIT).await;
    let (s, c) = server.patch("/api/v1/channels/tg", json!({"enabled": false})).await;
    assert_eq!((s, c["enabled"].as_bool()), (200, Some(false)), "{c}");
    let c = server.wait_channel("tg", WAIT, |c| c["health"]["state"] == "disabled").await;
    assert_eq!(c["health"]["state"], "disabled");
    // A long poll under way may still finish; after it, nothing is fetched.
    tokio::time::sleep(Duration::from_secs(3)).await;
    emu.private_text(&ann, "while disabled");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(emu.pending_updates(), 1, "a disabled channel is not polled");
    let (s, b) = server.post(format!("/api/v1/tickets/{}/actions", server.tickets("queue=all").await[0]["id"].as_str().unwrap()), json!({"type": "like"})).await;
    assert_eq!(s, 404, "{b}");
    assert!(b["message"].as_str().unwrap().contains("disabled"));

    let (s, _) = server.patch("/api/v1/channels/tg", json!({"enabled": true})).await;
    assert_eq!(s, 200);
    assert!(eventually(WAIT, || async { server.ticket(server.tickets("queue=all").await[0]["id"].as_str().unwrap()).await["messages"].as_array().unwrap().len() == 2 }).await);
    let (s, _) = server.patch("/api/v1/channels/nope", json!({"enabled": true})).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn an_invitation_link_makes_one_account_with_its_role_and_then_stops_working() {
    let server = Server::start("").await;
    let (_, sam) = agent(&server, "sam@example.com").await;
    let (status, _) = call(&server, Method::POST, "/api/v1/invitations", Some(&sam), Some(json!({"role": "agent"}))).await;
    assert_eq!(status, 403, "only admins invite");

    let (status, made) = server.post("/api/v1/invitations", json!({"role": "agent", "email": "Kim@Example.com"})).await;
    assert_eq!(status, 201, "{made}");
    let url = made["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/invite#", server.base)), "{url}");
    let secret = url.split_once('#').unwrap().1.to_string();
    let (_, listed) = server.get("/api/v1/invitations").await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(!listed.to_string().contains(&secret), "the link is shown once, never listed");

    // The invitee sees what it is for, without signing in.
    let (status, opened) = call(&server, Method::POST, "/api/v1/invitation", None, Some(json!({"secret": secret}))).await;
    assert_eq!((status, opened["role"].as_str(), opened["email"].as_str()), (200, Some("agent"), Some("kim@example.com")));
    let (status, refused) = call(&server, Method::POST, "/api/v1/invitation/accept", None, Some(json!({"secret": secret, "email": "kim@example.com", "name": "Kim", "password": "short"}))).await;
    assert_eq!((status, refused["code"].as_str()), (400, Some("bad_request")), "{refused}");

    // Accepting creates the agent and signs them in.
    let r = Client::new()
        .post(server.url("/api/v1/invitation/accept"))
        .json(&json!({"secret": secret, "email": "kim@example.com", "name": "Kim", "password": "kim-password-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let user: serde_json::Value = r.json().await.unwrap();
    assert_eq!((user["name"].as_str(), user["role"].as_str()), (Some("Kim"), Some("agent")));
    let (status, me) = call(&server, Method::GET, "/api/v1/me", Some(&cookie), None).await;
    assert_eq!((status, me["email"].as_str()), (200, Some("kim@example.com")));

    // The link works once.
    let (status, again) = call(&server, Method::POST, "/api/v1/invitation/accept", None, Some(json!({"secret": secret, "email": "eve@example.com", "name": "Eve", "password": "eve-password-1"}))).await;
    assert_eq!(status, 404, "{again}");
    assert!(again["message"].as_str().unwrap().contains("not valid any more"));
    assert_eq!(server.get("/api/v1/invitations").await.1.as_array().unwrap().len(), 0);

    // A revoked link does not open.
    let (_, made) = server.post("/api/v1/invitations", json!({"role": "admin"})).await;
    let secret = made["url"].as_str().unwrap().split_once('#').unwrap().1.to_string();
    let r = Client::new().delete(server.url(&format!("/api/v1/invitations/{}", made["id"].as_str().unwrap()))).header("cookie", &server.cookie).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 204);
    let (status, _) = call(&server, Method::POST, "/api/v1/invitation", None, Some(json!({"secret": secret}))).await;
    assert_eq!(status, 404);
}
