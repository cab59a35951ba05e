//! The conformance kit's fixture format: one JSON file per recorded case, in a directory,
//! plus an optional `defaults.json` with the config and secrets every case shares.
//! Documented for authors in `docs/plugins.md`.

use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Config and secrets for every case of a directory (each case may add or override).
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    #[serde(default)]
    pub config: BTreeMap<String, String>,
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
}

/// One recorded case: a call, the platform's answers to the requests it makes, and what the
/// plugin must give back.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    #[serde(skip)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub config: BTreeMap<String, String>,
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
    pub call: Call,
    /// The requests the call must make, each with the platform's answer. A request is matched
    /// to the first unused exchange with its method and URL; every exchange must be used.
    #[serde(default)]
    pub exchanges: Vec<Exchange>,
    #[serde(default)]
    pub expect: Expect,
}

#[derive(Deserialize)]
#[serde(tag = "export", rename_all = "snake_case", deny_unknown_fields)]
pub enum Call {
    Check,
    Fetch {
        #[serde(default)]
        cursor: Option<String>,
    },
    Webhook {
        #[serde(default = "post")]
        method: String,
        #[serde(default = "webhook_path")]
        path: String,
        /// Values may hold `{hmac-sha256:SECRET}`: `sha256=` and the hex HMAC-SHA256 of the
        /// body keyed with that secret (Meta's `X-Hub-Signature-256`); or
        /// `{hmac-sha256-base64:SECRET}`: the same in base64 (X's); or
        /// `{timestamped-hmac-sha256:SECRET}`: `t=<now>,s=<hex HMAC of "t.body">` (TikTok's).
        #[serde(default)]
        headers: BTreeMap<String, String>,
        #[serde(flatten)]
        body: Body,
    },
    Perform {
        target: Target,
        /// `{"type": "reply", "text": "..."}`, as the API takes it.
        action: Action,
    },
}

fn post() -> String {
    "POST".into()
}

fn webhook_path() -> String {
    "/webhooks/kit".into()
}

/// A body: JSON (sent compact), text, or a file's exact bytes (relative to the fixture).
#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct Body {
    #[serde(default)]
    pub body: Option<Value>,
    #[serde(default)]
    pub body_file: Option<String>,
}

impl Body {
    pub fn bytes(&self, dir: &Path) -> anyhow::Result<Vec<u8>> {
        Ok(match (&self.body, &self.body_file) {
            (_, Some(file)) => std::fs::read(dir.join(file)).map_err(|e| anyhow::anyhow!("body_file {file}: {e}"))?,
            (Some(Value::String(s)), None) => s.clone().into_bytes(),
            (Some(v), None) => serde_json::to_vec(v)?,
            (None, None) => Vec::new(),
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// `private_message`, `comment`, ...
    pub kind: String,
    pub platform_id: String,
    pub thread_key: String,
    #[serde(default)]
    pub author_id: String,
    /// The brand's own message.
    #[serde(default)]
    pub ours: bool,
    #[serde(default)]
    pub meta: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub emoji: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exchange {
    pub request: ExpectedRequest,
    pub response: Recorded,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct ExpectedRequest {
    pub method: String,
    /// The whole URL; a `*` at the end matches any rest (a token in the path, a changing query).
    pub url: String,
    /// Headers that must be sent with these values.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The JSON body must contain this (objects: these keys with these values, recursively).
    #[serde(default)]
    pub json: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recorded {
    #[serde(default = "ok")]
    pub status: u16,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(flatten)]
    pub body: Body,
}

fn ok() -> u16 {
    200
}

/// What must come back. Events and `created` are matched partially: the fields given must be
/// there with these values; events in order, as many as given.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    #[serde(default)]
    pub events: Option<Vec<Value>>,
    /// `fetch`: the cursor to come back (a string), or `true` for any new one.
    #[serde(default)]
    pub next_cursor: Option<Value>,
    /// The `channel-error` variant: `unauthorized`, `rate_limited`, `invalid_config`,
    /// `transient`, `permanent`, `unsupported`.
    #[serde(default)]
    pub error: Option<String>,
    /// With `rate_limited`: at least this long a wait.
    #[serde(default)]
    pub retry_after_ms: Option<u64>,
    /// `webhook`: the status answered to the platform.
    #[serde(default)]
    pub status: Option<u16>,
    /// `perform`: the message the action created.
    #[serde(default)]
    pub created: Option<Value>,
    /// `check`: words the account description contains.
    #[serde(default)]
    pub account: Option<String>,
}

/// Every `*.json` of `dir` but `defaults.json`, sorted by name.
pub fn load_dir(dir: &Path) -> anyhow::Result<(Defaults, Vec<Fixture>)> {
    let read = |path: &Path| -> anyhow::Result<String> { std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display())) };
    let defaults_path = dir.join("defaults.json");
    let defaults = if defaults_path.exists() {
        serde_json::from_str(&read(&defaults_path)?).map_err(|e| anyhow::anyhow!("{}: {e}", defaults_path.display()))?
    } else {
        Defaults::default()
    };
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("fixtures directory {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json") && p.file_name().is_some_and(|n| n != "defaults.json"))
        .collect();
    paths.sort();
    let mut fixtures = Vec::new();
    for path in paths {
        let mut f: Fixture = serde_json::from_str(&read(&path)?).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        f.name = path.file_stem().unwrap_or_default().to_string_lossy().into_owned();
        fixtures.push(f);
    }
    anyhow::ensure!(!fixtures.is_empty(), "{} holds no fixtures (*.json)", dir.display());
    Ok((defaults, fixtures))
}

/// `expected` is contained in `actual`: objects by their given keys, arrays element by
/// element with the same length, other values equal. The path of the first difference.
pub fn contains(actual: &Value, expected: &Value, at: &str) -> Result<(), String> {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, v) in e {
                let here = format!("{at}.{k}");
                match a.get(k) {
                    Some(av) => contains(av, v, &here)?,
                    None if v.is_null() => {}
                    None => return Err(format!("{here} is missing (expected {v})")),
                }
            }
            Ok(())
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                return Err(format!("{at} has {} entries, expected {}", a.len(), e.len()));
            }
            e.iter().zip(a).enumerate().try_for_each(|(n, (ev, av))| contains(av, ev, &format!("{at}[{n}]")))
        }
        (e, a) if e == a => Ok(()),
        (e, a) => Err(format!("{at} is {a}, expected {e}")),
    }
}
