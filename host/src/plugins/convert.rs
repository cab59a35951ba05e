//! Conversions between the WIT types and the host's model.

use super::bindings::wit;
use super::error::ChannelFailure;
use crate::model::{self, Kind};

impl From<wit::InteractionKind> for Kind {
    fn from(k: wit::InteractionKind) -> Self {
        use wit::InteractionKind as W;
        match k {
            W::PrivateMessage => Kind::PrivateMessage,
            W::GroupMessage => Kind::GroupMessage,
            W::Comment => Kind::Comment,
            W::Reply => Kind::Reply,
            W::AdComment => Kind::AdComment,
            W::Post => Kind::Post,
            W::Mention => Kind::Mention,
            W::Review => Kind::Review,
        }
    }
}

impl From<Kind> for wit::InteractionKind {
    fn from(k: Kind) -> Self {
        use wit::InteractionKind as W;
        match k {
            Kind::PrivateMessage => W::PrivateMessage,
            Kind::GroupMessage => W::GroupMessage,
            Kind::Comment => W::Comment,
            Kind::Reply => W::Reply,
            Kind::AdComment => W::AdComment,
            Kind::Post => W::Post,
            Kind::Mention => W::Mention,
            Kind::Review => W::Review,
        }
    }
}

impl From<wit::Author> for model::Author {
    fn from(a: wit::Author) -> Self {
        model::Author { id: a.id, name: a.name, handle: a.handle, avatar_url: a.avatar_url, profile_url: a.profile_url }
    }
}

fn attachment_kind(k: wit::AttachmentKind) -> &'static str {
    use wit::AttachmentKind as W;
    match k {
        W::Image => "image",
        W::Video => "video",
        W::Audio => "audio",
        W::File => "file",
        W::Sticker => "sticker",
        W::Location => "location",
        W::Other => "other",
    }
}

impl From<wit::Interaction> for model::Interaction {
    fn from(i: wit::Interaction) -> Self {
        model::Interaction {
            platform_id: i.platform_id,
            kind: i.kind.into(),
            direction: match i.direction {
                wit::Direction::Inbound => model::Direction::Inbound,
                wit::Direction::Outbound => model::Direction::Outbound,
            },
            thread_key: i.thread_key,
            parent_id: i.parent_id,
            author: i.author.into(),
            text: i.text,
            attachments: i
                .attachments
                .into_iter()
                .map(|a| model::Attachment {
                    kind: attachment_kind(a.kind).to_string(),
                    platform_id: a.platform_id,
                    url: a.url,
                    mime_type: a.mime_type,
                    name: a.name,
                    size: a.size,
                })
                .collect(),
            // 0: the platform did not say when (the plugin has no clock): now.
            created_at: if i.created_at == 0 { model::now_ms() } else { i.created_at },
            edited_at: i.edited_at,
            permalink: i.permalink,
            from_ad: i.from_ad,
            meta: i.meta,
        }
    }
}

impl From<wit::Event> for model::ChannelEvent {
    fn from(e: wit::Event) -> Self {
        match e {
            wit::Event::Interaction(i) => model::ChannelEvent::Interaction(i.into()),
            wit::Event::Contact(c) => model::ChannelEvent::ContactBlockedUs {
                author: c.author.into(),
                blocked: matches!(c.status, wit::ContactStatus::BlockedUs),
                at: c.at,
            },
            wit::Event::Removed(platform_id) => model::ChannelEvent::Removed { platform_id },
            wit::Event::Reaction(r) => model::ChannelEvent::Reaction { platform_id: r.platform_id, author: r.author.into(), emoji: r.emoji, at: r.at },
            wit::Event::Delivery(d) => model::ChannelEvent::Delivery {
                platform_id: d.platform_id,
                delivery: model::Delivery {
                    state: match d.state {
                        wit::DeliveryState::Sent => "sent",
                        wit::DeliveryState::Delivered => "delivered",
                        wit::DeliveryState::Read => "read",
                        wit::DeliveryState::Failed => "failed",
                    }
                    .to_string(),
                    at: d.at,
                    error: d.error,
                },
            },
        }
    }
}

impl From<wit::ChannelError> for ChannelFailure {
    fn from(e: wit::ChannelError) -> Self {
        use wit::ChannelError as W;
        match e {
            W::Unauthorized(m) => ChannelFailure::Unauthorized(m),
            W::RateLimited(r) => ChannelFailure::RateLimited { retry_after_ms: r.retry_after_ms, message: r.message },
            W::InvalidConfig(m) => ChannelFailure::InvalidConfig(m),
            W::Transient(m) => ChannelFailure::Transient(m),
            W::Permanent(m) => ChannelFailure::Permanent(m),
            W::Unsupported(m) => ChannelFailure::Unsupported(m),
        }
    }
}

/// The action names of the HTTP API (`"reply"`, `"private_reply"`, ...).
pub fn action_kind_name(k: wit::ActionKind) -> &'static str {
    use wit::ActionKind as W;
    match k {
        W::Reply => "reply",
        W::PrivateReply => "private_reply",
        W::Like => "like",
        W::Unlike => "unlike",
        W::React => "react",
        W::Hide => "hide",
        W::Unhide => "unhide",
        W::Delete => "delete",
        W::Block => "block",
        W::Unblock => "unblock",
        W::MarkRead => "mark_read",
        W::Follow => "follow",
        W::Repost => "repost",
    }
}
