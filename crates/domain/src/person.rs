//! The person as the register currently knows them: a projection (fold) of their own entries.
//!
//! The same fold answers "as of" questions (A2.1): [`AsOf::valid_on`] keeps only facts that had taken effect by
//! that date, [`AsOf::known_at`] keeps only entries the register had recorded by that instant (and ignores
//! corrections made later). Entries are applied in valid-time order (event date, then recording order), so a
//! late-recorded earlier event lands where it belongs in the person's life.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::entry::Entry;
use crate::model::*;
use crate::names::PersonNames;
use crate::psn::Psn;

/// Where a fact in the projection came from: the entry and the provider body. The entry's channel, submitting
/// user and recording time are in the history (`/persons/{psn}/history`); the projection keeps only the link,
/// which keeps the stored document small.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    pub entry_id: i64,
    pub provider: String,
}

impl Source {
    fn of(e: &Entry) -> Source {
        Source {
            entry_id: e.id,
            provider: e.provider.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameRecord {
    pub names: PersonNames,
    pub since: NaiveDate,
    pub source: Source,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeathRecord {
    pub date: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<Place>,
    pub declared_by_court: bool,
    pub source: Source,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRecord {
    pub document: IdentityDocument,
    pub source: Source,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CitizenshipRecord {
    pub country: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ground: Option<String>,
    pub acquired_on: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminated_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_ground: Option<String>,
    pub source: Source,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResidenceRecord {
    pub document: ResidenceDocument,
    pub source: Source,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressRecord {
    pub address: Address,
    pub valid_from: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<NaiveDate>,
    pub source: Source,
}

impl AddressRecord {
    /// Valid on `d`: started on or before it, and not ended before it (an end date is inclusive).
    pub fn valid_on(&self, d: NaiveDate) -> bool {
        self.valid_from <= d && self.valid_to.is_none_or(|t| d <= t)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsularRecord {
    pub mission: String,
    pub since: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<NaiveDate>,
    pub source: Source,
}

/// A1.22.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaritalStatus {
    Single,
    Married,
    Divorced,
    Widowed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarriageEnd {
    Divorce,
    Widowhood,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarriageRecord {
    pub spouse: PersonRef,
    pub married_on: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_by: Option<MarriageEnd>,
    pub source: Source,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParentLink {
    pub parent: PersonRef,
    pub role: ParentRole,
    pub parentage: Parentage,
    pub since: NaiveDate,
    pub source: Source,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildLink {
    pub child: Psn,
    pub role: ParentRole,
    pub parentage: Parentage,
    pub since: NaiveDate,
    pub source: Source,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardianshipRecord {
    pub guardian: PersonRef,
    pub guardianship: GuardianshipKind,
    pub ground: GuardianshipGround,
    pub start: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<NaiveDate>,
    pub source: Source,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WardRecord {
    pub ward: Psn,
    pub guardianship: GuardianshipKind,
    pub start: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<NaiveDate>,
    pub source: Source,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaternityRecord {
    pub father: PersonRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mother: Option<PersonRef>,
    pub date: NaiveDate,
    pub source: Source,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdoptionRecord {
    pub parents: Vec<PersonRef>,
    pub date: NaiveDate,
    pub source: Source,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncapacityRecord {
    pub judgment_date: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub court: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored_on: Option<NaiveDate>,
    pub source: Source,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvictionRecord {
    pub case_number: String,
    pub verdict_effective: NaiveDate,
    pub term_months: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub court: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parole_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_on: Option<NaiveDate>,
    pub source: Source,
}

/// Which address receives official notices, and why (A1.21.2.b).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeAddress {
    pub address: Address,
    pub kind: NoticeAddressKind,
    pub valid_from: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<NaiveDate>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeAddressKind {
    Additional,
    Main,
}

/// Everything the register holds about one person, grouped as the regulation groups it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonState {
    pub psn: Psn,
    pub names: PersonNames,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub birth_place: Place,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub death: Option<DeathRecord>,
    /// Names over time, the first the names at birth or registration (A1.26).
    pub name_history: Vec<NameRecord>,
    #[serde(default)]
    pub documents: Vec<DocumentRecord>,
    #[serde(default)]
    pub citizenships: Vec<CitizenshipRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stateless_since: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nationality: Option<String>,
    #[serde(default)]
    pub residence_documents: Vec<ResidenceRecord>,
    #[serde(default)]
    pub main_addresses: Vec<AddressRecord>,
    #[serde(default)]
    pub additional_addresses: Vec<AddressRecord>,
    #[serde(default)]
    pub consular_registrations: Vec<ConsularRecord>,
    pub marital_status: MaritalStatus,
    #[serde(default)]
    pub marriages: Vec<MarriageRecord>,
    #[serde(default)]
    pub parents: Vec<ParentLink>,
    #[serde(default)]
    pub children: Vec<ChildLink>,
    #[serde(default)]
    pub guardianships: Vec<GuardianshipRecord>,
    #[serde(default)]
    pub wards: Vec<WardRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paternity: Option<PaternityRecord>,
    #[serde(default)]
    pub adoptions: Vec<AdoptionRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_incapacity: Option<IncapacityRecord>,
    #[serde(default)]
    pub convictions: Vec<ConvictionRecord>,
    /// The newest entry folded in, and when it was recorded.
    pub last_entry_id: i64,
    pub updated_at: DateTime<Utc>,
}

/// Which view of a person to fold: valid on a date, as known at an instant. `AsOf::default()` is "now, as
/// known now".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AsOf {
    pub valid_on: Option<NaiveDate>,
    pub known_at: Option<DateTime<Utc>>,
}

/// Why a fold produced no person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FoldError {
    /// No birth or registration entry is visible in this view (e.g. known_at before the person was entered).
    NotYetKnown,
}

impl PersonState {
    /// Fold a person's entries into their state, in the given view. Entries may come in any order.
    pub fn fold(entries: &[Entry], as_of: AsOf) -> Result<PersonState, FoldError> {
        let visible: Vec<&Entry> = entries
            .iter()
            .filter(|e| as_of.known_at.is_none_or(|k| e.recorded_at <= k))
            .collect();
        let mut dead: HashSet<i64> = HashSet::new();
        for e in &visible {
            if let Some(s) = e.supersedes {
                dead.insert(s);
            }
            if let Fact::Retraction { entry_id, .. } = &e.fact {
                dead.insert(*entry_id);
            }
        }
        let mut live: Vec<&Entry> = visible
            .into_iter()
            .filter(|e| !dead.contains(&e.id) && !matches!(e.fact, Fact::Retraction { .. }))
            .filter(|e| match (as_of.valid_on, e.valid_from) {
                (Some(d), Some(from)) => from <= d,
                _ => true,
            })
            .collect();
        // Valid-time order; the creating entry always first.
        live.sort_by_key(|e| (!e.fact.creates_person(), e.valid_from, e.id));
        let mut iter = live.into_iter();
        let first = iter.next().ok_or(FoldError::NotYetKnown)?;
        let mut state = PersonState::create(first).ok_or(FoldError::NotYetKnown)?;
        for e in iter {
            state.apply(e);
        }
        Ok(state)
    }

    /// Start a state from a birth or registration entry.
    pub fn create(e: &Entry) -> Option<PersonState> {
        let (names, birth_date, birth_place, sex) = match &e.fact {
            Fact::Birth {
                names,
                birth_date,
                birth_place,
                sex,
                ..
            }
            | Fact::Registration {
                names,
                birth_date,
                birth_place,
                sex,
            } => (names, birth_date, birth_place, sex),
            _ => return None,
        };
        let mut s = PersonState {
            psn: e.subject,
            names: names.clone(),
            sex: *sex,
            birth_date: *birth_date,
            birth_place: birth_place.clone(),
            death: None,
            name_history: vec![NameRecord {
                names: names.clone(),
                since: *birth_date,
                source: Source::of(e),
            }],
            documents: vec![],
            citizenships: vec![],
            stateless_since: None,
            nationality: None,
            residence_documents: vec![],
            main_addresses: vec![],
            additional_addresses: vec![],
            consular_registrations: vec![],
            marital_status: MaritalStatus::Single,
            marriages: vec![],
            parents: vec![],
            children: vec![],
            guardianships: vec![],
            wards: vec![],
            paternity: None,
            adoptions: vec![],
            legal_incapacity: None,
            convictions: vec![],
            last_entry_id: e.id,
            updated_at: e.recorded_at,
        };
        if let Fact::Birth { mother, father, .. } = &e.fact {
            for (p, role) in [(mother, ParentRole::Mother), (father, ParentRole::Father)] {
                if let Some(p) = p {
                    s.parents.push(ParentLink {
                        parent: p.clone(),
                        role,
                        parentage: Parentage::Birth,
                        since: *birth_date,
                        source: Source::of(e),
                    });
                }
            }
        }
        Some(s)
    }

    fn rename(&mut self, names: &PersonNames, date: NaiveDate, e: &Entry) {
        self.names = names.clone();
        self.name_history.push(NameRecord {
            names: names.clone(),
            since: date,
            source: Source::of(e),
        });
    }

    fn end_marriage(&mut self, spouse: &PersonRef, date: NaiveDate, how: MarriageEnd) {
        let open = self
            .marriages
            .iter_mut()
            .rev()
            .find(|m| m.ended_on.is_none() && &m.spouse == spouse);
        if let Some(m) = open {
            m.ended_on = Some(date);
            m.ended_by = Some(how);
        }
        self.marital_status = match how {
            MarriageEnd::Divorce => MaritalStatus::Divorced,
            MarriageEnd::Widowhood => MaritalStatus::Widowed,
        };
    }

    /// Apply one entry. Contradiction checks belong to validation before an entry is accepted; the fold is
    /// total so that history is always readable.
    pub fn apply(&mut self, e: &Entry) {
        let src = || Source::of(e);
        match &e.fact {
            Fact::Birth { .. } | Fact::Registration { .. } | Fact::Retraction { .. } => {}
            Fact::IdentityDocumentIssued { document } => self.documents.push(DocumentRecord {
                document: document.clone(),
                source: src(),
            }),
            Fact::Death {
                date,
                place,
                declared_by_court,
            } => {
                self.death = Some(DeathRecord {
                    date: *date,
                    place: place.clone(),
                    declared_by_court: *declared_by_court,
                    source: src(),
                })
            }
            Fact::NameChange { names, date } => self.rename(names, *date, e),
            Fact::CitizenshipAcquired {
                country,
                ground,
                date,
            } => {
                self.stateless_since = None;
                self.citizenships.push(CitizenshipRecord {
                    country: country.clone(),
                    ground: ground.clone(),
                    acquired_on: *date,
                    terminated_on: None,
                    termination_ground: None,
                    source: src(),
                })
            }
            Fact::CitizenshipTerminated {
                country,
                ground,
                date,
            } => {
                if let Some(c) = self
                    .citizenships
                    .iter_mut()
                    .rev()
                    .find(|c| &c.country == country && c.terminated_on.is_none())
                {
                    c.terminated_on = Some(*date);
                    c.termination_ground = ground.clone();
                }
            }
            Fact::Statelessness { since } => self.stateless_since = Some(*since),
            Fact::Nationality { code, .. } => self.nationality = Some(code.clone()),
            Fact::ResidenceDocumentIssued { document } => {
                self.residence_documents.push(ResidenceRecord {
                    document: document.clone(),
                    source: src(),
                })
            }
            Fact::MainAddress {
                address,
                valid_from,
                valid_to,
            } => self.main_addresses.push(AddressRecord {
                address: address.clone(),
                valid_from: *valid_from,
                valid_to: *valid_to,
                source: src(),
            }),
            Fact::AdditionalAddress {
                address,
                valid_from,
                valid_to,
            } => self.additional_addresses.push(AddressRecord {
                address: address.clone(),
                valid_from: *valid_from,
                valid_to: *valid_to,
                source: src(),
            }),
            Fact::ConsularRegistration {
                mission,
                since,
                until,
            } => self.consular_registrations.push(ConsularRecord {
                mission: mission.clone(),
                since: *since,
                until: *until,
                source: src(),
            }),
            Fact::Marriage {
                spouse,
                date,
                act_number,
            } => {
                self.marital_status = MaritalStatus::Married;
                self.marriages.push(MarriageRecord {
                    spouse: spouse.clone(),
                    married_on: *date,
                    act_number: act_number.clone(),
                    ended_on: None,
                    ended_by: None,
                    source: src(),
                })
            }
            Fact::Divorce { spouse, date, .. } => {
                self.end_marriage(spouse, *date, MarriageEnd::Divorce)
            }
            Fact::Widowhood { spouse, date } => {
                self.end_marriage(spouse, *date, MarriageEnd::Widowhood)
            }
            Fact::ChildLinked {
                child,
                parentage,
                role,
                date,
            } => self.children.push(ChildLink {
                child: *child,
                role: *role,
                parentage: *parentage,
                since: *date,
                source: src(),
            }),
            Fact::PaternityRecognition {
                father,
                mother,
                names_after,
                date,
            } => {
                self.paternity = Some(PaternityRecord {
                    father: father.clone(),
                    mother: mother.clone(),
                    date: *date,
                    source: src(),
                });
                self.parents.retain(|p| p.role != ParentRole::Father);
                self.parents.push(ParentLink {
                    parent: father.clone(),
                    role: ParentRole::Father,
                    parentage: Parentage::Recognition,
                    since: *date,
                    source: src(),
                });
                if let Some(m) = mother
                    && !self.parents.iter().any(|p| p.role == ParentRole::Mother)
                {
                    self.parents.push(ParentLink {
                        parent: m.clone(),
                        role: ParentRole::Mother,
                        parentage: Parentage::Birth,
                        since: self.birth_date,
                        source: src(),
                    });
                }
                if let Some(n) = names_after {
                    self.rename(n, *date, e);
                }
            }
            Fact::Adoption {
                parents,
                names_after,
                date,
            } => {
                self.adoptions.push(AdoptionRecord {
                    parents: parents.clone(),
                    date: *date,
                    source: src(),
                });
                // Adoption replaces the legal parents.
                self.parents.clear();
                for p in parents {
                    self.parents.push(ParentLink {
                        parent: p.clone(),
                        role: ParentRole::Parent,
                        parentage: Parentage::Adoption,
                        since: *date,
                        source: src(),
                    });
                }
                if let Some(n) = names_after {
                    self.rename(n, *date, e);
                }
            }
            Fact::GuardianshipStarted {
                guardian,
                guardianship,
                ground,
                date,
            } => self.guardianships.push(GuardianshipRecord {
                guardian: guardian.clone(),
                guardianship: *guardianship,
                ground: *ground,
                start: *date,
                end: None,
                source: src(),
            }),
            Fact::GuardianshipEnded { guardian, date } => {
                if let Some(g) = self
                    .guardianships
                    .iter_mut()
                    .rev()
                    .find(|g| &g.guardian == guardian && g.end.is_none())
                {
                    g.end = Some(*date);
                }
            }
            Fact::WardAssigned {
                ward,
                guardianship,
                date,
            } => self.wards.push(WardRecord {
                ward: *ward,
                guardianship: *guardianship,
                start: *date,
                end: None,
                source: src(),
            }),
            Fact::WardReleased { ward, date } => {
                if let Some(w) = self
                    .wards
                    .iter_mut()
                    .rev()
                    .find(|w| &w.ward == ward && w.end.is_none())
                {
                    w.end = Some(*date);
                }
            }
            Fact::LegalIncapacity {
                judgment_date,
                court,
                case_number,
            } => {
                self.legal_incapacity = Some(IncapacityRecord {
                    judgment_date: *judgment_date,
                    court: court.clone(),
                    case_number: case_number.clone(),
                    restored_on: None,
                    source: src(),
                })
            }
            Fact::LegalCapacityRestored { date } => {
                if let Some(i) = self.legal_incapacity.as_mut() {
                    i.restored_on = Some(*date);
                }
            }
            Fact::Conviction {
                case_number,
                verdict_effective,
                term_months,
                court,
            } => self.convictions.push(ConvictionRecord {
                case_number: case_number.clone(),
                verdict_effective: *verdict_effective,
                term_months: *term_months,
                court: court.clone(),
                parole_on: None,
                completed_on: None,
                source: src(),
            }),
            Fact::Parole { case_number, date } => {
                if let Some(c) = self
                    .convictions
                    .iter_mut()
                    .rev()
                    .find(|c| &c.case_number == case_number)
                {
                    c.parole_on = Some(*date);
                }
            }
            Fact::SentenceCompleted { case_number, date } => {
                if let Some(c) = self
                    .convictions
                    .iter_mut()
                    .rev()
                    .find(|c| &c.case_number == case_number)
                {
                    c.completed_on = Some(*date);
                }
            }
        }
        if e.id > self.last_entry_id {
            self.last_entry_id = e.id;
        }
        if e.recorded_at > self.updated_at {
            self.updated_at = e.recorded_at;
        }
    }

    /// The main address in force on `d` (A1.21.1): the newest declared main address that had started by `d`.
    /// An end date does not remove it: the regulation says that without a new declaration the permanent
    /// address does not change, so an expired main address stays the main address until replaced.
    pub fn main_address_on(&self, d: NaiveDate) -> Option<&AddressRecord> {
        self.main_addresses
            .iter()
            .filter(|a| a.valid_from <= d)
            .max_by_key(|a| (a.valid_from, a.source.entry_id))
    }

    /// The additional address valid on `d`, if any (the newest declared one wins).
    pub fn additional_address_on(&self, d: NaiveDate) -> Option<&AddressRecord> {
        self.additional_addresses
            .iter()
            .filter(|a| a.valid_on(d))
            .max_by_key(|a| (a.valid_from, a.source.entry_id))
    }

    /// A1.21.2.b: the address that receives official notices on `d` — the additional address while it is
    /// valid, otherwise the main address.
    pub fn official_notice_address(&self, d: NaiveDate) -> Option<NoticeAddress> {
        if let Some(a) = self.additional_address_on(d) {
            return Some(NoticeAddress {
                address: a.address.clone(),
                kind: NoticeAddressKind::Additional,
                valid_from: a.valid_from,
                valid_to: a.valid_to,
            });
        }
        self.main_address_on(d).map(|a| NoticeAddress {
            address: a.address.clone(),
            kind: NoticeAddressKind::Main,
            valid_from: a.valid_from,
            valid_to: a.valid_to,
        })
    }

    /// Whether the person was alive on `d`.
    pub fn alive_on(&self, d: NaiveDate) -> bool {
        self.birth_date <= d && self.death.as_ref().is_none_or(|x| d < x.date)
    }

    /// Citizenships held on `d`.
    pub fn citizenships_on(&self, d: NaiveDate) -> impl Iterator<Item = &CitizenshipRecord> {
        self.citizenships
            .iter()
            .filter(move |c| c.acquired_on <= d && c.terminated_on.is_none_or(|t| d < t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::{Channel, Entry, NewEntry, Provenance};
    use crate::names::Name;
    use chrono::TimeZone;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn addr(street: &str) -> Address {
        Address {
            country: "AM".into(),
            street: Some(street.into()),
            ..Default::default()
        }
    }

    fn person(facts: Vec<Fact>) -> PersonState {
        let psn = Psn::from_body([3, 1, 4, 1, 5, 9, 2, 6, 5]);
        let prov = Provenance {
            provider: "MIGR-01".into(),
            user_uid: "u".into(),
            channel: Channel::Api,
            external: Default::default(),
        };
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let names = PersonNames {
            first: Name::armenian("Արամ").unwrap(),
            patronymic: None,
            surname: Name::armenian("Սարգսյան").unwrap(),
        };
        let mut all = vec![Fact::Registration {
            names,
            birth_date: d(1980, 1, 1),
            birth_place: Place::default(),
            sex: Sex::M,
        }];
        all.extend(facts);
        let entries: Vec<Entry> = all
            .into_iter()
            .enumerate()
            .map(|(i, f)| Entry::recorded(i as i64 + 1, at, NewEntry::new(psn, f), &prov))
            .collect();
        PersonState::fold(&entries, AsOf::default()).unwrap()
    }

    fn main(street: &str, from: NaiveDate, to: Option<NaiveDate>) -> Fact {
        Fact::MainAddress {
            address: addr(street),
            valid_from: from,
            valid_to: to,
        }
    }

    fn extra(street: &str, from: NaiveDate, to: Option<NaiveDate>) -> Fact {
        Fact::AdditionalAddress {
            address: addr(street),
            valid_from: from,
            valid_to: to,
        }
    }

    fn notice(p: &PersonState, on: NaiveDate) -> Option<(String, NoticeAddressKind)> {
        p.official_notice_address(on)
            .map(|n| (n.address.street.unwrap_or_default(), n.kind))
    }

    #[test]
    fn a1_21_2_b_additional_address_wins_while_valid_inclusive_edges() {
        let p = person(vec![
            main("Main", d(2000, 1, 1), None),
            extra("Extra", d(2024, 3, 1), Some(d(2024, 3, 31))),
        ]);
        assert_eq!(
            notice(&p, d(2024, 2, 29)),
            Some(("Main".into(), NoticeAddressKind::Main)),
            "day before start"
        );
        assert_eq!(
            notice(&p, d(2024, 3, 1)),
            Some(("Extra".into(), NoticeAddressKind::Additional)),
            "first day"
        );
        assert_eq!(
            notice(&p, d(2024, 3, 31)),
            Some(("Extra".into(), NoticeAddressKind::Additional)),
            "last day"
        );
        assert_eq!(
            notice(&p, d(2024, 4, 1)),
            Some(("Main".into(), NoticeAddressKind::Main)),
            "expired: main again"
        );
    }

    #[test]
    fn a1_21_2_b_indefinite_additional_address_and_no_address_at_all() {
        let p = person(vec![
            main("Main", d(2000, 1, 1), None),
            extra("Extra", d(2024, 3, 1), None),
        ]);
        assert_eq!(
            notice(&p, d(2090, 1, 1)),
            Some(("Extra".into(), NoticeAddressKind::Additional))
        );
        assert_eq!(notice(&p, d(1999, 12, 31)), None, "before any address");
        let bare = person(vec![]);
        assert_eq!(notice(&bare, d(2024, 1, 1)), None);
        let only_extra = person(vec![extra("Extra", d(2024, 3, 1), Some(d(2024, 3, 2)))]);
        assert_eq!(
            notice(&only_extra, d(2024, 3, 3)),
            None,
            "expired additional and no main address"
        );
    }

    #[test]
    fn a1_21_1_main_address_with_end_date_stays_until_replaced() {
        let p = person(vec![
            main("Old", d(2000, 1, 1), Some(d(2020, 12, 31))),
            main("New", d(2022, 1, 1), None),
        ]);
        assert_eq!(
            notice(&p, d(2021, 6, 1)),
            Some(("Old".into(), NoticeAddressKind::Main)),
            "not re-declared: unchanged"
        );
        assert_eq!(
            notice(&p, d(2022, 1, 1)),
            Some(("New".into(), NoticeAddressKind::Main))
        );
    }

    #[test]
    fn a1_21_2_newest_overlapping_additional_address_wins() {
        let p = person(vec![
            main("Main", d(2000, 1, 1), None),
            extra("A", d(2024, 1, 1), Some(d(2024, 12, 31))),
            extra("B", d(2024, 6, 1), Some(d(2024, 6, 30))),
        ]);
        assert_eq!(notice(&p, d(2024, 6, 15)).unwrap().0, "B");
        assert_eq!(notice(&p, d(2024, 7, 1)).unwrap().0, "A");
    }

    #[test]
    fn a1_22_marital_state_follows_valid_time_not_recording_order() {
        let spouse = PersonRef::Psn(Psn::from_body([2, 7, 1, 8, 2, 8, 1, 8, 3]));
        // Divorce recorded before the marriage it ends (a late registration): the fold orders by date.
        let p = person(vec![
            Fact::Divorce {
                spouse: spouse.clone(),
                date: d(2015, 1, 1),
                act_number: None,
            },
            Fact::Marriage {
                spouse: spouse.clone(),
                date: d(2010, 1, 1),
                act_number: None,
            },
        ]);
        assert_eq!(p.marital_status, MaritalStatus::Divorced);
        assert_eq!(p.marriages[0].ended_on, Some(d(2015, 1, 1)));
    }
}
