//! Attachments downloaded for agents: the plugin says how (`media`), the host sends that request
//! under the rules of the plugin's own requests, follows a few redirects, and caps the size.

use super::bindings::latest::helpdesk::channel::http::HttpError;
use super::bindings::wit;
use super::{imports, ActionTarget, ChannelContext, ChannelFailure, Plugin, PluginError};
use crate::model::Attachment;
use std::sync::Arc;

/// The largest file the host downloads for an agent; bigger ones are opened on the platform.
pub const MAX_MEDIA_BYTES: usize = 32 << 20;
/// Platforms' file links often redirect to a CDN once or twice.
const MAX_REDIRECTS: usize = 3;
const DOWNLOAD_TIMEOUT_MS: u32 = 60_000;

/// A downloaded attachment.
pub struct Media {
    /// As the platform labelled it (the host decides what it is served as).
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

impl Plugin {
    /// Ask the plugin how to download `attachment` of `target`, and download it.
    pub async fn media(&self, ch: Arc<ChannelContext>, target: ActionTarget, attachment: Attachment) -> Result<Media, PluginError> {
        let target = target.into_wit();
        let attachment: wit::Attachment = attachment.into();
        let timeout = ch.limits.timeout;
        let request = self
            .call(ch.clone(), "media", timeout, move |b, s| Box::pin(async move { b.media(s, &target, &attachment).await }))
            .await?
            .map_err(ChannelFailure::from)?;
        download(&ch, request).await.map_err(PluginError::Channel)
    }
}

/// Send `request`, following redirects (each checked against the granted hosts; the
/// credentials stay with the host they were meant for).
async fn download(ch: &ChannelContext, mut request: wit::HttpRequest) -> Result<Media, ChannelFailure> {
    if crate::mail::is_mail_url(&request.url) {
        return super::mail::download_part(ch, &request.url, &request.headers, MAX_MEDIA_BYTES)
            .await
            .map(|(content_type, bytes)| Media { content_type, bytes });
    }
    for _ in 0..=MAX_REDIRECTS {
        let from = reqwest::Url::parse(&request.url).ok();
        let answer = imports::send(ch, request.clone(), Some(DOWNLOAD_TIMEOUT_MS), MAX_MEDIA_BYTES).await.map_err(|e| failure(ch, e))?;
        let header = |name: &str| answer.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
        match answer.status {
            200..=299 => return Ok(Media { content_type: header("content-type"), bytes: answer.body }),
            301 | 302 | 303 | 307 | 308 => {
                let next = header("location")
                    .and_then(|l| from.as_ref().and_then(|f| f.join(&l).ok()))
                    .ok_or_else(|| ChannelFailure::Permanent("the platform redirected the download nowhere".into()))?;
                if from.as_ref().map(|f| (f.host_str(), f.port_or_known_default())) != Some((next.host_str(), next.port_or_known_default())) {
                    request.headers.retain(|(k, _)| !k.eq_ignore_ascii_case("authorization") && !k.eq_ignore_ascii_case("cookie"));
                }
                request = wit::HttpRequest { method: "GET".into(), url: next.to_string(), headers: request.headers, body: Vec::new() };
            }
            404 | 410 => return Err(ChannelFailure::Permanent("the platform no longer has this file".into())),
            401 | 403 => {
                return Err(ChannelFailure::Permanent(format!("the platform refused the download (HTTP {}): the link may have expired", answer.status)))
            }
            s if s >= 500 || s == 429 => return Err(ChannelFailure::Transient(format!("the platform answered HTTP {s}; try again shortly"))),
            s => return Err(ChannelFailure::Permanent(format!("the platform answered HTTP {s} to the download"))),
        }
    }
    Err(ChannelFailure::Permanent(format!("the download was redirected more than {MAX_REDIRECTS} times")))
}

fn failure(ch: &ChannelContext, e: HttpError) -> ChannelFailure {
    match e {
        HttpError::TooLarge => ChannelFailure::Permanent(format!("the file is larger than {} MiB; open it on the platform", MAX_MEDIA_BYTES >> 20)),
        HttpError::Timeout => ChannelFailure::Transient("the platform took too long to send the file".into()),
        HttpError::Connection(m) => ChannelFailure::Transient(ch.redact(&format!("the file could not be fetched: {m}"))),
        HttpError::NotAllowed(origin) => ChannelFailure::InvalidConfig(format!("the file is on {origin}, which this channel was not granted (allowed_hosts)")),
        HttpError::InvalidRequest(m) | HttpError::LimitExceeded(m) => ChannelFailure::Permanent(ch.redact(&format!("the plugin's download request is unusable: {m}"))),
    }
}
