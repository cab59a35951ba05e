//! Admins' rules: when a customer's interaction arrives, a customer waits, or a ticket's status
//! changes, and the rule's conditions hold (platform, channel, kind, status, from an ad, words
//! with `*` wildcards or a regular expression, language, contact tags, earlier tickets,
//! business hours), its actions run: internal ones (tag, flag, status, assign to an agent or a
//! team, note) and the channel's own (hide,
//! delete, like, reply in public or private with one of several saved replies, picked at
//! random). This module is the pure part: what a rule is, whether it holds, what it does;
//! `sync::automation` runs it, since the channel's actions go through the channel registry.

use crate::model::{ActionKind, Kind, Message, Queue, Ticket};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Rules a channel failed this many times in a row are paused, and say so.
pub const PAUSE_AFTER_FAILURES: u32 = 5;

/// What a rule's actor name starts with in the history (`Rule: Spam`).
const RULE_ACTOR: &str = "Rule: ";

/// Who a rule acts as, in the history.
pub fn actor(rule_name: &str) -> String {
    format!("{RULE_ACTOR}{rule_name}")
}

/// Whether whoever sent a message is a person (a rule's auto-reply is no agent's answer).
pub fn is_person(actor: &str) -> bool {
    !actor.starts_with(RULE_ACTOR)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// The first interaction of a new ticket (a new comment, review, conversation).
    NewTicket,
    /// Any customer interaction, the first of a ticket or a later message in it.
    CustomerMessage,
    /// A customer has waited `no_reply_minutes` without an agent's answer (once per wait).
    NoReply,
    /// The ticket moved to another status (New, Pending, Resolved, Archived), by anyone but a
    /// rule: `conditions.queues` says to which.
    StatusChanged,
}

/// What happened to the ticket, for the triggers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Happened {
    /// A customer's message arrived; `first`: it opened the ticket.
    Message { first: bool },
    /// The ticket's status changed from this one (to `ticket.queue`).
    StatusChanged { from: Queue },
}

/// What the conditions read beyond the ticket and the message, gathered only when a rule asks
/// (`Conditions::needs_contact`, `needs_history`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Facts {
    /// Whether the channel's (or its team's) business hours are open now; none: no hours.
    pub open: Option<bool>,
    pub contact_tags: Vec<String>,
    /// The author's tickets started before this one.
    pub earlier_tickets: u32,
}

/// A count's bounds, both included.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Count {
    #[serde(default)]
    pub min: Option<u32>,
    #[serde(default)]
    pub max: Option<u32>,
}

impl Count {
    fn holds(&self, n: u32) -> bool {
        self.min.is_none_or(|m| n >= m) && self.max.is_none_or(|m| n <= m)
    }
}

/// How a rule reads a message's text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TextMatch {
    /// Any of these words or phrases, in any case; `*` stands for any letters (`refund*`).
    Words { any: Vec<String> },
    /// A regular expression (Rust's syntax, case-insensitive).
    Regex { pattern: String },
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Conditions {
    #[serde(default)]
    pub platforms: Vec<String>,
    #[serde(default)]
    pub channels: Vec<String>,
    #[serde(default)]
    pub kinds: Vec<Kind>,
    #[serde(default)]
    pub from_ad: Option<bool>,
    #[serde(default)]
    pub text: Option<TextMatch>,
    /// Only within (true) or only outside (false) the business hours of the team whose channel
    /// it is; a channel without a team's hours never matches.
    #[serde(default)]
    pub business_hours: Option<bool>,
    /// The ticket's status now (for `status_changed`: the status it moved to).
    #[serde(default)]
    pub queues: Vec<Queue>,
    /// The message's language (ISO 639-3 codes, `eng`, as `inbox::language` tells them).
    #[serde(default)]
    pub languages: Vec<String>,
    /// The message's sentiment (an agent's mark, else the suggestion): any of these.
    #[serde(default)]
    pub sentiments: Vec<crate::model::Sentiment>,
    /// The contact carries any of these tags.
    #[serde(default)]
    pub contact_tags: Vec<String>,
    /// How many tickets the author started before this one (`{"max": 0}`: a first contact).
    #[serde(default)]
    pub earlier_tickets: Option<Count>,
}

impl Conditions {
    pub fn needs_contact(&self) -> bool {
        !self.contact_tags.is_empty()
    }

    pub fn needs_history(&self) -> bool {
        self.earlier_tickets.is_some()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RuleAction {
    Tag { tag: String },
    Flag,
    /// Move the ticket to a queue (`resolved`, `archived`, ...).
    Queue { queue: Queue },
    /// Assign to an agent (a user id).
    Assign { user_id: String },
    /// Route to a team (its id): its auto-assignment hands the ticket out.
    Team { team_id: String },
    Note { text: String },
    /// The channel's own action on the message: `hide`, `delete`, `like`.
    Platform { action: ActionKind },
    /// Answer with one of these saved replies (ids), picked at random, in public or in private.
    Reply { saved_replies: Vec<String>, private: bool },
}

impl RuleAction {
    /// The channel action it takes, if any.
    pub fn channel_action(&self) -> Option<ActionKind> {
        match self {
            RuleAction::Platform { action } => Some(*action),
            RuleAction::Reply { private: true, .. } => Some(ActionKind::PrivateReply),
            RuleAction::Reply { private: false, .. } => Some(ActionKind::Reply),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub enabled: bool,
    /// Rules run in this order, lowest first.
    pub position: u32,
    /// Later rules do not run on what this one matched.
    pub stop: bool,
    pub trigger: Trigger,
    pub conditions: Conditions,
    pub actions: Vec<RuleAction>,
    /// When it was made: what arrived before is never touched by it (a dry run shows it).
    pub created_at: i64,
    /// At most once per ticket in this many hours (an auto-reply that does not repeat).
    #[serde(default)]
    pub cooldown_hours: Option<u32>,
    /// For `no_reply`: how long the customer has waited.
    #[serde(default)]
    pub no_reply_minutes: Option<u32>,
    /// Its last failure in words, and how many in a row.
    #[serde(default)]
    pub last_error: Option<String>,
    #[serde(default)]
    pub failures: u32,
    /// Paused after repeated failures, until an admin saves it again.
    #[serde(default)]
    pub paused: bool,
}

/// A rule as an admin writes it.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub position: u32,
    #[serde(default)]
    pub stop: bool,
    pub trigger: Trigger,
    #[serde(default)]
    pub conditions: Conditions,
    pub actions: Vec<RuleAction>,
    #[serde(default)]
    pub cooldown_hours: Option<u32>,
    #[serde(default)]
    pub no_reply_minutes: Option<u32>,
}

fn yes() -> bool {
    true
}

/// The compiled text condition.
pub struct Matcher(Option<regex::Regex>);

impl Matcher {
    pub fn new(text: &Option<TextMatch>) -> Result<Matcher, String> {
        let pattern = match text {
            None => return Ok(Matcher(None)),
            Some(TextMatch::Regex { pattern }) => pattern.clone(),
            Some(TextMatch::Words { any }) => {
                let words: Vec<String> = any.iter().map(|w| w.trim()).filter(|w| !w.is_empty()).map(|w| regex::escape(w).replace(r"\*", r"\w*")).collect();
                if words.is_empty() {
                    return Err("the text condition names no words".into());
                }
                format!(r"(?:^|\W)(?:{})(?:$|\W)", words.join("|"))
            }
        };
        if pattern.len() > 2000 {
            return Err("the pattern is longer than 2000 characters".into());
        }
        regex::RegexBuilder::new(&pattern).case_insensitive(true).size_limit(1 << 20).build().map(|r| Matcher(Some(r))).map_err(|e| format!("the pattern does not work: {e}"))
    }

    pub fn holds(&self, text: &str) -> bool {
        self.0.as_ref().is_none_or(|r| r.is_match(text))
    }
}

/// Whether `rule` applies to what `happened` to `ticket`, whose customer's message (the new
/// one, or the newest) is `message`. Rules run on what is stored after they were read
/// (`sync::automation`), so what arrived before a rule existed is never touched by it,
/// whatever time the platform gives the message.
pub fn applies(rule: &Rule, matcher: &Matcher, ticket: &Ticket, message: &Message, happened: Happened, facts: &Facts) -> bool {
    let now = match (rule.trigger, happened) {
        (Trigger::NewTicket, Happened::Message { first }) => first,
        (Trigger::CustomerMessage, Happened::Message { .. }) => true,
        (Trigger::StatusChanged, Happened::StatusChanged { from }) => from != ticket.queue,
        _ => false,
    };
    now && holds(rule, matcher, ticket, message, facts)
}

/// Whether a `no_reply` rule holds for a ticket whose customer has waited since `waiting_since`
/// (their newest message is `message`) at `now`.
pub fn overdue(rule: &Rule, matcher: &Matcher, ticket: &Ticket, message: &Message, waiting_since: i64, now: i64, facts: &Facts) -> bool {
    rule.trigger == Trigger::NoReply
        && rule.no_reply_minutes.is_some_and(|m| now - waiting_since >= i64::from(m) * 60_000)
        && holds(rule, matcher, ticket, message, facts)
}

/// The conditions, whatever the trigger.
fn holds(rule: &Rule, matcher: &Matcher, ticket: &Ticket, message: &Message, facts: &Facts) -> bool {
    let c = &rule.conditions;
    rule.enabled
        && !rule.paused
        && (c.platforms.is_empty() || c.platforms.contains(&ticket.platform))
        && (c.channels.is_empty() || c.channels.contains(&ticket.channel))
        && (c.kinds.is_empty() || c.kinds.contains(&message.interaction.kind))
        && (c.queues.is_empty() || c.queues.contains(&ticket.queue))
        && c.from_ad.is_none_or(|a| a == message.interaction.from_ad)
        && c.business_hours.is_none_or(|want| facts.open == Some(want))
        && (c.languages.is_empty() || message.language.as_ref().is_some_and(|l| c.languages.contains(l)))
        && (c.sentiments.is_empty() || message.sentiment.is_some_and(|s| c.sentiments.contains(&s)))
        && (c.contact_tags.is_empty() || c.contact_tags.iter().any(|t| facts.contact_tags.contains(t)))
        && c.earlier_tickets.is_none_or(|n| n.holds(facts.earlier_tickets))
        && matcher.holds(&message.interaction.text)
}

/// The rules that run, in order, up to the first matching one that stops.
pub fn matching<'a>(rules: &'a [(Rule, Matcher)], ticket: &Ticket, message: &Message, happened: Happened, facts: &Facts) -> Vec<&'a Rule> {
    let mut sorted: Vec<&(Rule, Matcher)> = rules.iter().collect();
    sorted.sort_by_key(|(r, _)| (r.position, r.created_at));
    let mut out = Vec::new();
    for (rule, m) in sorted {
        if applies(rule, m, ticket, message, happened, facts) {
            out.push(rule);
            if rule.stop {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: &str, kind: Kind) -> (Ticket, Message) {
        let t: Ticket = serde_json::from_value(serde_json::json!({
            "id": "t", "channel": "fb", "platform": "facebook", "kind": kind, "queue": "new", "contact_id": "c",
            "contact": {"id": "u", "name": "U"}, "thread_key": "p", "preview": "", "message_count": 1, "created_at": 0, "updated_at": 0,
            "last_message_at": 0, "last_inbound_at": null, "tags": [], "assignee": null, "flagged": false, "from_ad": false, "seq": 1
        }))
        .unwrap();
        let m: Message = serde_json::from_value(serde_json::json!({
            "id": "m", "ticket_id": "t", "channel": "fb", "platform_id": "1", "kind": kind, "direction": "inbound", "thread_key": "p",
            "parent_id": null, "author": {"id": "u", "name": "U"}, "text": text, "attachments": [], "created_at": 100, "edited_at": null,
            "permalink": null, "from_ad": false, "meta": [], "removed": false, "sent_by": null, "page": 0, "seq": 1
        }))
        .unwrap();
        (t, m)
    }

    fn rule(name: &str, text: Option<TextMatch>, stop: bool, position: u32) -> (Rule, Matcher) {
        let r = Rule {
            id: name.into(), name: name.into(), enabled: true, position, stop, trigger: Trigger::NewTicket,
            conditions: Conditions { text, ..Default::default() }, actions: vec![RuleAction::Flag], created_at: 0, cooldown_hours: None, no_reply_minutes: None, last_error: None, failures: 0, paused: false,
        };
        let m = Matcher::new(&r.conditions.text).unwrap();
        (r, m)
    }

    fn words(w: &[&str]) -> Option<TextMatch> {
        Some(TextMatch::Words { any: w.iter().map(|s| s.to_string()).collect() })
    }

    #[test]
    fn words_match_whole_words_in_any_case_and_a_star_stands_for_letters() {
        let m = Matcher::new(&words(&["scam", "free money", "crypt*"])).unwrap();
        assert!(m.holds("This is a SCAM!"));
        assert!(m.holds("get free money now"));
        assert!(m.holds("Buy cryptocurrency"));
        assert!(!m.holds("scamper away"), "a word, not a part of one");
        assert!(!m.holds("money for free"));
    }

    #[test]
    fn a_pattern_that_cannot_work_is_refused_in_words() {
        assert!(Matcher::new(&Some(TextMatch::Regex { pattern: "(unclosed".into() })).err().unwrap().contains("does not work"));
        assert!(Matcher::new(&words(&["  "])).is_err());
    }

    #[test]
    fn rules_run_in_order_and_a_stopping_rule_ends_the_list() {
        let rules = [rule("b", None, false, 2), rule("a", words(&["spam"]), true, 1), rule("c", None, false, 3)];
        let (t, m) = message("spam here", Kind::Comment);
        assert_eq!(matching(&rules, &t, &m, NEW, &Facts::default()).iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["a"]);
        let (t, m) = message("hello", Kind::Comment);
        assert_eq!(matching(&rules, &t, &m, NEW, &Facts::default()).iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["b", "c"]);
    }

    const NEW: Happened = Happened::Message { first: true };
    const LATER: Happened = Happened::Message { first: false };

    fn open(open: Option<bool>) -> Facts {
        Facts { open, ..Default::default() }
    }

    #[test]
    fn an_outside_hours_rule_acts_only_when_the_team_is_closed() {
        let (mut r, matcher) = rule("night", None, false, 1);
        r.conditions.business_hours = Some(false);
        let (t, m) = message("hi", Kind::PrivateMessage);
        assert!(applies(&r, &matcher, &t, &m, NEW, &open(Some(false))));
        assert!(!applies(&r, &matcher, &t, &m, NEW, &open(Some(true))), "open now");
        assert!(!applies(&r, &matcher, &t, &m, NEW, &open(None)), "no hours known for this channel");
    }

    #[test]
    fn a_sentiment_rule_acts_only_on_messages_that_read_that_way() {
        let (mut r, matcher) = rule("angry", None, false, 1);
        r.conditions.sentiments = vec![crate::model::Sentiment::Negative];
        let (t, mut m) = message("This is the worst service ever", Kind::PrivateMessage);
        m.sentiment = Some(crate::model::Sentiment::Negative);
        assert!(applies(&r, &matcher, &t, &m, NEW, &Facts::default()));
        m.sentiment = Some(crate::model::Sentiment::Neutral);
        assert!(!applies(&r, &matcher, &t, &m, NEW, &Facts::default()));
        m.sentiment = None;
        assert!(!applies(&r, &matcher, &t, &m, NEW, &Facts::default()), "no sentiment known");
    }

    #[test]
    fn a_status_rule_acts_when_the_ticket_moves_to_one_of_its_statuses() {
        let (mut r, matcher) = rule("resolved", None, false, 1);
        r.trigger = Trigger::StatusChanged;
        r.conditions.queues = vec![Queue::Resolved];
        let (mut t, m) = message("thanks", Kind::PrivateMessage);
        t.queue = Queue::Resolved;
        assert!(applies(&r, &matcher, &t, &m, Happened::StatusChanged { from: Queue::New }, &Facts::default()));
        assert!(!applies(&r, &matcher, &t, &m, LATER, &Facts::default()), "a message is not a status change");
        t.queue = Queue::Pending;
        assert!(!applies(&r, &matcher, &t, &m, Happened::StatusChanged { from: Queue::New }, &Facts::default()), "moved elsewhere");
    }

    #[test]
    fn a_first_contact_rule_skips_customers_who_wrote_before() {
        let (mut r, matcher) = rule("welcome", None, false, 1);
        r.conditions.earlier_tickets = Some(Count { min: None, max: Some(0) });
        let (t, m) = message("hi", Kind::PrivateMessage);
        assert!(applies(&r, &matcher, &t, &m, NEW, &Facts::default()));
        assert!(!applies(&r, &matcher, &t, &m, NEW, &Facts { earlier_tickets: 2, ..Default::default() }));
        assert!(r.conditions.needs_history() && !r.conditions.needs_contact());
    }

    #[test]
    fn language_and_contact_tag_conditions_read_the_message_and_the_contact() {
        let (mut r, matcher) = rule("vip-es", None, false, 1);
        r.conditions.languages = vec!["spa".into()];
        r.conditions.contact_tags = vec!["vip".into()];
        let (t, mut m) = message("hola", Kind::PrivateMessage);
        let vip = Facts { contact_tags: vec!["vip".into()], ..Default::default() };
        assert!(!applies(&r, &matcher, &t, &m, NEW, &vip), "no language told");
        m.language = Some("spa".into());
        assert!(applies(&r, &matcher, &t, &m, NEW, &vip));
        assert!(!applies(&r, &matcher, &t, &m, NEW, &Facts::default()), "not a vip");
    }

    #[test]
    fn a_no_reply_rule_acts_once_the_customer_has_waited_its_minutes() {
        let (mut r, matcher) = rule("late", None, false, 1);
        r.trigger = Trigger::NoReply;
        r.no_reply_minutes = Some(30);
        let (t, m) = message("hello?", Kind::PrivateMessage);
        assert!(!overdue(&r, &matcher, &t, &m, 0, 29 * 60_000, &Facts::default()));
        assert!(overdue(&r, &matcher, &t, &m, 0, 30 * 60_000, &Facts::default()));
        assert!(!applies(&r, &matcher, &t, &m, NEW, &Facts::default()), "not when the message arrives");
    }

    #[test]
    fn conditions_on_kind_and_trigger_narrow_a_rule() {
        let (mut r, matcher) = rule("dm", None, false, 1);
        r.conditions.kinds = vec![Kind::PrivateMessage];
        let (t, m) = message("hi", Kind::Comment);
        assert!(!applies(&r, &matcher, &t, &m, NEW, &Facts::default()), "comments are not private messages");
        r.conditions.kinds.clear();
        assert!(!applies(&r, &matcher, &t, &m, LATER, &Facts::default()), "a new-ticket rule skips later messages");
        r.trigger = Trigger::CustomerMessage;
        assert!(applies(&r, &matcher, &t, &m, LATER, &Facts::default()));
    }
}

impl super::Inbox {
    /// Every rule, in the order they run.
    pub async fn automation_rules(&self) -> Result<Vec<Rule>, super::InboxError> {
        let mut rules: Vec<Rule> = self.store.all("rule", "position").await?;
        rules.sort_by_key(|r| (r.position, r.created_at));
        Ok(rules)
    }

    /// Create (no `id`) or replace a rule; its text condition must compile. Saving a paused
    /// rule starts it again. The caller checked what needs the channels and the people.
    pub async fn save_automation_rule(&self, id: Option<&str>, input: RuleInput) -> Result<Rule, super::InboxError> {
        let bad = |m: String| super::InboxError::BadRequest(m);
        let name = input.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 80 {
            return Err(bad("a rule's name is 1 to 80 characters".into()));
        }
        Matcher::new(&input.conditions.text).map_err(bad)?;
        if input.trigger == Trigger::NoReply && !input.no_reply_minutes.is_some_and(|m| (1..=10_080).contains(&m)) {
            return Err(bad("a `no_reply` rule says after how many minutes (`no_reply_minutes`, 1 to 10080)".into()));
        }
        if input.trigger == Trigger::StatusChanged && input.conditions.queues.is_empty() {
            return Err(bad("a `status_changed` rule says to which statuses (`conditions.queues`)".into()));
        }
        if input.trigger == Trigger::StatusChanged && input.actions.iter().any(|a| matches!(a, RuleAction::Queue { .. })) {
            return Err(bad("a `status_changed` rule cannot change the status itself".into()));
        }
        if let Some(l) = input.conditions.languages.iter().find(|l| super::language::name(l).is_none()) {
            return Err(bad(format!("`{l}` is not a language code the helpdesk tells (ISO 639-3, such as `eng` or `spa`)")));
        }
        if input.conditions.earlier_tickets.is_some_and(|c| c.min.zip(c.max).is_some_and(|(a, b)| a > b)) {
            return Err(bad("`earlier_tickets`: `min` is at most `max`".into()));
        }
        if input.actions.is_empty() || input.actions.len() > 10 {
            return Err(bad("a rule has 1 to 10 actions".into()));
        }
        for a in &input.actions {
            match a {
                RuleAction::Tag { tag } if tag.trim().is_empty() || tag.chars().count() > 50 => return Err(bad("a tag is 1 to 50 characters".into())),
                RuleAction::Note { text } if text.trim().is_empty() || text.chars().count() > 2000 => return Err(bad("a rule's note is 1 to 2000 characters".into())),
                RuleAction::Platform { action } if !matches!(action, ActionKind::Hide | ActionKind::Delete | ActionKind::Like) => {
                    return Err(bad(format!("a rule can hide, delete or like; `{action}` is not among them")));
                }
                RuleAction::Reply { saved_replies, .. } => {
                    if saved_replies.is_empty() {
                        return Err(bad("a reply names at least one saved reply".into()));
                    }
                    for sid in saved_replies {
                        let r: super::saved_replies::SavedReply =
                            self.store.get("saved_reply", sid).await?.ok_or_else(|| bad(format!("no saved reply `{sid}`")))?;
                        if let Some(v) = r.variables.iter().find(|v| v.starts_with("agent.")) {
                            return Err(bad(format!("the saved reply “{}” uses {{{{{v}}}}}: a rule has no agent to fill it", r.title)));
                        }
                    }
                }
                _ => {}
            }
        }
        let created_at = match id {
            Some(id) => self.store.get::<Rule>("rule", id).await?.ok_or_else(|| super::InboxError::NotFound(format!("no rule `{id}`")))?.created_at,
            None => crate::model::now_ms(),
        };
        let id = id.map(str::to_string).unwrap_or_else(|| crate::model::stable_id("rule", &format!("{name}:{created_at}")));
        let rule = Rule {
            id: id.clone(),
            name,
            enabled: input.enabled,
            position: input.position,
            stop: input.stop,
            trigger: input.trigger,
            conditions: input.conditions,
            actions: input.actions,
            created_at,
            cooldown_hours: input.cooldown_hours.filter(|h| *h > 0),
            no_reply_minutes: input.no_reply_minutes,
            last_error: None,
            failures: 0,
            paused: false,
        };
        self.store.put("rule", &id, &rule).await?;
        Ok(rule)
    }

    pub async fn delete_automation_rule(&self, id: &str) -> Result<(), super::InboxError> {
        self.store.get::<Rule>("rule", id).await?.ok_or_else(|| super::InboxError::NotFound(format!("no rule `{id}`")))?;
        Ok(self.store.delete("rule", id).await?)
    }

    /// How a rule's last run went: a failure is kept in words, and repeated ones pause it.
    pub async fn rule_ran(&self, id: &str, error: Option<String>) -> Result<(), super::InboxError> {
        let Some(mut r) = self.store.get::<Rule>("rule", id).await? else { return Ok(()) };
        match error {
            Some(e) => {
                r.failures += 1;
                r.last_error = Some(e);
                r.paused = r.failures >= PAUSE_AFTER_FAILURES;
            }
            None if r.failures == 0 => return Ok(()),
            None => r.failures = 0,
        }
        Ok(self.store.put("rule", id, &r).await?)
    }
}
