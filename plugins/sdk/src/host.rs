//! Config, secrets, kv and log: the host's imports (or, under `cargo test`, the fake in
//! [`crate::testing`]), with the errors plugins usually want.

use crate::{err, ChannelError, Level};

#[cfg(target_arch = "wasm32")]
mod imports {
    use crate::bindings::helpdesk::channel::{config, kv, log, secrets};
    pub fn config(key: &str) -> Option<String> {
        config::get(key)
    }
    pub fn secret(name: &str) -> Option<String> {
        secrets::get(name)
    }
    pub fn kv_get(key: &str) -> Result<Option<Vec<u8>>, String> {
        kv::get(key)
    }
    pub fn kv_set(key: &str, value: &[u8]) -> Result<(), String> {
        kv::set(key, value)
    }
    pub fn kv_delete(key: &str) {
        kv::delete(key)
    }
    pub fn log(level: crate::Level, message: &str) {
        log::log(level, message)
    }
}

#[cfg(not(target_arch = "wasm32"))]
use crate::testing::imports;

/// A config value from `[channel.config]` (always a string, whatever its type in the file).
pub fn config(key: &str) -> Option<String> {
    imports::config(key).filter(|v| !v.is_empty())
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
    imports::secret(name).filter(|v| !v.is_empty())
}

/// A secret that must be set: `invalid-config` names it otherwise.
pub fn require_secret(name: &str) -> Result<String, ChannelError> {
    secret(name).ok_or_else(|| err::invalid_config(format!("secret `{name}` is not set")))
}

/// A value from the channel's small durable store; a store that cannot be read is a
/// `transient` error (never "absent": acting on a wrong "absent" can send twice).
pub fn kv_get(key: &str) -> Result<Option<Vec<u8>>, ChannelError> {
    imports::kv_get(key).map_err(err::transient)
}

/// Store a small value durably for this channel (refused past the quotas).
pub fn kv_set(key: &str, value: &[u8]) -> Result<(), ChannelError> {
    imports::kv_set(key, value).map_err(err::transient)
}

pub fn kv_delete(key: &str) {
    imports::kv_delete(key)
}

/// Log into the host's log, tagged with this channel.
pub fn log(level: Level, message: &str) {
    imports::log(level, message)
}
