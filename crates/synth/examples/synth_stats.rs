//! Prints what a generated population looks like next to Armenia's figures: the age and sex pyramid of the
//! living, median age, births and deaths by year, geography, nationalities, marital status, ages at first
//! marriage and at childbirth, wives' surnames, divorces, and how many entries of each kind.
//!
//! `cargo run --release -p popreg-synth --example synth_stats -- [persons] [seed]`

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, TimeZone, Utc};
use popreg_domain::entry::Entry;
use popreg_domain::model::{ParentRole, Parentage, Sex};
use popreg_domain::person::{AsOf, MaritalStatus, MarriageEnd, PersonState};
use popreg_synth::{Config, generate};

fn main() {
    let mut args = std::env::args().skip(1);
    let persons = args.next().and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let seed = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
    let now = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let cfg = Config {
        persons,
        seed,
        today,
    };

    let mut pyramid: BTreeMap<i32, [u64; 2]> = BTreeMap::new();
    let mut births: BTreeMap<i32, u64> = BTreeMap::new();
    let mut kinds: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut marz: BTreeMap<String, u64> = BTreeMap::new();
    let mut nat: BTreeMap<String, u64> = BTreeMap::new();
    let mut marital: BTreeMap<String, u64> = BTreeMap::new();
    let mut deaths: BTreeMap<i32, u64> = BTreeMap::new();
    let mut ages: Vec<i32> = Vec::new();
    // First marriages from 2015: (sum of ages, count) for women and men.
    let mut first_marriage = [(0.0f64, 0u64); 2];
    let mut mothers_age = (0.0f64, 0u64);
    let (mut marriages, mut divorces) = (0u64, 0u64);
    let (mut wives, mut wives_same) = (0u64, 0u64);
    let years = |from: NaiveDate, to: NaiveDate| (to - from).num_days() as f64 / 365.25;
    let (mut dead, mut alive, mut batches, mut entries, mut max_batch) =
        (0u64, 0u64, 0u64, 0u64, 0usize);
    let mut id = 0i64;
    for b in generate(&cfg) {
        batches += 1;
        entries += b.entries.len() as u64;
        max_batch = max_batch.max(b.persons());
        let mut by_person: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
        for (prov, e) in b.entries {
            *kinds.entry(e.fact.kind()).or_default() += 1;
            id += 1;
            by_person
                .entry(e.subject.to_string())
                .or_default()
                .push(Entry::recorded(id, now, e, &prov));
        }
        let states: BTreeMap<String, PersonState> = by_person
            .iter()
            .filter_map(|(k, log)| Some((k.clone(), PersonState::fold(log, AsOf::default()).ok()?)))
            .collect();
        for s in states.values() {
            for m in &s.marriages {
                if m.married_on.year() >= 2015 {
                    marriages += 1;
                }
                if m.ended_by == Some(MarriageEnd::Divorce)
                    && m.ended_on.is_some_and(|d| d.year() >= 2015)
                {
                    divorces += 1;
                }
            }
            if let Some(m) = s.marriages.first()
                && m.married_on.year() >= 2015
            {
                let slot = &mut first_marriage[usize::from(s.sex == Sex::M)];
                slot.0 += years(s.birth_date, m.married_on);
                slot.1 += 1;
            }
            if s.birth_date.year() >= 2015
                && let Some(mother) = s
                    .parents
                    .iter()
                    .find(|p| p.role == ParentRole::Mother && p.parentage == Parentage::Birth)
                    .and_then(|p| p.parent.psn())
                    .and_then(|m| states.get(&m.to_string()))
            {
                mothers_age.0 += years(mother.birth_date, s.birth_date);
                mothers_age.1 += 1;
            }
            // A living wife whose husband is in the register: does she carry his surname?
            if s.sex == Sex::F
                && s.death.is_none()
                && s.marital_status == MaritalStatus::Married
                && let Some(h) = s
                    .marriages
                    .last()
                    .and_then(|m| m.spouse.psn())
                    .and_then(|h| states.get(&h.to_string()))
            {
                wives += 1;
                if s.names.surname.lat.trim_end_matches('a') == h.names.surname.lat {
                    wives_same += 1;
                }
            }
        }
        for s in states.values() {
            births
                .entry(s.birth_date.year())
                .and_modify(|c| *c += 1)
                .or_insert(1);
            if let Some(d) = &s.death {
                dead += 1;
                *deaths.entry(d.date.year()).or_default() += 1;
                continue;
            }
            alive += 1;
            let mut a = today.year() - s.birth_date.year();
            if (today.month(), today.day()) < (s.birth_date.month(), s.birth_date.day()) {
                a -= 1;
            }
            // The pyramid is of the residents, as Armstat counts the population.
            if s.main_address_on(today)
                .is_some_and(|m| m.address.country == "AM")
            {
                ages.push(a);
                pyramid.entry((a / 5 * 5).min(85)).or_default()[usize::from(s.sex == Sex::F)] += 1;
            }
            if let Some(m) = s.main_address_on(today) {
                *marz
                    .entry(
                        m.address
                            .marz
                            .clone()
                            .unwrap_or_else(|| format!("abroad {}", m.address.country)),
                    )
                    .or_default() += 1;
            }
            *nat.entry(s.nationality.clone().unwrap_or_else(|| "-".into()))
                .or_default() += 1;
            if a >= 18 {
                let k = match s.marital_status {
                    MaritalStatus::Single => "single",
                    MaritalStatus::Married => "married",
                    MaritalStatus::Divorced => "divorced",
                    MaritalStatus::Widowed => "widowed",
                };
                *marital
                    .entry(format!("{k} {}", if s.sex == Sex::F { "F" } else { "M" }))
                    .or_default() += 1;
            }
        }
    }
    let pct = |x: u64, of: u64| 100.0 * x as f64 / of.max(1) as f64;
    println!("persons {persons}, batches {batches} (largest {max_batch}), entries {entries}");
    println!(
        "alive {alive}, dead {dead} ({:.2}%)",
        pct(dead, alive + dead)
    );
    let women: u64 = pyramid.values().map(|v| v[1]).sum();
    let residents = ages.len() as u64;
    println!(
        "residents {residents}; women {:.1}% of them (Armenia 52.5-53%)",
        pct(women, residents)
    );
    ages.sort_unstable();
    println!(
        "median age of residents {} (Armenia about 37)",
        ages.get(ages.len() / 2).copied().unwrap_or(0)
    );
    // Armenia at the start of 2026: Armstat's 2023 figures (share of the population and share of women by
    // five-year age group) moved on by three years, rounded.
    let target: [(f64, f64); 18] = [
        (5.6, 47.5),
        (6.3, 47.4),
        (6.9, 47.4),
        (6.6, 47.6),
        (5.8, 48.4),
        (6.0, 49.5),
        (7.5, 50.3),
        (8.4, 50.8),
        (7.5, 51.3),
        (6.3, 51.8),
        (5.8, 52.6),
        (5.9, 54.0),
        (6.5, 55.4),
        (6.0, 57.0),
        (4.5, 58.8),
        (2.7, 61.5),
        (1.5, 64.5),
        (1.1, 70.0),
    ];
    println!("\nage     men   women  % of residents (Armenia)  women % (Armenia)");
    for (i, (a, [m, f])) in pyramid.iter().enumerate() {
        let (tp, tw) = target.get(i).copied().unwrap_or_default();
        println!(
            "{a:>3}+ {m:>7} {f:>7}    {:>5.1}% ({tp:>4.1}%)    {:>5.1}% ({tw:>4.1}%)",
            pct(m + f, residents),
            pct(*f, m + f)
        );
    }
    println!(
        "\nbirths and deaths by year (scaled to 3,000,000 persons; Armenia: 36,000 births and 26,000 deaths a year in the 2020s):"
    );
    let scale = 3_000_000.0 / persons as f64;
    for (y, c) in births.range(1985..) {
        let d = deaths.get(y).copied().unwrap_or(0);
        println!("{y} {:>7.0} {:>7.0}", *c as f64 * scale, d as f64 * scale);
    }
    let mean = |(sum, n): (f64, u64)| sum / n.max(1) as f64;
    println!(
        "\nmean age at first marriage from 2015: women {:.1}, men {:.1} (Armenia about 25 and 29)",
        mean(first_marriage[0]),
        mean(first_marriage[1])
    );
    println!(
        "mean age of mothers at births from 2015: {:.1} (Armenia about 28)",
        mean(mothers_age)
    );
    println!(
        "divorces per 100 marriages from 2015: {:.1} (Armenia about 20-25)",
        pct(divorces, marriages)
    );
    println!(
        "married women carrying the husband's surname: {:.1}% of {wives}",
        pct(wives_same, wives)
    );
    println!("\nmain address (% of the living; Yerevan about 36-37% of Armenia's residents):");
    let residents: u64 = marz
        .iter()
        .filter(|(k, _)| k.starts_with("AM-"))
        .map(|(_, v)| v)
        .sum();
    for (k, v) in &marz {
        if k.starts_with("AM-") {
            println!(
                "{k:>12} {:>5.1}%  ({:.1}% of residents)",
                pct(*v, alive),
                pct(*v, residents)
            );
        } else {
            println!("{k:>12} {:>5.1}%", pct(*v, alive));
        }
    }
    println!("\nnationality:");
    for (k, v) in &nat {
        println!("{k:>5} {:>6.2}%", pct(*v, alive));
    }
    println!("\nmarital status of living adults:");
    for (k, v) in &marital {
        println!("{k:>12} {v:>7}");
    }
    println!("\nentries by kind:");
    for (k, v) in &kinds {
        println!("{k:>28} {v:>8}");
    }
}
