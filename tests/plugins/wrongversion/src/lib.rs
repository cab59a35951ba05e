//! Targets `helpdesk:channel@0.9.0`, a version no host loads: the host must refuse it with a clear message.

wit_bindgen::generate!({ path: "wit", world: "channel" });

struct Future;

impl Guest for Future {
    fn describe() -> helpdesk::channel::types::ChannelInfo {
        helpdesk::channel::log::log("describing");
        helpdesk::channel::types::ChannelInfo { platform: "future".into(), contract_revision: 2 }
    }
}

export!(Future);
