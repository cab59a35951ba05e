//! Live delivery: from a webhook POST to the event on every agent's WebSocket, with many
//! agents connected.

use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use crate::env::{Env, SECRET};
use crate::stats::{summarize, Summary};
use futures::StreamExt;
use helpdesk_testkit::server::Options;
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

pub async fn run(env: &Env, clients: usize, events: usize) -> anyhow::Result<Summary> {
    let (_emu, server) = env.telegram_server(false, Options::memory()).await;
    let ws_url = server.url("/api/v1/events").replacen("http", "ws", 1);
    let (tx, mut rx) = mpsc::unbounded_channel::<(usize, Instant)>();
    for _ in 0..clients {
        let mut req = ws_url.as_str().into_client_request()?;
        req.headers_mut().insert("cookie", server.cookie.parse()?);
        let (mut ws, _) = tokio_tungstenite::connect_async(req).await?;
        let tx = tx.clone();
        tokio::spawn(async move {
            while let Some(Ok(msg)) = ws.next().await {
                let Ok(text) = msg.to_text() else { continue };
                // The marker is in the message text: `live<n>end` (several in a batch frame).
                for part in text.split("live").skip(1) {
                    if let Some(n) = part.split("end").next().and_then(|n| n.parse().ok()) {
                        let _ = tx.send((n, Instant::now()));
                    }
                }
            }
        });
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let http = reqwest::Client::new();
    let mut samples = Vec::with_capacity(clients * events);
    for n in 0..events {
        let update = json!({"update_id": n, "message": {"message_id": n + 1, "from": {"id": 42, "is_bot": false, "first_name": "Live"},
            "chat": {"id": 42, "type": "private", "first_name": "Live"}, "date": 1_700_000_000, "text": format!("live{n}end")}});
        let posted = Instant::now();
        let r = http.post(server.url("/webhooks/tg")).header("X-Telegram-Bot-Api-Secret-Token", SECRET).json(&update).send().await?;
        anyhow::ensure!(r.status().is_success(), "webhook answered {}", r.status());
        let mut got = 0;
        while got < clients {
            let (k, at) = tokio::time::timeout(Duration::from_secs(30), rx.recv()).await?.expect("clients alive");
            if k == n {
                samples.push(at - posted);
                got += 1;
            }
        }
    }
    let s = summarize(samples);
    println!("live delivery to {clients} clients: p50 {:?} p99 {:?}", s.p50, s.p99);
    Ok(s)
}
