//! `/api/v1/messages/{id}/attachments/{n}`: a message's file, fetched through the host with the
//! channel's credentials. A customer's file never runs in our origin: only pictures, videos and
//! sounds recognised by their bytes are shown inline; everything else is a download, sandboxed.

use super::auth::CurrentUser;
use super::error::{ApiError, ErrorBody};
use super::AppState;
use crate::inbox::MediaCache;
use crate::plugins::Media;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// What a browser may show itself. SVG is not here: it can carry script.
const INLINE_TYPES: [&str; 16] = [
    "image/jpeg", "image/png", "image/gif", "image/webp", "image/avif", "image/bmp",
    "video/mp4", "video/webm", "video/quicktime", "video/x-matroska",
    "audio/mpeg", "audio/ogg", "audio/mp4", "audio/aac", "audio/x-wav", "audio/webm",
];

#[derive(Deserialize, utoipa::IntoParams)]
pub struct MediaQuery {
    /// Always as a download, even a picture.
    #[serde(default)]
    pub download: bool,
}

#[utoipa::path(operation_id = "messages_attachment", get, path = "/api/v1/messages/{id}/attachments/{n}", params(MediaQuery),
    responses(
        (status = 200, description = "The file: a picture, video or sound inline, anything else as a download"),
        (status = 404, body = ErrorBody),
        (status = 422, description = "Nothing to download (a location)", body = ErrorBody),
        (status = 502, description = "The platform did not give the file", body = ErrorBody)))]
pub async fn attachment(
    State(state): State<AppState>,
    _: CurrentUser,
    Path((id, n)): Path<(String, usize)>,
    Query(q): Query<MediaQuery>,
) -> Result<Response, ApiError> {
    let message = state.inbox.attachment(&id, n).await?;
    let media = state
        .media
        .get_or_fetch(&MediaCache::key(&message, n), async {
            let channel = state.channels.for_action(&message.channel)?;
            state.inbox.download(&channel, &message, n).await.map_err(|e| {
                let mut e = ApiError::from(e);
                e.message = channel.ctx.redact(&e.message);
                e
            })
        })
        .await?;
    let name = message.interaction.attachments[n].name.clone();
    Ok(serve(media, name.as_deref(), q.download))
}

pub(super) fn serve(media: Media, name: Option<&str>, download: bool) -> Response {
    let sniffed = infer::get(&media.bytes).map(|t| t.mime_type()).filter(|t| INLINE_TYPES.contains(t));
    let inline = sniffed.is_some() && !download;
    let content_type = sniffed.unwrap_or("application/octet-stream");
    let disposition = format!("{}; filename*=UTF-8''{}", if inline { "inline" } else { "attachment" }, encode(name.unwrap_or("file")));
    let mut response = media.bytes.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox; default-src 'none'; img-src 'self'; media-src 'self'"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=86400"));
    h.insert(axum::http::HeaderName::from_static("cross-origin-resource-policy"), HeaderValue::from_static("same-origin"));
    response
}

/// RFC 5987 encoding of a file name (anything but unreserved characters percent-encoded).
fn encode(name: &str) -> String {
    let name: String = name.chars().filter(|c| !c.is_control()).take(200).collect();
    name.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn served(bytes: &[u8], download: bool) -> (String, String) {
        let r = serve(Media { content_type: Some("image/png".into()), bytes: bytes.to_vec() }, Some("x y.png"), download);
        let h = |n| r.headers().get(n).unwrap().to_str().unwrap().to_string();
        (h(header::CONTENT_TYPE), h(header::CONTENT_DISPOSITION))
    }

    #[test]
    fn a_picture_recognised_by_its_bytes_is_shown_inline() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(served(png, false), ("image/png".into(), "inline; filename*=UTF-8''x%20y.png".into()));
        assert_eq!(served(png, true).1, "attachment; filename*=UTF-8''x%20y.png");
    }

    #[test]
    fn html_or_svg_labelled_as_a_picture_is_only_a_download() {
        for bytes in [&b"<html><script>alert(1)</script>"[..], b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"] {
            let (ty, disposition) = served(bytes, false);
            assert_eq!(ty, "application/octet-stream");
            assert!(disposition.starts_with("attachment;"));
        }
    }
}
