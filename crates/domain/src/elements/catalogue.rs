//! The human-readable catalogue of the registry (kept in `docs/data-elements.md` between markers).

use std::fmt::Write;

use serde_json::{Value, json};

use super::{FieldDef, ValueDomain, classifier_url, composites, elements, kinds};

fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

fn field_list(fields: &[&FieldDef]) -> String {
    fields
        .iter()
        .map(|f| {
            format!(
                "`{}{}` ({})",
                f.name,
                if f.required { "" } else { "?" },
                f.element
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The catalogue in Markdown: every element, every composite type, every kind.
pub fn catalogue_markdown() -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_catalogue(&mut out);
    out
}

fn write_catalogue(out: &mut String) -> std::fmt::Result {
    writeln!(
        out,
        "### Data elements\n\n{} elements. *Steward*: the provider types that may submit values of the element \
         (derived from the kinds that carry it). *Security class*: `public`, `personal`, `sensitive` (family and \
         care relations), `special-category` (convictions, legal incapacity, ethnic origin).\n",
        elements().len()
    )?;
    writeln!(
        out,
        "| identifier | v | name (hy / en / ru) | definition | type | value domain | steward | security class |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|---|---|")?;
    for e in elements() {
        let steward: Vec<&str> = e.steward.iter().map(|b| b.as_str()).collect();
        writeln!(
            out,
            "| `{}` | {} | {} / {} / {} | {} | {} | {} | {} | {} |",
            e.id,
            e.version,
            cell(e.name.hy),
            cell(e.name.en),
            cell(e.name.ru),
            cell(e.definition.en),
            e.data_type.as_str(),
            cell(&e.domain.describe()),
            steward.join(", "),
            e.security.as_str()
        )?;
    }
    writeln!(out, "\nThe definitions in Armenian and Russian:\n")?;
    writeln!(out, "| identifier | hy | ru |")?;
    writeln!(out, "|---|---|---|")?;
    for e in elements() {
        writeln!(
            out,
            "| `{}` | {} | {} |",
            e.id,
            cell(e.definition.hy),
            cell(e.definition.ru)
        )?;
    }

    writeln!(out, "\n### Composite types\n")?;
    for c in composites() {
        writeln!(
            out,
            "**`{}`** ({} / {} / {}): {}\n",
            c.name, c.title.hy, c.title.en, c.title.ru, c.definition.en
        )?;
        for (i, form) in c.forms.iter().enumerate() {
            let fields: Vec<&FieldDef> = form.iter().collect();
            if c.forms.len() > 1 {
                writeln!(out, "- form {}: {}", i + 1, field_list(&fields))?;
            } else {
                writeln!(out, "- {}", field_list(&fields))?;
            }
        }
        writeln!(out)?;
    }

    writeln!(
        out,
        "### Submission kinds\n\n`?` marks an optional field. Every kind also takes `schema_version?` \
         (psr.submission.schema_version).\n"
    )?;
    writeln!(out, "| kind | title (hy / en / ru) | providers | fields |")?;
    writeln!(out, "|---|---|---|---|")?;
    for k in kinds() {
        let providers: Vec<&str> = k.providers.iter().map(|b| b.as_str()).collect();
        let fields: Vec<&FieldDef> = k.fields.iter().collect();
        let mut list = field_list(&fields);
        for group in k.at_least_one {
            let _ = write!(list, "; at least one of {}", group.join(", "));
        }
        writeln!(
            out,
            "| `{}` | {} / {} / {} | {} | {} |",
            k.name,
            k.title.hy,
            k.title.en,
            k.title.ru,
            providers.join(", "),
            list
        )?;
    }
    Ok(())
}

fn text_json(t: &super::Text) -> Value {
    json!({"hy": t.hy, "en": t.en, "ru": t.ru})
}

fn domain_json(d: &ValueDomain) -> Value {
    let mut v = match *d {
        ValueDomain::Text { min, max } => {
            json!({"kind": "text", "min_length": min, "max_length": max})
        }
        ValueDomain::Name => json!({"kind": "armenian_name", "min_length": 1, "max_length": 80}),
        ValueDomain::Date => json!({"kind": "date"}),
        ValueDomain::Psn => json!({"kind": "psn"}),
        ValueDomain::Boolean { only_true } => json!({"kind": "boolean", "only_true": only_true}),
        ValueDomain::Integer { min, max } => {
            json!({"kind": "integer", "minimum": min, "maximum": max})
        }
        ValueDomain::Classifier(name) => {
            json!({"kind": "classifier", "classifier": name, "url": classifier_url(name)})
        }
        ValueDomain::Enumeration { values, error } => json!({
            "kind": "enumeration",
            "values": values.iter().map(|c| json!({"code": c.code, "meaning": text_json(&c.meaning)})).collect::<Vec<_>>(),
            "error_code": error.as_str(),
        }),
        ValueDomain::Composite(name) => json!({"kind": "composite", "type": name}),
    };
    v["description"] = json!(d.describe());
    v
}

fn fields_json(fields: &[FieldDef]) -> Value {
    fields
        .iter()
        .map(|f| json!({"name": f.name, "element": f.element, "required": f.required}))
        .collect()
}

/// The catalogue as one JSON document (`GET /api/v1/elements`): elements, composite types and kinds.
pub fn catalogue_json() -> Value {
    let elements: Vec<Value> = elements()
        .iter()
        .map(|e| {
            json!({
                "id": e.id,
                "version": e.version,
                "name": text_json(&e.name),
                "definition": text_json(&e.definition),
                "data_type": e.data_type.as_str(),
                "value_domain": domain_json(&e.domain),
                "steward": e.steward.iter().map(|b| b.as_str()).collect::<Vec<_>>(),
                "security_class": e.security.as_str(),
            })
        })
        .collect();
    let composites: Vec<Value> = composites()
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "title": text_json(&c.title),
                "definition": text_json(&c.definition),
                "forms": c.forms.iter().map(|f| fields_json(f)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let kinds: Vec<Value> = kinds()
        .iter()
        .map(|k| {
            json!({
                "name": k.name,
                "title": text_json(&k.title),
                "providers": k.providers.iter().map(|b| b.as_str()).collect::<Vec<_>>(),
                "fields": fields_json(k.fields),
                "at_least_one": k.at_least_one,
            })
        })
        .collect();
    json!({
        "registry": "ISO/IEC 11179 data elements of the Population State Register",
        "schema_version": "1",
        "elements": elements,
        "composites": composites,
        "kinds": kinds,
    })
}
