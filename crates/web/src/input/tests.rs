use popreg_domain::elements::{check, example, kind, kinds};
use serde_json::json;

use super::*;

fn xml(kind_name: &str, body: &str) -> Result<Value, FieldError> {
    parse_xml(kind(kind_name).unwrap(), body.as_bytes())
}

fn code_of(r: Result<Value, FieldError>) -> (Code, String) {
    let e = r.unwrap_err();
    (e.code, e.field)
}

#[test]
fn json_and_xml_forms_of_every_example_are_the_same_value() {
    for k in kinds() {
        let v = example(k);
        let from_json = parse_json(v.to_string().as_bytes()).unwrap();
        let pretty = serde_json::to_string_pretty(&v).unwrap();
        assert_eq!(parse_json(pretty.as_bytes()).unwrap(), v, "{}", k.name);
        let doc = to_xml(k.name, &v);
        let from_xml =
            parse_xml(k, doc.as_bytes()).unwrap_or_else(|e| panic!("{}: {e:?}\n{doc}", k.name));
        assert_eq!(from_json, v, "{}", k.name);
        assert_eq!(from_xml, v, "{}:\n{doc}", k.name);
        assert_eq!(check(k, &from_xml), vec![], "{}", k.name);
    }
}

#[test]
fn xml_values_are_typed_by_the_registry() {
    let v = xml(
        "conviction",
        "<conviction><psn>3141592650</psn><term_months> 36 </term_months><court>Դատարան &amp; Ко</court>\
         <case_number>&#1333;&#x534;/1</case_number><verdict_effective>\n2024-04-18\n</verdict_effective></conviction>",
    )
    .unwrap();
    assert_eq!(
        v,
        json!({"psn": "3141592650", "term_months": 36, "court": "Դատարան & Ко", "case_number": "ԵԴ/1",
               "verdict_effective": "2024-04-18"})
    );
    let v = xml(
        "conviction",
        "<conviction><term_months>3 6</term_months></conviction>",
    )
    .unwrap();
    assert_eq!(v["term_months"], "3 6");
    let v = xml(
        "death",
        "<death><declared_by_court>true</declared_by_court><place/><extra><a>1</a></extra><n>5</n></death>",
    )
    .unwrap();
    assert_eq!(
        v,
        json!({"declared_by_court": true, "place": {}, "extra": {"a": "1"}, "n": "5"})
    );
    let v = xml(
        "death",
        "<death><declared_by_court>yes</declared_by_court></death>",
    )
    .unwrap();
    assert_eq!(v["declared_by_court"], "yes");
    let v = xml(
        "birth",
        "<birth><father><no_psn>true</no_psn></father></birth>",
    )
    .unwrap();
    assert_eq!(v["father"]["no_psn"], true);
    assert_eq!(xml("birth", "<birth/>").unwrap(), json!({}));
    // Unknown elements are kept as strings, so that the check names them.
    let v = xml("parole", "<parole><nickname>x</nickname></parole>").unwrap();
    let errors = check(kind("parole").unwrap(), &v);
    assert!(
        errors
            .iter()
            .any(|e| e.code == Code::UnknownField && e.field == "nickname")
    );
    // Comments, CDATA, a BOM and the UTF-8 declaration are fine.
    let v = xml(
        "parole",
        "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?><!-- a note --><parole><case_number><![CDATA[<1>]]></case_number></parole>",
    )
    .unwrap();
    assert_eq!(v, json!({"case_number": "<1>"}));
}

#[test]
fn billion_laughs_is_refused_without_expansion() {
    let doc = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<birth><first_name>&lol9;</first_name></birth>"#;
    assert_eq!(
        code_of(xml("birth", doc)),
        (Code::XmlForbidden, String::new())
    );
}

#[test]
fn external_entities_and_doctypes_are_refused() {
    let xxe = r#"<?xml version="1.0"?><!DOCTYPE birth [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><birth><first_name>&xxe;</first_name></birth>"#;
    assert_eq!(code_of(xml("birth", xxe)).0, Code::XmlForbidden);
    let alone = "<!DOCTYPE birth><birth/>";
    assert_eq!(code_of(xml("birth", alone)).0, Code::XmlForbidden);
    let public = r#"<!DOCTYPE birth PUBLIC "-//X//DTD//EN" "http://example.org/x.dtd"><birth/>"#;
    assert_eq!(code_of(xml("birth", public)).0, Code::XmlForbidden);
    let undeclared = "<birth><first_name>&nbsp;</first_name></birth>";
    assert_eq!(code_of(xml("birth", undeclared)).0, Code::XmlForbidden);
}

#[test]
fn only_utf8_is_accepted() {
    let declared = r#"<?xml version="1.0" encoding="UTF-16"?><birth/>"#;
    assert_eq!(code_of(xml("birth", declared)).0, Code::BadEncoding);
    let latin = r#"<?xml version="1.0" encoding="ISO-8859-1"?><birth/>"#;
    assert_eq!(code_of(xml("birth", latin)).0, Code::BadEncoding);
    let utf16: Vec<u8> = "\u{feff}<birth/>"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    assert_eq!(
        code_of(parse_xml(kind("birth").unwrap(), &utf16)).0,
        Code::BadEncoding
    );
    let bad = b"<birth><first_name>\xff\xfe</first_name></birth>";
    assert_eq!(
        code_of(parse_xml(kind("birth").unwrap(), bad)).0,
        Code::BadEncoding
    );
    assert_eq!(
        code_of(parse_json(b"{\"first_name\": \"\xc3\x28\"}")).0,
        Code::BadEncoding
    );
}

#[test]
fn depth_and_size_limits() {
    let deep_xml = format!("<birth>{}x{}</birth>", "<a>".repeat(8), "</a>".repeat(8));
    assert_eq!(code_of(xml("birth", &deep_xml)).0, Code::TooComplex);
    let ok_xml = format!("<birth>{}x{}</birth>", "<a>".repeat(7), "</a>".repeat(7));
    assert!(xml("birth", &ok_xml).is_ok());
    let wide_xml = format!(
        "<birth>{}</birth>",
        (0..1000).map(|i| format!("<e{i}/>")).collect::<String>()
    );
    assert_eq!(code_of(xml("birth", &wide_xml)).0, Code::TooComplex);

    let deep_json = format!("{}1{}", "{\"a\":".repeat(8), "}".repeat(8));
    assert_eq!(
        code_of(parse_json(deep_json.as_bytes())).0,
        Code::TooComplex
    );
    let ok_json = format!("{}1{}", "{\"a\":".repeat(7), "}".repeat(7));
    assert!(parse_json(ok_json.as_bytes()).is_ok());
    let very_deep = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(
        code_of(parse_json(very_deep.as_bytes())).0,
        Code::TooComplex
    );
    let wide_json = format!("[{}]", vec!["0"; 1000].join(","));
    assert_eq!(
        code_of(parse_json(wide_json.as_bytes())).0,
        Code::TooComplex
    );
    let fits = format!("[{}]", vec!["0"; 999].join(","));
    assert!(parse_json(fits.as_bytes()).is_ok());
}

#[test]
fn duplicates_are_refused_with_their_path() {
    assert_eq!(
        code_of(parse_json(br#"{"psn": "1", "psn": "2"}"#)),
        (Code::DuplicateField, "psn".into())
    );
    assert_eq!(
        code_of(parse_json(br#"{"mother": {"psn": "1", "psn": "1"}}"#)),
        (Code::DuplicateField, "mother.psn".into())
    );
    assert_eq!(
        code_of(xml("birth", "<birth><sex>F</sex><sex>M</sex></birth>")),
        (Code::DuplicateField, "sex".into())
    );
    assert_eq!(
        code_of(xml(
            "birth",
            "<birth><mother><psn>1</psn><psn>1</psn></mother></birth>"
        )),
        (Code::DuplicateField, "mother.psn".into())
    );
}

#[test]
fn malformed_documents() {
    let e = parse_json(b"{\n  \"psn\": \"1\",\n  oops\n}").unwrap_err();
    assert_eq!(e.code, Code::Malformed);
    assert!(e.detail.contains("line 3, column 3"), "{}", e.detail);
    assert_eq!(code_of(parse_json(b"{} {}")).0, Code::Malformed);
    assert_eq!(code_of(parse_json(b"")).0, Code::Malformed);
    for (doc, field) in [
        ("<death/>", ""),
        ("<birth id=\"1\"/>", ""),
        ("<birth xmlns=\"urn:x\"/>", ""),
        ("<birth><sex a=\"1\">F</sex></birth>", "sex"),
        ("<birth>text<sex>F</sex></birth>", ""),
        ("<birth><mother>x<psn>1</psn></mother></birth>", "mother"),
        ("<birth><mother><psn>1</psn>x</mother></birth>", "mother"),
        ("<birth>text</birth>", ""),
        ("<birth><?pi x?></birth>", ""),
        ("<birth><sex>F</birth>", ""),
        ("<birth/><birth/>", ""),
        ("", ""),
        ("<birth/>trailing", ""),
    ] {
        assert_eq!(
            code_of(xml("birth", doc)),
            (Code::Malformed, field.to_owned()),
            "{doc}"
        );
    }
    let e = xml("birth", "<birth>\n<sex>F</sexx></birth>").unwrap_err();
    assert!(e.detail.contains("line 2"), "{}", e.detail);
}
