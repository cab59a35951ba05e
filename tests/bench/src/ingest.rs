//! Ingestion end to end (emulated Telegram → plugin fetch → inbox → SurrealDB → Tantivy →
//! searchable) next to raw bulk inserts of the same records into SurrealDB and into Tantivy.

use crate::env::{settled, Env};
use crate::stats::rate;
use crate::workload::sentence;
use helpdesk_testkit::server::Options;
use helpdesk_testkit::telegram::User;
use serde_json::json;
use std::time::{Duration, Instant};

pub struct Figures {
    pub n: usize,
    pub end_to_end: Duration,
    pub raw_surreal: Duration,
    pub raw_tantivy: Duration,
}

pub async fn run(env: &Env, n: usize) -> anyhow::Result<Figures> {
    let mut rng = fastrand::Rng::with_seed(7);
    let texts: Vec<String> = (0..n).map(|_| sentence(&mut rng)).collect();
    let users: Vec<User> = (0..(n / 5).max(1)).map(|u| User::new(100_000 + u as i64, &format!("C{u}"), None, None)).collect();

    let (emu, server) = env.telegram_server(true, Options::disk()).await;
    let started = Instant::now();
    for (k, text) in texts.iter().enumerate() {
        emu.private_text(&users[k % users.len()], text);
    }
    anyhow::ensure!(settled(&server, n as u64, Duration::from_secs(1800)).await, "ingestion did not finish");
    let end_to_end = started.elapsed();
    drop(server);

    // The same records straight into SurrealDB (surrealkv), batches of 1,000.
    let dir = tempfile::tempdir()?;
    let db = surrealdb::engine::any::connect(format!("surrealkv://{}", dir.path().display())).await?;
    db.use_ns("bench").use_db("bench").await?;
    let started = Instant::now();
    for (b, chunk) in texts.chunks(1_000).enumerate() {
        let rows: Vec<_> = chunk
            .iter()
            .enumerate()
            .map(|(k, t)| json!({"id": format!("m{b}x{k}"), "ticket_id": format!("t{}", k % 200), "text": t, "created_at": k}))
            .collect();
        db.query("INSERT INTO message $rows").bind(("rows", serde_json::Value::Array(rows))).await?.check()?;
    }
    let raw_surreal = started.elapsed();

    // And straight into Tantivy, one commit.
    let dir = tempfile::tempdir()?;
    let mut schema = tantivy::schema::Schema::builder();
    let text_f = schema.add_text_field("text", tantivy::schema::TEXT);
    let id_f = schema.add_text_field("id", tantivy::schema::STRING | tantivy::schema::STORED);
    let index = tantivy::Index::create_in_dir(dir.path(), schema.build())?;
    let mut writer: tantivy::IndexWriter = index.writer(64 << 20)?;
    let started = Instant::now();
    for (k, t) in texts.iter().enumerate() {
        writer.add_document(tantivy::doc!(id_f => format!("m{k}"), text_f => t.as_str()))?;
    }
    writer.commit()?;
    let raw_tantivy = started.elapsed();
    println!(
        "ingestion: end to end {} ({}), raw SurrealDB {} , raw Tantivy {}",
        rate(n, end_to_end),
        crate::stats::ms(end_to_end),
        rate(n, raw_surreal),
        rate(n, raw_tantivy)
    );
    Ok(Figures { n, end_to_end, raw_surreal, raw_tantivy })
}
