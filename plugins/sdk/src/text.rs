//! Text as the contract wants it (plain, never HTML) from what platforms send.

/// Plain text from an HTML fragment (Mastodon statuses, emails, Google reviews): tags removed,
/// `<br>` and block ends as line breaks, entities decoded, runs of blank lines collapsed.
/// Script and style content is dropped.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    let mut skip_until: Option<&'static str> = None;
    while let Some(start) = rest.find('<') {
        if skip_until.is_none() {
            out.push_str(&rest[..start]);
        }
        // `<` not opening a tag (`5 < 6`) is text.
        if !rest[start + 1..].starts_with(|c: char| c.is_ascii_alphabetic() || c == '/' || c == '!') {
            if skip_until.is_none() {
                out.push('<');
            }
            rest = &rest[start + 1..];
            continue;
        }
        let Some(end) = rest[start..].find('>') else {
            // A lone `<` is text.
            if skip_until.is_none() {
                out.push_str(&rest[start..]);
            }
            rest = "";
            break;
        };
        let tag = rest[start + 1..start + end].trim().to_ascii_lowercase();
        let name: String = tag.trim_start_matches('/').chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        let closing = tag.starts_with('/');
        match (skip_until, name.as_str(), closing) {
            (Some(until), n, true) if n == until => skip_until = None,
            (Some(_), ..) => {}
            (None, "script", false) => skip_until = Some("script"),
            (None, "style", false) => skip_until = Some("style"),
            (None, "br", _) => out.push('\n'),
            (None, "p" | "div" | "li" | "tr" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "blockquote", true) => out.push('\n'),
            (None, "li", false) => out.push_str("• "),
            _ => {}
        }
        rest = &rest[start + end + 1..];
    }
    if skip_until.is_none() {
        out.push_str(rest);
    }
    let decoded = html_escape::decode_html_entities(&out).replace('\u{a0}', " ");
    let mut lines: Vec<&str> = decoded.lines().map(str::trim_end).collect();
    lines.dedup_by(|a, b| a.is_empty() && b.is_empty());
    lines.join("\n").trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_plain_text() {
        assert_eq!(
            html_to_text("<p>Hi <a href=\"https://x\">@ann</a> &amp; co,</p><p>line one<br>line&nbsp;two</p>"),
            "Hi @ann & co,\nline one\nline two"
        );
        assert_eq!(html_to_text("5 < 6 and <b>bold</b>"), "5 < 6 and bold");
        assert_eq!(html_to_text("a<script>alert(1)</script>b<style>p{}</style>c"), "abc");
        assert_eq!(html_to_text("&#x1F600; &lt;3"), "😀 <3");
    }
}
