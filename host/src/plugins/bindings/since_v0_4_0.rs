//! `helpdesk:channel@0.4.0` (`wit/since_v0.4.0`), the newest: the host's imports are
//! implemented against it (`plugins/imports.rs`) and the rest of the host speaks its types.

wasmtime::component::bindgen!({
    path: "../wit/since_v0.4.0",
    world: "channel",
    // Trappable: a host failure the contract has no words for stops the call with an error
    // instead of answering something false.
    imports: { default: async | trappable },
    exports: { default: async },
});

pub use self::helpdesk::channel::types as wit;

impl wit::Host for crate::plugins::sandbox::HostState {}
