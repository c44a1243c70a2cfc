//! The outbox (architecture principle 5): notifications are written in the same transaction as the change
//! that causes them, and delivered afterwards by a worker with retries. A message is never sent for a
//! rolled-back change, and never lost for a committed one.
//!
//! Delivery claims a due row by moving its `next_attempt_at` forward by a lease (PostgreSQL: `FOR UPDATE
//! SKIP LOCKED`, so two servers never claim the same row; SQLite has one writer). The worker then records
//! the delivery (`sent_at`) or the failure with the next try; a worker that dies mid-send leaves the row to
//! be tried again when the lease ends.
//!
//! Reminders (A1.54) are rows like any other, enqueued with `INSERT … ON CONFLICT (dedupe_key) DO NOTHING`
//! under the key `reminder:{rejection id}`, so there is at most one per rejection whatever runs them.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sqlx::Row;

use crate::{Dialect, Inner, Rejection, Store, StoreError, corrupt, pg_ops, sqlite_ops};

/// One message waiting in (or delivered from) the outbox.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OutboxMessage {
    pub id: i64,
    /// `email` (more channels come with the notification module).
    pub channel: String,
    pub recipient: String,
    /// Which template renders it, e.g. `rejection`.
    pub template: String,
    /// The version of the template current when the row was enqueued (1: the shipped text); delivery
    /// renders this version (see `templates.rs`).
    pub template_version: i64,
    pub lang: String,
    pub params: serde_json::Value,
    /// Unique per message: the receiving side can drop a duplicate delivery by it.
    pub dedupe_key: String,
    /// Attempts made so far (failed ones, and the successful one).
    pub attempts: i64,
    pub created_at: DateTime<Utc>,
    /// When it is due next (while claimed: when the claim lapses).
    pub next_attempt_at: DateTime<Utc>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// The columns of an [`OutboxMessage`]; `attempts` is `INTEGER` on PostgreSQL, read as 64-bit.
macro_rules! outbox_columns {
    () => {
        "id, channel, recipient, template, CAST(COALESCE(template_version, 1) AS BIGINT) AS template_version, \
         lang, params, dedupe_key, CAST(attempts AS BIGINT) AS attempts, created_at, next_attempt_at, last_error, \
         sent_at"
    };
}

const CLAIM_PG: &str = concat!(
    "UPDATE outbox SET next_attempt_at = $1 WHERE id IN (SELECT id FROM outbox \
     WHERE channel = $2 AND sent_at IS NULL AND given_up_at IS NULL AND next_attempt_at <= $3 \
     ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING ",
    outbox_columns!()
);

const CLAIM_SQLITE: &str = concat!(
    "UPDATE outbox SET next_attempt_at = $1 WHERE id IN (SELECT id FROM outbox \
     WHERE channel = $2 AND sent_at IS NULL AND given_up_at IS NULL AND next_attempt_at <= $3 \
     ORDER BY id LIMIT $4) RETURNING ",
    outbox_columns!()
);

/// Rejections older than the cutoff, not yet reminded of, whose body has an e-mail address, and that no
/// later accepted submission corrected: same body, same kind, accepted (or released after a hold) after the
/// rejection, and about the same person when the rejection names one.
const REMINDERS_DUE: &str = "SELECT r.id, r.submission_id, r.body_id, r.kind, r.user_uid, r.channel, \
     r.received_at, r.code, r.errors, r.media_type, r.subject_psn, b.contact_email \
     FROM rejections r JOIN bodies b ON b.id = r.body_id \
     WHERE r.received_at <= $1 AND b.contact_email IS NOT NULL AND b.contact_email <> '' \
     AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.dedupe_key = 'reminder:' || CAST(r.id AS TEXT)) \
     AND NOT EXISTS (SELECT 1 FROM submissions s WHERE s.body_id = r.body_id AND s.kind = r.kind \
         AND s.status IN ('accepted', 'released') AND s.received_at > r.received_at \
         AND (r.subject_psn IS NULL OR s.subject_psn = r.subject_psn)) \
     ORDER BY r.id LIMIT $2";

/// Recording a delivery erases the secret a verification message carried (`params.secret`).
const SENT_SQLITE: &str = "UPDATE outbox SET sent_at = $1, attempts = attempts + 1, last_error = NULL, failure = NULL, \
     params = CASE WHEN source LIKE 'contact:%' THEN json_remove(params, '$.secret') ELSE params END \
     WHERE id = $2 AND sent_at IS NULL";
const SENT_PG: &str = "UPDATE outbox SET sent_at = $1, attempts = attempts + 1, last_error = NULL, failure = NULL, \
     params = CASE WHEN source LIKE 'contact:%' THEN (params::jsonb - 'secret')::text ELSE params END \
     WHERE id = $2 AND sent_at IS NULL";

/// How an attempt failed, as Notify names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The relay refused for now (4xx), or the message waits for a retry.
    Temporary,
    /// The relay refused the message for good (5xx: no such mailbox, refused content).
    Permanent,
    /// Our side: the relay unreachable, TLS failed, the message could not be rendered.
    Technical,
}

/// What a delivery receipt did to its message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReceiptEffect {
    /// The part reached the phone (the message is `delivered` once every part has).
    Delivered,
    /// Undeliverable, expired, rejected or deleted: the message failed for good.
    Failed,
    /// Not final (`enroute`, `accepted`, `unknown`, or a word nobody knows): noted on the part only.
    Pending,
}

impl ReceiptEffect {
    /// The effect of a receipt's status word.
    pub fn of(status: &str) -> ReceiptEffect {
        match status {
            "delivered" => ReceiptEffect::Delivered,
            "undeliverable" | "expired" | "rejected" | "deleted" => ReceiptEffect::Failed,
            _ => ReceiptEffect::Pending,
        }
    }
}

/// A receipt matched to its message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SmsReceipt {
    pub outbox_id: i64,
    pub effect: ReceiptEffect,
}

impl Failure {
    pub fn as_str(self) -> &'static str {
        match self {
            Failure::Temporary => "temporary",
            Failure::Permanent => "permanent",
            Failure::Technical => "technical",
        }
    }
}

fn message_from_row<R: Row>(r: &R) -> Result<OutboxMessage, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> DateTime<Utc>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<DateTime<Utc>>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let params: String = r.try_get("params")?;
    Ok(OutboxMessage {
        id: r.try_get("id")?,
        channel: r.try_get("channel")?,
        recipient: r.try_get("recipient")?,
        template: r.try_get("template")?,
        template_version: r.try_get("template_version")?,
        lang: r.try_get("lang")?,
        params: serde_json::from_str(&params).map_err(|e| corrupt("outbox params", e))?,
        dedupe_key: r.try_get("dedupe_key")?,
        attempts: r.try_get("attempts")?,
        created_at: r.try_get("created_at")?,
        next_attempt_at: r.try_get("next_attempt_at")?,
        last_error: r.try_get("last_error")?,
        sent_at: r.try_get("sent_at")?,
    })
}

impl Store {
    /// Messages due for delivery now, oldest first (without claiming them).
    pub async fn outbox_pending(&self, limit: i64) -> Result<Vec<OutboxMessage>, StoreError> {
        let now = self.clock.now();
        dispatch!(self, read, pool, ops => {
            let rows = sqlx::query(concat!(
                "SELECT ",
                outbox_columns!(),
                " FROM outbox WHERE sent_at IS NULL AND given_up_at IS NULL AND next_attempt_at <= $1 \
                 ORDER BY id LIMIT $2"
            ))
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await?;
            rows.iter().map(message_from_row).collect()
        })
    }

    /// The latest messages, newest first, delivered or not: for watching the outbox.
    pub async fn outbox_recent(&self, limit: i64) -> Result<Vec<OutboxMessage>, StoreError> {
        dispatch!(self, read, pool, ops => {
            let rows = sqlx::query(concat!(
                "SELECT ",
                outbox_columns!(),
                " FROM outbox ORDER BY id DESC LIMIT $1"
            ))
            .bind(limit.clamp(1, 1000))
            .fetch_all(pool)
            .await?;
            rows.iter().map(message_from_row).collect()
        })
    }

    /// Claim up to `limit` due messages of a channel for delivery, oldest first: each becomes due again only
    /// when `lease` has passed, so no other worker (on this or another server) takes it meanwhile. The
    /// worker records the outcome with [`Store::outbox_sent`] or [`Store::outbox_failed`].
    pub async fn outbox_claim(
        &self,
        channel: &str,
        limit: i64,
        lease: Duration,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let now = self.clock.now();
        let sql = match self.dialect() {
            Dialect::Postgres => CLAIM_PG,
            Dialect::Sqlite => CLAIM_SQLITE,
        };
        let mut claimed: Vec<OutboxMessage> = dispatch!(self, write, pool, ops => {
            let rows = sqlx::query(sql)
                .bind(now + lease)
                .bind(channel)
                .bind(now)
                .bind(limit.clamp(1, 1000))
                .fetch_all(pool)
                .await?;
            rows.iter().map(message_from_row).collect::<Result<_, _>>()?
        });
        claimed.sort_by_key(|m| m.id);
        Ok(claimed)
    }

    /// Record a delivery. A message already recorded as sent stays as it was. A secret the message carried
    /// (`params.secret`: a verification link or code) is erased from the row now that it has left.
    pub async fn outbox_sent(&self, id: i64) -> Result<(), StoreError> {
        self.outbox_sent_many(&[id]).await
    }

    /// [`Store::outbox_sent`] for many messages in **one** transaction (a worker's batch): all recorded or
    /// none.
    pub async fn outbox_sent_many(&self, ids: &[i64]) -> Result<(), StoreError> {
        let now = self.clock.now();
        let sql = match self.dialect() {
            Dialect::Postgres => SENT_PG,
            Dialect::Sqlite => SENT_SQLITE,
        };
        match ids {
            [] => {}
            [id] => dispatch!(self, write, pool, ops => {
                sqlx::query(sql).bind(now).bind(id).execute(pool).await?;
            }),
            _ => dispatch!(self, write, pool, ops => {
                let mut tx = ops::begin(pool).await?;
                for id in ids {
                    sqlx::query(sql).bind(now).bind(id).execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }),
        }
        Ok(())
    }

    /// Record a message's delivery to an SMS provider together with the provider's ids of its parts (the
    /// receipts name them), in one transaction: after a crash either both are recorded or neither (and the
    /// message is sent again when its claim lapses). The secret a verification code carried is erased.
    pub async fn outbox_sms_sent(
        &self,
        id: i64,
        provider_ids: &[String],
    ) -> Result<(), StoreError> {
        self.outbox_sms_sent_many(&[(id, provider_ids.to_vec())])
            .await
    }

    /// [`Store::outbox_sms_sent`] for many messages in **one** transaction (the SMS worker's window): each
    /// message with its parts' provider ids; all recorded or none. A message already recorded as sent
    /// stays as it was.
    pub async fn outbox_sms_sent_many(
        &self,
        sent: &[(i64, Vec<String>)],
    ) -> Result<(), StoreError> {
        if sent.is_empty() {
            return Ok(());
        }
        let now = self.clock.now();
        let sql = match self.dialect() {
            Dialect::Postgres => SENT_PG,
            Dialect::Sqlite => SENT_SQLITE,
        };
        dispatch!(self, write, pool, ops => {
            let mut tx = ops::begin(pool).await?;
            for (id, provider_ids) in sent {
                let r = sqlx::query(sql).bind(now).bind(id).execute(&mut *tx).await?;
                if r.rows_affected() != 1 {
                    continue;
                }
                for (n, pid) in provider_ids.iter().enumerate() {
                    sqlx::query(
                        "INSERT INTO sms_parts (outbox_id, part, provider_id) VALUES ($1, $2, $3) \
                         ON CONFLICT (outbox_id, part) DO UPDATE SET provider_id = excluded.provider_id, \
                         status = NULL, error = NULL, reported_at = NULL",
                    )
                    .bind(id)
                    .bind(i32::try_from(n + 1).unwrap_or(i32::MAX))
                    .bind(pid)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Record a permanent failure that ends the attempts (`given_up_at`): the provider refused this message
    /// to this number for good, or the number's daily cap is reached. The row stays, with the reason.
    pub async fn outbox_gave_up(&self, id: i64, error: &str) -> Result<(), StoreError> {
        let now = self.clock.now();
        let error: String = error.chars().take(500).collect();
        dispatch!(self, write, pool, ops => {
            sqlx::query(
                "UPDATE outbox SET attempts = attempts + 1, last_error = $1, failure = 'permanent', \
                 given_up_at = $2 WHERE id = $3 AND sent_at IS NULL AND given_up_at IS NULL",
            )
            .bind(error)
            .bind(now)
            .bind(id)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Messages of a channel delivered (handed over) to `recipient` since `since`, and the earliest of them
    /// (the per-recipient hourly cap counts them, and waits for the earliest to leave the hour).
    pub async fn outbox_sent_to_since(
        &self,
        channel: &str,
        recipient: &str,
        since: DateTime<Utc>,
    ) -> Result<(i64, Option<DateTime<Utc>>), StoreError> {
        dispatch!(self, read, pool, ops => {
            let row: (i64, Option<DateTime<Utc>>) = sqlx::query_as(
                "SELECT COUNT(*), MIN(sent_at) FROM outbox WHERE channel = $1 AND recipient = $2 AND sent_at >= $3",
            )
            .bind(channel)
            .bind(recipient)
            .bind(since)
            .fetch_one(pool)
            .await?;
            Ok(row)
        })
    }

    /// Put a claimed message back to wait until `until` without counting an attempt or a failure (a rate
    /// limit or cap held it back; its status stays as it was). A message sent meanwhile stays sent.
    pub async fn outbox_defer(&self, id: i64, until: DateTime<Utc>) -> Result<(), StoreError> {
        dispatch!(self, write, pool, ops => {
            sqlx::query(
                "UPDATE outbox SET next_attempt_at = $1 WHERE id = $2 AND sent_at IS NULL AND given_up_at IS NULL",
            )
            .bind(until)
            .bind(id)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// SMS handed to a provider for `recipient` since `since` (the per-number daily cap counts them).
    pub async fn sms_sent_since(
        &self,
        recipient: &str,
        since: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        dispatch!(self, read, pool, ops => {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM outbox WHERE channel = 'sms' AND recipient = $1 AND sent_at >= $2",
            )
            .bind(recipient)
            .bind(since)
            .fetch_one(pool)
            .await?;
            Ok(n)
        })
    }

    /// A delivery receipt for the part the provider calls `provider_id`; `status` is the receipt's word
    /// (`delivered`, `undeliverable`, `expired`, `rejected`, `deleted`; `enroute`, `accepted`, `unknown` are
    /// not final). A failed part fails the message for good (`permanent-failure`); the message is delivered
    /// when every part is. `None` when no part has that id (yet: a receipt can overtake the record of the
    /// send).
    pub async fn sms_receipt(
        &self,
        provider_id: &str,
        status: &str,
        error: Option<&str>,
    ) -> Result<Option<SmsReceipt>, StoreError> {
        let now = self.clock.now();
        let status: String = status
            .chars()
            .take(32)
            .collect::<String>()
            .to_ascii_lowercase();
        let error: Option<String> = error.map(|e| e.chars().take(100).collect());
        let effect = ReceiptEffect::of(&status);
        dispatch!(self, write, pool, ops => {
            let mut tx = ops::begin(pool).await?;
            // The latest message with that id: SMSCs reuse ids after a while.
            let found: Option<(i64,)> = sqlx::query_as(
                "SELECT outbox_id FROM sms_parts WHERE provider_id = $1 ORDER BY outbox_id DESC LIMIT 1",
            )
            .bind(provider_id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((outbox_id,)) = found else {
                return Ok(None);
            };
            sqlx::query(
                "UPDATE sms_parts SET status = $1, error = $2, reported_at = $3 \
                 WHERE outbox_id = $4 AND provider_id = $5",
            )
            .bind(&status)
            .bind(&error)
            .bind(now)
            .bind(outbox_id)
            .bind(provider_id)
            .execute(&mut *tx)
            .await?;
            match effect {
                ReceiptEffect::Failed => {
                    let why = format!(
                        "delivery receipt: {status}{}",
                        error.as_deref().map(|e| format!(" (error {e})")).unwrap_or_default()
                    );
                    sqlx::query(
                        "UPDATE outbox SET failure = 'permanent', last_error = $1, given_up_at = $2 \
                         WHERE id = $3 AND given_up_at IS NULL AND delivered_at IS NULL",
                    )
                    .bind(why)
                    .bind(now)
                    .bind(outbox_id)
                    .execute(&mut *tx)
                    .await?;
                }
                ReceiptEffect::Delivered => {
                    sqlx::query(
                        "UPDATE outbox SET delivered_at = $1 WHERE id = $2 AND delivered_at IS NULL \
                         AND given_up_at IS NULL AND NOT EXISTS (SELECT 1 FROM sms_parts p \
                         WHERE p.outbox_id = $2 AND (p.status IS NULL OR p.status <> 'delivered'))",
                    )
                    .bind(now)
                    .bind(outbox_id)
                    .execute(&mut *tx)
                    .await?;
                }
                ReceiptEffect::Pending => {}
            }
            tx.commit().await?;
            Ok(Some(SmsReceipt { outbox_id, effect }))
        })
    }

    /// The backlog per channel: (channel, due now, undelivered), for the `/metrics` gauges. Messages given
    /// up are not part of it. `email` and `sms` are always listed.
    pub async fn outbox_backlog(&self) -> Result<Vec<(String, i64, i64)>, StoreError> {
        let now = self.clock.now();
        let mut rows: Vec<(String, i64, i64)> = dispatch!(self, read, pool, ops => {
            sqlx::query_as(
                "SELECT channel, SUM(CASE WHEN next_attempt_at <= $1 THEN 1 ELSE 0 END), COUNT(*) \
                 FROM outbox WHERE sent_at IS NULL AND given_up_at IS NULL GROUP BY channel",
            )
            .bind(now)
            .fetch_all(pool)
            .await?
        });
        for channel in ["email", "sms"] {
            if !rows.iter().any(|r| r.0 == channel) {
                rows.push((channel.to_string(), 0, 0));
            }
        }
        rows.sort();
        Ok(rows)
    }

    /// Record a failed attempt and when to try again (a temporary failure).
    pub async fn outbox_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.outbox_failed_as(id, error, retry_at, Failure::Temporary)
            .await
    }

    /// Record a failed attempt, what kind of failure it was (reported by the notification status API),
    /// and when to try again. Every kind is retried: a message is never dropped.
    pub async fn outbox_failed_as(
        &self,
        id: i64,
        error: &str,
        retry_at: DateTime<Utc>,
        failure: Failure,
    ) -> Result<(), StoreError> {
        let error: String = error.chars().take(500).collect();
        dispatch!(self, write, pool, ops => {
            sqlx::query(
                "UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2, failure = $3 \
                 WHERE id = $4 AND sent_at IS NULL",
            )
            .bind(error)
            .bind(retry_at)
            .bind(failure.as_str())
            .bind(id)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Put a message in the outbox, due now, unless one with the same dedupe key is there already (then
    /// `false`). Enqueuing twice, from one server or two, leaves one message.
    pub async fn outbox_enqueue(
        &self,
        channel: &str,
        recipient: &str,
        template: &str,
        lang: &str,
        params: &serde_json::Value,
        dedupe_key: &str,
    ) -> Result<bool, StoreError> {
        let now = self.clock.now();
        dispatch!(self, write, pool, ops => {
            let r = sqlx::query(
                "INSERT INTO outbox (channel, recipient, template, lang, params, dedupe_key, created_at, \
                 next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (dedupe_key) DO NOTHING",
            )
            .bind(channel)
            .bind(recipient)
            .bind(template)
            .bind(lang)
            .bind(params.to_string())
            .bind(dedupe_key)
            .bind(now)
            .execute(pool)
            .await?;
            Ok(r.rows_affected() == 1)
        })
    }

    /// Rejections received at or before `cutoff` that call for a reminder (A1.54), oldest first, each with
    /// the e-mail address of its body's responsible person: not corrected by a later accepted submission of
    /// the same body and kind (and person, when the rejection names one), and not reminded of yet. The
    /// payloads are not loaded.
    pub async fn outbox_reminders_due(
        &self,
        cutoff: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<(Rejection, String)>, StoreError> {
        dispatch!(self, read, pool, ops => {
            let rows = sqlx::query(REMINDERS_DUE)
                .bind(cutoff)
                .bind(limit.clamp(1, 10_000))
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|r| {
                    let rejection = crate::submit::rejection_from_row(r, false)?;
                    Ok((rejection, r.try_get::<String, _>("contact_email")?))
                })
                .collect()
        })
    }
}
