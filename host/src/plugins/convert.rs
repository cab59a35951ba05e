//! Conversions between the WIT types and the host's model.

use super::bindings::wit;
use super::error::ChannelFailure;
use crate::model::{self, ActionKind, Kind};

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

impl From<wit::AttachmentKind> for model::AttachmentKind {
    fn from(k: wit::AttachmentKind) -> Self {
        use model::AttachmentKind as M;
        use wit::AttachmentKind as W;
        match k {
            W::Image => M::Image,
            W::Video => M::Video,
            W::Audio => M::Audio,
            W::File => M::File,
            W::Sticker => M::Sticker,
            W::Location => M::Location,
            W::Other => M::Other,
        }
    }
}

impl From<model::AttachmentKind> for wit::AttachmentKind {
    fn from(k: model::AttachmentKind) -> Self {
        use model::AttachmentKind as M;
        use wit::AttachmentKind as W;
        match k {
            M::Image => W::Image,
            M::Video => W::Video,
            M::Audio => W::Audio,
            M::File => W::File,
            M::Sticker => W::Sticker,
            M::Location => W::Location,
            M::Other => W::Other,
        }
    }
}

impl From<model::Attachment> for wit::Attachment {
    fn from(a: model::Attachment) -> Self {
        wit::Attachment { kind: a.kind.into(), platform_id: a.platform_id, url: a.url, mime_type: a.mime_type, name: a.name, size: a.size }
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
                    kind: a.kind.into(),
                    platform_id: a.platform_id,
                    url: a.url,
                    mime_type: a.mime_type,
                    name: a.name,
                    size: a.size,
                })
                .collect(),
            // The platform did not say when (the plugin has no clock): now.
            created_at: i.created_at.unwrap_or_else(model::now_ms),
            edited_at: i.edited_at,
            permalink: i.permalink,
            from_ad: i.from_ad,
            // Meta keys of the contract's own (the `mail` interface's words): typed here.
            automated: i.meta.iter().find(|(k, _)| k == "automated").and_then(|(_, v)| match v.as_str() {
                "auto-reply" => Some(model::Automated::AutoReply),
                "bounce" => Some(model::Automated::Bounce),
                _ => None,
            }),
            folded: i.meta.iter().find(|(k, _)| k == "folded").map(|(_, v)| v.chars().take(20_000).collect()),
            meta: i.meta.into_iter().filter(|(k, _)| k != "automated" && k != "folded").collect(),
            chain_key: i.chain_key,
            title: i.title,
            // Stars are 1 to 5; anything else is no rating.
            rating: i.rating.filter(|r| (1..=5).contains(r)),
            visibility: i.visibility.map(|v| match v {
                wit::Visibility::Public => model::Visibility::Public,
                wit::Visibility::Hidden => model::Visibility::Hidden,
                wit::Visibility::HeldForReview => model::Visibility::HeldForReview,
                wit::Visibility::LikelySpam => model::Visibility::LikelySpam,
            }),
            found_by: i.found_by,
        }
    }
}

impl From<wit::Event> for model::ChannelEvent {
    fn from(e: wit::Event) -> Self {
        match e {
            wit::Event::Interaction(i) => model::ChannelEvent::Interaction(i.into()),
            wit::Event::Contact(c) => model::ChannelEvent::Contact {
                author: c.author.into(),
                status: match c.status {
                    wit::ContactStatus::BlockedUs => model::ContactStatus::BlockedUs,
                    wit::ContactStatus::UnblockedUs => model::ContactStatus::UnblockedUs,
                    wit::ContactStatus::OptedOut => model::ContactStatus::OptedOut,
                    wit::ContactStatus::OptedIn => model::ContactStatus::OptedIn,
                },
                at: c.at,
            },
            wit::Event::Removed(platform_id) => model::ChannelEvent::Removed { platform_id },
            wit::Event::Reaction(r) => model::ChannelEvent::Reaction { platform_id: r.platform_id, author: r.author.into(), emoji: r.emoji, at: r.at },
            wit::Event::Delivery(d) => model::ChannelEvent::Delivery {
                platform_id: d.platform_id,
                delivery: model::Delivery {
                    state: match d.state {
                        wit::DeliveryState::Sent => model::DeliveryState::Sent,
                        wit::DeliveryState::Delivered => model::DeliveryState::Delivered,
                        wit::DeliveryState::Read => model::DeliveryState::Read,
                        wit::DeliveryState::Failed => model::DeliveryState::Failed,
                    },
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

/// One table for both directions: a case added to the contract is added here once.
macro_rules! action_kinds {
    ($($case:ident),* $(,)?) => {
        impl From<wit::ActionKind> for ActionKind {
            fn from(k: wit::ActionKind) -> Self {
                match k { $(wit::ActionKind::$case => ActionKind::$case,)* }
            }
        }
        impl From<ActionKind> for wit::ActionKind {
            fn from(k: ActionKind) -> Self {
                match k { $(ActionKind::$case => wit::ActionKind::$case,)* }
            }
        }
    };
}

action_kinds!(Reply, PrivateReply, Like, Unlike, React, Hide, Unhide, Delete, Block, Unblock, MarkRead, Follow, Repost, Unrepost, Mute, Unmute, Pin, Unpin, Publish, Reject, Unfollow, Quote);

impl From<model::Direction> for wit::Direction {
    fn from(d: model::Direction) -> Self {
        match d {
            model::Direction::Inbound => wit::Direction::Inbound,
            model::Direction::Outbound => wit::Direction::Outbound,
        }
    }
}
