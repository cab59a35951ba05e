//! What the channel remembers in its kv: which conversation each Message-ID is in (so an answer
//! that names only its parent, or a bounce, finds its ticket), each sender's recent subjects
//! (the fallback when a client sends no threading headers), and the blocked senders. Ids are
//! kept in hashed buckets of bounded size, oldest forgotten first, within the host's kv quotas.

use helpdesk_plugin_sdk::prelude::*;
use std::collections::VecDeque;

const BUCKETS: u64 = 512;
/// Entries per bucket: 512 × 200 ids of ~60 bytes stay well inside the kv's 16 MiB.
const PER_BUCKET: usize = 200;

fn bucket(kind: &str, key: &str) -> String {
    // FNV-1a: stable across builds (std's hasher is seeded per run).
    let mut h: u64 = 0xcbf29ce484222325;
    for b in key.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x100000001b3);
    }
    format!("{kind}:{}", h % BUCKETS)
}

fn read(bucket: &str) -> Result<VecDeque<(String, String)>, ChannelError> {
    Ok(kv_get(bucket)?.and_then(|v| serde_json::from_slice(&v).ok()).unwrap_or_default())
}

fn put(kind: &str, key: &str, value: &str) -> Result<(), ChannelError> {
    let b = bucket(kind, key);
    let mut entries = read(&b)?;
    entries.retain(|(k, _)| k != key);
    entries.push_back((key.to_string(), value.to_string()));
    while entries.len() > PER_BUCKET {
        entries.pop_front();
    }
    kv_set(&b, &serde_json::to_vec(&entries).unwrap_or_default())
}

fn get(kind: &str, key: &str) -> Result<Option<String>, ChannelError> {
    Ok(read(&bucket(kind, key))?.into_iter().find(|(k, _)| k == key).map(|(_, v)| v))
}

/// Message `id` is in conversation `thread`.
pub fn remember(id: &str, thread: &str) -> Result<(), ChannelError> {
    put("t", id, thread)
}

/// The conversation of the first of `ids` that is known.
pub fn thread_of<'a>(ids: impl Iterator<Item = &'a String>) -> Result<Option<String>, ChannelError> {
    for id in ids {
        if let Some(t) = get("t", id)? {
            return Ok(Some(t));
        }
    }
    Ok(None)
}

pub fn remember_subject(sender: &str, subject: &str, thread: &str) -> Result<(), ChannelError> {
    if subject.is_empty() {
        return Ok(());
    }
    put("s", &format!("{sender}\n{subject}"), thread)
}

pub fn thread_by_subject(sender: &str, subject: &str) -> Result<Option<String>, ChannelError> {
    if subject.is_empty() {
        return Ok(None);
    }
    get("s", &format!("{sender}\n{subject}"))
}

fn blocked_key(address: &str) -> String {
    format!("blocked:{}", address.to_ascii_lowercase().chars().take(200).collect::<String>())
}

pub fn blocked(address: &str) -> Result<bool, ChannelError> {
    Ok(kv_get(&blocked_key(address))?.is_some())
}

pub fn block(address: &str, on: bool) -> Result<(), ChannelError> {
    if on {
        kv_set(&blocked_key(address), b"1")
    } else {
        kv_delete(&blocked_key(address));
        Ok(())
    }
}
