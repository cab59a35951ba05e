//! Agents' actions: on the platform (reply, like, delete, block...) through the channel's
//! plugin, checked against what it declares; and internal ones (queue, tags, assignee, flag).

use super::{Inbox, InboxError};
use crate::model::{now_ms, stable_id, ActionKind, Activity, Direction, Interaction, Kind, Message, Millis, Queue, Ticket, Visibility};
use crate::plugins::{Action, ActionTarget, ChannelContext, ChannelFailure, Plugin, PluginError, PluginInfo, ReplyAction};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

/// The longest reply accepted (platforms cut lower; Telegram at 4096).
const MAX_REPLY_CHARS: usize = 10_000;

/// An action on a ticket, as the API receives it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ActionRequest {
    #[serde(rename = "type")]
    pub kind: ActionKind,
    /// The message acted on; defaults to the customer's newest message.
    pub message_id: Option<String>,
    /// The reply's text.
    pub text: Option<String>,
    /// The reaction, for `react`.
    pub emoji: Option<String>,
    /// Uploaded files (`POST /api/v1/files`, or a saved reply's) sent with a reply, by id,
    /// where the channel takes them; the text may then be empty.
    #[serde(default)]
    pub files: Vec<String>,
}

/// A reply as the agent is writing it, for the channel's note on it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftReply {
    pub text: String,
    /// The message answered; defaults to the customer's newest message.
    pub message_id: Option<String>,
}

/// What the channel says about a draft reply.
#[derive(Debug, serde::Serialize, Deserialize, ToSchema)]
pub struct ReplyNote {
    /// In words ("2 SMS segments"), or null when there is nothing to say.
    pub note: Option<String>,
}

/// Internal changes to a ticket; absent fields stay as they are.
#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
pub struct TicketPatch {
    pub queue: Option<Queue>,
    pub tags: Option<Vec<String>>,
    /// An agent's name or email; empty to unassign.
    pub assignee: Option<String>,
    pub flagged: Option<bool>,
    /// Route to a team (its id; empty: back to the team whose channel it is).
    pub team: Option<String>,
    /// Snooze until then (milliseconds since the epoch): the ticket waits in Pending and
    /// returns to New when the time comes or the customer writes. `null` wakes it now.
    #[serde(default, deserialize_with = "some_or_null")]
    #[schema(value_type = Option<i64>)]
    pub snooze_until: Option<Option<Millis>>,
    /// An agent's mark of how the customer feels; `null` takes the mark away.
    #[serde(default, deserialize_with = "some_or_null_sentiment")]
    #[schema(value_type = Option<crate::model::Sentiment>)]
    pub sentiment: Option<Option<crate::model::Sentiment>>,
}

fn some_or_null_sentiment<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<crate::model::Sentiment>>, D::Error> {
    Option::<crate::model::Sentiment>::deserialize(d).map(Some)
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`).
fn some_or_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<Millis>>, D::Error> {
    Option::<Millis>::deserialize(d).map(Some)
}

/// The furthest a snooze may reach.
const MAX_SNOOZE_MS: i64 = 366 * 24 * 3_600_000;

/// The channel an action goes through.
pub struct ActionChannel {
    pub id: String,
    pub platform: String,
    pub plugin: Arc<Plugin>,
    pub ctx: Arc<ChannelContext>,
}

#[derive(Debug, serde::Serialize, Deserialize, ToSchema)]
pub struct ActionResult {
    pub ticket: Ticket,
    /// The message the action created (a sent reply).
    pub message: Option<Message>,
    pub activity: Activity,
}

fn parse_action(req: &ActionRequest) -> Result<Action, InboxError> {
    if !req.files.is_empty() {
        let text = req.text.as_deref().map(str::trim).unwrap_or_default().to_string();
        if text.chars().count() > MAX_REPLY_CHARS {
            return Err(InboxError::BadRequest(format!("a reply is limited to {MAX_REPLY_CHARS} characters")));
        }
        let reply = ReplyAction { text, tag: None };
        return match req.kind {
            ActionKind::Reply => Ok(Action::Reply(reply)),
            ActionKind::PrivateReply => Ok(Action::PrivateReply(reply)),
            other => Err(InboxError::BadRequest(format!("only a reply carries files, not `{other}`"))),
        };
    }
    action_from(req.kind, req.text.as_deref(), req.emoji.as_deref())
}

/// Whether the channel takes these files with a reply on `kind`, or why not, in words.
pub fn check_files(info: &PluginInfo, kind: Kind, files: &[super::files::StoredFile]) -> Result<(), InboxError> {
    let Some(cap) = info.files_for(kind) else {
        let why = if crate::plugins::ContractVersion::matching(&info.contract).is_some_and(|v| v < crate::plugins::ContractVersion::V0_6_0) {
            format!(" (its plugin was built against contract {}, which cannot send files)", info.contract)
        } else {
            String::new()
        };
        return Err(InboxError::Unsupported(format!("{} cannot send files with a reply on {}{why}; send the text alone", info.platform_name, kind_words(kind))));
    };
    let notes = if cap.notes.is_empty() { String::new() } else { format!(" ({})", cap.notes.join("; ")) };
    if files.len() > cap.max_files as usize {
        return Err(InboxError::Unsupported(format!("{} takes at most {} files in one reply here{notes}", info.platform_name, cap.max_files)));
    }
    for f in files {
        if !cap.kinds.contains(&f.kind) {
            let what = |k: &crate::model::AttachmentKind| format!("{k:?}").to_lowercase();
            return Err(InboxError::Unsupported(format!(
                "{} does not take `{}` (a {}) here, only {}{notes}",
                info.platform_name,
                f.name,
                what(&f.kind),
                cap.kinds.iter().map(|k| format!("{}s", what(k))).collect::<Vec<_>>().join(", ")
            )));
        }
        if f.size > cap.max_bytes {
            return Err(InboxError::Unsupported(format!(
                "`{}` is {:.1} MB; {} takes files of at most {:.1} MB here{notes}",
                f.name,
                f.size as f64 / 1e6,
                info.platform_name,
                cap.max_bytes as f64 / 1e6
            )));
        }
    }
    let total: u64 = files.iter().map(|f| f.size).sum();
    if total > super::files::MAX_REPLY_BYTES {
        return Err(InboxError::Unsupported(format!("one reply carries at most {} MB of files", super::files::MAX_REPLY_BYTES >> 20)));
    }
    Ok(())
}

/// The action to hand a plugin, with its data checked.
pub fn action_from(kind: ActionKind, text: Option<&str>, emoji: Option<&str>) -> Result<Action, InboxError> {
    let text = || -> Result<ReplyAction, InboxError> {
        let text = text.map(str::trim).unwrap_or_default();
        if text.is_empty() {
            return Err(InboxError::BadRequest("a reply needs a non-empty `text`".into()));
        }
        if text.chars().count() > MAX_REPLY_CHARS {
            return Err(InboxError::BadRequest(format!("a reply is limited to {MAX_REPLY_CHARS} characters")));
        }
        Ok(ReplyAction { text: text.to_string(), tag: None })
    };
    Ok(match kind {
        ActionKind::Reply => Action::Reply(text()?),
        ActionKind::PrivateReply => Action::PrivateReply(text()?),
        ActionKind::Like => Action::Like,
        ActionKind::Unlike => Action::Unlike,
        ActionKind::React => Action::React(
            emoji.filter(|e| !e.is_empty()).map(str::to_string).ok_or_else(|| InboxError::BadRequest("`react` needs an `emoji`".into()))?,
        ),
        ActionKind::Hide => Action::Hide,
        ActionKind::Unhide => Action::Unhide,
        ActionKind::Delete => Action::Delete,
        ActionKind::Block => Action::Block,
        ActionKind::Unblock => Action::Unblock,
        ActionKind::MarkRead => Action::MarkRead,
        ActionKind::Follow => Action::Follow,
        ActionKind::Repost => Action::Repost,
        ActionKind::Unrepost => Action::Unrepost,
        ActionKind::Mute => Action::Mute,
        ActionKind::Unmute => Action::Unmute,
        ActionKind::Pin => Action::Pin,
        ActionKind::Unpin => Action::Unpin,
        ActionKind::Publish => Action::Publish,
        ActionKind::Reject => Action::Reject,
        ActionKind::Unfollow => Action::Unfollow,
        ActionKind::Quote => Action::Quote(text()?),
    })
}

/// How long an idempotency key is remembered.
const IDEMPOTENCY_TTL_MS: i64 = 24 * 3_600_000;

/// What a performed action with an idempotency key answered, kept for its retries.
#[derive(serde::Serialize, Deserialize)]
struct Performed {
    ticket_id: String,
    at: i64,
    result: ActionResult,
}

/// Longer than any platform takes: a draft past it is not a reply.
const MAX_DRAFT_CHARS: usize = 20_000;

/// Takes an idempotency key out of the in-flight set when the action ends, however it ends.
struct InFlight<'a>(&'a std::sync::Mutex<std::collections::HashSet<String>>, String);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.lock().expect("in-flight lock").remove(&self.1);
    }
}

/// When an agent last answered on a channel, and who.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct LastAnswer {
    pub channel: String,
    pub at: Millis,
    pub by: String,
}

impl Inbox {
    /// `perform`, at most once per `key` (the client's `Idempotency-Key`) and user: a retried
    /// request gets the first one's answer instead of sending again.
    pub async fn perform_once(
        &self,
        ch: &ActionChannel,
        ticket_id: &str,
        req: ActionRequest,
        actor: &crate::accounts::User,
        key: Option<&str>,
    ) -> Result<ActionResult, InboxError> {
        let answer = matches!(req.kind, ActionKind::Reply | ActionKind::PrivateReply | ActionKind::Quote);
        let result = self.perform_keyed(ch, ticket_id, req, actor, key).await?;
        if answer {
            self.answered(&result.ticket.channel, actor).await;
        }
        Ok(result)
    }

    /// An agent answered on `channel`: kept per channel, for the admins' view of channels
    /// nobody answers on (platforms deactivate inboxes left unanswered).
    async fn answered(&self, channel: &str, agent: &crate::accounts::User) {
        let last = LastAnswer { channel: channel.to_string(), at: now_ms(), by: agent.name.clone() };
        if let Err(e) = self.store.put("channel_answer", channel, &last).await {
            tracing::warn!("cannot record the last answer on {channel}: {e}");
        }
    }

    /// Each channel's last answer by an agent (a channel never answered on is not listed).
    pub async fn last_answers(&self) -> Result<Vec<LastAnswer>, InboxError> {
        Ok(self.store.all("channel_answer", "channel").await?)
    }

    async fn perform_keyed(
        &self,
        ch: &ActionChannel,
        ticket_id: &str,
        req: ActionRequest,
        actor: &crate::accounts::User,
        key: Option<&str>,
    ) -> Result<ActionResult, InboxError> {
        let Some(key) = key else { return self.perform(ch, ticket_id, req, &actor.name).await };
        if key.is_empty() || key.len() > 255 || !key.chars().all(|c| c.is_ascii_graphic()) {
            return Err(InboxError::BadRequest("an Idempotency-Key is 1 to 255 visible ASCII characters".into()));
        }
        let record = stable_id(&actor.id, &format!("idempotency:{key}"));
        if let Some(done) = self.store.get::<Performed>("idempotency", &record).await?.filter(|p| p.at > now_ms() - IDEMPOTENCY_TTL_MS) {
            if done.ticket_id != ticket_id {
                return Err(InboxError::Conflict("this Idempotency-Key was used for an action on another ticket".into()));
            }
            return Ok(done.result);
        }
        if !self.actions_in_flight.lock().expect("in-flight lock").insert(record.clone()) {
            return Err(InboxError::Conflict("the same action is still under way; wait for its answer".into()));
        }
        let _in_flight = InFlight(&self.actions_in_flight, record.clone());
        let result = self.perform(ch, ticket_id, req, &actor.name).await?;
        let performed = Performed { ticket_id: ticket_id.to_string(), at: now_ms(), result };
        // Not remembering it only loses the protection against a retry, not the action.
        if let Err(e) = self.store.put("idempotency", &record, &performed).await {
            tracing::warn!("cannot remember an idempotency key: {e}");
        }
        Ok(performed.result)
    }

    /// The message an action applies to: the one named, else the customer's newest (looked for
    /// on the last few pages; past them, the newest message).
    async fn target(&self, ticket: &Ticket, message_id: Option<&str>) -> Result<Message, InboxError> {
        if let Some(id) = message_id {
            return self
                .store
                .messages(&[id.to_string()])
                .await?
                .pop()
                .filter(|m| m.ticket_id == ticket.id)
                .ok_or_else(|| InboxError::NotFound(format!("ticket `{}` has no message `{id}`", ticket.id)));
        }
        let mut newest = None;
        for page in (0..=ticket.open_page()).rev().take(3) {
            let messages = self.store.ticket_page(&ticket.id, page).await?;
            if let Some(m) = messages.iter().rev().find(|m| m.interaction.direction == Direction::Inbound && !m.removed) {
                return Ok(m.clone());
            }
            // Else the newest of the ticket's own kind: a private reply under a comment is not
            // what a Like on that ticket means.
            newest = newest.or_else(|| messages.iter().rev().find(|m| m.interaction.kind == ticket.kind).or(messages.last()).cloned());
        }
        newest.ok_or_else(|| InboxError::NotFound(format!("ticket `{}` has no messages", ticket.id)))
    }

    /// The channel's note on a reply being written: nothing is sent or stored.
    pub async fn reply_note(&self, ch: &ActionChannel, ticket_id: &str, draft: DraftReply) -> Result<ReplyNote, InboxError> {
        if draft.text.chars().count() > MAX_DRAFT_CHARS {
            return Err(InboxError::BadRequest(format!("a draft is at most {MAX_DRAFT_CHARS} characters")));
        }
        let ticket = self.ticket(ticket_id).await?;
        let target = self.target(&ticket, draft.message_id.as_deref()).await?;
        let note = ch.plugin.reply_note(ch.ctx.clone(), ActionTarget::of(&target.interaction), draft.text).await.map_err(map_plugin_error)?;
        Ok(ReplyNote { note })
    }

    /// Perform an action on the platform and record its outcome on the ticket.
    pub async fn perform(&self, ch: &ActionChannel, ticket_id: &str, req: ActionRequest, actor: &str) -> Result<ActionResult, InboxError> {
        let mut action = parse_action(&req)?;
        let ticket = self.ticket(ticket_id).await?;
        let target_message = self.target(&ticket, req.message_id.as_deref()).await?;
        let target = &target_message.interaction;
        check_allowed(ch.plugin.info(), &ch.ctx.config, target, req.kind, &mut action, ticket.last_inbound_at)?;
        let target_for_plugin = ActionTarget::of(target);
        let reply_text = match &action {
            Action::Reply(r) => Some((r.text.clone(), target.kind)),
            // A private reply goes to the person's inbox: a private message, whatever it answers.
            Action::PrivateReply(r) => Some((r.text.clone(), Kind::PrivateMessage)),
            _ => None,
        };
        let files = self.files(&req.files).await?;
        let outcome = match (&action, reply_text.as_ref()) {
            (Action::Reply(reply) | Action::PrivateReply(reply), Some((_, kind))) if !files.is_empty() => {
                check_files(ch.plugin.info(), *kind, &files)?;
                let mut outgoing = Vec::with_capacity(files.len());
                for f in &files {
                    outgoing.push(crate::plugins::OutgoingFile {
                        kind: f.kind.into(),
                        name: f.name.clone(),
                        mime_type: f.mime_type.clone(),
                        bytes: self.file_bytes(f).await?,
                    });
                }
                let private = matches!(action, Action::PrivateReply(_));
                ch.plugin.send_files(ch.ctx.clone(), target_for_plugin, reply.clone(), private, outgoing).await
            }
            _ => ch.plugin.perform(ch.ctx.clone(), target_for_plugin, action).await,
        };
        let result = if outcome.is_ok() { "done" } else { "failed" };
        metrics::counter!(crate::metrics::ACTIONS, "action" => req.kind.as_str(), "result" => result).increment(1);

        let recorded = self.planned_again(|| self.record_outcome(ch, ticket_id, &req, actor, &ticket, &target_message, reply_text.as_ref(), &files, &outcome)).await?;
        let (ticket, message, activity) = recorded;
        match outcome {
            Ok(_) => Ok(ActionResult { ticket, message, activity }),
            Err(e) => Err(map_plugin_error(e)),
        }
    }

    /// Record what an action did on the ticket: the message it created or removed, its marks,
    /// its history line and audit entry.
    #[allow(clippy::too_many_arguments)]
    async fn record_outcome(
        &self,
        ch: &ActionChannel,
        ticket_id: &str,
        req: &ActionRequest,
        actor: &str,
        ticket: &Ticket,
        target_message: &Message,
        reply_text: Option<&(String, Kind)>,
        files: &[super::files::StoredFile],
        outcome: &Result<Option<Interaction>, PluginError>,
    ) -> Result<(Ticket, Option<Message>, Activity), InboxError> {
        let target = &target_message.interaction;
        let _write = self.write_lock.lock().await;
        let removed = req.kind == ActionKind::Delete && outcome.is_ok();
        let events = if removed {
            vec![crate::model::ChannelEvent::Removed { platform_id: target.platform_id.clone() }]
        } else {
            Vec::new()
        };
        // The created message may be stored already: its webhook echo can beat this answer.
        let mut probe = events.clone();
        if let Ok(Some(i)) = outcome {
            probe.push(crate::model::ChannelEvent::Interaction(i.clone()));
        }
        let (mut w, before) = self.load_working(&[(ch.id.as_str(), probe.as_slice())], &[ticket_id.to_string()]).await?;
        let seq = self.store.next_seq().await?;
        for e in events {
            w.apply(&ch.id, &ch.platform, e, seq);
        }
        // What we did to the message shows on it: liked, hidden, pinned, published.
        if outcome.is_ok() {
            if let Some(mark) = Mark::of(req.kind) {
                let m = w.messages.entry(target_message.id.clone()).or_insert_with(|| target_message.clone());
                mark.apply(m);
                m.seq = seq;
                w.changed_messages.insert(target_message.id.clone());
            }
        }
        let (ok, detail, created) = match outcome {
            Ok(created) => {
                let created = match (created.clone(), reply_text.cloned()) {
                    // A platform that does not say when it sent: now.
                    (Some(i), _) if i.created_at == 0 => Some(Interaction { created_at: now_ms(), ..i }),
                    (Some(i), _) => Some(i),
                    // The platform gave no message back: record what was sent.
                    (None, Some((text, kind))) => Some(Interaction { attachments: files.iter().map(sent_file).collect(), ..local_reply(target, kind, text, seq) }),
                    (None, None) => None,
                };
                let id = created.map(|i| w.interaction(&ch.id, &ch.platform, i, Some(ticket_id), Some(actor.to_string()), seq));
                (true, "done".to_string(), id)
            }
            Err(e) => (false, ch.ctx.redact(&e.to_string()), None),
        };
        let activity = Activity {
            id: stable_id(ticket_id, &format!("activity:{seq}:{}", req.kind)),
            ticket_id: ticket_id.to_string(),
            at: now_ms(),
            actor: actor.to_string(),
            what: format!("action.{}", req.kind),
            detail,
            ok,
        };
        // What a delete or a hide takes away from the platform is kept in the audit log.
        let content = matches!(req.kind, ActionKind::Delete | ActionKind::Hide).then(|| target.text.clone());
        w.audit.push(crate::model::AuditEntry {
            id: stable_id(ticket_id, &format!("audit:{seq}:{}", req.kind)),
            at: activity.at,
            actor: actor.to_string(),
            actor_id: None,
            kind: crate::model::AuditKind::PlatformAction,
            action: req.kind.to_string(),
            target: Some(ticket_id.to_string()),
            detail: format!("{} on {}: {}", req.kind, ch.id, activity.detail),
            content,
            status: if ok { 200 } else { 502 },
            ok,
        });
        let message = created.and_then(|id| w.messages.get(&id).cloned());
        w.touch(ticket_id, seq);
        let ticket = w.tickets.get(ticket_id).cloned().unwrap_or_else(|| ticket.clone());
        self.commit(w, &before, Vec::new(), Vec::new(), vec![activity.clone()], seq).await?;
        Ok((ticket, message, activity))
    }

    /// Change a ticket's queue, tags, assignee or flag.
    pub async fn update(&self, ticket_id: &str, patch: TicketPatch, actor: &str) -> Result<Ticket, InboxError> {
        self.planned_again(|| self.update_once(ticket_id, patch.clone(), actor)).await
    }

    async fn update_once(&self, ticket_id: &str, patch: TicketPatch, actor: &str) -> Result<Ticket, InboxError> {
        let tags = patch.tags.map(clean_tags).transpose()?;
        let _write = self.write_lock.lock().await;
        let ticket = self.ticket(ticket_id).await?;
        let (mut w, before) = self.load_working(&[], &[ticket_id.to_string()]).await?;
        let t = w.tickets.get_mut(ticket_id).expect("loaded above");
        let mut changes = Vec::new();
        if let Some(q) = patch.queue.filter(|q| *q != t.queue) {
            t.queue = q;
            changes.push(format!("queue.{}", q.as_str()));
        }
        if let Some(tags) = tags {
            if tags != t.tags {
                changes.push(format!("tags:{}", tags.join(",")));
                t.tags = tags;
            }
        }
        if let Some(a) = patch.assignee {
            let a = Some(a.trim().to_string()).filter(|a| !a.is_empty());
            if a != t.assignee {
                changes.push(format!("assignee:{}", a.as_deref().unwrap_or("none")));
                t.assigned_at = a.as_ref().map(|_| now_ms());
                t.auto_assigned = false;
                t.assignee = a;
            }
        }
        if let Some(team) = patch.team {
            let team = Some(team.trim().to_string()).filter(|a| !a.is_empty());
            if team != t.team {
                changes.push(format!("team:{}", team.as_deref().unwrap_or("none")));
                t.team = team;
            }
        }
        if let Some(mark) = patch.sentiment {
            if (mark, mark.is_some()) != (t.sentiment, t.sentiment_marked) {
                changes.push(format!("sentiment:{}", mark.map_or("unmarked", |m| m.as_str())));
                t.sentiment_marked = mark.is_some();
                t.sentiment = mark;
            }
        }
        if let Some(f) = patch.flagged.filter(|f| *f != t.flagged) {
            t.flagged = f;
            changes.push(if f { "flagged".into() } else { "unflagged".into() });
        }
        match patch.snooze_until {
            Some(Some(until)) => {
                let now = now_ms();
                if until <= now || until > now + MAX_SNOOZE_MS {
                    return Err(InboxError::BadRequest("a snooze ends in the future, within a year".into()));
                }
                t.snoozed_until = Some(until);
                changes.push(format!("snoozed:{until}"));
                if t.queue != Queue::Pending {
                    t.queue = Queue::Pending;
                    changes.push("queue.pending".into());
                }
            }
            Some(None) if t.snoozed_until.is_some() => {
                t.snoozed_until = None;
                t.queue = Queue::New;
                changes.push("snooze.ended:woken by hand".into());
            }
            // Moved by hand to another queue, a ticket is no longer snoozed.
            _ if t.snoozed_until.is_some() && patch.queue.is_some_and(|q| q != Queue::Pending) => t.snoozed_until = None,
            _ => {}
        }
        if changes.is_empty() {
            return Ok(ticket);
        }
        // Only a change takes a number: one taken and never written would leave the index's
        // watermark a step behind the store for good.
        let seq = self.store.next_seq().await?;
        let activities = changes
            .iter()
            .enumerate()
            .map(|(n, what)| Activity {
                id: stable_id(ticket_id, &format!("activity:{seq}:{n}")),
                ticket_id: ticket_id.to_string(),
                at: now_ms(),
                actor: actor.to_string(),
                what: what.clone(),
                detail: String::new(),
                ok: true,
            })
            .collect();
        w.touch(ticket_id, seq);
        let updated = w.tickets[ticket_id].clone();
        self.commit(w, &before, Vec::new(), Vec::new(), activities, seq).await?;
        Ok(updated)
    }
}

impl Inbox {
    /// Return the snoozed tickets whose time has come to New, each with a line saying why.
    pub async fn wake_snoozed(&self) -> Result<(), InboxError> {
        let now = now_ms();
        let search = self.search.clone();
        let due = self.blocking_search(move || Ok(search.snoozes_due(now, 200)?)).await?;
        for id in due {
            let _write = self.write_lock.lock().await;
            let (mut w, before) = self.load_working(&[], std::slice::from_ref(&id)).await?;
            // The index may be a moment behind: the customer wrote, an agent moved it.
            let Some(t) = w.tickets.get_mut(&id).filter(|t| t.snoozed_until.is_some_and(|u| u <= now)) else { continue };
            t.snoozed_until = None;
            t.queue = Queue::New;
            let seq = self.store.next_seq().await?;
            let activity = Activity {
                id: stable_id(&id, &format!("activity:{seq}:snooze")),
                ticket_id: id.clone(),
                at: now,
                actor: "system".into(),
                what: "snooze.ended:the snooze is over".into(),
                detail: String::new(),
                ok: true,
            };
            w.touch(&id, seq);
            self.commit(w, &before, Vec::new(), Vec::new(), vec![activity], seq).await?;
        }
        Ok(())
    }

    /// An agent opened the ticket: its customer messages are seen. Not history (opening is
    /// not a change of the work), but a change every agent's list shows.
    pub async fn mark_seen(&self, ticket_id: &str) -> Result<Ticket, InboxError> {
        self.planned_again(|| self.mark_seen_once(ticket_id)).await
    }

    async fn mark_seen_once(&self, ticket_id: &str) -> Result<Ticket, InboxError> {
        let _write = self.write_lock.lock().await;
        let ticket = self.ticket(ticket_id).await?;
        if ticket.unseen == 0 {
            return Ok(ticket);
        }
        let (mut w, before) = self.load_working(&[], &[ticket_id.to_string()]).await?;
        let seq = self.store.next_seq().await?;
        w.tickets.get_mut(ticket_id).expect("loaded above").unseen = 0;
        w.touch(ticket_id, seq);
        let updated = w.tickets[ticket_id].clone();
        self.commit(w, &before, Vec::new(), Vec::new(), Vec::new(), seq).await?;
        Ok(updated)
    }
}

/// The mark a successful action leaves on its message.
enum Mark {
    Liked(bool),
    Hidden(bool),
    Pinned(bool),
    Visibility(Visibility),
}

impl Mark {
    fn of(kind: ActionKind) -> Option<Mark> {
        Some(match kind {
            ActionKind::Like => Mark::Liked(true),
            ActionKind::Unlike => Mark::Liked(false),
            ActionKind::Hide => Mark::Hidden(true),
            ActionKind::Unhide => Mark::Hidden(false),
            ActionKind::Pin => Mark::Pinned(true),
            ActionKind::Unpin => Mark::Pinned(false),
            ActionKind::Publish => Mark::Visibility(Visibility::Public),
            ActionKind::Reject => Mark::Visibility(Visibility::Hidden),
            _ => return None,
        })
    }

    fn apply(self, m: &mut Message) {
        match self {
            Mark::Liked(on) => m.liked = on,
            Mark::Hidden(on) => m.hidden = on,
            Mark::Pinned(on) => m.pinned = on,
            Mark::Visibility(v) => {
                m.hidden = v == Visibility::Hidden;
                m.interaction.visibility = Some(v);
            }
        }
    }
}

/// Tags trimmed, sorted and without duplicates; each 1 to 64 characters.
pub(super) fn clean_tags(tags: Vec<String>) -> Result<Vec<String>, InboxError> {
    let mut tags: Vec<String> = tags.into_iter().map(|t| t.trim().to_string()).collect();
    if tags.iter().any(|t| t.is_empty() || t.chars().count() > 64) {
        return Err(InboxError::BadRequest("tags must be 1 to 64 characters".into()));
    }
    tags.sort();
    tags.dedup();
    Ok(tags)
}

/// The channel must declare the action for this kind of interaction, and a reply must fall
/// inside the platform's messaging window.
fn check_allowed(
    info: &PluginInfo,
    config: &std::collections::BTreeMap<String, String>,
    target: &Interaction,
    name: ActionKind,
    action: &mut Action,
    last_inbound_at: Option<i64>,
) -> Result<(), InboxError> {
    let kind = target.kind;
    let offered = info.capabilities_for(config);
    let capability = offered.iter().find(|c| c.kind == kind);
    let Some(capability) = capability.filter(|c| c.actions.contains(&name)) else {
        let notes = capability.map(|c| c.notes.join("; ")).filter(|n| !n.is_empty());
        return Err(InboxError::Unsupported(format!(
            "{} does not support `{name}` on {}{}",
            info.platform_name,
            kind_words(kind),
            notes.map(|n| format!(" ({n})")).unwrap_or_default()
        )));
    };
    if let Some(only) = capability.action_only.get(&name).filter(|d| **d != target.direction) {
        let whose = match only {
            Direction::Outbound => "the brand's own",
            Direction::Inbound => "the audience's",
        };
        return Err(InboxError::Unsupported(format!("{} allows `{name}` only on {whose} {}", info.platform_name, kind_words(kind))));
    }
    if let (Action::Reply(r) | Action::PrivateReply(r) | Action::Quote(r), Some(max)) = (&*action, capability.max_reply_chars) {
        let chars = r.text.chars().count();
        if chars > max as usize {
            return Err(InboxError::BadRequest(format!(
                "{} takes replies of at most {max} characters here; this one has {chars}",
                info.platform_name
            )));
        }
    }
    // Messaging windows bind private conversations; comments can be answered any time.
    let windowed = kind.is_conversation();
    if let (Action::Reply(_), true, Some(hours), Some(last)) = (&*action, windowed, info.reply_window_hours, last_inbound_at) {
        let closes = last + i64::from(hours) * 3_600_000;
        if now_ms() > closes {
            // Past the window, a reply carrying the platform's tag may still go (Messenger's
            // HUMAN_AGENT for 7 days); past that too, the host refuses before calling.
            if let Some((tag_hours, tag)) = &info.tagged_reply_window {
                if now_ms() <= last + i64::from(*tag_hours) * 3_600_000 {
                    if let Action::Reply(r) = action {
                        r.tag = Some(tag.clone());
                    }
                    return Ok(());
                }
            }
            let tagged = info
                .tagged_reply_window
                .as_ref()
                .map(|(h, tag)| format!(" (or {} days with the {tag} tag, also past)", h / 24))
                .unwrap_or_default();
            return Err(InboxError::OutsideWindow(format!(
                "{} only allows replies within {hours} hours of the customer's last message{tagged}; that window closed {} minutes ago",
                info.platform_name,
                (now_ms() - closes) / 60_000
            )));
        }
    }
    Ok(())
}

fn local_reply(target: &Interaction, kind: Kind, text: String, seq: i64) -> Interaction {
    Interaction {
        platform_id: format!("local:{}:{seq}", target.platform_id),
        kind,
        direction: Direction::Outbound,
        thread_key: target.thread_key.clone(),
        parent_id: Some(target.platform_id.clone()),
        author: Default::default(),
        text,
        attachments: Vec::new(),
        created_at: now_ms(),
        edited_at: None,
        permalink: None,
        from_ad: false,
        meta: Vec::new(),
        chain_key: None,
        title: None,
        rating: None,
        visibility: None,
        found_by: None,
        automated: None,
        folded: None,
    }
}

/// A file sent, as the reply recorded under a local id shows it.
fn sent_file(f: &super::files::StoredFile) -> crate::model::Attachment {
    crate::model::Attachment {
        kind: f.kind,
        platform_id: None,
        url: None,
        mime_type: Some(f.mime_type.clone()),
        name: Some(f.name.clone()),
        size: Some(f.size),
    }
}

fn map_plugin_error(e: PluginError) -> InboxError {
    match e {
        PluginError::Channel(ChannelFailure::Unsupported(m)) => InboxError::Unsupported(m),
        other => InboxError::Platform(other),
    }
}

fn kind_words(kind: Kind) -> &'static str {
    match kind {
        Kind::PrivateMessage => "private messages",
        Kind::GroupMessage => "group messages",
        Kind::Comment => "comments",
        Kind::Reply => "replies",
        Kind::AdComment => "ad comments",
        Kind::Post => "posts",
        Kind::Mention => "mentions",
        Kind::Review => "reviews",
    }
}
