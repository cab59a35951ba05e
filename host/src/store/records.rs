//! Plain records beside the inbox's batches: users, sessions, tokens, notes, channel settings.
//! Each is one document under a string id in its table.

use super::{decode, Result, Store};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

impl Store {
    /// Write `doc` as record `table:id`, replacing what was there.
    pub async fn put<T: Serialize>(&self, table: &str, id: &str, doc: &T) -> Result<()> {
        debug_assert!(!matches!(table, "ticket" | "contact"), "tickets and contacts are written by `Store::write`");
        let written = self.db.query(format!("UPSERT type::record('{table}', $id) CONTENT $doc")).bind(record(id, doc)?).await.and_then(|r| r.check());
        self.forget_opened_if(table);
        written?;
        Ok(())
    }

    /// Write `doc` as a new record `table:id`; false if the id was taken (nothing written).
    pub async fn create<T: Serialize>(&self, table: &str, id: &str, doc: &T) -> Result<bool> {
        let created = self.db.query(format!("CREATE type::record('{table}', $id) CONTENT $doc")).bind(record(id, doc)?).await;
        self.forget_opened_if(table);
        let created = created?.check();
        match created {
            Ok(_) => Ok(true),
            Err(e) if e.to_string().contains("already exists") => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn get<T: DeserializeOwned>(&self, table: &str, id: &str) -> Result<Option<T>> {
        let mut r = self
            .db
            .query(format!("SELECT *, record::id(id) AS id FROM type::record('{table}', $id)"))
            .bind(("id", id.to_string()))
            .await?
            .check()?;
        Ok(decode(r.take::<Vec<Value>>(0)?)?.pop())
    }

    pub async fn delete(&self, table: &str, id: &str) -> Result<()> {
        let deleted = self.db.query(format!("DELETE type::record('{table}', $id)")).bind(("id", id.to_string())).await.and_then(|r| r.check());
        self.forget_opened_if(table);
        deleted?;
        Ok(())
    }

    /// Notes and history are part of a ticket's view (`Store::ticket_parts`): a change to one
    /// written on its own forgets every opened ticket (rare beside messages, which ingest
    /// writes in batches that forget only their tickets).
    fn forget_opened_if(&self, table: &str) {
        if table == "note" || table == "activity" {
            self.recent_parts.forget_where(|_, _| true);
        }
    }

    /// Every record of `table` whose `field` equals `value`, ordered by `order`.
    pub async fn find<T: DeserializeOwned>(&self, table: &str, field: &str, value: &str, order: &str) -> Result<Vec<T>> {
        let mut r = self
            .db
            .query(format!("SELECT *, record::id(id) AS id FROM {table} WHERE {field} = $v ORDER BY {order}"))
            .bind(("v", value.to_string()))
            .await?
            .check()?;
        decode(r.take::<Vec<Value>>(0)?)
    }

    /// What a query of its own selects (its one statement), bound to `vars` (an object).
    pub async fn select_where<T: DeserializeOwned>(&self, q: &str, vars: Value) -> Result<Vec<T>> {
        let mut r = self.db.query(q).bind(vars).await?.check()?;
        decode(r.take::<Vec<Value>>(0)?)
    }

    /// Every record of a small table, ordered by `order`.
    pub async fn all<T: DeserializeOwned>(&self, table: &str, order: &str) -> Result<Vec<T>> {
        let mut r = self.db.query(format!("SELECT *, record::id(id) AS id FROM {table} ORDER BY {order}")).await?.check()?;
        decode(r.take::<Vec<Value>>(0)?)
    }

    /// Notes written since `since` that @mention `user`, oldest first.
    pub async fn notes_mentioning(&self, user: &str, since: i64) -> Result<Vec<crate::model::Note>> {
        let mut r = self
            .db
            .query("SELECT *, record::id(id) AS id FROM note WHERE created_at >= $since AND mentions CONTAINS $u ORDER BY created_at")
            .bind(("since", since))
            .bind(("u", user.to_string()))
            .await?
            .check()?;
        decode(r.take::<Vec<Value>>(0)?)
    }

    /// Remember whether an admin enabled or disabled a channel (overrides plugins.toml).
    pub async fn set_channel_enabled(&self, channel: &str, enabled: bool) -> Result<()> {
        self.db
            .query("UPSERT type::record('channel_state', $c) MERGE { enabled: $e }")
            .bind(json!({ "c": channel, "e": enabled }))
            .await?
            .check()?;
        Ok(())
    }

    /// An admin's enable/disable of a channel, if any.
    pub async fn channel_enabled(&self, channel: &str) -> Result<Option<bool>> {
        let mut r = self
            .db
            .query("SELECT VALUE enabled FROM type::record('channel_state', $c)")
            .bind(("c", channel.to_string()))
            .await?
            .check()?;
        let v: Vec<Value> = r.take(0)?;
        Ok(v.into_iter().find_map(|v| v.as_bool()))
    }
}

/// `{id, doc}` bindings, the id taken out of the document (it is the record id).
fn record<T: Serialize>(id: &str, doc: &T) -> Result<Value> {
    let mut doc = serde_json::to_value(doc)?;
    if let Some(obj) = doc.as_object_mut() {
        obj.remove("id");
    }
    Ok(json!({ "id": id, "doc": doc }))
}
