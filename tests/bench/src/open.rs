//! Opening a ticket: `GET /api/v1/tickets/{id}` for a conversation of many messages.

use crate::env::{settled, Env};
use crate::stats::{summarize, Summary};
use helpdesk_testkit::server::Options;
use helpdesk_testkit::telegram::User;
use std::time::{Duration, Instant};

pub async fn run(env: &Env, messages: usize, reps: usize) -> anyhow::Result<(Summary, usize)> {
    let (emu, server) = env.telegram_server(true, Options::disk()).await;
    let user = User::new(4242, "Longtalker", None, None);
    let mut rng = fastrand::Rng::with_seed(3);
    for _ in 0..messages {
        emu.private_text(&user, &crate::workload::sentence(&mut rng));
    }
    anyhow::ensure!(settled(&server, messages as u64, Duration::from_secs(1800)).await, "the conversation was not ingested");
    let id = server.tickets("queue=all").await[0]["id"].as_str().unwrap_or_default().to_string();
    let http = reqwest::Client::new();
    let mut samples = Vec::new();
    let mut bytes = 0;
    for _ in 0..reps {
        let started = Instant::now();
        let body = http.get(server.url(&format!("/api/v1/tickets/{id}"))).header("cookie", &server.cookie).send().await?.bytes().await?;
        samples.push(started.elapsed());
        bytes = body.len();
    }
    let s = summarize(samples);
    println!("open a {messages}-message ticket: p50 {:?} ({} KiB)", s.p50, bytes / 1024);
    Ok((s, bytes))
}
