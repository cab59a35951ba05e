//! The helpdesk host: channel plugins feed an inbox of tickets kept in SurrealDB and indexed
//! in Tantivy, served over HTTP. `main.rs` is the command line over this library.

pub mod accounts;
pub mod api;
pub mod app;
pub mod config;
pub mod consult;
#[cfg(feature = "demo")]
pub mod demo;
pub mod devkit;
pub mod events;
pub mod inbox;
pub mod mail;
pub mod metrics;
pub mod model;
pub mod plugins;
pub mod search;
pub mod store;
pub mod sync;
pub mod translation;
