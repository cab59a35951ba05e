//! The load test of `docs/SECURITY.md`: agents' sockets, API traffic and webhooks (a third of
//! them badly signed) at fixed rates at once, for a while. Legitimate traffic must see no error.

use crate::env::{Env, SECRET};
use crate::stats::{Summary, summarize};
use futures::StreamExt;
use helpdesk_testkit::server::{Options, Server};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub struct Plan {
    pub sockets: usize,
    pub api_per_s: u32,
    pub webhooks_per_s: u32,
    pub seconds: u64,
}

pub struct Load {
    /// Requests not sent because that many were already waiting for answers (the server fell
    /// behind the rate): each stream keeps at most `MAX_IN_FLIGHT` open.
    pub not_sent: u64,
    pub api: Summary,
    pub api_errors: u64,
    pub webhooks: Summary,
    pub webhook_errors: u64,
    /// Badly signed webhooks answered with anything but a refusal.
    pub forged_accepted: u64,
    pub forged: u64,
    pub socket_events: u64,
    pub sockets_dropped: u64,
    pub peak_rss_mib: u64,
    pub stored: u64,
}

#[derive(Default)]
struct Tally {
    samples: Mutex<Vec<Duration>>,
    errors: AtomicU64,
}

impl Tally {
    async fn record(&self, started: Instant, ok: bool) {
        self.samples.lock().await.push(started.elapsed());
        if !ok {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
    }
}

pub async fn run(env: &Env, plan: &Plan) -> anyhow::Result<Load> {
    let (_emu, server) = env.telegram_server(false, Options::disk()).await;
    let server = Arc::new(server);
    let events = Arc::new(AtomicU64::new(0));
    let dropped = Arc::new(AtomicU64::new(0));
    let ws_url = server.url("/api/v1/events").replacen("http", "ws", 1);
    for _ in 0..plan.sockets {
        let mut req = ws_url.as_str().into_client_request()?;
        req.headers_mut().insert("cookie", server.cookie.parse()?);
        req.headers_mut()
            .insert("origin", server.url("").trim_end_matches('/').parse()?);
        let (mut ws, _) = tokio_tungstenite::connect_async(req).await?;
        let (events, dropped) = (events.clone(), dropped.clone());
        tokio::spawn(async move {
            while let Some(msg) = ws.next().await {
                match msg {
                    Ok(m) if m.is_close() => break,
                    Ok(m) => {
                        // A batch frame carries several events.
                        let n = m.to_text().map(|t| t.matches(r#""type":"ticket_"#).count()).unwrap_or(0);
                        events.fetch_add(n as u64, Ordering::Relaxed);
                    }
                    Err(_) => break,
                }
            }
            dropped.fetch_add(1, Ordering::Relaxed);
        });
    }
    // Something to list and open before the webhooks start.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    let first = post_update(&http, &server, 0, SECRET).await?;
    anyhow::ensure!(first == 200, "the first webhook answered {first}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ticket = server.tickets("queue=all").await[0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    let api = Arc::new(Tally::default());
    let hooks = Arc::new(Tally::default());
    let forged = Arc::new(AtomicU64::new(0));
    let forged_accepted = Arc::new(AtomicU64::new(0));
    let peak = Arc::new(AtomicU64::new(server.rss_mib()));
    let not_sent = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_secs(plan.seconds);

    let watch = {
        let (server, peak) = (server.clone(), peak.clone());
        tokio::spawn(async move {
            while Instant::now() < until {
                peak.fetch_max(server.rss_mib(), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };
    let api_paths = [
        "/api/v1/tickets?queue=new".to_string(),
        "/api/v1/tickets?q=order".to_string(),
        "/api/v1/counts".to_string(),
        format!("/api/v1/tickets/{ticket}"),
    ];
    let api_gen = {
        let (http, server, api) = (http.clone(), server.clone(), api.clone());
        tokio::spawn(paced(plan.api_per_s, until, not_sent.clone(), move |n| {
            let (http, server, api) = (http.clone(), server.clone(), api.clone());
            let path = api_paths[n as usize % api_paths.len()].clone();
            async move {
                let started = Instant::now();
                let ok = match http.get(server.url(&path)).header("cookie", &server.cookie).send().await {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                api.record(started, ok).await;
            }
        }))
    };
    let hook_gen = {
        let (http, server, hooks, forged, forged_accepted) = (http.clone(), server.clone(), hooks.clone(), forged.clone(), forged_accepted.clone());
        tokio::spawn(paced(plan.webhooks_per_s, until, not_sent.clone(), move |n| {
            let (http, server, hooks, forged, forged_accepted) = (http.clone(), server.clone(), hooks.clone(), forged.clone(), forged_accepted.clone());
            let k = n as i64 + 1;
            async move {
                let started = Instant::now();
                if k % 3 == 0 {
                    forged.fetch_add(1, Ordering::Relaxed);
                    let status = post_update(&http, &server, k, "not-the-secret").await.unwrap_or(0);
                    if !(400..500).contains(&status) {
                        forged_accepted.fetch_add(1, Ordering::Relaxed);
                    }
                } else {
                    let status = post_update(&http, &server, k, SECRET).await.unwrap_or(0);
                    hooks.record(started, status == 200).await;
                }
            }
        }))
    };
    api_gen.await?;
    hook_gen.await?;
    watch.await?;
    let stored = server.status().await["messages"].as_u64().unwrap_or(0);
    let load = Load {
        not_sent: not_sent.load(Ordering::Relaxed),
        api: summarize(std::mem::take(&mut *api.samples.lock().await)),
        api_errors: api.errors.load(Ordering::Relaxed),
        webhooks: summarize(std::mem::take(&mut *hooks.samples.lock().await)),
        webhook_errors: hooks.errors.load(Ordering::Relaxed),
        forged_accepted: forged_accepted.load(Ordering::Relaxed),
        forged: forged.load(Ordering::Relaxed),
        socket_events: events.load(Ordering::Relaxed),
        sockets_dropped: dropped.load(Ordering::Relaxed),
        peak_rss_mib: peak.load(Ordering::Relaxed),
        stored,
    };
    println!(
        "load: api p99 {:?} ({} errors of {}), webhooks p99 {:?} ({} errors of {}), forged accepted {} of {}, {} socket events, {} sockets dropped, peak RSS {} MiB",
        load.api.p99,
        load.api_errors,
        load.api.n,
        load.webhooks.p99,
        load.webhook_errors,
        load.webhooks.n,
        load.forged_accepted,
        load.forged,
        load.socket_events,
        load.sockets_dropped,
        load.peak_rss_mib
    );
    Ok(load)
}

/// Start `make(n)` `per_s` times a second until `until`, open loop (a slow answer does not
/// slow the rate), and wait for all of them.
async fn paced<F, Fut>(per_s: u32, until: Instant, not_sent: Arc<AtomicU64>, make: F)
where
    F: Fn(u64) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / per_s as f64));
    let in_flight = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
    let mut tasks = Vec::new();
    let mut n = 0;
    while Instant::now() < until {
        tick.tick().await;
        let Ok(permit) = in_flight.clone().try_acquire_owned() else {
            not_sent.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let call = make(n);
        tasks.push(tokio::spawn(async move {
            call.await;
            drop(permit);
        }));
        n += 1;
    }
    futures::future::join_all(tasks).await;
}

/// Requests of one stream waiting for their answers at once (each holds a connection).
const MAX_IN_FLIGHT: usize = 3_000;

/// A Telegram update with a message from one of 500 customers.
async fn post_update(
    http: &reqwest::Client,
    server: &Server,
    n: i64,
    secret: &str,
) -> anyhow::Result<u16> {
    let user = 10_000 + n % 500;
    let update = json!({"update_id": n, "message": {"message_id": n + 1, "from": {"id": user, "is_bot": false, "first_name": format!("Customer {user}")},
        "chat": {"id": user, "type": "private", "first_name": format!("Customer {user}")}, "date": 1_700_000_000 + n,
        "text": format!("Where is my order {n}? It is late")}});
    let r = http
        .post(server.url("/webhooks/tg"))
        .header("X-Telegram-Bot-Api-Secret-Token", secret)
        .json(&update)
        .send()
        .await?;
    Ok(r.status().as_u16())
}
