//! The authorization matrix (issue 4, "deny by default"; A1.33–34): every route of the server, called as every
//! role, against the exact set of roles allowed through. "Through" means the answer is not `401`/`403`: the
//! route may still refuse the request's content (a `404` unknown PSN, a `422` invalid submission, a `503`
//! registry down), but not the caller. A route added to the code without a row here fails the test.
//!
//! Roles are API keys of bodies with functions and grants, the anonymous caller, and portal sessions (over
//! plain HTTP, the card-per-request way in is tested in workspace.rs and identity.rs): a citizen who is no
//! employee, an employee with `submit` of each provider type the submission routes distinguish, the
//! register's manager (`manage_register`) and the access administrator (`manage_access`). A session role
//! sends its session cookie, and on a POST to a page its session's CSRF token (a form without it is refused
//! whoever sends it, tested in portal.rs and admin.rs). Pages answer a caller without a session with a
//! redirect to `/login`: that is a refusal.

use std::collections::BTreeSet;

use popreg_domain::access::{BodyType, Function};
use popreg_domain::*;
use popreg_store::NewBody;
use reqwest::Method;

use crate::common::*;

crate::conformance!(a1_33_every_route_admits_exactly_its_roles);

/// (role, body type, functions, granted elements).
const ROLES: &[(&str, BodyType, &[Function], &[&str])] = &[
    (
        "provider",
        BodyType::MedicalOrganization,
        &[Function::Submit, Function::ReadPersons],
        &["person.psn", "person.names", "person.birth_date"],
    ),
    (
        "consumer",
        BodyType::Other,
        &[Function::ReadPersons],
        &["person.*"],
    ),
    (
        "manager",
        BodyType::Operator,
        &[Function::ManageRegister],
        &[],
    ),
    ("supervisor", BodyType::Other, &[Function::AuditUsage], &[]),
    (
        "hider",
        BodyType::AuthorizedBody,
        &[Function::HideUsage],
        &[],
    ),
    (
        "notifier",
        BodyType::Other,
        &[Function::SendNotifications],
        &[],
    ),
    ("operator", BodyType::Operator, Function::ALL, &["person.*"]),
];

/// The body type and functions of a session role's employment.
type Job = (BodyType, &'static [Function]);

/// Portal sessions: (role, the person's employment, if any).
const SESSION_ROLES: &[(&str, Option<Job>)] = &[
    ("citizen", None),
    (
        "s-medical",
        Some((BodyType::MedicalOrganization, &[Function::Submit])),
    ),
    (
        "s-civil",
        Some((BodyType::CivilRegistry, &[Function::Submit])),
    ),
    (
        "s-diplomatic",
        Some((BodyType::DiplomaticMission, &[Function::Submit])),
    ),
    (
        "s-penitentiary",
        Some((BodyType::PenitentiaryService, &[Function::Submit])),
    ),
    (
        "s-judicial",
        Some((BodyType::JudicialDepartment, &[Function::Submit])),
    ),
    (
        "s-authorized",
        Some((BodyType::AuthorizedBody, &[Function::Submit])),
    ),
    (
        "s-manager",
        Some((BodyType::Operator, &[Function::ManageRegister])),
    ),
    (
        "admin",
        Some((BodyType::Operator, &[Function::ManageAccess])),
    ),
    (
        "s-appointments",
        Some((BodyType::AuthorizedBody, &[Function::StaffAppointments])),
    ),
];

/// Every portal session.
const SESSIONS: &[&str] = &[
    "citizen",
    "s-medical",
    "s-civil",
    "s-diplomatic",
    "s-penitentiary",
    "s-judicial",
    "s-authorized",
    "s-manager",
    "admin",
    "s-appointments",
];
/// The employees with `submit`.
const SUBMITTERS: &[&str] = &[
    "s-medical",
    "s-civil",
    "s-diplomatic",
    "s-penitentiary",
    "s-judicial",
    "s-authorized",
];

const ALL: &[&str] = &[
    "anonymous",
    "provider",
    "consumer",
    "manager",
    "supervisor",
    "hider",
    "notifier",
    "operator",
    "citizen",
    "s-medical",
    "s-civil",
    "s-diplomatic",
    "s-penitentiary",
    "s-judicial",
    "s-authorized",
    "s-manager",
    "admin",
    "s-appointments",
];
const KEYED: &[&str] = &[
    "provider",
    "consumer",
    "manager",
    "supervisor",
    "hider",
    "notifier",
    "operator",
];
const NONE: &[&str] = &[];

/// How a role calls: an API key, or a portal session (its cookie and CSRF token).
enum Cred {
    Key(String),
    Session { cookie: String, csrf: String },
}

/// (route pattern as written in the code, method, concrete path, body, roles let through).
fn matrix(
    p: Psn,
) -> Vec<(
    &'static str,
    Method,
    String,
    &'static str,
    &'static [&'static str],
)> {
    let get = Method::GET;
    let post = Method::POST;
    vec![
        ("/", get.clone(), "/".into(), "", ALL),
        ("/healthz", get.clone(), "/healthz".into(), "", ALL),
        ("/readyz", get.clone(), "/readyz".into(), "", ALL),
        ("/metrics", get.clone(), "/metrics".into(), "", ALL),
        ("/whoami", get.clone(), "/whoami".into(), "", NONE),
        // Employees with a session (a form of a body not competent for the kind is refused).
        (
            "/workspace",
            get.clone(),
            "/workspace".into(),
            "",
            SUBMITTERS,
        ),
        (
            "/workspace/{kind}",
            get.clone(),
            "/workspace/birth".into(),
            "",
            SUBMITTERS,
        ),
        (
            "/workspace/{kind}",
            post.clone(),
            "/workspace/birth".into(),
            "",
            &["s-medical"],
        ),
        ("/manage", get.clone(), "/manage".into(), "", &["s-manager"]),
        // The manager page's forms (an empty suspension: refused next to its field, nothing done).
        (
            "/manage/actions/{action}",
            post.clone(),
            "/manage/actions/suspend".into(),
            "",
            &["s-manager"],
        ),
        // The Appointment Booking System (A1.5.4): the staff's page needs `staff_appointments` and a session;
        // a person's own appointments need a session.
        (
            "/appointments/staff",
            get.clone(),
            "/appointments/staff".into(),
            "",
            &["s-appointments"],
        ),
        (
            "/appointments/staff/services",
            post.clone(),
            "/appointments/staff/services".into(),
            "",
            &["s-appointments"],
        ),
        (
            "/appointments/staff/slots",
            post.clone(),
            "/appointments/staff/slots".into(),
            "",
            &["s-appointments"],
        ),
        (
            "/appointments/staff/slots/{id}/cancel",
            post.clone(),
            "/appointments/staff/slots/00/cancel".into(),
            "",
            &["s-appointments"],
        ),
        (
            "/appointments/staff/bookings/{id}/{action}",
            post.clone(),
            "/appointments/staff/bookings/00/attended".into(),
            "",
            &["s-appointments"],
        ),
        (
            "/my/appointments",
            get.clone(),
            "/my/appointments".into(),
            "",
            SESSIONS,
        ),
        (
            "/my/appointments/book",
            post.clone(),
            "/my/appointments/book".into(),
            "",
            SESSIONS,
        ),
        (
            "/my/appointments/{id}/cancel",
            post.clone(),
            "/my/appointments/00/cancel".into(),
            "",
            SESSIONS,
        ),
        // The access administration: `manage_access` with a session.
        ("/admin", get.clone(), "/admin".into(), "", &["admin"]),
        (
            "/admin/templates",
            get.clone(),
            "/admin/templates".into(),
            "",
            &["admin"],
        ),
        (
            "/admin/templates/{name}",
            get.clone(),
            "/admin/templates/verification".into(),
            "",
            &["admin"],
        ),
        (
            "/admin/templates/{name}",
            post.clone(),
            "/admin/templates/verification".into(),
            "",
            &["admin"],
        ),
        (
            "/admin/bodies",
            post.clone(),
            "/admin/bodies".into(),
            "",
            &["admin"],
        ),
        (
            "/admin/bodies/{id}",
            get.clone(),
            "/admin/bodies/ROLE-0".into(),
            "",
            &["admin"],
        ),
        (
            "/admin/bodies/{id}/{action}",
            post.clone(),
            "/admin/bodies/ROLE-0/suspend".into(),
            "",
            &["admin"],
        ),
        // Choosing a body only sets a cookie; each page checks the choice against the employees table.
        (
            "/staff/body",
            get.clone(),
            "/staff/body?to=ROLE-0&back=/workspace".into(),
            "",
            ALL,
        ),
        ("/login", get.clone(), "/login".into(), "", ALL),
        ("/help", get.clone(), "/help".into(), "", ALL),
        ("/lang", get.clone(), "/lang?to=en&back=/".into(), "", ALL),
        ("/login/card", post.clone(), "/login/card".into(), "", NONE),
        ("/login/demo", post.clone(), "/login/demo".into(), "", NONE),
        // Mobile ID: starting a login without a PSN goes back to the login page; waiting without the
        // browser's cookie answers "ended" (410) to anyone; the devices pages need a session.
        (
            "/login/mobile",
            post.clone(),
            "/login/mobile".into(),
            "",
            NONE,
        ),
        (
            "/login/mobile/wait",
            get.clone(),
            "/login/mobile/wait".into(),
            "",
            ALL,
        ),
        (
            "/my/mobile-id",
            get.clone(),
            "/my/mobile-id".into(),
            "",
            SESSIONS,
        ),
        (
            "/my/mobile-id/code",
            post.clone(),
            "/my/mobile-id/code".into(),
            "",
            SESSIONS,
        ),
        (
            "/my/mobile-id/{id}/revoke",
            post.clone(),
            "/my/mobile-id/x/revoke".into(),
            "",
            SESSIONS,
        ),
        // Sent without the token here (it would end the sessions the rows below use): refused; with it, it
        // ends the session at the login page (portal.rs).
        ("/logout", post.clone(), "/logout".into(), "", NONE),
        ("/my", get.clone(), "/my".into(), "", SESSIONS),
        ("/my/data", get.clone(), "/my/data".into(), "", SESSIONS),
        (
            "/my/data/history",
            get.clone(),
            "/my/data/history".into(),
            "",
            SESSIONS,
        ),
        (
            "/my/sessions",
            get.clone(),
            "/my/sessions".into(),
            "",
            SESSIONS,
        ),
        ("/my/inbox", get.clone(), "/my/inbox".into(), "", SESSIONS),
        (
            "/my/addresses",
            get.clone(),
            "/my/addresses".into(),
            "",
            SESSIONS,
        ),
        (
            "/my/addresses/{kind}",
            post.clone(),
            "/my/addresses/additional_address".into(),
            "",
            SESSIONS,
        ),
        (
            "/my/inbox/{id}",
            get.clone(),
            "/my/inbox/x".into(),
            "",
            SESSIONS,
        ),
        (
            "/my/inbox/{id}/attachments/{n}",
            get.clone(),
            "/my/inbox/x/attachments/0".into(),
            "",
            SESSIONS,
        ),
        (
            "/my/inbox/{id}/raw",
            get.clone(),
            "/my/inbox/x/raw".into(),
            "",
            SESSIONS,
        ),
        (
            "/my/forwarding",
            get.clone(),
            "/my/forwarding".into(),
            "",
            SESSIONS,
        ),
        (
            "/my/forwarding/verify",
            get.clone(),
            "/my/forwarding/verify?token=nope".into(),
            "",
            ALL,
        ),
        (
            "/my/forwarding/{action}",
            post.clone(),
            "/my/forwarding/email".into(),
            "",
            SESSIONS,
        ),
        (
            "/my/forwarding/{id}/{action}",
            post.clone(),
            "/my/forwarding/1/remove".into(),
            "",
            SESSIONS,
        ),
        (
            "/my/registries",
            get.clone(),
            "/my/registries".into(),
            "",
            SESSIONS,
        ),
        (
            "/my/companies",
            get.clone(),
            "/my/companies".into(),
            "",
            SESSIONS,
        ),
        (
            "/my/companies/{tin}",
            get.clone(),
            "/my/companies/02512345".into(),
            "",
            SESSIONS,
        ),
        (
            "/my/companies/{tin}/inbox/{id}",
            get.clone(),
            "/my/companies/02512345/inbox/x".into(),
            "",
            SESSIONS,
        ),
        (
            "/my/companies/{tin}/inbox/{id}/raw",
            get.clone(),
            "/my/companies/02512345/inbox/x/raw".into(),
            "",
            SESSIONS,
        ),
        (
            "/my/companies/{tin}/inbox/{id}/attachments/{n}",
            get.clone(),
            "/my/companies/02512345/inbox/x/attachments/0".into(),
            "",
            SESSIONS,
        ),
        (
            "/my/companies/{tin}/forwarding/{action}",
            post.clone(),
            "/my/companies/02512345/forwarding/email".into(),
            "",
            SESSIONS,
        ),
        (
            "/my/companies/{tin}/forwarding/{id}/{action}",
            post.clone(),
            "/my/companies/02512345/forwarding/1/remove".into(),
            "",
            SESSIONS,
        ),
        ("/my/usage", get.clone(), "/my/usage".into(), "", SESSIONS),
        (
            "/my/usage.csv",
            get.clone(),
            "/my/usage.csv".into(),
            "",
            SESSIONS,
        ),
        (
            "/my/usage.pdf",
            get.clone(),
            "/my/usage.pdf".into(),
            "",
            SESSIONS,
        ),
        (
            "/my/usage/{id}/proof",
            get.clone(),
            "/my/usage/1/proof".into(),
            "",
            SESSIONS,
        ),
        (
            "/api/v1/openapi.json",
            get.clone(),
            "/api/v1/openapi.json".into(),
            "",
            ALL,
        ),
        (
            "/api/v1/schemas",
            get.clone(),
            "/api/v1/schemas".into(),
            "",
            ALL,
        ),
        (
            "/api/v1/schemas/{file}",
            get.clone(),
            "/api/v1/schemas/birth.json".into(),
            "",
            ALL,
        ),
        (
            "/api/v1/elements",
            get.clone(),
            "/api/v1/elements".into(),
            "",
            ALL,
        ),
        (
            "/classifiers",
            get.clone(),
            "/api/v1/classifiers".into(),
            "",
            ALL,
        ),
        (
            "/classifiers/{name}",
            get.clone(),
            "/api/v1/classifiers/sex".into(),
            "",
            ALL,
        ),
        ("/caller", get.clone(), "/api/v1/caller".into(), "", KEYED),
        (
            "/tin/{tin}/check",
            get.clone(),
            "/api/v1/tin/01234567/check".into(),
            "",
            KEYED,
        ),
        (
            "/persons/{psn}",
            get.clone(),
            format!("/api/v1/persons/{p}"),
            "",
            &["provider", "consumer", "operator"],
        ),
        (
            "/persons/{psn}/history",
            get.clone(),
            format!("/api/v1/persons/{p}/history"),
            "",
            &["consumer", "operator"],
        ),
        (
            "/persons/{psn}/notice-address",
            get.clone(),
            format!("/api/v1/persons/{p}/notice-address"),
            "",
            &["consumer", "operator"],
        ),
        (
            "/psn/{psn}/check",
            get.clone(),
            format!("/api/v1/psn/{p}/check"),
            "",
            &["provider", "consumer", "operator"],
        ),
        (
            "/submissions/{kind}",
            post.clone(),
            "/api/v1/submissions/birth".into(),
            "{}",
            &["provider"],
        ),
        (
            "/submissions/{kind}/{id}",
            get.clone(),
            "/api/v1/submissions/birth/00".into(),
            "",
            &["provider", "operator"],
        ),
        (
            "/rejections",
            get.clone(),
            "/api/v1/rejections".into(),
            "",
            &["provider", "operator"],
        ),
        (
            "/suspension",
            get.clone(),
            "/api/v1/suspension".into(),
            "",
            KEYED,
        ),
        // A provider's own webhook (`submit`): an invalid URL is refused after the caller is let through.
        (
            "/webhook",
            get.clone(),
            "/api/v1/webhook".into(),
            "",
            &["provider", "operator"],
        ),
        (
            "/webhook",
            Method::PUT,
            "/api/v1/webhook".into(),
            "{\"url\":\"ftp://nowhere\"}",
            &["provider", "operator"],
        ),
        (
            "/webhook",
            Method::DELETE,
            "/api/v1/webhook".into(),
            "",
            &["provider", "operator"],
        ),
        (
            "/manage/stats",
            get.clone(),
            "/api/v1/manage/stats".into(),
            "",
            &["manager", "operator"],
        ),
        (
            "/manage/rejections",
            get.clone(),
            "/api/v1/manage/rejections".into(),
            "",
            &["manager", "operator"],
        ),
        (
            "/manage/held",
            get.clone(),
            "/api/v1/manage/held".into(),
            "",
            &["manager", "operator"],
        ),
        (
            "/manage/held/{id}/release",
            post.clone(),
            "/api/v1/manage/held/00/release".into(),
            "",
            &["manager", "operator"],
        ),
        (
            "/manage/held/{id}/dismiss",
            post.clone(),
            "/api/v1/manage/held/00/dismiss".into(),
            "",
            &["manager", "operator"],
        ),
        (
            "/manage/entries/{id}/reject",
            post.clone(),
            "/api/v1/manage/entries/999999/reject".into(),
            "{\"reason_code\":\"PSR-CON-0002\"}",
            &["manager", "operator"],
        ),
        (
            "/manage/suspensions",
            get.clone(),
            "/api/v1/manage/suspensions".into(),
            "",
            &["manager", "operator"],
        ),
        (
            "/manage/suspensions",
            post.clone(),
            "/api/v1/manage/suspensions".into(),
            "{}",
            &["manager", "operator"],
        ),
        (
            "/manage/suspensions/{id}/lift",
            post.clone(),
            "/api/v1/manage/suspensions/999999/lift".into(),
            "",
            &["manager", "operator"],
        ),
        (
            "/usage",
            get.clone(),
            "/api/v1/usage".into(),
            "",
            &["manager", "supervisor", "operator"],
        ),
        (
            "/usage/anomalies",
            get.clone(),
            "/api/v1/usage/anomalies".into(),
            "",
            &["manager", "supervisor", "operator"],
        ),
        (
            "/usage/{id}/hide",
            post.clone(),
            "/api/v1/usage/999999/hide".into(),
            "{\"hidden_until\":\"2030-01-01\",\"reason\":\"r\"}",
            &["hider", "operator"],
        ),
        (
            "/audit/checkpoint",
            get.clone(),
            "/api/v1/audit/checkpoint".into(),
            "",
            ALL,
        ),
        (
            "/audit/checkpoint",
            post.clone(),
            "/api/v1/audit/checkpoint".into(),
            "",
            &["manager", "operator"],
        ),
        (
            "/audit/public-key",
            get.clone(),
            "/api/v1/audit/public-key".into(),
            "",
            ALL,
        ),
        (
            "/notifications",
            post.clone(),
            "/api/v1/notifications".into(),
            "{}",
            &["notifier", "operator"],
        ),
        (
            "/notifications/batch",
            post.clone(),
            "/api/v1/notifications/batch".into(),
            "{}",
            &["notifier", "operator"],
        ),
        (
            "/notifications/{id}",
            get.clone(),
            "/api/v1/notifications/00".into(),
            "",
            &["notifier", "operator"],
        ),
        // The Mobile ID app: no API key; an empty request is refused for its content (400), not the caller.
        (
            "/mobile-id/enrol",
            post.clone(),
            "/api/v1/mobile-id/enrol".into(),
            "{}",
            ALL,
        ),
        (
            "/mobile-id/challenge",
            post.clone(),
            "/api/v1/mobile-id/challenge".into(),
            "{}",
            ALL,
        ),
        (
            "/mobile-id/sign",
            post.clone(),
            "/api/v1/mobile-id/sign".into(),
            "{}",
            ALL,
        ),
        // The demo's mail catcher: public in `popreg demo`, the only server that has one; everywhere else
        // the page is a 404 (the portal test `g_5_the_demo_mail_catcher…` covers both).
        ("/demo/mail", get.clone(), "/demo/mail".into(), "", ALL),
        (
            "/notices",
            post.clone(),
            "/api/v1/notices".into(),
            "{}",
            &["operator"],
        ),
        (
            "/notices/{id}/withdraw",
            post.clone(),
            "/api/v1/notices/00/withdraw".into(),
            "",
            &["operator"],
        ),
        // Public notices (G.3.5): everyone, without a key or a session.
        ("/notices", get.clone(), "/notices".into(), "", ALL),
        (
            "/notices.atom",
            get.clone(),
            "/notices.atom".into(),
            "",
            ALL,
        ),
        ("/notices/{id}", get.clone(), "/notices/00".into(), "", ALL),
        // The SMS gateway's receipts: its shared secret, never an API key.
        (
            "/sms/receipts",
            post.clone(),
            "/api/v1/sms/receipts".into(),
            "{}",
            NONE,
        ),
        (
            "/audit/leaves/{seq}/proof",
            get.clone(),
            "/api/v1/audit/leaves/0/proof".into(),
            "",
            &["manager", "supervisor", "operator"],
        ),
    ]
}

/// The route patterns written in `crates/web/src` (`.route("…"`), test-only routes left out.
fn routes_in_code() -> BTreeSet<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/src");
    let mut out = BTreeSet::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            // Unit-test modules define their own routes; they are not the server's.
            let text = text.split("#[cfg(test)]").next().unwrap_or("");
            for part in text.split(".route(").skip(1) {
                if let Some(rest) = part.trim_start().strip_prefix('"') {
                    out.insert(rest.split('"').next().unwrap().to_string());
                }
            }
        }
    }
    out
}

async fn a1_33_every_route_admits_exactly_its_roles(db: TestDb) {
    let s = &db.store;
    let p = psn(950);
    s.append(
        &prov("MIGR-01"),
        vec![NewEntry::new(
            p,
            registration("Անի", "Հակոբյան", d(1990, 3, 8), Sex::F),
        )],
    )
    .await
    .unwrap();
    let mut keys = vec![("anonymous", None)];
    for (i, (role, t, functions, elements)) in ROLES.iter().enumerate() {
        let id = format!("ROLE-{i}");
        s.create_body(
            "test",
            &NewBody {
                id: id.clone(),
                body_type: *t,
                name_hy: "Մարմին".into(),
                name_en: "Body".into(),
                name_ru: "Орган".into(),
                xroad_member: None,
                contact_email: None,
            },
        )
        .await
        .unwrap();
        if !elements.is_empty() {
            let els: Vec<String> = elements.iter().map(|e| e.to_string()).collect();
            s.add_grant("test", &id, &els, "testing", "the test suite", None)
                .await
                .unwrap();
        }
        let (_, key) = s
            .issue_api_key("test", &id, &format!("uid-{role}"), functions, role)
            .await
            .unwrap();
        keys.push((role, Some(Cred::Key(key))));
    }
    for (i, (role, job)) in SESSION_ROLES.iter().enumerate() {
        let person = psn(960 + i as u64);
        if let Some((t, functions)) = job {
            let id = format!("SESS-{i}");
            crate::admin::new_body(s, &id, *t).await;
            s.add_employee("test", &id, person, functions)
                .await
                .unwrap();
        }
        let (cookie, csrf) = crate::admin::session(s, person).await;
        keys.push((role, Some(Cred::Session { cookie, csrf })));
    }
    crate::api::ensure_test_key(&db).await;
    // The brute-force limit would count this test's many refusals: off here, tested below.
    let mut cfg = test_config();
    cfg.server.listen = "127.0.0.1:0".into();
    cfg.server.auth_failures_per_window = 0;
    let app = popreg::app::start(&cfg, db.store.clone()).await.unwrap();
    // Portal pages answer a caller without a session with a redirect to the login page: that is a refusal.
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // A leaf exists for the proof route.
    s.audit_checkpoint().await.unwrap();

    let m = matrix(p);
    let covered: BTreeSet<String> = m
        .iter()
        .map(|r| r.0.trim_start_matches("/api/v1").to_string())
        .chain(m.iter().map(|r| r.0.to_string()))
        .collect();
    for route in routes_in_code() {
        assert!(
            covered.contains(&route),
            "route {route} has no row in the authorization matrix"
        );
    }

    let mut wrong = vec![];
    for (pattern, method, path, body, allowed) in &m {
        let mut through = BTreeSet::new();
        for (role, key) in &keys {
            let mut rq = c.request(method.clone(), format!("{}{path}", app.url()));
            let page_form = *method == Method::POST && !path.starts_with("/api/");
            match key {
                Some(Cred::Key(k)) => rq = rq.header("X-API-Key", k),
                Some(Cred::Session { cookie, csrf }) => {
                    rq = rq.header("Cookie", cookie);
                    // Logout with the token would end the role's session for the rows after it.
                    if page_form && *path != "/logout" {
                        rq = rq
                            .header("Content-Type", "application/x-www-form-urlencoded")
                            .body(format!("csrf={csrf}"));
                    }
                }
                None => {}
            }
            if !body.is_empty() {
                rq = rq
                    .header("Content-Type", "application/json")
                    .body(body.to_string());
            }
            let resp = rq.send().await.unwrap();
            let status = resp.status().as_u16();
            let to_login = status == 303
                && resp
                    .headers()
                    .get("location")
                    .and_then(|l| l.to_str().ok())
                    .is_some_and(|l| l.starts_with("/login"));
            assert_ne!(status, 429, "{method} {path} as {role}");
            if status != 401 && status != 403 && !to_login {
                through.insert(*role);
            }
        }
        let want: BTreeSet<&str> = allowed.iter().copied().collect();
        if through != want {
            wrong.push(format!(
                "{method} {pattern}: let through {through:?}, expected {want:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    app.shutdown().await.unwrap();
}

/// Brute force (issue 4, "Bad input"): refused authentications count per client address; past the limit the
/// address is answered `429 PSR-API-0008` with `Retry-After`, even with a good key, until the window ends.
#[tokio::test]
async fn a1_37_guessing_keys_is_throttled_per_address() {
    let db = TestDb::sqlite().await;
    crate::api::ensure_test_key(&db).await;
    let mut cfg = test_config();
    cfg.server.listen = "127.0.0.1:0".into();
    cfg.server.auth_failures_per_window = 5;
    cfg.server.auth_failure_window_secs = 2;
    let app = popreg::app::start(&cfg, db.store.clone()).await.unwrap();
    let c = reqwest::Client::new();
    let call = |key: String| {
        let c = c.clone();
        let url = format!("{}/api/v1/caller", app.url());
        async move { c.get(url).header("X-API-Key", key).send().await.unwrap() }
    };
    for i in 0..5 {
        let r = call(format!("psr_guess{i}")).await;
        assert_eq!(r.status(), 401, "guess {i}");
    }
    let r = call("psr_guess5".into()).await;
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3).contains(&retry), "{retry}");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "PSR-API-0008");
    assert_eq!(
        call(crate::api::KEY.into()).await.status(),
        429,
        "the address is held"
    );
    // Public routes stay open meanwhile.
    let r = c
        .get(format!("{}/healthz", app.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429, "everything from the address waits");
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(
        call(crate::api::KEY.into()).await.status(),
        200,
        "after the window"
    );
    app.shutdown().await.unwrap();
}
