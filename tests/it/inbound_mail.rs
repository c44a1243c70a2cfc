//! The official mail domain (G.3.1): the register's SMTP server for `<PSN>@e-citizen.am`, on SQLite and
//! PostgreSQL, with real peers: Python's `smtplib` sends into it (plain and STARTTLS), aiosmtpd receives
//! the forwards (tests/it/notify.rs), and dkimpy (Debian's `python3-dkim`), an independent implementation,
//! checks their DKIM signature and ARC set. Missing Python modules make the tests fail, never skip.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use popreg_connectors::fake::{FakeRegistries, Mode};
use popreg_connectors::registries::RegistryKind;
use popreg_domain::*;
use popreg_notify::inbound::{Inbound, generate_rsa_key};
use popreg_notify::{InboundConfig, Mailer, Secret, Security};
use popreg_store::{NewInboundMail, Owner, Store};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::common::*;
use crate::notifications_api::{person, settings, verified_email};
use crate::notify::{SmtpServer, free_port, python_with};
use crate::registries::{ARARAT, direct, site_with};

crate::conformance!(
    g_3_1_smtplib_mail_is_stored_byte_for_byte_and_forwarded_signed_to_verified_addresses_only,
    g_3_1_starttls_with_smtplib_and_a_dev_ca_certificate,
    g_3_1_unknown_and_invalid_recipients_are_refused_at_rcpt,
    g_3_1_commands_out_of_order_get_503_and_limits_hold,
    g_3_1_oversized_mail_gets_552_and_nothing_is_stored,
    g_3_1_a_bounce_to_the_srs_address_marks_the_forwarding_address_failing,
    g_3_1_a_permanent_smtp_failure_of_a_forward_marks_the_address_failing,
    g_3_1_a_message_is_stored_and_acknowledged_or_neither,
    g_3_1_the_portal_shows_official_mail_and_gives_the_raw_message,
    g_3_1_idle_clients_and_connections_over_the_cap_are_dropped,
    g_3_1_concurrent_messages_share_commits_and_a_refused_one_leaves_the_others_stored,
    g_6_mail_to_a_company_tin_lands_in_its_inbox_and_is_forwarded_to_its_verified_addresses,
    g_6_unknown_tins_are_refused_at_rcpt_and_an_unavailable_registry_gets_451,
    g_6_official_mail_of_a_company_is_shown_to_its_role_holders_only,
);

const DOMAIN: &str = "e-citizen.am";
const SELECTOR: &str = "popreg";

/// Sends one message with smtplib and prints what happened as JSON.
const SEND_PY: &str = r#"
import json, smtplib, ssl, sys
host, port, tls, cafile, frm, rcpts, path = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4], sys.argv[5], sys.argv[6].split(","), sys.argv[7]
raw = open(path, "rb").read()
out = {}
try:
    with smtplib.SMTP(host, port, timeout=20) as s:
        s.ehlo("client.example.org")
        out["esmtp"] = sorted(s.esmtp_features.keys())
        if tls:
            s.starttls(context=ssl.create_default_context(cafile=cafile))
            s.ehlo("client.example.org")
            out["esmtp_tls"] = sorted(s.esmtp_features.keys())
        refused = s.sendmail(frm, rcpts, raw)
        out["code"] = 250
        out["refused"] = {k: v[0] for k, v in refused.items()}
except smtplib.SMTPRecipientsRefused as e:
    out["code"] = "rcpt"
    out["refused"] = {k: v[0] for k, v in e.recipients.items()}
except smtplib.SMTPResponseException as e:
    out["code"] = e.smtp_code
    out["error"] = e.smtp_error.decode()
print(json.dumps(out))
"#;

/// Verifies a message's DKIM signature and ARC chain with dkimpy, the key given through `dnsfunc`, and
/// again after changing one word of the body.
const VERIFY_PY: &str = r#"
import dkim, json, sys
raw = open(sys.argv[1], "rb").read()
txt, name = sys.argv[2].encode(), sys.argv[3].encode()
def dns(n, timeout=5):
    return txt if n.rstrip(b".") == name else None
head, body = raw.split(b"\r\n\r\n", 1)
bad = head + b"\r\n\r\n" + body.replace(b"Hello", b"Jello", 1)
arc = dkim.arc_verify(raw, dnsfunc=dns)
print(json.dumps({
    "dkim": dkim.verify(raw, dnsfunc=dns),
    "arc": arc[0].decode(),
    "arc_reason": str(arc[2]),
    "dkim_tampered": dkim.verify(bad, dnsfunc=dns),
    "arc_tampered": dkim.arc_verify(bad, dnsfunc=dns)[0].decode(),
}))
"#;

fn python() -> String {
    python_with(
        "import smtplib, dkim; dkim.verify; dkim.arc_verify",
        "no python3 with dkimpy: the official mail tests check signatures with an independent \
         implementation and are never skipped. Install it with `apt-get install -y python3-dkim` \
         (./scripts/test.sh does), or point POPREG_PYTHON at a python3 that has it",
    )
}

/// What the test's server was started with.
struct Setup {
    dir: tempfile::TempDir,
    /// The DKIM DNS TXT value.
    txt: String,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let (pem, txt) = generate_rsa_key().unwrap();
        std::fs::write(dir.path().join("dkim.pem"), pem).unwrap();
        popreg_identity::dev_ca::write_dir(&dir.path().join("pki"), chrono::Utc::now(), &[], &[])
            .unwrap();
        Setup { dir, txt }
    }

    fn config(&self, tls: bool) -> InboundConfig {
        let pki = self.dir.path().join("pki");
        InboundConfig {
            enabled: true,
            listen: "127.0.0.1:0".into(),
            domain: DOMAIN.into(),
            hostname: "mx.e-citizen.am".into(),
            max_message_bytes: 64 * 1024,
            max_recipients: 3,
            max_connections: 20,
            command_timeout_seconds: 10,
            data_timeout_seconds: 10,
            tls_cert: tls.then(|| pki.join("server.pem")),
            tls_key: tls.then(|| pki.join("server.key.pem")),
            require_tls: tls,
            srs_secret: Some(Secret::new("srs-test-secret")),
            dkim_key: Some(self.dir.path().join("dkim.pem")),
            dkim_selector: SELECTOR.into(),
        }
    }

    async fn start(&self, store: &Store, tls: bool) -> SocketAddr {
        Inbound::start(store.clone(), &self.config(tls), std::future::pending())
            .await
            .unwrap()
            .local_addr
    }

    /// [`Setup::start`] without TLS, accepting the company addresses `fake`'s legal-entity registry knows.
    async fn start_with_companies(&self, store: &Store, fake: &FakeRegistries) -> SocketAddr {
        Inbound::start_with(
            store.clone(),
            &self.config(false),
            Some(direct(fake)),
            std::future::pending(),
        )
        .await
        .unwrap()
        .local_addr
    }

    fn ca(&self) -> PathBuf {
        self.dir.path().join("pki").join("ca.pem")
    }
}

/// Send `raw` with smtplib (STARTTLS first when `ca` is given).
async fn smtplib(
    addr: SocketAddr,
    ca: Option<&Path>,
    from: &str,
    rcpts: &[String],
    raw: &[u8],
) -> Value {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), raw).unwrap();
    let host = if ca.is_some() {
        "localhost"
    } else {
        "127.0.0.1"
    };
    let args = vec![
        "-c".to_string(),
        SEND_PY.to_string(),
        host.to_string(),
        addr.port().to_string(),
        if ca.is_some() { "1" } else { "0" }.to_string(),
        ca.map(|c| c.display().to_string()).unwrap_or_default(),
        from.to_string(),
        rcpts.join(","),
        file.path().display().to_string(),
    ];
    let out =
        tokio::task::spawn_blocking(move || Command::new(python()).args(args).output().unwrap())
            .await
            .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn official(p: Psn) -> String {
    format!("{p}@{DOMAIN}")
}

/// A MIME message with a text part and a PDF attachment, CRLF line ends.
fn message(to: &str, subject: &str) -> Vec<u8> {
    format!(
        "From: Anna Petrosyan <anna@sender.example.org>\r\nTo: <{to}>\r\nSubject: {subject}\r\n\
         Date: Thu, 3 Dec 2026 10:00:00 +0400\r\nMessage-ID: <m1@sender.example.org>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Hello from the tax office.\r\n.leading dot line\r\n--b1\r\nContent-Type: application/pdf\r\n\
         Content-Disposition: attachment; filename=\"notice.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\
         JVBERi0xLjQK\r\n--b1--\r\n"
    )
    .into_bytes()
}

/// The forward rows in the outbox (newest first).
async fn forwards(store: &Store) -> Vec<popreg_store::OutboxMessage> {
    store
        .outbox_recent(100)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.template == popreg_store::FORWARD_TEMPLATE)
        .collect()
}

/// What the relay received with an SRS envelope sender: the forwards (not the verification e-mails).
fn srs_forwards(server: &SmtpServer) -> Vec<Value> {
    server
        .messages()
        .into_iter()
        .filter(|m| {
            m["mail_from"]
                .as_str()
                .unwrap_or_default()
                .starts_with("SRS0=")
        })
        .collect()
}

fn relay(port: u16) -> Mailer {
    let mut cfg = crate::notify::config(port);
    cfg.smtp.security = Security::None;
    Mailer::new(&cfg).unwrap()
}

async fn g_3_1_smtplib_mail_is_stored_byte_for_byte_and_forwarded_signed_to_verified_addresses_only(
    db: TestDb,
) {
    let s = &db.store;
    let p = person(s, 1).await;
    verified_email(s, p, "anna@home.example.am").await;
    s.add_email(p, "unverified@home.example.am", "hy", &settings())
        .await
        .unwrap();
    let setup = Setup::new();
    let addr = setup.start(s, false).await;
    let raw = message(&official(p), "Tax notice");
    let r = smtplib(addr, None, "anna@sender.example.org", &[official(p)], &raw).await;
    assert_eq!(r["code"], json!(250), "{r}");
    let features: Vec<String> = serde_json::from_value(r["esmtp"].clone()).unwrap();
    for f in ["pipelining", "size", "8bitmime"] {
        assert!(features.contains(&f.to_string()), "{features:?}");
    }
    assert!(
        !features.contains(&"starttls".to_string()),
        "no certificate, no STARTTLS"
    );

    // In the inbox: official mail from the From header, the text, the attachment, the raw bytes.
    let page = s.inbox(p, 0, 10).await.unwrap();
    assert_eq!(page.total, 1);
    let item = &page.items[0];
    assert_eq!(item.source, "official_mail");
    assert_eq!(item.subject, "Tax notice");
    assert_eq!(
        item.sender.name("hy"),
        "Anna Petrosyan <anna@sender.example.org>"
    );
    let m = s.open_message(p, &item.id).await.unwrap().unwrap();
    assert!(m.text.contains("Hello from the tax office."), "{}", m.text);
    assert!(
        m.text.contains(".leading dot line"),
        "dot-stuffing undone: {}",
        m.text
    );
    assert_eq!(m.attachments.len(), 1);
    assert_eq!(m.attachments[0].name, "notice.pdf");
    let a = s.attachment(p, &item.id, 0).await.unwrap().unwrap();
    assert_eq!(a.content, b"%PDF-1.4\n");
    assert_eq!(s.inbound_raw(p, &item.id).await.unwrap().unwrap(), raw);
    assert_eq!(
        s.inbound_raw(psn(2), &item.id).await.unwrap(),
        None,
        "another person's"
    );

    // One forward, to the verified address only, with the SRS envelope sender.
    let rows = forwards(s).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].recipient, "anna@home.example.am");
    let relay_port = free_port();
    let server = SmtpServer::start(relay_port);
    // The relay also gets the two verification e-mails; the forward is the one with an SRS sender.
    let done = popreg_notify::deliver_due(s, &relay(relay_port))
        .await
        .unwrap();
    assert_eq!(done.sent, 3, "{done:?}");
    let got = srs_forwards(&server);
    assert_eq!(got.len(), 1);
    let env_from = got[0]["mail_from"].as_str().unwrap();
    assert!(
        env_from.starts_with("SRS0=")
            && env_from.ends_with("=sender.example.org=anna@e-citizen.am"),
        "{env_from}"
    );
    assert_eq!(got[0]["rcpt_tos"], json!(["anna@home.example.am"]));
    let trace = got[0]["raw"].as_str().unwrap();
    assert!(
        trace.contains(
            "Received: from client.example.org ([127.0.0.1])\r\n\tby mx.e-citizen.am with ESMTP;"
        ),
        "{trace}"
    );
    assert_eq!(
        got[0]["from"],
        json!("Anna Petrosyan <anna@sender.example.org>"),
        "From is kept"
    );

    // dkimpy: the DKIM signature and the ARC chain verify; a changed body fails both.
    let forwarded = got[0]["raw"].as_str().unwrap().as_bytes().to_vec();
    assert!(
        forwarded.ends_with(&raw),
        "the original follows the added headers unchanged: {}",
        String::from_utf8_lossy(&forwarded)
    );
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &forwarded).unwrap();
    let out = Command::new(python())
        .args(["-c", VERIFY_PY])
        .arg(file.path())
        .arg(&setup.txt)
        .arg(format!("{SELECTOR}._domainkey.{DOMAIN}"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["dkim"], json!(true), "{v}");
    assert_eq!(v["arc"], json!("pass"), "{v}");
    assert_eq!(v["dkim_tampered"], json!(false), "{v}");
    assert_eq!(v["arc_tampered"], json!("fail"), "{v}");
}

async fn g_3_1_starttls_with_smtplib_and_a_dev_ca_certificate(db: TestDb) {
    let s = &db.store;
    let p = person(s, 1).await;
    let setup = Setup::new();
    let addr = setup.start(s, true).await;
    // Plain MAIL is refused when TLS is required.
    let mut t = Talk::connect(addr).await;
    assert!(t.cmd("EHLO client.example.org").await.contains("STARTTLS"));
    assert!(t.cmd("MAIL FROM:<a@example.org>").await.starts_with("530"));
    // smtplib upgrades with STARTTLS, trusting the dev CA, and delivers.
    let raw = message(&official(p), "Over TLS");
    let r = smtplib(
        addr,
        Some(&setup.ca()),
        "a@example.org",
        &[official(p)],
        &raw,
    )
    .await;
    assert_eq!(r["code"], json!(250), "{r}");
    let after: Vec<String> = serde_json::from_value(r["esmtp_tls"].clone()).unwrap();
    assert!(
        !after.contains(&"starttls".to_string()),
        "not offered twice: {after:?}"
    );
    let page = s.inbox(p, 0, 10).await.unwrap();
    assert_eq!(page.items[0].subject, "Over TLS");
    assert_eq!(
        s.inbound_raw(p, &page.items[0].id).await.unwrap().unwrap(),
        raw
    );
}

/// A raw SMTP client: one command, one (possibly multi-line) reply.
struct Talk {
    r: BufReader<TcpStream>,
}

impl Talk {
    async fn connect(addr: SocketAddr) -> Talk {
        let mut t = Talk {
            r: BufReader::new(TcpStream::connect(addr).await.unwrap()),
        };
        assert!(t.reply().await.starts_with("220"));
        t
    }

    /// A session that has said EHLO, MAIL, RCPT for `p` and DATA (answered 354).
    async fn in_data(addr: SocketAddr, p: Psn) -> Talk {
        let mut t = Talk::connect(addr).await;
        t.cmd("EHLO client.example.org").await;
        t.cmd("MAIL FROM:<a@example.org>").await;
        t.cmd(&format!("RCPT TO:<{}>", official(p))).await;
        assert!(t.cmd("DATA").await.starts_with("354"));
        t
    }

    async fn reply(&mut self) -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            self.r.read_line(&mut line).await.unwrap();
            all.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                return all;
            }
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.r.get_mut().write_all(bytes).await.unwrap();
    }

    async fn cmd(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes()).await;
        self.reply().await
    }
}

async fn g_3_1_unknown_and_invalid_recipients_are_refused_at_rcpt(db: TestDb) {
    let s = &db.store;
    let p = person(s, 1).await;
    let setup = Setup::new();
    let addr = setup.start(s, false).await;
    // smtplib: all recipients refused with 550, so no DATA is sent.
    let unknown = official(psn(777));
    let r = smtplib(
        addr,
        None,
        "a@example.org",
        std::slice::from_ref(&unknown),
        &message(&unknown, "x"),
    )
    .await;
    assert_eq!(r["code"], json!("rcpt"), "{r}");
    assert_eq!(r["refused"][&unknown], json!(550));
    let mut t = Talk::connect(addr).await;
    t.cmd("EHLO client.example.org").await;
    assert!(t.cmd("MAIL FROM:<a@example.org>").await.starts_with("250"));
    let invalid = t.cmd("RCPT TO:<123456789@e-citizen.am>").await;
    assert!(
        invalid.starts_with("550") && invalid.contains("PSN"),
        "{invalid}"
    );
    assert!(
        t.cmd("RCPT TO:<hello@e-citizen.am>")
            .await
            .starts_with("550")
    );
    let relay = t.cmd(&format!("RCPT TO:<{p}@elsewhere.example.org>")).await;
    assert!(
        relay.starts_with("550") && relay.contains("Relaying denied"),
        "{relay}"
    );
    let forged = t
        .cmd("RCPT TO:<SRS0=abcd=AA=example.org=x@e-citizen.am>")
        .await;
    assert!(forged.starts_with("550"), "a forged SRS address: {forged}");
    assert!(
        t.cmd(&format!("RCPT TO:<{}>", official(p)))
            .await
            .starts_with("250")
    );
    assert!(s.inbox(psn(777), 0, 10).await.unwrap().items.is_empty());
}

async fn g_3_1_commands_out_of_order_get_503_and_limits_hold(db: TestDb) {
    let s = &db.store;
    let ps = [
        person(s, 1).await,
        person(s, 2).await,
        person(s, 3).await,
        person(s, 4).await,
    ];
    let setup = Setup::new();
    let addr = setup.start(s, false).await;
    let mut t = Talk::connect(addr).await;
    assert!(
        t.cmd("MAIL FROM:<a@example.org>").await.starts_with("503"),
        "before EHLO"
    );
    t.cmd("EHLO client.example.org").await;
    assert!(
        t.cmd(&format!("RCPT TO:<{}>", official(ps[0])))
            .await
            .starts_with("503"),
        "before MAIL"
    );
    assert!(t.cmd("DATA").await.starts_with("503"), "before RCPT");
    assert!(t.cmd("MAIL FROM:<a@example.org>").await.starts_with("250"));
    assert!(
        t.cmd("MAIL FROM:<a@example.org>").await.starts_with("503"),
        "twice"
    );
    assert!(t.cmd("DATA").await.starts_with("503"), "no recipient yet");
    // At most three recipients (the test's cap).
    for p in &ps[..3] {
        assert!(
            t.cmd(&format!("RCPT TO:<{}>", official(*p)))
                .await
                .starts_with("250")
        );
    }
    assert!(
        t.cmd(&format!("RCPT TO:<{}>", official(ps[3])))
            .await
            .starts_with("452")
    );
    assert!(t.cmd("RSET").await.starts_with("250"));
    // A line longer than 1000 bytes.
    let long = format!("NOOP {}", "x".repeat(1200));
    assert!(t.cmd(&long).await.starts_with("500"));
    // Pipelining: the whole transaction in one write, the answers in order.
    let raw = b"Subject: piped\r\n\r\nHello\r\n";
    let mut batch = format!(
        "MAIL FROM:<a@example.org>\r\nRCPT TO:<{}>\r\nRCPT TO:<{}>\r\nDATA\r\n",
        official(ps[0]),
        official(ps[1])
    )
    .into_bytes();
    t.send(&batch).await;
    for want in ["250", "250", "250", "354"] {
        let got = t.reply().await;
        assert!(got.starts_with(want), "{want}: {got}");
    }
    batch = raw.to_vec();
    batch.extend_from_slice(b".\r\nQUIT\r\n");
    t.send(&batch).await;
    assert!(t.reply().await.starts_with("250"));
    assert!(t.reply().await.starts_with("221"));
    for p in &ps[..2] {
        let page = s.inbox(*p, 0, 10).await.unwrap();
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.items[0].subject, "piped");
    }
    // A client that sends its message too slowly is dropped at the DATA deadline (the idle command
    // timeout: g_3_1_idle_clients_and_connections_over_the_cap_are_dropped).
    let mut t = Talk::in_data(addr, ps[0]).await;
    t.send(b"Subject: slow\r\n").await;
    let started = std::time::Instant::now();
    let got = t.reply().await;
    assert!(got.starts_with("421"), "slowloris in DATA: {got}");
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
    assert_eq!(
        s.inbox(ps[0], 0, 10).await.unwrap().total,
        1,
        "nothing stored"
    );
}

async fn g_3_1_oversized_mail_gets_552_and_nothing_is_stored(db: TestDb) {
    let s = &db.store;
    let p = person(s, 1).await;
    let setup = Setup::new();
    let addr = setup.start(s, false).await;
    let mut big = message(&official(p), "big");
    big.extend(
        std::iter::repeat_n(
            b"0123456789abcdef0123456789abcdef0123456789\r\n".to_vec(),
            2000,
        )
        .flatten(),
    );
    // smtplib announces the size: refused at MAIL.
    let r = smtplib(addr, None, "a@example.org", &[official(p)], &big).await;
    assert_eq!(r["code"], json!(552), "{r}");
    // A client that does not announce it: refused after the data, the session goes on.
    assert!(
        Talk::connect(addr)
            .await
            .cmd("EHLO c")
            .await
            .contains("SIZE 65536")
    );
    let mut t = Talk::in_data(addr, p).await;
    t.send(&big).await;
    assert!(t.cmd(".").await.starts_with("552"));
    assert!(t.cmd("NOOP").await.starts_with("250"));
    assert_eq!(s.inbox(p, 0, 10).await.unwrap().total, 0);
}

/// Store one message for `p` and answer the SRS envelope sender of its forward.
async fn one_forward(s: &Store, addr: SocketAddr, p: Psn) -> String {
    let raw = message(&official(p), "to forward");
    let r = smtplib(addr, None, "anna@sender.example.org", &[official(p)], &raw).await;
    assert_eq!(r["code"], json!(250), "{r}");
    let rows = forwards(s).await;
    rows[0].params["srs_from"].as_str().unwrap().to_string()
}

async fn g_3_1_a_bounce_to_the_srs_address_marks_the_forwarding_address_failing(db: TestDb) {
    let s = &db.store;
    let p = person(s, 1).await;
    verified_email(s, p, "anna@home.example.am").await;
    let setup = Setup::new();
    let addr = setup.start(s, false).await;
    let srs = one_forward(s, addr, p).await;
    assert!(srs.starts_with("SRS0="), "{srs}");
    let dsn = b"From: MAILER-DAEMON@home.example.am\r\nSubject: Undelivered Mail\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n--r\r\n\
Content-Type: text/plain\r\n\r\nGone.\r\n--r\r\nContent-Type: message/delivery-status\r\n\r\n\
Reporting-MTA: dns; mx.home.example.am\r\n\r\nFinal-Recipient: rfc822; anna@home.example.am\r\n\
Action: failed\r\nStatus: 5.1.1\r\n--r--\r\n";
    let r = smtplib(addr, None, "", std::slice::from_ref(&srs), dsn).await;
    assert_eq!(r["code"], json!(250), "{r}");
    let c = &s.contact_points(p).await.unwrap()[0];
    assert!(c.failing_since.is_some(), "{c:?}");
    let page = s.inbox(p, 0, 10).await.unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(
        page.items
            .iter()
            .filter(|i| i.source == "forward_failure")
            .count(),
        1
    );
    // A message this domain forwarded already (the address forwards back here) is not forwarded again.
    let fresh = person(s, 2).await;
    verified_email(s, fresh, "boris@home.example.am").await;
    let before = forwards(s).await.len();
    let mut looped = b"Received: from a ([127.0.0.1])\r\n\tby mx.e-citizen.am with ESMTP;\r\n\t\
Thu, 3 Dec 2026 10:00:00 +0000 (popreg official mail for e-citizen.am)\r\n"
        .to_vec();
    looped.extend(message(&official(fresh), "looped"));
    let r = smtplib(addr, None, "a@example.org", &[official(fresh)], &looped).await;
    assert_eq!(r["code"], json!(250), "{r}");
    assert_eq!(s.inbox(fresh, 0, 10).await.unwrap().total, 1, "stored");
    assert_eq!(forwards(s).await.len(), before, "not forwarded again");
    // Nothing more is forwarded to a failing address.
    let before = forwards(s).await.len();
    one_forward(s, addr, p).await;
    assert_eq!(forwards(s).await.len(), before);
}

async fn g_3_1_a_permanent_smtp_failure_of_a_forward_marks_the_address_failing(db: TestDb) {
    let s = &db.store;
    let p = person(s, 1).await;
    verified_email(s, p, "anna@home.example.am").await;
    let setup = Setup::new();
    let addr = setup.start(s, false).await;
    one_forward(s, addr, p).await;
    // The relay is our own inbound server: it refuses other domains with 550 (relaying denied).
    let done = popreg_notify::deliver_due(s, &relay(addr.port()))
        .await
        .unwrap();
    // (The verification e-mail to the address fails there too, and waits for its retry.)
    assert_eq!(done.failed, 2, "{done:?}");
    let c = &s.contact_points(p).await.unwrap()[0];
    assert!(c.failing_since.is_some(), "{c:?}");
    assert!(
        c.failing_reason
            .as_deref()
            .unwrap_or_default()
            .contains("550"),
        "{c:?}"
    );
    let page = s.inbox(p, 0, 10).await.unwrap();
    let notice = page
        .items
        .iter()
        .find(|i| i.source == "forward_failure")
        .unwrap();
    assert_eq!(notice.subject, "anna@home.example.am");
    // Given up: not tried again (only the verification e-mail is).
    db.clock.advance(chrono::Duration::hours(3));
    let again = popreg_notify::deliver_due(s, &relay(addr.port()))
        .await
        .unwrap();
    assert_eq!((again.sent, again.failed), (0, 1));
    let row = &forwards(s).await[0];
    assert_eq!(row.attempts, 1);
    assert!(
        row.last_error
            .as_deref()
            .unwrap_or_default()
            .contains("550"),
        "{row:?}"
    );
}

async fn g_3_1_a_message_is_stored_and_acknowledged_or_neither(db: TestDb) {
    let s = &db.store;
    let p = person(s, 1).await;
    let setup = Setup::new();
    let addr = setup.start(s, false).await;
    // A client that goes away before the final dot: nothing stored.
    let mut t = Talk::in_data(addr, p).await;
    t.send(b"Subject: half\r\n\r\nHello\r\n").await;
    drop(t);
    // Storage fails half-way (the attachments table refuses): 451, and nothing of it remains.
    let fail = "CREATE TRIGGER no_files BEFORE INSERT ON inbox_attachments \
                BEGIN SELECT RAISE(ABORT, 'refused by the test'); END";
    if db.url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        sqlx::query(fail).execute(&pool).await.unwrap();
    } else {
        let pool = db.raw_pg().await;
        sqlx::raw_sql(
            "CREATE FUNCTION no_files() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             RAISE EXCEPTION 'refused by the test'; END $$; CREATE TRIGGER no_files BEFORE INSERT ON \
             inbox_attachments FOR EACH ROW EXECUTE FUNCTION no_files();",
        )
        .execute(&pool)
        .await
        .unwrap();
    }
    let r = smtplib(
        addr,
        None,
        "a@example.org",
        &[official(p)],
        &message(&official(p), "x"),
    )
    .await;
    assert_eq!(r["code"], json!(451), "{r}");
    assert_eq!(s.inbox(p, 0, 10).await.unwrap().total, 0);
    // A message without attachments still goes through, acknowledged and stored.
    let plain = b"Subject: plain\r\n\r\nHello\r\n";
    let r = smtplib(addr, None, "a@example.org", &[official(p)], plain).await;
    assert_eq!(r["code"], json!(250), "{r}");
    let page = s.inbox(p, 0, 10).await.unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.items[0].subject, "plain");
    // The raw message is evidence: append-only.
    for sql in [
        "UPDATE inbound_mail SET size = 0",
        "DELETE FROM inbound_mail",
    ] {
        let refused = if db.url.starts_with("sqlite:") {
            let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
            sqlx::query(sql)
                .execute(&pool)
                .await
                .unwrap_err()
                .to_string()
        } else {
            let pool = db.raw_pg().await;
            sqlx::query(sql)
                .execute(&pool)
                .await
                .unwrap_err()
                .to_string()
        };
        assert!(refused.contains("PSR-SYS-0003"), "{sql}: {refused}");
    }
}

async fn g_3_1_the_portal_shows_official_mail_and_gives_the_raw_message(db: TestDb) {
    let p = psn(5);
    let app = crate::portal::demo_site(&db, p).await;
    let url = format!("http://{}", app.addr);
    let s = &db.store;
    let setup = Setup::new();
    let addr = setup.start(s, false).await;
    let mut raw = message(&official(p), "<b>Bold</b> notice");
    raw.splice(0..0, b"X-Junk: \xff\xfe\r\n".iter().copied());
    let r = smtplib(addr, None, "a@example.org", &[official(p)], &raw).await;
    assert_eq!(r["code"], json!(250), "{r}");
    let broken = b"\x00\x01 this is not a message at all";
    let r = smtplib(addr, None, "a@example.org", &[official(p)], broken).await;
    assert_eq!(r["code"], json!(250), "malformed mail is kept raw: {r}");
    let c = crate::portal::client();
    let cookie = crate::portal::login(&c, &url, p).await;
    let get = |path: String| {
        c.get(format!("{url}{path}"))
            .header(reqwest::header::COOKIE, &cookie)
            .header(reqwest::header::ACCEPT_LANGUAGE, "en")
            .send()
    };
    let text = |path: String| async move { get(path).await.unwrap().text().await.unwrap() };
    let inbox = text("/my/inbox".into()).await;
    assert!(
        inbox.contains("&lt;b&gt;Bold&lt;/b&gt; notice"),
        "escaped subject: {inbox}"
    );
    assert!(!inbox.contains("<b>Bold</b>"));
    let page = s.inbox(p, 0, 10).await.unwrap();
    for item in &page.items {
        let html = text(format!("/my/inbox/{}", item.id)).await;
        assert!(
            html.contains(&format!("/my/inbox/{}/raw", item.id)),
            "raw link: {html}"
        );
        let r = get(format!("/my/inbox/{}/raw", item.id)).await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "message/rfc822");
        assert!(
            r.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment")
        );
        let body = r.bytes().await.unwrap().to_vec();
        if item.subject == "—" {
            // On the wire every message ends with CRLF: smtplib added it, the server keeps what came.
            assert_eq!(body, [&broken[..], b"\r\n"].concat(), "byte-identical");
        } else {
            assert_eq!(body, raw, "byte-identical");
        }
    }
    // Another person's raw message: not found.
    let other = get("/my/inbox/00000000000000000000000000000000/raw".into())
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
    // A forwarding address that bounces: failing in /my/forwarding, a notice in the inbox.
    verified_email(s, p, "anna@home.example.am").await;
    let r = smtplib(
        addr,
        None,
        "a@example.org",
        &[official(p)],
        &message(&official(p), "fwd"),
    )
    .await;
    assert_eq!(r["code"], json!(250), "{r}");
    popreg_notify::deliver_due(s, &relay(addr.port()))
        .await
        .unwrap();
    let settings_page = text("/my/forwarding".into()).await;
    assert!(
        settings_page.contains("forwarding failed on"),
        "{settings_page}"
    );
    let inbox = text("/my/inbox".into()).await;
    assert!(
        inbox.contains("Forwarding to anna@home.example.am has stopped"),
        "{inbox}"
    );
}

async fn g_3_1_idle_clients_and_connections_over_the_cap_are_dropped(db: TestDb) {
    let setup = Setup::new();
    let mut cfg = setup.config(false);
    cfg.max_connections = 1;
    cfg.command_timeout_seconds = 1;
    let addr = Inbound::start(db.store.clone(), &cfg, std::future::pending())
        .await
        .unwrap()
        .local_addr;
    let mut first = Talk::connect(addr).await;
    assert!(first.cmd("EHLO c").await.starts_with("250"));
    // A second client while the first is served: 421 and closed.
    let mut second = BufReader::new(TcpStream::connect(addr).await.unwrap());
    let mut line = String::new();
    second.read_line(&mut line).await.unwrap();
    assert!(line.starts_with("421"), "{line}");
    // The first one says nothing: dropped after the command timeout, which frees the slot.
    let started = std::time::Instant::now();
    assert!(first.reply().await.starts_with("421"));
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let mut third = Talk::connect(addr).await;
    assert!(third.cmd("QUIT").await.starts_with("221"));
}

/// A message for the store directly, as the server hands it over (no forwarding copy: nothing to sign).
fn stored_mail(to: Vec<Owner>, subject: &str) -> NewInboundMail {
    NewInboundMail {
        recipients: to,
        remote_addr: "127.0.0.1".into(),
        helo: "client.example.org".into(),
        mail_from: "a@example.org".into(),
        raw: message("x@e-citizen.am", subject),
        malformed: false,
        from_header: "a@example.org".into(),
        subject: subject.into(),
        text: "Hello".into(),
        attachments: vec![],
        forward: Some((b"signed copy".to_vec(), "SRS0=x@e-citizen.am".into())),
    }
}

async fn g_3_1_concurrent_messages_share_commits_and_a_refused_one_leaves_the_others_stored(
    db: TestDb,
) {
    let s = &db.store;
    let p = person(s, 1).await;
    verified_email(s, p, "anna@home.example.am").await;
    // Many messages at once go through the one writer; one of them names a PSN not in the register.
    let ghost = psn(777);
    let mut calls = vec![];
    for i in 0..24 {
        let to = if i == 11 { ghost } else { p };
        let st = s.clone();
        let m = stored_mail(vec![Owner::Person(to)], &format!("Message {i}"));
        calls.push(tokio::spawn(async move { st.store_inbound_mail(m).await }));
    }
    let mut ids = std::collections::HashSet::new();
    for (i, c) in calls.into_iter().enumerate() {
        match c.await.unwrap() {
            Ok(stored) => {
                assert_ne!(i, 11, "the message to an unknown PSN must be refused");
                assert_eq!(stored.message_ids.len(), 1);
                assert_eq!(stored.forwards, 1);
                assert!(ids.insert(stored.mail_id));
            }
            Err(e) => {
                assert_eq!(i, 11, "only the message to an unknown PSN is refused: {e}");
                assert!(e.to_string().contains("PSR-PSN-0004"), "{e}");
            }
        }
    }
    assert_eq!(ids.len(), 23);
    let page = s.inbox(p, 0, 100).await.unwrap();
    assert_eq!(page.total, 23);
    assert!(page.items.iter().all(|m| m.subject != "Message 11"));
    assert!(s.inbox(ghost, 0, 10).await.unwrap().items.is_empty());
    assert_eq!(
        forwards(s).await.len(),
        23,
        "one forward per stored message"
    );
    // Each forward points at its own message's stored copy.
    for f in forwards(s).await {
        let mail = f.params["mail_id"].as_str().unwrap();
        assert!(ids.contains(mail));
        assert_eq!(
            s.inbound_forward_copy(mail).await.unwrap().unwrap(),
            b"signed copy"
        );
    }

    // Over SMTP: 12 sessions at once, every one acknowledged with its own id after the commit.
    let setup = Setup::new();
    let addr = setup.start(s, false).await;
    let mut sessions = vec![];
    for i in 0..12 {
        let raw = message(&official(p), &format!("Concurrent {i}"));
        sessions.push(tokio::spawn(async move {
            let mut t = Talk::in_data(addr, p).await;
            t.send(&raw).await;
            t.cmd(".").await
        }));
    }
    let mut queued = std::collections::HashSet::new();
    for t in sessions {
        let answer = t.await.unwrap();
        assert!(answer.starts_with("250 2.0.0 OK queued as "), "{answer}");
        assert!(queued.insert(answer));
    }
    assert_eq!(queued.len(), 12);
    assert_eq!(s.inbox(p, 0, 100).await.unwrap().total, 35);
    assert_eq!(forwards(s).await.len(), 35);
}

async fn g_6_mail_to_a_company_tin_lands_in_its_inbox_and_is_forwarded_to_its_verified_addresses(
    db: TestDb,
) {
    let s = &db.store;
    let p = person(s, 1).await;
    let company = Owner::Company(Tin::parse(ARARAT).unwrap());
    let fake = FakeRegistries::start(vec![(p, Tin::parse(ARARAT).unwrap(), "director".into())])
        .await
        .unwrap();
    verified_email(s, company, "office@ararat.example.am").await;
    s.add_email(company, "unverified@ararat.example.am", "hy", &settings())
        .await
        .unwrap();
    let setup = Setup::new();
    let addr = setup.start_with_companies(s, &fake).await;
    let to = format!("{ARARAT}@{DOMAIN}");
    let raw = message(&to, "Company tax notice");
    // One message to the company and to its director personally.
    let r = smtplib(
        addr,
        None,
        "anna@sender.example.org",
        &[to.clone(), official(p)],
        &raw,
    )
    .await;
    assert_eq!(r["code"], json!(250), "{r}");
    assert_eq!(r["refused"], json!({}));

    let page = s.inbox(company, 0, 10).await.unwrap();
    assert_eq!(page.total, 1);
    let item = &page.items[0];
    assert_eq!(item.source, "official_mail");
    assert_eq!(item.subject, "Company tax notice");
    assert_eq!(
        s.inbound_raw(company, &item.id).await.unwrap().unwrap(),
        raw
    );
    assert_eq!(
        s.inbound_raw(p, &item.id).await.unwrap(),
        None,
        "the company's message is not the person's"
    );
    let mine = s.inbox(p, 0, 10).await.unwrap();
    assert_eq!(mine.total, 1, "the person's own copy");
    assert_ne!(mine.items[0].id, item.id);

    // Forwarded to the company's verified address only (the director has none of their own).
    let rows = forwards(s).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].recipient, "office@ararat.example.am");
    let relay_port = free_port();
    let server = SmtpServer::start(relay_port);
    popreg_notify::deliver_due(s, &relay(relay_port))
        .await
        .unwrap();
    let got = srs_forwards(&server);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["rcpt_tos"], json!(["office@ararat.example.am"]));
    assert!(got[0]["raw"].as_str().unwrap().as_bytes().ends_with(&raw));
    fake.stop();
}

async fn g_6_unknown_tins_are_refused_at_rcpt_and_an_unavailable_registry_gets_451(db: TestDb) {
    let s = &db.store;
    let fake = FakeRegistries::start(vec![]).await.unwrap();
    let setup = Setup::new();
    let addr = setup.start_with_companies(s, &fake).await;
    let mut t = Talk::connect(addr).await;
    t.cmd("EHLO client.example.org").await;
    assert!(t.cmd("MAIL FROM:<a@example.org>").await.starts_with("250"));
    // A TIN the legal-entity registry does not know: 550 at once.
    let unknown = t.cmd(&format!("RCPT TO:<01234567@{DOMAIN}>")).await;
    assert!(
        unknown.starts_with("550") && unknown.contains("no company"),
        "{unknown}"
    );
    assert!(
        t.cmd(&format!("RCPT TO:<{ARARAT}@{DOMAIN}>"))
            .await
            .starts_with("250")
    );
    // The registry down: 451 (try later), never 550 for a company that may well exist.
    fake.set_mode(RegistryKind::LegalEntities, Mode::Down);
    let down = t.cmd(&format!("RCPT TO:<00845521@{DOMAIN}>")).await;
    assert!(down.starts_with("451"), "{down}");
    assert!(t.cmd("QUIT").await.starts_with("221"));
    // The message to the unknown TIN was never accepted: smtplib sees every recipient refused.
    let r = smtplib(
        addr,
        None,
        "a@example.org",
        &[format!("01234567@{DOMAIN}")],
        &message("01234567@e-citizen.am", "x"),
    )
    .await;
    assert_eq!(r["code"], json!("rcpt"), "{r}");
    // A server without a legal-entity registry serves no company address.
    let plain = setup.start(s, false).await;
    let mut t = Talk::connect(plain).await;
    t.cmd("EHLO client.example.org").await;
    t.cmd("MAIL FROM:<a@example.org>").await;
    assert!(
        t.cmd(&format!("RCPT TO:<{ARARAT}@{DOMAIN}>"))
            .await
            .starts_with("550")
    );
    let company = Owner::Company(Tin::parse(ARARAT).unwrap());
    assert!(s.inbox(company, 0, 10).await.unwrap().items.is_empty());
    fake.stop();
}

async fn g_6_official_mail_of_a_company_is_shown_to_its_role_holders_only(db: TestDb) {
    use crate::portal::{client, login, text};
    let (p, q) = (psn(6301), psn(6302));
    let fake = FakeRegistries::start(vec![(p, Tin::parse(ARARAT).unwrap(), "director".into())])
        .await
        .unwrap();
    // The server as `popreg serve` runs it: the official mail server asks the configured registry.
    let app = site_with(&db, &[p, q], &fake, 2000, 60, |cfg| {
        cfg.notify.inbound.enabled = true;
        cfg.notify.inbound.listen = "127.0.0.1:0".into();
        cfg.notify.inbound.domain = DOMAIN.into();
    })
    .await;
    let addr = app.inbound_addr.expect("the official mail server runs");
    let to = format!("{ARARAT}@{DOMAIN}");
    let raw = message(&to, "Notice for Ararat Soft");
    let r = smtplib(addr, None, "anna@sender.example.org", &[to], &raw).await;
    assert_eq!(r["code"], json!(250), "{r}");
    let company = Owner::Company(Tin::parse(ARARAT).unwrap());
    let id = db.store.inbox(company, 0, 10).await.unwrap().items[0]
        .id
        .clone();

    let url = app.url();
    let c = client();
    let cookie = login(&c, &url, p).await;
    let section = text(&c, format!("{url}/my/companies/{ARARAT}?lang=en"), &cookie).await;
    assert!(section.contains("Notice for Ararat Soft"), "{section}");
    let page = text(
        &c,
        format!("{url}/my/companies/{ARARAT}/inbox/{id}?lang=en"),
        &cookie,
    )
    .await;
    assert!(page.contains("Hello from the tax office."), "{page}");
    assert!(
        page.contains(&format!("href=\"/my/companies/{ARARAT}/inbox/{id}/raw\"")),
        "the original is offered from the company's section: {page}"
    );
    let got = c
        .get(format!("{url}/my/companies/{ARARAT}/inbox/{id}/raw"))
        .header(reqwest::header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status().as_u16(), 200);
    assert_eq!(
        got.headers()["content-type"].to_str().unwrap(),
        "message/rfc822"
    );
    assert_eq!(got.bytes().await.unwrap().as_ref(), raw.as_slice());
    // Another person, without a role in the company, gets neither the page nor the original.
    let theirs = login(&c, &url, q).await;
    for path in [
        format!("/my/companies/{ARARAT}/inbox/{id}"),
        format!("/my/companies/{ARARAT}/inbox/{id}/raw"),
    ] {
        let r = c
            .get(format!("{url}{path}"))
            .header(reqwest::header::COOKIE, &theirs)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 404, "{path}: not a company of theirs");
        assert!(
            !r.text()
                .await
                .unwrap()
                .contains("Hello from the tax office.")
        );
    }
    app.shutdown().await.unwrap();
    fake.stop();
}
