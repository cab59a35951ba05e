//! The queue that assigns: a team's waiting tickets go to its Available members with room as
//! soon as something changes (a ticket arrives, an agent resolves, comes back, or a ticket is
//! unassigned); an agent who goes Away gives back what they have not answered (where the team
//! says so); a ticket left unanswered past the team's minutes goes to someone else. The plan is
//! `assign::plan`; it runs under the inbox's write lock, so no ticket goes to two agents.

use super::assign::{self, Agent, Capacity, Waiting};
use super::{Inbox, InboxError};
use crate::accounts::{Accounts, Team};
use crate::events::{Event, EventBus};
use crate::model::{now_ms, stable_id, Activity, Millis, Queue, Ticket};
use crate::search::{Sort, TicketQuery, OPEN};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Who does the assigning in a ticket's history.
pub const AUTO: &str = "Auto-assignment";
/// The most tickets one look at a team's queue hands out or reads per channel.
const LOOK: usize = 200;
/// How often overdue tickets and idle agents are looked for.
const TICK: Duration = Duration::from_secs(15);

impl Inbox {
    /// Tickets matching `q`, as stored (the index caught up first). Callers hold the write lock.
    async fn stored_matching(&self, q: TicketQuery) -> Result<Vec<Ticket>, InboxError> {
        let ids = self.find(q).await?.ids;
        let mut tickets = self.store.tickets(&ids).await?;
        let order: HashMap<&String, usize> = ids.iter().enumerate().map(|(n, id)| (id, n)).collect();
        tickets.sort_by_key(|t| order.get(&t.id).copied().unwrap_or(usize::MAX));
        Ok(tickets)
    }

    /// Hand out `team`'s waiting tickets to its `available` members with room, taking back
    /// first what was left unanswered too long. The assignments made: (ticket, agent).
    pub async fn route(&self, team: &Team, available: &[String]) -> Result<Vec<(String, String)>, InboxError> {
        if !team.auto_assign {
            return Ok(Vec::new());
        }
        let _write = self.write_lock.lock().await;
        self.indexer.caught_up().await;
        let now = now_ms();
        let mut waiting = Vec::new();
        // Its channels' tickets (unless routed to another team), and those routed to it.
        let by_channel = team.channels.iter().map(|c| TicketQuery { channel: Some(c.clone()), ..Default::default() });
        let routed = std::iter::once(TicketQuery { team: Some(team.id.clone()), ..Default::default() });
        for q in by_channel.chain(routed) {
            let q = TicketQuery { queue: Some("new".into()), sort: Some(Sort::Waiting), limit: Some(LOOK), ..q };
            for t in self.stored_matching(q).await?.into_iter().filter(|t| t.assignee.is_none() && t.snoozed_until.is_none() && team_of(team, t)) {
                if waiting.iter().any(|w: &Waiting| w.ticket_id == t.id) {
                    continue;
                }
                waiting.push(Waiting { ticket_id: t.id.clone(), conversation: t.kind.is_conversation(), waiting_since: t.waiting_since.unwrap_or(t.last_message_at), flagged: t.flagged, not: None });
            }
        }
        let mut agents = Vec::new();
        let mut taken_back: Vec<(Ticket, String)> = Vec::new();
        for member in &team.members {
            let q = TicketQuery { queue: Some(OPEN.into()), assignee: Some(member.clone()), limit: Some(LOOK), ..Default::default() };
            let mut held = self.stored_matching(q).await?;
            // Unanswered past the team's minutes: back in the queue, not for them.
            held.retain(|t| {
                let overdue = t.queue == Queue::New && team_of(team, t) && assign::overdue(t.assigned_at, team.reassign_after_minutes, now);
                if overdue {
                    taken_back.push((t.clone(), member.clone()));
                }
                !overdue
            });
            if available.contains(member) {
                let conversations = held.iter().filter(|t| t.kind.is_conversation()).count() as u32;
                let last = held.iter().filter_map(|t| t.assigned_at).max().unwrap_or(0);
                agents.push(Agent { id: member.clone(), open: held.len() as u32, conversations, last_assigned_at: last });
            }
        }
        for (t, from) in &taken_back {
            waiting.push(Waiting { ticket_id: t.id.clone(), conversation: t.kind.is_conversation(), waiting_since: t.waiting_since.unwrap_or(t.last_message_at), flagged: t.flagged, not: Some(from.clone()) });
        }
        let capacity = Capacity { total: team.capacity, conversations: team.conversation_capacity, public: team.public_capacity };
        let plan = assign::plan(&capacity, team.order, &agents, &waiting, now);
        let minutes = team.reassign_after_minutes.unwrap_or(0);
        let mut changes: Vec<(String, Option<String>, String)> = taken_back
            .iter()
            .filter(|(t, _)| !plan.iter().any(|(id, _)| *id == t.id))
            .map(|(t, from)| (t.id.clone(), None, format!("taken back from {from}: not answered within {minutes} minutes")))
            .collect();
        for (ticket, agent) in &plan {
            let why = match taken_back.iter().find(|(t, _)| t.id == *ticket) {
                Some((_, from)) => format!("team {}: {from} did not answer within {minutes} minutes", team.name),
                None => format!("team {}: the longest waiting ticket to the agent with room longest without one", team.name),
            };
            changes.push((ticket.clone(), Some(agent.clone()), why));
        }
        self.reassign(changes, AUTO).await?;
        Ok(plan)
    }

    /// Return what `user` was handed and has not answered (New) in `teams` that say so.
    pub async fn give_back(&self, user: &str, teams: &[Team], why: &str) -> Result<usize, InboxError> {
        let giving: Vec<&Team> = teams.iter().filter(|t| t.return_when_away && t.members.iter().any(|m| m == user)).collect();
        if giving.is_empty() {
            return Ok(0);
        }
        let _write = self.write_lock.lock().await;
        self.indexer.caught_up().await;
        let q = TicketQuery { queue: Some("new".into()), assignee: Some(user.to_string()), limit: Some(LOOK), ..Default::default() };
        let back: Vec<(String, Option<String>, String)> =
            self.stored_matching(q).await?.into_iter().filter(|t| giving.iter().any(|team| team_of(team, t))).map(|t| (t.id, None, why.to_string())).collect();
        let n = back.len();
        self.reassign(back, AUTO).await?;
        Ok(n)
    }

    /// Set these tickets' assignees (none: back to the queue) in one transaction, each with its
    /// reason in the history. Callers hold the write lock.
    async fn reassign(&self, changes: Vec<(String, Option<String>, String)>, actor: &str) -> Result<(), InboxError> {
        if changes.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = changes.iter().map(|(id, _, _)| id.clone()).collect();
        let (mut w, before) = self.load_working(&[], &ids).await?;
        let seq = self.store.next_seq().await?;
        let now = now_ms();
        let mut activities = Vec::new();
        for (n, (id, agent, why)) in changes.into_iter().enumerate() {
            let Some(t) = w.tickets.get_mut(&id) else { continue };
            t.assignee = agent.clone();
            t.assigned_at = agent.as_ref().map(|_| now);
            t.auto_assigned = agent.is_some();
            t.seq = seq;
            w.changed_tickets.insert(id.clone());
            activities.push(Activity {
                id: stable_id(&id, &format!("activity:{seq}:route:{n}")),
                ticket_id: id.clone(),
                at: now,
                actor: actor.to_string(),
                what: format!("assignee:{}", agent.as_deref().unwrap_or("none")),
                detail: why,
                ok: true,
            });
        }
        self.commit(w, &before, Vec::new(), Vec::new(), activities, seq).await
    }
}

/// Whether `ticket` is `team`'s work: routed to it, or in its channels and routed nowhere else.
pub fn team_of(team: &Team, ticket: &Ticket) -> bool {
    match &ticket.team {
        Some(id) => *id == team.id,
        None => team.channels.contains(&ticket.channel),
    }
}

/// What the router is asked to look at.
enum Nudge {
    /// A team's queue may have work to hand out (its id).
    Team(String),
    /// Every team (teams or availability changed).
    All,
}

/// Keeps every auto-assigning team's queue moving: woken by ticket changes and availability,
/// and every few seconds for overdue tickets and idle agents.
pub struct Router {
    nudges: tokio::sync::mpsc::UnboundedSender<Nudge>,
    /// Moves when an admin changes a team: the ticket watcher reads the teams again.
    teams_changed: std::sync::atomic::AtomicU64,
    /// Open helpdesk pages per user, and when their last one closed.
    online: Mutex<HashMap<String, (u32, Millis)>>,
}

impl Router {
    pub fn spawn(inbox: Arc<Inbox>, accounts: Accounts, events: EventBus) -> Arc<Router> {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let router = Arc::new(Router { nudges: tx, teams_changed: Default::default(), online: Mutex::default() });
        // Ticket changes in a team's channels wake that team.
        {
            let (router, accounts) = (router.clone(), accounts.clone());
            let mut sub = events.subscribe();
            tokio::spawn(async move {
                let mut teams: Vec<Team> = accounts.teams().await.unwrap_or_default();
                let mut read = 0;
                loop {
                    let published = match sub.recv().await {
                        Ok(p) => p,
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                            router.nudge_all();
                            continue;
                        }
                        Err(_) => return,
                    };
                    let (Event::TicketCreated { ticket, .. } | Event::TicketUpdated { ticket, .. }) = &*published.event else { continue };
                    let changed = router.teams_changed.load(std::sync::atomic::Ordering::SeqCst);
                    if changed != read {
                        teams = accounts.teams().await.unwrap_or(teams);
                        read = changed;
                    }
                    // Work to hand out or room freed (nobody on it now, or resolved, archived);
                    // the router's own assignments and follow-ups in held tickets are neither.
                    if ticket.assignee.is_some() && !matches!(ticket.queue, Queue::Resolved | Queue::Archived) {
                        continue;
                    }
                    if let Some(t) = teams.iter().find(|t| t.auto_assign && team_of(t, ticket)) {
                        let _ = router.nudges.send(Nudge::Team(t.id.clone()));
                    }
                }
            });
        }
        // The work: each wake-up looks at every team it was asked about, once.
        {
            let (router, inbox, accounts) = (router.clone(), inbox.clone(), accounts.clone());
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(TICK);
                loop {
                    let mut all = false;
                    let mut asked: BTreeSet<String> = BTreeSet::new();
                    tokio::select! {
                        n = rx.recv() => match n {
                            Some(Nudge::Team(id)) => { asked.insert(id); }
                            Some(Nudge::All) => all = true,
                            None => return,
                        },
                        _ = tick.tick() => {
                            router.idle_check(&inbox, &accounts).await;
                            all = true;
                        }
                    }
                    while let Ok(n) = rx.try_recv() {
                        match n {
                            Nudge::Team(id) => {
                                asked.insert(id);
                            }
                            Nudge::All => all = true,
                        }
                    }
                    if let Err(e) = drain(&inbox, &accounts, all, &asked).await {
                        tracing::warn!("auto-assignment: {e}");
                    }
                }
            });
        }
        router
    }

    pub fn nudge_all(&self) {
        let _ = self.nudges.send(Nudge::All);
    }

    /// An admin changed the teams: follow them, and look at every queue.
    pub fn teams_changed(&self) {
        self.teams_changed.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.nudge_all();
    }

    /// An agent's status changed: going Away gives back what the teams say, coming back (or
    /// freeing room) hands out what waits.
    pub async fn status_changed(&self, inbox: &Inbox, accounts: &Accounts, user: &str, available: bool) {
        if !available {
            let teams = accounts.teams().await.unwrap_or_default();
            if let Err(e) = inbox.give_back(user, &teams, "went away: back in the queue").await {
                tracing::warn!("giving back the tickets of {user}: {e}");
            }
        }
        self.nudge_all();
    }

    /// A helpdesk page of `user` opened: one who was set Away for idling comes back.
    pub async fn page_opened(&self, inbox: &Inbox, accounts: &Accounts, user: &str) {
        self.online.lock().expect("online").entry(user.to_string()).or_insert((0, 0)).0 += 1;
        if let Ok(Some(a)) = accounts.set_idle(user, false).await {
            self.status_changed(inbox, accounts, user, a.status.is_available()).await;
        }
    }

    pub fn page_closed(&self, user: &str) {
        if let Some(o) = self.online.lock().expect("online").get_mut(user) {
            o.0 = o.0.saturating_sub(1);
            if o.0 == 0 {
                o.1 = now_ms();
            }
        }
    }

    /// Available agents with no page open for the admin's minutes become Away.
    async fn idle_check(&self, inbox: &Inbox, accounts: &Accounts) {
        let Ok(settings) = accounts.availability_settings().await else { return };
        if settings.idle_minutes == 0 {
            return;
        }
        let limit = now_ms() - i64::from(settings.idle_minutes) * 60_000;
        let Ok(all) = accounts.availabilities().await else { return };
        let idle: Vec<String> = {
            let online = self.online.lock().expect("online");
            all.into_iter()
                .filter(|a| a.status.is_available())
                .filter(|a| online.get(&a.user_id).is_none_or(|(open, closed)| *open == 0 && *closed < limit && a.since < limit))
                .map(|a| a.user_id)
                .collect()
        };
        for user in idle {
            if let Ok(Some(_)) = accounts.set_idle(&user, true).await {
                self.status_changed(inbox, accounts, &user, false).await;
            }
        }
    }
}

/// How long the host handing out work on a shared store keeps that job between rounds.
const ROUTER_LEASE: Duration = Duration::from_secs(40);

async fn drain(inbox: &Inbox, accounts: &Accounts, all: bool, asked: &BTreeSet<String>) -> Result<(), InboxError> {
    // One host of several on a store hands out work, from the tickets and loads all of them
    // wrote; the others' wake-ups reach it through its follower (`inbox::follow`) and its ticks.
    if !inbox.store().runs_here("router", crate::store::host_id(), ROUTER_LEASE).await {
        return Ok(());
    }
    let teams = accounts.teams().await.map_err(|e| InboxError::Conflict(e.to_string()))?;
    let available: Vec<String> = accounts.availabilities().await.map_err(|e| InboxError::Conflict(e.to_string()))?.into_iter().filter(|a| a.status.is_available()).map(|a| a.user_id).collect();
    for team in teams.iter().filter(|t| t.auto_assign && (all || asked.contains(&t.id))) {
        inbox.route(team, &available).await?;
    }
    Ok(())
}
