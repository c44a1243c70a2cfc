//! The data-element registry (ISO/IEC 11179, A2.2): every field a provider submits is defined here once, with
//! its identifier, version, names and definition in hy/en/ru, data type, value domain, steward and security
//! class. The submission kinds of `docs/submissions.md` are lists of fields that point at these elements; the
//! composite types `place`, `address` and `person` are defined once and reused.
//!
//! Everything else is derived from these tables and never written twice: the structural check of a submission
//! ([`check`]), the JSON Schemas ([`json_schema`]), the XSDs ([`xsd`]), the OpenAPI document ([`openapi`]), a
//! valid example of every kind ([`example`]) and the human-readable catalogue ([`catalogue_markdown`], kept in
//! `docs/data-elements.md`).

mod catalogue;
mod check;
mod example;
mod openapi;
mod registry;
mod schema;

use std::sync::OnceLock;

use serde::Serialize;

use crate::access::BodyType;
use crate::classifiers::Lang;
use crate::error::Code;

pub use catalogue::{catalogue_json, catalogue_markdown};
pub use check::{FieldError, check};
pub use example::example;
pub use openapi::openapi;
pub use schema::{json_schema, xsd};

/// A text in the three interface languages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Text {
    pub hy: &'static str,
    pub en: &'static str,
    pub ru: &'static str,
}

impl Text {
    pub fn get(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::Hy => self.hy,
            Lang::En => self.en,
            Lang::Ru => self.ru,
        }
    }
}

/// The data type of an element's values on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DataType {
    String,
    Date,
    Code,
    Psn,
    Boolean,
    Integer,
    Object,
}

impl DataType {
    pub fn as_str(self) -> &'static str {
        match self {
            DataType::String => "string",
            DataType::Date => "date",
            DataType::Code => "code",
            DataType::Psn => "psn",
            DataType::Boolean => "boolean",
            DataType::Integer => "integer",
            DataType::Object => "object",
        }
    }
}

/// How much harm a disclosure of the element's values about a person can do; decides read grants and
/// logging.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum SecurityClass {
    /// Not about a person.
    #[serde(rename = "public")]
    Public,
    /// Identifies or describes a person.
    #[serde(rename = "personal")]
    Personal,
    /// Family and care relations whose disclosure can harm (adoption, guardianship).
    #[serde(rename = "sensitive")]
    Sensitive,
    /// Special categories of personal data: criminal convictions, legal incapacity, ethnic origin.
    #[serde(rename = "special-category")]
    SpecialCategory,
}

impl SecurityClass {
    pub fn as_str(self) -> &'static str {
        match self {
            SecurityClass::Public => "public",
            SecurityClass::Personal => "personal",
            SecurityClass::Sensitive => "sensitive",
            SecurityClass::SpecialCategory => "special-category",
        }
    }
}

/// One permitted value of an enumerated domain, with its meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Choice {
    pub code: &'static str,
    pub meaning: Text,
}

/// The set of values an element may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueDomain {
    /// Free text of `min..=max` characters: no control characters, not only white space.
    Text { min: usize, max: usize },
    /// A name part in Armenian script: 1-80 characters, Armenian letters, space, hyphen and apostrophe, at least
    /// one letter (`Name::armenian`).
    Name,
    /// `YYYY-MM-DD`, a real calendar date.
    Date,
    /// Ten digits with a Verhoeff check digit.
    Psn,
    /// `true` or `false`; with `only_true`, only `true` (an explicit mark).
    Boolean { only_true: bool },
    /// A whole number in `min..=max`.
    Integer { min: i64, max: i64 },
    /// A code of the named classifier (`data/classifiers/{name}.json`; `settlements` are inside
    /// `communities`).
    Classifier(&'static str),
    /// One of a fixed list of codes; a value outside it is the given error code.
    Enumeration {
        values: &'static [Choice],
        error: Code,
    },
    /// A composite value: `place`, `address` or `person` (see [`composites`]).
    Composite(&'static str),
}

impl ValueDomain {
    pub fn data_type(&self) -> DataType {
        match self {
            ValueDomain::Text { .. } | ValueDomain::Name => DataType::String,
            ValueDomain::Date => DataType::Date,
            ValueDomain::Psn => DataType::Psn,
            ValueDomain::Boolean { .. } => DataType::Boolean,
            ValueDomain::Integer { .. } => DataType::Integer,
            ValueDomain::Classifier(_) | ValueDomain::Enumeration { .. } => DataType::Code,
            ValueDomain::Composite(_) => DataType::Object,
        }
    }

    /// The domain in words (English), for catalogues and schema descriptions.
    pub fn describe(&self) -> String {
        match self {
            ValueDomain::Text { min, max } => format!(
                "free text, {min}-{max} characters, no control characters, not only white space"
            ),
            ValueDomain::Name => {
                "Armenian script, 1-80 characters: Armenian letters, space, hyphen, \
                                  apostrophe; at least one letter"
                    .into()
            }
            ValueDomain::Date => "YYYY-MM-DD, a real calendar date".into(),
            ValueDomain::Psn => "10 digits, the last a Verhoeff check digit".into(),
            ValueDomain::Boolean { only_true: true } => "`true` (the only value)".into(),
            ValueDomain::Boolean { only_true: false } => "`true` or `false`".into(),
            ValueDomain::Integer { min, max } => format!("integer {min}-{max}"),
            ValueDomain::Classifier(name) => {
                format!("code of classifier `{name}` ({})", classifier_url(name))
            }
            ValueDomain::Enumeration { values, .. } => values
                .iter()
                .map(|c| format!("`{}` ({})", c.code, c.meaning.en))
                .collect::<Vec<_>>()
                .join(", "),
            ValueDomain::Composite(name) => format!("object `{name}`"),
        }
    }
}

/// Where the codes of a classifier are served. Settlement codes are inside the communities list.
pub fn classifier_url(name: &str) -> String {
    let file = if name == "settlements" {
        "communities"
    } else {
        name
    };
    format!("/api/v1/classifiers/{file}")
}

/// An example value of an element, for the generated examples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sample {
    Str(&'static str),
    Int(i64),
    Bool(bool),
    /// A PSN built from this nine-digit body and its Verhoeff check digit.
    Psn([u8; 9]),
    Object(&'static [(&'static str, Sample)]),
}

/// One data element (ISO/IEC 11179).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataElement {
    /// Stable identifier, e.g. `psr.person.first_name`.
    pub id: &'static str,
    /// Incremented when the meaning or value domain changes.
    pub version: u32,
    pub name: Text,
    pub definition: Text,
    pub data_type: DataType,
    pub domain: ValueDomain,
    /// The types of bodies that may submit values of this element (derived from the kinds that carry it).
    pub steward: Vec<BodyType>,
    pub security: SecurityClass,
    pub sample: Sample,
}

/// A field of a kind or composite: its wire name, the element it carries, whether it must be present.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldDef {
    pub name: &'static str,
    pub element: &'static str,
    pub required: bool,
}

impl FieldDef {
    /// The element this field carries. Every field names a registered element (a test proves it).
    pub fn element(&self) -> Option<&'static DataElement> {
        element(self.element)
    }
}

/// A composite type (`place`, `address`, `person`): one or more alternative forms, each a list of fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompositeDef {
    pub name: &'static str,
    pub title: Text,
    pub definition: Text,
    /// The alternative forms; a value must be exactly one of them. Most composites have one form; a `person`
    /// is either `{psn}` or described without a PSN.
    pub forms: &'static [&'static [FieldDef]],
}

impl CompositeDef {
    /// Every field of every form, first occurrence of each name.
    pub fn all_fields(&self) -> Vec<&'static FieldDef> {
        let mut out: Vec<&'static FieldDef> = vec![];
        for form in self.forms {
            for f in *form {
                if !out.iter().any(|o| o.name == f.name) {
                    out.push(f);
                }
            }
        }
        out
    }
}

/// One kind of submission (`POST /api/v1/submissions/{name}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KindDef {
    pub name: &'static str,
    pub title: Text,
    /// The provider types competent to submit it.
    pub providers: &'static [BodyType],
    /// The kind's own fields, in the contract's order. [`KindDef::wire_fields`] adds `schema_version`.
    pub fields: &'static [FieldDef],
    /// Groups of optional fields of which at least one must be present (adoption: an adoptive parent).
    pub at_least_one: &'static [&'static [&'static str]],
}

/// `schema_version`, which every submission may carry.
pub const SCHEMA_VERSION_FIELD: FieldDef = FieldDef {
    name: "schema_version",
    element: "psr.submission.schema_version",
    required: false,
};

impl KindDef {
    /// Every field a submission of this kind may carry: the kind's own and `schema_version`.
    pub fn wire_fields(&self) -> impl Iterator<Item = &'static FieldDef> + use<> {
        self.fields
            .iter()
            .chain(std::iter::once(&SCHEMA_VERSION_FIELD))
    }

    pub fn field(&self, name: &str) -> Option<&'static FieldDef> {
        self.wire_fields().find(|f| f.name == name)
    }
}

/// Every submission kind of `docs/submissions.md`.
pub fn kinds() -> &'static [KindDef] {
    registry::KINDS
}

/// The kind with this name.
pub fn kind(name: &str) -> Option<&'static KindDef> {
    registry::KINDS.iter().find(|k| k.name == name)
}

/// The composite types.
pub fn composites() -> &'static [CompositeDef] {
    registry::COMPOSITES
}

pub fn composite(name: &str) -> Option<&'static CompositeDef> {
    registry::COMPOSITES.iter().find(|c| c.name == name)
}

static ELEMENTS: OnceLock<Vec<DataElement>> = OnceLock::new();

/// Every data element, in catalogue order.
pub fn elements() -> &'static [DataElement] {
    ELEMENTS.get_or_init(build_elements)
}

/// The element with this identifier.
pub fn element(id: &str) -> Option<&'static DataElement> {
    elements().iter().find(|e| e.id == id)
}

/// The elements from the registry's table, each with its steward: every provider type of every kind that
/// carries it, directly or inside a composite.
fn build_elements() -> Vec<DataElement> {
    registry::ELEMENTS
        .iter()
        .map(|d| {
            let mut steward: Vec<BodyType> = vec![];
            for k in kinds() {
                if kind_uses(k, d.id) {
                    for p in k.providers {
                        if !steward.contains(p) {
                            steward.push(*p);
                        }
                    }
                }
            }
            steward.sort();
            DataElement {
                id: d.id,
                version: d.version,
                name: d.name,
                definition: d.definition,
                data_type: d.domain.data_type(),
                domain: d.domain,
                steward,
                security: d.security,
                sample: d.sample,
            }
        })
        .collect()
}

fn kind_uses(k: &KindDef, id: &str) -> bool {
    k.wire_fields().any(|f| field_uses(f, id, 0))
}

fn field_uses(f: &FieldDef, id: &str, depth: usize) -> bool {
    if f.element == id {
        return true;
    }
    let Some(def) = registry::ELEMENTS.iter().find(|d| d.id == f.element) else {
        return false;
    };
    match def.domain {
        ValueDomain::Composite(c) if depth < 4 => composite(c).is_some_and(|c| {
            c.forms
                .iter()
                .any(|form| form.iter().any(|g| field_uses(g, id, depth + 1)))
        }),
        _ => false,
    }
}

/// The row of the registry's element table (the steward and data type are derived).
pub(crate) struct ElementDef {
    pub id: &'static str,
    pub version: u32,
    pub name: Text,
    pub definition: Text,
    pub domain: ValueDomain,
    pub security: SecurityClass,
    pub sample: Sample,
}

#[cfg(test)]
mod tests;
