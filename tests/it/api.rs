//! The HTTP API against a real server on port 0, on SQLite and PostgreSQL.

use popreg_domain::*;
use reqwest::StatusCode;
use serde_json::Value;

use crate::common::*;

pub const KEY: &str = "test-key-0123456789";

/// The body that [`KEY`] belongs to.
pub const KEY_BODY: &str = "OPS-TEST";

/// Register [`KEY`] (by its SHA-256, so that it stays a constant) for an operator body holding every
/// function, unless it is there already.
pub async fn ensure_test_key(db: &TestDb) {
    use popreg_domain::access::{BodyType, Function};
    if db.store.body(KEY_BODY).await.unwrap().is_some() {
        return;
    }
    db.store
        .create_body(
            "test",
            &popreg_store::NewBody {
                id: KEY_BODY.into(),
                body_type: BodyType::Operator,
                name_hy: "Փորձարկման օպերատոր".into(),
                name_en: "Test operator".into(),
                name_ru: "Тестовый оператор".into(),
                xroad_member: None,
                contact_email: None,
            },
        )
        .await
        .unwrap();
    db.store
        .register_api_key_hash(
            "test",
            KEY_BODY,
            "uid-test-operator",
            Function::ALL,
            "test",
            &popreg_web::hash_api_key(KEY),
        )
        .await
        .unwrap();
    db.store
        .add_grant(
            "test",
            KEY_BODY,
            &["person.*".to_string()],
            "testing the register",
            "the test suite",
            None,
        )
        .await
        .unwrap();
}

/// Start the app over a test database, with [`KEY`] registered; returns it with a client.
pub async fn spawn(db: &TestDb) -> (popreg::app::Running, reqwest::Client) {
    ensure_test_key(db).await;
    let mut cfg = test_config();
    cfg.server.listen = "127.0.0.1:0".into();
    let running = popreg::app::start(&cfg, db.store.clone()).await.unwrap();
    (running, reqwest::Client::new())
}

async fn seed(db: &TestDb) -> Psn {
    let p = psn(500);
    db.store
        .append(
            &prov("MIGR-01"),
            vec![
                NewEntry::new(p, registration("Սոնա", "Գևորգյան", d(1985, 4, 24), Sex::F)),
                NewEntry::new(
                    p,
                    Fact::MainAddress {
                        address: address("Մաշտոցի"),
                        valid_from: d(2005, 1, 1),
                        valid_to: None,
                    },
                ),
                NewEntry::new(
                    p,
                    Fact::AdditionalAddress {
                        address: address("Կորյունի"),
                        valid_from: d(2026, 1, 1),
                        valid_to: Some(d(2026, 6, 30)),
                    },
                ),
            ],
        )
        .await
        .unwrap();
    p
}

async fn problem(r: reqwest::Response) -> (StatusCode, Value) {
    let s = r.status();
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    (s, r.json().await.unwrap())
}

crate::conformance!(
    a1_36_1_person_read_json_and_xml_have_the_same_fields,
    a1_36_1_psn_errors_are_coded,
    person_routes_require_an_api_key,
    unacceptable_accept_is_406,
    a2_1_history_and_as_of_over_http,
    a1_21_2_b_notice_address_over_http,
    health_ready_metrics,
    errors_speak_the_callers_language,
    bearer_scheme_is_case_insensitive,
    oversized_body_is_a_coded_problem,
    unknown_path_answers_in_the_callers_format_and_language,
    readyz_503_answers_in_the_callers_format_and_language,
    landing_page_in_the_callers_language,
);

async fn a1_36_1_person_read_json_and_xml_have_the_same_fields(db: TestDb) {
    let p = seed(&db).await;
    let (app, c) = spawn(&db).await;
    let url = format!("{}/api/v1/persons/{p}", app.url());
    let r = c.get(&url).header("X-API-Key", KEY).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let j: Value = r.json().await.unwrap();
    assert_eq!(j["psn"], p.to_string());
    assert_eq!(j["names"]["surname"]["hy"], "Գևորգյան");
    assert_eq!(j["names"]["surname"]["lat"], "Gevorgyan");
    assert_eq!(j["sex"], "F");

    let r = c
        .get(&url)
        .header("X-API-Key", KEY)
        .header("Accept", "application/xml")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/xml")
    );
    let x = r.text().await.unwrap();
    assert!(x.contains(&format!("<psn>{p}</psn>")), "{x}");
    assert!(
        x.contains("<surname><hy>Գևորգյան</hy><lat>Gevorgyan</lat></surname>"),
        "{x}"
    );
    // Every top-level JSON field is an element of the XML.
    for k in j.as_object().unwrap().keys() {
        assert!(
            x.contains(&format!("<{k}>")) || x.contains(&format!("<{k} ")),
            "field {k} missing in XML"
        );
    }
    app.shutdown().await.unwrap();
}

async fn a1_36_1_psn_errors_are_coded(db: TestDb) {
    let (app, c) = spawn(&db).await;
    let get = |s: String| {
        c.get(format!("{}/api/v1/persons/{s}", app.url()))
            .header("X-API-Key", KEY)
            .send()
    };
    let (s, j) = problem(get("12345".into()).await.unwrap()).await;
    assert_eq!(
        (s, j["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("PSR-PSN-0001"))
    );
    let (s, j) = problem(get("12345abcde".into()).await.unwrap()).await;
    assert_eq!(
        (s, j["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("PSR-PSN-0002"))
    );
    let good = psn(7).to_string();
    let mut bad = good.clone().into_bytes();
    bad[9] = b'0' + (bad[9] - b'0' + 1) % 10;
    let (s, j) = problem(get(String::from_utf8(bad).unwrap()).await.unwrap()).await;
    assert_eq!(
        (s, j["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("PSR-PSN-0003"))
    );
    let (s, j) = problem(get(good.clone()).await.unwrap()).await;
    assert_eq!(
        (s, j["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("PSR-PSN-0004"))
    );
    let r = c
        .get(format!("{}/api/v1/psn/{good}/check", app.url()))
        .header("X-API-Key", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(problem(r).await.1["code"], "PSR-PSN-0004");
    let r = c
        .get(format!("{}/no/such/route", app.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(r).await.1["code"], "PSR-API-0006");
    app.shutdown().await.unwrap();
}

async fn person_routes_require_an_api_key(db: TestDb) {
    let p = seed(&db).await;
    let (app, c) = spawn(&db).await;
    for path in [
        format!("/api/v1/persons/{p}"),
        format!("/api/v1/persons/{p}/history"),
        format!("/api/v1/persons/{p}/notice-address"),
    ] {
        let r = c.get(format!("{}{path}", app.url())).send().await.unwrap();
        assert_eq!(
            problem(r).await.1["code"],
            "PSR-API-0002",
            "{path} without key"
        );
        let r = c
            .get(format!("{}{path}", app.url()))
            .header("X-API-Key", "wrong")
            .send()
            .await
            .unwrap();
        assert_eq!(
            problem(r).await.1["code"],
            "PSR-API-0002",
            "{path} with a wrong key"
        );
        let r = c
            .get(format!("{}{path}", app.url()))
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path} with a bearer key");
    }
    // The explanation speaks of the key the API uses, not of certificates it does not take (yet).
    let r = c
        .get(format!("{}/api/v1/persons/{p}", app.url()))
        .header("Accept-Language", "en")
        .send()
        .await
        .unwrap();
    let (_, j) = problem(r).await;
    let explanation = j["explanation"].as_str().unwrap();
    assert!(explanation.contains("key"), "{explanation}");
    assert!(!explanation.contains("certificate"), "{explanation}");
    // Classifiers hold no personal data.
    assert_eq!(
        c.get(format!("{}/api/v1/classifiers", app.url()))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    app.shutdown().await.unwrap();
}

async fn unacceptable_accept_is_406(db: TestDb) {
    let p = seed(&db).await;
    let (app, c) = spawn(&db).await;
    for accept in ["image/png", "nonsense", "application/json;q=x"] {
        let r = c
            .get(format!("{}/api/v1/persons/{p}", app.url()))
            .header("X-API-Key", KEY)
            .header("Accept", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 406, "{accept}");
        assert_eq!(problem(r).await.1["code"], "PSR-API-0001");
    }
    app.shutdown().await.unwrap();
}

async fn a2_1_history_and_as_of_over_http(db: TestDb) {
    let p = seed(&db).await;
    let k1 = db.clock.now();
    db.clock.advance(chrono::Duration::days(2));
    db.store
        .append(
            &prov("MIGR-01"),
            vec![NewEntry::new(
                p,
                Fact::MainAddress {
                    address: address("Բաղրամյան"),
                    valid_from: d(2025, 1, 1),
                    valid_to: None,
                },
            )],
        )
        .await
        .unwrap();
    let (app, c) = spawn(&db).await;
    let base = format!("{}/api/v1/persons/{p}", app.url());
    let h: Value = c
        .get(format!("{base}/history"))
        .header("X-API-Key", KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entries = h["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 4);
    assert_eq!(entries[0]["kind"], "registration");
    assert_eq!(entries[0]["provider"], "MIGR-01");
    assert_eq!(entries[0]["user_uid"], "uid-MIGR-01-1");
    assert_eq!(entries[3]["valid_from"], "2025-01-01");

    let now: Value = c
        .get(&base)
        .header("X-API-Key", KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(now["main_addresses"].as_array().unwrap().len(), 2);
    let known = k1.to_rfc3339();
    let then: Value = c
        .get(&base)
        .query(&[("known_at", known.as_str())])
        .header("X-API-Key", KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        then["main_addresses"].as_array().unwrap().len(),
        1,
        "as known at k1"
    );
    let v: Value = c
        .get(&base)
        .query(&[("valid_on", "2010-01-01")])
        .header("X-API-Key", KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        v["additional_addresses"].as_array().unwrap().len(),
        0,
        "valid on 2010"
    );
    let r = c
        .get(&base)
        .query(&[("valid_on", "2023-02-30")])
        .header("X-API-Key", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(problem(r).await.1["code"], "PSR-VAL-0001");
    let r = c
        .get(&base)
        .query(&[("valid_on", "1950-01-01")])
        .header("X-API-Key", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(problem(r).await.1["code"], "PSR-PSN-0004", "not yet born");
    let x = c
        .get(format!("{base}/history"))
        .header("X-API-Key", KEY)
        .header("Accept", "application/xml")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(x.contains("<entries><item><id>"), "{x}");
    app.shutdown().await.unwrap();
}

async fn a1_21_2_b_notice_address_over_http(db: TestDb) {
    let p = seed(&db).await;
    let (app, c) = spawn(&db).await;
    let url = format!("{}/api/v1/persons/{p}/notice-address", app.url());
    let on = |date: &'static str| {
        c.get(&url)
            .query(&[("date", date)])
            .header("X-API-Key", KEY)
            .send()
    };
    let j: Value = on("2026-03-01").await.unwrap().json().await.unwrap();
    assert_eq!(j["notice_address"]["kind"], "additional");
    assert_eq!(j["notice_address"]["address"]["street"], "Կորյունի");
    let j: Value = on("2026-07-01").await.unwrap().json().await.unwrap();
    assert_eq!(j["notice_address"]["kind"], "main");
    assert_eq!(j["notice_address"]["address"]["street"], "Մաշտոցի");
    // Without a date: today by the register's clock (2026-01-15 in tests): the additional address.
    let j: Value = c
        .get(&url)
        .header("X-API-Key", KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (j["date"].as_str(), j["notice_address"]["kind"].as_str()),
        (Some("2026-01-15"), Some("additional"))
    );
    app.shutdown().await.unwrap();
}

async fn health_ready_metrics(db: TestDb) {
    let (app, c) = spawn(&db).await;
    assert_eq!(
        c.get(format!("{}/healthz", app.url()))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        c.get(format!("{}/readyz", app.url()))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let _ = c
        .get(format!("{}/api/v1/persons/{}", app.url(), psn(1)))
        .header("X-API-Key", KEY)
        .send()
        .await
        .unwrap();
    let m = c
        .get(format!("{}/metrics", app.url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(m.contains("popreg_http_requests_total"), "{m}");
    assert!(
        m.contains("route=\"/api/v1/persons/{psn}\""),
        "metrics use the route template, never the PSN"
    );
    assert!(!m.contains(&psn(1).to_string()));
    app.shutdown().await.unwrap();
}

async fn errors_speak_the_callers_language(db: TestDb) {
    let (app, c) = spawn(&db).await;
    let url = format!("{}/api/v1/persons/123", app.url());
    let mut titles = vec![];
    for lang in ["hy", "en", "ru"] {
        let r = c
            .get(&url)
            .header("X-API-Key", KEY)
            .header("Accept-Language", lang)
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["content-language"], lang);
        let j: Value = r.json().await.unwrap();
        titles.push(j["title"].as_str().unwrap().to_string());
    }
    assert!(
        titles[0]
            .chars()
            .any(|c| ('\u{0531}'..='\u{0587}').contains(&c)),
        "Armenian: {}",
        titles[0]
    );
    assert!(titles[1].is_ascii(), "English: {}", titles[1]);
    assert!(
        titles[2]
            .chars()
            .any(|c| ('\u{0400}'..='\u{04FF}').contains(&c)),
        "Russian: {}",
        titles[2]
    );
    // Armenian is the default; XML errors are the twin of the JSON ones.
    let r = c
        .get(&url)
        .header("X-API-Key", KEY)
        .header("Accept", "application/xml")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/problem+xml");
    assert_eq!(r.headers()["content-language"], "hy");
    let x = r.text().await.unwrap();
    assert!(x.contains("<code>PSR-PSN-0001</code>"), "{x}");
    app.shutdown().await.unwrap();
}

async fn bearer_scheme_is_case_insensitive(db: TestDb) {
    let p = seed(&db).await;
    let (app, c) = spawn(&db).await;
    let url = format!("{}/api/v1/persons/{p}", app.url());
    let with_authorization = |value: String| async {
        let r = c
            .get(&url)
            .header("Authorization", &value)
            .send()
            .await
            .unwrap();
        (value, r)
    };
    // RFC 7235: the auth scheme name is case-insensitive.
    for key in ["Bearer", "bearer", "BEARER", "bEaReR  "] {
        let (value, r) = with_authorization(format!("{key} {KEY}")).await;
        assert_eq!(r.status(), 200, "{value}");
    }
    for key in ["Basic ", "Bearer", "bearer wrong-"] {
        let (value, r) = with_authorization(format!("{key}{KEY}")).await;
        assert_eq!(problem(r).await.1["code"], "PSR-API-0002", "{value}");
    }
    app.shutdown().await.unwrap();
}

async fn oversized_body_is_a_coded_problem(db: TestDb) {
    let p = seed(&db).await;
    let mut cfg = test_config();
    cfg.server.listen = "127.0.0.1:0".into();
    ensure_test_key(&db).await;
    cfg.server.max_body_bytes = 1024;
    let app = popreg::app::start(&cfg, db.store.clone()).await.unwrap();
    let c = reqwest::Client::new();
    // No route reads a body yet: a declared length over the limit is refused before any handler runs,
    // whatever the route (even one without a key, or an unknown one).
    for path in [
        format!("/api/v1/persons/{p}"),
        "/api/v1/classifiers".to_string(),
        "/api/v1/no-such-route".to_string(),
    ] {
        let r = c
            .get(format!("{}{path}", app.url()))
            .header("X-API-Key", KEY)
            .header("Accept-Language", "en")
            .body(vec![b'x'; 4096])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 413, "{path}");
        assert_eq!(r.headers()["content-language"], "en");
        let (_, j) = problem(r).await;
        assert_eq!(
            (
                j["code"].as_str(),
                j["title"].as_str(),
                j["status"].as_u64()
            ),
            (Some("PSR-API-0004"), Some("Request too large"), Some(413)),
            "{path}"
        );
    }
    let r = c
        .get(format!("{}/api/v1/persons/{p}", app.url()))
        .header("X-API-Key", KEY)
        .header("Accept", "application/xml")
        .body(vec![b'x'; 4096])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(r.headers()["content-type"], "application/problem+xml");
    assert_eq!(r.headers()["content-language"], "hy");
    let x = r.text().await.unwrap();
    assert!(x.contains("<code>PSR-API-0004</code>"), "{x}");
    assert!(x.contains("<title>Հարցումը չափազանց մեծ է</title>"), "{x}");
    // A body within the limit is no problem.
    let r = c
        .get(format!("{}/api/v1/persons/{p}", app.url()))
        .header("X-API-Key", KEY)
        .body(vec![b'x'; 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    app.shutdown().await.unwrap();
}

/// A GET with optional `Accept` and `Accept-Language`.
async fn get_as(
    c: &reqwest::Client,
    url: &str,
    accept: Option<&str>,
    lang: Option<&str>,
) -> reqwest::Response {
    let mut req = c.get(url);
    if let Some(a) = accept {
        req = req.header("Accept", a);
    }
    if let Some(l) = lang {
        req = req.header("Accept-Language", l);
    }
    req.send().await.unwrap()
}

/// An error answered in the caller's format and language: XML in English, JSON in Russian, and JSON in
/// Armenian without preferences.
async fn assert_localized_problem(
    c: &reqwest::Client,
    url: &str,
    status: StatusCode,
    code: &str,
    titles: [&str; 3],
) {
    let r = get_as(c, url, Some("application/xml"), Some("en")).await;
    assert_eq!(r.status(), status);
    assert_eq!(r.headers()["content-type"], "application/problem+xml");
    assert_eq!(r.headers()["content-language"], "en");
    let x = r.text().await.unwrap();
    assert!(x.contains(&format!("<code>{code}</code>")), "{x}");
    assert!(x.contains(&format!("<title>{}</title>", titles[1])), "{x}");
    for (lang, title) in [(Some("ru"), titles[2]), (None, titles[0])] {
        let r = get_as(c, url, None, lang).await;
        assert_eq!(r.headers()["content-language"], lang.unwrap_or("hy"));
        let (s, j) = problem(r).await;
        assert_eq!(
            (s, j["code"].as_str(), j["title"].as_str()),
            (status, Some(code), Some(title)),
            "{lang:?}"
        );
    }
}

async fn unknown_path_answers_in_the_callers_format_and_language(db: TestDb) {
    let (app, c) = spawn(&db).await;
    assert_localized_problem(
        &c,
        &format!("{}/no/such/route", app.url()),
        StatusCode::NOT_FOUND,
        "PSR-API-0006",
        ["Հասցեն չի գտնվել", "Address not found", "Адрес не найден"],
    )
    .await;
    app.shutdown().await.unwrap();
}

async fn readyz_503_answers_in_the_callers_format_and_language(db: TestDb) {
    let (app, c) = spawn(&db).await;
    let url = format!("{}/readyz", app.url());
    assert_eq!(c.get(&url).send().await.unwrap().status(), 200);
    // The database goes away under the running server.
    app.store.close().await;
    assert_localized_problem(
        &c,
        &url,
        StatusCode::SERVICE_UNAVAILABLE,
        "PSR-SYS-0002",
        [
            "Տվյալների բազան հասանելի չէ",
            "Storage unavailable",
            "База данных недоступна",
        ],
    )
    .await;
    app.shutdown().await.unwrap();
}

async fn landing_page_in_the_callers_language(db: TestDb) {
    let p = seed(&db).await;
    let (app, c) = spawn(&db).await;
    let url = format!("{}/", app.url());
    for (accept_language, lang, title) in [
        (None, "hy", "Բնակչության պետական ռեգիստր"),
        (Some("hy-AM"), "hy", "Բնակչության պետական ռեգիստր"),
        (Some("en-GB, hy;q=0.5"), "en", "Population State Register"),
        (Some("ru"), "ru", "Государственный регистр населения"),
        (Some("de"), "hy", "Բնակչության պետական ռեգիստր"),
    ] {
        let mut req = c.get(&url);
        if let Some(al) = accept_language {
            req = req.header("Accept-Language", al);
        }
        // No key needed.
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 200, "{accept_language:?}");
        assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
        assert_eq!(r.headers()["content-language"], lang);
        let html = r.text().await.unwrap();
        assert!(
            html.contains(&format!("<html lang=\"{lang}\">")),
            "{accept_language:?}: {html}"
        );
        assert!(
            html.contains(&format!("<title>{title}</title>")),
            "{accept_language:?}: {html}"
        );
        assert!(html.contains(&format!("popreg {}", env!("CARGO_PKG_VERSION"))));
        for link in ["/healthz", "/readyz", "/metrics", "/api/v1/classifiers"] {
            assert!(html.contains(&format!("<a href=\"{link}\">")), "{link}");
        }
        // The examples name this server, and carry no personal data.
        assert!(
            html.contains(&format!("{}/api/v1/persons/$PSN", app.url())),
            "{html}"
        );
        assert!(!html.contains(&p.to_string()));
    }
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn readyz_is_503_when_the_database_goes_away() {
    let db = TestDb::postgres().await;
    let (app, c) = spawn(&db).await;
    assert_eq!(
        c.get(format!("{}/readyz", app.url()))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let admin = sqlx::PgPool::connect(&pg_admin_url()).await.unwrap();
    let name = db.url.rsplit('/').next().unwrap().to_string();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE {name} WITH (FORCE)"
    )))
    .execute(&admin)
    .await
    .unwrap();
    let r = c.get(format!("{}/readyz", app.url())).send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(problem(r).await.1["code"], "PSR-SYS-0002");
    assert_eq!(
        c.get(format!("{}/healthz", app.url()))
            .send()
            .await
            .unwrap()
            .status(),
        200,
        "alive, not ready"
    );
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn a1_36_4_tin_check_over_http() {
    use popreg_connectors::tax::{FakeTaxRegistry, Taxpayer};
    let db = TestDb::sqlite().await;
    let fake = FakeTaxRegistry::start(vec![Taxpayer {
        tin: "02512345".into(),
        status: "active".into(),
        kind: "legal_entity".into(),
    }])
    .await
    .unwrap();
    let mut cfg = test_config();
    cfg.server.listen = "127.0.0.1:0".into();
    ensure_test_key(&db).await;
    cfg.connectors.tax_registry_url = fake.url();
    let app = popreg::app::start(&cfg, db.store.clone()).await.unwrap();
    let c = reqwest::Client::new();
    let check = |t: &'static str| {
        c.get(format!("{}/api/v1/tin/{t}/check", app.url()))
            .header("X-API-Key", KEY)
            .send()
    };
    let j: Value = check("02512345").await.unwrap().json().await.unwrap();
    assert_eq!(
        (j["exists"].as_bool(), j["status"].as_str()),
        (Some(true), Some("active"))
    );
    assert_eq!(
        problem(check("0251234").await.unwrap()).await.1["code"],
        "PSR-TIN-0001"
    );
    assert_eq!(
        problem(check("99999999").await.unwrap()).await.1["code"],
        "PSR-TIN-0002"
    );
    fake.stop();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let (s, j) = problem(check("02512345").await.unwrap()).await;
    assert_eq!(
        (s, j["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("PSR-TIN-0003"))
    );
    app.shutdown().await.unwrap();
}
