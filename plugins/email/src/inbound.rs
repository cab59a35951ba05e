//! A fetched message in the helpdesk's words: who wrote it, its thread, its fresh text (the
//! quoted history and signature folded apart), its attachments as IMAP parts, and whether a
//! person wrote it at all (auto-replies and delivery reports are recorded, never answered).

use crate::threads;
use helpdesk_plugin_sdk::prelude::*;
use mailtext::mail_parser::{Message, MessageParser, MessagePart, MimeHeaders, PartType};
use mailtext::{bounced_message_id, delivery_reason, fold, is_reply_subject, normal_subject, Automated};
pub use mailtext::domain;
use std::collections::HashMap;

/// Where a message is on the server, for its attachments' IMAP URLs.
pub struct Place<'a> {
    pub uid_validity: u32,
    pub uid: u32,
    pub folder: &'a str,
}

/// The events of one message: usually one interaction; a bounce also fails our message.
pub fn events(raw: &[u8], size: u64, place: &Place, ours: &str) -> Result<Vec<Event>, ChannelError> {
    let fallback_id = format!("uid-{}-{}@{}", place.uid_validity, place.uid, domain(ours));
    if raw.is_empty() {
        // Larger than the host hands over: say so in the ticket rather than lose it.
        let text = format!("(An email of {} MB, too large to show here: open it in the mailbox, UID {}.)", size >> 20, place.uid);
        let author = Author::new("unknown", "Unknown sender");
        return Ok(vec![Event::Interaction(Interaction::new(fallback_id.clone(), InteractionKind::PrivateMessage, Direction::Inbound, fallback_id, author, text, None))]);
    }
    let Some(message) = MessageParser::default().parse(raw) else {
        return Ok(Vec::new());
    };
    let root = &message;
    let id = root.message_id().map(str::to_string).unwrap_or(fallback_id);
    let (address, name) = mailtext::sender(root).unwrap_or_else(|| ("unknown".into(), None));
    if address.eq_ignore_ascii_case(ours) {
        // Our own mail come back (a copy to ourselves): the ticket has it already.
        return Ok(Vec::new());
    }
    if threads::blocked(&address)? {
        log(Level::Info, &format!("skipped an email from {address}, who is blocked"));
        return Ok(Vec::new());
    }
    let subject = root.subject().unwrap_or("").trim().to_string();
    let references = mailtext::ids(root.references());
    let in_reply_to = mailtext::ids(root.in_reply_to());
    let automated = mailtext::automated(root);
    let bounce = automated == Some(Automated::Bounce);
    let auto_reply = automated == Some(Automated::AutoReply);
    let mut events = Vec::new();
    // The parent first, then the newest references: a few lookups, however long the chain.
    let mut known_thread = threads::thread_of(in_reply_to.iter().chain(references.iter().rev()).take(10))?;
    if bounce {
        // The report names the message that could not be delivered: ours, in a ticket.
        let original = bounced_message_id(&message);
        let reason = delivery_reason(&message);
        match original.as_deref().and_then(|o| threads::thread_of(std::iter::once(&o.to_string())).ok().flatten().map(|t| (o.to_string(), t))) {
            Some((original, thread)) => {
                events.push(Event::Delivery(Delivery {
                    platform_id: original,
                    state: DeliveryState::Failed,
                    at: root.date().map(|d| d.to_timestamp() * 1000).unwrap_or_else(helpdesk_plugin_sdk::time::now_ms),
                    error: Some(reason.clone().unwrap_or_else(|| "the email could not be delivered".into())),
                }));
                known_thread = Some(thread);
            }
            // A report about something this channel never sent: nothing to file it under.
            None => return Ok(events),
        }
    }
    let thread = match known_thread {
        Some(t) => t,
        None => {
            let by_subject = if is_reply_subject(&subject) { threads::thread_by_subject(&address, &normal_subject(&subject))? } else { None };
            by_subject.or_else(|| references.first().cloned()).or_else(|| in_reply_to.first().cloned()).unwrap_or_else(|| id.clone())
        }
    };
    threads::remember(&id, &thread)?;
    if !bounce && !auto_reply {
        threads::remember_subject(&address, &normal_subject(&subject), &thread)?;
    }
    let body = root.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
    let (fresh, folded) = fold(&body);
    let text = if bounce { reason_text(&message).unwrap_or(fresh) } else { fresh };
    let mut meta = vec![
        ("message-id".to_string(), id.clone()),
        ("subject".to_string(), subject.clone()),
        ("uid".to_string(), place.uid.to_string()),
        ("uid-validity".to_string(), place.uid_validity.to_string()),
        ("folder".to_string(), place.folder.to_string()),
    ];
    let mut chain = references.clone();
    if chain.last() != Some(&id) {
        chain.push(id.clone());
    }
    meta.push(("references".into(), chain.iter().rev().take(20).rev().cloned().collect::<Vec<_>>().join(" ")));
    if let Some(reply_to) = root.reply_to().and_then(|r| r.first().and_then(|m| m.address().map(str::to_string))) {
        meta.push(("reply-to".into(), reply_to));
    }
    if !folded.is_empty() {
        meta.push(("folded".into(), folded.chars().take(20_000).collect()));
    }
    if bounce {
        meta.push(("automated".into(), "bounce".into()));
    } else if auto_reply {
        meta.push(("automated".into(), "auto-reply".into()));
    }
    let author = Author { handle: Some(address.clone()), ..Author::new(address.clone(), name.filter(|n| !n.is_empty()).unwrap_or_else(|| address.clone())) };
    let sections = sections(&message);
    let attachments = if bounce { Vec::new() } else { message.attachments.iter().filter_map(|id| attachment(message.parts.get(*id as usize)?, sections.get(id)?)).collect() };
    events.push(Event::Interaction(Interaction {
        attachments,
        meta,
        title: Some(subject).filter(|s| !s.is_empty()),
        ..Interaction::new(id, InteractionKind::PrivateMessage, Direction::Inbound, thread, author, text, root.date().map(|d| d.to_timestamp() * 1000))
    }));
    Ok(events)
}

/// An attachment, named by its IMAP section (`2`, `1.2`) for the download.
fn attachment(part: &MessagePart, section: &str) -> Option<Attachment> {
    let (ctype, subtype) = part.content_type().map(|c| (c.ctype().to_ascii_lowercase(), c.subtype().unwrap_or("").to_ascii_lowercase())).unwrap_or(("application".into(), "octet-stream".into()));
    let kind = match ctype.as_str() {
        "image" => AttachmentKind::Image,
        "video" => AttachmentKind::Video,
        "audio" => AttachmentKind::Audio,
        _ => AttachmentKind::File,
    };
    let name = part.attachment_name().map(str::to_string).or_else(|| (ctype == "message").then(|| "forwarded.eml".to_string()));
    let size = match &part.body {
        PartType::Message(_) => (part.raw_end_offset() - part.raw_body_offset()) as u64,
        _ => part.len() as u64,
    };
    Some(Attachment { kind, platform_id: Some(section.to_string()), url: None, mime_type: Some(format!("{ctype}/{subtype}")), name, size: Some(size) })
}

/// Each part's IMAP section number (its place among its parents' children, from the top); a
/// message that is one part has it as section 1.
fn sections(message: &Message) -> HashMap<u32, String> {
    let mut out = HashMap::new();
    fn walk(message: &Message, id: u32, path: &str, out: &mut HashMap<u32, String>) {
        let Some(part) = message.parts.get(id as usize) else { return };
        if let PartType::Multipart(children) = &part.body {
            for (n, child) in children.iter().enumerate() {
                let p = if path.is_empty() { (n + 1).to_string() } else { format!("{path}.{}", n + 1) };
                walk(message, *child, &p, out);
            }
        } else {
            out.insert(id, if path.is_empty() { "1".into() } else { path.to_string() });
        }
    }
    walk(message, 0, "", &mut out);
    out
}

fn reason_text(message: &Message) -> Option<String> {
    delivery_reason(message).map(|r| format!("Delivery failed: {r}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use helpdesk_plugin_sdk::testing::Fake;

    const PLACE: Place = Place { uid_validity: 7, uid: 3, folder: "INBOX" };

    fn only(events: Vec<Event>) -> Interaction {
        match events.into_iter().last() {
            Some(Event::Interaction(i)) => i,
            other => panic!("not an interaction: {other:?}"),
        }
    }

    #[test]
    fn a_customers_answer_threads_by_its_references_and_a_new_subject_starts_a_ticket() {
        let _f = Fake::new();
        let first = b"From: Ann <ann@customer.test>\r\nTo: support@shop.test\r\nSubject: Broken lamp\r\nMessage-ID: <a1@customer.test>\r\n\r\nIt flickers.\r\n";
        let one = only(events(first, 0, &PLACE, "support@shop.test").unwrap());
        assert_eq!((one.thread_key.as_str(), one.author.id.as_str(), one.title.as_deref()), ("a1@customer.test", "ann@customer.test", Some("Broken lamp")));
        let answer = b"From: ann@customer.test\r\nSubject: Re: Broken lamp\r\nMessage-ID: <a3@customer.test>\r\nIn-Reply-To: <hd2@shop.test>\r\nReferences: <a1@customer.test> <hd2@shop.test>\r\n\r\nStill flickers\r\n";
        assert_eq!(only(events(answer, 0, &PLACE, "support@shop.test").unwrap()).thread_key, "a1@customer.test");
        // No headers, only the subject: the same conversation.
        let bare = b"From: ann@customer.test\r\nSubject: RE: broken lamp\r\nMessage-ID: <a4@customer.test>\r\n\r\nHello?\r\n";
        assert_eq!(only(events(bare, 0, &PLACE, "support@shop.test").unwrap()).thread_key, "a1@customer.test");
        let other = b"From: ann@customer.test\r\nSubject: Invoice\r\nMessage-ID: <a5@customer.test>\r\n\r\nWhere is it?\r\n";
        assert_eq!(only(events(other, 0, &PLACE, "support@shop.test").unwrap()).thread_key, "a5@customer.test");
    }

    #[test]
    fn html_only_mail_becomes_text_and_attachments_are_named_by_their_imap_section() {
        let _f = Fake::new();
        let raw = concat!(
            "From: bob@customer.test\r\nSubject: pic\r\nMessage-ID: <b1@customer.test>\r\nContent-Type: multipart/mixed; boundary=\"x\"\r\n\r\n",
            "--x\r\nContent-Type: text/html\r\n\r\n<p>See <b>this</b></p><script>alert(1)</script>\r\n",
            "--x\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=\"a.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--x--\r\n"
        );
        let i = only(events(raw.as_bytes(), 0, &PLACE, "support@shop.test").unwrap());
        assert!(i.text.contains("See") && i.text.contains("this") && !i.text.contains("<b>"), "{}", i.text);
        assert_eq!(i.attachments.len(), 1);
        let a = &i.attachments[0];
        assert_eq!((a.platform_id.as_deref(), a.name.as_deref(), a.kind, a.size), (Some("2"), Some("a.png"), AttachmentKind::Image, Some(5)));
    }

    #[test]
    fn an_auto_reply_is_marked_and_a_bounce_fails_our_message_in_its_ticket() {
        let _f = Fake::new();
        threads::remember("hd9@shop.test", "a1@customer.test").unwrap();
        let ooo = b"From: ann@customer.test\r\nSubject: Out of office\r\nAuto-Submitted: auto-replied\r\nMessage-ID: <o1@customer.test>\r\nIn-Reply-To: <hd9@shop.test>\r\n\r\nAway\r\n";
        let i = only(events(ooo, 0, &PLACE, "support@shop.test").unwrap());
        assert!(i.meta.contains(&("automated".into(), "auto-reply".into())));
        assert_eq!(i.thread_key, "a1@customer.test");
        let dsn = concat!(
            "From: MAILER-DAEMON@mail.shop.test\r\nSubject: Undelivered Mail Returned to Sender\r\nMessage-ID: <d1@mail.shop.test>\r\n",
            "Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n",
            "--r\r\nContent-Type: text/plain\r\n\r\nI'm sorry.\r\n",
            "--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mail.shop.test\r\n\r\nFinal-Recipient: rfc822; ghost@customer.test\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: x-unix; user unknown\r\n",
            "--r\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: support@shop.test\r\nMessage-ID: <hd9@shop.test>\r\nSubject: Re: lamp\r\n--r--\r\n"
        );
        let got = events(dsn.as_bytes(), 0, &PLACE, "support@shop.test").unwrap();
        assert!(matches!(&got[0], Event::Delivery(d) if d.platform_id == "hd9@shop.test" && d.state == DeliveryState::Failed && d.error.as_deref().unwrap().contains("ghost@customer.test")));
        let i = only(got);
        assert!(i.meta.contains(&("automated".into(), "bounce".into())) && i.thread_key == "a1@customer.test", "{i:?}");
    }

    #[test]
    fn a_blocked_sender_is_filtered_out() {
        let _f = Fake::new();
        threads::block("spam@customer.test", true).unwrap();
        let raw = b"From: Spam <SPAM@customer.test>\r\nSubject: buy\r\nMessage-ID: <s1@x>\r\n\r\nbuy now\r\n";
        assert!(events(raw, 0, &PLACE, "support@shop.test").unwrap().is_empty());
    }
}
