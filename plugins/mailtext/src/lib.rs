//! A received email in a helpdesk's words, for both the email plugin (customers' mail) and the
//! host (consultants' answers): the fresh text apart from the quoted history and signature,
//! whether a person wrote it at all, and what a delivery report is about.

pub use mail_parser;
use mail_parser::{HeaderValue, Message, MimeHeaders};

/// Mail no person wrote: recorded, never answered, never reopening anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Automated {
    /// An out-of-office or other automatic answer (`Auto-Submitted`, RFC 3834).
    AutoReply,
    /// A delivery report (RFC 3464) or a mailer daemon's returned mail.
    Bounce,
}

/// The sender's address (lower-case) and name.
pub fn sender(message: &Message) -> Option<(String, Option<String>)> {
    let first = message.from()?.first()?;
    Some((first.address()?.to_ascii_lowercase(), first.name().map(str::to_string).filter(|n| !n.is_empty())))
}

/// Message-IDs of a header (`References`, `In-Reply-To`), without their angle brackets.
pub fn ids(v: &HeaderValue) -> Vec<String> {
    v.as_text_list().map(|l| l.iter().map(|s| s.to_string()).collect()).or_else(|| v.as_text().map(|t| vec![t.to_string()])).unwrap_or_default()
}

/// Whether a machine wrote `message`, and which kind.
pub fn automated(message: &Message) -> Option<Automated> {
    let address = sender(message).map(|(a, _)| a).unwrap_or_default();
    let subject = message.subject().unwrap_or("").to_ascii_lowercase();
    let header = |name: &str| message.header_raw(name.to_string()).map(|h| h.trim().to_ascii_lowercase());
    let report = message.content_type().is_some_and(|c| c.ctype().eq_ignore_ascii_case("multipart") && c.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report")));
    if report || address.starts_with("mailer-daemon@") || (header("return-path").as_deref() == Some("<>") && subject.contains("undeliver")) {
        return Some(Automated::Bounce);
    }
    let auto = header("auto-submitted").is_some_and(|v| v != "no")
        || header("x-autoreply").is_some()
        || header("x-autorespond").is_some()
        || matches!(header("precedence").as_deref(), Some("auto_reply" | "bulk" | "junk"));
    auto.then_some(Automated::AutoReply)
}

/// The Message-ID of the message a delivery report is about.
pub fn bounced_message_id(message: &Message) -> Option<String> {
    for part in &message.parts {
        if let Some(nested) = part.message() {
            if let Some(id) = nested.message_id() {
                return Some(id.to_string());
            }
        }
        let is_headers = part.content_type().is_some_and(|c| c.subtype().is_some_and(|s| s.eq_ignore_ascii_case("rfc822-headers")));
        if is_headers {
            let text = String::from_utf8_lossy(part.contents()).into_owned();
            let id = text.lines().find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("message-id")).map(|(_, v)| v.trim()));
            if let Some(id) = id {
                return Some(id.trim_start_matches('<').trim_end_matches('>').to_string());
            }
        }
    }
    None
}

/// Who could not be reached and why, from the report's `message/delivery-status` part.
pub fn delivery_reason(message: &Message) -> Option<String> {
    let status = message.parts.iter().find(|p| p.content_type().is_some_and(|c| c.subtype().is_some_and(|s| s.eq_ignore_ascii_case("delivery-status"))))?;
    let text = String::from_utf8_lossy(status.contents()).into_owned();
    let field = |name: &str| text.lines().find_map(|l| l.split_once(':').filter(|(k, _)| k.trim().eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_string()));
    let recipient = field("Final-Recipient").map(|r| r.split_once(';').map(|(_, a)| a.trim().to_string()).unwrap_or(r));
    let why = field("Diagnostic-Code").map(|d| d.split_once(';').map(|(_, a)| a.trim().to_string()).unwrap_or(d));
    match (recipient, why) {
        (Some(r), Some(w)) => Some(format!("{r} could not be reached: {w}")),
        (Some(r), None) => Some(format!("{r} could not be reached")),
        (None, w) => w,
    }
}

/// The fresh part of a reply, and what folds away under it: the quoted history (`>` lines,
/// "On … wrote:", Outlook's "-----Original Message-----", a line a sender asked to answer
/// above) and the signature (`-- `).
pub fn fold(body: &str) -> (String, String) {
    fold_at(body, None)
}

/// As `fold`, also cutting at the first line holding `marker` (the "answer above this line" of
/// mail we sent).
pub fn fold_at(body: &str, marker: Option<&str>) -> (String, String) {
    let lines: Vec<&str> = body.lines().collect();
    let mut cut = lines.len();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_end();
        let quote_head = (t.starts_with("On ") && t.ends_with("wrote:"))
            || t.starts_with("-----Original Message-----")
            || t.starts_with("________________________________")
            || (t.starts_with("Le ") && t.ends_with("a écrit :"))
            || (t.starts_with("Am ") && t.ends_with("schrieb:"))
            || marker.is_some_and(|m| t.contains(m));
        let quoted_from_here = t.starts_with('>') && lines[i..].iter().all(|l| l.starts_with('>') || l.trim().is_empty());
        // `-- ` (with its space) opens a signature.
        if (t == "--" && line.ends_with(' ')) || quote_head || quoted_from_here {
            cut = i;
            break;
        }
    }
    let fresh = lines[..cut].join("\n").trim_end().to_string();
    let folded = lines[cut..].join("\n").trim().to_string();
    if fresh.trim().is_empty() {
        // All quote: show it rather than nothing.
        return (body.trim().to_string(), String::new());
    }
    (fresh, folded)
}

/// Whether `subject` answers another (`Re:` and its translations).
pub fn is_reply_subject(subject: &str) -> bool {
    let s = subject.to_ascii_lowercase();
    ["re:", "aw:", "sv:", "antw:", "r:"].iter().any(|p| s.starts_with(p))
}

/// A subject without its `Re:`/`Fwd:` prefixes, lower-case.
pub fn normal_subject(subject: &str) -> String {
    let mut s = subject.trim();
    loop {
        let lower = s.to_ascii_lowercase();
        let Some(prefix) = ["re:", "aw:", "sv:", "antw:", "r:", "fwd:", "fw:", "wg:"].iter().find(|p| lower.starts_with(*p)) else { break };
        s = s[prefix.len()..].trim_start();
    }
    s.to_lowercase()
}

/// The domain of an address (`localhost` when it has none).
pub fn domain(address: &str) -> &str {
    address.rsplit_once('@').map(|(_, d)| d).unwrap_or("localhost")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_keeps_its_fresh_words_and_folds_the_history_and_signature() {
        let (fresh, folded) = fold("Thanks, that works.\n\n-- \nAnn\n\nOn Mon, Support wrote:\n> Try again\n");
        assert_eq!(fresh, "Thanks, that works.");
        assert!(folded.contains("Ann") && folded.contains("> Try again"));
        let (fresh, folded) = fold("Hello\nOn Tue, 1 Dec 2026, Shop <support@shop.test> wrote:\n> hi\n");
        assert_eq!((fresh.as_str(), folded.starts_with("On Tue")), ("Hello", true));
    }

    #[test]
    fn an_answer_above_the_marker_is_all_that_is_kept() {
        let (fresh, folded) = fold_at("Yes, refund them.\n\n##- Answer above this line -##\nThe question", Some("##- Answer above this line -##"));
        assert_eq!((fresh.as_str(), folded.ends_with("The question")), ("Yes, refund them.", true));
    }

    #[test]
    fn subjects_compare_without_their_reply_prefixes() {
        assert_eq!(normal_subject("RE: Fwd: Broken Lamp"), "broken lamp");
        assert!(is_reply_subject("AW: x") && !is_reply_subject("Invoice"));
        assert_eq!(domain("a@shop.test"), "shop.test");
    }

    #[test]
    fn an_out_of_office_and_a_delivery_report_are_told_apart_from_people() {
        let parse = |raw: &str| mail_parser::MessageParser::default().parse(raw.as_bytes()).unwrap().into_owned();
        let ooo = parse("From: a@x\r\nSubject: Away\r\nAuto-Submitted: auto-replied\r\n\r\nAway\r\n");
        assert_eq!(automated(&ooo), Some(Automated::AutoReply));
        let person = parse("From: a@x\r\nSubject: Hi\r\nAuto-Submitted: no\r\n\r\nHi\r\n");
        assert_eq!(automated(&person), None);
        let daemon = parse("From: MAILER-DAEMON@mail.x\r\nSubject: Undelivered Mail\r\n\r\nsorry\r\n");
        assert_eq!(automated(&daemon), Some(Automated::Bounce));
    }
}
