//! The SDK for channel plugins: implement [`Channel`], call [`export_channel!`], and use the
//! helpers here to talk to the platform through the host.
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

pub mod http;
pub mod host;

#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "channel",
        pub_export_macro: true,
        default_bindings_module: "helpdesk_plugin_sdk::bindings",
        export_macro_name: "export_raw",
    });
}

pub use bindings::helpdesk::channel::types::*;
pub use bindings::helpdesk::channel::log::Level;

/// Everything a plugin usually needs, in one import.
pub mod prelude {
    pub use crate::host::{config, config_or, kv_get, kv_set, log, require_config, require_secret, secret};
    pub use crate::http::{Request, Response};
    pub use crate::{export_channel, Channel, err};
    pub use crate::{
        Action, ActionKind, ActionOutcome, Attachment, AttachmentKind, Author, Capability, ChannelError,
        ChannelInfo, ContactEvent, ContactStatus, Delivery, DeliveryState, Direction, Event, HttpRequest, HttpResponse, Interaction,
        InteractionKind, Level, Page, RateLimit, Reaction, Reply, TaggedWindow, Target, WebhookOutcome,
    };
}

/// A channel plugin. Only `describe` is required; the defaults answer `unsupported`.
pub trait Channel {
    /// What the plugin is and can do.
    fn describe() -> ChannelInfo;

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
    /// An interaction with no attachments, parent, edit, permalink or meta: set those with
    /// struct update syntax (`Interaction { parent_id, ..Interaction::new(...) }`).
    pub fn new(platform_id: impl Into<String>, kind: InteractionKind, direction: Direction, thread_key: impl Into<String>, author: Author, text: impl Into<String>, created_at: i64) -> Self {
        Interaction {
            platform_id: platform_id.into(),
            kind,
            direction,
            thread_key: thread_key.into(),
            parent_id: None,
            author,
            text: text.into(),
            attachments: Vec::new(),
            created_at,
            edited_at: None,
            permalink: None,
            from_ad: false,
            meta: Vec::new(),
        }
    }
}

impl Author {
    /// An author known by id and name only.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        Author { id: id.into(), name: name.into(), handle: None, avatar_url: None, profile_url: None }
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
        HttpResponse {
            status,
            headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())],
            body: body.as_bytes().to_vec(),
        }
    }
}

impl HttpRequest {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
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
            fn fetch(cursor: Option<String>) -> Result<$crate::Page, $crate::ChannelError> {
                <$ty as $crate::Channel>::fetch(cursor)
            }
            fn handle_webhook(request: $crate::HttpRequest) -> Result<$crate::WebhookOutcome, $crate::ChannelError> {
                <$ty as $crate::Channel>::handle_webhook(request)
            }
            fn perform(target: $crate::Target, action: $crate::Action) -> Result<$crate::ActionOutcome, $crate::ChannelError> {
                <$ty as $crate::Channel>::perform(target, action)
            }
        }
        $crate::bindings::export_raw!(__HelpdeskChannelExports with_types_in $crate::bindings);
    };
}
