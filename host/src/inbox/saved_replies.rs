//! Saved replies: answers an agent inserts instead of typing them again, personal (theirs),
//! a team's (its members') or everyone's, with variables (`{{contact.first_name}}`) the
//! reply box fills in and asks for when it has no value, and files (pictures, documents) sent
//! with the reply where the channel takes them. Checked when saved: an unknown variable or file
//! is refused then, not discovered by a customer.

use super::{Inbox, InboxError};
use crate::accounts::{Team, User};
use crate::model::{now_ms, stable_id, Millis};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The variables a saved reply may use, besides `contact.<key>` for each contact attribute.
pub const VARIABLES: [&str; 6] = ["contact.name", "contact.first_name", "agent.name", "agent.first_name", "channel.name", "ticket.id"];

/// Who sees a saved reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Scope {
    /// Only its author.
    Personal(String),
    /// A team's members (a team id); admins manage these.
    Team(String),
    /// Everyone; admins manage these.
    Global,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SavedReply {
    pub id: String,
    pub scope: Scope,
    pub title: String,
    pub text: String,
    /// The variables its text uses, in order of first use.
    pub variables: Vec<String>,
    /// Sent with the reply, where the channel takes files.
    #[serde(default)]
    #[schema(required = true)]
    pub files: Vec<super::files::StoredFile>,
    pub author: String,
    pub updated_at: Millis,
}

/// A saved reply as written: `scope` defaults to personal.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SavedReplyInput {
    pub title: String,
    pub text: String,
    #[serde(default)]
    pub scope: Option<Scope>,
    /// Uploaded files (`POST /api/v1/files`) sent with it, by id; at most 10.
    #[serde(default)]
    pub files: Vec<String>,
}

/// The `{{name}}`s of `text`, each once, or why it cannot work; `attributes` are the contact
/// attributes' keys (`{{contact.order_number}}`).
pub fn variables(text: &str, attributes: &[String]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or("a `{{` is not closed with `}}`")?;
        let name = after[..end].trim();
        let attribute = name.strip_prefix("contact.").is_some_and(|k| attributes.iter().any(|a| a == k));
        if !VARIABLES.contains(&name) && !attribute {
            let known: Vec<String> = VARIABLES.iter().map(|v| v.to_string()).chain(attributes.iter().map(|a| format!("contact.{a}"))).collect();
            return Err(format!("unknown variable `{{{{{name}}}}}`: the variables are {}", known.iter().map(|v| format!("{{{{{v}}}}}")).collect::<Vec<_>>().join(", ")));
        }
        if !out.iter().any(|v| v == name) {
            out.push(name.to_string());
        }
        rest = &after[end + 2..];
    }
    Ok(out)
}

/// `text` with each `{{name}}` replaced by `value(name)`.
pub fn fill(text: &str, value: impl Fn(&str) -> String) -> String {
    static VARIABLE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| regex::Regex::new(r"\{\{\s*([\w.]+)\s*\}\}").expect("a valid pattern"));
    VARIABLE.replace_all(text, |c: &regex::Captures| value(&c[1])).into_owned()
}

/// May `user` see a reply of `scope`?
fn sees(user: &User, teams: &[Team], scope: &Scope) -> bool {
    match scope {
        Scope::Personal(owner) => *owner == user.id,
        Scope::Team(t) => user.is_admin() || teams.iter().any(|team| team.id == *t && team.members.contains(&user.id)),
        Scope::Global => true,
    }
}

/// May `user` write a reply of `scope`?
fn manages(user: &User, scope: &Scope) -> bool {
    match scope {
        Scope::Personal(owner) => *owner == user.id,
        Scope::Team(_) | Scope::Global => user.is_admin(),
    }
}

impl Inbox {
    /// The saved replies `user` may use, by title.
    pub async fn saved_replies(&self, user: &User, teams: &[Team]) -> Result<Vec<SavedReply>, InboxError> {
        let all: Vec<SavedReply> = self.store.all("saved_reply", "title").await?;
        Ok(all.into_iter().filter(|r| sees(user, teams, &r.scope)).collect())
    }

    /// Create (no `id`) or change a saved reply, checked.
    pub async fn save_reply(&self, user: &User, teams: &[Team], id: Option<&str>, input: SavedReplyInput) -> Result<SavedReply, InboxError> {
        let title = input.title.trim().to_string();
        if title.is_empty() || title.chars().count() > 80 {
            return Err(InboxError::BadRequest("a saved reply's title is 1 to 80 characters".into()));
        }
        if input.text.trim().is_empty() || input.text.chars().count() > 5000 {
            return Err(InboxError::BadRequest("a saved reply's text is 1 to 5000 characters".into()));
        }
        let attributes: Vec<String> = self.attribute_defs().await?.into_iter().map(|d| d.key).collect();
        let variables = variables(&input.text, &attributes).map_err(InboxError::BadRequest)?;
        if input.files.len() > crate::plugins::MAX_REPLY_FILES as usize {
            return Err(InboxError::BadRequest(format!("a saved reply carries at most {} files", crate::plugins::MAX_REPLY_FILES)));
        }
        let files = self.files(&input.files).await?;
        if files.iter().map(|f| f.size).sum::<u64>() > super::files::MAX_REPLY_BYTES {
            return Err(InboxError::BadRequest(format!("a saved reply's files are at most {} MB together", super::files::MAX_REPLY_BYTES >> 20)));
        }
        let existing = match id {
            Some(id) => Some(self.store.get::<SavedReply>("saved_reply", id).await?.filter(|r| sees(user, teams, &r.scope)).ok_or_else(|| InboxError::NotFound(format!("no saved reply `{id}`")))?),
            None => None,
        };
        let scope = input.scope.or_else(|| existing.as_ref().map(|r| r.scope.clone())).unwrap_or(Scope::Personal(user.id.clone()));
        if let Scope::Team(t) = &scope {
            if !teams.iter().any(|team| team.id == *t) {
                return Err(InboxError::BadRequest(format!("no team `{t}`")));
            }
        }
        let allowed = manages(user, &scope) && existing.as_ref().is_none_or(|r| manages(user, &r.scope));
        if !allowed {
            return Err(InboxError::Forbidden("only admins manage team and global saved replies; agents their own".into()));
        }
        let id = id.map(str::to_string).unwrap_or_else(|| stable_id("saved_reply", &format!("{}:{title}:{}", user.id, now_ms())));
        let reply = SavedReply { id: id.clone(), scope, title, text: input.text, variables, files, author: user.name.clone(), updated_at: now_ms() };
        self.store.put("saved_reply", &id, &reply).await?;
        Ok(reply)
    }

    pub async fn delete_reply(&self, user: &User, teams: &[Team], id: &str) -> Result<(), InboxError> {
        let r: SavedReply =
            self.store.get::<SavedReply>("saved_reply", id).await?.filter(|r| sees(user, teams, &r.scope)).ok_or_else(|| InboxError::NotFound(format!("no saved reply `{id}`")))?;
        if !manages(user, &r.scope) {
            return Err(InboxError::Forbidden("only admins manage team and global saved replies; agents their own".into()));
        }
        Ok(self.store.delete("saved_reply", id).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_replys_variables_are_listed_once_in_order() {
        assert_eq!(variables("Hi {{contact.first_name}}, {{ agent.name }} here. {{contact.first_name}}!", &[]).unwrap(), ["contact.first_name", "agent.name"]);
        assert!(variables("no variables", &[]).unwrap().is_empty());
    }

    #[test]
    fn variables_are_filled_wherever_they_stand() {
        let out = fill("Hi {{contact.first_name}}, {{ channel.name }}: {{contact.first_name}}", |v| if v == "contact.first_name" { "Ana".into() } else { "SMS".into() });
        assert_eq!(out, "Hi Ana, SMS: Ana");
    }

    #[test]
    fn an_unknown_or_unclosed_variable_is_refused_in_words() {
        assert!(variables("Hi {{contact.nickname}}", &[]).unwrap_err().contains("unknown variable `{{contact.nickname}}`"));
        assert!(variables("Hi {{contact.name", &[]).unwrap_err().contains("not closed"));
    }

    #[test]
    fn a_contact_attribute_is_a_variable_once_admins_define_it() {
        let defined = ["order_number".to_string()];
        assert_eq!(variables("Your order {{contact.order_number}}", &defined).unwrap(), ["contact.order_number"]);
        let refused = variables("Your order {{contact.order_number}}", &[]).unwrap_err();
        assert!(refused.contains("unknown variable `{{contact.order_number}}`"), "{refused}");
        assert!(variables("{{contact.vip}}", &defined).unwrap_err().contains("{{contact.order_number}}"), "the known ones are listed");
    }
}
