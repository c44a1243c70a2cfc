//! Turning a household plan into entries: PSNs, provenance, and the domain's facts.
//!
//! Order within a batch: every person's creating entry first (parents before children, so a birth's parent
//! PSNs are already created), then each person's other entries in date order. Entries on one date keep the
//! order they were planned in (a marriage before the name change it brings, a guardianship's end before the
//! curatorship that follows it).

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

use popreg_domain::entry::{Channel, ExternalIds, NewEntry, Provenance};
use popreg_domain::model::{
    Address, Fact, IdentityDocument, PersonRef, Place, ResidenceDocument, Sex,
};
use popreg_domain::names::PersonNames;
use popreg_domain::psn::Psn;

use crate::data::Tables;
use crate::geo::{Geo, Home};
use crate::plan::{BirthPlace, Ek, Names, Origin, Plan, Prov, Who};
use crate::rng::Rng;

/// Hash for PSN bodies, which are already uniformly random: one multiplication is enough.
#[derive(Default)]
struct BodyHasher(u64);

impl Hasher for BodyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// PSNs unique across the run: drawn from their own random stream, retried on collision.
pub(crate) struct PsnAllocator {
    rng: Rng,
    used: HashSet<u32, BuildHasherDefault<BodyHasher>>,
}

impl PsnAllocator {
    pub(crate) fn new(seed: u64, capacity: usize) -> PsnAllocator {
        PsnAllocator {
            rng: Rng::new(seed, 1),
            used: HashSet::with_capacity_and_hasher(capacity, Default::default()),
        }
    }

    pub(crate) fn next(&mut self) -> Psn {
        loop {
            let psn = Psn::allocate(&mut || self.rng.next_u64());
            let body = psn.digits()[..9]
                .iter()
                .fold(0u32, |n, &d| n * 10 + u32::from(d));
            if self.used.insert(body) {
                return psn;
            }
        }
    }
}

/// The providers and their users: medical organizations MED-0001..MED-0040 (three users each), the civil
/// registry, guardianship body, consular service, courts, penitentiary service and the authorized body.
pub(crate) struct Providers {
    med: Vec<Vec<Provenance>>,
    civil_registry: Vec<Provenance>,
    guardianship: Vec<Provenance>,
    consular: Vec<Provenance>,
    court: Vec<Provenance>,
    penitentiary: Vec<Provenance>,
    migration: Vec<Provenance>,
}

fn provenance(provider: &str, user_uid: String) -> Provenance {
    Provenance {
        provider: provider.to_string(),
        user_uid,
        channel: Channel::Import,
        external: ExternalIds::default(),
    }
}

fn users(provider: &str, n: usize) -> Vec<Provenance> {
    (1..=n)
        .map(|u| {
            provenance(
                provider,
                format!("uid-{}-{u:02}", provider.to_ascii_lowercase()),
            )
        })
        .collect()
}

impl Providers {
    pub(crate) fn new() -> Providers {
        Providers {
            med: (1..=40).map(|m| users(&format!("MED-{m:04}"), 3)).collect(),
            civil_registry: users("CIVREG-01", 8),
            guardianship: users("GUARD-01", 3),
            consular: users("MFA-CONS-01", 5),
            court: users("JUD-01", 4),
            penitentiary: users("PENIT-01", 3),
            migration: users("MIGR-01", 12),
        }
    }

    fn pick(&self, p: Prov, rng: &mut Rng) -> Provenance {
        let pool = match p {
            Prov::Med(m) => self
                .med
                .get(usize::from(m.max(1)) - 1)
                .unwrap_or(&self.migration),
            Prov::CivilRegistry => &self.civil_registry,
            Prov::Guardianship => &self.guardianship,
            Prov::Consular => &self.consular,
            Prov::Court => &self.court,
            Prov::Penitentiary => &self.penitentiary,
            Prov::Migration => &self.migration,
        };
        rng.pick(pool)
            .or_else(|| self.migration.first())
            .cloned()
            .unwrap_or_else(|| provenance("MIGR-01", String::new()))
    }
}

struct Emitter<'a> {
    t: &'static Tables,
    geo: &'a Geo,
    plan: &'a Plan,
    psns: Vec<Psn>,
}

impl Emitter<'_> {
    fn names(&self, n: Names, sex: Sex) -> PersonNames {
        let t = self.t;
        let s = &t.surnames[usize::from(n.surname)];
        PersonNames {
            first: t.first[usize::from(n.first)].name.clone(),
            patronymic: n
                .patronymic
                .map(|p| t.first[usize::from(p)].genitive.clone()),
            surname: if sex == Sex::F {
                s.female.clone()
            } else {
                s.male.clone()
            },
        }
    }

    fn who(&self, w: Who) -> PersonRef {
        match w {
            Who::P(p) => PersonRef::Psn(self.psns[usize::from(p)]),
            Who::D(d) => match self.plan.described.get(usize::from(d)) {
                Some(x) => PersonRef::Described(Box::new(x.clone())),
                None => PersonRef::Psn(self.psns[0]),
            },
        }
    }

    fn place(&self, b: BirthPlace) -> Place {
        match b {
            BirthPlace::Armenia(loc) => self.geo.place(loc),
            BirthPlace::Abroad { country, locality } => Place {
                country: country.to_string(),
                locality: Some(locality.to_string()),
                ..Place::default()
            },
        }
    }

    fn home(&self, h: u16) -> Address {
        match self.plan.homes.get(usize::from(h)) {
            Some(Home::Armenia(d)) => self.geo.address(d),
            Some(Home::Abroad(a)) => a.clone(),
            None => Address::default(),
        }
    }

    fn fact(&self, who: usize, date: chrono::NaiveDate, kind: Ek) -> Fact {
        let sex = self.plan.persons[who].sex;
        match kind {
            Ek::Nationality(code) => Fact::Nationality {
                code: code.into(),
                date,
            },
            Ek::Citizenship { country, ground } => Fact::CitizenshipAcquired {
                country: country.into(),
                ground: ground.map(Into::into),
                date,
            },
            Ek::CitizenshipEnd { country, ground } => Fact::CitizenshipTerminated {
                country: country.into(),
                ground: ground.map(Into::into),
                date,
            },
            Ek::Stateless => Fact::Statelessness { since: date },
            Ek::IdDoc {
                doc_type,
                number,
                country,
                until,
            } => Fact::IdentityDocumentIssued {
                document: IdentityDocument {
                    doc_type: doc_type.into(),
                    number,
                    issuing_country: country.map(Into::into),
                    issued_on: Some(date),
                    valid_until: until,
                },
            },
            Ek::ResDoc {
                doc_type,
                number,
                until,
            } => Fact::ResidenceDocumentIssued {
                document: ResidenceDocument {
                    doc_type: doc_type.into(),
                    number,
                    issued_on: date,
                    valid_until: until,
                },
            },
            Ek::Main { home, to } => Fact::MainAddress {
                address: self.home(home),
                valid_from: date,
                valid_to: to,
            },
            Ek::Additional { home, to } => Fact::AdditionalAddress {
                address: self.home(home),
                valid_from: date,
                valid_to: to,
            },
            Ek::Consular { mission } => Fact::ConsularRegistration {
                mission: mission.into(),
                since: date,
                until: None,
            },
            Ek::Marriage { spouse, act } => Fact::Marriage {
                spouse: self.who(spouse),
                date,
                act_number: Some(act),
            },
            Ek::Divorce { spouse, act } => Fact::Divorce {
                spouse: self.who(spouse),
                date,
                act_number: Some(act),
            },
            Ek::Widowhood { spouse } => Fact::Widowhood {
                spouse: self.who(spouse),
                date,
            },
            Ek::ChildLinked {
                child,
                parentage,
                role,
            } => Fact::ChildLinked {
                child: self.psns[usize::from(child)],
                parentage,
                role,
                date,
            },
            Ek::Paternity {
                father,
                mother,
                names_after,
            } => Fact::PaternityRecognition {
                father: self.who(Who::P(father)),
                mother: mother.map(|m| self.who(Who::P(m))),
                names_after: names_after.map(|n| self.names(n, sex)),
                date,
            },
            Ek::Adoption {
                parents,
                names_after,
            } => Fact::Adoption {
                parents: parents
                    .iter()
                    .flatten()
                    .map(|&p| self.who(Who::P(p)))
                    .collect(),
                names_after: names_after.map(|n| self.names(n, sex)),
                date,
            },
            Ek::NameChange(n) => Fact::NameChange {
                names: self.names(n, sex),
                date,
            },
            Ek::GuardStart {
                guardian,
                kind,
                ground,
            } => Fact::GuardianshipStarted {
                guardian: self.who(Who::P(guardian)),
                guardianship: kind,
                ground,
                date,
            },
            Ek::GuardEnd { guardian } => Fact::GuardianshipEnded {
                guardian: self.who(Who::P(guardian)),
                date,
            },
            Ek::WardAssigned { ward, kind } => Fact::WardAssigned {
                ward: self.psns[usize::from(ward)],
                guardianship: kind,
                date,
            },
            Ek::WardReleased { ward } => Fact::WardReleased {
                ward: self.psns[usize::from(ward)],
                date,
            },
            Ek::Incapacity { court, case } => Fact::LegalIncapacity {
                judgment_date: date,
                court: Some(court.into()),
                case_number: Some(case),
            },
            Ek::CapacityRestored => Fact::LegalCapacityRestored { date },
            Ek::Conviction {
                case,
                months,
                court,
            } => Fact::Conviction {
                case_number: case,
                verdict_effective: date,
                term_months: months,
                court: Some(court.into()),
            },
            Ek::Parole { case } => Fact::Parole {
                case_number: case,
                date,
            },
            Ek::SentenceCompleted { case } => Fact::SentenceCompleted {
                case_number: case,
                date,
            },
            Ek::Death { by_court, place } => Fact::Death {
                date,
                place: place.map(|p| self.place(p)),
                declared_by_court: by_court,
            },
        }
    }
}

/// Emit the plan as entries (appended to `out`), allocating the persons' PSNs. Drains the plan's events.
pub(crate) fn emit(
    plan: &mut Plan,
    t: &'static Tables,
    geo: &Geo,
    psns: &mut PsnAllocator,
    providers: &Providers,
    rng: &mut Rng,
    out: &mut Vec<(Provenance, NewEntry)>,
) {
    let mut events = std::mem::take(&mut plan.events);
    // Same-day events of a person keep their planned order.
    events.sort_unstable_by_key(|e| (e.who, e.date, e.seq));
    {
        let plan: &Plan = plan;
        let e = Emitter {
            t,
            geo,
            plan,
            psns: plan.persons.iter().map(|_| psns.next()).collect(),
        };
        out.reserve(plan.persons.len() + events.len());
        for (i, p) in plan.persons.iter().enumerate() {
            let names = e.names(p.names, p.sex);
            let birth_place = e.place(p.birth_place);
            let (fact, prov) = match p.origin {
                Origin::Birth {
                    mother,
                    father,
                    prov,
                } => (
                    Fact::Birth {
                        names,
                        birth_date: p.birth,
                        birth_place,
                        sex: p.sex,
                        mother: mother.map(|m| e.who(m)),
                        father: father.map(|f| e.who(f)),
                    },
                    prov,
                ),
                Origin::Registration => (
                    Fact::Registration {
                        names,
                        birth_date: p.birth,
                        birth_place,
                        sex: p.sex,
                    },
                    Prov::Migration,
                ),
            };
            out.push((providers.pick(prov, rng), NewEntry::new(e.psns[i], fact)));
        }
        for ev in events.drain(..) {
            let who = usize::from(ev.who);
            let fact = e.fact(who, ev.date, ev.kind);
            out.push((
                providers.pick(ev.prov, rng),
                NewEntry::new(e.psns[who], fact),
            ));
        }
    }
    plan.events = events;
}
