//! Runs the admins' rules (`inbox::automation`) on what customers send and on tickets' status
//! changes, as they are stored: a watcher of the event bus, so the ingest path only publishes. Internal actions change the
//! ticket, channel actions (hide, delete, like, a saved reply) go through the channel like an
//! agent's, and everything is in the ticket's history as the rule. Only customers' messages
//! and others' status changes trigger rules, so a rule's own reply or status never does.

use super::Channels;
use crate::accounts::Accounts;
use crate::events::{Event, EventBus};
use crate::accounts::hours_open;
use crate::inbox::automation::{matching, Facts, Happened, Matcher, Rule, RuleAction, Trigger};
use crate::inbox::saved_replies::{self, SavedReply};
use crate::inbox::{ActionRequest, Inbox, InboxError, NoteAuthor, TicketPatch};
use crate::model::{ActionKind, Direction, Kind, Message, Ticket};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Runs the rules; knows which status changes were its own.
pub struct Automation {
    changed: AtomicU64,
    /// Per ticket, the last change a rule made: status changes up to it are the rules' own and
    /// trigger nothing (a rule's reply that moves a ticket to Pending, its own "resolve").
    own: Mutex<HashMap<String, i64>>,
}

/// What one event asks of the rules: a customer's new message, a status change, or both.
fn happenings(event: &Event) -> Option<(&Ticket, Option<&Message>, Vec<Happened>)> {
    let (ticket, message, first, was) = match event {
        Event::TicketCreated { ticket, message } => (ticket, message.as_ref(), true, None),
        Event::TicketUpdated { ticket, message, was } => (ticket, message.as_ref(), false, *was),
        _ => return None,
    };
    let mut out = Vec::new();
    // Customers' new messages only: not ours, not an edit or a removal.
    let new = message.filter(|m| m.interaction.from_customer() && !m.removed && m.history.is_empty());
    if new.is_some() {
        out.push(Happened::Message { first });
    }
    if let Some(from) = was {
        out.push(Happened::StatusChanged { from });
    }
    (!out.is_empty()).then_some((ticket, new, out))
}

impl Automation {
    pub fn spawn(inbox: Arc<Inbox>, channels: Arc<Channels>, accounts: Accounts, events: EventBus) -> Arc<Automation> {
        let me = Arc::new(Automation { changed: AtomicU64::new(1), own: Mutex::default() });
        // Customers left waiting: `no_reply` rules, looked for every few seconds.
        {
            let (inbox, channels, accounts, this) = (inbox.clone(), channels.clone(), accounts.clone(), me.clone());
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(WAITING_TICK);
                loop {
                    tick.tick().await;
                    if let Err(e) = waiting(&inbox, &channels, &accounts, &this).await {
                        tracing::warn!("rules on waiting customers: {e}");
                    }
                }
            });
        }
        let this = me.clone();
        // Every change, none skipped: a burst of customers' messages waits here for the rules.
        let mut sub = events.subscribe_all();
        tokio::spawn(async move {
            let mut rules: Vec<(Rule, Matcher)> = Vec::new();
            let mut read = 0;
            let mut done: HashSet<String> = HashSet::new();
            while let Some(event) = sub.recv().await {
                let Some((ticket, message, happened)) = happenings(&event) else { continue };
                let changed = this.changed.load(Ordering::SeqCst);
                if changed != read {
                    rules = inbox
                        .automation_rules()
                        .await
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|r| r.enabled && !r.paused)
                        .filter_map(|r| Matcher::new(&r.conditions.text).ok().map(|m| (r, m)))
                        .collect();
                    read = changed;
                }
                if rules.is_empty() {
                    continue;
                }
                for h in happened {
                    let message = match (h, message) {
                        (Happened::Message { .. }, Some(m)) => {
                            if !done.insert(m.id.clone()) {
                                continue;
                            }
                            m.clone()
                        }
                        (Happened::StatusChanged { .. }, _) => {
                            if !rules.iter().any(|(r, _)| r.trigger == Trigger::StatusChanged) || this.own_change(ticket) {
                                continue;
                            }
                            let Some(m) = newest_from_customer(&inbox, &ticket.id).await else { continue };
                            m
                        }
                        _ => continue,
                    };
                    if done.len() > 50_000 {
                        done.clear();
                    }
                    let facts = facts(&inbox, &accounts, &rules, ticket, crate::model::now_ms()).await;
                    for rule in matching(&rules, ticket, &message, h, &facts) {
                        if let Some(hours) = rule.cooldown_hours {
                            let key = format!("{}:{}", rule.id, ticket.id);
                            let last: Option<serde_json::Value> = inbox.store().get("rule_fired", &key).await.ok().flatten();
                            let now = crate::model::now_ms();
                            if last.and_then(|v| v["at"].as_i64()).is_some_and(|at| now - at < i64::from(hours) * 3_600_000) {
                                continue;
                            }
                            let _ = inbox.store().put("rule_fired", &key, &serde_json::json!({"at": now})).await;
                        }
                        // Once per rule and message, whether it came live or in a run over the past.
                        if matches!(h, Happened::Message { .. }) && !once(&inbox, rule, &message).await {
                            continue;
                        }
                        let outcome = run(&inbox, &channels, rule, ticket, &message).await;
                        this.ran(&ticket.id, &outcome);
                        record(&inbox, &this, rule, outcome.err()).await;
                    }
                }
            }
        });
        me
    }

    /// An admin changed the rules (or a run recorded an outcome): read them again.
    pub fn rules_changed(&self) {
        self.changed.fetch_add(1, Ordering::SeqCst);
    }

    /// Remember the last change a run made to a ticket.
    fn ran(&self, ticket: &str, outcome: &Result<i64, String>) {
        if let Ok(seq) = outcome {
            let mut own = self.own.lock().expect("not poisoned");
            if own.len() > 10_000 {
                own.clear();
            }
            own.insert(ticket.to_string(), *seq);
        }
    }

    /// Whether this change of the ticket is a rule's own.
    fn own_change(&self, ticket: &Ticket) -> bool {
        self.own.lock().expect("not poisoned").get(&ticket.id).is_some_and(|seq| ticket.seq <= *seq)
    }
}

/// The ticket's newest message from its customer, still there.
async fn newest_from_customer(inbox: &Inbox, ticket_id: &str) -> Option<Message> {
    let view = inbox.view(ticket_id).await.ok()?;
    view.messages.into_iter().rev().find(|m| m.interaction.from_customer() && !m.removed)
}

/// What the rules' conditions read beyond the ticket and message, gathered only when one asks.
pub async fn facts(inbox: &Inbox, accounts: &Accounts, rules: &[(Rule, Matcher)], ticket: &Ticket, at: i64) -> Facts {
    let mut facts = Facts::default();
    if rules.iter().any(|(r, _)| r.conditions.business_hours.is_some()) {
        let teams = accounts.teams().await.unwrap_or_default();
        let own = accounts.channel_hours().await.unwrap_or_default();
        facts.open = hours_open(&teams, &own, &ticket.channel, at);
    }
    if rules.iter().any(|(r, _)| r.conditions.needs_contact()) {
        if let Ok(Some(c)) = inbox.store().get::<crate::model::Contact>("contact", &ticket.contact_id).await {
            facts.contact_tags = c.tags;
        }
    }
    if rules.iter().any(|(r, _)| r.conditions.needs_history()) {
        let q = crate::search::TicketQuery { contact: Some(ticket.contact_id.clone()), limit: Some(200), ..Default::default() };
        if let Ok((_, theirs)) = inbox.list(&q).await {
            facts.earlier_tickets = theirs.iter().filter(|t| t.id != ticket.id && t.created_at < ticket.created_at).count() as u32;
        }
    }
    facts
}

/// How often customers left waiting are looked for.
const WAITING_TICK: std::time::Duration = std::time::Duration::from_secs(15);

/// Run the `no_reply` rules on the tickets whose customer has waited their minutes: each once
/// per wait (a later answer and a new wait make it due again).
async fn waiting(inbox: &Inbox, channels: &Channels, accounts: &Accounts, me: &Automation) -> Result<(), String> {
    let rules: Vec<(Rule, Matcher)> = inbox
        .automation_rules()
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|r| r.trigger == crate::inbox::automation::Trigger::NoReply && r.enabled && !r.paused)
        .filter_map(|r| Matcher::new(&r.conditions.text).ok().map(|m| (r, m)))
        .collect();
    if rules.is_empty() {
        return Ok(());
    }
    let q = crate::search::TicketQuery { queue: Some("new".into()), sort: Some(crate::search::Sort::Waiting), limit: Some(200), ..Default::default() };
    let (_, tickets) = inbox.list(&q).await.map_err(|e| e.to_string())?;
    let now = crate::model::now_ms();
    let shortest = rules.iter().filter_map(|(r, _)| r.no_reply_minutes).min().unwrap_or(u32::MAX);
    for ticket in tickets {
        let Some(since) = ticket.waiting_since else { continue };
        if now - since < i64::from(shortest) * 60_000 {
            continue;
        }
        let view = inbox.view(&ticket.id).await.map_err(|e| e.to_string())?;
        let Some(message) = view.messages.iter().rev().find(|m| m.interaction.from_customer() && !m.removed) else { continue };
        let facts = facts(inbox, accounts, &rules, &ticket, now).await;
        for (rule, matcher) in &rules {
            if !crate::inbox::automation::overdue(rule, matcher, &ticket, message, since, now, &facts) {
                continue;
            }
            let key = format!("{}:{}:{since}", rule.id, ticket.id);
            if !inbox.store().create("rule_fired", &key, &serde_json::json!({"at": now})).await.map_err(|e| e.to_string())? {
                continue;
            }
            let outcome = run(inbox, channels, rule, &ticket, message).await;
            me.ran(&ticket.id, &outcome);
            record(inbox, me, rule, outcome.err()).await;
        }
    }
    Ok(())
}

/// The customer messages of a past period (the newest 200 tickets of it) that `rule` matches,
/// as if it had existed then; only rules on customers' messages look back. Until the rule was
/// made: what came after, it met as it arrived.
pub async fn over_period(inbox: &Inbox, accounts: &Accounts, rule: &Rule, from: i64, to: i64) -> Result<Vec<(Ticket, Message)>, InboxError> {
    if !matches!(rule.trigger, Trigger::NewTicket | Trigger::CustomerMessage) {
        return Err(InboxError::BadRequest("only rules on customers' messages (`new_ticket`, `customer_message`) run over a past period".into()));
    }
    let to = to.min(rule.created_at);
    let matcher = Matcher::new(&rule.conditions.text).map_err(InboxError::BadRequest)?;
    let past = Rule { enabled: true, paused: false, ..rule.clone() };
    let rules = [(past, matcher)];
    let q = crate::search::TicketQuery { from: Some(from), limit: Some(200), ..Default::default() };
    let (_, tickets) = inbox.list(&q).await?;
    let mut out = Vec::new();
    for t in tickets {
        let view = inbox.view(&t.id).await?;
        let first = view.messages.iter().find(|m| m.interaction.direction == Direction::Inbound).map(|m| m.id.clone());
        for m in view.messages.iter().filter(|m| m.interaction.direction == Direction::Inbound && !m.removed && (from..to).contains(&m.interaction.created_at)) {
            let facts = facts(inbox, accounts, &rules, &t, m.interaction.created_at).await;
            let happened = Happened::Message { first: first.as_deref() == Some(m.id.as_str()) };
            if !matching(&rules, &t, m, happened, &facts).is_empty() {
                out.push((t.clone(), m.clone()));
            }
        }
    }
    Ok(out)
}

/// Run `rule` over a past period: on each message it matches, once (a second run of the same
/// period does nothing more). Each outcome: the ticket, the message, the error if it failed.
pub async fn run_over_period(inbox: &Inbox, channels: &Channels, accounts: &Accounts, me: &Automation, rule: &Rule, from: i64, to: i64) -> Result<Vec<(Ticket, Message, Option<String>)>, InboxError> {
    let mut out = Vec::new();
    for (ticket, message) in over_period(inbox, accounts, rule, from, to).await? {
        if !once(inbox, rule, &message).await {
            continue;
        }
        // The ticket as it is now, not as the search listed it.
        let ticket = inbox.ticket(&ticket.id).await.unwrap_or(ticket);
        let outcome = run(inbox, channels, rule, &ticket, &message).await;
        me.ran(&ticket.id, &outcome);
        let error = outcome.err();
        record(inbox, me, rule, error.clone()).await;
        out.push((ticket, message, error));
    }
    Ok(out)
}

/// Whether `rule` has not acted on `message` yet (and now has).
async fn once(inbox: &Inbox, rule: &Rule, message: &Message) -> bool {
    let key = format!("{}:{}", rule.id, message.id);
    inbox.store().create("rule_fired", &key, &serde_json::json!({"at": crate::model::now_ms()})).await.unwrap_or(true)
}

/// Keep a run's outcome on the rule when it changes what is stored (a failure, or the first
/// success after failures), and read the rules again then.
async fn record(inbox: &Inbox, me: &Automation, rule: &Rule, error: Option<String>) {
    if error.is_none() && rule.failures == 0 {
        return;
    }
    let _ = inbox.rule_ran(&rule.id, error).await;
    me.rules_changed();
}

/// Who a rule acts as, in the history.
pub fn actor(rule: &Rule) -> String {
    crate::inbox::automation::actor(&rule.name)
}

/// One rule's actions on one message, in order; the first failure stops the rest. A reply the
/// platform's messaging window no longer allows is skipped: an auto-reply respects the window.
/// Gives the ticket's change counter after its last change.
pub async fn run(inbox: &Inbox, channels: &Channels, rule: &Rule, ticket: &Ticket, message: &Message) -> Result<i64, String> {
    let who = actor(rule);
    let mut seq = ticket.seq;
    let mut patch = TicketPatch::default();
    let mut tags = ticket.tags.clone();
    for a in &rule.actions {
        match a {
            RuleAction::Tag { tag } if !tags.contains(tag) => tags.push(tag.clone()),
            RuleAction::Flag => patch.flagged = Some(true),
            RuleAction::Queue { queue } => patch.queue = Some(*queue),
            RuleAction::Assign { user_id } => patch.assignee = Some(user_id.clone()),
            RuleAction::Team { team_id } => patch.team = Some(team_id.clone()),
            _ => {}
        }
    }
    if tags != ticket.tags {
        patch.tags = Some(tags);
    }
    // The channel's actions first: a hidden comment is archived after, not before.
    for a in &rule.actions {
        let Some(kind) = a.channel_action() else { continue };
        let ch = channels.for_action(&ticket.channel).map_err(|e| e.to_string())?;
        let (text, files) = match a {
            RuleAction::Reply { saved_replies: ids, .. } => {
                let id = &ids[fastrand::usize(..ids.len())];
                let saved: SavedReply = inbox.store().get("saved_reply", id).await.map_err(|e| e.to_string())?.ok_or_else(|| format!("the saved reply `{id}` is gone"))?;
                // Its files go where the channel takes them; elsewhere the text goes alone.
                let kind_sent = if kind == ActionKind::PrivateReply { Kind::PrivateMessage } else { message.interaction.kind };
                let takes = crate::inbox::check_files(ch.plugin.info(), kind_sent, &saved.files).is_ok();
                let files = if takes { saved.files.iter().map(|f| f.id.clone()).collect() } else { Vec::new() };
                (Some(fill(inbox, &saved, ticket, channels).await), files)
            }
            _ => (None, Vec::new()),
        };
        let req = ActionRequest { kind, message_id: Some(message.id.clone()), text, emoji: None, files };
        match inbox.perform(&ch, &ticket.id, req, &who).await {
            Ok(done) => seq = seq.max(done.ticket.seq),
            Err(InboxError::OutsideWindow(why)) => tracing::debug!(rule = %rule.name, ticket = %ticket.id, "an auto-reply skipped: {why}"),
            Err(e) => return Err(e.to_string()),
        }
    }
    let empty = patch.queue.is_none() && patch.tags.is_none() && patch.assignee.is_none() && patch.flagged.is_none() && patch.team.is_none();
    if !empty {
        seq = seq.max(inbox.update(&ticket.id, patch, &who).await.map_err(|e| e.to_string())?.seq);
    }
    for a in &rule.actions {
        if let RuleAction::Note { text } = a {
            let author = NoteAuthor { id: &rule.id, name: &who, people: &[] };
            inbox.add_note(&ticket.id, author, text).await.map_err(|e| e.to_string())?;
        }
    }
    Ok(seq)
}

/// A saved reply's text for this ticket (rules have no agent: such replies are refused when saved).
async fn fill(inbox: &Inbox, saved: &SavedReply, ticket: &Ticket, channels: &Channels) -> String {
    // The person's attributes, only when the reply uses one.
    let attributes = if saved.variables.iter().any(|v| v.starts_with("contact.") && !saved_replies::VARIABLES.contains(&v.as_str())) {
        inbox.contact_page(&ticket.contact_id).await.map(|p| p.attributes).unwrap_or_default()
    } else {
        Default::default()
    };
    let contact = &ticket.contact.name;
    let first = contact.chars().next().filter(|c| c.is_alphabetic()).and_then(|_| contact.split_whitespace().next()).unwrap_or_default().to_string();
    let channel = channels.list().into_iter().find(|c| c.id == ticket.channel).map(|c| c.display_name).unwrap_or_default();
    saved_replies::fill(&saved.text, |v| match v {
        "contact.name" => contact.clone(),
        "contact.first_name" => first.clone(),
        "channel.name" => channel.clone(),
        "ticket.id" => ticket.id.clone(),
        other => match other.strip_prefix("contact.").and_then(|k| attributes.get(k)) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Null) | None => String::new(),
            Some(v) => v.to_string(),
        },
    })
}
