//! Nothing lost, nothing doubled: the server is killed with SIGKILL at random moments while
//! Telegram streams thousands of messages, by polling and by webhook, and restarted each time.
//! At the end every message is stored exactly once, found by search exactly once, and the
//! index holds one document per stored ticket.
//!
//! `HELPDESK_CRASH_ROUNDS` and `HELPDESK_CRASH_MESSAGES` make a longer local run.

mod support;

use serde_json::json;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use support::*;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

const USERS: usize = 25;

fn users() -> Vec<User> {
    (0..USERS).map(|n| User::new(50_000 + n as i64, &format!("Customer{n}"), None, None)).collect()
}

fn token(n: usize) -> String {
    format!("msg{n:05}x")
}

/// Customers write messages `range` to the bot, about 400 a second.
fn stream_through(emu: &TelegramEmulator, range: std::ops::Range<usize>) -> tokio::task::JoinHandle<()> {
    let (emu, people) = (emu.clone(), users());
    tokio::spawn(async move {
        for n in range {
            emu.private_text(&people[n % USERS], &token(n));
            if n % 25 == 0 {
                tokio::time::sleep(Duration::from_millis(60)).await;
            }
        }
    })
}

/// Kill and restart the server `rounds` times at random moments, then start it once more and
/// return it with the stream finished.
async fn crash_loop(channel: &str, opts: impl Fn() -> Options, rounds: usize, streaming: tokio::task::JoinHandle<()>) -> Server {
    let mut data = None;
    for round in 0..rounds {
        let server = Server::start_with(channel, opts(), data).await;
        let alive = Duration::from_millis(200 + fastrand::u64(..1300));
        tokio::time::sleep(alive).await;
        println!("round {round}: SIGKILL after {alive:?}");
        data = Some(server.kill().await);
    }
    let server = Server::start_with(channel, opts(), data).await;
    streaming.await.unwrap();
    server
}

/// Every message is stored once and searchable once; the index agrees with the store.
async fn assert_exactly_once(server: &Server, total: usize, expected_tickets: usize) {
    let settled = eventually(Duration::from_secs(120), || async {
        let s = server.status().await;
        s["messages"] == total && s["indexed_tickets"] == s["tickets"] && s["index_watermark"] == s["store_seq"]
    })
    .await;
    let status = server.status().await;
    assert!(settled, "store and index did not settle: {status}");
    assert_eq!(status["tickets"], expected_tickets, "{status}");

    let mut seen: HashMap<String, usize> = HashMap::new();
    for t in server.tickets("queue=all&limit=200").await {
        for m in server.ticket(t["id"].as_str().unwrap()).await["messages"].as_array().unwrap() {
            *seen.entry(m["text"].as_str().unwrap().to_string()).or_default() += 1;
        }
    }
    for n in 0..total {
        assert_eq!(seen.get(&token(n)).copied(), Some(1), "{} is stored {:?} times", token(n), seen.get(&token(n)));
        let hits = server.get(&format!("/api/v1/tickets?q={}", token(n))).await.1;
        assert_eq!(hits["total"], 1, "{} is found {} times by search", token(n), hits["total"]);
    }
}

#[tokio::test]
async fn sigkill_while_polling_loses_and_doubles_nothing() {
    let rounds = env_or("HELPDESK_CRASH_ROUNDS", 10);
    let total = env_or("HELPDESK_CRASH_MESSAGES", 2_000);
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let channel = telegram_channel("tg", &emu, true, TOKEN);
    let stream = stream_through(&emu, 0..total);
    let started = Instant::now();
    let server = crash_loop(&channel, Options::disk, rounds, stream).await;
    assert_exactly_once(&server, total, USERS).await;
    println!("{total} messages through {rounds} SIGKILLs in {:?}", started.elapsed());
}

#[tokio::test]
async fn sigkill_while_webhooks_are_posted_loses_and_doubles_nothing() {
    let rounds = env_or("HELPDESK_CRASH_ROUNDS", 10);
    let total = env_or("HELPDESK_CRASH_MESSAGES", 2_000);
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let channel = telegram_channel("tg", &emu, false, TOKEN);
    let listen = format!("127.0.0.1:{}", free_port());
    let opts = || Options { listen: Some(listen.clone()), ..Options::disk() };
    reqwest::Client::new()
        .post(format!("{}/bot{TOKEN}/setWebhook", emu.base_url()))
        .json(&json!({"url": format!("http://{listen}/webhooks/tg"), "secret_token": SECRET}))
        .send()
        .await
        .unwrap();
    let people = users();
    // Half the messages come through Telegram's own (sequential, retrying) webhook delivery,
    // half are posted by four concurrent senders that retry until answered 200, as platforms do.
    let half = total / 2;
    let via_emulator = stream_through(&emu, 0..half);
    let senders: Vec<_> = (0..4)
        .map(|s| {
            let url = format!("http://{listen}/webhooks/tg");
            let people = people.clone();
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                for n in (half + s..total).step_by(4) {
                    let user = &people[n % USERS];
                    let update = json!({"update_id": n, "message": {
                        "message_id": 1_000_000 + n, "from": {"id": user.id, "is_bot": false, "first_name": user.first_name},
                        "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
                        "date": 1_700_000_000 + n as i64, "text": token(n)}});
                    loop {
                        let r = http
                            .post(&url)
                            .header("X-Telegram-Bot-Api-Secret-Token", SECRET)
                            .json(&update)
                            .timeout(Duration::from_secs(5))
                            .send()
                            .await;
                        if matches!(r, Ok(r) if r.status().is_success()) {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            })
        })
        .collect();
    let stream = tokio::spawn(async move {
        via_emulator.await.unwrap();
        for s in senders {
            s.await.unwrap();
        }
    });
    let started = Instant::now();
    let server = crash_loop(&channel, opts, rounds, stream).await;
    assert!(eventually(Duration::from_secs(60), || async { emu.pending_updates() == 0 }).await, "Telegram still holds updates");
    assert_exactly_once(&server, total, USERS).await;
    println!("{total} messages through {rounds} SIGKILLs in {:?}", started.elapsed());
}
