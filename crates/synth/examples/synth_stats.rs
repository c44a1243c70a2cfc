//! Prints what a generated population looks like: the age and sex pyramid of the living, births by year,
//! geography, nationalities, marital status and how many entries of each kind.
//!
//! `cargo run --release -p popreg-synth --example synth_stats -- [persons] [seed]`

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, TimeZone, Utc};
use popreg_domain::entry::Entry;
use popreg_domain::model::{Fact, Sex};
use popreg_domain::person::{AsOf, MaritalStatus, PersonState};
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
        for log in by_person.values() {
            let Ok(s) = PersonState::fold(log, AsOf::default()) else {
                continue;
            };
            births
                .entry(s.birth_date.year())
                .and_modify(|c| *c += 1)
                .or_insert(1);
            if s.death.is_some() {
                dead += 1;
                continue;
            }
            alive += 1;
            let mut a = today.year() - s.birth_date.year();
            if (today.month(), today.day()) < (s.birth_date.month(), s.birth_date.day()) {
                a -= 1;
            }
            pyramid.entry((a / 5 * 5).min(85)).or_default()[usize::from(s.sex == Sex::F)] += 1;
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
            let _ = log.iter().any(|e| matches!(e.fact, Fact::Death { .. }));
        }
    }
    let pct = |x: u64, of: u64| 100.0 * x as f64 / of.max(1) as f64;
    println!("persons {persons}, batches {batches} (largest {max_batch}), entries {entries}");
    println!(
        "alive {alive}, dead {dead} ({:.2}%)",
        pct(dead, alive + dead)
    );
    let women: u64 = pyramid.values().map(|v| v[1]).sum();
    println!("women {:.1}% of the living", pct(women, alive));
    // Armenia, 2023 (Armstat, rounded): share of the population and share of women, by five-year age group.
    let target: [(f64, f64); 18] = [
        (5.9, 47.5),
        (6.9, 47.3),
        (7.0, 47.5),
        (6.0, 47.8),
        (5.5, 49.0),
        (6.7, 50.0),
        (8.6, 50.5),
        (8.0, 51.0),
        (6.7, 51.5),
        (5.8, 52.0),
        (5.7, 53.0),
        (6.3, 54.5),
        (6.8, 56.0),
        (5.6, 57.5),
        (3.8, 59.5),
        (1.8, 62.0),
        (1.8, 65.0),
        (1.0, 70.0),
    ];
    println!("\nage     men   women    % of living (Armenia)   women % (Armenia)");
    for (i, (a, [m, f])) in pyramid.iter().enumerate() {
        let (tp, tw) = target.get(i).copied().unwrap_or_default();
        println!(
            "{a:>3}+ {m:>7} {f:>7}    {:>5.1}% ({tp:>4.1}%)    {:>5.1}% ({tw:>4.1}%)",
            pct(m + f, alive),
            pct(*f, m + f)
        );
    }
    println!("\nbirths by year (all persons, scaled to 3,000,000):");
    let scale = 3_000_000.0 / persons as f64;
    for (y, c) in births.range(1985..) {
        println!("{y} {:>7.0}", *c as f64 * scale);
    }
    println!("\nmain address:");
    for (k, v) in &marz {
        println!("{k:>12} {:>5.1}%", pct(*v, alive));
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
