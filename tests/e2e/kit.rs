//! The tools a plugin author uses, run as an author would: the conformance kit passes every
//! built-in plugin and fails a careless one for each rule it breaks; `plugin new` makes a crate,
//! outside this repository, that builds and passes the kit; `plugin run` calls one export.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::*;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// `plugin test`, sharing the test servers' compiled-code cache (the interpreters'
/// components take seconds to compile, once).
fn kit(wasm: &Path, fixtures: &Path, extra: &[&str]) -> Output {
    Command::new(bin())
        .args(["plugin", "test"])
        .arg(wasm)
        .arg("--fixtures")
        .arg(fixtures)
        .args(extra)
        .env("HELPDESK_PLUGIN_CACHE", cache_dir())
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn every_built_in_plugin_passes_the_kit() {
    for (wasm, fixtures) in [
        ("telegram.wasm", "plugins/telegram/fixtures"),
        ("whatsapp.wasm", "plugins/whatsapp/fixtures"),
        ("facebook.wasm", "plugins/facebook/fixtures"),
        ("instagram.wasm", "plugins/instagram/fixtures"),
        ("gbp.wasm", "plugins/gbp/fixtures"),
        ("youtube.wasm", "plugins/youtube/fixtures"),
        ("tiktok.wasm", "plugins/tiktok/fixtures"),
        ("x.wasm", "plugins/x/fixtures"),
        ("linkedin.wasm", "plugins/linkedin/fixtures"),
        ("viber.wasm", "plugins/viber/fixtures"),
        ("twilio.wasm", "plugins/twilio/fixtures"),
        ("line.wasm", "plugins/line/fixtures"),
        ("wechat.wasm", "plugins/wechat/fixtures"),
        ("example_channel.wasm", "plugins/examples/fixtures"),
        ("example_typescript.wasm", "plugins/examples/fixtures"),
        ("example_python.wasm", "plugins/examples/fixtures"),
    ] {
        let out = kit(&plugin_dir().join(wasm), &repo().join(fixtures), &[]);
        let report = text(&out);
        assert!(out.status.success(), "{wasm}:\n{report}");
        assert!(report.contains(" 0 failed") && report.contains("ok    errors:") && report.contains("ok    describe:"), "{wasm}:\n{report}");
    }
}

#[test]
fn the_kit_fails_a_plugin_for_each_rule_it_breaks() {
    let sloppy = test_plugin_dir().join("sloppy.wasm");
    let fixtures = repo().join("plugins/examples/fixtures");
    let clean = kit(&sloppy, &fixtures, &[]);
    assert!(clean.status.success(), "careful, it passes:\n{}", text(&clean));
    for (rule, says) in [
        ("hosts", "FAIL  fetch-first-page: hosts: asked for https://telemetry.example.net:443, which it does not declare"),
        ("bounds", "FAIL  fetch-first-page: bounds: returned an event out of the host's bounds: an author name of 1000 bytes"),
        ("ids", "FAIL  fetch-first-page: stable ids: the same data gave ids"),
        ("cursor", "FAIL  fetch-first-page: cursor: a page with events kept the old cursor"),
        ("errors", "FAIL  fetch-unauthorized: expected result: expected the error `unauthorized`"),
        ("describe", "FAIL  describe: every declared action is performed: declares `like` on private_message but perform answers unsupported"),
    ] {
        let out = kit(&sloppy, &fixtures, &["--config", &format!("break={rule}")]);
        let report = text(&out);
        assert!(!out.status.success(), "breaking `{rule}` passed:\n{report}");
        assert!(report.contains(says), "breaking `{rule}` should say `{says}`:\n{report}");
    }
    // Missing error fixtures are a failure of their own.
    let partial = tempfile::tempdir().unwrap();
    for f in ["defaults.json", "check.json", "fetch-first-page.json"] {
        std::fs::copy(fixtures.join(f), partial.path().join(f)).unwrap();
    }
    let report = text(&kit(&sloppy, partial.path(), &[]));
    assert!(report.contains("FAIL  errors: refused credentials and throttling are recorded: no fixture shows the platform refusing the credentials"), "{report}");
}

#[test]
fn a_new_plugin_builds_outside_the_repository_and_passes_the_kit() {
    let outside = tempfile::tempdir().unwrap();
    let dir = outside.path().join("mastodon");
    let out = Command::new(bin()).args(["plugin", "new"]).arg(&dir).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(dir.join("helpdesk-plugin-sdk/wit/channel.wit").exists(), "the SDK comes with its contract");
    let again = Command::new(bin()).args(["plugin", "new"]).arg(&dir).output().unwrap();
    assert!(!again.status.success() && text(&again).contains("is not empty"), "{}", text(&again));

    // Built as its README says, with a target directory kept between runs.
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let target = repo().join("target/plugin-new");
    let built = Command::new(&cargo)
        .args(["build", "--release", "--target", "wasm32-wasip2"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .unwrap();
    assert!(built.status.success(), "{}", text(&built));
    let wasm = target.join("wasm32-wasip2/release/mastodon.wasm");
    let check = Command::new(bin()).args(["plugin", "check"]).arg(&wasm).output().unwrap();
    assert!(text(&check).contains("a channel plugin for Mastodon (mastodon)"), "{}", text(&check));
    let out = kit(&wasm, &dir.join("fixtures"), &[]);
    assert!(out.status.success(), "{}", text(&out));
}

#[tokio::test]
async fn the_example_channel_in_rust_typescript_and_python_works_in_a_running_helpdesk() {
    use helpdesk_testkit::example::ExampleEmulator;
    let langs = [("rs", "example_channel"), ("ts", "example_typescript"), ("py", "example_python")];
    let mut emus = Vec::new();
    let mut channels = String::new();
    for (id, plugin) in langs {
        let emu = ExampleEmulator::start("example-token").await.unwrap();
        channels.push_str(&emu.channel_toml(id, plugin));
        emus.push(emu);
    }
    let server = Server::start(&channels).await;
    for ((id, _), emu) in langs.iter().zip(&emus) {
        let ch = server.channel(id).await;
        // The Rust example follows the SDK; the TypeScript and Python ones stay on 0.3.0, which
        // the host still loads.
        assert_eq!(ch["contract"], if *id == "rs" { "0.7.0" } else { "0.3.0" }, "{ch}");
        emu.customer_writes("c1", "Ann", &format!("question via {id}"));
        let found = server.wait_tickets(&format!("q=question%20{id}"), 1, std::time::Duration::from_secs(30)).await;
        assert_eq!(found.len(), 1, "{id}: the message became a ticket: {}", server.channel(id).await);
        let ticket = found[0]["id"].as_str().unwrap();
        let (status, out) = server.post(&format!("/api/v1/tickets/{ticket}/actions"), serde_json::json!({"type": "reply", "text": format!("answer via {id}")})).await;
        assert_eq!(status, 200, "{id}: {out}");
        assert_eq!(out["message"]["text"], format!("answer via {id}"));
        let sent = emu.sent();
        assert_eq!((sent.len(), sent[0]["conversation"].as_str(), sent[0]["reply_to"].as_str()), (1, Some("c1"), Some("m1")), "{id}");
        assert_eq!(server.channel(id).await["health"]["state"], "ok");
    }
}

#[tokio::test]
async fn plugin_run_calls_one_export_against_the_platform() {
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    emu.private_text(&User::new(31, "Ann", None, None), "hello from the platform");
    emu.add_file("F1", "photos/f1.jpg", helpdesk_testkit::PHOTO_PNG);
    let saved = tempfile::tempdir().unwrap();
    let out_file = saved.path().join("f1.png").display().to_string();
    let (base, host) = (emu.base_url(), emu.host());
    let run = move |export: &[&str]| {
        let out = Command::new(bin())
            .args(["plugin", "run"])
            .arg(plugin_dir().join("telegram.wasm"))
            .args(["--secret", &format!("bot_token={TOKEN}"), "--config", &format!("base_url={base}"), "--config", "long_poll_seconds=0", "--allow", &host])
            .args(export)
            .output()
            .unwrap();
        (out.status.success(), text(&out))
    };
    let media = ["media", "--kind", "private_message", "--platform-id", "31:1", "--thread-key", "31", "--attachment", "image", "--file-id", "F1", "--out", &out_file];
    let media: Vec<String> = media.iter().map(|s| s.to_string()).collect();
    let (ok, out, got) = tokio::task::spawn_blocking(move || {
        (run(&["fetch"]), run(&["check"]), run(&media.iter().map(String::as_str).collect::<Vec<_>>()))
    })
    .await
    .unwrap();
    assert!(got.0 && got.1.contains(&format!("\"bytes\": {}", helpdesk_testkit::PHOTO_PNG.len())), "{}", got.1);
    assert_eq!(std::fs::read(saved.path().join("f1.png")).unwrap(), helpdesk_testkit::PHOTO_PNG, "the file Telegram keeps under F1");
    assert!(ok.0, "{}", ok.1);
    let page: serde_json::Value = serde_json::from_str(&ok.1[ok.1.find('{').unwrap()..]).unwrap();
    assert_eq!(page["events"][0]["text"], "hello from the platform", "{page}");
    assert!(page["next_cursor"].is_string());
    assert!(out.0 && out.1.contains("\"account\": \"bot @"), "{}", out.1);

    let refused = Command::new(bin()).args(["plugin", "run"]).arg(plugin_dir().join("telegram.wasm")).args(["--config", "oops", "fetch"]).output().unwrap();
    assert!(!refused.status.success() && text(&refused).contains("is not key=value"), "{}", text(&refused));
}
