//! A long conversation: whether its messages keep arriving as fast at the end as at the start,
//! and `GET /api/v1/tickets/{id}` for it (the newest pages).

use crate::env::{Env, settled};
use crate::stats::{Summary, summarize};
use helpdesk_testkit::server::Options;
use helpdesk_testkit::telegram::User;
use std::time::{Duration, Instant};

pub struct Long {
    pub open: Summary,
    pub bytes: usize,
    /// Messages stored per second over the first and the last tenth of the conversation.
    pub first_rate: f64,
    pub last_rate: f64,
}

pub async fn run(env: &Env, messages: usize, reps: usize) -> anyhow::Result<Long> {
    let (emu, server) = env.telegram_server(true, Options::disk()).await;
    let user = User::new(4242, "Longtalker", None, None);
    let mut rng = fastrand::Rng::with_seed(3);
    for _ in 0..messages {
        emu.private_text(&user, &crate::workload::sentence(&mut rng));
    }
    // (time, messages stored) while the poll loop drains the conversation.
    let mut samples = vec![(Instant::now(), 0u64)];
    let deadline = Instant::now() + Duration::from_secs(1800);
    while samples.last().is_some_and(|s| s.1 < messages as u64) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        samples.push((
            Instant::now(),
            server.status().await["messages"].as_u64().unwrap_or(0),
        ));
    }
    anyhow::ensure!(
        settled(&server, messages as u64, Duration::from_secs(60)).await,
        "the conversation was not ingested"
    );
    let tenth = messages as u64 / 10;
    let rate = |from: u64, to: u64| {
        let at = |n: u64| {
            samples
                .iter()
                .find(|s| s.1 >= n)
                .map(|s| s.0)
                .unwrap_or_else(Instant::now)
        };
        (to - from) as f64 / at(to).duration_since(at(from)).as_secs_f64().max(1e-3)
    };
    let (first_rate, last_rate) = (
        rate(0, tenth),
        rate(messages as u64 - tenth, messages as u64),
    );
    println!(
        "long conversation: {first_rate:.0} messages/s over the first tenth, {last_rate:.0}/s over the last"
    );
    let id = server.tickets("queue=all").await[0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let http = reqwest::Client::new();
    let mut samples = Vec::new();
    let mut bytes = 0;
    for _ in 0..reps {
        let started = Instant::now();
        let body = http
            .get(server.url(&format!("/api/v1/tickets/{id}")))
            .header("cookie", &server.cookie)
            .send()
            .await?
            .bytes()
            .await?;
        samples.push(started.elapsed());
        bytes = body.len();
    }
    let open = summarize(samples);
    println!(
        "open a {messages}-message ticket: p50 {:?} ({} KiB)",
        open.p50,
        bytes / 1024
    );
    Ok(Long {
        open,
        bytes,
        first_rate,
        last_rate,
    })
}
