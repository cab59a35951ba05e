//! Response targets (SLA): how soon a team promises to answer and resolve, and when each open
//! ticket is due. Pure: the inbox stamps every ticket it writes with its `Due`, so the list can
//! filter and sort on it from the index, and a ticket shows its time left.

use crate::accounts::{Schedule, Team};
use crate::model::{Clock, Due, Kind, Millis, Queue, Ticket};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A promise: which tickets it covers (all that match every scope given) and how soon.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ResponseTarget {
    pub id: String,
    pub name: String,
    /// Tickets of this team (routed to it, or of its channels); none: any team.
    #[serde(default)]
    pub team: Option<String>,
    /// Tickets of these channels; empty: any channel.
    #[serde(default)]
    #[schema(required = true)]
    pub channels: Vec<String>,
    /// Tickets of these kinds; empty: any kind.
    #[serde(default)]
    #[schema(required = true)]
    pub kinds: Vec<Kind>,
    /// The first agent answer within this many minutes of the ticket's arrival.
    #[serde(default)]
    pub first_response_minutes: Option<u32>,
    /// Every later answer within this many minutes of the customer's message.
    #[serde(default)]
    pub next_response_minutes: Option<u32>,
    /// Resolved within this many minutes of the ticket's arrival.
    #[serde(default)]
    pub resolution_minutes: Option<u32>,
    /// Count only the minutes within business hours (the channel's own, else its team's).
    #[serde(default)]
    #[schema(required = true)]
    pub business_hours: bool,
    /// Lower first: the first target that covers a ticket is its target.
    #[serde(default)]
    #[schema(required = true)]
    pub position: u32,
}

/// A target as an admin writes it.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponseTargetInput {
    pub name: String,
    #[serde(default)]
    pub team: Option<String>,
    #[serde(default)]
    pub channels: Vec<String>,
    #[serde(default)]
    pub kinds: Vec<Kind>,
    #[serde(default)]
    pub first_response_minutes: Option<u32>,
    #[serde(default)]
    pub next_response_minutes: Option<u32>,
    #[serde(default)]
    pub resolution_minutes: Option<u32>,
    #[serde(default)]
    pub business_hours: bool,
    #[serde(default)]
    pub position: Option<u32>,
}

/// At most a year.
const MAX_MINUTES: u32 = 366 * 24 * 60;

impl ResponseTargetInput {
    /// Why it cannot work, if it cannot.
    pub fn check(&self, teams: &[Team]) -> Result<(), String> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 80 {
            return Err("a target's name is 1 to 80 characters".into());
        }
        let clocks = [self.first_response_minutes, self.next_response_minutes, self.resolution_minutes];
        if clocks.iter().all(Option::is_none) {
            return Err("a target needs a first response, next response or resolution time".into());
        }
        if clocks.iter().flatten().any(|m| *m == 0 || *m > MAX_MINUTES) {
            return Err(format!("a target's times are 1 to {MAX_MINUTES} minutes"));
        }
        if let Some(team) = &self.team {
            if !teams.iter().any(|t| t.id == *team) {
                return Err(format!("no team `{team}`"));
            }
        }
        Ok(())
    }
}

/// Everything a due time depends on besides the ticket.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    /// In the order they apply.
    pub targets: Vec<ResponseTarget>,
    pub teams: Vec<Team>,
    pub channel_hours: BTreeMap<String, Schedule>,
}

impl Policy {
    pub fn new(mut targets: Vec<ResponseTarget>, teams: Vec<Team>, channel_hours: BTreeMap<String, Schedule>) -> Self {
        targets.sort_by(|a, b| (a.position, &a.name).cmp(&(b.position, &b.name)));
        Policy { targets, teams, channel_hours }
    }

    /// The target that covers `t`: the first whose every scope matches.
    pub fn target_of(&self, t: &Ticket) -> Option<&ResponseTarget> {
        self.targets.iter().find(|x| {
            x.team.as_ref().is_none_or(|id| self.teams.iter().any(|tm| tm.id == *id && super::routing::team_of(tm, t)))
                && (x.channels.is_empty() || x.channels.contains(&t.channel))
                && (x.kinds.is_empty() || x.kinds.contains(&t.kind))
        })
    }

    /// When `t` is next due, if a target covers it and one of its clocks runs.
    pub fn due(&self, t: &Ticket) -> Option<Due> {
        let target = self.target_of(t)?;
        let hours = if target.business_hours { crate::accounts::hours_of(&self.teams, &self.channel_hours, &t.channel) } else { None };
        due(t, target, hours)
    }
}

/// The clocks of `target` that run for `t`, the earliest first. While the customer waits in
/// New, the first or the next answer is due; a snoozed (Pending) ticket waits on the customer,
/// so only its resolution runs; a resolved or archived one is not due.
pub fn due(t: &Ticket, target: &ResponseTarget, hours: Option<&Schedule>) -> Option<Due> {
    if matches!(t.queue, Queue::Resolved | Queue::Archived) {
        return None;
    }
    let waiting = t.queue == Queue::New && t.last_inbound_at.is_some();
    let mut clocks = Vec::new();
    if waiting {
        match (t.first_response_at, t.waiting_since) {
            (None, _) => clocks.push((Clock::FirstResponse, t.created_at, target.first_response_minutes)),
            (Some(_), Some(since)) => clocks.push((Clock::NextResponse, since, target.next_response_minutes)),
            (Some(_), None) => {}
        }
    }
    if t.last_inbound_at.is_some() {
        clocks.push((Clock::Resolution, t.created_at, target.resolution_minutes));
    }
    clocks
        .into_iter()
        .filter_map(|(clock, from, minutes)| {
            let minutes = minutes?;
            let at = add_minutes(from, minutes, hours)?;
            let soon_at = at - (at - from) / 4;
            Some(Due { at, soon_at, clock, target: target.id.clone() })
        })
        .min_by_key(|d| d.at)
}

/// `minutes` after `from`, counted in calendar time or only while `hours` are open. `None` if the
/// hours never open within a year.
pub fn add_minutes(from: Millis, minutes: u32, hours: Option<&Schedule>) -> Option<Millis> {
    let ms = i64::from(minutes) * 60_000;
    match hours {
        None => Some(from + ms),
        Some(h) => h.after_open(from, ms),
    }
}

impl super::Inbox {
    /// The targets and what they read, as last set.
    pub fn policy(&self) -> std::sync::Arc<Policy> {
        self.policy.read().expect("not poisoned").clone()
    }

    pub async fn response_targets(&self) -> Result<Vec<ResponseTarget>, super::InboxError> {
        let mut all: Vec<ResponseTarget> = self.store.all("response_target", "position").await?;
        all.sort_by(|a, b| (a.position, &a.name).cmp(&(b.position, &b.name)));
        Ok(all)
    }

    /// Create (no `id`) or change a target, checked.
    pub async fn save_target(&self, id: Option<&str>, input: ResponseTargetInput, teams: &[Team]) -> Result<ResponseTarget, super::InboxError> {
        input.check(teams).map_err(super::InboxError::BadRequest)?;
        let existing = match id {
            Some(id) => Some(self.store.get::<ResponseTarget>("response_target", id).await?.ok_or_else(|| super::InboxError::NotFound(format!("no response target `{id}`")))?),
            None => None,
        };
        let position = match (input.position, &existing) {
            (Some(p), _) => p,
            (None, Some(e)) => e.position,
            (None, None) => self.response_targets().await?.iter().map(|t| t.position + 1).max().unwrap_or(0),
        };
        let id = id.map(str::to_string).unwrap_or_else(|| crate::model::stable_id("response_target", &format!("{}:{}", input.name, crate::model::now_ms())));
        let target = ResponseTarget {
            id: id.clone(),
            name: input.name.trim().to_string(),
            team: input.team,
            channels: input.channels,
            kinds: input.kinds,
            first_response_minutes: input.first_response_minutes,
            next_response_minutes: input.next_response_minutes,
            resolution_minutes: input.resolution_minutes,
            business_hours: input.business_hours,
            position,
        };
        self.store.put("response_target", &id, &target).await?;
        Ok(target)
    }

    pub async fn delete_target(&self, id: &str) -> Result<(), super::InboxError> {
        self.store.get::<ResponseTarget>("response_target", id).await?.ok_or_else(|| super::InboxError::NotFound(format!("no response target `{id}`")))?;
        Ok(self.store.delete("response_target", id).await?)
    }

    /// Read the targets again with the teams and hours they use. Tickets written from now on
    /// are stamped by them; `retarget` moves the stored ones. False when no target was there
    /// before or is now: no stored ticket can be due differently.
    pub async fn set_policy(&self, teams: Vec<Team>, channel_hours: BTreeMap<String, Schedule>) -> Result<bool, super::InboxError> {
        let policy = Policy::new(self.response_targets().await?, teams, channel_hours);
        let mut current = self.policy.write().expect("not poisoned");
        let moved = !(current.targets.is_empty() && policy.targets.is_empty());
        *current = std::sync::Arc::new(policy);
        Ok(moved)
    }

    /// Stamp every stored ticket whose due time the policy changed, 500 at a time, each step one
    /// write under the write lock (agents' changes go on between steps). Returns how many moved.
    pub async fn retarget(&self) -> Result<u64, super::InboxError> {
        let mut after: Option<String> = None;
        let mut moved = 0;
        loop {
            let page = self.store.tickets_in_id_order(after.as_deref(), 500).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id.clone());
            let policy = self.policy();
            let stale: Vec<String> = page.iter().filter(|t| t.due != policy.due(t)).map(|t| t.id.clone()).collect();
            if stale.is_empty() {
                continue;
            }
            let _write = self.write_lock.lock().await;
            let (mut w, before) = self.load_working(&[], &stale).await?;
            let seq = self.store.next_seq().await?;
            for id in &stale {
                if let Some(t) = w.tickets.get_mut(id) {
                    t.seq = seq;
                    w.changed_tickets.insert(id.clone());
                }
            }
            moved += stale.len() as u64;
            self.commit(w, &before, Vec::new(), Vec::new(), Vec::new(), seq).await?;
        }
        Ok(moved)
    }
}

/// How often tickets that come due are looked for.
const WATCH: std::time::Duration = std::time::Duration::from_secs(5);

/// Announce each ticket once as it becomes "breaching soon" (per due time: a new customer
/// message due again is announced again), so its assignee is warned before it breaches.
pub fn watch(inbox: std::sync::Arc<super::Inbox>, events: crate::events::EventBus) {
    tokio::spawn(async move {
        let mut told: std::collections::HashSet<(String, Millis)> = Default::default();
        let mut tick = tokio::time::interval(WATCH);
        loop {
            tick.tick().await;
            if inbox.policy().targets.is_empty() {
                told.clear();
                continue;
            }
            let q = crate::search::TicketQuery { breach: Some(crate::model::Breach::Soon), limit: Some(200), sort: Some(crate::search::Sort::Due), ..Default::default() };
            let Ok((_, tickets)) = inbox.list(&q).await else { continue };
            let now: std::collections::HashSet<(String, Millis)> =
                tickets.iter().filter_map(|t| t.due.as_ref().map(|d| (t.id.clone(), d.at))).collect();
            for t in tickets {
                let Some(at) = t.due.as_ref().map(|d| d.at) else { continue };
                if !told.contains(&(t.id.clone(), at)) {
                    events.publish(crate::events::Event::BreachSoon { ticket: t });
                }
            }
            told = now;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::Span;

    const MIN: i64 = 60_000;
    /// Monday 2026-11-30 09:00 in Berlin (08:00 UTC).
    const MONDAY_9: i64 = 1_796_025_600_000;

    fn ticket(queue: Queue) -> Ticket {
        serde_json::from_value(serde_json::json!({
            "id": "t", "channel": "tg", "platform": "telegram", "kind": "private_message", "queue": queue,
            "contact_id": "c", "contact": {"id": "1", "name": "Ann", "handle": null, "avatar_url": null, "profile_url": null},
            "thread_key": "k", "preview": "", "message_count": 1, "created_at": MONDAY_9, "updated_at": MONDAY_9,
            "last_message_at": MONDAY_9, "last_inbound_at": MONDAY_9, "tags": [], "assignee": null, "flagged": false,
            "from_ad": false, "waiting_since": MONDAY_9, "seq": 1
        }))
        .unwrap()
    }

    fn target() -> ResponseTarget {
        ResponseTarget {
            id: "x".into(),
            name: "Chat".into(),
            team: None,
            channels: vec![],
            kinds: vec![],
            first_response_minutes: Some(60),
            next_response_minutes: Some(30),
            resolution_minutes: Some(24 * 60),
            business_hours: false,
            position: 0,
        }
    }

    fn office() -> Schedule {
        let day = || vec![Span { from: "09:00".into(), to: "17:00".into() }];
        Schedule { timezone: "Europe/Berlin".into(), week: vec![day(), day(), day(), day(), day(), vec![], vec![]], holidays: vec!["2026-12-25".into()] }
    }

    #[test]
    fn a_new_ticket_is_due_its_first_answer() {
        let d = due(&ticket(Queue::New), &target(), None).unwrap();
        assert_eq!((d.clock, d.at, d.soon_at), (Clock::FirstResponse, MONDAY_9 + 60 * MIN, MONDAY_9 + 45 * MIN));
    }

    #[test]
    fn after_the_first_answer_the_next_is_due_from_the_customers_new_message() {
        let mut t = ticket(Queue::New);
        t.first_response_at = Some(MONDAY_9 + 5 * MIN);
        t.waiting_since = Some(MONDAY_9 + 120 * MIN);
        let d = due(&t, &target(), None).unwrap();
        assert_eq!((d.clock, d.at), (Clock::NextResponse, MONDAY_9 + 150 * MIN));
    }

    #[test]
    fn a_pending_ticket_runs_only_its_resolution_clock() {
        let mut t = ticket(Queue::Pending);
        t.first_response_at = Some(MONDAY_9 + 5 * MIN);
        t.waiting_since = None;
        let d = due(&t, &target(), None).unwrap();
        assert_eq!((d.clock, d.at), (Clock::Resolution, MONDAY_9 + 24 * 60 * MIN));
    }

    #[test]
    fn resolved_and_archived_tickets_are_not_due() {
        assert_eq!(due(&ticket(Queue::Resolved), &target(), None), None);
        assert_eq!(due(&ticket(Queue::Archived), &target(), None), None);
    }

    #[test]
    fn a_ticket_we_started_is_not_due_until_the_customer_writes() {
        let mut t = ticket(Queue::Pending);
        t.last_inbound_at = None;
        t.waiting_since = None;
        assert_eq!(due(&t, &target(), None), None);
    }

    #[test]
    fn business_minutes_stop_at_closing_and_go_on_next_morning() {
        // Monday 16:30 + 60 business minutes: 30 on Monday, 30 on Tuesday from 09:00.
        let at = add_minutes(MONDAY_9 + 450 * MIN, 60, Some(&office())).unwrap();
        assert_eq!(at, MONDAY_9 + 24 * 60 * MIN + 30 * MIN);
    }

    #[test]
    fn business_minutes_skip_the_weekend() {
        // Friday 16:00 + 120 business minutes: 60 on Friday, 60 on Monday.
        let friday_16 = MONDAY_9 + 4 * 24 * 60 * MIN + 7 * 60 * MIN;
        let at = add_minutes(friday_16, 120, Some(&office())).unwrap();
        assert_eq!(at, MONDAY_9 + 7 * 24 * 60 * MIN + 60 * MIN);
    }

    #[test]
    fn a_message_at_night_starts_counting_when_the_office_opens() {
        // Sunday 23:00 (Berlin) + 30 business minutes: Monday 09:30.
        let at = add_minutes(MONDAY_9 - 10 * 60 * MIN, 30, Some(&office())).unwrap();
        assert_eq!(at, MONDAY_9 + 30 * MIN);
    }

    #[test]
    fn holidays_are_closed() {
        // Thursday 2026-12-24 16:00 + 120 business minutes: 60 that day, Friday the 25th is a
        // holiday, the weekend too, 60 on Monday the 28th.
        let thursday_16 = MONDAY_9 + 24 * 24 * 60 * MIN + 7 * 60 * MIN;
        let at = add_minutes(thursday_16, 120, Some(&office())).unwrap();
        assert_eq!(at, MONDAY_9 + 28 * 24 * 60 * MIN + 60 * MIN);
    }

    #[test]
    fn hours_that_never_open_never_come_due() {
        let closed = Schedule { timezone: "UTC".into(), week: vec![vec![]; 7], holidays: vec![] };
        assert_eq!(add_minutes(MONDAY_9, 30, Some(&closed)), None);
    }

    #[test]
    fn the_first_target_in_order_that_covers_a_ticket_applies() {
        let mut comments = target();
        comments.id = "comments".into();
        comments.kinds = vec![Kind::Comment];
        let mut elsewhere = target();
        elsewhere.id = "ig".into();
        elsewhere.channels = vec!["ig".into()];
        elsewhere.position = 1;
        let mut any = target();
        any.id = "any".into();
        any.position = 2;
        let policy = Policy::new(vec![any, elsewhere, comments], vec![], BTreeMap::new());
        assert_eq!(policy.target_of(&ticket(Queue::New)).map(|t| t.id.as_str()), Some("any"));
        let mut c = ticket(Queue::New);
        c.kind = Kind::Comment;
        assert_eq!(policy.target_of(&c).map(|t| t.id.as_str()), Some("comments"));
    }
}
