//! The facts the register records about persons (A1.18–A1.28, A1.39–A1.45) and the value types they use.
//!
//! A [`Fact`] is the payload of one entry about one subject. Facts that link two persons (a birth, a
//! marriage, a guardianship) are recorded on each person's own log as separate entries written in one
//! transaction, so that every person's history is a self-contained fold of their own entries.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::names::PersonNames;
use crate::psn::Psn;

/// Sex as the register records it (A1.36.3): only `F` or `M`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Sex {
    F,
    M,
}

impl Sex {
    pub fn parse(s: &str) -> Result<Sex, crate::DomainError> {
        match s {
            "F" => Ok(Sex::F),
            "M" => Ok(Sex::M),
            _ => Err(crate::DomainError::new(
                crate::Code::SexInvalid,
                "sex must be F or M",
            )),
        }
    }
}

/// A place of birth or death: a country (ISO 3166-1 alpha-2) and, in Armenia, the marz, community and
/// settlement codes of the classifiers; abroad, a free-text locality.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Place {
    pub country: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marz: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub community: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settlement: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
}

/// A postal address in Armenia or abroad (A1.21).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Address {
    pub country: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marz: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub community: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settlement: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub building: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apartment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postcode: Option<String>,
    /// Free-text lines for addresses abroad.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
}

/// An identity document (passport, ID card, foreign passport, …); `doc_type` is a classifier code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityDocument {
    pub doc_type: String,
    pub number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuing_country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<NaiveDate>,
}

/// A person without a PSN, described by what their documents say (A1.24, A1.25, A1.39–40).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DescribedPerson {
    pub first_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patronymic: Option<String>,
    pub surname: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<NaiveDate>,
    pub identity_document: IdentityDocument,
    #[serde(default)]
    pub citizenships: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nationality: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub residence: Option<String>,
    /// The explicit "has no PSN" mark of A1.40.
    pub no_psn: bool,
}

/// Another person as a fact refers to them: by PSN, or described when they have none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonRef {
    Psn(Psn),
    Described(Box<DescribedPerson>),
}

impl PersonRef {
    pub fn psn(&self) -> Option<Psn> {
        match self {
            PersonRef::Psn(p) => Some(*p),
            PersonRef::Described(_) => None,
        }
    }
}

/// How a parent-child link came to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Parentage {
    Birth,
    Recognition,
    Adoption,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParentRole {
    Mother,
    Father,
    Parent,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GuardianshipKind {
    Guardianship,
    Curatorship,
}

/// Ground of guardianship (A1.23): the ward's age, or their legal capacity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GuardianshipGround {
    Age,
    LegalCapacity,
}

/// A residence document of A1.20; `doc_type` is one of the nine classifier codes `RD1`…`RD9`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResidenceDocument {
    pub doc_type: String,
    pub number: String,
    pub issued_on: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<NaiveDate>,
}

/// One fact about the subject of an entry. The tag `kind` names the entry kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fact {
    /// A birth entered by a medical organization (A1.39); creates the person and their PSN (A1.42).
    Birth {
        names: PersonNames,
        birth_date: NaiveDate,
        birth_place: Place,
        sex: Sex,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mother: Option<PersonRef>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        father: Option<PersonRef>,
    },
    /// First registration of a person born before the register or elsewhere (immigrants, initial load).
    Registration {
        names: PersonNames,
        birth_date: NaiveDate,
        birth_place: Place,
        sex: Sex,
    },
    IdentityDocumentIssued {
        document: IdentityDocument,
    },
    Death {
        date: NaiveDate,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        place: Option<Place>,
        #[serde(default)]
        declared_by_court: bool,
    },
    /// A1.26.
    NameChange {
        names: PersonNames,
        date: NaiveDate,
    },
    /// A1.18: acquisition of a citizenship; for Armenian citizenship with its ground.
    CitizenshipAcquired {
        country: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ground: Option<String>,
        date: NaiveDate,
    },
    CitizenshipTerminated {
        country: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ground: Option<String>,
        date: NaiveDate,
    },
    Statelessness {
        since: NaiveDate,
    },
    /// A1.19.
    Nationality {
        code: String,
        date: NaiveDate,
    },
    /// A1.20.
    ResidenceDocumentIssued {
        document: ResidenceDocument,
    },
    /// A1.21.1.
    MainAddress {
        address: Address,
        valid_from: NaiveDate,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        valid_to: Option<NaiveDate>,
    },
    /// A1.21.2.
    AdditionalAddress {
        address: Address,
        valid_from: NaiveDate,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        valid_to: Option<NaiveDate>,
    },
    /// A1.44: consular registration of a citizen living abroad more than 183 days.
    ConsularRegistration {
        mission: String,
        since: NaiveDate,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until: Option<NaiveDate>,
    },
    /// A1.22.
    Marriage {
        spouse: PersonRef,
        date: NaiveDate,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        act_number: Option<String>,
    },
    Divorce {
        spouse: PersonRef,
        date: NaiveDate,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        act_number: Option<String>,
    },
    /// End of marriage by the spouse's death or a court declaration of death.
    Widowhood {
        spouse: PersonRef,
        date: NaiveDate,
    },
    /// Recorded on a parent's log when a child is linked to them (birth, recognition, adoption).
    ChildLinked {
        child: Psn,
        parentage: Parentage,
        role: ParentRole,
        date: NaiveDate,
    },
    /// A1.24, on the child's log.
    PaternityRecognition {
        father: PersonRef,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mother: Option<PersonRef>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        names_after: Option<PersonNames>,
        date: NaiveDate,
    },
    /// A1.25, on the child's log.
    Adoption {
        parents: Vec<PersonRef>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        names_after: Option<PersonNames>,
        date: NaiveDate,
    },
    /// A1.23, on the ward's log.
    GuardianshipStarted {
        guardian: PersonRef,
        guardianship: GuardianshipKind,
        ground: GuardianshipGround,
        date: NaiveDate,
    },
    GuardianshipEnded {
        guardian: PersonRef,
        date: NaiveDate,
    },
    /// A1.23, on the guardian's log.
    WardAssigned {
        ward: Psn,
        guardianship: GuardianshipKind,
        date: NaiveDate,
    },
    WardReleased {
        ward: Psn,
        date: NaiveDate,
    },
    /// A1.45: declared legally incapable by a final judgment.
    LegalIncapacity {
        judgment_date: NaiveDate,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        court: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        case_number: Option<String>,
    },
    LegalCapacityRestored {
        date: NaiveDate,
    },
    /// A1.28: the verdict took effect; `term_months` is the sentence length.
    Conviction {
        case_number: String,
        verdict_effective: NaiveDate,
        term_months: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        court: Option<String>,
    },
    Parole {
        case_number: String,
        date: NaiveDate,
    },
    SentenceCompleted {
        case_number: String,
        date: NaiveDate,
    },
    /// A manual rejection of an accepted entry by the register's manager (A1.50.2): the entry stays in the log
    /// but no longer counts.
    Retraction {
        entry_id: i64,
        reason_code: String,
    },
}

impl Fact {
    /// The entry kind, as stored and as named in the API.
    pub fn kind(&self) -> &'static str {
        match self {
            Fact::Birth { .. } => "birth",
            Fact::Registration { .. } => "registration",
            Fact::IdentityDocumentIssued { .. } => "identity_document_issued",
            Fact::Death { .. } => "death",
            Fact::NameChange { .. } => "name_change",
            Fact::CitizenshipAcquired { .. } => "citizenship_acquired",
            Fact::CitizenshipTerminated { .. } => "citizenship_terminated",
            Fact::Statelessness { .. } => "statelessness",
            Fact::Nationality { .. } => "nationality",
            Fact::ResidenceDocumentIssued { .. } => "residence_document_issued",
            Fact::MainAddress { .. } => "main_address",
            Fact::AdditionalAddress { .. } => "additional_address",
            Fact::ConsularRegistration { .. } => "consular_registration",
            Fact::Marriage { .. } => "marriage",
            Fact::Divorce { .. } => "divorce",
            Fact::Widowhood { .. } => "widowhood",
            Fact::ChildLinked { .. } => "child_linked",
            Fact::PaternityRecognition { .. } => "paternity_recognition",
            Fact::Adoption { .. } => "adoption",
            Fact::GuardianshipStarted { .. } => "guardianship_started",
            Fact::GuardianshipEnded { .. } => "guardianship_ended",
            Fact::WardAssigned { .. } => "ward_assigned",
            Fact::WardReleased { .. } => "ward_released",
            Fact::LegalIncapacity { .. } => "legal_incapacity",
            Fact::LegalCapacityRestored { .. } => "legal_capacity_restored",
            Fact::Conviction { .. } => "conviction",
            Fact::Parole { .. } => "parole",
            Fact::SentenceCompleted { .. } => "sentence_completed",
            Fact::Retraction { .. } => "retraction",
        }
    }

    /// The valid-time period of the fact: from the date the event took effect, to its end if it has one.
    /// `None` start means "no valid time of its own" (a retraction).
    pub fn valid_period(&self) -> (Option<NaiveDate>, Option<NaiveDate>) {
        match self {
            Fact::Birth { birth_date, .. } | Fact::Registration { birth_date, .. } => {
                (Some(*birth_date), None)
            }
            Fact::IdentityDocumentIssued { document } => (document.issued_on, document.valid_until),
            Fact::ResidenceDocumentIssued { document } => {
                (Some(document.issued_on), document.valid_until)
            }
            Fact::Death { date, .. }
            | Fact::NameChange { date, .. }
            | Fact::CitizenshipAcquired { date, .. }
            | Fact::CitizenshipTerminated { date, .. }
            | Fact::Nationality { date, .. }
            | Fact::Marriage { date, .. }
            | Fact::Divorce { date, .. }
            | Fact::Widowhood { date, .. }
            | Fact::ChildLinked { date, .. }
            | Fact::PaternityRecognition { date, .. }
            | Fact::Adoption { date, .. }
            | Fact::GuardianshipStarted { date, .. }
            | Fact::GuardianshipEnded { date, .. }
            | Fact::WardAssigned { date, .. }
            | Fact::WardReleased { date, .. }
            | Fact::LegalCapacityRestored { date }
            | Fact::Parole { date, .. }
            | Fact::SentenceCompleted { date, .. } => (Some(*date), None),
            Fact::Statelessness { since } => (Some(*since), None),
            Fact::MainAddress {
                valid_from,
                valid_to,
                ..
            }
            | Fact::AdditionalAddress {
                valid_from,
                valid_to,
                ..
            } => (Some(*valid_from), *valid_to),
            Fact::ConsularRegistration { since, until, .. } => (Some(*since), *until),
            Fact::LegalIncapacity { judgment_date, .. } => (Some(*judgment_date), None),
            Fact::Conviction {
                verdict_effective, ..
            } => (Some(*verdict_effective), None),
            Fact::Retraction { .. } => (None, None),
        }
    }

    /// Whether this fact creates the person (the first entry of a log).
    pub fn creates_person(&self) -> bool {
        matches!(self, Fact::Birth { .. } | Fact::Registration { .. })
    }
}
