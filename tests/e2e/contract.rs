//! The contract keeps its promises: a plugin built against a frozen version keeps loading and
//! working after the contract moved on, and the host says which version each plugin uses.

mod support;

use serde_json::json;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;
use support::*;

const WAIT: Duration = Duration::from_secs(20);

fn frozen(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/plugins/frozen").join(name)
}

#[tokio::test]
async fn a_plugin_built_against_contract_0_1_0_keeps_working() {
    // The Telegram component as built before 0.2.0 existed, under the name the channel uses.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(frozen("telegram-0.1.0.wasm"), dir.path().join("telegram.wasm")).unwrap();
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let config = format!("plugin_dir = \"{}\"\n{}", dir.path().display(), telegram_channel("old", &emu, true, TOKEN));
    let server = Server::spawn(bin().as_ref(), &config, &cache_dir(), Options::memory(), None).await;

    let ch = server.channel("old").await;
    assert_eq!(ch["contract"], "0.1.0", "{ch}");
    // Its 0.1.0 config keys and secret names read as settings.
    let names: Vec<&str> = ch["settings"].as_array().unwrap().iter().filter_map(|s| s["name"].as_str()).collect();
    assert!(names.contains(&"bot_token") && names.contains(&"base_url"), "{names:?}");

    let ann = User::new(7001, "Ann", None, None);
    let first = emu.private_text(&ann, "Is my order on its way?");
    let t = server.wait_tickets("q=order", 1, WAIT).await;
    assert_eq!(t.len(), 1, "the old plugin's message became a ticket");
    let id = t[0]["id"].as_str().unwrap();
    let created = t[0]["last_message_at"].as_i64().unwrap();
    assert!(created > 1_600_000_000_000, "its time came through: {created}");
    assert_eq!(server.channel("old").await["health"]["state"], "ok");

    let (status, out) = server.post(&format!("/api/v1/tickets/{id}/actions"), json!({"type": "reply", "text": "It is!"})).await;
    assert_eq!(status, 200, "{out}");
    let sent = emu.calls("sendMessage");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].params["reply_parameters"]["message_id"], json!(first));
    // An action 0.1.0 had no words for is refused in words, not sent.
    let (status, out) = server.post(&format!("/api/v1/tickets/{id}/actions"), json!({"type": "mute"})).await;
    assert_eq!(status, 422, "{out}");
}

#[tokio::test]
async fn the_host_names_each_plugins_contract_version() {
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let server = Server::start(&telegram_channel("new", &emu, true, TOKEN)).await;
    let ch = server.channel("new").await;
    assert_eq!(ch["contract"], "0.7.0", "{ch}");
    assert!(ch["declared_hosts"].as_array().unwrap().contains(&json!("https://api.telegram.org")), "{ch}");
    let token = ch["settings"].as_array().unwrap().iter().find(|s| s["name"] == "bot_token").cloned().unwrap();
    assert_eq!((token["secret"].as_bool(), token["required"].as_bool()), (Some(true), Some(true)), "{token}");
    let caps = &ch["capabilities"][0];
    assert_eq!(caps["max_reply_chars"], 4096, "{caps}");

    let check = |path: PathBuf| {
        let out = Command::new(bin()).args(["plugin", "check"]).arg(path).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let old = check(frozen("telegram-0.1.0.wasm"));
    assert!(old.contains("contract: helpdesk:channel@0.1.0"), "{old}");
    let new = check(plugin_dir().join("telegram.wasm"));
    assert!(new.contains("contract: helpdesk:channel@0.7.0"), "{new}");
    assert!(new.contains("secret `bot_token` (Bot token, required)") && new.contains("asks to reach: https://api.telegram.org"), "{new}");
    assert!(new.contains("private_message: reply, like, unlike, react, delete"), "{new}");
    assert!(new.contains("replies carry up to 10 files (image, video, audio, file) of at most 10000000 bytes each"), "{new}");
    assert!(!old.contains("replies carry"), "{old}");
}

#[tokio::test]
async fn a_channel_missing_a_required_setting_cannot_be_enabled_and_the_connection_test_names_the_account() {
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    // Declared by the plugin as required, absent here: the bot token.
    let nobot = format!(
        "\n[[channel]]\nid = \"nobot\"\nplugin = \"telegram\"\ndisplay_name = \"No bot\"\nallowed_hosts = [\"{}\"]\n[channel.config]\nbase_url = \"{}\"\n",
        emu.host(),
        emu.base_url()
    );
    let wrong = telegram_channel("wrong", &emu, false, "9:NOT-THE-TOKEN");
    let server = Server::start(&format!("{}{nobot}{wrong}", telegram_channel("tg", &emu, false, TOKEN))).await;

    let ch = server.channel("nobot").await;
    let error = ch["health"]["last_error"].as_str().unwrap_or_default().to_string();
    assert!(error.contains("missing required setting `bot_token` (Bot token, a secret)"), "{ch}");
    let (status, _) = server.patch("/api/v1/channels/nobot", json!({"enabled": false})).await;
    assert_eq!(status, 200);
    let (status, body) = server.patch("/api/v1/channels/nobot", json!({"enabled": true})).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("channel_not_ready")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("`bot_token`"), "{body}");
    assert_eq!(server.channel("nobot").await["enabled"], false, "it stays disabled");

    let (status, test) = server.post("/api/v1/channels/tg/check", json!({})).await;
    assert_eq!(status, 200, "{test}");
    assert_eq!((test["ok"].as_bool(), test["account"].as_str()), (Some(true), Some("bot @acme_support_bot")), "{test}");
    let (status, test) = server.post("/api/v1/channels/wrong/check", json!({})).await;
    assert_eq!((status, test["ok"].as_bool()), (200, Some(false)), "{test}");
    assert!(test["error"].as_str().unwrap().contains("refused the bot token"), "{test}");
    assert_eq!(server.channel("wrong").await["health"]["state"], "needs_reconnect", "a failed test shows in health");
    let (status, _) = server.post("/api/v1/channels/ghost/check", json!({})).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn plugins_toml_can_pin_a_plugins_sha256() {
    use sha2::Digest;
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let real = hex::encode(sha2::Sha256::digest(std::fs::read(plugin_dir().join("telegram.wasm")).unwrap()));
    let pinned = |id: &str, sha: &str| telegram_channel(id, &emu, false, TOKEN).replacen("[channel.config]", &format!("sha256 = \"{sha}\"\n[channel.config]"), 1);
    let server = Server::start(&format!("{}{}", pinned("right", &real), pinned("swapped", &"0".repeat(64)))).await;
    let right = server.channel("right").await;
    assert_eq!(right["plugin_sha256"], real.as_str(), "{right}");
    assert_eq!(right["health"]["state"], "ok", "{right}");
    let swapped = server.channel("swapped").await;
    let error = swapped["health"]["last_error"].as_str().unwrap_or_default();
    assert!(error.contains(&format!("SHA-256 is {real}")) && error.contains("it was not started"), "{swapped}");
    assert_eq!(swapped["health"]["state"], "degraded");
}

const SECRET_KEY: &str = "5f1e0c2b9a8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f";

/// Every file under `dir`, read whole.
fn files_under(dir: &std::path::Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path, bytes));
        }
    }
    out
}

#[tokio::test]
async fn an_admin_reconnects_a_revoked_channel_with_a_new_token_without_a_restart() {
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    // plugins.toml still holds the token the platform revoked.
    let channels = telegram_channel("tg", &emu, true, "4242:REVOKED-token");
    let opts = || Options { secret_key: Some(SECRET_KEY.into()), ..Options::disk() };
    let server = Server::start_with(&channels, opts(), None).await;
    assert!(
        eventually(WAIT, || async { server.channel("tg").await["health"]["state"] == "needs_reconnect" }).await,
        "{}",
        server.channel("tg").await
    );

    // Bad input is refused and changes nothing.
    let (status, body) = server.put("/api/v1/channels/tg/secrets", json!({"secrets": {"password": "x"}})).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("bad_secrets")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("bot_token"), "it names the channel's secrets: {body}");
    let (status, _) = server.put("/api/v1/channels/tg/secrets", json!({"secrets": {"bot_token": "  "}})).await;
    assert_eq!(status, 422);
    let (status, _) = server.put("/api/v1/channels/nope/secrets", json!({"secrets": {"bot_token": TOKEN}})).await;
    assert_eq!(status, 404);

    let (status, summary) = server.put("/api/v1/channels/tg/secrets", json!({"secrets": {"bot_token": TOKEN}})).await;
    assert_eq!(status, 200, "{summary}");
    assert!(!summary.to_string().contains(TOKEN), "the answer never shows a secret: {summary}");
    emu.private_text(&User::new(501, "Ann", None, None), "hello after the reconnect");
    server.wait_tickets("queue=all", 1, WAIT).await;
    assert!(eventually(WAIT, || async { server.channel("tg").await["health"]["state"] == "ok" }).await);
    let (_, list) = server.get("/api/v1/channels").await;
    assert!(!list.to_string().contains(TOKEN));
    let (status, history) = server.get("/api/v1/channels/tg/history").await;
    assert_eq!(status, 200);
    assert_eq!(history[0]["change"], "replaced the secret bot_token", "{history}");
    assert!(!history.to_string().contains(TOKEN));

    // Nor does the log.
    assert!(!server.log().contains(TOKEN), "the log shows the token");
    assert!(server.log().contains("secrets replaced by an admin"), "the log is read");
    // It survives a restart, sealed: no file of the data holds the token.
    let data = server.kill().await;
    for (path, bytes) in files_under(data.path()) {
        assert!(!bytes.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()), "{} holds the token in clear", path.display());
    }
    let server = Server::start_with(&channels, opts(), Some(data)).await;
    emu.private_text(&User::new(502, "Bob", None, None), "hello after the restart");
    server.wait_tickets("queue=all", 2, WAIT).await;

    // Without the key the stored token cannot be read, and the channel says so.
    let data = server.kill().await;
    let server = Server::start_with(&channels, Options::disk(), Some(data)).await;
    let ch = server.channel("tg").await;
    assert_eq!(ch["health"]["state"], "degraded", "{ch}");
    assert!(ch["health"]["last_error"].as_str().unwrap().contains("no secret key"), "{ch}");
    let (status, body) = server.put("/api/v1/channels/tg/secrets", json!({"secrets": {"bot_token": TOKEN}})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("no_secret_key")), "{body}");
    // A plugins.toml channel is changed and removed in plugins.toml, not here.
    assert_eq!(server.patch("/api/v1/channels/tg", json!({"display_name": "Renamed"})).await.0, 409);
    let r = reqwest::Client::new().delete(server.url("/api/v1/channels/tg")).header("cookie", server.cookie.clone()).send().await.unwrap();
    assert_eq!(r.status(), 409);
}

/// A Telegram update with message `n` from one of a few customers.
fn update(n: i64) -> Vec<u8> {
    let user = 8_000 + n % 7;
    serde_json::to_vec(&json!({"update_id": n, "message": {"message_id": n, "from": {"id": user, "is_bot": false, "first_name": "Cy"},
        "chat": {"id": user, "type": "private"}, "date": 1_700_000_000 + n, "text": format!("upgrade traffic {n}")}}))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_upgrades_a_plugin_without_a_restart_and_a_broken_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(plugin_dir().join("telegram.wasm"), dir.path().join("telegram.wasm")).unwrap();
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let config = format!("plugin_dir = \"{}\"\n{}", dir.path().display(), telegram_channel("tg", &emu, false, TOKEN));
    let server = std::sync::Arc::new(Server::spawn(bin().as_ref(), &config, &cache_dir(), Options::memory(), None).await);
    let before = server.channel("tg").await;
    assert_eq!(before["contract"], "0.7.0");
    let upload = |name: &str, body: Vec<u8>| {
        let (url, cookie) = (server.url(&format!("/api/v1/plugins/{name}")), server.cookie.clone());
        async move {
            let r = reqwest::Client::new().put(url).header("cookie", cookie).header("content-type", "application/wasm").body(body).send().await.unwrap();
            (r.status().as_u16(), r.json::<serde_json::Value>().await.unwrap_or_default())
        }
    };

    // Not a component: refused, and the running version goes on.
    let (status, body) = upload("telegram", b"\0asm but not really".to_vec()).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("plugin_refused")), "{body}");
    let (status, _) = upload("tele.gram", b"x".to_vec()).await;
    assert_eq!(status, 422);
    assert_eq!(server.channel("tg").await["plugin_sha256"], before["plugin_sha256"]);
    assert_eq!(server.webhook("tg", update(1), Some(SECRET)).await, 200);

    // The upgrade lands while webhooks keep coming: none is lost, none fails.
    let frozen_bytes = std::fs::read(frozen("telegram-0.1.0.wasm")).unwrap();
    let traffic: Vec<_> = (2..=61)
        .map(|n| {
            let server = server.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(n as u64 * 5)).await;
                server.webhook("tg", update(n), Some(SECRET)).await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(120)).await;
    let (status, installed) = upload("telegram", frozen_bytes.clone()).await;
    assert_eq!(status, 200, "{installed}");
    assert_eq!((installed["contract"].as_str(), installed["channels"].clone()), (Some("0.1.0"), json!(["tg"])), "{installed}");
    for t in traffic {
        assert_eq!(t.await.unwrap(), 200);
    }
    assert_eq!(server.status().await["messages"], 61);
    let after = server.channel("tg").await;
    assert_eq!(after["contract"], "0.1.0", "{after}");
    assert_eq!(after["plugin_sha256"], installed["sha256"]);
    assert_eq!(server.webhook("tg", update(62), Some(SECRET)).await, 200);
    assert_eq!(server.wait_tickets("q=\"upgrade traffic 62\"", 1, WAIT).await.len(), 1);
    // Written to the plugin directory, so a restart runs it too; and on the channel's record.
    assert_eq!(std::fs::read(dir.path().join("telegram.wasm")).unwrap(), frozen_bytes);
    let (_, history) = server.get("/api/v1/channels/tg/history").await;
    assert!(history[0]["change"].as_str().unwrap().starts_with("installed plugin telegram (contract 0.1.0"), "{history}");
}

#[tokio::test]
async fn an_admin_connects_a_new_channel_without_plugins_toml() {
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let opts = || Options { secret_key: Some(SECRET_KEY.into()), ..Options::disk() };
    let server = Server::start_with("", opts(), None).await;
    let (status, plugins) = server.get("/api/v1/plugins").await;
    assert_eq!(status, 200);
    let telegram = plugins.as_array().unwrap().iter().find(|p| p["name"] == "telegram").expect("telegram is offered").clone();
    assert!(telegram["declared_hosts"].as_array().unwrap().contains(&json!("https://api.telegram.org")), "{telegram}");
    assert!(telegram["settings"].as_array().unwrap().iter().any(|s| s["name"] == "bot_token" && s["secret"] == true));

    let channel = |secrets: serde_json::Value| {
        json!({"id": "support-bot", "plugin": "telegram", "display_name": "Support bot",
            "config": {"base_url": emu.base_url(), "long_poll_seconds": "2"}, "secrets": secrets, "allowed_hosts": [emu.host()]})
    };
    // Refused in words, nothing stored.
    let refused = [
        (json!({"password": "x"}), 422, "bad_channel"),
        (json!({}), 422, "channel_not_ready"),
    ];
    for (secrets, status, code) in refused {
        let (s, body) = server.post("/api/v1/channels", channel(secrets)).await;
        assert_eq!((s, body["code"].as_str()), (status, Some(code)), "{body}");
    }
    let mut bad_id = channel(json!({"bot_token": TOKEN}));
    bad_id["id"] = json!("no spaces please");
    assert_eq!(server.post("/api/v1/channels", bad_id).await.0, 422);
    let mut bad_setting = channel(json!({"bot_token": TOKEN}));
    bad_setting["config"]["colour"] = json!("blue");
    assert_eq!(server.post("/api/v1/channels", bad_setting).await.0, 422);
    assert_eq!(server.get("/api/v1/channels").await.1, json!([]));

    let (status, created) = server.post("/api/v1/channels", channel(json!({"bot_token": TOKEN}))).await;
    assert_eq!(status, 201, "{created}");
    assert!(!created.to_string().contains(TOKEN));
    assert_eq!(created["webhook_path"], "/webhooks/support-bot");
    assert_eq!(server.post("/api/v1/channels", channel(json!({"bot_token": TOKEN}))).await.0, 409);
    emu.private_text(&User::new(601, "Ann", None, None), "hello new channel");
    server.wait_tickets("queue=all", 1, WAIT).await;
    let (_, history) = server.get("/api/v1/channels/support-bot/history").await;
    assert!(history[0]["change"].as_str().unwrap().starts_with("connected it (plugin telegram"), "{history}");

    // Edited: a new name and settings, running from its next call.
    let (status, body) = server.patch("/api/v1/channels/support-bot", json!({"config": {"colour": "blue"}})).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("bad_channel")), "{body}");
    let edit = json!({"display_name": "Front desk bot", "config": {"base_url": emu.base_url(), "long_poll_seconds": "1"}});
    let (status, edited) = server.patch("/api/v1/channels/support-bot", edit).await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["display_name"], "Front desk bot");
    emu.private_text(&User::new(603, "Cy", None, None), "hello after the edit");
    server.wait_tickets("queue=all", 2, WAIT).await;
    let (_, history) = server.get("/api/v1/channels/support-bot/history").await;
    assert_eq!(history[0]["change"], "changed its name and its settings (base_url, long_poll_seconds)", "{history}");

    // It is still there after a restart, with its sealed token.
    let data = server.kill().await;
    let server = Server::start_with("", opts(), Some(data)).await;
    assert_eq!(server.channel("support-bot").await["display_name"], "Front desk bot");
    emu.private_text(&User::new(602, "Bob", None, None), "hello again");
    server.wait_tickets("queue=all", 3, WAIT).await;

    // Removed: it stops and is gone after a restart; its tickets stay.
    let delete = |id: &str| reqwest::Client::new().delete(server.url(&format!("/api/v1/channels/{id}"))).header("cookie", server.cookie.clone()).send();
    assert_eq!(delete("support-bot").await.unwrap().status(), 204);
    assert_eq!(delete("support-bot").await.unwrap().status(), 404);
    assert_eq!(server.get("/api/v1/channels").await.1, json!([]));
    assert_eq!(server.tickets("queue=all").await.len(), 3);
    let data = server.kill().await;
    let server = Server::start_with("", opts(), Some(data)).await;
    assert_eq!(server.get("/api/v1/channels").await.1, json!([]));
    assert_eq!(server.tickets("queue=all").await.len(), 3);
}

#[tokio::test]
async fn a_plugin_dropped_into_the_plugin_directory_is_swapped_in_and_a_broken_one_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(plugin_dir().join("telegram.wasm"), dir.path().join("telegram.wasm")).unwrap();
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let config = format!("plugin_dir = \"{}\"\n{}", dir.path().display(), telegram_channel("tg", &emu, false, TOKEN));
    let server = Server::spawn(bin().as_ref(), &config, &cache_dir(), Options::memory(), None).await;
    assert_eq!(server.channel("tg").await["contract"], "0.7.0");
    // Renamed in whole, as deploy tools do.
    let staged = dir.path().join("telegram.wasm.new");
    std::fs::copy(frozen("telegram-0.1.0.wasm"), &staged).unwrap();
    std::fs::rename(&staged, dir.path().join("telegram.wasm")).unwrap();
    assert!(eventually(WAIT, || async { server.channel("tg").await["contract"] == "0.1.0" }).await, "the dropped-in version runs");
    assert_eq!(server.webhook("tg", update(1), Some(SECRET)).await, 200);
    // A broken file: refused, said in the channel's history, the running version goes on.
    std::fs::write(dir.path().join("telegram.wasm"), b"not a component").unwrap();
    let refused = eventually(WAIT, || async {
        let (_, history) = server.get("/api/v1/channels/tg/history").await;
        history[0]["change"].as_str().is_some_and(|c| c.starts_with("refused the new telegram.wasm"))
    })
    .await;
    assert!(refused, "{}", server.get("/api/v1/channels/tg/history").await.1);
    assert_eq!(server.channel("tg").await["contract"], "0.1.0");
    assert_eq!(server.webhook("tg", update(2), Some(SECRET)).await, 200);
    assert_eq!(server.status().await["messages"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upgrade_while_polling_loses_no_message() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(plugin_dir().join("telegram.wasm"), dir.path().join("telegram.wasm")).unwrap();
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let config = format!("plugin_dir = \"{}\"\n{}", dir.path().display(), telegram_channel("tg", &emu, true, TOKEN));
    let server = Server::spawn(bin().as_ref(), &config, &cache_dir(), Options::memory(), None).await;
    let ann = User::new(9_001, "Ann", None, None);
    let writer = {
        let (emu, ann) = (emu.clone(), ann.clone());
        tokio::spawn(async move {
            for n in 0..40 {
                emu.private_text(&ann, &format!("while upgrading {n}"));
                tokio::time::sleep(Duration::from_millis(15)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let r = reqwest::Client::new()
        .put(server.url("/api/v1/plugins/telegram"))
        .header("cookie", server.cookie.clone())
        .body(std::fs::read(frozen("telegram-0.1.0.wasm")).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    writer.await.unwrap();
    assert!(eventually(WAIT, || async { server.status().await["messages"] == 40 }).await, "{}", server.status().await);
    assert_eq!(server.channel("tg").await["contract"], "0.1.0");
    let t = server.tickets("queue=all").await;
    assert_eq!((t.len(), t[0]["message_count"].as_i64()), (1, Some(40)));
}

#[tokio::test]
async fn a_plugin_built_against_contract_0_2_0_keeps_working() {
    // The Telegram component as built before 0.3.0 (and its `media`) existed.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(frozen("telegram-0.2.0.wasm"), dir.path().join("telegram.wasm")).unwrap();
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let config = format!("plugin_dir = \"{}\"\n{}", dir.path().display(), telegram_channel("old", &emu, true, TOKEN));
    let server = Server::spawn(bin().as_ref(), &config, &cache_dir(), Options::memory(), None).await;
    assert_eq!(server.channel("old").await["contract"], "0.2.0");

    emu.private_photo(&User::new(7002, "Bo", None, None), "the dent");
    let t = server.wait_tickets("q=dent", 1, WAIT).await;
    assert_eq!(t.len(), 1, "the old plugin's message became a ticket");
    let id = t[0]["id"].as_str().unwrap();
    let (status, out) = server.post(&format!("/api/v1/tickets/{id}/actions"), json!({"type": "reply", "text": "Sorry!"})).await;
    assert_eq!(status, 200, "{out}");
    // It cannot say how to download a Telegram file: the agent is told so, in words.
    let message = server.ticket(id).await["messages"][0]["id"].as_str().unwrap().to_string();
    let (status, out) = server.get(&format!("/api/v1/messages/{message}/attachments/0")).await;
    assert_eq!(status, 502, "{out}");
    assert!(out["message"].as_str().unwrap().contains("contract 0.2.0"), "{out}");
}

#[tokio::test]
async fn a_plugin_built_against_contract_0_3_0_keeps_working_and_downloads_its_files() {
    // The Telegram component as built before 0.4.0 existed (b85950d): 0.2.0's types, and `media`.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(frozen("telegram-0.3.0.wasm"), dir.path().join("telegram.wasm")).unwrap();
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let config = format!("plugin_dir = \"{}\"\n{}", dir.path().display(), telegram_channel("old", &emu, true, TOKEN));
    let server = Server::spawn(bin().as_ref(), &config, &cache_dir(), Options::memory(), None).await;
    assert_eq!(server.channel("old").await["contract"], "0.3.0");

    emu.private_photo(&User::new(7003, "Cy", None, None), "the scratch");
    let t = server.wait_tickets("q=scratch", 1, WAIT).await;
    assert_eq!(t.len(), 1, "the old plugin's message became a ticket");
    let id = t[0]["id"].as_str().unwrap();
    let (status, out) = server.post(&format!("/api/v1/tickets/{id}/actions"), json!({"type": "reply", "text": "Sorry!"})).await;
    assert_eq!(status, 200, "{out}");
    // Its `media` answers through the conversions: the photo opens.
    let message = server.ticket(id).await["messages"][0]["id"].as_str().unwrap().to_string();
    let (status, headers, _) = server.get_bytes(&format!("/api/v1/messages/{message}/attachments/0")).await;
    assert_eq!((status, headers["content-type"].to_str().unwrap()), (200, "image/png"));
    // An action 0.3.0 did not have is refused in words, not sent.
    let (status, out) = server.post(&format!("/api/v1/tickets/{id}/actions"), json!({"type": "pin"})).await;
    assert_eq!(status, 422, "{out}");
}

#[tokio::test]
async fn a_plugin_built_against_contract_0_4_0_keeps_taking_its_webhooks_behind_a_public_url() {
    // The Viber component as built before 0.5.0 existed (6851f3c); the host has a public URL,
    // which 0.5.0 plugins get whole and 0.4.0 ones as the path they were promised.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(frozen("viber-0.4.0.wasm"), dir.path().join("viber.wasm")).unwrap();
    let vb = helpdesk_testkit::viber::ViberEmulator::start().await.unwrap();
    let port = free_port();
    let config = format!("plugin_dir = \"{}\"\n{}", dir.path().display(), vb.channel_toml("old", None));
    let opts = Options { listen: Some(format!("127.0.0.1:{port}")), public_url: Some(format!("http://127.0.0.1:{port}")), ..Options::memory() };
    let server = Server::spawn(bin().as_ref(), &config, &cache_dir(), opts, None).await;
    assert_eq!(server.channel("old").await["contract"], "0.4.0");
    let m = vb.message("01234567890A=", "Ana", json!({"type": "text", "text": "¿Abrís el domingo?"}));
    assert_eq!(vb.deliver(&server.url("/webhooks/old"), &m, Some("00")).await, 401, "still checks signatures");
    assert_eq!(vb.deliver(&server.url("/webhooks/old"), &m, None).await, 200);
    assert_eq!(server.wait_tickets("q=domingo", 1, WAIT).await.len(), 1);
}

#[tokio::test]
async fn a_plugin_built_against_contract_0_5_0_keeps_working_and_is_told_it_cannot_send_files() {
    // The Telegram component as built before 0.6.0 and its files existed (c60a618).
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(frozen("telegram-0.5.0.wasm"), dir.path().join("telegram.wasm")).unwrap();
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let config = format!("plugin_dir = \"{}\"\n{}", dir.path().display(), telegram_channel("old", &emu, true, TOKEN));
    let server = Server::spawn(bin().as_ref(), &config, &cache_dir(), Options::memory(), None).await;
    assert_eq!(server.channel("old").await["contract"], "0.5.0");

    emu.private_photo(&User::new(7005, "Di", None, None), "the crack");
    let t = server.wait_tickets("q=crack", 1, WAIT).await;
    assert_eq!(t.len(), 1, "the old plugin's message became a ticket");
    let id = t[0]["id"].as_str().unwrap();
    let (_, detail) = server.get(&format!("/api/v1/tickets/{id}")).await;
    assert_eq!(detail["files"], json!([]), "it offers no files");
    let (_, file) = server.upload("label.pdf", "application/pdf", b"%PDF-1.7\n%%EOF\n".to_vec()).await;
    let (status, out) = server.post(&format!("/api/v1/tickets/{id}/actions"), json!({"type": "reply", "text": "Label attached", "files": [file["id"]]})).await;
    assert_eq!(status, 422, "{out}");
    assert!(out["message"].as_str().unwrap().contains("contract 0.5.0, which cannot send files"), "{out}");
    assert!(emu.calls("sendMessage").is_empty(), "nothing was sent");
    let (status, out) = server.post(&format!("/api/v1/tickets/{id}/actions"), json!({"type": "reply", "text": "Sorry!"})).await;
    assert_eq!(status, 200, "{out}");
    let message = server.ticket(id).await["messages"][0]["id"].as_str().unwrap().to_string();
    let (status, headers, _) = server.get_bytes(&format!("/api/v1/messages/{message}/attachments/0")).await;
    assert_eq!((status, headers["content-type"].to_str().unwrap()), (200, "image/png"));
}

#[tokio::test]
async fn a_plugin_built_against_contract_0_6_0_keeps_receiving_and_sending_files() {
    // The Telegram component as built before 0.7.0 and its mail import existed (0d5d663).
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(frozen("telegram-0.6.0.wasm"), dir.path().join("telegram.wasm")).unwrap();
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let config = format!("plugin_dir = \"{}\"\n{}", dir.path().display(), telegram_channel("old", &emu, true, TOKEN));
    let server = Server::spawn(bin().as_ref(), &config, &cache_dir(), Options::memory(), None).await;
    assert_eq!(server.channel("old").await["contract"], "0.6.0");

    emu.private_photo(&User::new(7006, "Eve", None, None), "the dent");
    let t = server.wait_tickets("q=dent", 1, WAIT).await;
    assert_eq!(t.len(), 1, "the old plugin's message became a ticket");
    let id = t[0]["id"].as_str().unwrap();
    let (_, detail) = server.get(&format!("/api/v1/tickets/{id}")).await;
    assert!(detail["files"].as_array().unwrap().iter().any(|c| c["kind"] == "private_message"), "it still offers files: {}", detail["files"]);
    let (_, file) = server.upload("label.pdf", "application/pdf", b"%PDF-1.7\n%%EOF\n".to_vec()).await;
    let (status, out) = server.post(&format!("/api/v1/tickets/{id}/actions"), json!({"type": "reply", "text": "Label attached", "files": [file["id"]]})).await;
    assert_eq!(status, 200, "{out}");
    let docs = emu.calls("sendDocument");
    assert_eq!((docs.len(), docs[0].params["caption"].as_str()), (1, Some("Label attached")));
    let message = server.ticket(id).await["messages"][0]["id"].as_str().unwrap().to_string();
    let (status, headers, _) = server.get_bytes(&format!("/api/v1/messages/{message}/attachments/0")).await;
    assert_eq!((status, headers["content-type"].to_str().unwrap()), (200, "image/png"));
}
