//! Other registries in the portal (G.4) and legal entities (G.6), on SQLite and PostgreSQL, against the real
//! fake registries over HTTP (`popreg_connectors::fake::FakeRegistries`, the server `popreg demo` runs):
//! the pages, graceful degradation when a registry is down or slow, the connector's cache, the access rule
//! of company sections, company forwarding addresses with their verification link, and the sending API to
//! a company by TIN down to the SMTP server.

use std::time::Duration;

use popreg_connectors::fake::{FakeRegistries, Mode};
use popreg_connectors::registries::{Registries, RegistryKind as K, Settings};
use popreg_domain::access::Function;
use popreg_domain::*;
use popreg_notify::Mailer;
use popreg_store::{NewNotification, Owner};
use reqwest::header::COOKIE;
use serde_json::{Value, json};

use crate::common::*;
use crate::notifications_api::{
    caller, keyed_body, portal_config, secret_for, sender_body, settings, verified_email,
};
use crate::notify::{SmtpServer, free_port};
use crate::portal::{client, csrf_of, form, location, login, post_form, text};

crate::conformance!(
    g_4_the_registries_page_shows_licences_vehicles_and_companies_and_degrades,
    g_6_a_company_section_is_open_only_to_its_role_holders,
    g_6_a_notification_to_a_company_by_tin_reaches_its_inbox_and_verified_addresses,
);

pub(crate) const ARARAT: &str = "02512345";
const SEVAN: &str = "00845521";

fn tin(s: &str) -> Tin {
    Tin::parse(s).unwrap()
}

/// A portal over `db` with demo cards for `persons` (registered), connected to `fake`, with the registry
/// time limit `timeout_ms` and cache life `ttl_secs`.
async fn site(
    db: &TestDb,
    persons: &[Psn],
    fake: &FakeRegistries,
    timeout_ms: u64,
    ttl_secs: u64,
) -> popreg::app::Running {
    site_with(db, persons, fake, timeout_ms, ttl_secs, |_| {}).await
}

/// [`site`], with the configuration changed by `edit` before the start.
pub(crate) async fn site_with(
    db: &TestDb,
    persons: &[Psn],
    fake: &FakeRegistries,
    timeout_ms: u64,
    ttl_secs: u64,
    edit: impl FnOnce(&mut popreg::config::Config),
) -> popreg::app::Running {
    for (i, p) in persons.iter().enumerate() {
        db.store
            .append(
                &prov("CIV-01"),
                vec![NewEntry::new(
                    *p,
                    registration("Արամ", "Սարգսյան", d(1980, 1, 1 + i as u32), Sex::M),
                )],
            )
            .await
            .unwrap();
    }
    let mut cfg = test_config();
    cfg.server.listen = "127.0.0.1:0".into();
    cfg.portal.secure_cookies = false;
    cfg.notify.portal.url = crate::notifications_api::PORTAL.into();
    cfg.connectors.legal_entity_registry_url = fake.url(K::LegalEntities);
    cfg.connectors.vehicle_registry_url = fake.url(K::Vehicles);
    cfg.connectors.driving_licence_registry_url = fake.url(K::DrivingLicences);
    cfg.connectors.timeout_ms = timeout_ms;
    cfg.connectors.cache_ttl_secs = ttl_secs;
    edit(&mut cfg);
    let cards = persons
        .iter()
        .map(|p| popreg_web::DemoCard {
            psn: *p,
            name: "Արամ Սարգսյան".into(),
        })
        .collect();
    popreg::app::start_with(&cfg, db.store.clone(), cards)
        .await
        .unwrap()
}

/// What the fake says about a person, asked directly (the page must show the same).
pub(crate) fn direct(fake: &FakeRegistries) -> Registries {
    Registries::new(
        &fake.url(K::LegalEntities),
        &fake.url(K::Vehicles),
        &fake.url(K::DrivingLicences),
        &Settings {
            cache_ttl: Duration::ZERO,
            ..Settings::default()
        },
    )
    .unwrap()
}

async fn get(c: &reqwest::Client, url: String, cookie: &str) -> (u16, String) {
    let r = c.get(url).header(COOKIE, cookie).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn g_4_the_registries_page_shows_licences_vehicles_and_companies_and_degrades(db: TestDb) {
    let (p, q) = (psn(6101), psn(6102));
    let fake = FakeRegistries::start(vec![(p, tin(ARARAT), "director".into())])
        .await
        .unwrap();
    let app = site(&db, &[p, q], &fake, 500, 3).await;
    let url = app.url();
    let c = client();
    let cookie = login(&c, &url, p).await;

    // The desk and the top bar link the new pages.
    let desk = text(&c, format!("{url}/my?lang=en"), &cookie).await;
    assert!(desk.contains("href=\"/my/registries\""), "{desk}");
    assert!(desk.contains("href=\"/my/companies\""), "{desk}");
    assert!(desk.contains(">Other registries</a>") && desk.contains(">My companies</a>"));

    let (status, page) = get(&c, format!("{url}/my/registries?lang=en"), &cookie).await;
    assert_eq!(status, 200, "{page}");
    let reg = direct(&fake);
    for l in reg.licences(p).await.unwrap() {
        assert!(page.contains(&l.number), "licence {} in {page}", l.number);
        assert!(page.contains(&l.categories.join(", ")));
    }
    let vehicles = reg.vehicles(p).await.unwrap();
    for v in &vehicles {
        assert!(page.contains(&v.plate), "vehicle {} in {page}", v.plate);
    }
    if vehicles.is_empty() {
        assert!(page.contains("No vehicle is registered to you."), "{page}");
    }
    assert!(page.contains("Ararat Soft"), "{page}");
    assert!(page.contains("href=\"/my/companies/02512345\""));
    assert!(page.contains("director") && page.contains("limited liability company"));
    assert!(!page.contains("PSR-REG-0001"), "{page}");
    // In Armenian the same page names the company in Armenian.
    let hy = text(&c, format!("{url}/my/registries?lang=hy"), &cookie).await;
    assert!(hy.contains("Արարատ Սոֆթ") && hy.contains("տնօրեն"), "{hy}");

    // The repeats within the cache's life did not ask the registries again (the `direct` client asked
    // once more each).
    let before = (fake.hits(K::Vehicles), fake.hits(K::LegalEntities));
    let (status, _) = get(&c, format!("{url}/my/registries"), &cookie).await;
    assert_eq!(status, 200);
    assert_eq!(
        (fake.hits(K::Vehicles), fake.hits(K::LegalEntities)),
        before,
        "served from the cache"
    );

    // Another person, while the vehicle registry is down and the licence registry too slow: the page is
    // there, each of the two sections says its registry is unavailable (coded), companies still shown.
    fake.set_mode(K::Vehicles, Mode::Down);
    fake.set_mode(K::DrivingLicences, Mode::Slow(Duration::from_secs(3)));
    let theirs = login(&c, &url, q).await;
    let started = std::time::Instant::now();
    let (status, page) = get(&c, format!("{url}/my/registries?lang=en"), &theirs).await;
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "bounded by the time limit"
    );
    assert_eq!(status, 200, "{page}");
    assert_eq!(page.matches("PSR-REG-0001").count(), 2, "{page}");
    assert!(page.contains("Registry unavailable right now"), "{page}");
    assert!(page.contains("Legal entities"));
    assert!(
        !page.contains("Ararat Soft"),
        "q holds no role there: {page}"
    );

    // The legal-entity registry down, once p's cached answer is older than its life: the company list and
    // the company section show nothing of the company, with 503 and the code.
    fake.set_mode(K::LegalEntities, Mode::Down);
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let (status, page) = get(&c, format!("{url}/my/companies?lang=en"), &cookie).await;
    assert_eq!(status, 503, "{page}");
    assert!(
        page.contains("PSR-REG-0001") && !page.contains("Ararat Soft"),
        "{page}"
    );
    let (status, page) = get(&c, format!("{url}/my/companies/{ARARAT}"), &cookie).await;
    assert_eq!(status, 503, "{page}");
    assert!(!page.contains("Արարատ Սոֆթ"), "{page}");
    // Up again: the next request asks again (failures are never cached).
    fake.set_mode(K::LegalEntities, Mode::Up);
    let (status, page) = get(&c, format!("{url}/my/companies?lang=en"), &cookie).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Ararat Soft"));
    app.shutdown().await.unwrap();
    fake.stop();
}

async fn g_6_a_company_section_is_open_only_to_its_role_holders(db: TestDb) {
    let (p, q) = (psn(6201), psn(6202));
    let fake = FakeRegistries::start(vec![
        (p, tin(ARARAT), "director".into()),
        (p, tin(SEVAN), "founder".into()),
        (q, tin(SEVAN), "head_of_staff".into()),
    ])
    .await
    .unwrap();
    let app = site(&db, &[p, q], &fake, 2000, 60).await;
    let url = app.url();
    let s = &db.store;
    sender_body(s, "TAX-0001").await;
    let company = Owner::Company(tin(ARARAT));
    let sent = s
        .send_notification(
            &caller("TAX-0001"),
            &NewNotification {
                recipient: company,
                subject: "Ստուգման մասին ծանուցում".into(),
                text: "Հարգելի տնօրեն,\nստուգումը նշանակված է։".into(),
                legal_significance: false,
                attachments: vec![popreg_store::NewAttachment {
                    name: "act.pdf".into(),
                    media_type: "application/pdf".into(),
                    content: b"%PDF-1.7 company".to_vec(),
                }],
                idempotency_key: None,
            },
            &settings(),
        )
        .await
        .unwrap();
    let c = client();
    let cookie = login(&c, &url, p).await;

    // Both companies, each a section with its inbox; the message of one is in its section.
    let (status, page) = get(&c, format!("{url}/my/companies?lang=en"), &cookie).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Ararat Soft") && page.contains("Sevan Agro"),
        "{page}"
    );
    assert!(page.contains("Ստուգման մասին ծանուցում"));
    let msg_path = format!("/my/companies/{ARARAT}/inbox/{}", sent.id);
    assert!(page.contains(&msg_path), "{page}");
    assert!(page.contains("In all: 1, unread: 1"), "{page}");
    let (status, msg) = get(&c, format!("{url}{msg_path}"), &cookie).await;
    assert_eq!(status, 200, "{msg}");
    assert!(msg.contains("ստուգումը նշանակված է"));
    let r = c
        .get(format!("{url}{msg_path}/attachments/0"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"%PDF-1.7 company");
    assert_eq!(s.inbox(company, 0, 10).await.unwrap().unread, 0);
    // The company message is not in the person's own inbox, nor can the person's inbox open it.
    assert_eq!(s.inbox(p, 0, 10).await.unwrap().total, 0);
    let (status, _) = get(&c, format!("{url}/my/inbox/{}", sent.id), &cookie).await;
    assert_eq!(status, 404);

    // q holds a role in Sevan Agro only: Ararat Soft's section, message, attachment and forms are 404
    // with nothing of the company.
    let theirs = login(&c, &url, q).await;
    let (status, page) = get(&c, format!("{url}/my/companies?lang=en"), &theirs).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Sevan Agro") && !page.contains("Ararat Soft"),
        "{page}"
    );
    let their_csrf = csrf_of(&page);
    for path in [
        format!("/my/companies/{ARARAT}?lang=en"),
        format!("{msg_path}?lang=en"),
        format!("{msg_path}/attachments/0"),
        "/my/companies/99999999".to_string(),
        "/my/companies/not-a-tin".to_string(),
    ] {
        let (status, page) = get(&c, format!("{url}{path}"), &theirs).await;
        assert_eq!(status, 404, "{path}: {page}");
        assert!(
            !page.contains("Ararat") && !page.contains("Ստուգման") && !page.contains("PDF"),
            "{path}: {page}"
        );
    }
    let (_, page) = get(&c, format!("{url}/my/companies/{ARARAT}?lang=en"), &theirs).await;
    assert!(page.contains("PSR-REG-0003"), "{page}");
    let r = post_form(
        &c,
        format!("{url}/my/companies/{ARARAT}/forwarding/email"),
        &theirs,
        &url,
        form(&[("csrf", their_csrf.as_str()), ("address", "spy@example.am")]),
    )
    .await;
    assert_eq!(r.status(), 404);
    assert!(s.contact_points(company).await.unwrap().is_empty());

    // p adds a forwarding address of the company; CSRF is checked; the link verifies it.
    let page = text(&c, format!("{url}/my/companies/{ARARAT}?lang=en"), &cookie).await;
    let csrf = csrf_of(&page);
    let r = post_form(
        &c,
        format!("{url}/my/companies/{ARARAT}/forwarding/email"),
        &cookie,
        &url,
        form(&[("csrf", "forged"), ("address", "office@ararat.am")]),
    )
    .await;
    assert_eq!(r.status(), 403);
    let r = post_form(
        &c,
        format!("{url}/my/companies/{ARARAT}/forwarding/email"),
        &cookie,
        &url,
        form(&[("csrf", csrf.as_str()), ("address", "Office@Ararat.am")]),
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        location(&r),
        format!("/my/companies/{ARARAT}?done=added-email")
    );
    let page = text(
        &c,
        format!("{url}/my/companies/{ARARAT}?lang=en&done=added-email"),
        &cookie,
    )
    .await;
    assert!(
        page.contains("office@ararat.am") && page.contains("not verified"),
        "{page}"
    );
    // The address belongs to the company, not to p.
    assert!(s.contact_points(p).await.unwrap().is_empty());
    let rows = s.outbox_recent(20).await.unwrap();
    let verification = rows.iter().find(|m| m.recipient == "office@ararat.am");
    assert_eq!(
        verification.unwrap().params["forwarding_url"],
        format!("{}/my/companies/{ARARAT}", crate::notifications_api::PORTAL)
    );
    let token = secret_for(s, "office@ararat.am").await;
    let (status, page) = get(
        &c,
        format!("{url}/my/forwarding/verify?token={token}&lang=en"),
        &cookie,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("office@ararat.am is verified"), "{page}");
    assert!(page.contains(&format!("href=\"/my/companies/{ARARAT}\"")));
    let page = text(&c, format!("{url}/my/companies/{ARARAT}?lang=en"), &cookie).await;
    assert!(page.contains("✓") && page.contains(">verified<"), "{page}");
    // At most three: after three, no form to add a fourth, and the store refuses one.
    for a in ["b@ararat.am", "c@ararat.am"] {
        s.add_email(company, a, "en", &settings()).await.unwrap();
    }
    let page = text(&c, format!("{url}/my/companies/{ARARAT}?lang=en"), &cookie).await;
    assert!(!page.contains(&format!("/my/companies/{ARARAT}/forwarding/email")));
    let e = s
        .add_email(company, "d@ararat.am", "en", &settings())
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::ContactLimit);
    app.shutdown().await.unwrap();
    fake.stop();
}

async fn g_6_a_notification_to_a_company_by_tin_reaches_its_inbox_and_verified_addresses(
    db: TestDb,
) {
    let p = psn(6301);
    let fake = FakeRegistries::start(vec![(p, tin(ARARAT), "director".into())])
        .await
        .unwrap();
    let app = site(&db, &[p], &fake, 2000, 60).await;
    let s = &db.store;
    let key = keyed_body(s, "TAX-0001", &[Function::SendNotifications]).await;
    let company = Owner::Company(tin(ARARAT));
    verified_email(s, company, "office@ararat.am").await;
    s.add_email(company, "pending@ararat.am", "en", &settings())
        .await
        .unwrap();
    // The director's own verified address gets nothing of the company's mail.
    verified_email(s, p, "director@example.am").await;

    let c = reqwest::Client::new();
    let url = format!("{}/api/v1/notifications", app.url());
    let req = json!({
        "recipient_tin": ARARAT,
        "subject": "Հարկային ստուգում",
        "body": "Խնդրում ենք ներկայացնել փաստաթղթերը։",
        "legal_significance": true
    });
    let post = |body: &Value| {
        c.post(&url)
            .header("X-API-Key", &key)
            .header("Accept-Language", "en")
            .header("Idempotency-Key", "company-1")
            .json(body)
    };
    let r = post(&req).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let a: Value = r.json().await.unwrap();
    let id = a["id"].as_str().unwrap().to_string();
    // The same key: the same notification, nothing new.
    let r = post(&req).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["idempotent-replayed"], "true");
    assert_eq!(r.json::<Value>().await.unwrap()["id"], a["id"]);
    let inbox = s.inbox(company, 0, 10).await.unwrap();
    assert_eq!((inbox.total, inbox.items[0].id.as_str()), (1, id.as_str()));
    assert_eq!(s.inbox(p, 0, 10).await.unwrap().total, 0);

    // Forwarded to the company's verified address only, with a link to the company inbox.
    let forwards: Vec<_> = s
        .outbox_recent(50)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.dedupe_key.starts_with(&format!("notification:{id}")))
        .collect();
    assert_eq!(forwards.len(), 1, "{forwards:?}");
    assert_eq!(forwards[0].recipient, "office@ararat.am");
    assert_eq!(
        forwards[0].params["inbox_url"],
        format!(
            "{}/my/companies/{ARARAT}/inbox/{id}",
            crate::notifications_api::PORTAL
        )
    );
    // Down to a real SMTP server: the pending address gets only its verification e-mail.
    let port = free_port();
    let server = SmtpServer::start(port);
    let mailer = Mailer::new(&portal_config(port)).unwrap();
    popreg_notify::deliver_due(s, &mailer).await.unwrap();
    let got = server.messages();
    let to = |a: &str| -> Vec<String> {
        got.iter()
            .filter(|m| m["rcpt_tos"] == json!([a]))
            .map(|m| m["subject"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(
        to("pending@ararat.am"),
        vec!["E-Citizen email verification"]
    );
    assert!(
        to("office@ararat.am")
            .iter()
            .any(|s| s != "E-Citizen email verification"),
        "{got:?}"
    );
    assert!(
        to("director@example.am")
            .iter()
            .all(|s| s == "E-Citizen email verification"),
        "{got:?}"
    );

    // The status names the company.
    let r = c.get(format!("{url}/{id}")).header("X-API-Key", &key);
    let st: Value = r.send().await.unwrap().json().await.unwrap();
    assert_eq!(st["recipient_tin"], ARARAT, "{st}");
    assert!(st.get("recipient_psn").is_none(), "{st}");
    assert_eq!(st["destinations"][1]["to"], "o***@ararat.am");

    // Refusals, coded.
    let refusal = |body: Value, want: u16, code: &'static str| {
        crate::notifications_api::refused_send(
            c.clone(),
            url.clone(),
            key.clone(),
            body,
            (want, code),
        )
    };
    let with = |k: &str, v: Value| {
        let mut b = req.clone();
        b[k] = v;
        b
    };
    refusal(with("recipient_tin", json!("0251234")), 400, "PSR-TIN-0001").await;
    refusal(
        with("recipient_tin", json!("02512345x")),
        400,
        "PSR-TIN-0001",
    )
    .await;
    refusal(
        with("recipient_tin", json!("11111111")),
        422,
        "PSR-REG-0002",
    )
    .await;
    refusal(
        with("recipient_psn", json!(p.to_string())),
        400,
        "PSR-VAL-0007",
    )
    .await;
    refusal(with("paper_delivery", json!(true)), 400, "PSR-VAL-0007").await;
    refusal(json!({"subject": "s", "body": "b"}), 400, "PSR-VAL-0006").await;
    fake.set_mode(K::LegalEntities, Mode::Down);
    refusal(with("recipient_tin", json!(SEVAN)), 503, "PSR-REG-0001").await;
    assert_eq!(
        s.inbox(Owner::Company(tin(SEVAN)), 0, 10)
            .await
            .unwrap()
            .total,
        0
    );
    app.shutdown().await.unwrap();
    fake.stop();
}
