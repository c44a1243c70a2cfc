//! The taxpayer identification number (ՀՎՀՀ, TIN): how a company is named to the register (A1.36.4, G.6).

use crate::{Code, DomainError};

/// A taxpayer identification number (ՀՎՀՀ): exactly eight digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tin([u8; 8]);

impl Tin {
    /// Parse a TIN: eight ASCII digits once surrounding whitespace is removed, else `PSR-TIN-0001`.
    pub fn parse(s: &str) -> Result<Tin, DomainError> {
        let s = s.trim();
        let b = s.as_bytes();
        if b.len() != 8 || !b.iter().all(u8::is_ascii_digit) {
            return Err(DomainError::new(
                Code::TinFormat,
                "a TIN is exactly 8 digits",
            ));
        }
        let mut d = [0u8; 8];
        d.copy_from_slice(b);
        Ok(Tin(d))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl std::fmt::Display for Tin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a1_36_4_tin_format() {
        assert!(Tin::parse("02512345").is_ok());
        assert_eq!(Tin::parse(" 02512345 ").unwrap().as_str(), "02512345");
        for bad in ["1234567", "123456789", "1234567a", "", "１２３４５６７８"] {
            assert_eq!(Tin::parse(bad).unwrap_err().code, Code::TinFormat, "{bad}");
        }
    }
}
