//! Backups: the whole store as SurrealQL, read in one read transaction (SurrealDB's export), so
//! a backup taken while the server writes is one consistent moment; and its restore into an
//! empty store, which then migrates to this release's layout like any store it opens.

use super::{Result, Store, StoreError};
use futures::Stream;
use std::path::Path;

/// Why a store on a SurrealDB server is not backed up by the helpdesk, and how it is.
pub const SERVER_BACKUP: &str = "this store is on a SurrealDB server, which SurrealDB's client cannot export over WebSocket: \
back it up on the database machine with `surreal export --endpoint http://HOST:PORT --ns helpdesk --db helpdesk FILE` (docs/DEPLOYMENT.md, section 2)";

/// Tables a store holds something in once anyone used it: a restore refuses a store that has any.
const IN_USE: [&str; 4] = ["ticket", "user", "contact", "saved_reply"];

impl Store {
    /// The export, as chunks of SurrealQL.
    pub async fn export(&self) -> Result<impl Stream<Item = std::result::Result<Vec<u8>, surrealdb::Error>> + Send + 'static> {
        Ok(self.db.export(()).await?)
    }

    /// Restore `file` (a backup) into the store at `url`, which must be empty, and open it.
    pub async fn restore(url: &str, login: Option<&super::StoreLogin>, file: &Path) -> Result<Store> {
        let refuse = |message: String| StoreError::Open { url: url.to_string(), message };
        if !file.is_file() {
            return Err(refuse(format!("there is no backup file `{}`", file.display())));
        }
        // One connection throughout: an embedded store stays locked a while after one closes.
        let db = super::connect(url, login).await?;
        let mut r = db.query("INFO FOR DB").await?.check()?;
        let info: Option<serde_json::Value> = r.take(0)?;
        let tables = info.as_ref().and_then(|i| i["tables"].as_object()).cloned().unwrap_or_default();
        for table in IN_USE.into_iter().filter(|t| tables.contains_key(*t)) {
            let mut r = db.query(format!("SELECT VALUE id FROM {table} LIMIT 1")).await?.check()?;
            let any: Vec<serde_json::Value> = r.take(0)?;
            if !any.is_empty() {
                return Err(refuse(format!("it is not empty (it has {table} records): restore into a new data directory or store")));
            }
        }
        db.import(file).await.map_err(|e| refuse(format!("`{}` could not be restored: {e}", file.display())))?;
        Store::with_db(db, url, super::is_server_url(url)).await
    }
}
