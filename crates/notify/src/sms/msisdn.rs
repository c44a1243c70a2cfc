//! Armenian mobile numbers (G.7): the number a citizen types, read into E.164.

use std::fmt;

use popreg_domain::classifiers::Lang;

/// An Armenian subscriber number in E.164: `+374` and eight digits, the first not `0`. Only
/// [`Msisdn::parse`] builds one, so a value is always valid.
///
/// Accepted input (spaces, hyphens, dots and parentheses are ignored): `+374 91 234567`, `00374 91 234567`,
/// `374 91 234567`, and the national form with the trunk prefix, `091 234 567` or `(091) 23-45-67`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Msisdn(String);

/// Why a number was refused, with a text for the person who typed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MsisdnError {
    #[error(
        "not a phone number: only digits, spaces, hyphens, parentheses and a leading + are allowed"
    )]
    Characters,
    #[error("not an Armenian number: it starts with +374 or, nationally, with 0")]
    Country,
    #[error("an Armenian number has 8 digits after +374 (or 9 digits starting with 0)")]
    Length,
}

impl MsisdnError {
    /// The explanation in the person's language.
    pub fn message(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (MsisdnError::Characters, Lang::Hy) => {
                "Սա հեռախոսահամար չէ. թույլատրվում են միայն թվանշաններ, բացատներ, գծիկներ, փակագծեր և սկզբում +"
            }
            (MsisdnError::Characters, Lang::En) => {
                "This is not a phone number: only digits, spaces, hyphens, parentheses and a leading + are allowed"
            }
            (MsisdnError::Characters, Lang::Ru) => {
                "Это не номер телефона: допускаются только цифры, пробелы, дефисы, скобки и + в начале"
            }
            (MsisdnError::Country, Lang::Hy) => {
                "Սա Հայաստանի համար չէ. համարը սկսվում է +374-ով կամ, ներքին ձևով, 0-ով"
            }
            (MsisdnError::Country, Lang::En) => {
                "This is not an Armenian number: it starts with +374 or, in the national form, with 0"
            }
            (MsisdnError::Country, Lang::Ru) => {
                "Это не армянский номер: он начинается с +374 или, в национальном формате, с 0"
            }
            (MsisdnError::Length, Lang::Hy) => {
                "Հայաստանի համարն ունի 8 թվանշան +374-ից հետո (կամ 9 թվանշան՝ 0-ով սկսվող)"
            }
            (MsisdnError::Length, Lang::En) => {
                "An Armenian number has 8 digits after +374 (or 9 digits starting with 0)"
            }
            (MsisdnError::Length, Lang::Ru) => {
                "Армянский номер содержит 8 цифр после +374 (или 9 цифр, начиная с 0)"
            }
        }
    }
}

impl Msisdn {
    pub fn parse(input: &str) -> Result<Msisdn, MsisdnError> {
        let trimmed = input.trim();
        let (plus, rest) = match trimmed.strip_prefix('+') {
            Some(r) => (true, r),
            None => (false, trimmed),
        };
        let mut digits = String::with_capacity(rest.len());
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '.' | '(' | ')' | '\u{a0}' => {}
                _ => return Err(MsisdnError::Characters),
            }
        }
        let national = if plus {
            digits.strip_prefix("374").ok_or(MsisdnError::Country)?
        } else if let Some(n) = digits.strip_prefix("00") {
            n.strip_prefix("374").ok_or(MsisdnError::Country)?
        } else if let Some(n) = digits.strip_prefix('0') {
            n
        } else if digits.len() == 11 {
            digits.strip_prefix("374").ok_or(MsisdnError::Country)?
        } else if digits.len() == 8 {
            // Eight digits without any prefix: ambiguous (a local number?), refused rather than guessed.
            return Err(MsisdnError::Country);
        } else {
            return Err(MsisdnError::Length);
        };
        if national.len() != 8 {
            return Err(MsisdnError::Length);
        }
        if national.starts_with('0') {
            return Err(MsisdnError::Length);
        }
        Ok(Msisdn(format!("+374{national}")))
    }

    /// `+374XXXXXXXX`.
    pub fn e164(&self) -> &str {
        &self.0
    }

    /// The digits without `+` (`374XXXXXXXX`), as SMPP and most gateways want them with TON international.
    pub fn digits(&self) -> &str {
        self.0.trim_start_matches('+')
    }

    /// For logs: the operator code and the last two digits, `+37491****67`. A phone number is personal data.
    pub fn masked(&self) -> String {
        let d = self.0.as_bytes();
        let keep_head = 6.min(d.len());
        let keep_tail = d.len().saturating_sub(2).max(keep_head);
        format!(
            "{}{}{}",
            &self.0[..keep_head],
            "*".repeat(keep_tail - keep_head),
            &self.0[keep_tail..]
        )
    }
}

impl fmt::Display for Msisdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `Debug` masks the number like the logs do.
impl fmt::Debug for Msisdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Msisdn({})", self.masked())
    }
}

impl std::str::FromStr for Msisdn {
    type Err = MsisdnError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Msisdn::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g_7_armenian_numbers_in_every_usual_spelling() {
        for input in [
            "+37491234567",
            "+374 91 234567",
            "+374 (91) 23-45-67",
            "0037491234567",
            "00 374 91 234 567",
            "37491234567",
            "091 234 567",
            "(091) 23-45-67",
            "091.234.567",
            "  091234567 ",
        ] {
            let m = Msisdn::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(m.e164(), "+37491234567", "{input}");
            assert_eq!(m.digits(), "37491234567");
        }
        assert_eq!(
            Msisdn::parse("099 00 00 01").unwrap().e164(),
            "+37499000001"
        );
    }

    #[test]
    fn g_7_what_is_refused_and_why() {
        use MsisdnError::*;
        for (input, why) in [
            ("", Length),
            ("+7 912 345 67 89", Country),
            ("+1 202 555 0100", Country),
            ("0079123456789", Country),
            ("91234567", Country),
            ("+374 91 23456", Length),
            ("+374 91 2345678", Length),
            ("0912345678", Length),
            ("09123456", Length),
            ("+374 01 234567", Length),
            ("00 91 234567", Country),
            ("+374 91 234 56a", Characters),
            ("++37491234567", Characters),
            ("+374/91234567", Characters),
            ("٠٩١٢٣٤٥٦٧", Characters),
        ] {
            assert_eq!(Msisdn::parse(input), Err(why), "{input:?}");
        }
        for e in [Characters, Country, Length] {
            for lang in Lang::ALL {
                assert!(!e.message(lang).is_empty());
            }
            assert_ne!(e.message(Lang::Hy), e.message(Lang::En));
            assert_ne!(e.message(Lang::Ru), e.message(Lang::En));
        }
    }

    #[test]
    fn g_7_a_number_is_masked_in_logs_and_debug() {
        let m = Msisdn::parse("091 234 567").unwrap();
        assert_eq!(m.masked(), "+37491****67");
        assert_eq!(format!("{m:?}"), "Msisdn(+37491****67)");
        assert_eq!(m.to_string(), "+37491234567");
    }
}
