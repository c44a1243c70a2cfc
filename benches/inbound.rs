//! Benchmark of the official mail server (G.3.1, issue 7: "accept ≥ 200 inbound messages/s (50 KB each)
//! with forwarding"), on embedded SQLite in a temporary directory:
//!
//! - `--persons P` persons in the register, each with one verified forwarding address, so every message
//!   is stored, DKIM-signed and ARC-sealed (an RSA-2048 key, as `popreg dkim-key` writes) and gets an
//!   outbox forward in the same transaction;
//! - `--clients N` concurrent SMTP clients (plain ESMTP over loopback, one connection each, one message per
//!   `MAIL`/`RCPT`/`DATA`) send `--size` byte messages (default 50 KB: a text part and a base64
//!   attachment) to `<PSN>@e-citizen.am` for `--seconds` seconds;
//! - prints the messages acknowledged per second (each `250` follows the commit that holds the message),
//!   the latency from `DATA`'s end to the `250` (p50, p99), and checks the stored and queued counts.
//!
//! `cargo bench -p popreg --bench inbound -- [--clients 32] [--seconds 20] [--persons 200] [--size 51200]`
//! Method and figures: docs/benchmarks.md ("2026-12-03b inbound mail").

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use popreg_domain::*;
use popreg_notify::inbound::{Inbound, generate_rsa_key};
use popreg_notify::{InboundConfig, Secret};
use popreg_store::{ContactSettings, Store, StoreOptions};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const DOMAIN: &str = "e-citizen.am";

#[path = "shared.rs"]
mod shared;

use shared::arg;

async fn register(store: &Store, psns: &[Psn]) -> anyhow::Result<()> {
    store
        .append(&shared::provenance(), shared::registrations(psns)?)
        .await?;
    // One verified forwarding address each: the verification link's token is in the outbox row.
    let settings = ContactSettings::default();
    for (i, p) in psns.iter().enumerate() {
        let address = format!("person{i}@forward.example.am");
        store.add_email(*p, &address, "hy", &settings).await?;
    }
    for row in store.outbox_pending(10_000).await? {
        if let Some(token) = row.params["secret"]["link"]
            .as_str()
            .and_then(|l| l.split("token=").nth(1))
        {
            store.verify_email(token).await?;
        }
    }
    Ok(())
}

/// A MIME message of about `size` bytes: a short text part and a base64 attachment (76-character lines).
fn message(to: &str, n: u64, size: usize) -> Vec<u8> {
    let mut m = format!(
        "From: State Revenue Committee <notices@src.example.am>\r\nTo: <{to}>\r\n\
         Subject: Benchmark notice {n}\r\nDate: Thu, 3 Dec 2026 10:00:00 +0400\r\n\
         Message-ID: <bench-{n}@src.example.am>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nA notice of the State Revenue Committee.\r\n--b1\r\n\
         Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"notice.pdf\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n"
    )
    .into_bytes();
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut i = n as usize;
    while m.len() + 80 < size {
        for _ in 0..76 {
            i = i.wrapping_mul(31).wrapping_add(7);
            m.push(alphabet[i % 64]);
        }
        m.extend_from_slice(b"\r\n");
    }
    m.extend_from_slice(b"--b1--\r\n");
    m
}

struct Client {
    r: BufReader<TcpStream>,
}

impl Client {
    async fn connect(addr: std::net::SocketAddr) -> anyhow::Result<Client> {
        let mut c = Client {
            r: BufReader::new(TcpStream::connect(addr).await?),
        };
        c.expect("220").await?;
        c.send(b"EHLO bench.example.am\r\n").await?;
        c.expect("250").await?;
        Ok(c)
    }

    async fn send(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        self.r.get_mut().write_all(bytes).await?;
        Ok(())
    }

    /// Read one (possibly multi-line) reply and check its code.
    async fn expect(&mut self, code: &str) -> anyhow::Result<()> {
        loop {
            let mut line = String::new();
            if self.r.read_line(&mut line).await? == 0 {
                anyhow::bail!("connection closed");
            }
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                anyhow::ensure!(line.starts_with(code), "expected {code}, got {line:?}");
                return Ok(());
            }
        }
    }

    /// One message; answers how long the `250` took after the final dot.
    async fn deliver(&mut self, to: &str, raw: &[u8]) -> anyhow::Result<Duration> {
        self.send(
            format!("MAIL FROM:<notices@src.example.am>\r\nRCPT TO:<{to}>\r\nDATA\r\n").as_bytes(),
        )
        .await?;
        self.expect("250").await?;
        self.expect("250").await?;
        self.expect("354").await?;
        self.send(raw).await?;
        let t = Instant::now();
        self.send(b".\r\n").await?;
        self.expect("250").await?;
        Ok(t.elapsed())
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let clients = arg("--clients", 32);
    let seconds = arg("--seconds", 20);
    let persons = arg("--persons", 200);
    let size = arg("--size", 50 * 1024) as usize;
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path();
    let url = format!("sqlite:{}", dir.join("register.sqlite").display());
    let store = Store::open(&url, &StoreOptions::default(), Arc::new(SystemClock)).await?;
    store.migrate().await?;
    let psns = shared::psns(persons);
    register(&store, &psns).await?;
    let (pem, _) = generate_rsa_key()?;
    std::fs::write(dir.join("dkim.pem"), pem)?;
    let cfg = InboundConfig {
        enabled: true,
        listen: "127.0.0.1:0".into(),
        domain: DOMAIN.into(),
        hostname: "mx.e-citizen.am".into(),
        max_message_bytes: size + 64 * 1024,
        max_connections: clients as usize + 10,
        srs_secret: Some(Secret::new("bench-srs-secret")),
        dkim_key: Some(dir.join("dkim.pem")),
        ..InboundConfig::default()
    };
    let server = Inbound::start(store.clone(), &cfg, std::future::pending()).await?;
    let addr = server.local_addr;
    println!(
        "== machine: {} cores; SQLite (WAL, synchronous=FULL) in {}; {persons} persons with a verified \
         forwarding address; {clients} clients; {size}-byte messages; {seconds} s",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        dir.display()
    );

    let psns = Arc::new(psns);
    let counter = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let t = Instant::now();
    let mut tasks = vec![];
    for _ in 0..clients {
        let (psns, counter) = (psns.clone(), counter.clone());
        tasks.push(tokio::spawn(async move {
            let mut c = Client::connect(addr).await?;
            let mut latencies = vec![];
            while Instant::now() < deadline {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let to = format!("{}@{DOMAIN}", psns[(n as usize) % psns.len()]);
                let raw = message(&to, n, size);
                latencies.push(c.deliver(&to, &raw).await?);
            }
            c.send(b"QUIT\r\n").await?;
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = vec![];
    for task in tasks {
        latencies.extend(task.await??);
    }
    let elapsed = t.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let n = latencies.len();
    println!(
        "accepted {n} messages in {elapsed:.1} s: {:.0} messages/s ({:.1} MB/s); 250 after the dot: \
         p50 {:.1} ms, p99 {:.1} ms",
        n as f64 / elapsed,
        (n * size) as f64 / elapsed / 1e6,
        pct(0.50),
        pct(0.99)
    );
    // The verification e-mails of the set-up wait in the outbox too (nothing delivers here).
    let queued: i64 = store
        .outbox_backlog()
        .await?
        .iter()
        .filter(|b| b.0 == "email")
        .map(|b| b.2)
        .sum::<i64>()
        - persons as i64;
    println!("outbox: {queued} forwards queued");
    anyhow::ensure!(
        queued as usize == n,
        "every acknowledged message must have exactly its one forward queued"
    );
    Ok(())
}
