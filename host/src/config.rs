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
    /// The plugin component's SHA-256 (hex): a different file is refused, so a swapped or
    /// tampered plugin never runs with this channel's secrets.
    pub sha256: Option<String>,
    /// Public reply chains the plugin marks (`chain-key`: X, Mastodon): `separate` (each reply
    /// its own ticket, the thread as context; the default) or `one-ticket`.
    #[serde(default)]
    pub reply_chains: ReplyChains,
}

/// How a channel files public reply chains.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReplyChains {
    #[default]
    Separate,
    OneTicket,
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
            for entry in &ch.allowed_hosts {
                AllowedHost::parse(entry).map_err(|e| format!("channel `{}`: {e}", ch.id))?;
            }
        }
        Ok(file)
    }

    /// The `.wasm` file of a channel's plugin.
    pub fn plugin_path(&self, channel: &ChannelConfig) -> PathBuf {
        if channel.plugin.ends_with(".wasm") || channel.plugin.contains('/') {
            return PathBuf::from(&channel.plugin);
        }
        self.plugin_file(&channel.plugin)
    }

    /// Where plugin `name` is looked up (and installed): `<plugin_dir>/<name>.wasm`.
    pub fn plugin_file(&self, name: &str) -> PathBuf {
        self.plugin_dir.clone().unwrap_or_else(|| "plugins/dist".into()).join(format!("{name}.wasm"))
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

    /// The granted hosts (checked when the file was parsed).
    pub fn granted_hosts(&self) -> Vec<AllowedHost> {
        self.allowed_hosts.iter().filter_map(|e| AllowedHost::parse(e).ok()).collect()
    }
}

/// One `allowed_hosts` entry, as Spin's `allowed_outbound_hosts`: a scheme, a host (exact, or
/// `*.` and a domain) and a port. `api.telegram.org` means `https://api.telegram.org:443`, so a
/// token never leaves over plain HTTP unless an admin wrote `http://`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    pub scheme: String,
    /// Lower-case; `*.example.com` for any subdomain.
    pub host: String,
    pub port: u16,
}

impl AllowedHost {
    pub fn parse(entry: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("allowed_hosts entry `{entry}` {why} (write `https://api.example.com` or `http://127.0.0.1:8081`)");
        let (scheme, rest) = match entry.split_once("://") {
            Some((s, rest)) => (s.to_ascii_lowercase(), rest),
            None => ("https".to_string(), entry),
        };
        let default_port = match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            // Mail servers for the `mail` import (always TLS: `imap` and `smtp` mean STARTTLS).
            "imaps" => 993,
            "imap" => 143,
            "smtps" => 465,
            "smtp" => 587,
            _ => return Err(bad("has a scheme other than http, https, imaps, imap, smtps or smtp")),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#', '@']) || rest.is_empty() {
            return Err(bad("must be a scheme, a host and a port only"));
        }
        // `[::1]:8080`, `host:8080` or `host`.
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(':') && (rest.starts_with('[') == h.ends_with(']')) => {
                (h, p.parse::<u16>().map_err(|_| bad("has a port that is not a number"))?)
            }
            _ => (rest, default_port),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
        let name = host.strip_prefix("*.").unwrap_or(&host);
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_')) {
            return Err(bad("has an unreadable host"));
        }
        Ok(AllowedHost { scheme, host, port })
    }

    /// Whether a request to `scheme://host:port` is admitted.
    pub fn admits(&self, scheme: &str, host: &str, port: u16) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
        self.scheme == scheme
            && self.port == port
            && match self.host.strip_prefix("*.") {
                Some(suffix) => host.ends_with(&format!(".{suffix}")),
                None => host == self.host,
            }
    }

    /// The entry names an IP address itself: the only way to reach a loopback, private or
    /// link-local address (a name that resolves to one is refused, against DNS rebinding).
    pub fn is_ip_literal(&self) -> bool {
        self.host.parse::<std::net::IpAddr>().is_ok()
    }
}

/// Does any of the granted entries admit a request to `scheme://host:port`?
pub fn host_allowed(granted: &[AllowedHost], scheme: &str, host: &str, port: u16) -> bool {
    granted.iter().any(|g| g.admits(scheme, host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn granted_hosts_match_by_scheme_host_port_and_wildcard() {
        let granted: Vec<AllowedHost> = ["api.telegram.org", "http://127.0.0.1:8081", "*.fbcdn.net", "https://graph.example:8443"]
            .iter()
            .map(|e| AllowedHost::parse(e).unwrap())
            .collect();
        assert!(host_allowed(&granted, "https", "api.telegram.org", 443));
        assert!(!host_allowed(&granted, "http", "api.telegram.org", 80), "a bare host means https only");
        assert!(!host_allowed(&granted, "https", "api.telegram.org", 8443), "and port 443 only");
        assert!(host_allowed(&granted, "http", "127.0.0.1", 8081));
        assert!(!host_allowed(&granted, "https", "127.0.0.1", 8081), "the scheme written is the scheme allowed");
        assert!(!host_allowed(&granted, "http", "127.0.0.1", 8082));
        assert!(host_allowed(&granted, "https", "x.fbcdn.net", 443));
        assert!(!host_allowed(&granted, "https", "fbcdn.net.evil.com", 443));
        assert!(!host_allowed(&granted, "https", "evil.com", 443));
        assert!(host_allowed(&granted, "https", "graph.example", 8443));
        assert!(granted[1].is_ip_literal() && !granted[0].is_ip_literal());
    }

    #[test]
    fn unreadable_host_entries_are_refused_when_the_file_is_loaded() {
        for bad in ["ftp://x.example", "https://x.example/path", "https://user@x.example", "x.example:port", ""] {
            let file = format!("[[channel]]\nid='a'\nplugin='p'\ndisplay_name='A'\nallowed_hosts=['{bad}']");
            assert!(PluginsFile::parse(&file).unwrap_err().contains("allowed_hosts"), "{bad}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: std::env::var("HELPDESK_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256),
            ..Default::default()
        })]
        /// Any file is loaded or refused with a reason, never a panic.
        #[test]
        fn any_plugins_file_is_loaded_or_refused_without_a_panic(text in "(\\PC|\n|\\[\\[channel\\]\\]|id *= *'a'|plugin *= *'p'|display_name *= *'A'|allowed_hosts *= *\\[|\\]){0,400}") {
            let _ = PluginsFile::parse(&text);
        }

        #[test]
        fn any_allowed_hosts_entry_is_parsed_or_refused_without_a_panic(entry in "(https?://)?(\\*\\.)?[a-z0-9.:\\[\\]/@-]{0,40}") {
            if let Ok(h) = AllowedHost::parse(&entry) {
                proptest::prop_assert!(h.scheme == "http" || h.scheme == "https");
            }
        }
    }

    #[test]
    fn bad_files_are_refused_with_the_reason() {
        let dup = "[[channel]]\nid='a'\nplugin='p'\ndisplay_name='A'\n[[channel]]\nid='a'\nplugin='p'\ndisplay_name='B'";
        assert!(PluginsFile::parse(dup).unwrap_err().contains("used twice"));
        let long = format!("[[channel]]\nid='a'\nplugin='p'\ndisplay_name='{}'", "x".repeat(256));
        assert!(PluginsFile::parse(&long).unwrap_err().contains("255"));
        assert!(PluginsFile::parse("[[channel]]\nid='a b'\nplugin='p'\ndisplay_name='A'").is_err());
        let chains = |v: &str| PluginsFile::parse(&format!("[[channel]]\nid='a'\nplugin='p'\ndisplay_name='A'\nreply_chains='{v}'"));
        assert_eq!(chains("one-ticket").unwrap().channels[0].reply_chains, ReplyChains::OneTicket);
        assert!(chains("sometimes").unwrap_err().contains("one-ticket"));
    }
}

#[cfg(test)]
mod repo_file {
    /// The repository's plugins.toml documents every channel: it must stay a file the host takes.
    #[test]
    fn the_documented_plugins_toml_parses() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../plugins.toml")).unwrap();
        let file = super::PluginsFile::parse(&text).expect("plugins.toml parses");
        let plugins: Vec<&str> = file.channels.iter().map(|c| c.plugin.as_str()).collect();
        for p in ["telegram", "whatsapp", "gbp", "youtube", "tiktok", "x", "linkedin", "viber", "twilio", "line", "wechat"] {
            assert!(plugins.contains(&p), "{p} is documented");
        }
    }
}
