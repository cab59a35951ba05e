//! Config, secrets, kv and log: the host's imports, with the errors plugins usually want.

use crate::bindings::helpdesk::channel::{config as cfg, kv, log as hlog, secrets};
use crate::{err, ChannelError, Level};

/// A config value from `[channel.config]`.
pub fn config(key: &str) -> Option<String> {
    cfg::get(key).filter(|v| !v.is_empty())
}

/// A config value, or `default` when unset.
pub fn config_or(key: &str, default: &str) -> String {
    config(key).unwrap_or_else(|| default.to_string())
}

/// A config value that must be set: `invalid-config` names the key otherwise.
pub fn require_config(key: &str) -> Result<String, ChannelError> {
    config(key).ok_or_else(|| err::invalid_config(format!("config key `{key}` is not set")))
}

/// A secret from `[channel.secrets]`.
pub fn secret(name: &str) -> Option<String> {
    secrets::get(name).filter(|v| !v.is_empty())
}

/// A secret that must be set: `invalid-config` names it otherwise.
pub fn require_secret(name: &str) -> Result<String, ChannelError> {
    secret(name).ok_or_else(|| err::invalid_config(format!("secret `{name}` is not set")))
}

/// A value from the channel's small durable store.
pub fn kv_get(key: &str) -> Option<Vec<u8>> {
    kv::get(key)
}

/// Store a small value durably for this channel.
pub fn kv_set(key: &str, value: &[u8]) -> Result<(), ChannelError> {
    kv::set(key, value).map_err(err::transient)
}

/// Log into the host's log, tagged with this channel.
pub fn log(level: Level, message: &str) {
    hlog::log(level, message)
}
