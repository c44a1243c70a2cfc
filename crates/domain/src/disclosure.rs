//! What of a person may leave the register (A1.33, A1.30): the data elements a read grant names, and the
//! cutting of a person's record down to the elements granted.
//!
//! Each top-level field of the person projection is one element, `person.<field>`. `person.history` is the
//! entry log (every fact with its provenance, so it implies everything) and `person.*` grants all. A field
//! of the projection that is not listed here is never released: a new field stays inside until it is given a
//! name here (deny by default; a test checks that every field of a full person has one).

use serde_json::{Map, Value};

/// The wildcard element: every element of a person, the history included.
pub const ALL: &str = "person.*";
/// The entry log of a person.
pub const HISTORY: &str = "person.history";
/// The address for official notices on a day (A1.21.2.b), derived from the addresses; for bodies that
/// send notices and need nothing else.
pub const NOTICE_ADDRESS: &str = "person.notice_address";

/// Fields that go out with any release: the key asked by and the version of the record.
const ALWAYS: &[&str] = &["psn", "last_entry_id", "updated_at"];

/// The data elements of a person, one per projection field, in the projection's order.
pub const PERSON_ELEMENTS: &[&str] = &[
    "person.psn",
    "person.names",
    "person.sex",
    "person.birth_date",
    "person.birth_place",
    "person.death",
    "person.name_history",
    "person.documents",
    "person.citizenships",
    "person.stateless_since",
    "person.nationality",
    "person.residence_documents",
    "person.main_addresses",
    "person.additional_addresses",
    "person.consular_registrations",
    "person.marital_status",
    "person.marriages",
    "person.parents",
    "person.children",
    "person.guardianships",
    "person.wards",
    "person.paternity",
    "person.adoptions",
    "person.legal_incapacity",
    "person.convictions",
];

/// Whether a grant may name `e`.
pub fn known_element(e: &str) -> bool {
    e == ALL || e == HISTORY || e == NOTICE_ADDRESS || PERSON_ELEMENTS.contains(&e)
}

/// The element names a grant may use, for error messages and documentation.
pub fn element_names() -> Vec<&'static str> {
    let mut v = vec![ALL, HISTORY, NOTICE_ADDRESS];
    v.extend_from_slice(PERSON_ELEMENTS);
    v
}

/// The elements held by a body: the union of its grants in force.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Granted {
    all: bool,
    elements: Vec<String>,
}

impl Granted {
    pub fn of<'a>(elements: impl IntoIterator<Item = &'a str>) -> Granted {
        let mut g = Granted::default();
        for e in elements {
            if e == ALL {
                g.all = true;
            } else if known_element(e) && !g.elements.iter().any(|x| x == e) {
                g.elements.push(e.to_string());
            }
        }
        g
    }

    pub fn covers(&self, element: &str) -> bool {
        self.all || self.elements.iter().any(|e| e == element)
    }

    pub fn is_empty(&self) -> bool {
        !self.all && self.elements.is_empty()
    }
}

/// Cut a person's record (the projection as a JSON object) down to the granted elements. Returns the
/// released object and the elements it contains (those present in the record), in the projection's order;
/// nothing is released when that list is empty.
pub fn cut_person(doc: Map<String, Value>, granted: &Granted) -> (Map<String, Value>, Vec<String>) {
    let mut out = Map::new();
    let mut released = vec![];
    for (k, v) in doc {
        if ALWAYS.contains(&k.as_str()) {
            if k == "psn" && granted.covers("person.psn") {
                released.push("person.psn".to_string());
            }
            out.insert(k, v);
            continue;
        }
        let element = format!("person.{k}");
        if PERSON_ELEMENTS.contains(&element.as_str()) && granted.covers(&element) {
            released.push(element);
            out.insert(k, v);
        }
    }
    released.sort_by_key(|e| PERSON_ELEMENTS.iter().position(|x| x == e));
    (out, released)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a1_33_only_granted_fields_leave_and_psn_and_version_always_do() {
        let doc = json!({
            "psn": "1234567890", "names": {"first": "Ա"}, "sex": "F", "convictions": [{"case": "1"}],
            "main_addresses": [], "last_entry_id": 7, "updated_at": "2026-01-01T00:00:00Z",
            "a_field_nobody_named": 1
        });
        let Value::Object(m) = doc else {
            unreachable!()
        };
        let g = Granted::of(["person.names", "person.main_addresses", "person.nonsense"]);
        let (out, released) = cut_person(m.clone(), &g);
        assert_eq!(
            out.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                "psn",
                "names",
                "main_addresses",
                "last_entry_id",
                "updated_at"
            ]
        );
        assert_eq!(released, ["person.names", "person.main_addresses"]);
        let (all, released) = cut_person(m, &Granted::of([ALL]));
        assert!(!all.contains_key("a_field_nobody_named"));
        assert!(all.contains_key("convictions"));
        assert_eq!(released.first().map(String::as_str), Some("person.psn"));
        assert!(Granted::of(["person.nonsense"]).is_empty());
    }
}
