//! The webhook worker (A1.52–54): claim the due events of `webhook_outbox`, POST each to its body's URL
//! signed with the body's secret, and record every attempt; a failure (connection, timeout, any answer
//! other than 2xx) is tried again after [`crate::worker::backoff`] (30 s, doubling, at most an hour apart),
//! for ever. The events survive a restart: they are rows, claimed with a lease.
//!
//! The contract (`docs/api-guide.md`): `POST <url>` with `Content-Type: application/json`, the event as the
//! body, and
//! - `X-Popreg-Event`: the event's name (`rejection`);
//! - `X-Popreg-Delivery`: the event's id (the same on every retry: a receiver drops duplicates by it);
//! - `X-Popreg-Timestamp`: the attempt's time in Unix seconds;
//! - `X-Popreg-Signature`: `sha256=` and the hex HMAC-SHA256, keyed with the secret, of
//!   `<timestamp>.<body>`.
//!
//! Before every attempt the URL passes the [`WebhookGuard`] again (SSRF, `popreg_store::webhook_guard`): the
//! name is resolved, every address checked, and the request goes to those checked addresses only — the
//! worker opens the TCP connection itself (then TLS with the URL's host name, then HTTP/1.1), so nothing
//! resolves the name a second time. A refused URL is recorded as a failed attempt (`PSR-SUB-0005: …`) and
//! tried again after the backoff (the allow-list may change). No redirect is followed: a 3xx is a failure.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::Duration as Span;
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use popreg_store::{Store, WebhookDelivery, WebhookGuard, WebhookTarget};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use crate::NotifyError;
use crate::worker::{Delivered, backoff};

/// How long one POST may take (connecting, TLS, the answer) before it counts as failed.
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);
/// Events claimed per pass.
const BATCH: i64 = 100;

/// `sha256=<hex>`: the HMAC-SHA256, keyed with `secret`, of `<timestamp>.<body>`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let mut ctx = ring::hmac::Context::with_key(&key);
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    let tag = ctx.sign();
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// The worker's HTTP client: the guard each URL passes before every attempt, and the TLS client (rustls,
/// ring, the public web roots) for `https://` receivers.
#[derive(Clone)]
pub struct Sender {
    guard: WebhookGuard,
    tls: tokio_rustls::TlsConnector,
}

impl Sender {
    /// A sender trusting the public web roots (`webpki-roots`).
    pub fn new(guard: WebhookGuard) -> Result<Sender, NotifyError> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        Sender::with_roots(guard, roots)
    }

    /// A sender trusting exactly `roots` (tests: a receiver with a certificate of a test CA).
    pub fn with_roots(
        guard: WebhookGuard,
        roots: rustls::RootCertStore,
    ) -> Result<Sender, NotifyError> {
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| NotifyError::Config(format!("webhooks: TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        Ok(Sender {
            guard,
            tls: tokio_rustls::TlsConnector::from(Arc::new(config)),
        })
    }

    /// Connect to the first of the checked addresses that answers.
    async fn connect(addrs: &[SocketAddr]) -> Result<TcpStream, String> {
        let mut last = String::from("no address");
        for a in addrs {
            match TcpStream::connect(a).await {
                Ok(s) => return Ok(s),
                Err(e) => last = format!("{a}: {e}"),
            }
        }
        Err(last)
    }

    /// One HTTP/1.1 exchange over `io`; answers the status.
    async fn exchange<S>(io: S, req: hyper::Request<Full<Bytes>>) -> Result<u16, String>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
            .await
            .map_err(|e| e.to_string())?;
        let conn = tokio::spawn(conn);
        let r = send.send_request(req).await.map_err(|e| e.to_string());
        conn.abort();
        Ok(r?.status().as_u16())
    }

    /// POST `body` to the checked target with `headers`.
    async fn post_to(
        &self,
        t: &WebhookTarget,
        headers: &[(&str, String)],
        body: &str,
    ) -> Result<u16, String> {
        let mut req = hyper::Request::post(&t.path)
            .header("host", t.host_header())
            .header("connection", "close")
            .header("content-length", body.len().to_string());
        for (k, v) in headers {
            req = req.header(*k, v.as_str());
        }
        let req = req
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|e| e.to_string())?;
        let tcp = Sender::connect(&t.addrs).await?;
        if t.https {
            let name = rustls_pki_types::ServerName::try_from(t.host.clone())
                .map_err(|e| format!("TLS name {}: {e}", t.host))?;
            let tls = self
                .tls
                .connect(name, tcp)
                .await
                .map_err(|e| format!("TLS: {e}"))?;
            Sender::exchange(tls, req).await
        } else {
            Sender::exchange(tcp, req).await
        }
    }
}

/// POST one event; `Ok(status)` for a 2xx answer, otherwise the status (if any) and why it failed.
async fn post(
    sender: &Sender,
    d: &WebhookDelivery,
    now: i64,
) -> Result<u16, (Option<u16>, String)> {
    let target = sender.guard.target(&d.url).await.map_err(|r| {
        metrics::counter!("popreg_webhooks_refused_total").increment(1);
        (
            None,
            format!("{}: {r}", popreg_domain::Code::WebhookRefused),
        )
    })?;
    let headers = [
        ("content-type", "application/json".to_string()),
        ("user-agent", "popreg-webhooks/1".to_string()),
        ("x-popreg-event", d.event.clone()),
        ("x-popreg-delivery", d.id.to_string()),
        ("x-popreg-timestamp", now.to_string()),
        (
            "x-popreg-signature",
            sign(&d.secret, now, d.payload.as_bytes()),
        ),
    ];
    let status = tokio::time::timeout(
        WEBHOOK_TIMEOUT,
        sender.post_to(&target, &headers, &d.payload),
    )
    .await
    .map_err(|_| (None, "not delivered: timed out".to_string()))?
    .map_err(|e| (None, format!("not delivered: {e}")))?;
    if (200..300).contains(&status) {
        Ok(status)
    } else {
        Err((Some(status), format!("the receiver answered {status}")))
    }
}

/// One pass: deliver every event due now. Answers how many were delivered and how many failed.
pub async fn deliver_webhooks(store: &Store, sender: &Sender) -> Result<Delivered, NotifyError> {
    let lease = Span::from_std(WEBHOOK_TIMEOUT).unwrap_or(Span::seconds(10)) + Span::seconds(60);
    let mut done = Delivered::default();
    loop {
        let claimed = store.webhook_claim(BATCH, lease).await?;
        let n = claimed.len();
        for d in claimed {
            let now = store.clock().now();
            match post(sender, &d, now.timestamp()).await {
                Ok(status) => {
                    store.webhook_attempt(&d, Some(status), None, None).await?;
                    done.sent += 1;
                    metrics::counter!("popreg_webhooks_delivered_total").increment(1);
                    tracing::info!(event = d.id, body = %d.body_id, "webhook delivered");
                }
                Err((status, why)) => {
                    let retry_at = store.clock().now() + backoff(d.attempts);
                    store
                        .webhook_attempt(&d, status, Some(&why), Some(retry_at))
                        .await?;
                    done.failed += 1;
                    metrics::counter!("popreg_webhooks_failed_total").increment(1);
                    tracing::warn!(event = d.id, body = %d.body_id, reason = %why, %retry_at, "webhook not delivered; retried later");
                }
            }
        }
        if (n as i64) < BATCH {
            return Ok(done);
        }
    }
}

/// Run [`deliver_webhooks`] every `every` until `shutdown` completes.
pub fn spawn(
    store: Store,
    guard: WebhookGuard,
    every: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let sender = match Sender::new(guard) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "the webhook worker cannot start");
                return;
            }
        };
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                _ = tick.tick() => {}
            }
            if let Err(e) = deliver_webhooks(&store, &sender).await {
                tracing::error!(error = %e, "webhook pass failed");
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An HTTPS receiver with a certificate for `hooks.test` from a private CA: answers 204 to one
    /// request and hands over what it got (the request head and body).
    async fn tls_receiver() -> (SocketAddr, rustls::RootCertStore, JoinHandle<String>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (acceptor, ca) = crate::test_tls("hooks.test");
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.der().clone()).unwrap();
        let task = tokio::spawn(async move {
            let (tcp, _) = l.accept().await.unwrap();
            let mut tls = acceptor.accept(tcp).await.unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                let n = tls.read(&mut buf).await.unwrap();
                got.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&got).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len: usize = text[..end]
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length: "))
                        .map_or(0, |v| v.trim().parse().unwrap());
                    if got.len() >= end + 4 + len {
                        break;
                    }
                }
                assert!(n > 0, "the request ended early");
            }
            tls.write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                .await
                .unwrap();
            tls.shutdown().await.unwrap();
            String::from_utf8(got).unwrap()
        });
        (addr, roots, task)
    }

    #[tokio::test]
    async fn a1_52_https_goes_to_the_checked_address_with_the_urls_host_name() {
        // `hooks.test` exists only in the guard's resolver, so the request can only reach the receiver
        // through the address the guard checked; TLS verifies the certificate against that name.
        let (addr, roots, task) = tls_receiver().await;
        let resolver = popreg_store::Resolver::fixed();
        resolver.set("hooks.test", &[addr.ip()]);
        let guard = WebhookGuard::new(&popreg_store::WebhookPolicy {
            allow_http: false,
            allow: vec!["127.0.0.1/32".into()],
        })
        .unwrap()
        .with_resolver(resolver.clone());
        let sender = Sender::with_roots(guard, roots).unwrap();
        let d = WebhookDelivery {
            id: 7,
            body_id: "MED-0001".into(),
            event: "rejection".into(),
            payload: r#"{"event":"rejection"}"#.into(),
            attempts: 0,
            url: format!("https://hooks.test:{}/in?x=1", addr.port()),
            secret: "s".into(),
        };
        assert_eq!(post(&sender, &d, 1_764_000_000).await, Ok(204));
        let got = task.await.unwrap();
        assert!(got.starts_with("POST /in?x=1 HTTP/1.1\r\n"), "{got}");
        assert!(
            got.contains(&format!("host: hooks.test:{}\r\n", addr.port())),
            "{got}"
        );
        assert!(got.contains("x-popreg-delivery: 7\r\n"), "{got}");
        assert!(got.contains(&format!(
            "x-popreg-signature: {}\r\n",
            sign("s", 1_764_000_000, d.payload.as_bytes())
        )));
        assert!(got.ends_with(r#"{"event":"rejection"}"#), "{got}");

        // The name now leads to the metadata service: refused before any connection.
        resolver.set("hooks.test", &["169.254.169.254".parse().unwrap()]);
        let (status, why) = post(&sender, &d, 1_764_000_000).await.unwrap_err();
        assert_eq!(status, None);
        assert!(why.starts_with("PSR-SUB-0005: "), "{why}");
        // Plain http is refused without `allow_http`.
        resolver.set("hooks.test", &[addr.ip()]);
        let plain = WebhookDelivery {
            url: format!("http://hooks.test:{}/in", addr.port()),
            ..d.clone()
        };
        let (_, why) = post(&sender, &plain, 0).await.unwrap_err();
        assert!(why.starts_with("PSR-SUB-0005: "), "{why}");
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // The tag is over `<timestamp>.<body>`, checked against ring's one-shot HMAC of that string.
        let s = sign("Jefe", 0, b"");
        assert!(s.starts_with("sha256=") && s.len() == 7 + 64, "{s}");
        assert_ne!(sign("Jefe", 1, b"x"), sign("Jefe", 2, b"x"));
        assert_ne!(sign("Jefe", 1, b"x"), sign("Jeff", 1, b"x"));
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"Jefe");
        let want = ring::hmac::sign(&key, b"1764000000.what do ya want for nothing?");
        let hex: String = want.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            sign("Jefe", 1_764_000_000, b"what do ya want for nothing?"),
            format!("sha256={hex}")
        );
    }
}
