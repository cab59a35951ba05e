//! What a plugin returns is untrusted: a page is refused whole, with the reason, when it
//! breaks these limits, so one bad plugin cannot store garbage or flood the inbox.

use crate::model::{ChannelEvent, Interaction};

/// Events in one fetch or webhook.
pub const MAX_EVENTS: usize = 5_000;
/// Characters of text in one interaction.
pub const MAX_TEXT: usize = 100_000;
/// Bytes of an id, thread key or cursor.
const MAX_ID: usize = 1_024;
const MAX_CURSOR: usize = 4_096;
const MAX_ATTACHMENTS: usize = 100;
const MAX_META: usize = 32;

pub fn events(events: &[ChannelEvent]) -> Result<(), String> {
    if events.len() > MAX_EVENTS {
        return Err(format!("{} events in one call (at most {MAX_EVENTS})", events.len()));
    }
    for e in events {
        match e {
            ChannelEvent::Interaction(i) => interaction(i)?,
            ChannelEvent::ContactBlockedUs { author, .. } => id("author id", &author.id)?,
            ChannelEvent::Removed { platform_id } | ChannelEvent::Delivery { platform_id, .. } => id("platform id", platform_id)?,
            ChannelEvent::Reaction { platform_id, author, emoji, .. } => {
                id("platform id", platform_id)?;
                id("author id", &author.id)?;
                if emoji.chars().count() > 32 {
                    return Err("a reaction longer than 32 characters".into());
                }
            }
        }
    }
    Ok(())
}

pub fn interaction(i: &Interaction) -> Result<(), String> {
    id("platform id", &i.platform_id)?;
    id("thread key", &i.thread_key)?;
    id("author id", &i.author.id)?;
    if i.text.chars().count() > MAX_TEXT {
        return Err(format!("an interaction of {} characters (at most {MAX_TEXT})", i.text.chars().count()));
    }
    if i.attachments.len() > MAX_ATTACHMENTS || i.meta.len() > MAX_META {
        return Err("an interaction with too many attachments or meta entries".into());
    }
    Ok(())
}

pub fn cursor(c: Option<&str>) -> Result<(), String> {
    match c {
        Some(c) if c.len() > MAX_CURSOR => Err(format!("a cursor of {} bytes (at most {MAX_CURSOR})", c.len())),
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
