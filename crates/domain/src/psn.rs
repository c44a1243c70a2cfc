//! The public services number (PSN, ՀԾՀ): ten digits, the last a Verhoeff check digit.
//!
//! Why Verhoeff: it catches every single-digit error and every transposition of adjacent digits, the two
//! mistakes a clerk copying a number from an ID card makes most, and it always yields a decimal digit (ISO 7064
//! MOD 11-10 also does, but misses some twin errors that Verhoeff catches).
//!
//! A new PSN is drawn at random from the nine-digit body space (never sequential and carrying no birth date),
//! then filtered against shapes that are easy to mistype or to guess: long runs of one digit, long ascending or
//! descending runs, and a leading zero (spreadsheets drop it).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Code, DomainError};

/// A valid PSN. Can only be built by [`Psn::parse`] or [`Psn::allocate`], so holding one proves the checksum.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Psn([u8; 10]);

const D: [[u8; 10]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const P: [[u8; 10]; 8] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];
const INV: [u8; 10] = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9];

/// Verhoeff check digit for a sequence of digits (most significant first).
pub fn verhoeff_digit(digits: &[u8]) -> u8 {
    let mut c = 0u8;
    for (i, &d) in digits.iter().rev().enumerate() {
        c = D[c as usize][P[(i + 1) % 8][d as usize] as usize];
    }
    INV[c as usize]
}

/// True when the last digit is the Verhoeff check digit of the others.
pub fn verhoeff_valid(digits: &[u8]) -> bool {
    let mut c = 0u8;
    for (i, &d) in digits.iter().rev().enumerate() {
        c = D[c as usize][P[i % 8][d as usize] as usize];
    }
    c == 0
}

/// Longest run of one repeated digit, and longest run of consecutive ascending or descending digits.
fn longest_runs(body: &[u8]) -> (usize, usize) {
    let (mut rep, mut best_rep, mut mono_up, mut mono_down, mut best_mono) = (1, 1, 1, 1, 1);
    for w in body.windows(2) {
        rep = if w[1] == w[0] { rep + 1 } else { 1 };
        mono_up = if w[1] == w[0] + 1 { mono_up + 1 } else { 1 };
        mono_down = if w[0] == w[1] + 1 { mono_down + 1 } else { 1 };
        best_rep = best_rep.max(rep);
        best_mono = best_mono.max(mono_up).max(mono_down);
    }
    (best_rep, best_mono)
}

/// Whether a nine-digit body is acceptable for allocation (see module docs).
pub fn acceptable_body(body: &[u8; 9]) -> bool {
    let (rep, mono) = longest_runs(body);
    body[0] != 0 && rep < 4 && mono < 5
}

impl Psn {
    /// Parse a PSN given from outside. Errors name the rule that failed.
    pub fn parse(s: &str) -> Result<Psn, DomainError> {
        let s = s.trim();
        if s.len() != 10 {
            return Err(DomainError::new(
                Code::PsnLength,
                format!("PSN must have 10 digits, got {}", s.chars().count()),
            ));
        }
        let mut d = [0u8; 10];
        for (i, b) in s.bytes().enumerate() {
            if !b.is_ascii_digit() {
                return Err(DomainError::new(
                    Code::PsnDigits,
                    "PSN may contain only the digits 0-9",
                ));
            }
            d[i] = b - b'0';
        }
        if !verhoeff_valid(&d) {
            return Err(DomainError::new(
                Code::PsnChecksum,
                "PSN check digit (Verhoeff) does not match",
            ));
        }
        Ok(Psn(d))
    }

    /// Build a PSN from a nine-digit body by appending its check digit.
    pub fn from_body(body: [u8; 9]) -> Psn {
        let mut d = [0u8; 10];
        d[..9].copy_from_slice(&body);
        d[9] = verhoeff_digit(&body);
        Psn(d)
    }

    /// The candidate PSN for a random number, or `None` when its body has an unacceptable shape.
    pub fn candidate(random: u64) -> Option<Psn> {
        let mut n = random % 1_000_000_000;
        let mut body = [0u8; 9];
        for slot in body.iter_mut().rev() {
            *slot = (n % 10) as u8;
            n /= 10;
        }
        acceptable_body(&body).then(|| Psn::from_body(body))
    }

    /// Draw a random acceptable PSN from `rng`. Uniqueness is the store's job (a primary key), which retries.
    pub fn allocate(rng: &mut impl FnMut() -> u64) -> Psn {
        loop {
            if let Some(psn) = Psn::candidate(rng()) {
                return psn;
            }
        }
    }

    /// Draw a PSN using the operating system's random source.
    pub fn allocate_os() -> Result<Psn, DomainError> {
        loop {
            let r = getrandom::u64().map_err(|e| {
                DomainError::new(
                    Code::Internal,
                    format!("operating system random source unavailable: {e}"),
                )
            })?;
            if let Some(psn) = Psn::candidate(r) {
                return Ok(psn);
            }
        }
    }

    pub fn digits(&self) -> &[u8; 10] {
        &self.0
    }

    pub fn as_string(&self) -> String {
        self.to_string()
    }
}

impl Psn {
    /// The ten digits as ASCII bytes.
    pub fn ascii(&self) -> [u8; 10] {
        self.0.map(|d| b'0' + d)
    }
}

impl fmt::Display for Psn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.ascii();
        // Digits are 0..=9 by construction, so the bytes are ASCII.
        f.write_str(std::str::from_utf8(&digits).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Psn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Psn({self})")
    }
}

impl std::str::FromStr for Psn {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Psn::parse(s)
    }
}

impl Serialize for Psn {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Psn {
    fn deserialize<De: serde::Deserializer<'de>>(d: De) -> Result<Self, De::Error> {
        let s = String::deserialize(d)?;
        Psn::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn permutation_table_is_powers_of_the_first() {
        for i in 2..8 {
            for j in 0..10 {
                assert_eq!(P[i][j], P[1][P[i - 1][j] as usize]);
            }
        }
    }

    #[test]
    fn verhoeff_known_vector() {
        // The classic example: 236 has check digit 3.
        assert_eq!(verhoeff_digit(&[2, 3, 6]), 3);
        assert!(verhoeff_valid(&[2, 3, 6, 3]));
        assert!(!verhoeff_valid(&[2, 3, 6, 4]));
    }

    #[test]
    fn a1_36_1_parse_names_the_failed_rule() {
        assert_eq!(Psn::parse("123").unwrap_err().code, Code::PsnLength);
        assert_eq!(Psn::parse("12345678a0").unwrap_err().code, Code::PsnDigits);
        let good = Psn::from_body([3, 1, 4, 1, 5, 9, 2, 6, 5]);
        let mut bad = good.to_string().into_bytes();
        bad[9] = b'0' + ((bad[9] - b'0' + 1) % 10);
        assert_eq!(
            Psn::parse(std::str::from_utf8(&bad).unwrap())
                .unwrap_err()
                .code,
            Code::PsnChecksum
        );
        assert_eq!(Psn::parse(&good.to_string()).unwrap(), good);
    }

    #[test]
    fn shapes_easy_to_mistype_are_refused() {
        assert!(!acceptable_body(&[1, 2, 3, 4, 5, 7, 1, 9, 2]));
        assert!(!acceptable_body(&[7, 7, 7, 7, 1, 2, 9, 4, 3]));
        assert!(!acceptable_body(&[0, 3, 1, 9, 2, 8, 4, 7, 5]));
        assert!(acceptable_body(&[3, 1, 4, 1, 5, 9, 2, 6, 5]));
    }

    proptest! {
        #[test]
        fn every_single_digit_error_is_caught(body in proptest::array::uniform9(0u8..10), pos in 0usize..10, delta in 1u8..10) {
            let psn = Psn::from_body(body);
            let mut d = *psn.digits();
            d[pos] = (d[pos] + delta) % 10;
            prop_assert!(!verhoeff_valid(&d));
        }

        #[test]
        fn every_adjacent_transposition_is_caught(body in proptest::array::uniform9(0u8..10), pos in 0usize..9) {
            let psn = Psn::from_body(body);
            let mut d = *psn.digits();
            prop_assume!(d[pos] != d[pos + 1]);
            d.swap(pos, pos + 1);
            prop_assert!(!verhoeff_valid(&d));
        }

        #[test]
        fn allocation_is_valid_and_acceptable(seed in any::<u64>()) {
            let mut s = seed;
            let mut rng = || { s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); s >> 11 };
            let psn = Psn::allocate(&mut rng);
            prop_assert!(Psn::parse(&psn.to_string()).is_ok());
            let body: [u8; 9] = psn.digits()[..9].try_into().unwrap();
            prop_assert!(acceptable_body(&body));
        }
    }
}
