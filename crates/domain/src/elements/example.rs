//! A complete, valid example of every kind, built from the elements' samples.

use serde_json::{Map, Value, json};

use super::{KindDef, Sample, element};
use crate::psn::Psn;

fn sample_value(s: &Sample) -> Value {
    match s {
        Sample::Str(v) => json!(v),
        Sample::Int(n) => json!(n),
        Sample::Bool(b) => json!(b),
        Sample::Psn(body) => json!(Psn::from_body(*body).to_string()),
        Sample::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), sample_value(v)))
                .collect(),
        ),
    }
}

/// A complete valid submission of `kind`: every field the kind has (optional ones too) with its element's
/// sample value, PSNs with their Verhoeff check digit, real classifier codes and Armenian names.
pub fn example(kind: &KindDef) -> Value {
    let mut out = Map::new();
    for f in kind.wire_fields() {
        if let Some(e) = element(f.element) {
            out.insert(f.name.to_owned(), sample_value(&e.sample));
        }
    }
    Value::Object(out)
}
