//! Ingestion end to end (emulated platforms → plugins → inbox → SurrealDB → Tantivy →
//! searchable), with 20 channels delivering at once and with one Telegram poll alone, next
//! to its ceiling: a bulk write of exactly the rows the inbox wrote (the same tables and
//! indexes, read back from the server's store), and Tantivy adding the same texts.

use crate::env::{settled, Env, SECRET};
use crate::stats::rate;
use crate::workload::sentence;
use helpdesk::store::Store;
use helpdesk_testkit::graph::GraphEmulator;
use helpdesk_testkit::server::{Options, Server};
use helpdesk_testkit::telegram::{TelegramEmulator, User};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Channels in the many-channel run: half poll Telegram, half take WhatsApp webhooks.
pub const CHANNELS: usize = 20;
/// Messages in one WhatsApp webhook POST (Meta batches a number's messages).
const PER_WEBHOOK: usize = 10;

pub struct Figures {
    pub n: usize,
    /// 20 channels at once.
    pub end_to_end: Duration,
    /// One Telegram channel, polling.
    pub single: Duration,
    /// The rows the 20-channel run stored, bulk-inserted into a fresh store.
    pub ceiling: Duration,
    pub rows: usize,
    pub raw_tantivy: Duration,
    /// One Telegram channel, polling, with 50 active rules: stored and searchable.
    pub with_rules: Duration,
    /// The same, until the rules' own changes (tags, flags) were written too.
    pub rules_done: Duration,
    /// Messages the rules acted on.
    pub rules_matched: u64,
}

/// Rules in the run with rules.
pub const RULES: usize = 50;

pub async fn run(env: &Env, n: usize) -> anyhow::Result<Figures> {
    let mut rng = fastrand::Rng::with_seed(7);
    let texts: Vec<String> = (0..n).map(|_| sentence(&mut rng)).collect();

    let (end_to_end, server) = many_channels(env, &texts).await?;
    // Reading needs the store to itself: stop the server, keep its data.
    let data = server.kill().await;
    let dump = dump(&data).await?;
    drop(data);
    let single = single_channel(env, &texts).await?;
    let (with_rules, rules_done, rules_matched) = single_channel_with_rules(env, &texts).await?;
    let (ceiling, rows) = exact_rows(&dump).await?;
    let raw_tantivy = tantivy_ceiling(&texts)?;
    println!(
        "ingestion: {CHANNELS} channels {}, one Telegram poll {}, exact rows ({rows}) {}, raw Tantivy {}",
        rate(n, end_to_end),
        rate(n, single),
        rate(n, ceiling),
        rate(n, raw_tantivy)
    );
    Ok(Figures { n, end_to_end, single, ceiling, rows, raw_tantivy, with_rules, rules_done, rules_matched })
}

/// Half the texts through 10 Telegram polls, half as WhatsApp webhooks to 10 numbers, all at
/// once; the time until every one is stored and searchable.
async fn many_channels(env: &Env, texts: &[String]) -> anyhow::Result<(Duration, Server)> {
    let polls = CHANNELS / 2;
    let mut emus = Vec::new();
    let mut toml = String::new();
    for c in 0..polls {
        let token = format!("{}:BENCH-{c}", 6000 + c);
        let emu = TelegramEmulator::start(&token).await?;
        toml.push_str(&emu.channel_toml(&format!("tg{c}"), true, &token, SECRET));
        emus.push(emu);
    }
    let graph = GraphEmulator::start().await?;
    for c in 0..CHANNELS - polls {
        toml.push_str(&graph.whatsapp_channel_toml(&format!("wa{c}"), &format!("PN{c}")));
    }
    let server = env.server(&toml, Options::disk()).await;

    let (tg_texts, wa_texts) = texts.split_at(texts.len() / 2);
    let customers = (texts.len() / 5 / CHANNELS).max(1);
    let started = Instant::now();
    for (k, text) in tg_texts.iter().enumerate() {
        let c = k % polls;
        let u = (k / polls) % customers;
        emus[c].private_text(&User::new(100_000 + (c * customers + u) as i64, &format!("C{c}x{u}"), None, None), text);
    }
    let senders = (0..CHANNELS - polls).map(|c| {
        let (graph, url) = (graph.clone(), server.url(&format!("/webhooks/wa{c}")));
        let mine: Vec<(usize, &String)> = wa_texts.iter().enumerate().filter(|(k, _)| k % (CHANNELS - polls) == c).collect();
        async move {
            for chunk in mine.chunks(PER_WEBHOOK) {
                let messages: Vec<Value> = chunk
                    .iter()
                    .map(|(k, text)| {
                        let from = format!("4917{c:02}{:06}", (k / (CHANNELS - polls)) % customers);
                        json!({"from": from, "id": format!("wamid.B{k}"), "timestamp": "1764600000", "type": "text", "text": {"body": text}})
                    })
                    .collect();
                let contacts: Vec<Value> = messages.iter().map(|m| json!({"profile": {"name": m["from"]}, "wa_id": m["from"]})).collect();
                let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA1", "changes": [{"field": "messages", "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "15550001111", "phone_number_id": format!("PN{c}")},
                    "contacts": contacts, "messages": messages}}]}]});
                let body = serde_json::to_vec(&body).expect("json");
                // A busy answer is retried, as Meta retries.
                while graph.deliver(&url, &body, None).await != 200 {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    });
    futures::future::join_all(senders).await;
    anyhow::ensure!(settled(&server, texts.len() as u64, Duration::from_secs(1800)).await, "ingestion did not finish");
    Ok((started.elapsed(), server))
}

/// Every text through one Telegram channel's poll.
async fn single_channel(env: &Env, texts: &[String]) -> anyhow::Result<Duration> {
    let users: Vec<User> = (0..(texts.len() / 5).max(1)).map(|u| User::new(100_000 + u as i64, &format!("C{u}"), None, None)).collect();
    let (emu, server) = env.telegram_server(true, Options::disk()).await;
    let started = Instant::now();
    for (k, text) in texts.iter().enumerate() {
        emu.private_text(&users[k % users.len()], text);
    }
    anyhow::ensure!(settled(&server, texts.len() as u64, Duration::from_secs(1800)).await, "ingestion did not finish");
    Ok(started.elapsed())
}

/// As `single_channel`, with 50 rules on: 45 moderation rules whose words customers here never
/// write (they are read on every message and act on none), and 5 that tag or flag what mentions
/// a refund, a broken parcel, a password, a discount code or an invoice.
async fn single_channel_with_rules(env: &Env, texts: &[String]) -> anyhow::Result<(Duration, Duration, u64)> {
    let users: Vec<User> = (0..(texts.len() / 5).max(1)).map(|u| User::new(100_000 + u as i64, &format!("C{u}"), None, None)).collect();
    let (emu, server) = env.telegram_server(true, Options::disk()).await;
    for n in 0..RULES {
        let rule = match n {
            0 => json!({"name": "refunds", "trigger": "customer_message", "conditions": {"text": {"type": "words", "any": ["refund*", "reembolso"]}}, "actions": [{"type": "tag", "tag": "refund"}]}),
            1 => json!({"name": "broken", "trigger": "customer_message", "conditions": {"text": {"type": "regex", "pattern": "broken|damaged|kaputt"}}, "actions": [{"type": "flag"}]}),
            2 => json!({"name": "login", "trigger": "new_ticket", "conditions": {"text": {"type": "words", "any": ["password", "login"]}}, "actions": [{"type": "tag", "tag": "account"}]}),
            3 => json!({"name": "codes", "trigger": "customer_message", "conditions": {"kinds": ["private_message"], "text": {"type": "words", "any": ["discount code"]}}, "actions": [{"type": "tag", "tag": "promo"}]}),
            4 => json!({"name": "invoices", "trigger": "customer_message", "conditions": {"text": {"type": "words", "any": ["invoice", "factura", "Rechnung", "facture"]}}, "actions": [{"type": "tag", "tag": "billing"}]}),
            n => json!({"name": format!("spam {n}"), "trigger": "customer_message",
                "conditions": {"text": {"type": "words", "any": [format!("casino{n}"), format!("crypto{n}*"), "free money", "click here"]}},
                "actions": [{"type": "tag", "tag": "spam"}, {"type": "queue", "queue": "archived"}]}),
        };
        let (status, body) = server.post("/api/v1/rules", rule).await;
        anyhow::ensure!(status == 201, "rule {n}: {body}");
    }
    let started = Instant::now();
    for (k, text) in texts.iter().enumerate() {
        emu.private_text(&users[k % users.len()], text);
    }
    anyhow::ensure!(settled(&server, texts.len() as u64, Duration::from_secs(1800)).await, "ingestion did not finish");
    let stored = started.elapsed();
    // The rules' own writes move the store's change counter: done when it rests for a second.
    let mut last = server.status().await["store_seq"].clone();
    let mut still_since = Instant::now();
    while still_since.elapsed() < Duration::from_secs(1) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = server.status().await["store_seq"].clone();
        if now != last {
            (last, still_since) = (now, Instant::now());
        }
    }
    let done = still_since.duration_since(started);
    let mut r = server.get("/api/v1/tickets?queue=all&tag=refund&limit=1").await.1;
    let matched = r["total"].take().as_u64().unwrap_or(0);
    Ok((stored, done.max(stored), matched))
}

/// The inbox's rows (message, ticket, contact, channel_state), read from a stopped server's store.
type Dump = Vec<(&'static str, Vec<Value>)>;

const TABLES: [&str; 4] = ["message", "ticket", "contact", "channel_state"];

async fn dump(data: &tempfile::TempDir) -> anyhow::Result<Dump> {
    let store = Store::open(&crate::env::store_url(data.path())).await?;
    let mut dump = Vec::new();
    for table in TABLES {
        let mut r = store.raw().query(format!("SELECT *, record::id(id) AS id FROM {table}")).await?.check()?;
        dump.push((table, r.take::<Vec<Value>>(0)?));
    }
    Ok(dump)
}

/// The dumped rows into a fresh store (the helpdesk's schema), 1,000 per statement.
async fn exact_rows(dump: &Dump) -> anyhow::Result<(Duration, usize)> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(&crate::env::store_url(dir.path())).await?;
    let started = Instant::now();
    let mut rows = 0;
    for (table, records) in dump {
        for chunk in records.chunks(1_000) {
            store
                .raw()
                .query(format!("INSERT INTO {table} $rows RETURN NONE"))
                .bind(("rows", Value::Array(chunk.to_vec())))
                .await?
                .check()?;
            rows += chunk.len();
        }
    }
    Ok((started.elapsed(), rows))
}

/// The texts straight into Tantivy, one commit.
fn tantivy_ceiling(texts: &[String]) -> anyhow::Result<Duration> {
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
    Ok(started.elapsed())
}
