//! Provider submissions (A1.32–A1.55): the typed form of each kind of `docs/submissions.md`, and the rules
//! that turn one submission into entries or refuse it.
//!
//! The pipeline is: bytes → JSON value (either channel) → structural check against the data-element
//! registry (`elements`) → [`Submission::from_value`] → [`decide`] against the current state of every person
//! the submission names → entries to append, a hold for review, or violations to reject with. [`decide`] is
//! a pure function of the submission, today's date and the persons' states, so every ground of A1.49 is a
//! unit test here; the store runs it inside the write transaction, so what it saw is what gets committed.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::access::BodyType;
use crate::error::{Code, DomainError};
use crate::model::*;
use crate::names::{Name, PersonNames, fold_for_search};
use crate::person::PersonState;
use crate::psn::Psn;
use crate::{NewEntry, classifiers};

/// Marriage age (Family Code of Armenia, art. 10).
pub const MARRIAGE_AGE: u32 = 18;
/// Age of majority: guardianship on the ground of age ends at it (Civil Code, art. 24).
pub const MAJORITY_AGE: u32 = 18;
/// A child may be born up to this many days after the father's death.
pub const POSTHUMOUS_BIRTH_DAYS: i64 = 300;

/// Another person as a submission names them: by PSN, or described by identity document (A1.39–40).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WirePerson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub psn: Option<Psn>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_psn: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patronymic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citizenship: Option<String>,
}

impl WirePerson {
    fn to_ref(&self, field: &str) -> Result<PersonRef, Violation> {
        if let Some(p) = self.psn {
            return Ok(PersonRef::Psn(p));
        }
        let missing = |what: &str| {
            Violation::new(
                Code::MissingField,
                format!("{field}.{what}"),
                "a person without PSN needs names and an identity document",
            )
        };
        let first = self
            .first_name
            .as_deref()
            .ok_or_else(|| missing("first_name"))?;
        let surname = self.surname.as_deref().ok_or_else(|| missing("surname"))?;
        Ok(PersonRef::Described(Box::new(DescribedPerson {
            first_name: first.trim().to_string(),
            patronymic: self.patronymic.as_ref().map(|s| s.trim().to_string()),
            surname: surname.trim().to_string(),
            birth_date: self.birth_date,
            identity_document: IdentityDocument {
                doc_type: self
                    .document_type
                    .clone()
                    .ok_or_else(|| missing("document_type"))?,
                number: self
                    .document_number
                    .clone()
                    .ok_or_else(|| missing("document_number"))?,
                issuing_country: self.document_country.clone(),
                issued_on: None,
                valid_until: None,
            },
            citizenships: self.citizenship.iter().cloned().collect(),
            nationality: None,
            residence: None,
            no_psn: true,
        })))
    }
}

macro_rules! wire_structs {
    ($( $(#[$m:meta])* $name:ident { $( $f:ident : $t:ty ),* $(,)? } )*) => {
        $(
            $(#[$m])*
            #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
            #[serde(deny_unknown_fields)]
            pub struct $name { $( #[serde(skip_serializing_if = "skip")] pub $f: $t ),* }
        )*
    };
}

/// Whether serde leaves a field out: only absent optional values.
trait Skip {
    fn is_absent(&self) -> bool {
        false
    }
}
impl<T> Skip for Option<T> {
    fn is_absent(&self) -> bool {
        self.is_none()
    }
}
macro_rules! never_skip { ($($t:ty),*) => { $(impl Skip for $t {})* }; }
never_skip!(
    String,
    NaiveDate,
    Psn,
    Sex,
    WirePerson,
    Place,
    Address,
    u32,
    bool,
    GuardianshipKind,
    GuardianshipGround
);
fn skip<T: Skip>(v: &T) -> bool {
    v.is_absent()
}

wire_structs! {
    /// A1.39, A1.42: a birth; answers the newborn's PSN.
    BirthForm { first_name: String, patronymic: Option<String>, surname: String, sex: Sex, birth_date: NaiveDate,
        birth_place: Place, mother: WirePerson, father: Option<WirePerson> }
    /// First registration of a person born abroad or before the register.
    RegistrationForm { first_name: String, patronymic: Option<String>, surname: String, sex: Sex,
        birth_date: NaiveDate, birth_place: Place }
    DeathForm { psn: Psn, date: NaiveDate, place: Option<Place>, declared_by_court: Option<bool> }
    /// A death abroad: the place is required (and outside Armenia).
    DeathAbroadForm { psn: Psn, date: NaiveDate, place: Place }
    MarriageForm { psn: Psn, spouse: WirePerson, date: NaiveDate, act_number: Option<String> }
    NameChangeForm { psn: Psn, first_name: String, patronymic: Option<String>, surname: String, date: NaiveDate }
    PaternityForm { psn: Psn, father: WirePerson, date: NaiveDate, first_name: Option<String>,
        patronymic: Option<String>, surname: Option<String> }
    AdoptionForm { psn: Psn, adoptive_mother: Option<WirePerson>, adoptive_father: Option<WirePerson>,
        date: NaiveDate, first_name: Option<String>, patronymic: Option<String>, surname: Option<String> }
    GuardianshipStartForm { psn: Psn, guardian: WirePerson, guardianship: GuardianshipKind,
        ground: GuardianshipGround, date: NaiveDate }
    GuardianshipEndForm { psn: Psn, guardian: WirePerson, date: NaiveDate }
    ConsularRegistrationForm { psn: Psn, mission: String, since: NaiveDate, until: Option<NaiveDate> }
    AddressForm { psn: Psn, address: Address, valid_from: NaiveDate, valid_to: Option<NaiveDate> }
    IncapacityForm { psn: Psn, judgment_date: NaiveDate, court: Option<String>, case_number: Option<String> }
    DatedForm { psn: Psn, date: NaiveDate }
    ConvictionForm { psn: Psn, case_number: String, verdict_effective: NaiveDate, term_months: u32,
        court: Option<String> }
    CaseEventForm { psn: Psn, case_number: String, date: NaiveDate }
    CitizenshipForm { psn: Psn, country: String, ground: Option<String>, date: NaiveDate }
    NationalityForm { psn: Psn, nationality: String, date: NaiveDate }
    IdentityDocumentForm { psn: Psn, document_type: String, document_number: String,
        document_country: Option<String>, issued_on: Option<NaiveDate>, valid_until: Option<NaiveDate> }
    ResidenceDocumentForm { psn: Psn, document_type: String, document_number: String, issued_on: NaiveDate,
        valid_until: Option<NaiveDate> }
}

/// One submission, typed. The variant names the kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Submission {
    Birth(BirthForm),
    Death(DeathForm),
    Marriage(MarriageForm),
    Divorce(MarriageForm),
    NameChange(NameChangeForm),
    Paternity(PaternityForm),
    Adoption(AdoptionForm),
    GuardianshipStart(GuardianshipStartForm),
    GuardianshipEnd(GuardianshipEndForm),
    ConsularRegistration(ConsularRegistrationForm),
    AddressAbroad(AddressForm),
    /// A1.38–48: a birth abroad, registered by the diplomatic service; answers the newborn's PSN like a birth.
    BirthAbroad(BirthForm),
    /// A death abroad, registered by the diplomatic service.
    DeathAbroad(DeathAbroadForm),
    LegalIncapacity(IncapacityForm),
    LegalCapacityRestored(DatedForm),
    Conviction(ConvictionForm),
    Parole(CaseEventForm),
    SentenceCompleted(CaseEventForm),
    Registration(RegistrationForm),
    CitizenshipAcquired(CitizenshipForm),
    CitizenshipTerminated(CitizenshipForm),
    Nationality(NationalityForm),
    IdentityDocument(IdentityDocumentForm),
    ResidenceDocument(ResidenceDocumentForm),
    MainAddress(AddressForm),
    AdditionalAddress(AddressForm),
}

/// The provider types competent for a kind (A1.32, A1.38–A1.48), as the data-element registry defines
/// them; `None` for an unknown kind.
pub fn competent(kind: &str) -> Option<&'static [BodyType]> {
    crate::elements::kind(kind).map(|k| k.providers)
}

/// A reason to refuse (or hold) a submission: a stable code, the field it concerns (dotted path, empty for
/// the whole submission) and a detail in English for the developer. The user-facing explanation comes from
/// the code's entry in the error-code classifier.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub code: Code,
    pub field: String,
    pub detail: String,
}

impl Violation {
    pub fn new(code: Code, field: impl Into<String>, detail: impl Into<String>) -> Violation {
        Violation {
            code,
            field: field.into(),
            detail: detail.into(),
        }
    }
}

impl From<DomainError> for Violation {
    fn from(e: DomainError) -> Violation {
        Violation::new(e.code, "", e.detail)
    }
}

impl Submission {
    /// The typed submission from a JSON value that passed the structural check. `schema_version` is the
    /// registry's business and is ignored here.
    pub fn from_value(kind: &str, mut v: serde_json::Value) -> Result<Submission, Violation> {
        if let Some(o) = v.as_object_mut() {
            o.remove("schema_version");
        }
        fn de<T: for<'de> Deserialize<'de>>(v: serde_json::Value) -> Result<T, Violation> {
            serde_json::from_value(v)
                .map_err(|e| Violation::new(Code::Malformed, "", e.to_string()))
        }
        Ok(match kind {
            "birth" => Submission::Birth(de(v)?),
            "death" => Submission::Death(de(v)?),
            "marriage" => Submission::Marriage(de(v)?),
            "divorce" => Submission::Divorce(de(v)?),
            "name_change" => Submission::NameChange(de(v)?),
            "paternity" => Submission::Paternity(de(v)?),
            "adoption" => Submission::Adoption(de(v)?),
            "guardianship_start" => Submission::GuardianshipStart(de(v)?),
            "guardianship_end" => Submission::GuardianshipEnd(de(v)?),
            "consular_registration" => Submission::ConsularRegistration(de(v)?),
            "address_abroad" => Submission::AddressAbroad(de(v)?),
            "birth_abroad" => Submission::BirthAbroad(de(v)?),
            "death_abroad" => Submission::DeathAbroad(de(v)?),
            "legal_incapacity" => Submission::LegalIncapacity(de(v)?),
            "legal_capacity_restored" => Submission::LegalCapacityRestored(de(v)?),
            "conviction" => Submission::Conviction(de(v)?),
            "parole" => Submission::Parole(de(v)?),
            "sentence_completed" => Submission::SentenceCompleted(de(v)?),
            "registration" => Submission::Registration(de(v)?),
            "citizenship_acquired" => Submission::CitizenshipAcquired(de(v)?),
            "citizenship_terminated" => Submission::CitizenshipTerminated(de(v)?),
            "nationality" => Submission::Nationality(de(v)?),
            "identity_document" => Submission::IdentityDocument(de(v)?),
            "residence_document" => Submission::ResidenceDocument(de(v)?),
            "main_address" => Submission::MainAddress(de(v)?),
            "additional_address" => Submission::AdditionalAddress(de(v)?),
            other => {
                return Err(Violation::new(
                    Code::UnknownKind,
                    "",
                    format!("no submission kind {other}"),
                ));
            }
        })
    }

    /// The submission as the JSON value of its wire form (what the manager reviews and releases).
    pub fn to_value(&self) -> serde_json::Value {
        let v = match self {
            Submission::Birth(f) | Submission::BirthAbroad(f) => serde_json::to_value(f),
            Submission::Death(f) => serde_json::to_value(f),
            Submission::DeathAbroad(f) => serde_json::to_value(f),
            Submission::Marriage(f) | Submission::Divorce(f) => serde_json::to_value(f),
            Submission::NameChange(f) => serde_json::to_value(f),
            Submission::Paternity(f) => serde_json::to_value(f),
            Submission::Adoption(f) => serde_json::to_value(f),
            Submission::GuardianshipStart(f) => serde_json::to_value(f),
            Submission::GuardianshipEnd(f) => serde_json::to_value(f),
            Submission::ConsularRegistration(f) => serde_json::to_value(f),
            Submission::AddressAbroad(f)
            | Submission::MainAddress(f)
            | Submission::AdditionalAddress(f) => serde_json::to_value(f),
            Submission::LegalIncapacity(f) => serde_json::to_value(f),
            Submission::LegalCapacityRestored(f) => serde_json::to_value(f),
            Submission::Conviction(f) => serde_json::to_value(f),
            Submission::Parole(f) | Submission::SentenceCompleted(f) => serde_json::to_value(f),
            Submission::Registration(f) => serde_json::to_value(f),
            Submission::CitizenshipAcquired(f) | Submission::CitizenshipTerminated(f) => {
                serde_json::to_value(f)
            }
            Submission::Nationality(f) => serde_json::to_value(f),
            Submission::IdentityDocument(f) => serde_json::to_value(f),
            Submission::ResidenceDocument(f) => serde_json::to_value(f),
        };
        v.unwrap_or(serde_json::Value::Null)
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Submission::Birth(_) => "birth",
            Submission::Death(_) => "death",
            Submission::Marriage(_) => "marriage",
            Submission::Divorce(_) => "divorce",
            Submission::NameChange(_) => "name_change",
            Submission::Paternity(_) => "paternity",
            Submission::Adoption(_) => "adoption",
            Submission::GuardianshipStart(_) => "guardianship_start",
            Submission::GuardianshipEnd(_) => "guardianship_end",
            Submission::ConsularRegistration(_) => "consular_registration",
            Submission::AddressAbroad(_) => "address_abroad",
            Submission::BirthAbroad(_) => "birth_abroad",
            Submission::DeathAbroad(_) => "death_abroad",
            Submission::LegalIncapacity(_) => "legal_incapacity",
            Submission::LegalCapacityRestored(_) => "legal_capacity_restored",
            Submission::Conviction(_) => "conviction",
            Submission::Parole(_) => "parole",
            Submission::SentenceCompleted(_) => "sentence_completed",
            Submission::Registration(_) => "registration",
            Submission::CitizenshipAcquired(_) => "citizenship_acquired",
            Submission::CitizenshipTerminated(_) => "citizenship_terminated",
            Submission::Nationality(_) => "nationality",
            Submission::IdentityDocument(_) => "identity_document",
            Submission::ResidenceDocument(_) => "residence_document",
            Submission::MainAddress(_) => "main_address",
            Submission::AdditionalAddress(_) => "additional_address",
        }
    }

    /// The subject's PSN, when the subject already exists (every kind but births and registrations).
    pub fn subject(&self) -> Option<Psn> {
        Some(match self {
            Submission::Birth(_) | Submission::BirthAbroad(_) | Submission::Registration(_) => {
                return None;
            }
            Submission::Death(f) => f.psn,
            Submission::DeathAbroad(f) => f.psn,
            Submission::Marriage(f) | Submission::Divorce(f) => f.psn,
            Submission::NameChange(f) => f.psn,
            Submission::Paternity(f) => f.psn,
            Submission::Adoption(f) => f.psn,
            Submission::GuardianshipStart(f) => f.psn,
            Submission::GuardianshipEnd(f) => f.psn,
            Submission::ConsularRegistration(f) => f.psn,
            Submission::AddressAbroad(f)
            | Submission::MainAddress(f)
            | Submission::AdditionalAddress(f) => f.psn,
            Submission::LegalIncapacity(f) => f.psn,
            Submission::LegalCapacityRestored(f) => f.psn,
            Submission::Conviction(f) => f.psn,
            Submission::Parole(f) | Submission::SentenceCompleted(f) => f.psn,
            Submission::CitizenshipAcquired(f) | Submission::CitizenshipTerminated(f) => f.psn,
            Submission::Nationality(f) => f.psn,
            Submission::IdentityDocument(f) => f.psn,
            Submission::ResidenceDocument(f) => f.psn,
        })
    }

    /// The other persons named by PSN, with the field that names them.
    fn others(&self) -> Vec<(&'static str, Psn)> {
        let mut out = vec![];
        let mut add = |field: &'static str, p: Option<&WirePerson>| {
            if let Some(psn) = p.and_then(|p| p.psn) {
                out.push((field, psn));
            }
        };
        match self {
            Submission::Birth(f) | Submission::BirthAbroad(f) => {
                add("mother", Some(&f.mother));
                add("father", f.father.as_ref());
            }
            Submission::Marriage(f) | Submission::Divorce(f) => add("spouse", Some(&f.spouse)),
            Submission::Paternity(f) => add("father", Some(&f.father)),
            Submission::Adoption(f) => {
                add("adoptive_mother", f.adoptive_mother.as_ref());
                add("adoptive_father", f.adoptive_father.as_ref());
            }
            Submission::GuardianshipStart(f) => add("guardian", Some(&f.guardian)),
            Submission::GuardianshipEnd(f) => add("guardian", Some(&f.guardian)),
            _ => {}
        }
        out
    }

    /// Every PSN whose current state [`decide`] needs.
    pub fn referenced(&self) -> Vec<Psn> {
        let mut v: Vec<Psn> = self.subject().into_iter().collect();
        v.extend(self.others().into_iter().map(|(_, p)| p));
        v.sort_by_key(|p| p.to_string());
        v.dedup();
        v
    }

    /// The one birth date that matters among [`Submission::referenced_then`]'s persons: the duplicate check
    /// of a birth compares only children born on the newborn's date, so a store may load just the children
    /// whose current birth date is this one (the others cannot match) instead of all of them.
    pub fn referenced_then_born_on(&self) -> Option<NaiveDate> {
        match self {
            Submission::Birth(f) | Submission::BirthAbroad(f) => Some(f.birth_date),
            _ => None,
        }
    }

    /// PSNs needed in a second step, once the first are loaded: for a birth, the mother's children (to spot
    /// a duplicate registration).
    pub fn referenced_then(&self, loaded: &HashMap<Psn, PersonState>) -> Vec<Psn> {
        match self {
            Submission::Birth(f) | Submission::BirthAbroad(f) => f
                .mother
                .psn
                .and_then(|m| loaded.get(&m))
                .map(|m| m.children.iter().map(|c| c.child).collect())
                .unwrap_or_default(),
            _ => vec![],
        }
    }

    /// The date the event happened (for lateness and "not in the future").
    pub fn event_date(&self) -> NaiveDate {
        match self {
            Submission::Birth(f) | Submission::BirthAbroad(f) => f.birth_date,
            Submission::Registration(f) => f.birth_date,
            Submission::Death(f) => f.date,
            Submission::DeathAbroad(f) => f.date,
            Submission::Marriage(f) | Submission::Divorce(f) => f.date,
            Submission::NameChange(f) => f.date,
            Submission::Paternity(f) => f.date,
            Submission::Adoption(f) => f.date,
            Submission::GuardianshipStart(f) => f.date,
            Submission::GuardianshipEnd(f) => f.date,
            Submission::ConsularRegistration(f) => f.since,
            Submission::AddressAbroad(f)
            | Submission::MainAddress(f)
            | Submission::AdditionalAddress(f) => f.valid_from,
            Submission::LegalIncapacity(f) => f.judgment_date,
            Submission::LegalCapacityRestored(f) => f.date,
            Submission::Conviction(f) => f.verdict_effective,
            Submission::Parole(f) | Submission::SentenceCompleted(f) => f.date,
            Submission::CitizenshipAcquired(f) | Submission::CitizenshipTerminated(f) => f.date,
            Submission::Nationality(f) => f.date,
            Submission::IdentityDocument(f) => f.issued_on.unwrap_or(NaiveDate::MIN),
            Submission::ResidenceDocument(f) => f.issued_on,
        }
    }

    /// The field that holds [`Submission::event_date`].
    fn event_field(&self) -> &'static str {
        match self {
            Submission::Birth(_) | Submission::BirthAbroad(_) | Submission::Registration(_) => {
                "birth_date"
            }
            Submission::ConsularRegistration(_) => "since",
            Submission::AddressAbroad(_)
            | Submission::MainAddress(_)
            | Submission::AdditionalAddress(_) => "valid_from",
            Submission::LegalIncapacity(_) => "judgment_date",
            Submission::Conviction(_) => "verdict_effective",
            Submission::IdentityDocument(_) | Submission::ResidenceDocument(_) => "issued_on",
            _ => "date",
        }
    }
}

/// What [`decide`] concluded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Append these entries. `created` is the PSN of a person the submission creates (A1.42). `late`: a birth
    /// or death entered after the end of the next working day (A1.41); accepted, but counted.
    Accept {
        entries: Vec<NewEntry>,
        created: Option<Psn>,
        late: bool,
    },
    /// Keep for the manager's review (a likely duplicate).
    Hold(Violation),
    Reject(Vec<Violation>),
}

/// What [`decide`] knows besides the submission.
pub struct Context<'a> {
    /// Today in Armenia.
    pub today: NaiveDate,
    /// The current state of every person in [`Submission::referenced`] and
    /// [`Submission::referenced_then`] that exists.
    pub persons: &'a HashMap<Psn, PersonState>,
    /// A fresh PSN for a person the submission creates.
    pub new_psn: Option<Psn>,
    /// The register's manager reviewed a held submission and released it: it is not a duplicate.
    pub duplicate_cleared: bool,
}

/// Full years between two dates.
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> u32 {
    let mut years = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    years.max(0) as u32
}

fn names(
    first: &str,
    patronymic: Option<&str>,
    surname: &str,
    prefix: &str,
) -> Result<PersonNames, Violation> {
    let part = |s: &str, f: &str| {
        Name::armenian(s).map_err(|e| Violation::new(e.code, format!("{prefix}{f}"), e.detail))
    };
    Ok(PersonNames {
        first: part(first, "first_name")?,
        patronymic: patronymic.map(|p| part(p, "patronymic")).transpose()?,
        surname: part(surname, "surname")?,
    })
}

/// Names after a paternity recognition or adoption: the given parts replace the current ones.
fn names_after(
    current: &PersonNames,
    first: Option<&str>,
    patronymic: Option<&str>,
    surname: Option<&str>,
) -> Result<Option<PersonNames>, Violation> {
    if first.is_none() && patronymic.is_none() && surname.is_none() {
        return Ok(None);
    }
    let mut n = current.clone();
    let part = |s: &str, f: &str| {
        Name::armenian(s).map_err(|e| Violation::new(e.code, f.to_string(), e.detail))
    };
    if let Some(s) = first {
        n.first = part(s, "first_name")?;
    }
    if let Some(s) = patronymic {
        n.patronymic = Some(part(s, "patronymic")?);
    }
    if let Some(s) = surname {
        n.surname = part(s, "surname")?;
    }
    Ok(Some(n))
}

/// Collects violations while the rules run.
struct Check<'a> {
    ctx: &'a Context<'a>,
    out: Vec<Violation>,
}

impl<'a> Check<'a> {
    fn fail(&mut self, code: Code, field: impl Into<String>, detail: impl Into<String>) {
        self.out.push(Violation::new(code, field, detail));
    }

    fn not_future(&mut self, field: &str, d: NaiveDate) {
        if d > self.ctx.today {
            self.fail(
                Code::DateInFuture,
                field,
                format!("{d} is after today ({})", self.ctx.today),
            );
        }
    }

    fn ordered(&mut self, from: (&str, NaiveDate), to: (&str, Option<NaiveDate>)) {
        if let Some(t) = to.1
            && t < from.1
        {
            self.fail(
                Code::PeriodOrder,
                to.0,
                format!("{} ({t}) is before {} ({})", to.0, from.0, from.1),
            );
        }
    }

    /// A person named by PSN must exist.
    fn person(&mut self, field: &str, psn: Psn) -> Option<&'a PersonState> {
        let p = self.ctx.persons.get(&psn);
        if p.is_none() {
            self.fail(Code::PsnUnknown, field, format!("no person with PSN {psn}"));
        }
        p
    }

    /// An event about a living person, on or after their birth.
    fn alive_at(&mut self, field: &str, p: &PersonState, date: NaiveDate, date_field: &str) {
        if date < p.birth_date {
            self.fail(
                Code::PeriodOrder,
                date_field,
                format!("{date} is before the birth of {field} ({})", p.birth_date),
            );
        }
        if let Some(d) = &p.death
            && d.date < date
        {
            self.fail(
                Code::SubjectDead,
                field,
                format!("{field} died on {}, before {date}", d.date),
            );
        }
    }

    fn other(&mut self, field: &str, w: &WirePerson) -> Option<PersonRef> {
        match w.to_ref(field) {
            Ok(r) => Some(r),
            Err(v) => {
                self.out.push(v);
                None
            }
        }
    }
}

fn entry(subject: Psn, fact: Fact) -> NewEntry {
    NewEntry::new(subject, fact)
}

/// Whether two names are the same up to transliteration and one or two typing errors.
pub fn near_same_name(a: &str, b: &str) -> bool {
    let (a, b) = (fold_for_search(a), fold_for_search(b));
    if a == b {
        return true;
    }
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let limit = if a.len().max(b.len()) <= 4 { 1 } else { 2 };
    damerau_levenshtein(&a, &b) <= limit
}

/// Edit distance counting an adjacent transposition as one edit (optimal string alignment).
fn damerau_levenshtein(a: &[char], b: &[char]) -> usize {
    let (n, m) = (a.len(), b.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[n][m]
}

/// Decide a submission: the entries it makes, or why it is held or refused. Pure: the same inputs give the
/// same answer.
pub fn decide(sub: &Submission, ctx: &Context<'_>) -> Decision {
    let mut c = Check { ctx, out: vec![] };
    let event = sub.event_date();
    if !matches!(sub, Submission::IdentityDocument(f) if f.issued_on.is_none()) {
        c.not_future(sub.event_field(), event);
    }
    // The subject must exist, and be alive and born at the event (a death is checked on its own).
    let subject = sub.subject().and_then(|p| c.person("psn", p));
    if let Some(s) = subject
        && !matches!(sub, Submission::Death(_) | Submission::DeathAbroad(_))
    {
        c.alive_at("psn", s, event, sub.event_field());
    }
    // Everyone else named by PSN must exist and differ from the subject.
    let mut others: HashMap<&'static str, &PersonState> = HashMap::new();
    for (field, psn) in sub.others() {
        if Some(psn) == sub.subject() {
            c.fail(
                Code::SelfReference,
                format!("{field}.psn"),
                format!("{field} is the subject ({psn})"),
            );
            continue;
        }
        if let Some(p) = c.person(&format!("{field}.psn"), psn) {
            others.insert(field, p);
        }
    }
    let mut created = None;
    let mut entries = vec![];
    rules(sub, &mut c, subject, &others, &mut created, &mut entries);
    if !c.out.is_empty() {
        return Decision::Reject(c.out);
    }
    if let Submission::Birth(f) | Submission::BirthAbroad(f) = sub
        && !ctx.duplicate_cleared
        && let Some(v) = duplicate_birth(f, ctx)
    {
        return Decision::Hold(v);
    }
    let late = matches!(sub, Submission::Birth(_) | Submission::Death(_))
        && ctx.today > classifiers::classifiers().next_working_day_end(event);
    Decision::Accept {
        entries,
        created,
        late,
    }
}

/// A birth to the same mother on the same date with a near-identical child's name (A1.49, duplicates).
fn duplicate_birth(f: &BirthForm, ctx: &Context<'_>) -> Option<Violation> {
    let mother = ctx.persons.get(&f.mother.psn?)?;
    mother.children.iter().find_map(|link| {
        let child = ctx.persons.get(&link.child)?;
        let same = child.birth_date == f.birth_date
            && near_same_name(&child.names.first.hy, &f.first_name)
            && near_same_name(&child.names.surname.hy, &f.surname);
        same.then(|| {
            Violation::new(
                Code::LikelyDuplicate,
                "",
                // The existing child's name is not repeated: it is not the submitter's to read.
                format!(
                    "the mother already has a child born on {} with a near-identical name; the register's \
                     manager reviews it",
                    child.birth_date
                ),
            )
        })
    })
}

/// The current (open) marriage of a person on a date.
fn married_on(p: &PersonState, d: NaiveDate) -> bool {
    p.marriages
        .iter()
        .any(|m| m.married_on <= d && m.ended_on.is_none_or(|e| e > d))
}

fn rules(
    sub: &Submission,
    c: &mut Check<'_>,
    subject: Option<&PersonState>,
    others: &HashMap<&'static str, &PersonState>,
    created: &mut Option<Psn>,
    entries: &mut Vec<NewEntry>,
) {
    let psn = sub.subject();
    // A1.38–48: an event abroad happened outside Armenia.
    let abroad = match sub {
        Submission::BirthAbroad(f) => Some(("birth_place.country", &f.birth_place)),
        Submission::DeathAbroad(f) => Some(("place.country", &f.place)),
        _ => None,
    };
    if let Some((field, place)) = abroad
        && place.country == "AM"
    {
        c.fail(
            Code::PlaceNotAbroad,
            field,
            "an event abroad cannot have happened in Armenia",
        );
    }
    match sub {
        Submission::Birth(f) | Submission::BirthAbroad(f) => {
            let names = match names(&f.first_name, f.patronymic.as_deref(), &f.surname, "") {
                Ok(n) => Some(n),
                Err(v) => {
                    c.out.push(v);
                    None
                }
            };
            let mother = c.other("mother", &f.mother);
            let father = f.father.as_ref().and_then(|w| c.other("father", w));
            if let Some(m) = others.get("mother") {
                if m.death.as_ref().is_some_and(|d| d.date < f.birth_date) {
                    c.fail(
                        Code::ParentDeadBeforeBirth,
                        "mother.psn",
                        "the mother died before the birth",
                    );
                }
                if m.birth_date >= f.birth_date {
                    c.fail(
                        Code::PeriodOrder,
                        "mother.psn",
                        "the mother was born after the child",
                    );
                }
            }
            if let Some(p) = others.get("father") {
                if p.death
                    .as_ref()
                    .is_some_and(|d| (f.birth_date - d.date).num_days() > POSTHUMOUS_BIRTH_DAYS)
                {
                    c.fail(
                        Code::ParentDeadBeforeBirth,
                        "father.psn",
                        format!("the father died more than {POSTHUMOUS_BIRTH_DAYS} days before the birth"),
                    );
                }
                if p.birth_date >= f.birth_date {
                    c.fail(
                        Code::PeriodOrder,
                        "father.psn",
                        "the father was born after the child",
                    );
                }
            }
            let Some(child) = c.ctx.new_psn else {
                c.fail(Code::Internal, "", "no PSN was reserved for the newborn");
                return;
            };
            let (Some(names), Some(mother)) = (names, mother) else {
                return;
            };
            *created = Some(child);
            for (r, role) in [
                (Some(&mother), ParentRole::Mother),
                (father.as_ref(), ParentRole::Father),
            ] {
                if let Some(p) = r.and_then(|r| r.psn()) {
                    entries.push(entry(
                        p,
                        Fact::ChildLinked {
                            child,
                            parentage: Parentage::Birth,
                            role,
                            date: f.birth_date,
                        },
                    ));
                }
            }
            entries.insert(
                0,
                entry(
                    child,
                    Fact::Birth {
                        names,
                        birth_date: f.birth_date,
                        birth_place: f.birth_place.clone(),
                        sex: f.sex,
                        mother: Some(mother),
                        father,
                    },
                ),
            );
        }
        Submission::Registration(f) => {
            let Some(p) = c.ctx.new_psn else {
                c.fail(Code::Internal, "", "no PSN was reserved for the person");
                return;
            };
            match names(&f.first_name, f.patronymic.as_deref(), &f.surname, "") {
                Ok(names) => {
                    *created = Some(p);
                    entries.push(entry(
                        p,
                        Fact::Registration {
                            names,
                            birth_date: f.birth_date,
                            birth_place: f.birth_place.clone(),
                            sex: f.sex,
                        },
                    ));
                }
                Err(v) => c.out.push(v),
            }
        }
        Submission::Death(_) | Submission::DeathAbroad(_) => {
            let abroad;
            let f = match sub {
                Submission::DeathAbroad(a) => {
                    abroad = DeathForm {
                        psn: a.psn,
                        date: a.date,
                        place: Some(a.place.clone()),
                        declared_by_court: None,
                    };
                    &abroad
                }
                Submission::Death(f) => f,
                _ => return,
            };
            let Some(s) = subject else { return };
            if let Some(d) = &s.death {
                c.fail(
                    Code::AlreadyDead,
                    "psn",
                    format!("death already recorded on {}", d.date),
                );
                return;
            }
            if f.date < s.birth_date {
                c.fail(
                    Code::DeathBeforeBirth,
                    "date",
                    format!("{} is before the birth ({})", f.date, s.birth_date),
                );
                return;
            }
            entries.push(entry(
                s.psn,
                Fact::Death {
                    date: f.date,
                    place: f.place.clone(),
                    declared_by_court: f.declared_by_court.unwrap_or(false),
                },
            ));
            // The surviving spouse of an open marriage is widowed on the same day.
            for m in s.marriages.iter().filter(|m| m.ended_on.is_none()) {
                if let PersonRef::Psn(spouse) = &m.spouse {
                    entries.push(entry(
                        *spouse,
                        Fact::Widowhood {
                            spouse: PersonRef::Psn(s.psn),
                            date: f.date,
                        },
                    ));
                }
            }
        }
        Submission::Marriage(f) => {
            let Some(s) = subject else { return };
            let Some(spouse) = c.other("spouse", &f.spouse) else {
                return;
            };
            if married_on(s, f.date) {
                c.fail(
                    Code::AlreadyMarried,
                    "psn",
                    "the person is married on that date",
                );
            }
            if age_on(s.birth_date, f.date) < MARRIAGE_AGE {
                c.fail(
                    Code::UnderMarriageAge,
                    "psn",
                    format!("under {MARRIAGE_AGE} on {}", f.date),
                );
            }
            if let Some(o) = others.get("spouse") {
                c.alive_at("spouse", o, f.date, "date");
                if married_on(o, f.date) {
                    c.fail(
                        Code::AlreadyMarried,
                        "spouse.psn",
                        "the spouse is married on that date",
                    );
                }
                if age_on(o.birth_date, f.date) < MARRIAGE_AGE {
                    c.fail(
                        Code::UnderMarriageAge,
                        "spouse.psn",
                        format!("under {MARRIAGE_AGE} on {}", f.date),
                    );
                }
            } else if let Some(b) = f.spouse.birth_date
                && age_on(b, f.date) < MARRIAGE_AGE
            {
                c.fail(
                    Code::UnderMarriageAge,
                    "spouse.birth_date",
                    format!("under {MARRIAGE_AGE} on {}", f.date),
                );
            }
            entries.push(entry(
                s.psn,
                Fact::Marriage {
                    spouse: spouse.clone(),
                    date: f.date,
                    act_number: f.act_number.clone(),
                },
            ));
            if let Some(o) = spouse.psn() {
                entries.push(entry(
                    o,
                    Fact::Marriage {
                        spouse: PersonRef::Psn(s.psn),
                        date: f.date,
                        act_number: f.act_number.clone(),
                    },
                ));
            }
        }
        Submission::Divorce(f) => {
            let Some(s) = subject else { return };
            let Some(spouse) = c.other("spouse", &f.spouse) else {
                return;
            };
            let open = s
                .marriages
                .iter()
                .find(|m| m.ended_on.is_none() && m.spouse == spouse);
            match open {
                None => c.fail(
                    Code::NotMarried,
                    "spouse",
                    "no current marriage between these persons",
                ),
                Some(m) if m.married_on > f.date => c.fail(
                    Code::PeriodOrder,
                    "date",
                    format!("the marriage began on {}", m.married_on),
                ),
                Some(_) => {}
            }
            entries.push(entry(
                s.psn,
                Fact::Divorce {
                    spouse: spouse.clone(),
                    date: f.date,
                    act_number: f.act_number.clone(),
                },
            ));
            if let Some(o) = spouse.psn() {
                entries.push(entry(
                    o,
                    Fact::Divorce {
                        spouse: PersonRef::Psn(s.psn),
                        date: f.date,
                        act_number: f.act_number.clone(),
                    },
                ));
            }
        }
        Submission::NameChange(f) => {
            let Some(p) = psn else { return };
            match names(&f.first_name, f.patronymic.as_deref(), &f.surname, "") {
                Ok(names) => entries.push(entry(
                    p,
                    Fact::NameChange {
                        names,
                        date: f.date,
                    },
                )),
                Err(v) => c.out.push(v),
            }
        }
        Submission::Paternity(f) => {
            let Some(s) = subject else { return };
            let Some(father) = c.other("father", &f.father) else {
                return;
            };
            if let Some(o) = others.get("father") {
                if o.birth_date >= s.birth_date {
                    c.fail(
                        Code::PeriodOrder,
                        "father.psn",
                        "the father was born after the child",
                    );
                }
                if o.death
                    .as_ref()
                    .is_some_and(|d| (s.birth_date - d.date).num_days() > POSTHUMOUS_BIRTH_DAYS)
                {
                    c.fail(
                        Code::ParentDeadBeforeBirth,
                        "father.psn",
                        "the father died long before the birth",
                    );
                }
            }
            let after = names_after(
                &s.names,
                f.first_name.as_deref(),
                f.patronymic.as_deref(),
                f.surname.as_deref(),
            );
            let names_after = match after {
                Ok(n) => n,
                Err(v) => {
                    c.out.push(v);
                    return;
                }
            };
            let mother = s
                .parents
                .iter()
                .find(|l| l.role == ParentRole::Mother)
                .map(|l| l.parent.clone());
            entries.push(entry(
                s.psn,
                Fact::PaternityRecognition {
                    father: father.clone(),
                    mother,
                    names_after,
                    date: f.date,
                },
            ));
            if let Some(o) = father.psn() {
                entries.push(entry(
                    o,
                    Fact::ChildLinked {
                        child: s.psn,
                        parentage: Parentage::Recognition,
                        role: ParentRole::Father,
                        date: f.date,
                    },
                ));
            }
        }
        Submission::Adoption(f) => {
            let Some(s) = subject else { return };
            let refs: Vec<(ParentRole, PersonRef)> = [
                (
                    ParentRole::Mother,
                    "adoptive_mother",
                    f.adoptive_mother.as_ref(),
                ),
                (
                    ParentRole::Father,
                    "adoptive_father",
                    f.adoptive_father.as_ref(),
                ),
            ]
            .into_iter()
            .filter_map(|(role, field, w)| Some((role, c.other(field, w?)?)))
            .collect();
            if refs.is_empty() && f.adoptive_mother.is_none() && f.adoptive_father.is_none() {
                c.fail(
                    Code::MissingField,
                    "adoptive_mother",
                    "an adoption names at least one adoptive parent",
                );
                return;
            }
            for field in ["adoptive_mother", "adoptive_father"] {
                if let Some(o) = others.get(field) {
                    c.alive_at(field, o, f.date, "date");
                    if o.birth_date >= s.birth_date {
                        c.fail(
                            Code::PeriodOrder,
                            format!("{field}.psn"),
                            "the adoptive parent was born after the child",
                        );
                    }
                }
            }
            let names_after = match names_after(
                &s.names,
                f.first_name.as_deref(),
                f.patronymic.as_deref(),
                f.surname.as_deref(),
            ) {
                Ok(n) => n,
                Err(v) => {
                    c.out.push(v);
                    return;
                }
            };
            entries.push(entry(
                s.psn,
                Fact::Adoption {
                    parents: refs.iter().map(|(_, r)| r.clone()).collect(),
                    names_after,
                    date: f.date,
                },
            ));
            for (role, r) in &refs {
                if let Some(p) = r.psn() {
                    entries.push(entry(
                        p,
                        Fact::ChildLinked {
                            child: s.psn,
                            parentage: Parentage::Adoption,
                            role: *role,
                            date: f.date,
                        },
                    ));
                }
            }
        }
        Submission::GuardianshipStart(f) => {
            let Some(s) = subject else { return };
            let Some(guardian) = c.other("guardian", &f.guardian) else {
                return;
            };
            if f.ground == GuardianshipGround::Age && age_on(s.birth_date, f.date) >= MAJORITY_AGE {
                c.fail(
                    Code::GuardianshipOfAdult,
                    "ground",
                    format!("the ward is {} on {}", age_on(s.birth_date, f.date), f.date),
                );
            }
            if let Some(o) = others.get("guardian") {
                c.alive_at("guardian", o, f.date, "date");
            }
            entries.push(entry(
                s.psn,
                Fact::GuardianshipStarted {
                    guardian: guardian.clone(),
                    guardianship: f.guardianship,
                    ground: f.ground,
                    date: f.date,
                },
            ));
            if let Some(o) = guardian.psn() {
                entries.push(entry(
                    o,
                    Fact::WardAssigned {
                        ward: s.psn,
                        guardianship: f.guardianship,
                        date: f.date,
                    },
                ));
            }
        }
        Submission::GuardianshipEnd(f) => {
            let Some(s) = subject else { return };
            let Some(guardian) = c.other("guardian", &f.guardian) else {
                return;
            };
            let open = s
                .guardianships
                .iter()
                .find(|g| g.end.is_none() && g.guardian == guardian);
            match open {
                None => c.fail(
                    Code::NoSuchGuardianship,
                    "guardian",
                    "no current guardianship by this guardian",
                ),
                Some(g) if g.start > f.date => c.fail(
                    Code::PeriodOrder,
                    "date",
                    format!("the guardianship began on {}", g.start),
                ),
                Some(_) => {}
            }
            entries.push(entry(
                s.psn,
                Fact::GuardianshipEnded {
                    guardian: guardian.clone(),
                    date: f.date,
                },
            ));
            if let Some(o) = guardian.psn() {
                entries.push(entry(
                    o,
                    Fact::WardReleased {
                        ward: s.psn,
                        date: f.date,
                    },
                ));
            }
        }
        Submission::ConsularRegistration(f) => {
            let Some(p) = psn else { return };
            c.ordered(("since", f.since), ("until", f.until));
            entries.push(entry(
                p,
                Fact::ConsularRegistration {
                    mission: f.mission.clone(),
                    since: f.since,
                    until: f.until,
                },
            ));
        }
        Submission::AddressAbroad(f) => {
            let Some(p) = psn else { return };
            if f.address.country == "AM" {
                c.fail(
                    Code::AddressNotAbroad,
                    "address.country",
                    "an address abroad cannot be in Armenia",
                );
            }
            c.ordered(("valid_from", f.valid_from), ("valid_to", f.valid_to));
            entries.push(entry(
                p,
                Fact::MainAddress {
                    address: f.address.clone(),
                    valid_from: f.valid_from,
                    valid_to: f.valid_to,
                },
            ));
        }
        Submission::MainAddress(f) | Submission::AdditionalAddress(f) => {
            let Some(p) = psn else { return };
            c.ordered(("valid_from", f.valid_from), ("valid_to", f.valid_to));
            let (address, valid_from, valid_to) = (f.address.clone(), f.valid_from, f.valid_to);
            entries.push(entry(
                p,
                if matches!(sub, Submission::MainAddress(_)) {
                    Fact::MainAddress {
                        address,
                        valid_from,
                        valid_to,
                    }
                } else {
                    Fact::AdditionalAddress {
                        address,
                        valid_from,
                        valid_to,
                    }
                },
            ));
        }
        Submission::LegalIncapacity(f) => {
            let Some(p) = psn else { return };
            entries.push(entry(
                p,
                Fact::LegalIncapacity {
                    judgment_date: f.judgment_date,
                    court: f.court.clone(),
                    case_number: f.case_number.clone(),
                },
            ));
        }
        Submission::LegalCapacityRestored(f) => {
            let Some(p) = psn else { return };
            entries.push(entry(p, Fact::LegalCapacityRestored { date: f.date }));
        }
        Submission::Conviction(f) => {
            let Some(p) = psn else { return };
            entries.push(entry(
                p,
                Fact::Conviction {
                    case_number: f.case_number.clone(),
                    verdict_effective: f.verdict_effective,
                    term_months: f.term_months,
                    court: f.court.clone(),
                },
            ));
        }
        Submission::Parole(f) | Submission::SentenceCompleted(f) => {
            let Some(s) = subject else { return };
            match s
                .convictions
                .iter()
                .find(|k| k.case_number == f.case_number)
            {
                None => c.fail(
                    Code::NoSuchConviction,
                    "case_number",
                    format!("no verdict in case {}", f.case_number),
                ),
                Some(k) if k.verdict_effective > f.date => c.fail(
                    Code::PeriodOrder,
                    "date",
                    format!("the verdict took effect on {}", k.verdict_effective),
                ),
                Some(_) => {}
            }
            let (case_number, date) = (f.case_number.clone(), f.date);
            entries.push(entry(
                s.psn,
                if matches!(sub, Submission::Parole(_)) {
                    Fact::Parole { case_number, date }
                } else {
                    Fact::SentenceCompleted { case_number, date }
                },
            ));
        }
        Submission::CitizenshipAcquired(f) | Submission::CitizenshipTerminated(f) => {
            let Some(p) = psn else { return };
            let (country, ground, date) = (f.country.clone(), f.ground.clone(), f.date);
            entries.push(entry(
                p,
                if matches!(sub, Submission::CitizenshipAcquired(_)) {
                    Fact::CitizenshipAcquired {
                        country,
                        ground,
                        date,
                    }
                } else {
                    Fact::CitizenshipTerminated {
                        country,
                        ground,
                        date,
                    }
                },
            ));
        }
        Submission::Nationality(f) => {
            let Some(p) = psn else { return };
            entries.push(entry(
                p,
                Fact::Nationality {
                    code: f.nationality.clone(),
                    date: f.date,
                },
            ));
        }
        Submission::IdentityDocument(f) => {
            let Some(p) = psn else { return };
            if let Some(i) = f.issued_on {
                c.ordered(("issued_on", i), ("valid_until", f.valid_until));
            }
            entries.push(entry(
                p,
                Fact::IdentityDocumentIssued {
                    document: IdentityDocument {
                        doc_type: f.document_type.clone(),
                        number: f.document_number.clone(),
                        issuing_country: f.document_country.clone(),
                        issued_on: f.issued_on,
                        valid_until: f.valid_until,
                    },
                },
            ));
        }
        Submission::ResidenceDocument(f) => {
            let Some(p) = psn else { return };
            c.ordered(("issued_on", f.issued_on), ("valid_until", f.valid_until));
            entries.push(entry(
                p,
                Fact::ResidenceDocumentIssued {
                    document: ResidenceDocument {
                        doc_type: f.document_type.clone(),
                        number: f.document_number.clone(),
                        issued_on: f.issued_on,
                        valid_until: f.valid_until,
                    },
                },
            ));
        }
    }
}

#[cfg(test)]
mod tests;
