//! Loopback emulators of the social platforms, written from their public APIs
//! (shared/reference/platform-apis.md), for the end-to-end tests and `helpdesk demo`.

pub mod telegram;
pub mod example;
pub mod graph;
pub mod server;
pub mod traffic;
