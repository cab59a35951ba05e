//! `helpdesk demo`: the server with emulated platforms feeding it live traffic, so a
//! newcomer sees tickets arrive and can answer them.

use crate::accounts::{NewUser, Role};
use crate::app::{self, Paths};
use crate::config::{ChannelConfig, PluginsFile, SecretSource};
use helpdesk_testkit::{google::GoogleEmulator, graph::GraphEmulator, line::LineEmulator, linkedin::LinkedInEmulator, telegram::TelegramEmulator, tiktok::TikTokEmulator, traffic, twilio::TwilioEmulator, viber::ViberEmulator, wechat::WeChatEmulator, x::XEmulator};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

const DEMO_TOKEN: &str = "123456:DEMO-token";
const DEMO_NUMBER: &str = "1555000111";
const DEMO_PAGE: &str = "1010101010";
const DEMO_IG: &str = "17841400000000001";
const DEMO_ADMIN: &str = "admin@demo.example";
const DEMO_AGENT: &str = "sam@demo.example";
const DEMO_PASSWORD: &str = "demo-password";
/// The email channel's mailbox on the demo's mail servers.
const DEMO_SUPPORT: &str = "support@shop.test";
/// The helpdesk's own mailbox (consultations, digests) and the outside person it consults.
const DEMO_CONSULT: &str = "consult@shop.test";
const DEMO_CONSULTANT: &str = "lara@consult.test";

fn demo_mailboxes() -> Vec<(String, String)> {
    let mut boxes = vec![
        (DEMO_SUPPORT.to_string(), "demo-support-pw".to_string()),
        (DEMO_CONSULT.to_string(), "demo-consult-pw".to_string()),
        (DEMO_CONSULTANT.to_string(), "demo-lara-pw".to_string()),
    ];
    boxes.extend(traffic::email_people());
    boxes
}
/// A LinkedIn-Version the emulator serves (LinkedIn retires each about a year on).
const LINKEDIN_VERSION: &str = "202611";

pub async fn run(listen: SocketAddr, plugin_dir: PathBuf, every: f64, paths: Paths) -> anyhow::Result<()> {
    anyhow::ensure!(every > 0.0, "--every must be a positive number of seconds");
    for plugin in ["telegram", "whatsapp", "facebook", "instagram", "gbp", "youtube", "tiktok", "x", "linkedin", "viber", "twilio", "line", "wechat", "email"] {
        let wasm = plugin_dir.join(format!("{plugin}.wasm"));
        anyhow::ensure!(wasm.exists(), "{} is missing: build the plugins first (./dev demo does it)", wasm.display());
    }
    let telegram = TelegramEmulator::start(DEMO_TOKEN).await?;
    let graph = GraphEmulator::start().await?;
    let whatsapp: ChannelConfig =
        PluginsFile::parse(&graph.whatsapp_channel_toml("whatsapp", DEMO_NUMBER)).map_err(anyhow::Error::msg)?.channels.remove(0);
    let whatsapp = ChannelConfig { display_name: "WhatsApp · +1 555 000 1111".into(), ..whatsapp };
    let facebook: ChannelConfig =
        PluginsFile::parse(&graph.facebook_channel_toml_with_ads("facebook", DEMO_PAGE, "act_23850001")).map_err(anyhow::Error::msg)?.channels.remove(0);
    // Webhooks are the live path; the backfill poll runs too, against an empty emulated feed.
    let facebook = ChannelConfig { display_name: "Facebook · Acme Outdoor".into(), ..facebook };
    let instagram: ChannelConfig =
        PluginsFile::parse(&graph.instagram_channel_toml("instagram", DEMO_IG, DEMO_PAGE)).map_err(anyhow::Error::msg)?.channels.remove(0);
    let instagram = ChannelConfig { display_name: "Instagram · @acme.outdoor".into(), ..instagram };
    let google = GoogleEmulator::start().await?;
    google.add_location("4001", "Acme Outdoor · Main Street");
    google.add_location("4002", "Acme Outdoor · Harbour");
    google.add_review("4001", "Maria Rossi", 5, "Great advice on sleeping bags, thank you!");
    google.add_review("4002", "Peter Brown", 2, "The shop was closed during opening hours on Sunday.");
    google.add_video("dQw4acmeT01", "Trailhead 2: pitch it in 90 seconds");
    google.add_comment("dQw4acmeT01", None, Some("Ravi Patel"), "Does it fit two people with backpacks?", "published");
    let gbp: ChannelConfig = PluginsFile::parse(&google.gbp_channel_toml("google", &["4001", "4002"], false)).map_err(anyhow::Error::msg)?.channels.remove(0);
    let gbp = ChannelConfig { display_name: "Google · Acme Outdoor shops".into(), ..gbp };
    let youtube: ChannelConfig = PluginsFile::parse(&google.youtube_channel_toml("youtube", 10_000)).map_err(anyhow::Error::msg)?.channels.remove(0);
    let youtube = ChannelConfig { display_name: "YouTube · Acme Outdoor".into(), ..youtube };
    let tiktok_emu = TikTokEmulator::start().await?;
    tiktok_emu.add_video("7300000000000000001", "Trailhead 2 in 90 seconds ⛺ #camping #gear");
    tiktok_emu.add_ad_comment("1790000000000001", "Autumn sale · tents", "camp.with.jo", "Is the 30% also on the 4-person tent?");
    let tiktok: ChannelConfig = PluginsFile::parse(&tiktok_emu.channel_toml("tiktok", true)).map_err(anyhow::Error::msg)?.channels.remove(0);
    let tiktok = ChannelConfig { display_name: "TikTok · @acme.outdoor".into(), ..tiktok };
    let x_emu = XEmulator::start().await?;
    let x: ChannelConfig = PluginsFile::parse(&x_emu.channel_toml("x", &["trailhead"], "basic")).map_err(anyhow::Error::msg)?.channels.remove(0);
    let x = ChannelConfig { display_name: "X · @acme".into(), ..x };
    let li_emu = LinkedInEmulator::start().await?;
    let linkedin: ChannelConfig = PluginsFile::parse(&li_emu.channel_toml("linkedin", LINKEDIN_VERSION)).map_err(anyhow::Error::msg)?.channels.remove(0);
    let linkedin = ChannelConfig { display_name: "LinkedIn · Acme Outdoor".into(), ..linkedin };
    let viber_emu = ViberEmulator::start().await?;
    let viber: ChannelConfig = PluginsFile::parse(&viber_emu.channel_toml("viber", None)).map_err(anyhow::Error::msg)?.channels.remove(0);
    let viber = ChannelConfig { display_name: "Viber · Acme Outdoor".into(), ..viber };
    // Twilio signs the URL it calls: the demo's public URL is its loopback address.
    let public_url = format!("http://127.0.0.1:{}", listen.port());
    let sms_hook = format!("{public_url}/webhooks/sms");
    let twilio_emu = TwilioEmulator::start().await?;
    let sms: ChannelConfig = PluginsFile::parse(&twilio_emu.channel_toml("sms", helpdesk_testkit::twilio::NUMBER, Some(&sms_hook))).map_err(anyhow::Error::msg)?.channels.remove(0);
    let sms = ChannelConfig { display_name: "SMS · +49 157 35986865".into(), ..sms };
    let line_emu = LineEmulator::start().await?;
    let line: ChannelConfig = PluginsFile::parse(&line_emu.channel_toml("line")).map_err(anyhow::Error::msg)?.channels.remove(0);
    let line = ChannelConfig { display_name: "LINE · @acme.outdoor".into(), ..line };
    let wechat_emu = WeChatEmulator::start().await?;
    let wechat: ChannelConfig = PluginsFile::parse(&wechat_emu.channel_toml("wechat", true)).map_err(anyhow::Error::msg)?.channels.remove(0);
    let wechat = ChannelConfig { display_name: "WeChat · Acme Outdoor".into(), ..wechat };
    let channel = ChannelConfig {
        id: "telegram".into(),
        plugin: "telegram".into(),
        display_name: "Telegram · @acme_support_bot".into(),
        enabled: true,
        poll: Some(true),
        config: [
            ("base_url".to_string(), toml::Value::String(telegram.base_url())),
            ("long_poll_seconds".to_string(), toml::Value::Integer(10)),
        ]
        .into(),
        secrets: [("bot_token".to_string(), SecretSource::Inline(DEMO_TOKEN.into()))].into(),
        allowed_hosts: vec![telegram.host()],
        limits: Default::default(),
        webhook_group: None,
        reply_chains: Default::default(),
        sha256: None,
    };
    let mut channels = vec![channel, whatsapp, facebook, instagram, gbp, youtube, tiktok, x, linkedin, viber, sms, line, wechat];
    // Real mail servers (Debian's Dovecot and Postfix) for the email channel, where installed.
    let mail = match helpdesk_testkit::mail::MailServers::start(&demo_mailboxes()) {
        Ok(m) => {
            crate::mail::trust_mail_ca(m.ca_file());
            let email: ChannelConfig = PluginsFile::parse(&m.channel_toml("email", DEMO_SUPPORT)).map_err(anyhow::Error::msg)?.channels.remove(0);
            channels.push(ChannelConfig { display_name: "Email · support@shop.test".into(), ..email });
            Some(std::sync::Arc::new(m))
        }
        Err(e) => {
            println!("No email channel in this demo: {e}");
            None
        }
    };
    let file = PluginsFile { plugin_dir: Some(plugin_dir), channels };
    // A fresh demo every run: the store is in memory, the index in a scratch directory.
    let paths = Paths {
        data: paths.data.join("demo"),
        store: Some(paths.store.unwrap_or_else(|| "mem://".into())),
        cache: Some(paths.cache.unwrap_or_else(|| paths.data.join("cache"))),
        store_cache_mib: paths.store_cache_mib,
        store_login: paths.store_login,
    };
    let _ = std::fs::remove_dir_all(paths.index_dir());
    tokio::spawn(traffic::run(telegram.clone(), Duration::from_secs_f64(every)));
    let webhook = format!("http://127.0.0.1:{}/webhooks/whatsapp", listen.port());
    tokio::spawn(traffic::run_whatsapp(graph.clone(), webhook, DEMO_NUMBER.into(), Duration::from_secs_f64(every)));
    let webhook = format!("http://127.0.0.1:{}/webhooks/facebook", listen.port());
    tokio::spawn(traffic::run_facebook(graph.clone(), webhook, DEMO_PAGE.into(), Duration::from_secs_f64(every * 1.5)));
    let webhook = format!("http://127.0.0.1:{}/webhooks/instagram", listen.port());
    tokio::spawn(traffic::run_instagram(graph, webhook, DEMO_IG.into(), Duration::from_secs_f64(every * 1.5)));
    let webhook = format!("http://127.0.0.1:{}/webhooks/tiktok", listen.port());
    tokio::spawn(traffic::run_tiktok(tiktok_emu, webhook, "7300000000000000001".into(), Duration::from_secs_f64(every * 1.5)));
    let webhook = format!("http://127.0.0.1:{}/webhooks/viber", listen.port());
    tokio::spawn(traffic::run_viber(viber_emu, webhook, Duration::from_secs_f64(every * 2.0)));
    tokio::spawn(traffic::run_twilio(twilio_emu, sms_hook, Duration::from_secs_f64(every * 2.0)));
    let webhook = format!("http://127.0.0.1:{}/webhooks/line", listen.port());
    tokio::spawn(traffic::run_line(line_emu, webhook, Duration::from_secs_f64(every * 2.0)));
    let webhook = format!("http://127.0.0.1:{}/webhooks/wechat", listen.port());
    tokio::spawn(traffic::run_wechat(wechat_emu, webhook, Duration::from_secs_f64(every * 2.0)));
    tokio::spawn(traffic::run_linkedin(li_emu, Duration::from_secs_f64(every * 2.0)));
    tokio::spawn(traffic::run_x(x_emu, Duration::from_secs_f64(every * 1.5)));
    if let Some(mail) = &mail {
        tokio::spawn(traffic::run_email(mail.clone(), DEMO_SUPPORT.into(), Duration::from_secs_f64(every * 2.0)));
        tokio::spawn(traffic::run_consultant(mail.clone(), DEMO_CONSULTANT.into()));
        println!("Email: customers write to {DEMO_SUPPORT}; their mailboxes are Maildirs under {}", mail.path().join("mail").display());
        println!("Consult by email: {DEMO_CONSULTANT} answers whatever an agent asks them (\"Consult…\" on a message)");
    }
    tokio::spawn(traffic::run_google(google, vec!["4001".into(), "4002".into()], "dQw4acmeT01".into(), Duration::from_secs_f64(every)));
    println!(
        "\nHelpdesk demo: a Telegram bot (emulated at {tg}), a WhatsApp number, a Facebook Page (comments, an ad, Messenger), an Instagram account (comments, Direct), two shops' Google reviews, a YouTube channel, a TikTok account (comments, an ad, messages) an X account (mentions, replies, DMs, listening for \"trailhead\") a LinkedIn page (comments, mentions), a Viber bot, an SMS number (Twilio), a LINE account, a WeChat Official Account and a support mailbox (real IMAP and SMTP) are receiving customers.\n\
         \n  Open      http://{listen}/\
         \n  Sign in   {DEMO_ADMIN} / {DEMO_PASSWORD}   (admin; or {DEMO_AGENT} / {DEMO_PASSWORD}, an agent)\
         \n  The API   http://{listen}/api/v1/openapi.json (after signing in)\
         \n  What your replies sent to Telegram: {tg}/_emulator/sent\n",
        tg = telegram.base_url()
    );
    let users = vec![
        NewUser { email: DEMO_ADMIN.into(), name: "Alex Admin".into(), role: Role::Admin, password: DEMO_PASSWORD.into() },
        NewUser { email: DEMO_AGENT.into(), name: "Sam Agent".into(), role: Role::Agent, password: DEMO_PASSWORD.into() },
    ];
    // A key of its own, so that the demo's admin can reconnect channels from the UI.
    let vault = crate::sync::vault::Vault::generate();
    // The helpdesk's own mail on the demo's servers, as an admin would set it.
    let mail_settings = mail.as_ref().map(|m| crate::consult::MailInput {
        address: DEMO_CONSULT.into(),
        display_name: Some("Acme support".into()),
        smtp_server: format!("smtps://127.0.0.1:{}", m.smtps_port),
        imap_server: format!("imaps://127.0.0.1:{}", m.imaps_port),
        username: None,
        folder: None,
        poll_seconds: None,
        digest_minutes: None,
        password: Some("demo-consult-pw".into()),
    });
    app::serve(file, paths, listen, app::Seed { users, vault: Some(vault), public_url: Some(public_url), mail: mail_settings, ..Default::default() }).await
}
