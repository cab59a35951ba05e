//! The same inbox in PostgreSQL: `ILIKE` over message text (Chatwoot's search) and the
//! built-in full-text search: a stored `tsvector` column with a GIN index (so a match is not
//! recomputed from the text when the index's answer must be rechecked).

use crate::search::{AgentQuery, NOW};
use crate::stats::{summarize, Summary};
use crate::workload::Workload;
use bytes::Bytes;
use futures::SinkExt;
use std::time::{Duration, Instant};
use tokio_postgres::{Client, NoTls};

pub async fn connect(conn: &str) -> anyhow::Result<Client> {
    let (client, connection) = tokio_postgres::connect(conn, NoTls).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\t', " ").replace('\n', " ")
}

/// Load the workload; returns the time to load and to build the indexes.
pub async fn load(pg: &Client, w: &Workload) -> anyhow::Result<(Duration, Duration)> {
    pg.batch_execute(
        "DROP TABLE IF EXISTS messages; DROP TABLE IF EXISTS tickets;
         CREATE TABLE tickets (id text PRIMARY KEY, channel text, platform text, kind text, queue text, tags text[], last_message_at bigint, assignee text, handle text);
         CREATE TABLE messages (id text PRIMARY KEY, ticket_id text, author text, text text, created_at bigint);",
    )
    .await?;
    let started = Instant::now();
    for chunk in w.chunks() {
        let mut buf = String::new();
        for t in &chunk.tickets {
            buf.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}\t{{{}}}\t{}\t{}\t{}\n",
                t.id,
                t.channel,
                t.platform,
                t.kind.as_str(),
                t.queue.as_str(),
                t.tags.join(","),
                t.last_message_at,
                t.assignee.as_deref().unwrap_or("\\N"),
                t.contact.handle.as_deref().map(esc).unwrap_or_else(|| "\\N".into())
            ));
        }
        copy(pg, "COPY tickets FROM STDIN", buf).await?;
        let mut buf = String::new();
        for m in &chunk.messages {
            buf.push_str(&format!("{}\t{}\t{}\t{}\t{}\n", m.id, m.ticket_id, esc(&m.interaction.author.name), esc(&m.interaction.text), m.interaction.created_at));
        }
        copy(pg, "COPY messages FROM STDIN", buf).await?;
    }
    let load = started.elapsed();
    let started = Instant::now();
    pg.batch_execute(
        "CREATE INDEX ON messages (ticket_id);
         CREATE INDEX ON tickets (last_message_at DESC);
         CREATE INDEX ON tickets (queue, last_message_at DESC);
         CREATE INDEX ON tickets (assignee, last_message_at DESC);
         CREATE INDEX ON tickets (handle);
         ALTER TABLE messages ADD COLUMN tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED;
         CREATE INDEX messages_fts ON messages USING gin (tsv);
         ANALYZE;",
    )
    .await?;
    Ok((load, started.elapsed()))
}

async fn copy(pg: &Client, sql: &str, data: String) -> anyhow::Result<()> {
    let sink = pg.copy_in::<_, Bytes>(sql).await?;
    futures::pin_mut!(sink);
    sink.send(Bytes::from(data)).await?;
    sink.finish().await?;
    Ok(())
}

pub enum Mode {
    Ilike,
    FullText,
    /// Full text, and the total of matching tickets with the page (what the helpdesk returns).
    FullTextCounted,
}

fn sql(q: &AgentQuery, mode: &Mode) -> String {
    let mut conds = Vec::new();
    if let Some(v) = q.queue {
        conds.push(format!("t.queue = '{v}'"));
    }
    if let Some(v) = q.platform {
        conds.push(format!("t.platform = '{v}'"));
    }
    if let Some(v) = q.tag {
        conds.push(format!("'{v}' = ANY(t.tags)"));
    }
    if let Some(v) = q.assignee {
        conds.push(format!("t.assignee = '{v}'"));
    }
    if let Some((from, to)) = q.days {
        conds.push(format!("t.last_message_at >= {} AND t.last_message_at < {}", NOW - from * 86_400_000, NOW - to * 86_400_000));
    }
    if let Some(v) = q.contact {
        conds.push(format!("t.handle = '{v}'"));
    }
    let matching = |words: &[&str], phrase: bool| match mode {
        Mode::Ilike if phrase => format!("m.text ILIKE '%{}%'", words.join(" ")),
        Mode::Ilike => words.iter().map(|w| format!("m.text ILIKE '%{w}%'")).collect::<Vec<_>>().join(" AND "),
        _ if phrase => format!("m.tsv @@ phraseto_tsquery('simple', '{}')", words.join(" ")),
        _ => format!("m.tsv @@ plainto_tsquery('simple', '{}')", words.join(" ")),
    };
    if !q.words.is_empty() {
        conds.push(format!("EXISTS (SELECT 1 FROM messages m WHERE m.ticket_id = t.id AND {})", matching(&q.words, q.phrase)));
    }
    if !q.without.is_empty() {
        conds.push(format!("NOT EXISTS (SELECT 1 FROM messages m WHERE m.ticket_id = t.id AND {})", matching(&q.without, false)));
    }
    let filter = if conds.is_empty() { String::new() } else { format!("WHERE {}", conds.join(" AND ")) };
    let order = if q.oldest_first { "ASC" } else { "DESC" };
    let total = if matches!(mode, Mode::FullTextCounted) { ", count(*) OVER ()" } else { "" };
    format!("SELECT t.id{total} FROM tickets t {filter} ORDER BY t.last_message_at {order} LIMIT 50")
}

pub async fn run(pg: &Client, q: &AgentQuery, mode: Mode, reps: usize) -> anyhow::Result<Summary> {
    let sql = sql(q, &mode);
    let mut samples = Vec::new();
    pg.query(sql.as_str(), &[]).await?; // warm-up
    for _ in 0..reps {
        let started = Instant::now();
        pg.query(sql.as_str(), &[]).await?;
        samples.push(started.elapsed());
    }
    Ok(summarize(samples))
}
