//! Benchmark of the Notification System's sending side (issue 7, "Performance"), on embedded SQLite in a
//! temporary directory (WAL), with `--persons P` persons in the register, each with one verified e-mail
//! address (and, for `--mode sms`, one verified mobile number):
//!
//! - `--mode enqueue`: notifications written through the store function the sending API uses. First one
//!   per call (`Store::send_notification`: one transaction each with the inbox message, an outbox row per
//!   verified address and the audit act) from `--clients C` concurrent tasks, then in batches of
//!   `--batch B` (`Store::send_notifications`, the batch form: B notifications in one transaction). Each
//!   for `--seconds S`; prints notifications/s and outbox rows/s.
//! - `--mode email`: `--messages M` notifications queued (batch form), then the e-mail worker
//!   (`popreg_notify::deliver_due`, `notify.smtp.concurrency = --concurrency K` pooled connections)
//!   delivers them to Postfix's `smtp-sink` on loopback (started by the benchmark: `/usr/sbin/smtp-sink`,
//!   Debian package `postfix`). Each e-mail is rendered from its template (text and HTML parts) and its
//!   delivery recorded. Prints e-mails/s from the first claim to the last record.
//! - `--mode sms`: `--messages M` notifications queued, one `sms` row each, then the SMS worker
//!   (`popreg_notify::deliver_sms_due`) delivers them over SMPP 3.4 (bind_transceiver, submit_sm) to a
//!   small SMSC sink in this file built on the project's own `smpp/pdu.rs` (it answers each `submit_sm`
//!   with a `submit_sm_resp` and nothing else), with `notify.sms.smpp.window = --window W` (default 10,
//!   the configuration's default). Prints SMS/s.
//!
//! `cargo bench -p popreg --bench notify -- --mode enqueue|email|sms [--seconds 10] [--clients 4]
//! [--batch 500] [--messages 20000] [--concurrency 16] [--window 10] [--persons 2000]`
//! Method and figures: docs/benchmarks.md ("issue 7: notifications").

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use popreg_domain::access::{BodyType, Caller, Function};
use popreg_domain::*;
use popreg_notify::smpp::pdu;
use popreg_notify::{NotifyConfig, Security, SmppConfig, SmsConfig, SmtpConfig};
use popreg_store::{ContactSettings, NewBody, NewNotification, Store, StoreOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[path = "shared.rs"]
mod shared;

use shared::arg;

const SENDER: &str = "TAX-0001";

fn mode() -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == "--mode")
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| "enqueue".into())
}

fn settings() -> ContactSettings {
    ContactSettings {
        portal_url: "https://e-citizen.am".into(),
        ..ContactSettings::default()
    }
}

fn caller() -> Caller {
    Caller {
        body_id: SENDER.into(),
        body_type: BodyType::Other,
        user_uid: "bench".into(),
        functions: vec![Function::SendNotifications],
        channel: Channel::Api,
        external: ExternalIds::default(),
    }
}

fn notification(to: Psn, n: u64) -> NewNotification {
    NewNotification {
        recipient: to.into(),
        subject: format!("Ծանուցում հարկային պարտավորության մասին № {n}"),
        text:
            "Հարգելի քաղաքացի,\nխնդրում ենք ներկայանալ Պետական եկամուտների կոմիտե մինչև ամսի 15-ը։"
                .into(),
        legal_significance: n.is_multiple_of(2),
        attachments: vec![],
        idempotency_key: Some(format!("bench-{n}")),
    }
}

/// The register, the sending body, and each person's verified address (and number, with `phones`).
async fn setup(store: &Store, psns: &[Psn], phones: bool) -> anyhow::Result<()> {
    store
        .append(&shared::provenance(), shared::registrations(psns)?)
        .await?;
    store
        .create_body(
            "bench",
            &NewBody {
                id: SENDER.into(),
                body_type: BodyType::Other,
                name_hy: "Պետական եկամուտների կոմիտե".into(),
                name_en: "State Revenue Committee".into(),
                name_ru: "Комитет государственных доходов".into(),
                xroad_member: None,
                contact_email: None,
            },
        )
        .await?;
    let s = settings();
    let mut owners = std::collections::HashMap::new();
    for (i, p) in psns.iter().enumerate() {
        store
            .add_email(*p, &format!("person{i}@forward.example.am"), "hy", &s)
            .await?;
        if phones {
            let number = format!("+37491{:06}", i);
            store.add_phone(*p, &number, "hy", &s).await?;
            owners.insert(number.replace('+', ""), *p);
        }
    }
    // The verification rows carry the tokens; verifying takes the addresses into use.
    for row in store.outbox_pending(100_000).await? {
        let secret = &row.params["secret"];
        if let Some(token) = secret["link"]
            .as_str()
            .and_then(|l| l.split("token=").nth(1))
        {
            store.verify_email(token).await?;
        } else if let Some(code) = secret["token"].as_str() {
            let p = owners
                .get(&row.recipient.replace('+', ""))
                .ok_or_else(|| anyhow::anyhow!("no owner of {}", row.recipient))?;
            store.verify_phone(*p, &row.recipient, code).await?;
        }
    }
    Ok(())
}

/// Queue `m` notifications in batches of 500 (not measured).
async fn queue(store: &Store, psns: &[Psn], m: u64, from: u64) -> anyhow::Result<()> {
    let mut n = from;
    while n < from + m {
        let batch: Vec<NewNotification> = (n..(n + 500).min(from + m))
            .map(|k| notification(psns[(k as usize) % psns.len()], k))
            .collect();
        n += batch.len() as u64;
        store
            .send_notifications(&caller(), &batch, &settings())
            .await?;
    }
    Ok(())
}

async fn outbox_rows(store: &Store) -> anyhow::Result<i64> {
    Ok(store.outbox_backlog().await?.iter().map(|b| b.2).sum())
}

async fn enqueue(store: &Store, psns: Arc<Vec<Psn>>) -> anyhow::Result<()> {
    let seconds = arg("--seconds", 10);
    let clients = arg("--clients", 4);
    let batch = arg("--batch", 500);
    // One per call, from `clients` tasks.
    let before = outbox_rows(store).await?;
    let counter = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let t = Instant::now();
    let mut tasks = vec![];
    for _ in 0..clients {
        let (store, psns, counter) = (store.clone(), psns.clone(), counter.clone());
        tasks.push(tokio::spawn(async move {
            let mut done = 0u64;
            while Instant::now() < deadline {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                store
                    .send_notification(
                        &caller(),
                        &notification(psns[(n as usize) % psns.len()], n),
                        &settings(),
                    )
                    .await?;
                done += 1;
            }
            anyhow::Ok(done)
        }));
    }
    let mut one = 0;
    for task in tasks {
        one += task.await??;
    }
    let elapsed = t.elapsed().as_secs_f64();
    let rows = outbox_rows(store).await? - before;
    println!(
        "one per call ({clients} clients): {one} notifications in {elapsed:.1} s: {:.0} notifications/s, \
         {:.0} outbox rows/s",
        one as f64 / elapsed,
        rows as f64 / elapsed
    );
    // The batch form.
    let before = outbox_rows(store).await?;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let t = Instant::now();
    let mut n = 1_000_000_000u64;
    let mut sent = 0u64;
    while Instant::now() < deadline {
        let list: Vec<NewNotification> = (n..n + batch)
            .map(|k| notification(psns[(k as usize) % psns.len()], k))
            .collect();
        n += batch;
        sent += store
            .send_notifications(&caller(), &list, &settings())
            .await?
            .len() as u64;
    }
    let elapsed = t.elapsed().as_secs_f64();
    let rows = outbox_rows(store).await? - before;
    println!(
        "batch form ({batch} per call, 1 client): {sent} notifications in {elapsed:.1} s: {:.0} \
         notifications/s, {:.0} outbox rows/s",
        sent as f64 / elapsed,
        rows as f64 / elapsed
    );
    Ok(())
}

/// Postfix's `smtp-sink` on a free loopback port, killed on drop.
struct Sink(std::process::Child, u16);

impl Sink {
    fn start() -> anyhow::Result<Sink> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = std::process::Command::new("/usr/sbin/smtp-sink")
            .args(["-u", "nobody", &format!("127.0.0.1:{port}"), "1024"])
            .spawn()
            .map_err(|e| {
                anyhow::anyhow!("smtp-sink (apt-get install postfix) cannot be started: {e}")
            })?;
        let until = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            anyhow::ensure!(Instant::now() < until, "smtp-sink does not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Sink(child, port))
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn email(store: &Store, psns: Arc<Vec<Psn>>) -> anyhow::Result<()> {
    let m = arg("--messages", 20_000);
    let concurrency = arg("--concurrency", 16) as u32;
    let sink = Sink::start()?;
    let cfg = NotifyConfig {
        enabled: true,
        public_url: "https://register.example.am/".into(),
        smtp: SmtpConfig {
            host: "127.0.0.1".into(),
            port: sink.1,
            security: Security::None,
            from: "Բնակչության ռեգիստր <noreply@register.example.am>".into(),
            timeout_seconds: 10,
            concurrency,
            ..SmtpConfig::default()
        },
        ..NotifyConfig::default()
    };
    let mailer = popreg_notify::Mailer::new(&cfg)?;
    // The verification e-mails of the set-up first (not measured; warms the connection pool).
    while popreg_notify::deliver_due(store, &mailer).await?.sent > 0 {}
    queue(store, &psns, m, 0).await?;
    let (sent, elapsed) = drain(|| popreg_notify::deliver_due(store, &mailer)).await?;
    println!(
        "e-mail: {sent} delivered to smtp-sink in {elapsed:.2} s: {:.0} e-mails/s (concurrency \
         {concurrency})",
        sent as f64 / elapsed
    );
    anyhow::ensure!(
        sent as u64 == m,
        "every queued e-mail must be delivered once"
    );
    Ok(())
}

/// A minimal SMSC: binds anyone, answers `submit_sm` with `submit_sm_resp` (a message id), `enquire_link`
/// and `unbind` with their responses. Built on the project's `smpp/pdu.rs`.
async fn smsc_sink() -> anyhow::Result<(u16, Arc<AtomicU64>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let submits = Arc::new(AtomicU64::new(0));
    let counter = submits.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut buf = vec![];
                let mut chunk = vec![0u8; 64 * 1024];
                loop {
                    let n = match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    buf.extend_from_slice(&chunk[..n]);
                    let mut out = vec![];
                    while let Ok(Some(p)) = pdu::take(&mut buf) {
                        let reply = match p.command_id {
                            pdu::BIND_TRANSCEIVER => {
                                let mut b = b"SINK".to_vec();
                                b.push(0);
                                Some(pdu::Pdu::response(pdu::BIND_TRANSCEIVER_RESP, 0, p.seq, b))
                            }
                            pdu::SUBMIT_SM => {
                                let id = counter.fetch_add(1, Ordering::Relaxed);
                                let mut b = format!("{id:x}").into_bytes();
                                b.push(0);
                                Some(pdu::Pdu::response(pdu::SUBMIT_SM_RESP, 0, p.seq, b))
                            }
                            pdu::ENQUIRE_LINK => {
                                Some(pdu::Pdu::response(pdu::ENQUIRE_LINK_RESP, 0, p.seq, vec![]))
                            }
                            pdu::UNBIND => {
                                Some(pdu::Pdu::response(pdu::UNBIND_RESP, 0, p.seq, vec![]))
                            }
                            _ => None,
                        };
                        if let Some(r) = reply {
                            out.extend(r.encode());
                        }
                    }
                    if !out.is_empty() && sock.write_all(&out).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok((port, submits))
}

async fn sms(store: &Store, psns: Arc<Vec<Psn>>) -> anyhow::Result<()> {
    let m = arg("--messages", 10_000);
    let window = arg("--window", 10) as u32;
    let (port, submits) = smsc_sink().await?;
    let cfg = SmsConfig {
        smpp: SmppConfig {
            host: "127.0.0.1".into(),
            port,
            system_id: "popreg".into(),
            window,
            ..SmppConfig::default()
        },
        max_per_second: 0,
        daily_cap_per_number: 0,
        ..SmsConfig::default()
    };
    let (channel, _reports) = popreg_notify::sms::SmsChannel::start(&cfg)?;
    queue(store, &psns, m, 0).await?;
    // Only the notifications' SMS rows are due on the `sms` channel (the verification codes were used).
    let (sent, elapsed) = drain(|| popreg_notify::deliver_sms_due(store, &channel, &cfg)).await?;
    println!(
        "sms: {sent} handed to the SMSC sink in {elapsed:.2} s: {:.0} SMS/s ({} submit_sm, window {window})",
        sent as f64 / elapsed,
        submits.load(Ordering::Relaxed)
    );
    Ok(())
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let mode = mode();
    let persons = arg("--persons", 2000);
    let tmp = tempfile::tempdir()?;
    let url = format!("sqlite:{}", tmp.path().join("register.sqlite").display());
    let store = Store::open(&url, &StoreOptions::default(), Arc::new(SystemClock)).await?;
    store.migrate().await?;
    let psns = shared::psns(persons);
    setup(&store, &psns, mode == "sms").await?;
    println!(
        "== {mode}: machine {} cores; SQLite (WAL) in {}; {persons} persons, each with a verified e-mail \
         address{}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        tmp.path().display(),
        if mode == "sms" {
            " and mobile number"
        } else {
            ""
        }
    );
    let psns = Arc::new(psns);
    match mode.as_str() {
        "enqueue" => enqueue(&store, psns).await,
        "email" => email(&store, psns).await,
        "sms" => sms(&store, psns).await,
        other => anyhow::bail!("--mode enqueue|email|sms, not {other}"),
    }
}

/// Run a delivery worker's rounds until one sends nothing; every send must succeed. Returns how many were
/// sent and the seconds it took.
async fn drain<F, Fut>(mut round: F) -> anyhow::Result<(usize, f64)>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<popreg_notify::Delivered, popreg_notify::NotifyError>>,
{
    let t = Instant::now();
    let mut sent = 0;
    loop {
        let d = round().await?;
        anyhow::ensure!(d.failed == 0, "{d:?}");
        sent += d.sent;
        if d.sent == 0 {
            return Ok((sent, t.elapsed().as_secs_f64()));
        }
    }
}
