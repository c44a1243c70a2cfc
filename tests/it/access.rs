//! The Access Control System (A1.5.3, A1.33–34, A1.37): bodies, API keys, employees, grants and the access
//! log in the store, and callers resolved from keys at the HTTP edge — on SQLite and PostgreSQL.

use popreg_domain::access::{BodyType, Function};
use popreg_domain::*;
use popreg_store::{NewBody, StoreError};
use reqwest::StatusCode;
use serde_json::Value;

use crate::api::spawn;
use crate::common::*;

const MEMBER: &str = "AM/GOV/02500011/births";

fn hospital(id: &str, member: Option<&str>) -> NewBody {
    NewBody {
        id: id.into(),
        body_type: BodyType::MedicalOrganization,
        name_hy: "Երևանի թիվ 1 ծննդատուն".into(),
        name_en: "Yerevan Maternity Hospital No. 1".into(),
        name_ru: "Ереванский родильный дом № 1".into(),
        xroad_member: member.map(str::to_string),
        contact_email: Some("registry@maternity1.example.am".into()),
    }
}

fn code(e: StoreError) -> &'static str {
    e.code().as_str()
}

/// A person to read, a hospital body with an X-Road member, and a key of it with `functions`.
async fn setup(db: &TestDb, functions: &[Function]) -> (Psn, String, String) {
    let p = psn(700);
    db.store
        .append(
            &prov("MIGR-01"),
            vec![NewEntry::new(
                p,
                registration("Անի", "Հակոբյան", d(1990, 3, 8), Sex::F),
            )],
        )
        .await
        .unwrap();
    db.store
        .create_body("test", &hospital("MED-0001", Some(MEMBER)))
        .await
        .unwrap();
    let (id, key) = db
        .store
        .issue_api_key(
            "test",
            "MED-0001",
            "3920481576",
            functions,
            "hospital system",
        )
        .await
        .unwrap();
    db.store
        .add_grant(
            "test",
            "MED-0001",
            &["person.names".to_string(), "person.birth_date".to_string()],
            "identifying mothers at birth registration",
            "Law on the State Register of Population, art. 12",
            None,
        )
        .await
        .unwrap();
    (p, id, key)
}

const PROVIDER: &[Function] = &[Function::Submit, Function::ReadPersons];

crate::conformance!(
    a1_33_bodies_are_unique_by_id_and_x_road_member,
    a1_37_keys_are_stored_hashed_and_shown_once,
    a1_33_revocation_and_rotation_take_effect_on_the_next_request,
    a1_34_a_key_without_read_persons_is_forbidden_person_routes,
    anonymous_and_unknown_keys_are_401,
    x_road_client_must_be_the_keys_body_member,
    a1_37_x_road_ids_reach_the_caller,
    a1_34_employees_are_named_and_ended,
    a1_33_grants_count_until_revoked_or_past_their_last_day,
    every_access_change_is_recorded_and_the_record_is_immutable,
);

async fn a1_33_bodies_are_unique_by_id_and_x_road_member(db: TestDb) {
    let s = &db.store;
    let b = s
        .create_body("test", &hospital("MED-0001", Some(MEMBER)))
        .await
        .unwrap();
    assert_eq!(b.created_at, t0());
    assert_eq!(s.body("MED-0001").await.unwrap(), Some(b.clone()));
    assert_eq!(
        s.body_by_xroad_member(MEMBER).await.unwrap(),
        Some(b.clone())
    );
    assert_eq!(s.body_by_xroad_member("AM/GOV/1/x").await.unwrap(), None);
    let again = s.create_body("test", &hospital("MED-0001", None)).await;
    assert_eq!(code(again.unwrap_err()), "PSR-ACC-0002", "same id");
    let member_taken = s
        .create_body("test", &hospital("MED-0002", Some(MEMBER)))
        .await;
    assert_eq!(
        code(member_taken.unwrap_err()),
        "PSR-ACC-0002",
        "same member"
    );
    for bad in [
        hospital("med-1", None),
        hospital("MED-0003", Some("AM/GOV/123")),
        NewBody {
            name_en: " ".into(),
            ..hospital("MED-0004", None)
        },
    ] {
        assert_eq!(
            code(s.create_body("test", &bad).await.unwrap_err()),
            "PSR-VAL-0007",
            "{bad:?}"
        );
    }
    s.create_body("test", &hospital("MED-0002", None))
        .await
        .unwrap();
    let ids: Vec<String> = s
        .bodies()
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.id)
        .collect();
    assert_eq!(ids, ["MED-0001", "MED-0002"]);
    let no_body = s.issue_api_key("test", "MED-9999", "u", PROVIDER, "").await;
    assert_eq!(code(no_body.unwrap_err()), "PSR-ACC-0001");
}

/// Every value stored in the access tables, as text, however each dialect keeps it.
async fn stored_text(db: &TestDb) -> String {
    let mut out = String::new();
    if db.url.starts_with("sqlite:") {
        // The file itself and its write-ahead log: the key must be in neither.
        let path = db.url.trim_start_matches("sqlite:");
        for f in [path.to_string(), format!("{path}-wal")] {
            if let Ok(bytes) = std::fs::read(&f) {
                out.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
    } else {
        let pool = db.raw_pg().await;
        for table in ["bodies", "api_keys", "access_events"] {
            let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT t::text FROM {table} t"
            )))
            .fetch_all(&pool)
            .await
            .unwrap();
            for (r,) in rows {
                out.push_str(&r);
            }
        }
        pool.close().await;
    }
    out
}

async fn a1_37_keys_are_stored_hashed_and_shown_once(db: TestDb) {
    let (_, id, key) = setup(&db, PROVIDER).await;
    assert!(key.starts_with("psr_") && key.len() == 4 + 64, "{key}");
    let stored = stored_text(&db).await;
    assert!(stored.contains(&id), "the key's row is there");
    assert!(
        stored.contains(&popreg_store::hash_api_key(&key)),
        "its hash is"
    );
    assert!(!stored.contains(&key["psr_".len()..]), "the key is not");
    let found = db.store.caller_for_key(&key).await.unwrap().unwrap();
    assert_eq!(
        (found.body.id.as_str(), found.key.id.as_str()),
        ("MED-0001", id.as_str())
    );
    assert_eq!(found.key.owner_uid, "3920481576");
    assert_eq!(found.key.functions, PROVIDER);
    assert!(
        db.store
            .caller_for_key("psr_guess")
            .await
            .unwrap()
            .is_none()
    );
    // Two keys are never the same.
    let (_, other) = db
        .store
        .issue_api_key("test", "MED-0001", "3920481576", PROVIDER, "")
        .await
        .unwrap();
    assert_ne!(key, other);
}

async fn get_person(c: &reqwest::Client, url: &str, p: Psn, key: &str) -> reqwest::Response {
    c.get(format!("{url}/api/v1/persons/{p}"))
        .header("X-API-Key", key)
        .send()
        .await
        .unwrap()
}

async fn problem_code(r: reqwest::Response) -> (StatusCode, String) {
    let s = r.status();
    let j: Value = r.json().await.unwrap();
    (s, j["code"].as_str().unwrap_or_default().to_string())
}

async fn a1_33_revocation_and_rotation_take_effect_on_the_next_request(db: TestDb) {
    let (p, id, key) = setup(&db, PROVIDER).await;
    let (app, c) = spawn(&db).await;
    let url = app.url();
    assert_eq!(get_person(&c, &url, p, &key).await.status(), 200);
    db.clock.advance(chrono::Duration::minutes(1));
    let (new_id, new_key) = db.store.rotate_api_key("test", &id).await.unwrap();
    assert_ne!(new_id, id);
    assert_eq!(
        problem_code(get_person(&c, &url, p, &key).await).await,
        (StatusCode::UNAUTHORIZED, "PSR-API-0002".into()),
        "the rotated-out key"
    );
    assert_eq!(get_person(&c, &url, p, &new_key).await.status(), 200);
    let keys = db.store.api_keys("MED-0001").await.unwrap();
    assert_eq!(keys.len(), 2);
    assert!(keys[0].revoked_at.is_some() && keys[1].revoked_at.is_none());
    assert_eq!(keys[1].functions, keys[0].functions, "same functions");
    db.store.revoke_api_key("test", &new_id).await.unwrap();
    assert_eq!(
        problem_code(get_person(&c, &url, p, &new_key).await).await,
        (StatusCode::UNAUTHORIZED, "PSR-API-0002".into()),
        "the revoked key"
    );
    let twice = db.store.revoke_api_key("test", &new_id).await;
    assert_eq!(code(twice.unwrap_err()), "PSR-ACC-0002");
    let rotate_revoked = db.store.rotate_api_key("test", &id).await;
    assert_eq!(code(rotate_revoked.unwrap_err()), "PSR-ACC-0002");
    let unknown = db.store.revoke_api_key("test", "KEY-NONE").await;
    assert_eq!(code(unknown.unwrap_err()), "PSR-ACC-0001");
    app.shutdown().await.unwrap();
}

async fn a1_34_a_key_without_read_persons_is_forbidden_person_routes(db: TestDb) {
    let (p, _, key) = setup(&db, &[Function::Submit]).await;
    let (app, c) = spawn(&db).await;
    for path in ["", "/history", "/notice-address"] {
        let r = c
            .get(format!("{}/api/v1/persons/{p}{path}", app.url()))
            .header("X-API-Key", &key)
            .header("Accept", "application/xml")
            .header("Accept-Language", "en")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
        assert_eq!(r.headers()["content-type"], "application/problem+xml");
        let body = r.text().await.unwrap();
        assert!(body.contains("<code>PSR-API-0007</code>"), "{body}");
        assert!(!body.contains("Անի"), "no personal data: {body}");
    }
    app.shutdown().await.unwrap();
}

async fn anonymous_and_unknown_keys_are_401(db: TestDb) {
    let (p, _, key) = setup(&db, PROVIDER).await;
    let (app, c) = spawn(&db).await;
    let url = format!("{}/api/v1/persons/{p}", app.url());
    let r = c.get(&url).send().await.unwrap();
    assert_eq!(
        problem_code(r).await,
        (StatusCode::UNAUTHORIZED, "PSR-API-0002".into())
    );
    for bad in [
        format!("{key}x"),
        "psr_".to_string(),
        "k".repeat(300),
        format!("{key} {key}"),
    ] {
        let r = c.get(&url).header("X-API-Key", bad).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = c.get(&url).bearer_auth(&key).send().await.unwrap();
    assert_eq!(r.status(), 200, "the same key as a bearer token");
    app.shutdown().await.unwrap();
}

async fn caller_of(
    c: &reqwest::Client,
    url: &str,
    key: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, Value) {
    let mut rq = c
        .get(format!("{url}/api/v1/caller"))
        .header("X-API-Key", key);
    for (k, v) in headers {
        rq = rq.header(*k, *v);
    }
    let r = rq.send().await.unwrap();
    (r.status(), r.json().await.unwrap())
}

async fn x_road_client_must_be_the_keys_body_member(db: TestDb) {
    let (_, _, key) = setup(&db, PROVIDER).await;
    let (app, c) = spawn(&db).await;
    let url = app.url();
    let (s, j) = caller_of(
        &c,
        &url,
        &key,
        &[("X-Road-Client", "AM/GOV/99999999/other")],
    )
    .await;
    assert_eq!(
        (s, j["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("PSR-AUTH-0008"))
    );
    for (h, v) in [
        ("X-Road-Client", "AM/GOV/02500011"),
        ("X-Road-Client", "AM/GOV/02500011/births/x"),
        ("X-Road-UserId", "EE38001085718"),
        ("Idempotency-Key", &"i".repeat(201)),
    ] {
        let (s, j) = caller_of(&c, &url, &key, &[(h, v)]).await;
        assert_eq!(
            (s, j["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("PSR-VAL-0007")),
            "{h}: {v}"
        );
    }
    // A body without an X-Road member cannot be called through X-Road at all.
    db.store
        .create_body("test", &hospital("MED-0002", None))
        .await
        .unwrap();
    let (_, other) = db
        .store
        .issue_api_key("test", "MED-0002", "u-2", PROVIDER, "")
        .await
        .unwrap();
    let (s, _) = caller_of(&c, &url, &other, &[("X-Road-Client", MEMBER)]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    app.shutdown().await.unwrap();
}

async fn a1_37_x_road_ids_reach_the_caller(db: TestDb) {
    let (_, _, key) = setup(&db, PROVIDER).await;
    let (app, c) = spawn(&db).await;
    let url = app.url();
    let (s, j) = caller_of(
        &c,
        &url,
        &key,
        &[
            ("X-Road-Client", MEMBER),
            ("X-Road-Id", "req-7f3a"),
            ("X-Road-UserId", "AM2902851234"),
            ("X-Road-Issue", "ISSUE-42"),
            ("Idempotency-Key", "birth-2026-0001"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{j}");
    assert_eq!(j["body_id"], "MED-0001");
    assert_eq!(j["body_type"], "medical_organization");
    assert_eq!(j["channel"], "x_road");
    assert_eq!(j["user_uid"], "AM2902851234", "the X-Road user");
    assert_eq!(
        j["functions"],
        serde_json::json!(["submit", "read_persons"])
    );
    assert_eq!(
        j["external"],
        serde_json::json!({
            "xroad_client": MEMBER,
            "xroad_id": "req-7f3a",
            "xroad_user_id": "AM2902851234",
            "xroad_issue": "ISSUE-42",
            "idempotency_key": "birth-2026-0001",
        })
    );
    // Directly over the API: the key's owner is the user.
    let (s, j) = caller_of(&c, &url, &key, &[("Idempotency-Key", "k-1")]).await;
    assert_eq!(s, 200);
    assert_eq!(
        (j["channel"].as_str(), j["user_uid"].as_str()),
        (Some("api"), Some("3920481576"))
    );
    assert_eq!(
        j["external"],
        serde_json::json!({ "idempotency_key": "k-1" })
    );
    app.shutdown().await.unwrap();
}

async fn a1_34_employees_are_named_and_ended(db: TestDb) {
    let s = &db.store;
    s.create_body("test", &hospital("MED-0001", None))
        .await
        .unwrap();
    let who = psn(701);
    let e = s
        .add_employee("test", "MED-0001", who, &[Function::Submit])
        .await
        .unwrap();
    assert_eq!((e.since, e.until), (t0(), None));
    assert_eq!(s.employee("MED-0001", who).await.unwrap(), Some(e));
    let twice = s
        .add_employee("test", "MED-0001", who, &[Function::Submit])
        .await;
    assert_eq!(code(twice.unwrap_err()), "PSR-ACC-0002");
    let nowhere = s.add_employee("test", "MED-9", who, PROVIDER).await;
    assert_eq!(code(nowhere.unwrap_err()), "PSR-ACC-0001");
    db.clock.advance(chrono::Duration::days(30));
    s.end_employee("test", "MED-0001", who).await.unwrap();
    assert_eq!(s.employee("MED-0001", who).await.unwrap(), None);
    let again = s.end_employee("test", "MED-0001", who).await;
    assert_eq!(code(again.unwrap_err()), "PSR-ACC-0001");
    // Named again later, with other functions: both periods are kept.
    db.clock.advance(chrono::Duration::days(1));
    s.add_employee("test", "MED-0001", who, PROVIDER)
        .await
        .unwrap();
    let all = s.employees("MED-0001").await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].until, Some(t0() + chrono::Duration::days(30)));
    assert_eq!(
        (all[1].until, all[1].functions.as_slice()),
        (None, PROVIDER)
    );
}

async fn a1_33_grants_count_until_revoked_or_past_their_last_day(db: TestDb) {
    let s = &db.store;
    s.create_body("test", &hospital("MED-0001", None))
        .await
        .unwrap();
    let els = |v: &[&str]| v.iter().map(|e| e.to_string()).collect::<Vec<_>>();
    let term = s
        .add_grant(
            "test",
            "MED-0001",
            &els(&["person.names", "person.birth_date"]),
            "verifying the mother's identity at birth registration",
            "Law on the Population Register, art. 12",
            Some(d(2026, 1, 31)),
        )
        .await
        .unwrap();
    assert_eq!(term.elements, ["person.birth_date", "person.names"]);
    let open = s
        .add_grant(
            "test",
            "MED-0001",
            &els(&["person.main_addresses"]),
            "notices",
            "Government decision 1234-N",
            None,
        )
        .await
        .unwrap();
    let active = |v: Vec<popreg_store::ReadGrant>| {
        let mut ids: Vec<String> = v.into_iter().map(|g| g.id).collect();
        ids.sort();
        ids
    };
    let mut both = vec![term.id.clone(), open.id.clone()];
    both.sort();
    assert_eq!(active(s.active_grants("MED-0001").await.unwrap()), both);
    // The last day still counts; the day after does not.
    db.clock
        .set(d(2026, 1, 31).and_hms_opt(23, 0, 0).unwrap().and_utc());
    assert_eq!(s.active_grants("MED-0001").await.unwrap().len(), 2);
    db.clock
        .set(d(2026, 2, 1).and_hms_opt(0, 0, 1).unwrap().and_utc());
    assert_eq!(
        active(s.active_grants("MED-0001").await.unwrap()),
        std::slice::from_ref(&open.id)
    );
    s.revoke_grant("test", &open.id).await.unwrap();
    assert!(s.active_grants("MED-0001").await.unwrap().is_empty());
    assert_eq!(s.grants("MED-0001").await.unwrap().len(), 2, "history kept");
    let twice = s.revoke_grant("test", &open.id).await;
    assert_eq!(code(twice.unwrap_err()), "PSR-ACC-0002");
    let bad = s
        .add_grant("test", "MED-0001", &els(&["a,b"]), "p", "l", None)
        .await;
    assert_eq!(code(bad.unwrap_err()), "PSR-VAL-0007");
}

async fn every_access_change_is_recorded_and_the_record_is_immutable(db: TestDb) {
    let s = &db.store;
    s.create_body("op:1", &hospital("MED-0001", Some(MEMBER)))
        .await
        .unwrap();
    let (id, key) = s
        .issue_api_key("op:1", "MED-0001", "u", PROVIDER, "l")
        .await
        .unwrap();
    let (id2, _) = s.rotate_api_key("op:2", &id).await.unwrap();
    s.revoke_api_key("op:2", &id2).await.unwrap();
    s.add_employee("op:1", "MED-0001", psn(702), PROVIDER)
        .await
        .unwrap();
    s.end_employee("op:1", "MED-0001", psn(702)).await.unwrap();
    let g = s
        .add_grant("op:1", "MED-0001", &["person.names".into()], "p", "l", None)
        .await
        .unwrap();
    s.revoke_grant("op:1", &g.id).await.unwrap();
    // A refused change leaves no record.
    let _ = s.revoke_grant("op:1", &g.id).await.unwrap_err();
    let events = s.access_events(None).await.unwrap();
    let actions: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e.action.as_str(), e.actor.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("body.create", "op:1"),
            ("key.issue", "op:1"),
            ("key.rotate", "op:2"),
            ("key.revoke", "op:2"),
            ("employee.add", "op:1"),
            ("employee.end", "op:1"),
            ("grant.add", "op:1"),
            ("grant.revoke", "op:1"),
        ]
    );
    assert!(events.iter().all(|e| e.at == t0()));
    assert!(
        events.iter().all(|e| !e.detail.contains(&key[4..])),
        "no key in the log"
    );
    let about_key = s.access_events(Some(&id)).await.unwrap();
    assert_eq!(about_key.len(), 2, "issued, then rotated");
    // Not even a hand-written statement changes the record.
    for stmt in [
        "UPDATE access_events SET actor = 'someone else'",
        "DELETE FROM access_events",
    ] {
        let refused = if db.url.starts_with("sqlite:") {
            let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
            let r = sqlx::query(stmt).execute(&pool).await;
            pool.close().await;
            r.map(|_| ())
        } else {
            let pool = db.raw_pg().await;
            let r = sqlx::query(stmt).execute(&pool).await;
            pool.close().await;
            r.map(|_| ())
        };
        let e = refused.expect_err(stmt).to_string();
        assert!(e.contains("PSR-SYS-0003"), "{stmt}: {e}");
    }
    assert_eq!(s.access_events(None).await.unwrap().len(), 8);
}

/// Run `popreg ARGS --data-dir DIR`: (success, stdout, stderr).
fn cli(dir: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = crate::cli::popreg()
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The first word of `out` that starts with `prefix`.
fn word(out: &str, prefix: &str) -> String {
    let w = out.split_whitespace().find(|w| w.starts_with(prefix));
    w.unwrap_or_else(|| panic!("no {prefix}… in {out}"))
        .to_string()
}

#[test]
fn operators_manage_bodies_keys_employees_and_grants_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (ok, out, err) = cli(
        d,
        &[
            "body",
            "add",
            "--id",
            "MED-0001",
            "--type",
            "medical_organization",
            "--name-hy",
            "Երևանի թիվ 1 ծննդատուն",
            "--name-en",
            "Yerevan Maternity Hospital No. 1",
            "--name-ru",
            "Ереванский родильный дом № 1",
            "--xroad-member",
            MEMBER,
        ],
    );
    assert!(ok, "{err}");
    assert!(out.contains("MED-0001"), "{out}");
    let (ok, out, _) = cli(d, &["body", "list"]);
    assert!(ok && out.contains(MEMBER), "{out}");
    let (ok, _, err) = cli(
        d,
        &[
            "key",
            "issue",
            "--body",
            "MED-0001",
            "--owner",
            "u",
            "--functions",
            "submit,fly",
        ],
    );
    assert!(!ok && err.contains("fly"), "{err}");
    let (ok, out, err) = cli(
        d,
        &[
            "key",
            "issue",
            "--body",
            "MED-0001",
            "--owner",
            "3920481576",
            "--functions",
            "submit,read_persons",
            "--label",
            "births",
        ],
    );
    assert!(ok, "{err}");
    let key = word(&out, "psr_");
    let id = word(&out, "KEY-");
    let (ok, listed, _) = cli(d, &["key", "list", "--body", "MED-0001"]);
    assert!(
        ok && listed.contains(&id) && !listed.contains(&key),
        "{listed}"
    );
    let (ok, out, err) = cli(d, &["key", "rotate", &id]);
    assert!(ok, "{err}");
    assert!(out.contains("psr_") && !out.contains(&key), "{out}");
    let (ok, _, err) = cli(d, &["key", "revoke", &id]);
    assert!(
        !ok && err.contains("PSR-ACC-0002"),
        "already revoked: {err}"
    );
    let who = psn(703).to_string();
    let (ok, _, err) = cli(
        d,
        &[
            "employee",
            "add",
            "--body",
            "MED-0001",
            "--psn",
            &who,
            "--functions",
            "submit",
        ],
    );
    assert!(ok, "{err}");
    let (ok, _, err) = cli(d, &["employee", "end", "--body", "MED-0001", "--psn", &who]);
    assert!(ok, "{err}");
    let (ok, out, err) = cli(
        d,
        &[
            "grant",
            "add",
            "--body",
            "MED-0001",
            "--elements",
            "person.names,person.birth_date",
            "--purpose",
            "birth registration",
            "--legal-basis",
            "Law on the Population Register",
            "--ends-on",
            "2030-12-31",
        ],
    );
    assert!(ok, "{err}");
    let grant = word(&out, "GRANT-");
    let (ok, _, err) = cli(d, &["grant", "revoke", &grant]);
    assert!(ok, "{err}");
    let (ok, out, _) = cli(d, &["grant", "list", "--body", "MED-0001"]);
    assert!(
        ok && out.contains(&grant) && out.contains("2030-12-31"),
        "{out}"
    );
}

/// Issue 4 item 6: `popreg body cert add|list|revoke` registers a body's client certificate by the SHA-256
/// of its DER encoding, lists it and revokes it; an unreadable file is refused.
#[test]
fn a1_33_operators_register_and_revoke_client_certificates_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (ok, _, err) = cli(
        d,
        &[
            "body",
            "add",
            "--id",
            "MED-0001",
            "--type",
            "medical_organization",
            "--name-hy",
            "Ծննդատուն",
            "--name-en",
            "Maternity",
            "--name-ru",
            "Роддом",
        ],
    );
    assert!(ok, "{err}");
    let ca = popreg_identity::dev_ca::DevCa::new(chrono::Utc::now()).unwrap();
    let system = ca
        .id_card(&popreg_identity::dev_ca::CardHolder::new(
            psn(5301),
            chrono::Utc::now(),
            2,
        ))
        .unwrap();
    let pem = d.join("his.pem");
    std::fs::write(&pem, &system.cert_pem).unwrap();
    let junk = d.join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    let fp = popreg_identity::cert::fingerprint(&system.cert_der);
    let path = |p: &std::path::Path| p.display().to_string();
    let (ok, _, err) = cli(
        d,
        &[
            "body",
            "cert",
            "add",
            "--body",
            "MED-0001",
            "--cert",
            &path(&junk),
        ],
    );
    assert!(!ok && err.contains("not a PEM certificate"), "{err}");
    let (ok, out, err) = cli(
        d,
        &[
            "body",
            "cert",
            "add",
            "--body",
            "MED-0001",
            "--cert",
            &path(&pem),
            "--functions",
            "submit",
        ],
    );
    assert!(ok, "{err}");
    assert!(out.contains(&fp), "{out}");
    let id = word(&out, "CERT-");
    let (ok, out, _) = cli(d, &["body", "cert", "list", "--body", "MED-0001"]);
    assert!(
        ok && out.contains(&fp) && out.trim_end().ends_with("\t-"),
        "{out}"
    );
    let (ok, out, err) = cli(d, &["body", "cert", "revoke", &id]);
    assert!(ok && out.contains(&id), "{err}");
    let (_, out, _) = cli(d, &["body", "cert", "list", "--body", "MED-0001"]);
    assert!(!out.trim_end().ends_with("\t-"), "revoked: {out}");
    let (ok, _, err) = cli(d, &["body", "cert", "revoke", &id]);
    assert!(!ok && err.contains("PSR-ACC-0002"), "revoked twice: {err}");
}
