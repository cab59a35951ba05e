//! The plugins' small per-channel key-value state, kept in the `kv` table.

use super::Store;
use crate::model::stable_id;
use crate::plugins::KvBackend;

#[async_trait::async_trait]
impl KvBackend for Store {
    async fn get(&self, channel: &str, key: &str) -> Option<Vec<u8>> {
        let r = self
            .db
            .query("SELECT VALUE value FROM type::record('kv', $id)")
            .bind(("id", stable_id(channel, key)))
            .await
            .and_then(|r| r.check());
        let hex_value: Vec<serde_json::Value> = r.ok()?.take(0).ok()?;
        hex::decode(hex_value.first()?.as_str()?).ok()
    }

    async fn set(&self, channel: &str, key: &str, value: Vec<u8>) -> Result<(), String> {
        self.db
            .query("UPSERT type::record('kv', $id) CONTENT { channel: $c, key: $k, value: $v }")
            .bind(serde_json::json!({"id": stable_id(channel, key), "c": channel, "k": key, "v": hex::encode(value)}))
            .await
            .and_then(|r| r.check())
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    async fn delete(&self, channel: &str, key: &str) {
        let r = self.db.query("DELETE type::record('kv', $id)").bind(("id", stable_id(channel, key))).await;
        if let Err(e) = r {
            tracing::warn!(%channel, "kv delete failed: {e}");
        }
    }
}
