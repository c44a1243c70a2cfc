//! Webhooks for providers (A1.52–54) end to end, on SQLite and PostgreSQL: a body registers a URL and gets a
//! secret; each rejection of its submissions is POSTed to a receiver running in the test, signed with
//! HMAC-SHA256 over `<timestamp>.<body>`; a receiver that fails is tried again after the backoff with the
//! same delivery id; every attempt is recorded; events written while no worker runs are delivered after a
//! restart. The SSRF guard: URLs leading into internal networks are refused at registration
//! (`PSR-SUB-0005`) and again at delivery, on the address the worker then connects to.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use popreg_domain::Clock;
use popreg_domain::access::{BodyType, Function};
use popreg_notify::webhook::{Sender, deliver_webhooks};
use popreg_store::{Resolver, Store, StoreOptions, WebhookGuard, WebhookPolicy};
use serde_json::{Value, json};

use crate::common::*;

crate::conformance!(
    a1_52_each_rejection_reaches_the_webhook_signed_and_a_failing_receiver_is_retried,
    a1_52_webhook_events_written_while_no_worker_runs_are_delivered_after_a_restart,
    a1_52_webhook_urls_into_internal_networks_are_refused_at_registration,
    a1_52_a_webhook_is_refused_at_delivery_when_its_name_rebinds_or_the_allow_list_no_longer_permits_it,
);

/// A receiver: what it got (headers, body), answering 500 to the first `fail_first` requests.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(HeaderMap, String)>>>,
    fail_first: Arc<AtomicUsize>,
}

impl Receiver {
    async fn start(fail_first: usize) -> (String, Receiver) {
        let r = Receiver::default();
        r.fail_first.store(fail_first, Ordering::SeqCst);
        let state = r.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let s = state.clone();
                async move {
                    s.got.lock().unwrap().push((headers, body));
                    let left = s.fail_first.load(Ordering::SeqCst);
                    if left > 0 {
                        s.fail_first.store(left - 1, Ordering::SeqCst);
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::NO_CONTENT
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (format!("http://{addr}/hook"), r)
    }

    fn count(&self) -> usize {
        self.got.lock().unwrap().len()
    }

    /// Wait (at most 20 s) until it got `n` requests.
    async fn wait_for(&self, n: usize) {
        let started = Instant::now();
        while self.count() < n {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the receiver got {} of {n} requests",
                self.count()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The signature the contract promises, computed here independently with `ring`.
fn expected_signature(secret: &str, timestamp: &str, body: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let tag = ring::hmac::sign(&key, format!("{timestamp}.{body}").as_bytes());
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// The policy of these tests: the receivers run on 127.0.0.1 over plain http.
fn local_policy() -> WebhookPolicy {
    WebhookPolicy {
        allow_http: true,
        allow: vec!["127.0.0.1/32".into()],
    }
}

/// A hospital with a key, and a server whose webhook worker polls every `poll_ms` (0: none), with the
/// local policy.
async fn start(db: &TestDb, poll_ms: u64) -> (popreg::app::Running, String) {
    start_with(db, poll_ms, local_policy()).await
}

async fn start_with(
    db: &TestDb,
    poll_ms: u64,
    policy: WebhookPolicy,
) -> (popreg::app::Running, String) {
    let s = &db.store;
    let key = if s.body("MED-0001").await.unwrap().is_none() {
        crate::admin::new_body(s, "MED-0001", BodyType::MedicalOrganization).await;
        s.issue_api_key(
            "test",
            "MED-0001",
            "MED-0001-clerk",
            &[Function::Submit],
            "test",
        )
        .await
        .unwrap()
        .1
    } else {
        String::new()
    };
    let mut cfg = test_config();
    cfg.server.listen = "127.0.0.1:0".into();
    cfg.notify.webhook_poll_ms = poll_ms;
    cfg.notify.webhooks = policy;
    let app = popreg::app::start(&cfg, s.clone()).await.unwrap();
    (app, key)
}

/// A birth in the future: refused (`PSR-VAL-0002`), so a rejection.
async fn reject_one(http: &reqwest::Client, app: &popreg::app::Running, key: &str) -> i64 {
    let birth = json!({
        "first_name": "Արամ", "surname": "Պետրոսյան", "sex": "M", "birth_date": "2099-01-01",
        "birth_place": {"country": "AM"},
        "mother": {"no_psn": true, "first_name": "Անի", "surname": "Պետրոսյան",
            "document_type": "FOREIGN_PASSPORT", "document_number": "1"}
    });
    let r = http
        .post(format!("{}/api/v1/submissions/birth", app.url()))
        .header("x-api-key", key)
        .header("content-type", "application/json")
        .body(birth.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    r.json::<Value>().await.unwrap()["rejection_id"]
        .as_i64()
        .unwrap()
}

async fn register(
    http: &reqwest::Client,
    app: &popreg::app::Running,
    key: &str,
    url: &str,
) -> reqwest::Response {
    http.put(format!("{}/api/v1/webhook", app.url()))
        .header("x-api-key", key)
        .header("content-type", "application/json")
        .body(json!({ "url": url }).to_string())
        .send()
        .await
        .unwrap()
}

async fn a1_52_each_rejection_reaches_the_webhook_signed_and_a_failing_receiver_is_retried(
    db: TestDb,
) {
    let (app, key) = start(&db, 100).await;
    let http = reqwest::Client::new();
    let (url, receiver) = Receiver::start(1).await;
    // Only http(s) URLs; the secret is answered once and never shown again.
    let r = register(&http, &app, &key, "ftp://example.am/hook").await;
    assert_eq!(r.status(), reqwest::StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "PSR-VAL-0011");
    let r = register(&http, &app, &key, &url).await;
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    let secret = v["secret"].as_str().unwrap().to_string();
    assert_eq!(secret.len(), 64);
    let r = http
        .get(format!("{}/api/v1/webhook", app.url()))
        .header("x-api-key", &key)
        .send();
    let shown = r.await.unwrap().text().await.unwrap();
    assert!(shown.contains(&url) && !shown.contains(&secret), "{shown}");
    assert_eq!(
        db.store.audit_acts("webhook.set", 100).await.unwrap().len(),
        1
    );

    // A rejection: the first POST fails (500) and is recorded, with the next try after the backoff.
    let rejection = reject_one(&http, &app, &key).await;
    receiver.wait_for(1).await;
    let started = Instant::now();
    let event = loop {
        let events = db.store.webhook_events("MED-0001", 10).await.unwrap();
        assert_eq!(events.len(), 1, "one event per rejection");
        if events[0].attempts == 1 {
            break events[0].clone();
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the failure was not recorded"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(event.delivered_at.is_none());
    assert_eq!(
        event.last_error.as_deref(),
        Some("the receiver answered 500")
    );
    assert_eq!(
        event.next_attempt_at,
        db.clock.now() + popreg_notify::backoff(0),
        "tried again after 30 s"
    );
    // Not before the backoff has passed (the worker polls every 100 ms meanwhile).
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.count(), 1);
    db.clock.advance(chrono::Duration::seconds(31));
    receiver.wait_for(2).await;

    let got = receiver.got.lock().unwrap().clone();
    let (headers, body) = &got[1];
    let ts = headers["x-popreg-timestamp"].to_str().unwrap();
    assert_eq!(ts, db.clock.now().timestamp().to_string());
    assert_eq!(
        headers["x-popreg-signature"].to_str().unwrap(),
        expected_signature(&secret, ts, body)
    );
    assert_ne!(
        headers["x-popreg-signature"].to_str().unwrap(),
        expected_signature("not the secret", ts, body)
    );
    assert_eq!(headers["x-popreg-event"], "rejection");
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(
        headers["x-popreg-delivery"], got[0].0["x-popreg-delivery"],
        "a retry has the same delivery id"
    );
    let v: Value = serde_json::from_str(body).unwrap();
    assert_eq!(v["event"], "rejection");
    assert_eq!(v["rejection"]["rejection_id"], rejection);
    assert_eq!(v["rejection"]["body_id"], "MED-0001");
    assert_eq!(v["rejection"]["code"], "PSR-VAL-0002");
    assert_eq!(v["rejection"]["errors"][0]["field"], "birth_date");
    assert_eq!(body, &got[0].1, "the same body on every attempt");

    // Every attempt is recorded; the delivered event is never sent again.
    let started = Instant::now();
    let attempts = loop {
        let a = db.store.webhook_attempts(event.id).await.unwrap();
        if a.len() == 2 {
            break a;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{a:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        attempts
            .iter()
            .map(|a| (a.http_status, a.delivered))
            .collect::<Vec<_>>(),
        vec![(Some(500), false), (Some(204), true)]
    );
    db.clock.advance(chrono::Duration::hours(2));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(receiver.count(), 2);
    let events = db.store.webhook_events("MED-0001", 10).await.unwrap();
    assert!(events[0].delivered_at.is_some());

    // After removing the webhook, a rejection makes no event; removing twice is refused.
    let del = |http: reqwest::Client| {
        let (u, k) = (format!("{}/api/v1/webhook", app.url()), key.clone());
        async move {
            http.delete(u)
                .header("x-api-key", k)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(del(http.clone()).await, reqwest::StatusCode::OK);
    assert_eq!(del(http.clone()).await, reqwest::StatusCode::NOT_FOUND);
    reject_one(&http, &app, &key).await;
    assert_eq!(
        db.store.webhook_events("MED-0001", 10).await.unwrap().len(),
        1
    );
    app.shutdown().await.unwrap();
}

async fn a1_52_webhook_events_written_while_no_worker_runs_are_delivered_after_a_restart(
    db: TestDb,
) {
    // A server without the webhook worker takes a rejection: the event waits in the outbox.
    let (app, key) = start(&db, 0).await;
    let http = reqwest::Client::new();
    let (url, receiver) = Receiver::start(0).await;
    let r = register(&http, &app, &key, &url).await;
    let secret = r.json::<Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let rejection = reject_one(&http, &app, &key).await;
    app.shutdown().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.count(), 0);

    // The server again, on the same database, with the worker: the event arrives, signed.
    let store = Store::open(&db.url, &StoreOptions::default(), db.clock.clone())
        .await
        .unwrap();
    let mut cfg = test_config();
    cfg.server.listen = "127.0.0.1:0".into();
    cfg.notify.webhook_poll_ms = 100;
    cfg.notify.webhooks = local_policy();
    let app = popreg::app::start(&cfg, store.clone()).await.unwrap();
    receiver.wait_for(1).await;
    let (headers, body) = receiver.got.lock().unwrap()[0].clone();
    let ts = headers["x-popreg-timestamp"].to_str().unwrap();
    assert_eq!(
        headers["x-popreg-signature"].to_str().unwrap(),
        expected_signature(&secret, ts, &body)
    );
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["rejection"]["rejection_id"], rejection);
    app.shutdown().await.unwrap();
}

async fn a1_52_webhook_urls_into_internal_networks_are_refused_at_registration(db: TestDb) {
    // The production policy: https only, nothing internal allowed; and beside it a server with the
    // allow-list of the tests.
    let (app, key) = start_with(&db, 0, WebhookPolicy::default()).await;
    let (local, _) = start_with(&db, 0, local_policy()).await;
    let http = reqwest::Client::new();
    let (url, receiver) = Receiver::start(0).await;
    for bad in [
        url.as_str(),
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://2130706433/hook",
        "https://0x7f.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::ffff:a9fe:a9fe]/latest/meta-data/",
        "https://[::ffff:127.0.0.1]:8443/hook",
        "https://[::1]/hook",
        "https://10.1.2.3/hook",
        "https://172.16.5.5/hook",
        "https://192.168.0.10/hook",
        "https://[fd00::1]/hook",
        "https://[fe80::1]/hook",
        "https://100.64.0.1/hook",
        "https://0.0.0.0/hook",
        "https://224.0.0.1/hook",
        "https://does-not-resolve.invalid/hook",
    ] {
        let r = register(&http, &app, &key, bad).await;
        assert_eq!(
            r.status(),
            reqwest::StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}"
        );
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["code"], "PSR-SUB-0005", "{bad}: {v}");
    }
    // The refusal is explained in the caller's language.
    let r = http
        .put(format!("{}/api/v1/webhook", app.url()))
        .header("x-api-key", &key)
        .header("content-type", "application/json")
        .header("accept-language", "hy")
        .body(json!({"url": "https://169.254.169.254/"}).to_string())
        .send()
        .await
        .unwrap();
    let shown = r.text().await.unwrap();
    assert!(
        shown.contains("PSR-SUB-0005") && shown.contains("Վեբհուկի հասցեն մերժված է"),
        "{shown}"
    );
    // Nothing was registered or audited, and nothing was sent.
    assert_eq!(db.store.webhook("MED-0001").await.unwrap(), None);
    assert!(
        db.store
            .audit_acts("webhook.set", 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(receiver.count(), 0);

    // With the allow-list of the tests: 127.0.0.1 over http is accepted, a neighbour address is not.
    let r = register(&http, &local, &key, "http://127.0.0.2/hook").await;
    assert_eq!(r.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    let r = register(&http, &local, &key, &url).await;
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    assert_eq!(
        db.store.webhook("MED-0001").await.unwrap().unwrap().url,
        url
    );
    local.shutdown().await.unwrap();
    app.shutdown().await.unwrap();
}

async fn a1_52_a_webhook_is_refused_at_delivery_when_its_name_rebinds_or_the_allow_list_no_longer_permits_it(
    db: TestDb,
) {
    // Registered while 127.0.0.1 was allowed; no worker runs in the server, the passes are made here.
    let (app, key) = start(&db, 0).await;
    let http = reqwest::Client::new();
    let (url, receiver) = Receiver::start(0).await;
    assert_eq!(
        register(&http, &app, &key, &url).await.status(),
        reqwest::StatusCode::CREATED
    );
    reject_one(&http, &app, &key).await;

    // The allow-list no longer has 127.0.0.1: the delivery is refused and recorded, nothing is sent.
    let strict = Sender::new(
        WebhookGuard::new(&WebhookPolicy {
            allow_http: true,
            allow: vec![],
        })
        .unwrap(),
    )
    .unwrap();
    let done = deliver_webhooks(&db.store, &strict).await.unwrap();
    assert_eq!((done.sent, done.failed), (0, 1));
    assert_eq!(receiver.count(), 0);
    let events = db.store.webhook_events("MED-0001", 10).await.unwrap();
    let why = events[0].last_error.clone().unwrap();
    assert!(
        why.starts_with("PSR-SUB-0005: ") && why.contains("127.0.0.1") && why.contains("loopback"),
        "{why}"
    );
    let attempts = db.store.webhook_attempts(events[0].id).await.unwrap();
    assert_eq!(
        (attempts[0].http_status, attempts[0].delivered),
        (None, false)
    );

    // A name that resolves to an allowed address at registration…
    let resolver = Resolver::fixed();
    resolver.set("hooks.test", &["127.0.0.1".parse().unwrap()]);
    let guard = WebhookGuard::new(&local_policy())
        .unwrap()
        .with_resolver(resolver.clone());
    let port = url.rsplit(':').next().unwrap().trim_end_matches("/hook");
    let named = format!("http://hooks.test:{port}/hook");
    let (secret, stored) = db
        .store
        .webhook_set("MED-0001", &named, "MED-0001/clerk", &guard)
        .await
        .unwrap();
    assert_eq!(stored, named);
    // …and to the metadata service (then a private address) at delivery: refused, nothing sent.
    let sender = Sender::new(guard).unwrap();
    for later in ["169.254.169.254", "10.0.0.7"] {
        resolver.set("hooks.test", &[later.parse().unwrap()]);
        db.clock.advance(chrono::Duration::hours(2));
        let done = deliver_webhooks(&db.store, &sender).await.unwrap();
        assert_eq!((done.sent, done.failed), (0, 1), "{later}");
        let why = db.store.webhook_events("MED-0001", 10).await.unwrap()[0]
            .last_error
            .clone()
            .unwrap();
        assert!(
            why.starts_with("PSR-SUB-0005: ") && why.contains(later),
            "{why}"
        );
    }
    assert_eq!(receiver.count(), 0);

    // Back on the allowed address: delivered to the address the guard checked (the name exists nowhere
    // else), with the name in the Host header, signed with the new secret.
    resolver.set("hooks.test", &["127.0.0.1".parse().unwrap()]);
    db.clock.advance(chrono::Duration::hours(2));
    let done = deliver_webhooks(&db.store, &sender).await.unwrap();
    assert_eq!((done.sent, done.failed), (1, 0));
    let (headers, body) = receiver.got.lock().unwrap()[0].clone();
    assert_eq!(headers["host"], format!("hooks.test:{port}"));
    let ts = headers["x-popreg-timestamp"].to_str().unwrap();
    assert_eq!(
        headers["x-popreg-signature"].to_str().unwrap(),
        expected_signature(&secret, ts, &body)
    );
    let attempts = db
        .store
        .webhook_attempts(events[0].id)
        .await
        .unwrap()
        .iter()
        .map(|a| (a.http_status, a.delivered))
        .collect::<Vec<_>>();
    assert_eq!(
        attempts,
        vec![
            (None, false),
            (None, false),
            (None, false),
            (Some(204), true)
        ]
    );
    app.shutdown().await.unwrap();
}
