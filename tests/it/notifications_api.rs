//! Notifications to persons (A1.5.6, G.3.2–3, G.5, G.7, A1.21.2.b), on SQLite and PostgreSQL: the store's
//! inbox and forwarding addresses, the sending API for state bodies over HTTP, and the portal's e-mails
//! over a real SMTP server (aiosmtpd, as in notify.rs).

use chrono::Duration as Span;
use popreg_domain::access::{BodyType, Caller, Function};
use popreg_domain::*;
use popreg_notify::{Delivered, Mailer, NotifyConfig};
use popreg_store::{ContactSettings, NewAttachment, NewBody, NewNotification, Store};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;
use crate::notify::{SmtpServer, free_port};

crate::conformance!(
    g_3_2_a_notification_is_in_the_inbox_and_forwarded_only_to_verified_addresses,
    g_3_2_the_same_idempotency_key_is_the_same_notification,
    g_5_a_verification_link_works_once_and_expires,
    g_5_the_fourth_address_is_refused_and_malformed_ones_too,
    g_7_wrong_sms_codes_exhaust_the_code,
    g_3_2_another_person_cannot_open_my_message,
    g_5_the_portal_e_mails_arrive_from_the_portal_sender_over_smtp,
    a1_5_6_a_body_sends_through_the_api_and_follows_delivery,
    g_3_3_the_hourly_cap_per_address_defers_excess_mail_and_loses_none,
    g_3_3_the_email_rate_limit_paces_the_worker,
    a1_5_6_the_batch_form_sends_all_or_none_and_answers_each_id,
);

pub(crate) const PORTAL: &str = "https://e-citizen.example.am";
const SENDER: &str = "TAX-0001";

pub(crate) fn settings() -> ContactSettings {
    ContactSettings {
        portal_url: PORTAL.into(),
        ..ContactSettings::default()
    }
}

fn code(e: popreg_store::StoreError) -> Code {
    e.code()
}

pub(crate) async fn person(store: &Store, n: u64) -> Psn {
    let p = psn(n);
    store
        .append(
            &prov("MIGR-01"),
            vec![NewEntry::new(
                p,
                registration("Անի", "Հակոբյան", d(1990, 3, 8), Sex::F),
            )],
        )
        .await
        .unwrap();
    p
}

pub(crate) async fn sender_body(store: &Store, id: &str) {
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
}

pub(crate) fn caller(body: &str) -> Caller {
    Caller {
        body_id: body.into(),
        body_type: BodyType::Other,
        user_uid: format!("{body}-clerk"),
        functions: vec![Function::SendNotifications],
        channel: Channel::Api,
        external: ExternalIds::default(),
    }
}

pub(crate) fn notification(to: Psn, key: Option<&str>) -> NewNotification {
    NewNotification {
        recipient: to.into(),
        subject: "Ծանուցում հարկային պարտավորության մասին".into(),
        text: "Հարգելի քաղաքացի,\nխնդրում ենք ներկայանալ։".into(),
        legal_significance: true,
        attachments: vec![NewAttachment {
            name: "notice.pdf".into(),
            media_type: "application/pdf".into(),
            content: b"%PDF-1.4 test".to_vec(),
        }],
        idempotency_key: key.map(str::to_string),
    }
}

/// The secret (link or code) of the newest verification message to `to`, as the outbox holds it before
/// delivery.
pub(crate) async fn secret_for(store: &Store, to: &str) -> String {
    let row = store
        .outbox_recent(100)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.recipient == to && m.dedupe_key.starts_with("verify:"))
        .unwrap_or_else(|| panic!("no verification message to {to}"));
    let s = &row.params["secret"];
    match s.get("link").and_then(Value::as_str) {
        Some(link) => link.split("token=").nth(1).unwrap().to_string(),
        None => s["token"].as_str().unwrap().to_string(),
    }
}

pub(crate) async fn verified_email(
    store: &Store,
    p: impl Into<popreg_store::Owner>,
    address: &str,
) {
    let c = store
        .add_email(p, address, "en", &settings())
        .await
        .unwrap();
    let token = secret_for(store, &c.address).await;
    store.verify_email(&token).await.unwrap();
}

async fn g_3_2_a_notification_is_in_the_inbox_and_forwarded_only_to_verified_addresses(db: TestDb) {
    let s = &db.store;
    sender_body(s, SENDER).await;
    let p = person(s, 1).await;
    verified_email(s, p, "Anna@Example.AM").await;
    s.add_email(p, "unverified@example.am", "hy", &settings())
        .await
        .unwrap();
    s.add_phone(p, "+374 91 234567", "ru", &settings())
        .await
        .unwrap();
    let code6 = secret_for(s, "+37491234567").await;
    assert_eq!(code6.len(), 6, "G.7: a 6-character token");
    let phone = s.verify_phone(p, "+37491234567", &code6).await.unwrap();
    assert!(phone.verified());
    let points = s.contact_points(p).await.unwrap();
    assert_eq!(points.len(), 3);
    assert_eq!(
        points.iter().filter(|c| c.verified()).count(),
        2,
        "{points:?}"
    );

    let sent = s
        .send_notification(&caller(SENDER), &notification(p, None), &settings())
        .await
        .unwrap();
    let page = s.inbox(p, 0, 20).await.unwrap();
    assert_eq!((page.total, page.unread), (1, 1));
    assert_eq!(page.items[0].id, sent.id);
    assert_eq!(page.items[0].sender.name_en, "State Revenue Committee");
    assert_eq!(page.items[0].attachments, 1);
    assert!(page.items[0].legal_significance);

    let forwards: Vec<_> = s
        .outbox_recent(100)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| {
            m.dedupe_key
                .starts_with(&format!("notification:{}", sent.id))
        })
        .collect();
    let mut to: Vec<(&str, &str, &str, &str)> = forwards
        .iter()
        .map(|m| {
            (
                m.channel.as_str(),
                m.recipient.as_str(),
                m.template.as_str(),
                m.lang.as_str(),
            )
        })
        .collect();
    to.sort();
    assert_eq!(
        to,
        vec![
            ("email", "anna@example.am", "forwarded", "en"),
            ("sms", "+37491234567", "notification_sms", "ru"),
        ],
        "only verified addresses, each in its language"
    );
    let status = s
        .notification_status(SENDER, &sent.id)
        .await
        .unwrap()
        .unwrap();
    let st: Vec<(&str, &str, &str)> = status
        .destinations
        .iter()
        .map(|d| (d.channel.as_str(), d.to.as_str(), d.status.as_str()))
        .collect();
    assert_eq!(st[0], ("portal", "", "created"));
    assert!(
        st.contains(&("email", "a***@example.am", "created")),
        "{st:?}"
    );
    assert!(st.contains(&("sms", "+374*****567", "created")), "{st:?}");
    assert!(
        s.notification_status("OTHER-BODY", &sent.id)
            .await
            .unwrap()
            .is_none(),
        "only the sending body sees the status"
    );

    // Without the function, nothing is sent; an unknown PSN is refused.
    let mut no = caller(SENDER);
    no.functions = vec![Function::ReadPersons];
    let e = s
        .send_notification(&no, &notification(p, None), &settings())
        .await
        .unwrap_err();
    assert_eq!(code(e), Code::Forbidden);
    let e = s
        .send_notification(&caller(SENDER), &notification(psn(999), None), &settings())
        .await
        .unwrap_err();
    assert_eq!(code(e), Code::PsnUnknown);
    assert_eq!(s.inbox(p, 0, 20).await.unwrap().total, 1);
}

async fn g_3_2_the_same_idempotency_key_is_the_same_notification(db: TestDb) {
    let s = &db.store;
    sender_body(s, SENDER).await;
    let p = person(s, 2).await;
    verified_email(s, p, "anna@example.am").await;
    let a = s
        .send_notification(&caller(SENDER), &notification(p, Some("k-1")), &settings())
        .await
        .unwrap();
    let b = s
        .send_notification(&caller(SENDER), &notification(p, Some("k-1")), &settings())
        .await
        .unwrap();
    assert_eq!(a.id, b.id);
    assert!(!a.replayed && b.replayed);
    assert_eq!(
        s.inbox(p, 0, 20).await.unwrap().total,
        1,
        "never a second message"
    );
    let forwards = s
        .outbox_recent(100)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.template == "forwarded")
        .count();
    assert_eq!(forwards, 1);
    // The same key with other content is a conflict; another body may use the same key.
    let mut other = notification(p, Some("k-1"));
    other.subject = "Այլ թեմա".into();
    let e = s
        .send_notification(&caller(SENDER), &other, &settings())
        .await
        .unwrap_err();
    assert_eq!(code(e), Code::IdempotencyConflict);
    sender_body(s, "OTH-0002").await;
    let c = s
        .send_notification(
            &caller("OTH-0002"),
            &notification(p, Some("k-1")),
            &settings(),
        )
        .await
        .unwrap();
    assert_ne!(c.id, a.id);
}

async fn g_5_a_verification_link_works_once_and_expires(db: TestDb) {
    let s = &db.store;
    let p = person(s, 3).await;
    let c = s
        .add_email(p, "anna@example.am", "hy", &settings())
        .await
        .unwrap();
    assert_eq!(c.pending_until, Some(t0() + Span::hours(24)));
    let token = secret_for(s, "anna@example.am").await;
    assert_eq!(token.len(), 64);
    let v = s.verify_email(&token).await.unwrap();
    assert_eq!((v.id, v.owner.clone()), (c.id, p.to_string()));
    assert!(v.verified());
    assert_eq!(
        code(s.verify_email(&token).await.unwrap_err()),
        Code::TokenInvalid,
        "single use"
    );
    assert_eq!(
        code(s.verify_email("nonesuch").await.unwrap_err()),
        Code::TokenInvalid
    );
    // Expiry.
    let c2 = s
        .add_email(p, "boris@example.am", "hy", &settings())
        .await
        .unwrap();
    let old = secret_for(s, "boris@example.am").await;
    // Resending is rate-limited: not within a minute.
    assert_eq!(
        code(
            s.resend_verification(p, c2.id, &settings())
                .await
                .unwrap_err()
        ),
        Code::ResendTooSoon
    );
    db.clock.advance(Span::hours(25));
    assert_eq!(
        code(s.verify_email(&old).await.unwrap_err()),
        Code::TokenExpired
    );
    // A new link replaces the old one, which stops working.
    s.resend_verification(p, c2.id, &settings()).await.unwrap();
    let new = secret_for(s, "boris@example.am").await;
    assert_ne!(new, old);
    assert_eq!(
        code(s.verify_email(&old).await.unwrap_err()),
        Code::TokenInvalid
    );
    s.verify_email(&new).await.unwrap();
    assert_eq!(
        code(
            s.resend_verification(p, c2.id, &settings())
                .await
                .unwrap_err()
        ),
        Code::AlreadyVerified
    );
    // Only the hash is kept.
    let stored: Vec<String> = match db.store.dialect() {
        popreg_store::Dialect::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
            sqlx::query_scalar("SELECT COALESCE(token_sha256, '') FROM contact_points")
                .fetch_all(&pool)
                .await
                .unwrap()
        }
        popreg_store::Dialect::Postgres => {
            sqlx::query_scalar("SELECT COALESCE(token_sha256, '') FROM contact_points")
                .fetch_all(&db.raw_pg().await)
                .await
                .unwrap()
        }
    };
    assert!(!stored.iter().any(|h| h == &new || h == &old), "{stored:?}");
}

async fn g_5_the_fourth_address_is_refused_and_malformed_ones_too(db: TestDb) {
    let s = &db.store;
    let p = person(s, 4).await;
    for a in ["a@example.am", "b@example.am", "c@example.am"] {
        s.add_email(p, a, "hy", &settings()).await.unwrap();
    }
    assert_eq!(
        code(
            s.add_email(p, "d@example.am", "hy", &settings())
                .await
                .unwrap_err()
        ),
        Code::ContactLimit
    );
    assert_eq!(
        code(
            s.add_email(p, "A@example.am", "hy", &settings())
                .await
                .unwrap_err()
        ),
        Code::ContactLimit,
        "the limit is checked first"
    );
    for bad in ["no-at-sign", "a@b", "a b@example.am", "a@exa_mple.am", ""] {
        assert_eq!(
            code(s.add_email(p, bad, "hy", &settings()).await.unwrap_err()),
            Code::EmailMalformed,
            "{bad}"
        );
    }
    assert_eq!(
        code(
            s.add_phone(p, "91234567", "hy", &settings())
                .await
                .unwrap_err()
        ),
        Code::PhoneMalformed
    );
    // Replace keeps the count at three; remove frees a place.
    let first = s.contact_points(p).await.unwrap()[0].clone();
    db.clock.advance(Span::minutes(2));
    let r = s
        .replace_contact(p, first.id, "e@example.am", "en", &settings())
        .await
        .unwrap();
    assert_eq!(r.address, "e@example.am");
    assert_eq!(s.contact_points(p).await.unwrap().len(), 3);
    assert!(s.remove_contact(p, r.id).await.unwrap());
    assert!(!s.remove_contact(psn(77), first.id).await.unwrap());
    s.add_email(p, "d@example.am", "hy", &settings())
        .await
        .unwrap();
    assert_eq!(
        code(
            s.add_email(p, "d@example.am", "hy", &settings())
                .await
                .unwrap_err()
        ),
        Code::ContactLimit
    );
}

async fn g_7_wrong_sms_codes_exhaust_the_code(db: TestDb) {
    let s = &db.store;
    let p = person(s, 5).await;
    s.add_phone(p, "+374-91-000001", "hy", &settings())
        .await
        .unwrap();
    let right = secret_for(s, "+37491000001").await;
    let wrong = if right == "000000" {
        "000001"
    } else {
        "000000"
    };
    for _ in 0..popreg_store::MAX_CODE_ATTEMPTS - 1 {
        assert_eq!(
            code(s.verify_phone(p, "+37491000001", wrong).await.unwrap_err()),
            Code::TokenInvalid
        );
    }
    assert_eq!(
        code(s.verify_phone(p, "+37491000001", wrong).await.unwrap_err()),
        Code::TooManyAttempts
    );
    assert_eq!(
        code(s.verify_phone(p, "+37491000001", &right).await.unwrap_err()),
        Code::TooManyAttempts,
        "the code is spent"
    );
    // Another person cannot verify my number.
    assert_eq!(
        code(
            s.verify_phone(psn(78), "+37491000001", &right)
                .await
                .unwrap_err()
        ),
        Code::ContactUnknown
    );
    // A new code works (the SMS row waits for the SMS delivery; the e-mail worker leaves it alone).
    db.clock.advance(Span::minutes(2));
    let c = s
        .contact_points(p)
        .await
        .unwrap()
        .into_iter()
        .next()
        .unwrap();
    s.resend_verification(p, c.id, &settings()).await.unwrap();
    let fresh = secret_for(s, "+37491000001").await;
    let v = s
        .verify_phone(p, "+37491000001", &fresh.to_uppercase())
        .await
        .unwrap();
    assert!(v.verified());
    let sms: Vec<_> = s
        .outbox_pending(100)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.channel == "sms")
        .collect();
    assert_eq!(sms.len(), 2);
    assert!(sms.iter().all(|m| m.template == "phone_verification"));
    assert!(
        s.outbox_claim("email", 10, Span::minutes(5))
            .await
            .unwrap()
            .is_empty(),
        "the e-mail worker claims no sms row"
    );
}

async fn g_3_2_another_person_cannot_open_my_message(db: TestDb) {
    let s = &db.store;
    sender_body(s, SENDER).await;
    let me = person(s, 6).await;
    let other = person(s, 7).await;
    let sent = s
        .send_notification(&caller(SENDER), &notification(me, None), &settings())
        .await
        .unwrap();
    assert!(s.open_message(other, &sent.id).await.unwrap().is_none());
    assert!(s.attachment(other, &sent.id, 0).await.unwrap().is_none());
    assert_eq!(s.inbox(other, 0, 20).await.unwrap().total, 0);
    assert!(s.open_message(me, "nonesuch").await.unwrap().is_none());

    let before = s.audit_size().await.unwrap();
    db.clock.advance(Span::minutes(3));
    let m = s.open_message(me, &sent.id).await.unwrap().unwrap();
    assert_eq!(m.opened_at, Some(t0() + Span::minutes(3)));
    assert_eq!(m.text, "Հարգելի քաղաքացի,\nխնդրում ենք ներկայանալ։");
    assert_eq!(m.attachments.len(), 1);
    assert_eq!(m.attachments[0].name, "notice.pdf");
    assert_eq!(
        s.audit_size().await.unwrap(),
        before + 1,
        "opening is an act in the audit trail"
    );
    // Opening again changes nothing.
    db.clock.advance(Span::minutes(3));
    let again = s.open_message(me, &sent.id).await.unwrap().unwrap();
    assert_eq!(again.opened_at, m.opened_at);
    assert_eq!(s.audit_size().await.unwrap(), before + 1);
    assert_eq!(s.inbox(me, 0, 20).await.unwrap().unread, 0);
    let a = s.attachment(me, &sent.id, 0).await.unwrap().unwrap();
    assert_eq!(a.content, b"%PDF-1.4 test");
    let st = s
        .notification_status(SENDER, &sent.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(st.destinations[0].status, "delivered");
    assert_eq!(st.destinations[0].delivered_at, m.opened_at);
}

pub(crate) fn portal_config(port: u16) -> NotifyConfig {
    let mut cfg = crate::notify::config(port);
    cfg.portal.url = PORTAL.into();
    cfg.portal.from = "E-Citizen <noreply@e-citizen.example.am>".into();
    cfg
}

async fn g_5_the_portal_e_mails_arrive_from_the_portal_sender_over_smtp(db: TestDb) {
    let s = &db.store;
    sender_body(s, SENDER).await;
    let p = person(s, 8).await;
    let port = free_port();
    let server = SmtpServer::start(port);
    let cfg = portal_config(port);
    let m = Mailer::new(&cfg).unwrap();
    let settings = cfg.contact_settings();
    s.add_email(p, "anna@example.am", "ru", &settings)
        .await
        .unwrap();
    s.add_email(p, "never@example.am", "hy", &settings)
        .await
        .unwrap();
    assert_eq!(
        popreg_notify::deliver_due(s, &m).await.unwrap(),
        Delivered {
            sent: 2,
            failed: 0,
            deferred: 0
        }
    );
    let got = server.messages();
    let mail = got
        .iter()
        .find(|m| m["rcpt_tos"] == json!(["anna@example.am"]))
        .unwrap();
    assert_eq!(mail["mail_from"], "noreply@e-citizen.example.am");
    assert_eq!(mail["from"], "E-Citizen <noreply@e-citizen.example.am>");
    assert_eq!(mail["subject"], "E-Citizen email verification");
    assert_eq!(mail["content_language"], "ru");
    let body = mail["body"].as_str().unwrap();
    let link = body
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with(&format!("{PORTAL}/my/forwarding/verify?token=")))
        .unwrap_or_else(|| panic!("no link in:\n{body}"));
    assert!(
        body.contains("2026-01-16 13:00"),
        "expiry in Yerevan time:\n{body}"
    );
    // The token left with the e-mail: the row no longer holds it.
    let rows = s.outbox_recent(10).await.unwrap();
    assert!(
        rows.iter().all(|r| r.params.get("secret").is_none()),
        "{rows:?}"
    );
    let token = link.split("token=").nth(1).unwrap();
    s.verify_email(token).await.unwrap();

    // A notification is forwarded to the verified address only.
    let sent = s
        .send_notification(&caller(SENDER), &notification(p, None), &settings)
        .await
        .unwrap();
    assert_eq!(
        popreg_notify::deliver_due(s, &m).await.unwrap(),
        Delivered {
            sent: 1,
            failed: 0,
            deferred: 0
        }
    );
    let got = server.messages();
    assert_eq!(got.len(), 3);
    let fwd = &got[2];
    assert_eq!(fwd["rcpt_tos"], json!(["anna@example.am"]));
    assert_eq!(fwd["from"], "E-Citizen <noreply@e-citizen.example.am>");
    assert_eq!(
        fwd["subject"],
        "Комитет государственных доходов: Ծանուցում հարկային պարտավորության մասին"
    );
    let text = fwd["body"].as_str().unwrap();
    for needle in [
        "ներկայանալ",
        "notice.pdf",
        "юридическое значение",
        &format!("{PORTAL}/my/inbox/{}", sent.id),
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
    assert_eq!(
        fwd["message_id"],
        format!(
            "<popreg.notification.{}.{}@e-citizen.example.am>",
            sent.id,
            s.contact_points(p).await.unwrap()[0].id
        )
    );
    let st = s
        .notification_status(SENDER, &sent.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(st.destinations[1].status, "delivered");
}

/// A body with its key: `functions`, and a grant of the official-notice address when it reads persons.
pub(crate) async fn keyed_body(store: &Store, id: &str, functions: &[Function]) -> String {
    sender_body(store, id).await;
    if functions.contains(&Function::ReadPersons) {
        store
            .add_grant(
                "test",
                id,
                &["person.notice_address".to_string()],
                "sending official notices",
                "Tax Code, art. 41",
                None,
            )
            .await
            .unwrap();
    }
    store
        .issue_api_key("test", id, &format!("{id}-clerk"), functions, "test")
        .await
        .unwrap()
        .1
}

/// Post `body` to the sending API at `url` with the key `k`, and expect the refusal `(status, code)`.
pub(crate) async fn refused_send(
    c: reqwest::Client,
    url: String,
    k: String,
    body: Value,
    (want, code): (u16, &str),
) {
    let r = c
        .post(&url)
        .header("X-API-Key", k)
        .header("Accept-Language", "en")
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let j: Value = r.json().await.unwrap();
    assert_eq!((status, j["code"].as_str()), (want, Some(code)), "{j}");
}

async fn a1_5_6_a_body_sends_through_the_api_and_follows_delivery(db: TestDb) {
    let s = &db.store;
    let p = psn(9);
    s.append(
        &prov("MIGR-01"),
        vec![
            NewEntry::new(p, registration("Անի", "Հակոբյան", d(1990, 3, 8), Sex::F)),
            NewEntry::new(
                p,
                Fact::MainAddress {
                    address: address("Մաշտոցի"),
                    valid_from: d(2005, 1, 1),
                    valid_to: None,
                },
            ),
        ],
    )
    .await
    .unwrap();
    verified_email(s, p, "anna@example.am").await;
    let key = keyed_body(
        s,
        "TAX-0001",
        &[Function::SendNotifications, Function::ReadPersons],
    )
    .await;
    let other = keyed_body(s, "TAX-0002", &[Function::SendNotifications]).await;
    let reader = keyed_body(s, "RDR-0001", &[Function::ReadPersons]).await;
    let (app, c) = crate::api::spawn(&db).await;
    let url = format!("{}/api/v1/notifications", app.url());
    let req = json!({
        "recipient_psn": p.to_string(),
        "subject": "Ծանուցում",
        "body": "Խնդրում ենք ներկայանալ։",
        "legal_significance": true,
        "attachments": [{"name": "notice.pdf", "media_type": "application/pdf",
                         "content_base64": "JVBERi0xLjQgdGVzdA=="}],
        "paper_delivery": true
    });
    let post = |k: &str, body: &Value| {
        c.post(&url)
            .header("X-API-Key", k)
            .header("Idempotency-Key", "abc-1")
            .json(body)
    };

    let r = post(&key, &req).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let a: Value = r.json().await.unwrap();
    let id = a["id"].as_str().unwrap().to_string();
    assert_eq!(a["status_url"], format!("/api/v1/notifications/{id}"));
    assert_eq!(
        a["paper_delivery"]["notice_address"]["address"]["street"], "Մաշտոցի",
        "{a}"
    );
    let usage = a["paper_delivery"]["usage_id"].as_i64().unwrap();
    let records = s.usage_for_person(p, None, None, None, 10).await.unwrap();
    assert!(
        records
            .iter()
            .any(|u| u.id == usage && u.action == "notice_address" && u.body_id == "TAX-0001"),
        "the address was read through the gate: {records:?}"
    );

    // The same key again: the same notification, no second message.
    let r = post(&key, &req).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["idempotent-replayed"], "true");
    let again: Value = r.json().await.unwrap();
    assert_eq!(again["id"], a["id"]);
    assert_eq!(s.inbox(p, 0, 10).await.unwrap().total, 1);

    // Status, to the sender only, in JSON or XML.
    let r = c
        .get(format!("{url}/{id}"))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let st: Value = r.json().await.unwrap();
    assert_eq!(st["destinations"][0]["channel"], "portal");
    assert_eq!(st["destinations"][0]["status"], "created");
    assert_eq!(st["destinations"][1]["channel"], "email");
    assert_eq!(st["destinations"][1]["to"], "a***@example.am");
    assert_eq!(st["destinations"][1]["status"], "created");
    let r = c
        .get(format!("{url}/{id}"))
        .header("X-API-Key", &key)
        .header("Accept", "application/xml")
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("<status>created</status>"));
    let r = c
        .get(format!("{url}/{id}"))
        .header("X-API-Key", &other)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "PSR-NTF-0001");

    // Refusals, each coded.
    let refusal = |k: String, body: Value, want: u16, code: &'static str| {
        refused_send(c.clone(), url.clone(), k, body, (want, code))
    };
    refusal(reader.clone(), req.clone(), 403, "PSR-API-0007").await;
    let mut paper = req.clone();
    paper["idempotency_key"] = json!("paper-2");
    refusal(other.clone(), paper, 403, "PSR-API-0007").await;
    let mut unknown = req.clone();
    unknown["recipient_psn"] = json!(psn(999).to_string());
    unknown["paper_delivery"] = json!(false);
    refusal(key.clone(), unknown, 404, "PSR-PSN-0004").await;
    let mut bad = req.clone();
    bad["recipient_psn"] = json!("12345");
    refusal(key.clone(), bad, 400, "PSR-PSN-0001").await;
    // A company by TIN needs the legal-entity registry (G.6): none is configured here.
    refusal(
        key.clone(),
        json!({"recipient_tin": "01234567", "subject": "s", "body": "b"}),
        503,
        "PSR-REG-0001",
    )
    .await;
    let mut no_subject = req.clone();
    no_subject["subject"] = json!("  ");
    refusal(key.clone(), no_subject, 400, "PSR-VAL-0006").await;
    let mut garbled = req.clone();
    garbled["attachments"][0]["content_base64"] = json!("not base64!");
    refusal(key.clone(), garbled, 400, "PSR-NTF-0004").await;
    let mut unknown_field = req.clone();
    unknown_field["priority"] = json!("high");
    refusal(key.clone(), unknown_field, 400, "PSR-VAL-0007").await;
    app.shutdown().await.unwrap();
}

async fn g_3_3_the_hourly_cap_per_address_defers_excess_mail_and_loses_none(db: TestDb) {
    let s = &db.store;
    sender_body(s, SENDER).await;
    let p = person(s, 9).await;
    let port = free_port();
    let server = SmtpServer::start(port);
    let mut cfg = portal_config(port);
    cfg.smtp.recipient_max_per_hour = 3;
    let m = Mailer::new(&cfg).unwrap();
    // Six e-mails to one address: the verification link, then five forwarded notifications.
    verified_email(s, p, "anna@example.am").await;
    for _ in 0..5 {
        s.send_notification(&caller(SENDER), &notification(p, None), &settings())
            .await
            .unwrap();
    }
    // Another address is not held back by anna's cap.
    let q = person(s, 10).await;
    verified_email(s, q, "vahe@example.am").await;
    let t0 = db.clock.now();
    let d = popreg_notify::deliver_due(s, &m).await.unwrap();
    assert_eq!((d.sent, d.failed, d.deferred), (4, 0, 3), "{d:?}");
    let to_anna = |msgs: &[Value]| {
        msgs.iter()
            .filter(|m| m["rcpt_tos"] == json!(["anna@example.am"]))
            .count()
    };
    assert_eq!(to_anna(&server.messages()), 3);
    // The three held back wait, unharmed: no attempt, no error, due when the first of the hour is an hour
    // old.
    let waiting: Vec<_> = s
        .outbox_recent(100)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.sent_at.is_none())
        .collect();
    assert_eq!(waiting.len(), 3, "{waiting:?}");
    for r in &waiting {
        assert_eq!(r.recipient, "anna@example.am");
        assert_eq!((r.attempts, r.last_error.as_deref()), (0, None));
        assert_eq!(r.next_attempt_at, t0 + Span::hours(1));
    }
    // Nothing more within the hour.
    db.clock.advance(Span::minutes(59));
    assert_eq!(
        popreg_notify::deliver_due(s, &m).await.unwrap(),
        Delivered::default()
    );
    // An hour later the rest goes out: nothing was lost.
    db.clock.advance(Span::minutes(2));
    let d = popreg_notify::deliver_due(s, &m).await.unwrap();
    assert_eq!((d.sent, d.failed, d.deferred), (3, 0, 0), "{d:?}");
    assert_eq!(to_anna(&server.messages()), 6);
    assert!(
        s.outbox_recent(100)
            .await
            .unwrap()
            .iter()
            .all(|r| r.sent_at.is_some())
    );
}

async fn g_3_3_the_email_rate_limit_paces_the_worker(db: TestDb) {
    let s = &db.store;
    sender_body(s, SENDER).await;
    let port = free_port();
    let server = SmtpServer::start(port);
    let mut cfg = portal_config(port);
    cfg.smtp.max_per_second = 10;
    cfg.smtp.burst = 2;
    let m = Mailer::new(&cfg).unwrap();
    for i in 0..7 {
        let p = person(s, 20 + i).await;
        s.add_email(p, &format!("p{i}@example.am"), "en", &settings())
            .await
            .unwrap();
    }
    // Seven e-mails at 10 a second, two at once: the last leaves 500 ms after the first at the earliest.
    let started = std::time::Instant::now();
    let d = popreg_notify::deliver_due(s, &m).await.unwrap();
    let took = started.elapsed();
    assert_eq!((d.sent, d.failed), (7, 0));
    assert_eq!(server.messages().len(), 7);
    assert!(
        took >= std::time::Duration::from_millis(490),
        "paced by the token bucket: {took:?}"
    );
}

/// The batch form of the sending API (issue 7): every notification written with its forwards and answered
/// with its own id in order, or — when one cannot be sent — none, with the refusal naming it; a batch sent
/// again is answered with the same ids and sends nothing twice.
async fn a1_5_6_the_batch_form_sends_all_or_none_and_answers_each_id(db: TestDb) {
    let s = &db.store;
    let (a, b) = (person(s, 31).await, person(s, 32).await);
    verified_email(s, a, "first@example.am").await;
    let key = keyed_body(s, SENDER, &[Function::SendNotifications]).await;
    let (app, c) = crate::api::spawn(&db).await;
    let url = format!("{}/api/v1/notifications/batch", app.url());
    let item = |to: Psn, key: &str| {
        json!({"recipient_psn": to.to_string(), "subject": "Ծանուցում", "body": "Խնդրում ենք ներկայանալ։",
               "idempotency_key": key})
    };
    let post = |body: Value| c.post(&url).header("X-API-Key", &key).json(&body).send();
    let outbox = |s: &Store| {
        let s = s.clone();
        async move {
            s.outbox_recent(100)
                .await
                .unwrap()
                .into_iter()
                .filter(|m| m.dedupe_key.starts_with("notification:"))
                .count()
        }
    };
    let before = outbox(s).await;

    // One notification to an unknown person: nothing is written, the refusal names it.
    let r = post(json!({"notifications": [item(a, "k-1"), item(psn(99), "k-2")]}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["code"], "PSR-PSN-0004", "{e}");
    assert!(
        e["detail"]
            .as_str()
            .unwrap()
            .starts_with("notifications[1]: "),
        "{e}"
    );
    assert_eq!(s.inbox(a, 0, 10).await.unwrap().total, 0);
    assert_eq!(outbox(s).await, before);

    // Two: both written, each with its own id, in order; the forward to the verified address too.
    let r = post(json!({"notifications": [item(a, "k-1"), item(b, "k-2")]}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let sent: Value = r.json().await.unwrap();
    let ids: Vec<String> = sent["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            assert_eq!(n["replayed"], false);
            assert_eq!(
                n["status_url"],
                format!("/api/v1/notifications/{}", n["id"].as_str().unwrap())
            );
            n["id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
    assert_eq!(s.inbox(a, 0, 10).await.unwrap().items[0].id, ids[0]);
    assert_eq!(s.inbox(b, 0, 10).await.unwrap().items[0].id, ids[1]);
    assert_eq!(
        outbox(s).await,
        before + 1,
        "one forward: a's verified address"
    );
    let st = s
        .notification_status(SENDER, &ids[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(st.destinations.len(), 2, "{st:?}");

    // The same batch again: the same ids, replays, nothing new.
    let r = post(json!({"notifications": [item(a, "k-1"), item(b, "k-2")]}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let again: Value = r.json().await.unwrap();
    assert_eq!(again["notifications"][0]["id"], ids[0].as_str());
    assert_eq!(again["notifications"][1]["id"], ids[1].as_str());
    assert_eq!(again["notifications"][1]["replayed"], true);
    assert_eq!(s.inbox(a, 0, 10).await.unwrap().total, 1);
    assert_eq!(outbox(s).await, before + 1);

    // The limits: an empty batch, paper delivery, the header key.
    let r = post(json!({"notifications": []})).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "PSR-VAL-0011");
    let mut paper = item(a, "k-3");
    paper["paper_delivery"] = json!(true);
    let r = post(json!({"notifications": [item(b, "k-4"), paper]}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let e: Value = r.json().await.unwrap();
    assert!(
        e["detail"]
            .as_str()
            .unwrap()
            .starts_with("notifications[1]: paper_delivery"),
        "{e}"
    );
    let r = c
        .post(&url)
        .header("X-API-Key", &key)
        .header("Idempotency-Key", "k-5")
        .json(&json!({"notifications": [item(b, "k-5")]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(s.inbox(b, 0, 10).await.unwrap().total, 1);
}
