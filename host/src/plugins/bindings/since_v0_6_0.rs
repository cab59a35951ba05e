//! `helpdesk:channel@0.6.0` (`wit/since_v0.6.0`, frozen): 0.4.0's types (`with`), and replies
//! that carry files (`files`, `file-capabilities`, `send-files`; 0.7.0 shares its `files`
//! types); its imports answer through the newest ones.

wasmtime::component::bindgen!({
    path: "../wit/since_v0.6.0",
    world: "channel",
    imports: { default: async | trappable },
    exports: { default: async },
    with: { "helpdesk:channel/types": super::since_v0_4_0::helpdesk::channel::types },
});

pub use self::helpdesk::channel::files;

impl files::Host for crate::plugins::sandbox::HostState {}

mod imports {
    crate::plugins::bindings::since_v0_2_0::imports_through_latest!(
        crate::plugins::bindings::since_v0_6_0::helpdesk::channel,
        crate::plugins::bindings::since_v0_4_0::helpdesk::channel::types
    );
}
