//! Internal notes on a ticket: written by agents for agents, never sent to the platform.
//! Only their author may edit or delete them; every change is in the ticket's history.

use super::{Inbox, InboxError};
use crate::events::Event;
use crate::model::{now_ms, stable_id, Activity, Note};

const MAX_NOTE_CHARS: usize = 10_000;

/// Who is writing: notes are tied to a user id, shown with their name. `people` are the
/// teammates a note may @mention (id, name).
pub struct NoteAuthor<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub people: &'a [(String, String)],
}

/// The teammates `text` @mentions by name (`@Sam Agent`, any case), each once, never the author.
pub fn mentions(text: &str, people: &[(String, String)], author: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let mut out: Vec<String> = Vec::new();
    for (id, name) in people {
        let at = format!("@{}", name.to_lowercase());
        let found = lower.match_indices(&at).any(|(i, _)| lower[i + at.len()..].chars().next().is_none_or(|c| !c.is_alphanumeric()));
        if found && id != author && !out.contains(id) {
            out.push(id.clone());
        }
    }
    out
}

fn check_text(text: &str) -> Result<String, InboxError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_NOTE_CHARS {
        return Err(InboxError::BadRequest(format!("a note needs 1 to {MAX_NOTE_CHARS} characters")));
    }
    Ok(text.to_string())
}

impl Inbox {
    pub async fn notes(&self, ticket_id: &str) -> Result<Vec<Note>, InboxError> {
        Ok(self.store.find("note", "ticket_id", ticket_id, "created_at").await?)
    }

    pub async fn add_note(&self, ticket_id: &str, author: NoteAuthor<'_>, text: &str) -> Result<Note, InboxError> {
        let text = check_text(text)?;
        self.ticket(ticket_id).await?;
        let now = now_ms();
        let note = Note {
            id: stable_id(ticket_id, &format!("note:{}:{now}:{}", author.id, fastrand::u64(..))),
            ticket_id: ticket_id.to_string(),
            author_id: author.id.to_string(),
            author_name: author.name.to_string(),
            mentions: mentions(&text, author.people, author.id),
            text,
            created_at: now,
            edited_at: None,
            consultation_id: None,
            email: None,
        };
        self.store.put("note", &note.id, &note).await?;
        self.note_changed(&note, "note.added", author.name, false).await?;
        Ok(note)
    }

    /// Keep `note` as it was written elsewhere (a consultation: the question an agent sent, or
    /// an answer by email), once: a note already kept under its id is left as it is. `what`
    /// and `detail` are the history's entry beside it.
    pub async fn record_note(&self, note: Note, what: &str, detail: String) -> Result<Option<Note>, InboxError> {
        let note = Note { text: check_text(&note.text)?, ..note };
        self.ticket(&note.ticket_id).await?;
        if !self.store.create("note", &note.id, &note).await? {
            return Ok(None);
        }
        let activity = Activity {
            id: stable_id(&note.ticket_id, &format!("activity:{what}:{}", note.id)),
            ticket_id: note.ticket_id.clone(),
            at: note.created_at,
            actor: note.author_name.clone(),
            what: what.to_string(),
            detail,
            ok: true,
        };
        self.store.put("activity", &activity.id, &activity).await?;
        self.events.publish(Event::Note { ticket_id: note.ticket_id.clone(), note: note.clone(), deleted: false, activity });
        Ok(Some(note))
    }

    /// A line in the ticket's history (`what`, as `consult.bounced`), published live; kept
    /// once per `key` (an email's Message-ID read twice is one line).
    pub async fn record_activity_once(&self, ticket_id: &str, key: &str, actor: &str, what: &str, detail: String, ok: bool) -> Result<Activity, InboxError> {
        let activity = Activity { id: stable_id(ticket_id, &format!("activity:{what}:{key}")), ticket_id: ticket_id.into(), at: now_ms(), actor: actor.into(), what: what.into(), detail, ok };
        if let Some(kept) = self.store.get::<Activity>("activity", &activity.id).await? {
            return Ok(kept);
        }
        self.store.put("activity", &activity.id, &activity).await?;
        self.events.publish(Event::Activity { ticket_id: ticket_id.into(), activity: activity.clone() });
        Ok(activity)
    }

    pub async fn edit_note(&self, ticket_id: &str, note_id: &str, author: NoteAuthor<'_>, text: &str) -> Result<Note, InboxError> {
        let text = check_text(text)?;
        let mut note = self.own_note(ticket_id, note_id, &author).await?;
        note.mentions = mentions(&text, author.people, author.id);
        note.text = text;
        note.edited_at = Some(now_ms());
        self.store.put("note", &note.id, &note).await?;
        self.note_changed(&note, "note.edited", author.name, false).await?;
        Ok(note)
    }

    pub async fn delete_note(&self, ticket_id: &str, note_id: &str, author: NoteAuthor<'_>) -> Result<(), InboxError> {
        let note = self.own_note(ticket_id, note_id, &author).await?;
        self.store.delete("note", &note.id).await?;
        self.note_changed(&note, "note.deleted", author.name, true).await
    }

    async fn own_note(&self, ticket_id: &str, note_id: &str, author: &NoteAuthor<'_>) -> Result<Note, InboxError> {
        let note: Note = self
            .store
            .get("note", note_id)
            .await?
            .filter(|n: &Note| n.ticket_id == ticket_id)
            .ok_or_else(|| InboxError::NotFound(format!("ticket `{ticket_id}` has no note `{note_id}`")))?;
        if note.author_id != author.id {
            return Err(InboxError::Forbidden(format!("only {} can change this note", note.author_name)));
        }
        Ok(note)
    }

    async fn note_changed(&self, note: &Note, what: &str, actor: &str, deleted: bool) -> Result<(), InboxError> {
        let activity = Activity {
            id: stable_id(&note.ticket_id, &format!("activity:{what}:{}:{}", note.id, now_ms())),
            ticket_id: note.ticket_id.clone(),
            at: now_ms(),
            actor: actor.to_string(),
            what: what.to_string(),
            detail: crate::model::preview(&note.text, 80),
            ok: true,
        };
        self.store.put("activity", &activity.id, &activity).await?;
        self.events.publish(Event::Note { ticket_id: note.ticket_id.clone(), note: note.clone(), deleted, activity });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::mentions;

    #[test]
    fn a_note_mentions_teammates_by_their_name_after_an_at_sign() {
        let people = [("s".to_string(), "Sam Agent".to_string()), ("al".to_string(), "Al".to_string()), ("me".to_string(), "Me".to_string())];
        assert_eq!(mentions("@sam agent can you call them? cc @Al", &people, "me"), ["s", "al"]);
        assert_eq!(mentions("@Alex is not @Al's name", &people, "me"), ["al"], "a longer name is not theirs");
        assert!(mentions("write to sam@example.com", &people, "me").is_empty(), "an email is no mention");
        assert!(mentions("@Me note to self", &people, "me").is_empty(), "never the author");
    }
}
