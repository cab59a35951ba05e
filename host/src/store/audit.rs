//! The audit log's records: appended (never changed), read newest first with filters, and
//! removed only when older than the retention an admin set.

use super::{decode, Result, Store};
use crate::model::{AuditEntry, AuditKind, Millis};
use serde_json::{json, Value};

/// Which entries to read.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub from: Option<Millis>,
    pub to: Option<Millis>,
    /// Part of the actor's name (any case).
    pub actor: Option<String>,
    pub kind: Option<AuditKind>,
    /// Only what failed (or only what worked).
    pub ok: Option<bool>,
    /// Entries before this time (the next page).
    pub before: Option<Millis>,
    pub limit: usize,
}

impl Store {
    /// Append one entry.
    pub async fn audit(&self, entry: &AuditEntry) -> Result<()> {
        self.db.query("CREATE type::record('audit', $doc.id) CONTENT $doc RETURN NONE").bind(("doc", serde_json::to_value(entry)?)).await?.check()?;
        Ok(())
    }

    /// The entries `f` asks for, newest first.
    pub async fn audit_entries(&self, f: &AuditFilter) -> Result<Vec<AuditEntry>> {
        let mut wheres = vec!["true".to_string()];
        let mut vars = serde_json::Map::new();
        if let Some(v) = f.from {
            wheres.push("at >= $from".into());
            vars.insert("from".into(), json!(v));
        }
        if let Some(v) = f.to {
            wheres.push("at < $to".into());
            vars.insert("to".into(), json!(v));
        }
        if let Some(v) = f.before {
            wheres.push("at < $before".into());
            vars.insert("before".into(), json!(v));
        }
        if let Some(v) = &f.actor {
            wheres.push("string::contains(string::lowercase(actor), $actor)".into());
            vars.insert("actor".into(), json!(v.to_lowercase()));
        }
        if let Some(v) = f.kind {
            wheres.push("kind = $kind".into());
            vars.insert("kind".into(), serde_json::to_value(v)?);
        }
        if let Some(v) = f.ok {
            wheres.push("ok = $ok".into());
            vars.insert("ok".into(), json!(v));
        }
        let q = format!("SELECT *, record::id(id) AS id FROM audit WHERE {} ORDER BY at DESC LIMIT {}", wheres.join(" AND "), f.limit.max(1));
        let mut r = self.db.query(q).bind(Value::Object(vars)).await?.check()?;
        decode(r.take::<Vec<Value>>(0)?)
    }

    /// Remove the entries older than `before`; how many there were.
    pub async fn prune_audit(&self, before: Millis) -> Result<u64> {
        let mut r = self.db.query("DELETE audit WHERE at < $before RETURN BEFORE").bind(("before", before)).await?.check()?;
        Ok(r.take::<Vec<Value>>(0)?.len() as u64)
    }
}
