//! Hostile plugins are contained: beside a healthy Telegram channel, channels whose plugin
//! loops, hoards memory, panics, returns garbage, calls hosts it was not granted, floods the
//! network or blocks its webhook. The server keeps answering, Telegram keeps flowing, each bad
//! channel is degraded with a reason a person understands and retried with backoff, and the
//! server's memory stays bounded.

mod support;

use axum::routing::get;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::*;

/// How much slower than usual a healthy channel's message may become visible while the bad
/// channels misbehave: it normally takes well under a second.
const HEALTHY_BOUND: Duration = Duration::from_secs(3);
/// Resident memory the server may reach while hosting them.
const RSS_BOUND_MIB: u64 = 700;

fn hostile_channel(misbehave: &str, poll: bool, extra_hosts: &[String], target_url: &str) -> String {
    let hosts: Vec<String> = extra_hosts.iter().map(|h| format!("\"{h}\"")).collect();
    format!(
        r#"
[[channel]]
id = "bad-{misbehave}"
plugin = "{dir}/hostile.wasm"
display_name = "Hostile {misbehave}"
poll = {poll}
allowed_hosts = [{hosts}]
[channel.config]
misbehave = "{misbehave}"
target_url = "{target_url}"
[channel.limits]
cpu_ms = 500
memory_mb = 32
timeout_ms = 2000
"#,
        dir = test_plugin_dir().display(),
        hosts = hosts.join(", "),
    )
}

/// A loopback HTTP server counting the requests it gets.
async fn counting_sink() -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let app = axum::Router::new().route(
        "/",
        get(move || {
            let h = h.clone();
            async move {
                h.fetch_add(1, Ordering::SeqCst);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr.to_string(), hits)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_plugins_are_contained_beside_a_healthy_channel() {
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let (sink, sink_hits) = counting_sink().await;
    let mut channels = telegram_channel("tg", &emu, true, TOKEN);
    for bad in ["loop", "alloc", "panic", "huge", "malformed", "ungranted", "burst"] {
        channels.push_str(&hostile_channel(bad, true, &[format!("http://{sink}")], &format!("http://{sink}/")));
    }
    for bad in ["webhook_loop", "webhook_sleep"] {
        channels.push_str(&hostile_channel(bad, false, &[], ""));
    }
    let server = Arc::new(Server::start(&channels).await);

    // Keep hitting the blocking webhooks while Telegram traffic flows.
    let hammer = {
        let server = server.clone();
        tokio::spawn(async move {
            let mut statuses = Vec::new();
            for _ in 0..4 {
                for ch in ["bad-webhook_loop", "bad-webhook_sleep"] {
                    let started = Instant::now();
                    let status = server.webhook(ch, b"{}".to_vec(), None).await;
                    statuses.push((ch, status, started.elapsed()));
                }
            }
            statuses
        })
    };

    let user = User::new(31337, "Healthy", None, None);
    let mut worst = Duration::ZERO;
    for n in 0..12 {
        let token = format!("healthy{n}marker");
        let sent = Instant::now();
        emu.private_text(&user, &token);
        let found = server.wait_tickets(&format!("q={token}"), 1, Duration::from_secs(15)).await;
        assert_eq!(found.len(), 1, "message {n} of the healthy channel never became visible");
        worst = worst.max(sent.elapsed());
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(worst < HEALTHY_BOUND, "the healthy channel slowed to {worst:?} (bound {HEALTHY_BOUND:?})");
    println!("healthy channel: worst time to searchable {worst:?}");

    // Blocking webhooks are cut off by the CPU budget or the timeout, and answered 503 so the
    // platform retries; they never hang the server.
    for (ch, status, took) in hammer.await.unwrap() {
        assert_eq!(status, 503, "{ch}");
        assert!(took < Duration::from_secs(5), "{ch} held a request for {took:?}");
    }

    let expect = [
        ("bad-loop", vec!["CPU budget"]),
        ("bad-alloc", vec!["memory limit"]),
        ("bad-panic", vec!["panicked at", "hostile plugin panicked on purpose"]),
        ("bad-huge", vec!["malformed", "6000 events"]),
        ("bad-ungranted", vec!["evil.example", "allowed_hosts"]),
        ("bad-burst", vec!["more than 100 HTTP requests in one call"]),
        ("bad-webhook_loop", vec!["CPU budget"]),
        ("bad-webhook_sleep", vec!["did not answer within 2 s"]),
    ];
    for (id, phrases) in expect {
        let ch = server.channel(id).await;
        let h = &ch["health"];
        assert_eq!(h["state"], "degraded", "{id}: {ch}");
        let error = h["last_error"].as_str().unwrap_or_default();
        for p in phrases {
            assert!(error.contains(p), "{id}: `{error}` should say `{p}`");
        }
        if !id.starts_with("bad-webhook") {
            // ~14 s of failures with 1 s, 2 s, 4 s, 8 s backoff is about 4 attempts, not hundreds.
            let failures = h["consecutive_failures"].as_u64().unwrap();
            assert!((2..=6).contains(&failures), "{id} was retried {failures} times: not backing off");
            assert!(h["next_retry_at"].as_i64().unwrap() > h["last_error_at"].as_i64().unwrap());
        }
        assert!(server.tickets(&format!("channel={id}")).await.is_empty(), "{id} stored something");
    }
    // A message the host cannot take is left out and named in health; the one beside it is
    // stored, and the channel goes on polling.
    let ch = server.channel("bad-malformed").await;
    let h = &ch["health"];
    assert_eq!(h["state"], "ok", "{ch}");
    assert_eq!(h["consecutive_failures"], 0, "{ch}");
    let error = h["last_error"].as_str().unwrap_or_default();
    assert!(error.contains("left out 1 event") && error.contains("empty platform id"), "{error}");
    let kept = server.tickets("channel=bad-malformed").await;
    assert_eq!(kept.len(), 1, "the good message beside the bad one is stored once");

    let burst_hits = sink_hits.load(Ordering::SeqCst);
    assert!(burst_hits <= 100 * 6, "the burst reached the network {burst_hits} times");

    let rss = server.rss_mib();
    println!("server RSS with 9 hostile channels: {rss} MiB");
    assert!(rss < RSS_BOUND_MIB, "server memory grew to {rss} MiB");
    assert_eq!(server.channel("tg").await["health"]["state"], "ok");
}
