//! The access gate, the data-usage log and the tamper-evident audit trail (A1.30, A1.33, A1.37, A2.9), on
//! SQLite and PostgreSQL: every person route writes its usage record before answering, reads are cut to the
//! body's grants, a read fails closed when its record cannot be written, and `audit verify` names each kind
//! of tampering done directly in the database.

use chrono::Duration;
use popreg_domain::access::{BodyType, Caller, Function};
use popreg_domain::*;
use popreg_store::{AuditSigner, NewBody, Store, UsageFilter, VerifyReport, View};
use reqwest::StatusCode;
use serde_json::Value;

use crate::api::{KEY, KEY_BODY, spawn};
use crate::common::*;

crate::conformance!(
    a1_30_every_person_route_writes_its_usage_record_before_answering,
    a1_33_a_read_is_cut_to_the_grant_and_refused_without_one,
    a2_9_a_read_fails_closed_when_its_usage_record_cannot_be_written,
    a2_9_an_untouched_trail_verifies_and_proofs_check,
    a2_9_verify_names_an_altered_leaf,
    a2_9_verify_detects_a_consistently_rewritten_leaf_by_its_checkpoint,
    a2_9_verify_names_a_removed_leaf,
    a2_9_verify_names_reordered_leaves,
    a2_9_verify_names_an_altered_usage_row,
    a2_9_verify_names_an_altered_entry,
    a2_9_verify_names_a_row_added_outside_the_register,
    a2_9_a_checkpoint_with_a_bad_signature_is_rejected,
    a1_30_the_supervisor_searches_and_a_search_by_person_is_recorded,
    a1_30_hidden_records_and_who_may_hide_them,
    a1_30_anomalies_volume_and_out_of_hours,
);

fn is_sqlite(db: &TestDb) -> bool {
    db.url.starts_with("sqlite:")
}

/// Run statements on the database as an intruder with write access would: the append-only triggers
/// dropped or disabled first.
async fn intrude(db: &TestDb, stmts: &[String]) {
    const TABLES: &[&str] = &[
        "audit_log",
        "audit_nodes",
        "audit_checkpoints",
        "usage_log",
        "usage_hidings",
        "entries",
        "access_events",
    ];
    if is_sqlite(db) {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        for t in TABLES {
            for suffix in ["update", "delete"] {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP TRIGGER IF EXISTS {t}_immutable_{suffix}"
                )))
                .execute(&pool)
                .await
                .unwrap();
            }
        }
        for s in stmts {
            sqlx::query(sqlx::AssertSqlSafe(s.clone()))
                .execute(&pool)
                .await
                .unwrap_or_else(|e| panic!("{s}: {e}"));
        }
        pool.close().await;
    } else {
        let pool = db.raw_pg().await;
        for t in TABLES {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "ALTER TABLE {t} DISABLE TRIGGER USER"
            )))
            .execute(&pool)
            .await
            .unwrap();
        }
        for s in stmts {
            sqlx::query(sqlx::AssertSqlSafe(s.clone()))
                .execute(&pool)
                .await
                .unwrap_or_else(|e| panic!("{s}: {e}"));
        }
        pool.close().await;
    }
}

/// Rows of (integer, text) from a raw query.
async fn rows(db: &TestDb, sql: &str) -> Vec<(i64, String)> {
    if is_sqlite(db) {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        let r = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_all(&pool)
            .await
            .unwrap();
        pool.close().await;
        r
    } else {
        let pool = db.raw_pg().await;
        let r = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_all(&pool)
            .await
            .unwrap();
        pool.close().await;
        r
    }
}

fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn signer() -> AuditSigner {
    let dir = tempfile::tempdir().unwrap();
    AuditSigner::load_or_create(&dir.path().join("k.pk8")).unwrap()
}

fn reader(body: &str, functions: &[Function]) -> Caller {
    Caller {
        body_id: body.into(),
        body_type: BodyType::Operator,
        user_uid: format!("uid-{body}"),
        functions: functions.to_vec(),
        channel: Channel::Api,
        external: ExternalIds::default(),
    }
}

async fn body(store: &Store, id: &str, elements: &[&str]) {
    store
        .create_body(
            "test",
            &NewBody {
                id: id.into(),
                body_type: BodyType::Other,
                name_hy: "Պետական եկամուտների կոմիտե".into(),
                name_en: "State Revenue Committee".into(),
                name_ru: "Комитет государственных доходов".into(),
                xroad_member: None,
                contact_email: None,
            },
        )
        .await
        .unwrap();
    if !elements.is_empty() {
        let els: Vec<String> = elements.iter().map(|e| e.to_string()).collect();
        store
            .add_grant(
                "test",
                id,
                &els,
                "tax administration",
                "Tax Code, art. 41",
                None,
            )
            .await
            .unwrap();
    }
}

/// Some of everything the trail records: entries, access events, usage records, a hiding, a suspension
/// and its lifting; then a signed checkpoint. Returns the two persons.
async fn activity(db: &TestDb) -> (Psn, Psn) {
    let s = &db.store;
    s.set_audit_signer(signer());
    let (a, b) = (psn(901), psn(902));
    s.append(
        &prov("MIGR-01"),
        vec![
            NewEntry::new(a, registration("Անի", "Հակոբյան", d(1990, 3, 8), Sex::F)),
            NewEntry::new(b, registration("Արամ", "Պետրոսյան", d(1985, 7, 1), Sex::M)),
        ],
    )
    .await
    .unwrap();
    body(s, "OPS-T", &["person.*"]).await;
    let ops = reader("OPS-T", &[Function::ReadPersons, Function::HideUsage]);
    let mut ids = vec![];
    for (p, v) in [(a, View::Current), (b, View::History), (a, View::Exists)] {
        ids.push(s.read_person(&ops, p, v).await.unwrap().unwrap().usage_id);
    }
    s.hide_usage(&ops, ids[0], d(2026, 6, 1), "criminal investigation 12/345")
        .await
        .unwrap();
    let sid = s
        .suspend("OPS-T", "late submissions", None, "manager")
        .await
        .unwrap();
    s.lift_suspension(sid, "manager").await.unwrap();
    s.audit_checkpoint().await.unwrap();
    (a, b)
}

async fn verify(db: &TestDb) -> VerifyReport {
    let (_, key) = db.store.audit_public_key().unwrap();
    db.store.audit_verify(&key).await.unwrap()
}

fn first(r: &VerifyReport) -> &popreg_store::Finding {
    r.findings
        .first()
        .unwrap_or_else(|| panic!("tampering not detected: {r:?}"))
}

async fn first_usage_leaf(db: &TestDb) -> (i64, String) {
    rows(
        db,
        "SELECT seq, data FROM audit_log WHERE kind = 'usage' ORDER BY seq LIMIT 1",
    )
    .await
    .remove(0)
}

async fn a2_9_an_untouched_trail_verifies_and_proofs_check(db: TestDb) {
    activity(&db).await;
    let r = verify(&db).await;
    assert!(r.ok(), "{r:?}");
    // 1 entries leaf + 2 access events (body, grant) + 3 usage + 1 hiding + 2 acts.
    assert_eq!(r.leaves, 9, "{r:?}");
    assert_eq!(r.verified_size, 9);
    assert_eq!(r.checkpoints, 1);
    // Every leaf's proof checks against the signed root (the domain's RFC 9162 verifier; the citizen's
    // proofs are also checked by an independent Python implementation in my_usage.rs).
    let cp = db.store.latest_checkpoint().await.unwrap().unwrap();
    let root = popreg_domain::merkle::from_hex(&cp.root).unwrap();
    for seq in 0..9 {
        let p = db.store.inclusion_proof(seq).await.unwrap().unwrap();
        assert_eq!(p.tree_size, 9);
        let leaf = popreg_domain::merkle::leaf_hash(p.leaf.as_bytes());
        let path: Vec<_> = p
            .proof
            .iter()
            .map(|h| popreg_domain::merkle::from_hex(h).unwrap())
            .collect();
        assert!(popreg_domain::merkle::verify_inclusion(
            seq as u64, 9, &leaf, &path, &root
        ));
    }
    assert!(db.store.inclusion_proof(9).await.unwrap().is_none());
}

async fn a2_9_verify_names_an_altered_leaf(db: TestDb) {
    activity(&db).await;
    let (seq, _) = first_usage_leaf(&db).await;
    intrude(
        &db,
        &[format!(
            "UPDATE audit_log SET data = replace(data, '\"kind\":\"usage\"', '\"kind\":\"usage\" ') WHERE seq = {seq}"
        )],
    )
    .await;
    let r = verify(&db).await;
    let f = first(&r);
    assert_eq!((f.seq, f.problem.as_str()), (Some(seq), "altered"), "{r:?}");
}

async fn a2_9_verify_detects_a_consistently_rewritten_leaf_by_its_checkpoint(db: TestDb) {
    activity(&db).await;
    let (seq, data) = first_usage_leaf(&db).await;
    // The intruder changes the leaf and recomputes its hash and every node: only the signed root is beyond
    // their reach.
    let forged = data.replace("\"kind\":\"usage\"", "\"kind\":\"usage\" ");
    let hash = popreg_domain::merkle::to_hex(&popreg_domain::merkle::leaf_hash(forged.as_bytes()));
    intrude(
        &db,
        &[format!(
            "UPDATE audit_log SET data = {}, leaf_hash = {} WHERE seq = {seq}",
            lit(&forged),
            lit(&hash)
        )],
    )
    .await;
    let r = verify(&db).await;
    assert!(!r.ok());
    let f = r
        .findings
        .iter()
        .find(|f| f.problem == "checkpoint")
        .unwrap_or_else(|| panic!("{r:?}"));
    assert!(f.detail.contains("checkpoint"), "{f:?}");
    assert_eq!(
        r.verified_size, 0,
        "no checkpoint can be trusted up to the forged leaf"
    );
}

async fn a2_9_verify_names_a_removed_leaf(db: TestDb) {
    activity(&db).await;
    let (seq, _) = first_usage_leaf(&db).await;
    intrude(&db, &[format!("DELETE FROM audit_log WHERE seq = {seq}")]).await;
    let r = verify(&db).await;
    let f = first(&r);
    assert_eq!((f.seq, f.problem.as_str()), (Some(seq), "missing"), "{r:?}");
    assert!(
        r.findings.iter().any(|f| f.problem == "uncovered"),
        "the usage row it recorded is now in no leaf: {r:?}"
    );
}

async fn a2_9_verify_names_reordered_leaves(db: TestDb) {
    activity(&db).await;
    let two = rows(
        &db,
        "SELECT seq, data FROM audit_log WHERE kind = 'usage' ORDER BY seq LIMIT 2",
    )
    .await;
    let hashes = rows(
        &db,
        "SELECT seq, leaf_hash FROM audit_log WHERE kind = 'usage' ORDER BY seq LIMIT 2",
    )
    .await;
    let (a, b) = (two[0].0, two[1].0);
    intrude(
        &db,
        &[
            format!(
                "UPDATE audit_log SET data = {}, leaf_hash = {} WHERE seq = {a}",
                lit(&two[1].1),
                lit(&hashes[1].1)
            ),
            format!(
                "UPDATE audit_log SET data = {}, leaf_hash = {} WHERE seq = {b}",
                lit(&two[0].1),
                lit(&hashes[0].1)
            ),
        ],
    )
    .await;
    let r = verify(&db).await;
    let f = first(&r);
    assert_eq!((f.seq, f.problem.as_str()), (Some(a), "reordered"), "{r:?}");
}

async fn a2_9_verify_names_an_altered_usage_row(db: TestDb) {
    activity(&db).await;
    let (seq, _) = first_usage_leaf(&db).await;
    intrude(
        &db,
        &[format!(
            "UPDATE usage_log SET purpose = 'nothing to see' WHERE audit_seq = {seq}"
        )],
    )
    .await;
    let r = verify(&db).await;
    let f = first(&r);
    assert_eq!((f.seq, f.problem.as_str()), (Some(seq), "source"), "{r:?}");
    assert!(f.detail.contains("usage_log row"), "{f:?}");
}

async fn a2_9_verify_names_an_altered_entry(db: TestDb) {
    activity(&db).await;
    intrude(
        &db,
        &["UPDATE entries SET payload = replace(payload, 'Անի', 'Աննա')".to_string()],
    )
    .await;
    let r = verify(&db).await;
    let f = first(&r);
    assert_eq!((f.seq, f.problem.as_str()), (Some(0), "source"), "{r:?}");
    assert!(f.detail.contains("entry"), "{f:?}");
}

async fn a2_9_verify_names_a_row_added_outside_the_register(db: TestDb) {
    let (a, _) = activity(&db).await;
    intrude(
        &db,
        &[format!(
            "INSERT INTO usage_log (id, at, psn, body_id, user_uid, channel, action, elements, purpose, \
             legal_basis, audit_seq) VALUES (9999, '2026-01-15T09:00:00Z', '{a}', 'OPS-T', 'x', 'api', \
             'person', 'person.*', 'p', 'b', 0)"
        )],
    )
    .await;
    let r = verify(&db).await;
    let f = r
        .findings
        .iter()
        .find(|f| f.problem == "uncovered")
        .unwrap_or_else(|| panic!("{r:?}"));
    assert!(f.detail.contains("usage_log row 9999"), "{f:?}");
}

async fn a2_9_a_checkpoint_with_a_bad_signature_is_rejected(db: TestDb) {
    activity(&db).await;
    let zero = popreg_domain::merkle::base64(&[0u8; 64]);
    intrude(
        &db,
        &[format!(
            "UPDATE audit_checkpoints SET signature = {}",
            lit(&zero)
        )],
    )
    .await;
    let r = verify(&db).await;
    let f = first(&r);
    assert_eq!(f.problem, "signature", "{r:?}");
    assert_eq!(r.checkpoints, 0, "the bad checkpoint is not used");
    // A checkpoint signed by another key is no better.
    let other = signer();
    let r = db.store.audit_verify(other.public_key()).await.unwrap();
    assert!(r.findings.iter().all(|f| f.problem == "signature"), "{r:?}");
    assert!(!r.ok());
}

async fn a1_30_every_person_route_writes_its_usage_record_before_answering(db: TestDb) {
    let p = psn(903);
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
    let (app, c) = spawn(&db).await;
    let routes = [
        (format!("/api/v1/persons/{p}"), "person", "person.*"),
        (
            format!("/api/v1/persons/{p}?valid_on=2000-01-01"),
            "person_as_of",
            "person.psn",
        ),
        (
            format!("/api/v1/persons/{p}/history"),
            "history",
            "person.history",
        ),
        (
            format!("/api/v1/persons/{p}/notice-address"),
            "notice_address",
            "person.notice_address",
        ),
        (format!("/api/v1/psn/{p}/check"), "psn_check", "person.psn"),
    ];
    let ops = reader(KEY_BODY, &[Function::AuditUsage]);
    for (i, (path, action, element)) in routes.iter().enumerate() {
        for format in ["application/json", "application/xml"] {
            let r = c
                .get(format!("{}{path}", app.url()))
                .header("X-API-Key", KEY)
                .header("Accept", format)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{path}");
            let id: i64 = r.headers()["x-usage-id"].to_str().unwrap().parse().unwrap();
            let found = db
                .store
                .usage_search(
                    &ops,
                    &UsageFilter {
                        limit: 1,
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            assert_eq!(found[0].id, id, "the newest record is this read's ({path})");
            assert_eq!(found[0].action, *action);
            assert_eq!(found[0].psn, p.to_string());
            assert_eq!(found[0].body_id, KEY_BODY);
            assert_eq!(found[0].user_uid, "uid-test-operator");
            assert_eq!(found[0].channel, "api");
            assert_eq!(found[0].purpose, "testing the register");
            assert!(found[0].elements.iter().any(|e| e == element), "{found:?}");
        }
        let all = db
            .store
            .usage_search(
                &ops,
                &UsageFilter {
                    psn: None,
                    limit: 1000,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(all.len(), 2 * (i + 1), "one record per answered read");
    }
    // Unknown persons: nothing released, nothing recorded.
    let before = db
        .store
        .usage_search(
            &ops,
            &UsageFilter {
                limit: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .len();
    let r = c
        .get(format!("{}/api/v1/persons/{}", app.url(), psn(904)))
        .header("X-API-Key", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let after = db
        .store
        .usage_search(
            &ops,
            &UsageFilter {
                limit: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .len();
    assert_eq!(before, after);
    app.shutdown().await.unwrap();
}

async fn a1_33_a_read_is_cut_to_the_grant_and_refused_without_one(db: TestDb) {
    let s = &db.store;
    let p = psn(905);
    s.append(
        &prov("MIGR-01"),
        vec![NewEntry::new(
            p,
            registration("Անի", "Հակոբյան", d(1990, 3, 8), Sex::F),
        )],
    )
    .await
    .unwrap();
    body(s, "TAX-1", &["person.names", "person.birth_date"]).await;
    body(s, "NOGRANT", &[]).await;
    let (_, tax_key) = s
        .issue_api_key("test", "TAX-1", "uid-tax", &[Function::ReadPersons], "tax")
        .await
        .unwrap();
    let (_, none_key) = s
        .issue_api_key("test", "NOGRANT", "uid-x", &[Function::ReadPersons], "x")
        .await
        .unwrap();
    let (app, c) = spawn(&db).await;
    let get = |path: String, key: String| {
        let c = c.clone();
        let url = app.url();
        async move {
            c.get(format!("{url}{path}"))
                .header("X-API-Key", key)
                .send()
                .await
                .unwrap()
        }
    };
    let r = get(format!("/api/v1/persons/{p}"), tax_key.clone()).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        ["birth_date", "last_entry_id", "names", "psn", "updated_at"]
    );
    let rec = s
        .usage_search(
            &reader("OPS", &[Function::AuditUsage]),
            &UsageFilter {
                body_id: Some("TAX-1".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(rec.len(), 1);
    assert_eq!(rec[0].elements, ["person.names", "person.birth_date"]);
    assert_eq!(rec[0].purpose, "tax administration");
    assert_eq!(rec[0].legal_basis, "Tax Code, art. 41");
    for (path, key) in [
        (format!("/api/v1/persons/{p}/history"), tax_key.clone()),
        (
            format!("/api/v1/persons/{p}/notice-address"),
            tax_key.clone(),
        ),
        (format!("/api/v1/persons/{p}"), none_key.clone()),
    ] {
        let r = get(path.clone(), key).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["code"], "PSR-ACC-0003", "{path}");
        assert!(!body.to_string().contains("Անի"), "{body}");
    }
    // A revoked grant stops the next read.
    let g = s.grants("TAX-1").await.unwrap().remove(0);
    s.revoke_grant("test", &g.id).await.unwrap();
    let r = get(format!("/api/v1/persons/{p}"), tax_key).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Grants name known elements only.
    let e = s
        .add_grant(
            "test",
            "TAX-1",
            &["person.everything".to_string()],
            "p",
            "b",
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(e.code().as_str(), "PSR-VAL-0007");
    app.shutdown().await.unwrap();
}

async fn a2_9_a_read_fails_closed_when_its_usage_record_cannot_be_written(db: TestDb) {
    let p = psn(906);
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
    let (app, c) = spawn(&db).await;
    let deny = if is_sqlite(&db) {
        vec!["CREATE TRIGGER deny_usage BEFORE INSERT ON usage_log BEGIN SELECT RAISE(ABORT, 'disk full'); END".to_string()]
    } else {
        vec![
            "CREATE FUNCTION deny_usage() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$".to_string(),
            "CREATE TRIGGER deny_usage BEFORE INSERT ON usage_log FOR EACH ROW EXECUTE FUNCTION deny_usage()".to_string(),
        ]
    };
    intrude(&db, &deny).await;
    let url = format!("{}/api/v1/persons/{p}", app.url());
    let r = c.get(&url).header("X-API-Key", KEY).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = r.text().await.unwrap();
    assert!(body.contains("PSR-AUD-0001"), "{body}");
    assert!(
        !body.contains("Անի"),
        "no data left without its record: {body}"
    );
    intrude(
        &db,
        &["DROP TRIGGER deny_usage".to_string()
            + if is_sqlite(&db) { "" } else { " ON usage_log" }],
    )
    .await;
    let r = c.get(&url).header("X-API-Key", KEY).send().await.unwrap();
    assert_eq!(r.status(), 200, "the usage writer survives a failed batch");
    app.shutdown().await.unwrap();
}

async fn a1_30_the_supervisor_searches_and_a_search_by_person_is_recorded(db: TestDb) {
    let (a, b) = activity(&db).await;
    let sup = reader("DPA-1", &[Function::AuditUsage]);
    let about_a = db
        .store
        .usage_search(
            &sup,
            &UsageFilter {
                psn: Some(a),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // Two reads of `a`, and this search itself, recorded before it ran.
    assert_eq!(about_a.len(), 3, "{about_a:?}");
    assert_eq!(about_a[0].action, "usage_search");
    assert!(about_a.iter().all(|r| r.psn == a.to_string()));
    let searches = db
        .store
        .usage_search(
            &sup,
            &UsageFilter {
                body_id: Some("DPA-1".into()),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        searches.len(),
        1,
        "the search by person left its own record"
    );
    assert_eq!(searches[0].action, "usage_search");
    assert_eq!(searches[0].psn, a.to_string());
    let by_b = db
        .store
        .usage_search(
            &sup,
            &UsageFilter {
                psn: Some(b),
                purpose: Some("tax administration".into()),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(by_b.len(), 1);
    assert_eq!(by_b[0].action, "history");
    // Over HTTP: the operator key holds audit_usage; a body without it is refused.
    let (app, c) = spawn(&db).await;
    let r = c
        .get(format!("{}/api/v1/usage?psn={a}&limit=10", app.url()))
        .header("X-API-Key", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert!(v["items"].as_array().unwrap().len() >= 2, "{v}");
    let r = c
        .get(format!("{}/api/v1/usage?from=2026-13-01", app.url()))
        .header("X-API-Key", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let (_, weak) = db
        .store
        .issue_api_key("test", "OPS-T", "uid-w", &[Function::ReadPersons], "w")
        .await
        .unwrap();
    let r = c
        .get(format!("{}/api/v1/usage", app.url()))
        .header("X-API-Key", weak)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    app.shutdown().await.unwrap();
}

async fn a1_30_hidden_records_and_who_may_hide_them(db: TestDb) {
    let (a, _) = activity(&db).await;
    // activity() hid the first read of `a` until 2026-06-01: the person does not see it, the supervisor
    // does, with the date.
    let mine = db
        .store
        .usage_for_person(a, None, None, None, 100)
        .await
        .unwrap();
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0].action, "psn_check");
    let sup = db
        .store
        .usage_search(
            &reader("DPA-1", &[Function::AuditUsage]),
            &UsageFilter {
                body_id: Some("OPS-T".into()),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let hidden: Vec<_> = sup.iter().filter(|r| r.hidden_until.is_some()).collect();
    assert_eq!(hidden.len(), 1);
    assert_eq!(hidden[0].hidden_until, Some(d(2026, 6, 1)));
    assert!(
        db.store
            .usage_record_for_person(a, hidden[0].id)
            .await
            .unwrap()
            .is_none()
    );
    // It comes back by itself on the day.
    db.clock.advance(Duration::days(140));
    let mine = db
        .store
        .usage_for_person(a, None, None, None, 100)
        .await
        .unwrap();
    assert_eq!(mine.len(), 2);
    // Only hide_usage may hide, only with a reason and a future date.
    let plain = reader("OPS-T", &[Function::ReadPersons]);
    let e = db
        .store
        .hide_usage(&plain, mine[0].id, d(2027, 1, 1), "x")
        .await
        .unwrap_err();
    assert_eq!(e.code().as_str(), "PSR-API-0007");
    let hider = reader("OPS-T", &[Function::HideUsage]);
    let e = db
        .store
        .hide_usage(&hider, mine[0].id, d(2027, 1, 1), "  ")
        .await
        .unwrap_err();
    assert_eq!(e.code().as_str(), "PSR-VAL-0007");
    let e = db
        .store
        .hide_usage(&hider, mine[0].id, d(2026, 1, 1), "reason")
        .await
        .unwrap_err();
    assert_eq!(e.code().as_str(), "PSR-VAL-0001");
    let e = db
        .store
        .hide_usage(&hider, 424242, d(2027, 1, 1), "reason")
        .await
        .unwrap_err();
    assert_eq!(e.code().as_str(), "PSR-AUD-0002");
    // The hiding is in the audit trail, and the trail is intact.
    let r = verify(&db).await;
    assert!(r.ok(), "{r:?}");
}

async fn a1_30_anomalies_volume_and_out_of_hours(db: TestDb) {
    let s = &db.store;
    s.set_audit_signer(signer());
    let people: Vec<Psn> = (0..30).map(|i| psn(1000 + i)).collect();
    s.append(
        &prov("MIGR-01"),
        people
            .iter()
            .map(|p| NewEntry::new(*p, registration("Անի", "Հակոբյան", d(1990, 3, 8), Sex::F)))
            .collect(),
    )
    .await
    .unwrap();
    body(s, "TAX-2", &["person.*"]).await;
    let clerk = |n: &str| Caller {
        user_uid: n.into(),
        ..reader("TAX-2", &[Function::ReadPersons])
    };
    // t0 is 13:00 in Yerevan on a Thursday: two clerks read 2 persons each, one reads all 30.
    for p in &people[..2] {
        s.read_person(&clerk("u-a"), *p, View::Exists)
            .await
            .unwrap();
        s.read_person(&clerk("u-b"), *p, View::Exists)
            .await
            .unwrap();
    }
    for p in &people {
        s.read_person(&clerk("u-c"), *p, View::Exists)
            .await
            .unwrap();
    }
    // At 01:00 Yerevan time, u-a reads once more.
    db.clock.advance(Duration::hours(12));
    s.read_person(&clerk("u-a"), people[5], View::Exists)
        .await
        .unwrap();
    let from = t0() - Duration::days(1);
    let to = t0() + Duration::days(1);
    let found = s.usage_anomalies(from, to, 5, 10).await.unwrap();
    let volume: Vec<_> = found.iter().filter(|a| a.kind == "volume").collect();
    assert_eq!(volume.len(), 1, "{found:?}");
    assert_eq!(
        (
            volume[0].user_uid.as_str(),
            volume[0].count,
            volume[0].baseline
        ),
        ("u-c", 30, 3)
    );
    let night: Vec<_> = found.iter().filter(|a| a.kind == "off_hours").collect();
    assert_eq!(night.len(), 1, "{found:?}");
    assert_eq!((night[0].user_uid.as_str(), night[0].count), ("u-a", 1));
}

/// Every `.rs` file under `dir`, recursively.
fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// A1.30, A2.9: the read paths. Person data leave `popreg-store` only through `Store::read_person` (the
/// gate): outside the store crate no code uses the unaudited reads or queries the register's tables, and the
/// store's public functions that return person data are exactly the gate, the writer's own echo of what it
/// appended, and the unaudited reads for the conformance tests (which this test keeps out of the program).
#[test]
fn a1_30_no_read_path_bypasses_the_gate() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = vec![];
    for c in std::fs::read_dir(root.join("crates")).unwrap() {
        let src = c.unwrap().path().join("src");
        if src.is_dir() {
            sources(&src, &mut files);
        }
    }
    assert!(
        files.len() > 40,
        "the scan sees the workspace: {}",
        files.len()
    );
    let mut public = vec![];
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let in_store = f.components().any(|c| c.as_os_str() == "store");
        if !in_store {
            assert!(
                !text.contains(".unaudited("),
                "{} bypasses the gate",
                f.display()
            );
            for table in [
                "FROM persons",
                "FROM entries",
                "JOIN persons",
                "JOIN entries",
            ] {
                assert!(
                    !text.contains(table),
                    "{} reads the register directly",
                    f.display()
                );
            }
            continue;
        }
        // Public functions of the store and what they return.
        let mut lines = text.lines();
        while let Some(l) = lines.next() {
            let t = l.trim_start();
            if !(t.starts_with("pub fn ") || t.starts_with("pub async fn ")) {
                continue;
            }
            let mut sig = t.to_string();
            while !sig.contains('{') && !sig.ends_with(';') {
                match lines.next() {
                    Some(n) => sig.push_str(n.trim()),
                    None => break,
                }
            }
            let ret = sig.split("->").nth(1).unwrap_or("");
            if ["PersonState", "Entry", "Release", "Unaudited"]
                .iter()
                .any(|t| ret.contains(t))
                || sig.contains("fn person_json")
            {
                let name = sig
                    .split("fn ")
                    .nth(1)
                    .unwrap()
                    .split(['(', '<'])
                    .next()
                    .unwrap()
                    .to_string();
                public.push(name);
            }
        }
    }
    public.sort();
    assert_eq!(
        public,
        [
            "append",
            "append_mixed",
            "entries",
            "entry",
            "person",
            "person_as_of",
            "person_json",
            // The citizen's gate: a person's own data, logged like any other read (portal.rs).
            "read_own",
            "read_person",
            "unaudited",
        ],
        "a new public read of persons must go through the gate"
    );
    // The unaudited reads are used by tests only.
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        if !f.ends_with("usage.rs") {
            assert!(!text.contains("unaudited()"), "{}", f.display());
        }
    }
}
