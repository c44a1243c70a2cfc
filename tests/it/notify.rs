//! E-mail notifications over a real SMTP server (A1.52–A1.54, architecture principle 5), on SQLite and
//! PostgreSQL: a rejection's e-mail arrives in Armenian with its codes and fields; a relay that is down
//! leaves the message waiting with its retry, and it is delivered exactly once when the relay is back;
//! two workers never send the same message twice; the reminder comes after the deadline, once, and not
//! for a rejection that was corrected.
//!
//! The SMTP server is aiosmtpd (Debian's `python3-aiosmtpd`), a child process that writes each message it
//! accepts to a JSON file, decoded by Python's own `email` package. Missing, the tests fail and say how to
//! install it: they are never skipped.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Duration as Span;
use popreg_domain::access::{BodyType, Caller, Function};
use popreg_domain::submission::{Submission, Violation};
use popreg_domain::*;
use popreg_notify::{Delivered, Mailer, NotifyConfig, Security, SmtpConfig};
use popreg_store::{NewBody, Outcome, Receipt, Store, StoreOptions};
use serde_json::{Value, json};

use crate::common::*;

/// Accepts every message and writes it, decoded, to `<dir>/NNNN.json` before answering 250.
const SMTP_SERVER_PY: &str = r#"
import email, json, os, sys, threading
from email import policy
from aiosmtpd.controller import Controller

host, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
# With a certificate and key: STARTTLS offered and required before MAIL (the relay of a real deployment);
# with "implicit" after them, TLS from the first byte instead (SMTPS, port 465).
tls = {}
if len(sys.argv) > 5:
    import ssl
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(sys.argv[4], sys.argv[5])
    if len(sys.argv) > 6 and sys.argv[6] == "implicit":
        tls = {"ssl_context": ctx}
    else:
        tls = {"tls_context": ctx, "require_starttls": True}

class Handler:
    def __init__(self):
        self.n = 0

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw, policy=policy.default)
        body = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
        self.n += 1
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(msg["from"]),
            "subject": str(msg["subject"]),
            "message_id": msg["message-id"],
            "auto_submitted": msg["auto-submitted"],
            "content_language": msg["content-language"],
            "content_type": msg.get_content_type(),
            "charset": body.get_content_charset() if body is not None else None,
            "parts": [p.get_content_type() for p in msg.walk() if not p.is_multipart()],
            "body": body.get_content() if body is not None else None,
            "html": html.get_content() if html is not None else None,
            "raw": raw.decode("ascii", "replace"),
            "peer_port": session.peer[1],
            "tls": session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None,
        }
        tmp = os.path.join(out, ".%04d.tmp" % self.n)
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.rename(tmp, os.path.join(out, "%04d.json" % self.n))
        return "250 Message accepted for delivery"

controller = Controller(Handler(), hostname=host, port=port, **tls)
controller.start()
print("ready", flush=True)
threading.Event().wait()
"#;

/// The Python that has aiosmtpd: `POPREG_PYTHON`, Debian's, or the one on the PATH.
fn python() -> String {
    python_with(
        "import aiosmtpd",
        "no python3 with aiosmtpd: the notification tests need a real SMTP server and are never \
         skipped. Install it with `apt-get install -y python3-aiosmtpd` (./scripts/test.sh does), or \
         point POPREG_PYTHON at a python3 that has it",
    )
}

/// The first of `POPREG_PYTHON`, Debian's python3 and the one on the PATH that runs `check`; without one
/// the test fails with `missing` (test servers are never skipped).
pub(crate) fn python_with(check: &str, missing: &str) -> String {
    let mut candidates: Vec<String> = std::env::var("POPREG_PYTHON").into_iter().collect();
    candidates.extend(["/usr/bin/python3".to_string(), "python3".to_string()]);
    candidates
        .into_iter()
        .find(|p| {
            Command::new(p)
                .args(["-c", check])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .unwrap_or_else(|| panic!("{missing}"))
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A real SMTP server on 127.0.0.1, killed on drop.
pub(crate) struct SmtpServer {
    child: Child,
    dir: tempfile::TempDir,
}

impl SmtpServer {
    pub(crate) fn start(port: u16) -> SmtpServer {
        SmtpServer::start_with(port, None)
    }

    /// A server that requires STARTTLS with this certificate and key (PEM files).
    pub(crate) fn start_with(
        port: u16,
        tls: Option<(&std::path::Path, &std::path::Path)>,
    ) -> SmtpServer {
        SmtpServer::spawn(port, tls, false)
    }

    /// A server that speaks TLS from the first byte with this certificate and key (SMTPS).
    pub(crate) fn start_implicit_tls(
        port: u16,
        cert: &std::path::Path,
        key: &std::path::Path,
    ) -> SmtpServer {
        SmtpServer::spawn(port, Some((cert, key)), true)
    }

    fn spawn(
        port: u16,
        tls: Option<(&std::path::Path, &std::path::Path)>,
        implicit: bool,
    ) -> SmtpServer {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(python());
        cmd.args(["-c", SMTP_SERVER_PY, "127.0.0.1", &port.to_string()])
            .arg(dir.path());
        if let Some((cert, key)) = tls {
            cmd.arg(cert).arg(key);
            if implicit {
                cmd.arg("implicit");
            }
        }
        let child = cmd.stdout(Stdio::null()).spawn().unwrap();
        let mut server = SmtpServer { child, dir };
        let until = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("the SMTP server exited: {status}");
            }
            assert!(
                Instant::now() < until,
                "the SMTP server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// Every message received so far, in order.
    pub(crate) fn messages(&self) -> Vec<Value> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn config(port: u16) -> NotifyConfig {
    NotifyConfig {
        enabled: true,
        public_url: "https://register.example.am/".into(),
        smtp: SmtpConfig {
            host: "127.0.0.1".into(),
            port,
            security: Security::None,
            from: "Բնակչության ռեգիստր <noreply@register.example.am>".into(),
            timeout_seconds: 5,
            ..SmtpConfig::default()
        },
        ..NotifyConfig::default()
    }
}

fn mailer(port: u16) -> Mailer {
    Mailer::new(&config(port)).unwrap()
}

pub(crate) async fn body(store: &Store, id: &str, email: &str) {
    store
        .create_body(
            "test",
            &NewBody {
                id: id.into(),
                body_type: BodyType::MedicalOrganization,
                name_hy: "Ծննդատուն".into(),
                name_en: format!("Maternity {id}"),
                name_ru: "Роддом".into(),
                xroad_member: None,
                contact_email: Some(email.into()),
            },
        )
        .await
        .unwrap();
}

fn receipt(body_id: &str, payload: &Value) -> Receipt {
    Receipt {
        kind: "birth".into(),
        caller: Caller {
            body_id: body_id.into(),
            body_type: BodyType::MedicalOrganization,
            user_uid: format!("{body_id}-clerk"),
            functions: vec![Function::Submit],
            channel: Channel::Api,
            external: ExternalIds::default(),
        },
        media_type: "application/json".into(),
        payload: payload.to_string().into_bytes(),
    }
}

/// A birth dated in the future, rejected (as the pipeline would): returns the rejection id.
pub(crate) async fn rejected_birth(store: &Store, body_id: &str) -> i64 {
    let r = receipt(
        body_id,
        &json!({"first_name": "Արամ", "birth_date": "2030-01-01"}),
    );
    let errors = vec![Violation::new(
        Code::DateInFuture,
        "birth_date",
        "2030-01-01 is after today",
    )];
    match store.reject(&r, errors).await.unwrap().0 {
        Outcome::Rejected { rejection_id, .. } => rejection_id,
        other => panic!("not rejected: {other:?}"),
    }
}

async fn deliver(store: &Store, mailer: &Mailer) -> Delivered {
    popreg_notify::deliver_due(store, mailer).await.unwrap()
}

crate::conformance!(
    a1_53_a_rejection_e_mail_arrives_in_armenian_with_code_and_field,
    a_relay_down_keeps_the_message_with_its_retry_and_delivers_it_once_later,
    two_workers_never_send_the_same_message_twice,
    a1_54_the_reminder_comes_after_the_deadline_once_and_not_after_a_correction,
    the_spawned_worker_delivers_and_reminds_until_shut_down,
    a1_53_popreg_serve_e_mails_a_rejected_http_submission_to_the_provider,
    a1_53_starttls_to_the_relay_is_required_and_its_certificate_checked,
    a1_53_tls_from_the_first_byte_delivers_on_a_reused_connection,
);

/// STARTTLS (issue 7 §3): against a relay that requires it, the e-mail goes over TLS when the relay's
/// certificate chains to the configured CA; with an unknown CA nothing is sent in clear instead, and the
/// message stays queued with the reason.
async fn a1_53_starttls_to_the_relay_is_required_and_its_certificate_checked(db: TestDb) {
    body(&db.store, "MED-0001", "births@hospital.example.am").await;
    rejected_birth(&db.store, "MED-0001").await;
    let pki = tempfile::tempdir().unwrap();
    popreg_identity::dev_ca::write_dir(pki.path(), chrono::Utc::now(), &[], &[]).unwrap();
    let port = free_port();
    let server = SmtpServer::start_with(
        port,
        Some((
            &pki.path().join("server.pem"),
            &pki.path().join("server.key.pem"),
        )),
    );
    let starttls = |ca: Option<PathBuf>| {
        let mut cfg = config(port);
        cfg.smtp.host = "localhost".into();
        cfg.smtp.security = Security::Starttls;
        cfg.smtp.ca_file = ca;
        Mailer::new(&cfg).unwrap()
    };
    // A relay certificate from an unknown CA: refused, nothing delivered, the reason kept for the retry.
    let untrusted = starttls(None);
    assert_eq!(
        deliver(&db.store, &untrusted).await,
        Delivered {
            sent: 0,
            failed: 1,
            deferred: 0
        }
    );
    assert!(server.messages().is_empty());
    let row = &db.store.outbox_recent(10).await.unwrap()[0];
    assert!(row.sent_at.is_none());
    assert!(row.last_error.as_deref().is_some_and(|e| !e.is_empty()));
    // With the relay's CA: delivered over TLS.
    db.clock.advance(Span::hours(2));
    let trusted = starttls(Some(pki.path().join("ca.pem")));
    assert_eq!(
        deliver(&db.store, &trusted).await,
        Delivered {
            sent: 1,
            failed: 0,
            deferred: 0
        }
    );
    let got = server.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["tls"], json!(true), "the message travelled over TLS");
    assert_eq!(got[0]["rcpt_tos"], json!(["births@hospital.example.am"]));
}

/// TLS from the first byte (`security = "tls"`, SMTPS): our own rustls client on our own socket, trusting
/// `ca_file`. Two messages go over one pooled connection (the second after a NOOP check); an unknown CA
/// sends nothing.
async fn a1_53_tls_from_the_first_byte_delivers_on_a_reused_connection(db: TestDb) {
    body(&db.store, "MED-0001", "births@hospital.example.am").await;
    rejected_birth(&db.store, "MED-0001").await;
    let pki = tempfile::tempdir().unwrap();
    popreg_identity::dev_ca::write_dir(pki.path(), chrono::Utc::now(), &[], &[]).unwrap();
    let port = free_port();
    let server = SmtpServer::start_implicit_tls(
        port,
        &pki.path().join("server.pem"),
        &pki.path().join("server.key.pem"),
    );
    let smtps = |ca: Option<PathBuf>| {
        let mut cfg = config(port);
        cfg.smtp.host = "localhost".into();
        cfg.smtp.security = Security::Tls;
        cfg.smtp.ca_file = ca;
        Mailer::new(&cfg).unwrap()
    };
    let untrusted = smtps(None);
    assert_eq!(deliver(&db.store, &untrusted).await.sent, 0);
    assert!(server.messages().is_empty());
    db.clock.advance(Span::hours(2));
    let trusted = smtps(Some(pki.path().join("ca.pem")));
    assert_eq!(deliver(&db.store, &trusted).await.sent, 1);
    rejected_birth(&db.store, "MED-0001").await;
    assert_eq!(deliver(&db.store, &trusted).await.sent, 1);
    let got = server.messages();
    assert_eq!(got.len(), 2);
    for m in &got {
        assert_eq!(m["tls"], json!(true), "the message travelled over TLS");
        assert_eq!(m["rcpt_tos"], json!(["births@hospital.example.am"]));
    }
    assert_eq!(
        got[0]["peer_port"], got[1]["peer_port"],
        "the second message reused the first one's connection"
    );
}

async fn a1_53_a_rejection_e_mail_arrives_in_armenian_with_code_and_field(db: TestDb) {
    body(&db.store, "MED-0001", "births@hospital.example.am").await;
    let id = rejected_birth(&db.store, "MED-0001").await;
    let port = free_port();
    let server = SmtpServer::start(port);
    let m = mailer(port);

    assert_eq!(
        deliver(&db.store, &m).await,
        Delivered {
            sent: 1,
            failed: 0,
            deferred: 0
        }
    );
    let got = server.messages();
    assert_eq!(got.len(), 1);
    let mail = &got[0];
    assert_eq!(mail["rcpt_tos"], json!(["births@hospital.example.am"]));
    assert_eq!(mail["mail_from"], "noreply@register.example.am");
    assert_eq!(
        mail["from"],
        "Բնակչության ռեգիստր <noreply@register.example.am>"
    );
    assert_eq!(
        mail["subject"],
        "Ներկայացումը մերժվել է՝ Ծնունդ (PSR-VAL-0002)"
    );
    let raw = mail["raw"].as_str().unwrap();
    assert!(
        raw.lines()
            .any(|l| l.to_ascii_lowercase().starts_with("subject: =?utf-8?")),
        "the subject travels RFC 2047-encoded:\n{raw}"
    );
    assert_eq!(
        mail["message_id"],
        format!("<popreg.rejection.{id}@register.example.am>")
    );
    assert_eq!(mail["auto_submitted"], "auto-generated");
    assert_eq!(mail["content_language"], "hy");
    // Issue 7 item 2: the text and the same text as HTML.
    assert_eq!(mail["content_type"], "multipart/alternative");
    assert_eq!(mail["parts"], json!(["text/plain", "text/html"]));
    assert_eq!(mail["charset"], "utf-8");
    let html = mail["html"].as_str().unwrap();
    assert!(
        html.contains("<html lang=\"hy\">") && html.contains("Դաշտ՝ birth_date"),
        "{html}"
    );
    let text = mail["body"].as_str().unwrap();
    for needle in [
        "PSR-VAL-0002",
        "Ամսաթիվը ապագայում է",
        "Դաշտ՝ birth_date",
        "Ծնունդ (birth)",
        "2026-01-15 13:00 (Երևանի ժամանակով)",
        "https://register.example.am/api/v1/rejections",
        "Ուղղեք նշված տվյալները և կրկին ներկայացրեք",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }

    let row = &db.store.outbox_recent(10).await.unwrap()[0];
    assert_eq!(row.attempts, 1);
    assert_eq!(row.sent_at, Some(t0()));
    assert_eq!(row.last_error, None);
    // Nothing is due any more: a second pass sends nothing.
    assert_eq!(deliver(&db.store, &m).await, Delivered::default());
    assert_eq!(server.messages().len(), 1);
}

async fn a_relay_down_keeps_the_message_with_its_retry_and_delivers_it_once_later(db: TestDb) {
    body(&db.store, "MED-0001", "births@hospital.example.am").await;
    rejected_birth(&db.store, "MED-0001").await;
    let port = free_port();
    let m = mailer(port);

    // Nobody listens on the port.
    assert_eq!(
        deliver(&db.store, &m).await,
        Delivered {
            sent: 0,
            failed: 1,
            deferred: 0
        }
    );
    let row = db.store.outbox_recent(10).await.unwrap().remove(0);
    assert_eq!(row.attempts, 1);
    assert_eq!(row.sent_at, None);
    assert_eq!(row.next_attempt_at, t0() + Span::seconds(30));
    assert!(row.last_error.is_some());
    // Not due yet: the next pass leaves it alone.
    assert_eq!(deliver(&db.store, &m).await, Delivered::default());

    // Later, with the relay up, it goes out, once.
    let server = SmtpServer::start(port);
    db.clock.advance(Span::seconds(29));
    assert_eq!(deliver(&db.store, &m).await, Delivered::default());
    assert!(server.messages().is_empty());
    db.clock.advance(Span::seconds(1));
    assert_eq!(
        deliver(&db.store, &m).await,
        Delivered {
            sent: 1,
            failed: 0,
            deferred: 0
        }
    );
    db.clock.advance(Span::hours(2));
    assert_eq!(deliver(&db.store, &m).await, Delivered::default());
    assert_eq!(server.messages().len(), 1);
    let row = db.store.outbox_recent(10).await.unwrap().remove(0);
    assert_eq!(row.attempts, 2);
    assert_eq!(row.sent_at, Some(t0() + Span::seconds(30)));
    assert_eq!(row.last_error, None);
}

async fn two_workers_never_send_the_same_message_twice(db: TestDb) {
    body(&db.store, "MED-0001", "births@hospital.example.am").await;
    for _ in 0..8 {
        rejected_birth(&db.store, "MED-0001").await;
    }
    // A claimed message is nobody else's until its lease ends.
    let claimed = db
        .store
        .outbox_claim("email", 1, Span::minutes(5))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(db.store.outbox_pending(100).await.unwrap().len(), 7);
    db.clock.advance(Span::minutes(5));
    assert_eq!(db.store.outbox_pending(100).await.unwrap().len(), 8);

    // A second server on the same database.
    let other = Store::open(&db.url, &StoreOptions::default(), db.clock.clone())
        .await
        .unwrap();
    let port = free_port();
    let server = SmtpServer::start(port);
    let (m1, m2) = (mailer(port), mailer(port));
    let (a, b) = tokio::join!(deliver(&db.store, &m1), deliver(&other, &m2));
    assert_eq!(a.failed + b.failed, 0);
    assert_eq!(a.sent + b.sent, 8, "{a:?} {b:?}");
    let mut ids: Vec<String> = server
        .messages()
        .iter()
        .map(|m| m["message_id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 8);
}

async fn a1_54_the_reminder_comes_after_the_deadline_once_and_not_after_a_correction(db: TestDb) {
    let deadline = Span::days(5);
    body(&db.store, "MED-0001", "births@hospital.example.am").await;
    body(&db.store, "MED-0002", "clerk@second.example.am").await;
    let (mother, father) = (psn(701), psn(702));
    register_parents(&db.store, mother, father, "Սարգսյան").await;
    let uncorrected = rejected_birth(&db.store, "MED-0001").await;
    let corrected = rejected_birth(&db.store, "MED-0002").await;

    // MED-0002 sends the corrected birth an hour later, and it is accepted.
    db.clock.advance(Span::hours(1));
    let fixed = json!({
        "first_name": "Արամ", "patronymic": "Դավթի", "surname": "Սարգսյան", "sex": "M",
        "birth_date": "2026-01-10", "birth_place": {"country": "AM", "marz": "AM-ER", "community": "AM-ER-001"},
        "mother": {"psn": mother.to_string()}, "father": {"psn": father.to_string()}
    });
    let sub = Submission::from_value("birth", fixed.clone()).unwrap();
    let (outcome, _) = db
        .store
        .submit(&receipt("MED-0002", &fixed), sub)
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Accepted { .. }), "{outcome:?}");

    let port = free_port();
    let server = SmtpServer::start(port);
    let m = mailer(port);
    assert_eq!(deliver(&db.store, &m).await.sent, 2, "the two rejections");

    // Before the deadline: no reminder.
    db.clock.set(t0() + deadline - Span::seconds(1));
    assert_eq!(
        popreg_notify::enqueue_reminders(&db.store, deadline)
            .await
            .unwrap(),
        0
    );
    assert_eq!(deliver(&db.store, &m).await, Delivered::default());

    // After it: one, for the uncorrected rejection only, and never a second.
    db.clock.set(t0() + deadline);
    assert_eq!(
        popreg_notify::enqueue_reminders(&db.store, deadline)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        popreg_notify::enqueue_reminders(&db.store, deadline)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        deliver(&db.store, &m).await,
        Delivered {
            sent: 1,
            failed: 0,
            deferred: 0
        }
    );
    db.clock.advance(Span::days(30));
    assert_eq!(
        popreg_notify::enqueue_reminders(&db.store, deadline)
            .await
            .unwrap(),
        0
    );
    assert_eq!(deliver(&db.store, &m).await, Delivered::default());

    let got = server.messages();
    assert_eq!(got.len(), 3);
    let reminder = &got[2];
    assert_eq!(reminder["rcpt_tos"], json!(["births@hospital.example.am"]));
    assert_eq!(
        reminder["subject"],
        "Հիշեցում՝ մերժված տվյալները դեռ ուղղված չեն՝ Ծնունդ (PSR-VAL-0002)"
    );
    assert_eq!(
        reminder["message_id"],
        format!("<popreg.reminder.{uncorrected}@register.example.am>")
    );
    let text = reminder["body"].as_str().unwrap();
    for needle in [
        "5 օրվա ընթացքում",
        "PSR-VAL-0002",
        "Դաշտ՝ birth_date",
        "MED-0001",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
    assert!(
        !got.iter().any(
            |m| m["message_id"] == format!("<popreg.reminder.{corrected}@register.example.am>")
        ),
        "no reminder for the corrected rejection"
    );
}

async fn the_spawned_worker_delivers_and_reminds_until_shut_down(db: TestDb) {
    body(&db.store, "MED-0001", "births@hospital.example.am").await;
    let id = rejected_birth(&db.store, "MED-0001").await;
    db.clock.advance(Span::days(5));
    let port = free_port();
    let server = SmtpServer::start(port);
    let mut cfg = config(port);
    cfg.poll_seconds = 1;
    let disabled = NotifyConfig::default();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    assert!(
        popreg_notify::spawn(db.store.clone(), &disabled, async {})
            .unwrap()
            .is_none()
    );
    let worker = popreg_notify::spawn(db.store.clone(), &cfg, async {
        let _ = stopped.await;
    })
    .unwrap()
    .expect("enabled");
    let until = Instant::now() + Duration::from_secs(20);
    while server.messages().len() < 2 {
        assert!(
            Instant::now() < until,
            "the worker did not deliver: {:?}",
            server.messages()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), worker)
        .await
        .expect("the worker stops on shutdown")
        .unwrap();
    let ids: Vec<Value> = server
        .messages()
        .iter()
        .map(|m| m["message_id"].clone())
        .collect();
    assert_eq!(
        ids,
        [
            json!(format!("<popreg.rejection.{id}@register.example.am>")),
            json!(format!("<popreg.reminder.{id}@register.example.am>")),
        ]
    );
}

/// The whole path as an operator runs it: `popreg serve` with `[notify]` enabled, a provider's birth refused
/// over HTTP, the e-mail at the SMTP relay.
async fn a1_53_popreg_serve_e_mails_a_rejected_http_submission_to_the_provider(db: TestDb) {
    body(&db.store, "MED-0001", "births@hospital.example.am").await;
    let (_, key) = db
        .store
        .issue_api_key(
            "test",
            "MED-0001",
            "clerk",
            &[popreg_domain::access::Function::Submit],
            "t",
        )
        .await
        .unwrap();
    let port = free_port();
    let server = SmtpServer::start(port);
    let mut cfg = test_config();
    cfg.server.listen = "127.0.0.1:0".into();
    cfg.notify = config(port);
    cfg.notify.poll_seconds = 1;
    let running = popreg::app::start(&cfg, db.store.clone()).await.unwrap();
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/submissions/birth", running.url()))
        .header("x-api-key", key)
        .header("content-type", "application/json")
        .body(r#"{"first_name": "Արամ"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::BAD_REQUEST);
    let until = Instant::now() + Duration::from_secs(20);
    while server.messages().is_empty() {
        assert!(Instant::now() < until, "no e-mail arrived");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let m = &server.messages()[0];
    assert_eq!(m["rcpt_tos"], json!(["births@hospital.example.am"]), "{m}");
    assert!(m["body"].as_str().unwrap().contains("PSR-VAL-0006"), "{m}");
    running.shutdown().await.unwrap();
}
