//! Fuzzing each plugin's webhook parsing through the real component: captured real payloads,
//! mutated (bytes flipped, cut short, a JSON value replaced by something odd) and correctly
//! signed, so the mutation reaches the parser rather than the signature check. A plugin may
//! refuse a delivery, and the host may refuse what it returns (over-long names); it must never
//! crash or overrun its budget.
//! Each plugin is fuzzed for `HELPDESK_FUZZ_SECONDS` (10 by default, so about 40 s in CI);
//! `HELPDESK_FUZZ_SECONDS=600 cargo nextest run --test fuzz` runs it longer.

mod support;

use helpdesk::config::PluginsFile;
use helpdesk::plugins::{PluginError, Runtime, WebhookRequest};
use helpdesk::store::Store;
use helpdesk_testkit::graph::GraphEmulator;
use proptest::prelude::*;
use serde_json::Value;
use std::sync::Arc;
use support::*;

fn budget() -> std::time::Duration {
    std::time::Duration::from_secs(std::env::var("HELPDESK_FUZZ_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(10))
}

/// Replace the `n`th leaf of `v` (counting in document order) with `with`.
fn replace_leaf(v: &mut Value, n: &mut usize, with: &Value) -> bool {
    match v {
        Value::Object(m) => m.values_mut().any(|c| replace_leaf(c, n, with)),
        Value::Array(a) => a.iter_mut().any(|c| replace_leaf(c, n, with)),
        leaf => {
            if *n == 0 {
                *leaf = with.clone();
                return true;
            }
            *n -= 1;
            false
        }
    }
}

fn odd_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)),
        "\\PC{0,64}".prop_map(Value::from),
        Just(Value::String("x".repeat(200_000))),
        Just(serde_json::json!([[[[[[[[[[[]]]]]]]]]]])),
        Just(serde_json::json!({"id": "", "text": null, "from": {}})),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    Leaf(usize, Value),
    Bytes(Vec<(usize, u8)>),
    Cut(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), odd_value()).prop_map(|(n, v)| Mutation::Leaf(n, v)),
        proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8).prop_map(Mutation::Bytes),
        any::<usize>().prop_map(Mutation::Cut),
    ]
}

fn mutate(body: &[u8], m: &Mutation) -> Vec<u8> {
    match m {
        Mutation::Leaf(n, with) => {
            let Ok(mut v) = serde_json::from_slice::<Value>(body) else {
                return body.to_vec();
            };
            let mut n = n % 64;
            replace_leaf(&mut v, &mut n, with);
            serde_json::to_vec(&v).unwrap()
        }
        Mutation::Bytes(flips) => {
            let mut b = body.to_vec();
            for (at, byte) in flips {
                let len = b.len().max(1);
                if let Some(x) = b.get_mut(at % len) {
                    *x = *byte;
                }
            }
            b
        }
        Mutation::Cut(at) => body[..at % (body.len() + 1)].to_vec(),
    }
}

struct Target {
    plugin: &'static str,
    fixtures: Vec<&'static str>,
    toml: String,
    sign: fn(&[u8]) -> Vec<(String, String)>,
}

fn meta_headers(body: &[u8]) -> Vec<(String, String)> {
    vec![
        ("content-type".into(), "application/json".into()),
        ("x-hub-signature-256".into(), GraphEmulator::sign(body)),
    ]
}

fn telegram_headers(_: &[u8]) -> Vec<(String, String)> {
    vec![
        ("content-type".into(), "application/json".into()),
        ("x-telegram-bot-api-secret-token".into(), SECRET.into()),
    ]
}

fn line_headers(body: &[u8]) -> Vec<(String, String)> {
    vec![("content-type".into(), "application/json".into()), ("x-line-signature".into(), helpdesk_testkit::line::LineEmulator::sign(body))]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_plugin_survives_mutated_real_webhooks() {
    let graph = GraphEmulator::start().await.unwrap();
    let telegram = TelegramEmulator::start(TOKEN).await.unwrap();
    let line = helpdesk_testkit::line::LineEmulator::start().await.unwrap();
    let fixtures = |prefix: &[&str]| -> Vec<&'static str> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/real-payloads");
        let mut names: Vec<&'static str> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".json") && prefix.iter().any(|p| n.starts_with(p)))
            .map(|n| &*Box::leak(n.into_boxed_str()))
            .collect();
        names.sort();
        names
    };
    let targets = [
        Target {
            plugin: "telegram",
            fixtures: fixtures(&["telegram-"]),
            toml: telegram_channel("fz-telegram", &telegram, false, TOKEN),
            sign: telegram_headers,
        },
        Target {
            plugin: "whatsapp",
            fixtures: fixtures(&["whatsapp-"]),
            toml: graph.whatsapp_channel_toml("fz-whatsapp", "106540352242922"),
            sign: meta_headers,
        },
        Target {
            plugin: "facebook",
            fixtures: fixtures(&["facebook-", "messenger-"]),
            toml: graph.facebook_channel_toml("fz-facebook", "1234567890"),
            sign: meta_headers,
        },
        Target {
            plugin: "instagram",
            fixtures: fixtures(&["instagram-"]),
            toml: graph.instagram_channel_toml("fz-instagram", "17841400000000000", "1234567890"),
            sign: meta_headers,
        },
        Target { plugin: "line", fixtures: fixtures(&["line-"]), toml: line.channel_toml("fz-line"), sign: line_headers },
    ];
    let runtime = Runtime::new(Some(cache_dir())).unwrap();
    let store = Store::open("mem://").await.unwrap();
    for t in &targets {
        assert!(!t.fixtures.is_empty(), "{}: no fixtures", t.plugin);
        let file = PluginsFile::parse(&format!("plugin_dir = \"{}\"\n{}", plugin_dir().display(), t.toml)).unwrap();
        let config = &file.channels[0];
        let plugin = runtime.load(&plugin_dir().join(format!("{}.wasm", t.plugin))).await.unwrap();
        let ctx = runtime.channel_context(config, config.resolve_secrets().unwrap(), Arc::new(store.clone()));
        let bodies: Vec<Vec<u8>> = t.fixtures.iter().map(|f| fixture(f)).collect();
        let strategy = (0..bodies.len(), mutation());
        let handle = tokio::runtime::Handle::current();
        let refused = std::sync::atomic::AtomicUsize::new(0);
        let tried = std::sync::atomic::AtomicUsize::new(0);
        let deadline = std::time::Instant::now() + budget();
        // Rounds of freshly seeded cases until the time is up.
        while std::time::Instant::now() < deadline {
            let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
                cases: 25,
                failure_persistence: None,
                ..Default::default()
            });
            let result = runner.run(&strategy, |(n, m)| {
                tried.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let body = mutate(&bodies[n], &m);
                let req = WebhookRequest {
                    method: "POST".into(),
                    url: format!("/webhooks/{}", config.id),
                    headers: (t.sign)(&body),
                    body,
                };
                let outcome = tokio::task::block_in_place(|| handle.block_on(plugin.handle_webhook(ctx.clone(), req)));
                match outcome {
                    Err(e @ (PluginError::Trap(_) | PluginError::CpuBudget(_) | PluginError::Memory(_) | PluginError::Timeout(_))) => {
                        Err(TestCaseError::fail(format!("{} on {} mutated by {m:?}: {e}", t.plugin, t.fixtures[n])))
                    }
                    // The host's bounds caught what the plugin passed on (a 200 KB name): the
                    // delivery is refused whole, nothing is stored. Counted, not a crash.
                    Err(PluginError::Malformed(_)) => {
                        refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        Ok(())
                    }
                    _ => Ok(()),
                }
            });
            if let Err(e) = result {
                panic!("{e}");
            }
        }
        println!(
            "{}: {} mutated deliveries of {} real payloads, no crash; {} refused by the host's bounds",
            t.plugin,
            tried.load(std::sync::atomic::Ordering::Relaxed),
            bodies.len(),
            refused.load(std::sync::atomic::Ordering::Relaxed)
        );
    }
}
