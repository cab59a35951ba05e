//! `helpdesk:channel@0.2.0` (`wit/since_v0.2.0`), the newest: the host's imports are
//! implemented against it (`plugins/imports.rs`).

wasmtime::component::bindgen!({
    path: "../wit/since_v0.2.0",
    world: "channel",
    // Trappable: a host failure the contract has no words for stops the call with an error
    // instead of answering something false.
    imports: { default: async | trappable },
    exports: { default: async },
});

pub use helpdesk::channel::types as wit;
