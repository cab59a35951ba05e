//! Rust bindings of the WIT world `helpdesk:channel/channel`, host side.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "channel",
    // Trappable: a host failure the contract has no words for (the store failing under `kv.get`)
    // stops the call with an error instead of answering something false such as "absent".
    imports: { default: async | trappable },
    exports: { default: async },
});

pub use helpdesk::channel::types as wit;
