//! The SDK for channel plugins: implement [`Channel`], call [`export_channel!`], and use the
//! helpers here to talk to the platform through the host. It targets the contract bundled in
//! this crate's `wit/` (`helpdesk:channel@0.7.0`).
//!
//! ```ignore
//! use helpdesk_plugin_sdk::prelude::*;
//! struct MyPlatform;
//! impl Channel for MyPlatform {
//!     fn describe() -> ChannelInfo { /* ... */ }
//!     fn fetch(cursor: Option<String>) -> Result<Page, ChannelError> { /* ... */ }
//! }
//! export_channel!(MyPlatform);
//! ```
//!
//! Built for `wasm32-wasip2`, the helpers call the host. Built for the machine running
//! `cargo test`, they call the fake in [`testing`], so a plugin's logic is unit-tested
//! without a host or a network.
//!
//! What the host does with what a plugin returns (the ticket rules):
//! - `private-message` and `group-message` with the same `thread-key` form one ticket per
//!   conversation; every other kind is a ticket of its own, with the interactions sharing its
//!   `thread-key` shown as context (unless the admin files reply chains, `chain-key`, as one).
//! - An interaction is stored once per (channel, `platform-id`); a redelivery with `edited-at`
//!   newer than the stored one is an edit, keeping the earlier version.
//! - An action without a message named targets the customer's newest message of the ticket.
//! - Config values arrive as strings, whatever their type in `plugins.toml`; paths are the
//!   plugin's own business (the host gives it no files).

pub mod host;
pub mod http;
pub mod mail;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;
pub mod text;
pub mod time;

#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "channel",
        pub_export_macro: true,
        default_bindings_module: "helpdesk_plugin_sdk::bindings",
        export_macro_name: "export_raw",
    });
}

pub use bindings::helpdesk::channel::files::{FileCapability, OutgoingFile};
pub use bindings::helpdesk::channel::log::Level;
pub use bindings::helpdesk::channel::types::*;

/// The contract version this SDK builds plugins against.
pub const CONTRACT_VERSION: &str = "0.7.0";

/// Everything a plugin usually needs, in one import.
pub mod prelude {
    pub use crate::host::{config, config_or, kv_delete, kv_get, kv_set, log, require_config, require_secret, secret};
    pub use crate::http::{Multipart, Request, Response};
    pub use crate::{err, export_channel, Channel};
    pub use crate::{
        Action, ActionCapability, ActionKind, ActionOutcome, Attachment, AttachmentKind, Author, Capability, ChannelError, ChannelInfo,
        ContactEvent, ContactStatus, Delivery, DeliveryState, Direction, Event, HttpRequest, HttpResponse, Interaction, InteractionKind,
        FileCapability, Level, OutgoingFile, Page, Quota, RateLimit, Reaction, Reply, Setting, TaggedWindow, Target, Visibility,
        WebhookOutcome,
    };
}

/// A channel plugin. Only `describe` is required; the defaults answer `unsupported`.
pub trait Channel {
    /// What the plugin is and can do.
    fn describe() -> ChannelInfo;

    /// Test the connection with the channel's settings: the account reached, in words.
    fn check() -> Result<String, ChannelError> {
        Err(err::unsupported("this plugin has no connection test"))
    }

    /// Fetch what happened since `cursor`.
    fn fetch(_cursor: Option<String>) -> Result<Page, ChannelError> {
        Err(err::unsupported("this channel does not poll"))
    }

    /// Handle one webhook delivery.
    fn handle_webhook(_request: HttpRequest) -> Result<WebhookOutcome, ChannelError> {
        Err(err::unsupported("this channel does not receive webhooks"))
    }

    /// Perform an agent's action.
    fn perform(_target: Target, _action: Action) -> Result<ActionOutcome, ChannelError> {
        Err(err::unsupported("this channel supports no actions"))
    }

    /// How the host downloads an attachment of `target` for an agent: by default a plain GET
    /// of the attachment's `url`. Platforms that hand out file ids, or want credentials on the
    /// download, say so here.
    fn media(_target: Target, attachment: Attachment) -> Result<HttpRequest, ChannelError> {
        match attachment.url {
            Some(url) if url.starts_with("https://") || url.starts_with("http://") => Ok(http::Request::get(url).unsent()),
            _ => Err(err::unsupported("this attachment has no address to download it from")),
        }
    }

    /// What the agent should know about a reply of `text` to `target` before sending it, in
    /// words, or `None` (the default). Called as the agent writes: answer from config and kv,
    /// never by calling the platform.
    fn reply_note(_target: Target, _text: String) -> Option<String> {
        None
    }

    /// The kinds whose replies may carry files, and what files: none by default. The host
    /// checks each reply's files against it before calling [`Channel::send_files`].
    fn file_capabilities() -> Vec<FileCapability> {
        Vec::new()
    }

    /// Send a reply with `files` (and `reply.text`, which may be empty) to `target`, publicly
    /// or (`private`) to the author's inbox.
    fn send_files(_target: Target, _reply: Reply, _private: bool, _files: Vec<OutgoingFile>) -> Result<ActionOutcome, ChannelError> {
        Err(err::unsupported("this channel sends no files"))
    }
}

impl FileCapability {
    /// Replies on `kind` may carry up to `max_files` files of `kinds`, each of at most `max_bytes`.
    pub fn new(kind: InteractionKind, kinds: &[AttachmentKind], max_bytes: u64, max_files: u32) -> Self {
        FileCapability { kind, kinds: kinds.to_vec(), max_bytes, max_files, notes: Vec::new() }
    }
    /// Something agents should know about files here.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }
}

/// The contexts (a post, a video, a shop's location) that the interactions of `kinds` in
/// `events` belong to, by their `thread-key`, each looked up once with `lookup` and remembered
/// in kv, so each ticket shows what it answers. A context the platform cannot give now is
/// tried again with the next interaction under it; the interactions are stored either way.
pub fn contexts_of(events: &[Event], kinds: &[InteractionKind], lookup: impl Fn(&str) -> Result<Option<Interaction>, ChannelError>) -> Vec<Event> {
    let mut wanted: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            Event::Interaction(i) if kinds.contains(&i.kind) => Some(i.thread_key.as_str()),
            _ => None,
        })
        .filter(|p| !p.is_empty())
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut out = Vec::new();
    for id in wanted {
        let key = format!("post:{id}");
        if matches!(host::kv_get(&key), Ok(Some(_))) {
            continue;
        }
        match lookup(id) {
            Ok(Some(i)) => {
                out.push(Event::Interaction(i));
                let _ = host::kv_set(&key, b"1");
            }
            Ok(None) => {}
            Err(e) => host::log(Level::Warn, &format!("{id} could not be read for its context: {e:?}")),
        }
    }
    out
}

/// Whether two secrets are equal, taking as long whatever their first difference (a webhook's
/// token compared so that its timing does not give it away).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Short constructors for [`ChannelError`].
pub mod err {
    use super::{ChannelError, RateLimit};

    pub fn unauthorized(msg: impl Into<String>) -> ChannelError {
        ChannelError::Unauthorized(msg.into())
    }
    pub fn rate_limited(retry_after_ms: u64, msg: impl Into<String>) -> ChannelError {
        ChannelError::RateLimited(RateLimit { retry_after_ms, message: msg.into() })
    }
    pub fn invalid_config(msg: impl Into<String>) -> ChannelError {
        ChannelError::InvalidConfig(msg.into())
    }
    pub fn transient(msg: impl Into<String>) -> ChannelError {
        ChannelError::Transient(msg.into())
    }
    pub fn permanent(msg: impl Into<String>) -> ChannelError {
        ChannelError::Permanent(msg.into())
    }
    pub fn unsupported(msg: impl Into<String>) -> ChannelError {
        ChannelError::Unsupported(msg.into())
    }
}

impl Interaction {
    /// An interaction with no attachments, parent, edit, permalink, meta or chain: set those
    /// with struct update syntax (`Interaction { parent_id, ..Interaction::new(...) }`).
    /// `created_at` is `None` when the platform does not say (the host uses the arrival time).
    pub fn new(
        platform_id: impl Into<String>,
        kind: InteractionKind,
        direction: Direction,
        thread_key: impl Into<String>,
        author: Author,
        text: impl Into<String>,
        created_at: impl Into<Option<i64>>,
    ) -> Self {
        Interaction {
            platform_id: platform_id.into(),
            kind,
            direction,
            thread_key: thread_key.into(),
            parent_id: None,
            author,
            text: text.into(),
            attachments: Vec::new(),
            created_at: created_at.into(),
            edited_at: None,
            permalink: None,
            from_ad: false,
            meta: Vec::new(),
            chain_key: None,
            title: None,
            rating: None,
            visibility: None,
            found_by: None,
        }
    }
}

impl Author {
    /// An author known by id and name only.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        Author { id: id.into(), name: name.into(), handle: None, avatar_url: None, profile_url: None }
    }
}

impl Capability {
    /// These actions on `kind`, without notes or a reply limit.
    pub fn new(kind: InteractionKind, actions: &[ActionKind]) -> Self {
        Capability {
            kind,
            actions: actions.iter().map(|a| ActionCapability { action: *a, notes: Vec::new(), only: None, requires: None }).collect(),
            notes: Vec::new(),
            max_reply_chars: None,
        }
    }
    /// Something agents should know about this kind.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }
    /// Something agents should know about one action here.
    pub fn action_note(mut self, action: ActionKind, note: impl Into<String>) -> Self {
        if let Some(a) = self.actions.iter_mut().find(|a| a.action == action) {
            a.notes.push(note.into());
        }
        self
    }
    /// Offer `action` only on our own messages (`Direction::Outbound`) or only on the
    /// audience's: the UI does not show it on the others and the host refuses it there.
    pub fn only_on(mut self, action: ActionKind, direction: Direction) -> Self {
        if let Some(a) = self.actions.iter_mut().find(|a| a.action == action) {
            a.only = Some(direction);
        }
        self
    }
    /// Offer `action` only on channels whose config sets `key` to `value` (X's block on the
    /// Enterprise plan): the UI shows it only there and the host refuses it elsewhere.
    pub fn requires(mut self, action: ActionKind, key: &str, value: &str) -> Self {
        if let Some(a) = self.actions.iter_mut().find(|a| a.action == action) {
            a.requires = Some((key.to_string(), value.to_string()));
        }
        self
    }
    /// The longest reply the platform takes here, in characters.
    pub fn max_reply_chars(mut self, max: u32) -> Self {
        self.max_reply_chars = Some(max);
        self
    }
}

impl Setting {
    /// An optional config value.
    pub fn config(name: impl Into<String>, label: impl Into<String>) -> Self {
        Setting { name: name.into(), label: label.into(), help: String::new(), required: false, default: None, secret: false }
    }
    /// A secret, required.
    pub fn secret(name: impl Into<String>, label: impl Into<String>) -> Self {
        Setting { secret: true, required: true, ..Self::config(name, label) }
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub fn optional(mut self) -> Self {
        self.required = false;
        self
    }
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = help.into();
        self
    }
    pub fn default_value(mut self, default: impl Into<String>) -> Self {
        self.default = Some(default.into());
        self
    }
}

impl WebhookOutcome {
    /// Answer the platform with `status` and a short text body, storing nothing.
    pub fn reject(status: u16, message: &str) -> Self {
        WebhookOutcome { response: HttpResponse::text(status, message), events: Vec::new() }
    }

    /// Answer `200 OK` and hand `events` to the host.
    pub fn accept(events: Vec<Event>) -> Self {
        WebhookOutcome { response: HttpResponse::text(200, "ok"), events }
    }
}

impl HttpResponse {
    /// A plain-text response.
    pub fn text(status: u16, body: &str) -> Self {
        HttpResponse { status, headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())], body: body.as_bytes().to_vec() }
    }
}

impl HttpRequest {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The value of query parameter `name` in the URL, decoded.
    pub fn query(&self, name: &str) -> Option<String> {
        http::parse_pairs(self.url.split_once('?')?.1).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// The body's fields, decoded, in order (an `application/x-www-form-urlencoded` delivery).
    pub fn form(&self) -> Vec<(String, String)> {
        http::parse_pairs(&String::from_utf8_lossy(&self.body))
    }
}

/// Register `$ty` (which implements [`Channel`]) as this component's exports.
#[macro_export]
macro_rules! export_channel {
    ($ty:ty) => {
        #[doc(hidden)]
        pub struct __HelpdeskChannelExports;
        impl $crate::bindings::Guest for __HelpdeskChannelExports {
            fn describe() -> $crate::ChannelInfo {
                <$ty as $crate::Channel>::describe()
            }
            fn check() -> Result<String, $crate::ChannelError> {
                <$ty as $crate::Channel>::check()
            }
            fn fetch(cursor: Option<String>) -> Result<$crate::Page, $crate::ChannelError> {
                <$ty as $crate::Channel>::fetch(cursor)
            }
            fn handle_webhook(request: $crate::HttpRequest) -> Result<$crate::WebhookOutcome, $crate::ChannelError> {
                <$ty as $crate::Channel>::handle_webhook(request)
            }
            fn perform(target: $crate::Target, action: $crate::Action) -> Result<$crate::ActionOutcome, $crate::ChannelError> {
                <$ty as $crate::Channel>::perform(target, action)
            }
            fn media(target: $crate::Target, attachment: $crate::Attachment) -> Result<$crate::HttpRequest, $crate::ChannelError> {
                <$ty as $crate::Channel>::media(target, attachment)
            }
            fn reply_note(target: $crate::Target, text: String) -> Option<String> {
                <$ty as $crate::Channel>::reply_note(target, text)
            }
            fn file_capabilities() -> Vec<$crate::FileCapability> {
                <$ty as $crate::Channel>::file_capabilities()
            }
            fn send_files(
                target: $crate::Target,
                reply: $crate::Reply,
                private: bool,
                files: Vec<$crate::OutgoingFile>,
            ) -> Result<$crate::ActionOutcome, $crate::ChannelError> {
                <$ty as $crate::Channel>::send_files(target, reply, private, files)
            }
        }
        $crate::bindings::export_raw!(__HelpdeskChannelExports with_types_in $crate::bindings);
    };
}
