//! `helpdesk:channel@0.1.0` (`wit/since_v0.1.0`, frozen): its imports answer through the
//! newest ones, and its types convert into the newest at the boundary.

wasmtime::component::bindgen!({
    path: "../wit/since_v0.1.0",
    world: "channel",
    imports: { default: async | trappable },
    exports: { default: async },
});

use super::latest::helpdesk::channel as new;
use super::wit as latest;
use crate::plugins::sandbox::HostState;
use helpdesk::channel::{config, http, kv, log, secrets, types as old};

impl old::Host for HostState {}

impl http::Host for HostState {
    async fn send(&mut self, r: old::HttpRequest, timeout_ms: Option<u32>) -> wasmtime::Result<Result<old::HttpResponse, http::HttpError>> {
        let request = latest::HttpRequest { method: r.method, url: r.url, headers: r.headers, body: r.body };
        Ok(match self.send_checked(request, timeout_ms).await {
            Ok(resp) => Ok(old::HttpResponse { status: resp.status, headers: resp.headers, body: resp.body }),
            Err(e) => Err(match e {
                new::http::HttpError::NotAllowed(m) => http::HttpError::NotAllowed(m),
                new::http::HttpError::Timeout => http::HttpError::Timeout,
                new::http::HttpError::Connection(m) => http::HttpError::Connection(m),
                new::http::HttpError::TooLarge => http::HttpError::TooLarge,
                new::http::HttpError::InvalidRequest(m) => http::HttpError::InvalidRequest(m),
                new::http::HttpError::LimitExceeded(m) => http::HttpError::LimitExceeded(m),
            }),
        })
    }
}

impl config::Host for HostState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        new::config::Host::get(self, key).await
    }
}

impl secrets::Host for HostState {
    async fn get(&mut self, name: String) -> wasmtime::Result<Option<String>> {
        new::secrets::Host::get(self, name).await
    }
}

impl kv::Host for HostState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Option<Vec<u8>>> {
        // 0.1.0's `get` cannot fail. "Absent" must mean absent: a plugin told so after a store
        // failure could redo work it already did (send twice), so the call stops instead.
        match new::kv::Host::get(self, key).await? {
            Ok(v) => Ok(v),
            Err(e) => Err(wasmtime::Error::msg(e)),
        }
    }

    async fn set(&mut self, key: String, value: Vec<u8>) -> wasmtime::Result<Result<(), String>> {
        new::kv::Host::set(self, key, value).await
    }

    async fn delete(&mut self, key: String) -> wasmtime::Result<()> {
        new::kv::Host::delete(self, key).await
    }
}

impl log::Host for HostState {
    async fn log(&mut self, level: log::Level, message: String) -> wasmtime::Result<()> {
        let level = match level {
            log::Level::Trace => new::log::Level::Trace,
            log::Level::Debug => new::log::Level::Debug,
            log::Level::Info => new::log::Level::Info,
            log::Level::Warn => new::log::Level::Warn,
            log::Level::Error => new::log::Level::Error,
        };
        new::log::Host::log(self, level, message).await
    }
}

// What the plugin answers, into the newest types.

impl From<old::ChannelInfo> for latest::ChannelInfo {
    fn from(i: old::ChannelInfo) -> Self {
        let setting = |name: String, secret: bool| latest::Setting {
            label: name.clone(),
            name,
            help: String::new(),
            // 0.1.0 could not say; the plugin reports a missing one itself.
            required: false,
            default: None,
            secret,
        };
        latest::ChannelInfo {
            platform: i.platform,
            platform_name: i.platform_name,
            capabilities: i
                .capabilities
                .into_iter()
                .map(|c| latest::Capability {
                    kind: c.kind.into(),
                    actions: c.actions.into_iter().map(|a| latest::ActionCapability { action: a.into(), notes: Vec::new(), only: None, requires: None }).collect(),
                    notes: c.notes,
                    max_reply_chars: None,
                })
                .collect(),
            polls: i.polls,
            webhooks: i.webhooks,
            reply_window_hours: i.reply_window_hours,
            tagged_reply_window: i.tagged_reply_window.map(|w| latest::TaggedWindow { hours: w.hours, tag: w.tag }),
            settings: i
                .config_keys
                .into_iter()
                .map(|k| setting(k, false))
                .chain(i.secret_names.into_iter().map(|k| setting(k, true)))
                .collect(),
            // 0.1.0 did not declare hosts: the admin's `allowed_hosts` alone decide.
            allowed_hosts: Vec::new(),
        }
    }
}

impl From<old::InteractionKind> for latest::InteractionKind {
    fn from(k: old::InteractionKind) -> Self {
        use old::InteractionKind as O;
        match k {
            O::PrivateMessage => Self::PrivateMessage,
            O::GroupMessage => Self::GroupMessage,
            O::Comment => Self::Comment,
            O::Reply => Self::Reply,
            O::AdComment => Self::AdComment,
            O::Post => Self::Post,
            O::Mention => Self::Mention,
            O::Review => Self::Review,
        }
    }
}

impl From<old::ActionKind> for latest::ActionKind {
    fn from(k: old::ActionKind) -> Self {
        use old::ActionKind as O;
        match k {
            O::Reply => Self::Reply,
            O::PrivateReply => Self::PrivateReply,
            O::Like => Self::Like,
            O::Unlike => Self::Unlike,
            O::React => Self::React,
            O::Hide => Self::Hide,
            O::Unhide => Self::Unhide,
            O::Delete => Self::Delete,
            O::Block => Self::Block,
            O::Unblock => Self::Unblock,
            O::MarkRead => Self::MarkRead,
            O::Follow => Self::Follow,
            O::Repost => Self::Repost,
        }
    }
}

impl From<old::Page> for latest::Page {
    fn from(p: old::Page) -> Self {
        latest::Page { events: p.events.into_iter().map(Into::into).collect(), next_cursor: p.next_cursor, poll_after_ms: p.poll_after_ms, quota: None, notice: None }
    }
}

impl From<old::WebhookOutcome> for latest::WebhookOutcome {
    fn from(o: old::WebhookOutcome) -> Self {
        latest::WebhookOutcome {
            response: latest::HttpResponse { status: o.response.status, headers: o.response.headers, body: o.response.body },
            events: o.events.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<old::ActionOutcome> for latest::ActionOutcome {
    fn from(o: old::ActionOutcome) -> Self {
        latest::ActionOutcome { created: o.created.map(Into::into) }
    }
}

impl From<old::Event> for latest::Event {
    fn from(e: old::Event) -> Self {
        match e {
            old::Event::Interaction(i) => latest::Event::Interaction(i.into()),
            old::Event::Contact(c) => latest::Event::Contact(latest::ContactEvent {
                author: c.author.into(),
                status: match c.status {
                    old::ContactStatus::BlockedUs => latest::ContactStatus::BlockedUs,
                    old::ContactStatus::UnblockedUs => latest::ContactStatus::UnblockedUs,
                },
                at: c.at,
            }),
            old::Event::Removed(id) => latest::Event::Removed(id),
            old::Event::Delivery(d) => latest::Event::Delivery(latest::Delivery {
                platform_id: d.platform_id,
                state: match d.state {
                    old::DeliveryState::Sent => latest::DeliveryState::Sent,
                    old::DeliveryState::Delivered => latest::DeliveryState::Delivered,
                    old::DeliveryState::Read => latest::DeliveryState::Read,
                    old::DeliveryState::Failed => latest::DeliveryState::Failed,
                },
                at: d.at,
                error: d.error,
            }),
            old::Event::Reaction(r) => latest::Event::Reaction(latest::Reaction { platform_id: r.platform_id, author: r.author.into(), emoji: r.emoji, at: r.at }),
        }
    }
}

impl From<old::Interaction> for latest::Interaction {
    fn from(i: old::Interaction) -> Self {
        latest::Interaction {
            platform_id: i.platform_id,
            kind: i.kind.into(),
            direction: i.direction.into(),
            thread_key: i.thread_key,
            parent_id: i.parent_id,
            author: i.author.into(),
            text: i.text,
            attachments: i
                .attachments
                .into_iter()
                .map(|a| latest::Attachment {
                    kind: match a.kind {
                        old::AttachmentKind::Image => latest::AttachmentKind::Image,
                        old::AttachmentKind::Video => latest::AttachmentKind::Video,
                        old::AttachmentKind::Audio => latest::AttachmentKind::Audio,
                        old::AttachmentKind::File => latest::AttachmentKind::File,
                        old::AttachmentKind::Sticker => latest::AttachmentKind::Sticker,
                        old::AttachmentKind::Location => latest::AttachmentKind::Location,
                        old::AttachmentKind::Other => latest::AttachmentKind::Other,
                    },
                    platform_id: a.platform_id,
                    url: a.url,
                    mime_type: a.mime_type,
                    name: a.name,
                    size: a.size,
                })
                .collect(),
            // 0 meant "the platform does not say".
            created_at: (i.created_at != 0).then_some(i.created_at),
            edited_at: i.edited_at,
            permalink: i.permalink,
            from_ad: i.from_ad,
            meta: i.meta,
            chain_key: None,
            title: None,
            rating: None,
            visibility: None,
            found_by: None,
        }
    }
}

impl From<old::Direction> for latest::Direction {
    fn from(d: old::Direction) -> Self {
        match d {
            old::Direction::Inbound => latest::Direction::Inbound,
            old::Direction::Outbound => latest::Direction::Outbound,
        }
    }
}

impl From<old::Author> for latest::Author {
    fn from(a: old::Author) -> Self {
        latest::Author { id: a.id, name: a.name, handle: a.handle, avatar_url: a.avatar_url, profile_url: a.profile_url }
    }
}

impl From<old::ChannelError> for latest::ChannelError {
    fn from(e: old::ChannelError) -> Self {
        use old::ChannelError as O;
        match e {
            O::Unauthorized(m) => Self::Unauthorized(m),
            O::RateLimited(r) => Self::RateLimited(latest::RateLimit { retry_after_ms: r.retry_after_ms, message: r.message }),
            O::InvalidConfig(m) => Self::InvalidConfig(m),
            O::Transient(m) => Self::Transient(m),
            O::Permanent(m) => Self::Permanent(m),
            O::Unsupported(m) => Self::Unsupported(m),
        }
    }
}

// What the host hands the plugin, into 0.1.0's types.

pub fn request(r: &latest::HttpRequest) -> old::HttpRequest {
    old::HttpRequest { method: r.method.clone(), url: r.url.clone(), headers: r.headers.clone(), body: r.body.clone() }
}

pub fn target(t: &latest::Target) -> old::Target {
    use latest::InteractionKind as L;
    old::Target {
        kind: match t.kind {
            L::PrivateMessage => old::InteractionKind::PrivateMessage,
            L::GroupMessage => old::InteractionKind::GroupMessage,
            L::Comment => old::InteractionKind::Comment,
            L::Reply => old::InteractionKind::Reply,
            L::AdComment => old::InteractionKind::AdComment,
            L::Post => old::InteractionKind::Post,
            L::Mention => old::InteractionKind::Mention,
            L::Review => old::InteractionKind::Review,
        },
        platform_id: t.platform_id.clone(),
        thread_key: t.thread_key.clone(),
        author_id: t.author_id.clone(),
        meta: t.meta.clone(),
    }
}

/// None for the actions 0.1.0 did not have (a 0.1.0 plugin cannot declare them either).
pub fn action(a: &latest::Action) -> Option<old::Action> {
    use latest::Action as L;
    let reply = |r: &latest::Reply| old::Reply { text: r.text.clone(), tag: r.tag.clone() };
    Some(match a {
        L::Reply(r) => old::Action::Reply(reply(r)),
        L::PrivateReply(r) => old::Action::PrivateReply(reply(r)),
        L::Like => old::Action::Like,
        L::Unlike => old::Action::Unlike,
        L::React(e) => old::Action::React(e.clone()),
        L::Hide => old::Action::Hide,
        L::Unhide => old::Action::Unhide,
        L::Delete => old::Action::Delete,
        L::Block => old::Action::Block,
        L::Unblock => old::Action::Unblock,
        L::MarkRead => old::Action::MarkRead,
        L::Follow => old::Action::Follow,
        L::Repost => old::Action::Repost,
        L::Unrepost | L::Mute | L::Unmute | L::Pin | L::Unpin | L::Publish | L::Reject | L::Unfollow | L::Quote(_) => return None,
    })
}
