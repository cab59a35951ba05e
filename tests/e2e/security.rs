//! The server as an attacker meets it (docs/SECURITY.md): from the internet without an account,
//! as a signed-in agent, and as a plugin. Each test is one defence, named by what it stops.

mod support;

use axum::routing::get;
use futures::{SinkExt, StreamExt};
use helpdesk_testkit::server::{sign_in, ADMIN_EMAIL, ADMIN_PASSWORD};
use reqwest::{Client, Method};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const WAIT: Duration = Duration::from_secs(15);

/// A `[[channel]]` of the hostile test plugin misbehaving as `misbehave`.
fn hostile(id: &str, misbehave: &str, poll: bool, hosts: &[String], target_url: &str, extra: &str) -> String {
    let hosts: Vec<String> = hosts.iter().map(|h| format!("\"{h}\"")).collect();
    format!(
        r#"
[[channel]]
id = "{id}"
plugin = "{dir}/hostile.wasm"
display_name = "Hostile {id}"
poll = {poll}
allowed_hosts = [{hosts}]
{extra}
[channel.config]
misbehave = "{misbehave}"
target_url = "{target_url}"
[channel.limits]
timeout_ms = 2000
"#,
        dir = test_plugin_dir().display(),
        hosts = hosts.join(", "),
    )
}

/// A loopback "platform" counting what reaches it; `/redirect` answers 302 to elsewhere.
async fn sink() -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let app = axum::Router::new()
        .route(
            "/",
            get(|| async { "ok" }).post(move || {
                let h = h.clone();
                async move {
                    h.fetch_add(1, Ordering::SeqCst);
                    "ok"
                }
            }),
        )
        .route("/redirect", get(|| async { (axum::http::StatusCode::FOUND, [("location", "https://evil.example/steal")], "") }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr.to_string(), hits)
}

fn last_error(ch: &Value) -> String {
    ch["health"]["last_error"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn a_setup_code_is_long_and_replaced_after_five_wrong_tries() {
    let server = Server::start_with("", Options { first_admin: false, ..Options::memory() }, None).await;
    let first = server.setup_code.clone().expect("a setup code");
    assert_eq!(first.chars().filter(|c| c.is_ascii_hexdigit()).count(), 32, "128 bits: {first}");
    let admin = |code: &str| json!({"email": "boss@example.com", "name": "Boss", "password": "boss-password", "setup_code": code});
    for n in 0..5 {
        let (s, b) = call(&server, Method::POST, "/api/v1/setup", None, Some(admin(&format!("{n:032}")))).await;
        assert_eq!(s, 403, "{b}");
    }
    let (s, b) = call(&server, Method::POST, "/api/v1/setup", None, Some(admin(&first))).await;
    assert_eq!(s, 403, "the first code no longer works after five wrong tries: {b}");
    assert!(eventually(WAIT, || async { server.setup_codes.lock().unwrap().len() >= 2 }).await, "a new code was printed");
    let second = server.setup_codes.lock().unwrap().last().cloned().unwrap();
    assert_ne!(first, second);
    let (s, b) = call(&server, Method::POST, "/api/v1/setup", None, Some(admin(&second))).await;
    assert_eq!(s, 200, "{b}");
}

#[tokio::test]
async fn a_password_spray_is_throttled_without_slowing_webhooks() {
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let server = Arc::new(Server::start(&telegram_channel("tg", &emu, false, TOKEN)).await);
    let rss_before = server.rss_mib();
    let started = Instant::now();
    let attempts: Vec<_> = (0..100)
        .map(|n| {
            let server = server.clone();
            tokio::spawn(async move {
                let email = if n % 2 == 0 { ADMIN_EMAIL.to_string() } else { format!("guess{n}@example.com") };
                let r = Client::new()
                    .post(server.url("/api/v1/session"))
                    .json(&json!({"email": email, "password": "wrong-password"}))
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), r.headers().get("retry-after").is_some())
            })
        })
        .collect();
    // A webhook sent in the middle of the spray is answered.
    let update = json!({"update_id": 1, "message": {"message_id": 1, "date": 1_700_000_000, "chat": {"id": 5, "type": "private", "first_name": "Ann"}, "from": {"id": 5, "is_bot": false, "first_name": "Ann"}, "text": "hello during a spray"}});
    let hook_started = Instant::now();
    let hook = server.webhook("tg", update.to_string().into_bytes(), Some(SECRET)).await;
    let hook_time = hook_started.elapsed();
    let mut statuses = Vec::new();
    for a in attempts {
        statuses.push(a.await.unwrap());
    }
    assert_eq!(hook, 200);
    println!("webhook answered in {hook_time:?} during 100 parallel wrong sign-ins; the spray took {:?}", started.elapsed());
    assert!(statuses.iter().all(|(s, _)| *s == 401 || *s == 429), "{statuses:?}");
    let throttled = statuses.iter().filter(|(s, _)| *s == 429).count();
    assert!(throttled >= 30, "only {throttled} of 100 were throttled");
    assert!(statuses.iter().filter(|(s, _)| *s == 429).all(|(_, retry)| *retry), "429 says when to retry");
    // The admin's own account is locked for now, even with the right password...
    let r = Client::new().post(server.url("/api/v1/session")).json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 429);
    // ...and the server did not grow to hash them all.
    let rss_after = server.rss_mib();
    assert!(rss_after < rss_before + 64, "RSS {rss_before} -> {rss_after} MiB");
}

#[tokio::test]
async fn the_ui_is_served_with_a_content_security_policy() {
    let server = Server::start("").await;
    for path in ["/", "/api/v1/me"] {
        let r = Client::new().get(server.url(path)).header("cookie", &server.cookie).send().await.unwrap();
        let h = r.headers();
        let csp = h.get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        for part in ["script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"] {
            assert!(csp.contains(part), "{path}: {csp}");
        }
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["referrer-policy"], "no-referrer");
    }
}

#[tokio::test]
async fn webhook_answers_carry_nothing_of_the_plugins_but_status_and_text() {
    let channels = [
        hostile("headers", "webhook_headers", false, &[], "", ""),
        hostile("status", "webhook_status", false, &[], "", ""),
        hostile("failing", "webhook_fail", false, &[], "", ""),
        hostile("nosecret", "webhook_secret", false, &[], "", ""),
    ]
    .concat();
    let server = Server::start(&channels).await;
    let http = Client::new();
    let r = http
        .post(server.url("/webhooks/headers"))
        .header("cookie", &server.cookie)
        .header("authorization", "Bearer hdk_stolen")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let h = r.headers().clone();
    assert!(h.get("set-cookie").is_none() && h.get("location").is_none(), "{h:?}");
    assert_eq!(h["content-type"], "text/plain; charset=utf-8", "never rendered as HTML");
    assert_eq!(h["content-security-policy"], "sandbox; default-src 'none'");
    assert_eq!(h["x-content-type-options"], "nosniff");
    let body = r.text().await.unwrap();
    assert!(!body.contains("saw-"), "the plugin saw the agent's credentials: {body}");
    // Basic credentials a browser adds by itself are withheld too; a platform's own bearer token
    // (Google's signed Pub/Sub token) is the plugin's to check.
    let seen = |auth: &'static str| {
        let r = http.post(server.url("/webhooks/headers")).header("authorization", auth).body("{}").send();
        async move { r.await.unwrap().text().await.unwrap() }
    };
    assert!(!seen("Basic YWdlbnQ6cGFzc3dvcmQ=").await.contains("saw-authorization"));
    assert!(seen("Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln").await.contains("saw-authorization"));

    let r = http.post(server.url("/webhooks/status")).body("{}").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 502, "a 1xx from a plugin is not passed on");

    for (path, status) in [("/webhooks/failing", 503), ("/webhooks/no-such-channel", 404)] {
        let r = http.post(server.url(path)).body("{}").send().await.unwrap();
        assert_eq!(r.status().as_u16(), status, "{path}");
        let text = r.text().await.unwrap();
        for secret in ["failing", "no-such-channel", "Page's entries", "plugin"] {
            assert!(!text.contains(secret), "{path} told the sender `{secret}`: {text}");
        }
    }
    // A channel missing its secret: every unauthenticated POST meets it; health records it once.
    for _ in 0..5 {
        let r = http.post(server.url("/webhooks/nosecret")).body("{}").send().await.unwrap();
        assert_eq!(r.status().as_u16(), 503);
    }
    let ch = server.channel("nosecret").await;
    assert_eq!(ch["health"]["state"], "degraded", "{ch}");
    assert_eq!(ch["health"]["consecutive_failures"], 1, "{ch}");
}

#[tokio::test]
async fn a_webhook_flood_to_one_channel_leaves_the_others_served() {
    let channels = [hostile("flooded", "webhook_sleep", false, &[], "", ""), hostile("calm", "", false, &[], "", "")].concat();
    let server = Arc::new(Server::start(&channels).await);
    let flood: Vec<_> = (0..40)
        .map(|_| {
            let s = server.clone();
            tokio::spawn(async move { Client::new().post(s.url("/webhooks/flooded")).body("x").send().await.unwrap().status().as_u16() })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = Client::new().post(server.url("/webhooks/calm")).body("{}").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200, "the other channel is served during the flood");
    let mut statuses = Vec::new();
    for f in flood {
        statuses.push(f.await.unwrap());
    }
    let busy = statuses.iter().filter(|s| **s == 503).count();
    assert!(busy >= 40 - 8, "at most 8 deliveries per channel run at once: {statuses:?}");
}

#[tokio::test]
async fn plugins_cannot_follow_redirects_set_host_headers_reach_loopback_by_name_or_fill_kv() {
    let (addr, _) = sink().await;
    let port = addr.rsplit(':').next().unwrap();
    let ip_entry = format!("http://{addr}");
    let name_entry = format!("http://localhost:{port}");
    let channels = [
        hostile("redirect", "redirect", true, &[ip_entry.clone()], &format!("http://{addr}/redirect"), ""),
        hostile("header", "forbidden_header", true, &[ip_entry.clone()], &format!("http://{addr}/"), ""),
        hostile("rebind", "rebind", true, &[name_entry], &format!("http://localhost:{port}/"), ""),
        hostile("plainhttp", "rebind", true, &[format!("127.0.0.1:{port}")], &format!("http://127.0.0.1:{port}/"), ""),
        hostile("kv", "kv_flood", true, &[], "", ""),
    ]
    .concat();
    let server = Server::start(&channels).await;
    for (id, expected) in [
        ("redirect", "got HTTP 302"),
        ("header", "set by the host"),
        ("rebind", "loopback"),
        ("plainhttp", "allowed_hosts"),
        ("kv", "kv refused after 10000 keys"),
    ] {
        let ch = server.wait_channel(id, WAIT, |c| !last_error(c).is_empty()).await;
        assert!(last_error(&ch).contains(expected), "{id}: {ch}");
    }
}

#[tokio::test]
async fn an_absurd_timestamp_becomes_the_arrival_time() {
    let server = Server::start(&hostile("future", "absurd_time", true, &[], "", "")).await;
    let t = server.wait_tickets("channel=future", 1, WAIT).await;
    let at = t[0]["last_message_at"].as_i64().unwrap();
    let now = chrono_now();
    assert!((now - 120_000..now + 120_000).contains(&at), "{at}");
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

#[tokio::test]
async fn a_reply_the_platform_took_is_recorded_and_a_retried_click_sends_once() {
    let (addr, sent) = sink().await;
    let server = Server::start(&hostile("shop", "incomplete_reply", true, &[format!("http://{addr}")], &format!("http://{addr}/"), "")).await;
    let id = server.wait_tickets("channel=shop", 1, WAIT).await[0]["id"].as_str().unwrap().to_string();
    let send = |key: &'static str| {
        Client::new()
            .post(server.url(&format!("/api/v1/tickets/{id}/actions")))
            .header("cookie", &server.cookie)
            .header("idempotency-key", key)
            .json(&json!({"type": "reply", "text": "on its way"}))
            .send()
    };
    let first = send("click-1").await.unwrap();
    assert_eq!(first.status().as_u16(), 200, "the platform took it: success, not an error to retry");
    let first: Value = first.json().await.unwrap();
    let retry: Value = send("click-1").await.unwrap().json().await.unwrap();
    assert_eq!(first["message"]["id"], retry["message"]["id"], "the retry got the first answer");
    assert_eq!(sent.load(Ordering::SeqCst), 1, "sent once");
    let ticket = server.ticket(&id).await;
    let outbound: Vec<&Value> = ticket["messages"].as_array().unwrap().iter().filter(|m| m["direction"] == "outbound").collect();
    assert_eq!(outbound.len(), 1, "{ticket}");
    assert!(outbound[0]["platform_id"].as_str().unwrap().starts_with("local:"));
    let (s, _) = call(&server, Method::POST, &format!("/api/v1/tickets/{id}/actions"), Some(&server.cookie), Some(json!({"type": "reply", "text": "again"}))).await;
    assert_eq!(s, 200);
    assert_eq!(sent.load(Ordering::SeqCst), 2, "a new action without the key is sent");
}

#[tokio::test]
async fn searches_that_would_hang_the_server_are_refused_at_once() {
    let server = Server::start("").await;
    let started = Instant::now();
    let bomb = "(".repeat(30_000);
    for query in [format!("q={bomb}"), format!("q={}", "a ".repeat(500)), "offset=50000".to_string(), "limit=100000".to_string()] {
        let (s, b) = server.get(&format!("/api/v1/tickets?{query}")).await;
        assert_eq!(s, 400, "{b}");
        assert_eq!(b["code"], "bad_request");
    }
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[tokio::test]
async fn live_sockets_check_their_origin_and_end_with_the_session() {
    let server = Server::start("").await;
    let ws_url = server.url("/api/v1/events").replacen("http", "ws", 1);
    let request = |cookie: &str, origin: &str| {
        let mut r = ws_url.as_str().into_client_request().unwrap();
        r.headers_mut().insert("cookie", cookie.parse().unwrap());
        r.headers_mut().insert("origin", origin.parse().unwrap());
        r
    };
    let own_origin = server.base.clone();
    assert!(tokio_tungstenite::connect_async(request(&server.cookie, "https://evil.example")).await.is_err(), "another site's page");

    // A message larger than a few KiB ends the socket.
    let (mut ws, _) = tokio_tungstenite::connect_async(request(&server.cookie, &own_origin)).await.unwrap();
    ws.next().await.unwrap().unwrap();
    let huge = json!({"type": "view", "ticket_id": "x".repeat(100_000)}).to_string();
    let _ = ws.send(tokio_tungstenite::tungstenite::Message::Text(huge.into())).await;
    let ended = tokio::time::timeout(WAIT, async {
        while let Some(Ok(m)) = ws.next().await {
            if m.is_close() {
                break;
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "an oversized message closes the socket");

    // Signing out closes the socket within seconds.
    let cookie = sign_in(&Client::new(), &server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (mut ws, _) = tokio_tungstenite::connect_async(request(&cookie, &own_origin)).await.unwrap();
    ws.next().await.unwrap().unwrap();
    let (s, _) = call(&server, Method::DELETE, "/api/v1/session", Some(&cookie), None).await;
    assert_eq!(s, 204);
    let closed = tokio::time::timeout(Duration::from_secs(8), async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) => return,
                Some(Ok(m)) if m.is_close() => return,
                _ => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the socket outlived its session");
}

#[tokio::test]
async fn a_password_or_role_change_signs_the_user_out_everywhere_and_tokens_can_expire() {
    let server = Server::start("").await;
    let (s, sam) = call(&server, Method::POST, "/api/v1/users", Some(&server.cookie), Some(json!({"email": "sam@example.com", "name": "Sam", "role": "agent", "password": "sam-password"}))).await;
    assert_eq!(s, 201);
    let sam_id = sam["id"].as_str().unwrap().to_string();
    for patch in [json!({"password": "new-sam-password"}), json!({"role": "admin"})] {
        let password = if patch.get("role").is_some() { "new-sam-password" } else { "sam-password" };
        let session = sign_in(&Client::new(), &server.base, "sam@example.com", password).await;
        assert_eq!(call(&server, Method::GET, "/api/v1/me", Some(&session), None).await.0, 200);
        let (s, b) = call(&server, Method::PATCH, &format!("/api/v1/users/{sam_id}"), Some(&server.cookie), Some(patch.clone())).await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(call(&server, Method::GET, "/api/v1/me", Some(&session), None).await.0, 401, "{patch}: the old session still works");
    }
    assert_eq!(call(&server, Method::GET, "/api/v1/me", Some(&server.cookie), None).await.0, 200, "the admin's own session stays");
    let (s, token) = call(&server, Method::POST, "/api/v1/tokens", Some(&server.cookie), Some(json!({"name": "CRM", "expires_in_days": 30}))).await;
    assert_eq!(s, 201, "{token}");
    let expires = token["expires_at"].as_i64().unwrap();
    assert!((expires - chrono_now() - 30 * 86_400_000).abs() < 60_000);
    assert_eq!(call(&server, Method::GET, "/api/v1/me", Some(token["secret"].as_str().unwrap()), None).await.0, 200);
    let (s, _) = call(&server, Method::POST, "/api/v1/tokens", Some(&server.cookie), Some(json!({"name": "x", "expires_in_days": 0}))).await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn over_https_the_session_cookie_is_secure_and_host_only() {
    let opts = Options { public_url: Some("https://help.example.com".into()), first_admin: true, ..Options::memory() };
    let server = Server::start_with("", opts, None).await;
    let r = Client::new().post(server.url("/api/v1/session")).json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})).send().await.unwrap();
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("__Host-helpdesk_session=") && cookie.contains("; Secure") && cookie.contains("HttpOnly"), "{cookie}");
}

#[tokio::test]
async fn a_secret_never_shows_in_channel_health() {
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    // A base_url without its scheme puts the token into a URL the host cannot parse.
    let channel = telegram_channel("tg", &emu, true, TOKEN).replace(&emu.base_url(), &emu.base_url().replace("http://", ""));
    let server = Server::start(&channel).await;
    let ch = server.wait_channel("tg", WAIT, |c| !last_error(c).is_empty()).await;
    let shown = ch.to_string();
    assert!(!last_error(&ch).is_empty(), "{ch}");
    assert!(!shown.contains("TEST-token"), "the bot token is in the health every agent reads: {shown}");
}

#[tokio::test]
async fn a_shared_webhook_is_redelivered_when_one_page_could_not_be_stored() {
    let group = "webhook_group = \"meta-app\"";
    let channels = [hostile("page-a", "", false, &[], "", group), hostile("page-b", "webhook_fail", false, &[], "", group)].concat();
    let server = Server::start(&channels).await;
    let r = Client::new().post(server.url("/webhooks/page-a")).body("{}").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 503, "the platform must deliver again, or page-b's entries are lost");
}

#[tokio::test]
async fn a_slow_client_is_cut_off_and_sigterm_stops_the_server_cleanly() {
    let mut server = Server::start_with("", Options::disk(), None).await;
    let addr = server.base.trim_start_matches("http://").to_string();
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let mut buf = Vec::new();
    let cut = tokio::time::timeout(Duration::from_secs(20), slow.read_to_end(&mut buf)).await;
    assert!(cut.is_ok(), "a client that never finishes its headers keeps its connection");
    let status = server.terminate().await;
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn behind_a_trusted_proxy_sign_ins_are_throttled_per_client_not_per_proxy() {
    let attempt = |server: Arc<Server>, n: usize, client: &'static str| async move {
        // Another email each time: only the per-address limit applies.
        Client::new()
            .post(server.url("/api/v1/session"))
            .header("x-forwarded-for", format!("{client}, 127.0.0.1"))
            .json(&json!({"email": format!("guess{n}@example.com"), "password": "wrong-password"}))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    let behind = Arc::new(Server::start_with("", Options { trusted_proxies: vec!["127.0.0.1".into()], ..Options::memory() }, None).await);
    let mut statuses = Vec::new();
    for n in 0..25 {
        statuses.push(attempt(behind.clone(), n, "203.0.113.7").await);
    }
    assert!(statuses.contains(&429), "one client's spray is throttled: {statuses:?}");
    assert_eq!(attempt(behind.clone(), 99, "198.51.100.2").await, 401, "another client behind the same proxy is not");

    // Without the proxy trusted, the header is the client's own words and is ignored.
    let direct = Arc::new(Server::start("").await);
    for n in 0..25 {
        attempt(direct.clone(), n, "203.0.113.7").await;
    }
    assert_eq!(attempt(direct.clone(), 99, "198.51.100.2").await, 429, "a forged X-Forwarded-For does not escape the limit");
}
