//! The web UI in a real browser: tests/web/ui.test.mjs drives Debian's Chromium through
//! playwright-core against the real server and the Telegram emulator started here.

mod support;

use helpdesk_testkit::google::GoogleEmulator;
use helpdesk_testkit::graph::GraphEmulator;
use helpdesk_testkit::telegram::TelegramEmulator;
use helpdesk_testkit::twilio::TwilioEmulator;
use serde_json::json;
use std::path::Path;
use support::*;

const TOKEN: &str = "42:WEB-TEST";

#[tokio::test(flavor = "multi_thread")]
async fn agents_work_the_inbox_in_a_browser() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    assert!(
        root.join("web/dist/index.html").exists(),
        "the web UI is not built: run `./dev web` (./dev test does it)"
    );
    assert!(
        root.join("tests/web/node_modules/playwright-core").exists(),
        "playwright-core is not installed: run `npm install --prefix tests/web` (./dev test does it)"
    );
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    // Real mail servers: an email channel, the helpdesk's own mailbox for consultations, a
    // customer and a consultant; the browser's tests send mail through an outbox directory.
    let mail = std::sync::Arc::new(
        helpdesk_testkit::mail::MailServers::start(&[
            ("support@shop.test", "support-pw"),
            ("consult@shop.test", "consult-pw"),
            ("erin@customer.test", "erin-pw"),
            ("lawyer@consult.test", "lawyer-pw"),
        ])
        .expect("the mail servers"),
    );
    let outbox = mail.path().join("outbox");
    std::fs::create_dir_all(&outbox).unwrap();
    let _outbox = mail.serve_outbox(outbox.clone());
    // With a secret key, so that the admin can reconnect the channel with a new token.
    // A public URL: Twilio signs the whole URL it calls.
    let port = free_port();
    let key = Options {
        secret_key: Some("9c".repeat(32)),
        listen: Some(format!("127.0.0.1:{port}")),
        public_url: Some(format!("http://127.0.0.1:{port}")),
        env: vec![("HELPDESK_MAIL_CA".into(), mail.ca_file().display().to_string())],
        ..Options::memory()
    };
    // A shop on Google and a YouTube channel, quiet until the tests make their customers write.
    let google = GoogleEmulator::start().await.unwrap();
    // A translation provider (LibreTranslate's and DeepL's APIs) for the translation test.
    let translate = helpdesk_testkit::translate::TranslateEmulator::start("web-translate-key").await.unwrap();
    google.add_location("456", "Acme Shop Main Street");
    google.add_video("vid1", "How to descale your kettle");
    // A Facebook Page, for comments answered in public and in private.
    let graph = GraphEmulator::start().await.unwrap();
    // An SMS number.
    let twilio = TwilioEmulator::start().await.unwrap();
    let toml = [
        emu.channel_toml("tg", true, TOKEN, "web-secret"),
        google.gbp_channel_toml("gbp", &["456"], false),
        google.youtube_channel_toml("yt", 1_000_000),
        graph.facebook_channel_toml("fb", "1010101010"),
        twilio.channel_toml("sms", helpdesk_testkit::twilio::NUMBER, None),
        mail.channel_toml("mail", "support@shop.test"),
    ]
    .concat();
    let server = Server::start_with(&toml, key, None).await;
    let (status, body) = server
        .post("/api/v1/users", json!({"email": "sam@test.example", "name": "Sam Agent", "role": "agent", "password": "sam-password"}))
        .await;
    assert_eq!(status, 201, "{body}");

    let shots = root.join("tests/web/screenshots");
    let out = tokio::process::Command::new("node")
        .arg("--test")
        .arg("--test-concurrency=1")
        .arg("--test-reporter=spec")
        .arg(root.join("tests/web/ui.test.mjs"))
        .env("BASE_URL", &server.base)
        .env("EMULATOR_URL", emu.base_url())
        .env("GOOGLE_URL", google.base_url())
        .env("META_APP_SECRET", helpdesk_testkit::graph::APP_SECRET)
        .env("GRAPH_URL", graph.base_url().trim_end_matches("/v21.0"))
        .env("TWILIO_AUTH_TOKEN", helpdesk_testkit::twilio::AUTH_TOKEN)
        .env("ADMIN_EMAIL", helpdesk_testkit::server::ADMIN_EMAIL)
        .env("ADMIN_PASSWORD", helpdesk_testkit::server::ADMIN_PASSWORD)
        .env("AGENT_EMAIL", "sam@test.example")
        .env("AGENT_PASSWORD", "sam-password")
        .env("AGENT_NAME", "Sam Agent")
        .env("SCREENSHOT_DIR", &shots)
        .env("TRANSLATE_URL", translate.url())
        .env("TELEGRAM_WASM", plugin_dir().join("telegram.wasm"))
        .env("MAIL_OUTBOX", &outbox)
        .env("MAIL_DIR", mail.path().join("mail"))
        .env("MAIL_SMTPS", format!("smtps://127.0.0.1:{}", mail.smtps_port))
        .env("MAIL_IMAPS", format!("imaps://127.0.0.1:{}", mail.imaps_port))
        .output()
        .await
        .expect("run node (./dev test installs it)");
    let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    println!("{report}");
    assert!(out.status.success(), "the browser tests failed:\n{report}");
    assert!(shots.join("inbox.png").exists() && shots.join("ticket.png").exists(), "screenshots were not saved");
    println!("screenshots: {}", shots.display());
}
