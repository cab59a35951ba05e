//! The email channel end to end on real mail servers (Dovecot and Postfix from Debian, on
//! loopback): a customer's email becomes a ticket, the answer reaches their mailbox threaded,
//! their reply threads back into the same ticket with the quoted history folded; auto-replies
//! and bounces change nothing; a 20 MB attachment downloads whole; hostile HTML stays text;
//! a blocked sender is filtered out.

mod support;

use helpdesk_testkit::mail::MailServers;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::time::Duration;
use support::*;

const WAIT: Duration = Duration::from_secs(30);
const SUPPORT: &str = "support@shop.test";

fn parse(raw: &[u8]) -> (String, String) {
    // The headers as one string and the body, enough for the checks below.
    let text = String::from_utf8_lossy(raw).replace("\r\n", "\n");
    let (h, b) = text.split_once("\n\n").unwrap_or((&text, ""));
    (h.replace("\n ", " ").replace("\n\t", " "), b.to_string())
}

fn header<'a>(headers: &'a str, name: &str) -> Option<&'a str> {
    headers.lines().find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim()))
}

async fn start() -> (MailServers, Server) {
    let mail = MailServers::start(&[(SUPPORT, "support-pw"), ("ann@customer.test", "ann-pw"), ("bob@customer.test", "bob-pw")]).expect("the mail servers");
    let opts = Options { env: vec![("HELPDESK_MAIL_CA".into(), mail.ca_file().display().to_string())], ..Options::memory() };
    let server = Server::start_with(&mail.channel_toml("mail", SUPPORT), opts, None).await;
    (mail, server)
}

#[tokio::test]
async fn a_customers_email_becomes_a_ticket_and_the_conversation_threads_through_real_mailboxes() {
    let (mail, server) = start().await;
    let (s, b) = server.post("/api/v1/channels/mail/check", json!({})).await;
    assert_eq!(s, 200, "{b}");
    assert!(b.to_string().contains("support@shop.test reads INBOX"), "{b}");

    let first = concat!(
        "From: Ann Example <ann@customer.test>\r\nTo: support@shop.test\r\nSubject: Broken lamp\r\n",
        "Message-ID: <ann-1@customer.test>\r\nDate: Thu, 03 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n",
        "Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n",
        "--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nMy lamp flickers since Monday.\r\n\r\n-- \r\nAnn\r\n",
        "--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>My lamp <b>flickers</b> since Monday.</p>\r\n--alt--\r\n"
    );
    mail.send("ann@customer.test", &[SUPPORT], first.as_bytes()).await.unwrap();
    let t = server.wait_tickets("platform=email", 1, WAIT).await;
    let id = t[0]["id"].as_str().unwrap().to_string();
    let view = server.ticket(&id).await;
    let m = &view["messages"][0];
    assert_eq!(m["text"], "My lamp flickers since Monday.", "{m}");
    assert_eq!(m["title"], "Broken lamp");
    assert_eq!(m["folded"], "-- \nAnn", "the signature folds away");
    assert_eq!((view["contact"]["author"]["id"].as_str(), view["contact"]["author"]["name"].as_str()), (Some("ann@customer.test"), Some("Ann Example")), "{view}");

    // The answer reaches Ann's mailbox from the support address, threaded.
    let (s, b) = action(&server, &id, json!({"type": "reply", "text": "Sorry to hear that. Does a new bulb help?"})).await;
    assert_eq!(s, 200, "{b}");
    let got = mail.wait_for_mail("ann@customer.test", 1, WAIT).await.unwrap();
    let (h, body) = parse(&got[0]);
    assert!(header(&h, "From").unwrap().contains("support@shop.test"), "{h}");
    assert!(header(&h, "From").unwrap().contains("Shop support"), "{h}");
    assert_eq!(header(&h, "Subject"), Some("Re: Broken lamp"));
    assert_eq!(header(&h, "In-Reply-To"), Some("<ann-1@customer.test>"));
    assert_eq!(header(&h, "References"), Some("<ann-1@customer.test>"));
    assert!(body.contains("Does a new bulb help?"), "{body}");
    let ours = header(&h, "Message-ID").unwrap().to_string();
    assert_eq!(b["message"]["platform_id"].as_str().map(|p| format!("<{p}>")), Some(ours.clone()));

    // Her answer names our reply: the same ticket, the quoted history folded. (Mail is dated
    // to the second: she answers in the next one.)
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let answer = format!(
        "From: Ann Example <ann@customer.test>\r\nTo: Shop support <support@shop.test>\r\nSubject: Re: Broken lamp\r\n\
         Message-ID: <ann-2@customer.test>\r\nIn-Reply-To: {ours}\r\nReferences: <ann-1@customer.test> {ours}\r\n\r\n\
         It still flickers with a new bulb.\r\n\r\nOn Thu, 3 Dec 2026, Shop support <support@shop.test> wrote:\r\n> Sorry to hear that. Does a new bulb help?\r\n"
    );
    mail.send("ann@customer.test", &[SUPPORT], answer.as_bytes()).await.unwrap();
    assert!(eventually(WAIT, || async { server.ticket(&id).await["messages"].as_array().unwrap().len() == 3 }).await, "one ticket");
    let view = server.ticket(&id).await;
    let m = &view["messages"][2];
    let order: Vec<_> = view["messages"].as_array().unwrap().iter().map(|m| (m["text"].clone(), m["created_at"].clone(), m["ordinal"].clone())).collect();
    assert_eq!(m["text"], "It still flickers with a new bulb.", "{order:?}");
    assert!(m["folded"].as_str().unwrap().starts_with("On Thu, 3 Dec 2026"), "{m}");
    assert_eq!(server.tickets("platform=email&view=all").await.len(), 1);

    // Resolved; then her out-of-office answers something: recorded, nothing reopens.
    let (s, _) = server.patch(&format!("/api/v1/tickets/{id}"), json!({"queue": "resolved"})).await;
    assert_eq!(s, 200);
    let unseen = server.ticket(&id).await["ticket"]["unseen"].as_u64();
    let away = format!(
        "From: ann@customer.test\r\nTo: support@shop.test\r\nSubject: Automatic reply: Broken lamp\r\nAuto-Submitted: auto-replied\r\n\
         Message-ID: <ann-ooo@customer.test>\r\nIn-Reply-To: {ours}\r\n\r\nI am away until Monday.\r\n"
    );
    mail.send("ann@customer.test", &[SUPPORT], away.as_bytes()).await.unwrap();
    assert!(eventually(WAIT, || async { server.ticket(&id).await["messages"].as_array().unwrap().len() == 4 }).await, "the auto-reply is recorded");
    let view = server.ticket(&id).await;
    assert_eq!(view["messages"][3]["automated"], "auto_reply");
    assert_eq!((view["ticket"]["queue"].as_str(), view["ticket"]["unseen"].as_u64()), (Some("resolved"), unseen), "{view}");
    assert_eq!(view["contact"]["author"]["name"], "Ann Example", "a machine's From does not rename her");

    // A customer whose mailbox does not exist: our answer bounces (Postfix's own DSN), the
    // report lands on our message, and the ticket is not reopened.
    let ghost = "From: Ghost <ghost@customer.test>\r\nTo: support@shop.test\r\nSubject: Where is my order?\r\nMessage-ID: <ghost-1@customer.test>\r\n\r\nOrder 4411?\r\n";
    mail.send_via("bob@customer.test", "ghost@customer.test", &[SUPPORT], ghost.as_bytes()).await.unwrap();
    let t = server.wait_tickets("platform=email&view=all", 2, WAIT).await;
    let gid = by_text(&t, "Order 4411").get("id").and_then(|v| v.as_str()).unwrap().to_string();
    let (s, b) = action(&server, &gid, json!({"type": "reply", "text": "It left on Tuesday."})).await;
    assert_eq!(s, 200, "{b}");
    assert!(
        eventually(WAIT, || async {
            let v = server.ticket(&gid).await;
            v["messages"].as_array().unwrap().iter().any(|m| m["delivery"]["state"] == "failed")
        })
        .await,
        "the bounce fails our reply: {}",
        mail.log()
    );
    let view = server.ticket(&gid).await;
    let failed = view["messages"].as_array().unwrap().iter().find(|m| m["delivery"]["state"] == "failed").unwrap();
    assert!(failed["delivery"]["error"].as_str().unwrap().contains("ghost@customer.test"), "{failed}");
    let bounce = view["messages"].as_array().unwrap().iter().find(|m| m["automated"] == "bounce").expect("the report is recorded");
    assert!(bounce["text"].as_str().unwrap().starts_with("Delivery failed"), "{bounce}");
    assert_eq!((view["ticket"]["queue"].as_str(), view["ticket"]["unseen"].as_u64()), (Some("pending"), Some(0)), "{view}");
    // Nobody answers machines: no rule, no auto-reply back to the mail server.
    assert_eq!(mail.mailbox("ann@customer.test").len(), 1);
}

#[tokio::test]
async fn a_twenty_megabyte_attachment_downloads_whole_hostile_html_stays_text_and_a_blocked_sender_is_filtered() {
    let (mail, server) = start().await;
    let big: Vec<u8> = (0..20_000_000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(&big);
    let lines: Vec<&str> = encoded.as_bytes().chunks(76).map(|c| std::str::from_utf8(c).unwrap()).collect();
    let raw = format!(
        "From: Bob <bob@customer.test>\r\nTo: support@shop.test\r\nSubject: The video of the fault\r\nMessage-ID: <bob-1@customer.test>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"m\"\r\n\r\n--m\r\nContent-Type: text/plain\r\n\r\nHere it is.\r\n\
         --m\r\nContent-Type: video/mp4; name=\"fault.mp4\"\r\nContent-Disposition: attachment; filename=\"fault.mp4\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--m--\r\n",
        lines.join("\r\n")
    );
    mail.send("bob@customer.test", &[SUPPORT], raw.as_bytes()).await.unwrap();
    let t = server.wait_tickets("platform=email", 1, Duration::from_secs(60)).await;
    let id = t[0]["id"].as_str().unwrap().to_string();
    let view = server.ticket(&id).await;
    let m = &view["messages"][0];
    assert_eq!(m["text"], "Here it is.");
    assert_eq!((m["attachments"][0]["name"].as_str(), m["attachments"][0]["kind"].as_str(), m["attachments"][0]["size"].as_u64()), (Some("fault.mp4"), Some("video"), Some(20_000_000)), "{m}");
    let (s, _, bytes) = server.get_bytes(&format!("/api/v1/messages/{}/attachments/0", m["id"].as_str().unwrap())).await;
    assert_eq!(s, 200);
    assert_eq!(Sha256::digest(&bytes), Sha256::digest(&big), "the part, decoded, byte for byte");

    // HTML only, with script, handlers and a javascript: link: the ticket shows words only.
    let hostile = concat!(
        "From: bob@customer.test\r\nTo: support@shop.test\r\nSubject: Click me\r\nMessage-ID: <bob-2@customer.test>\r\nContent-Type: text/html\r\n\r\n",
        "<html><head><style>p{color:red}</style><script>fetch('/api/v1/users')</script></head><body>",
        "<p onclick=\"steal()\">Totally <b>normal</b> message</p><img src=x onerror=alert(1)><a href=\"javascript:alert(2)\">win</a>",
        "<iframe src=\"https://evil.example\"></iframe></body></html>\r\n"
    );
    mail.send("bob@customer.test", &[SUPPORT], hostile.as_bytes()).await.unwrap();
    let t = server.wait_tickets("platform=email&view=all", 2, WAIT).await;
    let hid = by_text(&t, "normal")["id"].as_str().unwrap().to_string();
    let text = server.ticket(&hid).await["messages"][0]["text"].as_str().unwrap().to_string();
    assert!(text.contains("Totally") && text.contains("normal") && text.contains("message"), "{text}");
    for bad in ["<", "script", "onerror", "onclick", "javascript:", "iframe", "fetch("] {
        assert!(!text.contains(bad), "`{bad}` in {text:?}");
    }

    // Blocked: Bob's next emails stay in the mailbox and become nothing.
    let (s, b) = action(&server, &id, json!({"type": "block"})).await;
    assert_eq!(s, 200, "{b}");
    mail.send("bob@customer.test", &[SUPPORT], b"From: bob@customer.test\r\nSubject: again\r\nMessage-ID: <bob-3@customer.test>\r\n\r\nSpam spam\r\n").await.unwrap();
    // Ann writes after him: once hers is in, his was read and filtered.
    mail.send("ann@customer.test", &[SUPPORT], b"From: ann@customer.test\r\nSubject: Hello\r\nMessage-ID: <ann-9@customer.test>\r\n\r\nJust saying hi\r\n").await.unwrap();
    let t = server.wait_tickets("platform=email&view=all", 3, WAIT).await;
    assert_eq!(t.len(), 3, "{t:?}");
    assert!(t.iter().all(|t| !t["preview"].as_str().unwrap_or("").contains("Spam")));
    assert_eq!(mail.mailbox(SUPPORT).len(), 4, "the blocked email is still in the mailbox");
}

#[tokio::test]
async fn new_mail_wakes_a_channel_at_once_however_long_its_poll_interval() {
    let mail = MailServers::start(&[(SUPPORT, "support-pw"), ("ann@customer.test", "ann-pw")]).expect("the mail servers");
    let opts = Options { env: vec![("HELPDESK_MAIL_CA".into(), mail.ca_file().display().to_string())], ..Options::memory() };
    // Five minutes between polls: only IMAP IDLE can bring these in within the wait.
    let toml = mail.channel_toml("mail", SUPPORT).replace("poll_seconds = \"1\"", "poll_seconds = \"300\"");
    let server = Server::start_with(&toml, opts, None).await;
    server.wait_channel("mail", WAIT, |c| c["health"]["state"] == "ok").await;
    for n in 1..=2 {
        // Let the poll loop settle into its wait first.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let raw = format!("From: ann@customer.test\r\nTo: {SUPPORT}\r\nSubject: Question {n}\r\nMessage-ID: <idle-{n}@customer.test>\r\n\r\nHello {n}\r\n");
        mail.send("ann@customer.test", &[SUPPORT], raw.as_bytes()).await.unwrap();
        server.wait_tickets("platform=email", n, Duration::from_secs(20)).await;
    }
}

/// Every event the socket has brought so far, one by one (some arrive in batches).
fn seen(events: &std::sync::Mutex<Vec<serde_json::Value>>) -> Vec<serde_json::Value> {
    events.lock().unwrap().iter().flat_map(|e| e["events"].as_array().cloned().unwrap_or_else(|| vec![e.clone()])).collect()
}

#[tokio::test]
async fn an_agent_consults_someone_outside_by_email_and_their_answers_land_as_notes_never_sent_to_the_customer() {
    const CONSULT: &str = "consult@shop.test";
    const LAWYER: &str = "lawyer@consult.test";
    let mail = MailServers::start(&[(SUPPORT, "support-pw"), (CONSULT, "consult-pw"), ("ann@customer.test", "ann-pw"), (LAWYER, "lawyer-pw"), ("boss@consult.test", "boss-pw")])
        .expect("the mail servers");
    let opts = Options {
        env: vec![("HELPDESK_MAIL_CA".into(), mail.ca_file().display().to_string())],
        secret_key: Some("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f".into()),
        ..Options::memory()
    };
    let server = Server::start_with(&mail.channel_toml("mail", SUPPORT), opts, None).await;
    mail.send("ann@customer.test", &[SUPPORT], b"From: Ann Example <ann@customer.test>\r\nTo: support@shop.test\r\nSubject: Refund?\r\nMessage-ID: <r1@customer.test>\r\n\r\nThe lamp arrived broken. I want my money back.\r\n").await.unwrap();
    let id = server.wait_tickets("platform=email", 1, WAIT).await[0]["id"].as_str().unwrap().to_string();
    let message = server.ticket(&id).await["messages"][0]["id"].as_str().unwrap().to_string();
    let ask = json!({"to": [LAWYER], "note": "May we refund a lamp broken in transit?", "messages": [message]});

    // Before an admin sets the installation's mail, nothing can be sent.
    let (s, b) = server.post(format!("/api/v1/tickets/{id}/consultations"), ask.clone()).await;
    assert_eq!((s, b["code"].as_str()), (409, Some("mail_not_configured")), "{b}");
    let settings = |password: &str| {
        json!({"address": CONSULT, "display_name": "Shop", "smtp_server": format!("smtps://127.0.0.1:{}", mail.smtps_port),
               "imap_server": format!("imaps://127.0.0.1:{}", mail.imaps_port), "password": password, "poll_seconds": 60})
    };
    let (s, b) = server.put("/api/v1/mail/settings", json!({"address": "not an address", "smtp_server": "smtps://x", "imap_server": "imaps://x", "password": "p"})).await;
    assert_eq!(s, 400, "{b}");
    let (s, b) = server.put("/api/v1/mail/settings", json!({"address": CONSULT, "smtp_server": "https://x", "imap_server": "imaps://x", "password": "p"})).await;
    assert_eq!((s, b["message"].as_str().is_some_and(|m| m.contains("smtps://"))), (400, true), "{b}");
    let (s, b) = server.put("/api/v1/mail/settings", settings("wrong")).await;
    assert_eq!(s, 200, "{b}");
    let (_, b) = server.post("/api/v1/mail/settings/check", json!({})).await;
    assert_eq!(b["ok"], false, "a wrong password is told: {b}");
    assert!(!b.to_string().contains("\"wrong\""), "and never shown: {b}");
    let (s, b) = server.put("/api/v1/mail/settings", settings("consult-pw")).await;
    assert_eq!((s, b["password_set"].as_bool()), (200, Some(true)), "{b}");
    assert!(!b.to_string().contains("consult-pw"));
    let (_, b) = server.post("/api/v1/mail/settings/check", json!({})).await;
    assert_eq!(b["ok"], true, "{b}");
    let (s, b) = server.get("/api/v1/mail/settings").await;
    assert_eq!((s, b["status"]["error"].is_null()), (200, true), "{b}");

    // Bad asks are refused, nothing sent.
    let (s, _) = server.post(format!("/api/v1/tickets/{id}/consultations"), json!({"to": ["nobody"], "note": "x"})).await;
    assert_eq!(s, 400);
    let (s, _) = server.post(format!("/api/v1/tickets/{id}/consultations"), json!({"to": [LAWYER], "note": "x", "messages": ["no-such"]})).await;
    assert_eq!(s, 400);

    // The question reaches the lawyer, quoting the chosen message, answerable to this ticket.
    let events = listen(&server).await;
    let (s, c) = server.post(format!("/api/v1/tickets/{id}/consultations"), ask).await;
    assert_eq!(s, 201, "{c}");
    let got = mail.wait_for_mail(LAWYER, 1, WAIT).await.unwrap();
    let (h, body) = parse(&got[0]);
    let reply_to = c["reply_address"].as_str().unwrap().to_string();
    assert!(reply_to.starts_with("consult+c-") && reply_to.ends_with("@shop.test"), "{reply_to}");
    assert_eq!(header(&h, "Reply-To").map(|r| r.trim_matches(['<', '>'])), Some(reply_to.as_str()), "{h}");
    assert!(header(&h, "From").unwrap().contains(CONSULT), "{h}");
    assert!(body.contains("May we refund a lamp broken in transit?") && body.contains("The lamp arrived broken."), "{body}");
    let question_id = header(&h, "Message-ID").unwrap().to_string();
    let subject = header(&h, "Subject").unwrap().to_string();

    // The lawyer answers above the quote: a note from them, live, with the history saying so.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let answer = format!(
        "From: Lara Lawyer <{LAWYER}>\r\nTo: {reply_to}\r\nSubject: Re: {subject}\r\nMessage-ID: <lara-1@consult.test>\r\n\
         In-Reply-To: {question_id}\r\nReferences: {question_id}\r\n\r\nYes: in transit it is the carrier's risk, refund her.\r\n\r\n\
         On Fri, Shop <consult@shop.test> wrote:\r\n> ##- Write your answer above this line -##\r\n> May we refund?\r\n"
    );
    mail.send(LAWYER, &[&reply_to], answer.as_bytes()).await.unwrap();
    let note_from = |who: &'static str| {
        let server = &server;
        let id = id.clone();
        async move { server.ticket(&id).await["notes"].as_array().unwrap().iter().find(|n| n["email"] == who).cloned() }
    };
    assert!(eventually(WAIT, || async { note_from(LAWYER).await.is_some() }).await, "the answer lands: {}", server.log());
    let note = note_from(LAWYER).await.unwrap();
    assert_eq!(note["text"], "Yes: in transit it is the carrier's risk, refund her.", "{note}");
    assert_eq!((note["author_name"].as_str(), note["consultation_id"].as_str()), (Some("Lara Lawyer"), c["id"].as_str()));
    assert!(eventually(WAIT, || async { seen(&events).iter().any(|e| e["type"] == "note" && e["note"]["email"] == LAWYER) }).await, "live for whoever views the ticket");
    let view = server.ticket(&id).await;
    let history: Vec<_> = view["activity"].as_array().unwrap().iter().map(|a| (a["what"].as_str().unwrap().to_string(), a["detail"].as_str().unwrap().to_string())).collect();
    assert!(history.contains(&("consult.sent".into(), LAWYER.into())), "who was consulted: {history:?}");
    assert!(history.iter().any(|(w, d)| w == "consult.answered" && d.contains(LAWYER)), "{history:?}");
    assert_eq!(view["messages"].as_array().unwrap().len(), 1, "nothing in the customer's conversation");
    assert_eq!(mail.mailbox("ann@customer.test").len(), 0, "nothing reaches the customer");

    // The agent writes again in the same consultation: threaded under the lawyer's answer.
    let (s, b) = server.post(format!("/api/v1/tickets/{id}/consultations/{}/messages", c["id"].as_str().unwrap()), json!({"text": "Full price or minus shipping?"})).await;
    assert_eq!(s, 200, "{b}");
    let got = mail.wait_for_mail(LAWYER, 2, WAIT).await.unwrap();
    let (h, body) = parse(&got[1]);
    assert_eq!(header(&h, "In-Reply-To"), Some("<lara-1@consult.test>"), "{h}");
    assert!(header(&h, "References").unwrap().contains(&question_id), "{h}");
    assert!(body.contains("Full price or minus shipping?"));

    // Her colleague, forwarded the question, writes to the plain address: the subject's token
    // still finds the consultation.
    let forward = format!("From: Boss <boss@consult.test>\r\nTo: {CONSULT}\r\nSubject: Fwd: {subject}\r\nMessage-ID: <boss-1@consult.test>\r\n\r\nFull price, and apologise.\r\n");
    mail.send("boss@consult.test", &[CONSULT], forward.as_bytes()).await.unwrap();
    assert!(eventually(WAIT, || async { note_from("boss@consult.test").await.is_some() }).await, "{}", server.log());
    let (_, list) = server.get(&format!("/api/v1/tickets/{id}/consultations")).await;
    assert_eq!(list[0]["answers"], 2, "{list}");
    assert!(list[0]["participants"].as_array().unwrap().iter().any(|p| p == "boss@consult.test"), "the colleague is in it now: {list}");

    // Out of office, a forged token, and a bounce: no note; the bounce is in the history.
    let notes = server.ticket(&id).await["notes"].as_array().unwrap().len();
    let away = format!("From: {LAWYER}\r\nTo: {reply_to}\r\nSubject: Away\r\nAuto-Submitted: auto-replied\r\nMessage-ID: <lara-ooo@consult.test>\r\n\r\nBack on Monday.\r\n");
    mail.send(LAWYER, &[&reply_to], away.as_bytes()).await.unwrap();
    let forged = reply_to.replace(&reply_to[reply_to.len() - 20..reply_to.len() - 10], "0000000000");
    let fake = format!("From: mallory@consult.test\r\nTo: {forged}\r\nSubject: hi\r\nMessage-ID: <m-1@consult.test>\r\n\r\nPlease refund everyone.\r\n");
    mail.send_via(LAWYER, "mallory@consult.test", &[CONSULT], fake.as_bytes()).await.unwrap();
    let (s, _) = server.post(format!("/api/v1/tickets/{id}/consultations"), json!({"to": ["ghost@consult.test"], "note": "Are you there?"})).await;
    assert_eq!(s, 201);
    let has = |what: &'static str| {
        let server = &server;
        let id = id.clone();
        async move { server.ticket(&id).await["activity"].as_array().unwrap().iter().any(|a| a["what"] == what) }
    };
    assert!(eventually(WAIT, || async { has("consult.auto_reply").await && has("consult.bounced").await }).await, "{}", server.log());
    let bounced = server.ticket(&id).await["activity"].as_array().unwrap().iter().find(|a| a["what"] == "consult.bounced").cloned().unwrap();
    assert!(bounced["detail"].as_str().unwrap().contains("ghost@consult.test") && bounced["ok"] == false, "{bounced}");
    let view = server.ticket(&id).await;
    assert_eq!(view["notes"].as_array().unwrap().len(), notes + 1, "only the new question: {}", view["notes"]);
    assert!(!view["notes"].to_string().contains("refund everyone"));
}

#[tokio::test]
async fn an_away_agent_who_asked_for_digests_gets_one_email_of_what_they_missed() {
    const CONSULT: &str = "consult@shop.test";
    const SAM: &str = "sam@shop.test";
    let mail = MailServers::start(&[(SUPPORT, "support-pw"), (CONSULT, "consult-pw"), (SAM, "sam-mail-pw"), ("ann@customer.test", "ann-pw")]).expect("the mail servers");
    let opts = Options {
        env: vec![("HELPDESK_MAIL_CA".into(), mail.ca_file().display().to_string())],
        secret_key: Some("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f".into()),
        public_url: Some("https://help.shop.test".into()),
        ..Options::memory()
    };
    let server = Server::start_with(&mail.channel_toml("mail", SUPPORT), opts, None).await;
    let (s, b) = server
        .put("/api/v1/mail/settings", json!({"address": CONSULT, "smtp_server": format!("smtps://127.0.0.1:{}", mail.smtps_port), "imap_server": format!("imaps://127.0.0.1:{}", mail.imaps_port), "password": "consult-pw"}))
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, sam) = server.post("/api/v1/users", json!({"email": SAM, "name": "Sam Agent", "role": "agent", "password": "sam-password"})).await;
    assert_eq!(s, 201, "{sam}");
    let sam_id = sam["id"].as_str().unwrap().to_string();
    let http = reqwest::Client::new();
    let cookie = helpdesk_testkit::server::sign_in(&http, &server.base, SAM, "sam-password").await;
    let as_sam = |path: &str, body: serde_json::Value| http.put(server.url(path)).header("cookie", &cookie).header("origin", &server.base).json(&body).send();
    let prefs = json!({"assigned": true, "customer_message": true, "mention": true, "breach": true, "sound": true, "muted_channels": [], "email_digest": true});
    assert_eq!(as_sam("/api/v1/me/notifications", prefs).await.unwrap().status(), 200);
    let refused = as_sam("/api/v1/mail/settings", json!({"address": SAM, "smtp_server": "smtps://x", "imap_server": "imaps://x", "password": "p"})).await.unwrap();
    assert_eq!(refused.status(), 403, "only admins set the helpdesk's mail");
    assert_eq!(as_sam("/api/v1/availability/me", json!({"status": "away"})).await.unwrap().status(), 200);

    // While Sam is away: a ticket is handed to them and a note mentions them.
    mail.send("ann@customer.test", &[SUPPORT], b"From: Ann <ann@customer.test>\r\nTo: support@shop.test\r\nSubject: Order 1182\r\nMessage-ID: <d1@customer.test>\r\n\r\nWhere is order 1182?\r\n").await.unwrap();
    let id = server.wait_tickets("platform=email", 1, WAIT).await[0]["id"].as_str().unwrap().to_string();
    let (s, _) = server.patch(&format!("/api/v1/tickets/{id}"), json!({"assignee": sam_id})).await;
    assert_eq!(s, 200);
    let (s, _) = server.post(format!("/api/v1/tickets/{id}/notes"), json!({"text": "@Sam Agent she called twice"})).await;
    assert_eq!(s, 201);

    let (s, b) = server.post("/api/v1/mail/digests", json!({})).await;
    assert_eq!((s, b["sent"].as_u64()), (200, Some(1)), "{b}");
    let got = mail.wait_for_mail(SAM, 1, WAIT).await.unwrap();
    let (h, body) = parse(&got[0]);
    let body = String::from_utf8(quoted_printable::decode(body.as_bytes(), quoted_printable::ParseMode::Robust).unwrap()).unwrap();
    assert_eq!(header(&h, "Subject"), Some("What you missed: 1 assigned, 1 mention"), "{h}");
    assert!(body.contains("Handed to you") && body.contains(&format!("https://help.shop.test/?ticket={id}")), "{body}");
    assert!(body.contains("she called twice"), "{body}");
    // Nothing new since: nothing sent; back at work: none either.
    let (_, b) = server.post("/api/v1/mail/digests", json!({})).await;
    assert_eq!(b["sent"], 0, "{b}");
    assert_eq!(as_sam("/api/v1/availability/me", json!({"status": "available"})).await.unwrap().status(), 200);
    let (s, _) = server.post(format!("/api/v1/tickets/{id}/notes"), json!({"text": "@Sam Agent one more"})).await;
    assert_eq!(s, 201);
    let (_, b) = server.post("/api/v1/mail/digests", json!({})).await;
    assert_eq!(b["sent"], 0, "an available agent hears it live: {b}");
}
