//! Rust bindings of the WIT world `helpdesk:channel/channel`, host side.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "channel",
    imports: { default: async },
    exports: { default: async },
});

pub use helpdesk::channel::types as wit;
