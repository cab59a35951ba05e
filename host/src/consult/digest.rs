//! Notification digests by email: an agent who asked for them and is away gets, now and then,
//! one email of what they were notified of meanwhile (tickets handed to them, customers' new
//! messages in their tickets, notes that mention them, tickets past their response target),
//! sent through the installation's mail.

use super::{ConsultError, Consultations};
use crate::accounts::{Accounts, NotificationPrefs};
use crate::model::{now_ms, Millis, Note, Ticket};
use crate::search::TicketQuery;
use serde::{Deserialize, Serialize};

/// What one agent missed.
#[derive(Default)]
pub struct Missed {
    pub assigned: Vec<Ticket>,
    pub messages: Vec<Ticket>,
    pub mentions: Vec<Note>,
    pub breached: Vec<Ticket>,
}

impl Missed {
    fn is_empty(&self) -> bool {
        self.assigned.is_empty() && self.messages.is_empty() && self.mentions.is_empty() && self.breached.is_empty()
    }
}

#[derive(Serialize, Deserialize)]
struct LastSent {
    at: Millis,
}

/// Its subject and text; `link` makes a ticket's address from its id.
pub fn compose(name: &str, missed: &Missed, link: &dyn Fn(&str) -> String) -> (String, String) {
    let mut counts = Vec::new();
    let mut out = format!("Hello {name},\n\nwhile you were away:\n");
    let mut section = |title: &str, lines: Vec<String>, (one, many): (&str, &str)| {
        if lines.is_empty() {
            return;
        }
        counts.push(format!("{} {}", lines.len(), if lines.len() == 1 { one } else { many }));
        out.push_str(&format!("\n{title}\n"));
        for l in lines {
            out.push_str(&format!("- {l}\n"));
        }
    };
    let ticket = |t: &Ticket| format!("{}: {} ({})", t.contact.name, crate::model::preview(&t.preview, 80), link(&t.id));
    section("Handed to you", missed.assigned.iter().map(ticket).collect(), ("assigned", "assigned"));
    section("New messages in your tickets", missed.messages.iter().map(ticket).collect(), ("with new messages", "with new messages"));
    section(
        "Notes that mention you",
        missed.mentions.iter().map(|n| format!("{}: {} ({})", n.author_name, crate::model::preview(&n.text, 80), link(&n.ticket_id))).collect(),
        ("mention", "mentions"),
    );
    section("Past their response target", missed.breached.iter().map(ticket).collect(), ("overdue", "overdue"));
    out.push_str("\nYou get this because you asked for digests while away (your notification settings).\n");
    (format!("What you missed: {}", counts.join(", ")), out)
}

impl Consultations {
    /// What `user` missed since `since`, as their notification settings choose.
    async fn missed(&self, user: &str, prefs: &NotificationPrefs, since: Millis) -> Result<Missed, ConsultError> {
        let heard = |t: &Ticket| !prefs.muted_channels.contains(&t.channel);
        let mine = TicketQuery { assignee: Some(user.into()), queue: Some("open".into()), limit: Some(TicketQuery::MAX_LIMIT), ..Default::default() };
        let (_, open) = self.inbox.list(&mine).await?;
        let mut missed = Missed::default();
        for t in open.iter().filter(|t| heard(t) && t.updated_at >= since) {
            if prefs.assigned {
                let history: Vec<crate::model::Activity> = self.store().find("activity", "ticket_id", &t.id, "at").await?;
                if history.iter().any(|a| a.at >= since && a.what == format!("assignee:{user}")) {
                    missed.assigned.push(t.clone());
                    continue;
                }
            }
            if prefs.customer_message && t.unseen > 0 && t.last_inbound_at.is_some_and(|at| at >= since) {
                missed.messages.push(t.clone());
            }
        }
        if prefs.breach {
            let late = TicketQuery { breach: Some(crate::model::Breach::Breached), ..mine };
            let (_, late) = self.inbox.list(&late).await?;
            missed.breached = late.into_iter().filter(|t| heard(t) && t.due.as_ref().is_some_and(|d| d.at >= since)).collect();
        }
        if prefs.mention {
            missed.mentions = self.store().notes_mentioning(user, since).await?;
        }
        Ok(missed)
    }

    /// Send a digest to every agent who asked for one, is away, and missed something since
    /// their last (with `every`, only those whose last digest is that old). How many went.
    pub async fn send_digests(&self, accounts: &Accounts, public_origin: Option<&str>, every: Option<std::time::Duration>) -> Result<usize, ConsultError> {
        let Some(settings) = self.settings().await? else { return Ok(0) };
        let now = now_ms();
        let mut sent = 0;
        for user in accounts.users().await? {
            if user.disabled {
                continue;
            }
            let prefs = accounts.notification_prefs(&user.id).await?;
            if !prefs.email_digest {
                continue;
            }
            let away = accounts.availability(&user.id).await.map(|a| a.idle || !a.status.is_available()).unwrap_or(true);
            if !away {
                continue;
            }
            let key = format!("digest:{}", user.id);
            let last: Option<LastSent> = self.store().get("settings", &key).await?;
            let period = every.map_or(0, |e| e.as_millis() as i64);
            if last.as_ref().is_some_and(|l| now - l.at < period) {
                continue;
            }
            let since = last.map_or(now - period.max(3_600_000), |l| l.at);
            let missed = self.missed(&user.id, &prefs, since).await?;
            if missed.is_empty() {
                continue;
            }
            let base = public_origin.unwrap_or("").to_string();
            let (subject, text) = compose(&user.name, &missed, &|id| format!("{base}/?ticket={id}"));
            let domain = mailtext::domain(&settings.address).to_string();
            let to = [user.email.clone()];
            let raw = super::letter::write(super::letter::Letter {
                from: &settings.address,
                from_name: &settings.display_name,
                reply_to: &settings.address,
                to: &to,
                subject: &subject,
                message_id: &format!("digest.{}.{now}@{domain}", user.id),
                references: &[],
                text,
                date: now,
            })
            .map_err(ConsultError::BadRequest)?;
            self.send(to.to_vec(), &settings.address, raw).await?;
            self.store().put("settings", &key, &LastSent { at: now }).await?;
            sent += 1;
        }
        Ok(sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_names_each_kind_of_thing_missed_with_a_link_and_skips_the_rest() {
        let note = Note {
            id: "n".into(),
            ticket_id: "t1".into(),
            author_id: "a".into(),
            author_name: "Alex".into(),
            text: "@Sam can you call her?".into(),
            created_at: 0,
            edited_at: None,
            mentions: vec!["sam".into()],
            consultation_id: None,
            email: None,
        };
        let missed = Missed { mentions: vec![note], ..Default::default() };
        let (subject, text) = compose("Sam", &missed, &|id| format!("https://help.example/?ticket={id}"));
        assert_eq!(subject, "What you missed: 1 mention");
        assert!(text.contains("Notes that mention you\n- Alex: @Sam can you call her? (https://help.example/?ticket=t1)"), "{text}");
        assert!(!text.contains("Handed to you"), "{text}");
    }
}
