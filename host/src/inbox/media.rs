//! Attachments agents opened, kept on disk: a thread shown again does not ask the platform
//! again (its links expire, and some count downloads against a rate limit). The oldest files
//! go first once the cache is over its size.

use super::{ActionChannel, Inbox, InboxError};
use crate::model::{AttachmentKind, Message};
use crate::plugins::{ActionTarget, Media};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// What the cache holds by default.
pub const DEFAULT_MEDIA_CACHE_BYTES: u64 = 2 << 30;

pub struct MediaCache {
    dir: PathBuf,
    max_bytes: u64,
    /// Bytes in the directory, as last counted.
    used: AtomicU64,
}

/// A file is stored as `<key>` (its bytes) and `<key>.type` (its content type, maybe empty).
impl MediaCache {
    pub fn open(dir: PathBuf, max_bytes: u64) -> std::io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        let used = Self::files(&dir).iter().map(|(_, len, _)| len).sum();
        Ok(MediaCache { dir, max_bytes, used: AtomicU64::new(used) })
    }

    /// The cache key of attachment `n` of `m`: its id, and what the attachment points at (an
    /// edit that changes the file changes the key).
    pub fn key(m: &Message, n: usize) -> String {
        let a = &m.interaction.attachments[n];
        let mut h = Sha256::new();
        for part in [m.id.as_str(), &n.to_string(), a.platform_id.as_deref().unwrap_or(""), a.url.as_deref().unwrap_or("")] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        hex::encode(h.finalize())
    }

    /// The file under `key`, or what `fetch` gets, kept for next time.
    pub async fn get_or_fetch<E>(&self, key: &str, fetch: impl std::future::Future<Output = Result<Media, E>>) -> Result<Media, E> {
        if let Some(hit) = self.get(key).await {
            return Ok(hit);
        }
        let media = fetch.await?;
        self.put(key, &media).await;
        Ok(media)
    }

    async fn get(&self, key: &str) -> Option<Media> {
        let bytes = tokio::fs::read(self.dir.join(key)).await.ok()?;
        let content_type = tokio::fs::read_to_string(self.dir.join(format!("{key}.type"))).await.ok()?;
        Some(Media { content_type: Some(content_type).filter(|t| !t.is_empty()), bytes })
    }

    /// Keep `media` under `key`; a failure to write only costs a later download.
    async fn put(&self, key: &str, media: &Media) {
        let tmp = self.dir.join(format!("{key}.tmp{}", std::process::id()));
        let write = async {
            tokio::fs::write(self.dir.join(format!("{key}.type")), media.content_type.as_deref().unwrap_or("")).await?;
            tokio::fs::write(&tmp, &media.bytes).await?;
            tokio::fs::rename(&tmp, self.dir.join(key)).await
        };
        if let Err(e) = write.await {
            tracing::warn!("cannot cache a downloaded attachment: {e}");
            let _ = tokio::fs::remove_file(&tmp).await;
            return;
        }
        let used = self.used.fetch_add(media.bytes.len() as u64, Ordering::Relaxed) + media.bytes.len() as u64;
        if used > self.max_bytes {
            let (dir, target) = (self.dir.clone(), self.max_bytes * 9 / 10);
            let left = tokio::task::spawn_blocking(move || Self::evict(&dir, target)).await.unwrap_or(used);
            self.used.store(left, Ordering::Relaxed);
        }
    }

    /// Remove the oldest files until at most `target` bytes are left; returns what is left.
    fn evict(dir: &std::path::Path, target: u64) -> u64 {
        let mut files = Self::files(dir);
        files.sort_by_key(|(_, _, modified)| *modified);
        let mut used: u64 = files.iter().map(|(_, len, _)| len).sum();
        for (path, len, _) in files {
            if used <= target {
                break;
            }
            if std::fs::remove_file(&path).is_ok() {
                let _ = std::fs::remove_file(path.with_extension("type"));
                used -= len;
            }
        }
        used
    }

    /// The cached files (not their `.type` companions): path, size, last written.
    fn files(dir: &std::path::Path) -> Vec<(PathBuf, u64, std::time::SystemTime)> {
        let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
        entries
            .flatten()
            .filter(|e| e.path().extension().is_none())
            .filter_map(|e| {
                let meta = e.metadata().ok()?;
                Some((e.path(), meta.len(), meta.modified().ok()?))
            })
            .collect()
    }
}

impl Inbox {
    /// Message `message_id` and its attachment `n`, if it is a file (a location is a link).
    pub async fn attachment(&self, message_id: &str, n: usize) -> Result<Message, InboxError> {
        let message = self
            .store
            .messages(&[message_id.to_string()])
            .await?
            .pop()
            .ok_or_else(|| InboxError::NotFound(format!("no message `{message_id}`")))?;
        let Some(a) = message.interaction.attachments.get(n) else {
            return Err(InboxError::NotFound(format!("message `{message_id}` has no attachment {n}")));
        };
        if a.kind == AttachmentKind::Location {
            return Err(InboxError::Unsupported("a location is a place on a map, not a file to download".into()));
        }
        Ok(message)
    }

    /// Attachment `n` of `message`, from the platform.
    pub async fn download(&self, ch: &ActionChannel, message: &Message, n: usize) -> Result<Media, InboxError> {
        let attachment = message.interaction.attachments[n].clone();
        ch.plugin.media(ch.ctx.clone(), ActionTarget::of(&message.interaction), attachment).await.map_err(InboxError::Platform)
    }
}
