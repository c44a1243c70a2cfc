//! The human-readable catalogue of the registry (kept in `docs/data-elements.md` between markers).

use std::fmt::Write;

use super::{FieldDef, composites, elements, kinds};

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
