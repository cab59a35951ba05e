//! A consultation's emails, without any I/O: the question an agent sends someone outside (what
//! they chose of the conversation quoted, a reply address signed for this consultation), the
//! answers that come back, and which consultation an email belongs to (even forwarded).

use hmac::{Hmac, Mac};
use mailtext::mail_parser::{MessageParser, MimeHeaders};
use mailtext::Automated;
use sha2::Sha256;

/// Where a consultant's answer ends and our quoted question begins.
pub const MARKER: &str = "##- Write your answer above this line -##";
/// Hex digits of the signature in a token (48 bits: guessing one takes 2^47 tries on average).
const SIG_HEX: usize = 12;

fn mac(key: &[u8], id: &str) -> Hmac<Sha256> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(b"helpdesk consultation\0");
    m.update(id.as_bytes());
    m
}

/// The token naming consultation `id`, which only this installation's key makes: `c-<id>-<sig>`.
pub fn token(key: &[u8], id: &str) -> String {
    let sig = hex::encode(mac(key, id).finalize().into_bytes());
    format!("c-{id}-{}", &sig[..SIG_HEX])
}

/// The consultations that tokens anywhere in `text` name, checked against the key; a token
/// someone made up or altered names none.
pub fn tokens_in(key: &[u8], text: &str) -> Vec<String> {
    static TOKEN: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = TOKEN.get_or_init(|| regex::Regex::new(&format!(r"(?i)\bc-([0-9a-f]{{20}})-([0-9a-f]{{{SIG_HEX}}})\b")).expect("a valid pattern"));
    let mut out: Vec<String> = Vec::new();
    for cap in re.captures_iter(text) {
        let id = cap[1].to_ascii_lowercase();
        let Ok(sig) = hex::decode(cap[2].to_ascii_lowercase()) else { continue };
        if mac(key, &id).verify_truncated_left(&sig).is_ok() && !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

/// `local+token@domain` for `address` (`local@domain`): mail servers deliver it to `address`
/// (subaddressing, RFC 5233), and it names the consultation.
pub fn reply_address(address: &str, token: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => format!("{local}+{token}@{domain}"),
        None => format!("{address}+{token}"),
    }
}

/// One message of the conversation, as quoted to the consultant.
pub struct Quoted {
    pub author: String,
    /// "the customer", or "us" for what the team sent.
    pub from_us: bool,
    pub at: i64,
    pub text: String,
    pub files: Vec<String>,
}

fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map(|d| d.format("%-d %b %Y %H:%M UTC").to_string()).unwrap_or_default()
}

/// The body of a consultation's first email.
pub fn question(agent: &str, brand: &str, note: &str, platform: &str, quoted: &[Quoted], left_out: usize) -> String {
    let mut out = format!("{MARKER}\n\n{agent} of {brand} asks for your help:\n\n{}\n\n", note.trim());
    out.push_str(&format!("---- The conversation on {platform} ----\n"));
    if left_out > 0 {
        out.push_str(&format!("({left_out} earlier messages left out)\n"));
    }
    for q in quoted {
        let who = if q.from_us { format!("{} ({brand})", q.author) } else { q.author.clone() };
        out.push_str(&format!("\n{who}, {}:\n", when(q.at)));
        for line in q.text.lines() {
            out.push_str(&format!("  {line}\n"));
        }
        for f in &q.files {
            out.push_str(&format!("  [attached: {f}]\n"));
        }
    }
    out.push_str(&format!("\n----\nAnswer this email to reply to {agent}. Your answer stays with the team at {brand}; it is never sent to the customer.\n"));
    out
}

/// The body of an agent's further email in the same consultation.
pub fn follow_up(agent: &str, brand: &str, text: &str) -> String {
    format!("{MARKER}\n\n{agent} of {brand} writes:\n\n{}\n\n----\nAnswer this email to reply to {agent}; your answer stays with the team.\n", text.trim())
}

/// An email to write.
pub struct Letter<'a> {
    pub from: &'a str,
    pub from_name: &'a str,
    pub reply_to: &'a str,
    pub to: &'a [String],
    pub subject: &'a str,
    pub message_id: &'a str,
    /// The Message-IDs before it in the consultation, oldest first.
    pub references: &'a [String],
    pub text: String,
    pub date: i64,
}

pub fn write(l: Letter<'_>) -> Result<Vec<u8>, String> {
    use mail_builder::headers::address::Address;
    let mut b = mail_builder::MessageBuilder::new()
        .from(Address::new_address(Some(l.from_name.to_string()), l.from.to_string()))
        .reply_to(l.reply_to.to_string())
        .to(l.to.iter().map(|a| Address::new_address(None::<String>, a.clone())).collect::<Vec<_>>())
        .subject(l.subject.to_string())
        .message_id(l.message_id.to_string())
        .date(l.date / 1000)
        .header("Auto-Submitted", mail_builder::headers::raw::Raw::new("no"))
        .text_body(l.text);
    if let Some(last) = l.references.last() {
        b = b.in_reply_to(last.clone()).references(l.references.to_vec());
    }
    b.write_to_vec().map_err(|e| format!("the email could not be written: {e}"))
}

/// What came back to the consultation mailbox.
#[derive(Debug)]
pub struct Received {
    pub consultation_id: String,
    pub message_id: Option<String>,
    /// The sender's address (lower-case) and name.
    pub from: String,
    pub name: Option<String>,
    pub subject: String,
    /// The answer's own words, without our quoted question or their signature.
    pub text: String,
    pub files: Vec<String>,
    pub automated: Option<Automated>,
    /// For a delivery report: who could not be reached and why.
    pub reason: Option<String>,
    pub date: Option<i64>,
}

/// Which consultation `raw` answers (by the token in its recipients, threading headers,
/// subject, or the quoted text of a forward), and what it says; `Err` says why it answers none.
pub fn read(key: &[u8], raw: &[u8]) -> Result<Received, String> {
    let message = MessageParser::default().parse(raw).ok_or("not an email")?;
    // The raw header section holds every recipient header (To, Cc, Delivered-To...) and the
    // threading ones; the subject is read decoded too.
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").or_else(|| raw.windows(2).position(|w| w == b"\n\n")).unwrap_or(raw.len());
    let mut places = vec![String::from_utf8_lossy(&raw[..end]).into_owned(), message.subject().unwrap_or("").to_string()];
    let body = message.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
    let automated = mailtext::automated(&message);
    if automated == Some(Automated::Bounce) {
        if let Some(id) = mailtext::bounced_message_id(&message) {
            places.push(id);
        }
    }
    let id = tokens_in(key, &places.join("\n")).into_iter().next().or_else(|| tokens_in(key, &body).into_iter().next()).ok_or("it names no consultation")?;
    let (from, name) = mailtext::sender(&message).ok_or("it has no sender")?;
    let (fresh, _) = mailtext::fold_at(&body, Some(MARKER));
    let files = message.attachments().filter_map(|a| a.attachment_name().map(str::to_string)).collect();
    Ok(Received {
        consultation_id: id,
        message_id: message.message_id().map(str::to_string),
        from,
        name,
        subject: message.subject().unwrap_or("").to_string(),
        text: fresh,
        files,
        reason: (automated == Some(Automated::Bounce)).then(|| mailtext::delivery_reason(&message)).flatten(),
        automated,
        date: message.date().map(|d| d.to_timestamp() * 1000),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";
    const ID: &str = "0a1b2c3d4e5f60718293";

    #[test]
    fn a_token_names_its_consultation_and_a_forged_one_names_none() {
        let t = token(KEY, ID);
        assert_eq!(tokens_in(KEY, &format!("Re: question [{t}]")), [ID]);
        assert_eq!(tokens_in(KEY, &reply_address("consult@shop.test", &t)), [ID], "inside a reply address");
        let forged = format!("c-{}-{}", "ffffffffffffffffffff", &t[t.len() - SIG_HEX..]);
        assert!(tokens_in(KEY, &forged).is_empty(), "another id with this signature");
        assert!(tokens_in(b"another installation's key......", &t).is_empty());
        assert_eq!(reply_address("consult@shop.test", "c-x-y"), "consult+c-x-y@shop.test");
    }

    fn letter(text: String, references: &[String]) -> Vec<u8> {
        let to = ["lawyer@consult.test".to_string()];
        let reply = reply_address("consult@shop.test", &token(KEY, ID));
        write(Letter { from: "consult@shop.test", from_name: "Shop", reply_to: &reply, to: &to, subject: "Question", message_id: "q1@shop.test", references, text, date: 0 }).unwrap()
    }

    #[test]
    fn the_question_quotes_what_was_chosen_and_carries_the_signed_reply_address() {
        let quoted = [Quoted { author: "Ann".into(), from_us: false, at: 0, text: "My lamp flickers\nsince Monday".into(), files: vec!["lamp.jpg".into()] }];
        let body = question("Sam", "Shop", "May we refund her?", "Email", &quoted, 2);
        assert!(body.starts_with(MARKER) && body.contains("May we refund her?") && body.contains("  since Monday") && body.contains("[attached: lamp.jpg]") && body.contains("2 earlier messages"), "{body}");
        let raw = String::from_utf8(letter(body, &[])).unwrap();
        assert!(raw.contains(&format!("Reply-To: <consult+{}@shop.test>", token(KEY, ID))), "{raw}");
        let raw = String::from_utf8(letter("more".into(), &["q1@shop.test".into()])).unwrap();
        assert!(raw.contains("In-Reply-To: <q1@shop.test>") && raw.contains("References: <q1@shop.test>"), "{raw}");
    }

    #[test]
    fn an_answer_is_matched_by_its_address_its_references_its_subject_or_a_forward() {
        let t = token(KEY, ID);
        let by_address = format!("From: Lara <lawyer@consult.test>\r\nTo: consult+{t}@shop.test\r\nSubject: Re: Question\r\nMessage-ID: <a1@consult.test>\r\n\r\nYes, refund.\r\n\r\nOn Fri, Shop wrote:\r\n> {MARKER}\r\n> May we?\r\n");
        let r = read(KEY, by_address.as_bytes()).unwrap();
        assert_eq!((r.consultation_id.as_str(), r.from.as_str(), r.name.as_deref(), r.text.as_str()), (ID, "lawyer@consult.test", Some("Lara"), "Yes, refund."));
        let by_references = format!("From: lawyer@consult.test\r\nTo: consult@shop.test\r\nSubject: Re: Question\r\nReferences: <{t}.1@shop.test>\r\n\r\nNo.\r\n");
        assert_eq!(read(KEY, by_references.as_bytes()).unwrap().consultation_id, ID);
        let forwarded = format!("From: boss@consult.test\r\nTo: consult@shop.test\r\nSubject: Fwd: Question\r\n\r\nRefund is fine by me.\r\n\r\n---------- Forwarded message ---------\r\nReply-To: consult+{t}@shop.test\r\n");
        let r = read(KEY, forwarded.as_bytes()).unwrap();
        assert_eq!((r.consultation_id.as_str(), r.from.as_str()), (ID, "boss@consult.test"));
        assert!(read(KEY, b"From: x@y\r\nTo: consult@shop.test\r\nSubject: hello\r\n\r\nspam\r\n").is_err());
    }

    #[test]
    fn an_out_of_office_answer_is_told_apart() {
        let t = token(KEY, ID);
        let ooo = format!("From: lawyer@consult.test\r\nTo: consult+{t}@shop.test\r\nSubject: Away\r\nAuto-Submitted: auto-replied\r\n\r\nBack Monday\r\n");
        assert_eq!(read(KEY, ooo.as_bytes()).unwrap().automated, Some(Automated::AutoReply));
    }
}
