//! `helpdesk:channel@0.7.0` (`wit/since_v0.7.0`), the newest: 0.4.0's types and 0.6.0's files
//! (`with`), and mail transport (`mail`). The host's imports are implemented against it
//! (`plugins/imports.rs`, `plugins/mail.rs`).

wasmtime::component::bindgen!({
    path: "../wit/since_v0.7.0",
    world: "channel",
    // Trappable: a host failure the contract has no words for stops the call with an error
    // instead of answering something false.
    imports: { default: async | trappable },
    exports: { default: async },
    with: {
        "helpdesk:channel/types": super::since_v0_4_0::helpdesk::channel::types,
        "helpdesk:channel/files": super::since_v0_6_0::helpdesk::channel::files,
    },
});

pub use super::since_v0_4_0::wit;
pub use super::since_v0_6_0::files;
