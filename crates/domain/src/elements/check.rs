//! The structural check of a submission against its kind: every field's presence, JSON type and value domain,
//! all errors at once. Rules that need the register (dates in the future, contradictions, duplicates) are the
//! pipeline's, not this module's.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{Map, Value};

use super::{FieldDef, KindDef, ValueDomain, composite};
use crate::classifiers::classifiers;
use crate::error::{Code, DomainError};
use crate::names::Name;
use crate::psn::Psn;

/// One structural error of a submission.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub code: Code,
    /// Dotted path of the field (`mother.psn`); empty for the whole document.
    pub field: String,
    /// For developers, in English.
    pub detail: String,
}

impl FieldError {
    pub fn new(code: Code, field: impl Into<String>, detail: impl Into<String>) -> FieldError {
        FieldError {
            code,
            field: field.into(),
            detail: detail.into(),
        }
    }
}

/// Check a submission of `kind` (the JSON value, or the value its XML form maps to). Returns every structural
/// error; an empty list means the document has the kind's shape and every value is in its domain.
pub fn check(kind: &KindDef, v: &Value) -> Vec<FieldError> {
    let mut errors = vec![];
    let Some(obj) = v.as_object() else {
        errors.push(FieldError::new(
            Code::Malformed,
            "",
            format!("a {} submission is an object", kind.name),
        ));
        return errors;
    };
    let fields: Vec<&FieldDef> = kind.wire_fields().collect();
    check_object(&fields, obj, "", &mut errors);
    for group in kind.at_least_one {
        if !group.iter().any(|f| obj.contains_key(*f)) {
            errors.push(FieldError::new(
                Code::MissingField,
                group.first().copied().unwrap_or_default(),
                format!(
                    "a {} submission needs at least one of: {}",
                    kind.name,
                    group.join(", ")
                ),
            ));
        }
    }
    errors
}

fn path(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

fn check_object(
    fields: &[&FieldDef],
    obj: &Map<String, Value>,
    prefix: &str,
    errors: &mut Vec<FieldError>,
) {
    for key in obj.keys() {
        if !fields.iter().any(|f| f.name == key) {
            errors.push(FieldError::new(
                Code::UnknownField,
                path(prefix, key),
                format!("unknown field {key:?}"),
            ));
        }
    }
    for f in fields {
        let at = path(prefix, f.name);
        match obj.get(f.name) {
            None if f.required => errors.push(FieldError::new(
                Code::MissingField,
                at,
                format!("{} is required", f.name),
            )),
            None => {}
            Some(value) => check_field(f, value, &at, errors),
        }
    }
}

fn check_field(f: &FieldDef, v: &Value, at: &str, errors: &mut Vec<FieldError>) {
    let Some(element) = f.element() else {
        errors.push(FieldError::new(
            Code::Internal,
            at,
            format!("field {} names no registered element {}", f.name, f.element),
        ));
        return;
    };
    check_value(&element.domain, v, at, errors);
}

fn err(errors: &mut Vec<FieldError>, code: Code, at: &str, detail: impl Into<String>) {
    errors.push(FieldError::new(code, at, detail));
}

fn wrong_type(errors: &mut Vec<FieldError>, at: &str, expected: &str, v: &Value) {
    let got = match v {
        Value::Null => "null (leave an optional field out instead)",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    err(
        errors,
        Code::Malformed,
        at,
        format!("expected {expected}, got {got}"),
    );
}

fn from_domain(errors: &mut Vec<FieldError>, at: &str, e: DomainError) {
    err(errors, e.code, at, e.detail);
}

/// Whether `s` is free text in the sense of [`ValueDomain::Text`]: no control characters, not only white
/// space.
pub(crate) fn is_free_text(s: &str) -> bool {
    !s.chars().any(char::is_control) && s.chars().any(|c| !c.is_whitespace())
}

/// `YYYY-MM-DD` with exactly these digits, and a real date.
pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        });
    if !shape {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

fn check_value(domain: &ValueDomain, v: &Value, at: &str, errors: &mut Vec<FieldError>) {
    match *domain {
        ValueDomain::Text { min, max } => {
            let Some(s) = v.as_str() else {
                return wrong_type(errors, at, "a string", v);
            };
            let n = s.chars().count();
            if n < min || n > max {
                err(
                    errors,
                    Code::ValueOutOfRange,
                    at,
                    format!("must be {min}-{max} characters, has {n}"),
                );
            } else if !is_free_text(s) {
                err(
                    errors,
                    Code::ValueOutOfRange,
                    at,
                    "must not contain control characters or be only white space",
                );
            }
        }
        ValueDomain::Name => {
            let Some(s) = v.as_str() else {
                return wrong_type(errors, at, "a string", v);
            };
            // Name::armenian trims; the wire form must itself be 1-80 characters with only plain spaces, so
            // that the check and the schemas' pattern agree.
            if s.chars().count() > 80 || s.chars().any(|c| c.is_whitespace() && c != ' ') {
                err(
                    errors,
                    Code::NameInvalid,
                    at,
                    "name must be 1-80 Armenian letters, spaces or hyphens",
                );
            } else if let Err(e) = Name::armenian(s) {
                from_domain(errors, at, e);
            }
        }
        ValueDomain::Date => {
            let Some(s) = v.as_str() else {
                return wrong_type(errors, at, "a date string YYYY-MM-DD", v);
            };
            if parse_date(s).is_none() {
                err(
                    errors,
                    Code::InvalidDate,
                    at,
                    format!("{s:?} is not a real date YYYY-MM-DD"),
                );
            }
        }
        ValueDomain::Psn => {
            let Some(s) = v.as_str() else {
                return wrong_type(errors, at, "a PSN string of 10 digits", v);
            };
            if s.trim() != s {
                err(
                    errors,
                    Code::PsnDigits,
                    at,
                    "PSN may contain only the digits 0-9 (no spaces)",
                );
            } else if let Err(e) = Psn::parse(s) {
                from_domain(errors, at, e);
            }
        }
        ValueDomain::Boolean { only_true } => match v.as_bool() {
            None => wrong_type(errors, at, "true or false", v),
            Some(false) if only_true => {
                err(errors, Code::ValueOutOfRange, at, "the only value is true")
            }
            Some(_) => {}
        },
        ValueDomain::Integer { min, max } => {
            let Some(n) = v.as_i64() else {
                return if v.as_u64().is_some() {
                    err(
                        errors,
                        Code::ValueOutOfRange,
                        at,
                        format!("must be {min}-{max}"),
                    )
                } else {
                    wrong_type(errors, at, "a whole number", v)
                };
            };
            if n < min || n > max {
                err(
                    errors,
                    Code::ValueOutOfRange,
                    at,
                    format!("must be {min}-{max}, is {n}"),
                );
            }
        }
        ValueDomain::Classifier(name) => {
            let Some(s) = v.as_str() else {
                return wrong_type(errors, at, "a code string", v);
            };
            if !classifiers().is_known(name, s) {
                err(
                    errors,
                    Code::UnknownClassifierCode,
                    at,
                    format!(
                        "{s:?} is not a code of classifier {name} ({})",
                        super::classifier_url(name)
                    ),
                );
            }
        }
        ValueDomain::Enumeration { values, error } => {
            let Some(s) = v.as_str() else {
                return wrong_type(errors, at, "a code string", v);
            };
            if !values.iter().any(|c| c.code == s) {
                let allowed: Vec<&str> = values.iter().map(|c| c.code).collect();
                err(
                    errors,
                    error,
                    at,
                    format!("{s:?} is not one of {}", allowed.join(", ")),
                );
            }
        }
        ValueDomain::Composite(name) => {
            let Some(obj) = v.as_object() else {
                return wrong_type(errors, at, &format!("an object ({name})"), v);
            };
            check_composite(name, obj, at, errors);
        }
    }
}

fn check_composite(name: &str, obj: &Map<String, Value>, at: &str, errors: &mut Vec<FieldError>) {
    let Some(def) = composite(name) else {
        return err(
            errors,
            Code::Internal,
            at,
            format!("no composite type {name}"),
        );
    };
    let form: &[FieldDef] = match def.forms {
        [only] => only,
        // A person: by PSN when `psn` is there, else described (which needs `no_psn: true`).
        [by_psn, described] => {
            if obj.contains_key("psn") {
                by_psn
            } else if obj.contains_key("no_psn") {
                described
            } else {
                return err(
                    errors,
                    Code::MissingField,
                    &path(at, "psn"),
                    format!(
                        "a {name} is given by psn, or described without one with no_psn: true, first_name, \
                         surname, document_type and document_number"
                    ),
                );
            }
        }
        _ => {
            return err(
                errors,
                Code::Internal,
                at,
                format!("composite {name} has an unexpected number of forms"),
            );
        }
    };
    let fields: Vec<&FieldDef> = form.iter().collect();
    check_object(&fields, obj, at, errors);
}
