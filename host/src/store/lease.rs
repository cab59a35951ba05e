//! Leases on a shared store: each polled channel is polled by one host at a time. A lease is
//! held until a moment on the store's own clock (hosts' clocks may disagree) and renewed while
//! its host polls; each new holder gets a higher epoch, which the holder's writes carry
//! (`WriteBatch::fences`), so a host that paused past its lease cannot write a stale cursor.
//! Presence is shared the same way: each host's open tickets, lapsing unless renewed.

use super::{Result, Store};
use std::time::Duration;

/// This process among the hosts sharing a store: the holder named in its leases.
pub fn host_id() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        let name = std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).unwrap_or_else(|_| "host".into());
        format!("{name}-{}-{:08x}", std::process::id(), fastrand::u32(..))
    })
}

impl Store {
    /// Take or renew the lease on `channel` for `holder` for `period`: its epoch, or `None`
    /// while another host holds it. A renewal keeps the epoch; a takeover raises it.
    pub async fn take_lease(&self, channel: &str, holder: &str, period: Duration) -> Result<Option<i64>> {
        let q = "BEGIN TRANSACTION;
            LET $l = (SELECT * FROM ONLY type::record('lease', $c));
            LET $mine = $l != NONE AND $l.holder == $h AND $l.until > time::now();
            LET $free = $l == NONE OR $l.until <= time::now();
            IF $mine OR $free {
                UPSERT type::record('lease', $c) SET holder = $h, until = time::now() + type::duration($p),
                    epoch = IF $mine { $l.epoch } ELSE { ($l.epoch ?? 0) + 1 } RETURN NONE;
            };
            RETURN IF $mine OR $free { (SELECT VALUE epoch FROM ONLY type::record('lease', $c)) } ELSE { NONE };
            COMMIT TRANSACTION;";
        // A conflict is another transaction on the same lease at the same moment (another host
        // taking it, this host's own renewal, a page's write checking its epoch): ask again.
        let mut r = super::again_on_conflict(|| async {
            self.db
                .query(q)
                .bind(("c", channel.to_string()))
                .bind(("h", holder.to_string()))
                .bind(("p", format!("{}ms", period.as_millis())))
                .await
                .and_then(super::checked)
        })
        .await?;
        // The `RETURN`, before the `COMMIT` (which has an answer of its own).
        Ok(r.take::<Option<i64>>(r.num_statements() - 2)?)
    }

    /// Whether this host is the one to run `task` (a mailbox read, the digests) for now: on an
    /// unshared store always; on a shared one while it holds the task's lease.
    pub async fn runs_here(&self, task: &str, holder: &str, period: Duration) -> bool {
        if !self.shared {
            return true;
        }
        match self.take_lease(&format!("task:{task}"), holder, period).await {
            Ok(held) => held.is_some(),
            Err(e) => {
                tracing::debug!(error = %e, "cannot take the lease of {task}");
                false
            }
        }
    }

    /// Give up the lease (a host stopping), so that another takes over at once.
    pub async fn release_lease(&self, channel: &str, holder: &str) -> Result<()> {
        self.db
            .query("UPDATE type::record('lease', $c) SET until = time::now() WHERE holder = $h RETURN NONE")
            .bind(("c", channel.to_string()))
            .bind(("h", holder.to_string()))
            .await?
            .check()?;
        Ok(())
    }

    /// Publish this host's agents' open tickets (`api::presence`) until `lasting` from now.
    pub async fn put_presence(&self, host: &str, seats: serde_json::Value, lasting: Duration) -> Result<()> {
        self.db
            .query("UPSERT type::record('presence', $h) SET seats = $s, until = time::now() + type::duration($p) RETURN NONE")
            .bind(("h", host.to_string()))
            .bind(("s", seats))
            .bind(("p", format!("{}ms", lasting.as_millis())))
            .await?
            .check()?;
        Ok(())
    }

    /// The seats the other hosts published and that have not lapsed.
    pub async fn presence_elsewhere(&self, host: &str) -> Result<Vec<serde_json::Value>> {
        let mut r = self
            .db
            .query("SELECT VALUE seats FROM presence WHERE until > time::now() AND id != type::record('presence', $h)")
            .bind(("h", host.to_string()))
            .await?
            .check()?;
        Ok(r.take::<Vec<serde_json::Value>>(0)?)
    }

    /// Move a counter other hosts watch (`meta:<name>`): something they hold in memory changed.
    pub async fn bump(&self, name: &str) -> Result<()> {
        super::again_on_conflict(|| async { self.db.query("UPSERT type::record('meta', $n) SET n += 1 RETURN NONE").bind(("n", name.to_string())).await.and_then(super::checked) }).await?;
        Ok(())
    }

    /// A counter's value (0 before its first move).
    pub async fn counter(&self, name: &str) -> Result<i64> {
        let mut r = self.db.query("SELECT VALUE n FROM ONLY type::record('meta', $n)").bind(("n", name.to_string())).await?.check()?;
        Ok(r.take::<Option<i64>>(0)?.unwrap_or(0))
    }

    /// Who holds the lease on `channel` now, and with which epoch (for status and tests).
    pub async fn lease_holder(&self, channel: &str) -> Result<Option<(String, i64)>> {
        let mut r = self
            .db
            .query("SELECT holder, epoch FROM type::record('lease', $c) WHERE until > time::now()")
            .bind(("c", channel.to_string()))
            .await?
            .check()?;
        let rows: Vec<serde_json::Value> = r.take(0)?;
        Ok(rows.first().and_then(|l| Some((l["holder"].as_str()?.to_string(), l["epoch"].as_i64()?))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{StoreError, WriteBatch};

    async fn shared() -> Store {
        Store::shared_in_memory().await
    }

    #[tokio::test]
    async fn one_host_holds_a_lease_until_it_lapses_and_the_next_holder_gets_a_higher_epoch() {
        let store = shared().await;
        let period = Duration::from_millis(300);
        let first = store.take_lease("tg", "a", period).await.unwrap().expect("a free lease is taken");
        assert_eq!(store.take_lease("tg", "b", period).await.unwrap(), None, "held by a");
        assert_eq!(store.take_lease("tg", "a", period).await.unwrap(), Some(first), "a renewal keeps the epoch");
        assert_eq!(store.lease_holder("tg").await.unwrap(), Some(("a".to_string(), first)));
        tokio::time::sleep(Duration::from_millis(400)).await;
        let second = store.take_lease("tg", "b", period).await.unwrap().expect("a lapsed lease is taken over");
        assert!(second > first);
        assert_eq!(store.take_lease("tg", "a", period).await.unwrap(), None, "a lost it");
        store.release_lease("tg", "b").await.unwrap();
        assert!(store.take_lease("tg", "a", period).await.unwrap().unwrap() > second, "a released lease is free at once");
    }

    #[tokio::test]
    async fn a_former_holder_cannot_write_its_cursor_once_another_host_took_the_lease_over() {
        let store = shared().await;
        let period = Duration::from_millis(200);
        let old = store.take_lease("tg", "a", period).await.unwrap().unwrap();
        let cursor = |c: &str| WriteBatch { cursors: vec![("tg".into(), c.into())], fences: vec![("tg".into(), old)], ..Default::default() };
        store.write(&cursor("10")).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let new = store.take_lease("tg", "b", period).await.unwrap().unwrap();
        let mut theirs = cursor("20");
        theirs.fences = vec![("tg".into(), new)];
        store.write(&theirs).await.unwrap();
        // `a` was paused mid-poll and comes back with a page fetched at cursor 10.
        match store.write(&cursor("15")).await {
            Err(StoreError::Fenced(why)) => assert!(why.contains("polled by another host"), "{why}"),
            other => panic!("a stale holder's write went through: {other:?}"),
        }
        assert_eq!(store.cursor("tg").await.unwrap().as_deref(), Some("20"), "the cursor did not move back");
    }

    #[tokio::test]
    async fn change_numbers_are_unique_across_hosts_and_commit_in_their_order() {
        let store = shared().await;
        let other = store.as_another_host();
        let (a, b) = (store.next_seq().await.unwrap(), other.next_seq().await.unwrap());
        assert_ne!(a, b);
        let (early, late) = (a.min(b), a.max(b));
        let write = |seq| WriteBatch { seq, cursors: vec![("c".into(), seq.to_string())], ..Default::default() };
        store.write(&write(late)).await.unwrap();
        // The one that took the earlier number lost the race: written after a later one, a
        // follower that already read past it would never see it.
        assert!(matches!(store.write(&write(early)).await, Err(StoreError::Conflict(_))));
        let retried = store.next_seq().await.unwrap();
        assert!(retried > late);
        store.write(&write(retried)).await.unwrap();
    }
}
