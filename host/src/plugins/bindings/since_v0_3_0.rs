//! `helpdesk:channel@0.3.0` (`wit/since_v0.3.0`), the newest: the host's imports are
//! implemented against it (`plugins/imports.rs`). Its types are 0.2.0's, unchanged, so they are
//! the same Rust types (`with`): 0.2.0 plugins need no conversions.

wasmtime::component::bindgen!({
    path: "../wit/since_v0.3.0",
    world: "channel",
    // Trappable: a host failure the contract has no words for stops the call with an error
    // instead of answering something false.
    imports: { default: async | trappable },
    exports: { default: async },
    with: { "helpdesk:channel/types": super::since_v0_2_0::helpdesk::channel::types },
});

pub use super::since_v0_2_0::helpdesk::channel::types as wit;
