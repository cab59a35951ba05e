//! Reports: how fast the team answers and where its work comes from, kept as the work happens.
//! Every write notes what it did (a ticket in, a reply, a first answer after so long, a
//! resolution) in day rows per platform, channel, kind, agent, team and tag, written in the
//! write's own transaction. A report sums those rows (held in memory too), never the tickets:
//! its cost follows the days and values asked for, not the number of tickets.

use super::targets::Policy;
use crate::model::{Clock, Direction, Message, Millis, Queue, Ticket};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use utoipa::ToSchema;

/// What a row is about besides its day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Dim {
    /// Everything.
    All,
    Platform,
    Channel,
    Kind,
    Agent,
    Team,
    Tag,
}

/// Durations in buckets 5% wide on a log scale (under a second in one): quantiles of any
/// number of durations, merged from any rows, within 2.5%.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Hist(Vec<(u16, u64)>);

const GROWTH: f64 = 1.05;

impl Hist {
    fn bucket(ms: Millis) -> u16 {
        if ms < 1000 {
            0
        } else {
            1 + ((ms as f64 / 1000.0).ln() / GROWTH.ln()).floor() as u16
        }
    }

    /// The middle of a bucket (geometric).
    fn value(b: u16) -> Millis {
        if b == 0 {
            500
        } else {
            (1000.0 * GROWTH.powf(f64::from(b - 1) + 0.5)).round() as Millis
        }
    }

    pub fn add(&mut self, ms: Millis) {
        self.add_n(Self::bucket(ms.max(0)), 1);
    }

    fn add_n(&mut self, b: u16, n: u64) {
        match self.0.binary_search_by_key(&b, |(k, _)| *k) {
            Ok(i) => self.0[i].1 += n,
            Err(i) => self.0.insert(i, (b, n)),
        }
    }

    pub fn merge(&mut self, other: &Hist) {
        for (b, n) in &other.0 {
            self.add_n(*b, *n);
        }
    }

    pub fn count(&self) -> u64 {
        self.0.iter().map(|(_, n)| n).sum()
    }

    /// The duration below which a share `q` (0 to 1) of them lie.
    pub fn quantile(&self, q: f64) -> Option<Millis> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        self.0.iter().find(|(_, n)| {
            seen += n;
            seen >= rank
        }).map(|(b, _)| Self::value(*b))
    }
}

/// One clock's durations: in calendar time, in business hours, and against the target.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Times {
    pub calendar: Hist,
    pub business: Hist,
    pub met: u64,
    pub missed: u64,
}

impl Times {
    fn merge(&mut self, o: &Times) {
        self.calendar.merge(&o.calendar);
        self.business.merge(&o.business);
        self.met += o.met;
        self.missed += o.missed;
    }

    fn add(&mut self, d: &Duration) {
        self.calendar.add(d.calendar);
        if let Some(b) = d.business {
            self.business.add(b);
        }
        match d.met {
            Some(true) => self.met += 1,
            Some(false) => self.missed += 1,
            None => {}
        }
    }
}

/// What one row counts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Tallies {
    pub tickets_in: u64,
    pub messages_in: u64,
    pub messages_out: u64,
    /// Rules' auto-replies (also in `messages_out`).
    pub auto_replies: u64,
    /// Agents' answers (also in `messages_out`).
    pub replies: u64,
    pub resolved: u64,
    pub reopened: u64,
    pub first_response: Times,
    pub next_response: Times,
    pub resolution: Times,
}

impl Tallies {
    pub fn merge(&mut self, o: &Tallies) {
        self.tickets_in += o.tickets_in;
        self.messages_in += o.messages_in;
        self.messages_out += o.messages_out;
        self.auto_replies += o.auto_replies;
        self.replies += o.replies;
        self.resolved += o.resolved;
        self.reopened += o.reopened;
        self.first_response.merge(&o.first_response);
        self.next_response.merge(&o.next_response);
        self.resolution.merge(&o.resolution);
    }

    fn add(&mut self, fact: &Fact) {
        match fact {
            Fact::TicketIn => self.tickets_in += 1,
            Fact::MessageIn => self.messages_in += 1,
            Fact::MessageOut { by } => {
                self.messages_out += 1;
                match by {
                    Sender::Agent(_) => self.replies += 1,
                    Sender::Rule => self.auto_replies += 1,
                    Sender::Elsewhere => {}
                }
            }
            Fact::Answered { clock: Clock::FirstResponse, took, .. } => self.first_response.add(took),
            Fact::Answered { took, .. } => self.next_response.add(took),
            Fact::Resolved { took, .. } => {
                self.resolved += 1;
                self.resolution.add(took);
            }
            Fact::Reopened => self.reopened += 1,
        }
    }
}

/// How long something took, and whether its target was met (if one applies).
#[derive(Clone, Debug, PartialEq)]
pub struct Duration {
    pub calendar: Millis,
    /// Only the open minutes, where the channel has business hours.
    pub business: Option<Millis>,
    pub met: Option<bool>,
}

/// Who sent a message out.
#[derive(Clone, Debug, PartialEq)]
pub enum Sender {
    Agent(String),
    Rule,
    /// On the platform itself, not through the helpdesk.
    Elsewhere,
}

impl Sender {
    /// From a message's `sent_by`.
    fn of(sent_by: Option<&str>) -> Self {
        match sent_by {
            Some(a) if super::automation::is_person(a) => Sender::Agent(a.to_string()),
            Some(_) => Sender::Rule,
            None => Sender::Elsewhere,
        }
    }
}

/// How long from one moment to another took for `t`: on the clock, in its channel's business
/// hours, and against `minutes` of its target (counted as the target counts).
fn timer<'a>(policy: &'a Policy, t: &Ticket) -> impl Fn(Millis, Millis, Option<u32>) -> Duration + 'a {
    let target = policy.target_of(t);
    let hours = crate::accounts::hours_of(&policy.teams, &policy.channel_hours, &t.channel);
    move |from, to, minutes| {
        let business = hours.map(|h| h.open_between(from, to));
        let counted = if target.is_some_and(|x| x.business_hours) { business.unwrap_or(to - from) } else { to - from };
        Duration { calendar: (to - from).max(0), business, met: minutes.map(|m| counted <= i64::from(m) * 60_000) }
    }
}

/// One thing a write did that a report counts.
#[derive(Clone, Debug, PartialEq)]
pub enum Fact {
    /// A customer's ticket arrived (its first message from them).
    TicketIn,
    MessageIn,
    MessageOut { by: Sender },
    /// An agent answered a waiting customer: the first answer or a later one.
    Answered { clock: Clock, agent: String, took: Duration },
    Resolved { agent: Option<String>, took: Duration },
    Reopened,
}

impl Fact {
    /// The agent it is counted for: who acted, else (for what arrives) the assignee.
    fn agent<'a>(&'a self, t: &'a Ticket) -> Option<&'a str> {
        match self {
            Fact::MessageOut { by: Sender::Agent(a) } | Fact::Answered { agent: a, .. } => Some(a),
            Fact::Resolved { agent, .. } => agent.as_deref(),
            Fact::MessageOut { .. } => None,
            Fact::TicketIn | Fact::MessageIn | Fact::Reopened => t.assignee.as_deref(),
        }
    }
}

/// What one write did to one ticket, for the reports: `before` as stored (none if new),
/// `after` as written, the messages it added, and the person who resolved it if it was.
pub fn facts(before: Option<&Ticket>, after: &Ticket, added: &[&Message], resolver: Option<&str>, policy: &Policy, now: Millis) -> Vec<(Millis, Fact)> {
    let mut out = Vec::new();
    let target = policy.target_of(after);
    let took = timer(policy, after);
    if before.is_none_or(|b| b.last_inbound_at.is_none()) && after.last_inbound_at.is_some() {
        out.push((now, Fact::TicketIn));
    }
    let first_now = before.is_none_or(|b| b.first_response_at.is_none()) && after.first_response_at.is_some();
    let mut answered = false;
    for m in added {
        let at = m.interaction.created_at;
        if m.interaction.direction == Direction::Inbound {
            out.push((at, Fact::MessageIn));
            continue;
        }
        let by = Sender::of(m.sent_by.as_deref());
        if let (Sender::Agent(agent), false) = (&by, answered) {
            if first_now {
                let at = after.first_response_at.unwrap_or(at);
                let minutes = target.and_then(|t| t.first_response_minutes);
                out.push((at, Fact::Answered { clock: Clock::FirstResponse, agent: agent.clone(), took: took(after.created_at, at, minutes) }));
                answered = true;
            } else if let Some(since) = before.and_then(|b| b.waiting_since.filter(|_| b.first_response_at.is_some())) {
                let minutes = target.and_then(|t| t.next_response_minutes);
                out.push((at, Fact::Answered { clock: Clock::NextResponse, agent: agent.clone(), took: took(since, at.max(since), minutes) }));
                answered = true;
            }
        }
        out.push((at, Fact::MessageOut { by }));
    }
    let was = before.map(|b| b.queue);
    if after.queue == Queue::Resolved && was.is_some_and(|q| q != Queue::Resolved) && after.last_inbound_at.is_some() {
        let from = after.reopened_at.unwrap_or(after.created_at);
        let minutes = target.and_then(|t| t.resolution_minutes);
        let agent = resolver.filter(|a| super::automation::is_person(a)).map(str::to_string);
        out.push((now, Fact::Resolved { agent, took: took(from, now.max(from), minutes) }));
    }
    if was == Some(Queue::Resolved) && after.queue != Queue::Resolved {
        out.push((now, Fact::Reopened));
    }
    out
}

/// What a ticket stored before reports were kept did, as far as it shows: its arrival, its
/// messages, its first answer and each later one, and its resolution if it is resolved now (at
/// its last change, by nobody known). `messages` are its messages: direction, time, sender.
pub fn facts_of_stored(t: &Ticket, messages: &mut [(Direction, Millis, Option<String>)], policy: &Policy) -> Vec<(Millis, Fact)> {
    messages.sort_by_key(|(_, at, _)| *at);
    let mut before = t.clone();
    (before.queue, before.last_inbound_at, before.first_response_at, before.waiting_since, before.reopened_at) = (Queue::New, None, None, None, None);
    let mut out = Vec::new();
    if t.last_inbound_at.is_some() {
        out.push((t.created_at, Fact::TicketIn));
    }
    let target = policy.target_of(t);
    let took = timer(policy, t);
    let (mut waiting, mut answered) = (None::<Millis>, false);
    for (direction, at, sent_by) in messages.iter() {
        if *direction == Direction::Inbound {
            out.push((*at, Fact::MessageIn));
            waiting = waiting.or(Some(*at));
            continue;
        }
        let by = Sender::of(sent_by.as_deref());
        if let Sender::Agent(agent) = &by {
            if !answered {
                if let Some(first) = t.first_response_at {
                    out.push((first, Fact::Answered { clock: Clock::FirstResponse, agent: agent.clone(), took: took(t.created_at, first, target.and_then(|x| x.first_response_minutes)) }));
                    answered = true;
                }
            } else if let Some(since) = waiting {
                out.push((*at, Fact::Answered { clock: Clock::NextResponse, agent: agent.clone(), took: took(since, (*at).max(since), target.and_then(|x| x.next_response_minutes)) }));
            }
        }
        if by != Sender::Rule {
            waiting = None;
        }
        out.push((*at, Fact::MessageOut { by }));
    }
    if t.queue == Queue::Resolved && t.last_inbound_at.is_some() {
        let from = t.reopened_at.unwrap_or(t.created_at);
        out.push((t.updated_at, Fact::Resolved { agent: None, took: took(from, t.updated_at.max(from), target.and_then(|x| x.resolution_minutes)) }));
    }
    out
}

/// A row's place: the day (since the epoch, in the reports' time zone), what it is about, and
/// the value (a channel's id, an agent's, a tag; empty for everything).
pub type Key = (i32, Dim, String);

/// A row as stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Row {
    pub day: i32,
    pub dim: Dim,
    pub value: String,
    pub tallies: Tallies,
}

impl Row {
    pub fn id(&self) -> String {
        crate::model::stable_id("report", &format!("{}:{:?}:{}", self.day, self.dim, self.value))
    }
}

/// The rows a ticket's facts go to, besides the day.
fn places(t: &Ticket, fact: &Fact, policy: &Policy) -> Vec<(Dim, String)> {
    let mut p = vec![(Dim::All, String::new()), (Dim::Platform, t.platform.clone()), (Dim::Channel, t.channel.clone()), (Dim::Kind, t.kind.as_str().to_string())];
    let team = t.team.clone().or_else(|| policy.teams.iter().find(|tm| super::routing::team_of(tm, t)).map(|tm| tm.id.clone()));
    p.extend(team.map(|id| (Dim::Team, id)));
    p.extend(fact.agent(t).map(|a| (Dim::Agent, a.to_string())));
    p.extend(t.tags.iter().map(|tag| (Dim::Tag, tag.clone())));
    p
}

/// The day `ms` falls on in `tz`, counted from 1970-01-01.
pub fn day_of(ms: Millis, tz: chrono_tz::Tz) -> i32 {
    use chrono::TimeZone;
    let date = tz.timestamp_millis_opt(ms).single().map(|d| d.date_naive()).unwrap_or_default();
    (date - chrono::NaiveDate::default()).num_days() as i32
}

pub fn date_of(day: i32) -> chrono::NaiveDate {
    chrono::NaiveDate::default() + chrono::Duration::days(i64::from(day))
}

/// The rows kept in memory, as stored.
#[derive(Default)]
pub struct Rows(HashMap<Key, Tallies>);

impl Rows {
    pub fn load(rows: Vec<Row>) -> Self {
        Rows(rows.into_iter().map(|r| ((r.day, r.dim, r.value), r.tallies)).collect())
    }

    /// The rows `facts` change, with the facts added.
    pub fn with(&self, noted: &[(&Ticket, Vec<(Millis, Fact)>)], policy: &Policy, tz: chrono_tz::Tz) -> Vec<Row> {
        let mut changed: BTreeMap<Key, Tallies> = BTreeMap::new();
        for (t, facts) in noted {
            for (at, fact) in facts {
                let day = day_of(*at, tz);
                for (dim, value) in places(t, fact, policy) {
                    let key = (day, dim, value);
                    let row = changed.entry(key.clone()).or_insert_with(|| self.0.get(&key).cloned().unwrap_or_default());
                    row.add(fact);
                }
            }
        }
        changed.into_iter().map(|((day, dim, value), tallies)| Row { day, dim, value, tallies }).collect()
    }

    pub fn written(&mut self, rows: Vec<Row>) {
        for r in rows {
            self.0.insert((r.day, r.dim, r.value), r.tallies);
        }
    }

    /// Sum the rows of `dim` (and `value`, if given) from day `from` to day `to`, grouped.
    pub fn sum(&self, from: i32, to: i32, dim: Dim, value: Option<&str>, group: impl Fn(i32, &str) -> String) -> BTreeMap<String, Tallies> {
        let mut out: BTreeMap<String, Tallies> = BTreeMap::new();
        for ((day, d, v), t) in &self.0 {
            if *d == dim && (from..=to).contains(day) && value.is_none_or(|x| x == v) {
                out.entry(group(*day, v)).or_default().merge(t);
            }
        }
        out
    }
}

/// How a report groups its lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    Day,
    /// ISO weeks, Monday first.
    Week,
    Month,
    Platform,
    Channel,
    Kind,
    Agent,
    Team,
    Tag,
}

impl Group {
    fn dim(self) -> Option<Dim> {
        Some(match self {
            Group::Day | Group::Week | Group::Month => return None,
            Group::Platform => Dim::Platform,
            Group::Channel => Dim::Channel,
            Group::Kind => Dim::Kind,
            Group::Agent => Dim::Agent,
            Group::Team => Dim::Team,
            Group::Tag => Dim::Tag,
        })
    }

    /// The line a day belongs to, for the periods.
    fn period(self, day: i32) -> String {
        use chrono::Datelike;
        let d = date_of(day);
        match self {
            Group::Week => {
                let w = d.iso_week();
                format!("{}-W{:02}", w.year(), w.week())
            }
            Group::Month => d.format("%Y-%m").to_string(),
            _ => d.to_string(),
        }
    }
}

/// What a report asks: days `from` to `to` (inclusive, in the reports' time zone), grouped by
/// `by`, of everything or of one value of one dimension.
#[derive(Clone, Debug)]
pub struct ReportQuery {
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
    pub by: Group,
    pub only: Option<(Dim, String)>,
}

/// At most this many days in one report (two years).
pub const MAX_DAYS: i64 = 731;

/// A clock's figures over a report's line.
#[derive(Clone, Debug, Default, PartialEq, Serialize, ToSchema)]
pub struct Figures {
    pub count: u64,
    pub median_ms: Option<Millis>,
    pub p90_ms: Option<Millis>,
    /// Counting only business hours (where channels have them).
    pub business_median_ms: Option<Millis>,
    pub business_p90_ms: Option<Millis>,
    /// Against the response targets, where one applied.
    pub met: u64,
    pub missed: u64,
    /// `met` of `met + missed`, in percent.
    pub met_percent: Option<f64>,
}

impl Figures {
    fn of(t: &Times) -> Self {
        let judged = t.met + t.missed;
        Figures {
            count: t.calendar.count(),
            median_ms: t.calendar.quantile(0.5),
            p90_ms: t.calendar.quantile(0.9),
            business_median_ms: t.business.quantile(0.5),
            business_p90_ms: t.business.quantile(0.9),
            met: t.met,
            missed: t.missed,
            met_percent: (judged > 0).then(|| (t.met as f64 * 1000.0 / judged as f64).round() / 10.0),
        }
    }
}

/// One line of a report: a day, week or month, or a platform, channel, kind, agent, team or tag.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct ReportLine {
    /// `2026-12-01`, `2026-W49`, `2026-12`, or the value's id (a channel's, an agent's...).
    pub key: String,
    pub tickets_in: u64,
    pub messages_in: u64,
    pub messages_out: u64,
    pub auto_replies: u64,
    pub replies: u64,
    pub resolved: u64,
    pub reopened: u64,
    pub first_response: Figures,
    pub next_response: Figures,
    pub resolution: Figures,
    /// Agents only: how long they were Available in the period.
    pub available_ms: Option<Millis>,
}

impl ReportLine {
    pub fn of(key: String, t: &Tallies) -> Self {
        ReportLine {
            key,
            tickets_in: t.tickets_in,
            messages_in: t.messages_in,
            messages_out: t.messages_out,
            auto_replies: t.auto_replies,
            replies: t.replies,
            resolved: t.resolved,
            reopened: t.reopened,
            first_response: Figures::of(&t.first_response),
            next_response: Figures::of(&t.next_response),
            resolution: Figures::of(&t.resolution),
            available_ms: None,
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Report {
    #[schema(value_type = String, format = Date)]
    pub from: chrono::NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: chrono::NaiveDate,
    pub by: Group,
    pub time_zone: String,
    /// Periods in order (every one, empty or not); values by tickets in, most first.
    pub lines: Vec<ReportLine>,
    pub total: ReportLine,
}

/// The reports' settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportSettings {
    /// The IANA time zone days are counted in (`Europe/Berlin`). A change counts the days of
    /// what happens from then on; what was counted stays on its day.
    pub time_zone: String,
}

impl Default for ReportSettings {
    fn default() -> Self {
        ReportSettings { time_zone: "UTC".into() }
    }
}

const SETTINGS_ID: &str = "reports";

/// The settings as stored (with the record's id beside them).
#[derive(Deserialize)]
struct Stored {
    time_zone: String,
}

async fn stored_settings(store: &crate::store::Store) -> Result<ReportSettings, crate::store::StoreError> {
    Ok(store.get::<Stored>("settings", SETTINGS_ID).await?.map(|s| ReportSettings { time_zone: s.time_zone }).unwrap_or_default())
}

impl super::Inbox {
    pub(super) async fn load_reports(store: &crate::store::Store) -> Result<(Rows, chrono_tz::Tz), crate::store::StoreError> {
        let rows: Vec<Row> = store.select_where("SELECT day, dim, value, tallies FROM report", serde_json::json!({})).await?;
        let settings = stored_settings(store).await?;
        Ok((Rows::load(rows), settings.time_zone.parse().unwrap_or(chrono_tz::UTC)))
    }

    /// The day rows a write changes (to write in its transaction): the facts of every ticket
    /// it changed, added to the rows as stored.
    /// On a shared store, also each row's version as read (0: none yet), for the write to check.
    #[allow(clippy::type_complexity)]
    pub(super) async fn report_rows(&self, w: &super::Working, before: &HashMap<String, Ticket>, activities: &[crate::model::Activity], policy: &Policy, now: Millis) -> Result<(Vec<Row>, Vec<(String, i64)>), super::InboxError> {
        if self.reports_stale.swap(false, std::sync::atomic::Ordering::SeqCst) {
            match Self::load_reports(&self.store).await {
                Ok((rows, _)) => *self.reports.lock().expect("not poisoned") = rows,
                Err(e) => {
                    self.reports_stale.store(true, std::sync::atomic::Ordering::SeqCst);
                    return Err(e.into());
                }
            }
        }
        let mut added: HashMap<&str, Vec<&Message>> = HashMap::new();
        for m in w.new_messages.iter().filter(|id| w.created_messages.contains(*id)).filter_map(|id| w.messages.get(id)) {
            added.entry(m.ticket_id.as_str()).or_default().push(m);
        }
        let noted: Vec<(&Ticket, Vec<(Millis, Fact)>)> = w
            .changed_tickets
            .iter()
            .filter_map(|id| w.tickets.get(id))
            .map(|t| {
                let resolver = activities.iter().rev().find(|a| a.ticket_id == t.id && a.what == "queue.resolved").map(|a| a.actor.as_str());
                let added = added.get(t.id.as_str()).map(Vec::as_slice).unwrap_or(&[]);
                (t, facts(before.get(&t.id), t, added, resolver, policy, now))
            })
            .filter(|(_, f)| !f.is_empty())
            .collect();
        if noted.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let zone = *self.report_zone.read().expect("not poisoned");
        let rows = self.reports.lock().expect("not poisoned").with(&noted, policy, zone);
        if !self.store.is_shared() {
            return Ok((rows, Vec::new()));
        }
        // Other hosts write these rows too: they are added to as stored now, and the write
        // checks that each is still at the version read (else it is planned again).
        let ids: Vec<String> = rows.iter().map(Row::id).collect();
        let stored: Vec<serde_json::Value> = self
            .store
            .select_where("SELECT record::id(id) AS id, v ?? 0 AS v, day, dim, value, tallies FROM $ids.map(|$i| type::record('report', $i))", serde_json::json!({ "ids": ids }))
            .await?;
        let read: Vec<(String, i64)> = ids.iter().map(|id| (id.clone(), stored.iter().find(|r| r["id"] == id.as_str()).and_then(|r| r["v"].as_i64()).unwrap_or(0))).collect();
        {
            let mut held = self.reports.lock().expect("not poisoned");
            for row in &rows {
                held.0.remove(&(row.day, row.dim, row.value.clone()));
            }
            held.written(stored.into_iter().filter_map(|r| serde_json::from_value::<Row>(r).ok()).collect());
        }
        let rows = self.reports.lock().expect("not poisoned").with(&noted, policy, zone);
        Ok((rows, read))
    }

    /// Take in the rows as stored now, other hosts' counts included (a shared store's follower).
    pub(super) async fn reload_reports(&self) -> Result<(), crate::store::StoreError> {
        let (rows, _) = Self::load_reports(&self.store).await?;
        *self.reports.lock().expect("not poisoned") = rows;
        Ok(())
    }

    /// Count the stored tickets and messages into the report rows again, from nothing (the
    /// first start of a store kept before reports were): 500 tickets at a time, under the write
    /// lock so that no write goes uncounted or twice. Returns how many tickets it read.
    pub async fn rebuild_reports(&self) -> Result<u64, super::InboxError> {
        let _write = self.write_lock.lock().await;
        let policy = self.policy();
        let zone = *self.report_zone.read().expect("not poisoned");
        let mut rows = Rows::default();
        let (mut after, mut read) = (None::<String>, 0u64);
        loop {
            let page = self.store.tickets_in_id_order(after.as_deref(), 500).await?;
            let Some(last) = page.last() else { break };
            let mut messages: HashMap<String, Vec<(Direction, Millis, Option<String>)>> = HashMap::new();
            for (ticket, direction, at, sent_by) in self.store.message_facts(after.as_deref(), &last.id).await? {
                messages.entry(ticket).or_default().push((direction, at, sent_by));
            }
            after = Some(last.id.clone());
            read += page.len() as u64;
            let noted: Vec<(&Ticket, Vec<(Millis, Fact)>)> = page
                .iter()
                .map(|t| (t, facts_of_stored(t, messages.get_mut(&t.id).map(Vec::as_mut_slice).unwrap_or(&mut []), &policy)))
                .collect();
            let changed = rows.with(&noted, &policy, zone);
            rows.written(changed);
        }
        let docs: Vec<serde_json::Value> = rows.0.iter().map(|((day, dim, value), tallies)| {
            let row = Row { day: *day, dim: *dim, value: value.clone(), tallies: tallies.clone() };
            serde_json::json!({ "id": row.id(), "day": row.day, "dim": row.dim, "value": row.value, "tallies": row.tallies })
        }).collect();
        for part in docs.chunks(1_000) {
            self.store.write(&crate::store::WriteBatch { reports: part.to_vec(), ..Default::default() }).await?;
        }
        *self.reports.lock().expect("not poisoned") = rows;
        Ok(read)
    }

    /// How many report rows there are.
    pub fn report_rows_held(&self) -> usize {
        self.reports.lock().expect("not poisoned").0.len()
    }

    /// The time zone days are counted in, as set.
    pub fn report_zone(&self) -> chrono_tz::Tz {
        *self.report_zone.read().expect("not poisoned")
    }

    pub async fn report_settings(&self) -> Result<ReportSettings, super::InboxError> {
        Ok(stored_settings(&self.store).await?)
    }

    pub async fn set_report_settings(&self, s: ReportSettings) -> Result<ReportSettings, super::InboxError> {
        let tz: chrono_tz::Tz = s.time_zone.parse().map_err(|_| super::InboxError::BadRequest(format!("`{}` is not a time zone (e.g. Europe/Berlin)", s.time_zone)))?;
        let _write = self.write_lock.lock().await;
        self.store.put("settings", SETTINGS_ID, &s).await?;
        *self.report_zone.write().expect("not poisoned") = tz;
        Ok(s)
    }

    /// The report asked for, summed from the day rows.
    pub fn report(&self, q: &ReportQuery) -> Result<Report, super::InboxError> {
        let days = (q.to - q.from).num_days();
        if days < 0 || days >= MAX_DAYS {
            return Err(super::InboxError::BadRequest(format!("a report covers 1 to {MAX_DAYS} days, `from` first")));
        }
        if q.only.is_some() && q.by.dim().is_some() {
            return Err(super::InboxError::BadRequest("a report by a platform, channel, kind, agent, team or tag covers them all: filter only by day, week or month".into()));
        }
        let epoch = chrono::NaiveDate::default();
        let (from, to) = ((q.from - epoch).num_days() as i32, (q.to - epoch).num_days() as i32);
        let zone = self.report_zone();
        let rows = self.reports.lock().expect("not poisoned");
        let (dim, value) = match (&q.only, q.by.dim()) {
            (Some((d, v)), _) => (*d, Some(v.as_str())),
            (None, Some(d)) => (d, None),
            (None, None) => (Dim::All, None),
        };
        let by = q.by;
        let sums = rows.sum(from, to, dim, value, |day, v| if by.dim().is_some() { v.to_string() } else { by.period(day) });
        let mut total = Tallies::default();
        let base = if by.dim().is_some() { (Dim::All, None) } else { (dim, value) };
        for t in rows.sum(from, to, base.0, base.1, |_, _| String::new()).values() {
            total.merge(t);
        }
        drop(rows);
        let lines: Vec<ReportLine> = if by.dim().is_some() {
            let mut l: Vec<ReportLine> = sums.iter().map(|(k, t)| ReportLine::of(k.clone(), t)).collect();
            l.sort_by(|a, b| b.tickets_in.cmp(&a.tickets_in).then(b.messages_in.cmp(&a.messages_in)).then(a.key.cmp(&b.key)));
            l
        } else {
            let mut keys: Vec<String> = (from..=to).map(|d| by.period(d)).collect();
            keys.dedup();
            keys.into_iter().map(|k| ReportLine::of(k.clone(), sums.get(&k).unwrap_or(&Tallies::default()))).collect()
        };
        Ok(Report { from: q.from, to: q.to, by, time_zone: zone.name().to_string(), lines, total: ReportLine::of("total".into(), &total) })
    }

    /// The same figures as `report` by channel, counted from the stored tickets and messages
    /// themselves (what a report would cost without its rows; the bench compares the two).
    pub async fn report_from_tickets(&self, from: Millis, to: Millis) -> Result<BTreeMap<String, (u64, u64, Option<Millis>)>, super::InboxError> {
        #[derive(Deserialize)]
        struct Line {
            channel: String,
            tickets: u64,
            median: Option<f64>,
        }
        #[derive(Deserialize)]
        struct Count {
            channel: String,
            messages: u64,
        }
        let vars = serde_json::json!({ "from": from, "to": to });
        let tickets: Vec<Line> = self
            .store
            .select_where("SELECT channel, count() AS tickets, math::median(first_response_at - created_at) AS median FROM ticket WHERE created_at >= $from AND created_at < $to AND last_inbound_at != NONE GROUP BY channel", vars.clone())
            .await?;
        let messages: Vec<Count> = self
            .store
            .select_where("SELECT channel, count() AS messages FROM message WHERE created_at >= $from AND created_at < $to AND direction = 'inbound' GROUP BY channel", vars)
            .await?;
        let mut out: BTreeMap<String, (u64, u64, Option<Millis>)> = BTreeMap::new();
        for l in tickets {
            let line = out.entry(l.channel).or_default();
            line.0 = l.tickets;
            line.2 = l.median.map(|m| m as Millis);
        }
        for m in messages {
            out.entry(m.channel).or_default().1 = m.messages;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::{Schedule, Span, Team};
    use crate::inbox::targets::ResponseTarget;
    use crate::model::{Author, Interaction, Kind};

    const MIN: Millis = 60_000;
    /// Monday 2026-11-30 09:00 in Berlin (UTC+1).
    const MON_9: Millis = 1_796_025_600_000;

    fn interaction(id: String, at: Millis, direction: Direction) -> Interaction {
        Interaction {
            platform_id: id,
            kind: Kind::PrivateMessage,
            direction,
            thread_key: "u1".into(),
            parent_id: None,
            author: Author { id: "u1".into(), name: "Ann".into(), ..Default::default() },
            text: "hi".into(),
            attachments: vec![],
            created_at: at,
            edited_at: None,
            permalink: None,
            from_ad: false,
            meta: vec![],
            chain_key: None,
            title: None,
            rating: None,
            visibility: None,
            found_by: None,
            automated: None,
            folded: None,
        }
    }

    fn ticket() -> Ticket {
        let mut w = super::super::rules::Working::default();
        w.interaction("tg", "telegram", interaction("m1".into(), MON_9, Direction::Inbound), None, None, 1);
        let mut t = w.tickets.into_values().next().unwrap();
        t.created_at = MON_9;
        t
    }

    fn message(t: &Ticket, at: Millis, direction: Direction, sent_by: Option<&str>) -> Message {
        let mut w = super::super::rules::Working::new(Vec::new(), vec![t.clone()], Vec::new());
        let id = w.interaction(&t.channel, &t.platform, interaction(format!("m{at}"), at, direction), Some(&t.id), sent_by.map(str::to_string), 2);
        w.messages.remove(&id).unwrap()
    }

    fn weekdays_9_to_17() -> Schedule {
        let day = vec![Span { from: "09:00".into(), to: "17:00".into() }];
        Schedule { timezone: "Europe/Berlin".into(), week: vec![day.clone(), day.clone(), day.clone(), day.clone(), day, vec![], vec![]], holidays: vec![] }
    }

    fn policy(business: bool, hours: Option<Schedule>) -> Policy {
        let target = ResponseTarget { id: "t".into(), name: "t".into(), team: None, channels: vec![], kinds: vec![], first_response_minutes: Some(60), next_response_minutes: Some(30), resolution_minutes: Some(8 * 60), business_hours: business, position: 0 };
        let team = Team { channels: vec!["tg".into()], business_hours: hours, ..serde_json::from_value(serde_json::json!({"id": "support", "name": "Support", "members": [], "channels": [], "auto_assign": false, "capacity": 5, "created_at": 0})).unwrap() };
        Policy::new(vec![target], vec![team], BTreeMap::new())
    }

    #[test]
    fn a_first_answer_counts_its_time_from_arrival_and_meets_the_target() {
        let before = ticket();
        let reply = message(&before, MON_9 + 20 * MIN, Direction::Outbound, Some("u-alex"));
        let mut after = before.clone();
        after.first_response_at = Some(MON_9 + 20 * MIN);
        let facts = facts(Some(&before), &after, &[&reply], None, &policy(false, None), MON_9 + 20 * MIN);
        let Some((_, Fact::Answered { clock: Clock::FirstResponse, agent, took })) = facts.iter().find(|(_, f)| matches!(f, Fact::Answered { .. })) else { panic!("{facts:?}") };
        assert_eq!((agent.as_str(), took.calendar, took.met), ("u-alex", 20 * MIN, Some(true)));
        assert!(facts.iter().any(|(_, f)| *f == Fact::MessageOut { by: Sender::Agent("u-alex".into()) }));
    }

    #[test]
    fn an_auto_reply_is_not_a_first_response() {
        let before = ticket();
        let auto = message(&before, MON_9 + MIN, Direction::Outbound, Some("Rule: welcome"));
        let facts = facts(Some(&before), &before.clone(), &[&auto], None, &policy(false, None), MON_9 + MIN);
        assert_eq!(facts, vec![(MON_9 + MIN, Fact::MessageOut { by: Sender::Rule })]);
    }

    #[test]
    fn business_time_skips_the_weekend_and_judges_the_target() {
        // Friday 16:30 to Monday 09:30: 65 hours on the clock, one open hour.
        let friday = MON_9 - 3 * 24 * 60 * MIN + 7 * 60 * MIN + 30 * MIN;
        let mut before = ticket();
        before.created_at = friday;
        let reply = message(&before, MON_9 + 30 * MIN, Direction::Outbound, Some("u-alex"));
        let mut after = before.clone();
        after.first_response_at = Some(MON_9 + 30 * MIN);
        for (business, met) in [(true, Some(true)), (false, Some(false))] {
            let facts = facts(Some(&before), &after, &[&reply], None, &policy(business, Some(weekdays_9_to_17())), MON_9 + 30 * MIN);
            let took = facts.iter().find_map(|(_, f)| match f { Fact::Answered { took, .. } => Some(took.clone()), _ => None }).unwrap();
            assert_eq!((took.calendar, took.business, took.met), (65 * 60 * MIN, Some(60 * MIN), met), "business hours target: {business}");
        }
    }

    #[test]
    fn a_reopened_ticket_counts_its_second_resolution_from_the_reopening() {
        let mut before = ticket();
        before.queue = Queue::New;
        before.reopened_at = Some(MON_9 + 5 * 60 * MIN);
        let mut after = before.clone();
        after.queue = Queue::Resolved;
        let facts = facts(Some(&before), &after, &[], Some("u-sam"), &policy(false, None), MON_9 + 6 * 60 * MIN);
        assert_eq!(facts, vec![(MON_9 + 6 * 60 * MIN, Fact::Resolved { agent: Some("u-sam".into()), took: Duration { calendar: 60 * MIN, business: None, met: Some(true) } })]);
        let mut reopened = after.clone();
        reopened.queue = Queue::New;
        assert_eq!(super::facts(Some(&after), &reopened, &[], None, &policy(false, None), 0), vec![(0, Fact::Reopened)]);
    }

    #[test]
    fn a_later_answer_counts_from_the_customer_s_waiting_message() {
        let mut before = ticket();
        before.first_response_at = Some(MON_9);
        before.waiting_since = Some(MON_9 + 60 * MIN);
        let reply = message(&before, MON_9 + 100 * MIN, Direction::Outbound, Some("u-alex"));
        let facts = facts(Some(&before), &before.clone(), &[&reply], None, &policy(false, None), MON_9 + 100 * MIN);
        assert!(facts.iter().any(|(_, f)| matches!(f, Fact::Answered { clock: Clock::NextResponse, took: Duration { calendar, met: Some(false), .. }, .. } if *calendar == 40 * MIN)), "{facts:?}");
    }

    #[test]
    fn rows_sum_across_days_and_quantiles_stay_within_a_few_percent() {
        let t = ticket();
        let tz: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
        let p = policy(false, None);
        let mut rows = Rows::default();
        let noted: Vec<(Millis, Fact)> = (1..=100)
            .map(|n| (MON_9 + n * 24 * 60 * MIN / 50, Fact::Answered { clock: Clock::FirstResponse, agent: "u-alex".into(), took: Duration { calendar: n * MIN, business: None, met: Some(n <= 60) } }))
            .collect();
        let written = rows.with(&[(&t, noted)], &p, tz);
        rows.written(written);
        let all = rows.sum(i32::MIN, i32::MAX, Dim::All, None, |_, _| "all".into());
        let first = &all["all"].first_response;
        assert_eq!((first.calendar.count(), first.met, first.missed), (100, 60, 40));
        let median = first.calendar.quantile(0.5).unwrap() as f64;
        let p90 = first.calendar.quantile(0.9).unwrap() as f64;
        assert!((median / (50.0 * MIN as f64) - 1.0).abs() < 0.03, "median {median}");
        assert!((p90 / (90.0 * MIN as f64) - 1.0).abs() < 0.03, "p90 {p90}");
        let by_day = rows.sum(i32::MIN, i32::MAX, Dim::Agent, Some("u-alex"), |d, _| date_of(d).to_string());
        assert_eq!(by_day.len(), 3, "Monday morning to Wednesday morning: {by_day:?}");
        assert!(by_day.contains_key("2026-11-30"));
    }

    #[tokio::test]
    async fn a_store_kept_before_reports_is_counted_from_its_tickets_and_messages() {
        let store = crate::store::Store::open("mem://").await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let search = std::sync::Arc::new(crate::search::SearchIndex::open(dir.path()).unwrap());
        let mut w = super::super::rules::Working::default();
        let id = w.interaction("tg", "telegram", interaction("m1".into(), MON_9, Direction::Inbound), None, None, 1);
        let ticket = w.messages[&id].ticket_id.clone();
        w.interaction("tg", "telegram", interaction("m2".into(), MON_9 + 10 * MIN, Direction::Outbound), Some(&ticket), Some("Alex".into()), 1);
        let t = w.tickets.get_mut(&ticket).unwrap();
        (t.created_at, t.first_response_at) = (MON_9, Some(MON_9 + 10 * MIN));
        let batch = crate::store::WriteBatch { new_messages: w.messages.values().cloned().collect(), new_tickets: w.tickets.values().cloned().collect(), ..Default::default() };
        store.write(&batch).await.unwrap();
        let inbox = super::super::Inbox::start(store, search, crate::events::EventBus::default()).await.unwrap();
        assert_eq!(inbox.report_rows_held(), 0);
        assert_eq!(inbox.rebuild_reports().await.unwrap(), 1);
        let day = date_of(day_of(MON_9, chrono_tz::UTC));
        let r = inbox.report(&ReportQuery { from: day, to: day, by: Group::Agent, only: None }).unwrap();
        assert_eq!((r.total.tickets_in, r.total.messages_in, r.total.messages_out, r.total.replies), (1, 1, 1, 1), "{:?}", r.total);
        assert_eq!(r.lines.iter().find(|l| l.key == "Alex").map(|l| l.first_response.count), Some(1), "{:?}", r.lines);
        let raw = inbox.report_from_tickets(MON_9 - MIN, MON_9 + 60 * MIN).await.unwrap();
        assert_eq!(raw.get("tg").map(|x| (x.0, x.1)), Some((1, 1)), "the same from the tickets themselves");
    }

    #[test]
    fn a_day_is_the_reports_time_zone_s() {
        // 23:30 UTC on Sunday is already Monday in Berlin.
        let late_sunday = MON_9 - 9 * 60 * MIN + 30 * MIN;
        assert_eq!(date_of(day_of(late_sunday, "Europe/Berlin".parse().unwrap())).to_string(), "2026-11-30");
        assert_eq!(date_of(day_of(late_sunday, chrono_tz::UTC)).to_string(), "2026-11-29");
    }
}
