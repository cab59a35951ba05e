//! `helpdesk plugin test`: the conformance kit. Runs a component, in the server's sandbox,
//! against recorded platform exchanges (`fixture.rs`) and checks what every case expects
//! plus the contract's rules:
//! - **hosts**: it reaches only the hosts it declares;
//! - **bounds**: what it returns is within the host's limits;
//! - **stable ids**: the same data gives the same ids twice (or, its state permitting, some of them);
//! - **cursor**: a page with events moves the cursor, and fetching from it asks for more;
//! - **errors**: the fixtures show a refused credential (`unauthorized`) and a throttle
//!   (`rate_limited`), and the plugin answers them with those variants;
//! - **describe**: every action it declares is one `perform` takes (never `unsupported`).

use super::fixture::{self, Call, Defaults, Fixture};
use crate::config::AllowedHost;
use crate::model::{ActionKind, ChannelEvent, Direction, Interaction, Kind};
use crate::plugins::{ActionTarget, ChannelFailure, HttpAnswer, KvBackend, Plugin, PluginError, Replay, Runtime, WebhookRequest};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// What the kit found: one line per case and rule, passed or failed.
#[derive(Default, Debug)]
pub struct KitReport {
    pub passed: Vec<String>,
    pub failed: Vec<String>,
}

impl KitReport {
    fn check(&mut self, name: &str, result: Result<(), String>) {
        match result {
            Ok(()) => self.passed.push(name.to_string()),
            Err(why) => self.failed.push(format!("{name}: {why}")),
        }
    }

    /// A case's check, with the case's description on a failure.
    fn check_case(&mut self, f: &Fixture, rule: &str, result: Result<(), String>) {
        let about = if f.description.is_empty() { String::new() } else { format!(" (case: {})", f.description) };
        self.check(&format!("{}: {rule}", f.name), result.map_err(|why| format!("{why}{about}")));
    }
}

/// The recorded exchanges of one run, and what the plugin asked.
struct Recording {
    exchanges: Vec<(fixture::ExpectedRequest, HttpAnswer)>,
    used: Mutex<Vec<bool>>,
    /// Answer everything with this instead (the kit's probes).
    answer_all: Option<HttpAnswer>,
    asked: Mutex<Vec<WebhookRequest>>,
    problems: Mutex<Vec<String>>,
    refused: Mutex<Vec<String>>,
}

impl Recording {
    fn new(dir: &Path, f: Option<&Fixture>, answer_all: Option<HttpAnswer>) -> anyhow::Result<Arc<Self>> {
        let mut exchanges = Vec::new();
        for x in f.map(|f| f.exchanges.as_slice()).unwrap_or_default() {
            let headers = x.response.headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            let answer = HttpAnswer { status: x.response.status, headers, body: x.response.body.bytes(dir)? };
            exchanges.push((x.request.clone(), answer));
        }
        let used = Mutex::new(vec![false; exchanges.len()]);
        Ok(Arc::new(Recording { exchanges, used, answer_all, asked: Default::default(), problems: Default::default(), refused: Default::default() }))
    }

    fn unused(&self) -> Vec<String> {
        let used = self.used.lock().unwrap();
        self.exchanges.iter().zip(used.iter()).filter(|(_, u)| !**u).map(|((r, _), _)| format!("{} {}", r.method, r.url)).collect()
    }
}

fn url_matches(pattern: &str, url: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => url.starts_with(prefix),
        None => pattern == url,
    }
}

impl Replay for Recording {
    fn answer(&self, req: &WebhookRequest) -> Result<HttpAnswer, String> {
        self.asked.lock().unwrap().push(req.clone());
        if let Some(a) = &self.answer_all {
            return Ok(a.clone());
        }
        let mut used = self.used.lock().unwrap();
        let found = self.exchanges.iter().enumerate().find(|(n, (r, _))| !used[*n] && r.method.eq_ignore_ascii_case(&req.method) && url_matches(&r.url, &req.url));
        let Some((n, (expected, answer))) = found else {
            self.problems.lock().unwrap().push(format!("asked for {} {}, which the fixture does not record", req.method, req.url));
            return Err(format!("the fixture records no answer for {} {}", req.method, req.url));
        };
        used[n] = true;
        for (name, value) in &expected.headers {
            let sent = req.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
            if sent != Some(value.as_str()) {
                self.problems.lock().unwrap().push(format!("{} {}: header `{name}` is {sent:?}, expected {value:?}", req.method, req.url));
            }
        }
        if let Some(want) = &expected.json {
            let sent: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            if let Err(why) = fixture::contains(&sent, want, "body") {
                self.problems.lock().unwrap().push(format!("{} {}: {why}", req.method, req.url));
            }
        }
        Ok(answer.clone())
    }

    fn refused(&self, origin: &str) {
        self.refused.lock().unwrap().push(origin.to_string());
    }
}

/// What one call gave back.
enum Outcome {
    Events { events: Vec<ChannelEvent>, next_cursor: Option<String>, left_out: Vec<String>, status: Option<u16> },
    Created(Option<Interaction>),
    Account(String),
    Failed(PluginError),
}

impl Outcome {
    fn ids(&self) -> Vec<String> {
        match self {
            Outcome::Events { events, .. } => events.iter().map(event_id).collect(),
            Outcome::Created(Some(i)) => vec![i.platform_id.clone()],
            _ => Vec::new(),
        }
    }
}

fn event_id(e: &ChannelEvent) -> String {
    match e {
        ChannelEvent::Interaction(i) => i.platform_id.clone(),
        ChannelEvent::Contact { author, .. } => format!("contact:{}", author.id),
        ChannelEvent::Removed { platform_id } | ChannelEvent::Delivery { platform_id, .. } | ChannelEvent::Reaction { platform_id, .. } => platform_id.clone(),
    }
}

fn failure_name(f: &ChannelFailure) -> &'static str {
    match f {
        ChannelFailure::Unauthorized(_) => "unauthorized",
        ChannelFailure::RateLimited { .. } => "rate_limited",
        ChannelFailure::InvalidConfig(_) => "invalid_config",
        ChannelFailure::Transient(_) => "transient",
        ChannelFailure::Permanent(_) => "permanent",
        ChannelFailure::Unsupported(_) => "unsupported",
    }
}

struct Kit<'a> {
    runtime: &'a Runtime,
    plugin: &'a Plugin,
    dir: &'a Path,
    defaults: Defaults,
    overrides: BTreeMap<String, String>,
    hosts: Vec<AllowedHost>,
}

impl Kit<'_> {
    fn settings(&self, f: Option<&Fixture>) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
        let mut config = self.defaults.config.clone();
        let mut secrets = self.defaults.secrets.clone();
        if let Some(f) = f {
            config.extend(f.config.clone());
            secrets.extend(f.secrets.clone());
        }
        config.extend(self.overrides.clone());
        (config, secrets)
    }

    async fn call(&self, f: &Fixture, call: &Call, replay: Arc<Recording>, kv: Arc<dyn KvBackend>) -> anyhow::Result<Outcome> {
        let (config, secrets) = self.settings(Some(f));
        let ctx = self.runtime.custom_context("kit", config, secrets.clone(), self.hosts.clone(), kv, Some(replay));
        Ok(match call {
            Call::Check => match self.plugin.check(ctx).await {
                Ok(a) => Outcome::Account(a),
                Err(e) => Outcome::Failed(e),
            },
            Call::Fetch { cursor } => match self.plugin.fetch(ctx, cursor.clone()).await {
                Ok(p) => Outcome::Events { events: p.events, next_cursor: p.next_cursor, left_out: p.dropped, status: None },
                Err(e) => Outcome::Failed(e),
            },
            Call::Webhook { method, path, headers, body } => {
                let body = body.bytes(self.dir)?;
                let headers = headers.iter().map(|(k, v)| Ok((k.clone(), sign(v, &body, &secrets)?))).collect::<anyhow::Result<Vec<_>>>()?;
                match self.plugin.handle_webhook(ctx, WebhookRequest { method: method.clone(), url: path.clone(), headers, body }).await {
                    Ok(o) => Outcome::Events { events: o.events, next_cursor: None, left_out: o.dropped, status: Some(o.status) },
                    Err(e) => Outcome::Failed(e),
                }
            }
            Call::Perform { target, action } => {
                let kind: Kind = serde_json::from_value(json!(target.kind)).map_err(|e| anyhow::anyhow!("target.kind: {e}"))?;
                let action_kind: ActionKind = serde_json::from_value(json!(action.kind)).map_err(|e| anyhow::anyhow!("action.type: {e}"))?;
                let action = crate::inbox::action_from(action_kind, action.text.as_deref(), action.emoji.as_deref()).map_err(|e| anyhow::anyhow!("{e}"))?;
                let t = ActionTarget {
                    kind,
                    direction: if target.ours { Direction::Outbound } else { Direction::Inbound },
                    platform_id: target.platform_id.clone(),
                    thread_key: target.thread_key.clone(),
                    author_id: target.author_id.clone(),
                    meta: target.meta.clone().into_iter().collect(),
                };
                match self.plugin.perform(ctx, t, action).await {
                    Ok(c) => Outcome::Created(c),
                    Err(e) => Outcome::Failed(e),
                }
            }
        })
    }

    /// One case: its expectations, then the rules that apply to what it returned.
    async fn case(&self, f: &Fixture, report: &mut KitReport, seen: &mut Vec<Interaction>) -> anyhow::Result<()> {
        let kv = super::memory_kv().await?;
        let rec = Recording::new(self.dir, Some(f), None)?;
        let out = self.call(f, &f.call, rec.clone(), kv.clone()).await?;

        let mut problems: Vec<String> = rec.problems.lock().unwrap().clone();
        problems.extend(rec.unused().into_iter().map(|u| format!("did not ask for {u}")));
        report.check_case(f, "the requests the fixture records", first(problems));
        let refused = rec.refused.lock().unwrap().clone();
        report.check_case(f, "hosts",
            first(refused.into_iter().map(|o| format!("asked for {o}, which it does not declare in describe().allowed-hosts")).collect()),
        );
        let bounds = match &out {
            Outcome::Events { left_out, .. } => first(left_out.iter().map(|w| format!("returned an event out of the host's bounds: {w}")).collect()),
            Outcome::Failed(PluginError::Malformed(m)) => Err(format!("returned what the host refuses: {m}")),
            _ => Ok(()),
        };
        report.check_case(f, "bounds", bounds);
        report.check_case(f, "expected result", self.expected(f, &out));

        if let Outcome::Events { events, .. } = &out {
            seen.extend(events.iter().filter_map(|e| match e {
                ChannelEvent::Interaction(i) => Some(i.clone()),
                _ => None,
            }));
        }
        // The same data again must give the same ids (the host stores by them).
        if !out.ids().is_empty() {
            let again = self.call(f, &f.call, Recording::new(self.dir, Some(f), None)?, kv.clone()).await?;
            // Again it may leave out what its state says was delivered (a post looked up once),
            // but what it gives must carry the ids it gave the first time.
            let (a, b) = (out.ids(), again.ids());
            let stable = !b.is_empty() && b.iter().all(|id| a.contains(id));
            report.check_case(f, "stable ids", if stable { Ok(()) } else { Err(format!("the same data gave ids {a:?}, then {b:?}")) });
        }
        if let (Call::Fetch { cursor }, Outcome::Events { events, next_cursor, .. }) = (&f.call, &out) {
            if !events.is_empty() {
                let rule = match next_cursor {
                    None => Err("a page with events kept the old cursor: the same events would be fetched again".to_string()),
                    Some(c) if Some(c) == cursor.as_ref() => Err(format!("a page with events returned the cursor it was given ({c})")),
                    Some(c) => {
                        let probe = Recording::new(self.dir, None, None)?;
                        let _ = self.call(f, &Call::Fetch { cursor: Some(c.clone()) }, probe.clone(), kv.clone()).await?;
                        let first_asked = |r: &Recording| r.asked.lock().unwrap().first().map(|q| (q.method.clone(), q.url.clone(), q.body.clone()));
                        if first_asked(&probe).is_some() && first_asked(&probe) == first_asked(&rec) {
                            Err(format!("fetching from the cursor it returned ({c}) asks for the same page again"))
                        } else {
                            Ok(())
                        }
                    }
                };
                report.check_case(f, "cursor", rule);
            }
        }
        Ok(())
    }

    fn expected(&self, f: &Fixture, out: &Outcome) -> Result<(), String> {
        let e = &f.expect;
        if let Some(want) = &e.error {
            return match out {
                Outcome::Failed(PluginError::Channel(c)) if failure_name(c) == want => match (c, e.retry_after_ms) {
                    (ChannelFailure::RateLimited { retry_after_ms, .. }, Some(min)) if *retry_after_ms < min => {
                        Err(format!("rate_limited for {retry_after_ms} ms; the platform asked for {min} ms"))
                    }
                    _ => Ok(()),
                },
                Outcome::Failed(other) => Err(format!("expected the error `{want}`, got: {other}")),
                _ => Err(format!("expected the error `{want}`, got a success")),
            };
        }
        match out {
            Outcome::Failed(err) => Err(format!("failed: {err}")),
            Outcome::Events { events, next_cursor, status, .. } => {
                if let Some(want) = &e.events {
                    let got: Vec<Value> = events.iter().map(|ev| serde_json::to_value(ev).unwrap_or(Value::Null)).collect();
                    fixture::contains(&Value::Array(got), &Value::Array(want.clone()), "events")?;
                }
                match (&e.next_cursor, next_cursor) {
                    (Some(Value::Bool(true)), None) => return Err("expected a new cursor, got none".into()),
                    (Some(Value::String(want)), got) if got.as_deref() != Some(want) => return Err(format!("next_cursor is {got:?}, expected {want:?}")),
                    _ => {}
                }
                match (e.status, status) {
                    (Some(want), Some(got)) if want != *got => Err(format!("answered the platform {got}, expected {want}")),
                    _ => Ok(()),
                }
            }
            Outcome::Created(created) => match (&e.created, created) {
                (Some(want), Some(got)) => fixture::contains(&serde_json::to_value(got).unwrap_or(Value::Null), want, "created"),
                (Some(_), None) => Err("expected the created message, got none".into()),
                _ => Ok(()),
            },
            Outcome::Account(account) => match &e.account {
                Some(want) if !account.contains(want.as_str()) => Err(format!("the connection test said {account:?}, expected it to mention {want:?}")),
                _ => Ok(()),
            },
        }
    }

    /// Every declared action, performed on a message like the ones the fixtures produced,
    /// with every request answered 200 `{}`: none may be `unsupported`.
    async fn describe_rule(&self, seen: &[Interaction], report: &mut KitReport) -> anyhow::Result<()> {
        let mut problems = Vec::new();
        let kv = super::memory_kv().await?;
        let (config, _) = self.settings(None);
        for cap in &self.plugin.info().capabilities_for(&config) {
            let like = seen.iter().find(|i| i.kind == cap.kind);
            for action in &cap.actions {
                let target = ActionTarget {
                    kind: cap.kind,
                    // An action offered only on our own messages is tried on one of ours.
                    direction: cap.action_only.get(action).copied().unwrap_or(Direction::Inbound),
                    platform_id: like.map(|i| i.platform_id.clone()).unwrap_or_else(|| "kit-1".into()),
                    thread_key: like.map(|i| i.thread_key.clone()).unwrap_or_else(|| "kit".into()),
                    author_id: like.map(|i| i.author.id.clone()).unwrap_or_else(|| "kit-user".into()),
                    meta: like.map(|i| i.meta.clone()).unwrap_or_default(),
                };
                let act = crate::inbox::action_from(*action, Some("kit reply"), Some("👍")).map_err(|e| anyhow::anyhow!("{e}"))?;
                let ok = HttpAnswer { status: 200, headers: vec![("content-type".into(), "application/json".into())], body: b"{}".to_vec() };
                let (config, secrets) = self.settings(None);
                let ctx = self.runtime.custom_context("kit", config, secrets, self.hosts.clone(), kv.clone(), Some(Recording::new(self.dir, None, Some(ok))?));
                if let Err(PluginError::Channel(ChannelFailure::Unsupported(m))) = self.plugin.perform(ctx, target, act).await {
                    problems.push(format!("declares `{action}` on {} but perform answers unsupported: {m}", cap.kind.as_str()));
                }
            }
        }
        report.check("describe: every declared action is performed", first(problems));
        Ok(())
    }
}

/// The first problem, with how many more.
fn first(problems: Vec<String>) -> Result<(), String> {
    match problems.len() {
        0 => Ok(()),
        1 => Err(problems[0].clone()),
        n => Err(format!("{} (and {} more)", problems[0], n - 1)),
    }
}

/// How a fixture's header signs the body.
#[derive(PartialEq)]
enum Scheme {
    /// Meta's `sha256=<hex>`.
    Hex,
    /// X's `sha256=<base64>`.
    Base64,
    /// TikTok's `t=<now>,s=<hex of "t.body">`.
    Timestamped,
    /// Viber's bare hex.
    BareHex,
}

/// A header value with `{hmac-sha256:SECRET}`, `{hmac-sha256-base64:SECRET}`,
/// `{hmac-sha256-hex-bare:SECRET}` or `{timestamped-hmac-sha256:SECRET}` replaced by the body's
/// signature with that secret.
fn sign(value: &str, body: &[u8], secrets: &BTreeMap<String, String>) -> anyhow::Result<String> {
    use base64::Engine;
    use hmac::Mac;
    let schemes = [
        ("{hmac-sha256:", Scheme::Hex),
        ("{hmac-sha256-base64:", Scheme::Base64),
        ("{hmac-sha256-hex-bare:", Scheme::BareHex),
        ("{timestamped-hmac-sha256:", Scheme::Timestamped),
    ];
    let Some((scheme, rest)) = schemes.into_iter().find_map(|(prefix, scheme)| Some((scheme, value.strip_prefix(prefix)?))) else {
        return Ok(value.to_string());
    };
    let timestamped = scheme == Scheme::Timestamped;
    let Some(name) = rest.strip_suffix('}') else { return Ok(value.to_string()) };
    let key = secrets.get(name).ok_or_else(|| anyhow::anyhow!("a header is signed with secret `{name}`, which the fixture does not set"))?;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).expect("any key length");
    let at = crate::model::now_ms() / 1000;
    if timestamped {
        mac.update(format!("{at}.").as_bytes());
    }
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    Ok(match scheme {
        Scheme::Hex => format!("sha256={}", hex::encode(digest)),
        Scheme::Base64 => format!("sha256={}", base64::engine::general_purpose::STANDARD.encode(digest)),
        Scheme::Timestamped => format!("t={at},s={}", hex::encode(digest)),
        Scheme::BareHex => hex::encode(digest),
    })
}

/// Run the kit: every fixture of `dir`, then the rules over all of them. `overrides` set
/// config values for every case (to try a plugin's modes).
pub async fn test_plugin(wasm: &Path, dir: &Path, overrides: &[String]) -> anyhow::Result<KitReport> {
    let (runtime, plugin) = super::load(wasm).await?;
    let (defaults, fixtures) = fixture::load_dir(dir)?;
    let hosts = plugin.info().allowed_hosts.iter().map(|h| AllowedHost::parse(h).map_err(anyhow::Error::msg)).collect::<anyhow::Result<Vec<_>>>()?;
    let kit = Kit { runtime: &runtime, plugin: &plugin, dir, defaults, overrides: super::pairs(overrides, "config")?, hosts };
    let mut report = KitReport::default();
    let mut seen = Vec::new();
    for f in &fixtures {
        kit.case(f, &mut report, &mut seen).await?;
    }
    if !plugin.info().allowed_hosts.is_empty() {
        let shows = |variant: &str| fixtures.iter().any(|f| f.expect.error.as_deref() == Some(variant));
        let missing: Vec<String> = [("unauthorized", "the platform refusing the credentials (HTTP 401)"), ("rate_limited", "the platform throttling (HTTP 429)")]
            .iter()
            .filter(|(v, _)| !shows(v))
            .map(|(v, what)| format!("no fixture shows {what} with \"expect\": {{\"error\": \"{v}\"}}"))
            .collect();
        report.check("errors: refused credentials and throttling are recorded", first(missing));
    }
    kit.describe_rule(&seen, &mut report).await?;
    Ok(report)
}
