//! The SMPP 3.4 client against a real SMSC process (G.7): `tests/fixtures/smsc.py`, which runs the SMPP
//! server of the PyPI package `smpp34` (an independent implementation; `./scripts/test.sh` installs it).
//! Without it the tests fail and say how to install it: they are never skipped.
//!
//! Covered: bind with the account's system_id; an Armenian text in two UCS-2 parts with the concatenation
//! UDH, decoded again by the SMSC; a GSM-7 text with extension characters; delivery receipts back through
//! the report channel (delivered and undeliverable); enquire_link keeping an idle session; a rejected
//! destination (permanent) and throttling (temporary); the SMSC killed mid-way and the client binding again
//! to its successor; a clean unbind.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use popreg_notify::smpp::{SmppClient, SmppSettings};
use popreg_notify::sms::{DeliveryReport, DeliveryStatus, Msisdn, SmsError, SmsSender, plan};
use popreg_notify::{Secret, SmppConfig, SmsConfig};
use serde_json::Value;
use tokio::sync::mpsc;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/smsc.py");

/// The Python that has smpp34: `POPREG_PYTHON`, Debian's, or the one on the PATH.
fn python() -> String {
    let mut candidates: Vec<String> = std::env::var("POPREG_PYTHON").into_iter().collect();
    candidates.extend(["/usr/bin/python3".to_string(), "python3".to_string()]);
    candidates
        .into_iter()
        .find(|p| {
            Command::new(p)
                .args(["-c", "import smpp34; smpp34.Server"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .unwrap_or_else(|| {
            panic!(
                "no python3 with the smpp34 package: the SMPP tests need a real SMSC and are never skipped. \
                 Install it with `python3 -m pip install --break-system-packages smpp34==1.5.0` \
                 (./scripts/test.sh does), or point POPREG_PYTHON at a python3 that has it"
            )
        })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The test SMSC, a child process; killed on drop.
struct Smsc {
    child: Child,
    events: std_mpsc::Receiver<Value>,
    port: u16,
}

impl Smsc {
    fn start(port: u16) -> Smsc {
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
                let v: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("the SMSC printed {line:?}: {e}"));
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
        let ready = smsc.next_event(Duration::from_secs(20));
        assert_eq!(ready["event"], "ready");
        assert!(TcpStream::connect(("127.0.0.1", port)).is_ok());
        smsc
    }

    fn next_event(&mut self, within: Duration) -> Value {
        match self.events.recv_timeout(within) {
            Ok(v) => v,
            Err(e) => {
                let status = self.child.try_wait();
                panic!("no event from the SMSC within {within:?} ({e}); process: {status:?}")
            }
        }
    }

    /// Events until one with `event == kind`, returning the skipped ones with it.
    fn wait_for(&mut self, kind: &str) -> Value {
        let until = Instant::now() + Duration::from_secs(15);
        loop {
            let v = self.next_event(until.saturating_duration_since(Instant::now()));
            if v["event"] == kind {
                return v;
            }
        }
    }

    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Smsc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn settings(port: u16) -> SmppSettings {
    let cfg = SmsConfig {
        source_addr: "e-Citizen".into(),
        max_per_second: 50,
        timeout_seconds: 5,
        smpp: SmppConfig {
            host: "127.0.0.1".into(),
            port,
            system_id: "popreg".into(),
            password: Some(Secret::new("s3cret")),
            system_type: "PSR".into(),
            ..SmppConfig::default()
        },
        ..SmsConfig::default()
    };
    let mut s = SmppSettings::from_config(&cfg).unwrap();
    s.enquire_link = Duration::from_millis(300);
    s.reconnect_min = Duration::from_millis(100);
    s.reconnect_max = Duration::from_millis(400);
    s
}

async fn report(rx: &mut mpsc::Receiver<DeliveryReport>) -> DeliveryReport {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a delivery receipt within 10 s")
        .expect("the report channel is open")
}

fn number(s: &str) -> Msisdn {
    Msisdn::parse(s).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g_7_armenian_text_in_two_ucs2_parts_with_receipts() {
    let port = free_port();
    let mut smsc = Smsc::start(port);
    let (client, mut reports) = SmppClient::start_with(settings(port)).unwrap();
    assert!(client.wait_bound(Duration::from_secs(10)).await);
    let bind = smsc.wait_for("bind");
    assert_eq!(bind["system_id"], "popreg");

    // Idle for several enquire_link intervals: the SMSC answers them and the session stays.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(client.is_bound());

    let text = "Ձեր հեռախոսահամարը E-Citizen պորտալում հաստատելու համար մուտքագրեք այս կոդը՝ \
                10128d։ Կոդը գործում է 24 ժամ։ Եթե դուք չեք խնդրել այն, անտեսեք այս հաղորդագրությունը։";
    let p = plan(text);
    assert_eq!((p.parts, p.chars_per_part), (3, 67), "{p:?}");
    let text: String = text.chars().take(100).collect();
    assert_eq!(plan(&text).parts, 2);
    let ids = client
        .send(&number("091 234 567"), &text, "sms-verify:1")
        .await
        .unwrap();
    assert_eq!(ids.0.len(), 2);

    let parts = [smsc.wait_for("submit"), smsc.wait_for("submit")];
    let mut rebuilt = String::new();
    for (i, part) in parts.iter().enumerate() {
        assert_eq!(part["status"], "ESME_ROK");
        assert_eq!(part["message_id"], ids.0[i].as_str());
        assert_eq!(part["data_coding"], 8);
        assert_eq!(part["esm_class"], 0x40);
        assert_eq!(part["registered_delivery"], 1);
        assert_eq!(part["dest"], "37491234567");
        assert_eq!(
            (part["dest_ton"].as_u64(), part["dest_npi"].as_u64()),
            (Some(1), Some(1))
        );
        assert_eq!(part["source"], "e-Citizen");
        assert_eq!(part["source_ton"], 5);
        let udh = &part["udh"];
        assert_eq!(udh["iei"], 0);
        assert_eq!(udh["total"], 2);
        assert_eq!(udh["seq"], i + 1);
        assert_eq!(udh["ref"], parts[0]["udh"]["ref"]);
        let sm = part["short_message"].as_str().unwrap();
        assert!(
            sm.len() / 2 <= 140,
            "at most 140 octets a part: {}",
            sm.len() / 2
        );
        rebuilt.push_str(part["text"].as_str().unwrap());
    }
    assert_eq!(rebuilt, text);

    let mut got = [report(&mut reports).await, report(&mut reports).await];
    got.sort_by(|a, b| a.provider_id.cmp(&b.provider_id));
    let mut want = ids.0.clone();
    want.sort();
    for (r, id) in got.iter().zip(&want) {
        assert_eq!(&r.provider_id, id);
        assert_eq!(r.status, DeliveryStatus::Delivered);
        assert_eq!(r.error.as_deref(), Some("000"));
    }
    assert_eq!(
        smsc.wait_for("receipt")["status"],
        0,
        "the client acknowledged the receipt"
    );

    // A GSM-7 text with extension characters: one message, data coding 0, unpacked septets.
    let gsm = "Code [10128d] {valid 24h} ~ 5€";
    let ids = client
        .send(&number("+374 77 000 111"), gsm, "sms-verify:2")
        .await
        .unwrap();
    assert_eq!(ids.0.len(), 1);
    let part = smsc.wait_for("submit");
    assert_eq!(part["data_coding"], 0);
    assert_eq!(part["esm_class"], 0);
    assert_eq!(part["udh"], Value::Null);
    assert_eq!(part["text"], gsm);
    assert_eq!(
        part["short_message"].as_str().unwrap().len() / 2,
        gsm.chars().count() + 6,
        "six extension characters count double"
    );

    // A clean unbind: the SMSC sees the session end.
    client.shutdown().await;
    assert!(!client.is_bound());
    smsc.wait_for("unbound");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g_7_refused_destinations_and_failed_deliveries() {
    let port = free_port();
    let mut smsc = Smsc::start(port);
    let (client, mut reports) = SmppClient::start_with(settings(port)).unwrap();
    assert!(client.wait_bound(Duration::from_secs(10)).await);
    smsc.wait_for("bind");

    let e = client
        .send(&number("099 000 000"), "Բարև", "sms-verify:3")
        .await
        .unwrap_err();
    assert!(e.is_permanent(), "{e}");
    assert!(e.to_string().contains("ESME_RINVDSTADR"), "{e}");

    let e = client
        .send(&number("099 000 001"), "Բարև", "sms-verify:4")
        .await
        .unwrap_err();
    assert!(e.is_temporary(), "{e}");
    assert!(e.to_string().contains("ESME_RTHROTTLED"), "{e}");

    let ids = client
        .send(&number("099 000 002"), "Բարև", "sms-verify:5")
        .await
        .unwrap();
    let r = report(&mut reports).await;
    assert_eq!(r.provider_id, ids.0[0]);
    assert_eq!(r.status, DeliveryStatus::Undeliverable);
    assert_eq!(r.error.as_deref(), Some("001"));

    // Too long for the configured six parts: refused before anything is sent.
    let e = client
        .send(
            &number("091 234 567"),
            &"ա".repeat(67 * 6 + 1),
            "sms-verify:6",
        )
        .await
        .unwrap_err();
    assert!(e.is_permanent(), "{e}");
    client.shutdown().await;
    smsc.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g_7_the_client_binds_again_after_the_smsc_dies() {
    let port = free_port();
    let mut smsc = Smsc::start(port);
    let (client, _reports) = SmppClient::start_with(settings(port)).unwrap();
    assert!(client.wait_bound(Duration::from_secs(10)).await);
    smsc.wait_for("bind");
    client
        .send(&number("091 234 567"), "first", "r1")
        .await
        .unwrap();
    smsc.wait_for("submit");

    smsc.kill();
    let until = Instant::now() + Duration::from_secs(10);
    while client.is_bound() {
        assert!(
            Instant::now() < until,
            "the client did not notice the SMSC is gone"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let e = client
        .send(&number("091 234 567"), "while down", "r2")
        .await
        .unwrap_err();
    assert!(matches!(e, SmsError::Temporary(_)), "{e}");

    // Its successor on the same port: the client binds again by itself.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut smsc = Smsc::start(port);
    assert!(
        client.wait_bound(Duration::from_secs(10)).await,
        "no new bind after the SMSC came back"
    );
    assert_eq!(smsc.wait_for("bind")["system_id"], "popreg");
    let ids = client
        .send(&number("091 234 567"), "second", "r3")
        .await
        .unwrap();
    let part = smsc.wait_for("submit");
    assert_eq!(part["text"], "second");
    assert_eq!(part["message_id"], ids.0[0].as_str());
    assert_eq!(smsc.port, port);
    client.shutdown().await;
}
