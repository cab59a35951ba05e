//! Runs the admins' rules (`inbox::automation`) on what customers send, as it is stored: a
//! watcher of the event bus, so the ingest path only publishes. Internal actions change the
//! ticket, channel actions (hide, delete, like, a saved reply) go through the channel like an
//! agent's, and everything is in the ticket's history as the rule. Only customers' messages
//! trigger rules, so a rule's own reply never does.

use super::Channels;
use crate::accounts::Accounts;
use crate::events::{Event, EventBus};
use crate::inbox::automation::{matching, Matcher, Rule, RuleAction};
use crate::inbox::saved_replies::{self, SavedReply};
use crate::inbox::{ActionRequest, Inbox, NoteAuthor, TicketPatch};
use crate::model::{Direction, Message, Ticket};
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The rules as last read, and the generation they were read at.
pub struct Automation {
    changed: AtomicU64,
}

impl Automation {
    pub fn spawn(inbox: Arc<Inbox>, channels: Arc<Channels>, accounts: Accounts, events: EventBus) -> Arc<Automation> {
        let me = Arc::new(Automation { changed: AtomicU64::new(1) });
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
        let mut sub = events.subscribe();
        tokio::spawn(async move {
            let mut rules: Vec<(Rule, Matcher)> = Vec::new();
            let mut read = 0;
            let mut done: HashSet<String> = HashSet::new();
            loop {
                let published = match sub.recv().await {
                    Ok(p) => p,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!("rules missed {n} changes under load");
                        continue;
                    }
                    Err(_) => return,
                };
                let (ticket, message, first) = match &*published.event {
                    Event::TicketCreated { ticket, message: Some(m) } => (ticket, m, true),
                    Event::TicketUpdated { ticket, message: Some(m) } => (ticket, m, false),
                    _ => continue,
                };
                // Customers' new messages only: not ours, not an edit or a removal.
                if message.interaction.direction != Direction::Inbound || message.removed || !message.history.is_empty() {
                    continue;
                }
                let changed = this.changed.load(Ordering::SeqCst);
                if changed != read {
                    rules = inbox
                        .automation_rules()
                        .await
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|r| Matcher::new(&r.conditions.text).ok().map(|m| (r, m)))
                        .collect();
                    read = changed;
                }
                if rules.is_empty() || !done.insert(message.id.clone()) {
                    continue;
                }
                if done.len() > 50_000 {
                    done.clear();
                }
                // Whether the team of this channel is within its business hours now, when a rule asks.
                let open = if rules.iter().any(|(r, _)| r.conditions.business_hours.is_some()) {
                    hours_open(&accounts.teams().await.unwrap_or_default(), &ticket.channel, crate::model::now_ms())
                } else {
                    None
                };
                for rule in matching(&rules, ticket, message, first, open) {
                    if let Some(hours) = rule.cooldown_hours {
                        let key = format!("{}:{}", rule.id, ticket.id);
                        let last: Option<serde_json::Value> = inbox.store().get("rule_fired", &key).await.ok().flatten();
                        let now = crate::model::now_ms();
                        if last.and_then(|v| v["at"].as_i64()).is_some_and(|at| now - at < i64::from(hours) * 3_600_000) {
                            continue;
                        }
                        let _ = inbox.store().put("rule_fired", &key, &serde_json::json!({"at": now})).await;
                    }
                    let error = run(&inbox, &channels, rule, ticket, message).await.err();
                    if let Some(e) = &error {
                        tracing::warn!(rule = %rule.name, ticket = %ticket.id, "a rule failed: {e}");
                    }
                    record(&inbox, &this, rule, error).await;
                }
            }
        });
        me
    }

    /// An admin changed the rules (or a run recorded an outcome): read them again.
    pub fn rules_changed(&self) {
        self.changed.fetch_add(1, Ordering::SeqCst);
    }
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
    let teams = accounts.teams().await.unwrap_or_default();
    let now = crate::model::now_ms();
    let shortest = rules.iter().filter_map(|(r, _)| r.no_reply_minutes).min().unwrap_or(u32::MAX);
    for ticket in tickets {
        let Some(since) = ticket.waiting_since else { continue };
        if now - since < i64::from(shortest) * 60_000 {
            continue;
        }
        let view = inbox.view(&ticket.id).await.map_err(|e| e.to_string())?;
        let Some(message) = view.messages.iter().rev().find(|m| m.interaction.direction == Direction::Inbound && !m.removed) else { continue };
        let open = hours_open(&teams, &ticket.channel, now);
        for (rule, matcher) in &rules {
            if !crate::inbox::automation::overdue(rule, matcher, &ticket, message, since, now, open) {
                continue;
            }
            let key = format!("{}:{}:{since}", rule.id, ticket.id);
            if !inbox.store().create("rule_fired", &key, &serde_json::json!({"at": now})).await.map_err(|e| e.to_string())? {
                continue;
            }
            let error = run(inbox, channels, rule, &ticket, message).await.err();
            record(inbox, me, rule, error).await;
        }
    }
    Ok(())
}

/// Whether the business hours of the team `channel` belongs to are open at `at` (none: no hours).
pub fn hours_open(teams: &[crate::accounts::Team], channel: &str, at: i64) -> Option<bool> {
    teams.iter().find(|t| t.channels.iter().any(|c| c == channel)).and_then(|t| t.business_hours.as_ref()).map(|h| h.open_at(at))
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
    format!("Rule: {}", rule.name)
}

/// One rule's actions on one message, in order; the first failure stops the rest.
async fn run(inbox: &Inbox, channels: &Channels, rule: &Rule, ticket: &Ticket, message: &Message) -> Result<(), String> {
    let who = actor(rule);
    let mut patch = TicketPatch::default();
    let mut tags = ticket.tags.clone();
    for a in &rule.actions {
        match a {
            RuleAction::Tag { tag } if !tags.contains(tag) => tags.push(tag.clone()),
            RuleAction::Flag => patch.flagged = Some(true),
            RuleAction::Queue { queue } => patch.queue = Some(*queue),
            RuleAction::Assign { user_id } => patch.assignee = Some(user_id.clone()),
            _ => {}
        }
    }
    if tags != ticket.tags {
        patch.tags = Some(tags);
    }
    // The channel's actions first: a hidden comment is archived after, not before.
    for a in &rule.actions {
        let Some(kind) = a.channel_action() else { continue };
        let text = match a {
            RuleAction::Reply { saved_replies: ids, .. } => {
                let id = &ids[fastrand::usize(..ids.len())];
                let saved: SavedReply = inbox.store().get("saved_reply", id).await.map_err(|e| e.to_string())?.ok_or_else(|| format!("the saved reply `{id}` is gone"))?;
                Some(fill(&saved, ticket, channels))
            }
            _ => None,
        };
        let ch = channels.for_action(&ticket.channel).map_err(|e| e.to_string())?;
        let req = ActionRequest { kind, message_id: Some(message.id.clone()), text, emoji: None };
        inbox.perform(&ch, &ticket.id, req, &who).await.map_err(|e| e.to_string())?;
    }
    let empty = patch.queue.is_none() && patch.tags.is_none() && patch.assignee.is_none() && patch.flagged.is_none();
    if !empty {
        inbox.update(&ticket.id, patch, &who).await.map_err(|e| e.to_string())?;
    }
    for a in &rule.actions {
        if let RuleAction::Note { text } = a {
            let author = NoteAuthor { id: &rule.id, name: &who, people: &[] };
            inbox.add_note(&ticket.id, author, text).await.map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// A saved reply's text for this ticket (rules have no agent: such replies are refused when saved).
fn fill(saved: &SavedReply, ticket: &Ticket, channels: &Channels) -> String {
    let contact = &ticket.contact.name;
    let first = contact.chars().next().filter(|c| c.is_alphabetic()).and_then(|_| contact.split_whitespace().next()).unwrap_or_default().to_string();
    let channel = channels.list().into_iter().find(|c| c.id == ticket.channel).map(|c| c.display_name).unwrap_or_default();
    saved_replies::fill(&saved.text, |v| match v {
        "contact.name" => contact.clone(),
        "contact.first_name" => first.clone(),
        "channel.name" => channel.clone(),
        "ticket.id" => ticket.id.clone(),
        _ => String::new(),
    })
}
