//! The helpdesk on a real SurrealDB server (`--store ws://…`) instead of its embedded store:
//! signed in with a password from a secret file, the product working as it does embedded, clear
//! refusals when the server or its credentials are wrong; and several hosts on one server:
//! polling under leases through a pause and a kill, webhooks and agents on any host, admins'
//! changes, sign-outs and auto-assignment shared.

mod support;

use helpdesk_testkit::surreal::{self, SurrealServer};
use serde_json::json;
use std::time::Duration;
use support::*;

const WAIT: Duration = Duration::from_secs(30);

async fn store_server() -> SurrealServer {
    SurrealServer::start(&surreal::binary(bin().as_ref())).await
}

#[tokio::test]
async fn a_host_on_a_surrealdb_server_ingests_answers_searches_and_keeps_it_all_across_a_restart() {
    let store = store_server().await;
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let channels = telegram_channel("tg", &emu, true, TOKEN);
    let mut server = Server::start_with(&channels, Options::server(&store), None).await;
    let ann = User::new(9001, "Ann", Some("Lee"), Some("annlee"));
    let first = emu.private_text(&ann, "Where is my parcel? Order 4821 is late");

    let found = server.wait_tickets("q=parcel", 1, WAIT).await;
    assert_eq!(found.len(), 1, "the polled message is a searchable ticket");
    let id = found[0]["id"].as_str().unwrap().to_string();
    let (status, out) = server.post(&format!("/api/v1/tickets/{id}/actions"), json!({"type": "reply", "text": "It ships today!"})).await;
    assert_eq!(status, 200, "{out}");
    let sent = emu.calls("sendMessage");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].params["reply_parameters"]["message_id"], json!(first));
    let (status, out) = server.post(&format!("/api/v1/tickets/{id}/notes"), json!({"text": "Courier called"})).await;
    assert_eq!(status, 201, "{out}");
    for n in 0..30 {
        emu.private_text(&User::new(9100 + n, &format!("Customer{n}"), None, None), &format!("refund for order {n}"));
    }
    assert_eq!(server.wait_tickets("q=refund", 30, WAIT).await.len(), 30);

    // A backup of a server store is SurrealDB's to take: refused in words, by the API and the CLI.
    let (status, body) = server.get("/api/v1/backup").await;
    assert_eq!((status, body["code"].as_str()), (501, Some("backup_unsupported")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("surreal export"), "{body}");
    let dir = tempfile::tempdir().unwrap();
    let out = tokio::process::Command::new(bin())
        .arg("backup")
        .arg(dir.path().join("b.surql"))
        .args(["--store", &store.url, "--store-password-file", store.password_file.to_str().unwrap(), "--data"])
        .arg(dir.path())
        .output()
        .await
        .unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("surreal export"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!dir.path().join("b.surql").exists(), "no partial backup is left");

    // A new process on the same store (its own index directory is new: rebuilt from the store).
    server.terminate().await;
    let server = Server::start_with(&channels, Options::server(&store), None).await;
    let view = server.ticket(&id).await;
    assert_eq!(view["ticket"]["queue"], "pending");
    assert_eq!(view["messages"].as_array().unwrap().len(), 2, "{view}");
    assert_eq!(view["notes"][0]["text"], "Courier called");
    assert!(eventually(WAIT, || async { server.tickets("q=refund").await.len() == 30 }).await, "the new host's index has every ticket");
    assert_eq!(server.tickets("queue=all").await.len(), 31);
    // The channel's cursor was in the store: nothing polled twice.
    emu.private_text(&ann, "Thanks!");
    assert!(eventually(WAIT, || async { server.ticket(&id).await["messages"].as_array().unwrap().len() == 3 }).await);
    assert_eq!(server.tickets("queue=all").await.len(), 31);
}

/// `helpdesk` with these store arguments, and what it printed when it gave up.
async fn refused(args: &[&str]) -> String {
    let data = tempfile::tempdir().unwrap();
    let out = tokio::time::timeout(
        WAIT,
        tokio::process::Command::new(bin())
            .args(["reindex", "--data"])
            .arg(data.path())
            .args(args)
            .env_remove("HELPDESK_STORE")
            .env_remove("HELPDESK_STORE_PASSWORD_FILE")
            .output(),
    )
    .await
    .expect("gave up within 30 s")
    .unwrap();
    assert!(!out.status.success(), "{args:?} should be refused");
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[tokio::test]
async fn a_wrong_password_a_missing_secret_or_no_server_is_refused_with_a_reason() {
    let store = store_server().await;
    let dir = tempfile::tempdir().unwrap();
    let wrong = dir.path().join("wrong");
    std::fs::write(&wrong, "not-the-password\n").unwrap();
    let err = refused(&["--store", &store.url, "--store-password-file", wrong.to_str().unwrap()]).await;
    assert!(err.contains("refused the sign-in as `root`"), "{err}");
    let err = refused(&["--store", &store.url]).await;
    assert!(err.contains("needs a user and a password"), "{err}");
    let err = refused(&["--store", &store.url, "--store-password-file", "/nonexistent/secret"]).await;
    assert!(err.contains("cannot read the store's password from /nonexistent/secret"), "{err}");
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "\n").unwrap();
    let err = refused(&["--store", &store.url, "--store-password-file", empty.to_str().unwrap()]).await;
    assert!(err.contains("is empty"), "{err}");
    let err = refused(&["--store", &format!("ws://127.0.0.1:{}", free_port()), "--store-password-file", store.password_file.to_str().unwrap()]).await;
    assert!(err.contains("cannot open the store"), "{err}");
}

/// A poll lease of this long in the tests (`HELPDESK_LEASE_SECONDS`).
const LEASE_SECONDS: f64 = 3.0;

fn host_options(store: &SurrealServer) -> Options {
    Options { env: vec![("HELPDESK_LEASE_SECONDS".into(), LEASE_SECONDS.to_string())], ..Options::server(store) }
}

/// Whether this host says another one polls `channel` (its channel list, as admins see it).
async fn standing_by(server: &Server, channel: &str) -> bool {
    health(server, channel).await["notice"].as_str().is_some_and(|n| n.contains("polled by another host"))
}

/// A channel's health as the host's channel list shows it to admins.
async fn health(server: &Server, channel: &str) -> serde_json::Value {
    let (_, channels) = call(server, reqwest::Method::GET, "/api/v1/channels", Some(&server.cookie), None).await;
    let ch = channels.as_array().and_then(|all| all.iter().find(|c| c["id"] == channel).cloned()).unwrap_or_default();
    ch["health"].clone()
}

/// The one host of `hosts` polling `channel` once the others stand by.
async fn poller(hosts: &[&Server], channel: &str) -> usize {
    let started = std::time::Instant::now();
    loop {
        let mut polling = Vec::new();
        for (n, h) in hosts.iter().enumerate() {
            if !standing_by(h, channel).await {
                polling.push(n);
            }
        }
        if polling.len() == 1 {
            return polling[0];
        }
        assert!(started.elapsed() < Duration::from_secs(20), "exactly one host polls `{channel}`: {polling:?} do");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn all(hosts: &[Option<Server>]) -> Vec<&Server> {
    hosts.iter().flatten().collect()
}

/// The events of a socket frame: itself, or those of a batch.
fn events_of(frame: &serde_json::Value) -> Vec<serde_json::Value> {
    match frame["events"].as_array() {
        Some(events) if frame["type"] == "batch" => events.clone(),
        _ => vec![frame.clone()],
    }
}

fn telegram_update(n: u64, text: &str) -> Vec<u8> {
    let update = json!({"update_id": n, "message": {"message_id": n, "from": {"id": 7000 + n, "is_bot": false, "first_name": format!("Hooked{n}")},
        "chat": {"id": 7000 + n, "type": "private", "first_name": format!("Hooked{n}")}, "date": 1_700_000_000, "text": text}});
    serde_json::to_vec(&update).unwrap()
}

#[tokio::test]
async fn three_hosts_share_one_store_and_lose_nothing_when_the_poller_is_paused_and_the_next_killed() {
    let store = store_server().await;
    let polled = TelegramEmulator::start(TOKEN).await.unwrap();
    let hooked = TelegramEmulator::start(TOKEN).await.unwrap();
    let channels = format!("{}{}", telegram_channel("tg", &polled, true, TOKEN), telegram_channel("hook", &hooked, false, TOKEN));
    // All three at once on the new store: one of them creates the admin, the others find it.
    let (a, b, c) = tokio::join!(
        Server::start_with(&channels, host_options(&store), None),
        Server::start_with(&channels, host_options(&store), None),
        Server::start_with(&channels, host_options(&store), None),
    );
    let mut hosts = vec![Some(a), Some(b), Some(c)];
    let holder = poller(&all(&hosts), "tg").await;

    // An agent on another host than the one a webhook reaches sees its ticket.
    let (taker, watcher) = ((holder + 1) % 3, (holder + 2) % 3);
    let seen = listen(hosts[watcher].as_ref().unwrap()).await;
    let posted = std::time::Instant::now();
    assert_eq!(hosts[taker].as_ref().unwrap().webhook("hook", telegram_update(1, "webhook message on one host"), Some(SECRET)).await, 200);
    assert!(
        eventually(WAIT, || async { seen.lock().unwrap().iter().flat_map(events_of).any(|e| e["type"] == "ticket_updated" && e["ticket"]["preview"] == "webhook message on one host") }).await,
        "the watching host's agent got the other host's ticket"
    );
    eprintln!("another host's webhook reached this host's socket in {:?}", posted.elapsed());
    // How long that takes (the figure in docs/benchmarks.md, "Several hosts").
    let mut took = Vec::new();
    for n in 0..40u64 {
        let text = format!("latency probe {n}");
        let at = std::time::Instant::now();
        assert_eq!(hosts[taker].as_ref().unwrap().webhook("hook", telegram_update(1000 + n, &text), Some(SECRET)).await, 200);
        while !seen.lock().unwrap().iter().flat_map(events_of).any(|e| e["ticket"]["preview"] == text.as_str()) {
            assert!(at.elapsed() < WAIT, "the probe reached the other host");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        took.push(at.elapsed());
    }
    took.sort();
    eprintln!("webhook on one host -> event on another host's socket: p50 {:?} p99 {:?}", took[took.len() / 2], took[took.len() * 99 / 100]);

    // Traffic through all three: polled messages, and webhooks spread over the hosts.
    let mut posted = 1;
    let probes = 40;
    let mut sent_polled = 0;
    let send = |sent: &mut u64| {
        *sent += 1;
        polled.private_text(&User::new(9000 + *sent as i64, &format!("Polled{sent}"), None, None), &format!("polled message polledno{sent}"));
    };
    for _ in 0..20 {
        send(&mut sent_polled);
    }
    for h in 0..3 {
        for _ in 0..10 {
            posted += 1;
            assert_eq!(hosts[h].as_ref().unwrap().webhook("hook", telegram_update(posted, &format!("hooked message number{posted}")), Some(SECRET)).await, 200);
        }
    }

    // The poller is paused (SIGSTOP) while customers go on writing: another host takes the
    // channel over within two lease periods.
    let expected = |sent: u64| sent as usize + posted as usize + probes;
    let paused = poller(&all(&hosts), "tg").await;
    eprintln!("host {paused} polls now (host {holder} did at the start)");
    let pause_pid = hosts[paused].as_ref().unwrap().pid().to_string();
    std::process::Command::new("kill").args(["-STOP", &pause_pid]).status().unwrap();
    let stopped_at = std::time::Instant::now();
    for _ in 0..10 {
        send(&mut sent_polled);
    }
    let running: Vec<usize> = (0..3).filter(|h| *h != paused).collect();
    let newest = format!("q=polledno{sent_polled}");
    let running_hosts: Vec<&Server> = running.iter().map(|h| hosts[*h].as_ref().unwrap()).collect();
    assert!(
        eventually(Duration::from_secs_f64(LEASE_SECONDS * 2.0 + 3.0), || async { running_hosts[0].tickets(&newest).await.len() == 1 }).await,
        "another host polls the paused host's channel within two lease periods"
    );
    eprintln!("the paused poller's channel was polled by another host after {:?}", stopped_at.elapsed());
    let second = running[poller(&running_hosts, "tg").await];

    // The new poller is killed mid-ingest: the last running host takes over.
    let killed = hosts[second].take().unwrap();
    for _ in 0..20 {
        send(&mut sent_polled);
    }
    let killed_at = std::time::Instant::now();
    drop(killed.kill().await);
    let survivor = *running.iter().find(|h| **h != second).unwrap();
    let s = hosts[survivor].as_ref().unwrap();
    let newest = format!("q=polledno{sent_polled}");
    assert!(
        eventually(Duration::from_secs_f64(LEASE_SECONDS * 2.0 + 3.0), || async { s.tickets(&newest).await.len() == 1 }).await,
        "the surviving host polls the channel within two lease periods"
    );
    eprintln!("the killed poller's channel was polled again by another host after {:?}", killed_at.elapsed());
    assert!(!standing_by(s, "tg").await, "the survivor polls the channel now");
    assert!(
        eventually(WAIT, || async { s.tickets("queue=all&limit=200").await.len() == expected(sent_polled) }).await,
        "the surviving host has every ticket: {} of {}",
        s.tickets("queue=all&limit=200").await.len(),
        expected(sent_polled)
    );

    // The first poller comes back: its lease is gone (two takeovers moved its epoch), so it is
    // fenced out of writing a cursor and stands by; its index catches up.
    std::process::Command::new("kill").args(["-CONT", &pause_pid]).status().unwrap();
    let p = hosts[paused].as_ref().unwrap();
    assert!(eventually(Duration::from_secs(20), || async { standing_by(p, "tg").await }).await, "the resumed host stands by");
    for _ in 0..5 {
        send(&mut sent_polled);
    }
    let expected = expected(sent_polled);
    for h in all(&hosts) {
        assert!(eventually(WAIT, || async { h.tickets("queue=all&limit=200").await.len() == expected }).await, "every host lists every ticket");
        // Every message once: one ticket per customer, each with its one message.
        let tickets = h.tickets("queue=all&limit=200").await;
        assert!(tickets.iter().all(|t| t["message_count"] == 1), "no message doubled");
        assert!(eventually(WAIT, || async { h.tickets("q=polledno35").await.len() == 1 && h.tickets("q=message&limit=200").await.len() == expected - probes }).await, "every host's search has every ticket");
    }
}

async fn channel_state(server: &Server, channel: &str) -> String {
    health(server, channel).await["state"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn a_channel_an_admin_disables_on_one_host_stops_on_every_host_and_comes_back_from_another() {
    let store = store_server().await;
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let channels = telegram_channel("tg", &emu, true, TOKEN);
    let (a, b) = tokio::join!(Server::start_with(&channels, host_options(&store), None), Server::start_with(&channels, host_options(&store), None));
    emu.private_text(&User::new(1, "First", None, None), "before the change");
    assert_eq!(a.wait_tickets("q=before", 1, WAIT).await.len(), 1);

    let (status, out) = call(&a, reqwest::Method::PATCH, "/api/v1/channels/tg", Some(&a.cookie), Some(json!({"enabled": false}))).await;
    assert_eq!(status, 200, "{out}");
    assert!(eventually(WAIT, || async { channel_state(&b, "tg").await == "disabled" }).await, "the other host disabled it too");
    // A long poll under way when it was disabled (2 s here) ends as it began.
    tokio::time::sleep(Duration::from_secs(3)).await;
    emu.private_text(&User::new(2, "Second", None, None), "while it is off");
    tokio::time::sleep(Duration::from_secs_f64(LEASE_SECONDS * 2.0)).await;
    assert!(a.tickets("q=while").await.is_empty() && b.tickets("q=while").await.is_empty(), "no host polled the disabled channel");

    let (status, out) = call(&b, reqwest::Method::PATCH, "/api/v1/channels/tg", Some(&b.cookie), Some(json!({"enabled": true}))).await;
    assert_eq!(status, 200, "{out}");
    assert!(eventually(WAIT, || async { channel_state(&a, "tg").await != "disabled" }).await, "enabled again on the first host");
    assert_eq!(a.wait_tickets("q=while", 1, WAIT).await.len(), 1, "polled again once enabled");
    assert_eq!(b.wait_tickets("q=while", 1, WAIT).await.len(), 1);
}

/// A socket on `server` with `cookie`: the close code it ends with.
async fn close_code_of_socket(server: &Server, cookie: &str) -> std::sync::Arc<std::sync::Mutex<Option<u16>>> {
    use futures::StreamExt;
    use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};
    let mut r = server.url("/api/v1/events").replacen("http", "ws", 1).into_client_request().unwrap();
    r.headers_mut().insert("cookie", cookie.parse().unwrap());
    r.headers_mut().insert("origin", server.base.parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(r).await.unwrap();
    let closed = std::sync::Arc::new(std::sync::Mutex::new(None));
    let into = closed.clone();
    tokio::spawn(async move {
        while let Some(Ok(m)) = ws.next().await {
            if let Message::Close(Some(frame)) = m {
                *into.lock().unwrap() = Some(u16::from(frame.code));
            }
        }
    });
    closed
}

#[tokio::test]
async fn signing_out_through_one_host_ends_the_session_on_every_host_at_once() {
    let store = store_server().await;
    let (a, b) = tokio::join!(Server::start_with("", host_options(&store), None), Server::start_with("", host_options(&store), None));
    // A session opened through host B, remembered there, with a socket open on it.
    let cookie = helpdesk_testkit::server::sign_in(&reqwest::Client::new(), &b.base, helpdesk_testkit::server::ADMIN_EMAIL, helpdesk_testkit::server::ADMIN_PASSWORD).await;
    let (status, _) = call(&b, reqwest::Method::GET, "/api/v1/me", Some(&cookie), None).await;
    assert_eq!(status, 200);
    let closed = close_code_of_socket(&b, &cookie).await;

    // Signed out through host A.
    let (status, _) = call(&a, reqwest::Method::DELETE, "/api/v1/session", Some(&cookie), None).await;
    assert!(status == 200 || status == 204, "{status}");
    assert!(
        eventually(Duration::from_secs(5), || async { call(&b, reqwest::Method::GET, "/api/v1/me", Some(&cookie), None).await.0 == 401 }).await,
        "host B refuses the session within seconds, not after its minute of remembering it"
    );
    assert!(
        eventually(Duration::from_secs(8), || async { *closed.lock().unwrap() == Some(4001) }).await,
        "host B's socket on that session was closed as signed out: {:?}",
        closed.lock().unwrap()
    );
}

#[tokio::test]
async fn work_arriving_through_two_hosts_is_handed_out_once_within_each_agents_capacity() {
    let store = store_server().await;
    let hooked = TelegramEmulator::start(TOKEN).await.unwrap();
    let channels = telegram_channel("hook", &hooked, false, TOKEN);
    let (a, b) = tokio::join!(Server::start_with(&channels, host_options(&store), None), Server::start_with(&channels, host_options(&store), None));
    let mut agents = Vec::new();
    for (email, name) in [("ann@x.example", "Ann"), ("bob@x.example", "Bob")] {
        let (s, u) = a.post("/api/v1/users", json!({"email": email, "name": name, "role": "agent", "password": "agent-password"})).await;
        assert_eq!(s, 201, "{u}");
        agents.push(u["id"].as_str().unwrap().to_string());
    }
    let (s, t) = b.post("/api/v1/teams", json!({"name": "Support", "members": agents, "channels": ["hook"], "auto_assign": true, "capacity": 3})).await;
    assert_eq!(s, 201, "{t}");
    // Ten customers at once, their webhooks spread over both hosts.
    let posts = (0..10u64).map(|n| {
        let host = if n % 2 == 0 { &a } else { &b };
        host.webhook("hook", telegram_update(100 + n, &format!("need help {n}")), Some(SECRET))
    });
    assert!(futures::future::join_all(posts).await.iter().all(|s| *s == 200));
    let held = || async {
        let tickets = a.tickets("channel=hook&queue=all&limit=200").await;
        let mut per_agent = std::collections::BTreeMap::<String, usize>::new();
        for t in &tickets {
            if let Some(who) = t["assignee"].as_str() {
                *per_agent.entry(who.to_string()).or_default() += 1;
            }
        }
        (tickets.len(), per_agent)
    };
    assert!(
        eventually(WAIT, || async {
            let (n, per_agent) = held().await;
            n == 10 && per_agent.values().sum::<usize>() == 6
        })
        .await,
        "six of the ten handed out: {:?}",
        held().await
    );
    // And no more than that a moment later: nobody went past their capacity of 3.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (_, per_agent) = held().await;
    assert_eq!(per_agent.values().copied().collect::<Vec<_>>(), [3, 3], "{per_agent:?}");
    let (_, on_b) = {
        let tickets = b.tickets("channel=hook&queue=all&limit=200").await;
        (0, tickets.iter().filter(|t| t["assignee"].is_string()).count())
    };
    assert_eq!(on_b, 6, "the other host shows the same assignments");
}
