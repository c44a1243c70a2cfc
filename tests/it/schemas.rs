//! The schemas derived from the data-element registry, fetched from a running server and checked by
//! third-party validators: Python `jsonschema` (JSON Schema 2020-12), `xmllint` (W3C XML Schema), and, where
//! installed, `openapi-spec-validator`. The validators are never skipped: without them these tests fail and
//! say how to install them (`./scripts/test.sh` does).
//!
//! Also: the docs' submission examples against the schemas, and `docs/data-elements.md` against the generated
//! catalogue (`POPREG_BLESS=1` rewrites it).

use std::path::{Path, PathBuf};
use std::process::Command;

use popreg_domain::elements::{self, KindDef, check, example, kinds};
use popreg_web::input::{parse_json, parse_xml, to_xml};
use serde_json::{Value, json};

use crate::api::spawn;
use crate::common::*;

const INSTALL: &str = "install the validators with ./scripts/test.sh, or: apt-get install libxml2-utils \
                       python3-jsonschema";

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

/// Python interpreters to try, in order: `POPREG_PYTHON`, `python3` on the PATH, the system's.
fn pythons() -> Vec<String> {
    let mut out = vec![];
    if let Ok(p) = std::env::var("POPREG_PYTHON") {
        out.push(p);
    }
    out.push("python3".into());
    out.push("/usr/bin/python3".into());
    out
}

fn python_with(module: &str) -> Option<String> {
    pythons().into_iter().find(|p| {
        Command::new(p)
            .args(["-c", &format!("import {module}")])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

fn jsonschema_python() -> String {
    python_with("jsonschema").unwrap_or_else(|| {
        panic!(
            "no Python with the jsonschema module (tried {:?}): {INSTALL}",
            pythons()
        )
    })
}

fn require_xmllint() {
    let ok = Command::new("xmllint")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(ok, "xmllint is not installed: {INSTALL}");
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

async fn get(c: &reqwest::Client, url: &str) -> reqwest::Response {
    c.get(url).send().await.unwrap()
}

/// Every kind's JSON Schema and XSD as served, by kind name.
async fn fetch_schemas(base: &str, c: &reqwest::Client) -> Vec<(&'static KindDef, Value, String)> {
    let index: Value = get(c, &format!("{base}/api/v1/schemas"))
        .await
        .json()
        .await
        .unwrap();
    let listed: Vec<&str> = index["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kind"].as_str().unwrap())
        .collect();
    let ours: Vec<&str> = kinds().iter().map(|k| k.name).collect();
    assert_eq!(listed, ours);
    let mut out = vec![];
    for (k, item) in kinds().iter().zip(index["kinds"].as_array().unwrap()) {
        let r = get(
            c,
            &format!("{base}{}", item["json_schema"].as_str().unwrap()),
        )
        .await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/schema+json");
        let schema: Value = r.json().await.unwrap();
        let r = get(c, &format!("{base}{}", item["xsd"].as_str().unwrap())).await;
        assert_eq!(r.status(), 200);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/xml")
        );
        out.push((k, schema, r.text().await.unwrap()));
    }
    out
}

/// Documents that must fail both the JSON Schema and the register's check, by kind.
fn invalid_documents(k: &KindDef) -> Vec<(String, Value)> {
    let good = example(k);
    let mut out = vec![];
    let mut extra = good.clone();
    extra["nickname"] = json!("x");
    out.push(("unknown field".to_owned(), extra));
    if let Some(f) = k.fields.iter().find(|f| f.required) {
        let mut missing = good.clone();
        missing.as_object_mut().unwrap().remove(f.name);
        out.push((format!("without {}", f.name), missing));
    }
    let mut changed = |what: &str, field: &str, v: Value| {
        if good.get(field).is_some() {
            let mut doc = good.clone();
            doc[field] = v;
            out.push((what.to_owned(), doc));
        }
    };
    changed("bad sex", "sex", json!("X"));
    changed("Latin name", "first_name", json!("Aram"));
    changed("not a real date", "birth_date", json!("2026-02-30"));
    changed("short date", "date", json!("2026-1-5"));
    changed("empty person", "mother", json!({}));
    changed(
        "both person forms",
        "spouse",
        json!({"psn": "1234567890", "no_psn": true}),
    );
    changed("no_psn false", "father", {
        let mut f = good.get("father").cloned().unwrap_or(Value::Null);
        f["no_psn"] = json!(false);
        f
    });
    changed("term too long", "term_months", json!(601));
    changed("term as text", "term_months", json!("12"));
    changed(
        "unknown marz",
        "birth_place",
        json!({"country": "AM", "marz": "AM-XX"}),
    );
    changed("lower-case country", "address", json!({"country": "am"}));
    changed("PSN with letters", "psn", json!("12345abcde"));
    changed("schema version 2", "schema_version", json!("2"));
    changed("bad guardianship", "guardianship", json!("custody"));
    if k.name == "adoption" {
        let mut none = good.clone();
        let o = none.as_object_mut().unwrap();
        o.remove("adoptive_mother");
        o.remove("adoptive_father");
        out.push(("no adoptive parent".into(), none));
    }
    out
}

/// Run `script` with the manifest; panic with the validator's output on failure.
fn run_python(python: &str, script: &str, args: &[&Path]) -> String {
    let o = Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {python}: {e}"));
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{python} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    stdout
}

const JSONSCHEMA_SCRIPT: &str = r#"
import json, sys
import jsonschema
V = jsonschema.Draft202012Validator
manifest = json.load(open(sys.argv[1], encoding="utf-8"))
errors = []
for case in manifest:
    schema = json.load(open(case["schema"], encoding="utf-8"))
    try:
        V.check_schema(schema)
    except jsonschema.exceptions.SchemaError as e:
        errors.append("%s: not a valid JSON Schema 2020-12: %s" % (case["schema"], e.message))
        continue
    v = V(schema, format_checker=jsonschema.FormatChecker())
    for path in case["valid"]:
        doc = json.load(open(path, encoding="utf-8"))
        problems = sorted(e.message for e in v.iter_errors(doc))
        if problems:
            errors.append("%s: expected valid, got %s" % (path, problems))
    for path in case["invalid"]:
        doc = json.load(open(path, encoding="utf-8"))
        if v.is_valid(doc):
            errors.append("%s: expected invalid, but the schema accepts it" % path)
print("checked %d schemas" % len(manifest))
if errors:
    print("\n".join(errors))
    sys.exit(1)
"#;

/// A schema (named) with documents it must accept and documents (described) it must refuse.
type SchemaCase = (String, Value, Vec<Value>, Vec<(String, Value)>);

/// Validate with Python jsonschema: every schema is a valid 2020-12 schema, every `valid` document passes,
/// every `invalid` one fails.
fn jsonschema_validate(dir: &Path, cases: &[SchemaCase]) {
    let python = jsonschema_python();
    let mut manifest = vec![];
    for (i, (name, schema, valid, invalid)) in cases.iter().enumerate() {
        let schema_path = write(dir, &format!("{i}-{name}.schema.json"), &schema.to_string());
        let valid: Vec<PathBuf> = valid
            .iter()
            .enumerate()
            .map(|(j, d)| write(dir, &format!("{i}-{name}.valid{j}.json"), &d.to_string()))
            .collect();
        let invalid: Vec<PathBuf> = invalid
            .iter()
            .enumerate()
            .map(|(j, (what, d))| {
                let slug: String = what
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                    .collect();
                write(
                    dir,
                    &format!("{i}-{name}.invalid{j}-{slug}.json"),
                    &d.to_string(),
                )
            })
            .collect();
        manifest.push(json!({"schema": schema_path, "valid": valid, "invalid": invalid}));
    }
    let m = write(dir, "manifest.json", &Value::Array(manifest).to_string());
    run_python(&python, JSONSCHEMA_SCRIPT, &[&m]);
}

/// `xmllint --noout --schema xsd doc`: `Ok` when the document is valid, `Err(output)` otherwise.
fn xmllint(xsd: &Path, doc: &Path) -> Result<(), String> {
    let o = Command::new("xmllint")
        .arg("--noout")
        .arg("--nonet")
        .arg("--schema")
        .arg(xsd)
        .arg(doc)
        .output()
        .unwrap_or_else(|e| panic!("xmllint: {e} ({INSTALL})"));
    if o.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&o.stderr).into_owned())
    }
}

/// The same document with its members (recursively) in reverse order: `xs:all` must not care.
fn reversed(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .rev()
                .map(|(k, v)| (k.clone(), reversed(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

async fn server() -> (popreg::app::Running, reqwest::Client, TestDb) {
    let db = TestDb::sqlite().await;
    let (app, c) = spawn(&db).await;
    (app, c, db)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a2_2_json_schemas_are_valid_2020_12_and_accept_exactly_the_valid_documents() {
    let python = jsonschema_python();
    let (app, c, _db) = server().await;
    let schemas = fetch_schemas(&app.url(), &c).await;
    let dir = tempfile::tempdir().unwrap();
    let mut cases = vec![];
    for (k, schema, _) in &schemas {
        assert_eq!(schema, &elements::json_schema(k));
        let invalid = invalid_documents(k);
        for (what, doc) in &invalid {
            assert!(
                !check(k, doc).is_empty(),
                "{}: the check accepts {what}",
                k.name
            );
        }
        let mut minimal = example(k);
        let o = minimal.as_object_mut().unwrap();
        for f in k.wire_fields().filter(|f| !f.required) {
            if !k.at_least_one.iter().any(|g| g.first() == Some(&f.name)) {
                o.remove(f.name);
            }
        }
        assert_eq!(check(k, &minimal), vec![], "{}", k.name);
        cases.push((
            k.name.to_owned(),
            schema.clone(),
            vec![example(k), minimal],
            invalid,
        ));
    }
    jsonschema_validate(dir.path(), &cases);
    eprintln!("JSON Schemas checked with {python}");
    app.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a2_2_xsds_validate_the_xml_form_of_every_example_with_xmllint() {
    require_xmllint();
    let (app, c, _db) = server().await;
    let schemas = fetch_schemas(&app.url(), &c).await;
    let dir = tempfile::tempdir().unwrap();
    for (k, _, xsd) in &schemas {
        assert_eq!(xsd, &elements::xsd(k));
        let xsd_path = write(dir.path(), &format!("{}.xsd", k.name), xsd);
        let v = example(k);
        for (what, doc) in [
            ("example", to_xml(k.name, &v)),
            ("reversed", to_xml(k.name, &reversed(&v))),
        ] {
            let p = write(dir.path(), &format!("{}-{what}.xml", k.name), &doc);
            if let Err(e) = xmllint(&xsd_path, &p) {
                panic!(
                    "{}: the {what} XML is refused by its XSD:\n{e}\n{doc}",
                    k.name
                );
            }
            assert_eq!(parse_xml(k, doc.as_bytes()).unwrap(), v, "{}", k.name);
        }
        // Invalid XML: an unknown element, a missing required one, a value outside its domain.
        let mut bad = vec![];
        let mut extra = v.clone();
        extra["nickname"] = json!("x");
        bad.push(("unknown", extra));
        if let Some(f) = k.fields.iter().find(|f| f.required) {
            let mut missing = v.clone();
            missing.as_object_mut().unwrap().remove(f.name);
            bad.push(("missing", missing));
        }
        for (field, value) in [
            ("sex", json!("X")),
            ("date", json!("2026-02-30")),
            ("psn", json!("12345")),
            ("term_months", json!(601)),
            ("declared_by_court", json!("yes")),
        ] {
            if v.get(field).is_some() {
                let mut doc = v.clone();
                doc[field] = value;
                bad.push(("domain", doc));
            }
        }
        for (i, (what, doc)) in bad.iter().enumerate() {
            let text = to_xml(k.name, doc);
            let p = write(dir.path(), &format!("{}-bad{i}.xml", k.name), &text);
            assert!(
                xmllint(&xsd_path, &p).is_err(),
                "{}: xmllint accepts the {what} document\n{text}",
                k.name
            );
            let parsed = parse_xml(k, text.as_bytes()).unwrap();
            assert!(
                !check(k, &parsed).is_empty(),
                "{}: the check accepts {text}",
                k.name
            );
        }
    }
    app.shutdown().await.unwrap();
}

/// The fenced code blocks of a Markdown file: (language, text, the prose since the previous block).
fn code_blocks(md: &str) -> Vec<(String, String, String)> {
    let mut out = vec![];
    let mut prose = String::new();
    let mut lines = md.lines();
    while let Some(line) = lines.next() {
        if let Some(lang) = line.trim_start().strip_prefix("```") {
            let mut body = String::new();
            for l in lines.by_ref() {
                if l.trim_start().starts_with("```") {
                    break;
                }
                body.push_str(l);
                body.push('\n');
            }
            out.push((lang.trim().to_owned(), body, std::mem::take(&mut prose)));
        } else {
            prose.push_str(line);
            prose.push('\n');
        }
    }
    out
}

/// The root element of an XML text.
fn xml_root(text: &str) -> Option<&str> {
    let mut rest = text.trim_start();
    if rest.starts_with("<?xml") {
        rest = rest[rest.find("?>")? + 2..].trim_start();
    }
    let rest = rest.strip_prefix('<')?;
    let end = rest.find(|c: char| c == '>' || c == '/' || c.is_whitespace())?;
    Some(&rest[..end])
}

/// JSON examples (parsed) and XML examples (as text), each with its kind.
type DocExamples = (
    Vec<(&'static KindDef, Value)>,
    Vec<(&'static KindDef, String)>,
);

/// The submission examples in a Markdown file: XML blocks whose root element is a kind, and JSON blocks that
/// are paired with such an XML block (the next block) or follow prose naming `/api/v1/submissions/{kind}`.
fn doc_examples(md: &str) -> DocExamples {
    let blocks = code_blocks(md);
    let mut json_docs = vec![];
    let mut xml_docs = vec![];
    for (i, (lang, body, prose)) in blocks.iter().enumerate() {
        match lang.as_str() {
            "xml" => {
                if let Some(k) = xml_root(body).and_then(elements::kind) {
                    xml_docs.push((k, body.clone()));
                }
            }
            "json" => {
                let paired = blocks
                    .get(i + 1)
                    .filter(|(l, _, p)| l == "xml" && p.trim().is_empty())
                    .and_then(|(_, b, _)| xml_root(b))
                    .and_then(elements::kind);
                let named = prose
                    .rsplit("/api/v1/submissions/")
                    .next()
                    .filter(|_| prose.contains("/api/v1/submissions/"))
                    .map(|rest| {
                        rest.split(|c: char| !(c.is_ascii_lowercase() || c == '_'))
                            .next()
                            .unwrap_or("")
                    })
                    .and_then(elements::kind);
                if let Some(k) = paired.or(named) {
                    let v: Value =
                        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}:\n{body}"));
                    let answer = v.get("submission_id").is_some() || v.get("code").is_some();
                    if !answer {
                        json_docs.push((k, v));
                    }
                }
            }
            _ => {}
        }
    }
    (json_docs, xml_docs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a2_2_the_submission_examples_in_the_docs_satisfy_the_schemas() {
    require_xmllint();
    let (app, c, _db) = server().await;
    let schemas = fetch_schemas(&app.url(), &c).await;
    let dir = tempfile::tempdir().unwrap();
    let mut cases = vec![];
    let mut counted = 0;
    for doc in ["docs/submissions.md", "docs/api-guide.md"] {
        let md = std::fs::read_to_string(repo_file(doc)).unwrap();
        let (json_docs, xml_docs) = doc_examples(&md);
        if doc == "docs/submissions.md" {
            assert!(
                !json_docs.is_empty() && !xml_docs.is_empty(),
                "{doc} has examples"
            );
        }
        for (k, v) in json_docs {
            assert_eq!(check(k, &v), vec![], "{doc}: {} example {v}", k.name);
            assert_eq!(parse_json(v.to_string().as_bytes()).unwrap(), v);
            let schema = schemas
                .iter()
                .find(|(s, _, _)| s.name == k.name)
                .unwrap()
                .1
                .clone();
            cases.push((format!("doc-{}", k.name), schema, vec![v], vec![]));
        }
        for (k, text) in xml_docs {
            let parsed =
                parse_xml(k, text.as_bytes()).unwrap_or_else(|e| panic!("{doc}: {e:?}\n{text}"));
            assert_eq!(
                check(k, &parsed),
                vec![],
                "{doc}: {} example\n{text}",
                k.name
            );
            let xsd = &schemas.iter().find(|(s, _, _)| s.name == k.name).unwrap().2;
            let xsd_path = write(dir.path(), &format!("doc-{counted}-{}.xsd", k.name), xsd);
            let p = write(dir.path(), &format!("doc-{counted}-{}.xml", k.name), &text);
            if let Err(e) = xmllint(&xsd_path, &p) {
                panic!(
                    "{doc}: the {} XML example is refused by its XSD:\n{e}\n{text}",
                    k.name
                );
            }
            counted += 1;
        }
    }
    jsonschema_validate(dir.path(), &cases);
    app.shutdown().await.unwrap();
}

const OPENAPI_SCRIPT: &str = r#"
import json, sys
from openapi_spec_validator import validate
validate(json.load(open(sys.argv[1], encoding="utf-8")))
print("valid OpenAPI")
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a2_2_the_openapi_document_describes_every_kind_and_route() {
    let (app, c, _db) = server().await;
    let r = get(&c, &format!("{}/api/v1/openapi.json", app.url())).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc, elements::openapi());
    assert_eq!(doc["openapi"], "3.1.0");
    for k in kinds() {
        let op = &doc["paths"][format!("/api/v1/submissions/{}", k.name)]["post"];
        for media in ["application/json", "application/xml"] {
            assert_eq!(
                op["requestBody"]["content"][media]["schema"]["$ref"],
                format!("#/components/schemas/{}", k.name)
            );
        }
        for status in ["201", "202", "400"] {
            assert!(op["responses"][status].is_object(), "{} {status}", k.name);
        }
    }
    // The component schemas are JSON Schema 2020-12 too: check them with jsonschema, with every example.
    let dir = tempfile::tempdir().unwrap();
    let mut cases = vec![];
    for k in kinds() {
        let mut schema = doc.clone();
        schema["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
        schema["$ref"] = json!(format!("#/components/schemas/{}", k.name));
        cases.push((
            format!("openapi-{}", k.name),
            schema,
            vec![example(k)],
            invalid_documents(k),
        ));
    }
    jsonschema_validate(dir.path(), &cases);
    // The reference validator, where it is installed.
    match python_with("openapi_spec_validator") {
        Some(python) => {
            let p = write(dir.path(), "openapi.json", &doc.to_string());
            run_python(&python, OPENAPI_SCRIPT, &[&p]);
        }
        None => eprintln!(
            "NOTE: openapi-spec-validator is not installed (pip install openapi-spec-validator); the OpenAPI \
             document was checked structurally and its schemas with jsonschema only"
        ),
    }
    app.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_routes_are_public_localized_and_coded() {
    let (app, c, _db) = server().await;
    let base = app.url();
    let r = c
        .get(format!("{base}/api/v1/schemas"))
        .header("Accept-Language", "ru")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-language"], "ru");
    let j: Value = r.json().await.unwrap();
    assert_eq!(j["kinds"][0]["kind"], "birth");
    assert_eq!(j["kinds"][0]["title"], "Рождение");
    assert_eq!(j["kinds"][0]["providers"], json!(["medical_organization"]));
    assert_eq!(j["kinds"][0]["submit"], "/api/v1/submissions/birth");
    let r = get(&c, &format!("{base}/api/v1/schemas")).await;
    let j: Value = r.json().await.unwrap();
    assert_eq!(j["kinds"][0]["title"], "Ծնունդ");
    let r = c
        .get(format!("{base}/api/v1/schemas"))
        .header("Accept", "application/xml")
        .header("Accept-Language", "en")
        .send()
        .await
        .unwrap();
    let x = r.text().await.unwrap();
    assert!(x.contains("<title>Birth</title>"), "{x}");

    for (path, status, code) in [
        ("/api/v1/schemas/baptism.json", 404, "PSR-SUB-0003"),
        ("/api/v1/schemas/baptism.xsd", 404, "PSR-SUB-0003"),
        ("/api/v1/schemas/birth.yaml", 404, "PSR-API-0006"),
        ("/api/v1/schemas/birth", 404, "PSR-API-0006"),
    ] {
        let r = get(&c, &format!("{base}{path}")).await;
        assert_eq!(r.status(), status, "{path}");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let j: Value = r.json().await.unwrap();
        assert_eq!(j["code"], code, "{path}");
    }

    let r = get(&c, &format!("{base}/api/v1/elements")).await;
    assert_eq!(r.status(), 200);
    let j: Value = r.json().await.unwrap();
    assert_eq!(
        j["elements"].as_array().unwrap().len(),
        elements::elements().len()
    );
    let term = j["elements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == "psr.conviction.term_months")
        .unwrap();
    assert_eq!(term["security_class"], "special-category");
    assert_eq!(term["steward"], json!(["penitentiary_service"]));
    assert_eq!(term["value_domain"]["maximum"], 600);
    assert_eq!(j["kinds"].as_array().unwrap().len(), 26);
    app.shutdown().await.unwrap();
}

const BEGIN: &str = "<!-- BEGIN GENERATED: data-element catalogue. Do not edit by hand; regenerate with \
                     POPREG_BLESS=1 cargo nextest run -p popreg --test it catalogue -->";
const END: &str = "<!-- END GENERATED: data-element catalogue -->";

#[test]
fn a2_2_docs_data_elements_md_carries_the_generated_catalogue() {
    let path = repo_file("docs/data-elements.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let generated = elements::catalogue_markdown();
    let (Some(b), Some(e)) = (text.find(BEGIN), text.find(END)) else {
        panic!("{} lacks the markers {BEGIN} … {END}", path.display());
    };
    let inside = &text[b + BEGIN.len()..e];
    let want = format!("\n\n{generated}\n");
    if inside == want {
        return;
    }
    if std::env::var("POPREG_BLESS").is_ok_and(|v| v == "1") {
        let new = format!("{}{BEGIN}{want}{}", &text[..b], &text[e..]);
        std::fs::write(&path, new).unwrap();
        eprintln!("rewrote the catalogue in {}", path.display());
        return;
    }
    panic!(
        "the catalogue in {} is not the registry's: run POPREG_BLESS=1 cargo nextest run -p popreg --test it \
         catalogue",
        path.display()
    );
}
