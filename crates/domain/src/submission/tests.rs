//! The grounds of A1.49: each rule of [`decide`] with a case that passes it and one that fails it.

use chrono::{TimeZone, Utc};
use serde_json::json;

use super::*;
use crate::entry::{Channel, Entry, ExternalIds, Provenance};
use crate::person::AsOf;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn psn(n: u32) -> Psn {
    let mut body = [0u8; 9];
    let digits = format!("{:09}", 100_000_000 + n * 7919);
    for (i, c) in digits.bytes().enumerate() {
        body[i] = c - b'0';
    }
    Psn::from_body(body)
}

const TODAY: &str = "2026-11-23";

/// A small register built by folding entries, as the store would.
#[derive(Default)]
struct World {
    entries: Vec<Entry>,
}

impl World {
    fn add(&mut self, subject: Psn, fact: Fact) {
        let prov = Provenance {
            provider: "TEST".into(),
            user_uid: "u".into(),
            channel: Channel::Import,
            external: ExternalIds::default(),
        };
        let id = self.entries.len() as i64 + 1;
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        self.entries
            .push(Entry::recorded(id, at, NewEntry::new(subject, fact), &prov));
    }

    fn person(&mut self, p: Psn, first: &str, surname: &str, sex: Sex, born: &str) {
        self.add(
            p,
            Fact::Registration {
                names: PersonNames {
                    first: Name::armenian(first).unwrap(),
                    patronymic: None,
                    surname: Name::armenian(surname).unwrap(),
                },
                birth_date: d(born),
                birth_place: Place {
                    country: "AM".into(),
                    ..Place::default()
                },
                sex,
            },
        );
    }

    fn apply(&mut self, entries: Vec<NewEntry>) {
        for e in entries {
            self.add(e.subject, e.fact);
        }
    }

    fn states(&self) -> HashMap<Psn, PersonState> {
        let mut by: HashMap<Psn, Vec<Entry>> = HashMap::new();
        for e in &self.entries {
            by.entry(e.subject).or_default().push(e.clone());
        }
        by.into_iter()
            .filter_map(|(p, es)| Some((p, PersonState::fold(&es, AsOf::default()).ok()?)))
            .collect()
    }

    fn decide(&self, kind: &str, v: serde_json::Value) -> Decision {
        let sub = Submission::from_value(kind, v).unwrap();
        let persons = self.states();
        decide(
            &sub,
            &Context {
                today: d(TODAY),
                persons: &persons,
                new_psn: Some(psn(999)),
                duplicate_cleared: false,
            },
        )
    }

    /// Decide and, when accepted, apply.
    fn submit(&mut self, kind: &str, v: serde_json::Value) -> Decision {
        let out = self.decide(kind, v);
        if let Decision::Accept { entries, .. } = &out {
            self.apply(entries.clone());
        }
        out
    }
}

fn codes(dec: &Decision) -> Vec<&'static str> {
    match dec {
        Decision::Reject(v) => v.iter().map(|v| v.code.as_str()).collect(),
        Decision::Hold(v) => vec![v.code.as_str()],
        Decision::Accept { .. } => vec![],
    }
}

/// Mother (1), father (2), an unmarried man (3), a child of 10 (4), a woman of 17 (5).
fn world() -> World {
    let mut w = World::default();
    w.person(psn(1), "Անի", "Պետրոսյան", Sex::F, "1995-03-10");
    w.person(psn(2), "Դավիթ", "Պետրոսյան", Sex::M, "1993-07-01");
    w.person(psn(3), "Արմեն", "Սարգսյան", Sex::M, "1980-01-01");
    w.person(psn(4), "Նարե", "Հակոբյան", Sex::F, "2016-05-05");
    w.person(psn(5), "Լիլիթ", "Մկրտչյան", Sex::F, "2009-12-31");
    w
}

fn birth(first: &str, date: &str) -> serde_json::Value {
    json!({
        "first_name": first, "surname": "Պետրոսյան", "sex": "M", "birth_date": date,
        "birth_place": {"country": "AM", "marz": "AM-ER"},
        "mother": {"psn": psn(1).to_string()}, "father": {"psn": psn(2).to_string()}
    })
}

#[test]
fn a1_42_a_birth_creates_the_child_and_links_both_parents() {
    let mut w = world();
    let Decision::Accept {
        entries,
        created,
        late,
    } = w.submit("birth", birth("Արամ", "2026-11-20"))
    else {
        panic!("refused")
    };
    assert_eq!(created, Some(psn(999)));
    assert!(!late, "20 Nov 2026 is a Friday: due by Monday 23rd");
    let kinds: Vec<_> = entries.iter().map(|e| (e.subject, e.fact.kind())).collect();
    assert_eq!(
        kinds,
        vec![
            (psn(999), "birth"),
            (psn(1), "child_linked"),
            (psn(2), "child_linked")
        ]
    );
    let states = w.states();
    assert_eq!(states[&psn(1)].children[0].child, psn(999));
    assert_eq!(states[&psn(999)].parents.len(), 2);
}

#[test]
fn a1_41_a_birth_entered_after_the_next_working_day_is_accepted_but_late() {
    let w = world();
    // Tuesday 17 Nov: due by Wednesday 18th; today is the 23rd.
    let Decision::Accept { late, .. } = w.decide("birth", birth("Արամ", "2026-11-17")) else {
        panic!("refused")
    };
    assert!(late);
}

#[test]
fn a1_49_a_birth_in_the_future_or_before_the_mothers_birth_is_refused() {
    let w = world();
    assert_eq!(
        codes(&w.decide("birth", birth("Արամ", "2026-11-24"))),
        ["PSR-VAL-0002"]
    );
    assert_eq!(
        codes(&w.decide("birth", birth("Արամ", "1990-01-01"))),
        ["PSR-VAL-0003", "PSR-VAL-0003"],
        "both parents were born after 1990"
    );
}

#[test]
fn a1_49_a_birth_to_a_mother_who_died_before_it_is_refused() {
    let mut w = world();
    assert!(matches!(
        w.submit(
            "death",
            json!({"psn": psn(1).to_string(), "date": "2026-01-01"})
        ),
        Decision::Accept { .. }
    ));
    assert_eq!(
        codes(&w.decide("birth", birth("Արամ", "2026-11-20"))),
        ["PSR-CON-0009"]
    );
}

#[test]
fn a1_49_a_posthumous_birth_within_300_days_of_the_fathers_death_is_accepted() {
    let mut w = world();
    w.submit(
        "death",
        json!({"psn": psn(2).to_string(), "date": "2026-03-01"}),
    );
    assert!(matches!(
        w.decide("birth", birth("Արամ", "2026-11-20")),
        Decision::Accept { .. }
    ));
    let mut w = world();
    w.submit(
        "death",
        json!({"psn": psn(2).to_string(), "date": "2025-11-01"}),
    );
    assert_eq!(
        codes(&w.decide("birth", birth("Արամ", "2026-11-20"))),
        ["PSR-CON-0009"]
    );
}

#[test]
fn a1_49_a_second_birth_to_the_same_mother_and_date_with_a_near_name_is_held() {
    let mut w = world();
    assert!(matches!(
        w.submit("birth", birth("Արամ", "2026-11-20")),
        Decision::Accept { .. }
    ));
    // Same name, a typo (Արան), a different letter case and spelling of ե/և: all held.
    for name in ["Արամ", "Արան", "ԱՐԱՄ"] {
        assert_eq!(
            codes(&w.decide("birth", birth(name, "2026-11-20"))),
            ["PSR-DUP-0001"],
            "{name}"
        );
    }
    // Twins with different names, or the same name on another day, are not duplicates.
    for (name, date) in [("Գոռ", "2026-11-20"), ("Արամ", "2026-11-19")] {
        assert!(
            matches!(
                w.decide("birth", birth(name, date)),
                Decision::Accept { .. }
            ),
            "{name} {date}"
        );
    }
}

#[test]
fn near_names_tolerate_typos_and_transposition_but_not_other_names() {
    assert!(near_same_name("Երևան", "Երեւան"));
    assert!(near_same_name("Պետրոսյան", "Պետորսյան"));
    assert!(near_same_name("Պետրոսյան", "Պետրոսյանն"));
    assert!(!near_same_name("Արամ", "Գոռ"));
    assert!(!near_same_name("Անի", "Աննա"), "short names allow one edit");
}

#[test]
fn a1_49_a_second_death_and_a_death_before_birth_are_refused() {
    let mut w = world();
    assert_eq!(
        codes(&w.decide(
            "death",
            json!({"psn": psn(4).to_string(), "date": "2015-01-01"})
        )),
        ["PSR-CON-0001"]
    );
    w.submit(
        "death",
        json!({"psn": psn(3).to_string(), "date": "2026-02-01"}),
    );
    assert_eq!(
        codes(&w.decide(
            "death",
            json!({"psn": psn(3).to_string(), "date": "2026-02-02"})
        )),
        ["PSR-CON-0003"]
    );
}

#[test]
fn a1_49_unknown_psns_are_refused_with_the_field_that_names_them() {
    let w = world();
    let Decision::Reject(v) = w.decide(
        "marriage",
        json!({"psn": psn(3).to_string(), "spouse": {"psn": psn(77).to_string()}, "date": "2026-06-01"}),
    ) else {
        panic!()
    };
    assert_eq!(
        (v[0].code, v[0].field.as_str()),
        (Code::PsnUnknown, "spouse.psn")
    );
}

fn marriage(a: u32, b: u32, date: &str) -> serde_json::Value {
    json!({"psn": psn(a).to_string(), "spouse": {"psn": psn(b).to_string()}, "date": date})
}

#[test]
fn a1_22_a_marriage_is_recorded_on_both_spouses_and_a_married_person_cannot_marry_again() {
    let mut w = world();
    let Decision::Accept { entries, .. } = w.submit("marriage", marriage(1, 2, "2020-06-01"))
    else {
        panic!()
    };
    assert_eq!(entries.len(), 2);
    let s = w.states();
    assert_eq!(
        s[&psn(2)].marital_status,
        crate::person::MaritalStatus::Married
    );
    assert_eq!(
        codes(&w.decide("marriage", marriage(3, 1, "2026-06-01"))),
        ["PSR-CON-0004"]
    );
    assert_eq!(
        codes(&w.decide("marriage", marriage(1, 3, "2026-06-01"))),
        ["PSR-CON-0004"]
    );
    // After the divorce both may marry.
    assert!(matches!(
        w.submit("divorce", marriage(1, 2, "2025-01-01")),
        Decision::Accept { .. }
    ));
    assert!(matches!(
        w.decide("marriage", marriage(3, 1, "2026-06-01")),
        Decision::Accept { .. }
    ));
}

#[test]
fn a1_49_marriage_age_self_marriage_and_a_marriage_after_death_are_refused() {
    let mut w = world();
    assert_eq!(
        codes(&w.decide("marriage", marriage(3, 5, "2026-06-01"))),
        ["PSR-CON-0011"],
        "16 years old"
    );
    assert_eq!(
        codes(&w.decide("marriage", marriage(3, 3, "2026-06-01"))),
        ["PSR-CON-0012"]
    );
    w.submit(
        "death",
        json!({"psn": psn(1).to_string(), "date": "2026-01-01"}),
    );
    assert_eq!(
        codes(&w.decide("marriage", marriage(3, 1, "2026-06-01"))),
        ["PSR-CON-0007"]
    );
    // A described spouse without PSN under age is refused by their stated birth date.
    let v = json!({"psn": psn(3).to_string(), "date": "2026-06-01", "spouse": {
        "no_psn": true, "first_name": "Աննա", "surname": "Իվանովա", "birth_date": "2010-01-01",
        "document_type": "PASSPORT_FOREIGN", "document_number": "7501234567", "document_country": "RU"}});
    assert_eq!(codes(&w.decide("marriage", v)), ["PSR-CON-0011"]);
}

#[test]
fn a1_49_a_divorce_without_a_marriage_is_refused() {
    let w = world();
    assert_eq!(
        codes(&w.decide("divorce", marriage(1, 2, "2026-06-01"))),
        ["PSR-CON-0005"]
    );
}

#[test]
fn a1_22_a_death_widows_the_spouse() {
    let mut w = world();
    w.submit("marriage", marriage(1, 2, "2020-06-01"));
    let Decision::Accept { entries, .. } = w.submit(
        "death",
        json!({"psn": psn(2).to_string(), "date": "2026-02-01"}),
    ) else {
        panic!()
    };
    assert_eq!(entries[1].fact.kind(), "widowhood");
    assert_eq!(
        w.states()[&psn(1)].marital_status,
        crate::person::MaritalStatus::Widowed
    );
}

fn guardianship(ward: u32, guardian: u32, ground: &str) -> serde_json::Value {
    json!({"psn": psn(ward).to_string(), "guardian": {"psn": psn(guardian).to_string()},
           "guardianship": "guardianship", "ground": ground, "date": "2026-06-01"})
}

#[test]
fn a1_23_guardianship_of_an_adult_on_age_grounds_is_refused_and_an_end_needs_a_start() {
    let mut w = world();
    assert_eq!(
        codes(&w.decide("guardianship_start", guardianship(3, 1, "age"))),
        ["PSR-CON-0010"]
    );
    assert!(matches!(
        w.decide("guardianship_start", guardianship(3, 1, "legal_capacity")),
        Decision::Accept { .. }
    ));
    let end = json!({"psn": psn(4).to_string(), "guardian": {"psn": psn(1).to_string()}, "date": "2026-07-01"});
    assert_eq!(
        codes(&w.decide("guardianship_end", end.clone())),
        ["PSR-CON-0013"]
    );
    assert!(matches!(
        w.submit("guardianship_start", guardianship(4, 1, "age")),
        Decision::Accept { .. }
    ));
    assert_eq!(w.states()[&psn(1)].wards[0].ward, psn(4));
    assert!(matches!(
        w.submit("guardianship_end", end),
        Decision::Accept { .. }
    ));
}

#[test]
fn a1_28_parole_needs_a_verdict_in_that_case() {
    let mut w = world();
    let parole =
        json!({"psn": psn(3).to_string(), "case_number": "ԵԴ/0123/01/24", "date": "2026-03-01"});
    assert_eq!(codes(&w.decide("parole", parole.clone())), ["PSR-CON-0014"]);
    w.submit(
        "conviction",
        json!({"psn": psn(3).to_string(), "case_number": "ԵԴ/0123/01/24", "verdict_effective": "2025-01-10", "term_months": 36}),
    );
    assert!(matches!(
        w.decide("parole", parole),
        Decision::Accept { .. }
    ));
}

#[test]
fn a1_44_addresses_abroad_must_be_abroad_and_periods_ordered() {
    let w = world();
    let v = json!({"psn": psn(3).to_string(), "address": {"country": "AM"}, "valid_from": "2026-01-01", "valid_to": "2025-01-01"});
    assert_eq!(
        codes(&w.decide("address_abroad", v)),
        ["PSR-CON-0015", "PSR-VAL-0003"]
    );
}

#[test]
fn a1_38_events_abroad_answer_a_psn_and_must_have_happened_outside_armenia() {
    let mut w = world();
    // A birth abroad to a mother described without a PSN: a new person, never late (A1.41 is for births
    // and deaths in Armenia).
    let mut b = birth("Արամ", "2026-01-20");
    b["birth_place"] = json!({"country": "FR", "locality": "Lyon"});
    b["mother"] = json!({"no_psn": true, "first_name": "Մարի", "surname": "Դյուպոն",
        "document_type": "FOREIGN_PASSPORT", "document_number": "19FR12345", "document_country": "FR"});
    let Decision::Accept { created, late, .. } = w.submit("birth_abroad", b.clone()) else {
        panic!("refused")
    };
    assert_eq!((created, late), (Some(psn(999)), false));
    b["birth_place"]["country"] = json!("AM");
    assert_eq!(codes(&w.decide("birth_abroad", b)), ["PSR-CON-0016"]);
    let death = |country: &str| json!({"psn": psn(3).to_string(), "date": "2026-02-01", "place": {"country": country, "locality": "Lyon"}});
    assert_eq!(
        codes(&w.decide("death_abroad", death("AM"))),
        ["PSR-CON-0016"]
    );
    assert!(matches!(
        w.submit("death_abroad", death("FR")),
        Decision::Accept { .. }
    ));
    // A second death, abroad or not, contradicts the first.
    assert_eq!(
        codes(&w.decide("death_abroad", death("FR"))),
        ["PSR-CON-0003"]
    );
}

#[test]
fn a1_24_paternity_links_the_father_and_may_change_the_childs_surname() {
    let mut w = world();
    let v = json!({"psn": psn(4).to_string(), "father": {"psn": psn(3).to_string()}, "date": "2026-01-15", "surname": "Սարգսյան"});
    assert!(matches!(w.submit("paternity", v), Decision::Accept { .. }));
    let s = w.states();
    assert_eq!(s[&psn(4)].names.surname.hy, "Սարգսյան");
    assert_eq!(s[&psn(3)].children[0].child, psn(4));
}

#[test]
fn unknown_fields_and_kinds_are_refused_by_the_typed_form_too() {
    assert_eq!(
        Submission::from_value(
            "death",
            json!({"psn": psn(1).to_string(), "date": "2026-01-01", "x": 1})
        )
        .unwrap_err()
        .code,
        Code::Malformed
    );
    assert_eq!(
        Submission::from_value("coronation", json!({}))
            .unwrap_err()
            .code,
        Code::UnknownKind
    );
    // schema_version belongs to the registry check and is ignored here.
    assert!(
        Submission::from_value(
            "death",
            json!({"psn": psn(1).to_string(), "date": "2026-01-01", "schema_version": "1"})
        )
        .is_ok()
    );
}

#[test]
fn every_kind_has_competent_providers_and_a_typed_form() {
    for k in crate::elements::kinds() {
        let (kind, providers) = (k.name, k.providers);
        assert!(!providers.is_empty(), "{kind}");
        let err = Submission::from_value(kind, json!({})).unwrap_err();
        assert_ne!(err.code, Code::UnknownKind, "{kind}");
    }
    assert_eq!(
        competent("birth"),
        Some(&[BodyType::MedicalOrganization][..])
    );
    assert_eq!(competent("coronation"), None);
}

#[test]
fn ages_count_full_years() {
    assert_eq!(age_on(d("2008-11-24"), d("2026-11-23")), 17);
    assert_eq!(age_on(d("2008-11-23"), d("2026-11-23")), 18);
    assert_eq!(age_on(d("2008-02-29"), d("2026-02-28")), 17);
}

#[test]
fn every_typed_form_round_trips_through_its_wire_value() {
    let mut w = world();
    w.submit("birth", birth("Արամ", "2026-11-20"));
    let v = birth("Արամ", "2026-11-20");
    let sub = Submission::from_value("birth", v.clone()).unwrap();
    assert_eq!(sub.to_value(), v);
    // A released duplicate is accepted.
    let persons = w.states();
    let out = decide(
        &sub,
        &Context {
            today: d(TODAY),
            persons: &persons,
            new_psn: Some(psn(998)),
            duplicate_cleared: true,
        },
    );
    assert!(matches!(out, Decision::Accept { .. }));
}
