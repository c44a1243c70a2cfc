//! The submission pipeline's transaction (A1.35–A1.55): idempotency, suspension, the decision against the
//! persons' current state, and the write of entries or of a rejection — all in one transaction, so a crash
//! leaves either the whole outcome or nothing, and a rejection is never lost.
//!
//! Every submission gets a row in `submissions` (its outcome, replayed for a retry with the same
//! idempotency key); every rejection gets a row in the append-only rejection log with the payload exactly
//! as received (A1.51), and an e-mail to the body's responsible person in the outbox (A1.53), written in the
//! same transaction.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use popreg_domain::access::Caller;
use popreg_domain::submission::{Context, Decision, Submission, Violation, decide};
use popreg_domain::{Code, DomainError, NewEntry, PersonState, Provenance, Psn};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::{Dialect, Inner, Store, StoreError, corrupt, pg_ops, sqlite_ops};

/// What arrived: the kind named by the route, who sent it, and the bytes exactly as received.
#[derive(Clone, Debug)]
pub struct Receipt {
    pub kind: String,
    pub caller: Caller,
    pub media_type: String,
    pub payload: Vec<u8>,
}

impl Receipt {
    /// The key that makes a retry idempotent: `Idempotency-Key`, or else the X-Road message id.
    pub fn idempotency_key(&self) -> Option<&str> {
        self.caller
            .external
            .idempotency_key
            .as_deref()
            .or(self.caller.external.xroad_id.as_deref())
    }

    fn sha256(&self) -> String {
        Sha256::digest(&self.payload)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// The answer to a submission, as stored and as replayed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Accepted {
        submission_id: String,
        entry_ids: Vec<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        psn: Option<Psn>,
        late: bool,
    },
    Held {
        submission_id: String,
        code: Code,
        detail: String,
    },
    Rejected {
        submission_id: String,
        rejection_id: i64,
        errors: Vec<Violation>,
    },
}

impl Outcome {
    pub fn submission_id(&self) -> &str {
        match self {
            Outcome::Accepted { submission_id, .. }
            | Outcome::Held { submission_id, .. }
            | Outcome::Rejected { submission_id, .. } => submission_id,
        }
    }

    fn status(&self) -> &'static str {
        match self {
            Outcome::Accepted { .. } => "accepted",
            Outcome::Held { .. } => "held",
            Outcome::Rejected { .. } => "rejected",
        }
    }
}

/// One row of the rejection log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    pub id: i64,
    pub submission_id: String,
    pub body_id: String,
    pub kind: String,
    pub user_uid: String,
    pub channel: String,
    pub received_at: DateTime<Utc>,
    pub code: String,
    pub errors: Vec<Violation>,
    pub media_type: String,
    /// The payload exactly as received; kept even when it is not valid UTF-8.
    #[serde(skip)]
    pub payload: Vec<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_psn: Option<String>,
}

/// A suspension of a body's right to submit (A1.55).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suspension {
    pub id: i64,
    pub body_id: String,
    pub reason: String,
    pub since: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
    pub imposed_by: String,
}

/// Today's date in Armenia (UTC+4, no daylight saving time since 2012).
pub fn armenian_date(t: DateTime<Utc>) -> NaiveDate {
    (t + Duration::hours(4)).date_naive()
}

/// A random submission id: 128 bits, hex.
fn new_submission_id() -> Result<String, StoreError> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| StoreError::Database(format!("no randomness: {e}")))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// Whether an error is a unique-key violation (a concurrent retry with the same idempotency key).
fn is_unique_violation(e: &StoreError) -> bool {
    matches!(e, StoreError::Database(m) if m.contains("UNIQUE") || m.contains("23505") || m.contains("duplicate key"))
}

impl Store {
    /// Decide a parsed submission and record the outcome. The returned flag is `true` when this is a retry
    /// answered from the first attempt's record.
    pub async fn submit(
        &self,
        receipt: &Receipt,
        sub: Submission,
    ) -> Result<(Outcome, bool), StoreError> {
        self.process(receipt, Ok(sub)).await
    }

    /// Record a submission refused before it could be decided (malformed, not competent, …).
    pub async fn reject(
        &self,
        receipt: &Receipt,
        errors: Vec<Violation>,
    ) -> Result<(Outcome, bool), StoreError> {
        self.process(receipt, Err(errors)).await
    }

    async fn process(
        &self,
        receipt: &Receipt,
        sub: Result<Submission, Vec<Violation>>,
    ) -> Result<(Outcome, bool), StoreError> {
        let now = self.clock.now();
        let first = match &self.inner {
            Inner::Sqlite { write, .. } => {
                sqlite_submit::process(write, now, receipt, sub.clone()).await
            }
            Inner::Postgres(pool) => pg_submit::process(pool, now, receipt, sub.clone()).await,
        };
        match first {
            // Two attempts with the same key raced: the loser answers what the winner recorded.
            Err(e) if receipt.idempotency_key().is_some() && is_unique_violation(&e) => {
                match &self.inner {
                    Inner::Sqlite { write, .. } => {
                        sqlite_submit::process(write, now, receipt, sub).await
                    }
                    Inner::Postgres(pool) => pg_submit::process(pool, now, receipt, sub).await,
                }
            }
            other => other,
        }
    }

    /// The outcome of one of a body's submissions.
    pub async fn submission_outcome(
        &self,
        body_id: &str,
        id: &str,
    ) -> Result<Option<Outcome>, StoreError> {
        dispatch!(self, read, pool, ops => {
            let row = sqlx::query("SELECT outcome FROM submissions WHERE body_id = $1 AND id = $2")
                .bind(body_id)
                .bind(id)
                .fetch_optional(pool)
                .await?;
            row.map(|r| {
                let s: String = r.try_get(0)?;
                serde_json::from_str(&s).map_err(|e| corrupt("submission outcome", e))
            })
            .transpose()
        })
    }

    /// The rejection log after `after_id`, oldest first: of one body, or of all when `body_id` is `None`
    /// (the manager's view). This is the feed a provider's system follows (A1.52).
    pub async fn rejections(
        &self,
        body_id: Option<&str>,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<Rejection>, StoreError> {
        dispatch!(self, read, pool, ops => {
            let rows = sqlx::query(
                "SELECT id, submission_id, body_id, kind, user_uid, channel, received_at, code, errors, \
                 media_type, payload, subject_psn FROM rejections \
                 WHERE id > $1 AND ($2 IS NULL OR body_id = $2) ORDER BY id LIMIT $3",
            )
            .bind(after_id)
            .bind(body_id)
            .bind(limit.clamp(1, 1000))
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    let errors: String = r.try_get("errors")?;
                    Ok(Rejection {
                        id: r.try_get("id")?,
                        submission_id: r.try_get("submission_id")?,
                        body_id: r.try_get("body_id")?,
                        kind: r.try_get("kind")?,
                        user_uid: r.try_get("user_uid")?,
                        channel: r.try_get("channel")?,
                        received_at: r.try_get("received_at")?,
                        code: r.try_get("code")?,
                        errors: serde_json::from_str(&errors).map_err(|e| corrupt("rejection errors", e))?,
                        media_type: r.try_get("media_type")?,
                        payload: r.try_get("payload")?,
                        subject_psn: r.try_get("subject_psn")?,
                    })
                })
                .collect()
        })
    }

    /// Suspend a body's right to submit (A1.55), from now until `until` (or until lifted).
    pub async fn suspend(
        &self,
        body_id: &str,
        reason: &str,
        until: Option<DateTime<Utc>>,
        imposed_by: &str,
    ) -> Result<i64, StoreError> {
        let now = self.clock.now();
        dispatch!(self, write, pool, ops => {
            let row = sqlx::query(
                "INSERT INTO suspensions (body_id, reason, since, until, imposed_by) VALUES ($1, $2, $3, $4, $5) \
                 RETURNING id",
            )
            .bind(body_id)
            .bind(reason)
            .bind(now)
            .bind(until)
            .bind(imposed_by)
            .fetch_one(pool)
            .await?;
            Ok(row.try_get::<i64, _>(0)?)
        })
    }

    /// Lift a suspension. `false` when there is no such open suspension.
    pub async fn lift_suspension(&self, id: i64, lifted_by: &str) -> Result<bool, StoreError> {
        let now = self.clock.now();
        dispatch!(self, write, pool, ops => {
            let r = sqlx::query(
                "UPDATE suspensions SET lifted_at = $1, lifted_by = $2 WHERE id = $3 AND lifted_at IS NULL",
            )
            .bind(now)
            .bind(lifted_by)
            .bind(id)
            .execute(pool)
            .await?;
            Ok(r.rows_affected() == 1)
        })
    }

    /// The suspension in force for a body now, if any.
    pub async fn active_suspension(&self, body_id: &str) -> Result<Option<Suspension>, StoreError> {
        let now = self.clock.now();
        dispatch!(self, read, pool, ops => {
            let row = sqlx::query(SUSPENSION_IN_FORCE)
                .bind(body_id)
                .bind(now)
                .fetch_optional(pool)
                .await?;
            row.map(|r| suspension_from_row(&r)).transpose()
        })
    }
}

const SUSPENSION_IN_FORCE: &str = "SELECT id, body_id, reason, since, until, imposed_by FROM suspensions \
     WHERE body_id = $1 AND lifted_at IS NULL AND since <= $2 AND (until IS NULL OR until > $2) \
     ORDER BY id DESC LIMIT 1";

fn suspension_from_row<R: Row>(r: &R) -> Result<Suspension, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> DateTime<Utc>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<DateTime<Utc>>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(Suspension {
        id: r.try_get("id")?,
        body_id: r.try_get("body_id")?,
        reason: r.try_get("reason")?,
        since: r.try_get("since")?,
        until: r.try_get("until")?,
        imposed_by: r.try_get("imposed_by")?,
    })
}

/// The pipeline's transaction, compiled once per database.
macro_rules! submit_ops {
    ($module:ident, $db:ty, $dialect:expr, $ops:ident) => {
        pub(crate) mod $module {
            use super::*;
            type DB = $db;
            type Conn = <DB as sqlx::Database>::Connection;
            const DIALECT: Dialect = $dialect;

            /// The current state of a person, locked against concurrent change on PostgreSQL (SQLite's
            /// `BEGIN IMMEDIATE` already holds the only write lock).
            async fn state(conn: &mut Conn, psn: Psn) -> Result<Option<PersonState>, StoreError> {
                let sql = if DIALECT == Dialect::Postgres {
                    "SELECT doc FROM persons WHERE psn = $1 FOR UPDATE"
                } else {
                    "SELECT doc FROM persons WHERE psn = $1"
                };
                let row = sqlx::query(sql).bind(psn.to_string()).fetch_optional(&mut *conn).await?;
                row.map(|r| {
                    let doc: String = r.try_get(0)?;
                    serde_json::from_str(&doc).map_err(|e| corrupt("person projection", e))
                })
                .transpose()
            }

            async fn fresh_psn(conn: &mut Conn) -> Result<Psn, StoreError> {
                for _ in 0..32 {
                    let psn = Psn::allocate_os()?;
                    let taken = sqlx::query("SELECT 1 FROM entries WHERE subject_psn = $1 LIMIT 1")
                        .bind(psn.to_string())
                        .fetch_optional(&mut *conn)
                        .await?
                        .is_some();
                    if !taken {
                        return Ok(psn);
                    }
                }
                Err(DomainError::new(Code::PsnExhausted, "no free PSN found in 32 draws").into())
            }

            async fn replay(
                conn: &mut Conn,
                receipt: &Receipt,
                key: &str,
            ) -> Result<Option<Outcome>, StoreError> {
                let row = sqlx::query(
                    "SELECT payload_sha256, kind, outcome FROM submissions WHERE body_id = $1 AND idempotency_key = $2",
                )
                .bind(&receipt.caller.body_id)
                .bind(key)
                .fetch_optional(&mut *conn)
                .await?;
                let Some(row) = row else { return Ok(None) };
                let (sha, kind, outcome): (String, String, String) =
                    (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
                if sha != receipt.sha256() || kind != receipt.kind {
                    return Err(DomainError::new(
                        Code::IdempotencyConflict,
                        format!("idempotency key {key} was used for a different submission"),
                    )
                    .into());
                }
                Ok(Some(serde_json::from_str(&outcome).map_err(|e| corrupt("submission outcome", e))?))
            }

            async fn suspended(conn: &mut Conn, body: &str, now: DateTime<Utc>) -> Result<Option<Suspension>, StoreError> {
                let row = sqlx::query(SUSPENSION_IN_FORCE).bind(body).bind(now).fetch_optional(&mut *conn).await?;
                row.map(|r| suspension_from_row(&r)).transpose()
            }

            #[allow(clippy::too_many_arguments)]
            async fn record(
                conn: &mut Conn,
                receipt: &Receipt,
                now: DateTime<Utc>,
                outcome: &Outcome,
                subject: Option<String>,
                late: bool,
                held: Option<String>,
            ) -> Result<(), StoreError> {
                let text = serde_json::to_string(outcome).map_err(|e| corrupt("submission outcome", e))?;
                sqlx::query(
                    "INSERT INTO submissions (id, body_id, kind, user_uid, channel, idempotency_key, payload_sha256, \
                     received_at, status, subject_psn, late, outcome, held_form) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                )
                .bind(outcome.submission_id())
                .bind(&receipt.caller.body_id)
                .bind(&receipt.kind)
                .bind(&receipt.caller.user_uid)
                .bind(receipt.caller.channel.as_str())
                .bind(receipt.idempotency_key())
                .bind(receipt.sha256())
                .bind(now)
                .bind(outcome.status())
                .bind(subject)
                .bind(late)
                .bind(text)
                .bind(held)
                .execute(&mut *conn)
                .await?;
                Ok(())
            }

            /// Write the rejection log row and the e-mail to the body's responsible person.
            async fn log_rejection(
                conn: &mut Conn,
                receipt: &Receipt,
                now: DateTime<Utc>,
                submission_id: &str,
                errors: &[Violation],
                subject: Option<String>,
            ) -> Result<i64, StoreError> {
                let code = errors.first().map(|v| v.code.as_str()).unwrap_or(Code::Malformed.as_str());
                let errors_json = serde_json::to_string(errors).map_err(|e| corrupt("rejection errors", e))?;
                let row = sqlx::query(
                    "INSERT INTO rejections (submission_id, body_id, kind, user_uid, channel, received_at, code, errors, \
                     media_type, payload, subject_psn) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
                )
                .bind(submission_id)
                .bind(&receipt.caller.body_id)
                .bind(&receipt.kind)
                .bind(&receipt.caller.user_uid)
                .bind(receipt.caller.channel.as_str())
                .bind(now)
                .bind(code)
                .bind(&errors_json)
                .bind(&receipt.media_type)
                .bind(&receipt.payload)
                .bind(subject)
                .fetch_one(&mut *conn)
                .await?;
                let id: i64 = row.try_get(0)?;
                let email = sqlx::query("SELECT contact_email FROM bodies WHERE id = $1")
                    .bind(&receipt.caller.body_id)
                    .fetch_optional(&mut *conn)
                    .await?
                    .map(|r| r.try_get::<Option<String>, _>(0))
                    .transpose()?
                    .flatten();
                if let Some(to) = email.filter(|e| !e.trim().is_empty()) {
                    let params = serde_json::json!({
                        "rejection_id": id,
                        "submission_id": submission_id,
                        "body_id": receipt.caller.body_id,
                        "kind": receipt.kind,
                        "code": code,
                        "errors": errors,
                        "received_at": now.to_rfc3339(),
                    });
                    sqlx::query(
                        "INSERT INTO outbox (channel, recipient, template, lang, params, dedupe_key, created_at, \
                         next_attempt_at) VALUES ('email', $1, 'rejection', 'hy', $2, $3, $4, $4)",
                    )
                    .bind(to)
                    .bind(params.to_string())
                    .bind(format!("rejection:{id}"))
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
                }
                Ok(id)
            }

            pub(crate) async fn process(
                pool: &sqlx::Pool<DB>,
                now: DateTime<Utc>,
                receipt: &Receipt,
                sub: Result<Submission, Vec<Violation>>,
            ) -> Result<(Outcome, bool), StoreError> {
                let mut tx = crate::$ops::begin(pool).await?;
                if let Some(key) = receipt.idempotency_key()
                    && let Some(first) = replay(&mut tx, receipt, key).await?
                {
                    return Ok((first, true));
                }
                let submission_id = new_submission_id()?;
                let subject = sub.as_ref().ok().and_then(|s| s.subject()).map(|p| p.to_string());
                let mut errors = match &sub {
                    Ok(_) => vec![],
                    Err(e) => e.clone(),
                };
                if errors.is_empty()
                    && let Some(s) = suspended(&mut tx, &receipt.caller.body_id, now).await?
                {
                    errors.push(Violation::new(
                        Code::BodySuspended,
                        "",
                        format!("suspended since {}: {}", s.since.format("%Y-%m-%d"), s.reason),
                    ));
                }
                let decision = match sub {
                    Ok(sub) if errors.is_empty() => {
                        let mut persons: HashMap<Psn, PersonState> = HashMap::new();
                        for p in sub.referenced() {
                            if let Some(s) = state(&mut tx, p).await? {
                                persons.insert(p, s);
                            }
                        }
                        for p in sub.referenced_then(&persons) {
                            if let Some(s) = state(&mut tx, p).await? {
                                persons.insert(p, s);
                            }
                        }
                        let new_psn = match sub {
                            Submission::Birth(_) | Submission::Registration(_) => Some(fresh_psn(&mut tx).await?),
                            _ => None,
                        };
                        let ctx = Context { today: armenian_date(now), persons: &persons, new_psn };
                        Some((decide(&sub, &ctx), sub))
                    }
                    _ => None,
                };
                let outcome = match decision {
                    Some((Decision::Accept { entries, created, late }, _)) => {
                        let prov = Provenance {
                            provider: receipt.caller.body_id.clone(),
                            user_uid: receipt.caller.user_uid.clone(),
                            channel: receipt.caller.channel,
                            external: receipt.caller.external.clone(),
                        };
                        let items: Vec<(Provenance, NewEntry)> =
                            entries.into_iter().map(|e| (prov.clone(), e)).collect();
                        let recorded = crate::$ops::append_tx(&mut tx, now, items).await?;
                        let outcome = Outcome::Accepted {
                            submission_id,
                            entry_ids: recorded.iter().map(|e| e.id).collect(),
                            psn: created,
                            late,
                        };
                        let subject = subject.or(created.map(|p| p.to_string()));
                        record(&mut tx, receipt, now, &outcome, subject, late, None).await?;
                        outcome
                    }
                    Some((Decision::Hold(v), _)) => {
                        let outcome = Outcome::Held { submission_id, code: v.code, detail: v.detail };
                        let form = String::from_utf8_lossy(&receipt.payload).into_owned();
                        record(&mut tx, receipt, now, &outcome, subject, false, Some(form)).await?;
                        outcome
                    }
                    Some((Decision::Reject(v), _)) => {
                        errors = v;
                        reject_tx(&mut tx, receipt, now, submission_id, &errors, subject).await?
                    }
                    None => reject_tx(&mut tx, receipt, now, submission_id, &errors, subject).await?,
                };
                tx.commit().await?;
                Ok((outcome, false))
            }

            async fn reject_tx(
                conn: &mut Conn,
                receipt: &Receipt,
                now: DateTime<Utc>,
                submission_id: String,
                errors: &[Violation],
                subject: Option<String>,
            ) -> Result<Outcome, StoreError> {
                let rejection_id = log_rejection(conn, receipt, now, &submission_id, errors, subject.clone()).await?;
                let outcome = Outcome::Rejected { submission_id, rejection_id, errors: errors.to_vec() };
                record(conn, receipt, now, &outcome, subject, false, None).await?;
                Ok(outcome)
            }
        }
    };
}

submit_ops!(sqlite_submit, sqlx::Sqlite, Dialect::Sqlite, sqlite_ops);
submit_ops!(pg_submit, sqlx::Postgres, Dialect::Postgres, pg_ops);
