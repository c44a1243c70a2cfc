//! SMS delivery from the outbox (G.7, G.3.3, issue 7), on SQLite and PostgreSQL, against a real SMSC: the
//! smpp34 package's SMPP 3.4 server driven by `crates/notify/tests/fixtures/smsc.py` (`./scripts/test.sh`
//! installs it; missing, the tests fail and say so — never skipped). A phone's verification code arrives
//! with the G.7 text and verifies the phone; a forwarded notification is delivered and its receipt marks
//! it delivered; a refused number and an `UNDELIV` receipt are permanent failures, never tried again; the
//! per-number daily cap; two workers never send the same SMS twice; the gateway's receipt route and its
//! secret; the backlog gauge.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use chrono::Duration as Span;
use popreg_notify::sms::{DeliveryReport, SmsChannel};
use popreg_notify::{Delivered, Secret, SmppConfig, SmsConfig};
use popreg_store::{ReceiptEffect, Store, StoreOptions};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::common::*;
use crate::notifications_api::{caller, notification, person, secret_for, sender_body, settings};
use crate::notify::{free_port, python_with};

crate::conformance!(
    g_7_the_verification_code_arrives_by_sms_verifies_the_phone_and_a_forward_is_delivered,
    g_7_a_refused_number_and_an_undeliverable_receipt_are_permanent_failures,
    g_7_at_most_the_daily_cap_of_sms_goes_to_one_number,
    g_7_two_workers_never_send_the_same_sms_twice,
    g_7_the_gateway_receipt_route_needs_its_secret,
    g_3_3_the_hourly_cap_per_number_defers_sms_and_sends_them_later,
    g_7_an_smsc_dropping_the_connection_mid_window_loses_no_sms,
);

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../notify/tests/fixtures/smsc.py"
);
const G7_EN: &str = "To verify this number E-Citizen portal please provide this token: ";

/// The Python that has smpp34: `POPREG_PYTHON`, Debian's, or the one on the PATH.
fn python() -> String {
    python_with(
        "import smpp34; smpp34.Server",
        "no python3 with the smpp34 package: the SMS tests need a real SMSC and are never skipped. \
         Install it with `python3 -m pip install --break-system-packages smpp34==1.5.0` \
         (./scripts/test.sh does), or point POPREG_PYTHON at a python3 that has it",
    )
}

/// The test SMSC, a child process that prints one JSON line per event; killed on drop.
struct Smsc {
    child: Child,
    events: std_mpsc::Receiver<Value>,
    port: u16,
}

impl Smsc {
    fn start() -> Smsc {
        let port = free_port();
        let mut child = Command::new(python())
            .args([FIXTURE, "127.0.0.1", &port.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, events) = std_mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                let v: Value = serde_json::from_str(&line).unwrap();
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        let mut smsc = Smsc {
            child,
            events,
            port,
        };
        assert_eq!(
            smsc.next(Duration::from_secs(20)).unwrap()["event"],
            "ready"
        );
        smsc
    }

    fn next(&mut self, within: Duration) -> Option<Value> {
        self.events.recv_timeout(within).ok()
    }

    /// The `submit` events until none comes for a second (at most 20 s in all).
    fn submits(&mut self) -> Vec<Value> {
        let until = Instant::now() + Duration::from_secs(20);
        let mut out = vec![];
        while Instant::now() < until {
            match self.next(Duration::from_secs(1)) {
                Some(v) if v["event"] == "submit" => out.push(v),
                Some(_) => {}
                None => break,
            }
        }
        out
    }

    /// A session of the register's SMPP client with this SMSC, bound; and its receipts.
    async fn channel(
        &mut self,
        cap: u32,
    ) -> (SmsChannel, mpsc::Receiver<DeliveryReport>, SmsConfig) {
        let cfg = SmsConfig {
            max_per_second: 0,
            timeout_seconds: 5,
            daily_cap_per_number: cap,
            smpp: SmppConfig {
                host: "127.0.0.1".into(),
                port: self.port,
                system_id: "popreg".into(),
                password: Some(Secret::new("s3cret")),
                ..SmppConfig::default()
            },
            ..SmsConfig::default()
        };
        assert!(cfg.is_configured());
        let (channel, reports) = SmsChannel::start(&cfg).unwrap();
        let SmsChannel::Smpp(client) = &channel else {
            unreachable!()
        };
        assert!(client.wait_bound(Duration::from_secs(15)).await, "bound");
        (channel, reports, cfg)
    }
}

impl Drop for Smsc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn deliver(store: &Store, channel: &SmsChannel, cfg: &SmsConfig) -> Delivered {
    popreg_notify::deliver_sms_due(store, channel, cfg)
        .await
        .unwrap()
}

/// The next `n` receipts, each recorded on its message.
async fn receipts(
    store: &Store,
    reports: &mut mpsc::Receiver<DeliveryReport>,
    n: usize,
) -> Vec<ReceiptEffect> {
    let mut out = vec![];
    for _ in 0..n {
        let r = tokio::time::timeout(Duration::from_secs(15), reports.recv())
            .await
            .expect("a receipt within 15 s")
            .unwrap();
        let m = popreg_notify::apply_report(store, &r)
            .await
            .unwrap()
            .expect("the receipt names a recorded message");
        out.push(m.effect);
    }
    out
}

/// The status of the notification's SMS destinations.
async fn sms_statuses(store: &Store, id: &str) -> Vec<(String, Option<String>)> {
    store
        .notification_status(SENDER, id)
        .await
        .unwrap()
        .unwrap()
        .destinations
        .into_iter()
        .filter(|d| d.channel == "sms")
        .map(|d| (d.status, d.delivered_at.map(|t| t.to_rfc3339())))
        .collect()
}

const SENDER: &str = "TAX-0001";

/// A verified phone, its code taken from the outbox row (the SMS itself is tested once, below).
async fn verified_phone(store: &Store, p: popreg_domain::Psn, number: &str) {
    let c = store.add_phone(p, number, "en", &settings()).await.unwrap();
    let code = secret_for(store, &c.address).await;
    store.verify_phone(p, &c.address, &code).await.unwrap();
}

async fn g_7_the_verification_code_arrives_by_sms_verifies_the_phone_and_a_forward_is_delivered(
    db: TestDb,
) {
    let s = &db.store;
    let mut smsc = Smsc::start();
    let (channel, mut reports, cfg) = smsc.channel(10).await;
    sender_body(s, SENDER).await;
    let p = person(s, 71).await;
    s.add_phone(p, "+374 91 234567", "en", &settings())
        .await
        .unwrap();

    let d = deliver(s, &channel, &cfg).await;
    assert_eq!((d.sent, d.failed), (1, 0));
    let sub = smsc.submits();
    assert_eq!(sub.len(), 1, "{sub:?}");
    assert_eq!(sub[0]["dest"], "37491234567");
    assert_eq!(sub[0]["source"], "e-Citizen");
    assert_eq!(sub[0]["registered_delivery"], 1);
    let text = sub[0]["text"].as_str().unwrap();
    let code = text
        .strip_prefix(G7_EN)
        .unwrap_or_else(|| panic!("the G.7 text: {text:?}"))
        .trim();
    assert_eq!(code.len(), 6, "{text:?}");
    // The code left with the SMS: the outbox row no longer holds it.
    let row = s.outbox_recent(10).await.unwrap();
    let row = row.iter().find(|m| m.channel == "sms").unwrap();
    assert!(row.sent_at.is_some() && row.params.get("secret").is_none());
    assert_eq!(
        receipts(s, &mut reports, 1).await,
        vec![ReceiptEffect::Delivered]
    );
    // The person types the code from the SMS.
    let phone = s.verify_phone(p, "+374 91 234567", code).await.unwrap();
    assert!(phone.verified());

    // A notification is forwarded to the verified phone.
    let sent = s
        .send_notification(&caller(SENDER), &notification(p, None), &settings())
        .await
        .unwrap();
    assert_eq!(
        sms_statuses(s, &sent.id).await,
        vec![("created".into(), None)]
    );
    assert_eq!(deliver(s, &channel, &cfg).await.sent, 1);
    let sub = smsc.submits();
    assert_eq!(sub.len(), 1);
    assert_eq!(sub[0]["dest"], "37491234567");
    assert!(
        sub[0]["text"].as_str().unwrap().contains(&format!(
            "{}/my/inbox/{}",
            settings().portal_url,
            sent.id
        )),
        "{sub:?}"
    );
    // Handed over, not delivered until the receipt says so.
    assert_eq!(sms_statuses(s, &sent.id).await[0].0, "sending");
    assert_eq!(
        receipts(s, &mut reports, 1).await,
        vec![ReceiptEffect::Delivered]
    );
    let st = sms_statuses(s, &sent.id).await;
    assert_eq!(st[0].0, "delivered");
    assert!(st[0].1.is_some());
    // Nothing is sent twice.
    assert_eq!(deliver(s, &channel, &cfg).await, Delivered::default());
}

async fn g_7_a_refused_number_and_an_undeliverable_receipt_are_permanent_failures(db: TestDb) {
    let s = &db.store;
    let mut smsc = Smsc::start();
    let (channel, mut reports, cfg) = smsc.channel(10).await;
    sender_body(s, SENDER).await;
    let p = person(s, 72).await;
    // The fixture refuses +37499000000 (ESME_RINVDSTADR) and reports +37499000002 UNDELIV.
    verified_phone(s, p, "+37499000000").await;
    verified_phone(s, p, "+37499000002").await;
    let sent = s
        .send_notification(&caller(SENDER), &notification(p, None), &settings())
        .await
        .unwrap();
    let d = deliver(s, &channel, &cfg).await;
    // Two verification SMS and two forwards: the refused number's two fail, the others go.
    assert_eq!((d.sent, d.failed), (2, 2), "{d:?}");
    let st = sms_statuses(s, &sent.id).await;
    assert_eq!(st[0].0, "permanent-failure", "{st:?}");
    assert_eq!(st[1].0, "sending", "{st:?}");
    assert_eq!(
        receipts(s, &mut reports, 2).await,
        vec![ReceiptEffect::Failed, ReceiptEffect::Failed]
    );
    let st = sms_statuses(s, &sent.id).await;
    assert_eq!(st[1], ("permanent-failure".into(), None));
    // Given up: not tried again, however long we wait.
    smsc.submits();
    db.clock.advance(Span::hours(3));
    assert_eq!(deliver(s, &channel, &cfg).await, Delivered::default());
    assert!(smsc.submits().is_empty());
    assert!(s.outbox_pending(100).await.unwrap().is_empty());
    let rows = s.outbox_recent(10).await.unwrap();
    let refused = rows
        .iter()
        .find(|m| m.recipient == "+37499000000" && m.template == "notification_sms")
        .unwrap();
    let why = refused.last_error.as_deref().unwrap();
    assert!(why.contains("ESME_RINVDSTADR"), "{why}");
}

async fn enqueue(store: &Store, to: &str, n: usize, tag: &str) {
    for i in 0..n {
        let params =
            json!({"sender": "Test", "inbox_url": "https://e-citizen.example.am/my/inbox/1"});
        assert!(
            store
                .outbox_enqueue(
                    "sms",
                    to,
                    "notification_sms",
                    "en",
                    &params,
                    &format!("{tag}:{i}")
                )
                .await
                .unwrap()
        );
    }
}

async fn g_7_at_most_the_daily_cap_of_sms_goes_to_one_number(db: TestDb) {
    let s = &db.store;
    let mut smsc = Smsc::start();
    let (channel, _reports, cfg) = smsc.channel(2).await;
    enqueue(s, "+37491000001", 3, "cap").await;
    enqueue(s, "+37491000002", 1, "other").await;
    let d = deliver(s, &channel, &cfg).await;
    assert_eq!((d.sent, d.failed), (3, 1), "{d:?}");
    assert_eq!(smsc.submits().len(), 3);
    let rows = s.outbox_recent(10).await.unwrap();
    let capped: Vec<_> = rows.iter().filter(|m| m.sent_at.is_none()).collect();
    assert_eq!(capped.len(), 1);
    assert_eq!(capped[0].recipient, "+37491000001");
    assert!(
        capped[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("daily cap reached: 2 SMS"),
        "{:?}",
        capped[0].last_error
    );
    // Given up, not retried; a day later the number gets SMS again.
    db.clock.advance(Span::hours(25));
    assert_eq!(deliver(s, &channel, &cfg).await, Delivered::default());
    enqueue(s, "+37491000001", 1, "next-day").await;
    assert_eq!(deliver(s, &channel, &cfg).await.sent, 1);
}

async fn g_7_two_workers_never_send_the_same_sms_twice(db: TestDb) {
    let s = &db.store;
    let mut smsc = Smsc::start();
    let (c1, _r1, cfg) = smsc.channel(0).await;
    let (c2, _r2, _) = smsc.channel(0).await;
    for i in 0..12 {
        enqueue(
            s,
            &format!("+3749100{:04}", 100 + i),
            1,
            &format!("two:{i}"),
        )
        .await;
    }
    // A second server on the same database.
    let other = Store::open(&db.url, &StoreOptions::default(), db.clock.clone())
        .await
        .unwrap();
    let (a, b) = tokio::join!(deliver(s, &c1, &cfg), deliver(&other, &c2, &cfg));
    assert_eq!(a.failed + b.failed, 0);
    assert_eq!(a.sent + b.sent, 12, "{a:?} {b:?}");
    let mut dests: Vec<String> = smsc
        .submits()
        .iter()
        .map(|v| v["dest"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(dests.len(), 12, "each SMS once");
    dests.sort();
    dests.dedup();
    assert_eq!(dests.len(), 12);
}

async fn g_7_the_gateway_receipt_route_needs_its_secret(db: TestDb) {
    let s = &db.store;
    sender_body(s, SENDER).await;
    let p = person(s, 73).await;
    verified_phone(s, p, "+37491555555").await;
    let sent = s
        .send_notification(&caller(SENDER), &notification(p, None), &settings())
        .await
        .unwrap();
    // As the worker records a gateway's acceptance.
    let row = s
        .outbox_recent(10)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.template == "notification_sms")
        .unwrap();
    s.outbox_sms_sent(row.id, &["gw-77".to_string()])
        .await
        .unwrap();

    let mut cfg = test_config();
    cfg.server.listen = "127.0.0.1:0".into();
    cfg.notify.sms.http.callback_secret = Some(Secret::new("cb-s3cret"));
    let app = popreg::app::start(&cfg, s.clone()).await.unwrap();
    let c = reqwest::Client::new();
    let url = format!("{}/api/v1/sms/receipts", app.url());
    let receipt = json!({"id": "gw-77", "status": "delivered", "done_at": "2026-01-01T12:00:00Z"});
    let post = |auth: Option<&str>, body: Vec<u8>| {
        let r = c
            .post(&url)
            .header("content-type", "application/json")
            .body(body);
        match auth {
            Some(a) => r.header("authorization", a),
            None => r,
        }
    };
    let code = |v: Value| v["code"].as_str().unwrap_or("").to_string();
    let body = serde_json::to_vec(&receipt).unwrap();
    for auth in [
        None,
        Some("Bearer wrong"),
        Some("Basic cb-s3cret"),
        Some("Bearer "),
    ] {
        let r = post(auth, body.clone()).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(code(r.json().await.unwrap()), "PSR-NTF-0005");
    }
    assert_eq!(sms_statuses(s, &sent.id).await[0].0, "sending");
    let ok = Some("Bearer cb-s3cret");
    let r = post(ok, b"{not json".to_vec()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(code(r.json().await.unwrap()), "PSR-NTF-0006");
    let big = vec![b' '; popreg_web::MAX_RECEIPT_BYTES + 1];
    let r = post(ok, big).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let unknown = serde_json::to_vec(&json!({"id": "gw-0", "status": "delivered"})).unwrap();
    let r = post(ok, unknown).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(code(r.json().await.unwrap()), "PSR-NTF-0007");
    let r = post(ok, body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(sms_statuses(s, &sent.id).await[0].0, "delivered");

    // The backlog gauge: the verification SMS still waits (nothing delivers it here).
    let m = c
        .get(format!("{}/metrics", app.url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        m.contains("popreg_outbox_backlog{channel=\"sms\",state=\"undelivered\"}"),
        "{m}"
    );
    assert!(m.contains("popreg_outbox_backlog{channel=\"email\",state=\"due\"}"));
    app.shutdown().await.unwrap();
}

async fn g_3_3_the_hourly_cap_per_number_defers_sms_and_sends_them_later(db: TestDb) {
    let s = &db.store;
    let mut smsc = Smsc::start();
    let (channel, _reports, mut cfg) = smsc.channel(0).await;
    cfg.recipient_max_per_hour = 2;
    enqueue(s, "+37491000003", 3, "hourly").await;
    enqueue(s, "+37491000004", 1, "another").await;
    let t0 = popreg_domain::Clock::now(db.clock.as_ref());
    let d = deliver(s, &channel, &cfg).await;
    assert_eq!((d.sent, d.failed, d.deferred), (3, 0, 1), "{d:?}");
    assert_eq!(smsc.submits().len(), 3);
    // Deferred, not failed: no attempt, no error, not given up; due an hour after the first.
    let waiting: Vec<_> = s
        .outbox_recent(10)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.sent_at.is_none())
        .collect();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].recipient, "+37491000003");
    assert_eq!(
        (waiting[0].attempts, waiting[0].last_error.as_deref()),
        (0, None)
    );
    assert_eq!(waiting[0].next_attempt_at, t0 + Span::hours(1));
    assert_eq!(deliver(s, &channel, &cfg).await, Delivered::default());
    db.clock.advance(Span::minutes(61));
    assert_eq!(deliver(s, &channel, &cfg).await.sent, 1);
    let late = smsc.submits();
    assert_eq!(late.len(), 1, "only the deferred one, now: {late:?}");
}

/// A scripted SMSC on loopback, for what the smpp34 server does not do on demand: it binds the client,
/// then answers the first `answer` of the `submit_sm` it reads and drops the connection while the others of
/// the window wait for their answer. The next connection answers everything. Every `submit_sm` it reads is
/// reported on the returned channel (whether on the first connection, and the destination digits), and so
/// is the bind of a later connection (`(false, "bind")`).
async fn dropping_smsc(answer: usize) -> (u16, mpsc::UnboundedReceiver<(bool, String)>) {
    use popreg_notify::smpp::pdu::{self, Pdu};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut first = true;
        while let Ok((mut s, _)) = l.accept().await {
            let mut buf = vec![];
            let mut answered = 0;
            'conn: loop {
                let mut chunk = [0u8; 4096];
                match s.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
                while let Ok(Some(p)) = pdu::take(&mut buf) {
                    let reply = match p.command_id {
                        pdu::BIND_TRANSCEIVER => {
                            if !first {
                                let _ = tx.send((false, "bind".to_string()));
                            }
                            Pdu::response(pdu::BIND_TRANSCEIVER_RESP, 0, p.seq, b"SMSC\0".to_vec())
                        }
                        pdu::SUBMIT_SM => {
                            // The destination: after service_type, source TON/NPI/address, dest TON/NPI.
                            let body = &p.body;
                            let mut i = body.iter().position(|b| *b == 0).unwrap() + 3;
                            i += body[i..].iter().position(|b| *b == 0).unwrap() + 3;
                            let end = i + body[i..].iter().position(|b| *b == 0).unwrap();
                            let dest = String::from_utf8_lossy(&body[i..end]).into_owned();
                            let _ = tx.send((first, dest.clone()));
                            if first && answered == answer {
                                // Mid-window: the rest of the window never gets an answer.
                                break 'conn;
                            }
                            answered += 1;
                            Pdu::response(
                                pdu::SUBMIT_SM_RESP,
                                0,
                                p.seq,
                                format!("id-{dest}-{}\0", u8::from(first)).into_bytes(),
                            )
                        }
                        pdu::ENQUIRE_LINK => {
                            Pdu::response(pdu::ENQUIRE_LINK_RESP, 0, p.seq, vec![])
                        }
                        pdu::UNBIND => Pdu::response(pdu::UNBIND_RESP, 0, p.seq, vec![]),
                        _ => continue,
                    };
                    if s.write_all(&reply.encode()).await.is_err() {
                        break 'conn;
                    }
                }
            }
            first = false;
        }
    });
    (port, rx)
}

/// Issue 7 ("an SMSC that drops the connection mid-batch loses no message"), with the SMPP window: four
/// SMS in flight at once, the SMSC answers two and drops the connection. The two it accepted are recorded
/// as sent with their ids and never sent again; the two left unanswered are temporary failures, sent again
/// after the backoff over the new session; none is lost.
async fn g_7_an_smsc_dropping_the_connection_mid_window_loses_no_sms(db: TestDb) {
    let s = &db.store;
    let (port, mut seen) = dropping_smsc(2).await;
    let cfg = SmsConfig {
        max_per_second: 0,
        timeout_seconds: 5,
        daily_cap_per_number: 0,
        smpp: SmppConfig {
            host: "127.0.0.1".into(),
            port,
            system_id: "popreg".into(),
            window: 4,
            ..SmppConfig::default()
        },
        ..SmsConfig::default()
    };
    let (channel, _reports) = SmsChannel::start(&cfg).unwrap();
    let SmsChannel::Smpp(client) = &channel else {
        unreachable!()
    };
    assert!(client.wait_bound(Duration::from_secs(15)).await, "bound");
    for i in 0..4 {
        enqueue(s, &format!("+3749120000{i}"), 1, &format!("window:{i}")).await;
    }
    let d = deliver(s, &channel, &cfg).await;
    assert_eq!((d.sent, d.failed), (2, 2), "{d:?}");
    let mut first = vec![];
    while let Ok((true, dest)) = seen.try_recv() {
        first.push(dest);
    }
    // The whole window went out before any answer came (the SMSC drops the connection at the third).
    assert!(first.len() >= 3, "{first:?}");
    let rows = s.outbox_recent(10).await.unwrap();
    let sent: Vec<_> = rows.iter().filter(|m| m.sent_at.is_some()).collect();
    let waiting: Vec<_> = rows.iter().filter(|m| m.sent_at.is_none()).collect();
    assert_eq!((sent.len(), waiting.len()), (2, 2));
    for m in &waiting {
        assert_eq!(m.attempts, 1);
        assert!(m.last_error.is_some(), "{m:?}");
    }
    // The accepted ones carry their SMSC ids: a receipt finds each.
    for m in &sent {
        let digits = m.recipient.trim_start_matches('+');
        let r = s
            .sms_receipt(&format!("id-{digits}-1"), "delivered", None)
            .await
            .unwrap()
            .expect("the part is recorded with its id");
        assert_eq!(r.outbox_id, m.id);
    }

    // After the backoff, over the new session (bound: the SMSC has seen the new bind, and the client its
    // answer): only the two unanswered ones again.
    while let Some((on_first, what)) = seen.recv().await {
        if !on_first && what == "bind" {
            break;
        }
    }
    assert!(
        client.wait_bound(Duration::from_secs(15)).await,
        "bound again"
    );
    db.clock.advance(Span::seconds(31));
    let d = deliver(s, &channel, &cfg).await;
    assert_eq!((d.sent, d.failed), (2, 0), "{d:?}");
    let mut again = vec![];
    while let Ok((false, dest)) = seen.try_recv() {
        again.push(dest);
    }
    again.sort();
    let mut expected: Vec<String> = waiting
        .iter()
        .map(|m| m.recipient.trim_start_matches('+').to_string())
        .collect();
    expected.sort();
    assert_eq!(
        again, expected,
        "each unanswered SMS once more, no accepted one"
    );
    let rows = s.outbox_recent(10).await.unwrap();
    assert!(rows.iter().all(|m| m.sent_at.is_some()), "none lost");
    assert_eq!(deliver(s, &channel, &cfg).await, Delivered::default());
}
