//! Recently read or written tickets and contacts, and opened tickets' parts, kept in memory:
//! every list and every opened ticket reads them, agents re-read the same ones at each live
//! change, and SurrealDB spends about a tenth of a millisecond of CPU per statement to answer
//! again what it answered a moment ago.
//!
//! Never stale: every ticket and contact write goes through `Store::write`, which keeps the
//! records it wrote once it has committed (or forgets them if the write failed: it may have
//! committed anyway), and a read only keeps what it read if nothing was written while it was
//! reading (it may have read the record just before the write). Writes are one at a time (the
//! inbox's write lock), so the last kept is the last committed. Keeping what was written matters
//! as much as keeping what was read: the lists agents look at most are of the tickets that just
//! changed.
//! Several hosts on one store keep nothing (`Recent::off`): another host's write would leave
//! them stale.

use lru::LruCache;
use std::num::NonZeroUsize;
use std::sync::Mutex;

pub struct Recent<T> {
    inner: Mutex<Inner<T>>,
    on: bool,
}

struct Inner<T> {
    records: LruCache<String, T>,
    /// Bumped by every write: a read that saw another number may hold a record from before it.
    generation: u64,
}

impl<T: Clone> Recent<T> {
    pub fn new(capacity: usize) -> Self {
        let records = LruCache::new(NonZeroUsize::new(capacity.max(1)).expect("not zero"));
        Recent { inner: Mutex::new(Inner { records, generation: 0 }), on: true }
    }

    /// One that keeps nothing: every read goes to the store.
    pub fn off() -> Self {
        Recent { on: false, ..Self::new(1) }
    }

    /// The records held, in the order of `ids` (`None` where not held), and the generation to
    /// hand back to `keep` with what is read for the others.
    pub fn get(&self, ids: &[String]) -> (Vec<Option<T>>, u64) {
        let mut inner = self.inner.lock().expect("not poisoned");
        if !self.on {
            return (vec![None; ids.len()], inner.generation);
        }
        let found = ids.iter().map(|id| inner.records.get(id).cloned()).collect();
        (found, inner.generation)
    }

    /// Keep records read from the store, unless something was forgotten since `generation`.
    pub fn keep(&self, generation: u64, read: impl IntoIterator<Item = (String, T)>) {
        let mut inner = self.inner.lock().expect("not poisoned");
        if self.on && inner.generation == generation {
            for (id, record) in read {
                inner.records.put(id, record);
            }
        }
    }

    /// Keep records just written (committed) as they now are in the store.
    pub fn written(&self, records: impl IntoIterator<Item = (String, T)>) {
        let mut inner = self.inner.lock().expect("not poisoned");
        inner.generation += 1;
        if !self.on {
            return;
        }
        for (id, record) in records {
            inner.records.put(id, record);
        }
    }

    /// Forget the records `stale` picks (written, or derived from what was written).
    pub fn forget_where(&self, stale: impl Fn(&str, &T) -> bool) {
        let mut inner = self.inner.lock().expect("not poisoned");
        inner.generation += 1;
        let gone: Vec<String> = inner.records.iter().filter(|(id, r)| stale(id, r)).map(|(id, _)| id.clone()).collect();
        for id in gone {
            inner.records.pop(&id);
        }
    }

    /// Forget records that were (or may have been) written.
    pub fn forget<'a>(&self, ids: impl IntoIterator<Item = &'a str>) {
        let mut inner = self.inner.lock().expect("not poisoned");
        inner.generation += 1;
        for id in ids {
            inner.records.pop(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_that_overlapped_a_write_is_not_kept() {
        let recent = Recent::new(10);
        let (_, generation) = recent.get(&["t".to_string()]);
        recent.forget(["t"]);
        recent.keep(generation, [("t".to_string(), "before the write")]);
        assert_eq!(recent.get(&["t".to_string()]).0, vec![None]);
    }

    #[test]
    fn a_read_after_the_write_is_kept_until_the_next_write() {
        let recent = Recent::new(10);
        let ids = ["t".to_string()];
        let (_, generation) = recent.get(&ids);
        recent.keep(generation, [("t".to_string(), "v1")]);
        assert_eq!(recent.get(&ids).0, vec![Some("v1")]);
        recent.forget(["t"]);
        assert_eq!(recent.get(&ids).0, vec![None]);
    }

    #[test]
    fn a_write_is_kept_and_a_read_that_overlapped_it_does_not_replace_it() {
        let recent = Recent::new(10);
        let ids = ["t".to_string()];
        let (_, generation) = recent.get(&ids);
        recent.written([("t".to_string(), "v2")]);
        recent.keep(generation, [("t".to_string(), "v1 read before the write")]);
        assert_eq!(recent.get(&ids).0, vec![Some("v2")]);
    }

    #[test]
    fn one_that_is_off_keeps_neither_reads_nor_writes() {
        let recent = Recent::off();
        let ids = ["t".to_string()];
        recent.keep(0, [("t".to_string(), "read")]);
        recent.written([("t".to_string(), "written")]);
        assert_eq!(recent.get(&ids).0, vec![None]);
    }

    #[test]
    fn the_least_recently_read_go_first_when_full() {
        let recent = Recent::new(2);
        recent.keep(0, [("a".to_string(), 1), ("b".to_string(), 2)]);
        recent.get(&["a".to_string()]);
        recent.keep(0, [("c".to_string(), 3)]);
        let ids: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        assert_eq!(recent.get(&ids).0, vec![Some(1), None, Some(3)]);
    }
}
