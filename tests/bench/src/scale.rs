//! The server on the search workload's inbox: how long it takes to start and answer its first
//! search (no rebuild), every queue's count while a channel floods it, and its memory.

use crate::env::{settled, Env, SECRET, TOKEN};
use crate::stats::{summarize, Summary};
use helpdesk_testkit::server::{Options, Server};
use helpdesk_testkit::telegram::{TelegramEmulator, User};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub struct AtScale {
    pub tickets: u64,
    /// Process start → listening → the first search answered.
    pub start: Duration,
    pub counts_idle: Summary,
    pub counts_ingesting: Summary,
    pub ingested: usize,
    pub ingest_time: Duration,
    pub rss_started_mib: u64,
    pub rss_peak_mib: u64,
    pub store_cache_mib: u64,
}

/// `data` holds a store and index as the server lays them out (`store/`, `index/`); it is
/// handed back with the flood added (texts that match none of the search section's queries).
pub async fn run(env: &Env, data: tempfile::TempDir, ingest: usize, reps: usize) -> anyhow::Result<(AtScale, tempfile::TempDir)> {
    let emu = TelegramEmulator::start(TOKEN).await?;
    let toml = format!("plugin_dir = \"{}\"\n{}", env.plugin_dir.display(), emu.channel_toml("tg", true, TOKEN, SECRET));
    let started = Instant::now();
    let server = Server::spawn(&env.helpdesk, &toml, env.cache.path(), Options::disk(), Some(data)).await;
    loop {
        let (status, _) = server.get("/api/v1/tickets?q=refund&limit=50").await;
        if status == 200 {
            break;
        }
        anyhow::ensure!(started.elapsed() < Duration::from_secs(600), "no search answered: {status}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let start = started.elapsed();
    let rss_started_mib = server.rss_mib();
    let tickets = server.status().await["tickets"].as_u64().unwrap_or(0);

    let counts = async |n: usize| -> anyhow::Result<Vec<Duration>> {
        let mut samples = Vec::with_capacity(n);
        for _ in 0..n {
            let t = Instant::now();
            let (status, body) = server.get("/api/v1/counts").await;
            anyhow::ensure!(status == 200, "counts answered {status}: {body}");
            samples.push(t.elapsed());
        }
        Ok(samples)
    };
    let counts_idle = summarize(counts(reps.max(100)).await?);

    // The flood: a Telegram poll at full speed, while an agent's view keeps asking for counts.
    let before = server.status().await["messages"].as_u64().unwrap_or(0);
    let users: Vec<User> = (0..(ingest / 5).max(1)).map(|u| User::new(900_000 + u as i64, &format!("F{u}"), None, None)).collect();
    let peak = Arc::new(AtomicU64::new(rss_started_mib));
    let done = Arc::new(AtomicBool::new(false));
    let watch = {
        let (peak, done, pid) = (peak.clone(), done.clone(), server.pid());
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(helpdesk_testkit::server::rss_mib_of(pid), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let flood_started = Instant::now();
    for k in 0..ingest {
        emu.private_text(&users[k % users.len()], &format!("flood {k} hello"));
    }
    let mut ingesting = Vec::new();
    while server.status().await["messages"].as_u64().unwrap_or(0) < before + ingest as u64 {
        ingesting.extend(counts(10).await?);
        anyhow::ensure!(flood_started.elapsed() < Duration::from_secs(1800), "the flood was not stored");
    }
    anyhow::ensure!(settled(&server, before + ingest as u64, Duration::from_secs(600)).await, "the flood was not indexed");
    let ingest_time = flood_started.elapsed();
    done.store(true, Ordering::Relaxed);
    watch.await?;
    println!(
        "at scale ({tickets} tickets): start + first search {start:?}, counts p99 idle {:?} / ingesting {:?}, RSS {rss_started_mib} → {} MiB",
        counts_idle.p99,
        summarize(ingesting.clone()).p99,
        peak.load(Ordering::Relaxed)
    );
    let scale = AtScale {
        tickets,
        start,
        counts_idle,
        counts_ingesting: summarize(ingesting),
        ingested: ingest,
        ingest_time,
        rss_started_mib,
        rss_peak_mib: peak.load(Ordering::Relaxed),
        store_cache_mib: helpdesk::app::DEFAULT_STORE_CACHE_MIB,
    };
    Ok((scale, server.kill().await))
}
