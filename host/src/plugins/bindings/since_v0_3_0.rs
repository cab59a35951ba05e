//! `helpdesk:channel@0.3.0` (`wit/since_v0.3.0`, frozen): 0.2.0's types with a `media` export.
//! Its types are 0.2.0's Rust types (`with`), converted into the newest in `since_v0_2_0`; its
//! imports answer through the newest ones.

wasmtime::component::bindgen!({
    path: "../wit/since_v0.3.0",
    world: "channel",
    imports: { default: async | trappable },
    exports: { default: async },
    with: { "helpdesk:channel/types": super::since_v0_2_0::helpdesk::channel::types },
});

mod imports {
    crate::plugins::bindings::since_v0_2_0::imports_through_latest!(
        crate::plugins::bindings::since_v0_3_0::helpdesk::channel,
        crate::plugins::bindings::since_v0_2_0::helpdesk::channel::types
    );
}
