//! Loopback emulators of the social platforms, written from their public APIs
//! (shared/reference/platform-apis.md), for the end-to-end tests and `helpdesk demo`.

pub mod telegram;
pub mod tiktok;
pub mod example;
pub mod google;
pub mod graph;
pub mod linkedin;
pub mod server;
pub mod traffic;
pub mod viber;
pub mod x;

/// A call an emulator received: its method, its path (with the query), its JSON body.
#[derive(Clone, Debug)]
pub struct Call {
    pub method: String,
    pub path: String,
    pub body: serde_json::Value,
}

/// Now, in seconds since the epoch (the emulators' clocks).
pub fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The picture the emulators' customers send (a 320×200 PNG).
pub const PHOTO_PNG: &[u8] = include_bytes!("../assets/photo.png");
