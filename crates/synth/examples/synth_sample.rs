//! Prints the first households of a generated population, one line per entry, to look at them as a person
//! would: names, dates, places, documents, family links.
//!
//! `cargo run --release -p popreg-synth --example synth_sample -- [households] [seed] [skip]`

use chrono::NaiveDate;
use popreg_domain::model::{Fact, PersonRef};
use popreg_domain::names::PersonNames;
use popreg_synth::{Config, generate};

fn names(n: &PersonNames) -> String {
    match &n.patronymic {
        Some(p) => format!(
            "{} {} {} ({} {} {})",
            n.surname.hy, n.first.hy, p.hy, n.surname.lat, n.first.lat, p.lat
        ),
        None => format!(
            "{} {} ({} {})",
            n.surname.hy, n.first.hy, n.surname.lat, n.first.lat
        ),
    }
}

fn who(r: &PersonRef) -> String {
    match r {
        PersonRef::Psn(p) => p.as_string(),
        PersonRef::Described(d) => format!(
            "[no PSN: {} {} {} b.{}]",
            d.surname,
            d.first_name,
            d.patronymic.as_deref().unwrap_or(""),
            d.birth_date.map(|b| b.to_string()).unwrap_or_default()
        ),
    }
}

fn line(f: &Fact) -> String {
    match f {
        Fact::Birth {
            names: n,
            birth_date,
            birth_place,
            sex,
            mother,
            father,
        } => format!(
            "BIRTH {sex:?} {birth_date} {} at {}/{} mother {} father {}",
            names(n),
            birth_place.country,
            birth_place
                .settlement
                .as_deref()
                .or(birth_place.locality.as_deref())
                .unwrap_or(""),
            mother.as_ref().map(who).unwrap_or_default(),
            father.as_ref().map(who).unwrap_or_default()
        ),
        Fact::Registration {
            names: n,
            birth_date,
            birth_place,
            sex,
        } => format!(
            "REGISTRATION {sex:?} {birth_date} {} at {}/{}",
            names(n),
            birth_place.country,
            birth_place
                .settlement
                .as_deref()
                .or(birth_place.locality.as_deref())
                .unwrap_or("")
        ),
        Fact::NameChange { names: n, date } => format!("name change {date} → {}", names(n)),
        Fact::Marriage {
            spouse,
            date,
            act_number,
        } => format!(
            "marriage {date} with {} act {}",
            who(spouse),
            act_number.as_deref().unwrap_or("")
        ),
        Fact::Divorce { spouse, date, .. } => format!("divorce {date} from {}", who(spouse)),
        Fact::Widowhood { spouse, date } => format!("widowhood {date} of {}", who(spouse)),
        Fact::ChildLinked {
            child,
            parentage,
            role,
            date,
        } => format!(
            "child {date} {} ({parentage:?}, {role:?})",
            child.as_string()
        ),
        Fact::MainAddress {
            address: a,
            valid_from,
            valid_to,
        }
        | Fact::AdditionalAddress {
            address: a,
            valid_from,
            valid_to,
        } => format!(
            "{} {valid_from}..{} {} {} {} {} bld {} apt {} {}",
            f.kind(),
            valid_to.map(|d| d.to_string()).unwrap_or_default(),
            a.postcode.as_deref().unwrap_or(""),
            a.country,
            a.settlement.as_deref().unwrap_or(""),
            a.street.as_deref().unwrap_or(""),
            a.building.as_deref().unwrap_or(""),
            a.apartment.as_deref().unwrap_or(""),
            a.locality.as_deref().unwrap_or("")
        ),
        Fact::IdentityDocumentIssued { document: d } => format!(
            "document {} {} {} issued {} until {}",
            d.doc_type,
            d.number,
            d.issuing_country.as_deref().unwrap_or(""),
            d.issued_on.map(|x| x.to_string()).unwrap_or_default(),
            d.valid_until.map(|x| x.to_string()).unwrap_or_default()
        ),
        Fact::ResidenceDocumentIssued { document: d } => format!(
            "residence {} {} issued {} until {}",
            d.doc_type,
            d.number,
            d.issued_on,
            d.valid_until.map(|x| x.to_string()).unwrap_or_default()
        ),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let households: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let seed = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let skip: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(0);
    let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
    let cfg = Config {
        persons: 1_000_000,
        seed,
        today,
    };
    for (i, b) in generate(&cfg).skip(skip).take(households).enumerate() {
        println!("=== household {} ({} persons)", i + skip, b.persons());
        let mut subjects: Vec<String> = Vec::new();
        for (_, e) in &b.entries {
            let s = e.subject.as_string();
            if !subjects.contains(&s) {
                subjects.push(s);
            }
        }
        for s in subjects {
            println!("  {s}");
            for (prov, e) in b.entries.iter().filter(|(_, e)| e.subject.as_string() == s) {
                println!("    [{}] {}", prov.provider, line(&e.fact));
            }
        }
    }
}
