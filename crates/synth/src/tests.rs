//! Tests of the whole generator: invariants every generated person must satisfy (no event before birth or
//! after death, reciprocal links, lawful ages, well-formed documents and addresses) and the statistics that make
//! the population look like Armenia's (age pyramid, sex ratio, Yerevan's share, marriage ages, surnames).
//!
//! The population is generated once (20,000 persons) and shared by the tests.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate};
use popreg_domain::classifiers::classifiers;
use popreg_domain::entry::Provenance;
use popreg_domain::model::{Fact, ParentRole, Parentage, PersonRef, Sex};
use popreg_domain::names::{Name, PersonNames, transliterate};
use popreg_domain::psn::Psn;

use crate::data::Tables;
use crate::dates::{age, ymd};
use crate::{Config, generate};

const PERSONS: usize = 20_000;
const SEED: u64 = 2026;

fn today() -> NaiveDate {
    ymd(2026, 1, 1)
}

/// One generated person: their entries in batch order, and the batch they came in.
struct P {
    batch: usize,
    facts: Vec<(String, Fact)>,
}

impl P {
    fn created(&self) -> (&PersonNames, NaiveDate, Sex) {
        match &self.facts[0].1 {
            Fact::Birth {
                names,
                birth_date,
                sex,
                ..
            }
            | Fact::Registration {
                names,
                birth_date,
                sex,
                ..
            } => (names, *birth_date, *sex),
            other => panic!("first entry is {}", other.kind()),
        }
    }

    fn birth(&self) -> NaiveDate {
        self.created().1
    }

    fn sex(&self) -> Sex {
        self.created().2
    }

    fn death(&self) -> Option<NaiveDate> {
        self.facts.iter().find_map(|(_, f)| match f {
            Fact::Death { date, .. } => Some(*date),
            _ => None,
        })
    }

    /// The names in force on `on` (names at creation, then name changes, recognitions and adoptions).
    fn names_on(&self, on: NaiveDate) -> PersonNames {
        let mut n = self.created().0.clone();
        for (_, f) in &self.facts {
            let (date, after) = match f {
                Fact::NameChange { names, date } => (*date, Some(names)),
                Fact::PaternityRecognition {
                    names_after, date, ..
                }
                | Fact::Adoption {
                    names_after, date, ..
                } => (*date, names_after.as_ref()),
                _ => continue,
            };
            if date <= on
                && let Some(a) = after
            {
                n = a.clone();
            }
        }
        n
    }

    fn current_names(&self) -> PersonNames {
        self.names_on(today())
    }

    fn citizen_of(&self, country: &str) -> bool {
        let mut is = false;
        for (_, f) in &self.facts {
            match f {
                Fact::CitizenshipAcquired { country: c, .. } if c == country => is = true,
                Fact::CitizenshipTerminated { country: c, .. } if c == country => is = false,
                _ => {}
            }
        }
        is
    }

    /// The latest main address's country.
    fn lives_in(&self) -> Option<&str> {
        self.facts.iter().rev().find_map(|(_, f)| match f {
            Fact::MainAddress { address, .. } => Some(address.country.as_str()),
            _ => None,
        })
    }

    fn marz(&self) -> Option<&str> {
        self.facts.iter().rev().find_map(|(_, f)| match f {
            Fact::MainAddress { address, .. } => address.marz.as_deref(),
            _ => None,
        })
    }
}

struct Pop {
    persons: HashMap<Psn, P>,
    /// PSNs in creation order.
    order: Vec<Psn>,
    batches: usize,
}

impl Pop {
    fn get(&self, psn: &Psn) -> &P {
        &self.persons[psn]
    }

    fn iter(&self) -> impl Iterator<Item = (&Psn, &P)> {
        self.order.iter().map(|psn| (psn, &self.persons[psn]))
    }
}

fn build(cfg: &Config) -> Pop {
    let mut pop = Pop {
        persons: HashMap::new(),
        order: Vec::new(),
        batches: 0,
    };
    for (bi, b) in generate(cfg).enumerate() {
        pop.batches += 1;
        for (prov, e) in b.entries {
            let Provenance { provider, .. } = prov;
            if e.fact.creates_person() {
                assert!(
                    !pop.persons.contains_key(&e.subject),
                    "PSN {} created twice",
                    e.subject.as_string()
                );
                pop.order.push(e.subject);
                pop.persons.insert(
                    e.subject,
                    P {
                        batch: bi,
                        facts: Vec::new(),
                    },
                );
            }
            let Some(p) = pop.persons.get_mut(&e.subject) else {
                panic!(
                    "entry {} about {} before the person's creation",
                    e.fact.kind(),
                    e.subject.as_string()
                );
            };
            p.facts.push((provider, e.fact));
        }
    }
    pop
}

fn pop() -> &'static Pop {
    static POP: OnceLock<Pop> = OnceLock::new();
    POP.get_or_init(|| {
        // `SYNTH_TEST_SEED` runs the same checks on another population.
        let seed = std::env::var("SYNTH_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(SEED);
        build(&Config {
            persons: PERSONS,
            seed,
            today: today(),
        })
    })
}

/// Fails with the first violations and their count.
fn check(what: &str, violations: Vec<String>) {
    assert!(
        violations.is_empty(),
        "{what}: {} violations, e.g.\n{}",
        violations.len(),
        violations
            .iter()
            .take(8)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

fn pct(x: usize, of: usize) -> f64 {
    100.0 * x as f64 / of.max(1) as f64
}

fn psn_of(r: &PersonRef) -> Option<Psn> {
    r.psn()
}

// ------------------------------------------------------------------------------------------- determinism

#[test]
fn same_seed_same_population_and_exact_count() {
    let cfg = Config {
        persons: 3_000,
        seed: 42,
        today: today(),
    };
    let a: Vec<_> = generate(&cfg).collect();
    let b: Vec<_> = generate(&cfg).collect();
    assert_eq!(a, b);
    assert_eq!(a.iter().map(|b| b.persons()).sum::<usize>(), 3_000);
    let other: Vec<_> = generate(&Config {
        seed: 43,
        ..cfg.clone()
    })
    .collect();
    assert_ne!(a, other);
    assert_eq!(other.iter().map(|b| b.persons()).sum::<usize>(), 3_000);
    // A prefix of a larger run is not required to match, but a different `today` must move the dates.
    let later: Vec<_> = generate(&Config {
        today: ymd(2030, 1, 1),
        ..cfg
    })
    .collect();
    assert_ne!(a, later);
}

#[test]
fn exact_person_count_for_small_runs() {
    for n in [0, 1, 2, 5, 17] {
        let got: usize = generate(&Config {
            persons: n,
            seed: 9,
            today: today(),
        })
        .map(|b| b.persons())
        .sum();
        assert_eq!(got, n);
    }
}

#[test]
fn population_has_the_requested_size() {
    assert_eq!(pop().order.len(), PERSONS);
    assert!(pop().batches > PERSONS / 20);
}

// ------------------------------------------------------------------------------------------- time order

/// The date an entry's fact took effect (an end of validity, which may lie in the future, is not an event).
fn fact_dates(f: &Fact) -> Vec<NaiveDate> {
    f.valid_period().0.into_iter().collect()
}

#[test]
fn no_event_before_birth_or_after_death_or_today() {
    let mut bad = Vec::new();
    for (psn, p) in pop().iter() {
        let birth = p.birth();
        let end = p.death().unwrap_or(today());
        for (_, f) in &p.facts {
            for d in fact_dates(f) {
                if d < birth || d > end {
                    bad.push(format!(
                        "{}: {} on {d}, born {birth}, end {end}",
                        psn.as_string(),
                        f.kind()
                    ));
                }
            }
        }
        if let Some(d) = p.death() {
            if d >= today() {
                bad.push(format!(
                    "{}: death on {d} not before today",
                    psn.as_string()
                ));
            }
            let deaths = p
                .facts
                .iter()
                .filter(|(_, f)| matches!(f, Fact::Death { .. }))
                .count();
            if deaths != 1 {
                bad.push(format!("{}: {deaths} deaths", psn.as_string()));
            }
        }
        if birth > today() || birth < ymd(1915, 1, 1) {
            bad.push(format!("{}: born {birth}", psn.as_string()));
        }
    }
    check("event dates", bad);
}

#[test]
fn first_entry_creates_and_only_once() {
    let mut bad = Vec::new();
    for (psn, p) in pop().iter() {
        let creating = p.facts.iter().filter(|(_, f)| f.creates_person()).count();
        if creating != 1 || !p.facts[0].1.creates_person() {
            bad.push(psn.as_string());
        }
    }
    check("creating entries", bad);
}

// ------------------------------------------------------------------------------------------- marriages

/// A person's marital events in date order: (date, kind, spouse).
fn marital(p: &P) -> Vec<(NaiveDate, &'static str, Option<Psn>)> {
    let mut v: Vec<_> = p
        .facts
        .iter()
        .filter_map(|(_, f)| match f {
            Fact::Marriage { spouse, date, .. } => Some((*date, "marriage", psn_of(spouse))),
            Fact::Divorce { spouse, date, .. } => Some((*date, "divorce", psn_of(spouse))),
            Fact::Widowhood { spouse, date } => Some((*date, "widowhood", psn_of(spouse))),
            _ => None,
        })
        .collect();
    // On one day an end comes before a new marriage.
    v.sort_by_key(|(d, k, _)| (*d, *k == "marriage"));
    v
}

#[test]
fn marriages_are_lawful_and_alternate_with_their_ends() {
    let mut bad = Vec::new();
    let mut under18 = 0usize;
    let mut marriages = 0usize;
    for (psn, p) in pop().iter() {
        let mut married = false;
        for (d, k, _) in marital(p) {
            match k {
                "marriage" => {
                    marriages += 1;
                    let a = age(p.birth(), d);
                    if a < 16 {
                        bad.push(format!("{}: married at {a}", psn.as_string()));
                    } else if a < 18 {
                        under18 += 1;
                    }
                    if married {
                        bad.push(format!("{}: bigamy on {d}", psn.as_string()));
                    }
                    married = true;
                }
                _ => {
                    if !married {
                        bad.push(format!("{}: {k} on {d} while not married", psn.as_string()));
                    }
                    married = false;
                }
            }
        }
    }
    check("marriages", bad);
    assert!(
        pct(under18, marriages) < 1.0,
        "{under18} of {marriages} marriages under 18"
    );
}

#[test]
fn spouse_links_are_reciprocal() {
    let pop = pop();
    let mut bad = Vec::new();
    for (psn, p) in pop.iter() {
        for (_, f) in &p.facts {
            match f {
                Fact::Marriage {
                    spouse,
                    date,
                    act_number,
                } => {
                    let Some(s) = psn_of(spouse) else { continue };
                    let Some(sp) = pop.persons.get(&s) else {
                        bad.push(format!(
                            "{}: spouse {} unknown",
                            psn.as_string(),
                            s.as_string()
                        ));
                        continue;
                    };
                    let back = sp.facts.iter().any(|(_, g)| {
                        matches!(g, Fact::Marriage { spouse, date: d2, act_number: a2 }
                            if psn_of(spouse) == Some(*psn) && d2 == date && a2 == act_number)
                    });
                    if !back {
                        bad.push(format!(
                            "{}: marriage {date} not on spouse's log",
                            psn.as_string()
                        ));
                    }
                    if sp.sex() == p.sex() {
                        bad.push(format!("{}: same-sex marriage", psn.as_string()));
                    }
                }
                Fact::Divorce { spouse, date, .. } => {
                    let Some(s) = psn_of(spouse) else { continue };
                    let back = pop.get(&s).facts.iter().any(|(_, g)| {
                        matches!(g, Fact::Divorce { spouse, date: d2, .. }
                            if psn_of(spouse) == Some(*psn) && d2 == date)
                    });
                    if !back {
                        bad.push(format!(
                            "{}: divorce {date} not on spouse's log",
                            psn.as_string()
                        ));
                    }
                }
                Fact::Widowhood { spouse, date } => match psn_of(spouse) {
                    Some(s) => {
                        if pop.get(&s).death() != Some(*date) {
                            bad.push(format!(
                                "{}: widowed {date} but the spouse died {:?}",
                                psn.as_string(),
                                pop.get(&s).death()
                            ));
                        }
                    }
                    None => {
                        if let PersonRef::Described(d) = spouse
                            && !d.no_psn
                        {
                            bad.push(format!("{}: described spouse with a PSN", psn.as_string()));
                        }
                    }
                },
                _ => {}
            }
        }
        // A spouse in the register who dies while married leaves a widow(er).
        if let Some(d) = p.death() {
            let m = marital(p);
            if let Some((_, "marriage", Some(s))) = m.last()
                && pop.get(s).death().is_none_or(|ds| ds > d)
            {
                let widowed = pop.get(s).facts.iter().any(|(_, g)| {
                    matches!(g, Fact::Widowhood { spouse, date } if psn_of(spouse) == Some(*psn) && *date == d)
                });
                if !widowed {
                    bad.push(format!(
                        "{}: died married, spouse not widowed",
                        psn.as_string()
                    ));
                }
            }
        }
    }
    check("spouse links", bad);
}

#[test]
fn marriage_ages_are_armenian() {
    // First marriages registered in 2010 and later: women about 25, men about 29 (Armstat).
    let (mut f, mut m) = (Vec::new(), Vec::new());
    for (_, p) in pop().iter() {
        if let Some((d, "marriage", _)) = marital(p).first().copied()
            && d.year() >= 2010
        {
            let a = (d - p.birth()).num_days() as f64 / 365.25;
            if p.sex() == Sex::F {
                f.push(a);
            } else {
                m.push(a);
            }
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let (mf, mm) = (mean(&f), mean(&m));
    assert!(f.len() > 500 && m.len() > 500, "{} {}", f.len(), m.len());
    assert!((23.5..=27.0).contains(&mf), "women marry at {mf:.1}");
    assert!((27.0..=31.0).contains(&mm), "men marry at {mm:.1}");
    assert!(mm - mf > 2.0, "husbands {mm:.1}, wives {mf:.1}");
}

#[test]
fn wives_usually_take_the_husbands_surname() {
    let pop = pop();
    let (mut same, mut total) = (0usize, 0usize);
    let mut bad = Vec::new();
    // Surnames compared without the feminine ending of Russian surnames (Иванов, Иванова).
    let base = |n: &PersonNames| n.surname.lat.trim_end_matches('a').to_string();
    for (psn, p) in pop.iter() {
        // A name change on a wedding day brings the husband's surname, and changes nothing else.
        for (_, f) in &p.facts {
            let Fact::NameChange { names, date } = f else {
                continue;
            };
            let wedding = p.facts.iter().find_map(|(_, g)| match g {
                Fact::Marriage {
                    spouse: PersonRef::Psn(h),
                    date: d,
                    ..
                } if d == date => Some(*h),
                _ => None,
            });
            let Some(h) = wedding else { continue };
            let before = p.names_on(date.pred_opt().unwrap_or(*date));
            let husband = pop.get(&h).names_on(*date);
            if p.sex() != Sex::F
                || base(names) != base(&husband)
                || names.first != before.first
                || names.patronymic != before.patronymic
            {
                bad.push(format!(
                    "{}: on the wedding day {} became {}, husband {}",
                    psn.as_string(),
                    before.surname.lat,
                    names.surname.lat,
                    husband.surname.lat
                ));
            }
        }
        if p.sex() != Sex::F || p.death().is_some() || !p.citizen_of("AM") {
            continue;
        }
        let Some((_, "marriage", Some(h))) = marital(p).last().copied() else {
            continue;
        };
        if pop.get(&h).death().is_some() {
            continue;
        }
        total += 1;
        if base(&p.current_names()) == base(&pop.get(&h).current_names()) {
            same += 1;
        }
    }
    check("names at marriage", bad);
    assert!(total > 2_000, "{total} married women");
    let share = pct(same, total);
    assert!(
        (80.0..=97.0).contains(&share),
        "{share:.1}% of {total} married women carry the husband's surname"
    );
}

// ------------------------------------------------------------------------------------------- parents

#[test]
fn births_link_to_parents_of_lawful_age() {
    let pop = pop();
    let mut bad = Vec::new();
    let (mut mothers_under18, mut births) = (0usize, 0usize);
    for (psn, p) in pop.iter() {
        let Fact::Birth {
            mother,
            father,
            birth_date,
            ..
        } = &p.facts[0].1
        else {
            continue;
        };
        births += 1;
        for (r, role, sex) in [
            (mother, ParentRole::Mother, Sex::F),
            (father, ParentRole::Father, Sex::M),
        ] {
            let Some(parent) = r.as_ref().and_then(psn_of) else {
                continue;
            };
            let Some(pp) = pop.persons.get(&parent) else {
                bad.push(format!("{}: parent not in the register", psn.as_string()));
                continue;
            };
            if pp.batch > p.batch {
                bad.push(format!("{}: parent created later", psn.as_string()));
            }
            if pp.sex() != sex {
                bad.push(format!("{}: {role:?} of the wrong sex", psn.as_string()));
            }
            let a = age(pp.birth(), *birth_date);
            let ok = match role {
                ParentRole::Mother => (16..=50).contains(&a),
                _ => (17..=70).contains(&a),
            };
            if !ok {
                bad.push(format!("{}: {role:?} aged {a} at birth", psn.as_string()));
            }
            if role == ParentRole::Mother && a < 18 {
                mothers_under18 += 1;
            }
            if role == ParentRole::Mother && pp.death().is_some_and(|d| d < *birth_date) {
                bad.push(format!("{}: mother dead before the birth", psn.as_string()));
            }
            let linked = pp.facts.iter().any(|(_, f)| {
                matches!(f, Fact::ChildLinked { child, parentage: Parentage::Birth, role: r2, date }
                    if child == psn && *r2 == role && date == birth_date)
            });
            if !linked {
                bad.push(format!("{}: not on the {role:?}'s log", psn.as_string()));
            }
        }
    }
    check("births", bad);
    assert!(births > 5_000, "{births} births");
    assert!(pct(mothers_under18, births) < 1.0);
}

#[test]
fn every_child_link_points_back() {
    let pop = pop();
    let mut bad = Vec::new();
    for (psn, p) in pop.iter() {
        for (_, f) in &p.facts {
            let Fact::ChildLinked {
                child, parentage, ..
            } = f
            else {
                continue;
            };
            let Some(c) = pop.persons.get(child) else {
                bad.push(format!("{}: child unknown", psn.as_string()));
                continue;
            };
            let back = c.facts.iter().any(|(_, g)| match g {
                Fact::Birth { mother, father, .. } => [mother, father]
                    .into_iter()
                    .flatten()
                    .any(|r| psn_of(r) == Some(*psn)),
                Fact::PaternityRecognition { father, .. } => psn_of(father) == Some(*psn),
                Fact::Adoption { parents, .. } => parents.iter().any(|r| psn_of(r) == Some(*psn)),
                _ => false,
            });
            if !back {
                bad.push(format!(
                    "{}: {parentage:?} child does not name the parent",
                    psn.as_string()
                ));
            }
        }
    }
    check("child links", bad);
}

/// The genitive (patronymic form) of each first name in the tables, by the name in Armenian script.
fn genitives() -> HashMap<&'static str, &'static Name> {
    Tables::get()
        .first
        .iter()
        .map(|f| (f.name.hy.as_str(), &f.genitive))
        .collect()
}

#[test]
fn children_carry_the_fathers_name_and_surname() {
    let pop = pop();
    let genitive_of = genitives();
    let feminine: HashMap<&str, &str> = Tables::get()
        .surnames
        .iter()
        .map(|s| (s.male.lat.as_str(), s.female.lat.as_str()))
        .collect();
    let mut bad = Vec::new();
    let mut checked = 0usize;
    for (psn, p) in pop.iter() {
        let Fact::Birth {
            names,
            father: Some(PersonRef::Psn(f)),
            birth_date,
            sex,
            ..
        } = &p.facts[0].1
        else {
            continue;
        };
        let fp = pop.get(f);
        let fnames = fp.names_on(*birth_date);
        checked += 1;
        if fp.citizen_of("AM") || p.citizen_of("AM") {
            match (&names.patronymic, genitive_of.get(fnames.first.hy.as_str())) {
                (Some(pat), Some(g)) if pat == *g => {}
                (pat, g) => bad.push(format!(
                    "{}: patronymic {:?}, father {} (genitive {:?})",
                    psn.as_string(),
                    pat.as_ref().map(|n| &n.hy),
                    fnames.first.hy,
                    g.map(|n| &n.hy)
                )),
            }
        }
        let expected_lat = match sex {
            Sex::F => feminine
                .get(fnames.surname.lat.as_str())
                .map_or_else(|| fnames.surname.lat.clone(), |f| f.to_string()),
            Sex::M => fnames.surname.lat.clone(),
        };
        if names.surname.lat != expected_lat {
            bad.push(format!(
                "{}: surname {} but father {}",
                psn.as_string(),
                names.surname.lat,
                fnames.surname.lat
            ));
        }
    }
    check("children's names", bad);
    assert!(checked > 5_000);
}

#[test]
fn children_of_unknown_fathers_carry_the_mothers_surname_at_birth() {
    let pop = pop();
    let mut bad = Vec::new();
    for (psn, p) in pop.iter() {
        let Fact::Birth {
            names,
            mother: Some(PersonRef::Psn(m)),
            father: None,
            birth_date,
            ..
        } = &p.facts[0].1
        else {
            continue;
        };
        let mn = pop.get(m).names_on(*birth_date);
        let base = |s: &str| s.trim_end_matches('a').to_string();
        if base(&names.surname.lat) != base(&mn.surname.lat) {
            bad.push(format!(
                "{}: born {birth_date} as {}, mother then {}",
                psn.as_string(),
                names.surname.lat,
                mn.surname.lat
            ));
        }
    }
    check("surnames of children of unknown fathers", bad);
}

#[test]
fn patronymics_follow_the_genitive_rules() {
    let genitive_of = genitives();
    for (name, g) in [
        ("Արամ", "Արամի"),
        ("Գևորգ", "Գևորգի"),
        ("Պողոս", "Պողոսի"),
        ("Սարգիս", "Սարգսի"),
        ("Ժորա", "Ժորայի"),
        ("Եղիշե", "Եղիշեի"),
        ("Հրաչյա", "Հրաչյայի"),
    ] {
        assert_eq!(
            genitive_of.get(name).map(|n| n.hy.as_str()),
            Some(g),
            "{name}"
        );
    }
    assert_eq!(
        genitive_of.get("Գևորգ").map(|n| n.lat.as_str()),
        Some("Gevorgi")
    );
    assert_eq!(
        genitive_of.get("Երվանդ").map(|n| n.lat.as_str()),
        Some("Yervandi")
    );
}

#[test]
fn male_and_female_patronymics_are_the_same_word() {
    // Siblings of one father carry one patronymic whatever their sex.
    let pop = pop();
    let mut by_father: HashMap<Psn, HashSet<String>> = HashMap::new();
    for (_, p) in pop.iter() {
        if let Fact::Birth {
            names,
            father: Some(PersonRef::Psn(f)),
            birth_date,
            ..
        } = &p.facts[0].1
            && let Some(pat) = &names.patronymic
            && pop.get(f).names_on(*birth_date).first == pop.get(f).created().0.first
        {
            by_father.entry(*f).or_default().insert(pat.hy.clone());
        }
    }
    let mixed = by_father.values().filter(|s| s.len() > 1).count();
    assert_eq!(mixed, 0);
    assert!(by_father.len() > 2_000);
}

// ------------------------------------------------------------------------------------------- names

#[test]
fn names_are_valid_and_transliterated_by_the_passport_table() {
    let mut bad = Vec::new();
    for (psn, p) in pop().iter() {
        let n = p.current_names();
        if let Err(e) = n.validate() {
            bad.push(format!("{}: {e:?}", psn.as_string()));
        }
        // Armenian citizens born in Armenia carry the passport transliteration.
        if p.citizen_of("AM") && !p.citizen_of("RU") {
            for part in [Some(&n.first), n.patronymic.as_ref(), Some(&n.surname)]
                .into_iter()
                .flatten()
            {
                let expected = transliterate(&part.hy);
                if part.lat != expected && !is_foreign_form(&part.lat) {
                    bad.push(format!("{}: {} as {}", psn.as_string(), part.hy, part.lat));
                }
            }
        }
    }
    check("names", bad);
    assert_eq!(transliterate("Երվանդ"), "Yervand");
    assert_eq!(transliterate("Ոսկան"), "Voskan");
    assert_eq!(transliterate("Ղուկաս"), "Ghukas");
    assert_eq!(transliterate("Խաչատուր"), "Khachatur");
    assert_eq!(transliterate("Ծատուր"), "Tsatur");
    assert_eq!(transliterate("Ջիվան"), "Jivan");
    assert_eq!(transliterate("Ճաղարյան"), "Chagharyan");
    assert_eq!(transliterate("Ժորա"), "Zhora");
    assert_eq!(transliterate("Շուշանիկ"), "Shushanik");
    assert_eq!(transliterate("Յուրի"), "Yuri");
    assert_eq!(transliterate("Սևակ"), "Sevak");
}

/// Names whose Latin form comes from a foreign passport (minorities and foreigners naturalized).
fn is_foreign_form(lat: &str) -> bool {
    let t = Tables::get();
    t.first
        .iter()
        .any(|f| f.name.lat == lat && f.name.lat != transliterate(&f.name.hy))
        || t.surnames.iter().any(|s| {
            (s.male.lat == lat && s.male.lat != transliterate(&s.male.hy))
                || (s.female.lat == lat && s.female.lat != transliterate(&s.female.hy))
        })
}

#[test]
fn first_names_are_varied_and_of_the_right_sex() {
    let t = Tables::get();
    let arm = &t.groups[Tables::ARMENIAN];
    let male: HashSet<u16> = (0..crate::data::COHORTS)
        .flat_map(|c| arm.male[c].ids())
        .collect();
    let female: HashSet<u16> = (0..crate::data::COHORTS)
        .flat_map(|c| arm.female[c].ids())
        .collect();
    let by_hy: HashMap<&str, u16> = t
        .first
        .iter()
        .enumerate()
        .map(|(i, f)| (f.name.hy.as_str(), i as u16))
        .collect();
    let mut counts: HashMap<String, usize> = HashMap::new();
    let mut bad = Vec::new();
    for (psn, p) in pop().iter() {
        let n = &p.created().0.first.hy;
        *counts.entry(n.clone()).or_default() += 1;
        if let Some(&id) = by_hy.get(n.as_str()) {
            let wrong = match p.sex() {
                Sex::M => female.contains(&id) && !male.contains(&id),
                Sex::F => male.contains(&id) && !female.contains(&id),
            };
            if wrong {
                bad.push(format!("{}: {:?} named {n}", psn.as_string(), p.sex()));
            }
        }
    }
    check("first names by sex", bad);
    assert!(counts.len() > 250, "{} distinct first names", counts.len());
    let top = counts.values().max().copied().unwrap_or(0);
    assert!(pct(top, PERSONS) < 5.0, "most common first name {top}");
}

// ------------------------------------------------------------------------------------------- documents

fn is_digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_passport(s: &str) -> bool {
    s.len() == 9 && s[..2].bytes().all(|b| b.is_ascii_uppercase()) && is_digits(&s[2..], 7)
}

#[test]
fn documents_have_armenian_number_formats_and_never_repeat() {
    let c = classifiers();
    let mut bad = Vec::new();
    let mut numbers: HashSet<(String, String)> = HashSet::new();
    for (psn, p) in pop().iter() {
        let birth = p.birth();
        for (_, f) in &p.facts {
            match f {
                Fact::IdentityDocumentIssued { document: d } => {
                    if !c.is_known("identity-document-types", &d.doc_type) {
                        bad.push(format!("{}: type {}", psn.as_string(), d.doc_type));
                    }
                    let ok = match d.doc_type.as_str() {
                        "PASSPORT_AM" | "BIOMETRIC_PASSPORT_AM" => is_passport(&d.number),
                        "ID_CARD" => is_digits(&d.number, 9),
                        "BIRTH_CERTIFICATE" => {
                            d.number.starts_with("BC") && is_digits(&d.number[2..], 7)
                        }
                        _ => !d.number.is_empty() && d.number.is_ascii(),
                    };
                    if !ok {
                        bad.push(format!("{}: {} {}", psn.as_string(), d.doc_type, d.number));
                    }
                    if d.issuing_country.as_deref() == Some("AM")
                        && !numbers.insert((d.doc_type.clone(), d.number.clone()))
                    {
                        bad.push(format!("{}: {} repeated", psn.as_string(), d.number));
                    }
                    let issued = d.issued_on.unwrap_or(birth);
                    if matches!(d.doc_type.as_str(), "PASSPORT_AM" | "ID_CARD")
                        && age(birth, issued) < 16
                    {
                        bad.push(format!(
                            "{}: {} issued at {}",
                            psn.as_string(),
                            d.doc_type,
                            age(birth, issued)
                        ));
                    }
                    if let Some(u) = d.valid_until
                        && u <= issued
                    {
                        bad.push(format!("{}: document valid until {u}", psn.as_string()));
                    }
                }
                Fact::ResidenceDocumentIssued { document: d } => {
                    if !c.is_known("residence-documents", &d.doc_type) {
                        bad.push(format!("{}: residence {}", psn.as_string(), d.doc_type));
                    }
                    if !numbers.insert((d.doc_type.clone(), d.number.clone())) {
                        bad.push(format!("{}: {} repeated", psn.as_string(), d.number));
                    }
                }
                Fact::CitizenshipAcquired {
                    country, ground, ..
                }
                | Fact::CitizenshipTerminated {
                    country, ground, ..
                } => {
                    if !c.is_known("countries", country) {
                        bad.push(format!("{}: country {country}", psn.as_string()));
                    }
                    if let Some(g) = ground
                        && !c.is_known("citizenship-grounds", g)
                    {
                        bad.push(format!("{}: ground {g}", psn.as_string()));
                    }
                }
                Fact::Nationality { code, .. } if !c.is_known("nationalities", code) => {
                    bad.push(format!("{}: nationality {code}", psn.as_string()));
                }
                _ => {}
            }
        }
    }
    check("documents", bad);
}

#[test]
fn adult_citizens_at_home_hold_a_valid_identity_document() {
    let mut without = 0usize;
    let mut adults = 0usize;
    for (_, p) in pop().iter() {
        if p.death().is_some()
            || !p.citizen_of("AM")
            || p.lives_in() != Some("AM")
            || age(p.birth(), today()) < 18
        {
            continue;
        }
        adults += 1;
        let valid = p.facts.iter().any(|(_, f)| {
            matches!(f, Fact::IdentityDocumentIssued { document: d }
                if matches!(d.doc_type.as_str(), "ID_CARD" | "BIOMETRIC_PASSPORT_AM" | "PASSPORT_AM")
                    && d.valid_until.is_none_or(|u| u >= today()))
        });
        if !valid {
            without += 1;
        }
    }
    // Some let their documents lapse (mostly the old); not the majority.
    assert!(
        pct(without, adults) < 25.0,
        "{without} of {adults} adult citizens without a valid document"
    );
}

#[test]
fn foreigners_living_in_armenia_hold_residence_documents() {
    let mut bad = Vec::new();
    let mut foreigners = 0usize;
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for (psn, p) in pop().iter() {
        if p.citizen_of("AM") || p.death().is_some() || p.lives_in() != Some("AM") {
            continue;
        }
        foreigners += 1;
        let docs: Vec<&str> = p
            .facts
            .iter()
            .filter_map(|(_, f)| match f {
                Fact::ResidenceDocumentIssued { document } => Some(document.doc_type.as_str()),
                _ => None,
            })
            .collect();
        if docs.is_empty() {
            bad.push(format!(
                "{}: a foreigner without a residence document",
                psn.as_string()
            ));
        }
        // Refugees, asylum seekers and those under temporary protection come from countries at war.
        if docs.iter().any(|d| matches!(*d, "RD5" | "RD6" | "RD7")) {
            let from_war = ["SY", "IQ", "UA", "IR", "LB"]
                .iter()
                .any(|c| p.citizen_of(c));
            if !from_war {
                bad.push(format!(
                    "{}: a refugee from a country at peace",
                    psn.as_string()
                ));
            }
        }
        for d in docs {
            *kinds.entry(d.to_string()).or_default() += 1;
        }
        let passport = p.facts.iter().any(|(_, f)| {
            matches!(f, Fact::IdentityDocumentIssued { document }
                if matches!(document.doc_type.as_str(), "FOREIGN_PASSPORT" | "STATELESS_TRAVEL_DOC" | "REFUGEE_TRAVEL_DOC"))
        });
        let stateless = p
            .facts
            .iter()
            .any(|(_, f)| matches!(f, Fact::Statelessness { .. }));
        if !passport && !stateless && age(p.birth(), today()) >= 1 {
            bad.push(format!(
                "{}: a foreigner without a travel document",
                psn.as_string()
            ));
        }
    }
    check("foreigners", bad);
    let share = pct(foreigners, PERSONS);
    assert!((0.5..=3.0).contains(&share), "foreigners {share:.2}%");
    for k in ["RD1", "RD3"] {
        assert!(kinds.get(k).is_some_and(|&n| n > 10), "{kinds:?}");
    }
}

#[test]
fn citizens_abroad_are_registered_by_a_consulate() {
    let mut abroad = 0usize;
    let mut bad = Vec::new();
    for (psn, p) in pop().iter() {
        if p.death().is_some() || p.lives_in().is_none_or(|c| c == "AM") {
            continue;
        }
        abroad += 1;
        let consular = p
            .facts
            .iter()
            .any(|(_, f)| matches!(f, Fact::ConsularRegistration { .. }));
        if !consular && age(p.birth(), today()) >= 1 {
            bad.push(format!(
                "{}: abroad without consular registration",
                psn.as_string()
            ));
        }
    }
    let share = pct(abroad, PERSONS);
    assert!((1.0..=6.0).contains(&share), "abroad {share:.2}%");
    assert!(pct(bad.len(), abroad) < 5.0, "{bad:?}");
}

// ------------------------------------------------------------------------------------------- addresses

#[test]
fn addresses_are_in_real_communities() {
    let c = classifiers();
    let mut bad = Vec::new();
    for (psn, p) in pop().iter() {
        for (_, f) in &p.facts {
            let (Fact::MainAddress {
                address: a,
                valid_from,
                valid_to,
            }
            | Fact::AdditionalAddress {
                address: a,
                valid_from,
                valid_to,
            }) = f
            else {
                continue;
            };
            if valid_to.is_some_and(|t| t < *valid_from) {
                bad.push(format!(
                    "{}: address valid {valid_from}..{valid_to:?}",
                    psn.as_string()
                ));
            }
            if a.country != "AM" {
                if a.locality.as_deref().is_none_or(str::is_empty) {
                    bad.push(format!("{}: empty address abroad", psn.as_string()));
                }
                continue;
            }
            let (Some(m), Some(com), Some(s)) = (&a.marz, &a.community, &a.settlement) else {
                bad.push(format!("{}: incomplete address", psn.as_string()));
                continue;
            };
            match c.settlement(s) {
                Some((community, _)) if &community.code == com && &community.marz == m => {}
                _ => bad.push(format!("{}: {m} {com} {s}", psn.as_string())),
            }
            if a.street.as_deref().is_none_or(str::is_empty)
                || a.building.as_deref().is_none_or(str::is_empty)
            {
                bad.push(format!("{}: no street or building", psn.as_string()));
            }
            if !a.postcode.as_deref().is_some_and(|p| is_digits(p, 4)) {
                bad.push(format!("{}: postcode {:?}", psn.as_string(), a.postcode));
            }
            if m == "AM-ER" && !a.postcode.as_deref().is_some_and(|p| p.starts_with("00")) {
                bad.push(format!(
                    "{}: Yerevan postcode {:?}",
                    psn.as_string(),
                    a.postcode
                ));
            }
        }
    }
    check("addresses", bad);
}

#[test]
fn yerevan_streets_belong_to_their_district() {
    // A street that names its district ("Արաբկիրի 27-րդ փողոց", "Դավթաշենի 2-րդ թաղամաս") is only found there.
    let c = classifiers();
    let markers = [
        ("Արաբկիր", "Արաբկիր"),
        ("Դավթաշեն", "Դավթաշեն"),
        ("Նոր Նորք", "Նոր Նորք"),
        ("Ավան", "Ավան"),
        ("Նորագավիթ", "Շենգավիթ"),
        ("Նոր Արեշ", "Էրեբունի"),
    ];
    let mut bad = Vec::new();
    for (psn, p) in pop().iter() {
        for (_, f) in &p.facts {
            let Fact::MainAddress { address: a, .. } = f else {
                continue;
            };
            let (Some(street), Some(s)) = (&a.street, &a.settlement) else {
                continue;
            };
            if a.marz.as_deref() != Some("AM-ER") {
                continue;
            }
            let district = c
                .settlement(s)
                .map(|(_, s)| s.name.hy.as_str())
                .unwrap_or("");
            for (marker, home) in markers {
                if street.starts_with(marker) && !district.starts_with(home) {
                    bad.push(format!("{}: {street} in {district}", psn.as_string()));
                }
            }
        }
    }
    check("Yerevan streets", bad);
}

// ------------------------------------------------------------------------------------------- statistics

/// Age in completed years today of every living person in Armenia (residents, citizens or not).
fn resident_ages() -> Vec<(i32, Sex, &'static P)> {
    pop()
        .iter()
        .filter(|(_, p)| p.death().is_none() && p.lives_in() == Some("AM"))
        .map(|(_, p)| (age(p.birth(), today()), p.sex(), p))
        .collect()
}

#[test]
fn age_and_sex_pyramid_is_armenias() {
    let ages = resident_ages();
    let n = ages.len();
    let share = |lo: i32, hi: i32| pct(ages.iter().filter(|a| (lo..=hi).contains(&a.0)).count(), n);
    let women = pct(ages.iter().filter(|a| a.1 == Sex::F).count(), n);
    let mut sorted: Vec<i32> = ages.iter().map(|a| a.0).collect();
    sorted.sort_unstable();
    let median = sorted[n / 2];
    // Armenia, 2024-2026 (Armstat): about 53% women; children under 15 about 20%, 65 and over about 15%.
    assert!((51.5..=54.5).contains(&women), "women {women:.1}%");
    assert!((34..=40).contains(&median), "median age {median}");
    let children = share(0, 14);
    let old = share(65, 120);
    assert!((17.0..=23.0).contains(&children), "0-14: {children:.1}%");
    assert!((12.0..=18.0).contains(&old), "65+: {old:.1}%");
    // Women outnumber men from about 45 on; among the oldest by two to one.
    let women_in = |lo: i32, hi: i32| {
        let group: Vec<_> = ages.iter().filter(|a| (lo..=hi).contains(&a.0)).collect();
        pct(group.iter().filter(|a| a.1 == Sex::F).count(), group.len())
    };
    assert!(women_in(0, 14) < 50.0, "girls {:.1}%", women_in(0, 14));
    assert!(
        women_in(70, 120) > 55.0,
        "old women {:.1}%",
        women_in(70, 120)
    );
    // The small cohorts born in the crisis (1994-2003) are smaller than their parents' (1979-1988).
    let born = |lo: i32, hi: i32| {
        ages.iter()
            .filter(|a| (lo..=hi).contains(&a.2.birth().year()))
            .count()
    };
    let crisis = born(1994, 2003);
    let parents = born(1979, 1988);
    assert!(
        (crisis as f64) < 0.85 * parents as f64,
        "born 1994-2003: {crisis}, 1979-1988: {parents}"
    );
}

#[test]
fn yerevan_holds_about_a_third_of_the_residents() {
    let mut by_marz: BTreeMap<String, usize> = BTreeMap::new();
    let mut n = 0usize;
    for (_, p) in pop().iter() {
        if p.death().is_some() || p.lives_in() != Some("AM") {
            continue;
        }
        n += 1;
        *by_marz
            .entry(p.marz().unwrap_or("").to_string())
            .or_default() += 1;
    }
    let yerevan = pct(by_marz.get("AM-ER").copied().unwrap_or(0), n);
    assert!(
        (33.0..=40.0).contains(&yerevan),
        "Yerevan {yerevan:.1}%: {by_marz:?}"
    );
    assert_eq!(by_marz.len(), 11, "{by_marz:?}");
    for (m, c) in &by_marz {
        assert!(pct(*c, n) >= 1.0, "{m}: {c}");
    }
}

#[test]
fn marital_status_of_adults_is_plausible() {
    let pop = pop();
    let mut status: BTreeMap<(&str, bool), usize> = BTreeMap::new();
    let (mut men, mut women) = (0usize, 0usize);
    for (_, p) in pop.iter() {
        if p.death().is_some() || age(p.birth(), today()) < 18 || p.lives_in() != Some("AM") {
            continue;
        }
        let female = p.sex() == Sex::F;
        if female {
            women += 1;
        } else {
            men += 1;
        }
        let s = match marital(p).last() {
            None => "single",
            Some((_, k, _)) => k,
        };
        *status.entry((s, female)).or_default() += 1;
    }
    let get = |s: &str, f: bool| status.get(&(s, f)).copied().unwrap_or(0);
    let widows = pct(get("widowhood", true), women);
    let widowers = pct(get("widowhood", false), men);
    let divorced_f = pct(get("divorce", true), women);
    let married_m = pct(get("marriage", false), men);
    // Armenia (2011 census, adults): about 15% of women and 2.5% of men widowed, 5% of women divorced.
    assert!((10.0..=20.0).contains(&widows), "widows {widows:.1}%");
    assert!((1.5..=5.0).contains(&widowers), "widowers {widowers:.1}%");
    assert!(
        (3.0..=9.0).contains(&divorced_f),
        "divorced women {divorced_f:.1}%"
    );
    assert!(
        (50.0..=75.0).contains(&married_m),
        "married men {married_m:.1}%"
    );
}

#[test]
fn deaths_are_mostly_of_the_old_and_never_in_the_future() {
    let mut ages = Vec::new();
    for (_, p) in pop().iter() {
        if let Some(d) = p.death() {
            assert!(d < today());
            ages.push(age(p.birth(), d));
        }
    }
    assert!(ages.len() > 50, "{} deaths", ages.len());
    let old = ages.iter().filter(|&&a| a >= 60).count();
    assert!(
        pct(old, ages.len()) > 70.0,
        "{old} of {} deaths at 60+",
        ages.len()
    );
}

#[test]
fn divorces_are_a_minority_of_marriages() {
    let (mut marriages, mut divorces) = (0usize, 0usize);
    for (_, p) in pop().iter() {
        for (d, k, _) in marital(p) {
            if d.year() >= 2015 {
                match k {
                    "marriage" => marriages += 1,
                    "divorce" => divorces += 1,
                    _ => {}
                }
            }
        }
    }
    // Armenia registers about one divorce for every four or five marriages.
    let ratio = pct(divorces, marriages);
    assert!(
        (10.0..=40.0).contains(&ratio),
        "divorces/marriages {ratio:.1}%"
    );
}

#[test]
fn birth_years_show_the_1990s_collapse() {
    let mut by_year: BTreeMap<i32, usize> = BTreeMap::new();
    for (_, p) in pop().iter() {
        *by_year.entry(p.birth().year()).or_default() += 1;
    }
    let sum = |lo: i32, hi: i32| {
        (lo..=hi)
            .map(|y| by_year.get(&y).copied().unwrap_or(0))
            .sum::<usize>()
    };
    let late80s = sum(1986, 1990);
    let around2000 = sum(1998, 2002);
    let late2010s = sum(2015, 2019);
    assert!(
        (around2000 as f64) < 0.75 * late80s as f64,
        "1986-90 {late80s}, 1998-2002 {around2000}"
    );
    assert!(
        late2010s > around2000,
        "2015-19 {late2010s}, 1998-2002 {around2000}"
    );
}

#[test]
fn deaths_come_at_armenias_rate() {
    // Armenia: about 8-9 deaths a year per 1,000 people, 36,000 births against 26,000 deaths.
    let (mut deaths, mut births, mut living) = (0usize, 0usize, 0usize);
    let year = today().year() - 2;
    for (_, p) in pop().iter() {
        let born = p.birth();
        if born.year() == year {
            births += 1;
        }
        if born.year() < year && p.death().is_none_or(|d| d.year() >= year) {
            living += 1;
        }
        if p.death().is_some_and(|d| d.year() == year) {
            deaths += 1;
        }
    }
    let rate = 1000.0 * deaths as f64 / living.max(1) as f64;
    assert!(
        (5.0..=11.0).contains(&rate),
        "{deaths} deaths in {year}: {rate:.1} per 1,000"
    );
    assert!(
        deaths < births,
        "{deaths} deaths, {births} births in {year}"
    );
    let dead = pop().iter().filter(|(_, p)| p.death().is_some()).count();
    assert!((3.0..=9.0).contains(&pct(dead, PERSONS)), "{dead} dead");
}

#[test]
fn dual_citizenship_and_notice_addresses_respect_the_law_of_their_time() {
    let mut bad = Vec::new();
    for (psn, p) in pop().iter() {
        // Citizenships in force, by acquisition order; Armenia allows a second one only since February 2007.
        let mut held: Vec<(String, NaiveDate)> = Vec::new();
        for (_, f) in &p.facts {
            match f {
                Fact::CitizenshipAcquired { country, date, .. } => {
                    let dual = held.iter().any(|(c, _)| c == "AM")
                        || (country == "AM" && !held.is_empty());
                    if dual && *date < ymd(2007, 2, 26) {
                        bad.push(format!(
                            "{}: {country} on {date} besides {held:?}",
                            psn.as_string()
                        ));
                    }
                    held.push((country.clone(), *date));
                }
                Fact::CitizenshipTerminated { country, .. } => held.retain(|(c, _)| c != country),
                // Additional addresses for official notices came with the ID cards and the e-government.
                Fact::AdditionalAddress { valid_from, .. } if *valid_from < ymd(2012, 6, 1) => {
                    bad.push(format!(
                        "{}: additional address from {valid_from}",
                        psn.as_string()
                    ));
                }
                _ => {}
            }
        }
    }
    check("citizenships and notice addresses", bad);
}

#[test]
fn children_born_before_the_wedding_are_recognized_by_the_father() {
    let pop = pop();
    let mut bad = Vec::new();
    let mut recognized = 0usize;
    for (psn, p) in pop.iter() {
        for (_, f) in &p.facts {
            let Fact::PaternityRecognition {
                father,
                names_after: Some(after),
                date,
                ..
            } = f
            else {
                continue;
            };
            recognized += 1;
            let Some(fp) = psn_of(father).map(|f| pop.get(&f)) else {
                continue;
            };
            let fnames = fp.names_on(*date);
            let patronymic_ok = after
                .patronymic
                .as_ref()
                .is_some_and(|pat| genitives().get(fnames.first.hy.as_str()) == Some(&pat));
            let base = |n: &Name| n.lat.trim_end_matches('a').to_string();
            if !patronymic_ok || base(&after.surname) != base(&fnames.surname) || *date < p.birth()
            {
                bad.push(format!(
                    "{}: recognized on {date} as {:?}",
                    psn.as_string(),
                    after.surname.lat
                ));
            }
            let linked = fp.facts.iter().any(|(_, g)| {
                matches!(g, Fact::ChildLinked { child, parentage: Parentage::Recognition, role: ParentRole::Father, date: d }
                    if child == psn && d == date)
            });
            if !linked {
                bad.push(format!(
                    "{}: recognition not on the father's log",
                    psn.as_string()
                ));
            }
        }
    }
    check("paternity recognitions", bad);
    assert!(recognized > 20, "{recognized} recognitions");
}

#[test]
fn foreigners_have_no_armenian_patronymic_and_carry_a_passport() {
    // Foreign citizens of foreign nationality (not Armenians, Russians or Yazidis of Armenia), whether born
    // abroad or in Armenia, are named as their passports name them: without a patronymic.
    let pop = pop();
    let mut bad = Vec::new();
    let (mut seen, mut born_here) = (0usize, 0usize);
    for (psn, p) in pop.iter() {
        let foreign_nationality = p.facts.iter().any(|(_, f)| {
            matches!(f, Fact::Nationality { code, .. } if !matches!(code.as_str(), "ARM" | "RUS" | "YAZ" | "KUR" | "ASY" | "UKR"))
        });
        if p.citizen_of("AM") || !foreign_nationality {
            continue;
        }
        seen += 1;
        if matches!(p.facts[0].1, Fact::Birth { .. }) {
            born_here += 1;
        }
        if let Some(pat) = &p.created().0.patronymic {
            bad.push(format!("{}: patronymic {}", psn.as_string(), pat.lat));
        }
        let passport = p.facts.iter().any(|(_, f)| {
            matches!(f, Fact::IdentityDocumentIssued { document } if document.doc_type == "FOREIGN_PASSPORT")
        });
        if !passport && age(p.birth(), today()) >= 1 {
            bad.push(format!("{}: no passport", psn.as_string()));
        }
    }
    check("foreigners' names and passports", bad);
    assert!(seen > 40, "{seen} foreigners, {born_here} born in Armenia");
}

#[test]
fn married_couples_live_together() {
    let pop = pop();
    let (mut couples, mut apart) = (0usize, Vec::new());
    let addr = |p: &P| {
        p.facts.iter().rev().find_map(|(_, f)| match f {
            Fact::MainAddress { address, .. } => Some(address.clone()),
            _ => None,
        })
    };
    for (psn, p) in pop.iter() {
        if p.sex() != Sex::F || p.death().is_some() {
            continue;
        }
        let Some((_, "marriage", Some(h))) = marital(p).last().copied() else {
            continue;
        };
        let hp = pop.get(&h);
        if hp.death().is_some() || p.lives_in() != Some("AM") || hp.lives_in() != Some("AM") {
            continue;
        }
        couples += 1;
        if addr(p) != addr(hp) {
            apart.push(format!("{} and {}", psn.as_string(), h.as_string()));
        }
    }
    assert!(couples > 2_000);
    check("couples at different addresses", apart);
}

#[test]
fn minors_live_with_a_parent_or_guardian() {
    let pop = pop();
    let addr = |p: &P| {
        p.facts.iter().rev().find_map(|(_, f)| match f {
            Fact::MainAddress { address, .. } => Some(address.clone()),
            _ => None,
        })
    };
    let mut bad = Vec::new();
    let mut minors = 0usize;
    for (psn, p) in pop.iter() {
        if p.death().is_some() || age(p.birth(), today()) >= 18 {
            continue;
        }
        // Parents by birth, recognition and adoption; guardians.
        let mut carers: Vec<Psn> = Vec::new();
        for (_, f) in &p.facts {
            match f {
                Fact::Birth { mother, father, .. } => {
                    carers.extend([mother, father].into_iter().flatten().filter_map(psn_of));
                }
                Fact::PaternityRecognition { father, .. } => carers.extend(psn_of(father)),
                Fact::Adoption { parents, .. } => carers.extend(parents.iter().filter_map(psn_of)),
                Fact::GuardianshipStarted { guardian, .. } => carers.extend(psn_of(guardian)),
                _ => {}
            }
        }
        if carers.is_empty() {
            continue;
        }
        minors += 1;
        let home = addr(p);
        if !carers.iter().any(|c| addr(pop.get(c)) == home) {
            bad.push(psn.as_string());
        }
    }
    assert!(minors > 2_000);
    check("minors living apart from their parents", bad);
}

#[test]
fn spouses_who_died_before_the_register_carry_the_documents_of_their_time() {
    let mut bad = Vec::new();
    let mut seen = 0usize;
    for (psn, p) in pop().iter() {
        for (_, f) in &p.facts {
            let Fact::Widowhood {
                spouse: PersonRef::Described(d),
                date,
            } = f
            else {
                continue;
            };
            seen += 1;
            let doc = &d.identity_document;
            let issued = doc.issued_on.unwrap_or(*date);
            let born = d.birth_date.unwrap_or(issued);
            let format_ok = match doc.doc_type.as_str() {
                "PASSPORT_AM" => is_passport(&doc.number) && issued >= ymd(1995, 1, 1),
                "OTHER" => issued < ymd(1995, 6, 2),
                _ => false,
            };
            if !d.no_psn || issued >= *date || age(born, issued) < 16 || !format_ok {
                bad.push(format!(
                    "{}: spouse died {date}, {} {} issued {issued}",
                    psn.as_string(),
                    doc.doc_type,
                    doc.number
                ));
            }
        }
    }
    check("described spouses", bad);
    assert!(seen > 500, "{seen} widowhoods of described spouses");
}
