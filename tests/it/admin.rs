//! Employees with portal sessions (issue 4): the workspace, the manager's page and the access
//! administration (`/admin`, A1.5.3, A1.33–34) used with one login instead of a card on every request; the
//! body chooser; the refusal of a suspended body's employees (A1.55); and API clients by registered client
//! certificate over real TLS (issue 4 item 6).

use chrono::Duration;
use popreg_domain::access::{BodyType, Function};
use popreg_domain::*;
use popreg_store::{LoginContext, LoginMethod, NewBody, SessionLimits, Store};
use reqwest::redirect::Policy;

use crate::common::*;

pub(crate) async fn new_body(s: &Store, id: &str, t: BodyType) {
    s.create_body(
        "test",
        &NewBody {
            id: id.into(),
            body_type: t,
            name_hy: format!("Մարմին {id}"),
            name_en: format!("Body {id}"),
            name_ru: format!("Орган {id}"),
            xroad_member: None,
            contact_email: None,
        },
    )
    .await
    .unwrap();
}

/// A portal session of `p`, as a login would open it: (cookie header value, CSRF token).
pub(crate) async fn session(s: &Store, p: Psn) -> (String, String) {
    let (token, session) = s
        .open_session(
            p,
            LoginMethod::DemoCard,
            SessionLimits::default(),
            &LoginContext::default(),
        )
        .await
        .unwrap();
    (format!("psr_session={token}"), session.csrf)
}

pub(crate) struct Site {
    pub(crate) app: popreg::app::Running,
    c: reqwest::Client,
}

impl Site {
    pub(crate) async fn new(db: &TestDb) -> Site {
        let mut cfg = test_config();
        cfg.server.listen = "127.0.0.1:0".into();
        cfg.server.auth_failures_per_window = 0;
        let app = popreg::app::start(&cfg, db.store.clone()).await.unwrap();
        let c = reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .unwrap();
        Site { app, c }
    }

    pub(crate) async fn get(&self, cookie: &str, path: &str) -> (u16, String, Option<String>) {
        let r = self
            .c
            .get(format!("{}{path}", self.app.url()))
            .header("Cookie", cookie)
            .send()
            .await
            .unwrap();
        let loc = r
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string());
        (r.status().as_u16(), r.text().await.unwrap(), loc)
    }

    pub(crate) async fn post(
        &self,
        cookie: &str,
        path: &str,
        form: &[(&str, &str)],
    ) -> (u16, String, Option<String>) {
        let r = self
            .c
            .post(format!("{}{path}", self.app.url()))
            .header("Cookie", cookie)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(
                form.iter()
                    .map(|(k, v)| format!("{k}={}", crate::notices::urlencode(v)))
                    .collect::<Vec<_>>()
                    .join("&"),
            )
            .send()
            .await
            .unwrap();
        let loc = r
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string());
        (r.status().as_u16(), r.text().await.unwrap(), loc)
    }
}

crate::conformance!(
    a1_33_the_administration_changes_access_with_every_change_recorded,
    a1_55_an_employee_with_a_session_uses_the_workspace_until_the_body_is_suspended,
    g_7_the_administration_previews_every_template_in_three_languages
);

async fn g_7_the_administration_previews_every_template_in_three_languages(db: TestDb) {
    let s = &db.store;
    new_body(s, "OPS-0001", BodyType::Operator).await;
    let admin = psn(5301);
    s.add_employee("test", "OPS-0001", admin, &[Function::ManageAccess])
        .await
        .unwrap();
    let (cookie, _) = session(s, admin).await;
    let site = Site::new(&db).await;
    let (_, home, _) = site.get(&cookie, "/admin?lang=en").await;
    assert!(home.contains("href=\"/admin/templates?lang=en\""), "{home}");
    let (st, page, _) = site.get(&cookie, "/admin/templates?lang=en").await;
    assert_eq!(st, 200, "{page}");
    for t in [
        "rejection",
        "reminder",
        "verification",
        "forwarded",
        "phone_verification",
        "notification_sms",
    ] {
        assert!(page.contains(&format!("<code>{t}</code>")), "{t}");
    }
    // Each template in the three languages, rendered with the sample values (no placeholders left).
    assert_eq!(page.matches("<h3 lang=\"hy\">Armenian</h3>").count(), 6);
    assert_eq!(page.matches("<h3 lang=\"ru\">Russian</h3>").count(), 6);
    assert!(page.contains("E-Citizen email verification"));
    assert!(page.contains("verify?token=abc123"));
    assert!(
        !page.contains("{ $") && !page.contains("class=\"err\""),
        "{page}"
    );
    // SMS: the English verification text fits GSM-7; Armenian needs UCS-2.
    assert!(
        page.contains("To verify this number E-Citizen portal please provide this token: 10128d"),
        "{page}"
    );
    assert!(page.contains("Encoding GSM-7, "), "{page}");
    assert!(page.contains("Encoding UCS-2, "), "{page}");
    assert!(page.contains(" characters, one part."), "{page}");
    // In Armenian and Russian the page itself is translated.
    let (_, hy, _) = site.get(&cookie, "/admin/templates?lang=hy").await;
    assert!(hy.contains("Ծանուցումների ձևանմուշներ") && hy.contains("Կոդավորում՝ UCS-2"));
    let (_, ru, _) = site.get(&cookie, "/admin/templates?lang=ru").await;
    assert!(ru.contains("Шаблоны уведомлений") && ru.contains("Кодировка GSM-7"));
    // Only for the administration: a citizen is refused, no session goes to the login page.
    let (citizen, _) = session(s, psn(5302)).await;
    let (st, body, _) = site.get(&citizen, "/admin/templates?lang=en").await;
    assert_eq!(st, 403, "{body}");
    let (st, _, loc) = site.get("", "/admin/templates").await;
    assert_eq!(
        (st, loc.as_deref()),
        (303, Some("/login?next=/admin/templates"))
    );
    site.app.shutdown().await.unwrap();
}

async fn a1_33_the_administration_changes_access_with_every_change_recorded(db: TestDb) {
    let s = &db.store;
    new_body(s, "OPS-0001", BodyType::Operator).await;
    let admin = psn(5101);
    s.add_employee("test", "OPS-0001", admin, &[Function::ManageAccess])
        .await
        .unwrap();
    let (cookie, csrf) = session(s, admin).await;
    let site = Site::new(&db).await;

    // Deny by default: no session goes to the login page; a citizen who is no employee is refused.
    let (st, _, loc) = site.get("", "/admin").await;
    assert_eq!((st, loc.as_deref()), (303, Some("/login?next=/admin")));
    let (citizen, _) = session(s, psn(5102)).await;
    let (st, body, _) = site.get(&citizen, "/admin?lang=en").await;
    assert_eq!(st, 403, "{body}");
    let (_, desk, _) = site.get(&citizen, "/my?lang=en").await;
    assert!(
        !desk.contains("id=\"staff\""),
        "no staff links for a citizen"
    );
    let (_, desk, _) = site.get(&cookie, "/my?lang=en").await;
    assert!(desk.contains("href=\"/admin?lang=en\""), "{desk}");

    let (st, body, _) = site.get(&cookie, "/admin?lang=hy").await;
    assert_eq!(st, 200, "{body}");
    assert!(body.contains("Մուտքի իրավունքների կառավարում"), "{body}");
    assert!(body.contains("<main id=\"main\""), "the portal's shell");
    assert!(body.contains("OPS-0001"));

    // A POST without the session's token is refused; nothing is created.
    let fields = |id: &'static str| {
        vec![
            ("id", id),
            ("body_type", "medical_organization"),
            ("name_hy", "Ծննդատուն"),
            ("name_en", "Maternity"),
            ("name_ru", "Роддом"),
            ("xroad_member", ""),
            ("contact_email", "clerk@maternity.example.am"),
        ]
    };
    let (st, _, _) = site
        .post(&cookie, "/admin/bodies", &fields("MED-0009"))
        .await;
    assert_eq!(st, 403);
    assert!(s.body("MED-0009").await.unwrap().is_none());

    // A malformed id: refused next to the field, what was typed kept.
    let mut bad = fields("med 9");
    bad.push(("csrf", &csrf));
    let (st, body, _) = site.post(&cookie, "/admin/bodies?lang=en", &bad).await;
    assert_eq!(st, 422, "{body}");
    assert!(body.contains("id=\"body-id-error\""), "{body}");
    assert!(body.contains("PSR-VAL"), "{body}");
    assert!(body.contains("value=\"Maternity\""), "{body}");

    let mut good = fields("MED-0009");
    good.push(("csrf", &csrf));
    let (st, _, loc) = site.post(&cookie, "/admin/bodies?lang=en", &good).await;
    assert_eq!(
        (st, loc.as_deref()),
        (303, Some("/admin/bodies/MED-0009?lang=en&done=1"))
    );
    // The same id again: a conflict, shown at the id.
    let (st, body, _) = site.post(&cookie, "/admin/bodies?lang=en", &good).await;
    assert_eq!(st, 422);
    assert!(
        body.contains("id=\"body-id-error\"") && body.contains("PSR-ACC-0002"),
        "{body}"
    );
    let b = s.body("MED-0009").await.unwrap().unwrap();
    assert_eq!(b.body_type, BodyType::MedicalOrganization);
    assert_eq!(
        b.contact_email.as_deref(),
        Some("clerk@maternity.example.am")
    );

    let act = |action: &'static str| format!("/admin/bodies/MED-0009/{action}?lang=en");
    // Employees: a wrong PSN is refused next to its field; then add, set functions, remove.
    let clerk = psn(5103);
    let clerk_s = clerk.to_string();
    let (st, body, _) = site
        .post(
            &cookie,
            &act("employee-add"),
            &[("csrf", &csrf), ("psn", "1234"), ("functions", "submit")],
        )
        .await;
    assert_eq!(st, 422);
    assert!(body.contains("id=\"employee-psn-error\""), "{body}");
    assert!(body.contains("value=\"1234\""), "{body}");
    let (st, _, _) = site
        .post(
            &cookie,
            &act("employee-add"),
            &[("csrf", &csrf), ("psn", &clerk_s), ("functions", "submit")],
        )
        .await;
    assert_eq!(st, 303);
    let (st, _, _) = site
        .post(
            &cookie,
            &act("employee-functions"),
            &[
                ("csrf", &csrf),
                ("psn", &clerk_s),
                ("functions", "submit"),
                ("functions", "read_persons"),
            ],
        )
        .await;
    assert_eq!(st, 303);
    let e = s.employee("MED-0009", clerk).await.unwrap().unwrap();
    assert_eq!(e.functions, vec![Function::Submit, Function::ReadPersons]);

    // Grants.
    let (st, _, _) = site
        .post(
            &cookie,
            &act("grant-add"),
            &[
                ("csrf", &csrf),
                ("elements", "person.names, person.birth_date"),
                ("purpose", "birth registration"),
                ("legal_basis", "Law on civil acts, art. 12"),
                ("ends_on", "2030-12-31"),
            ],
        )
        .await;
    assert_eq!(st, 303);
    let g = s.grants("MED-0009").await.unwrap();
    assert_eq!(g.len(), 1);
    assert_eq!(g[0].ends_on, Some(d(2030, 12, 31)));
    let (st, _, _) = site
        .post(
            &cookie,
            &act("grant-revoke"),
            &[("csrf", &csrf), ("grant", &g[0].id)],
        )
        .await;
    assert_eq!(st, 303);
    assert!(s.active_grants("MED-0009").await.unwrap().is_empty());

    // An API key: shown once on the result page, works, then revoked.
    let (st, body, _) = site
        .post(
            &cookie,
            &act("key-issue"),
            &[
                ("csrf", &csrf),
                ("owner_uid", &clerk_s),
                ("label", "HIS"),
                ("functions", "submit"),
            ],
        )
        .await;
    assert_eq!(st, 201, "{body}");
    let key = body
        .split("value=\"psr_")
        .nth(1)
        .and_then(|k| k.split('"').next())
        .map(|k| format!("psr_{k}"))
        .unwrap();
    let found = s.caller_for_key(&key).await.unwrap().unwrap();
    assert_eq!(found.body.id, "MED-0009");
    let (st, body, _) = site.get(&cookie, "/admin/bodies/MED-0009?lang=en").await;
    assert_eq!(st, 200);
    assert!(!body.contains(&key), "the key is shown once only");
    let (st, _, _) = site
        .post(
            &cookie,
            &act("key-revoke"),
            &[("csrf", &csrf), ("key", &found.key.id)],
        )
        .await;
    assert_eq!(st, 303);
    assert!(s.caller_for_key(&key).await.unwrap().is_none());

    // A client certificate from its PEM text; an unreadable text is refused next to the field.
    let ca = popreg_identity::dev_ca::DevCa::new(t0()).unwrap();
    let system = ca
        .id_card(&popreg_identity::dev_ca::CardHolder::new(
            psn(5104),
            t0(),
            2,
        ))
        .unwrap();
    let (st, body, _) = site
        .post(
            &cookie,
            &act("cert-add"),
            &[("csrf", &csrf), ("pem", "garbage"), ("functions", "submit")],
        )
        .await;
    assert_eq!(st, 422);
    assert!(body.contains("id=\"cert-pem-error\""), "{body}");
    let (st, _, _) = site
        .post(
            &cookie,
            &act("cert-add"),
            &[
                ("csrf", &csrf),
                ("pem", &system.cert_pem),
                ("functions", "submit"),
            ],
        )
        .await;
    assert_eq!(st, 303);
    let certs = s.agency_certs("MED-0009").await.unwrap();
    assert_eq!(certs.len(), 1);
    assert_eq!(
        certs[0].fingerprint,
        popreg_identity::cert::fingerprint(&system.cert_der)
    );
    let (st, _, _) = site
        .post(
            &cookie,
            &act("cert-revoke"),
            &[("csrf", &csrf), ("cert", &certs[0].id)],
        )
        .await;
    assert_eq!(st, 303);
    assert!(
        s.caller_for_cert(&certs[0].fingerprint)
            .await
            .unwrap()
            .is_none()
    );

    // Suspension and its lifting (A1.55).
    let (st, _, _) = site
        .post(
            &cookie,
            &act("suspend"),
            &[
                ("csrf", &csrf),
                ("reason", "repeated errors"),
                ("until", "2026-02-28"),
            ],
        )
        .await;
    assert_eq!(st, 303);
    let sus = s.active_suspension("MED-0009").await.unwrap().unwrap();
    let (st, body, _) = site.get(&cookie, "/admin?lang=en").await;
    assert_eq!(st, 200);
    assert!(body.contains("Suspended since"), "{body}");
    let (st, _, _) = site
        .post(
            &cookie,
            &act("lift"),
            &[("csrf", &csrf), ("suspension", &sus.id.to_string())],
        )
        .await;
    assert_eq!(st, 303);
    assert!(s.active_suspension("MED-0009").await.unwrap().is_none());

    // Remove the employee; an item of another body is refused.
    let (st, _, _) = site
        .post(
            &cookie,
            &act("employee-remove"),
            &[("csrf", &csrf), ("psn", &clerk_s)],
        )
        .await;
    assert_eq!(st, 303);
    assert!(s.employee("MED-0009", clerk).await.unwrap().is_none());
    let (ops_key, _) = s
        .issue_api_key("test", "OPS-0001", "x", &[Function::Submit], "")
        .await
        .unwrap();
    let (st, _, _) = site
        .post(
            &cookie,
            &act("key-revoke"),
            &[("csrf", &csrf), ("key", &ops_key)],
        )
        .await;
    assert_eq!(st, 422, "another body's key is not revoked from this page");

    // Every change is in the access log, by the employee, in order.
    let events = s.access_events(None).await.unwrap();
    let mine: Vec<&str> = events
        .iter()
        .filter(|e| e.actor == admin.to_string())
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(
        mine,
        [
            "body.create",
            "employee.add",
            "employee.functions",
            "grant.add",
            "grant.revoke",
            "key.issue",
            "key.revoke",
            "cert.add",
            "cert.revoke",
            "employee.end"
        ]
    );
    site.app.shutdown().await.unwrap();
}

async fn a1_55_an_employee_with_a_session_uses_the_workspace_until_the_body_is_suspended(
    db: TestDb,
) {
    let s = &db.store;
    new_body(s, "MED-0001", BodyType::MedicalOrganization).await;
    new_body(s, "CIV-0001", BodyType::CivilRegistry).await;
    let clerk = psn(5201);
    s.add_employee("test", "MED-0001", clerk, &[Function::Submit])
        .await
        .unwrap();
    let (cookie, csrf) = session(s, clerk).await;
    let site = Site::new(&db).await;

    let (st, body, _) = site.get(&cookie, "/workspace?lang=en").await;
    assert_eq!(st, 200, "{body}");
    assert!(body.contains("Body MED-0001"), "{body}");
    // The desk shows the way to the staff pages the person may open, and only those.
    let (st, desk, _) = site.get(&cookie, "/my?lang=en").await;
    assert_eq!(st, 200);
    assert!(desk.contains("href=\"/workspace?lang=en\""), "{desk}");
    assert!(!desk.contains("href=\"/admin"), "{desk}");
    // The form carries the session's CSRF token, and no double-submit cookie is needed.
    let (st, form, _) = site.get(&cookie, "/workspace/birth?lang=en").await;
    assert_eq!(st, 200);
    assert!(form.contains(&format!("name=\"csrf\" value=\"{csrf}\"")));
    let (st, _, _) = site
        .post(
            &cookie,
            "/workspace/birth?lang=en",
            &[("csrf", "wrong"), ("first_name", "Արամ")],
        )
        .await;
    assert_eq!(st, 403, "a form without the session's token");
    let (st, body, _) = site
        .post(
            &cookie,
            "/workspace/birth?lang=en",
            &[("csrf", &csrf), ("first_name", "Արամ")],
        )
        .await;
    assert_eq!(st, 400, "through to the pipeline, which refuses: {body}");
    assert!(body.contains("value=\"Արամ\""));
    assert_eq!(
        s.rejections(Some("MED-0001"), 0, 10).await.unwrap()[0].user_uid,
        clerk.to_string()
    );

    // The manager's page needs manage_register; the administration needs manage_access.
    let (st, _, _) = site.get(&cookie, "/manage?lang=en").await;
    assert_eq!(st, 403);
    let (st, _, _) = site.get(&cookie, "/admin?lang=en").await;
    assert_eq!(st, 403);

    // Employed by two bodies: choose one; the choice is checked against the employees table each time.
    s.add_employee("test", "CIV-0001", clerk, &[Function::Submit])
        .await
        .unwrap();
    let (st, body, _) = site.get(&cookie, "/workspace?lang=en").await;
    assert_eq!(st, 200);
    assert!(body.contains("Choose the body"), "{body}");
    assert!(
        body.contains("/staff/body?to=CIV-0001&amp;back=/workspace"),
        "{body}"
    );
    let (st, _, loc) = site
        .get(&cookie, "/staff/body?to=CIV-0001&back=/workspace")
        .await;
    assert_eq!((st, loc.as_deref()), (303, Some("/workspace")));
    let civ = format!("{cookie}; psr_body=CIV-0001");
    let (st, body, _) = site.get(&civ, "/workspace?lang=en").await;
    assert_eq!(st, 200);
    assert!(body.contains("Body CIV-0001"), "{body}");
    let (_, body, _) = site
        .get(
            &format!("{cookie}; psr_body=OPS-0001"),
            "/workspace?lang=en",
        )
        .await;
    assert!(
        body.contains("Choose the body"),
        "a body the person does not work for is no choice"
    );

    // A1.55: suspended, refused on the next request with the reason, in the page's language.
    let id = s
        .suspend("CIV-0001", "repeated errors", None, "manager")
        .await
        .unwrap();
    let (st, body, _) = site.get(&civ, "/workspace?lang=en").await;
    assert_eq!(st, 403, "{body}");
    assert!(body.contains("is suspended"), "{body}");
    assert!(body.contains("repeated errors"), "{body}");
    assert!(body.contains("PSR-SUB-0002"), "{body}");
    let (st, body, _) = site.get(&civ, "/workspace?lang=hy").await;
    assert_eq!(st, 403);
    assert!(body.contains("կասեցված է"), "{body}");
    // The other body is not suspended.
    let (st, _, _) = site
        .get(&format!("{cookie}; psr_body=MED-0001"), "/workspace")
        .await;
    assert_eq!(st, 200);
    assert!(s.lift_suspension(id, "manager").await.unwrap());
    let (st, _, _) = site.get(&civ, "/workspace").await;
    assert_eq!(st, 200);

    // Employment ended: refused from the next request on.
    s.end_employee("test", "CIV-0001", clerk).await.unwrap();
    s.end_employee("test", "MED-0001", clerk).await.unwrap();
    let (st, _, _) = site.get(&civ, "/workspace").await;
    assert_eq!(st, 403);
    site.app.shutdown().await.unwrap();
}

/// Issue 4 item 6: a body's system calls the API over mutual TLS with a registered certificate, without an
/// API key; an unregistered, revoked or expired one is refused with a code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a1_37_an_agency_system_calls_the_api_with_a_registered_client_certificate() {
    let pki = crate::identity::Pki::new();
    let db = TestDb::sqlite().await;
    let s = &db.store;
    s.create_body(
        "test",
        &NewBody {
            id: "MED-0001".into(),
            body_type: BodyType::MedicalOrganization,
            name_hy: "Ծննդատուն".into(),
            name_en: "Maternity".into(),
            name_ru: "Роддом".into(),
            xroad_member: Some("AM/GOV/123/births".into()),
            contact_email: None,
        },
    )
    .await
    .unwrap();
    let running = popreg::app::start(&pki.config(), db.store.clone())
        .await
        .unwrap();
    let url = running
        .url()
        .replace("https://127.0.0.1", "https://localhost");
    let dir = pki.dir.path().to_path_buf();
    let run = |card: Option<&'static str>, args: Vec<String>| {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || {
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            crate::identity::curl_in(&dir, card, &a)
        })
    };
    let caller = format!("{url}/api/v1/caller");

    // Not registered: 401 PSR-AUTH-0010.
    let (st, body) = run(Some("card"), vec![caller.clone()]).await.unwrap();
    assert_eq!(st, "401", "{body}");
    assert!(body.contains("PSR-AUTH-0010"), "{body}");

    // Registered (as `popreg body cert add` does, from the PEM file): the body, the certificate's
    // functions, the subject's common name as the user.
    let new = popreg::admin::read_cert(&pki.dir.path().join("card.pem")).unwrap();
    let cert = s
        .register_agency_cert("test", "MED-0001", &new, &[Function::Submit], "HIS")
        .await
        .unwrap();
    assert!(popreg::admin::certs_table(std::slice::from_ref(&cert)).contains(&cert.fingerprint));
    let (st, body) = run(Some("card"), vec![caller.clone()]).await.unwrap();
    assert_eq!(st, "200", "{body}");
    let j: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(j["body_id"], "MED-0001");
    assert_eq!(j["channel"], "api");
    assert_eq!(j["functions"], serde_json::json!(["submit"]));
    assert_eq!(j["user_uid"], format!("PETROSYAN,ANNA,{}", pki.holder));
    // Behind X-Road: the member must be the body's, the user comes from X-Road-UserId.
    let (st, body) = run(
        Some("card"),
        vec![
            caller.clone(),
            "-H".into(),
            "X-Road-Client: AM/GOV/123/births".into(),
            "-H".into(),
            "X-Road-UserId: AM1234567890".into(),
        ],
    )
    .await
    .unwrap();
    assert_eq!(st, "200", "{body}");
    let j: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (j["channel"].as_str(), j["user_uid"].as_str()),
        (Some("x_road"), Some("AM1234567890"))
    );
    let (st, _) = run(
        Some("card"),
        vec![
            caller.clone(),
            "-H".into(),
            "X-Road-Client: AM/GOV/999/other".into(),
        ],
    )
    .await
    .unwrap();
    assert_eq!(st, "403");
    // An API key, when presented, decides (a bad one is refused even with a good certificate).
    let (st, _) = run(
        Some("card"),
        vec![caller.clone(), "-H".into(), "X-API-Key: psr_nothing".into()],
    )
    .await
    .unwrap();
    assert_eq!(st, "401");
    // Without any certificate: an API key is required.
    let (st, body) = run(None, vec![caller.clone()]).await.unwrap();
    assert_eq!(st, "401");
    assert!(body.contains("PSR-API-0002"), "{body}");
    // Expired by the register's clock: the ID card's code.
    db.clock.set(t0() + Duration::days(6 * 365));
    let (st, body) = run(Some("card"), vec![caller.clone()]).await.unwrap();
    assert_eq!(st, "401");
    assert!(body.contains("PSR-AUTH-0002"), "{body}");
    db.clock.set(t0());
    // Revoked registration: refused at once.
    s.revoke_agency_cert("test", &cert.id).await.unwrap();
    let (st, body) = run(Some("card"), vec![caller.clone()]).await.unwrap();
    assert_eq!(st, "401");
    assert!(body.contains("PSR-AUTH-0010"), "{body}");
    let events: Vec<String> = s
        .access_events(Some(&cert.id))
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(events, ["cert.add", "cert.revoke"]);
    // A certificate is never registered twice.
    let again = s
        .register_agency_cert("test", "MED-0001", &new, &[Function::Submit], "")
        .await;
    assert!(again.is_err());
    running.shutdown().await.unwrap();
}

/// `server.agency_ca`: agencies' certificates are checked against their own CA bundle (the server asks for
/// certificates of both bundles); a registered certificate of the ID-card CA is then not trusted for the API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a1_37_agency_certificates_chain_to_the_agency_ca_when_one_is_configured() {
    let pki = crate::identity::Pki::new();
    let db = TestDb::sqlite().await;
    let s = &db.store;
    new_body(s, "MED-0001", BodyType::MedicalOrganization).await;
    let agency_ca = popreg_identity::dev_ca::DevCa::new(t0()).unwrap();
    let system = agency_ca
        .id_card(
            &popreg_identity::dev_ca::CardHolder::new(psn(5401), t0(), 2).named("His", "System"),
        )
        .unwrap();
    let w = |name: &str, data: &str| std::fs::write(pki.dir.path().join(name), data).unwrap();
    w("agency-ca.pem", &agency_ca.certificate().cert_pem);
    w("his.pem", &system.cert_pem);
    w("his.key.pem", &system.key_pem);
    for file in ["his.pem", "card.pem"] {
        let new = popreg::admin::read_cert(&pki.dir.path().join(file)).unwrap();
        s.register_agency_cert("test", "MED-0001", &new, &[Function::ReadPersons], file)
            .await
            .unwrap();
    }
    let mut cfg = pki.config();
    cfg.server.agency_ca = pki.path("agency-ca.pem");
    let running = popreg::app::start(&cfg, db.store.clone()).await.unwrap();
    let url = running
        .url()
        .replace("https://127.0.0.1", "https://localhost");
    let dir = pki.dir.path().to_path_buf();
    let call = |cert: &'static str| {
        let (dir, url) = (dir.clone(), format!("{url}/api/v1/caller"));
        tokio::task::spawn_blocking(move || crate::identity::curl_in(&dir, Some(cert), &[&url]))
    };
    let (st, body) = call("his").await.unwrap();
    assert_eq!(st, "200", "{body}");
    let j: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(j["user_uid"], format!("HIS,SYSTEM,{}", psn(5401)));
    assert_eq!(j["functions"], serde_json::json!(["read_persons"]));
    let (st, body) = call("card").await.unwrap();
    assert_eq!(st, "401", "{body}");
    assert!(body.contains("PSR-AUTH-0005"), "{body}");
    // ID-card login still uses the ID-card CA alone.
    let (st, _) = tokio::task::spawn_blocking({
        let dir = dir.clone();
        let url = format!("{url}/whoami");
        move || crate::identity::curl_in(&dir, Some("card"), &[&url])
    })
    .await
    .unwrap();
    assert_eq!(st, "200");
    running.shutdown().await.unwrap();
}
