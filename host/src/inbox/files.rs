//! Files agents send with replies (a saved reply's pictures and documents): uploaded once and
//! kept in the store in chunks, so that a backup and every host sharing the store have them,
//! and read back whole when a reply carries them. What a file is comes from its bytes, never
//! only from what the browser said.

use super::{Inbox, InboxError};
use crate::model::{now_ms, stable_id, AttachmentKind, Millis};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// The largest file: what the host lets one reply's file carry to a plugin.
pub const MAX_FILE_BYTES: u64 = crate::plugins::MAX_FILE_BYTES;
/// The most bytes of files in one reply (they pass through the plugin's memory together).
pub const MAX_REPLY_BYTES: u64 = 20 << 20;
/// Bytes per stored chunk: records stay small for the store.
const CHUNK: usize = 512 << 10;
/// An upload that no saved reply uses is kept this long (for the reply it was attached to).
const UNUSED_KEPT_MS: i64 = 7 * 24 * 3_600_000;
/// Uploads look for unused files to forget at most this often.
const SWEEP_EVERY_MS: i64 = 3_600_000;

/// A file as the helpdesk keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StoredFile {
    pub id: String,
    pub name: String,
    /// What its bytes are (a picture recognised by its bytes), else what the uploader said.
    pub mime_type: String,
    /// What the platforms are told it is: a picture, video or sound recognised by its bytes,
    /// anything else a file.
    pub kind: AttachmentKind,
    pub size: u64,
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_at: Millis,
    /// Chunks in the store.
    pub chunks: u32,
}

#[derive(Serialize, Deserialize)]
struct Chunk {
    file: String,
    n: u32,
    /// Base64 of the bytes.
    data: String,
}

/// A file's kind and type from its bytes; `declared` (the browser's word) only for documents.
pub fn recognise(bytes: &[u8], declared: Option<&str>) -> (AttachmentKind, String) {
    let sniffed = infer::get(bytes);
    let kind = match sniffed.map(|t| (t.matcher_type(), t.mime_type())) {
        Some((infer::MatcherType::Image, m)) if m != "image/svg+xml" => AttachmentKind::Image,
        Some((infer::MatcherType::Video, _)) => AttachmentKind::Video,
        Some((infer::MatcherType::Audio, _)) => AttachmentKind::Audio,
        _ => AttachmentKind::File,
    };
    if kind != AttachmentKind::File {
        return (kind, sniffed.map(|t| t.mime_type()).unwrap_or_default().to_string());
    }
    // A document: its type (as recognised, else as declared) is kept only if it does not
    // claim to be something a browser would show or run.
    let declared = sniffed.map(|t| t.mime_type().to_string()).or_else(|| declared.map(|d| d.split(';').next().unwrap_or_default().trim().to_ascii_lowercase()));
    let plain = declared.filter(|d| {
        let (top, sub) = d.split_once('/').unwrap_or_default();
        matches!(top, "application" | "text")
            && !sub.is_empty()
            && d.len() <= 100
            && d.chars().all(|c| c.is_ascii_alphanumeric() || "/.+-".contains(c))
            && !["text/html", "application/xhtml+xml", "image/svg+xml", "text/javascript", "application/javascript"].contains(&d.as_str())
    });
    (AttachmentKind::File, plain.unwrap_or_else(|| "application/octet-stream".into()))
}

/// A file name to show and send: its last path segment, without control characters, at
/// most 200 characters.
pub fn clean_name(name: &str) -> Result<String, String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = base.chars().filter(|c| !c.is_control()).collect::<String>().trim().chars().take(200).collect();
    if clean.is_empty() || clean == "." || clean == ".." {
        return Err("a file needs a name (`?name=label.pdf`)".into());
    }
    Ok(clean)
}

impl Inbox {
    /// Keep an uploaded file.
    pub async fn upload_file(&self, uploader: &str, name: &str, declared: Option<&str>, bytes: &[u8]) -> Result<StoredFile, InboxError> {
        let name = clean_name(name).map_err(InboxError::BadRequest)?;
        if bytes.is_empty() {
            return Err(InboxError::BadRequest("the file is empty".into()));
        }
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(InboxError::BadRequest(format!("a file is at most {} MB", MAX_FILE_BYTES >> 20)));
        }
        self.sweep_unused_files().await;
        let (kind, mime_type) = recognise(bytes, declared);
        let sha256 = hex::encode(Sha256::digest(bytes));
        let at = now_ms();
        let id = stable_id("file", &format!("{sha256}:{name}:{uploader}:{at}"));
        let parts: Vec<&[u8]> = bytes.chunks(CHUNK).collect();
        for (n, part) in parts.iter().enumerate() {
            let chunk = Chunk { file: id.clone(), n: n as u32, data: base64::engine::general_purpose::STANDARD.encode(part) };
            self.store.put("file_chunk", &format!("{id}-{n}"), &chunk).await?;
        }
        // Written last: a file is listed only once all its bytes are stored.
        let file = StoredFile {
            id: id.clone(),
            name,
            mime_type,
            kind,
            size: bytes.len() as u64,
            sha256,
            uploaded_by: uploader.to_string(),
            uploaded_at: at,
            chunks: parts.len() as u32,
        };
        self.store.put("file", &id, &file).await?;
        Ok(file)
    }

    pub async fn file(&self, id: &str) -> Result<StoredFile, InboxError> {
        self.store.get("file", id).await?.ok_or_else(|| InboxError::NotFound(format!("no file `{id}`")))
    }

    /// The files named, in their order, or which one does not exist.
    pub async fn files(&self, ids: &[String]) -> Result<Vec<StoredFile>, InboxError> {
        let mut out: Vec<StoredFile> = Vec::with_capacity(ids.len());
        for id in ids {
            if out.iter().any(|f| f.id == *id) {
                return Err(InboxError::BadRequest(format!("file `{id}` is attached twice")));
            }
            out.push(self.store.get("file", id).await?.ok_or_else(|| InboxError::BadRequest(format!("no file `{id}` (upload it first)")))?);
        }
        Ok(out)
    }

    /// A file's bytes, checked against the digest taken at upload.
    pub async fn file_bytes(&self, file: &StoredFile) -> Result<Vec<u8>, InboxError> {
        let mut bytes = Vec::with_capacity(file.size as usize);
        for n in 0..file.chunks {
            let chunk: Chunk = self
                .store
                .get("file_chunk", &format!("{}-{n}", file.id))
                .await?
                .ok_or_else(|| InboxError::NotFound(format!("file `{}` is incomplete in the store", file.id)))?;
            let part = base64::engine::general_purpose::STANDARD
                .decode(chunk.data)
                .map_err(|_| InboxError::NotFound(format!("file `{}` is damaged in the store", file.id)))?;
            bytes.extend_from_slice(&part);
        }
        if hex::encode(Sha256::digest(&bytes)) != file.sha256 {
            return Err(InboxError::NotFound(format!("file `{}` is damaged in the store", file.id)));
        }
        Ok(bytes)
    }

    /// Forget uploads older than a week that no saved reply uses (those attached to one reply
    /// only have been sent, or given up on, by then); looked for at most hourly.
    async fn sweep_unused_files(&self) {
        static LAST: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);
        let now = now_ms();
        if now - LAST.load(std::sync::atomic::Ordering::Relaxed) < SWEEP_EVERY_MS {
            return;
        }
        LAST.store(now, std::sync::atomic::Ordering::Relaxed);
        let sweep = async {
            let mut r = self
                .store
                .raw()
                .query("SELECT *, record::id(id) AS id FROM file WHERE uploaded_at < $before")
                .bind(("before", now - UNUSED_KEPT_MS))
                .await
                .map_err(crate::store::StoreError::from)?;
            let old: Vec<serde_json::Value> = r.take(0).map_err(crate::store::StoreError::from)?;
            let old: Vec<StoredFile> = old.into_iter().filter_map(|v| serde_json::from_value(v).ok()).collect();
            if old.is_empty() {
                return Ok::<_, InboxError>(());
            }
            let replies: Vec<super::saved_replies::SavedReply> = self.store.all("saved_reply", "title").await?;
            for f in old.iter().filter(|f| !replies.iter().any(|r| r.files.iter().any(|rf| rf.id == f.id))) {
                self.store.delete("file", &f.id).await?;
                for n in 0..f.chunks {
                    self.store.delete("file_chunk", &format!("{}-{n}", f.id)).await?;
                }
            }
            Ok(())
        };
        if let Err(e) = sweep.await {
            tracing::warn!("cannot sweep unused uploaded files: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_picture_is_known_by_its_bytes_not_by_what_the_browser_said() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(recognise(png, Some("application/pdf")), (AttachmentKind::Image, "image/png".into()));
        let pdf = b"%PDF-1.7\n";
        assert_eq!(recognise(pdf, None), (AttachmentKind::File, "application/pdf".into()));
    }

    #[test]
    fn html_or_svg_uploaded_as_anything_is_a_plain_file() {
        assert_eq!(recognise(b"<html><script>alert(1)</script>", Some("text/html")).1, "application/octet-stream");
        assert_eq!(recognise(b"<svg onload='alert(1)'/>", Some("image/png")), (AttachmentKind::File, "application/octet-stream".into()));
        assert_eq!(recognise(b"a,b\n1,2\n", Some("text/csv; charset=utf-8")).1, "text/csv");
    }

    #[test]
    fn a_file_name_is_its_last_segment_without_control_characters() {
        assert_eq!(clean_name("../../etc/passwd").unwrap(), "passwd");
        assert_eq!(clean_name("C:\\Users\\ana\\label\u{7}.pdf").unwrap(), "label.pdf");
        assert!(clean_name(" / ").is_err());
    }
}
