//! What a plugin returns is untrusted: an event that breaks these limits is dropped with the
//! reason (the rest of its page is kept, so one poison message cannot stall a channel's
//! cursor), and a page of too many events is refused whole, so one bad plugin cannot store
//! garbage or flood the inbox. Every string is bounded, and times are kept where the UI and
//! the host can show and sort them.

use super::bindings::wit;
use crate::model::{now_ms, Author, ChannelEvent, Interaction};

/// Events in one fetch or webhook.
pub const MAX_EVENTS: usize = 5_000;
/// Characters of text in one interaction.
pub const MAX_TEXT: usize = 100_000;
/// Bytes of an id, thread key or cursor.
const MAX_ID: usize = 1_024;
const MAX_CURSOR: usize = 4_096;
const MAX_ATTACHMENTS: usize = 100;
const MAX_META: usize = 32;
/// Bytes of a name, handle, MIME type or file name.
const MAX_NAME: usize = 512;
/// Bytes of a URL (avatars, profiles, permalinks, attachments).
const MAX_URL: usize = 4_096;
/// Bytes of one meta key or value, and of a delivery error.
const MAX_META_ENTRY: usize = 4_096;
/// Entries and bytes of each `describe` list.
const MAX_LIST: usize = 64;
/// The answer a plugin gives the platform for a webhook.
const MAX_WEBHOOK_RESPONSE: usize = 64 << 10;
const MAX_RESPONSE_HEADERS: usize = 32;

/// The earliest time kept as given (2000-01-01); earlier ones, like the 0 of "unknown", become
/// the arrival time. Later than a day ahead also becomes the arrival time: a `created_at` of
/// 9e15 would sort first forever and break every date shown.
const EARLIEST: i64 = 946_684_800_000;
const FUTURE_SLACK: i64 = 24 * 3_600_000;

/// The events within bounds, and why each of the others was dropped; an error when there
/// are too many to take at all.
pub fn events(events: Vec<ChannelEvent>) -> Result<(Vec<ChannelEvent>, Vec<String>), String> {
    if events.len() > MAX_EVENTS {
        return Err(format!("{} events in one call (at most {MAX_EVENTS})", events.len()));
    }
    let mut dropped = Vec::new();
    let kept = events
        .into_iter()
        .filter(|e| match event(e) {
            Ok(()) => true,
            Err(why) => {
                dropped.push(why);
                false
            }
        })
        .map(clamp_event_times)
        .collect();
    Ok((kept, dropped))
}

fn event(e: &ChannelEvent) -> Result<(), String> {
    match e {
        ChannelEvent::Interaction(i) => interaction(i),
        ChannelEvent::Contact { author: a, .. } => author(a),
        ChannelEvent::Removed { platform_id } => id("platform id", platform_id),
        ChannelEvent::Delivery { platform_id, delivery } => {
            id("platform id", platform_id)?;
            bounded("a delivery error", delivery.error.as_deref(), MAX_META_ENTRY)
        }
        ChannelEvent::Reaction { platform_id, author: a, emoji, .. } => {
            id("platform id", platform_id)?;
            author(a)?;
            if emoji.chars().count() > 32 {
                return Err("a reaction longer than 32 characters".into());
            }
            Ok(())
        }
    }
}

pub fn interaction(i: &Interaction) -> Result<(), String> {
    id("platform id", &i.platform_id)?;
    id("thread key", &i.thread_key)?;
    author(&i.author)?;
    if let Some(c) = &i.chain_key {
        id("chain key", c)?;
    }
    if let Some(p) = &i.parent_id {
        id("parent id", p)?;
    }
    if i.text.chars().count() > MAX_TEXT {
        return Err(format!("an interaction of {} characters (at most {MAX_TEXT})", i.text.chars().count()));
    }
    if i.attachments.len() > MAX_ATTACHMENTS || i.meta.len() > MAX_META {
        return Err("an interaction with too many attachments or meta entries".into());
    }
    bounded("a permalink", i.permalink.as_deref(), MAX_URL)?;
    bounded("a title", i.title.as_deref(), MAX_NAME)?;
    bounded("a listening term", i.found_by.as_deref(), MAX_NAME)?;
    for a in &i.attachments {
        bounded("an attachment id", a.platform_id.as_deref(), MAX_ID)?;
        bounded("an attachment URL", a.url.as_deref(), MAX_URL)?;
        bounded("an attachment MIME type", a.mime_type.as_deref(), MAX_NAME)?;
        bounded("an attachment name", a.name.as_deref(), MAX_NAME)?;
    }
    for (k, v) in &i.meta {
        bounded("a meta key", Some(k), MAX_META_ENTRY)?;
        bounded("a meta value", Some(v), MAX_META_ENTRY)?;
    }
    Ok(())
}

fn author(a: &Author) -> Result<(), String> {
    id("author id", &a.id)?;
    bounded("an author name", Some(&a.name), MAX_NAME)?;
    bounded("a handle", a.handle.as_deref(), MAX_NAME)?;
    bounded("an avatar URL", a.avatar_url.as_deref(), MAX_URL)?;
    bounded("a profile URL", a.profile_url.as_deref(), MAX_URL)
}

pub fn cursor(c: Option<&str>) -> Result<(), String> {
    match c {
        Some(c) if c.len() > MAX_CURSOR => Err(format!("a cursor of {} bytes (at most {MAX_CURSOR})", c.len())),
        _ => Ok(()),
    }
}

/// `describe`'s lists (capabilities, notes, settings, hosts) are shown to admins.
pub fn describe_lists(info: &wit::ChannelInfo) -> Result<(), String> {
    let lists = [info.settings.len(), info.allowed_hosts.len(), info.capabilities.len()];
    if lists.iter().any(|n| *n > MAX_LIST) {
        return Err(format!("describe() returned a list of more than {MAX_LIST} entries"));
    }
    let strings = info
        .settings
        .iter()
        .flat_map(|s| [&s.name, &s.label].into_iter().chain(&s.default))
        .chain(&info.allowed_hosts)
        .chain(info.capabilities.iter().flat_map(|c| c.notes.iter().chain(c.actions.iter().flat_map(|a| &a.notes))));
    for s in strings {
        bounded("a describe() entry", Some(s), MAX_NAME)?;
    }
    for s in &info.settings {
        bounded("a setting's help", Some(&s.help), MAX_META_ENTRY)?;
        if s.name.is_empty() {
            return Err("describe() returned a setting without a name".into());
        }
    }
    let crowded = |c: &wit::Capability| c.notes.len() > MAX_LIST || c.actions.len() > MAX_LIST || c.actions.iter().any(|a| a.notes.len() > MAX_LIST);
    if info.capabilities.iter().any(crowded) {
        return Err(format!("describe() returned a capability with more than {MAX_LIST} entries"));
    }
    if let Some(w) = &info.tagged_reply_window {
        bounded("a reply tag", Some(&w.tag), MAX_NAME)?;
    }
    Ok(())
}

/// The most files one reply carries, whatever a plugin declares.
pub const MAX_REPLY_FILES: u32 = 10;
/// The largest file a reply carries, whatever a plugin declares: the bytes pass through the
/// plugin's memory (64 MiB by default) and its upload request.
pub const MAX_FILE_BYTES: u64 = 10 << 20;

/// `file-capabilities`, in host types: only files an agent sends (images, videos, sounds and
/// documents), sizes and counts within the host's own limits.
pub fn file_capabilities(caps: Vec<super::bindings::files::FileCapability>) -> Result<Vec<super::FileCapability>, String> {
    use crate::model::AttachmentKind as K;
    if caps.len() > MAX_LIST {
        return Err(format!("file-capabilities() returned more than {MAX_LIST} entries"));
    }
    caps.into_iter()
        .map(|c| {
            if c.notes.len() > MAX_LIST || c.kinds.len() > MAX_LIST {
                return Err(format!("file-capabilities() returned an entry of more than {MAX_LIST} notes or kinds"));
            }
            for n in &c.notes {
                bounded("a file-capabilities() note", Some(n), MAX_NAME)?;
            }
            let mut kinds: Vec<K> = Vec::new();
            for k in c.kinds {
                let k = K::from(k);
                if !matches!(k, K::Image | K::Video | K::Audio | K::File) {
                    return Err(format!("file-capabilities() offers to send a {k:?}, which is not a file an agent sends"));
                }
                if !kinds.contains(&k) {
                    kinds.push(k);
                }
            }
            Ok(super::FileCapability {
                kind: c.kind.into(),
                kinds,
                max_bytes: c.max_bytes.min(MAX_FILE_BYTES),
                max_files: c.max_files.min(MAX_REPLY_FILES),
                notes: c.notes,
            })
        })
        .collect()
}

/// The webhook answer goes back to the platform from our own origin: small, few headers.
pub fn webhook_response(r: &wit::HttpResponse) -> Result<(), String> {
    if r.body.len() > MAX_WEBHOOK_RESPONSE {
        return Err(format!("a webhook answer of {} bytes (at most {MAX_WEBHOOK_RESPONSE})", r.body.len()));
    }
    if r.headers.len() > MAX_RESPONSE_HEADERS || r.headers.iter().any(|(k, v)| k.len() + v.len() > MAX_META_ENTRY) {
        return Err("a webhook answer with too many or too large headers".into());
    }
    Ok(())
}

/// A time kept within what the host can show: unknown or absurd ones become the arrival time.
pub fn sane_time(at: i64) -> i64 {
    let now = now_ms();
    if (EARLIEST..=now + FUTURE_SLACK).contains(&at) { at } else { now }
}

pub fn clamp_times(mut i: Interaction) -> Interaction {
    i.created_at = sane_time(i.created_at);
    i.edited_at = i.edited_at.map(sane_time);
    i
}

fn clamp_event_times(e: ChannelEvent) -> ChannelEvent {
    match e {
        ChannelEvent::Interaction(i) => ChannelEvent::Interaction(clamp_times(i)),
        ChannelEvent::Contact { author, status, at } => ChannelEvent::Contact { author, status, at: sane_time(at) },
        ChannelEvent::Delivery { platform_id, mut delivery } => {
            delivery.at = sane_time(delivery.at);
            ChannelEvent::Delivery { platform_id, delivery }
        }
        ChannelEvent::Reaction { platform_id, author, emoji, at } => ChannelEvent::Reaction { platform_id, author, emoji, at: sane_time(at) },
        other => other,
    }
}

fn bounded(what: &str, v: Option<&str>, max: usize) -> Result<(), String> {
    match v {
        Some(v) if v.len() > max => Err(format!("{what} of {} bytes (at most {max})", v.len())),
        _ => Ok(()),
    }
}

fn id(what: &str, v: &str) -> Result<(), String> {
    if v.is_empty() {
        return Err(format!("an empty {what}"));
    }
    if v.len() > MAX_ID {
        return Err(format!("a {what} of {} bytes (at most {MAX_ID})", v.len()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Attachment, Direction, Kind};

    fn sample() -> Interaction {
        Interaction {
            platform_id: "m1".into(),
            kind: Kind::PrivateMessage,
            direction: Direction::Inbound,
            thread_key: "c1".into(),
            parent_id: None,
            author: Author { id: "u1".into(), name: "Ann".into(), ..Default::default() },
            text: "hi".into(),
            attachments: Vec::new(),
            created_at: now_ms(),
            edited_at: None,
            permalink: None,
            from_ad: false,
            meta: Vec::new(),
            chain_key: None,
            title: None,
            rating: None,
            visibility: None,
            found_by: None,
            automated: None,
            folded: None,
        }
    }

    #[test]
    fn every_string_a_plugin_returns_is_bounded() {
        let long = "x".repeat(100_000);
        let cases: Vec<Box<dyn Fn(&mut Interaction)>> = vec![
            Box::new(|i| i.author.name = long.clone()),
            Box::new(|i| i.author.handle = Some(long.clone())),
            Box::new(|i| i.author.avatar_url = Some(long.clone())),
            Box::new(|i| i.author.profile_url = Some(long.clone())),
            Box::new(|i| i.permalink = Some(long.clone())),
            Box::new(|i| i.parent_id = Some(long.clone())),
            Box::new(|i| i.meta = vec![("k".into(), long.clone())]),
            Box::new(|i| {
                i.attachments = vec![Attachment { kind: crate::model::AttachmentKind::File, platform_id: None, url: Some(long.clone()), mime_type: None, name: None, size: None }]
            }),
            Box::new(|i| {
                i.attachments = vec![Attachment { kind: crate::model::AttachmentKind::File, platform_id: None, url: None, mime_type: None, name: Some(long.clone()), size: None }]
            }),
        ];
        for (n, case) in cases.iter().enumerate() {
            let mut i = sample();
            case(&mut i);
            assert!(interaction(&i).is_err(), "case {n} was accepted");
        }
        assert!(interaction(&sample()).is_ok());
        let delivery = ChannelEvent::Delivery {
            platform_id: "m1".into(),
            delivery: crate::model::Delivery { state: crate::model::DeliveryState::Failed, at: 0, error: Some(long.clone()) },
        };
        // The event out of bounds is left out with its reason; the good one beside it stays.
        let (kept, dropped) = events(vec![delivery, ChannelEvent::Interaction(sample())]).unwrap();
        assert_eq!((kept.len(), dropped.len()), (1, 1));
        assert!(dropped[0].contains("delivery error"), "{dropped:?}");
        assert!(events(vec![ChannelEvent::Interaction(sample()); MAX_EVENTS + 1]).is_err(), "too many to take at all");
    }

    #[test]
    fn absurd_times_become_the_arrival_time() {
        let now = now_ms();
        let i = clamp_times(Interaction { created_at: 9_000_000_000_000_000, edited_at: Some(-5), ..sample() });
        assert!((now..now + 60_000).contains(&i.created_at), "{}", i.created_at);
        assert!((now..now + 60_000).contains(&i.edited_at.unwrap()));
        let zero = clamp_times(Interaction { created_at: 0, ..sample() });
        assert!((now..now + 60_000).contains(&zero.created_at));
        let real = 1_700_000_000_000;
        assert_eq!(clamp_times(Interaction { created_at: real, ..sample() }).created_at, real);
    }
}
