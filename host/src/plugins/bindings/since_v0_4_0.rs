//! `helpdesk:channel@0.4.0` (`wit/since_v0.4.0`, frozen): the types the newest version shares
//! (the rest of the host speaks them); its imports answer through the newest ones, and its
//! webhooks get the path and query only, as 0.4.0 promised.

wasmtime::component::bindgen!({
    path: "../wit/since_v0.4.0",
    world: "channel",
    imports: { default: async | trappable },
    exports: { default: async },
});

pub use self::helpdesk::channel::types as wit;

impl wit::Host for crate::plugins::sandbox::HostState {}

mod imports {
    crate::plugins::bindings::since_v0_2_0::imports_through_latest!(
        crate::plugins::bindings::since_v0_4_0::helpdesk::channel,
        crate::plugins::bindings::since_v0_4_0::helpdesk::channel::types
    );
}
