//! `helpdesk:channel@0.2.0` (`wit/since_v0.2.0`, frozen): the types 0.2.0 and 0.3.0 share,
//! their conversions into the newest, and imports that answer through the newest ones.

wasmtime::component::bindgen!({
    path: "../wit/since_v0.2.0",
    world: "channel",
    imports: { default: async | trappable },
    exports: { default: async },
});

use super::wit as latest;
use crate::plugins::sandbox::HostState;
use helpdesk::channel::types as old;

impl old::Host for HostState {}

/// The imports of an older version, answered by the newest imports: `$world` is the path of
/// that version's generated `helpdesk::channel`, `$types` the module of its types.
macro_rules! imports_through_latest {
    ($world:path, $types:path) => {
        use $types as version_types;
        use $world::{config, http, kv, log, secrets};
        use crate::plugins::bindings::latest::helpdesk::channel as new;
        use crate::plugins::sandbox::HostState;

        impl http::Host for HostState {
            async fn send(
                &mut self,
                r: version_types::HttpRequest,
                timeout_ms: Option<u32>,
            ) -> wasmtime::Result<Result<version_types::HttpResponse, http::HttpError>> {
                Ok(new::http::Host::send(self, r.into(), timeout_ms).await?.map(Into::into).map_err(|e| match e {
                    new::http::HttpError::NotAllowed(m) => http::HttpError::NotAllowed(m),
                    new::http::HttpError::Timeout => http::HttpError::Timeout,
                    new::http::HttpError::Connection(m) => http::HttpError::Connection(m),
                    new::http::HttpError::TooLarge => http::HttpError::TooLarge,
                    new::http::HttpError::InvalidRequest(m) => http::HttpError::InvalidRequest(m),
                    new::http::HttpError::LimitExceeded(m) => http::HttpError::LimitExceeded(m),
                }))
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
            async fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<Vec<u8>>, String>> {
                new::kv::Host::get(self, key).await
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
    };
}
pub(crate) use imports_through_latest;

mod imports {
    super::imports_through_latest!(crate::plugins::bindings::since_v0_2_0::helpdesk::channel, crate::plugins::bindings::since_v0_2_0::helpdesk::channel::types);
}

// Both ways for the records that did not change.

impl From<old::HttpRequest> for latest::HttpRequest {
    fn from(r: old::HttpRequest) -> Self {
        latest::HttpRequest { method: r.method, url: r.url, headers: r.headers, body: r.body }
    }
}

impl From<latest::HttpRequest> for old::HttpRequest {
    fn from(r: latest::HttpRequest) -> Self {
        old::HttpRequest { method: r.method, url: r.url, headers: r.headers, body: r.body }
    }
}

impl From<latest::HttpResponse> for old::HttpResponse {
    fn from(r: latest::HttpResponse) -> Self {
        old::HttpResponse { status: r.status, headers: r.headers, body: r.body }
    }
}

impl From<old::HttpResponse> for latest::HttpResponse {
    fn from(r: old::HttpResponse) -> Self {
        latest::HttpResponse { status: r.status, headers: r.headers, body: r.body }
    }
}

/// Enums whose cases did not change, converted case by case.
macro_rules! same_cases {
    ($ty:ident: $($case:ident),* $(,)?) => {
        impl From<old::$ty> for latest::$ty {
            fn from(k: old::$ty) -> Self {
                match k { $(old::$ty::$case => latest::$ty::$case,)* }
            }
        }
        impl From<latest::$ty> for old::$ty {
            fn from(k: latest::$ty) -> Self {
                match k { $(latest::$ty::$case => old::$ty::$case,)* }
            }
        }
    };
}

same_cases!(InteractionKind: PrivateMessage, GroupMessage, Comment, Reply, AdComment, Post, Mention, Review);
same_cases!(Direction: Inbound, Outbound);
same_cases!(AttachmentKind: Image, Video, Audio, File, Sticker, Location, Other);
same_cases!(DeliveryState: Sent, Delivered, Read, Failed);

impl From<old::Author> for latest::Author {
    fn from(a: old::Author) -> Self {
        latest::Author { id: a.id, name: a.name, handle: a.handle, avatar_url: a.avatar_url, profile_url: a.profile_url }
    }
}

impl From<old::Attachment> for latest::Attachment {
    fn from(a: old::Attachment) -> Self {
        latest::Attachment { kind: a.kind.into(), platform_id: a.platform_id, url: a.url, mime_type: a.mime_type, name: a.name, size: a.size }
    }
}

impl From<latest::Attachment> for old::Attachment {
    fn from(a: latest::Attachment) -> Self {
        old::Attachment { kind: a.kind.into(), platform_id: a.platform_id, url: a.url, mime_type: a.mime_type, name: a.name, size: a.size }
    }
}

// What the plugin answers, into the newest types.

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
            O::Unrepost => Self::Unrepost,
            O::Mute => Self::Mute,
            O::Unmute => Self::Unmute,
        }
    }
}

impl From<old::ChannelInfo> for latest::ChannelInfo {
    fn from(i: old::ChannelInfo) -> Self {
        latest::ChannelInfo {
            platform: i.platform,
            platform_name: i.platform_name,
            capabilities: i
                .capabilities
                .into_iter()
                .map(|c| latest::Capability {
                    kind: c.kind.into(),
                    actions: c.actions.into_iter().map(|a| latest::ActionCapability { action: a.action.into(), notes: a.notes, only: None, requires: None }).collect(),
                    notes: c.notes,
                    max_reply_chars: c.max_reply_chars,
                })
                .collect(),
            polls: i.polls,
            webhooks: i.webhooks,
            reply_window_hours: i.reply_window_hours,
            tagged_reply_window: i.tagged_reply_window.map(|w| latest::TaggedWindow { hours: w.hours, tag: w.tag }),
            settings: i
                .settings
                .into_iter()
                .map(|s| latest::Setting { name: s.name, label: s.label, help: s.help, required: s.required, default: s.default, secret: s.secret })
                .collect(),
            allowed_hosts: i.allowed_hosts,
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
        latest::WebhookOutcome { response: o.response.into(), events: o.events.into_iter().map(Into::into).collect() }
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
            old::Event::Delivery(d) => latest::Event::Delivery(latest::Delivery { platform_id: d.platform_id, state: d.state.into(), at: d.at, error: d.error }),
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
            attachments: i.attachments.into_iter().map(Into::into).collect(),
            created_at: i.created_at,
            edited_at: i.edited_at,
            permalink: i.permalink,
            from_ad: i.from_ad,
            meta: i.meta,
            chain_key: i.chain_key,
            title: None,
            rating: None,
            visibility: None,
            found_by: None,
        }
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

// What the host hands the plugin, into 0.2.0's types.

pub fn target(t: &latest::Target) -> old::Target {
    old::Target {
        kind: t.kind.into(),
        direction: t.direction.into(),
        platform_id: t.platform_id.clone(),
        thread_key: t.thread_key.clone(),
        author_id: t.author_id.clone(),
        meta: t.meta.clone(),
    }
}

/// None for the actions 0.2.0 did not have (a 0.2.0 plugin cannot declare them either).
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
        L::Unrepost => old::Action::Unrepost,
        L::Mute => old::Action::Mute,
        L::Unmute => old::Action::Unmute,
        L::Pin | L::Unpin | L::Publish | L::Reject | L::Unfollow | L::Quote(_) => return None,
    })
}
