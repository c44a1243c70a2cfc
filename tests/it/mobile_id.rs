//! Mobile ID (issue 4 §3, G.2m, G.8) against a real server: a code generated in the portal, the app's
//! enrolment with an Ed25519 key made here, a login started on the login page, approved by the phone's
//! signature and taken by the waiting browser; expired and reused codes, throttled guessing, wrong
//! signatures, revoked devices, and another person's device that cannot be revoked.

use base64::Engine;
use chrono::Duration;
use popreg_domain::*;
use popreg_store::{LoginContext, LoginMethod, MobileLoginState, SessionLimits};
use reqwest::header::{COOKIE, SET_COOKIE};
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::{Value, json};

use crate::common::*;
use crate::portal::{acts, client, demo_site, form, location, session_cookie};

crate::conformance!(
    g_2m_enrol_a_phone_and_log_in_by_its_signature,
    g_2m_codes_expire_are_single_use_and_guessing_is_throttled,
    g_8_revoked_devices_and_other_persons_devices,
);

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn key_pair() -> Ed25519KeyPair {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap()
}

/// A portal session for `p`, opened in the store: (cookie, CSRF token).
async fn session(db: &TestDb, p: Psn) -> (String, String) {
    let (token, s) = db
        .store
        .open_session(
            p,
            LoginMethod::IdCard,
            SessionLimits::default(),
            &LoginContext::default(),
        )
        .await
        .unwrap();
    (format!("psr_session={token}"), s.csrf)
}

/// The text of the devices page.
async fn devices_page(url: &str, cookie: &str) -> String {
    let r = client()
        .get(format!("{url}/my/mobile-id"))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap();
    r.text().await.unwrap()
}

/// POST a form of the portal with a session.
async fn post_form(
    url: &str,
    path: &str,
    cookie: &str,
    pairs: &[(&str, &str)],
) -> reqwest::Response {
    client()
        .post(format!("{url}{path}"))
        .header("Origin", url)
        .header(COOKIE, cookie)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form(pairs))
        .send()
        .await
        .unwrap()
}

/// POST to the app's API: (status, body).
async fn api(url: &str, path: &str, body: Value) -> (u16, Value) {
    let r = client()
        .post(format!("{url}/api/v1/mobile-id/{path}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// The code shown in `<strong class="code">…</strong>`.
fn shown_code(page: &str) -> String {
    let start = page
        .find("<strong class=\"code\">")
        .expect("a code on the page")
        + 21;
    page[start..].split('<').next().unwrap().to_string()
}

/// Generate an enrolment code in the portal.
async fn generate(url: &str, cookie: &str, csrf: &str) -> String {
    let r = post_form(url, "/my/mobile-id/code", cookie, &[("csrf", csrf)]).await;
    assert_eq!(r.status(), 200);
    let code = shown_code(&r.text().await.unwrap());
    assert_eq!(code.len(), 8, "{code}");
    code
}

async fn enrol(url: &str, code: &str, key: &Ed25519KeyPair) -> (u16, Value) {
    api(
        url,
        "enrol",
        json!({ "code": code, "device_name": "Pixel", "public_key": b64(key.public_key().as_ref()) }),
    )
    .await
}

/// Start a login on the login page: the waiting browser's cookie.
async fn start_login(url: &str, p: Psn) -> String {
    let r = client()
        .post(format!("{url}/login/mobile"))
        .header("Origin", url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form(&[("psn", p.to_string().as_str()), ("next", "/my")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/login/mobile/wait?next=/my");
    let set = r
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("psr_mobile_login="))
        .expect("the waiting browser's cookie");
    assert!(set.contains("HttpOnly"), "{set}");
    set.split(';').next().unwrap().to_string()
}

async fn wait(url: &str, cookie: &str) -> reqwest::Response {
    client()
        .get(format!("{url}/login/mobile/wait?next=/my"))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap()
}

/// Sign a challenge answer as the app does.
fn signature(key: &Ed25519KeyPair, ch: &Value) -> String {
    let msg = popreg_store::signed_message(
        ch["challenge_id"].as_str().unwrap(),
        ch["login_id"].as_str().unwrap(),
        ch["verification_code"].as_str().unwrap(),
        ch["nonce"].as_str().unwrap(),
    );
    b64(key.sign(&msg).as_ref())
}

async fn g_2m_enrol_a_phone_and_log_in_by_its_signature(db: TestDb) {
    let p = psn(5101);
    let app = demo_site(&db, p).await;
    let url = app.url();
    let (cookie, csrf) = session(&db, p).await;
    // The devices page: none yet; a code generated with the CSRF token, not without.
    let page = client()
        .get(format!("{url}/my/mobile-id?lang=en"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("No device is linked yet")
    );
    let forged = post_form(&url, "/my/mobile-id/code", &cookie, &[("csrf", "nope")]).await;
    assert_eq!(forged.status(), 403);
    let code = generate(&url, &cookie, &csrf).await;
    assert!(
        code.bytes()
            .all(|b| popreg_store::CODE_ALPHABET.contains(&b))
    );

    // The app enrols its key; the code is spent.
    let key = key_pair();
    let (status, body) = enrol(&url, &code.to_lowercase(), &key).await;
    assert_eq!(status, 200, "{body}");
    let device = body["device_id"].as_str().unwrap().to_string();
    let (status, body) = enrol(&url, &code, &key).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("PSR-MID-0003")));
    assert_eq!(acts(&db, "mobile_id_enrol").await, 1);
    let listed = devices_page(&url, &cookie).await;
    assert!(listed.contains("Pixel") && listed.contains(&format!("/my/mobile-id/{device}/revoke")));

    // Before any login is started, the app has nothing to approve.
    let (status, body) = api(&url, "challenge", json!({ "device_id": device })).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("PSR-MID-0007")));

    // The login page offers Mobile ID; the browser starts a login and waits, showing the verification code.
    let login = client()
        .get(format!("{url}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(login.contains("action=\"/login/mobile\""));
    let waiting = start_login(&url, p).await;
    let r = wait(&url, &waiting).await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("<meta http-equiv=\"refresh\""), "{page}");
    assert!(!page.contains("<script"));

    // The app gets the challenge with the same verification code.
    let (status, ch) = api(&url, "challenge", json!({ "device_id": device })).await;
    assert_eq!(status, 200, "{ch}");
    let verification = ch["verification_code"].as_str().unwrap();
    assert_eq!(shown_code(&page), verification);

    // A signature by another key is refused, spends the challenge, opens nothing.
    let (status, body) = api(
        &url,
        "sign",
        json!({ "challenge_id": ch["challenge_id"], "signature": signature(&key_pair(), &ch) }),
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (401, Some("PSR-MID-0009")));
    let (status, body) = api(
        &url,
        "sign",
        json!({ "challenge_id": ch["challenge_id"], "signature": signature(&key, &ch) }),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (410, Some("PSR-MID-0008")),
        "reused challenge"
    );
    assert_eq!(wait(&url, &waiting).await.status(), 200, "still waiting");

    // A fresh challenge signed by the device approves the login.
    let (_, ch) = api(&url, "challenge", json!({ "device_id": device })).await;
    let (status, body) = api(
        &url,
        "sign",
        json!({ "challenge_id": ch["challenge_id"], "signature": signature(&key, &ch) }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(acts(&db, "mobile_id_approve").await, 1);

    // The waiting browser takes it: a session cookie, and the desk opens with it. Only once.
    let r = wait(&url, &waiting).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/my");
    let set = session_cookie(&r).expect("a session cookie");
    let new_cookie = set.split(';').next().unwrap().to_string();
    let desk = client()
        .get(format!("{url}/my"))
        .header(COOKIE, &new_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(desk.status(), 200);
    assert_eq!(wait(&url, &waiting).await.status(), 410);
    let sessions = db.store.sessions_of(p, 10).await.unwrap();
    assert_eq!(sessions[0].method, "mobile_id");
    let listed = devices_page(&url, &cookie).await;
    assert!(db.store.devices_of(p).await.unwrap()[0].last_used.is_some());
    assert!(listed.contains("Pixel"));
}

async fn g_2m_codes_expire_are_single_use_and_guessing_is_throttled(db: TestDb) {
    let p = psn(5201);
    let app = demo_site(&db, p).await;
    let url = app.url();
    let key = key_pair();
    // An expired code.
    let code = db.store.new_enrolment_code(p).await.unwrap();
    db.clock
        .advance(popreg_store::CODE_LIFE + Duration::seconds(1));
    let (status, body) = enrol(&url, &code.code, &key).await;
    assert_eq!((status, body["code"].as_str()), (410, Some("PSR-MID-0002")));
    // A new code ends the older unused one.
    let first = db.store.new_enrolment_code(p).await.unwrap();
    let second = db.store.new_enrolment_code(p).await.unwrap();
    let (status, _) = enrol(&url, &first.code, &key).await;
    assert_eq!(status, 409);
    // A malformed key spends nothing.
    let (status, body) = api(
        &url,
        "enrol",
        json!({ "code": second.code, "device_name": "Pixel", "public_key": "AAAA" }),
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (400, Some("PSR-MID-0004")));
    // Guessing: each wrong code is 401; past the limit even the right code is refused for a while.
    for _ in 0..popreg_store::MAX_WRONG_CODES {
        let (status, body) = enrol(&url, "ABCDEFGH", &key).await;
        assert_eq!((status, body["code"].as_str()), (401, Some("PSR-MID-0001")));
    }
    let (status, body) = enrol(&url, &second.code, &key).await;
    assert_eq!((status, body["code"].as_str()), (429, Some("PSR-MID-0010")));
    db.clock.advance(popreg_store::WRONG_CODE_WINDOW);
    let fresh = db.store.new_enrolment_code(p).await.unwrap();
    let (status, body) = enrol(&url, &fresh.code, &key).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(acts(&db, "mobile_id_enrol").await, 1);
}

async fn g_8_revoked_devices_and_other_persons_devices(db: TestDb) {
    let p = psn(5301);
    let q = psn(5302);
    let app = demo_site(&db, p).await;
    let url = app.url();
    let s = &db.store;
    let key = key_pair();
    let code = s.new_enrolment_code(p).await.unwrap();
    let device = s
        .enrol_device(&code.code, "Pixel", &b64(key.public_key().as_ref()), "test")
        .await
        .unwrap();

    // An expired challenge and an expired login.
    let waiting = s.start_mobile_login(p).await.unwrap();
    let ch = serde_json::to_value(s.mobile_id_challenge(&device).await.unwrap()).unwrap();
    db.clock
        .advance(popreg_store::CHALLENGE_LIFE + Duration::seconds(1));
    let err = s
        .mobile_id_sign(ch["challenge_id"].as_str().unwrap(), &signature(&key, &ch))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::MobileIdChallengeInvalid);
    db.clock.advance(popreg_store::LOGIN_LIFE);
    assert_eq!(
        s.mobile_login_state(&waiting.browser_token).await.unwrap(),
        MobileLoginState::Ended
    );

    // Another person cannot revoke p's device.
    let (q_cookie, q_csrf) = session(&db, q).await;
    let path = format!("/my/mobile-id/{device}/revoke");
    let r = post_form(&url, &path, &q_cookie, &[("csrf", &q_csrf)]).await;
    assert_eq!(r.status(), 404);
    assert_eq!(s.devices_of(p).await.unwrap().len(), 1);

    // p has a challenge in hand, then revokes the device: the signature is refused, nothing opens.
    let waiting = s.start_mobile_login(p).await.unwrap();
    let ch = serde_json::to_value(s.mobile_id_challenge(&device).await.unwrap()).unwrap();
    let (p_cookie, p_csrf) = session(&db, p).await;
    let r = post_form(&url, &path, &p_cookie, &[("csrf", "wrong")]).await;
    assert_eq!(r.status(), 403, "CSRF");
    let r = post_form(&url, &path, &p_cookie, &[("csrf", &p_csrf)]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/my/mobile-id?revoked=1");
    assert!(s.devices_of(p).await.unwrap().is_empty());
    assert_eq!(acts(&db, "mobile_id_revoke").await, 1);
    let (status, body) = api(
        &url,
        "sign",
        json!({ "challenge_id": ch["challenge_id"], "signature": signature(&key, &ch) }),
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (403, Some("PSR-MID-0006")));
    let (status, body) = api(&url, "challenge", json!({ "device_id": device })).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("PSR-MID-0006")));
    assert!(matches!(
        s.mobile_login_state(&waiting.browser_token).await.unwrap(),
        MobileLoginState::Waiting { .. }
    ));
    assert_eq!(acts(&db, "mobile_id_approve").await, 0);
    // A second revocation is refused too.
    let r = post_form(&url, &path, &p_cookie, &[("csrf", &p_csrf)]).await;
    assert_eq!(r.status(), 404);
}
