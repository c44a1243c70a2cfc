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

use std::future::Future;
use std::time::Duration;

use chrono::Duration as Span;
use popreg_store::{Store, WebhookDelivery};
use tokio::task::JoinHandle;

use crate::NotifyError;
use crate::worker::{Delivered, backoff};

/// How long one POST may take before it counts as failed.
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

/// The HTTP client of the worker: no redirects followed (a receiver answers, it does not send us on).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(WEBHOOK_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

/// POST one event; `Ok(status)` for a 2xx answer, otherwise the status (if any) and why it failed.
async fn post(
    http: &reqwest::Client,
    d: &WebhookDelivery,
    now: i64,
) -> Result<u16, (Option<u16>, String)> {
    let r = http
        .post(&d.url)
        .header("content-type", "application/json")
        .header("user-agent", "popreg-webhooks/1")
        .header("x-popreg-event", &d.event)
        .header("x-popreg-delivery", d.id.to_string())
        .header("x-popreg-timestamp", now.to_string())
        .header(
            "x-popreg-signature",
            sign(&d.secret, now, d.payload.as_bytes()),
        )
        .body(d.payload.clone())
        .send()
        .await
        .map_err(|e| (None, format!("not delivered: {e}")))?;
    let status = r.status().as_u16();
    if r.status().is_success() {
        Ok(status)
    } else {
        Err((Some(status), format!("the receiver answered {status}")))
    }
}

/// One pass: deliver every event due now. Answers how many were delivered and how many failed.
pub async fn deliver_webhooks(
    store: &Store,
    http: &reqwest::Client,
) -> Result<Delivered, NotifyError> {
    let lease = Span::from_std(WEBHOOK_TIMEOUT).unwrap_or(Span::seconds(10)) + Span::seconds(60);
    let mut done = Delivered::default();
    loop {
        let claimed = store.webhook_claim(BATCH, lease).await?;
        let n = claimed.len();
        for d in claimed {
            let now = store.clock().now();
            match post(http, &d, now.timestamp()).await {
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
    every: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let http = client();
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                _ = tick.tick() => {}
            }
            if let Err(e) = deliver_webhooks(&store, &http).await {
                tracing::error!(error = %e, "webhook pass failed");
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
