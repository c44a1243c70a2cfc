//! The household model: who lives together and what happened to them.
//!
//! A batch is one of four kinds of household:
//! - a **lineage** (most): the eldest living generation (a couple, or a widow(er) whose spouse died before the
//!   register and is recorded as a described person), their children, their children's spouses and
//!   grandchildren, down to great-grandchildren. Persons born from 1995 enter by a `Birth` linked to both
//!   parents; older ones by `Registration` (the initial load). A spouse born from 1995 brings their own
//!   parents (registered) so that their birth links too;
//! - a **single** person living alone: an old widow(er) whose spouse died before the register, or an adult
//!   who never married;
//! - a family of **citizens living abroad** (main address abroad, consular registration, children born abroad
//!   registered by the consulate, sometimes a second citizenship or a renounced Armenian one);
//! - **foreign residents**: a worker or student, a family, a stateless person or a refugee, with foreign
//!   passports and residence documents (A1.20).
//!
//! After the kind-specific plan, passes common to all add rare facts (incapacity, convictions, name changes),
//! labour migration (men leaving to work in Russia), deaths with the spouse's widowhood, and documents,
//! citizenship and nationality. Every event date lies
//! between the person's birth and death (or today), and a death never precedes another event of the person.

use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate};
use popreg_domain::model::{
    DescribedPerson, GuardianshipGround, GuardianshipKind, IdentityDocument, ParentRole, Parentage,
    Sex,
};

use crate::data::{ForeignCountry, Tables, cohort};
use crate::dates::{add_days, add_months, add_years, age, ymd};
use crate::geo::{Geo, Home, Loc, abroad_address, fill_pattern};
use crate::plan::{
    BirthPlace, Couple, Ek, Ev, Names, Origin, Person, Pid, Plan, Prov, Status, Who,
};
use crate::rng::Rng;

/// Persons born from this date enter by a `Birth` entry; earlier ones by `Registration`.
pub(crate) fn births_from() -> NaiveDate {
    ymd(1995, 1, 1)
}

/// Armenia allows dual citizenship since February 2007 (before, a citizen could not hold another).
fn dual_citizenship_from() -> NaiveDate {
    ymd(2007, 2, 26)
}

/// Armenian ID cards and biometric passports were first issued in June 2012.
fn new_documents_from() -> NaiveDate {
    ymd(2012, 6, 1)
}

/// Deaths in the register fall in the last `DEATH_WINDOW` years, at Armenia's mortality (about 26,000 deaths a
/// year for three million people), so that about 7% of the register are dead persons kept for history. Those
/// who died before the window are not in the register: a spouse or parent who did is a described person.
const DEATH_WINDOW: i32 = 8;
/// Generations below the eldest: children (1), grandchildren (2), great-grandchildren (3).
const MAX_DEPTH: u8 = 3;

/// Shares of household kinds among batches (the rest are lineages).
const P_ABROAD: f64 = 0.035;
const P_FOREIGN: f64 = 0.035;
const P_SINGLE: f64 = 0.09;
/// Share of the eldest generation's grown children (born before 1995) who are not in this household. Families
/// are patrilocal: a married daughter lives in her husband's family (another batch, where she is the wife
/// who married in), a son brings his wife home; some sons head a household of their own or emigrated long ago.
fn split_share(sex: Sex, age: i32) -> f64 {
    let a = f64::from((age - 25).max(0));
    match sex {
        Sex::M => (0.25 + 0.01 * a).clamp(0.0, 0.6),
        Sex::F => (0.4 + 0.02 * a).clamp(0.0, 0.75),
    }
}

/// Share of single-person households who are widowed (the others never married).
const P_SINGLE_WIDOWED: f64 = 0.35;
/// Share of brides who take the husband's surname (the custom in Armenia; the rest keep their own).
const P_TAKES_SURNAME: f64 = 0.9;

/// Share of lineage batches in which a couple with minor children dies (their children get a guardian).
const P_TRAGEDY: f64 = 0.002;

/// Age (on `today`) of the eldest generation's wife, by band, with weights. Tuned so that the whole register
/// has Armenia's age pyramid (see the `synth_stats` example).
const ROOT_AGES: [(i32, i32, u32); 14] = [
    (31, 34, 10),
    (35, 39, 15),
    (40, 44, 25),
    (45, 49, 22),
    (50, 54, 30),
    (55, 59, 75),
    (60, 64, 135),
    (65, 69, 165),
    (70, 74, 150),
    (75, 79, 95),
    (80, 84, 75),
    (85, 89, 50),
    (90, 94, 20),
    (95, 99, 5),
];

/// Places of birth abroad of citizens registered from the old records: Armenians born elsewhere in the USSR
/// or repatriated from the Middle East.
const BORN_ABROAD: [(&str, &str, u32); 9] = [
    ("AZ", "Baku", 30),
    ("GE", "Tbilisi", 20),
    ("GE", "Akhalkalaki", 10),
    ("AZ", "Ganja", 8),
    ("RU", "Moscow", 10),
    ("SY", "Aleppo", 8),
    ("IR", "Tehran", 6),
    ("LB", "Beirut", 5),
    ("UA", "Kharkiv", 3),
];

/// Second citizenships of citizens living in Armenia.
const SECOND_CITIZENSHIP: [(&str, u32); 8] = [
    ("RU", 60),
    ("US", 10),
    ("FR", 6),
    ("GR", 4),
    ("GE", 4),
    ("LB", 4),
    ("SY", 4),
    ("DE", 3),
];

/// Courts of general jurisdiction by marz: the case-number prefix and the court's name.
const COURTS: [(&str, &str, &str); 11] = [
    ("AM-ER", "ԵԴ", "Երևան քաղաքի ընդհանուր իրավասության դատարան"),
    (
        "AM-AG",
        "ԱՐԱԴ",
        "Արագածոտնի մարզի ընդհանուր իրավասության դատարան",
    ),
    (
        "AM-AR",
        "ԱՐԴ",
        "Արարատի և Վայոց ձորի մարզերի ընդհանուր իրավասության դատարան",
    ),
    (
        "AM-AV",
        "ԱՎԴ",
        "Արմավիրի մարզի ընդհանուր իրավասության դատարան",
    ),
    (
        "AM-GR",
        "ԳԴ",
        "Գեղարքունիքի մարզի ընդհանուր իրավասության դատարան",
    ),
    (
        "AM-KT",
        "ԿԴ",
        "Կոտայքի մարզի ընդհանուր իրավասության դատարան",
    ),
    ("AM-LO", "ԼԴ", "Լոռու մարզի ընդհանուր իրավասության դատարան"),
    ("AM-SH", "ՇԴ", "Շիրակի մարզի ընդհանուր իրավասության դատարան"),
    (
        "AM-SU",
        "ՍԴ",
        "Սյունիքի մարզի ընդհանուր իրավասության դատարան",
    ),
    (
        "AM-TV",
        "ՏԴ",
        "Տավուշի մարզի ընդհանուր իրավասության դատարան",
    ),
    (
        "AM-VD",
        "ԱՐԴ",
        "Արարատի և Վայոց ձորի մարզերի ընդհանուր իրավասության դատարան",
    ),
];

/// Series of the old (non-biometric) passports by issue period, and of biometric ones.
const PASSPORT_SERIES: [&str; 12] = [
    "AA", "AB", "AC", "AE", "AF", "AG", "AH", "AK", "AL", "AM", "AN", "AP",
];
const BIOMETRIC_SERIES: [&str; 5] = ["AR", "AS", "AT", "AU", "AV"];

fn pick_const<'a, T>(rng: &mut Rng, items: &'a [(T, u32)]) -> Option<&'a T> {
    let total: u64 = items.iter().map(|i| u64::from(i.1)).sum();
    let mut x = rng.below(total);
    for (item, w) in items {
        if x < u64::from(*w) {
            return Some(item);
        }
        x -= u64::from(*w);
    }
    None
}

/// Medical organizations serving each marz: MED-0001..MED-0015 in Yerevan, the rest in the marzes.
fn med_range(marz: &str) -> (u8, u8) {
    match marz {
        "AM-ER" => (1, 15),
        "AM-AG" => (16, 17),
        "AM-AR" => (18, 20),
        "AM-AV" => (21, 23),
        "AM-GR" => (24, 26),
        "AM-KT" => (27, 29),
        "AM-LO" => (30, 32),
        "AM-SH" => (33, 35),
        "AM-SU" => (36, 37),
        "AM-TV" => (38, 39),
        _ => (40, 40),
    }
}

/// Which serial number sequence a document number comes from.
#[derive(Clone, Copy)]
pub(crate) enum Serial {
    IdCard,
    Passport,
    BiometricPassport,
    BirthCertificate,
    Residence,
    Act,
}

/// Per-run counters behind document numbers. A counter is mapped to a number by an affine bijection modulo
/// 10^k, so numbers look random yet never repeat within a run.
#[derive(Debug, Default)]
pub(crate) struct Serials {
    counters: [u64; 6],
}

impl Serials {
    fn next(&mut self, s: Serial, modulus: u64) -> u64 {
        let i = s as usize;
        let c = self.counters[i];
        self.counters[i] += 1;
        // 2654435761 is odd and not a multiple of 5, so coprime with every power of ten.
        (c.wrapping_mul(2_654_435_761)
            .wrapping_add(97_531 * (i as u64 + 1)))
            % modulus
    }
}

/// Annual probability of dying at `age`: Gompertz curves fitted to Armenia's life tables (men 0.4% at 40, 2% at
/// 60, 9% at 80; women 0.08%, 0.7% and 6%; life expectancy about 73 and 80 years).
fn mortality(age: i32, sex: Sex) -> f64 {
    let a = f64::from(age.max(0));
    let q = match sex {
        Sex::M => (-8.55 + 0.0768 * a).exp(),
        Sex::F => (-11.41 + 0.1075 * a).exp(),
    };
    q.min(0.6)
}

/// Ages the death tables cover (older ones use the last).
const MAX_AGE: usize = 130;

/// Probabilities derived from [`mortality`] by age today, computed once: `[sex][age]`, men first.
struct DeathTables {
    /// Dying within the window of deaths (the last [`DEATH_WINDOW`] years).
    in_window: [[f64; MAX_AGE]; 2],
    /// Having died before the window, if alive at 40.
    before_window: [[f64; MAX_AGE]; 2],
}

fn death_tables() -> &'static DeathTables {
    static TABLES: OnceLock<DeathTables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut t = DeathTables {
            in_window: [[0.0; MAX_AGE]; 2],
            before_window: [[0.0; MAX_AGE]; 2],
        };
        for (i, sex) in [Sex::M, Sex::F].into_iter().enumerate() {
            for a in 0..MAX_AGE as i32 {
                let survive = |ages: std::ops::RangeInclusive<i32>| -> f64 {
                    ages.map(|x| 1.0 - mortality(x, sex)).product()
                };
                t.in_window[i][a as usize] = 1.0 - survive(a - DEATH_WINDOW..=a - 1);
                t.before_window[i][a as usize] = 1.0 - survive(40..=a - DEATH_WINDOW);
            }
        }
        t
    })
}

fn table_index(age: i32, sex: Sex) -> (usize, usize) {
    (
        usize::from(sex == Sex::F),
        usize::try_from(age).unwrap_or(0).min(MAX_AGE - 1),
    )
}

/// Probability that someone of this age today, alive at 40, died before the register's window of deaths: the
/// eldest generation's spouse or a spouse's father who is then a described person. Together with the deaths in
/// the window, this makes widows of about half of Armenia's women over 75 and widowers of far fewer men.
fn died_before_window(age: i32, sex: Sex) -> f64 {
    let (s, a) = table_index(age, sex);
    death_tables().before_window[s][a]
}

/// Probability that someone of this age today died in the window of deaths.
fn dies_in_window(age: i32, sex: Sex) -> f64 {
    let (s, a) = table_index(age, sex);
    death_tables().in_window[s][a]
}

/// Share of boys among births of a year (Armenia's sex ratio at birth peaked in 1995–2015).
fn male_share(year: i32) -> f64 {
    if (1993..=2016).contains(&year) {
        0.535
    } else {
        0.515
    }
}

/// Period effect on having a(nother) child in a given year: the collapse of the 1990s and the low fertility
/// since (Armenia's births fell from about 80,000 in 1990 to 32,000 in 2001, then recovered to about 40,000).
fn period_fertility(year: i32) -> f64 {
    match year {
        ..=1991 => 1.0,
        1992 => 0.97,
        1993 => 0.94,
        1994 => 0.92,
        1995..=2000 => 0.9,
        2001..=2005 => 1.05,
        2006..=2010 => 1.25,
        2011..=2015 => 1.12,
        2016..=2020 => 0.9,
        _ => 0.8,
    }
}

/// Share of a country's citizens in Armenia who are refugees or asylum seekers.
fn refugee_share(country: &str) -> f64 {
    match country {
        "SY" | "IQ" => 0.3,
        "UA" => 0.25,
        "IR" | "LB" => 0.05,
        _ => 0.0,
    }
}

/// How the father of a child is known.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Paternity {
    Married,
    /// Born before the parents married; the father recognizes the child on this date.
    Recognized(NaiveDate),
    Unknown,
}

pub(crate) struct House<'a> {
    pub(crate) rng: &'a mut Rng,
    pub(crate) t: &'static Tables,
    pub(crate) geo: &'a Geo,
    pub(crate) today: NaiveDate,
    pub(crate) serials: &'a mut Serials,
    pub(crate) plan: &'a mut Plan,
    /// Persons this household may still create.
    pub(crate) budget: usize,
}

impl House<'_> {
    /// Plan one household (at least one person, at most `budget`).
    pub(crate) fn plan(&mut self) {
        let x = self.rng.unit();
        if x < P_ABROAD {
            self.abroad_family();
        } else if x < P_ABROAD + P_FOREIGN {
            self.foreigners();
        } else if x < P_ABROAD + P_FOREIGN + P_SINGLE {
            self.single();
        } else {
            self.lineage();
        }
        if self.plan.persons.is_empty() {
            self.single();
        }
        self.tragedy();
        self.rare_facts();
        self.labour_migration();
        self.deaths();
        self.documents();
    }

    // ------------------------------------------------------------------------------------------ building blocks

    fn can(&self, n: usize) -> bool {
        self.budget >= n
    }

    fn push(&mut self, p: Person) -> Option<Pid> {
        if self.budget == 0 {
            return None;
        }
        let id = Pid::try_from(self.plan.persons.len()).ok()?;
        self.budget -= 1;
        self.plan.persons.push(p);
        Some(id)
    }

    fn p(&self, id: Pid) -> &Person {
        &self.plan.persons[usize::from(id)]
    }

    fn pm(&mut self, id: Pid) -> &mut Person {
        &mut self.plan.persons[usize::from(id)]
    }

    fn ev(&mut self, who: Pid, date: NaiveDate, prov: Prov, kind: Ek) {
        let p = self.pm(who);
        if date > p.last_event {
            p.last_event = date;
        }
        if matches!(
            kind,
            Ek::NameChange(_) | Ek::Paternity { .. } | Ek::Adoption { .. }
        ) {
            p.renamed = true;
        }
        let seq = self.plan.events.len() as u32;
        self.plan.events.push(Ev {
            who,
            date,
            seq,
            prov,
            kind,
        });
    }

    fn new_home(&mut self, loc: Loc) -> u16 {
        let d = self.geo.dwelling(self.rng, loc);
        self.plan.homes.push(Home::Armenia(d));
        self.plan.home_locs.push(BirthPlace::Armenia(loc));
        (self.plan.homes.len() - 1) as u16
    }

    fn new_abroad_home(&mut self, city: usize) -> u16 {
        let c = &self.t.abroad[city];
        let a = abroad_address(self.rng, self.t, c);
        self.plan.homes.push(Home::Abroad(a));
        self.plan.home_locs.push(BirthPlace::Abroad {
            country: &c.country,
            locality: &c.city,
        });
        (self.plan.homes.len() - 1) as u16
    }

    fn home_loc(&self, home: u16) -> BirthPlace {
        self.plan.home_locs[usize::from(home)]
    }

    /// A settlement in Armenia near the given home (or anywhere, for a home abroad).
    fn near_home(&mut self, home: Option<u16>) -> Loc {
        match home.map(|h| self.home_loc(h)) {
            Some(BirthPlace::Armenia(loc)) => self.geo.near(self.rng, loc),
            _ => self.geo.sample(self.rng),
        }
    }

    fn move_to(&mut self, who: Pid, home: u16, date: NaiveDate) {
        self.pm(who).home = Some(home);
        self.ev(who, date, Prov::Migration, Ek::Main { home, to: None });
    }

    fn first_name(&mut self, sex: Sex, year: i32, group: usize, avoid: &[u16]) -> u16 {
        let g = &self.t.groups[group];
        let pool = if sex == Sex::M {
            &g.male[cohort(year)]
        } else {
            &g.female[cohort(year)]
        };
        let mut id = pool.sample(self.rng).unwrap_or(0);
        for _ in 0..4 {
            if !avoid.contains(&id) {
                break;
            }
            id = pool.sample(self.rng).unwrap_or(id);
        }
        id
    }

    fn surname(&mut self, group: usize) -> u16 {
        self.t.groups[group].surnames.sample(self.rng).unwrap_or(0)
    }

    /// The patronymic of someone whose father is not in the register: a male name of the father's generation.
    fn patronymic_for(&mut self, birth: NaiveDate, group: usize) -> u16 {
        self.first_name(Sex::M, birth.year() - 28, group, &[])
    }

    fn fresh_names(&mut self, sex: Sex, birth: NaiveDate, group: usize, patronymic: bool) -> Names {
        Names {
            first: self.first_name(sex, birth.year(), group, &[]),
            patronymic: patronymic.then(|| self.patronymic_for(birth, group)),
            surname: self.surname(group),
        }
    }

    fn birth_for_age(&mut self, age: i32) -> NaiveDate {
        let b = add_years(self.today, -age);
        add_days(b, -self.rng.range(0, 364))
    }

    /// Days by which a husband is older than his wife: mostly 2–5 years, sometimes more, rarely younger.
    fn spouse_gap_days(&mut self) -> i64 {
        let x = self.rng.unit();
        let years = if x < 0.05 {
            -self.rng.range(0, 2)
        } else if x < 0.25 {
            self.rng.range(0, 1)
        } else if x < 0.82 {
            self.rng.range(2, 5)
        } else if x < 0.98 {
            self.rng.range(6, 10)
        } else {
            self.rng.range(11, 15)
        };
        years * 365 + self.rng.range(0, 364)
    }

    /// Age at first marriage, by sex and birth year (women married younger in older generations).
    fn marriage_age(&mut self, sex: Sex, year: i32) -> f64 {
        let mean_f = match year {
            ..=1949 => 21.0,
            1950..=1969 => 22.0,
            1970..=1984 => 23.0,
            _ => 25.0,
        };
        let mean = if sex == Sex::F { mean_f } else { mean_f + 4.0 };
        self.rng.normal(mean, 3.0).clamp(18.0, 45.0)
    }

    /// The wedding date of a couple, if it falls before today; both are at least 18.
    fn wedding(&mut self, wife_birth: NaiveDate, husband_birth: NaiveDate) -> Option<NaiveDate> {
        let at = self.marriage_age(Sex::F, wife_birth.year());
        let d = add_days(wife_birth, (at * 365.25) as i64)
            .max(add_years(husband_birth, 19))
            .max(add_years(wife_birth, 18));
        (d <= add_days(self.today, -30)).then_some(d)
    }

    /// Birth dates of a mother's children within a union: parity progression by the mother's generation,
    /// fewer and later births in the crisis years 1992–2002, mothers aged 18–45.
    fn birth_dates(
        &mut self,
        mother_birth: NaiveDate,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Vec<NaiveDate> {
        let (p1, p2, p3) = match mother_birth.year() {
            ..=1959 => (0.9, 0.6, 0.3),
            1960..=1974 => (0.82, 0.4, 0.2),
            _ => (0.8, 0.36, 0.15),
        };
        let progression = [0.93, p1, p2, p3, 0.1];
        let earliest = add_years(mother_birth, 18);
        let last = add_years(mother_birth, 45).min(end).min(self.today);
        let mut out = Vec::new();
        let mut t = add_days(start, self.rng.range(270, 900));
        for p in progression {
            if !self.rng.chance(p * period_fertility(t.year())) {
                break;
            }
            if t < earliest {
                t = add_days(earliest, self.rng.range(0, 700));
            }
            if t > last {
                break;
            }
            out.push(t);
            t = add_days(t, self.rng.range(540, 1800));
        }
        out
    }

    fn birth_of(&self, who: Who) -> NaiveDate {
        match who {
            Who::P(p) => self.p(p).birth,
            Who::D(d) => self
                .plan
                .described
                .get(usize::from(d))
                .and_then(|x| x.birth_date)
                .unwrap_or(self.today),
        }
    }

    fn act_number(&mut self, kind: char, date: NaiveDate) -> String {
        format!(
            "{kind}-{}-{:07}",
            date.year(),
            self.serials.next(Serial::Act, 10_000_000)
        )
    }

    fn court(&self, home: Option<u16>) -> (&'static str, &'static str) {
        let marz = match home.map(|h| self.home_loc(h)) {
            Some(BirthPlace::Armenia(loc)) => self.geo.marz(loc),
            _ => "AM-ER",
        };
        COURTS
            .iter()
            .find(|c| c.0 == marz)
            .map_or((COURTS[0].1, COURTS[0].2), |c| (c.1, c.2))
    }

    /// An old Armenian passport number, its series following the issue year.
    fn passport_number(&mut self, issued: NaiveDate) -> String {
        let i = ((issued.year() - 1995).max(0) as usize * PASSPORT_SERIES.len() / 18)
            .min(PASSPORT_SERIES.len() - 1);
        format!(
            "{}{:07}",
            PASSPORT_SERIES[i],
            self.serials.next(Serial::Passport, 10_000_000)
        )
    }

    fn biometric_number(&mut self, issued: NaiveDate) -> String {
        let i = ((issued.year() - 2012).max(0) as usize / 3).min(BIOMETRIC_SERIES.len() - 1);
        format!(
            "{}{:07}",
            BIOMETRIC_SERIES[i],
            self.serials.next(Serial::BiometricPassport, 10_000_000)
        )
    }

    /// Registration of a person from the old records (or an immigrant): their dwelling from `since`.
    #[allow(clippy::too_many_arguments)]
    fn registered(
        &mut self,
        sex: Sex,
        birth: NaiveDate,
        names: Names,
        nationality: &'static str,
        group: usize,
        place: BirthPlace,
        status: Status,
        home: u16,
        since: NaiveDate,
    ) -> Option<Pid> {
        let p = self.push(Person {
            sex,
            birth,
            names,
            current: names,
            nationality,
            group,
            origin: Origin::Registration,
            birth_place: place,
            status,
            death: None,
            spouse: None,
            married_ever: false,
            mother: None,
            father: None,
            last_event: birth,
            home: None,
            keep_alive: false,
            renamed: false,
        })?;
        self.move_to(p, home, since.max(birth));
        Some(p)
    }

    /// Where a citizen registered from the old records was born: mostly near home, some elsewhere in the USSR.
    fn native_birth_place(&mut self, loc: Loc, birth: NaiveDate) -> BirthPlace {
        if birth.year() < 1991
            && self.rng.chance(0.04)
            && let Some(&(country, locality)) =
                pick_const(self.rng, &BORN_ABROAD.map(|(c, l, w)| ((c, l), w)))
        {
            return BirthPlace::Abroad { country, locality };
        }
        if self.rng.chance(0.75) {
            BirthPlace::Armenia(loc)
        } else {
            BirthPlace::Armenia(self.geo.sample(self.rng))
        }
    }

    /// A citizen from the old records with their own names, living at `home` since birth.
    fn native_adult(
        &mut self,
        sex: Sex,
        birth: NaiveDate,
        nationality: &'static str,
        group: usize,
        home: u16,
    ) -> Option<Pid> {
        self.native_adult_since(sex, birth, nationality, group, home, birth)
    }

    /// A citizen from the old records living at `home` since `since`. The old records hold only the address
    /// in force when the register was loaded, not earlier ones.
    fn native_adult_since(
        &mut self,
        sex: Sex,
        birth: NaiveDate,
        nationality: &'static str,
        group: usize,
        home: u16,
        since: NaiveDate,
    ) -> Option<Pid> {
        let loc = match self.home_loc(home) {
            BirthPlace::Armenia(l) => l,
            BirthPlace::Abroad { .. } => self.geo.sample(self.rng),
        };
        let names = self.fresh_names(sex, birth, group, true);
        let place = self.native_birth_place(loc, birth);
        self.registered(
            sex,
            birth,
            names,
            nationality,
            group,
            place,
            Status::Citizen,
            home,
            since,
        )
    }

    /// A child of `mother` (and `father`) born on `birth` while the family lives at `home`.
    #[allow(clippy::too_many_arguments)]
    fn child(
        &mut self,
        mother: Who,
        father: Option<Who>,
        home: u16,
        birth: NaiveDate,
        sex: Option<Sex>,
        paternity: Paternity,
        siblings: &[Pid],
    ) -> Option<Pid> {
        let sex = sex.unwrap_or_else(|| {
            if self.rng.chance(male_share(birth.year())) {
                Sex::M
            } else {
                Sex::F
            }
        });
        let parent = [father, Some(mother)]
            .into_iter()
            .flatten()
            .find_map(|w| match w {
                Who::P(p) => Some(p),
                Who::D(_) => None,
            });
        let (nationality, group, status) = match parent {
            Some(p) => (self.p(p).nationality, self.p(p).group, self.p(p).status),
            None => ("ARM", Tables::ARMENIAN, Status::Citizen),
        };
        let avoid: Vec<u16> = siblings.iter().map(|&s| self.p(s).names.first).collect();
        // The parents' names as they were on the day of the birth (a mother may take another surname later).
        let father_names = father.and_then(|f| self.plan.names_on(f, birth));
        let mother_names = self.plan.names_on(mother, birth);
        let grandfather = father_names.and_then(|n| n.patronymic);
        let first = match grandfather {
            // The first son is often named after his paternal grandfather.
            Some(g) if sex == Sex::M && avoid.is_empty() && self.rng.chance(0.15) => g,
            _ => self.first_name(sex, birth.year(), group, &avoid),
        };
        let by_father = paternity == Paternity::Married;
        // Foreigners other than Armenians by nationality use no patronymic.
        let patronymic = status != Status::Foreigner || nationality == "ARM";
        let names = match (by_father, father_names, mother_names) {
            (true, Some(f), _) => Names {
                first,
                patronymic: patronymic.then_some(f.first),
                surname: f.surname,
            },
            (_, _, Some(m)) => Names {
                first,
                patronymic: None,
                surname: m.surname,
            },
            _ => Names {
                first,
                patronymic: None,
                surname: self.surname(group),
            },
        };
        let place = self.home_loc(home);
        let origin = if birth >= births_from() {
            let prov = match place {
                BirthPlace::Armenia(loc) => {
                    let (lo, hi) = med_range(self.geo.marz(loc));
                    Prov::Med(self.rng.range(i64::from(lo), i64::from(hi)) as u8)
                }
                BirthPlace::Abroad { .. } => Prov::Consular,
            };
            Origin::Birth {
                mother: Some(mother),
                father: if by_father { father } else { None },
                prov,
            }
        } else {
            Origin::Registration
        };
        let pid = |w: Option<Who>| match w {
            Some(Who::P(p)) => Some(p),
            _ => None,
        };
        let c = self.push(Person {
            sex,
            birth,
            names,
            current: names,
            nationality,
            group,
            origin,
            birth_place: place,
            status,
            death: None,
            spouse: None,
            married_ever: false,
            mother: pid(Some(mother)),
            father: if paternity == Paternity::Unknown {
                None
            } else {
                pid(father)
            },
            last_event: birth,
            home: None,
            keep_alive: false,
            renamed: false,
        })?;
        self.move_to(c, home, birth);
        if let Origin::Birth { mother, father, .. } = origin {
            for (w, role) in [(mother, ParentRole::Mother), (father, ParentRole::Father)] {
                if let Some(Who::P(parent)) = w {
                    let kind = Ek::ChildLinked {
                        child: c,
                        parentage: Parentage::Birth,
                        role,
                    };
                    self.ev(parent, birth, Prov::CivilRegistry, kind);
                }
            }
        }
        let recognized = match paternity {
            Paternity::Recognized(on) => father.and_then(|f| self.plan.names_on(f, on)),
            _ => None,
        };
        if let (Paternity::Recognized(on), Some(Who::P(f)), Some(fnames)) =
            (paternity, father, recognized)
        {
            let after = Names {
                first,
                patronymic: Some(fnames.first),
                surname: fnames.surname,
            };
            let m = pid(Some(mother));
            let kind = Ek::Paternity {
                father: f,
                mother: m,
                names_after: Some(after),
            };
            self.ev(c, on, Prov::CivilRegistry, kind);
            let link = Ek::ChildLinked {
                child: c,
                parentage: Parentage::Recognition,
                role: ParentRole::Father,
            };
            self.ev(f, on, Prov::CivilRegistry, link);
            self.pm(c).current = after;
        }
        Some(c)
    }

    /// Marry two persons (at least one planned). The wife often takes the husband's surname; when
    /// `may_divorce`, the marriage may end in divorce. Returns the divorce date.
    fn marry(
        &mut self,
        husband: Who,
        wife: Who,
        date: NaiveDate,
        may_divorce: bool,
    ) -> Option<NaiveDate> {
        self.record_marriage(husband, wife, date, Prov::CivilRegistry);
        let husband_names = self.plan.names_of(husband);
        let mut maiden = None;
        if let (Who::P(w), Some(h)) = (wife, husband_names) {
            let before = self.p(w).current;
            if before.surname != h.surname && self.rng.chance(P_TAKES_SURNAME) {
                let after = Names {
                    surname: h.surname,
                    ..before
                };
                self.ev(w, date, Prov::CivilRegistry, Ek::NameChange(after));
                self.pm(w).current = after;
                maiden = Some(before);
            }
        }
        let (Who::P(h), Who::P(w)) = (husband, wife) else {
            return None;
        };
        if !may_divorce {
            return None;
        }
        let p = match date.year() {
            ..=1989 => 0.07,
            1990..=2004 => 0.14,
            _ => 0.28,
        };
        if !self.rng.chance(p) {
            return None;
        }
        let d = add_days(date, self.rng.range(365, 15 * 365));
        if d > add_days(self.today, -30) {
            return None;
        }
        let act = self.act_number('D', d);
        self.ev(
            h,
            d,
            Prov::CivilRegistry,
            Ek::Divorce {
                spouse: Who::P(w),
                act: act.clone(),
            },
        );
        self.ev(
            w,
            d,
            Prov::CivilRegistry,
            Ek::Divorce {
                spouse: Who::P(h),
                act,
            },
        );
        self.pm(h).spouse = None;
        self.pm(w).spouse = None;
        if let Some(m) = maiden
            && self.rng.chance(0.5)
        {
            self.ev(w, d, Prov::CivilRegistry, Ek::NameChange(m));
            self.pm(w).current = m;
        }
        Some(d)
    }

    /// The marriage entries on both spouses' logs (one act number) and their marital state.
    fn record_marriage(&mut self, husband: Who, wife: Who, date: NaiveDate, prov: Prov) {
        let act = self.act_number('M', date);
        for (a, b) in [(husband, wife), (wife, husband)] {
            if let Who::P(p) = a {
                self.ev(
                    p,
                    date,
                    prov,
                    Ek::Marriage {
                        spouse: b,
                        act: act.clone(),
                    },
                );
                let person = self.pm(p);
                person.married_ever = true;
                person.spouse = match b {
                    Who::P(s) => Some(s),
                    Who::D(_) => None,
                };
            }
        }
    }

    /// Someone without a PSN: a spouse who died before the register existed.
    /// Their identity document is the last one they held: an Armenian passport, or for those who died before
    /// Armenia issued its own (1995) a Soviet one.
    fn described(
        &mut self,
        sex: Sex,
        birth: NaiveDate,
        nationality: &'static str,
        group: usize,
        died: NaiveDate,
    ) -> u16 {
        let names = self.fresh_names(sex, birth, group, true);
        let t = self.t;
        let armenian_from = ymd(1995, 6, 1);
        let document = if died > armenian_from {
            let lo = add_years(birth, 16)
                .max(armenian_from)
                .max(add_years(died, -10));
            let issued = self.rng.date(lo, add_days(died, -1).max(lo));
            IdentityDocument {
                doc_type: "PASSPORT_AM".into(),
                number: self.passport_number(issued),
                issuing_country: Some("AM".into()),
                issued_on: Some(issued),
                valid_until: Some(add_days(add_years(issued, 10), -1)),
            }
        } else {
            // Soviet passports were issued at 16 and renewed at 25 and 45: series a Roman numeral and two
            // Cyrillic letters, then six digits.
            let renewal = [45, 25, 16]
                .into_iter()
                .map(|a| add_years(birth, a))
                .find(|&d| d < died)
                .unwrap_or(birth);
            let issued = add_days(renewal, self.rng.range(0, 120)).min(add_days(died, -1));
            let roman = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII"];
            let letters = [
                'А', 'Б', 'В', 'Г', 'Д', 'Е', 'Ж', 'И', 'К', 'Л', 'М', 'Н', 'П', 'Р', 'С', 'Т',
            ];
            let number = format!(
                "{}-{}{} {:06}",
                roman[self.rng.index(roman.len())],
                letters[self.rng.index(letters.len())],
                letters[self.rng.index(letters.len())],
                self.rng.below(1_000_000)
            );
            IdentityDocument {
                doc_type: "OTHER".into(),
                number,
                issuing_country: None,
                issued_on: Some(issued),
                valid_until: None,
            }
        };
        let citizenships = if died >= ymd(1991, 9, 21) {
            vec!["AM".into()]
        } else {
            Vec::new()
        };
        self.plan.described.push(DescribedPerson {
            first_name: t.first[usize::from(names.first)].name.hy.clone(),
            patronymic: names
                .patronymic
                .map(|p| t.first[usize::from(p)].genitive.hy.clone()),
            surname: if sex == Sex::F {
                t.surnames[usize::from(names.surname)].female.hy.clone()
            } else {
                t.surnames[usize::from(names.surname)].male.hy.clone()
            },
            birth_date: Some(birth),
            identity_document: document,
            citizenships,
            nationality: Some(nationality.into()),
            residence: None,
            no_psn: true,
        });
        self.plan.described_names.push(names);
        (self.plan.described.len() - 1) as u16
    }

    // ---------------------------------------------------------------------------------------------- lineages

    fn domestic_nationality(&mut self) -> (&'static str, usize) {
        let x = self.rng.unit();
        let (code, group) = match x {
            x if x < 0.9795 => ("ARM", "ARM"),
            x if x < 0.9910 => ("YAZ", "YAZ"),
            x if x < 0.9955 => ("RUS", "RUS"),
            x if x < 0.9967 => ("ASY", "ASY"),
            x if x < 0.9975 => ("KUR", "YAZ"),
            x if x < 0.9980 => ("UKR", "RUS"),
            _ => ("ARM", "ARM"),
        };
        (code, self.t.group(group))
    }

    /// Where a family lives: by population, with the minorities' historical places of settlement.
    fn family_loc(&mut self, nationality: &str) -> Loc {
        let preferred: &[&str] = match nationality {
            "YAZ" | "KUR" => &["AM-AV", "AM-AG", "AM-AR"],
            _ => &[],
        };
        let village = match nationality {
            "RUS" if self.rng.chance(0.35) => self.geo.by_name(if self.rng.chance(0.5) {
                "Fioletovo"
            } else {
                "Lermontovo"
            }),
            "ASY" if self.rng.chance(0.5) => self.geo.by_name("Arzni"),
            _ => None,
        };
        if let Some(l) = village {
            return l;
        }
        let mut loc = self.geo.sample(self.rng);
        if !preferred.is_empty() && self.rng.chance(0.8) {
            for _ in 0..20 {
                if preferred.contains(&self.geo.marz(loc)) {
                    break;
                }
                loc = self.geo.sample(self.rng);
            }
        }
        loc
    }

    fn lineage(&mut self) {
        let (nationality, group) = self.domestic_nationality();
        let loc = self.family_loc(nationality);
        let home = self.new_home(loc);
        let Some(&(lo, hi)) = pick_const(self.rng, &ROOT_AGES.map(|(lo, hi, w)| ((lo, hi), w)))
        else {
            return;
        };
        let wife_age = self.rng.range(i64::from(lo), i64::from(hi)) as i32;
        let wife_birth = self.birth_for_age(wife_age);
        let husband_birth = add_days(wife_birth, -self.spouse_gap_days());
        let wedding = self.wedding(wife_birth, husband_birth);
        let (Some(married), true, false) = (wedding, self.can(2), self.rng.chance(0.06)) else {
            self.single_root(wife_birth, nationality, group, home);
            return;
        };
        // The eldest generation: one spouse may have died before the register (a described person).
        let window = add_years(self.today, -DEATH_WINDOW);
        let mut absent = None;
        if self
            .rng
            .chance(died_before_window(age(husband_birth, self.today), Sex::M))
        {
            absent = Some(Sex::M);
        } else if self
            .rng
            .chance(died_before_window(age(wife_birth, self.today), Sex::F))
        {
            absent = Some(Sex::F);
        }
        let absent_death = absent.and_then(|sex| {
            let birth = if sex == Sex::M {
                husband_birth
            } else {
                wife_birth
            };
            let lo = add_years(married, 3).max(add_years(birth, 40));
            let hi = add_days(window, -1);
            (lo <= hi).then(|| (sex, self.rng.date(lo, hi)))
        });
        let husband = match absent_death {
            Some((Sex::M, d)) => {
                Who::D(self.described(Sex::M, husband_birth, nationality, group, d))
            }
            _ => match self.native_adult(Sex::M, husband_birth, nationality, group, home) {
                Some(p) => Who::P(p),
                None => return,
            },
        };
        let wife = match absent_death {
            Some((Sex::F, d)) => Who::D(self.described(Sex::F, wife_birth, nationality, group, d)),
            _ => {
                match self.native_adult_since(Sex::F, wife_birth, nationality, group, home, married)
                {
                    Some(p) => Who::P(p),
                    None => return,
                }
            }
        };
        let divorced = self.marry(husband, wife, married, absent_death.is_none());
        let ended = match absent_death {
            Some((sex, d)) => {
                let (survivor, gone) = if sex == Sex::M {
                    (wife, husband)
                } else {
                    (husband, wife)
                };
                if let Who::P(s) = survivor {
                    self.ev(s, d, Prov::CivilRegistry, Ek::Widowhood { spouse: gone });
                    self.pm(s).spouse = None;
                }
                Some(d)
            }
            None => divorced,
        };
        let couple = Couple {
            husband,
            wife,
            married,
            ended,
            divorced: divorced.is_some(),
            home,
        };
        self.plan.couples.push(couple);
        self.family(couple, 0);
    }

    /// The eldest generation is one person who never married; some women have children on their own.
    fn single_root(
        &mut self,
        birth: NaiveDate,
        nationality: &'static str,
        group: usize,
        home: u16,
    ) {
        let sex = if self.rng.chance(0.55) {
            Sex::F
        } else {
            Sex::M
        };
        let Some(p) = self.native_adult(sex, birth, nationality, group, home) else {
            return;
        };
        if sex == Sex::F && self.rng.chance(0.25) {
            self.single_mother(p, 0);
        }
    }

    /// Children of an unmarried mother; the father is unknown.
    fn single_mother(&mut self, mother: Pid, depth: u8) {
        let birth = self.p(mother).birth;
        let home = self.p(mother).home.unwrap_or(0);
        let dates = self.birth_dates(birth, add_years(birth, 20), self.today);
        let mut kids = Vec::new();
        for d in dates.into_iter().take(2) {
            let Some(c) = self.child(
                Who::P(mother),
                None,
                home,
                d,
                None,
                Paternity::Unknown,
                &kids,
            ) else {
                break;
            };
            kids.push(c);
        }
        for k in kids {
            self.grow(k, depth + 1);
        }
    }

    /// The children of a couple, then each child's own life (marriage, children) one generation down.
    fn family(&mut self, c: Couple, depth: u8) {
        let mother_birth = self.birth_of(c.wife);
        let end = c.ended.unwrap_or(self.today);
        let mut dates = self.birth_dates(mother_birth, c.married, end);
        // Sometimes the first child is born before the wedding and recognized by the father.
        let mut recognized_first = false;
        if let (Who::P(_), Who::P(_)) = (c.husband, c.wife)
            && c.married.year() >= 1996
            && self.rng.chance(0.05)
        {
            let d = add_days(c.married, -self.rng.range(30, 300));
            if d >= add_years(mother_birth, 18) && d >= births_from() {
                dates.insert(0, d);
                recognized_first = true;
            }
        }
        let mut kids: Vec<Pid> = Vec::new();
        for (i, d) in dates.into_iter().enumerate() {
            // A grown child from the old records often heads a household of their own (another batch).
            let sex = if self.rng.chance(male_share(d.year())) {
                Sex::M
            } else {
                Sex::F
            };
            let split = split_share(sex, age(d, self.today));
            if d < births_from() && depth == 0 && self.rng.chance(split) {
                continue;
            }
            let paternity = if recognized_first && i == 0 {
                let on = self.rng.date(add_days(d, 1), c.married);
                Paternity::Recognized(on)
            } else {
                Paternity::Married
            };
            let Some(k) = self.child(
                c.wife,
                Some(c.husband),
                c.home,
                d,
                Some(sex),
                paternity,
                &kids,
            ) else {
                break;
            };
            kids.push(k);
        }
        if kids.is_empty()
            && c.ended.is_none()
            && self.rng.chance(0.06)
            && let Some(k) = self.adopt(&c)
        {
            kids.push(k);
        }
        if let (true, Some(d), Who::P(h), Who::P(w)) = (c.divorced, c.ended, c.husband, c.wife) {
            // After a divorce the mother moves out with the minor children.
            let loc = self.near_home(Some(c.home));
            let new_home = self.new_home(loc);
            self.move_to(w, new_home, d);
            for &k in &kids {
                let kb = self.p(k).birth;
                if kb < d && age(kb, d) < 18 {
                    self.move_to(k, new_home, d);
                }
            }
            self.remarry(h, d, depth, 0.55);
            self.remarry(w, d, depth, 0.25);
        }
        for k in kids {
            self.grow(k, depth + 1);
        }
    }

    /// A divorced person may marry again (once), and have children in the new marriage.
    fn remarry(&mut self, p: Pid, divorced: NaiveDate, depth: u8, chance: f64) {
        if !self.rng.chance(chance) {
            return;
        }
        let on = add_days(divorced, self.rng.range(365, 6 * 365));
        if on > add_days(self.today, -30) {
            return;
        }
        let (sex, birth, nationality, group, home) = {
            let x = self.p(p);
            (x.sex, x.birth, x.nationality, x.group, x.home)
        };
        let gap = self.rng.range(2 * 365, 10 * 365);
        let (other, other_birth) = if sex == Sex::M {
            (Sex::F, add_days(birth, gap))
        } else {
            (Sex::M, add_days(birth, -gap))
        };
        if add_years(other_birth, 18) > on {
            return;
        }
        let loc = self.near_home(home);
        let couple_home = match (sex, home) {
            (Sex::M, Some(h)) => h,
            _ => self.new_home(loc),
        };
        let Some(s) = self.new_spouse(
            other,
            other_birth,
            (nationality, group),
            loc,
            (couple_home, on),
        ) else {
            return;
        };
        // A remarrying mother takes her minor children, who live with her, to the new home.
        let before = self.p(p).home;
        let minors: Vec<Pid> = if sex == Sex::F {
            (0..self.plan.persons.len() as Pid)
                .filter(|&k| {
                    let c = self.p(k);
                    c.mother == Some(p) && c.home == before && c.birth < on && age(c.birth, on) < 18
                })
                .collect()
        } else {
            Vec::new()
        };
        for x in [p, s].into_iter().chain(minors) {
            if self.p(x).home != Some(couple_home) {
                self.move_to(x, couple_home, on);
            }
        }
        let (h, w) = if sex == Sex::M { (p, s) } else { (s, p) };
        self.marry(Who::P(h), Who::P(w), on, false);
        let c = Couple {
            husband: Who::P(h),
            wife: Who::P(w),
            married: on,
            ended: None,
            divorced: false,
            home: couple_home,
        };
        self.plan.couples.push(c);
        self.family(c, depth);
    }

    /// A spouse who marries into the family. Born before 1995 they come from the old records; born later they
    /// come with their own parents, so that their birth entry links to them.
    /// A spouse born before 1995 is registered at the couple's home from the wedding on (`couple`).
    fn new_spouse(
        &mut self,
        sex: Sex,
        birth: NaiveDate,
        (nationality, group): (&'static str, usize),
        near: Loc,
        couple: (u16, NaiveDate),
    ) -> Option<Pid> {
        if birth < births_from() {
            let (home, since) = couple;
            return if self.can(1) {
                self.native_adult_since(sex, birth, nationality, group, home, since)
            } else {
                None
            };
        }
        let loc = self.geo.near(self.rng, near);
        let home = self.new_home(loc);
        if !self.can(3) {
            return None;
        }
        let father_birth = add_days(birth, -self.rng.range(24 * 365, 34 * 365));
        let mother_birth = add_days(father_birth, self.rng.range(365, 5 * 365));
        let married = add_days(birth, -self.rng.range(300, 2000))
            .max(add_years(mother_birth, 18))
            .max(add_years(father_birth, 19))
            .min(add_days(birth, -280));
        // The father may have died before the register; he is then a described person.
        let window = add_years(self.today, -DEATH_WINDOW);
        let lo = add_days(birth, 1).max(add_years(father_birth, 40));
        let hi = add_days(window, -1);
        let absent = lo <= hi
            && self
                .rng
                .chance(died_before_window(age(father_birth, self.today), Sex::M));
        let ended = absent.then(|| self.rng.date(lo, hi));
        let father = if let Some(d) = ended {
            Who::D(self.described(Sex::M, father_birth, nationality, group, d))
        } else {
            Who::P(self.native_adult(Sex::M, father_birth, nationality, group, home)?)
        };
        let mother =
            self.native_adult_since(Sex::F, mother_birth, nationality, group, home, married)?;
        self.marry(father, Who::P(mother), married, false);
        if let Some(d) = ended {
            self.ev(
                mother,
                d,
                Prov::CivilRegistry,
                Ek::Widowhood { spouse: father },
            );
            self.pm(mother).spouse = None;
        }
        self.plan.couples.push(Couple {
            husband: father,
            wife: Who::P(mother),
            married,
            ended,
            divorced: false,
            home,
        });
        self.child(
            Who::P(mother),
            Some(father),
            home,
            birth,
            Some(sex),
            Paternity::Married,
            &[],
        )
    }

    /// A childless couple adopts a foundling (born in Armenia, parents unknown), who takes their names.
    fn adopt(&mut self, c: &Couple) -> Option<Pid> {
        let (Who::P(h), Who::P(w)) = (c.husband, c.wife) else {
            return None;
        };
        if !self.can(1) {
            return None;
        }
        let wb = self.p(w).birth;
        let lo = add_years(c.married, 2)
            .max(births_from())
            .max(add_years(wb, 20));
        let hi = add_years(c.married, 15)
            .min(add_days(self.today, -90))
            .min(add_years(wb, 45));
        if lo > hi {
            return None;
        }
        let birth = self.rng.date(lo, hi);
        let adopted = add_days(birth, self.rng.range(60, 1500)).min(add_days(self.today, -10));
        let sex = if self.rng.chance(0.5) { Sex::M } else { Sex::F };
        let loc = self.geo.yerevan(self.rng);
        let shelter = self.new_home(loc);
        let (lo_med, hi_med) = med_range(self.geo.marz(loc));
        let names = self.fresh_names(sex, birth, Tables::ARMENIAN, false);
        let (nationality, group) = (self.p(h).nationality, self.p(h).group);
        let med = self.rng.range(i64::from(lo_med), i64::from(hi_med)) as u8;
        let k = self.push(Person {
            sex,
            birth,
            names,
            current: names,
            nationality,
            group,
            origin: Origin::Birth {
                mother: None,
                father: None,
                prov: Prov::Med(med),
            },
            birth_place: BirthPlace::Armenia(loc),
            status: Status::Citizen,
            death: None,
            spouse: None,
            married_ever: false,
            mother: Some(w),
            father: Some(h),
            last_event: birth,
            home: None,
            keep_alive: false,
            renamed: false,
        })?;
        self.move_to(k, shelter, birth);
        let hn = self.p(h).current;
        let first = if self.rng.chance(0.7) {
            names.first
        } else {
            self.first_name(sex, birth.year(), group, &[])
        };
        let after = Names {
            first,
            patronymic: Some(hn.first),
            surname: hn.surname,
        };
        self.ev(
            k,
            adopted,
            Prov::CivilRegistry,
            Ek::Adoption {
                parents: [Some(h), Some(w)],
                names_after: Some(after),
            },
        );
        for (parent, role) in [(h, ParentRole::Father), (w, ParentRole::Mother)] {
            let kind = Ek::ChildLinked {
                child: k,
                parentage: Parentage::Adoption,
                role,
            };
            self.ev(parent, adopted, Prov::CivilRegistry, kind);
        }
        self.pm(k).current = after;
        self.move_to(k, c.home, adopted);
        Some(k)
    }

    /// An adult child's own life: marriage (with a spouse marrying into the family) and children.
    fn grow(&mut self, p: Pid, depth: u8) {
        if depth > MAX_DEPTH {
            return;
        }
        let (sex, birth, nationality, group, home) = {
            let x = self.p(p);
            (x.sex, x.birth, x.nationality, x.group, x.home)
        };
        if age(birth, self.today) < 18 {
            return;
        }
        // Boys outnumbered girls by 15% among the births of 1993-2015, and men marry women a few years younger
        // from the smaller cohorts after 1991: many men of those generations stay unmarried.
        let never = match (sex, birth.year()) {
            (Sex::F, ..=1984) => 0.06,
            (Sex::F, _) => 0.1,
            (Sex::M, ..=1984) => 0.08,
            (Sex::M, 1985..=1992) => 0.18,
            (Sex::M, _) => 0.25,
        };
        let at = self.marriage_age(sex, birth.year());
        let mut wedding = add_days(birth, (at * 365.25) as i64);
        let gap = self.spouse_gap_days();
        let spouse_birth = if sex == Sex::M {
            add_days(birth, gap)
        } else {
            add_days(birth, -gap)
        };
        wedding = wedding.max(add_years(spouse_birth, 18));
        if self.rng.chance(never) || wedding > add_days(self.today, -30) {
            if sex == Sex::F && age(birth, self.today) >= 25 && self.rng.chance(0.04) {
                self.single_mother(p, depth);
            }
            return;
        }
        let loc = self.near_home(home);
        let other = if sex == Sex::M { Sex::F } else { Sex::M };
        // A son often brings his wife into his parents' home; otherwise the couple sets up its own.
        let couple_home = match home {
            Some(h) if sex == Sex::M && self.rng.chance(0.5) => h,
            _ => {
                let l = self.near_home(home);
                self.new_home(l)
            }
        };
        let Some(s) = self.new_spouse(
            other,
            spouse_birth,
            (nationality, group),
            loc,
            (couple_home, wedding),
        ) else {
            return;
        };
        for x in [p, s] {
            if self.p(x).home != Some(couple_home) {
                self.move_to(x, couple_home, wedding);
            }
        }
        let (h, w) = if sex == Sex::M { (p, s) } else { (s, p) };
        let divorced = self.marry(Who::P(h), Who::P(w), wedding, true);
        let c = Couple {
            husband: Who::P(h),
            wife: Who::P(w),
            married: wedding,
            ended: divorced,
            divorced: divorced.is_some(),
            home: couple_home,
        };
        self.plan.couples.push(c);
        self.family(c, depth);
    }

    /// Someone living alone: most often an old widow (or widower) whose children have households of their own,
    /// otherwise an adult who never married.
    fn single(&mut self) {
        let (nationality, group) = self.domestic_nationality();
        let loc = self.family_loc(nationality);
        let home = self.new_home(loc);
        if self.rng.chance(P_SINGLE_WIDOWED) {
            self.widowed_alone(nationality, group, home);
            return;
        }
        let a = if self.rng.chance(0.7) {
            self.rng.range(25, 45)
        } else {
            self.rng.range(46, 70)
        } as i32;
        let birth = self.birth_for_age(a);
        let sex = if self.rng.chance(0.6) { Sex::M } else { Sex::F };
        self.native_adult(sex, birth, nationality, group, home);
    }

    /// A widow or widower living alone, whose spouse died before the register (a described person).
    fn widowed_alone(&mut self, nationality: &'static str, group: usize, home: u16) {
        let Some(&(lo, hi)) = pick_const(
            self.rng,
            &[
                ((62, 69), 30),
                ((70, 79), 42),
                ((80, 89), 23),
                ((90, 97), 5),
            ],
        ) else {
            return;
        };
        let a = self.rng.range(lo, hi) as i32;
        let birth = self.birth_for_age(a);
        let sex = if self.rng.chance(0.7) { Sex::F } else { Sex::M };
        let gap = self.spouse_gap_days();
        let (wife_birth, husband_birth) = match sex {
            Sex::F => (birth, add_days(birth, -gap)),
            Sex::M => (add_days(birth, gap), birth),
        };
        let spouse_birth = if sex == Sex::F {
            husband_birth
        } else {
            wife_birth
        };
        let window = add_years(self.today, -DEATH_WINDOW);
        let wedding = self.wedding(wife_birth, husband_birth);
        let death = wedding.and_then(|m| {
            let lo = add_years(m, 5).max(add_years(spouse_birth, 45));
            let hi = add_days(window, -1);
            (lo <= hi).then(|| self.rng.date(lo, hi))
        });
        let (Some(married), Some(death)) = (wedding, death) else {
            self.native_adult(sex, birth, nationality, group, home);
            return;
        };
        let since = if sex == Sex::F { married } else { birth };
        let Some(p) = self.native_adult_since(sex, birth, nationality, group, home, since) else {
            return;
        };
        let other = if sex == Sex::F { Sex::M } else { Sex::F };
        let d = Who::D(self.described(other, spouse_birth, nationality, group, death));
        let (h, w) = if sex == Sex::F {
            (d, Who::P(p))
        } else {
            (Who::P(p), d)
        };
        self.marry(h, w, married, false);
        self.ev(p, death, Prov::CivilRegistry, Ek::Widowhood { spouse: d });
        self.pm(p).spouse = None;
    }

    // ------------------------------------------------------------------------------------------ citizens abroad

    fn abroad_family(&mut self) {
        let Some(city) = self.t.abroad_weights.sample(self.rng) else {
            return self.single();
        };
        let t = self.t;
        let (country, mission) = (
            t.abroad[city].country.as_str(),
            t.abroad[city].mission.as_str(),
        );
        let group = Tables::ARMENIAN;
        let loc = self.geo.sample(self.rng);
        let home_am = self.new_home(loc);
        let home_abroad = self.new_abroad_home(city);
        let wife_age = self.rng.range(31, 62) as i32;
        let wife_birth = self.birth_for_age(wife_age);
        let husband_birth = add_days(wife_birth, -self.spouse_gap_days());
        let mut members = Vec::new();
        let married = self.wedding(wife_birth, husband_birth);
        let emigrated;
        match (married, self.can(2)) {
            (Some(married), true) => {
                let lo = add_years(married, 1)
                    .max(births_from())
                    .max(add_years(self.today, -25));
                let hi = add_days(self.today, -200);
                emigrated = self.rng.date(lo.min(hi), hi);
                let Some(h) = self.native_adult(Sex::M, husband_birth, "ARM", group, home_am)
                else {
                    return;
                };
                let Some(w) =
                    self.native_adult_since(Sex::F, wife_birth, "ARM", group, home_am, married)
                else {
                    return;
                };
                self.marry(Who::P(h), Who::P(w), married, false);
                members.extend([h, w]);
                let dates = self.birth_dates(wife_birth, married, self.today);
                let mut kids = Vec::new();
                for d in dates {
                    let home = if d < emigrated { home_am } else { home_abroad };
                    let Some(k) = self.child(
                        Who::P(w),
                        Some(Who::P(h)),
                        home,
                        d,
                        None,
                        Paternity::Married,
                        &kids,
                    ) else {
                        break;
                    };
                    kids.push(k);
                }
                self.plan.couples.push(Couple {
                    husband: Who::P(h),
                    wife: Who::P(w),
                    married,
                    ended: None,
                    divorced: false,
                    home: home_abroad,
                });
                members.extend(kids);
            }
            _ => {
                let birth = wife_birth;
                let sex = if self.rng.chance(0.5) { Sex::M } else { Sex::F };
                let lo = add_years(birth, 18).max(births_from());
                emigrated = self.rng.date(lo, add_days(self.today, -200));
                let Some(p) = self.native_adult(sex, birth, "ARM", group, home_am) else {
                    return;
                };
                members.push(p);
            }
        }
        for &m in &members {
            self.pm(m).status = Status::Abroad;
            let birth = self.p(m).birth;
            if self.p(m).home != Some(home_abroad) {
                self.move_to(m, home_abroad, emigrated);
            }
            let since = add_days(emigrated.max(birth), self.rng.range(30, 300));
            if since <= self.today {
                self.ev(m, since, Prov::Consular, Ek::Consular { mission });
            }
            // After some years abroad: the country's citizenship, and a few renounce Armenia's.
            let from = add_years(emigrated, 3)
                .max(add_years(birth, 18))
                .max(dual_citizenship_from());
            if from < self.today && self.rng.chance(0.35) {
                let acquired = self.rng.date(from, self.today);
                self.ev(
                    m,
                    acquired,
                    Prov::Migration,
                    Ek::Citizenship {
                        country,
                        ground: None,
                    },
                );
                if self.rng.chance(0.2) {
                    let renounced = self.rng.date(acquired, self.today);
                    let kind = Ek::CitizenshipEnd {
                        country: "AM",
                        ground: Some("TERM_RENUNCIATION"),
                    };
                    self.ev(m, renounced, Prov::Migration, kind);
                }
            }
        }
    }

    // --------------------------------------------------------------------------------------- foreign residents

    #[allow(clippy::too_many_arguments)]
    fn foreign_person(
        &mut self,
        sex: Sex,
        birth: NaiveDate,
        fc: &'static ForeignCountry,
        (nationality, group): (&'static str, usize),
        home: u16,
        arrived: NaiveDate,
        surname: Option<u16>,
    ) -> Option<Pid> {
        let names = Names {
            first: self.first_name(sex, birth.year(), group, &[]),
            patronymic: None,
            surname: surname.unwrap_or_else(|| self.surname(group)),
        };
        let locality = self.rng.pick(&fc.birth_places).map_or("", String::as_str);
        let place = BirthPlace::Abroad {
            country: &fc.country,
            locality,
        };
        let p = self.registered(
            sex,
            birth,
            names,
            nationality,
            group,
            place,
            Status::Foreigner,
            home,
            arrived,
        )?;
        self.foreign_documents(p, fc, arrived);
        Some(p)
    }

    /// Citizenship of the country of origin, its passport, and for ethnic Armenians sometimes Armenian
    /// citizenship by admission.
    fn foreign_documents(&mut self, p: Pid, fc: &'static ForeignCountry, arrived: NaiveDate) {
        let birth = self.p(p).birth;
        self.ev(
            p,
            birth,
            Prov::Migration,
            Ek::Citizenship {
                country: &fc.country,
                ground: None,
            },
        );
        let lo = add_years(arrived, -5).max(add_days(birth, 30));
        let issued = self.rng.date(lo, arrived.max(lo));
        self.foreign_passports(p, fc, issued);
        if self.p(p).nationality == "ARM"
            && add_years(arrived, 1) < self.today
            && self.rng.chance(0.3)
        {
            let on = self.rng.date(add_years(arrived, 1), self.today);
            let kind = Ek::Citizenship {
                country: "AM",
                ground: Some("ACQ_ADMISSION_ARMENIAN_ORIGIN"),
            };
            self.ev(p, on, Prov::Migration, kind);
            let issued = add_days(on, self.rng.range(20, 120));
            if issued <= self.today {
                let number = self.biometric_number(issued);
                let until = Some(add_days(add_years(issued, 10), -1));
                let doc = Ek::IdDoc {
                    doc_type: "BIOMETRIC_PASSPORT_AM",
                    number,
                    country: Some("AM"),
                    until,
                };
                self.ev(p, issued, Prov::Migration, doc);
            }
        }
    }

    /// Passports of the country of citizenship from `first` on, renewed (at its embassy) when they expire: five
    /// years for a child, ten for an adult.
    fn foreign_passports(&mut self, p: Pid, fc: &'static ForeignCountry, first: NaiveDate) {
        let birth = self.p(p).birth;
        let mut issued = first;
        for _ in 0..8 {
            if issued > self.today {
                break;
            }
            let years = if age(birth, issued) < 16 { 5 } else { 10 };
            let until = add_days(add_years(issued, years), -1);
            let number = fill_pattern(self.rng, &fc.passport_pattern);
            let doc = Ek::IdDoc {
                doc_type: "FOREIGN_PASSPORT",
                number,
                country: Some(&fc.country),
                until: Some(until),
            };
            self.ev(p, issued, Prov::Migration, doc);
            if until >= self.today {
                break;
            }
            issued = add_days(until, -self.rng.range(10, 120));
        }
    }

    /// Residence documents from `from`, renewed while they expire before today. A temporary residence status
    /// is given for a year; after three years of them it becomes a permanent one, for five.
    fn residence(&mut self, p: Pid, doc_type: &'static str, from: NaiveDate) {
        let mut years = match doc_type {
            "RD1" if self.rng.chance(0.3) => 5,
            "RD4" | "RD5" => 5,
            "RD9" => 3,
            _ => 1,
        };
        let prefix = match doc_type {
            "RD1" => "RS",
            "RD2" => "LR",
            "RD3" => "WP",
            "RD4" => "SP",
            "RD5" => "CT",
            "RD6" => "AS",
            "RD7" => "070",
            "RD8" => "TS",
            _ => "OD",
        };
        let mut issued = add_days(from, self.rng.range(0, 45)).min(self.today);
        for i in 0..12 {
            if doc_type == "RD1" && i == 3 {
                years = 5;
            }
            let until = add_days(add_years(issued, years), -1);
            let number = format!(
                "{prefix}{:07}",
                self.serials.next(Serial::Residence, 10_000_000)
            );
            self.ev(
                p,
                issued,
                Prov::Migration,
                Ek::ResDoc {
                    doc_type,
                    number,
                    until: Some(until),
                },
            );
            if until >= self.today {
                break;
            }
            issued = add_days(until, -self.rng.range(0, 20));
        }
    }

    fn foreigners(&mut self) {
        let Some(i) = self.t.foreign_weights.sample(self.rng) else {
            return self.single();
        };
        let fc: &'static ForeignCountry = &self.t.foreign[i];
        let natgroup = if self.rng.chance(fc.armenian_share) {
            ("ARM", Tables::ARMENIAN)
        } else {
            (fc.nationality.as_str(), fc.group)
        };
        let loc = if self.rng.chance(0.8) {
            self.geo.yerevan(self.rng)
        } else {
            self.geo.sample(self.rng)
        };
        let home = self.new_home(loc);
        // Most Russians came in the wave of 2022, most Syrians (Syrian Armenians) fleeing the war of 2012-2016;
        // the others over the last ten years.
        let (lo, hi) = match fc.country.as_str() {
            "RU" if self.rng.chance(0.6) => (ymd(2022, 3, 1), ymd(2023, 6, 30)),
            "SY" if self.rng.chance(0.7) => (ymd(2012, 6, 1), ymd(2016, 12, 31)),
            _ => (add_years(self.today, -10), add_days(self.today, -20)),
        };
        let arrived = self.rng.date(
            lo.min(add_days(self.today, -20)),
            hi.min(add_days(self.today, -20)),
        );
        let roll = self.rng.unit();
        if roll < 0.04 {
            self.stateless(home, arrived);
        } else if self.rng.chance(refugee_share(&fc.country)) {
            // Refugees and asylum seekers: from the wars in Syria, Iraq and Ukraine, a few from Iran and Lebanon.
            let sex = if self.rng.chance(0.6) { Sex::M } else { Sex::F };
            let birth = add_years(arrived, -(self.rng.range(18, 55) as i32));
            let birth = add_days(birth, -self.rng.range(0, 364));
            let Some(p) = self.foreign_person(sex, birth, fc, natgroup, home, arrived, None) else {
                return;
            };
            let x = self.rng.unit();
            let doc = if x < 0.5 {
                "RD5"
            } else if x < 0.8 {
                "RD6"
            } else {
                "RD7"
            };
            self.residence(p, doc, arrived);
            if doc == "RD5" {
                let issued = add_days(arrived, self.rng.range(60, 200)).min(self.today);
                let number = format!("RT{:07}", self.serials.next(Serial::Residence, 10_000_000));
                let until = Some(add_days(add_years(issued, 2), -1));
                let kind = Ek::IdDoc {
                    doc_type: "REFUGEE_TRAVEL_DOC",
                    number,
                    country: Some("AM"),
                    until,
                };
                self.ev(p, issued, Prov::Migration, kind);
            }
        } else if roll < 0.36 && self.can(2) {
            self.foreign_family(fc, natgroup, home, arrived);
        } else {
            let sex = if self.rng.chance(0.6) { Sex::M } else { Sex::F };
            let years = if fc.country == "IN" {
                self.rng.range(18, 24)
            } else {
                self.rng.range(20, 50)
            };
            let birth = add_days(add_years(arrived, -(years as i32)), -self.rng.range(0, 364));
            let Some(p) = self.foreign_person(sex, birth, fc, natgroup, home, arrived, None) else {
                return;
            };
            let x = self.rng.unit();
            let doc = match x {
                x if x < 0.45 => "RD1",
                x if x < 0.55 => "RD2",
                x if x < 0.75 => "RD3",
                x if x < 0.9 => "RD8",
                _ => "RD9",
            };
            self.residence(p, doc, arrived);
        }
    }

    fn foreign_family(
        &mut self,
        fc: &'static ForeignCountry,
        natgroup: (&'static str, usize),
        home: u16,
        arrived: NaiveDate,
    ) {
        let wife_birth = add_days(
            add_years(arrived, -(self.rng.range(23, 45) as i32)),
            -self.rng.range(0, 364),
        );
        let husband_birth = add_days(wife_birth, -self.spouse_gap_days());
        let married = self
            .wedding(wife_birth, husband_birth)
            .filter(|m| *m < add_days(arrived, -30));
        let Some(married) = married else {
            if let Some(p) =
                self.foreign_person(Sex::F, wife_birth, fc, natgroup, home, arrived, None)
            {
                self.residence(p, "RD1", arrived);
            }
            return;
        };
        let Some(h) = self.foreign_person(Sex::M, husband_birth, fc, natgroup, home, arrived, None)
        else {
            return;
        };
        // Married abroad: the wife arrives with the surname her passport carries, the husband's where that
        // is the custom (not in Iran, the Arab countries or China).
        let keeps_own = matches!(natgroup.0, "PER" | "ARB" | "CHN");
        let surname = (!keeps_own).then(|| self.p(h).names.surname);
        let Some(w) = self.foreign_person(Sex::F, wife_birth, fc, natgroup, home, arrived, surname)
        else {
            return;
        };
        self.record_marriage(Who::P(h), Who::P(w), married, Prov::Migration);
        for p in [h, w] {
            self.residence(p, if p == h { "RD3" } else { "RD1" }, arrived);
        }
        let dates = self.birth_dates(wife_birth, married, self.today);
        let mut kids = Vec::new();
        for d in dates.into_iter().take(3) {
            let k = if d < arrived {
                // Born abroad: registered on arrival, with the parents' names.
                if !self.can(1) {
                    break;
                }
                let hn = self.p(h).current;
                let sex = if self.rng.chance(0.515) {
                    Sex::M
                } else {
                    Sex::F
                };
                let first = self.first_name(sex, d.year(), natgroup.1, &[]);
                let names = Names {
                    first,
                    patronymic: None,
                    surname: hn.surname,
                };
                let locality = self.rng.pick(&fc.birth_places).map_or("", String::as_str);
                let place = BirthPlace::Abroad {
                    country: &fc.country,
                    locality,
                };
                let Some(k) = self.registered(
                    sex,
                    d,
                    names,
                    natgroup.0,
                    natgroup.1,
                    place,
                    Status::Foreigner,
                    home,
                    arrived,
                ) else {
                    break;
                };
                self.pm(k).mother = Some(w);
                self.pm(k).father = Some(h);
                self.foreign_documents(k, fc, arrived);
                self.residence(k, "RD1", arrived);
                k
            } else {
                // Born in Armenia to foreign parents: a birth entry, the parents' citizenship.
                let Some(k) = self.child(
                    Who::P(w),
                    Some(Who::P(h)),
                    home,
                    d,
                    None,
                    Paternity::Married,
                    &kids,
                ) else {
                    break;
                };
                self.pm(k).status = Status::Foreigner;
                self.ev(
                    k,
                    d,
                    Prov::Migration,
                    Ek::Citizenship {
                        country: &fc.country,
                        ground: None,
                    },
                );
                let passport = add_days(d, self.rng.range(20, 200));
                self.foreign_passports(k, fc, passport);
                self.residence(k, "RD1", add_days(d, 30));
                k
            };
            kids.push(k);
        }
    }

    /// A stateless person, most often an Armenian born in Azerbaijan who never became a citizen anywhere.
    fn stateless(&mut self, home: u16, arrived: NaiveDate) {
        let armenian = self.rng.chance(0.7);
        let group = if armenian {
            Tables::ARMENIAN
        } else {
            self.t.group("RUS")
        };
        let nationality = if armenian { "ARM" } else { "RUS" };
        let birth = self.rng.date(ymd(1950, 1, 1), ymd(1990, 12, 31));
        let sex = if self.rng.chance(0.5) { Sex::M } else { Sex::F };
        let names = self.fresh_names(sex, birth, group, true);
        let locality = if self.rng.chance(0.7) {
            "Baku"
        } else {
            "Sumgait"
        };
        let place = BirthPlace::Abroad {
            country: "AZ",
            locality,
        };
        let since = arrived.min(ymd(2010, 12, 31)).max(add_years(birth, 18));
        let Some(p) = self.registered(
            sex,
            birth,
            names,
            nationality,
            group,
            place,
            Status::Foreigner,
            home,
            since,
        ) else {
            return;
        };
        self.ev(p, since, Prov::Migration, Ek::Stateless);
        self.residence(p, "RD4", since);
        let issued = self.rng.date(since, self.today);
        let number = format!("ST{:07}", self.serials.next(Serial::Residence, 10_000_000));
        let until = Some(add_days(add_years(issued, 5), -1));
        let kind = Ek::IdDoc {
            doc_type: "STATELESS_TRAVEL_DOC",
            number,
            country: Some("AM"),
            until,
        };
        self.ev(p, issued, Prov::Migration, kind);
    }

    // ---------------------------------------------------------------------------------------------- rare facts

    /// Both parents of minor children die on one day; a grandparent becomes the children's guardian (curator
    /// from 14), until they come of age.
    fn tragedy(&mut self) {
        if !self.rng.chance(P_TRAGEDY) {
            return;
        }
        for i in 0..self.plan.couples.len() {
            let c = self.plan.couples[i];
            let (Who::P(h), Who::P(w), None) = (c.husband, c.wife, c.ended) else {
                continue;
            };
            if self.p(h).death.is_some()
                || self.p(w).death.is_some()
                || self.p(h).keep_alive
                || self.p(w).keep_alive
            {
                continue;
            }
            let kids: Vec<Pid> = (0..self.plan.persons.len() as Pid)
                .filter(|&k| self.p(k).mother == Some(w) && self.p(k).father == Some(h))
                .collect();
            let Some(youngest) = kids.iter().map(|&k| self.p(k).birth).max() else {
                continue;
            };
            // After every planned event of the family: the orphans' own later lives (a wedding at the family
            // home, say) are not planned, so moving them to the guardian contradicts nothing.
            let kids_last = kids
                .iter()
                .map(|&k| self.p(k).last_event)
                .max()
                .unwrap_or(youngest);
            let lo = self
                .p(h)
                .last_event
                .max(self.p(w).last_event)
                .max(youngest)
                .max(kids_last);
            let lo = add_days(lo, 1);
            let hi = add_days(add_years(youngest, 18), -1).min(add_days(self.today, -120));
            if lo > hi {
                continue;
            }
            let d = self.rng.date(lo, hi);
            let grandparents = [
                self.p(h).father,
                self.p(h).mother,
                self.p(w).mother,
                self.p(w).father,
            ];
            let Some(g) = grandparents.into_iter().flatten().find(|&g| {
                let x = self.p(g);
                x.death.is_none() && age(x.birth, d) <= 75 && x.home.is_some()
            }) else {
                continue;
            };
            self.pm(h).death = Some(d);
            self.pm(w).death = Some(d);
            self.pm(g).keep_alive = true;
            let g_home = self.p(g).home.unwrap_or(0);
            for k in kids {
                let kb = self.p(k).birth;
                if kb >= d || age(kb, d) >= 18 {
                    continue;
                }
                self.pm(k).keep_alive = true;
                let start = add_days(d, self.rng.range(20, 90));
                let kind = if age(kb, start) < 14 {
                    GuardianshipKind::Guardianship
                } else {
                    GuardianshipKind::Curatorship
                };
                self.guardianship(k, g, start, kind, GuardianshipGround::Age);
                self.move_to(k, g_home, start);
                let b14 = add_years(kb, 14);
                if kind == GuardianshipKind::Guardianship && b14 <= self.today {
                    self.end_guardianship(k, g, b14);
                    self.guardianship(
                        k,
                        g,
                        b14,
                        GuardianshipKind::Curatorship,
                        GuardianshipGround::Age,
                    );
                }
                let b18 = add_years(kb, 18);
                if b18 <= self.today {
                    self.end_guardianship(k, g, b18);
                }
            }
            return;
        }
    }

    fn guardianship(
        &mut self,
        ward: Pid,
        guardian: Pid,
        on: NaiveDate,
        kind: GuardianshipKind,
        ground: GuardianshipGround,
    ) {
        self.ev(
            ward,
            on,
            Prov::Guardianship,
            Ek::GuardStart {
                guardian,
                kind,
                ground,
            },
        );
        self.ev(
            guardian,
            on,
            Prov::Guardianship,
            Ek::WardAssigned { ward, kind },
        );
    }

    fn end_guardianship(&mut self, ward: Pid, guardian: Pid, on: NaiveDate) {
        self.ev(ward, on, Prov::Guardianship, Ek::GuardEnd { guardian });
        self.ev(guardian, on, Prov::Guardianship, Ek::WardReleased { ward });
    }

    /// Men who left to work in Russia, Armenia's long-standing labour migration: their main address is abroad
    /// and the consulate registers them; their families stay at home.
    fn labour_migration(&mut self) {
        for p in 0..self.plan.persons.len() as Pid {
            let x = self.p(p);
            if x.status != Status::Citizen || x.sex != Sex::M || x.keep_alive || x.death.is_some() {
                continue;
            }
            let (birth, last_event, single) = (x.birth, x.last_event, x.spouse.is_none());
            let share = match age(birth, self.today) {
                25..=34 => 0.03,
                35..=44 => 0.07,
                45..=62 => 0.1,
                _ => 0.0,
            };
            if !self.rng.chance(share) {
                continue;
            }
            // A father alone with minor children stays with them.
            let minors = (0..self.plan.persons.len() as Pid)
                .any(|c| self.p(c).father == Some(p) && age(self.p(c).birth, self.today) < 18);
            if single && minors {
                continue;
            }
            let lo = add_days(last_event, 1)
                .max(add_years(birth, 22))
                .max(add_years(self.today, -12));
            let hi = add_days(self.today, -200);
            let city = (0..10)
                .filter_map(|_| self.t.abroad_weights.sample(self.rng))
                .find(|&c| self.t.abroad[c].country == "RU");
            let (Some(city), true) = (city, lo <= hi) else {
                continue;
            };
            let left = self.rng.date(lo, hi);
            let home = self.new_abroad_home(city);
            self.pm(p).status = Status::Abroad;
            self.move_to(p, home, left);
            let since = add_days(left, self.rng.range(30, 300));
            if since <= self.today {
                let mission = self.t.abroad[city].mission.as_str();
                self.ev(p, since, Prov::Consular, Ek::Consular { mission });
            }
        }
    }

    /// Legal incapacity (with a guardian), convictions, and name changes other than at marriage.
    fn rare_facts(&mut self) {
        for p in 0..self.plan.persons.len() as Pid {
            let x = self.p(p);
            if x.status != Status::Citizen || x.death.is_some() {
                continue;
            }
            let (sex, birth, married_ever, home) = (x.sex, x.birth, x.married_ever, x.home);
            let a = age(birth, self.today);
            if a >= 21 && self.rng.chance(if sex == Sex::M { 0.006 } else { 0.0005 }) {
                self.conviction(p, birth, home);
            }
            if a >= 20 && self.rng.chance(0.002) {
                let lo = add_days(self.p(p).last_event, 1).max(add_years(birth, 18));
                let hi = add_days(self.today, -10);
                if lo <= hi {
                    let on = self.rng.date(lo, hi);
                    let mut n = self.p(p).current;
                    n.first = self.first_name(sex, birth.year(), self.p(p).group, &[n.first]);
                    self.ev(p, on, Prov::CivilRegistry, Ek::NameChange(n));
                    self.pm(p).current = n;
                }
            }
            let young = (20..=60).contains(&a) && !married_ever && self.rng.chance(0.01);
            let old = a >= 80 && self.rng.chance(0.01);
            if young || old {
                self.incapacity(p, young);
            }
        }
    }

    fn conviction(&mut self, p: Pid, birth: NaiveDate, home: Option<u16>) {
        let lo = add_years(birth, 18).max(add_years(self.today, -20));
        let hi = add_days(self.today, -30);
        if lo > hi {
            return;
        }
        let verdict = self.rng.date(lo, hi);
        let terms: [(u32, u32); 10] = [
            (24, 10),
            (36, 12),
            (48, 12),
            (60, 12),
            (72, 8),
            (84, 8),
            (96, 6),
            (120, 6),
            (144, 3),
            (180, 2),
        ];
        let months = pick_const(self.rng, &terms).copied().unwrap_or(36);
        let (prefix, court) = self.court(home);
        let case = format!(
            "{prefix}/{:04}/01/{:02}",
            self.rng.range(1, 9999),
            verdict.year() % 100
        );
        self.ev(
            p,
            verdict,
            Prov::Penitentiary,
            Ek::Conviction {
                case: case.clone(),
                months,
                court,
            },
        );
        let m = months as i32;
        let end = add_months(verdict, m);
        if end <= self.today {
            if self.rng.chance(0.6) {
                self.ev(p, end, Prov::Penitentiary, Ek::SentenceCompleted { case });
            } else {
                let paroled =
                    add_months(verdict, m / 2 + self.rng.range(0, i64::from(m / 4)) as i32);
                self.ev(p, paroled, Prov::Penitentiary, Ek::Parole { case });
            }
        } else {
            let eligible = add_months(verdict, m * 2 / 3);
            if eligible <= self.today && self.rng.chance(0.3) {
                let paroled = self.rng.date(eligible, self.today);
                self.ev(p, paroled, Prov::Penitentiary, Ek::Parole { case });
            }
        }
    }

    /// A court declares an adult legally incapable; a parent (or, for the old, an adult child) becomes the
    /// guardian. Some regain capacity later.
    fn incapacity(&mut self, p: Pid, young: bool) {
        let x = self.p(p);
        let candidates: Vec<Pid> = if young {
            [x.mother, x.father].into_iter().flatten().collect()
        } else {
            (0..self.plan.persons.len() as Pid)
                .filter(|&c| self.p(c).mother == Some(p) || self.p(c).father == Some(p))
                .collect()
        };
        let Some(g) = candidates.into_iter().find(|&g| {
            let y = self.p(g);
            let a = age(y.birth, self.today);
            y.death.is_none()
                && y.status == Status::Citizen
                && if young {
                    a <= 78
                } else {
                    (25..=70).contains(&a)
                }
        }) else {
            return;
        };
        let lo = add_days(self.p(p).last_event, 1)
            .max(add_years(self.p(p).birth, 18))
            .max(add_years(self.today, -12));
        let hi = add_days(self.today, -90);
        if lo > hi {
            return;
        }
        let judged = self.rng.date(lo, hi);
        let (prefix, court) = self.court(self.p(p).home);
        let case = format!(
            "{prefix}/{:04}/02/{:02}",
            self.rng.range(1, 9999),
            judged.year() % 100
        );
        self.ev(p, judged, Prov::Court, Ek::Incapacity { court, case });
        let start = add_days(judged, self.rng.range(15, 60));
        self.guardianship(
            p,
            g,
            start,
            GuardianshipKind::Guardianship,
            GuardianshipGround::LegalCapacity,
        );
        self.pm(p).keep_alive = true;
        self.pm(g).keep_alive = true;
        let restore_from = add_years(start, 1);
        if young && restore_from < self.today && self.rng.chance(0.2) {
            let restored = self.rng.date(restore_from, self.today);
            self.ev(p, restored, Prov::Court, Ek::CapacityRestored);
            self.end_guardianship(p, g, restored);
        }
    }

    // -------------------------------------------------------------------------------------------------- deaths

    /// Deaths in the last years (older people, men more), then the surviving spouses' widowhood.
    fn deaths(&mut self) {
        let window = add_years(self.today, -DEATH_WINDOW);
        let n = self.plan.persons.len() as Pid;
        for p in 0..n {
            let x = self.p(p);
            if x.death.is_some() || x.keep_alive {
                continue;
            }
            let (birth, last_event) = (x.birth, x.last_event);
            let a = age(birth, self.today);
            if !self.rng.chance(dies_in_window(a, x.sex)) {
                continue;
            }
            let lo = window.max(add_days(last_event, 1)).max(add_days(birth, 1));
            let hi = add_days(self.today, -1);
            if lo > hi {
                continue;
            }
            let d = self.rng.date(lo, hi);
            // Nobody leaves minor children without a parent here; that is the tragedy scenario's job.
            let cutoff = add_years(d, -18);
            if (0..n).any(|c| {
                (self.p(c).mother == Some(p) || self.p(c).father == Some(p))
                    && self.p(c).birth > cutoff
            }) {
                continue;
            }
            self.pm(p).death = Some(d);
        }
        let mut dead: Vec<(NaiveDate, Pid)> = (0..n)
            .filter_map(|p| self.p(p).death.map(|d| (d, p)))
            .collect();
        dead.sort_unstable();
        for (d, p) in dead {
            let by_court = self.rng.chance(0.01);
            let place = if by_court {
                None
            } else {
                self.p(p).home.map(|h| self.home_loc(h))
            };
            self.ev(
                p,
                d,
                if by_court {
                    Prov::Court
                } else {
                    Prov::CivilRegistry
                },
                Ek::Death { by_court, place },
            );
            if let Some(s) = self.p(p).spouse
                && self.p(s).spouse == Some(p)
                && self.p(s).death.is_none_or(|ds| ds > d)
            {
                self.ev(
                    s,
                    d,
                    Prov::CivilRegistry,
                    Ek::Widowhood { spouse: Who::P(p) },
                );
                self.pm(s).spouse = None;
            }
            self.pm(p).spouse = None;
        }
    }

    // ----------------------------------------------------------------------------------------------- documents

    /// Nationality, Armenian citizenship, birth certificates, passports and ID cards, additional addresses.
    fn documents(&mut self) {
        for p in 0..self.plan.persons.len() as Pid {
            let x = self.p(p).clone();
            let end = x.death.unwrap_or(self.today);
            if self.rng.chance(0.96) {
                self.ev(p, x.birth, Prov::Migration, Ek::Nationality(x.nationality));
            }
            let born_abroad = matches!(x.birth_place, BirthPlace::Abroad { .. });
            let consular_birth = matches!(
                x.origin,
                Origin::Birth {
                    prov: Prov::Consular,
                    ..
                }
            );
            if let Origin::Birth { prov, .. } = x.origin {
                let issued = add_days(x.birth, self.rng.range(3, 30)).min(end);
                let number = format!(
                    "BC{:07}",
                    self.serials.next(Serial::BirthCertificate, 10_000_000)
                );
                let prov = if prov == Prov::Consular {
                    Prov::Consular
                } else {
                    Prov::CivilRegistry
                };
                self.ev(
                    p,
                    issued,
                    prov,
                    Ek::IdDoc {
                        doc_type: "BIRTH_CERTIFICATE",
                        number,
                        country: Some("AM"),
                        until: None,
                    },
                );
            }
            if x.status == Status::Foreigner {
                continue;
            }
            if born_abroad && !consular_birth {
                // Born elsewhere in the USSR: recognized as a citizen under the 1995 law.
                let lo = ymd(1995, 11, 16).max(x.birth);
                let on = self.rng.date(lo, ymd(2005, 12, 31).max(lo)).min(end);
                self.ev(
                    p,
                    on,
                    Prov::Migration,
                    Ek::Citizenship {
                        country: "AM",
                        ground: Some("ACQ_RECOGNITION"),
                    },
                );
            } else {
                self.ev(
                    p,
                    x.birth,
                    Prov::Migration,
                    Ek::Citizenship {
                        country: "AM",
                        ground: Some("ACQ_BIRTH"),
                    },
                );
            }
            let adult = add_years(x.birth, 18);
            let dual_from = adult.max(dual_citizenship_from());
            if x.status == Status::Citizen
                && dual_from < end
                && self.rng.chance(0.02)
                && let Some(&country) = pick_const(self.rng, &SECOND_CITIZENSHIP)
            {
                let on = self.rng.date(dual_from, end);
                self.ev(
                    p,
                    on,
                    Prov::Migration,
                    Ek::Citizenship {
                        country,
                        ground: None,
                    },
                );
            }
            self.identity_documents(p, &x, end);
            if x.status == Status::Citizen
                && adult.max(new_documents_from()) < end
                && self.rng.chance(0.035)
            {
                let loc = if self.rng.chance(0.6) {
                    self.geo.yerevan(self.rng)
                } else {
                    self.near_home(x.home)
                };
                let home = self.new_home(loc);
                let from = self.rng.date(adult.max(new_documents_from()), end);
                let to = self
                    .rng
                    .chance(0.6)
                    .then(|| add_days(from, self.rng.range(180, 4 * 365)));
                self.ev(p, from, Prov::Migration, Ek::Additional { home, to });
            }
            if x.death.is_none() && self.rng.chance(0.02) {
                // A main address declared for a limited time (a rented flat).
                let last = self
                    .plan
                    .events
                    .iter_mut()
                    .rev()
                    .find(|e| e.who == p && matches!(e.kind, Ek::Main { .. }));
                if let Some(Ev {
                    kind: Ek::Main { to, .. },
                    ..
                }) = last
                {
                    *to = Some(add_days(self.today, 30 + (u64::from(p) * 37 % 700) as i64));
                }
            }
        }
    }

    fn identity_documents(&mut self, p: Pid, x: &Person, end: NaiveDate) {
        let sixteen = add_years(x.birth, 16);
        if sixteen > end {
            return;
        }
        let new_docs = new_documents_from();
        let a = age(x.birth, self.today);
        // The last old-style passport, for those who were 16 before the ID cards.
        let lo = sixteen.max(ymd(2002, 6, 1));
        let hi = end.min(ymd(2012, 5, 31));
        if lo <= hi {
            let issued = self.rng.date(lo, hi);
            let number = self.passport_number(issued);
            let until = Some(add_days(add_years(issued, 10), -1));
            self.ev(
                p,
                issued,
                Prov::Migration,
                Ek::IdDoc {
                    doc_type: "PASSPORT_AM",
                    number,
                    country: Some("AM"),
                    until,
                },
            );
        }
        if end < new_docs {
            return;
        }
        let abroad = x.status == Status::Abroad;
        let id_share = match (abroad, a) {
            (true, _) => 0.35,
            (false, ..70) => 0.88,
            (false, 70..80) => 0.65,
            _ => 0.45,
        };
        let passport_share = match (abroad, a) {
            (true, _) => 0.95,
            (false, ..65) => 0.4,
            _ => 0.15,
        };
        let first_from = sixteen.max(new_docs);
        for (doc_type, share) in [
            ("ID_CARD", id_share),
            ("BIOMETRIC_PASSPORT_AM", passport_share),
        ] {
            if !self.rng.chance(share) {
                continue;
            }
            let mut issued = if sixteen >= new_docs {
                add_days(sixteen, self.rng.range(0, 240)).min(end)
            } else {
                self.rng.date(first_from, end)
            };
            for _ in 0..3 {
                let number = if doc_type == "ID_CARD" {
                    format!("0{:08}", self.serials.next(Serial::IdCard, 100_000_000))
                } else {
                    self.biometric_number(issued)
                };
                let until = add_days(add_years(issued, 10), -1);
                self.ev(
                    p,
                    issued,
                    Prov::Migration,
                    Ek::IdDoc {
                        doc_type,
                        number,
                        country: Some("AM"),
                        until: Some(until),
                    },
                );
                let next = add_days(until, self.rng.range(-60, 90));
                if next > end {
                    break;
                }
                issued = next;
            }
        }
    }
}
