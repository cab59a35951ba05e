//! `helpdesk-bench`: one run, every figure, printed as the tables of docs/benchmarks.md.
//! `./dev bench` builds everything optimised, starts PostgreSQL and runs it.

#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

mod env;
mod ingest;
mod languages;
mod live;
mod load;
mod open;
mod plugin;
mod postgres;
mod scale;
mod reports;
mod search;
mod stats;
mod workload;

use clap::Parser;
use stats::{ms, rate};
use std::path::PathBuf;

#[derive(Parser)]
struct Args {
    /// Tickets in the search workload.
    #[arg(long, default_value_t = 50_000)]
    tickets: usize,
    /// Messages in the search workload.
    #[arg(long, default_value_t = 500_000)]
    messages: usize,
    /// The full-size run: 1M tickets, 10M messages.
    #[arg(long)]
    full: bool,
    /// Interactions pushed through the whole pipeline.
    #[arg(long, default_value_t = 20_000)]
    ingest: usize,
    #[arg(long, default_value_t = 1_000)]
    ws_clients: usize,
    #[arg(long, default_value_t = 100)]
    live_events: usize,
    /// Messages in the long conversation.
    #[arg(long, default_value_t = 50_000)]
    open_messages: usize,
    #[arg(long, default_value_t = 50)]
    channels: usize,
    #[arg(long, default_value_t = 30)]
    reps: usize,
    /// A PostgreSQL connection string; without it the PostgreSQL columns are skipped.
    #[arg(long)]
    postgres: Option<String>,
    /// The `helpdesk` binary (default: next to this one).
    #[arg(long)]
    helpdesk: Option<PathBuf>,
    #[arg(long, default_value = "plugins/dist")]
    plugin_dir: PathBuf,
    #[arg(long, default_value = "tests/plugins/dist")]
    test_plugin_dir: PathBuf,
    /// How long SurrealDB may take to build its FULLTEXT index before its column is given up.
    /// It runs last, so a slow build cannot disturb the other figures.
    #[arg(long, default_value_t = 20)]
    surreal_fts_minutes: u64,
    /// Interactions flooding the server in the search workload's inbox (the `scale` section).
    #[arg(long, default_value_t = 20_000)]
    flood: usize,
    /// Run only these sections (ingest, search, scale, plugin, languages, live, long, load); all
    /// by default. `scale` runs on the search section's inbox, so it loads it too.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// How long the load test runs.
    #[arg(long, default_value_t = 60)]
    load_seconds: u64,
    #[arg(long, default_value_t = 2_000)]
    load_api_per_s: u32,
    #[arg(long, default_value_t = 500)]
    load_webhooks_per_s: u32,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = Args::parse();
    if args.full {
        (args.tickets, args.messages) = (1_000_000, 10_000_000);
    }
    let helpdesk = match args.helpdesk.clone() {
        Some(p) => p,
        None => std::env::current_exe()?.with_file_name("helpdesk"),
    };
    let env = env::Env {
        helpdesk,
        plugin_dir: args.plugin_dir.canonicalize()?,
        test_plugin_dir: args.test_plugin_dir.canonicalize()?,
        cache: tempfile::tempdir()?,
    };
    let mut report = String::new();
    let mut line = |s: String| {
        println!("{s}");
        report.push_str(&s);
        report.push('\n');
    };

    let want = |section: &str| args.only.is_empty() || args.only.iter().any(|s| s == section);

    if want("ingest") {
        let i = ingest::run(&env, args.ingest).await?;
        let ceiling = i.ceiling.max(i.raw_tantivy);
        line(format!(
            "\n## Ingestion ({} interactions)\n\n| path | rate |\n|---|---|",
            i.n
        ));
        line(format!(
            "| end to end, {} channels at once (10 Telegram polls, 10 WhatsApp webhooks of 10 messages) → inbox → SurrealDB → Tantivy → searchable | {} |",
            ingest::CHANNELS,
            rate(i.n, i.end_to_end)
        ));
        line(format!(
            "| end to end, one Telegram channel polling | {} |",
            rate(i.n, i.single)
        ));
        line(format!(
            "| one Telegram channel polling, {} rules on (5 acting on {} tickets' messages and more, 45 reading every message) | {} |",
            ingest::RULES,
            i.rules_matched,
            rate(i.n, i.with_rules)
        ));
        line(format!(
            "| the same, until the rules' tags, flags and history were written too | {} |",
            rate(i.n, i.rules_done)
        ));
        line(format!(
            "| ceiling: the {} rows the {}-channel run stored (message, ticket, contact, cursor), bulk INSERT into a fresh store with the same schema, 1,000 per statement | {} |",
            i.rows,
            ingest::CHANNELS,
            rate(i.n, i.ceiling)
        ));
        line(format!(
            "| ceiling: Tantivy add + one commit | {} |",
            rate(i.n, i.raw_tantivy)
        ));
        line(format!(
            "| ratio end to end ({} channels) / slower ceiling | {:.2} |",
            ingest::CHANNELS,
            ceiling.as_secs_f64() / i.end_to_end.as_secs_f64()
        ));
    }

    if want("search") || want("scale") {
        let w = workload::Workload::new(args.tickets, args.messages, 1);
        let mut loaded = search::load(&w).await?;
        let pg = match &args.postgres {
            Some(conn) => {
                let client = postgres::connect(conn).await?;
                let times = postgres::load(&client, &w).await?;
                Some((client, times))
            }
            None => None,
        };
        let cell = |s: &stats::Summary| format!("{} / {}", ms(s.p50), ms(s.p99));
        // (query, hits, helpdesk, ILIKE, full text); SurrealDB's column is filled in last.
        let mut rows = Vec::new();
        for q in search::agent_queries() {
            let (ours, hits) = search::helpdesk(&loaded, &q, args.reps).await?;
            let (ilike, fts, counted) = match &pg {
                Some((client, _)) => (
                    cell(
                        &postgres::run(client, &q, postgres::Mode::Ilike, args.reps.min(10))
                            .await?,
                    ),
                    cell(&postgres::run(client, &q, postgres::Mode::FullText, args.reps).await?),
                    cell(&postgres::run(client, &q, postgres::Mode::FullTextCounted, args.reps).await?),
                ),
                None => ("skipped".into(), "skipped".into(), "skipped".into()),
            };
            println!(
                "{}: {hits} hits, helpdesk {}, ILIKE {ilike}, full text {fts}, counted {counted}",
                q.name,
                cell(&ours)
            );
            rows.push((q, hits, cell(&ours), ilike, fts, counted));
        }

        let r = search::rebuild(&loaded).await?;
        line(format!(
            "\n## Rebuilding the search index from the store\n\n`helpdesk reindex` (and the rebuild on start after a lost index): {} tickets in {} ({}; first tenth {:.0}/s, last tenth {:.0}/s)",
            r.tickets,
            ms(r.time),
            rate(r.tickets as usize, r.time),
            r.first_tenth,
            r.last_tenth
        ));

        if want("scale") {
            let (dir, load_time, index_time) = loaded.close().await;
            let (s, dir) = scale::run(&env, dir, args.flood, args.reps).await?;
            line(format!(
                "\n## The server at this size ({} tickets)\n\n| what | figure |\n|---|---|\n\
                 | start (process → listening → first search answered, no rebuild) | {} |\n\
                 | `GET /api/v1/counts` (every queue), idle, p50 / p99 | {} / {} |\n\
                 | `GET /api/v1/counts` while {} interactions arrive by one Telegram poll ({}), p50 / p99 | {} / {} |\n\
                 | server RSS after start / peak during the flood (store cache {} MiB) | {} / {} MiB |",
                s.tickets,
                ms(s.start),
                ms(s.counts_idle.p50),
                ms(s.counts_idle.p99),
                s.ingested,
                rate(s.ingested, s.ingest_time),
                ms(s.counts_ingesting.p50),
                ms(s.counts_ingesting.p99),
                s.store_cache_mib,
                s.rss_started_mib,
                s.rss_peak_mib
            ));
            loaded = search::Loaded::reopen(dir, load_time, index_time).await?;
        }

        let fts_limit = std::time::Duration::from_secs(args.surreal_fts_minutes * 60);
        let surreal_fts =
            tokio::time::timeout(fts_limit, search::surreal_define_fts(&loaded)).await;
        let surreal_cells: Vec<String> = match &surreal_fts {
            Ok(Ok(_)) => {
                let mut cells = Vec::new();
                for (q, ..) in &rows {
                    cells.push(
                        search::surreal(&loaded, q, args.reps.min(10))
                            .await
                            .map(|s| cell(&s))
                            .unwrap_or_else(|e| format!("error: {e}")),
                    );
                }
                cells
            }
            Ok(Err(e)) => vec![format!("error: {e}"); rows.len()],
            Err(_) => {
                vec![format!("index not built in {} min", args.surreal_fts_minutes); rows.len()]
            }
        };
        line(format!(
            "\n## Search ({} tickets, {} messages; p50 / p99 of {} runs, newest first, 50 per page)\n",
            w.ticket_count(),
            w.message_count(),
            args.reps
        ));
        let fts_time = match &surreal_fts {
            Ok(Ok(t)) => ms(*t),
            _ => format!("not finished within {} min", args.surreal_fts_minutes),
        };
        line(format!(
            "Loading: helpdesk store {} + index {}; SurrealDB FULLTEXT index build {fts_time}{}\n",
            ms(loaded.load_time),
            ms(loaded.index_time),
            pg.as_ref()
                .map(|(_, (l, i))| format!("; PostgreSQL COPY {} + indexes {}", ms(*l), ms(*i)))
                .unwrap_or_default()
        ));
        line("The helpdesk answers each query with its page of 50 and the exact total of matching tickets; so does the last column (`count(*) OVER ()`), the same work. PostgreSQL's other two columns return the page alone, and stop once they have 50.\n".into());
        line("| query | hits | helpdesk (Tantivy + store), page + total | SurrealDB FULLTEXT | PostgreSQL ILIKE, page | PostgreSQL full text, page | PostgreSQL full text, page + total |\n|---|---|---|---|---|---|---|".into());
        for ((q, hits, ours, ilike, fts, counted), surreal) in rows.iter().zip(surreal_cells) {
            line(format!(
                "| {} | {hits} | {ours} | {surreal} | {ilike} | {fts} | {counted} |",
                q.name
            ));
        }

        let r = reports::run(&loaded, args.reps).await?;
        line(format!(
            "\n## Reports ({} tickets)\n\n| what | figure |\n|---|---|\n\
             | count the stored tickets and messages into report rows, once (an older store's first start) | {} ({} rows) |\n\
             | a 30-day report by channel from the rows (`GET /api/v1/reports?by=channel`), p50 / p99 | {} / {} |\n\
             | a 30-day report by day from the rows, p50 / p99 | {} / {} |\n\
             | the same figures (tickets in, messages in and the median first response by channel) summed from the tickets and messages in SurrealDB, p50 / p99 | {} / {} |\n\
             | the rows' figures equal the tickets' own | {} |",
            r.tickets,
            ms(r.rebuild),
            r.rows,
            ms(r.by_channel.p50),
            ms(r.by_channel.p99),
            ms(r.by_day.p50),
            ms(r.by_day.p99),
            ms(r.from_tickets.p50),
            ms(r.from_tickets.p99),
            if r.same { "yes" } else { "NO" }
        ));
    }

    if want("plugin") {
        let p = plugin::run(&env, 300, args.channels).await?;
        line("\n## Plugin calls\n\n| what | figure |\n|---|---|".into());
        line(format!(
            "| compile the Telegram component (cold, no cache) | {} |",
            ms(p.compile_cold)
        ));
        line(format!(
            "| load it from the compiled-code cache | {} |",
            ms(p.load_warm)
        ));
        line(format!(
            "| fresh instance + `fetch` (one getUpdates round trip), p50 / p99 | {} / {} |",
            ms(p.fetch.p50),
            ms(p.fetch.p99)
        ));
        line(format!(
            "| fresh instance + `fetch` returning 100 messages with no HTTP (test plugin `hostile`, `page`), p50 / p99 | {} / {} |",
            ms(p.bare.p50),
            ms(p.bare.p99)
        ));
        line(format!(
            "| the same returning an empty page (the instance and the call alone), p50 / p99 | {} / {} |",
            ms(p.empty.p50),
            ms(p.empty.p99)
        ));
        line(format!(
            "| server RSS with 1 Telegram channel | {} MiB |",
            p.rss_one_channel_mib
        ));
        line(format!(
            "| memory per additional enabled channel ({} channels) | {} KiB |",
            p.channels, p.rss_per_channel_kib
        ));
    }

    if want("languages") {
        let langs = languages::run(&env, args.reps.max(30)).await?;
        line("\n## Plugins in three languages\n\nThe Example channel (`plugins/examples`) as a component: size, Cranelift compile (cold) and load from the compiled-code cache (warm), and a fresh instance + `fetch` of a 10-message page from its emulator per call.\n\n| language | component | compile (cold) | cached load | fetch p50 / p99 |\n|---|---|---|---|---|".into());
        for l in &langs {
            line(format!("| {} | {:.1} MiB | {} | {} | {} / {} |", l.name, l.size_mib, ms(l.compile_cold), ms(l.load_warm), ms(l.fetch.p50), ms(l.fetch.p99)));
        }
    }

    if want("live") {
        let l = live::run(&env, args.ws_clients, args.live_events).await?;
        line(format!(
            "\n## Live delivery\n\nWebhook POST → `ticket_created`/`ticket_updated` on each of {} WebSockets ({} events, {} deliveries): p50 {} / p99 {}",
            args.ws_clients,
            args.live_events,
            l.n,
            ms(l.p50),
            ms(l.p99)
        ));
    }

    if want("long") {
        let o = open::run(&env, args.open_messages, args.reps).await?;
        line(format!(
            "\n## A long conversation\n\n{} messages in one Telegram chat, by polling: {:.0} stored per second over the first tenth, {:.0} over the last. \
         `GET /api/v1/tickets/{{id}}` (its newest pages, {} KiB of JSON): p50 {} / p99 {}",
            args.open_messages,
            o.first_rate,
            o.last_rate,
            o.bytes / 1024,
            ms(o.open.p50),
            ms(o.open.p99)
        ));
    }

    if want("load") {
        let plan = load::Plan {
            sockets: args.ws_clients,
            api_per_s: args.load_api_per_s,
            webhooks_per_s: args.load_webhooks_per_s,
            seconds: args.load_seconds,
        };
        let l = load::run(&env, &plan).await?;
        line(format!(
            "\n## Load\n\n{} WebSockets connected, {} API requests/s and {} webhooks/s (a third badly signed) for {} s on loopback\n\n\
             | traffic | sent | errors | p50 / p99 |\n|---|---|---|---|\n\
             | API (list, search, counts, open a ticket) | {} | {} | {} / {} |\n\
             | webhooks, correctly signed | {} | {} | {} / {} |\n\
             | webhooks, badly signed | {} | {} not refused | |\n\n\
             {} messages stored; {} events delivered to the sockets, {} sockets closed; peak server RSS {} MiB; \
             {} requests not sent because {} of their stream were already waiting for answers",
            plan.sockets,
            plan.api_per_s,
            plan.webhooks_per_s,
            plan.seconds,
            l.api.n,
            l.api_errors,
            ms(l.api.p50),
            ms(l.api.p99),
            l.webhooks.n,
            l.webhook_errors,
            ms(l.webhooks.p50),
            ms(l.webhooks.p99),
            l.forged,
            l.forged_accepted,
            l.stored,
            l.socket_events,
            l.sockets_dropped,
            l.peak_rss_mib,
            l.not_sent,
            3_000
        ));
    }

    std::fs::write("bench-report.md", report)?;
    println!("\n(written to bench-report.md)");
    // An abandoned SurrealDB index build may still be running inside the embedded engine.
    std::process::exit(0)
}
