//! The command line: plugin check, reindex, a restart with the on-disk store, and a backup
//! taken while serving restored into a new store.

mod support;

use std::process::Command;
use std::time::Duration;
use support::*;

#[test]
fn plugin_check_describes_a_channel_plugin() {
    let out = Command::new(bin()).args(["plugin", "check"]).arg(plugin_dir().join("telegram.wasm")).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("Telegram"), "{stdout}");
    assert!(stdout.contains("polling and webhooks"), "{stdout}");
    assert!(stdout.contains("cannot block users in private chats"), "{stdout}");
}

#[test]
fn plugin_check_refuses_what_is_not_a_channel_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8], &str); 3] = [
        ("text.wasm", b"hello", "not WebAssembly"),
        // A core module (the 8-byte header of an empty one) is not a component.
        ("core.wasm", b"\0asm\x01\0\0\0", "not a valid WebAssembly component"),
        ("missing.wasm", b"", "cannot read"),
    ];
    for (name, bytes, expected) in cases {
        let path = dir.path().join(name);
        if !bytes.is_empty() {
            std::fs::write(&path, bytes).unwrap();
        }
        let out = Command::new(bin()).args(["plugin", "check"]).arg(&path).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name} was accepted");
        assert!(stderr.contains(expected), "{name}: {stderr}");
    }
}

#[tokio::test]
async fn restart_keeps_everything_and_reindex_rebuilds_search() {
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let channel = telegram_channel("tg", &emu, true, TOKEN);
    let disk = Options::disk;
    let server = Server::start_with(&channel, disk(), None).await;
    let user = User::new(77, "Rita", None, Some("rita"));
    emu.private_text(&user, "first before restart");
    assert_eq!(server.wait_tickets("q=first", 1, Duration::from_secs(20)).await.len(), 1);
    let data = server.kill().await;

    // Messages sent while the server is down arrive after the restart, once.
    emu.private_text(&user, "second while down");
    let index = data.path().join("index");
    std::fs::remove_dir_all(&index).unwrap();
    std::fs::create_dir_all(&index).unwrap();
    std::fs::write(index.join("meta.json"), b"{ corrupted").unwrap();
    let server = Server::start_with(&channel, disk(), Some(data)).await;
    let found = server.wait_tickets("q=second", 1, Duration::from_secs(20)).await;
    assert_eq!(found.len(), 1, "the message sent while down arrived");
    assert_eq!(server.tickets("q=first").await.len(), 1, "the corrupted index was rebuilt from the store");
    let view = server.ticket(found[0]["id"].as_str().unwrap()).await;
    assert_eq!(view["messages"].as_array().unwrap().len(), 2, "nothing doubled");
    let data = server.kill().await;

    // A deleted index directory: `helpdesk reindex` rebuilds it from the store.
    std::fs::remove_dir_all(data.path().join("index")).unwrap();
    let out = Command::new(bin()).arg("reindex").arg("--data").arg(data.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("reindexed 1 tickets; the index holds 1 documents"), "{stdout}");
    let server = Server::start_with(&channel, disk(), Some(data)).await;
    assert_eq!(server.tickets("q=second").await.len(), 1, "the rebuilt index serves search at once");
    assert_eq!(server.status().await["indexed_tickets"], 1);
}

#[test]
fn plugin_check_refuses_another_contract_version_or_world() {
    let check = |name: &str| {
        let out = Command::new(bin()).args(["plugin", "check"]).arg(test_plugin_dir().join(name)).output().unwrap();
        assert!(!out.status.success(), "{name} was accepted");
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let v9 = check("wrongversion.wasm");
    assert!(
        v9.contains("built against helpdesk:channel@0.9.0") && v9.contains("loads helpdesk:channel@0.1.0, helpdesk:channel@0.2.0, helpdesk:channel@0.3.0, helpdesk:channel@0.4.0, helpdesk:channel@0.5.0, helpdesk:channel@0.6.0 and helpdesk:channel@0.7.0"),
        "{v9}"
    );
    let other = check("notachannel.wasm");
    assert!(other.contains("does not implement the `channel` world") && other.contains("no export"), "{other}");
    assert_eq!(other.lines().count(), 1, "one clear line, no backtrace: {other}");
}

#[test]
fn the_ui_types_come_from_the_current_api() {
    let out = Command::new(bin()).arg("openapi").output().unwrap();
    assert!(out.status.success());
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../web/openapi.json")).unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).trim() == committed.trim(),
        "web/openapi.json is not the server's API any more: run ./dev openapi (it regenerates the UI's types)"
    );
}

#[tokio::test]
async fn user_add_creates_someone_who_can_sign_in() {
    use std::io::Write;
    let data = tempfile::tempdir().unwrap();
    let add = |email: &str, stdin: Option<&str>| {
        let mut cmd = Command::new(bin());
        cmd.args(["user", "add", "--email", email, "--name", "Robin", "--role", "admin", "--data"]).arg(data.path());
        if stdin.is_some() {
            cmd.arg("--password-stdin");
        }
        let mut child = cmd.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
        if let Some(p) = stdin {
            child.stdin.take().unwrap().write_all(format!("{p}\n").as_bytes()).unwrap();
        }
        child.wait_with_output().unwrap()
    };
    let out = add("robin@example.com", Some("robin-password"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = add("robin@example.com", Some("another-password"));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    let out = add("short@example.com", Some("short"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 8 characters"));
    let out = add("gen@example.com", None);
    assert!(String::from_utf8_lossy(&out.stdout).contains("password: "), "a generated password is printed once");

    let server = Server::start_with("", Options { first_admin: false, ..Options::disk() }, Some(data)).await;
    assert!(server.setup_code.is_none(), "users exist: no setup");
    let cookie = helpdesk_testkit::server::sign_in(&reqwest::Client::new(), &server.base, "robin@example.com", "robin-password").await;
    assert!(cookie.starts_with("helpdesk_session="));
}

/// What a ticket is, as the restored store must give it back.
async fn tickets_as_stored(server: &Server) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    let mut ids: Vec<String> = server.tickets("view=all&limit=200").await.iter().map(|t| t["id"].as_str().unwrap().to_string()).collect();
    ids.sort();
    for id in ids {
        let v = server.ticket(&id).await;
        out.push(serde_json::json!({"ticket": v["ticket"], "messages": v["messages"], "notes": v["notes"], "activity": v["activity"], "contact": v["contact"]}));
    }
    out
}

fn helpdesk(args: &[&str]) -> (bool, String) {
    let out = Command::new(bin()).args(args).output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[tokio::test]
async fn a_backup_taken_while_serving_restores_every_ticket_into_a_new_store() {
    use serde_json::json;
    let emu = TelegramEmulator::start(TOKEN).await.unwrap();
    let channel = telegram_channel("tg", &emu, true, TOKEN);
    let server = Server::start_with(&channel, Options::disk(), None).await;
    for n in 0..30 {
        emu.private_text(&User::new(9000 + n, &format!("Cust{n}"), None, None), &format!("order {n} is late"));
    }
    assert_eq!(server.wait_tickets("channel=tg", 30, Duration::from_secs(30)).await.len(), 30);
    let first = server.tickets("q=order 7").await[0]["id"].as_str().unwrap().to_string();
    server.patch(&format!("/api/v1/tickets/{first}"), json!({"tags": ["vip"], "flagged": true})).await;
    server.post(format!("/api/v1/tickets/{first}/notes"), json!({"text": "Call back on Monday"})).await;
    let (s, _) = server.post(format!("/api/v1/tickets/{first}/actions"), json!({"type": "reply", "text": "On its way"})).await;
    assert_eq!(s, 200);
    let pdf = [b"%PDF-1.7\n".to_vec(), vec![b'y'; 600 << 10]].concat();
    let (_, file) = server.upload("label.pdf", "application/pdf", pdf.clone()).await;
    server.post("/api/v1/saved-replies", json!({"title": "Label", "text": "Here it is", "files": [file["id"]]})).await;
    let (_, token) = server.post("/api/v1/tokens", json!({"name": "backups"})).await;
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, token["secret"].as_str().unwrap()).unwrap();
    let path = |p: &std::path::Path| p.to_str().unwrap().to_string();

    // Bad input: a wrong token, no token.
    std::fs::write(dir.path().join("wrong"), "hd_wrong").unwrap();
    let (ok, out) = helpdesk(&["backup", &path(&dir.path().join("x.surql")), "--server", &server.base, "--token-file", &path(&dir.path().join("wrong"))]);
    assert!(!ok && out.contains("401"), "{out}");
    assert!(!dir.path().join("x.surql").exists() && !dir.path().join("x.partial").exists(), "nothing half-written is left");

    // A backup of the running server, taken while it serves.
    let quiet = dir.path().join("quiet.surql");
    let (ok, out) = helpdesk(&["backup", &path(&quiet), "--server", &server.base, "--token-file", &path(&token_file)]);
    assert!(ok && out.contains("backed up"), "{out}");
    let before = tickets_as_stored(&server).await;

    // Another while customers keep writing: it is one moment, each ticket whole.
    let writer = {
        let emu = emu.clone();
        tokio::spawn(async move {
            for n in 0..60 {
                emu.private_text(&User::new(9100 + n % 6, &format!("Busy{}", n % 6), None, None), &format!("busy line {n}"));
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    let busy = dir.path().join("busy.surql");
    let (b, t) = (path(&busy), path(&token_file));
    let base = server.base.clone();
    let (ok, out) = tokio::task::spawn_blocking(move || helpdesk(&["backup", &b, "--server", &base, "--token-file", &t])).await.unwrap();
    assert!(ok, "{out}");
    writer.await.unwrap();
    drop(server);

    // Restored into a new data directory, the index rebuilt: every ticket as it was.
    let restored = tempfile::tempdir().unwrap();
    let (ok, out) = helpdesk(&["restore", &path(&quiet), "--data", &path(restored.path())]);
    assert!(ok, "{out}");
    assert!(out.contains("restored 30 tickets") && out.contains("reindexed 30 tickets"), "{out}");
    let (ok, out) = helpdesk(&["restore", &path(&quiet), "--data", &path(restored.path())]);
    assert!(!ok && out.contains("not empty"), "a store in use is not overwritten: {out}");
    let (ok, out) = helpdesk(&["restore", &path(&dir.path().join("none.surql")), "--data", &path(tempfile::tempdir().unwrap().path())]);
    assert!(!ok && out.contains("no backup file"), "{out}");
    // No channels: nothing may arrive that the backup did not hold.
    let server = Server::start_with("", Options::disk(), Some(restored)).await;
    assert_eq!(tickets_as_stored(&server).await, before, "every ticket, message, note and history entry came back");
    assert_eq!(server.tickets("q=order 7").await.len(), 1, "search works on the rebuilt index");
    let (_, saved) = server.get("/api/v1/saved-replies").await;
    let id = saved[0]["files"][0]["id"].as_str().unwrap();
    let (s, _, bytes) = server.get_bytes(&format!("/api/v1/files/{id}")).await;
    assert_eq!((s, bytes == pdf), (200, true), "the saved reply's file came back whole");
    drop(server);

    let during = tempfile::tempdir().unwrap();
    let (ok, out) = helpdesk(&["restore", &path(&busy), "--data", &path(during.path())]);
    assert!(ok, "{out}");
    let server = Server::start_with("", Options::disk(), Some(during)).await;
    for t in server.tickets("view=all&limit=200").await {
        let v = server.ticket(t["id"].as_str().unwrap()).await;
        assert_eq!(v["messages"].as_array().unwrap().len() as u64, v["ticket"]["message_count"].as_u64().unwrap(), "a ticket and its messages are of one moment: {}", v["ticket"]);
    }
}

#[tokio::test]
async fn a_store_written_by_the_previous_release_is_migrated_and_serves() {
    // The demo's store as the release at c60a618 wrote it (layout 2: saved replies without
    // files), exported as it was, before this release opened it.
    use reqwest::Method;
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/store-c60a618.surql");
    let data = tempfile::tempdir().unwrap();
    let (ok, out) = helpdesk(&["restore", fixture, "--data", data.path().to_str().unwrap()]);
    assert!(ok, "{out}");
    assert!(out.contains("restored 115 tickets and 123 messages") && out.contains("reindexed 115 tickets"), "{out}");
    let server = Server::start_with("", Options { first_admin: false, ..Options::disk() }, Some(data)).await;
    let cookie = helpdesk_testkit::server::sign_in(&reqwest::Client::new(), &server.base, "admin@demo.example", "demo-password").await;
    let (s, list) = call(&server, Method::GET, "/api/v1/tickets?view=all&limit=200", Some(&cookie), None).await;
    assert_eq!((s, list["total"].as_u64()), (200, Some(115)), "{list}");
    let id = list["tickets"][0]["id"].as_str().unwrap();
    let (s, view) = call(&server, Method::GET, &format!("/api/v1/tickets/{id}"), Some(&cookie), None).await;
    assert_eq!(s, 200, "{view}");
    assert!(!view["messages"].as_array().unwrap().is_empty());
    // Its saved reply was brought to this layout: it lists its files (none).
    let (s, saved) = call(&server, Method::GET, "/api/v1/saved-replies", Some(&cookie), None).await;
    assert_eq!(s, 200, "{saved}");
    assert_eq!((saved[0]["title"].as_str(), &saved[0]["files"]), (Some("Thanks"), &serde_json::json!([])));
    // And it takes new work: a saved reply with a file.
    let (s, e) = call(&server, Method::POST, "/api/v1/saved-replies", Some(&cookie), Some(serde_json::json!({"title": "More", "text": "More"}))).await;
    assert_eq!(s, 201, "{e}");
}
