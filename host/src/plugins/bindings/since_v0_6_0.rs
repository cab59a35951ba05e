//! `helpdesk:channel@0.6.0` (`wit/since_v0.6.0`), the newest: 0.4.0's types (`with`), and
//! replies that carry files (`files`, `file-capabilities`, `send-files`). The host's imports
//! are implemented against it (`plugins/imports.rs`).

wasmtime::component::bindgen!({
    path: "../wit/since_v0.6.0",
    world: "channel",
    // Trappable: a host failure the contract has no words for stops the call with an error
    // instead of answering something false.
    imports: { default: async | trappable },
    exports: { default: async },
    with: { "helpdesk:channel/types": super::since_v0_4_0::helpdesk::channel::types },
});

pub use super::since_v0_4_0::wit;
pub use self::helpdesk::channel::files;

impl files::Host for crate::plugins::sandbox::HostState {}
