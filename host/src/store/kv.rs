//! The plugins' small per-channel key-value state, kept in the `kv` table, within quotas so
//! one plugin cannot fill the store.

use super::{Store, StoreError};
use crate::model::stable_id;
use crate::plugins::KvBackend;
use serde_json::Value;

/// Bytes of a key.
pub const MAX_KEY: usize = 256;
/// Bytes of a value.
pub const MAX_VALUE: usize = 64 << 10;
/// Keys per channel.
pub const MAX_KEYS: u64 = 10_000;
/// Bytes of all values of a channel.
pub const MAX_BYTES: u64 = 16 << 20;

/// What a channel's kv holds: (keys, bytes of values).
#[derive(Clone, Copy, Default)]
pub(super) struct Usage {
    keys: u64,
    bytes: u64,
}

impl Store {
    /// The channel's usage, read from the table the first time and kept up to date after.
    async fn kv_usage(&self, usage: &mut std::collections::HashMap<String, Usage>, channel: &str) -> Result<Usage, StoreError> {
        if let Some(u) = usage.get(channel) {
            return Ok(*u);
        }
        let mut r = self
            .db
            .query("SELECT count() AS n, math::sum(string::len(value)) AS hex FROM kv WHERE channel = $c GROUP ALL")
            .bind(("c", channel.to_string()))
            .await?
            .check()?;
        let rows: Vec<Value> = r.take(0)?;
        let row = rows.first();
        let u = Usage {
            keys: row.and_then(|r| r["n"].as_u64()).unwrap_or(0),
            bytes: row.and_then(|r| r["hex"].as_u64()).unwrap_or(0) / 2,
        };
        usage.insert(channel.to_string(), u);
        Ok(u)
    }

    async fn kv_size(&self, channel: &str, key: &str) -> Result<Option<u64>, StoreError> {
        let mut r = self
            .db
            .query("SELECT VALUE string::len(value) FROM type::record('kv', $id)")
            .bind(("id", stable_id(channel, key)))
            .await?
            .check()?;
        let v: Vec<Value> = r.take(0)?;
        Ok(v.first().and_then(Value::as_u64).map(|hex| hex / 2))
    }
}

#[async_trait::async_trait]
impl KvBackend for Store {
    async fn get(&self, channel: &str, key: &str) -> Result<Option<Vec<u8>>, String> {
        let mut r = self
            .db
            .query("SELECT VALUE value FROM type::record('kv', $id)")
            .bind(("id", stable_id(channel, key)))
            .await
            .and_then(|r| r.check())
            .map_err(|e| e.to_string())?;
        let hex_value: Vec<Value> = r.take(0).map_err(|e| e.to_string())?;
        match hex_value.first().and_then(Value::as_str) {
            None => Ok(None),
            Some(h) => hex::decode(h).map(Some).map_err(|e| format!("stored value unreadable: {e}")),
        }
    }

    async fn set(&self, channel: &str, key: &str, value: Vec<u8>) -> Result<(), String> {
        if key.is_empty() || key.len() > MAX_KEY {
            return Err(format!("keys are 1 to {MAX_KEY} bytes"));
        }
        if value.len() > MAX_VALUE {
            return Err(format!("values are limited to {} KiB", MAX_VALUE >> 10));
        }
        // One writer per store at a time for kv, so two calls cannot both squeeze under a quota.
        let mut usage = self.kv_usage.lock().await;
        let current = self.kv_usage(&mut usage, channel).await.map_err(|e| e.to_string())?;
        let old = self.kv_size(channel, key).await.map_err(|e| e.to_string())?;
        let keys = current.keys + u64::from(old.is_none());
        let bytes = current.bytes - old.unwrap_or(0).min(current.bytes) + value.len() as u64;
        if keys > MAX_KEYS {
            return Err(format!("this channel already keeps {MAX_KEYS} keys, the most allowed; delete some first"));
        }
        if bytes > MAX_BYTES {
            return Err(format!("this channel's values would take {bytes} bytes, more than the {} MiB allowed", MAX_BYTES >> 20));
        }
        self.db
            .query("UPSERT type::record('kv', $id) CONTENT { channel: $c, key: $k, value: $v }")
            .bind(serde_json::json!({"id": stable_id(channel, key), "c": channel, "k": key, "v": hex::encode(value)}))
            .await
            .and_then(|r| r.check())
            .map_err(|e| e.to_string())?;
        usage.insert(channel.to_string(), Usage { keys, bytes });
        Ok(())
    }

    async fn delete(&self, channel: &str, key: &str) {
        let mut usage = self.kv_usage.lock().await;
        let old = self.kv_size(channel, key).await;
        let r = self.db.query("DELETE type::record('kv', $id)").bind(("id", stable_id(channel, key))).await.and_then(|r| r.check());
        match (r, old) {
            (Ok(_), Ok(Some(size))) => {
                if let Some(u) = usage.get_mut(channel) {
                    u.keys = u.keys.saturating_sub(1);
                    u.bytes = u.bytes.saturating_sub(size);
                }
            }
            (Ok(_), Ok(None)) => {}
            (r, _) => {
                usage.remove(channel);
                if let Err(e) = r {
                    tracing::warn!(%channel, "kv delete failed: {e}");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_plugin_cannot_store_more_than_its_quotas() {
        let store = Store::open("mem://").await.unwrap();
        assert!(store.set("c", &"k".repeat(MAX_KEY + 1), vec![1]).await.unwrap_err().contains("keys are"));
        assert!(store.set("c", "big", vec![0; MAX_VALUE + 1]).await.unwrap_err().contains("KiB"));
        // Bytes: 16 MiB in 64 KiB values is 256 keys; the 257th is refused, an overwrite is not.
        for n in 0..(MAX_BYTES / MAX_VALUE as u64) {
            store.set("c", &format!("v{n}"), vec![7; MAX_VALUE]).await.unwrap();
        }
        let refused = store.set("c", "one-more", vec![7; MAX_VALUE]).await.unwrap_err();
        assert!(refused.contains("MiB"), "{refused}");
        store.set("c", "v0", vec![1; 10]).await.expect("replacing a value frees its bytes");
        store.set("c", "one-more", vec![7; 1000]).await.unwrap();
        // Another channel has its own quota; a value round-trips.
        store.set("other", "k", b"hello".to_vec()).await.unwrap();
        assert_eq!(KvBackend::get(&store, "other", "k").await.unwrap().as_deref(), Some(&b"hello"[..]));
        assert_eq!(KvBackend::get(&store, "other", "absent").await.unwrap(), None);
        // Keys: a fresh store counts what is already there.
        let reopened = Store { kv_usage: Default::default(), ..store.clone() };
        KvBackend::delete(&reopened, "c", "one-more").await;
        for n in 0..(MAX_KEYS - (MAX_BYTES / MAX_VALUE as u64)) {
            reopened.set("c", &format!("small{n}"), vec![]).await.unwrap();
        }
        assert!(reopened.set("c", "too-many", vec![]).await.unwrap_err().contains("keys"));
    }
}
