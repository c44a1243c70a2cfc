//! JSON Schema (2020-12) and W3C XML Schema 1.0 of each kind, derived from the registry.

use serde_json::{Map, Value, json};

use super::{
    CompositeDef, DataElement, FieldDef, KindDef, ValueDomain, classifier_url, composite, element,
};
use crate::classifiers::classifiers;

/// A classifier with at most this many codes is written out as an `enum`; a longer one as a pattern plus
/// the classifier's URL.
const ENUM_LIMIT: usize = 30;

/// Every code of a classifier the registry refers to (`settlements` are inside `communities`).
pub(crate) fn classifier_codes(name: &str) -> Vec<&'static str> {
    let c = classifiers();
    match name {
        "countries" => c.countries.iter().map(|x| x.code.as_str()).collect(),
        "marzes" => c.marzes.iter().map(|x| x.code.as_str()).collect(),
        "communities" => c.communities.iter().map(|x| x.code.as_str()).collect(),
        "settlements" => c
            .communities
            .iter()
            .flat_map(|x| x.settlements.iter().map(|s| s.code.as_str()))
            .collect(),
        "identity-document-types" => c
            .identity_document_types
            .iter()
            .map(|x| x.code.as_str())
            .collect(),
        "citizenship-grounds" => c
            .citizenship_grounds
            .iter()
            .map(|x| x.code.as_str())
            .collect(),
        "residence-documents" => c
            .residence_documents
            .iter()
            .map(|x| x.code.as_str())
            .collect(),
        "nationalities" => c.nationalities.iter().map(|x| x.code.as_str()).collect(),
        _ => vec![],
    }
}

/// The common shape of every code as a regular expression without anchors (upper-case letters become
/// `[A-Z]`, digits `[0-9]`, anything else stands for itself), or `None` when the codes differ in shape.
pub(crate) fn code_shape_pattern(codes: &[&str]) -> Option<String> {
    fn class(c: char) -> Option<&'static str> {
        if c.is_ascii_uppercase() {
            Some("[A-Z]")
        } else if c.is_ascii_digit() {
            Some("[0-9]")
        } else {
            None
        }
    }
    let shape = |code: &str| -> Vec<Option<&'static str>> { code.chars().map(class).collect() };
    let first = codes.first()?;
    let s = shape(first);
    if codes.iter().any(|c| shape(c) != s) {
        return None;
    }
    let mut out = String::new();
    let chars: Vec<char> = first.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match class(chars[i]) {
            Some(cls) => {
                let mut j = i;
                while j < chars.len() && class(chars[j]) == Some(cls) {
                    j += 1;
                }
                out.push_str(cls);
                if j - i > 1 {
                    out.push_str(&format!("{{{}}}", j - i));
                }
                i = j;
            }
            None => {
                let c = chars[i];
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    out.push(c);
                } else {
                    out.push('\\');
                    out.push(c);
                }
                i += 1;
            }
        }
    }
    Some(out)
}

/// How a classifier's codes are described in a schema.
pub(crate) enum CodeList {
    Enum(Vec<&'static str>),
    Pattern(Option<String>),
}

pub(crate) fn code_list(name: &str) -> CodeList {
    let codes = classifier_codes(name);
    if codes.len() <= ENUM_LIMIT {
        CodeList::Enum(codes)
    } else {
        CodeList::Pattern(code_shape_pattern(&codes))
    }
}

pub(crate) const NAME_CLASS: &str = "Ա-Ֆա-և";
const CONTROL_JSON: &str = "\\u0000-\\u001F\\u007F-\\u009F";

fn name_pattern_json() -> String {
    format!("^[{NAME_CLASS} '\\-]*[{NAME_CLASS}][{NAME_CLASS} '\\-]*$")
}

fn text_pattern_json() -> String {
    format!("^[^{CONTROL_JSON}]*[^\\s{CONTROL_JSON}][^{CONTROL_JSON}]*$")
}

// ------------------------------------------------------------------------------------------------ JSON Schema

/// Where the shared composite definitions live: `#/$defs/` in a JSON Schema, `#/components/schemas/` in the
/// OpenAPI document.
pub(crate) fn domain_schema(e: &DataElement, refs: &str) -> Value {
    let mut s = Map::new();
    s.insert("title".into(), json!(e.name.en));
    s.insert(
        "description".into(),
        json!(format!(
            "{} Domain: {}.",
            e.definition.en,
            e.domain.describe()
        )),
    );
    s.insert("x-element".into(), json!(e.id));
    s.insert(
        "x-title".into(),
        json!({"hy": e.name.hy, "en": e.name.en, "ru": e.name.ru}),
    );
    match e.domain {
        ValueDomain::Text { min, max } => {
            s.insert("type".into(), json!("string"));
            s.insert("minLength".into(), json!(min));
            s.insert("maxLength".into(), json!(max));
            s.insert("pattern".into(), json!(text_pattern_json()));
        }
        ValueDomain::Name => {
            s.insert("type".into(), json!("string"));
            s.insert("minLength".into(), json!(1));
            s.insert("maxLength".into(), json!(80));
            s.insert("pattern".into(), json!(name_pattern_json()));
        }
        ValueDomain::Date => {
            s.insert("type".into(), json!("string"));
            s.insert("format".into(), json!("date"));
            s.insert("pattern".into(), json!("^[0-9]{4}-[0-9]{2}-[0-9]{2}$"));
        }
        ValueDomain::Psn => {
            s.insert("type".into(), json!("string"));
            s.insert("pattern".into(), json!("^[0-9]{10}$"));
        }
        ValueDomain::Boolean { only_true: true } => {
            s.insert("const".into(), json!(true));
        }
        ValueDomain::Boolean { only_true: false } => {
            s.insert("type".into(), json!("boolean"));
        }
        ValueDomain::Integer { min, max } => {
            s.insert("type".into(), json!("integer"));
            s.insert("minimum".into(), json!(min));
            s.insert("maximum".into(), json!(max));
        }
        ValueDomain::Classifier(name) => {
            s.insert("type".into(), json!("string"));
            s.insert("x-classifier".into(), json!(classifier_url(name)));
            match code_list(name) {
                CodeList::Enum(codes) => {
                    s.insert("enum".into(), json!(codes));
                }
                CodeList::Pattern(p) => {
                    if let Some(p) = p {
                        s.insert("pattern".into(), json!(format!("^{p}$")));
                    }
                }
            }
        }
        ValueDomain::Enumeration { values, .. } => {
            s.insert("type".into(), json!("string"));
            let codes: Vec<&str> = values.iter().map(|c| c.code).collect();
            s.insert("enum".into(), json!(codes));
        }
        ValueDomain::Composite(name) => {
            s.insert("$ref".into(), json!(format!("{refs}{name}")));
        }
    }
    Value::Object(s)
}

fn field_schema(f: &FieldDef, refs: &str) -> Value {
    match element(f.element) {
        Some(e) => domain_schema(e, refs),
        None => json!({"description": format!("unregistered element {}", f.element)}),
    }
}

fn object_schema<'a>(fields: impl Iterator<Item = &'a FieldDef>, refs: &str) -> Map<String, Value> {
    let mut props = Map::new();
    let mut required = vec![];
    for f in fields {
        props.insert(f.name.into(), field_schema(f, refs));
        if f.required {
            required.push(f.name);
        }
    }
    let mut s = Map::new();
    s.insert("type".into(), json!("object"));
    s.insert("additionalProperties".into(), json!(false));
    s.insert("properties".into(), Value::Object(props));
    if !required.is_empty() {
        s.insert("required".into(), json!(required));
    }
    s
}

/// The schema of a composite type.
pub(crate) fn composite_schema(c: &CompositeDef, refs: &str) -> Value {
    let mut s = match c.forms {
        [only] => object_schema(only.iter(), refs),
        forms => {
            let mut s = Map::new();
            s.insert("type".into(), json!("object"));
            let alternatives: Vec<Value> = forms
                .iter()
                .map(|form| Value::Object(object_schema(form.iter(), refs)))
                .collect();
            s.insert("oneOf".into(), Value::Array(alternatives));
            s
        }
    };
    s.insert("title".into(), json!(c.title.en));
    s.insert("description".into(), json!(c.definition.en));
    s.insert(
        "x-title".into(),
        json!({"hy": c.title.hy, "en": c.title.en, "ru": c.title.ru}),
    );
    Value::Object(s)
}

/// The composites a kind uses, directly or inside another composite, in registry order.
pub(crate) fn composites_used(kind: &KindDef) -> Vec<&'static CompositeDef> {
    let mut names: Vec<&str> = vec![];
    let mut stack: Vec<&FieldDef> = kind.wire_fields().collect();
    while let Some(f) = stack.pop() {
        if let Some(ValueDomain::Composite(name)) = element(f.element).map(|e| e.domain)
            && !names.contains(&name)
        {
            names.push(name);
            if let Some(c) = composite(name) {
                stack.extend(c.forms.iter().flat_map(|form| form.iter()));
            }
        }
    }
    super::composites()
        .iter()
        .filter(|c| names.contains(&c.name))
        .collect()
}

/// The schema of a kind's document, with composites referenced under `refs`.
pub(crate) fn kind_schema(kind: &KindDef, refs: &str) -> Map<String, Value> {
    let mut s = Map::new();
    s.insert("title".into(), json!(kind.title.en));
    let providers: Vec<&str> = kind.providers.iter().map(|p| p.as_str()).collect();
    s.insert(
        "description".into(),
        json!(format!(
            "A {} submission (POST /api/v1/submissions/{}), from: {}.",
            kind.name,
            kind.name,
            providers.join(", ")
        )),
    );
    s.insert(
        "x-title".into(),
        json!({"hy": kind.title.hy, "en": kind.title.en, "ru": kind.title.ru}),
    );
    s.insert("x-providers".into(), json!(providers));
    s.extend(object_schema(kind.wire_fields(), refs));
    if !kind.at_least_one.is_empty() {
        let groups: Vec<Value> = kind
            .at_least_one
            .iter()
            .map(|group| {
                let alternatives: Vec<Value> =
                    group.iter().map(|f| json!({"required": [f]})).collect();
                json!({"anyOf": alternatives})
            })
            .collect();
        s.insert("allOf".into(), Value::Array(groups));
    }
    s.insert("xml".into(), json!({"name": kind.name}));
    s
}

/// The JSON Schema (2020-12) of a kind, served at `/api/v1/schemas/{kind}.json`.
pub fn json_schema(kind: &KindDef) -> Value {
    let mut s = Map::new();
    s.insert(
        "$schema".into(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    s.insert(
        "$id".into(),
        json!(format!("/api/v1/schemas/{}.json", kind.name)),
    );
    let mut body = kind_schema(kind, "#/$defs/");
    body.remove("xml");
    s.extend(body);
    let defs: Map<String, Value> = composites_used(kind)
        .into_iter()
        .map(|c| (c.name.to_owned(), composite_schema(c, "#/$defs/")))
        .collect();
    if !defs.is_empty() {
        s.insert("$defs".into(), Value::Object(defs));
    }
    Value::Object(s)
}

// ------------------------------------------------------------------------------------------------ XSD

fn doc(out: &mut String, indent: &str, text: &str) {
    out.push_str(&format!(
        "{indent}<xs:annotation><xs:documentation>{}</xs:documentation></xs:annotation>\n",
        crate::markup::escape(text)
    ));
}

/// The XSD type name of a field: the composite's name, or the element's identifier (a simple type).
fn xsd_type(f: &FieldDef) -> String {
    match element(f.element).map(|e| e.domain) {
        Some(ValueDomain::Composite(name)) => name.to_owned(),
        _ => f.element.to_owned(),
    }
}

fn xsd_all(out: &mut String, indent: &str, fields: &[&FieldDef], all_optional: bool) {
    out.push_str(&format!("{indent}<xs:all>\n"));
    for f in fields {
        let min = if f.required && !all_optional {
            ""
        } else {
            " minOccurs=\"0\""
        };
        out.push_str(&format!(
            "{indent}  <xs:element name=\"{}\" type=\"{}\"{min}/>\n",
            f.name,
            xsd_type(f)
        ));
    }
    out.push_str(&format!("{indent}</xs:all>\n"));
}

fn xsd_simple_type(out: &mut String, e: &DataElement) {
    out.push_str(&format!("  <xs:simpleType name=\"{}\">\n", e.id));
    doc(
        out,
        "    ",
        &format!(
            "{}: {} Domain: {}.",
            e.name.en,
            e.definition.en,
            e.domain.describe()
        ),
    );
    let facet = |name: &str, value: &str| {
        format!(
            "      <xs:{name} value=\"{}\"/>\n",
            crate::markup::escape(value)
        )
    };
    let (base, facets) = match e.domain {
        ValueDomain::Text { min, max } => (
            "xs:string",
            [
                facet("minLength", &min.to_string()),
                facet("maxLength", &max.to_string()),
                facet("pattern", "[^\\p{Cc}]*[^\\s\\p{Cc}][^\\p{Cc}]*"),
            ]
            .concat(),
        ),
        ValueDomain::Name => (
            "xs:string",
            [
                facet("minLength", "1"),
                facet("maxLength", "80"),
                facet(
                    "pattern",
                    &format!("[{NAME_CLASS} '\\-]*[{NAME_CLASS}][{NAME_CLASS} '\\-]*"),
                ),
            ]
            .concat(),
        ),
        ValueDomain::Date => ("xs:date", facet("pattern", "[0-9]{4}-[0-9]{2}-[0-9]{2}")),
        ValueDomain::Psn => ("xs:string", facet("pattern", "[0-9]{10}")),
        ValueDomain::Boolean { only_true } => (
            "xs:boolean",
            facet("pattern", if only_true { "true" } else { "true|false" }),
        ),
        ValueDomain::Integer { min, max } => (
            "xs:integer",
            [
                facet("pattern", "-?[0-9]+"),
                facet("minInclusive", &min.to_string()),
                facet("maxInclusive", &max.to_string()),
            ]
            .concat(),
        ),
        ValueDomain::Classifier(name) => (
            "xs:string",
            match code_list(name) {
                CodeList::Enum(codes) => codes.iter().map(|c| facet("enumeration", c)).collect(),
                CodeList::Pattern(Some(p)) => facet("pattern", &p),
                CodeList::Pattern(None) => facet("minLength", "1"),
            },
        ),
        ValueDomain::Enumeration { values, .. } => (
            "xs:string",
            values
                .iter()
                .map(|c| facet("enumeration", c.code))
                .collect(),
        ),
        // Composites are complex types, written separately.
        ValueDomain::Composite(_) => ("xs:string", String::new()),
    };
    out.push_str(&format!("    <xs:restriction base=\"{base}\">\n"));
    out.push_str(&facets);
    out.push_str("    </xs:restriction>\n  </xs:simpleType>\n");
}

/// The W3C XML Schema 1.0 of a kind, served at `/api/v1/schemas/{kind}.xsd`: no namespace, the root element
/// is the kind, children in any order (`xs:all`).
///
/// XSD 1.0 cannot say "exactly one of these two forms" inside `xs:all`, so a `person` lists the fields of both
/// forms as optional; the JSON Schema and the register's check enforce the forms (and adoption's "at least
/// one adoptive parent").
pub fn xsd(kind: &KindDef) -> String {
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(
        "<!-- Generated from the data-element registry of popreg (crates/domain/src/elements); do not edit. -->\n",
    );
    out.push_str(
        "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" elementFormDefault=\"unqualified\" version=\"1\">\n",
    );
    let providers: Vec<&str> = kind.providers.iter().map(|p| p.as_str()).collect();
    doc(
        &mut out,
        "  ",
        &format!(
            "{} ({} / {}): a {} submission, POST /api/v1/submissions/{} with Content-Type application/xml. \
             From: {}.",
            kind.title.en,
            kind.title.hy,
            kind.title.ru,
            kind.name,
            kind.name,
            providers.join(", ")
        ),
    );
    out.push_str(&format!("  <xs:element name=\"{}\">\n", kind.name));
    out.push_str("    <xs:complexType>\n");
    let fields: Vec<&FieldDef> = kind.wire_fields().collect();
    xsd_all(&mut out, "      ", &fields, false);
    out.push_str("    </xs:complexType>\n  </xs:element>\n");

    let used = composites_used(kind);
    for c in &used {
        out.push_str(&format!("  <xs:complexType name=\"{}\">\n", c.name));
        let several = c.forms.len() > 1;
        let note = if several {
            " Exactly one form: by psn alone, or described with no_psn true (checked by the register, not by \
             this schema)."
        } else {
            ""
        };
        doc(
            &mut out,
            "    ",
            &format!("{}: {}{note}", c.title.en, c.definition.en),
        );
        xsd_all(&mut out, "    ", &c.all_fields(), several);
        out.push_str("  </xs:complexType>\n");
    }

    // One simple type per element used, in registry order.
    let mut ids: Vec<&str> = fields.iter().map(|f| f.element).collect();
    for c in &used {
        ids.extend(c.all_fields().iter().map(|f| f.element));
    }
    for e in super::elements() {
        if ids.contains(&e.id) && !matches!(e.domain, ValueDomain::Composite(_)) {
            xsd_simple_type(&mut out, e);
        }
    }
    out.push_str("</xs:schema>\n");
    out
}
