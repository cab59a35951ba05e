//! One person across platforms: a contact per channel, linked by agents into a person (suggested
//! where a handle, phone or email matches), with the attributes admins define and notes about
//! them. Links are recorded and can be undone.

use super::{Inbox, InboxError};
use crate::events::Event;
use crate::model::{now_ms, stable_id, AttributeDef, AttributeEntry, AttributeKind, Contact, ContactMerge, ContactNote, MovedContact};
use crate::store::WriteBatch;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use utoipa::ToSchema;

const DEFS_ID: &str = "contact_attributes";
/// Set once every contact has its match keys.
const KEYED_ID: &str = "contacts_keyed";
const MAX_DEFS: usize = 50;
const MAX_VALUE_CHARS: usize = 1_000;
const MAX_NOTE_CHARS: usize = 10_000;
/// Contacts of one person: linking stops there (a person with more is surely two).
const MAX_PERSON_CONTACTS: usize = 50;
const MAX_SUGGESTIONS: usize = 10;
/// Contacts with any of `$keys`, the notes about and the links that moved any of `$ids`: each
/// reads an index (`store`'s `contact_match`, `contact_note_contact`, `contact_merge_moved`), on
/// every contact page and ticket opened.
const SHARING_KEYS: &str = "SELECT *, record::id(id) AS id FROM contact WHERE match_keys CONTAINSANY $keys LIMIT 100";
const NOTES_OF: &str = "SELECT *, record::id(id) AS id FROM contact_note WHERE contact_id IN $ids ORDER BY created_at";
const MERGES_OF: &str = "SELECT *, record::id(id) AS id FROM contact_merge WHERE moved.contact CONTAINSANY $ids ORDER BY at DESC LIMIT 100";

/// A contact suggested as the same person, and what matched.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Suggestion {
    pub contact: Contact,
    /// The keys both have: `phone:4915112345678`, `handle:ann`, `email:ann@example.com`.
    pub matched: Vec<String>,
}

/// Everything a contact's page shows about the person.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ContactPage {
    /// The contact asked for.
    pub contact: Contact,
    /// Every contact of the person, the asked one first.
    pub contacts: Vec<Contact>,
    /// The person's value of each attribute (the newest among their contacts).
    pub attributes: BTreeMap<String, Value>,
    /// The union of their contacts' tags.
    pub tags: Vec<String>,
    pub notes: Vec<ContactNote>,
    /// Links that made (or made and then undid) this person, newest first.
    pub merges: Vec<ContactMerge>,
    pub suggestions: Vec<Suggestion>,
}

/// The attributes admins defined, in their order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributeDefs {
    pub attributes: Vec<AttributeDef>,
}

#[derive(Deserialize)]
struct StoredDefs {
    #[serde(default)]
    attributes: Vec<AttributeDef>,
}

/// What a link can be suggested on: a handle, a phone number (a handle or platform id in
/// international form, or a phone attribute), an email address (in any of those).
pub fn match_keys(c: &Contact) -> Vec<String> {
    let mut keys = Vec::new();
    let mut add = |k: String| {
        if !keys.contains(&k) {
            keys.push(k);
        }
    };
    for v in [Some(&c.author.id), c.author.handle.as_ref()].into_iter().flatten() {
        if let Some(p) = phone(v, false) {
            add(format!("phone:{p}"));
        } else if let Some(e) = email(v) {
            add(format!("email:{e}"));
        }
    }
    if let Some(h) = c.author.handle.as_deref().map(|h| h.trim().trim_start_matches('@').to_lowercase()) {
        if !h.is_empty() && phone(&h, false).is_none() && email(&h).is_none() {
            add(format!("handle:{h}"));
        }
    }
    for e in c.attributes.values() {
        if let Some(s) = e.value.as_str() {
            if let Some(p) = phone(s, true) {
                add(format!("phone:{p}"));
            } else if let Some(e) = email(s) {
                add(format!("email:{e}"));
            }
        }
    }
    keys
}

/// A phone number's digits: `+` and 7–15 digits (spaces, dots, dashes and brackets allowed), or
/// for a platform id, 10–15 bare digits (WhatsApp's ids are the number without `+`; shorter
/// numeric ids are other platforms' user ids).
fn phone(s: &str, written: bool) -> Option<String> {
    let s = s.trim();
    let plus = s.starts_with('+');
    let rest = s.strip_prefix('+').unwrap_or(s);
    if !rest.chars().all(|c| c.is_ascii_digit() || (plus || written) && " .-()".contains(c)) {
        return None;
    }
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    let ok = if plus || written { (7..=15).contains(&digits.len()) } else { (10..=15).contains(&digits.len()) };
    ok.then_some(digits)
}

fn email(s: &str) -> Option<String> {
    let s = s.trim().to_lowercase();
    let (user, domain) = s.split_once('@')?;
    let ok = !user.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') && !s.contains(char::is_whitespace) && !domain.contains('@');
    ok.then_some(s)
}

/// The definitions an admin saves: keys well formed and unique, lists with choices, patterns
/// that compile.
pub fn check_defs(defs: &[AttributeDef]) -> Result<(), String> {
    if defs.len() > MAX_DEFS {
        return Err(format!("at most {MAX_DEFS} contact attributes"));
    }
    for (i, d) in defs.iter().enumerate() {
        let ok_key = !d.key.is_empty() && d.key.len() <= 40 && d.key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !ok_key {
            return Err(format!("attribute key `{}`: use 1 to 40 lowercase letters, digits and `_`", d.key));
        }
        if defs[..i].iter().any(|o| o.key == d.key) {
            return Err(format!("attribute key `{}` is defined twice", d.key));
        }
        if d.label.trim().is_empty() || d.label.chars().count() > 80 {
            return Err(format!("attribute `{}` needs a label of 1 to 80 characters", d.key));
        }
        match d.kind {
            AttributeKind::List if d.options.is_empty() || d.options.iter().any(|o| o.trim().is_empty()) => {
                return Err(format!("list attribute `{}` needs its choices, none empty", d.key));
            }
            AttributeKind::List => {}
            _ if !d.options.is_empty() => return Err(format!("attribute `{}`: only a list has choices", d.key)),
            _ => {}
        }
        if let Some(p) = &d.pattern {
            if d.kind != AttributeKind::Text {
                return Err(format!("attribute `{}`: only a text has a pattern", d.key));
            }
            regex::Regex::new(p).map_err(|e| format!("attribute `{}`: its pattern does not read as a regular expression: {e}", d.key))?;
        }
    }
    Ok(())
}

/// `value` as stored for `def`, or why it does not fit. `null` and `""` clear it.
pub fn check_value(def: &AttributeDef, value: &Value) -> Result<Value, String> {
    let bad = |what: &str| Err(format!("{}: {what}", def.label));
    if value.is_null() || value.as_str().is_some_and(|s| s.trim().is_empty()) {
        return Ok(Value::Null);
    }
    if def.kind == AttributeKind::Checkbox {
        return match value.as_bool() {
            Some(b) => Ok(json!(b)),
            None => bad("give true or false"),
        };
    }
    if def.kind == AttributeKind::Number {
        return match value.as_f64().or_else(|| value.as_str().and_then(|s| s.trim().parse().ok())).filter(|n: &f64| n.is_finite()) {
            Some(n) => Ok(json!(n)),
            None => bad("give a number"),
        };
    }
    let Some(s) = value.as_str().map(str::trim) else { return bad("give it as text") };
    if s.chars().count() > MAX_VALUE_CHARS {
        return bad(&format!("at most {MAX_VALUE_CHARS} characters"));
    }
    match def.kind {
        AttributeKind::Date => match chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            Ok(d) => Ok(json!(d.format("%Y-%m-%d").to_string())),
            Err(_) => bad("give a date as YYYY-MM-DD"),
        },
        AttributeKind::List => match def.options.iter().find(|o| o.as_str() == s) {
            Some(o) => Ok(json!(o)),
            None => bad(&format!("choose one of {}", def.options.join(", "))),
        },
        AttributeKind::Link => match reqwest::Url::parse(s) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(json!(u.to_string())),
            _ => bad("give an http or https address"),
        },
        AttributeKind::Email => match email(s) {
            Some(e) => Ok(json!(e)),
            None => bad("give an email address"),
        },
        AttributeKind::Phone => match phone(s, false).filter(|_| s.starts_with('+')).or_else(|| phone(s, true).filter(|_| s.starts_with('+'))) {
            Some(p) => Ok(json!(format!("+{p}"))),
            None => bad("give the number in international form, with + and its country code"),
        },
        AttributeKind::Text => match &def.pattern {
            Some(p) if !regex::Regex::new(&format!("^(?:{p})$")).is_ok_and(|r| r.is_match(s)) => bad(&format!("does not match the form `{p}`")),
            _ => Ok(json!(s)),
        },
        AttributeKind::Checkbox | AttributeKind::Number => unreachable!("answered above"),
    }
}

/// A person's attributes: per key, the newest entry among their contacts, cleared ones left out.
pub fn resolve(contacts: &[Contact]) -> BTreeMap<String, Value> {
    let mut newest: BTreeMap<&str, &AttributeEntry> = BTreeMap::new();
    for c in contacts {
        for (k, e) in &c.attributes {
            if newest.get(k.as_str()).is_none_or(|n| e.at > n.at) {
                newest.insert(k, e);
            }
        }
    }
    newest.into_iter().filter(|(_, e)| !e.value.is_null()).map(|(k, e)| (k.to_string(), e.value.clone())).collect()
}

/// The entries to write on a contact for what an agent saved, checked against the definitions:
/// every shown required attribute must have a value after the change; unknown keys are refused.
pub fn plan_attributes(
    defs: &[AttributeDef],
    person: &[Contact],
    changes: &BTreeMap<String, Value>,
    by: &str,
    at: i64,
) -> Result<BTreeMap<String, AttributeEntry>, String> {
    let mut after = resolve(person);
    let mut out = BTreeMap::new();
    for (key, value) in changes {
        let def = defs.iter().find(|d| &d.key == key).ok_or_else(|| format!("no contact attribute `{key}` is defined"))?;
        let value = check_value(def, value)?;
        if after.get(key) == Some(&value) || (value.is_null() && !after.contains_key(key)) {
            continue;
        }
        match &value {
            Value::Null => after.remove(key),
            v => after.insert(key.clone(), v.clone()),
        };
        out.insert(key.clone(), AttributeEntry { value, at, by: by.to_string() });
    }
    if let Some(d) = defs.iter().find(|d| d.required && d.shown && !after.contains_key(&d.key)) {
        return Err(format!("{} is required", d.label));
    }
    Ok(out)
}

/// Where linking `linked`'s person into `into`'s leaves each contact: the person id (`into`'s,
/// or a new one named after it) and every contact of `linked`'s side moved, with where it was.
pub fn plan_link(into: &Contact, linked_side: &[Contact]) -> (String, Vec<MovedContact>) {
    let person = into.person.clone().unwrap_or_else(|| stable_id("person", &into.id));
    let mut moved: Vec<MovedContact> = linked_side.iter().map(|c| MovedContact { contact: c.id.clone(), from: c.person.clone() }).collect();
    if into.person.is_none() {
        moved.insert(0, MovedContact { contact: into.id.clone(), from: None });
    }
    (person, moved)
}

impl Inbox {
    pub async fn attribute_defs(&self) -> Result<Vec<AttributeDef>, InboxError> {
        Ok(self.store.get::<StoredDefs>("settings", DEFS_ID).await?.map(|s| s.attributes).unwrap_or_default())
    }

    pub async fn set_attribute_defs(&self, defs: AttributeDefs) -> Result<AttributeDefs, InboxError> {
        check_defs(&defs.attributes).map_err(InboxError::BadRequest)?;
        self.store.put("settings", DEFS_ID, &defs).await?;
        Ok(defs)
    }

    async fn contact_or_404(&self, id: &str) -> Result<Contact, InboxError> {
        self.store.contacts(&[id.to_string()]).await?.pop().ok_or_else(|| InboxError::NotFound(format!("no contact `{id}`")))
    }

    /// The contact and every other contact of its person (itself first).
    pub async fn person_of(&self, id: &str) -> Result<Vec<Contact>, InboxError> {
        let c = self.contact_or_404(id).await?;
        let Some(person) = c.person.clone() else { return Ok(vec![c]) };
        let ids: Vec<String> =
            self.store.select_where::<Value>("SELECT VALUE record::id(id) FROM contact WHERE person = $p", json!({"p": person})).await?.iter().filter_map(|v| v.as_str().map(str::to_string)).filter(|i| i != id).collect();
        let mut all = vec![c];
        all.extend(self.store.contacts(&ids).await?.into_iter().filter(|o| o.person.as_deref() == Some(person.as_str())));
        Ok(all)
    }

    pub async fn contact_page(&self, id: &str) -> Result<ContactPage, InboxError> {
        let contacts = self.person_of(id).await?;
        let ids: Vec<&str> = contacts.iter().map(|c| c.id.as_str()).collect();
        let notes: Vec<ContactNote> = self.store.select_where(NOTES_OF, json!({"ids": ids})).await?;
        let merges: Vec<ContactMerge> = self.store.select_where(MERGES_OF, json!({"ids": ids})).await?;
        let keys: Vec<String> = contacts.iter().flat_map(|c| c.match_keys.clone()).collect();
        let suggestions = if keys.is_empty() {
            Vec::new()
        } else {
            let found: Vec<Contact> = self
                .store
                .select_where(SHARING_KEYS, json!({"keys": keys}))
                .await?;
            let person = contacts[0].person.clone();
            found
                .into_iter()
                .filter(|f| !ids.contains(&f.id.as_str()) && (person.is_none() || f.person != person))
                .map(|f| Suggestion { matched: f.match_keys.iter().filter(|k| keys.contains(k)).cloned().collect(), contact: f })
                .take(MAX_SUGGESTIONS)
                .collect()
        };
        let mut tags: Vec<String> = contacts.iter().flat_map(|c| c.tags.clone()).collect();
        tags.sort();
        tags.dedup();
        Ok(ContactPage { contact: contacts[0].clone(), attributes: resolve(&contacts), tags, notes, merges, suggestions, contacts })
    }

    /// Replace a contact's tags (they follow the person across all their tickets).
    pub async fn set_contact_tags(&self, id: &str, tags: Vec<String>) -> Result<Contact, InboxError> {
        let tags = super::actions::clean_tags(tags)?;
        let _write = self.write_lock.lock().await;
        let contact = Contact { tags, updated_at: now_ms(), ..self.contact_or_404(id).await? };
        self.write_contacts(vec![contact.clone()]).await?;
        Ok(contact)
    }

    /// Save attributes an agent edited for the person `id` belongs to; they are written on `id`.
    pub async fn set_contact_attributes(&self, id: &str, changes: BTreeMap<String, Value>, by: &str) -> Result<ContactPage, InboxError> {
        let defs = self.attribute_defs().await?;
        {
            let _write = self.write_lock.lock().await;
            let mut person = self.person_of(id).await?;
            let entries = plan_attributes(&defs, &person, &changes, by, now_ms()).map_err(InboxError::BadRequest)?;
            if !entries.is_empty() {
                let c = &mut person[0];
                c.attributes.extend(entries);
                c.match_keys = match_keys(c);
                c.updated_at = now_ms();
                self.write_contacts(vec![c.clone()]).await?;
            }
        }
        self.contact_page(id).await
    }

    async fn write_contacts(&self, contacts: Vec<Contact>) -> Result<(), InboxError> {
        self.write_contacts_with(contacts, Vec::new()).await
    }

    async fn write_contacts_with(&self, contacts: Vec<Contact>, merges: Vec<ContactMerge>) -> Result<(), InboxError> {
        let batch = WriteBatch { contacts: contacts.clone(), contact_merges: merges, ..Default::default() };
        self.store.write(&batch).await?;
        for contact in contacts {
            self.events.publish(Event::ContactUpdated { contact });
        }
        Ok(())
    }

    pub async fn add_contact_note(&self, id: &str, author_id: &str, author_name: &str, text: &str) -> Result<ContactNote, InboxError> {
        let text = text.trim();
        if text.is_empty() || text.chars().count() > MAX_NOTE_CHARS {
            return Err(InboxError::BadRequest(format!("a note needs 1 to {MAX_NOTE_CHARS} characters")));
        }
        let contact = self.contact_or_404(id).await?;
        let now = now_ms();
        let note = ContactNote {
            id: stable_id(id, &format!("contact-note:{author_id}:{now}:{}", fastrand::u64(..))),
            contact_id: id.to_string(),
            author_id: author_id.to_string(),
            author_name: author_name.to_string(),
            text: text.to_string(),
            created_at: now,
        };
        self.store.put("contact_note", &note.id, &note).await?;
        self.events.publish(Event::ContactUpdated { contact });
        Ok(note)
    }

    /// Delete a note about a person: its author's, or any for an admin.
    pub async fn delete_contact_note(&self, id: &str, note_id: &str, user_id: &str, admin: bool) -> Result<(), InboxError> {
        let person = self.person_of(id).await?;
        let note: ContactNote = self
            .store
            .get("contact_note", note_id)
            .await?
            .filter(|n: &ContactNote| person.iter().any(|c| c.id == n.contact_id))
            .ok_or_else(|| InboxError::NotFound(format!("no note `{note_id}` about contact `{id}`")))?;
        if note.author_id != user_id && !admin {
            return Err(InboxError::Forbidden("only its author or an admin may delete a note".into()));
        }
        self.store.delete("contact_note", note_id).await?;
        self.events.publish(Event::ContactUpdated { contact: person[0].clone() });
        Ok(())
    }

    /// Link `other` (with the rest of its person) into `id`'s person, recorded as a merge.
    pub async fn link_contacts(&self, id: &str, other: &str, by: &str) -> Result<ContactMerge, InboxError> {
        if id == other {
            return Err(InboxError::BadRequest("a contact cannot be linked to itself".into()));
        }
        let _write = self.write_lock.lock().await;
        let into_side = self.person_of(id).await?;
        let linked_side = self.person_of(other).await?;
        let into = &into_side[0];
        if into.person.is_some() && into.person == linked_side[0].person {
            return Err(InboxError::Conflict(format!("`{other}` is already linked to this person")));
        }
        if into_side.len() + linked_side.len() > MAX_PERSON_CONTACTS {
            return Err(InboxError::BadRequest(format!("a person has at most {MAX_PERSON_CONTACTS} contacts")));
        }
        let (person, moved) = plan_link(into, &linked_side);
        let keys: Vec<&String> = into_side.iter().flat_map(|c| &c.match_keys).collect();
        let now = now_ms();
        let merge = ContactMerge {
            id: stable_id(&person, &format!("merge:{other}:{now}:{}", fastrand::u64(..))),
            person: person.clone(),
            into: id.to_string(),
            linked: other.to_string(),
            into_name: into.author.name.clone(),
            linked_name: linked_side[0].author.name.clone(),
            matched: linked_side.iter().flat_map(|c| &c.match_keys).filter(|k| keys.contains(k)).cloned().collect::<std::collections::BTreeSet<_>>().into_iter().collect(),
            moved,
            by: by.to_string(),
            at: now,
            undone_by: None,
            undone_at: None,
        };
        let changed: Vec<Contact> = into_side
            .iter()
            .chain(&linked_side)
            .filter(|c| merge.moved.iter().any(|m| m.contact == c.id))
            .map(|c| Contact { person: Some(person.clone()), updated_at: now, ..c.clone() })
            .collect();
        self.write_contacts_with(changed, vec![merge.clone()]).await?;
        Ok(merge)
    }

    /// Give the contacts stored before match keys existed theirs, once per store: a walk in id
    /// order (a record range per page, so each page costs the same), a page at a time under the
    /// write lock (ingestion goes on between pages).
    pub async fn key_old_contacts(&self) -> Result<usize, InboxError> {
        if self.store.get::<Value>("settings", KEYED_ID).await?.is_some() {
            return Ok(0);
        }
        let (mut done, mut after) = (0, None::<String>);
        loop {
            let _write = self.write_lock.lock().await;
            let q = match after {
                None => "SELECT record::id(id) AS id, match_keys = NONE AS old FROM contact LIMIT 500",
                Some(_) => "SELECT record::id(id) AS id, match_keys = NONE AS old FROM type::record('contact', $a>..) LIMIT 500",
            };
            let page: Vec<Value> = self.store.select_where(q, json!({"a": after.clone().unwrap_or_default()})).await?;
            let Some(last) = page.last().and_then(|v| v["id"].as_str()).map(str::to_string) else { break };
            after = Some(last);
            let old: Vec<String> = page.iter().filter(|v| v["old"] == true).filter_map(|v| v["id"].as_str().map(str::to_string)).collect();
            if old.is_empty() {
                continue;
            }
            let contacts: Vec<Contact> = self.store.contacts(&old).await?.into_iter().map(|c| Contact { match_keys: match_keys(&c), ..c }).collect();
            done += contacts.len();
            self.store.write(&WriteBatch { contacts, ..Default::default() }).await?;
        }
        self.store.put("settings", KEYED_ID, &json!({"at": now_ms()})).await?;
        Ok(done)
    }

    /// Take `id` out of its person: it stands alone again, keeping what was written on it.
    pub async fn unlink_contact(&self, id: &str) -> Result<Contact, InboxError> {
        let _write = self.write_lock.lock().await;
        let person = self.person_of(id).await?;
        if person[0].person.is_none() {
            return Err(InboxError::Conflict(format!("contact `{id}` is not linked to anyone")));
        }
        let now = now_ms();
        let mut changed = vec![Contact { person: None, updated_at: now, ..person[0].clone() }];
        // The one left behind stands alone too.
        if person.len() == 2 {
            changed.push(Contact { person: None, updated_at: now, ..person[1].clone() });
        }
        self.write_contacts(changed.clone()).await?;
        Ok(changed.swap_remove(0))
    }

    /// Undo a link: each contact it moved that is still in that person goes back where it was.
    pub async fn undo_merge(&self, merge_id: &str, by: &str) -> Result<ContactMerge, InboxError> {
        let _write = self.write_lock.lock().await;
        let mut merge: ContactMerge = self.store.get("contact_merge", merge_id).await?.ok_or_else(|| InboxError::NotFound(format!("no contact link `{merge_id}`")))?;
        if merge.undone_at.is_some() {
            return Err(InboxError::Conflict("this link was already undone".into()));
        }
        let ids: Vec<String> = merge.moved.iter().map(|m| m.contact.clone()).collect();
        let now = now_ms();
        let mut changed: Vec<Contact> = self
            .store
            .contacts(&ids)
            .await?
            .into_iter()
            .filter(|c| c.person.as_deref() == Some(merge.person.as_str()))
            .map(|c| {
                let from = merge.moved.iter().find(|m| m.contact == c.id).and_then(|m| m.from.clone());
                Contact { person: from, updated_at: now, ..c }
            })
            .collect();
        // A contact left alone in the person stands alone again.
        let left: Vec<String> = self
            .store
            .select_where::<Value>("SELECT VALUE record::id(id) FROM contact WHERE person = $p", json!({"p": merge.person}))
            .await?
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .filter(|i| !changed.iter().any(|c| &c.id == i && c.person.as_deref() != Some(merge.person.as_str())))
            .collect();
        if let [only] = left.as_slice() {
            if let Some(c) = self.store.contacts(std::slice::from_ref(only)).await?.pop() {
                changed.retain(|x| &x.id != only);
                changed.push(Contact { person: None, updated_at: now, ..c });
            }
        }
        merge.undone_by = Some(by.to_string());
        merge.undone_at = Some(now);
        self.write_contacts_with(changed, vec![merge.clone()]).await?;
        Ok(merge)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Author;

    fn contact(id: &str, handle: Option<&str>) -> Contact {
        Contact {
            id: id.into(),
            channel: "c".into(),
            author: Author { id: id.into(), name: id.into(), handle: handle.map(str::to_string), avatar_url: None, profile_url: None },
            blocked_us: false,
            opted_out: false,
            tags: vec![],
            updated_at: 0,
            person: None,
            attributes: BTreeMap::new(),
            match_keys: vec![],
        }
    }

    fn def(key: &str, kind: AttributeKind) -> AttributeDef {
        AttributeDef { key: key.into(), label: key.into(), kind, required: false, shown: true, options: vec![], pattern: None }
    }

    #[test]
    fn a_whatsapp_id_and_an_sms_number_match_on_the_phone() {
        assert_eq!(match_keys(&contact("4915112345678", None)), vec!["phone:4915112345678"]);
        assert_eq!(match_keys(&contact("SM1", Some("+49 151 1234-5678"))), vec!["phone:4915112345678"]);
    }

    #[test]
    fn short_numeric_ids_are_not_phone_numbers() {
        assert!(match_keys(&contact("123456789", None)).is_empty());
        assert!(match_keys(&contact("12345678901234567", None)).is_empty(), "a Messenger PSID");
    }

    #[test]
    fn handles_match_without_their_at_and_case() {
        assert_eq!(match_keys(&contact("1", Some("@Ann_B"))), vec!["handle:ann_b"]);
    }

    #[test]
    fn an_email_attribute_is_a_key() {
        let mut c = contact("1", None);
        c.attributes.insert("mail".into(), AttributeEntry { value: json!("Ann@Example.com"), at: 1, by: "u".into() });
        assert_eq!(match_keys(&c), vec!["email:ann@example.com"]);
    }

    #[test]
    fn each_kind_checks_its_values() {
        let ok = |d: &AttributeDef, v: Value| check_value(d, &v);
        assert_eq!(ok(&def("n", AttributeKind::Number), json!("12.5")), Ok(json!(12.5)));
        assert!(ok(&def("n", AttributeKind::Number), json!("twelve")).is_err());
        assert_eq!(ok(&def("d", AttributeKind::Date), json!("2026-02-28")), Ok(json!("2026-02-28")));
        assert!(ok(&def("d", AttributeKind::Date), json!("2026-02-30")).is_err());
        assert!(ok(&def("c", AttributeKind::Checkbox), json!("yes")).is_err());
        assert_eq!(ok(&def("c", AttributeKind::Checkbox), json!(true)), Ok(json!(true)));
        assert!(ok(&def("l", AttributeKind::Link), json!("javascript:alert(1)")).is_err());
        assert_eq!(ok(&def("l", AttributeKind::Link), json!("https://shop.example/u/1")), Ok(json!("https://shop.example/u/1")));
        assert!(ok(&def("e", AttributeKind::Email), json!("ann@")).is_err());
        assert_eq!(ok(&def("p", AttributeKind::Phone), json!("+49 (151) 1234 5678")), Ok(json!("+4915112345678")));
        assert!(ok(&def("p", AttributeKind::Phone), json!("0151 1234")).is_err(), "no country code");
        let list = AttributeDef { options: vec!["Gold".into(), "Silver".into()], ..def("tier", AttributeKind::List) };
        assert_eq!(ok(&list, json!("Gold")), Ok(json!("Gold")));
        assert!(ok(&list, json!("Bronze")).is_err());
        let order = AttributeDef { pattern: Some("[A-Z]{2}-\\d{4}".into()), ..def("order", AttributeKind::Text) };
        assert!(ok(&order, json!("AB-1234")).is_ok());
        assert!(ok(&order, json!("AB-1234x")).is_err(), "the whole value matches");
        assert_eq!(ok(&order, json!("  ")), Ok(Value::Null), "blank clears");
    }

    #[test]
    fn definitions_with_a_bad_key_a_twice_key_or_an_empty_list_are_refused() {
        assert!(check_defs(&[def("Tier", AttributeKind::Text)]).is_err());
        assert!(check_defs(&[def("a", AttributeKind::Text), def("a", AttributeKind::Number)]).is_err());
        assert!(check_defs(&[def("a", AttributeKind::List)]).is_err());
        assert!(check_defs(&[AttributeDef { pattern: Some("(".into()), ..def("a", AttributeKind::Text) }]).is_err());
        assert!(check_defs(&[def("a", AttributeKind::Text)]).is_ok());
    }

    #[test]
    fn the_newest_value_among_a_persons_contacts_wins_and_a_clear_is_newer() {
        let mut a = contact("a", None);
        let mut b = contact("b", None);
        a.attributes.insert("tier".into(), AttributeEntry { value: json!("Gold"), at: 1, by: "u".into() });
        b.attributes.insert("tier".into(), AttributeEntry { value: json!("Silver"), at: 2, by: "u".into() });
        assert_eq!(resolve(&[a.clone(), b.clone()])["tier"], json!("Silver"));
        a.attributes.insert("tier".into(), AttributeEntry { value: Value::Null, at: 3, by: "u".into() });
        assert!(!resolve(&[a, b]).contains_key("tier"));
    }

    #[test]
    fn saving_without_a_required_attribute_is_refused() {
        let defs = [AttributeDef { required: true, ..def("tier", AttributeKind::Text) }, def("note", AttributeKind::Text)];
        let change = BTreeMap::from([("note".to_string(), json!("x"))]);
        assert_eq!(plan_attributes(&defs, &[contact("a", None)], &change, "u", 1), Err("tier is required".into()));
        let change = BTreeMap::from([("note".to_string(), json!("x")), ("tier".to_string(), json!("Gold"))]);
        assert_eq!(plan_attributes(&defs, &[contact("a", None)], &change, "u", 1).unwrap().len(), 2);
        let unknown = BTreeMap::from([("nope".to_string(), json!("x"))]);
        assert!(plan_attributes(&defs, &[contact("a", None)], &unknown, "u", 1).is_err());
    }

    #[test]
    fn linking_a_lone_contact_makes_a_person_of_both() {
        let (person, moved) = plan_link(&contact("a", None), &[contact("b", None)]);
        assert_eq!(person, stable_id("person", "a"));
        assert_eq!(moved, vec![MovedContact { contact: "a".into(), from: None }, MovedContact { contact: "b".into(), from: None }]);
    }

    #[test]
    fn linking_into_a_person_moves_the_other_side_only() {
        let a = Contact { person: Some("p1".into()), ..contact("a", None) };
        let b = Contact { person: Some("p2".into()), ..contact("b", None) };
        let (person, moved) = plan_link(&a, &[b]);
        assert_eq!(person, "p1");
        assert_eq!(moved, vec![MovedContact { contact: "b".into(), from: Some("p2".into()) }]);
    }

    #[tokio::test]
    async fn a_contact_pages_suggestions_notes_and_link_history_read_indexes_not_whole_tables() {
        let store = crate::store::Store::open("mem://").await.unwrap();
        for (q, vars) in [(SHARING_KEYS, json!({"keys": ["phone:1", "handle:a"]})), (MERGES_OF, json!({"ids": ["a", "b"]})), (NOTES_OF, json!({"ids": ["a", "b"]}))] {
            let plan: Vec<Value> = store.select_where(&format!("EXPLAIN {q}"), vars).await.unwrap();
            let plan = plan.iter().map(|p| p.as_str().unwrap_or_default().to_string()).collect::<String>();
            assert!(plan.contains("IndexScan") && !plan.contains("TableScan"), "{q}: {plan}");
        }
    }

    #[tokio::test]
    async fn contacts_stored_before_match_keys_get_theirs_once_page_by_page() {
        let store = crate::store::Store::open("mem://").await.unwrap();
        let contacts = (0..620)
            .map(|n| Contact { author: Author { id: format!("49151{n:08}"), ..contact("", None).author }, ..contact(&format!("c{n:04}"), None) })
            .collect();
        store.write(&WriteBatch { contacts, ..Default::default() }).await.unwrap();
        // As a store written before match keys existed holds them.
        let _: Vec<Value> = store.select_where("UPDATE contact SET match_keys = NONE RETURN NONE", json!({})).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let search = std::sync::Arc::new(crate::search::SearchIndex::open(dir.path()).unwrap());
        let inbox = Inbox::start(store.clone(), search, crate::events::EventBus::default()).await.unwrap();
        assert_eq!(inbox.key_old_contacts().await.unwrap(), 620, "across two pages");
        assert_eq!(inbox.key_old_contacts().await.unwrap(), 0, "once");
        let c = store.contacts(&["c0619".to_string()]).await.unwrap().pop().unwrap();
        assert_eq!(c.match_keys, vec!["phone:4915100000619".to_string()]);
    }
}
