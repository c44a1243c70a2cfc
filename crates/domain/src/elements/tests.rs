use std::collections::HashSet;

use serde_json::{Value, json};

use super::*;
use crate::psn::Psn;

const CONTRACT: &str = include_str!("../../../../docs/submissions.md");

fn k(name: &str) -> &'static KindDef {
    kind(name).unwrap()
}

fn codes(kind: &str, v: Value) -> Vec<(Code, String)> {
    check(k(kind), &v)
        .into_iter()
        .map(|e| (e.code, e.field))
        .collect()
}

fn with(kind: &str, changes: &[(&str, Value)]) -> Value {
    let mut v = example(k(kind));
    for (path, value) in changes {
        let mut at = &mut v;
        let parts: Vec<&str> = path.split('.').collect();
        for p in &parts[..parts.len() - 1] {
            at = at.get_mut(*p).unwrap();
        }
        let last = parts[parts.len() - 1];
        if value.is_null() {
            at.as_object_mut().unwrap().remove(last);
        } else {
            at[last] = value.clone();
        }
    }
    v
}

// ------------------------------------------------------------------------------------------------ the tables

#[test]
fn a2_2_identifiers_are_unique_and_every_field_names_an_element() {
    let mut ids = HashSet::new();
    for e in elements() {
        assert!(ids.insert(e.id), "element {} twice", e.id);
        assert!(e.id.starts_with("psr."), "{}", e.id);
        assert!(
            e.id.chars()
                .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_'),
            "{} must be a valid XML name too",
            e.id
        );
        assert_eq!(e.data_type, e.domain.data_type());
        assert!(e.version >= 1);
        if let ValueDomain::Composite(c) = e.domain {
            assert!(composite(c).is_some(), "{}: no composite {c}", e.id);
        }
        if let ValueDomain::Classifier(c) = e.domain {
            assert!(
                !schema::classifier_codes(c).is_empty(),
                "{}: classifier {c} has no codes",
                e.id
            );
        }
    }
    let mut names = HashSet::new();
    for kd in kinds() {
        assert!(names.insert(kd.name), "kind {} twice", kd.name);
        assert!(!kd.providers.is_empty());
        let mut fields = HashSet::new();
        for f in kd.wire_fields() {
            assert!(fields.insert(f.name), "{}.{} twice", kd.name, f.name);
            assert!(
                f.element().is_some(),
                "{}.{}: {}",
                kd.name,
                f.name,
                f.element
            );
        }
        for group in kd.at_least_one {
            for f in *group {
                assert!(kd.field(f).is_some_and(|f| !f.required), "{}: {f}", kd.name);
            }
        }
    }
    for c in composites() {
        for form in c.forms {
            for f in *form {
                assert!(f.element().is_some(), "{}.{}", c.name, f.name);
            }
        }
    }
    assert_eq!(kinds().len(), 26);
}

#[test]
fn a2_2_every_element_is_used_and_has_a_steward() {
    for e in elements() {
        assert!(!e.steward.is_empty(), "{} is carried by no kind", e.id);
    }
    let term = element("psr.conviction.term_months").unwrap();
    assert_eq!(term.steward, vec![BodyType::PenitentiaryService]);
    assert_eq!(term.security, SecurityClass::SpecialCategory);
    let country = element("psr.location.country").unwrap();
    for b in [
        BodyType::MedicalOrganization,
        BodyType::DiplomaticMission,
        BodyType::AuthorizedBody,
    ] {
        assert!(country.steward.contains(&b), "{b:?}");
    }
    assert!(!country.steward.contains(&BodyType::PenitentiaryService));
    assert_eq!(
        element("psr.person.nationality").unwrap().security,
        SecurityClass::SpecialCategory
    );
    assert_eq!(
        element("psr.incapacity.judgment_date").unwrap().security,
        SecurityClass::SpecialCategory
    );
}

fn is_armenian_letter(ch: char) -> bool {
    matches!(ch, '\u{0531}'..='\u{0556}' | '\u{0561}'..='\u{0587}')
}

fn is_cyrillic_letter(ch: char) -> bool {
    matches!(ch, '\u{0400}'..='\u{04FF}')
}

fn all_texts() -> Vec<(String, Text)> {
    let mut out = vec![];
    for e in elements() {
        out.push((format!("{} name", e.id), e.name));
        out.push((format!("{} definition", e.id), e.definition));
        if let ValueDomain::Enumeration { values, .. } = e.domain {
            for c in values {
                out.push((format!("{} {}", e.id, c.code), c.meaning));
            }
        }
    }
    for c in composites() {
        out.push((format!("{} title", c.name), c.title));
        out.push((format!("{} definition", c.name), c.definition));
    }
    for kd in kinds() {
        out.push((format!("{} title", kd.name), kd.title));
    }
    out
}

#[test]
fn texts_are_in_their_scripts_and_the_reformed_orthography() {
    for (at, t) in all_texts() {
        assert!(t.hy.chars().any(is_armenian_letter), "{at}: {}", t.hy);
        assert!(
            t.hy.chars()
                .all(|ch| !ch.is_alphabetic() || is_armenian_letter(ch)),
            "{at}: non-Armenian letter in {}",
            t.hy
        );
        assert!(!t.hy.contains("եւ"), "{at}: write և in {}", t.hy);
        assert!(t.ru.chars().any(is_cyrillic_letter), "{at}: {}", t.ru);
        assert!(
            t.ru.chars()
                .all(|ch| !ch.is_alphabetic() || is_cyrillic_letter(ch)),
            "{at}: non-Cyrillic letter in {}",
            t.ru
        );
        assert!(
            t.en.chars().any(|c| c.is_ascii_alphabetic()),
            "{at}: {}",
            t.en
        );
        assert!(
            t.en.chars().all(|c| !c.is_alphabetic() || c.is_ascii()),
            "{at}: {}",
            t.en
        );
    }
}

// ------------------------------------------------------------------------------------------------ the contract

/// The backticked field tokens of a contract cell: `name`, `name?`, `name: type`, `name?: type`. Values
/// named in the prose (`classifier `nationalities``, `must be `true``) are not fields.
fn contract_fields(cell: &str) -> Vec<(String, bool, Option<String>)> {
    let parts: Vec<&str> = cell.split('`').collect();
    let mut out = vec![];
    for i in (1..parts.len()).step_by(2) {
        let before = parts[i - 1];
        if before.ends_with("classifier ") || before.ends_with("be ") {
            continue;
        }
        let tok = parts[i];
        let (head, ty) = match tok.split_once(':') {
            Some((h, t)) => (h.trim(), Some(t.trim().replace("\\|", "|"))),
            None => (tok.trim(), None),
        };
        let (name, optional) = match head.strip_suffix('?') {
            Some(n) => (n, true),
            None => (head, false),
        };
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            out.push((name.to_owned(), !optional, ty));
        }
    }
    out
}

#[test]
fn a2_2_kinds_match_the_wire_contract_in_docs_submissions_md() {
    let mut seen = vec![];
    for line in CONTRACT.lines() {
        let cells: Vec<&str> = line.split(" | ").collect();
        if cells.len() != 3 || !line.starts_with("| `") {
            continue;
        }
        let name = cells[0].trim_start_matches("| ").trim_matches('`');
        let kd = kind(name).unwrap_or_else(|| panic!("contract kind {name} is not registered"));
        seen.push(name.to_owned());
        let providers: Vec<BodyType> = cells[1]
            .split(", ")
            .map(|p| BodyType::parse(p.trim()).unwrap_or_else(|| panic!("{name}: provider {p}")))
            .collect();
        assert_eq!(kd.providers, providers.as_slice(), "{name}: providers");
        let fields = contract_fields(cells[2].trim_end_matches(" |"));
        let ours: Vec<(String, bool)> = kd
            .fields
            .iter()
            .map(|f| (f.name.to_owned(), f.required))
            .collect();
        let theirs: Vec<(String, bool)> = fields.iter().map(|(n, r, _)| (n.clone(), *r)).collect();
        assert_eq!(ours, theirs, "{name}: fields and optionality");
        for (field, _, ty) in fields {
            let e = kd.field(&field).unwrap().element().unwrap();
            match ty.as_deref() {
                Some(c @ ("place" | "address" | "person")) => {
                    assert!(
                        matches!(e.domain, ValueDomain::Composite(ours) if ours == c),
                        "{name}.{field}"
                    )
                }
                Some("boolean") => assert_eq!(e.data_type, DataType::Boolean, "{name}.{field}"),
                Some(enumeration) => {
                    let ValueDomain::Enumeration { values, .. } = e.domain else {
                        panic!("{name}.{field}: expected an enumeration {enumeration}");
                    };
                    let codes: Vec<&str> = values.iter().map(|c| c.code).collect();
                    assert_eq!(codes.join("|"), enumeration, "{name}.{field}");
                }
                None => assert_ne!(e.data_type, DataType::Object, "{name}.{field}"),
            }
        }
    }
    let ours: Vec<&str> = kinds().iter().map(|k| k.name).collect();
    assert_eq!(seen, ours, "the contract's kinds, in its order");
}

#[test]
fn a2_2_composites_match_the_wire_contract() {
    let section = |heading: &str| -> &str {
        let start = CONTRACT.find(heading).unwrap() + heading.len();
        let rest = &CONTRACT[start..];
        let end = rest.find("\n\n#").unwrap_or(rest.len());
        &rest[..end]
    };
    for (name, heading) in [
        ("place", "### `place` (object)"),
        ("address", "### `address` (object)"),
    ] {
        let fields: Vec<String> = contract_fields(section(heading))
            .into_iter()
            .map(|(n, _, _)| n)
            .collect();
        let ours: Vec<String> = composite(name).unwrap().forms[0]
            .iter()
            .map(|f| f.name.to_owned())
            .collect();
        assert_eq!(ours, fields, "{name}");
    }
    let person = section("### `person` (object)");
    let described = &person[person.find("without PSN:").unwrap()..];
    let names: Vec<String> = contract_fields(described)
        .into_iter()
        .map(|(n, _, _)| n)
        .collect();
    let form = composite("person").unwrap().forms[1];
    let ours: Vec<String> = form.iter().map(|f| f.name.to_owned()).collect();
    assert_eq!(ours, names);
    for f in form {
        let marked = described.contains(&format!("`{}` (req", f.name));
        assert_eq!(f.required, marked, "person.{}", f.name);
    }
    assert!(!composite("place").unwrap().forms[0][1].required);
    assert!(composite("place").unwrap().forms[0][0].required);
}

// ------------------------------------------------------------------------------------------------ check

#[test]
fn every_example_passes_the_check_and_covers_every_field() {
    for kd in kinds() {
        let v = example(kd);
        assert_eq!(check(kd, &v), vec![], "{}: {v}", kd.name);
        for f in kd.wire_fields() {
            assert!(v.get(f.name).is_some(), "{}.{}", kd.name, f.name);
        }
    }
    // The described form of a person is exercised too.
    assert_eq!(example(k("birth"))["father"]["no_psn"], json!(true));
    assert!(example(k("birth"))["mother"]["psn"].is_string());
}

#[test]
fn a_minimal_document_with_only_required_fields_passes() {
    let v = json!({
        "first_name": "Արամ", "surname": "Պետրոսյան", "sex": "M", "birth_date": "2026-11-20",
        "birth_place": {"country": "AM", "marz": "AM-ER"}, "mother": {"psn": Psn::from_body([1, 2, 3, 4, 5, 6, 7, 8, 9]).to_string()}
    });
    assert_eq!(check(k("birth"), &v), vec![]);
}

#[test]
fn every_structural_error_is_reported_at_once_with_its_code_and_path() {
    let v = with(
        "birth",
        &[
            ("sex", json!("X")),
            ("birth_date", json!("2026-02-30")),
            ("first_name", json!("Aram")),
            ("surname", Value::Null),
            ("mother.psn", json!("1234567891")),
            ("birth_place.country", json!("XX")),
            ("birth_place.marz", json!(7)),
            ("nickname", json!("x")),
            ("schema_version", json!("2")),
            ("father.no_psn", json!(false)),
            ("father.document_type", json!("PASSPORT")),
        ],
    );
    let got = codes("birth", v);
    for want in [
        (Code::UnknownField, "nickname"),
        (Code::SexInvalid, "sex"),
        (Code::InvalidDate, "birth_date"),
        (Code::NameInvalid, "first_name"),
        (Code::MissingField, "surname"),
        (Code::PsnChecksum, "mother.psn"),
        (Code::UnknownClassifierCode, "birth_place.country"),
        (Code::Malformed, "birth_place.marz"),
        (Code::UnsupportedSchemaVersion, "schema_version"),
        (Code::ValueOutOfRange, "father.no_psn"),
        (Code::UnknownClassifierCode, "father.document_type"),
    ] {
        assert!(
            got.contains(&(want.0, want.1.to_owned())),
            "{want:?} missing in {got:?}"
        );
    }
    assert_eq!(got.len(), 11, "{got:?}");
}

#[test]
fn value_domains() {
    let psn = |s: &str| codes("death", with("death", &[("psn", json!(s))]));
    assert_eq!(psn("123"), vec![(Code::PsnLength, "psn".into())]);
    assert_eq!(psn("12345678a0"), vec![(Code::PsnDigits, "psn".into())]);
    let good = Psn::from_body([3, 1, 4, 1, 5, 9, 2, 6, 5]).to_string();
    assert_eq!(
        psn(&format!(" {good}")),
        vec![(Code::PsnDigits, "psn".into())]
    );
    assert_eq!(
        codes("death", with("death", &[("psn", json!(3141592650u64))])),
        vec![(Code::Malformed, "psn".into())]
    );
    let term = |v: Value| codes("conviction", with("conviction", &[("term_months", v)]));
    assert_eq!(term(json!(0)), vec![]);
    assert_eq!(term(json!(600)), vec![]);
    assert_eq!(
        term(json!(601)),
        vec![(Code::ValueOutOfRange, "term_months".into())]
    );
    assert_eq!(
        term(json!(-1)),
        vec![(Code::ValueOutOfRange, "term_months".into())]
    );
    assert_eq!(
        term(json!(u64::MAX)),
        vec![(Code::ValueOutOfRange, "term_months".into())]
    );
    assert_eq!(
        term(json!("12")),
        vec![(Code::Malformed, "term_months".into())]
    );
    assert_eq!(
        term(json!(1.5)),
        vec![(Code::Malformed, "term_months".into())]
    );
    let date = |s: &str| codes("death", with("death", &[("date", json!(s))]));
    assert_eq!(date("2024-02-29"), vec![]);
    for bad in [
        "2023-02-29",
        "2026-1-05",
        "2026-01-05T00:00:00Z",
        "+2026-01-05",
        "",
    ] {
        assert_eq!(date(bad), vec![(Code::InvalidDate, "date".into())], "{bad}");
    }
    let text = |s: &str| codes("parole", with("parole", &[("case_number", json!(s))]));
    assert_eq!(text("ԵԴ/1/2"), vec![]);
    for bad in ["", "   ", "a\nb", &"x".repeat(65)] {
        assert_eq!(
            text(bad),
            vec![(Code::ValueOutOfRange, "case_number".into())],
            "{bad:?}"
        );
    }
    let name = |s: &str| {
        codes(
            "name_change",
            with("name_change", &[("first_name", json!(s))]),
        )
    };
    assert_eq!(name("Մարի-Երանուհի"), vec![]);
    assert_eq!(name("Երևան"), vec![]);
    for bad in ["", "Aram", "Արամ1", "\tԱրամ", &"ա".repeat(81)] {
        assert_eq!(
            name(bad),
            vec![(Code::NameInvalid, "first_name".into())],
            "{bad:?}"
        );
    }
    let b = |v: Value| codes("death", with("death", &[("declared_by_court", v)]));
    assert_eq!(b(json!(true)), vec![]);
    assert_eq!(
        b(json!("true")),
        vec![(Code::Malformed, "declared_by_court".into())]
    );
    let g = |v: Value| {
        codes(
            "guardianship_start",
            with("guardianship_start", &[("ground", v)]),
        )
    };
    assert_eq!(g(json!("legal_capacity")), vec![]);
    assert_eq!(
        g(json!("old")),
        vec![(Code::ValueOutOfRange, "ground".into())]
    );
    let settlement = |s: &str| {
        codes(
            "main_address",
            with("main_address", &[("address.settlement", json!(s))]),
        )
    };
    assert_eq!(settlement("AM-ER-001-02"), vec![]);
    assert_eq!(
        settlement("AM-ER-001"),
        vec![(Code::UnknownClassifierCode, "address.settlement".into())]
    );
    for (kind, field, code) in [
        ("nationality", "nationality", "XXX"),
        ("residence_document", "document_type", "RD10"),
        ("identity_document", "document_type", "VISA"),
        ("citizenship_acquired", "ground", "BECAUSE"),
        ("main_address", "address.community", "AM-ER-999"),
        ("main_address", "address.marz", "AM-XX"),
    ] {
        assert_eq!(
            codes(kind, with(kind, &[(field, json!(code))])),
            vec![(Code::UnknownClassifierCode, field.to_owned())],
            "{kind}.{field}"
        );
    }
}

#[test]
fn a_person_is_exactly_one_of_its_two_forms() {
    let p = Psn::from_body([2, 7, 1, 8, 2, 8, 1, 8, 3]).to_string();
    let spouse = |v: Value| codes("marriage", with("marriage", &[("spouse", v)]));
    assert_eq!(spouse(json!({"psn": p})), vec![]);
    assert_eq!(
        spouse(json!({})),
        vec![(Code::MissingField, "spouse.psn".into())]
    );
    assert_eq!(
        spouse(json!({"psn": p, "first_name": "Արամ"})),
        vec![(Code::UnknownField, "spouse.first_name".into())]
    );
    assert_eq!(
        spouse(json!({"no_psn": true, "first_name": "Արամ"})),
        vec![
            (Code::MissingField, "spouse.surname".into()),
            (Code::MissingField, "spouse.document_type".into()),
            (Code::MissingField, "spouse.document_number".into()),
        ]
    );
    assert_eq!(
        spouse(json!({"no_psn": true, "psn": p})),
        vec![(Code::UnknownField, "spouse.no_psn".into())]
    );
    assert_eq!(spouse(json!(p)), vec![(Code::Malformed, "spouse".into())]);
}

#[test]
fn adoption_needs_an_adoptive_parent_and_the_root_must_be_an_object() {
    let v = with(
        "adoption",
        &[
            ("adoptive_mother", Value::Null),
            ("adoptive_father", Value::Null),
        ],
    );
    assert_eq!(
        codes("adoption", v),
        vec![(Code::MissingField, "adoptive_mother".into())]
    );
    let v = with("adoption", &[("adoptive_mother", Value::Null)]);
    assert_eq!(codes("adoption", v), vec![]);
    assert_eq!(
        codes("birth", json!([1])),
        vec![(Code::Malformed, String::new())]
    );
    assert_eq!(
        codes("death", json!({})),
        vec![
            (Code::MissingField, "psn".into()),
            (Code::MissingField, "date".into())
        ]
    );
}

// ------------------------------------------------------------------------------------------------ derived

#[test]
fn json_schemas_have_the_kinds_shape() {
    for kd in kinds() {
        let s = json_schema(kd);
        assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema");
        assert_eq!(s["$id"], format!("/api/v1/schemas/{}.json", kd.name));
        assert_eq!(s["additionalProperties"], false);
        let props = s["properties"].as_object().unwrap();
        assert_eq!(props.len(), kd.wire_fields().count());
        for f in kd.wire_fields() {
            if let ValueDomain::Composite(c) = f.element().unwrap().domain {
                assert_eq!(props[f.name]["$ref"], format!("#/$defs/{c}"));
                assert!(s["$defs"][c].is_object(), "{}: $defs.{c}", kd.name);
            }
        }
    }
    let birth = json_schema(k("birth"));
    assert_eq!(birth["properties"]["sex"]["enum"], json!(["F", "M"]));
    assert_eq!(
        birth["required"],
        json!([
            "first_name",
            "surname",
            "sex",
            "birth_date",
            "birth_place",
            "mother"
        ])
    );
    assert_eq!(
        birth["$defs"]["place"]["properties"]["marz"]["enum"]
            .as_array()
            .unwrap()
            .len(),
        11
    );
    let country = &birth["$defs"]["place"]["properties"]["country"];
    assert_eq!(country["pattern"], "^[A-Z]{2}$");
    assert_eq!(country["x-classifier"], "/api/v1/classifiers/countries");
    assert_eq!(
        birth["$defs"]["place"]["properties"]["settlement"]["pattern"],
        "^[A-Z]{2}-[A-Z]{2}-[0-9]{3}-[0-9]{2}$"
    );
    assert_eq!(
        birth["$defs"]["person"]["oneOf"].as_array().unwrap().len(),
        2
    );
    let adoption = json_schema(k("adoption"));
    assert_eq!(
        adoption["allOf"][0]["anyOf"],
        json!([{"required": ["adoptive_mother"]}, {"required": ["adoptive_father"]}])
    );
    assert!(json_schema(k("death"))["$defs"]["person"].is_null());
}

#[test]
fn code_shapes() {
    assert_eq!(
        schema::code_shape_pattern(&["AM-ER-001", "AM-SH-012"]).as_deref(),
        Some("[A-Z]{2}-[A-Z]{2}-[0-9]{3}")
    );
    assert_eq!(schema::code_shape_pattern(&["A1", "B"]), None);
    assert_eq!(
        schema::code_shape_pattern(&["A.1"]).as_deref(),
        Some("[A-Z]\\.[0-9]")
    );
}

#[test]
fn xsds_declare_the_root_and_every_field() {
    for kd in kinds() {
        let x = xsd(kd);
        assert!(x.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
        assert!(x.contains(&format!("<xs:element name=\"{}\">", kd.name)));
        assert!(!x.contains("targetNamespace"));
        for f in kd.wire_fields() {
            assert!(
                x.contains(&format!("<xs:element name=\"{}\"", f.name)),
                "{}.{}",
                kd.name,
                f.name
            );
        }
    }
    let birth = xsd(k("birth"));
    assert!(birth.contains(
        "<xs:element name=\"patronymic\" type=\"psr.person.patronymic\" minOccurs=\"0\"/>"
    ));
    assert!(birth.contains("<xs:element name=\"sex\" type=\"psr.person.sex\"/>"));
    assert!(birth.contains("<xs:complexType name=\"person\">"));
    assert!(birth.contains("<xs:restriction base=\"xs:date\">"));
}

#[test]
fn openapi_has_every_kind_and_route() {
    let doc = openapi();
    assert_eq!(doc["openapi"], "3.1.0");
    for kd in kinds() {
        let op = &doc["paths"][format!("/api/v1/submissions/{}", kd.name)]["post"];
        assert_eq!(
            op["requestBody"]["content"]["application/xml"]["schema"]["$ref"],
            format!("#/components/schemas/{}", kd.name)
        );
        assert!(doc["components"]["schemas"][kd.name].is_object());
    }
    for p in [
        "/api/v1/persons/{psn}",
        "/api/v1/persons/{psn}/history",
        "/api/v1/persons/{psn}/notice-address",
        "/api/v1/psn/{psn}/check",
        "/api/v1/tin/{tin}/check",
        "/api/v1/classifiers",
        "/api/v1/classifiers/{name}",
        "/api/v1/openapi.json",
        "/api/v1/schemas",
        "/api/v1/schemas/{kind}.json",
        "/api/v1/schemas/{kind}.xsd",
        "/api/v1/elements",
    ] {
        assert!(doc["paths"][p]["get"].is_object(), "{p}");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["ApiKey"]["name"],
        "X-API-Key"
    );
    // No reference points nowhere.
    let text = doc.to_string();
    for part in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &part[..part.find('"').unwrap()];
        assert!(doc["components"]["schemas"][name].is_object(), "{name}");
    }
}

#[test]
fn the_catalogue_lists_every_element_and_kind() {
    let md = catalogue_markdown();
    for e in elements() {
        assert!(
            md.contains(&format!("| `{}` | {} |", e.id, e.version)),
            "{}",
            e.id
        );
    }
    for kd in kinds() {
        assert!(md.contains(&format!("| `{}` |", kd.name)), "{}", kd.name);
    }
    assert!(md.contains("special-category"));
}

#[test]
fn a2_2_the_registry_agrees_with_the_typed_submissions() {
    use crate::submission::{Submission, competent};
    for kd in kinds() {
        assert_eq!(competent(kd.name), Some(kd.providers), "{}", kd.name);
        let v = example(kd);
        let typed = Submission::from_value(kd.name, v.clone())
            .unwrap_or_else(|e| panic!("{}: {e:?}", kd.name));
        assert_eq!(typed.kind(), kd.name);
        // Every optional field may be left out; a required one may not.
        for f in kd.fields {
            let mut without = v.clone();
            without.as_object_mut().unwrap().remove(f.name);
            let typed = Submission::from_value(kd.name, without);
            assert_eq!(typed.is_ok(), !f.required, "{}.{}", kd.name, f.name);
        }
        // And an unknown one is refused there too.
        let mut extra = v.clone();
        extra["nickname"] = json!("x");
        assert!(
            Submission::from_value(kd.name, extra).is_err(),
            "{}",
            kd.name
        );
    }
}
