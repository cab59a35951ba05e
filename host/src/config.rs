//! `plugins.toml`: the channels this installation runs, their config, secrets and granted hosts.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} is not valid: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("channel `{channel}`: secret `{name}`: {message}")]
    Secret { channel: String, name: String, message: String },
}

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginsFile {
    /// Where plugin names are looked up (`<dir>/<plugin>.wasm`); relative to the file.
    pub plugin_dir: Option<PathBuf>,
    #[serde(default, rename = "channel")]
    pub channels: Vec<ChannelConfig>,
}

/// One `[[channel]]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelConfig {
    /// Used in URLs (`/webhooks/{id}`) and records: letters, digits, `-` and `_`.
    pub id: String,
    /// A plugin name (looked up in the plugin dir) or a path to a `.wasm` component.
    pub plugin: String,
    pub display_name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Run the poll loop; defaults to whether the plugin polls. Telegram cannot poll while a
    /// webhook is set, so a webhook-mode Telegram channel sets `poll = false`.
    pub poll: Option<bool>,
    #[serde(default)]
    pub config: BTreeMap<String, toml::Value>,
    #[serde(default)]
    pub secrets: BTreeMap<String, SecretSource>,
    /// Hosts the plugin may reach: `api.telegram.org`, `127.0.0.1:8081`, `*.facebook.com`.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    #[serde(default)]
    pub limits: ChannelLimits,
    /// Channels that share one webhook callback (Meta sends every Page and number of an app to
    /// the app's one URL): a delivery to any of them is offered to all, and each plugin keeps
    /// the entries of its own Page or number.
    pub webhook_group: Option<String>,
}

/// Sandbox limits for one channel's plugin calls (`[channel.limits]`); defaults when absent.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelLimits {
    /// Guest CPU time per call, in ms (time waiting on the host, e.g. HTTP, is not counted).
    pub cpu_ms: Option<u64>,
    /// Linear memory per instance, in MiB (at most 256).
    pub memory_mb: Option<u64>,
    /// Wall time for a webhook or an action, in ms.
    pub timeout_ms: Option<u64>,
}

fn yes() -> bool {
    true
}

/// Where a secret's value comes from.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum SecretSource {
    Env { env: String },
    File { file: PathBuf },
    /// Inline values are for development and tests only.
    Inline(String),
}

impl PluginsFile {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
        let mut file = Self::parse(&text).map_err(|message| ConfigError::Invalid { path: path.into(), message })?;
        let base = path.parent().unwrap_or(Path::new("."));
        file.plugin_dir = Some(base.join(file.plugin_dir.take().unwrap_or_else(|| "plugins/dist".into())));
        Ok(file)
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let file: PluginsFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut seen = std::collections::HashSet::new();
        for ch in &file.channels {
            if ch.id.is_empty() || !ch.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                return Err(format!("channel id `{}` must be letters, digits, `-` or `_`", ch.id));
            }
            if !seen.insert(ch.id.clone()) {
                return Err(format!("channel id `{}` is used twice", ch.id));
            }
            if ch.display_name.trim().is_empty() || ch.display_name.chars().count() > 255 {
                return Err(format!("channel `{}`: display_name must be 1 to 255 characters", ch.id));
            }
            if ch.limits.memory_mb.is_some_and(|m| m == 0 || m > 256) {
                return Err(format!("channel `{}`: limits.memory_mb must be 1 to 256", ch.id));
            }
            if ch.limits.cpu_ms == Some(0) || ch.limits.timeout_ms == Some(0) {
                return Err(format!("channel `{}`: limits must be positive", ch.id));
            }
        }
        Ok(file)
    }

    /// The `.wasm` file of a channel's plugin.
    pub fn plugin_path(&self, channel: &ChannelConfig) -> PathBuf {
        if channel.plugin.ends_with(".wasm") || channel.plugin.contains('/') {
            return PathBuf::from(&channel.plugin);
        }
        self.plugin_dir.clone().unwrap_or_else(|| "plugins/dist".into()).join(format!("{}.wasm", channel.plugin))
    }
}

impl ChannelConfig {
    /// Config values as strings, as plugins read them.
    pub fn config_strings(&self) -> BTreeMap<String, String> {
        self.config
            .iter()
            .map(|(k, v)| (k.clone(), match v {
                toml::Value::String(s) => s.clone(),
                other => other.to_string(),
            }))
            .collect()
    }

    /// Resolve every secret now, so a missing one stops start-up with its name.
    pub fn resolve_secrets(&self) -> Result<BTreeMap<String, String>, ConfigError> {
        let err = |name: &str, message: String| ConfigError::Secret {
            channel: self.id.clone(),
            name: name.to_string(),
            message,
        };
        self.secrets
            .iter()
            .map(|(name, source)| {
                let value = match source {
                    SecretSource::Env { env } => std::env::var(env)
                        .map_err(|_| err(name, format!("environment variable `{env}` is not set")))?,
                    SecretSource::File { file } => std::fs::read_to_string(file)
                        .map_err(|e| err(name, format!("cannot read {}: {e}", file.display())))?
                        .trim_end()
                        .to_string(),
                    SecretSource::Inline(v) => v.clone(),
                };
                Ok((name.clone(), value))
            })
            .collect()
    }

}

/// Does any of the granted `patterns` admit `host` (with `port`)?
pub fn host_allowed(patterns: &[String], host: &str, port: Option<u16>) -> bool {
    patterns.iter().any(|pattern| host_matches(pattern, host, port))
}

fn host_matches(pattern: &str, host: &str, port: Option<u16>) -> bool {
    let (pat_host, pat_port) = match pattern.rsplit_once(':') {
        Some((h, p)) if p.parse::<u16>().is_ok() => (h, p.parse::<u16>().ok()),
        _ => (pattern, None),
    };
    if pat_port.is_some() && pat_port != port {
        return false;
    }
    let host = host.to_ascii_lowercase();
    let pat_host = pat_host.to_ascii_lowercase();
    match pat_host.strip_prefix("*.") {
        Some(suffix) => host.ends_with(&format!(".{suffix}")),
        None => host == pat_host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn granted_hosts_match_exactly_by_port_and_wildcard() {
        let ch: ChannelConfig = toml::from_str(
            r#"id = "t"
plugin = "telegram"
display_name = "T"
allowed_hosts = ["api.telegram.org", "127.0.0.1:8081", "*.fbcdn.net"]"#,
        )
        .unwrap();
        assert!(host_allowed(&ch.allowed_hosts, "api.telegram.org", Some(443)));
        assert!(host_allowed(&ch.allowed_hosts, "127.0.0.1", Some(8081)));
        assert!(!host_allowed(&ch.allowed_hosts, "127.0.0.1", Some(8082)));
        assert!(host_allowed(&ch.allowed_hosts, "x.fbcdn.net", Some(443)));
        assert!(!host_allowed(&ch.allowed_hosts, "fbcdn.net.evil.com", Some(443)));
        assert!(!host_allowed(&ch.allowed_hosts, "evil.com", Some(443)));
    }

    #[test]
    fn bad_files_are_refused_with_the_reason() {
        let dup = "[[channel]]\nid='a'\nplugin='p'\ndisplay_name='A'\n[[channel]]\nid='a'\nplugin='p'\ndisplay_name='B'";
        assert!(PluginsFile::parse(dup).unwrap_err().contains("used twice"));
        let long = format!("[[channel]]\nid='a'\nplugin='p'\ndisplay_name='{}'", "x".repeat(256));
        assert!(PluginsFile::parse(&long).unwrap_err().contains("255"));
        assert!(PluginsFile::parse("[[channel]]\nid='a b'\nplugin='p'\ndisplay_name='A'").is_err());
    }
}
