//! Reports over the search workload's inbox: its stored tickets and messages counted into the
//! report rows once (what the first start of an older store does; live, each write adds its
//! own), then reports from the rows beside the same figures computed from the tickets and
//! messages themselves, as a report summed at request time would (Chatwoot's).

use crate::search::Loaded;
use crate::stats::{summarize, Summary};
use helpdesk::inbox::reports::{Group, ReportQuery};
use std::time::{Duration, Instant};

pub struct Figures {
    pub tickets: u64,
    pub rebuild: Duration,
    pub rows: usize,
    pub by_channel: Summary,
    pub by_day: Summary,
    pub from_tickets: Summary,
    /// The rows' tickets in and messages in per channel equal the tickets' own.
    pub same: bool,
}

pub async fn run(loaded: &Loaded, reps: usize) -> anyhow::Result<Figures> {
    let started = Instant::now();
    let tickets = loaded.inbox.rebuild_reports().await?;
    let rebuild = started.elapsed();
    let to = chrono::DateTime::from_timestamp_millis(crate::workload::NOW).expect("a time").date_naive();
    let from = to - chrono::Duration::days(29);
    let day_start = |d: chrono::NaiveDate| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc().timestamp_millis();
    let time = |group: Group| {
        let mut samples = Vec::new();
        for _ in 0..reps {
            let t = Instant::now();
            let r = loaded.inbox.report(&ReportQuery { from, to, by: group, only: None }).expect("a report");
            samples.push(t.elapsed());
            std::hint::black_box(r);
        }
        summarize(samples)
    };
    let (by_channel, by_day) = (time(Group::Channel), time(Group::Day));
    let mut samples = Vec::new();
    let mut raw = Default::default();
    for _ in 0..reps.min(10) {
        let t = Instant::now();
        raw = loaded.inbox.report_from_tickets(day_start(from), day_start(to + chrono::Duration::days(1))).await?;
        samples.push(t.elapsed());
    }
    let report = loaded.inbox.report(&ReportQuery { from, to, by: Group::Channel, only: None })?;
    let same = report.lines.len() == raw.len()
        && report.lines.iter().all(|l| raw.get(&l.key).is_some_and(|(tickets, messages, _)| *tickets == l.tickets_in && *messages == l.messages_in));
    Ok(Figures { tickets, rebuild, rows: loaded.inbox.report_rows_held(), by_channel, by_day, from_tickets: summarize(samples), same })
}
