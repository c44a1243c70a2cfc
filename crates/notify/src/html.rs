//! The HTML part of an e-mail (issue 7, item 2): the same rendered text as the plain part (same template
//! version), escaped, in a simple accessible layout: the language on `<html>`, the subject as the heading,
//! the paragraphs of the text, readable sizes and contrast. Links only for the portal's own addresses
//! (the row's `inbox_url`, `forwarding_url` and verification link); every other text, a URL a sender wrote
//! included, stays text. No remote images, no scripts, no styles from elsewhere.

use popreg_domain::classifiers::Lang;
use serde_json::Value;

use crate::templates::Rendered;

/// `&`, `<`, `>`, `"` and `'` as character references.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The portal addresses of an outbox row that the HTML part may link: `inbox_url`, `forwarding_url` and
/// the verification link (`secret.link`), when they are http(s) URLs.
pub fn portal_links(params: &Value) -> Vec<String> {
    let found = [
        params.get("inbox_url"),
        params.get("forwarding_url"),
        params.get("secret").and_then(|s| s.get("link")),
    ];
    let mut links: Vec<String> = found
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|u| {
            (u.starts_with("https://") || u.starts_with("http://"))
                && !u.contains(|c: char| c.is_whitespace() || c.is_control())
        })
        .map(str::to_string)
        .collect();
    // The longest first: a verification link starts with the forwarding settings' address.
    links.sort_by_key(|l| std::cmp::Reverse(l.len()));
    links.dedup();
    links
}

/// Whether a link ends at byte `at` of `s`: the end, a space, or punctuation after it.
fn ends_here(s: &str, at: usize) -> bool {
    s[at..]
        .chars()
        .next()
        .is_none_or(|c| c.is_whitespace() || ",.;:!?)]»\"'".contains(c))
}

/// One line of text, escaped, with the `links` in it as anchors.
fn line_html(line: &str, links: &[String]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < line.len() {
        let rest = &line[i..];
        if let Some(l) = links
            .iter()
            .find(|l| rest.starts_with(l.as_str()) && ends_here(line, i + l.len()))
        {
            let e = escape(l);
            out.push_str(&format!("<a href=\"{e}\" style=\"color:#0b4f9c\">{e}</a>"));
            i += l.len();
            continue;
        }
        let c = rest.chars().next().unwrap_or(' ');
        out.push_str(&escape(c.encode_utf8(&mut [0u8; 4])));
        i += c.len_utf8();
    }
    out
}

/// The HTML part of a rendered e-mail in `lang`: paragraphs at the blank lines of the text, lines within a
/// paragraph kept with `<br>`.
pub fn html_part(text: &Rendered, lang: Lang, links: &[String]) -> String {
    let mut paragraphs = vec![];
    let mut current: Vec<&str> = vec![];
    for line in text.body.lines() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                paragraphs.push(std::mem::take(&mut current));
            }
        } else {
            current.push(line.trim());
        }
    }
    if !current.is_empty() {
        paragraphs.push(current);
    }
    let body: String = paragraphs
        .iter()
        .map(|p| {
            let lines: Vec<String> = p.iter().map(|l| line_html(l, links)).collect();
            format!(
                "<p style=\"margin:0 0 1em 0\">{}</p>\n",
                lines.join("<br>\n")
            )
        })
        .collect();
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title>\n\
         </head>\n<body style=\"margin:0;padding:0;background:#ffffff;color:#1b1b1b;\
         font-family:Arial,'Noto Sans Armenian',sans-serif;font-size:16px;line-height:1.5\">\n\
         <div role=\"article\" aria-label=\"{title}\" style=\"max-width:40em;margin:0 auto;padding:16px\">\n\
         <h1 style=\"font-size:20px;line-height:1.3;margin:0 0 1em 0\">{title}</h1>\n{body}</div>\n</body>\n</html>\n",
        lang = lang.as_str(),
        title = escape(&text.subject),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_is_escaped_and_only_portal_addresses_are_links() {
        let r = Rendered {
            subject: "<Ծանուցում> & \"մասին\"".into(),
            body: "Բարև <b>Աննա</b> & Co,\nhttps://evil.example/x\n\n\
                   Կարդալ՝ https://e-citizen.example.am/my/inbox/n1.\n\
                   https://e-citizen.example.am/my/forwarding/verify?token=a&b=1\n\
                   https://e-citizen.example.am/my/forwarding"
                .into(),
        };
        let params = json!({
            "inbox_url": "https://e-citizen.example.am/my/inbox/n1",
            "forwarding_url": "https://e-citizen.example.am/my/forwarding",
            "secret": {"link": "https://e-citizen.example.am/my/forwarding/verify?token=a&b=1"},
            "text": "https://evil.example/x"
        });
        let links = portal_links(&params);
        let h = html_part(&r, Lang::Hy, &links);
        assert!(h.contains("<html lang=\"hy\">"));
        assert!(h.contains("<title>&lt;Ծանուցում&gt; &amp; &quot;մասին&quot;</title>"));
        assert!(
            h.contains("Բարև &lt;b&gt;Աննա&lt;/b&gt; &amp; Co,<br>"),
            "{h}"
        );
        assert!(!h.contains("<b>"));
        assert!(!h.contains("href=\"https://evil.example"));
        assert!(h.contains(
            "<a href=\"https://e-citizen.example.am/my/inbox/n1\" style=\"color:#0b4f9c\">https://e-citizen.example.am/my/inbox/n1</a>."
        ));
        assert!(h.contains(
            "<a href=\"https://e-citizen.example.am/my/forwarding/verify?token=a&amp;b=1\""
        ));
        assert!(h.contains("<a href=\"https://e-citizen.example.am/my/forwarding\""));
        assert_eq!(h.matches("<p ").count(), 2);
        assert!(!h.contains("<img") && !h.contains("<script"));
    }
}
