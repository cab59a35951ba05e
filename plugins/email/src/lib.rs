//! Email channel: reads a mailbox over IMAP and answers over SMTP through the host's `mail`
//! import (the host holds the connections and the password). One ticket per conversation by
//! `Message-ID`/`In-Reply-To`/`References` (the subject as a fallback); replies go out threaded,
//! `Re:` and from the channel's address; auto-replies and bounces are recorded, never answered.

mod inbound;
mod threads;

use helpdesk_plugin_sdk::mail::{self, Account};
use helpdesk_plugin_sdk::prelude::*;

struct Email;

/// A reply's files: the host's own cap on a file, ten of them.
const MAX_FILE: u64 = 10_000_000;
/// Messages per poll (the host also caps a page's bytes).
const PAGE: u32 = 50;

fn address() -> Result<String, ChannelError> {
    Ok(require_config("address")?.trim().to_ascii_lowercase())
}

fn account(server_key: &str) -> Result<Account, ChannelError> {
    Ok(Account {
        server: require_config(server_key)?,
        username: config("username").unwrap_or(address()?),
        password_secret: "password".into(),
    })
}

fn folder() -> String {
    config_or("folder", "INBOX")
}

/// `uid-validity:last-uid`.
fn cursor(c: Option<&str>) -> Result<(Option<u32>, u32), ChannelError> {
    match c {
        None => Ok((None, 0)),
        Some(c) => {
            let (v, u) = c.split_once(':').ok_or_else(|| err::permanent(format!("bad cursor `{c}`")))?;
            Ok((Some(v.parse().map_err(|_| err::permanent(format!("bad cursor `{c}`")))?), u.parse().map_err(|_| err::permanent(format!("bad cursor `{c}`")))?))
        }
    }
}

fn meta<'a>(target: &'a Target, key: &str) -> Option<&'a str> {
    target.meta.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// A Message-ID of ours: random (std's hasher is seeded from the host's randomness) and dated.
fn new_message_id(domain: &str) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_i64(helpdesk_plugin_sdk::time::now_ms());
    format!("hd.{}.{:016x}@{domain}", helpdesk_plugin_sdk::time::now_ms(), h.finish())
}

/// Answer the conversation of `target`: to whoever wrote it (or their `Reply-To`), `Re:` its
/// subject, `In-Reply-To` it and `References` the whole chain.
fn reply(target: &Target, text: &str, files: Vec<OutgoingFile>) -> Result<ActionOutcome, ChannelError> {
    if target.direction == Direction::Outbound {
        return Err(err::unsupported("answer the customer's email, not ours"));
    }
    let ours = address()?;
    let to = meta(target, "reply-to").unwrap_or(&target.author_id).to_string();
    if !to.contains('@') {
        return Err(err::permanent(format!("`{to}` is not an email address to answer")));
    }
    let subject = meta(target, "subject").unwrap_or("");
    let subject = if subject.is_empty() {
        "Re: your message".to_string()
    } else if subject.to_ascii_lowercase().starts_with("re:") {
        subject.to_string()
    } else {
        format!("Re: {subject}")
    };
    let parent = meta(target, "message-id").unwrap_or(&target.platform_id).to_string();
    let references: Vec<String> = meta(target, "references").map(|r| r.split_whitespace().map(str::to_string).collect()).unwrap_or_else(|| vec![parent.clone()]);
    let id = new_message_id(inbound::domain(&ours));
    let from_name = config("display_name");
    let now = helpdesk_plugin_sdk::time::now_ms();
    let mut builder = mail_builder::MessageBuilder::new()
        .from(match &from_name {
            Some(n) => mail_builder::headers::address::Address::new_address(Some(n.clone()), ours.clone()),
            None => mail_builder::headers::address::Address::new_address(None::<String>, ours.clone()),
        })
        .to(to.clone())
        .subject(subject.clone())
        .message_id(id.clone())
        .in_reply_to(parent.clone())
        .references(references.clone())
        .date(now / 1000)
        .text_body(text.to_string());
    let mut attachments = Vec::new();
    for f in files {
        attachments.push(Attachment { kind: f.kind, platform_id: None, url: None, mime_type: Some(f.mime_type.clone()), name: Some(f.name.clone()), size: Some(f.bytes.len() as u64) });
        builder = builder.attachment(f.mime_type, f.name, f.bytes);
    }
    let raw = builder.write_to_vec().map_err(|e| err::permanent(format!("the email could not be written: {e}")))?;
    mail::send(&account("smtp_server")?, &ours, &[to.clone()], &raw)?;
    threads::remember(&id, &target.thread_key)?;
    let mut chain = references;
    chain.push(id.clone());
    let author = Author { handle: Some(ours.clone()), ..Author::new(ours.clone(), from_name.unwrap_or_else(|| ours.clone())) };
    Ok(ActionOutcome {
        created: Some(Interaction {
            attachments,
            title: Some(subject.clone()),
            meta: vec![("message-id".into(), id.clone()), ("subject".into(), subject), ("references".into(), chain.join(" ")), ("to".into(), to)],
            ..Interaction::new(id, InteractionKind::PrivateMessage, Direction::Outbound, target.thread_key.clone(), author, text, now)
        }),
    })
}

impl Channel for Email {
    fn describe() -> ChannelInfo {
        use ActionKind::*;
        ChannelInfo {
            platform: "email".into(),
            platform_name: "Email".into(),
            capabilities: vec![Capability::new(InteractionKind::PrivateMessage, &[Reply, Block, Unblock])
                .only_on(Reply, Direction::Inbound)
                .note("One ticket per conversation, by its threading headers (or its subject); replies go from the channel's address, threaded")
                .action_note(Block, "A local filter: their emails are left in the mailbox and no longer become tickets")],
            polls: true,
            webhooks: false,
            reply_window_hours: None,
            tagged_reply_window: None,
            settings: vec![
                Setting::config("address", "Support address").help("The mailbox's address: replies go from it, and mail to it becomes tickets"),
                Setting::config("imap_server", "IMAP server").help("imaps://imap.example.com:993 (TLS) or imap://imap.example.com:143 (STARTTLS); grant it in allowed hosts"),
                Setting::config("smtp_server", "SMTP server").help("smtps://smtp.example.com:465 (TLS) or smtp://smtp.example.com:587 (STARTTLS); grant it in allowed hosts"),
                Setting::config("username", "Username").optional().help("For both servers; the support address when empty"),
                Setting::secret("password", "Password").help("For both servers (an app password where the provider has them)"),
                Setting::config("display_name", "Sender name").optional().help("Shown beside the address on replies: \"Shop support\""),
                Setting::config("folder", "Folder").default_value("INBOX"),
                Setting::config("poll_seconds", "Check every (seconds)").default_value("30"),
            ],
            allowed_hosts: Vec::new(),
        }
    }

    fn file_capabilities() -> Vec<FileCapability> {
        use AttachmentKind::*;
        vec![FileCapability::new(InteractionKind::PrivateMessage, &[Image, Video, Audio, File], MAX_FILE, 10).note("Attached to the reply")]
    }

    fn check() -> Result<String, ChannelError> {
        let page = mail::fetch(&account("imap_server")?, &folder(), None, u32::MAX - 1, 1)?;
        Ok(format!("{} reads {} (UIDVALIDITY {})", address()?, folder(), page.uid_validity))
    }

    fn fetch(c: Option<String>) -> Result<Page, ChannelError> {
        let (validity, after) = cursor(c.as_deref())?;
        let ours = address()?;
        let folder = folder();
        let page = mail::fetch(&account("imap_server")?, &folder, validity, after, PAGE)?;
        let mut events = Vec::new();
        let mut last = if Some(page.uid_validity) == validity { after } else { 0 };
        for m in &page.messages {
            let place = inbound::Place { uid_validity: page.uid_validity, uid: m.uid, folder: &folder };
            events.extend(inbound::events(&m.raw, m.size, &place, &ours)?);
            last = last.max(m.uid);
        }
        let every: u32 = config_or("poll_seconds", "30").parse().map_err(|_| err::invalid_config("poll_seconds must be a whole number"))?;
        Ok(Page {
            events,
            next_cursor: Some(format!("{}:{last}", page.uid_validity)),
            poll_after_ms: if page.more { 0 } else { every.saturating_mul(1000) },
            quota: None,
            notice: None,
        })
    }

    fn perform(target: Target, action: Action) -> Result<ActionOutcome, ChannelError> {
        match action {
            Action::Reply(r) => reply(&target, &r.text, Vec::new()),
            Action::Block => threads::block(&target.author_id, true).map(|_| ActionOutcome { created: None }),
            Action::Unblock => threads::block(&target.author_id, false).map(|_| ActionOutcome { created: None }),
            _ => Err(err::unsupported("email has no such action")),
        }
    }

    fn send_files(target: Target, r: Reply, private: bool, files: Vec<OutgoingFile>) -> Result<ActionOutcome, ChannelError> {
        if private {
            return Err(err::unsupported("an email reply is already private"));
        }
        reply(&target, &r.text, files)
    }

    /// The attachment's part, by IMAP URL: the host fetches and decodes it.
    fn media(target: Target, attachment: Attachment) -> Result<HttpRequest, ChannelError> {
        let section = attachment.platform_id.ok_or_else(|| err::unsupported("this attachment is not in the mailbox"))?;
        let (Some(uid), Some(validity)) = (meta(&target, "uid"), meta(&target, "uid-validity")) else {
            return Err(err::unsupported("this email's place in the mailbox is unknown"));
        };
        let folder = meta(&target, "folder").map(str::to_string).unwrap_or_else(folder);
        let server = require_config("imap_server")?;
        let (scheme, rest) = server.split_once("://").ok_or_else(|| err::invalid_config("imap_server must be imaps://host:port or imap://host:port"))?;
        let user = config("username").unwrap_or(address()?);
        let enc = |s: &str| s.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect::<String>();
        let url = format!("{scheme}://{}@{}/{};UIDVALIDITY={validity}/;UID={uid}/;SECTION={section}", enc(&user), rest.trim_end_matches('/'), enc(&folder));
        Ok(HttpRequest { method: "GET".into(), url, headers: vec![("password-secret".into(), "password".into())], body: Vec::new() })
    }
}

export_channel!(Email);

#[cfg(test)]
mod tests {
    use super::*;
    use helpdesk_plugin_sdk::testing::Fake;

    fn fake() -> Fake {
        Fake::new()
            .config("address", "Support@Shop.test")
            .config("imap_server", "imaps://127.0.0.1:993")
            .config("smtp_server", "smtp://127.0.0.1:587")
            .config("display_name", "Shop support")
            .secret("password", "pw")
            .now(1_800_000_000_000)
    }

    #[test]
    fn the_mailbox_is_read_from_its_cursor_and_a_renumbered_one_from_the_start() {
        let f = fake();
        f.deliver(1, b"From: ann@customer.test\r\nSubject: Hi\r\nMessage-ID: <a1@c>\r\n\r\nhello\r\n");
        f.deliver(2, b"From: bob@customer.test\r\nSubject: Yo\r\nMessage-ID: <b1@c>\r\n\r\nyo\r\n");
        let page = Email::fetch(None).unwrap();
        assert_eq!((page.events.len(), page.next_cursor.as_deref()), (2, Some("1:2")));
        assert_eq!(Email::fetch(Some("1:2".into())).unwrap().events.len(), 0);
        f.renumber(9);
        let again = Email::fetch(Some("1:2".into())).unwrap();
        assert_eq!((again.events.len(), again.next_cursor.as_deref()), (2, Some("9:2")));
    }

    #[test]
    fn a_reply_goes_threaded_from_our_address_with_re_and_its_files() {
        let f = fake();
        f.deliver(1, b"From: Ann <ann@customer.test>\r\nReply-To: ann.home@customer.test\r\nSubject: Broken lamp\r\nMessage-ID: <a1@customer.test>\r\n\r\nIt flickers.\r\n");
        let Event::Interaction(i) = Email::fetch(None).unwrap().events.remove(0) else { panic!() };
        let target = Target { kind: i.kind, direction: i.direction, platform_id: i.platform_id.clone(), thread_key: i.thread_key.clone(), author_id: i.author.id.clone(), meta: i.meta.clone() };
        let file = OutgoingFile { kind: AttachmentKind::File, name: "manual.pdf".into(), mime_type: "application/pdf".into(), bytes: b"%PDF-1.4 x".to_vec() };
        let out = Email::send_files(target, Reply { text: "Try a new bulb.".into(), tag: None }, false, vec![file]).unwrap().created.unwrap();
        let (from, to, raw) = f.sent_mail().remove(0);
        assert_eq!((from.as_str(), to), ("support@shop.test", vec!["ann.home@customer.test".to_string()]));
        use mailtext::mail_parser::MimeHeaders;
        let m = mailtext::mail_parser::MessageParser::default().parse(&raw).unwrap();
        assert_eq!(m.subject(), Some("Re: Broken lamp"));
        assert_eq!(m.in_reply_to().as_text(), Some("a1@customer.test"));
        assert_eq!(m.references().as_text(), Some("a1@customer.test"));
        assert_eq!(m.from().and_then(|a| a.first()).and_then(|a| a.name()), Some("Shop support"));
        assert_eq!(m.attachments().next().and_then(|a| a.attachment_name()), Some("manual.pdf"));
        assert_eq!(Some(out.platform_id.as_str()), m.message_id());
        assert_eq!(out.thread_key, "a1@customer.test");
    }

    #[test]
    fn an_attachment_downloads_by_the_imap_url_of_its_part() {
        let _f = fake();
        let target = Target {
            kind: InteractionKind::PrivateMessage,
            direction: Direction::Inbound,
            platform_id: "a1@c".into(),
            thread_key: "a1@c".into(),
            author_id: "ann@customer.test".into(),
            meta: vec![("uid".into(), "4".into()), ("uid-validity".into(), "7".into()), ("folder".into(), "INBOX".into())],
        };
        let a = Attachment { kind: AttachmentKind::Image, platform_id: Some("2".into()), url: None, mime_type: None, name: None, size: None };
        let req = Email::media(target, a).unwrap();
        assert_eq!(req.url, "imaps://support%40shop.test@127.0.0.1:993/INBOX;UIDVALIDITY=7/;UID=4/;SECTION=2");
        assert_eq!(req.headers, vec![("password-secret".to_string(), "password".to_string())]);
    }
}
