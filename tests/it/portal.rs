//! The e-Citizen portal's sessions and pages (issue 4 §4, issue 6 §2–3, G.2, G.3.4, G.9), against a real
//! server: login with the demo's card chooser (and its refusal outside the demo), the session cookie, CSRF
//! on logout, idle and absolute timeouts, login and logout in the audit trail, the language switch, "my
//! data" through the citizen's gate with sources and the extra click for convictions. ID-card login over
//! real TLS is in `identity.rs`-style below (`g_2_id_card_login_over_tls_opens_a_session`).

use chrono::Duration;
use popreg_domain::*;
use popreg_store::{LoginContext, LoginMethod, SessionLimits, SessionLookup};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

use crate::common::*;

crate::conformance!(
    g_2_sessions_open_touch_and_end_by_logout_idle_and_absolute_limit,
    g_2_demo_card_login_desk_data_and_logout,
    a1_30_the_persons_own_reads_are_logged_but_not_in_their_usage_view,
    g_3_1_the_inbox_and_the_forwarding_settings_in_the_portal,
    a1_21_a_person_declares_the_address_for_notices_in_the_portal,
);

fn limits() -> SessionLimits {
    SessionLimits {
        idle: Duration::minutes(15),
        absolute: Duration::hours(8),
    }
}

/// How many leaves of the audit trail record an act `action` (login, logout, session_end).
pub(crate) async fn acts(db: &TestDb, action: &str) -> i64 {
    let like = format!("%\"action\":\"{action}\"%");
    count(
        db,
        "SELECT COUNT(*) FROM audit_log WHERE kind = 'act' AND data LIKE $1",
        &like,
    )
    .await
}

/// A count over the database with one text parameter, read around the store.
async fn count(db: &TestDb, sql: &'static str, param: &str) -> i64 {
    if db.url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        sqlx::query_scalar(sql)
            .bind(param)
            .fetch_one(&pool)
            .await
            .unwrap()
    } else {
        let pool = db.raw_pg().await;
        sqlx::query_scalar(sql)
            .bind(param)
            .fetch_one(&pool)
            .await
            .unwrap()
    }
}

async fn g_2_sessions_open_touch_and_end_by_logout_idle_and_absolute_limit(db: TestDb) {
    let s = &db.store;
    let p = psn(4101);
    let from = LoginContext {
        client_ip: Some("192.0.2.7".into()),
        user_agent: Some("test\u{7}agent".into()),
    };
    let (token, session) = s
        .open_session(p, LoginMethod::IdCard, limits(), &from)
        .await
        .unwrap();
    assert_eq!(token.len(), 64);
    assert_eq!(session.psn, p);
    assert_ne!(
        session.id, token,
        "the store keeps the token's hash, not the token"
    );
    assert_eq!(acts(&db, "login").await, 1);
    // The token works; a wrong or malformed one is unknown.
    let SessionLookup::Active(found) = s.session(&token, limits()).await.unwrap() else {
        panic!("session not active")
    };
    assert_eq!(found.csrf, session.csrf);
    let mut other = token.clone();
    other.replace_range(0..1, if token.starts_with('a') { "b" } else { "a" });
    assert_eq!(
        s.session(&other, limits()).await.unwrap(),
        SessionLookup::Unknown
    );
    assert_eq!(
        s.session("'; DROP TABLE sessions; --", limits())
            .await
            .unwrap(),
        SessionLookup::Unknown
    );
    // Activity within the idle limit keeps it alive past several idle periods in total.
    for _ in 0..4 {
        db.clock.advance(Duration::minutes(10));
        assert!(matches!(
            s.session(&token, limits()).await.unwrap(),
            SessionLookup::Active(_)
        ));
    }
    // Logout ends it, once; the ended session is never resumed.
    assert!(s.close_session(&token).await.unwrap());
    assert!(!s.close_session(&token).await.unwrap());
    assert_eq!(
        s.session(&token, limits()).await.unwrap(),
        SessionLookup::Ended(popreg_store::SessionEnd::Logout)
    );
    assert_eq!(acts(&db, "logout").await, 1);

    // Idle: 15 minutes without a request.
    let (idle, _) = s
        .open_session(p, LoginMethod::DemoCard, limits(), &from)
        .await
        .unwrap();
    db.clock.advance(Duration::minutes(15));
    assert_eq!(
        s.session(&idle, limits()).await.unwrap(),
        SessionLookup::Ended(popreg_store::SessionEnd::Idle)
    );
    // Absolute: busy all along, ended 8 hours after login.
    let (busy, _) = s
        .open_session(p, LoginMethod::IdCard, limits(), &from)
        .await
        .unwrap();
    for _ in 0..(8 * 6 - 1) {
        db.clock.advance(Duration::minutes(10));
        assert!(matches!(
            s.session(&busy, limits()).await.unwrap(),
            SessionLookup::Active(_)
        ));
    }
    db.clock.advance(Duration::minutes(10));
    assert_eq!(
        s.session(&busy, limits()).await.unwrap(),
        SessionLookup::Ended(popreg_store::SessionEnd::Absolute)
    );
    assert_eq!(acts(&db, "session_end").await, 2);
    // The person's list of logins: newest first, with how each ended; control characters are dropped.
    let list = s.sessions_of(p, 10).await.unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list[0].end_reason.as_deref(), Some("absolute"));
    assert_eq!(list[1].end_reason.as_deref(), Some("idle"));
    assert_eq!(list[2].end_reason.as_deref(), Some("logout"));
    assert_eq!(list[2].user_agent.as_deref(), Some("testagent"));
    assert!(s.sessions_of(psn(4102), 10).await.unwrap().is_empty());
    // Login and logout are in the verified audit trail.
    let dir = tempfile::tempdir().unwrap();
    s.set_audit_signer(
        popreg_store::AuditSigner::load_or_create(&dir.path().join("k.pk8")).unwrap(),
    );
    s.audit_checkpoint().await.unwrap();
    let (_, key) = s.audit_public_key().unwrap();
    let report = s.audit_verify(&key).await.unwrap();
    assert!(report.ok(), "{report:?}");
}

/// A demo server with one demo card: the person `p`, registered with a conviction.
pub(crate) async fn demo_site(db: &TestDb, p: Psn) -> popreg::app::Running {
    let s = &db.store;
    register_ani(s, p).await;
    s.append(
        &prov("JUD-01"),
        vec![NewEntry::new(
            p,
            Fact::Conviction {
                case_number: "ԵԴ/0001/01/24".into(),
                verdict_effective: d(2024, 5, 17),
                term_months: 6,
                court: None,
            },
        )],
    )
    .await
    .unwrap();
    let mut cfg = test_config();
    cfg.server.listen = "127.0.0.1:0".into();
    cfg.portal.secure_cookies = false;
    popreg::app::start_with(
        &cfg,
        s.clone(),
        vec![popreg_web::DemoCard {
            psn: p,
            name: "Անի Մելքոնյան".into(),
        }],
    )
    .await
    .unwrap()
}

/// Register the demo person `p`, Անի Մելքոնյան.
async fn register_ani(s: &popreg_store::Store, p: Psn) {
    s.append(
        &prov("CIV-01"),
        vec![NewEntry::new(
            p,
            registration("Անի", "Մելքոնյան", d(1990, 4, 2), Sex::F),
        )],
    )
    .await
    .unwrap();
}

/// A demo server with the mail catcher (`/demo/mail`) and one demo card, the person `p`; the outbox worker
/// polls every second; links in its e-mails name `portal_url`.
pub(crate) async fn catcher_site(
    db: &TestDb,
    p: Psn,
    portal_url: &str,
) -> (
    popreg::app::Running,
    std::sync::Arc<popreg_notify::capture::Capture>,
) {
    register_ani(&db.store, p).await;
    let mut cfg = test_config();
    cfg.server.listen = "127.0.0.1:0".into();
    cfg.portal.secure_cookies = false;
    cfg.notify.poll_seconds = 1;
    cfg.notify.portal.url = portal_url.into();
    let caught = std::sync::Arc::new(popreg_notify::capture::Capture::default());
    let app = popreg::app::start_demo(
        &cfg,
        db.store.clone(),
        vec![popreg_web::DemoCard {
            psn: p,
            name: "Անի Մելքոնյան".into(),
        }],
        Some(caught.clone()),
    )
    .await
    .unwrap();
    (app, caught)
}

/// A form body of simple values (digits, paths, hex tokens: nothing to escape but the separators).
pub(crate) fn form<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", k.as_ref(), v.as_ref()))
        .collect::<Vec<_>>()
        .join("&")
}

/// The text of a page, with the cookies `cookie` (may be empty).
pub(crate) async fn text(c: &reqwest::Client, url: String, cookie: &str) -> String {
    let mut rq = c.get(url);
    if !cookie.is_empty() {
        rq = rq.header(COOKIE, cookie);
    }
    rq.send().await.unwrap().text().await.unwrap()
}

pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub(crate) fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get(LOCATION)
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// The session cookie set by an answer (`name=value`), if any.
pub(crate) fn session_cookie(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("psr_session=") && !c.starts_with("psr_session=;"))
}

pub(crate) async fn login(c: &reqwest::Client, url: &str, p: Psn) -> String {
    let r = c
        .post(format!("{url}/login/demo"))
        .header("Origin", url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form(&[("psn", p.to_string()), ("next", "/my/data".into())]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/my/data");
    let set = session_cookie(&r).expect("a session cookie");
    assert!(set.contains("HttpOnly"), "{set}");
    assert!(set.contains("SameSite=Lax"), "{set}");
    assert!(set.contains("Path=/"), "{set}");
    set.split(';').next().unwrap().to_string()
}

async fn g_2_demo_card_login_desk_data_and_logout(db: TestDb) {
    let p = psn(4201);
    let app = demo_site(&db, p).await;
    let url = app.url();
    let c = client();
    // Without a session the desk sends the person to the login page, which offers the demo card.
    let r = c.get(format!("{url}/my")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/login?next=/my");
    let page = text(&c, format!("{url}/login?next=/my"), "").await;
    assert!(page.contains("<html lang=\"hy\">"), "{page}");
    assert!(page.contains("Ցուցադրական քարտեր"), "{page}");
    assert!(page.contains("Մուտք որպես Անի Մելքոնյան"), "{page}");
    // A login form posted from another site is refused, and opens nothing.
    let r = c
        .post(format!("{url}/login/demo"))
        .header("Origin", "https://evil.example")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form(&[("psn", p.to_string())]))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/login?error=origin");
    assert!(session_cookie(&r).is_none());
    // A person who is not a demo card cannot be chosen.
    let r = c
        .post(format!("{url}/login/demo"))
        .header("Origin", &url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form(&[("psn", psn(4202).to_string())]))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/login?error=demo");
    assert!(session_cookie(&r).is_none());

    let cookie = login(&c, &url, p).await;
    let desk = c
        .get(format!("{url}/my"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(desk.status(), 200);
    assert_eq!(desk.headers()["cache-control"], "no-store");
    let desk = desk.text().await.unwrap();
    assert!(desk.contains("Բարի գալուստ, Անի Մելքոնյան"), "{desk}");
    assert!(desk.contains(&p.to_string()));
    assert!(desk.contains("ցուցադրական քարտով"));
    assert!(desk.contains("action=\"/logout\""));

    // My data: grouped, with the source body and date; convictions only after the extra click.
    let data = text(&c, format!("{url}/my/data"), &cookie).await;
    assert!(data.contains("Անձը հաստատող տվյալներ"), "{data}");
    assert!(data.contains("Մելքոնյան"));
    assert!(data.contains("իգական"), "sex in words");
    assert!(data.contains("Աղբյուրը՝ CIV-01"), "{data}");
    assert!(
        !data.contains("ԵԴ/0001/01/24"),
        "convictions are not shown without the extra click"
    );
    assert!(data.contains("reveal=convictions"));
    let revealed = text(&c, format!("{url}/my/data?reveal=convictions"), &cookie).await;
    assert!(revealed.contains("ԵԴ/0001/01/24"), "{revealed}");
    let history = text(&c, format!("{url}/my/data/history?lang=en"), &cookie).await;
    assert!(history.contains("<html lang=\"en\">"));
    assert!(history.contains("Conviction"), "{history}");
    assert!(
        history.contains("Registration in the register"),
        "{history}"
    );

    // The language switch remembers the choice and comes back to a page of this site only.
    let r = c
        .get(format!("{url}/lang?to=ru&back=/my/data"))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/my/data");
    let lang_cookie = r.headers()[SET_COOKIE].to_str().unwrap().to_string();
    assert!(lang_cookie.starts_with("psr_lang=ru;"), "{lang_cookie}");
    let r = c
        .get(format!("{url}/lang?to=ru&back=//evil.example/x"))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/my");
    let ru = text(&c, format!("{url}/my"), &format!("{cookie}; psr_lang=ru")).await;
    assert!(ru.contains("<html lang=\"ru\">"), "{ru}");
    assert!(ru.contains("Добро пожаловать"), "{ru}");

    // Logout without the session's CSRF token is refused and ends nothing.
    let r = c
        .post(format!("{url}/logout"))
        .header(COOKIE, &cookie)
        .header("Origin", &url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form(&[("csrf", "forged")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let still = c
        .get(format!("{url}/my"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(still.status(), 200);
    // With the token from the page, it ends the session and clears the cookie.
    let csrf = desk
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    let r = c
        .post(format!("{url}/logout"))
        .header(COOKIE, &cookie)
        .header("Origin", &url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form(&[("csrf", csrf.as_str())]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/login?ended=logout");
    let cleared = r.headers()[SET_COOKIE].to_str().unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let after = c
        .get(format!("{url}/my"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 303);
    assert!(
        location(&after).contains("ended=logout"),
        "{}",
        location(&after)
    );
    assert_eq!(acts(&db, "login").await, 1);
    assert_eq!(acts(&db, "logout").await, 1);

    // Idle: a new session left alone for 15 minutes is over, and the login page says why.
    let cookie = login(&c, &url, p).await;
    db.clock.advance(Duration::minutes(16));
    let r = c
        .get(format!("{url}/my"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let to = location(&r);
    assert!(to.contains("ended=idle"), "{to}");
    let why = text(&c, format!("{url}{to}"), "").await;
    assert!(why.contains("15 րոպե անգործությունից հետո"), "{why}");
    app.shutdown().await.unwrap();
}

async fn a1_30_the_persons_own_reads_are_logged_but_not_in_their_usage_view(db: TestDb) {
    let p = psn(4301);
    let app = demo_site(&db, p).await;
    let url = app.url();
    let c = client();
    let cookie = login(&c, &url, p).await;
    let r = c
        .get(format!("{url}/my/data"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The citizen's gate wrote usage records for the person's own reads (current record and history)…
    let own = count(
        &db,
        "SELECT COUNT(*) FROM usage_log WHERE psn = $1 AND body_id = 'SELF' AND user_uid = psn \
         AND channel = 'web' AND action IN ('person', 'history')",
        &p.to_string(),
    )
    .await;
    assert_eq!(own, 2);
    // …which the person's "who used my data" view leaves out (it shows what others did).
    let mine = db
        .store
        .usage_for_person(p, None, None, None, 100)
        .await
        .unwrap();
    assert!(mine.iter().all(|u| u.body_id != popreg_store::SELF_BODY));
    // The usage view accepts the session too (not only an ID card in the connection).
    let view = c
        .get(format!("{url}/my/usage"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(view.status(), 200);
    assert!(view.text().await.unwrap().contains(&p.to_string()));
    app.shutdown().await.unwrap();
}

/// Outside `popreg demo` there is no card chooser: the login page does not offer it and the route refuses.
#[tokio::test]
async fn g_2_the_demo_card_chooser_does_not_exist_outside_the_demo() {
    let db = TestDb::sqlite().await;
    let p = psn(4401);
    db.store
        .append(
            &prov("CIV-01"),
            vec![NewEntry::new(
                p,
                registration("Արամ", "Սարգսյան", d(1980, 1, 2), Sex::M),
            )],
        )
        .await
        .unwrap();
    let mut cfg = test_config();
    cfg.server.listen = "127.0.0.1:0".into();
    let app = popreg::app::start(&cfg, db.store.clone()).await.unwrap();
    let url = app.url();
    let c = client();
    let page = text(&c, format!("{url}/login"), "").await;
    assert!(!page.contains("/login/demo"), "{page}");
    let r = c
        .post(format!("{url}/login/demo"))
        .header("Origin", &url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form(&[("psn", p.to_string())]))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/login?error=demo");
    assert!(session_cookie(&r).is_none());
    // Over plain HTTP there is no ID card either: the card login explains instead of opening a session.
    let r = c
        .post(format!("{url}/login/card"))
        .header("Origin", &url)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(session_cookie(&r).is_none());
    let help = text(&c, format!("{url}/help?lang=en"), "").await;
    assert!(help.contains("certification authority"), "{help}");
    app.shutdown().await.unwrap();
}

/// The CSRF token on a page of the session.
pub(crate) fn csrf_of(page: &str) -> String {
    page.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a CSRF field")
        .to_string()
}

pub(crate) async fn post_form(
    c: &reqwest::Client,
    url: String,
    cookie: &str,
    origin: &str,
    body: String,
) -> reqwest::Response {
    c.post(url)
        .header(COOKIE, cookie)
        .header("Origin", origin)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn g_3_1_the_inbox_and_the_forwarding_settings_in_the_portal(db: TestDb) {
    use crate::notifications_api::{caller, secret_for, sender_body};
    let p = psn(4501);
    let app = demo_site(&db, p).await;
    let url = app.url();
    let s = &db.store;
    sender_body(s, "SRC-01").await;
    let sent = s
        .send_notification(
            &caller("SRC-01"),
            &popreg_store::NewNotification {
                recipient: p.into(),
                subject: "Ծանուցում հարկային պարտավորության մասին".into(),
                text: "Հարգելի քաղաքացի,\n<b>not markup</b>".into(),
                legal_significance: true,
                attachments: vec![popreg_store::NewAttachment {
                    name: "որոշում.pdf".into(),
                    media_type: "application/pdf".into(),
                    content: b"%PDF-1.7 test".to_vec(),
                }],
                idempotency_key: None,
            },
            &popreg_store::ContactSettings::default(),
        )
        .await
        .unwrap();
    let c = client();
    let cookie = login(&c, &url, p).await;
    let desk = text(&c, format!("{url}/my?lang=en"), &cookie).await;
    assert!(desk.contains("Unread messages: 1"), "{desk}");
    let inbox = text(&c, format!("{url}/my/inbox?lang=en"), &cookie).await;
    assert!(inbox.contains("In all: 1, unread: 1"), "{inbox}");
    assert!(inbox.contains("legally significant"));
    assert!(inbox.contains("1 attachment"), "{inbox}");
    assert!(inbox.contains(&format!("/my/inbox/{}", sent.id)));
    // Opening records delivery; the text is shown as text, never as markup.
    let msg = text(&c, format!("{url}/my/inbox/{}", sent.id), &cookie).await;
    assert!(msg.contains("Ծանուցում հարկային պարտավորության մասին"));
    assert!(msg.contains("&lt;b&gt;not markup&lt;/b&gt;"), "{msg}");
    assert!(msg.contains("որոշում.pdf"));
    let inbox = text(&c, format!("{url}/my/inbox?lang=en"), &cookie).await;
    assert!(inbox.contains("unread: 0"), "{inbox}");
    let a = c
        .get(format!("{url}/my/inbox/{}/attachments/0", sent.id))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), 200);
    let disposition = a.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert_eq!(a.headers()["x-content-type-options"], "nosniff");
    assert_eq!(a.bytes().await.unwrap().as_ref(), b"%PDF-1.7 test");
    // Another person's session cannot open it: the same answer as no message.
    let other = psn(4502);
    let (token, _) = s
        .open_session(
            other,
            LoginMethod::IdCard,
            limits(),
            &LoginContext::default(),
        )
        .await
        .unwrap();
    let theirs = format!("psr_session={token}");
    let r = c
        .get(format!("{url}/my/inbox/{}", sent.id))
        .header(COOKIE, &theirs)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = c
        .get(format!("{url}/my/inbox/{}/attachments/0", sent.id))
        .header(COOKIE, &theirs)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // Forwarding: add an e-mail address (G.5); it is "!" until its link is followed.
    let page = text(&c, format!("{url}/my/forwarding?lang=en"), &cookie).await;
    let csrf = csrf_of(&page);
    let r = post_form(
        &c,
        format!("{url}/my/forwarding/email"),
        &cookie,
        &url,
        form(&[("csrf", csrf.as_str()), ("address", "Ani@Example.am")]),
    )
    .await;
    assert_eq!(location(&r), "/my/forwarding?done=added-email");
    let page = text(
        &c,
        format!("{url}/my/forwarding?lang=en&done=added-email"),
        &cookie,
    )
    .await;
    assert!(page.contains("verification e-mail has been sent"), "{page}");
    assert!(page.contains("ani@example.am"));
    assert!(page.contains("not verified"));
    // Without the CSRF token nothing is added.
    let r = post_form(
        &c,
        format!("{url}/my/forwarding/email"),
        &cookie,
        &url,
        form(&[("address", "other@example.am")]),
    )
    .await;
    assert_eq!(r.status(), 403);
    // The link of the e-mail lands on the mail section with the confirmation, logged in or not.
    let token = secret_for(s, "ani@example.am").await;
    let confirmed = text(
        &c,
        format!("{url}/my/forwarding/verify?token={token}&lang=en"),
        &cookie,
    )
    .await;
    assert!(
        confirmed.contains("ani@example.am is verified"),
        "{confirmed}"
    );
    assert!(confirmed.contains("✓"));
    let again = c
        .get(format!("{url}/my/forwarding/verify?token={token}"))
        .send()
        .await
        .unwrap();
    assert!(again.status().is_client_error(), "a link works once");
    // A malformed address is refused with its code and nothing is added.
    let r = post_form(
        &c,
        format!("{url}/my/forwarding/email"),
        &cookie,
        &url,
        form(&[("csrf", csrf.as_str()), ("address", "not an address")]),
    )
    .await;
    assert!(r.status().is_client_error());
    assert!(r.text().await.unwrap().contains("PSR-CNT-0002"));
    // A phone (G.7): the 6-character code from the SMS verifies it; a wrong one does not.
    let r = post_form(
        &c,
        format!("{url}/my/forwarding/phone"),
        &cookie,
        &url,
        form(&[("csrf", csrf.as_str()), ("address", "091234567")]),
    )
    .await;
    let to = location(&r);
    assert_eq!(
        to,
        "/my/forwarding?done=added-phone",
        "{}",
        r.text().await.unwrap()
    );
    let phone = s
        .contact_points(p)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.kind == popreg_store::ContactKind::Phone)
        .unwrap();
    assert_eq!(phone.address, "+37491234567");
    let code = secret_for(s, "+37491234567").await;
    assert_eq!(code.len(), 6);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let r = post_form(
        &c,
        format!("{url}/my/forwarding/{}/verify", phone.id),
        &cookie,
        &url,
        form(&[("csrf", csrf.as_str()), ("code", wrong)]),
    )
    .await;
    assert!(r.status().is_client_error());
    let r = post_form(
        &c,
        format!("{url}/my/forwarding/{}/verify", phone.id),
        &cookie,
        &url,
        form(&[("csrf", csrf.as_str()), ("code", code.as_str())]),
    )
    .await;
    assert_eq!(location(&r), "/my/forwarding?done=verified");
    assert!(
        s.contact_points(p)
            .await
            .unwrap()
            .iter()
            .all(|c| c.verified())
    );
    // Remove works on the person's own addresses only.
    let r = post_form(
        &c,
        format!("{url}/my/forwarding/{}/remove", phone.id),
        &theirs,
        &url,
        form(&[("csrf", "x")]),
    )
    .await;
    assert_eq!(r.status(), 403, "another session's form is refused");
    let r = post_form(
        &c,
        format!("{url}/my/forwarding/{}/remove", phone.id),
        &cookie,
        &url,
        form(&[("csrf", csrf.as_str())]),
    )
    .await;
    assert_eq!(location(&r), "/my/forwarding?done=removed");
    assert_eq!(s.contact_points(p).await.unwrap().len(), 1);
    app.shutdown().await.unwrap();
}

async fn a1_21_a_person_declares_the_address_for_notices_in_the_portal(db: TestDb) {
    let p = psn(4601);
    let app = demo_site(&db, p).await;
    let url = app.url();
    let s = &db.store;
    // A main address that ends within the warning period.
    s.append(
        &prov("MIGR-01"),
        vec![NewEntry::new(
            p,
            Fact::MainAddress {
                address: address("Աբովյան փողոց"),
                valid_from: d(2020, 1, 1),
                valid_to: Some(t0().date_naive() + chrono::Days::new(20)),
            },
        )],
    )
    .await
    .unwrap();
    let c = client();
    let cookie = login(&c, &url, p).await;
    let page = text(&c, format!("{url}/my/addresses?lang=en"), &cookie).await;
    assert!(page.contains("Your main address is valid until"), "{page}");
    assert!(page.contains("(registered address)"), "{page}");
    assert!(page.contains("Additional address for notices"));
    let csrf = csrf_of(&page);
    let today = t0().date_naive();
    // A period that ends before it starts is refused next to the field, with what was typed kept.
    let bad = form(&[
        ("csrf", csrf.clone()),
        ("address.country", "AM".into()),
        ("address.marz", "AM-ER".into()),
        ("address.community", "AM-ER-001".into()),
        ("address.street", "Tumanyan".into()),
        ("valid_from", today.to_string()),
        ("valid_to", (today - chrono::Days::new(1)).to_string()),
    ]);
    let r = post_form(
        &c,
        format!("{url}/my/addresses/additional_address?lang=en"),
        &cookie,
        &url,
        bad,
    )
    .await;
    assert_eq!(r.status(), 422);
    let refused = r.text().await.unwrap();
    assert!(refused.contains("was not accepted"), "{refused}");
    assert!(refused.contains("value=\"Tumanyan\""), "{refused}");
    // A good declaration goes through the register's pipeline as the person's own.
    let good = form(&[
        ("csrf", csrf.clone()),
        ("address.country", "AM".into()),
        ("address.marz", "AM-ER".into()),
        ("address.community", "AM-ER-001".into()),
        ("address.street", "Tumanyan".into()),
        ("valid_from", today.to_string()),
        // The form cannot declare for someone else.
        ("psn", psn(4602).to_string()),
    ]);
    let r = post_form(
        &c,
        format!("{url}/my/addresses/additional_address"),
        &cookie,
        &url,
        good,
    )
    .await;
    assert_eq!(
        location(&r),
        "/my/addresses?done=declared",
        "{}",
        r.text().await.unwrap()
    );
    let page = text(
        &c,
        format!("{url}/my/addresses?lang=en&done=declared"),
        &cookie,
    )
    .await;
    assert!(page.contains("(additional address)"), "{page}");
    assert!(page.contains("Tumanyan"));
    let entries = s.unaudited().entries(p).await.unwrap();
    let declared = entries
        .iter()
        .find(|e| e.kind == "additional_address")
        .unwrap();
    assert_eq!(declared.provider, popreg_store::SELF_BODY);
    assert_eq!(declared.user_uid, p.to_string());
    assert!(s.unaudited().entries(psn(4602)).await.unwrap().is_empty());
    // Without the CSRF token nothing is declared.
    let r = post_form(
        &c,
        format!("{url}/my/addresses/main_address"),
        &cookie,
        &url,
        form(&[("address.country", "AM"), ("valid_from", "2026-01-01")]),
    )
    .await;
    assert_eq!(r.status(), 403);
    app.shutdown().await.unwrap();
}

/// G.5, G.7, issue 6 item 11: in the demo, the verification e-mail and the SMS code are not sent but shown
/// at `/demo/mail`, rendered as they would be sent; following the caught link verifies the address. Outside
/// the demo the page does not exist (the matrix test asserts 404 for every role).
#[tokio::test]
async fn g_5_the_demo_mail_catcher_shows_the_verification_mail_and_the_sms_code() {
    let db = TestDb::sqlite().await;
    let p = psn(4601);
    let s = &db.store;
    let (app, caught) = catcher_site(&db, p, "http://portal.test").await;
    let url = app.url();
    let c = client();
    let empty = text(&c, format!("{url}/demo/mail?lang=en"), "").await;
    assert!(empty.contains("Nothing has been sent yet."), "{empty}");
    let cookie = login(&c, &url, p).await;
    let page = text(&c, format!("{url}/my/forwarding?lang=en"), &cookie).await;
    let csrf = csrf_of(&page);
    for (kind, address) in [("email", "ani@example.am"), ("phone", "091234567")] {
        let r = post_form(
            &c,
            format!("{url}/my/forwarding/{kind}"),
            &cookie,
            &url,
            form(&[("csrf", csrf.as_str()), ("address", address)]),
        )
        .await;
        assert_eq!(location(&r), format!("/my/forwarding?done=added-{kind}"));
    }
    // The worker claims both rows and the catcher keeps them (polled every second).
    let mut waited = 0;
    while caught.list().len() < 2 {
        assert!(waited < 100, "nothing caught: {:?}", caught.list());
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        waited += 1;
    }
    let list = caught.list();
    let mail = list.iter().find(|m| m.channel == "email").unwrap();
    assert_eq!(mail.to, "ani@example.am");
    assert_eq!(mail.subject, "E-Citizen email verification");
    assert!(mail.raw.contains("Message-ID: <popreg."), "{}", mail.raw);
    let sms = list.iter().find(|m| m.channel == "sms").unwrap();
    assert_eq!(sms.to, "+37491234567");
    let code = secret_for_sms(&sms.body);
    assert_eq!(code.len(), 6, "{}", sms.body);
    // The page shows both, the link clickable; following it verifies the address.
    let shown = text(&c, format!("{url}/demo/mail?lang=en"), "").await;
    assert!(shown.contains("Demo only."), "{shown}");
    assert!(shown.contains("E-Citizen email verification"));
    assert!(shown.contains(&code), "the SMS code is on the page");
    let start = shown
        .find("<a href=\"http://portal.test/my/forwarding/verify?token=")
        .expect("a clickable verification link");
    let href = &shown[start + "<a href=\"http://portal.test".len()..];
    let path = &href[..href.find('"').unwrap()];
    let confirmed = text(&c, format!("{url}{path}&lang=en"), &cookie).await;
    assert!(
        confirmed.contains("ani@example.am is verified"),
        "{confirmed}"
    );
    // The caught SMS code verifies the phone.
    let phone = s
        .contact_points(p)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.kind == popreg_store::ContactKind::Phone)
        .unwrap();
    let r = post_form(
        &c,
        format!("{url}/my/forwarding/{}/verify", phone.id),
        &cookie,
        &url,
        form(&[("csrf", csrf.as_str()), ("code", code.as_str())]),
    )
    .await;
    assert_eq!(location(&r), "/my/forwarding?done=verified");
    // A server that is not the demo has no catcher: the page does not exist.
    let mut cfg = test_config();
    cfg.server.listen = "127.0.0.1:0".into();
    let plain = popreg::app::start(&cfg, s.clone()).await.unwrap();
    let r = c
        .get(format!("{}/demo/mail", plain.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

/// The 6-character code at the end of the G.7 SMS text (in every language the token comes last).
pub(crate) fn secret_for_sms(text: &str) -> String {
    let last = text.split_whitespace().last().unwrap_or_default();
    last.trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string()
}
