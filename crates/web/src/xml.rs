//! XML rendering of API documents. Every XML answer is produced from the same serde value as the JSON
//! answer, so the two always carry the same field names: an object becomes child elements, an array becomes
//! repeated `<item>` elements inside the field's element, `null` becomes an empty element with
//! `nil="true"`. No DTD is ever emitted or read.

use serde_json::Value;

pub(crate) use popreg_domain::markup::escape_into as escape;

/// A JSON key made safe as an XML element name (keys are our own snake_case names; this is defence only).
fn element_name(key: &str) -> String {
    let mut s: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
        s.insert(0, '_');
    }
    s
}

fn write_value(name: &str, v: &Value, out: &mut String) {
    match v {
        Value::Null => {
            out.push('<');
            out.push_str(name);
            out.push_str(" nil=\"true\"/>");
        }
        Value::Object(map) => {
            out.push('<');
            out.push_str(name);
            out.push('>');
            for (k, v) in map {
                write_value(&element_name(k), v, out);
            }
            out.push_str("</");
            out.push_str(name);
            out.push('>');
        }
        Value::Array(items) => {
            out.push('<');
            out.push_str(name);
            out.push('>');
            for v in items {
                write_value("item", v, out);
            }
            out.push_str("</");
            out.push_str(name);
            out.push('>');
        }
        Value::String(s) => {
            out.push('<');
            out.push_str(name);
            out.push('>');
            escape(s, out);
            out.push_str("</");
            out.push_str(name);
            out.push('>');
        }
        Value::Bool(b) => {
            out.push('<');
            out.push_str(name);
            out.push('>');
            out.push_str(if *b { "true" } else { "false" });
            out.push_str("</");
            out.push_str(name);
            out.push('>');
        }
        Value::Number(n) => {
            out.push('<');
            out.push_str(name);
            out.push('>');
            out.push_str(&n.to_string());
            out.push_str("</");
            out.push_str(name);
            out.push('>');
        }
    }
}

/// Render a value as an XML document with the given root element and namespace.
pub fn to_xml(root: &str, v: &Value) -> String {
    let mut out = String::with_capacity(4096);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    match v {
        Value::Object(map) => {
            out.push('<');
            out.push_str(root);
            out.push_str(" xmlns=\"");
            out.push_str(NAMESPACE);
            out.push_str("\">");
            for (k, v) in map {
                write_value(&element_name(k), v, &mut out);
            }
            out.push_str("</");
            out.push_str(root);
            out.push('>');
        }
        other => {
            let mut inner = String::new();
            write_value(root, other, &mut inner);
            // Put the namespace on the root element.
            let at = root.len() + 1;
            out.push_str(&inner[..at]);
            out.push_str(" xmlns=\"");
            out.push_str(NAMESPACE);
            out.push('"');
            out.push_str(&inner[at..]);
        }
    }
    out.push('\n');
    out
}

pub const NAMESPACE: &str = "urn:am:popreg:v1";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn same_names_as_json() {
        let v = json!({"psn": "1234567890", "names": {"first": {"hy": "Արամ", "lat": "Aram"}}, "children": [{"child": "1"}, {"child": "2"}], "death": null, "n": 3, "x": "<&>"});
        let x = to_xml("person", &v);
        assert!(x.contains("<person xmlns=\"urn:am:popreg:v1\"><psn>1234567890</psn>"));
        assert!(x.contains("<first><hy>Արամ</hy><lat>Aram</lat></first>"));
        assert!(x.contains(
            "<children><item><child>1</child></item><item><child>2</child></item></children>"
        ));
        assert!(x.contains("<death nil=\"true\"/>"));
        assert!(x.contains("<x>&lt;&amp;&gt;</x>"));
        let arr = to_xml("entries", &json!([1, 2]));
        assert!(
            arr.contains(
                "<entries xmlns=\"urn:am:popreg:v1\"><item>1</item><item>2</item></entries>"
            ),
            "{arr}"
        );
    }
}
