//! Webhooks for providers (A1.52–54): a body registers one URL and receives a secret; every rejection of the
//! body's submissions is written to `webhook_outbox` in the same transaction as its rejection log row (see
//! `submit.rs`, `log_rejection`), so an event exists exactly when its rejection does. Notify's webhook
//! worker claims due rows ([`Store::webhook_claim`]), POSTs them signed, and records every attempt
//! ([`Store::webhook_attempt`]); a failed one is due again after a backoff, a delivered one never again.
//! Claiming moves `next_attempt_at` forward by a lease (PostgreSQL: `FOR UPDATE SKIP LOCKED`), so a worker
//! that dies mid-delivery leaves the row to be tried again: delivery is at least once, never lost.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sqlx::Row;

use crate::webhook_guard::{MAX_WEBHOOK_URL, WebhookGuard};
use crate::{Dialect, Inner, Store, StoreError, pg_ops, sqlite_ops};

/// A body's registered webhook (the secret is shown once, when it is set).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Webhook {
    pub body_id: String,
    pub url: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

/// One event claimed for delivery, with where to and the key to sign it with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookDelivery {
    pub id: i64,
    pub body_id: String,
    pub event: String,
    /// The JSON body, exactly as it is sent and signed.
    pub payload: String,
    /// Attempts made before this one.
    pub attempts: i64,
    pub url: String,
    pub secret: String,
}

/// One event of a body's webhook outbox, delivered or not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WebhookEvent {
    pub id: i64,
    pub event: String,
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// One delivery attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WebhookAttempt {
    pub outbox_id: i64,
    pub url: String,
    pub at: DateTime<Utc>,
    pub http_status: Option<i64>,
    pub error: Option<String>,
    pub delivered: bool,
}

const CLAIM_PG: &str = "UPDATE webhook_outbox SET next_attempt_at = $1 WHERE id IN (SELECT o.id FROM webhook_outbox o \
     JOIN webhooks w ON w.body_id = o.body_id WHERE o.delivered_at IS NULL AND o.next_attempt_at <= $2 \
     ORDER BY o.id LIMIT $3 FOR UPDATE OF o SKIP LOCKED) \
     RETURNING id, body_id, event, payload, CAST(attempts AS BIGINT) AS attempts";
const CLAIM_SQLITE: &str = "UPDATE webhook_outbox SET next_attempt_at = $1 WHERE id IN (SELECT o.id FROM webhook_outbox o \
     JOIN webhooks w ON w.body_id = o.body_id WHERE o.delivered_at IS NULL AND o.next_attempt_at <= $2 \
     ORDER BY o.id LIMIT $3) \
     RETURNING id, body_id, event, payload, CAST(attempts AS BIGINT) AS attempts";

/// Whether `url` may be a webhook as far as its form goes: `http` or `https`, a host, no credentials, no
/// fragment, at most [`MAX_WEBHOOK_URL`] characters. Where it leads is the [`WebhookGuard`]'s question.
pub fn valid_webhook_url(url: &str) -> bool {
    let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
    else {
        return false;
    };
    let host = rest.split(['/', '?']).next().unwrap_or("");
    url.len() <= MAX_WEBHOOK_URL
        && !host.is_empty()
        && !host.contains('@')
        && !url.contains('#')
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

impl Store {
    /// Register (or replace) a body's webhook and answer its new secret (64 hex digits) and the URL as
    /// stored (normalized). The URL must pass `guard` now (`PSR-VAL-0011` when it is no URL at all,
    /// `PSR-SUB-0005` when it leads where webhooks may not go); the worker checks it again before every
    /// delivery. Audited.
    pub async fn webhook_set(
        &self,
        body_id: &str,
        url: &str,
        by: &str,
        guard: &WebhookGuard,
    ) -> Result<(String, String), StoreError> {
        if !valid_webhook_url(url) {
            return Err(popreg_domain::DomainError::new(
                popreg_domain::Code::ValueOutOfRange,
                "url must be an https URL without credentials or fragment, at most 2000 characters",
            )
            .into());
        }
        let target = guard
            .target(url)
            .await
            .map_err(popreg_domain::DomainError::from)?;
        let url = target.url.as_str();
        let secret = crate::access::random_hex(32)?;
        let now = self.clock.now();
        dispatch!(self, write, pool, ops => {
            let mut tx = ops::begin(pool).await?;
            sqlx::query(
                "INSERT INTO webhooks (body_id, url, secret, created_at, created_by) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (body_id) DO UPDATE SET url = excluded.url, secret = excluded.secret, \
                 created_at = excluded.created_at, created_by = excluded.created_by",
            )
            .bind(body_id)
            .bind(url)
            .bind(&secret)
            .bind(now)
            .bind(by)
            .execute(&mut *tx)
            .await?;
            let act = crate::audit::Leaf::act("webhook.set", by, body_id, serde_json::json!({ "url": url }));
            ops::audit::append(&mut tx, now, &[act]).await?;
            tx.commit().await?;
        });
        Ok((secret, target.url))
    }

    /// Remove a body's webhook; `false` when it had none. Events not yet delivered wait (a new webhook
    /// delivers them). Audited.
    pub async fn webhook_remove(&self, body_id: &str, by: &str) -> Result<bool, StoreError> {
        let now = self.clock.now();
        dispatch!(self, write, pool, ops => {
            let mut tx = ops::begin(pool).await?;
            let r = sqlx::query("DELETE FROM webhooks WHERE body_id = $1")
                .bind(body_id)
                .execute(&mut *tx)
                .await?;
            if r.rows_affected() == 0 {
                return Ok(false);
            }
            let act = crate::audit::Leaf::act("webhook.remove", by, body_id, serde_json::json!({}));
            ops::audit::append(&mut tx, now, &[act]).await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// A body's webhook, if it registered one.
    pub async fn webhook(&self, body_id: &str) -> Result<Option<Webhook>, StoreError> {
        dispatch!(self, read, pool, ops => {
            let row = sqlx::query("SELECT body_id, url, created_at, created_by FROM webhooks WHERE body_id = $1")
                .bind(body_id)
                .fetch_optional(pool)
                .await?;
            row.map(|r| {
                Ok(Webhook {
                    body_id: r.try_get(0)?,
                    url: r.try_get(1)?,
                    created_at: r.try_get(2)?,
                    created_by: r.try_get(3)?,
                })
            })
            .transpose()
        })
    }

    /// Claim up to `limit` due events of bodies with a webhook, oldest first; each is due again only after
    /// `lease` unless [`Store::webhook_attempt`] records it first.
    pub async fn webhook_claim(
        &self,
        limit: i64,
        lease: Duration,
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        let now = self.clock.now();
        let sql = match self.dialect() {
            Dialect::Postgres => CLAIM_PG,
            Dialect::Sqlite => CLAIM_SQLITE,
        };
        dispatch!(self, write, pool, ops => {
            let mut tx = ops::begin(pool).await?;
            let rows = sqlx::query(sql)
                .bind(now + lease)
                .bind(now)
                .bind(limit.clamp(1, 1000))
                .fetch_all(&mut *tx)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                let body_id: String = r.try_get(1)?;
                let hook = sqlx::query("SELECT url, secret FROM webhooks WHERE body_id = $1")
                    .bind(&body_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some(hook) = hook else { continue };
                out.push(WebhookDelivery {
                    id: r.try_get(0)?,
                    body_id,
                    event: r.try_get(2)?,
                    payload: r.try_get(3)?,
                    attempts: r.try_get(4)?,
                    url: hook.try_get(0)?,
                    secret: hook.try_get(1)?,
                });
            }
            tx.commit().await?;
            out.sort_by_key(|d| d.id);
            Ok(out)
        })
    }

    /// Record one delivery attempt: delivered (never sent again), or failed and due again at `retry_at`.
    pub async fn webhook_attempt(
        &self,
        d: &WebhookDelivery,
        http_status: Option<u16>,
        error: Option<&str>,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        let delivered = retry_at.is_none();
        let error: Option<String> = error.map(|e| e.chars().take(500).collect());
        dispatch!(self, write, pool, ops => {
            let mut tx = ops::begin(pool).await?;
            sqlx::query(
                "INSERT INTO webhook_attempts (outbox_id, url, at, http_status, error, delivered) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(d.id)
            .bind(&d.url)
            .bind(now)
            .bind(http_status.map(i64::from))
            .bind(&error)
            .bind(delivered)
            .execute(&mut *tx)
            .await?;
            if delivered {
                sqlx::query(
                    "UPDATE webhook_outbox SET attempts = attempts + 1, delivered_at = $1, last_error = NULL \
                     WHERE id = $2 AND delivered_at IS NULL",
                )
                .bind(now)
                .bind(d.id)
                .execute(&mut *tx)
                .await?;
            } else {
                sqlx::query(
                    "UPDATE webhook_outbox SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2 \
                     WHERE id = $3 AND delivered_at IS NULL",
                )
                .bind(retry_at)
                .bind(&error)
                .bind(d.id)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// A body's latest webhook events, newest first.
    pub async fn webhook_events(
        &self,
        body_id: &str,
        limit: i64,
    ) -> Result<Vec<WebhookEvent>, StoreError> {
        dispatch!(self, read, pool, ops => {
            let rows = sqlx::query(
                "SELECT id, event, payload, created_at, CAST(attempts AS BIGINT) AS attempts, next_attempt_at, \
                 delivered_at, last_error FROM webhook_outbox WHERE body_id = $1 ORDER BY id DESC LIMIT $2",
            )
            .bind(body_id)
            .bind(limit.clamp(1, 1000))
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    let payload: String = r.try_get(2)?;
                    Ok(WebhookEvent {
                        id: r.try_get(0)?,
                        event: r.try_get(1)?,
                        payload: serde_json::from_str(&payload)
                            .map_err(|e| crate::corrupt("webhook payload", e))?,
                        created_at: r.try_get(3)?,
                        attempts: r.try_get(4)?,
                        next_attempt_at: r.try_get(5)?,
                        delivered_at: r.try_get(6)?,
                        last_error: r.try_get(7)?,
                    })
                })
                .collect()
        })
    }

    /// The attempts to deliver one event, oldest first.
    pub async fn webhook_attempts(
        &self,
        outbox_id: i64,
    ) -> Result<Vec<WebhookAttempt>, StoreError> {
        dispatch!(self, read, pool, ops => {
            let rows = sqlx::query(
                "SELECT outbox_id, url, at, http_status, error, delivered FROM webhook_attempts \
                 WHERE outbox_id = $1 ORDER BY id",
            )
            .bind(outbox_id)
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(WebhookAttempt {
                        outbox_id: r.try_get(0)?,
                        url: r.try_get(1)?,
                        at: r.try_get(2)?,
                        http_status: r.try_get(3)?,
                        error: r.try_get(4)?,
                        delivered: r.try_get(5)?,
                    })
                })
                .collect()
        })
    }

    /// The latest acts of the audit trail named `action` (e.g. `body.suspend`), newest first: their JSON.
    pub async fn audit_acts(
        &self,
        action: &str,
        limit: i64,
    ) -> Result<Vec<serde_json::Value>, StoreError> {
        let rows: Vec<String> = dispatch!(self, read, pool, ops => {
            sqlx::query("SELECT data FROM audit_log WHERE kind = 'act' ORDER BY seq DESC LIMIT $1")
                .bind(limit.clamp(1, 100_000))
                .fetch_all(pool)
                .await?
                .iter()
                .map(|r| r.try_get::<String, _>(0))
                .collect::<Result<_, _>>()?
        });
        Ok(rows
            .iter()
            .filter_map(|d| serde_json::from_str::<serde_json::Value>(d).ok())
            .filter(|v| v["action"] == action || v["body"]["action"] == action)
            .collect())
    }
}
