//! `helpdesk:channel@0.5.0` (`wit/since_v0.5.0`, frozen): 0.4.0's types (`with`), with a
//! webhook's `url` the whole public URL the platform called; its imports answer through the
//! newest ones.

wasmtime::component::bindgen!({
    path: "../wit/since_v0.5.0",
    world: "channel",
    imports: { default: async | trappable },
    exports: { default: async },
    with: { "helpdesk:channel/types": super::since_v0_4_0::helpdesk::channel::types },
});

mod imports {
    crate::plugins::bindings::since_v0_2_0::imports_through_latest!(
        crate::plugins::bindings::since_v0_5_0::helpdesk::channel,
        crate::plugins::bindings::since_v0_4_0::helpdesk::channel::types
    );
}
