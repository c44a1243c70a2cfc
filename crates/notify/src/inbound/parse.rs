//! A received message as the portal shows it: subject, sender, text body (HTML reduced to plain text,
//! never shown as markup) and attachments, parsed with `mail-parser`. What cannot be parsed is marked
//! malformed and kept raw only.

use mail_parser::{MessageParser, MimeHeaders};
use popreg_store::NewAttachment;

/// The parts of a message the inbox keeps.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    pub malformed: bool,
    pub from: String,
    pub subject: String,
    pub date: Option<String>,
    pub text: String,
    pub attachments: Vec<NewAttachment>,
}

/// The longest text kept for display, in characters (the raw message is kept whole).
const TEXT_CHARS: usize = 200_000;

fn clean_name(name: &str, n: usize) -> String {
    let s: String = name
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| if matches!(c, '/' | '\\') { '_' } else { c })
        .take(200)
        .collect();
    let s = s.trim().to_string();
    if s.is_empty() || s == "." || s == ".." {
        format!("attachment-{}", n + 1)
    } else {
        s
    }
}

fn media_type(ctype: &str, subtype: Option<&str>) -> String {
    let t = format!("{ctype}/{}", subtype.unwrap_or_default()).to_ascii_lowercase();
    if popreg_store::valid_media_type(&t) {
        t
    } else {
        "application/octet-stream".into()
    }
}

/// Parse a raw message. Never fails: a message without any header is `malformed`.
pub fn parse(raw: &[u8]) -> Parsed {
    let Some(msg) = MessageParser::default().parse(raw) else {
        return Parsed {
            malformed: true,
            ..Parsed::default()
        };
    };
    if msg.headers().is_empty() {
        return Parsed {
            malformed: true,
            ..Parsed::default()
        };
    }
    let from = msg
        .from()
        .and_then(|a| a.first())
        .map(|a| match (a.name(), a.address()) {
            (Some(n), Some(e)) => format!("{n} <{e}>"),
            (None, Some(e)) => e.to_string(),
            (Some(n), None) => n.to_string(),
            (None, None) => String::new(),
        })
        .unwrap_or_default();
    let text: String = msg
        .body_text(0)
        .map(|t| {
            t.chars()
                .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
                .take(TEXT_CHARS)
                .collect()
        })
        .unwrap_or_default();
    let attachments = msg
        .attachments()
        .enumerate()
        .filter(|(_, p)| !p.contents().is_empty())
        .map(|(i, p)| {
            let (ctype, sub) = p
                .content_type()
                .map(|c| (c.ctype().to_string(), c.subtype().map(str::to_string)))
                .unwrap_or_else(|| ("application".into(), Some("octet-stream".into())));
            NewAttachment {
                name: clean_name(p.attachment_name().unwrap_or_default(), i),
                media_type: media_type(&ctype, sub.as_deref()),
                content: p.contents().to_vec(),
            }
        })
        .collect();
    Parsed {
        malformed: false,
        from,
        subject: msg
            .subject()
            .unwrap_or_default()
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect(),
        date: msg.date().map(|d| d.to_rfc3339()),
        text,
        attachments,
    }
}

/// The failed recipients a delivery status notification names (`Final-Recipient: rfc822; a@b`), lower-cased.
pub fn dsn_failed_recipients(raw: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(raw);
    let mut out: Vec<String> = text
        .lines()
        .filter_map(|l| {
            let (name, value) = l.split_once(':')?;
            if !name.trim().eq_ignore_ascii_case("final-recipient") {
                return None;
            }
            let addr = value.split_once(';').map_or(value, |(_, a)| a);
            let addr = addr.trim().trim_matches(|c| c == '<' || c == '>');
            addr.contains('@').then(|| addr.to_ascii_lowercase())
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g_3_1_html_only_mail_becomes_text_and_attachments_are_extracted() {
        let raw = b"From: \"Anna\" <anna@example.org>\r\nSubject: Hi\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n\
<p>Hello <script>alert(1)</script><b>world</b></p>\r\n--b\r\nContent-Type: application/pdf\r\n\
Content-Disposition: attachment; filename=\"../x.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n";
        let p = parse(raw);
        assert!(!p.malformed);
        assert_eq!(p.from, "Anna <anna@example.org>");
        assert!(
            p.text.contains("world") && !p.text.contains("<b>"),
            "{}",
            p.text
        );
        assert_eq!(p.attachments.len(), 1);
        assert_eq!(p.attachments[0].name, ".._x.pdf");
        assert_eq!(p.attachments[0].media_type, "application/pdf");
        assert_eq!(p.attachments[0].content, b"%PDF-");
    }

    #[test]
    fn g_3_1_a_dsn_names_its_failed_recipients() {
        let raw = b"Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n\
Final-Recipient: rfc822; Anna@Example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n";
        assert_eq!(
            dsn_failed_recipients(raw),
            vec!["anna@example.org".to_string()]
        );
    }
}
