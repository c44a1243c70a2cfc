//! Classifiers (code lists): countries, marzes, communities and settlements, identity documents, citizenship
//! grounds, residence documents (A1.20), nationalities (A1.19), public holidays (for the A1.41 deadline) and the
//! error-code explanations (A1.37, A1.51).
//!
//! The lists are versioned data files under `data/classifiers/`, embedded into the binary at compile time, so
//! nothing here touches the filesystem at run time and every build carries exactly the lists it was tested with.
//! They are parsed and checked once, on first use. A file that does not parse or breaks an invariant (duplicate
//! codes, a community in an unknown marz, ...) makes [`load`] fail; the unit tests below load every file, so such
//! a file fails the build's tests long before it could reach a running system.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Code, DomainError};

/// The embedded files, by classifier name (the `classifier` field of each file, and its file name).
const FILES: [(&str, &str); 9] = [
    (
        "countries",
        include_str!("../../../data/classifiers/countries.json"),
    ),
    (
        "marzes",
        include_str!("../../../data/classifiers/marzes.json"),
    ),
    (
        "communities",
        include_str!("../../../data/classifiers/communities.json"),
    ),
    (
        "identity-document-types",
        include_str!("../../../data/classifiers/identity-document-types.json"),
    ),
    (
        "citizenship-grounds",
        include_str!("../../../data/classifiers/citizenship-grounds.json"),
    ),
    (
        "residence-documents",
        include_str!("../../../data/classifiers/residence-documents.json"),
    ),
    (
        "nationalities",
        include_str!("../../../data/classifiers/nationalities.json"),
    ),
    (
        "public-holidays",
        include_str!("../../../data/classifiers/public-holidays.json"),
    ),
    (
        "error-codes",
        include_str!("../../../data/classifiers/error-codes.json"),
    ),
];

/// The classifier names, in the order [`Classifiers::list`] reports them.
pub const CLASSIFIER_NAMES: [&str; 9] = [
    "countries",
    "marzes",
    "communities",
    "identity-document-types",
    "citizenship-grounds",
    "residence-documents",
    "nationalities",
    "public-holidays",
    "error-codes",
];

// ------------------------------------------------------------------------------------------------ languages

/// An interface language (G.2: Armenian, English, Russian). Armenian is the default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Hy,
    En,
    Ru,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::Hy, Lang::En, Lang::Ru];

    /// `hy`, `en` or `ru`, case-insensitive; a language tag with a region (`hy-AM`, `en-GB`, `ru_RU`) is read by
    /// its primary subtag.
    pub fn parse(s: &str) -> Option<Lang> {
        let primary = s.trim().split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("hy") {
            Some(Lang::Hy)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else if primary.eq_ignore_ascii_case("ru") {
            Some(Lang::Ru)
        } else {
            None
        }
    }

    /// The two-letter code (ISO 639-1).
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Hy => "hy",
            Lang::En => "en",
            Lang::Ru => "ru",
        }
    }

    /// Picks the language from an `Accept-Language` header (RFC 9110 §12.5.4): the supported language with the
    /// highest quality wins, the earlier one on a tie; `q=0` excludes a language. Without a header, or when it
    /// names no supported language, the answer is Armenian.
    pub fn negotiate(header: Option<&str>) -> Lang {
        let Some(header) = header else {
            return Lang::Hy;
        };
        let mut best: Option<(u16, Lang)> = None;
        for range in header.split(',') {
            let mut parts = range.split(';');
            let tag = parts.next().unwrap_or_default().trim();
            let mut quality = Some(1000);
            for param in parts {
                let param = param.trim();
                if let Some(value) = param
                    .strip_prefix("q=")
                    .or_else(|| param.strip_prefix("Q="))
                {
                    quality = parse_quality(value);
                }
            }
            let (Some(quality), Some(lang)) = (quality, Lang::parse(tag)) else {
                continue;
            };
            if quality > 0 && best.is_none_or(|(q, _)| quality > q) {
                best = Some((quality, lang));
            }
        }
        best.map_or(Lang::Hy, |(_, lang)| lang)
    }
}

/// An RFC 9110 qvalue (`0`, `0.8`, `1.000`) in thousandths; `None` if malformed.
fn parse_quality(value: &str) -> Option<u16> {
    let value = value.trim();
    let (int, frac) = value.split_once('.').unwrap_or((value, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: u16 = match int {
        "0" => 0,
        "1" => 1000,
        _ => return None,
    };
    let mut thousandths = 0u16;
    for (i, b) in frac
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .enumerate()
    {
        let place = [100, 10, 1][i];
        thousandths += u16::from(b - b'0') * place;
    }
    let q = whole + thousandths;
    (q <= 1000).then_some(q)
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A human text in the three interface languages.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Localized {
    pub hy: String,
    pub en: String,
    pub ru: String,
}

impl Localized {
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Hy => &self.hy,
            Lang::En => &self.en,
            Lang::Ru => &self.ru,
        }
    }
}

// ------------------------------------------------------------------------------------------------ items

/// An ISO 3166-1 country or territory.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Country {
    /// Alpha-2 code, e.g. `AM`.
    pub code: String,
    /// Alpha-3 code, e.g. `ARM`.
    pub alpha3: String,
    /// Numeric code as three digits, e.g. `051`.
    pub numeric: String,
    pub name: Localized,
}

/// Yerevan or one of the ten marzes (ISO 3166-2:AM).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Marz {
    /// e.g. `AM-SH`.
    pub code: String,
    pub name: Localized,
    /// The administrative centre.
    pub centre: Localized,
    /// Approximate permanent population.
    pub population: u32,
}

/// A community (համայնք): the unit of local self-government, one or more settlements.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Community {
    /// `<marz>-NNN`, e.g. `AM-SH-001`.
    pub code: String,
    pub marz: String,
    pub name: Localized,
    /// Approximate population of the whole community, including settlements not listed.
    pub population: u32,
    /// The first settlement is the community's centre.
    pub settlements: Vec<Settlement>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SettlementKind {
    City,
    Village,
    /// An administrative district of Yerevan.
    District,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Settlement {
    /// `<community>-NN`, e.g. `AM-SH-001-01`.
    pub code: String,
    pub name: Localized,
    pub kind: SettlementKind,
    pub population: u32,
}

/// A plain code with its name (identity document types, nationalities).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CodeItem {
    pub code: String,
    pub name: Localized,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CitizenshipDirection {
    Acquisition,
    Termination,
}

/// A ground of acquisition or termination of Armenian citizenship (A1.18 point 3).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CitizenshipGround {
    pub code: String,
    pub direction: CitizenshipDirection,
    pub name: Localized,
}

/// One of the nine residence documents of A1.20.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ResidenceDocType {
    pub code: String,
    pub name: Localized,
    /// Whether the register records a term (validity end) for it besides the issue date.
    pub has_term: bool,
}

/// A non-working day on the same date every year.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FixedHoliday {
    pub code: String,
    pub month: u32,
    pub day: u32,
    pub name: Localized,
}

/// A non-working day on one date only (a movable feast, or a day the Government declared non-working).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DatedHoliday {
    pub code: String,
    pub date: NaiveDate,
    pub name: Localized,
}

/// The non-working days under the Law "On holidays and memorial days".
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Holidays {
    /// The rules in words, e.g. that a holiday on a weekend is not moved.
    pub notes: Localized,
    /// Whether a holiday that falls on a weekend moves to the next working day (in Armenia it does not).
    pub weekend_holidays_moved: bool,
    pub fixed: Vec<FixedHoliday>,
    pub dated: Vec<DatedHoliday>,
}

/// The explanation of an error code (A1.37: the system answers technical errors with an explanation; A1.51:
/// every rejection carries a technical code and its explanation).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ErrorCodeItem {
    pub code: Code,
    pub http_status: u16,
    pub title: Localized,
    pub explanation: Localized,
}

/// The identity of one classifier file, for listings and caching.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ClassifierInfo {
    pub name: String,
    pub version: String,
    pub valid_from: NaiveDate,
    pub items: usize,
}

// ------------------------------------------------------------------------------------------------ files

/// The shape every file but the holidays shares.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListFile<T> {
    classifier: String,
    version: String,
    valid_from: NaiveDate,
    #[serde(default)]
    #[allow(dead_code)] // documentation for humans reading the file
    notes: Option<String>,
    items: Vec<T>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HolidaysFile {
    classifier: String,
    version: String,
    valid_from: NaiveDate,
    notes: Localized,
    weekend_holidays_moved: bool,
    fixed: Vec<FixedHoliday>,
    dated: Vec<DatedHoliday>,
}

fn broken(name: &str, detail: impl fmt::Display) -> DomainError {
    DomainError::new(
        Code::Internal,
        format!("classifier file {name}.json: {detail}"),
    )
}

fn raw(name: &str) -> Result<&'static str, DomainError> {
    Classifiers::raw_json(name).ok_or_else(|| broken(name, "not embedded"))
}

fn check_header(name: &str, classifier: &str, version: &str) -> Result<(), DomainError> {
    if classifier != name {
        return Err(broken(name, format!("declares classifier {classifier:?}")));
    }
    if version.trim().is_empty() {
        return Err(broken(name, "has no version"));
    }
    Ok(())
}

fn parse_list<T: DeserializeOwned>(
    name: &'static str,
    out: &mut Vec<ClassifierInfo>,
) -> Result<Vec<T>, DomainError> {
    let file: ListFile<T> = serde_json::from_str(raw(name)?).map_err(|e| broken(name, e))?;
    check_header(name, &file.classifier, &file.version)?;
    out.push(ClassifierInfo {
        name: name.to_owned(),
        version: file.version,
        valid_from: file.valid_from,
        items: file.items.len(),
    });
    Ok(file.items)
}

/// Builds a code → position index, refusing duplicates and empty codes.
fn index<'a>(
    name: &str,
    codes: impl Iterator<Item = &'a str>,
) -> Result<HashMap<String, usize>, DomainError> {
    let mut map = HashMap::new();
    for (i, code) in codes.enumerate() {
        if code.trim().is_empty() {
            return Err(broken(name, format!("item {i} has an empty code")));
        }
        if map.insert(code.to_owned(), i).is_some() {
            return Err(broken(name, format!("code {code} appears twice")));
        }
    }
    Ok(map)
}

// ------------------------------------------------------------------------------------------------ the set

/// Every classifier, parsed and indexed.
#[derive(Clone, Debug, Default)]
pub struct Classifiers {
    pub countries: Vec<Country>,
    pub marzes: Vec<Marz>,
    pub communities: Vec<Community>,
    pub identity_document_types: Vec<CodeItem>,
    pub citizenship_grounds: Vec<CitizenshipGround>,
    pub residence_documents: Vec<ResidenceDocType>,
    pub nationalities: Vec<CodeItem>,
    pub public_holidays: Holidays,
    pub error_codes: Vec<ErrorCodeItem>,
    /// Name, version, validity start and item count of each file, in [`CLASSIFIER_NAMES`] order.
    pub files: Vec<ClassifierInfo>,
    index: Indexes,
}

#[derive(Clone, Debug, Default)]
struct Indexes {
    countries: HashMap<String, usize>,
    marzes: HashMap<String, usize>,
    communities: HashMap<String, usize>,
    /// settlement code → (community position, settlement position)
    settlements: HashMap<String, (usize, usize)>,
    identity_document_types: HashMap<String, usize>,
    citizenship_grounds: HashMap<String, usize>,
    residence_documents: HashMap<String, usize>,
    nationalities: HashMap<String, usize>,
    holidays: HashSet<String>,
    fixed_holidays: HashSet<(u32, u32)>,
    dated_holidays: HashSet<NaiveDate>,
    error_codes: HashMap<Code, usize>,
}

/// Parses and checks every embedded classifier file.
pub fn load() -> Result<Classifiers, DomainError> {
    let mut files = Vec::with_capacity(FILES.len());
    let countries: Vec<Country> = parse_list("countries", &mut files)?;
    let marzes: Vec<Marz> = parse_list("marzes", &mut files)?;
    let communities: Vec<Community> = parse_list("communities", &mut files)?;
    let identity_document_types: Vec<CodeItem> = parse_list("identity-document-types", &mut files)?;
    let citizenship_grounds: Vec<CitizenshipGround> =
        parse_list("citizenship-grounds", &mut files)?;
    let residence_documents: Vec<ResidenceDocType> = parse_list("residence-documents", &mut files)?;
    let nationalities: Vec<CodeItem> = parse_list("nationalities", &mut files)?;

    let name = "public-holidays";
    let holidays: HolidaysFile = serde_json::from_str(raw(name)?).map_err(|e| broken(name, e))?;
    check_header(name, &holidays.classifier, &holidays.version)?;
    files.push(ClassifierInfo {
        name: name.to_owned(),
        version: holidays.version,
        valid_from: holidays.valid_from,
        items: holidays.fixed.len() + holidays.dated.len(),
    });
    let public_holidays = Holidays {
        notes: holidays.notes,
        weekend_holidays_moved: holidays.weekend_holidays_moved,
        fixed: holidays.fixed,
        dated: holidays.dated,
    };

    let error_codes: Vec<ErrorCodeItem> = parse_list("error-codes", &mut files)?;

    let mut index = Indexes {
        countries: index("countries", countries.iter().map(|c| c.code.as_str()))?,
        marzes: index("marzes", marzes.iter().map(|m| m.code.as_str()))?,
        communities: index("communities", communities.iter().map(|c| c.code.as_str()))?,
        identity_document_types: index(
            "identity-document-types",
            identity_document_types.iter().map(|c| c.code.as_str()),
        )?,
        citizenship_grounds: index(
            "citizenship-grounds",
            citizenship_grounds.iter().map(|c| c.code.as_str()),
        )?,
        residence_documents: index(
            "residence-documents",
            residence_documents.iter().map(|c| c.code.as_str()),
        )?,
        nationalities: index(
            "nationalities",
            nationalities.iter().map(|c| c.code.as_str()),
        )?,
        ..Indexes::default()
    };

    for (ci, community) in communities.iter().enumerate() {
        if !index.marzes.contains_key(&community.marz) {
            return Err(broken(
                "communities",
                format!("{} is in unknown marz {}", community.code, community.marz),
            ));
        }
        if !community.code.starts_with(&format!("{}-", community.marz)) {
            return Err(broken(
                "communities",
                format!("{} does not start with its marz code", community.code),
            ));
        }
        if community.settlements.is_empty() {
            return Err(broken(
                "communities",
                format!("{} has no settlement", community.code),
            ));
        }
        for (si, settlement) in community.settlements.iter().enumerate() {
            if !settlement.code.starts_with(&format!("{}-", community.code)) {
                return Err(broken(
                    "communities",
                    format!(
                        "settlement {} does not start with its community code",
                        settlement.code
                    ),
                ));
            }
            if index
                .settlements
                .insert(settlement.code.clone(), (ci, si))
                .is_some()
            {
                return Err(broken(
                    "communities",
                    format!("settlement code {} appears twice", settlement.code),
                ));
            }
        }
    }

    let holiday_codes = public_holidays
        .fixed
        .iter()
        .map(|h| h.code.as_str())
        .chain(public_holidays.dated.iter().map(|h| h.code.as_str()));
    index.holidays = index_set("public-holidays", holiday_codes)?;
    for h in &public_holidays.fixed {
        // 2024 is a leap year, so 29 February would pass; any other impossible date fails.
        if NaiveDate::from_ymd_opt(2024, h.month, h.day).is_none() {
            return Err(broken(
                "public-holidays",
                format!("{} has no such date {}-{}", h.code, h.month, h.day),
            ));
        }
        index.fixed_holidays.insert((h.month, h.day));
    }
    index.dated_holidays = public_holidays.dated.iter().map(|h| h.date).collect();

    for (i, item) in error_codes.iter().enumerate() {
        if index.error_codes.insert(item.code, i).is_some() {
            return Err(broken(
                "error-codes",
                format!("code {} appears twice", item.code),
            ));
        }
        if item.http_status != item.code.http_status() {
            return Err(broken(
                "error-codes",
                format!(
                    "{} has HTTP status {} but the code maps to {}",
                    item.code,
                    item.http_status,
                    item.code.http_status()
                ),
            ));
        }
    }
    if let Some(missing) = Code::ALL
        .iter()
        .find(|c| !index.error_codes.contains_key(c))
    {
        return Err(broken(
            "error-codes",
            format!("code {missing} has no explanation"),
        ));
    }

    Ok(Classifiers {
        countries,
        marzes,
        communities,
        identity_document_types,
        citizenship_grounds,
        residence_documents,
        nationalities,
        public_holidays,
        error_codes,
        files,
        index,
    })
}

fn index_set<'a>(
    name: &str,
    codes: impl Iterator<Item = &'a str>,
) -> Result<HashSet<String>, DomainError> {
    index(name, codes).map(|m| m.into_keys().collect())
}

static LOADED: OnceLock<Result<Classifiers, DomainError>> = OnceLock::new();
static EMPTY: OnceLock<Classifiers> = OnceLock::new();

/// The classifiers, loaded on first use; the error if an embedded file is broken.
pub fn try_classifiers() -> Result<&'static Classifiers, DomainError> {
    LOADED.get_or_init(load).as_ref().map_err(Clone::clone)
}

/// The classifiers, loaded on first use.
///
/// This crate may not panic, so if an embedded file were broken this returns an empty set (every lookup then
/// fails, every code is unknown) while [`try_classifiers`] reports the error; startup should call
/// [`try_classifiers`] once and refuse to serve on error. The tests prove every embedded file loads, so a build
/// that passed them never takes that path.
pub fn classifiers() -> &'static Classifiers {
    match try_classifiers() {
        Ok(c) => c,
        Err(_) => EMPTY.get_or_init(Classifiers::default),
    }
}

impl Classifiers {
    pub fn country(&self, code: &str) -> Option<&Country> {
        self.index
            .countries
            .get(code)
            .and_then(|&i| self.countries.get(i))
    }

    pub fn marz(&self, code: &str) -> Option<&Marz> {
        self.index
            .marzes
            .get(code)
            .and_then(|&i| self.marzes.get(i))
    }

    pub fn community(&self, code: &str) -> Option<&Community> {
        self.index
            .communities
            .get(code)
            .and_then(|&i| self.communities.get(i))
    }

    /// A settlement (town, village or Yerevan district) with the community it belongs to.
    pub fn settlement(&self, code: &str) -> Option<(&Community, &Settlement)> {
        let &(ci, si) = self.index.settlements.get(code)?;
        let community = self.communities.get(ci)?;
        Some((community, community.settlements.get(si)?))
    }

    pub fn identity_document_type(&self, code: &str) -> Option<&CodeItem> {
        self.index
            .identity_document_types
            .get(code)
            .and_then(|&i| self.identity_document_types.get(i))
    }

    pub fn citizenship_ground(&self, code: &str) -> Option<&CitizenshipGround> {
        self.index
            .citizenship_grounds
            .get(code)
            .and_then(|&i| self.citizenship_grounds.get(i))
    }

    pub fn residence_document(&self, code: &str) -> Option<&ResidenceDocType> {
        self.index
            .residence_documents
            .get(code)
            .and_then(|&i| self.residence_documents.get(i))
    }

    pub fn nationality(&self, code: &str) -> Option<&CodeItem> {
        self.index
            .nationalities
            .get(code)
            .and_then(|&i| self.nationalities.get(i))
    }

    /// Whether `code` is in the classifier named `classifier` (a file's `classifier` field). Besides the file
    /// names, `settlements` names the settlement codes inside `communities`. An unknown classifier knows no code.
    pub fn is_known(&self, classifier: &str, code: &str) -> bool {
        match classifier {
            "countries" => self.index.countries.contains_key(code),
            "marzes" => self.index.marzes.contains_key(code),
            "communities" => self.index.communities.contains_key(code),
            "settlements" => self.index.settlements.contains_key(code),
            "identity-document-types" => self.index.identity_document_types.contains_key(code),
            "citizenship-grounds" => self.index.citizenship_grounds.contains_key(code),
            "residence-documents" => self.index.residence_documents.contains_key(code),
            "nationalities" => self.index.nationalities.contains_key(code),
            "public-holidays" => self.index.holidays.contains(code),
            "error-codes" => {
                Code::from_code(code).is_some_and(|c| self.index.error_codes.contains_key(&c))
            }
            _ => false,
        }
    }

    /// Whether `d` is a non-working holiday (whatever day of the week it falls on).
    pub fn is_public_holiday(&self, d: NaiveDate) -> bool {
        self.index.fixed_holidays.contains(&(d.month(), d.day()))
            || self.index.dated_holidays.contains(&d)
    }

    /// Monday to Friday and not a public holiday. A holiday on a weekend is not moved, so it costs no working day.
    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !self.is_public_holiday(d)
    }

    /// The first working day after `d`. A1.41: a birth or death on day `d` must be entered by the end of this
    /// day.
    pub fn next_working_day_end(&self, d: NaiveDate) -> NaiveDate {
        let mut day = d;
        // The longest run of non-working days in the calendar is far below a year; the bound only guards
        // against a broken holiday list making this loop forever.
        for _ in 0..366 {
            match day.succ_opt() {
                Some(next) => day = next,
                None => return day,
            }
            if self.is_working_day(day) {
                return day;
            }
        }
        day
    }

    /// The explanation of an error code.
    pub fn error_code(&self, code: Code) -> Option<&ErrorCodeItem> {
        self.index
            .error_codes
            .get(&code)
            .and_then(|&i| self.error_codes.get(i))
    }

    /// Name, version, validity start and item count of every classifier.
    pub fn list(&self) -> Vec<ClassifierInfo> {
        self.files.clone()
    }

    /// The embedded text of a classifier file, for serving over the API as it is.
    pub fn raw_json(name: &str) -> Option<&'static str> {
        FILES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, text)| *text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c() -> &'static Classifiers {
        try_classifiers().unwrap()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// Every localized text in every classifier, with where it comes from.
    fn all_texts() -> Vec<(String, &'static Localized)> {
        let c = c();
        let mut out: Vec<(String, &Localized)> = Vec::new();
        out.extend(c.countries.iter().map(|x| (x.code.clone(), &x.name)));
        for m in &c.marzes {
            out.push((m.code.clone(), &m.name));
            out.push((format!("{} centre", m.code), &m.centre));
        }
        for community in &c.communities {
            out.push((community.code.clone(), &community.name));
            out.extend(
                community
                    .settlements
                    .iter()
                    .map(|s| (s.code.clone(), &s.name)),
            );
        }
        out.extend(
            c.identity_document_types
                .iter()
                .map(|x| (x.code.clone(), &x.name)),
        );
        out.extend(
            c.citizenship_grounds
                .iter()
                .map(|x| (x.code.clone(), &x.name)),
        );
        out.extend(
            c.residence_documents
                .iter()
                .map(|x| (x.code.clone(), &x.name)),
        );
        out.extend(c.nationalities.iter().map(|x| (x.code.clone(), &x.name)));
        out.push(("public-holidays notes".into(), &c.public_holidays.notes));
        out.extend(
            c.public_holidays
                .fixed
                .iter()
                .map(|x| (x.code.clone(), &x.name)),
        );
        out.extend(
            c.public_holidays
                .dated
                .iter()
                .map(|x| (x.code.clone(), &x.name)),
        );
        for e in &c.error_codes {
            out.push((format!("{} title", e.code), &e.title));
            out.push((format!("{} explanation", e.code), &e.explanation));
        }
        out
    }

    fn is_armenian_letter(ch: char) -> bool {
        matches!(ch, '\u{0531}'..='\u{0556}' | '\u{0561}'..='\u{0587}' | '\u{FB13}'..='\u{FB17}')
    }

    fn is_cyrillic_letter(ch: char) -> bool {
        matches!(ch, '\u{0400}'..='\u{04FF}')
    }

    #[test]
    fn every_embedded_file_parses() {
        let loaded = load();
        assert!(loaded.is_ok(), "{:?}", loaded.err());
        for (name, text) in FILES {
            let value: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(
                value["classifier"], name,
                "{name}.json declares another classifier"
            );
            assert_eq!(value["version"], "2026.1", "{name}.json");
            assert_eq!(value["valid_from"], "2026-01-01", "{name}.json");
        }
        assert_eq!(FILES.map(|(n, _)| n), CLASSIFIER_NAMES);
        assert!(
            std::ptr::eq(classifiers(), c()),
            "classifiers() must hand out the loaded set"
        );
    }

    #[test]
    fn codes_are_unique_within_each_file() {
        for (name, text) in FILES {
            let value: serde_json::Value = serde_json::from_str(text).unwrap();
            let mut items: Vec<&serde_json::Value> = Vec::new();
            for key in ["items", "fixed", "dated"] {
                if let Some(list) = value[key].as_array() {
                    items.extend(list);
                }
            }
            assert!(
                !items.is_empty() || name == "public-holidays",
                "{name} has no items"
            );
            let mut seen = HashSet::new();
            for item in items {
                let code = item["code"].as_str().unwrap();
                assert!(
                    seen.insert(code.to_owned()),
                    "{name}: duplicate code {code}"
                );
                for s in item["settlements"].as_array().into_iter().flatten() {
                    let code = s["code"].as_str().unwrap();
                    assert!(
                        seen.insert(code.to_owned()),
                        "{name}: duplicate settlement code {code}"
                    );
                }
            }
        }
    }

    #[test]
    fn a1_37_every_error_code_has_an_explanation_in_three_languages() {
        let c = c();
        for &code in Code::ALL {
            let item = c
                .error_code(code)
                .unwrap_or_else(|| panic!("{code} has no entry in error-codes.json"));
            assert_eq!(item.http_status, code.http_status(), "{code}");
            for lang in Lang::ALL {
                assert!(
                    !item.title.get(lang).trim().is_empty(),
                    "{code} title {lang}"
                );
                assert!(
                    item.explanation.get(lang).trim().len() > item.title.get(lang).trim().len(),
                    "{code} {lang}"
                );
            }
        }
        assert_eq!(
            c.error_codes.len(),
            Code::ALL.len(),
            "error-codes.json has codes the enum does not"
        );
    }

    #[test]
    fn communities_sit_in_known_marzes_and_settlements_nest_in_them() {
        let c = c();
        assert!(c.communities.len() >= 60);
        for community in &c.communities {
            assert!(
                c.marz(&community.marz).is_some(),
                "{} marz {}",
                community.code,
                community.marz
            );
            assert!(community.code.starts_with(&community.marz));
            assert!(!community.settlements.is_empty());
            for s in &community.settlements {
                assert!(s.code.starts_with(&community.code), "{}", s.code);
                assert_eq!(
                    c.settlement(&s.code).map(|(k, _)| k.code.as_str()),
                    Some(community.code.as_str())
                );
            }
        }
        for m in &c.marzes {
            assert!(
                c.communities.iter().any(|k| k.marz == m.code),
                "{} has no community",
                m.code
            );
        }
    }

    #[test]
    fn yerevan_is_one_community_of_twelve_districts() {
        let c = c();
        let yerevan = c.community("AM-ER-001").unwrap();
        assert_eq!(yerevan.name.get(Lang::Hy), "Երևան");
        assert_eq!(yerevan.settlements.len(), 12);
        assert!(
            yerevan
                .settlements
                .iter()
                .all(|s| s.kind == SettlementKind::District)
        );
        let (_, kentron) = c.settlement("AM-ER-001-06").unwrap();
        assert_eq!(kentron.name.en, "Kentron");
        assert_eq!(
            c.communities.iter().filter(|k| k.marz == "AM-ER").count(),
            1
        );
    }

    #[test]
    fn populations_roughly_match_armenia() {
        let c = c();
        let marzes: u32 = c.marzes.iter().map(|m| m.population).sum();
        let communities: u32 = c.communities.iter().map(|k| k.population).sum();
        assert!((2_800_000..=3_100_000).contains(&marzes), "{marzes}");
        assert!(
            (2_700_000..=3_100_000).contains(&communities),
            "{communities}"
        );
        let yerevan = c.marz("AM-ER").unwrap().population;
        assert!((1_050_000..=1_130_000).contains(&yerevan), "{yerevan}");
        assert_eq!(c.marzes.len(), 11);
        assert_eq!(c.marz("AM-SU").unwrap().centre.en, "Kapan");
    }

    #[test]
    fn countries_cover_iso_3166_1() {
        let c = c();
        assert!(c.countries.len() >= 240, "{}", c.countries.len());
        for code in ["AM", "RU", "GE", "IR", "US", "FR"] {
            assert!(c.is_known("countries", code), "{code}");
        }
        let am = c.country("AM").unwrap();
        assert_eq!((am.alpha3.as_str(), am.numeric.as_str()), ("ARM", "051"));
        assert_eq!(am.name.hy, "Հայաստան");
        assert_eq!(
            c.country("US").unwrap().name.hy,
            "Ամերիկայի Միացյալ Նահանգներ"
        );
        for country in &c.countries {
            assert_eq!(country.code.len(), 2);
            assert_eq!(country.alpha3.len(), 3);
            assert!(
                country.numeric.len() == 3 && country.numeric.bytes().all(|b| b.is_ascii_digit())
            );
        }
    }

    #[test]
    fn a1_20_nine_residence_documents() {
        let c = c();
        let codes: Vec<&str> = c
            .residence_documents
            .iter()
            .map(|d| d.code.as_str())
            .collect();
        assert_eq!(
            codes,
            [
                "RD1", "RD2", "RD3", "RD4", "RD5", "RD6", "RD7", "RD8", "RD9"
            ]
        );
        assert!(c.residence_document("RD7").unwrap().name.hy.contains("070"));
    }

    #[test]
    fn a1_18_citizenship_grounds_cover_both_directions() {
        let c = c();
        let ground = c.citizenship_ground("ACQ_BIRTH").unwrap();
        assert_eq!(ground.direction, CitizenshipDirection::Acquisition);
        assert_eq!(
            c.citizenship_ground("TERM_RENUNCIATION").unwrap().direction,
            CitizenshipDirection::Termination
        );
        for g in &c.citizenship_grounds {
            let prefix = match g.direction {
                CitizenshipDirection::Acquisition => "ACQ_",
                CitizenshipDirection::Termination => "TERM_",
            };
            assert!(g.code.starts_with(prefix), "{}", g.code);
        }
    }

    #[test]
    fn a1_19_nationalities_and_identity_documents() {
        let c = c();
        assert_eq!(c.nationality("ARM").unwrap().name.hy, "Հայեր");
        assert!(c.is_known("nationalities", "YAZ"));
        for code in [
            "ID_CARD",
            "PASSPORT_AM",
            "BIOMETRIC_PASSPORT_AM",
            "FOREIGN_PASSPORT",
            "BIRTH_CERTIFICATE",
            "STATELESS_TRAVEL_DOC",
            "REFUGEE_TRAVEL_DOC",
            "OTHER",
        ] {
            assert!(c.identity_document_type(code).is_some(), "{code}");
        }
    }

    #[test]
    fn public_holidays_are_not_working_days() {
        let c = c();
        for d in [
            date(2026, 1, 1),
            date(2026, 5, 28),
            date(2026, 9, 21),
            date(2027, 1, 6),
            date(2025, 12, 31),
        ] {
            assert!(c.is_public_holiday(d), "{d}");
            assert!(!c.is_working_day(d), "{d}");
        }
        let wednesday = date(2026, 3, 11);
        assert_eq!(wednesday.weekday(), Weekday::Wed);
        assert!(!c.is_public_holiday(wednesday));
        assert!(c.is_working_day(wednesday));
        // 7 January is a memorial day but a working day; weekends are never working days.
        assert!(c.is_working_day(date(2027, 1, 7)));
        assert!(!c.is_working_day(date(2026, 3, 14)));
        assert!(!c.public_holidays.weekend_holidays_moved);
        // A holiday on a Sunday (28 May 2023) is not moved to the Monday.
        assert!(c.is_working_day(date(2023, 5, 29)));
    }

    #[test]
    fn a1_41_deadline_is_next_working_day() {
        let c = c();
        // An ordinary Friday: the deadline is the end of Monday.
        assert_eq!(c.next_working_day_end(date(2026, 3, 13)), date(2026, 3, 16));
        // A Thursday before Genocide Remembrance Day (Friday 24 April 2026): Monday.
        assert_eq!(c.next_working_day_end(date(2026, 4, 23)), date(2026, 4, 27));
        // Across the New Year: Tuesday 30 December 2025 -> Monday 5 January 2026.
        assert_eq!(c.next_working_day_end(date(2025, 12, 30)), date(2026, 1, 5));
        // Every Friday of 2024-2030: the following Monday unless that is a holiday, then the day after, ...
        let mut d = date(2024, 1, 5);
        while d.year() <= 2030 {
            assert_eq!(d.weekday(), Weekday::Fri);
            let mut expected = d + chrono::Duration::days(3);
            while c.is_public_holiday(expected) {
                expected += chrono::Duration::days(1);
            }
            assert_eq!(c.next_working_day_end(d), expected, "{d}");
            d += chrono::Duration::days(7);
        }
    }

    #[test]
    fn armenian_texts_use_armenian_script() {
        for (at, text) in all_texts() {
            let hy = &text.hy;
            assert!(hy.chars().any(is_armenian_letter), "{at}: {hy}");
            assert!(
                hy.chars()
                    .all(|ch| !ch.is_alphabetic() || is_armenian_letter(ch)),
                "{at}: non-Armenian letter in {hy}"
            );
            // Reformed orthography writes the ligature: Երևան, not Երեւան.
            assert!(!hy.contains("եւ"), "{at}: write և in {hy}");
        }
    }

    #[test]
    fn russian_texts_use_cyrillic_script() {
        for (at, text) in all_texts() {
            let ru = &text.ru;
            assert!(ru.chars().any(is_cyrillic_letter), "{at}: {ru}");
            assert!(
                ru.chars()
                    .all(|ch| !ch.is_alphabetic() || is_cyrillic_letter(ch)),
                "{at}: non-Cyrillic letter in {ru}"
            );
        }
    }

    #[test]
    fn english_texts_are_present() {
        for (at, text) in all_texts() {
            assert!(
                text.en.chars().any(|ch| ch.is_ascii_alphabetic()),
                "{at}: {}",
                text.en
            );
        }
    }

    #[test]
    fn is_known_answers_per_classifier() {
        let c = c();
        assert!(c.is_known("marzes", "AM-SH"));
        assert!(!c.is_known("marzes", "AM-XX"));
        assert!(c.is_known("communities", "AM-ER-001"));
        assert!(c.is_known("settlements", "AM-ER-001-01"));
        assert!(!c.is_known("communities", "AM-ER-001-01"));
        assert!(c.is_known("identity-document-types", "ID_CARD"));
        assert!(c.is_known("citizenship-grounds", "ACQ_BIRTH"));
        assert!(c.is_known("residence-documents", "RD9"));
        assert!(c.is_known("public-holidays", "REPUBLIC_DAY"));
        assert!(c.is_known("error-codes", "PSR-PSN-0003"));
        assert!(!c.is_known("error-codes", "PSR-XXX-0000"));
        assert!(!c.is_known("no-such-classifier", "AM"));
        assert!(!c.is_known("countries", "am"), "codes are case-sensitive");
    }

    #[test]
    fn list_and_raw_json_describe_every_file() {
        let c = c();
        let list = c.list();
        assert_eq!(
            list.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(),
            CLASSIFIER_NAMES
        );
        for info in &list {
            assert_eq!(info.version, "2026.1");
            assert_eq!(info.valid_from, date(2026, 1, 1));
            assert!(info.items > 0, "{}", info.name);
            assert!(
                Classifiers::raw_json(&info.name)
                    .unwrap()
                    .contains(&format!("\"{}\"", info.name))
            );
        }
        assert_eq!(list[0].items, c.countries.len());
        assert_eq!(Classifiers::raw_json("secrets"), None);
    }

    #[test]
    fn g2_language_parse_and_negotiation() {
        assert_eq!(Lang::parse("hy"), Some(Lang::Hy));
        assert_eq!(Lang::parse("EN"), Some(Lang::En));
        assert_eq!(Lang::parse("ru-RU"), Some(Lang::Ru));
        assert_eq!(Lang::parse("fr"), None);
        assert_eq!(Lang::parse(""), None);
        assert_eq!(Lang::negotiate(None), Lang::Hy);
        assert_eq!(Lang::negotiate(Some("")), Lang::Hy);
        assert_eq!(Lang::negotiate(Some("fr-FR,de;q=0.9")), Lang::Hy);
        assert_eq!(Lang::negotiate(Some("en-US,en;q=0.9")), Lang::En);
        assert_eq!(
            Lang::negotiate(Some("fr;q=1, ru;q=0.5, en;q=0.7")),
            Lang::En
        );
        assert_eq!(
            Lang::negotiate(Some("ru, en")),
            Lang::Ru,
            "first wins on a tie"
        );
        assert_eq!(Lang::negotiate(Some("en;q=0, ru;q=0.1")), Lang::Ru);
        assert_eq!(Lang::negotiate(Some("en;q=0")), Lang::Hy);
        assert_eq!(
            Lang::negotiate(Some("en;q=2, ru;q=0.3")),
            Lang::Ru,
            "a malformed q drops the range"
        );
        assert_eq!(Lang::negotiate(Some("*")), Lang::Hy);
        assert_eq!(Lang::negotiate(Some("hy-AM;q=0.8,en;q=0.8")), Lang::Hy);
        assert_eq!(Lang::En.to_string(), "en");
        assert_eq!(serde_json::to_string(&Lang::Ru).unwrap(), "\"ru\"");
        let name = Localized {
            hy: "Երևան".into(),
            en: "Yerevan".into(),
            ru: "Ереван".into(),
        };
        assert_eq!(name.get(Lang::Ru), "Ереван");
    }

    #[test]
    fn quality_values_parse_like_rfc_9110() {
        assert_eq!(parse_quality("1"), Some(1000));
        assert_eq!(parse_quality("1.000"), Some(1000));
        assert_eq!(parse_quality("0.8"), Some(800));
        assert_eq!(parse_quality("0.05"), Some(50));
        assert_eq!(parse_quality("0"), Some(0));
        assert_eq!(parse_quality("1.5"), None);
        assert_eq!(parse_quality("0.1234"), None);
        assert_eq!(parse_quality("x"), None);
    }
}
