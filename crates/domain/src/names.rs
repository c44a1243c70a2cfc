//! Personal names in Armenian script with their Latin transliteration, and the transliteration itself.
//!
//! Transliteration follows the table used for Armenian passports (Government decision on the
//! transliteration of Armenian names): `ե` is `ye` and `ո` is `vo` at the start of a word, `ու` is `u`, the
//! ligature `և` is `ev` (`yev` at the start of a word).

use serde::{Deserialize, Serialize};

use crate::error::{Code, DomainError};

/// One part of a name: Armenian script and Latin transliteration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Name {
    pub hy: String,
    pub lat: String,
}

impl Name {
    /// A name from Armenian script, transliterated by the passport table.
    pub fn armenian(hy: &str) -> Result<Name, DomainError> {
        let hy = hy.trim();
        validate_armenian(hy)?;
        Ok(Name {
            hy: hy.to_string(),
            lat: transliterate(hy),
        })
    }

    /// A name with an explicit Latin form (e.g. as printed in a foreign passport); both are checked.
    pub fn with_latin(hy: &str, lat: &str) -> Result<Name, DomainError> {
        let (hy, lat) = (hy.trim(), lat.trim());
        validate_armenian(hy)?;
        validate_latin(lat)?;
        Ok(Name {
            hy: hy.to_string(),
            lat: lat.to_string(),
        })
    }

    pub fn validate(&self) -> Result<(), DomainError> {
        validate_armenian(&self.hy)?;
        validate_latin(&self.lat)
    }
}

/// First name, patronymic (if any) and surname.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonNames {
    pub first: Name,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patronymic: Option<Name>,
    pub surname: Name,
}

impl PersonNames {
    pub fn validate(&self) -> Result<(), DomainError> {
        self.first.validate()?;
        if let Some(p) = &self.patronymic {
            p.validate()?;
        }
        self.surname.validate()
    }

    /// "Surname First Patronymic" in Armenian script.
    pub fn full_hy(&self) -> String {
        match &self.patronymic {
            Some(p) => format!("{} {} {}", self.surname.hy, self.first.hy, p.hy),
            None => format!("{} {}", self.surname.hy, self.first.hy),
        }
    }
}

fn is_armenian_letter(c: char) -> bool {
    ('\u{0531}'..='\u{0556}').contains(&c) || ('\u{0561}'..='\u{0587}').contains(&c)
}

fn validate_armenian(s: &str) -> Result<(), DomainError> {
    let ok = !s.is_empty()
        && s.chars().count() <= 80
        && s.chars().any(is_armenian_letter)
        && s.chars()
            .all(|c| is_armenian_letter(c) || c == ' ' || c == '-' || c == '\'');
    if ok {
        Ok(())
    } else {
        Err(DomainError::new(
            Code::NameInvalid,
            "name must be 1-80 Armenian letters, spaces or hyphens",
        ))
    }
}

fn validate_latin(s: &str) -> Result<(), DomainError> {
    let ok = !s.is_empty()
        && s.chars().count() <= 80
        && s.chars()
            .all(|c| c.is_ascii_alphabetic() || c == ' ' || c == '-' || c == '\'');
    if ok {
        Ok(())
    } else {
        Err(DomainError::new(
            Code::NameInvalid,
            "Latin name must be 1-80 letters A-Z, spaces or hyphens",
        ))
    }
}

/// Lower-case Armenian letter → Latin, outside word-initial special cases. `ու` and `և` handled by the caller.
fn letter(c: char) -> &'static str {
    match c {
        'ա' => "a",
        'բ' => "b",
        'գ' => "g",
        'դ' => "d",
        'ե' => "e",
        'զ' => "z",
        'է' => "e",
        'ը' => "y",
        'թ' => "t",
        'ժ' => "zh",
        'ի' => "i",
        'լ' => "l",
        'խ' => "kh",
        'ծ' => "ts",
        'կ' => "k",
        'հ' => "h",
        'ձ' => "dz",
        'ղ' => "gh",
        'ճ' => "ch",
        'մ' => "m",
        'յ' => "y",
        'ն' => "n",
        'շ' => "sh",
        'ո' => "o",
        'չ' => "ch",
        'պ' => "p",
        'ջ' => "j",
        'ռ' => "r",
        'ս' => "s",
        'վ' => "v",
        'տ' => "t",
        'ր' => "r",
        'ց' => "ts",
        'ւ' => "v",
        'փ' => "p",
        'ք' => "k",
        'օ' => "o",
        'ֆ' => "f",
        'և' => "ev",
        _ => "",
    }
}

/// Armenian upper-case letters are exactly 0x30 below their lower-case forms.
fn to_lower(c: char) -> (char, bool) {
    if ('\u{0531}'..='\u{0556}').contains(&c) {
        (char::from_u32(c as u32 + 0x30).unwrap_or(c), true)
    } else {
        (c, false)
    }
}

/// Transliterate Armenian script to Latin (passport table); other characters pass through.
pub fn transliterate(hy: &str) -> String {
    let chars: Vec<char> = hy.chars().collect();
    let mut out = String::with_capacity(hy.len());
    let mut i = 0;
    let mut word_start = true;
    while i < chars.len() {
        let (c, upper) = to_lower(chars[i]);
        let next = chars.get(i + 1).map(|&n| to_lower(n).0);
        let piece: String = if c == 'ո' && next == Some('ւ') {
            i += 1;
            "u".into()
        } else if word_start && c == 'ե' {
            "ye".into()
        } else if word_start && c == 'ո' {
            "vo".into()
        } else if word_start && c == 'և' {
            "yev".into()
        } else {
            let l = letter(c);
            if l.is_empty() {
                c.to_string()
            } else {
                l.to_string()
            }
        };
        if upper {
            let mut cs = piece.chars();
            if let Some(f) = cs.next() {
                out.extend(f.to_uppercase());
                out.push_str(cs.as_str());
            }
        } else {
            out.push_str(&piece);
        }
        word_start = !is_armenian_letter(chars[i]);
        i += 1;
    }
    out
}

/// Case-fold Armenian text for search: lower case, and the ligature `և` unfolded to `եւ` so that
/// "Երևան" and "ԵՐԵՒԱՆ" (upper case has no `և`) match.
pub fn fold_for_search(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let (l, _) = to_lower(c);
        match l {
            'և' => out.push_str("եւ"),
            _ => out.extend(l.to_lowercase()),
        }
    }
    out
}

/// Case-fold running text for full-text search ([`fold_for_search`], then more): the ligature `և` and
/// its upper-case spellings `ԵՎ` (reformed) and `ԵՒ` (classical) all fold to `եվ`, so "Երևան", "ԵՐԵՎԱՆ" and
/// "երեվան" match; `ё` folds to `е`. A `ւ` after `ե` cannot be the second letter of `ու`, so nothing else
/// changes. Not for stored name columns, which keep [`fold_for_search`].
pub fn fold_for_text_search(s: &str) -> String {
    fold_for_search(s).replace("եւ", "եվ").replace('ё', "е")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g_3_5_running_text_folds_the_ligature_both_ways() {
        let want = fold_for_text_search("Երևան");
        assert_eq!(want, "երեվան");
        for s in ["ԵՐԵՎԱՆ", "երեվան", "ԵՐԵՒԱՆ", "Երեւան"] {
            assert_eq!(fold_for_text_search(s), want, "{s}");
        }
        assert_eq!(fold_for_text_search("Ёлка ELKA"), "елка elka");
        assert_eq!(fold_for_text_search("Ուսում"), "ուսում");
    }

    #[test]
    fn passport_table_examples() {
        assert_eq!(transliterate("Երևան"), "Yerevan");
        assert_eq!(transliterate("Հովհաննես"), "Hovhannes");
        assert_eq!(transliterate("Ոսկանյան"), "Voskanyan");
        assert_eq!(transliterate("Արշակ"), "Arshak");
        assert_eq!(transliterate("Ժիրայր"), "Zhirayr");
        assert_eq!(transliterate("Եղիազարյան"), "Yeghiazaryan");
        assert_eq!(transliterate("Նունե"), "Nune");
        assert_eq!(transliterate("Սուրեն"), "Suren");
        assert_eq!(transliterate("Խաչատրյան"), "Khachatryan");
    }

    #[test]
    fn ligature_folds_for_search() {
        assert_eq!(fold_for_search("Երևան"), fold_for_search("ԵՐԵՒԱՆ"));
        assert_eq!(fold_for_search("Երևան"), "երեւան");
    }

    #[test]
    fn names_are_checked() {
        assert!(Name::armenian("Արամ").is_ok());
        assert_eq!(Name::armenian("Aram").unwrap_err().code, Code::NameInvalid);
        assert_eq!(
            Name::with_latin("Արամ", "Արամ").unwrap_err().code,
            Code::NameInvalid
        );
        assert_eq!(Name::armenian("").unwrap_err().code, Code::NameInvalid);
    }
}
