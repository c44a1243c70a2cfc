//! The plan of one household before it becomes entries: persons by index, their events, the dwellings they
//! live in. Names are ids into the data tables and PSNs are assigned only when the plan is emitted, so
//! planning allocates little.

use chrono::NaiveDate;
use popreg_domain::model::{
    DescribedPerson, GuardianshipGround, GuardianshipKind, ParentRole, Parentage, Sex,
};

use crate::geo::{Home, Loc};

/// A person's index in the household plan.
pub(crate) type Pid = u16;

/// First name, patronymic and surname as ids into the data tables. The patronymic is the father's first-name
/// id; its genitive form is what is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Names {
    pub(crate) first: u16,
    pub(crate) patronymic: Option<u16>,
    pub(crate) surname: u16,
}

/// Another person as a planned fact refers to them: a planned person, or a described person without a PSN
/// (an index into [`Plan::described`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Who {
    P(Pid),
    D(u16),
}

/// Who submits an entry; see `emit.rs` for the provider ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Prov {
    /// A medical organization, 1..=40.
    Med(u8),
    CivilRegistry,
    Guardianship,
    Consular,
    Court,
    Penitentiary,
    Migration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BirthPlace {
    Armenia(Loc),
    Abroad {
        country: &'static str,
        locality: &'static str,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    Birth {
        mother: Option<Who>,
        father: Option<Who>,
        prov: Prov,
    },
    Registration,
}

/// What the register knows a person as, for the passes that add documents and citizenship.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// A citizen of Armenia living in Armenia.
    Citizen,
    /// A citizen living abroad (consular registration).
    Abroad,
    /// A foreign citizen or stateless person living in Armenia: their documents are planned by the scenario.
    Foreigner,
}

#[derive(Clone, Debug)]
pub(crate) struct Person {
    pub(crate) sex: Sex,
    pub(crate) birth: NaiveDate,
    /// Names at birth or registration.
    pub(crate) names: Names,
    /// Names after the planned changes so far.
    pub(crate) current: Names,
    pub(crate) nationality: &'static str,
    /// Name group (index into the tables' groups).
    pub(crate) group: usize,
    pub(crate) origin: Origin,
    pub(crate) birth_place: BirthPlace,
    pub(crate) status: Status,
    pub(crate) death: Option<NaiveDate>,
    /// The spouse of the marriage in force, when that spouse is in the plan.
    pub(crate) spouse: Option<Pid>,
    pub(crate) married_ever: bool,
    /// Parents as planned (whether or not the creating entry links them).
    pub(crate) mother: Option<Pid>,
    pub(crate) father: Option<Pid>,
    /// The latest date of any planned event about this person: a death may only come after it.
    pub(crate) last_event: NaiveDate,
    /// Current dwelling (index into [`Plan::homes`]).
    pub(crate) home: Option<u16>,
    /// A guardian, a ward or a person under a sentence in force: kept alive by the death pass.
    pub(crate) keep_alive: bool,
    /// Whether any planned event changes the person's names (see [`Plan::names_on`]).
    pub(crate) renamed: bool,
}

/// The kinds of planned events; each becomes one [`popreg_domain::model::Fact`].
#[derive(Clone, Debug)]
pub(crate) enum Ek {
    Nationality(&'static str),
    Citizenship {
        country: &'static str,
        ground: Option<&'static str>,
    },
    CitizenshipEnd {
        country: &'static str,
        ground: Option<&'static str>,
    },
    Stateless,
    IdDoc {
        doc_type: &'static str,
        number: String,
        country: Option<&'static str>,
        until: Option<NaiveDate>,
    },
    ResDoc {
        doc_type: &'static str,
        number: String,
        until: Option<NaiveDate>,
    },
    Main {
        home: u16,
        to: Option<NaiveDate>,
    },
    Additional {
        home: u16,
        to: Option<NaiveDate>,
    },
    Consular {
        mission: &'static str,
    },
    Marriage {
        spouse: Who,
        act: String,
    },
    Divorce {
        spouse: Who,
        act: String,
    },
    Widowhood {
        spouse: Who,
    },
    ChildLinked {
        child: Pid,
        parentage: Parentage,
        role: ParentRole,
    },
    Paternity {
        father: Pid,
        mother: Option<Pid>,
        names_after: Option<Names>,
    },
    Adoption {
        parents: [Option<Pid>; 2],
        names_after: Option<Names>,
    },
    NameChange(Names),
    GuardStart {
        guardian: Pid,
        kind: GuardianshipKind,
        ground: GuardianshipGround,
    },
    GuardEnd {
        guardian: Pid,
    },
    WardAssigned {
        ward: Pid,
        kind: GuardianshipKind,
    },
    WardReleased {
        ward: Pid,
    },
    Incapacity {
        court: &'static str,
        case: String,
    },
    CapacityRestored,
    Conviction {
        case: String,
        months: u32,
        court: &'static str,
    },
    Parole {
        case: String,
    },
    SentenceCompleted {
        case: String,
    },
    Death {
        by_court: bool,
        place: Option<BirthPlace>,
    },
}

#[derive(Clone, Debug)]
pub(crate) struct Ev {
    pub(crate) who: Pid,
    pub(crate) date: NaiveDate,
    /// Planning order, which breaks ties between a person's events on one date.
    pub(crate) seq: u32,
    pub(crate) prov: Prov,
    pub(crate) kind: Ek,
}

/// A married couple as planned, for the scenarios that look for families (orphans' guardianship).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Couple {
    pub(crate) husband: Who,
    pub(crate) wife: Who,
    pub(crate) married: NaiveDate,
    /// Divorce, or death of a spouse who is not in the register.
    pub(crate) ended: Option<NaiveDate>,
    /// Whether `ended` is a divorce.
    pub(crate) divorced: bool,
    pub(crate) home: u16,
}

/// A household plan; reused between batches (cleared, not reallocated).
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub(crate) persons: Vec<Person>,
    pub(crate) events: Vec<Ev>,
    pub(crate) homes: Vec<Home>,
    /// Where each home is, for birth and death places.
    pub(crate) home_locs: Vec<BirthPlace>,
    pub(crate) described: Vec<DescribedPerson>,
    /// The names of each described person, as ids (for their children's patronymic and surname).
    pub(crate) described_names: Vec<Names>,
    pub(crate) couples: Vec<Couple>,
}

impl Plan {
    /// The current names of a planned or described person.
    pub(crate) fn names_of(&self, who: Who) -> Option<Names> {
        match who {
            Who::P(p) => self.persons.get(usize::from(p)).map(|x| x.current),
            Who::D(d) => self.described_names.get(usize::from(d)).copied(),
        }
    }

    /// The names of a planned or described person in force on `on`: the names at creation, then the latest
    /// planned change (name change, recognition, adoption) dated on or before `on`.
    pub(crate) fn names_on(&self, who: Who, on: NaiveDate) -> Option<Names> {
        let Who::P(p) = who else {
            return self.names_of(who);
        };
        let person = self.persons.get(usize::from(p))?;
        let mut names = person.names;
        if !person.renamed {
            return Some(names);
        }
        let mut latest: Option<(NaiveDate, u32)> = None;
        for e in self.events.iter().filter(|e| e.who == p && e.date <= on) {
            let after = match &e.kind {
                Ek::NameChange(n) => Some(*n),
                Ek::Paternity { names_after, .. } | Ek::Adoption { names_after, .. } => {
                    *names_after
                }
                _ => None,
            };
            if let Some(n) = after
                && latest.is_none_or(|l| (e.date, e.seq) > l)
            {
                latest = Some((e.date, e.seq));
                names = n;
            }
        }
        Some(names)
    }

    pub(crate) fn clear(&mut self) {
        self.persons.clear();
        self.events.clear();
        self.homes.clear();
        self.home_locs.clear();
        self.described.clear();
        self.described_names.clear();
        self.couples.clear();
    }
}
