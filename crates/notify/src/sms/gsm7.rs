//! The GSM 03.38 (3GPP TS 23.038) 7-bit default alphabet and its extension table.
//!
//! A character of the default table is one septet; a character of the extension table is two (the escape
//! `0x1B`, then its code), so it counts double toward the 160/153 limits and must never be split between two
//! parts of a concatenated message.

/// The escape to the extension table.
pub const ESCAPE: u8 = 0x1B;

/// The default table, indexed by septet. Index `0x1B` is the escape, never a character: [`septets`] skips it.
const DEFAULT: [char; 128] = [
    '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å', //
    'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', '\u{1B}', 'Æ', 'æ', 'ß', 'É', //
    ' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/', //
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?', //
    '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', //
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§', //
    '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', //
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à', //
];

/// The extension table: (character, code after the escape).
const EXTENSION: [(char, u8); 10] = [
    ('\u{0C}', 0x0A), // form feed
    ('^', 0x14),
    ('{', 0x28),
    ('}', 0x29),
    ('\\', 0x2F),
    ('[', 0x3C),
    ('~', 0x3D),
    (']', 0x3E),
    ('|', 0x40),
    ('€', 0x65),
];

/// The septets of one character: one for the default table, the escape and a code for the extension table,
/// `None` for a character GSM-7 cannot carry.
pub fn septets(c: char) -> Option<Septets> {
    if c != '\u{1B}'
        && let Some(i) = DEFAULT.iter().position(|&d| d == c)
    {
        // The table has 128 entries: the index fits a septet.
        return Some(Septets::One(i as u8));
    }
    EXTENSION
        .iter()
        .find(|(e, _)| *e == c)
        .map(|&(_, code)| Septets::Two(ESCAPE, code))
}

/// One character's encoding in the 7-bit alphabet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Septets {
    One(u8),
    Two(u8, u8),
}

impl Septets {
    pub fn len(self) -> usize {
        match self {
            Septets::One(_) => 1,
            Septets::Two(..) => 2,
        }
    }

    pub fn push_to(self, out: &mut Vec<u8>) {
        match self {
            Septets::One(a) => out.push(a),
            Septets::Two(a, b) => out.extend([a, b]),
        }
    }
}

/// Whether the whole text can travel in GSM-7.
pub fn fits(text: &str) -> bool {
    text.chars().all(|c| septets(c).is_some())
}

/// The text back from unpacked septets (one per octet), for tests. An unknown extension code
/// reads as a space (TS 23.038: a receiver shows the default-table character, here none is safer).
#[cfg(test)]
pub fn decode(septets: &[u8]) -> String {
    let mut out = String::with_capacity(septets.len());
    let mut it = septets.iter();
    while let Some(&s) = it.next() {
        if s == ESCAPE {
            let code = it.next().copied().unwrap_or(0);
            out.push(
                EXTENSION
                    .iter()
                    .find(|(_, e)| *e == code)
                    .map_or(' ', |&(c, _)| c),
            );
        } else {
            out.push(DEFAULT.get(usize::from(s & 0x7F)).copied().unwrap_or(' '));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g_7_the_tables_are_consistent() {
        // Every default character but the escape encodes to its own index, and decodes back.
        for (i, &c) in DEFAULT.iter().enumerate() {
            if i == usize::from(ESCAPE) {
                assert_eq!(septets(c), None, "the escape is not a character");
                continue;
            }
            assert_eq!(septets(c), Some(Septets::One(i as u8)), "{c:?}");
        }
        for &(c, code) in &EXTENSION {
            assert_eq!(septets(c), Some(Septets::Two(ESCAPE, code)));
            assert!(!DEFAULT.contains(&c));
        }
        let all: String = DEFAULT
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != usize::from(ESCAPE))
            .map(|(_, c)| *c)
            .chain(EXTENSION.iter().map(|e| e.0))
            .collect();
        let mut enc = Vec::new();
        for c in all.chars() {
            septets(c).unwrap().push_to(&mut enc);
        }
        assert_eq!(decode(&enc), all);
    }

    #[test]
    fn g_7_what_gsm7_cannot_carry() {
        assert!(fits("Hello @ £5 {x} €"));
        assert_eq!(septets('$'), Some(Septets::One(0x02)));
        assert_eq!(septets('@'), Some(Septets::One(0x00)));
        assert_eq!(septets('`'), None);
        assert_eq!(septets('\u{1B}'), None);
        assert!(!fits("Բարև"));
        assert!(!fits("Привет"));
        assert!(!fits("ok 👍"));
        // Greek capitals that look like Latin ones are not in the table; those with their own glyph are.
        assert!(fits("ΔΦΓΛΩΠΨΣΘΞ"));
        assert!(!fits("α"));
    }
}
