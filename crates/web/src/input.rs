//! Reading a submission body, JSON or XML, into the one JSON value that the registry's check and the pipeline
//! work on. Hostile input is refused before anything is built from it:
//!
//! - JSON: invalid UTF-8 (`PSR-VAL-0014`), a syntax error (`PSR-VAL-0007`, with line and column), a key given
//!   twice anywhere (`PSR-VAL-0015`; serde_json alone would silently keep the last), nesting deeper than
//!   [`MAX_DEPTH`] or more than [`MAX_VALUES`] values (`PSR-VAL-0012`).
//! - XML: any DOCTYPE, DTD, entity declaration or reference to an entity other than the five predefined ones
//!   (`PSR-VAL-0013`, refused as soon as it is seen, so nothing is ever expanded); invalid UTF-8 or a
//!   declared encoding other than UTF-8 (`PSR-VAL-0014`); the same depth and size limits; a root element that
//!   is not the kind, attributes (namespaces included), mixed content and processing instructions
//!   (`PSR-VAL-0007`); an element given twice (`PSR-VAL-0015`).
//!
//! The XML form maps to exactly the value of the JSON form: child elements become members, booleans and
//! integers become JSON booleans and numbers where the kind's registry says so, everything else a string.

use std::fmt;

use popreg_domain::Code;
use popreg_domain::elements::{
    CompositeDef, FieldDef, FieldError, KindDef, ValueDomain, composite,
};
use quick_xml::events::Event;
use quick_xml::reader::Reader;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// The deepest nesting accepted: the document itself is level 1, each member or child element one more.
pub const MAX_DEPTH: usize = 8;
/// The most values (JSON) or elements (XML) one document may hold.
pub const MAX_VALUES: usize = 1000;

fn root_error(code: Code, detail: impl Into<String>) -> FieldError {
    FieldError::new(code, "", detail)
}

fn utf8(bytes: &[u8]) -> Result<&str, FieldError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        root_error(
            Code::BadEncoding,
            format!(
                "the body is not valid UTF-8 (at byte {}); only UTF-8 is accepted",
                e.valid_up_to()
            ),
        )
    })?;
    Ok(text.strip_prefix('\u{feff}').unwrap_or(text))
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

// ------------------------------------------------------------------------------------------------ JSON

#[derive(Default)]
struct Budget {
    values: usize,
    error: Option<FieldError>,
}

/// Builds a JSON value while counting values, watching the depth and refusing duplicate keys.
struct Seed<'a> {
    budget: &'a mut Budget,
    path: String,
    depth: usize,
}

impl Seed<'_> {
    fn fail<E: de::Error>(self, code: Code, detail: String) -> E {
        let message = detail.clone();
        self.budget.error = Some(FieldError::new(code, self.path, detail));
        E::custom(message)
    }

    fn count<E: de::Error>(self) -> Result<Self, E> {
        self.budget.values += 1;
        if self.budget.values > MAX_VALUES {
            return Err(self.fail(
                Code::TooComplex,
                format!("the document has more than {MAX_VALUES} values"),
            ));
        }
        if self.depth > MAX_DEPTH {
            return Err(self.fail(
                Code::TooComplex,
                format!("the document is nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        Ok(self)
    }

    fn child(&mut self, path: String) -> Seed<'_> {
        Seed {
            budget: self.budget,
            path,
            depth: self.depth + 1,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        self.count()?;
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        self.count()?;
        Ok(Value::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        self.count()?;
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        self.count()?;
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        self.count()?;
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        self.count()?;
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.count()?;
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut this = self.count()?;
        let mut items = vec![];
        loop {
            let path = join(&this.path, &items.len().to_string());
            match seq.next_element_seed(this.child(path))? {
                Some(v) => items.push(v),
                None => break,
            }
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut this = self.count()?;
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = join(&this.path, &key);
            if out.contains_key(&key) {
                let child = this.child(path);
                let detail = format!("the key {key:?} is given twice");
                return Err(child.fail(Code::DuplicateField, detail));
            }
            let value = map.next_value_seed(this.child(path))?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

/// Parse a JSON submission body (see the module documentation for what is refused).
pub fn parse_json(bytes: &[u8]) -> Result<Value, FieldError> {
    let text = utf8(bytes)?;
    let mut budget = Budget::default();
    let mut de = serde_json::Deserializer::from_str(text);
    let seed = Seed {
        budget: &mut budget,
        path: String::new(),
        depth: 1,
    };
    let parsed = seed.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    match parsed {
        Ok(v) => Ok(v),
        Err(e) => Err(budget.error.take().unwrap_or_else(|| {
            root_error(
                Code::Malformed,
                format!(
                    "not valid JSON at line {}, column {}: {e}",
                    e.line(),
                    e.column()
                ),
            )
        })),
    }
}

// ------------------------------------------------------------------------------------------------ XML

/// What the registry says about the children of an element.
#[derive(Clone, Copy)]
enum Children<'k> {
    Kind(&'k KindDef),
    Composite(&'static CompositeDef),
    /// Unknown to the registry: children are mapped by shape alone.
    Unknown,
}

impl Children<'_> {
    fn field(self, name: &str) -> Option<&'static FieldDef> {
        match self {
            Children::Kind(k) => k.field(name),
            Children::Composite(c) => c.all_fields().into_iter().find(|f| f.name == name),
            Children::Unknown => None,
        }
    }
}

/// An element being read.
struct Frame<'k> {
    name: String,
    path: String,
    /// The element's own definition (none for the root and for unknown elements).
    domain: Option<ValueDomain>,
    children: Children<'k>,
    members: Map<String, Value>,
    text: String,
}

impl<'k> Frame<'k> {
    fn new(
        name: &str,
        path: String,
        domain: Option<ValueDomain>,
        children: Children<'k>,
    ) -> Frame<'k> {
        Frame {
            name: name.to_owned(),
            path,
            domain,
            children,
            members: Map::new(),
            text: String::new(),
        }
    }

    fn has_text(&self) -> bool {
        self.text
            .chars()
            .any(|c| !matches!(c, ' ' | '\t' | '\r' | '\n'))
    }

    /// The JSON value of a finished element.
    fn into_value(self) -> Value {
        if !self.members.is_empty() {
            return Value::Object(self.members);
        }
        let blank = !self.has_text();
        match self.domain {
            Some(ValueDomain::Composite(_)) if blank => Value::Object(Map::new()),
            Some(ValueDomain::Boolean { .. }) => match self.text.trim() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => Value::String(self.text),
            },
            Some(ValueDomain::Integer { .. }) => {
                let t = self.text.trim();
                let digits = t.strip_prefix('-').unwrap_or(t);
                match t.parse::<i64>() {
                    Ok(n) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
                        Value::from(n)
                    }
                    _ => Value::String(self.text),
                }
            }
            // xs:date collapses white space, so the XML form may carry it around a date.
            Some(ValueDomain::Date) => Value::String(self.text.trim().to_owned()),
            _ => Value::String(self.text),
        }
    }
}

/// Line and column (1-based, in characters) of a byte offset.
fn position(text: &str, offset: u64) -> (usize, usize) {
    let offset = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(text.len());
    let mut end = offset;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

struct XmlReader<'k, 't> {
    kind: &'k KindDef,
    text: &'t str,
    stack: Vec<Frame<'k>>,
    elements: usize,
    root: Option<Value>,
}

impl<'k> XmlReader<'k, '_> {
    fn malformed(&self, at: &str, detail: impl Into<String>) -> FieldError {
        FieldError::new(Code::Malformed, at, detail)
    }

    fn top_path(&self) -> String {
        self.stack
            .last()
            .map(|f| f.path.clone())
            .unwrap_or_default()
    }

    fn open(&mut self, name: &str, has_attributes: bool) -> Result<(), FieldError> {
        self.elements += 1;
        if self.elements > MAX_VALUES {
            return Err(root_error(
                Code::TooComplex,
                format!("the document has more than {MAX_VALUES} elements"),
            ));
        }
        if self.stack.len() + 1 > MAX_DEPTH {
            return Err(FieldError::new(
                Code::TooComplex,
                self.top_path(),
                format!("the document is nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        let frame = match self.stack.last_mut() {
            None => {
                if self.root.is_some() {
                    return Err(root_error(
                        Code::Malformed,
                        "a document has one root element",
                    ));
                }
                if name != self.kind.name {
                    return Err(root_error(
                        Code::Malformed,
                        format!(
                            "the root element must be <{}>, not <{name}>",
                            self.kind.name
                        ),
                    ));
                }
                Frame::new(name, String::new(), None, Children::Kind(self.kind))
            }
            Some(parent) => {
                let path = join(&parent.path, name);
                if parent.has_text() {
                    return Err(FieldError::new(
                        Code::Malformed,
                        parent.path.clone(),
                        "mixed content (text beside elements) is not allowed",
                    ));
                }
                if parent.members.contains_key(name) {
                    return Err(FieldError::new(
                        Code::DuplicateField,
                        path,
                        format!("the element <{name}> is given twice"),
                    ));
                }
                let field = parent.children.field(name);
                let domain = field.and_then(|f| f.element()).map(|e| e.domain);
                let children = match domain {
                    Some(ValueDomain::Composite(c)) => {
                        composite(c).map_or(Children::Unknown, Children::Composite)
                    }
                    _ => Children::Unknown,
                };
                Frame::new(name, path, domain, children)
            }
        };
        if has_attributes {
            return Err(self.malformed(
                &frame.path,
                format!("<{name}> has attributes; attributes and namespaces are not used"),
            ));
        }
        self.stack.push(frame);
        Ok(())
    }

    fn close(&mut self) -> Result<(), FieldError> {
        let Some(frame) = self.stack.pop() else {
            return Err(root_error(Code::Malformed, "an end tag without a start"));
        };
        if !frame.members.is_empty() && frame.has_text() {
            return Err(self.malformed(
                &frame.path,
                "mixed content (text beside elements) is not allowed",
            ));
        }
        let is_root = self.stack.is_empty();
        if is_root && frame.has_text() {
            return Err(self.malformed("", "the root element holds elements, not text"));
        }
        let name = frame.name.clone();
        let value = if is_root && frame.members.is_empty() {
            Value::Object(Map::new())
        } else {
            frame.into_value()
        };
        match self.stack.last_mut() {
            Some(parent) => {
                parent.members.insert(name, value);
            }
            None => self.root = Some(value),
        }
        Ok(())
    }

    fn text(&mut self, s: &str) -> Result<(), FieldError> {
        match self.stack.last_mut() {
            Some(frame) => {
                frame.text.push_str(s);
                if !frame.members.is_empty() && frame.has_text() {
                    let path = frame.path.clone();
                    return Err(self
                        .malformed(&path, "mixed content (text beside elements) is not allowed"));
                }
                Ok(())
            }
            None if s.chars().all(|c| matches!(c, ' ' | '\t' | '\r' | '\n')) => Ok(()),
            None => Err(root_error(Code::Malformed, "text outside the root element")),
        }
    }

    fn syntax(&self, offset: u64, e: impl fmt::Display) -> FieldError {
        let (line, column) = position(self.text, offset);
        root_error(
            Code::Malformed,
            format!("not well-formed XML at line {line}, column {column}: {e}"),
        )
    }
}

fn forbidden(detail: impl Into<String>) -> FieldError {
    root_error(Code::XmlForbidden, detail)
}

/// Parse an XML submission of `kind` into the value its JSON form has (see the module documentation for what
/// is refused).
pub fn parse_xml(kind: &KindDef, bytes: &[u8]) -> Result<Value, FieldError> {
    let text = utf8(bytes)?;
    let mut reader = Reader::from_str(text);
    let mut r = XmlReader {
        kind,
        text,
        stack: vec![],
        elements: 0,
        root: None,
    };
    loop {
        let event = reader
            .read_event()
            .map_err(|e| r.syntax(reader.error_position(), e))?;
        match event {
            Event::Decl(d) => {
                if let Some(enc) = d.encoding() {
                    let enc = enc.map_err(|e| r.syntax(reader.buffer_position(), e))?;
                    if !enc.eq_ignore_ascii_case("utf-8") && !enc.eq_ignore_ascii_case("utf8") {
                        return Err(root_error(
                            Code::BadEncoding,
                            format!("the document declares encoding {enc}; only UTF-8 is accepted"),
                        ));
                    }
                }
            }
            Event::DocType(_) => {
                return Err(forbidden(
                    "DOCTYPE declarations (DTDs, entity declarations) are not accepted",
                ));
            }
            Event::PI(_) => {
                return Err(r.malformed("", "processing instructions are not allowed"));
            }
            Event::Comment(_) => {}
            Event::Start(e) => {
                let has_attributes = !e.attributes_raw().trim().is_empty();
                r.open(e.name().0, has_attributes)?;
            }
            Event::Empty(e) => {
                let has_attributes = !e.attributes_raw().trim().is_empty();
                r.open(e.name().0, has_attributes)?;
                r.close()?;
            }
            Event::End(_) => r.close()?,
            Event::Text(t) => r.text(&t.xml10_content())?,
            Event::CData(c) => r.text(&c.into_inner())?,
            Event::GeneralRef(g) => {
                let ch = if g.is_char_ref() {
                    match g.resolve_char_ref() {
                        Ok(Some(c)) => c,
                        _ => {
                            return Err(r.syntax(
                                reader.buffer_position(),
                                format!("invalid character reference &{};", &*g),
                            ));
                        }
                    }
                } else {
                    match &*g {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "apos" => '\'',
                        "quot" => '"',
                        other => {
                            return Err(forbidden(format!(
                                "the entity reference &{other}; is not accepted (only &lt; &gt; &amp; &apos; \
                                 &quot; and character references)"
                            )));
                        }
                    }
                };
                r.text(ch.encode_utf8(&mut [0u8; 4]))?;
            }
            Event::Eof => break,
        }
    }
    if !r.stack.is_empty() {
        return Err(root_error(
            Code::Malformed,
            "the document ends inside an element",
        ));
    }
    r.root
        .ok_or_else(|| root_error(Code::Malformed, "the document has no root element"))
}

// ------------------------------------------------------------------------------------------------ to XML

fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c => out.push(c),
        }
    }
}

fn write_element(name: &str, v: &Value, indent: usize, out: &mut String) {
    let pad = "  ".repeat(indent);
    match v {
        Value::Object(members) => {
            out.push_str(&format!("{pad}<{name}>\n"));
            for (k, v) in members {
                write_element(k, v, indent + 1, out);
            }
            out.push_str(&format!("{pad}</{name}>\n"));
        }
        Value::Array(items) => {
            for item in items {
                write_element(name, item, indent, out);
            }
        }
        Value::Null => out.push_str(&format!("{pad}<{name}/>\n")),
        Value::String(s) => {
            out.push_str(&format!("{pad}<{name}>"));
            escape(s, out);
            out.push_str(&format!("</{name}>\n"));
        }
        other => out.push_str(&format!("{pad}<{name}>{other}</{name}>\n")),
    }
}

/// The XML form of a submission's JSON value: the root element is the kind, no namespace, one element per
/// member. [`parse_xml`] maps it back to the same value.
pub fn to_xml(kind: &str, v: &Value) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    write_element(kind, v, 0, &mut out);
    out
}

#[cfg(test)]
mod tests;
