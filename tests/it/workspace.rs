//! The provider workspace over real TLS with an ID-card client certificate (curl with a cookie jar): an
//! employee of a hospital submits a birth through the generated form; refusals come back next to the
//! fields and are in the rejection log; a form without the CSRF token, a card holder who is not an
//! employee and a connection without a card are refused.

use std::path::Path;

use chrono::{TimeZone, Utc};
use popreg_domain::access::{BodyType, Function};
use popreg_domain::*;
use popreg_store::NewBody;

use crate::common::*;
use crate::identity::Pki;

/// `curl` in the PKI directory with a cookie jar, with the card or without: (status, body).
fn curl(dir: &Path, args: &[&str], card: bool) -> (String, String) {
    crate::identity::curl_in(dir, card.then_some("card"), args)
}

fn token(page: &str) -> String {
    page.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a1_35_an_employee_submits_a_birth_through_the_web_form_with_an_id_card() {
    let pki = Pki::new();
    let db = TestDb::sqlite().await;
    db.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap());
    db.store
        .create_body(
            "test",
            &NewBody {
                id: "MED-0001".into(),
                body_type: BodyType::MedicalOrganization,
                name_hy: "Սուրբ Աստվածամայր բժշկական կենտրոն".into(),
                name_en: "Surb Astvatsamayr Medical Centre".into(),
                name_ru: "Медицинский центр Сурб Аствацамайр".into(),
                xroad_member: None,
                contact_email: None,
            },
        )
        .await
        .unwrap();
    let mother = psn(777);
    db.store
        .append(
            &prov("MIGR-01"),
            vec![NewEntry::new(
                mother,
                registration("Անի", "Պետրոսյան", d(1995, 3, 10), Sex::F),
            )],
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
    let run = |args: Vec<String>, card: bool| {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || {
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            curl(&dir, &a, card)
        })
    };

    // Without a card: a page that says to log in with it. A card holder who is no employee: refused.
    let (s, body) = run(vec![format!("{url}/workspace?lang=en")], false)
        .await
        .unwrap();
    assert_eq!(s, "401", "{body}");
    assert!(body.contains("Log in with your ID card"), "{body}");
    let (s, _) = run(vec![format!("{url}/workspace?lang=en")], true)
        .await
        .unwrap();
    assert_eq!(s, "403");

    db.store
        .add_employee("test", "MED-0001", pki.holder, &[Function::Submit])
        .await
        .unwrap();
    let (s, body) = run(vec![format!("{url}/workspace?lang=hy")], true)
        .await
        .unwrap();
    assert_eq!(s, "200", "{body}");
    assert!(body.contains("Սուրբ Աստվածամայր"), "{body}");
    assert!(body.contains("/workspace/birth"), "{body}");
    assert!(
        !body.contains("/workspace/marriage"),
        "only what the body is competent for"
    );

    let (s, form) = run(vec![format!("{url}/workspace/birth?lang=en")], true)
        .await
        .unwrap();
    assert_eq!(s, "200", "{form}");
    assert!(form.contains("name=\"mother.psn\""), "{form}");
    let csrf = token(&form);

    // A birth with the surname missing: the form comes back with the error next to the field, the typed
    // values kept, and the refusal is in the rejection log.
    let post = |fields: Vec<(&str, String)>| {
        let mut args = vec![format!("{url}/workspace/birth?lang=en")];
        for (k, v) in fields {
            args.push("--data-urlencode".into());
            args.push(format!("{k}={v}"));
        }
        run(args, true)
    };
    let base = |csrf: &str| {
        vec![
            ("csrf", csrf.to_string()),
            ("first_name", "Արամ".to_string()),
            ("sex", "M".to_string()),
            ("birth_date", "2026-11-20".to_string()),
            ("birth_place.country", "AM".to_string()),
            ("birth_place.marz", "AM-ER".to_string()),
            ("mother.psn", mother.to_string()),
        ]
    };
    let (s, body) = post(base(&csrf)).await.unwrap();
    assert_eq!(s, "400", "{body}");
    assert!(body.contains("id=\"surname-error\""), "{body}");
    assert!(body.contains("PSR-VAL-0006"), "{body}");
    assert!(
        body.contains("value=\"Արամ\""),
        "the typed values are kept: {body}"
    );
    let log = db.store.rejections(Some("MED-0001"), 0, 10).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].channel, "web");
    assert_eq!(log[0].user_uid, pki.holder.to_string());

    // Without the token (a cross-site form): refused, and nothing is logged as a submission.
    let mut forged = base("0000");
    forged.push(("surname", "Պետրոսյան".into()));
    let (s, _) = post(forged).await.unwrap();
    assert_eq!(s, "403");

    let mut ok = base(&csrf);
    ok.push(("surname", "Պետրոսյան".into()));
    let (s, body) = post(ok).await.unwrap();
    assert_eq!(s, "201", "{body}");
    let child = body
        .split("<dd id=\"psn\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap();
    let child = db
        .store
        .unaudited()
        .person(Psn::parse(child).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(child.names.first.hy, "Արամ");
    let entry = &db.store.unaudited().entries(child.psn).await.unwrap()[0];
    assert_eq!(entry.channel, Channel::Web);
    assert_eq!(entry.user_uid, pki.holder.to_string());
    assert_eq!(
        db.store
            .rejections(Some("MED-0001"), 0, 10)
            .await
            .unwrap()
            .len(),
        1
    );

    // The manager's page needs `manage_register`: a hospital clerk is refused; as the register's manager the
    // same card holder sees the hospital's counts, the reason codes and the chart (A1.50).
    let (s, _) = run(vec![format!("{url}/manage?lang=en")], true)
        .await
        .unwrap();
    assert_eq!(s, "403");
    db.store
        .create_body(
            "test",
            &NewBody {
                id: "OPS-01".into(),
                body_type: BodyType::Operator,
                name_hy: "Ռեգիստրի վարող".into(),
                name_en: "Register operator".into(),
                name_ru: "Оператор регистра".into(),
                xroad_member: None,
                contact_email: None,
            },
        )
        .await
        .unwrap();
    db.store
        .add_employee("test", "OPS-01", pki.holder, &[Function::ManageRegister])
        .await
        .unwrap();
    let (s, body) = run(vec![format!("{url}/manage?lang=en&from=2026-11-01")], true)
        .await
        .unwrap();
    assert_eq!(s, "200", "{body}");
    assert!(
        body.contains("<td>MED-0001</td><td>2</td><td>1</td><td>50.0 %</td>"),
        "{body}"
    );
    assert!(body.contains("PSR-VAL-0006"), "{body}");
    assert!(body.contains("<svg role=\"img\""), "{body}");
    running.shutdown().await.unwrap();
}
