//! Escaping text for XML and HTML (element content and double-quoted attribute values). One function for
//! every document the register writes: API answers in XML, XSDs, HTML pages.

/// Append `s` escaped: `&lt;`, `&gt;`, `&amp;`, `&quot;`, `&apos;`. Characters XML 1.0 cannot carry (C0
/// controls other than tab, line feed and carriage return) are dropped rather than producing an unreadable
/// document.
pub fn escape_into(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
}

/// `s` escaped, as a new string.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape_into(s, &mut out);
    out
}

/// The message ids of a Fluent (`.ftl`) source, in file order: every line that starts a message (`id =`).
/// For the tests that check every language file has every message.
pub fn fluent_message_ids(src: &str) -> Vec<&str> {
    src.lines()
        .filter_map(|line| {
            let (id, _) = line.split_once(" =")?;
            let ok = id.starts_with(|c: char| c.is_ascii_alphabetic())
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            ok.then_some(id)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn markup_characters_are_escaped_and_controls_dropped() {
        assert_eq!(
            super::escape("<&>\"'\u{1}\tա"),
            "&lt;&amp;&gt;&quot;&apos;\tա"
        );
    }
}
