//! Versioned notification templates and HTML e-mail (issue 7, item 2; A1.5.6, G.3.2–3), on SQLite and
//! PostgreSQL, with the real SMTP peer of `notify.rs` (aiosmtpd, messages decoded by Python's `email`):
//!
//! - a new version saved by an administrator is used for messages enqueued after it, while a message
//!   queued before keeps (and is delivered with) the version current when it was enqueued; the status API
//!   shows the version; a version in one language leaves the others as they were;
//! - the administration's form refuses an unknown or missing placeholder and text that is not Fluent with
//!   a coded error next to the field, needs `manage_access` and the session's CSRF token, and every
//!   version is an audit act;
//! - e-mails are `multipart/alternative` with the text and an HTML part rendered from the same version:
//!   Armenian intact, HTML special characters of the parameters escaped, links only to the portal.

use popreg_domain::access::{BodyType, Function};
use popreg_notify::Mailer;
use popreg_store::Store;
use serde_json::{Value, json};

use crate::admin::{Site, new_body, session};
use crate::common::*;
use crate::notifications_api::{
    caller, notification, person, sender_body, settings, verified_email,
};
use crate::notify::{SmtpServer, body, config, free_port, rejected_birth};

crate::conformance!(
    issue_7_a_new_template_version_is_used_for_new_messages_and_queued_ones_keep_theirs,
    a1_5_6_the_status_api_shows_the_template_version_of_each_copy,
    issue_7_the_administration_saves_versions_with_placeholders_checked_rights_and_csrf,
    g_3_2_e_mails_are_multipart_alternative_with_escaped_html,
);

const ADMIN_UID: &str = "3000000001";

async fn deliver_all(store: &Store, port: u16) {
    let m = Mailer::new(&config(port)).unwrap();
    popreg_notify::deliver_due(store, &m).await.unwrap();
}

fn by_subject<'a>(mails: &'a [Value], prefix: &str) -> Vec<&'a Value> {
    mails
        .iter()
        .filter(|m| m["subject"].as_str().unwrap_or("").starts_with(prefix))
        .collect()
}

async fn issue_7_a_new_template_version_is_used_for_new_messages_and_queued_ones_keep_theirs(
    db: TestDb,
) {
    let s = &db.store;
    body(s, "MED-0001", "births@hospital.example.am").await;
    assert_eq!(s.template_version_current("rejection").await.unwrap(), 1);
    rejected_birth(s, "MED-0001").await;
    let first = s.outbox_recent(1).await.unwrap().remove(0);
    assert_eq!(
        (first.template.as_str(), first.template_version),
        ("rejection", 1)
    );

    // Version 2: a new Armenian text (the row above is still queued).
    let v = s
        .add_template_version(
            ADMIN_UID,
            "rejection",
            "hy",
            "Նոր տարբերակ՝ { $kind_title } ({ $code })",
            "Ներկայացումը { $submission_id } մերժվել է։\n\n{ $errors }\n\n{ $footer }",
        )
        .await
        .unwrap();
    assert_eq!((v.version, v.lang.as_str()), (2, "hy"));
    assert_eq!(s.template_version_current("rejection").await.unwrap(), 2);
    rejected_birth(s, "MED-0001").await;
    // Version 3 changes only the English text: Armenian rows of version 3 use version 2's Armenian text.
    s.add_template_version(
        ADMIN_UID,
        "rejection",
        "en",
        "Rejected: { $code }",
        "{ $submission_id }\n{ $errors }",
    )
    .await
    .unwrap();
    rejected_birth(s, "MED-0001").await;
    let mut rows = s.outbox_recent(3).await.unwrap();
    rows.reverse();
    let versions: Vec<i64> = rows.iter().map(|r| r.template_version).collect();
    assert_eq!(versions, vec![1, 2, 3]);
    assert_eq!(rows[0].id, first.id, "the queued row kept version 1");

    let listed = s.template_versions("rejection").await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|v| (v.version, v.lang.as_str(), v.created_by.as_str()))
            .collect::<Vec<_>>(),
        vec![(3, "en", ADMIN_UID), (2, "hy", ADMIN_UID)]
    );
    assert_eq!(
        s.template_text("rejection", "hy", 3)
            .await
            .unwrap()
            .unwrap()
            .version,
        2
    );
    assert!(
        s.template_text("rejection", "hy", 1)
            .await
            .unwrap()
            .is_none()
    );
    // Each version is an audit act of the administrator.
    let acts = s.access_events(Some("rejection:2")).await.unwrap();
    assert_eq!(acts.len(), 1, "{acts:?}");
    assert_eq!(
        (acts[0].action.as_str(), acts[0].actor.as_str()),
        ("template.version", ADMIN_UID)
    );

    let port = free_port();
    let server = SmtpServer::start(port);
    deliver_all(s, port).await;
    let got = server.messages();
    assert_eq!(got.len(), 3);
    // Delivered in queue order: version 1 (the shipped text), then version 2's text twice.
    assert_eq!(
        got[0]["subject"],
        "Ներկայացումը մերժվել է՝ Ծնունդ (PSR-VAL-0002)"
    );
    for m in &got[1..] {
        assert_eq!(m["subject"], "Նոր տարբերակ՝ Ծնունդ (PSR-VAL-0002)");
        let text = m["body"].as_str().unwrap();
        assert!(
            text.contains("մերժվել է։") && text.contains("Դաշտ՝ birth_date"),
            "{text}"
        );
        // The HTML part is rendered from the same version.
        let html = m["html"].as_str().unwrap();
        assert!(
            html.contains("Նոր տարբերակ՝ Ծնունդ (PSR-VAL-0002)"),
            "{html}"
        );
    }
    assert_eq!(by_subject(&got, "Rejected").len(), 0);
}

async fn a1_5_6_the_status_api_shows_the_template_version_of_each_copy(db: TestDb) {
    let s = &db.store;
    sender_body(s, "TAX-0001").await;
    let p = person(s, 7101).await;
    verified_email(s, p, "anna@home.example.am").await;
    let one = s
        .send_notification(
            &caller("TAX-0001"),
            &notification(p, Some("k1")),
            &settings(),
        )
        .await
        .unwrap();
    s.add_template_version(
        ADMIN_UID,
        "forwarded",
        "en",
        "New notice: { $subject }",
        "{ $text }\n\nOpen it: { $inbox_url }\nForwarding settings: { $forwarding_url }",
    )
    .await
    .unwrap();
    let two = s
        .send_notification(
            &caller("TAX-0001"),
            &notification(p, Some("k2")),
            &settings(),
        )
        .await
        .unwrap();
    for (sent, version) in [(&one, 1), (&two, 2)] {
        let st = s
            .notification_status("TAX-0001", &sent.id)
            .await
            .unwrap()
            .unwrap();
        let email = st
            .destinations
            .iter()
            .find(|d| d.channel == "email")
            .unwrap();
        assert_eq!(email.template_version, Some(version), "{st:?}");
        let portal = &st.destinations[0];
        assert_eq!(
            (portal.channel.as_str(), portal.template_version),
            ("portal", None)
        );
        let j = serde_json::to_value(&st).unwrap();
        assert_eq!(j["destinations"][1]["template_version"], json!(version));
    }
    let port = free_port();
    let server = SmtpServer::start(port);
    deliver_all(s, port).await;
    let got = server.messages();
    let new = by_subject(&got, "New notice: ");
    assert_eq!(new.len(), 1, "{got:?}");
    let text = new[0]["body"].as_str().unwrap();
    assert!(
        text.contains("Open it: https://e-citizen.example.am/my/inbox/"),
        "{text}"
    );
    // The copy queued before the edit went out with the shipped text.
    let old: Vec<_> = got
        .iter()
        .filter(|m| {
            m["rcpt_tos"] == json!(["anna@home.example.am"])
                && m["body"]
                    .as_str()
                    .unwrap_or("")
                    .contains("You have a new notification")
        })
        .collect();
    assert_eq!(old.len(), 1, "{got:?}");
}

async fn issue_7_the_administration_saves_versions_with_placeholders_checked_rights_and_csrf(
    db: TestDb,
) {
    let s = &db.store;
    new_body(s, "OPS-0001", BodyType::Operator).await;
    let admin = psn(5401);
    s.add_employee("test", "OPS-0001", admin, &[Function::ManageAccess])
        .await
        .unwrap();
    let (cookie, csrf) = session(s, admin).await;
    let site = Site::new(&db).await;

    let (st, page, _) = site.get(&cookie, "/admin/templates?lang=en").await;
    assert_eq!(st, 200, "{page}");
    assert!(
        page.contains("href=\"/admin/templates/verification?lang=en\""),
        "{page}"
    );
    assert!(page.contains("Current version: 1."), "{page}");
    let (st, page, _) = site
        .get(&cookie, "/admin/templates/verification?lang=en")
        .await;
    assert_eq!(st, 200, "{page}");
    // A form per language, filled with the current (shipped) text, and the placeholders listed.
    for l in ["hy", "en", "ru"] {
        assert!(page.contains(&format!("id=\"v-{l}-body\"")), "{l}");
    }
    assert!(page.contains("{ $link }"), "{page}");
    assert!(page.contains("E-Citizen email verification"), "{page}");
    let (st, _, _) = site.get(&cookie, "/admin/templates/nonesuch?lang=en").await;
    assert_eq!(st, 404);

    let good_body = "Open { $link } before { $expires_at }.\n\n{ $portal_footer }";
    let form = |subject: &'static str, body: &'static str| {
        vec![("text_lang", "en"), ("subject", subject), ("body", body)]
    };
    // No CSRF token: refused, nothing saved.
    let (st, _, _) = site
        .post(
            &cookie,
            "/admin/templates/verification?lang=en",
            &form("Verify", good_body),
        )
        .await;
    assert_eq!(st, 403);
    // A citizen (no manage_access): refused.
    let (citizen, citizen_csrf) = session(s, psn(5402)).await;
    let mut f = form("Verify", good_body);
    f.push(("csrf", &citizen_csrf));
    let (st, _, _) = site
        .post(&citizen, "/admin/templates/verification?lang=en", &f)
        .await;
    assert_eq!(st, 403);
    assert_eq!(s.template_version_current("verification").await.unwrap(), 1);

    // Refusals, with the code next to the field and what was typed kept.
    for (subject, body, field, code) in [
        (
            "Verify",
            "Open { $nonesuch } { $link }",
            "body",
            "PSR-NTF-0008",
        ),
        ("Verify { $token }", good_body, "subject", "PSR-NTF-0008"),
        (
            "Verify",
            "Open the link in your mail.",
            "body",
            "PSR-NTF-0009",
        ),
        ("Verify", "Open { $link", "body", "PSR-NTF-0010"),
        (
            "Verify",
            "Open { portal-footer } { $link }",
            "body",
            "PSR-NTF-0008",
        ),
        ("", good_body, "subject", "PSR-VAL-0006"),
    ] {
        let mut f = form(subject, body);
        f.push(("csrf", &csrf));
        let (st, page, _) = site
            .post(&cookie, "/admin/templates/verification?lang=en", &f)
            .await;
        assert_eq!(st, 422, "{body}: {page}");
        assert!(
            page.contains(&format!("id=\"v-en-{field}-error\"")) && page.contains(code),
            "{body}: {code} at {field}:\n{page}"
        );
        assert!(page.contains("aria-invalid=\"true\""));
    }
    let (_, page, _) = site
        .post(
            &cookie,
            "/admin/templates/verification?lang=hy",
            &[
                ("text_lang", "en"),
                ("subject", "Verify"),
                ("body", "Open { $nonesuch } { $link }"),
                ("csrf", &csrf),
            ],
        )
        .await;
    // In Armenian, with the placeholder named; the typed text kept (escaped).
    assert!(
        page.contains("Անհայտ տեղապահ ձևանմուշում (PSR-NTF-0008): $nonesuch"),
        "{page}"
    );
    assert!(
        page.contains("Open { $nonesuch } { $link }</textarea>"),
        "{page}"
    );
    assert_eq!(s.template_version_current("verification").await.unwrap(), 1);

    let mut f = form("Verify your address", good_body);
    f.push(("csrf", &csrf));
    let (st, _, loc) = site
        .post(&cookie, "/admin/templates/verification?lang=en", &f)
        .await;
    assert_eq!(
        (st, loc.as_deref()),
        (303, Some("/admin/templates/verification?lang=en&done=2"))
    );
    let (_, page, _) = site
        .get(&cookie, "/admin/templates/verification?lang=en&done=2")
        .await;
    assert!(page.contains("Version 2 saved."), "{page}");
    assert!(
        page.contains(&format!("<td>2</td><td>English</td><td>{admin}</td>")),
        "{page}"
    );
    assert!(page.contains("Verify your address"));
    let v = s
        .template_text("verification", "en", 2)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (v.subject.as_str(), v.body.as_str()),
        ("Verify your address", good_body)
    );
    let acts = s.access_events(Some("verification:2")).await.unwrap();
    assert_eq!(acts.len(), 1);
    assert_eq!(acts[0].actor, admin.to_string());
    // The overview previews the current version.
    let (_, page, _) = site.get(&cookie, "/admin/templates?lang=en").await;
    assert!(page.contains("Current version: 2.") && page.contains("Verify your address"));
    assert!(!page.contains("class=\"err\""), "{page}");
    site.app.shutdown().await.unwrap();
}

async fn g_3_2_e_mails_are_multipart_alternative_with_escaped_html(db: TestDb) {
    let s = &db.store;
    let mut params = popreg_notify::templates::sample_params("forwarded");
    params["subject"] = json!("Ծանուցում <b>կարևոր</b> & \"շտապ\"");
    params["text"] = json!(
        "Հարգելի քաղաքացի <script>alert(1)</script> & 'Co'\nhttps://evil.example/x\n\nԽնդրում ենք ներկայանալ։"
    );
    s.outbox_enqueue(
        "email",
        "anna@home.example.am",
        "forwarded",
        "hy",
        &params,
        "html-test:1",
    )
    .await
    .unwrap();
    let port = free_port();
    let server = SmtpServer::start(port);
    deliver_all(s, port).await;
    let got = server.messages();
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m["content_type"], "multipart/alternative");
    assert_eq!(m["parts"], json!(["text/plain", "text/html"]));
    assert_eq!(
        m["subject"],
        "Պետական եկամուտների կոմիտե՝ Ծանուցում <b>կարևոր</b> & \"շտապ\""
    );
    let text = m["body"].as_str().unwrap();
    assert!(
        text.contains("Հարգելի քաղաքացի <script>alert(1)</script> & 'Co'"),
        "{text}"
    );
    let html = m["html"].as_str().unwrap();
    assert!(html.contains("<html lang=\"hy\">"), "{html}");
    assert!(
        html.contains("Հարգելի քաղաքացի &lt;script&gt;alert(1)&lt;/script&gt; &amp; &#39;Co&#39;"),
        "{html}"
    );
    assert!(
        html.contains("Ծանուցում &lt;b&gt;կարևոր&lt;/b&gt; &amp; &quot;շտապ&quot;"),
        "{html}"
    );
    assert!(
        html.contains("Խնդրում ենք ներկայանալ։"),
        "Armenian intact: {html}"
    );
    assert!(!html.contains("<script") && !html.contains("<b>") && !html.contains("<img"));
    assert!(
        html.contains("<a href=\"https://e-citizen.example.am/my/inbox/n1\""),
        "{html}"
    );
    assert!(
        html.contains("<a href=\"https://e-citizen.example.am/my/forwarding\""),
        "{html}"
    );
    assert!(!html.contains("href=\"https://evil.example"), "{html}");
    assert_eq!(html.matches("<a ").count(), 2, "{html}");
}
