//! Store layout migrations: a release that changes how stored records look adds a step here.
//! On start the store runs the steps it has not had, in order, each in one transaction with the
//! layout version it reaches (`meta:schema`), so a crash mid-way leaves a store that the next
//! start carries on from; a store written by a newer release is refused, not misread.

use super::{Result, Store, StoreError};
use serde_json::Value;

/// One change of the stored layout.
pub struct Step {
    /// The layout version the store has after it.
    pub to: i64,
    /// What changed, in words (logged when it runs).
    pub what: &'static str,
    /// The SurrealQL that brings older records to it.
    pub sql: &'static str,
}

/// Every step, oldest first.
pub const STEPS: &[Step] = &[
    Step { to: 2, what: "messages carry their page (those from before pages are on their ticket's first)", sql: "UPDATE message SET page = 0 WHERE page = NONE;" },
    Step { to: 3, what: "saved replies list the files sent with them (none before files)", sql: "UPDATE saved_reply SET files = [] WHERE files = NONE;" },
];

/// The layout this release writes.
pub const LAYOUT: i64 = STEPS[STEPS.len() - 1].to;

/// The steps a store at layout `stored` needs, or why it cannot be opened.
pub fn pending(stored: i64) -> std::result::Result<&'static [Step], String> {
    if stored > LAYOUT {
        return Err(format!("it was written by a newer release (store layout {stored}; this one knows up to {LAYOUT}): run that release or a later one"));
    }
    Ok(&STEPS[STEPS.iter().position(|s| s.to > stored).unwrap_or(STEPS.len())..])
}

impl Store {
    /// The layout version the store is at: 0 before versions were kept.
    pub async fn layout(&self) -> Result<i64> {
        let mut r = self.db.query("SELECT VALUE version FROM type::record('meta', 'schema')").await.and_then(super::checked)?;
        let version: Vec<Value> = r.take(0)?;
        Ok(version.first().and_then(Value::as_i64).unwrap_or(0))
    }

    /// Nothing in it yet that a step could change.
    async fn is_new(&self) -> Result<bool> {
        let mut r = self.db.query("SELECT VALUE id FROM ticket LIMIT 1; SELECT VALUE id FROM message LIMIT 1; SELECT VALUE id FROM saved_reply LIMIT 1").await.and_then(super::checked)?;
        for n in 0..3 {
            let any: Vec<Value> = r.take(n)?;
            if !any.is_empty() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Run the steps this store has not had.
    pub(super) async fn migrate(&self, url: &str) -> Result<()> {
        let stored = self.layout().await?;
        let steps = pending(stored).map_err(|message| StoreError::Open { url: url.to_string(), message })?;
        if stored == 0 && !steps.is_empty() && self.is_new().await? {
            // A new store: nothing older to bring along, it starts at this layout.
            self.db.query("UPSERT type::record('meta', 'schema') SET version = $v").bind(("v", LAYOUT)).await.and_then(super::checked)?;
            return Ok(());
        }
        for step in steps {
            tracing::info!(from = stored, to = step.to, "migrating the store: {}", step.what);
            self.db
                .query(format!("BEGIN; {} UPSERT type::record('meta', 'schema') SET version = $v; COMMIT;", step.sql))
                .bind(("v", step.to))
                .await
                .and_then(super::checked)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_runs_only_the_steps_after_its_layout_and_a_newer_one_is_refused() {
        assert_eq!(pending(0).unwrap().iter().map(|s| s.to).collect::<Vec<_>>(), [2, 3]);
        assert_eq!(pending(2).unwrap().iter().map(|s| s.to).collect::<Vec<_>>(), [3]);
        assert!(pending(LAYOUT).unwrap().is_empty());
        let refused = pending(LAYOUT + 1).err().expect("refused");
        assert!(refused.contains("newer release"), "{refused}");
    }

    #[test]
    fn the_steps_go_up_one_by_one() {
        assert!(STEPS.windows(2).all(|w| w[1].to == w[0].to + 1));
    }

    #[tokio::test]
    async fn records_written_before_a_layout_are_brought_to_it_on_start_and_a_newer_store_is_not_opened() {
        let store = Store::open("mem://").await.unwrap();
        // As a release before pages and files left them: no layout version, no page, no files.
        store
            .raw()
            .query("DELETE meta; CREATE message:m1 SET ticket_id = 't1', text = 'old'; CREATE saved_reply:r1 SET title = 'Hi', text = 'Hello'")
            .await
            .unwrap()
            .check()
            .unwrap();
        assert_eq!(store.layout().await.unwrap(), 0);
        store.migrate("mem://").await.unwrap();
        assert_eq!(store.layout().await.unwrap(), LAYOUT);
        let mut r = store.raw().query("SELECT VALUE page FROM message:m1; SELECT VALUE files FROM saved_reply:r1").await.unwrap();
        let page: Vec<Value> = r.take(0).unwrap();
        let files: Vec<Value> = r.take(1).unwrap();
        assert_eq!((page, files), (vec![serde_json::json!(0)], vec![serde_json::json!([])]));
        store.raw().query("UPSERT meta:schema SET version = $v").bind(("v", LAYOUT + 1)).await.unwrap().check().unwrap();
        let refused = store.migrate("mem://").await.err().expect("a newer store is refused").to_string();
        assert!(refused.contains("newer release"), "{refused}");
    }
}
