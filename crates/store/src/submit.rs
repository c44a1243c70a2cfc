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
use popreg_domain::{Code, DomainError, Entry, NewEntry, PersonState, Provenance, Psn};
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
        crate::access::hex(&Sha256::digest(&self.payload))
    }

    /// Who sent it, for the rejection log.
    fn sender(&self) -> Sender<'_> {
        Sender {
            body_id: &self.caller.body_id,
            user_uid: &self.caller.user_uid,
            channel: self.caller.channel,
            kind: &self.kind,
            media_type: &self.media_type,
            payload: &self.payload,
        }
    }
}

/// What the rejection log records about who sent the refused data (A1.51). A submission's receipt gives it;
/// a held submission dismissed, or an entry rejected by the manager, give it from what is stored.
struct Sender<'a> {
    body_id: &'a str,
    user_uid: &'a str,
    channel: popreg_domain::Channel,
    kind: &'a str,
    media_type: &'a str,
    payload: &'a [u8],
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

/// A submission held for review.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HeldSubmission {
    pub id: String,
    pub body_id: String,
    pub kind: String,
    pub user_uid: String,
    pub received_at: DateTime<Utc>,
    pub outcome: Outcome,
    /// The submission in its JSON wire form.
    pub form: serde_json::Value,
}

/// Per-body counts of the manager's view.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BodyCounts {
    pub submissions: i64,
    pub accepted: i64,
    pub rejected: i64,
    pub held: i64,
    pub late: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DayCount {
    pub day: String,
    pub submissions: i64,
    pub rejected: i64,
}

/// The manager's view of submissions over a period (A1.50, A1.55).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SubmissionStats {
    pub bodies: std::collections::BTreeMap<String, BodyCounts>,
    /// Rejections by reason code, most frequent first.
    pub codes: Vec<(String, i64)>,
    pub days: Vec<DayCount>,
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

/// Automatic restrictions (A1.55): a body whose submissions are rejected, or late (A1.41), too often within
/// `window` loses its right to submit for `suspend_for`. The suspension is an ordinary one — visible to the
/// provider (`GET /api/v1/suspension`, `PSR-SUB-0002` on every submission), in the manager's view, audited —
/// imposed by [`AUTOMATIC_RULE`], written in the same transaction as the submission that crossed the
/// threshold, and in force from the next submission on. The manager lifts it early like any other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RestrictionRules {
    /// Rejected submissions within `window` that suspend the body; 0: never.
    pub rejections: u32,
    /// Late births and deaths within `window` that suspend the body; 0: never.
    pub late: u32,
    pub window: Duration,
    pub suspend_for: Duration,
}

impl Default for RestrictionRules {
    /// Off: no automatic suspension until the operator sets a threshold.
    fn default() -> Self {
        RestrictionRules {
            rejections: 0,
            late: 0,
            window: Duration::hours(24),
            suspend_for: Duration::days(3),
        }
    }
}

/// Who imposes the automatic suspensions of [`RestrictionRules`] (`suspensions.imposed_by`).
pub const AUTOMATIC_RULE: &str = "register:automatic-rule";

type Reply = tokio::sync::oneshot::Sender<Result<(Outcome, bool), StoreError>>;
type Job = (Receipt, Result<Submission, Vec<Violation>>, Reply);
/// The sending end of SQLite's submission queue.
pub(crate) type Queue = tokio::sync::mpsc::UnboundedSender<Job>;

// SQLite's batch on the writer connection's handle (rusqlite).
mod sqlite_writer;

/// Most submissions committed together.
const MAX_BATCH: usize = 128;

/// SQLite's submission writer (group commit). SQLite has one writer, so submissions were serialised anyway;
/// committing each alone costs an fsync each, which capped the rate at the disk's synchronous-write rate
/// (~200 births/s in `benches/submit.sh`). The writer takes every submission waiting, runs each in its own
/// savepoint of one transaction, commits once, and only then answers each. A lone submission is committed at
/// once: nothing waits for a batch to fill.
async fn sqlite_batcher(
    store: Store,
    pool: sqlx::SqlitePool,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<Job>,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        let mut jobs = Vec::with_capacity(batch.len());
        let mut replies = Vec::with_capacity(batch.len());
        for (r, s, reply) in batch {
            jobs.push((r, s));
            replies.push(reply);
        }
        let rules = store.restriction_rules();
        match sqlite_writer::process_batch(&pool, store.clock.now(), &rules, jobs).await {
            Ok(results) => {
                for (reply, r) in replies.into_iter().zip(results) {
                    let _ = reply.send(r);
                }
            }
            Err(e) => {
                // Nothing of the batch was committed: every submission in it is refused as a whole.
                tracing::error!(error = %e, "submission batch not committed");
                let msg = e.to_string();
                for reply in replies {
                    let _ = reply.send(Err(StoreError::Unavailable(msg.clone())));
                }
            }
        }
    }
}

/// How an act's actor is written in the audit trail: body and user.
fn actor_of(c: &Caller) -> String {
    format!("{}/{}", c.body_id, c.user_uid)
}

/// Today's date in Armenia (UTC+4, no daylight saving time since 2012).
pub fn armenian_date(t: DateTime<Utc>) -> NaiveDate {
    (t + Duration::hours(4)).date_naive()
}

/// A random submission id: 128 bits, hex.
fn new_submission_id() -> Result<String, StoreError> {
    crate::access::random_hex(16)
}

/// How often a PostgreSQL submission is tried when a concurrent transaction breaks it off (deadlock,
/// serialization failure) before its caller gets `PSR-SYS-0002` "storage unavailable, try again" (503).
const PG_ATTEMPTS: u32 = 5;

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
        if let Inner::Sqlite { write, .. } = &self.inner {
            let queue = self.submissions.get_or_init(|| {
                let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
                tokio::spawn(sqlite_batcher(self.clone(), write.clone(), rx));
                tx
            });
            let (reply, answer) = tokio::sync::oneshot::channel();
            queue
                .send((receipt.clone(), sub, reply))
                .map_err(|_| StoreError::Unavailable("the submission writer has stopped".into()))?;
            return answer.await.map_err(|_| {
                StoreError::Unavailable("the submission writer has stopped".into())
            })?;
        }
        // PostgreSQL commits concurrent transactions together by itself: one submission per transaction.
        let Inner::Postgres(pool) = &self.inner else {
            return Err(StoreError::Database(
                "no submission path for this database".into(),
            ));
        };
        let once = |sub| async {
            let mut out = pg_submit::process_batch(
                pool,
                self.clock.now(),
                &self.restriction_rules(),
                vec![(receipt.clone(), sub)],
            )
            .await?;
            out.pop()
                .unwrap_or_else(|| Err(StoreError::Database("empty batch answer".into())))
        };
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            match once(sub.clone()).await {
                // Two attempts with the same key raced: the loser answers what the winner recorded.
                Err(e) if receipt.idempotency_key().is_some() && is_unique_violation(&e) => {
                    return once(sub).await;
                }
                // A deadlock or serialization failure rolled the submission's savepoint back, so nothing of
                // it was written: decide it again against what the other transaction committed.
                Err(StoreError::Contention(m)) if attempt < PG_ATTEMPTS => {
                    tracing::warn!(attempt, error = %m, "submission transaction broken off by a concurrent one; retrying");
                    let jitter = u64::from(Utc::now().timestamp_subsec_micros() % 8);
                    tokio::time::sleep(std::time::Duration::from_millis(
                        (5 << attempt.min(4)) + jitter,
                    ))
                    .await;
                }
                other => return other,
            }
        }
    }

    /// Set the automatic restrictions of A1.55 (the server does at start; off until then).
    pub fn set_restriction_rules(&self, rules: RestrictionRules) {
        *self.restrictions.write().unwrap_or_else(|e| e.into_inner()) = rules;
    }

    /// The automatic restrictions in force.
    pub fn restriction_rules(&self) -> RestrictionRules {
        *self.restrictions.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Release a held submission after review (it is not a duplicate): it is decided again and, if still
    /// valid, accepted.
    pub async fn release_held(&self, id: &str, manager: &Caller) -> Result<Outcome, StoreError> {
        let now = self.clock.now();
        match &self.inner {
            Inner::Sqlite { write, .. } => {
                sqlite_submit::review(write, now, id, manager, true).await
            }
            Inner::Postgres(pool) => pg_submit::review(pool, now, id, manager, true).await,
        }
    }

    /// Dismiss a held submission as a duplicate: it becomes a rejection.
    pub async fn dismiss_held(&self, id: &str, manager: &Caller) -> Result<Outcome, StoreError> {
        let now = self.clock.now();
        match &self.inner {
            Inner::Sqlite { write, .. } => {
                sqlite_submit::review(write, now, id, manager, false).await
            }
            Inner::Postgres(pool) => pg_submit::review(pool, now, id, manager, false).await,
        }
    }

    /// Reject an accepted entry by hand (A1.50.2). Returns the rejection log id.
    pub async fn retract_entry(
        &self,
        entry_id: i64,
        reason: Code,
        note: &str,
        manager: &Caller,
    ) -> Result<i64, StoreError> {
        let now = self.clock.now();
        match &self.inner {
            Inner::Sqlite { write, .. } => {
                sqlite_submit::retract(write, now, entry_id, reason, note, manager).await
            }
            Inner::Postgres(pool) => {
                pg_submit::retract(pool, now, entry_id, reason, note, manager).await
            }
        }
    }

    /// Submissions held for the manager's review, oldest first.
    pub async fn held_submissions(&self, limit: i64) -> Result<Vec<HeldSubmission>, StoreError> {
        dispatch!(self, read, pool, ops => {
            let rows = sqlx::query(
                "SELECT id, body_id, kind, user_uid, received_at, outcome, held_form FROM submissions \
                 WHERE status = 'held' ORDER BY received_at LIMIT $1",
            )
            .bind(limit.clamp(1, 1000))
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    let outcome: String = r.try_get("outcome")?;
                    let form: Option<String> = r.try_get("held_form")?;
                    let form: serde_json::Value = serde_json::from_str(form.as_deref().unwrap_or("null"))
                        .map_err(|e| corrupt("held submission", e))?;
                    Ok(HeldSubmission {
                        id: r.try_get("id")?,
                        body_id: r.try_get("body_id")?,
                        kind: r.try_get("kind")?,
                        user_uid: r.try_get("user_uid")?,
                        received_at: r.try_get("received_at")?,
                        outcome: serde_json::from_str(&outcome).map_err(|e| corrupt("submission outcome", e))?,
                        form: form["form"].clone(),
                    })
                })
                .collect()
        })
    }

    /// Counts for the manager's view over `[from, to)`: per body and status (with lateness), per reason
    /// code, and per day.
    pub async fn submission_stats(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<SubmissionStats, StoreError> {
        let day = match self.dialect() {
            Dialect::Sqlite => "substr(received_at, 1, 10)",
            Dialect::Postgres => "to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
        };
        let by_body = "SELECT body_id, status, late, COUNT(*) FROM submissions \
             WHERE received_at >= $1 AND received_at < $2 GROUP BY body_id, status, late ORDER BY body_id";
        let by_code = "SELECT code, COUNT(*) FROM rejections WHERE received_at >= $1 AND received_at < $2 \
             GROUP BY code ORDER BY COUNT(*) DESC, code";
        let by_day = format!(
            "SELECT {day} AS day, SUM(CASE WHEN status IN ('rejected', 'dismissed') THEN 1 ELSE 0 END), COUNT(*) \
             FROM submissions WHERE received_at >= $1 AND received_at < $2 GROUP BY day ORDER BY day"
        );
        let mut stats = SubmissionStats::default();
        dispatch!(self, read, pool, ops => {
            for r in sqlx::query(by_body).bind(from).bind(to).fetch_all(pool).await? {
                let body: String = r.try_get(0)?;
                let status: String = r.try_get(1)?;
                let late: bool = r.try_get(2)?;
                let n: i64 = r.try_get(3)?;
                let e = stats.bodies.entry(body).or_default();
                e.submissions += n;
                match status.as_str() {
                    "accepted" | "released" => e.accepted += n,
                    "held" => e.held += n,
                    _ => e.rejected += n,
                }
                if late {
                    e.late += n;
                }
            }
            for r in sqlx::query(by_code).bind(from).bind(to).fetch_all(pool).await? {
                stats.codes.push((r.try_get(0)?, r.try_get(1)?));
            }
            for r in sqlx::query(sqlx::AssertSqlSafe(by_day)).bind(from).bind(to).fetch_all(pool).await? {
                let rejected: i64 = r.try_get::<Option<i64>, _>(1)?.unwrap_or(0);
                stats.days.push(DayCount { day: r.try_get(0)?, rejected, submissions: r.try_get(2)? });
            }
        });
        Ok(stats)
    }

    /// Suspensions in force now, or lifted/ended since `since`.
    pub async fn suspensions(&self) -> Result<Vec<Suspension>, StoreError> {
        let now = self.clock.now();
        dispatch!(self, read, pool, ops => {
            let rows = sqlx::query(
                "SELECT id, body_id, reason, since, until, imposed_by FROM suspensions \
                 WHERE lifted_at IS NULL AND (until IS NULL OR until > $1) ORDER BY id",
            )
            .bind(now)
            .fetch_all(pool)
            .await?;
            rows.iter().map(suspension_from_row).collect()
        })
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
            rows.iter().map(|r| rejection_from_row(r, true)).collect()
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
            let mut tx = ops::begin(pool).await?;
            let row = sqlx::query(
                "INSERT INTO suspensions (body_id, reason, since, until, imposed_by) VALUES ($1, $2, $3, $4, $5) \
                 RETURNING id",
            )
            .bind(body_id)
            .bind(reason)
            .bind(now)
            .bind(until)
            .bind(imposed_by)
            .fetch_one(&mut *tx)
            .await?;
            let id = row.try_get::<i64, _>(0)?;
            let act = crate::audit::Leaf::act(
                "body.suspend",
                imposed_by,
                body_id,
                serde_json::json!({ "suspension": id, "reason": reason, "until": until }),
            );
            ops::audit::append(&mut tx, now, &[act]).await?;
            tx.commit().await?;
            Ok(id)
        })
    }

    /// Lift a suspension. `false` when there is no such open suspension.
    pub async fn lift_suspension(&self, id: i64, lifted_by: &str) -> Result<bool, StoreError> {
        let now = self.clock.now();
        dispatch!(self, write, pool, ops => {
            let mut tx = ops::begin(pool).await?;
            let r = sqlx::query(
                "UPDATE suspensions SET lifted_at = $1, lifted_by = $2 WHERE id = $3 AND lifted_at IS NULL",
            )
            .bind(now)
            .bind(lifted_by)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if r.rows_affected() != 1 {
                return Ok(false);
            }
            let act = crate::audit::Leaf::act("body.suspension_lift", lifted_by, &id.to_string(), serde_json::json!({}));
            ops::audit::append(&mut tx, now, &[act]).await?;
            tx.commit().await?;
            Ok(true)
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

/// A row of the rejection log; without the payload when the query does not select it.
pub(crate) fn rejection_from_row<R: Row>(r: &R, with_payload: bool) -> Result<Rejection, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Vec<u8>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> DateTime<Utc>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
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
        payload: if with_payload {
            r.try_get("payload")?
        } else {
            vec![]
        },
        subject_psn: r.try_get("subject_psn")?,
    })
}

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

/// The statements both submission writers run (the sqlx one of [`sqlite_submit`]/[`pg_submit`] and SQLite's
/// [`crate::submit_sqlite`]), so that both write the same rows.
const SELECT_REPLAY: &str = "SELECT payload_sha256, kind, outcome FROM submissions WHERE body_id = $1 AND idempotency_key = $2";
const INSERT_SUBMISSION: &str = "INSERT INTO submissions (id, body_id, kind, user_uid, channel, idempotency_key, \
     payload_sha256, received_at, status, subject_psn, late, outcome, held_form) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
const INSERT_REJECTION: &str = "INSERT INTO rejections (submission_id, body_id, kind, user_uid, channel, received_at, \
     code, errors, media_type, payload, subject_psn, entry_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
     RETURNING id";
/// A1.52: the event for the body's webhook, if it registered one. (Parameters are numbered in the order
/// they first appear: rusqlite binds them by position.)
const INSERT_WEBHOOK_EVENT: &str = "INSERT INTO webhook_outbox (body_id, event, payload, created_at, next_attempt_at) \
     SELECT body_id, 'rejection', $1, $2, $2 FROM webhooks WHERE body_id = $3";
const SELECT_CONTACT: &str = "SELECT contact_email FROM bodies WHERE id = $1";
const INSERT_REJECTION_EMAIL: &str = "INSERT INTO outbox (channel, recipient, template, lang, params, dedupe_key, \
     created_at, next_attempt_at) VALUES ('email', $1, 'rejection', 'hy', $2, $3, $4, $4)";

/// The refusal of a submission from a suspended body.
fn suspension_violation(s: &Suspension) -> Violation {
    Violation::new(
        Code::BodySuspended,
        "",
        format!(
            "suspended since {}: {}",
            s.since.format("%Y-%m-%d"),
            s.reason
        ),
    )
}

/// An idempotency key used again: the first outcome if the submission is the same, else a conflict.
fn replayed(
    receipt: &Receipt,
    key: &str,
    (sha, kind, outcome): (String, String, String),
) -> Result<Outcome, StoreError> {
    if sha != receipt.sha256() || kind != receipt.kind {
        return Err(DomainError::new(
            Code::IdempotencyConflict,
            format!("idempotency key {key} was used for a different submission"),
        )
        .into());
    }
    serde_json::from_str(&outcome).map_err(|e| corrupt("submission outcome", e))
}

/// The entries of an accepted submission, each with the submitter's provenance.
fn with_provenance(receipt: &Receipt, entries: Vec<NewEntry>) -> Vec<(Provenance, NewEntry)> {
    let prov = Provenance {
        provider: receipt.caller.body_id.clone(),
        user_uid: receipt.caller.user_uid.clone(),
        channel: receipt.caller.channel,
        external: receipt.caller.external.clone(),
    };
    entries.into_iter().map(|e| (prov.clone(), e)).collect()
}

/// What a held submission keeps for the manager's review.
fn held_form(sub: &Submission) -> String {
    serde_json::json!({"kind": sub.kind(), "form": sub.to_value()}).to_string()
}

/// The rejection as the e-mail and the webhook event tell it.
fn rejection_params(
    id: i64,
    submission_id: &str,
    from: &Sender<'_>,
    code: &str,
    errors: &[Violation],
    now: DateTime<Utc>,
) -> serde_json::Value {
    serde_json::json!({
        "rejection_id": id,
        "submission_id": submission_id,
        "body_id": from.body_id,
        "kind": from.kind,
        "code": code,
        "errors": errors,
        "received_at": now.to_rfc3339(),
    })
}

/// The first violation's code: the rejection's reason.
fn rejection_code(errors: &[Violation]) -> &'static str {
    errors
        .first()
        .map(|v| v.code.as_str())
        .unwrap_or(Code::Malformed.as_str())
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

            /// The current states of several persons in one statement (a birth: the mother's children, for
            /// the duplicate check), added to `into`; locked like [`state`].
            /// The persons' current states (those that exist; with `born_on`, only those born that day).
            async fn states(
                conn: &mut Conn,
                psns: &[Psn],
                born_on: Option<NaiveDate>,
                into: &mut HashMap<Psn, PersonState>,
            ) -> Result<(), StoreError> {
                if psns.len() <= 1 && born_on.is_none() {
                    for p in psns {
                        if let Some(s) = state(conn, *p).await? {
                            into.insert(*p, s);
                        }
                    }
                    return Ok(());
                }
                for chunk in psns.chunks(500) {
                    let mut qb = sqlx::QueryBuilder::<DB>::new("SELECT doc FROM persons WHERE psn IN (");
                    let mut sep = qb.separated(", ");
                    for p in chunk {
                        sep.push_bind(p.to_string());
                    }
                    // Locked in PSN order: every transaction takes its persons' locks in the same order, whatever
                    // the heap order of their row versions (a scan's order changes as rows are updated), so two
                    // submissions about the same persons wait for each other instead of deadlocking.
                    qb.push(")");
                    if let Some(d) = born_on {
                        qb.push(" AND birth_date = ").push_bind(d);
                    }
                    qb.push(if DIALECT == Dialect::Postgres { " ORDER BY psn FOR UPDATE" } else { "" });
                    for r in qb.build().fetch_all(&mut *conn).await? {
                        let doc: String = r.try_get(0)?;
                        let s: PersonState =
                            serde_json::from_str(&doc).map_err(|e| corrupt("person projection", e))?;
                        into.insert(s.psn, s);
                    }
                }
                Ok(())
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
                let row = sqlx::query(SELECT_REPLAY)
                    .bind(&receipt.caller.body_id)
                    .bind(key)
                    .fetch_optional(&mut *conn)
                    .await?;
                let Some(row) = row else { return Ok(None) };
                replayed(receipt, key, (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)).map(Some)
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
                sqlx::query(INSERT_SUBMISSION)
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

            /// Write the rejection log row, the e-mail to the body's responsible person and the event for the
            /// body's webhook.
            async fn log_rejection(
                conn: &mut Conn,
                from: &Sender<'_>,
                now: DateTime<Utc>,
                submission_id: &str,
                errors: &[Violation],
                subject: Option<String>,
                entry_id: Option<i64>,
            ) -> Result<i64, StoreError> {
                let code = rejection_code(errors);
                let errors_json = serde_json::to_string(errors).map_err(|e| corrupt("rejection errors", e))?;
                let row = sqlx::query(INSERT_REJECTION)
                .bind(submission_id)
                .bind(from.body_id)
                .bind(from.kind)
                .bind(from.user_uid)
                .bind(from.channel.as_str())
                .bind(now)
                .bind(code)
                .bind(&errors_json)
                .bind(from.media_type)
                .bind(from.payload)
                .bind(subject)
                .bind(entry_id)
                .fetch_one(&mut *conn)
                .await?;
                let id: i64 = row.try_get(0)?;
                let params = rejection_params(id, submission_id, from, code, errors, now);
                // A1.52: the event for the body's webhook, if it registered one, in this transaction.
                let event = serde_json::json!({"event": "rejection", "rejection": &params});
                sqlx::query(INSERT_WEBHOOK_EVENT)
                .bind(event.to_string())
                .bind(now)
                .bind(from.body_id)
                .execute(&mut *conn)
                .await?;
                let email = sqlx::query(SELECT_CONTACT)
                    .bind(from.body_id)
                    .fetch_optional(&mut *conn)
                    .await?
                    .map(|r| r.try_get::<Option<String>, _>(0))
                    .transpose()?
                    .flatten();
                if let Some(to) = email.filter(|e| !e.trim().is_empty()) {
                    sqlx::query(INSERT_REJECTION_EMAIL)
                    .bind(to)
                    .bind(params.to_string())
                    .bind(format!("rejection:{id}"))
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
                }
                Ok(id)
            }

            /// Load what the decision needs (locked) and decide.
            async fn decide_in_tx(
                conn: &mut Conn,
                sub: &Submission,
                now: DateTime<Utc>,
                duplicate_cleared: bool,
            ) -> Result<Decision, StoreError> {
                let mut persons: HashMap<Psn, PersonState> = HashMap::new();
                states(conn, &sub.referenced(), None, &mut persons).await?;
                let then = sub.referenced_then(&persons);
                states(conn, &then, sub.referenced_then_born_on(), &mut persons).await?;
                let new_psn = match sub {
                    Submission::Birth(_) | Submission::BirthAbroad(_) | Submission::Registration(_) => {
                        Some(fresh_psn(conn).await?)
                    }
                    _ => None,
                };
                let ctx = Context { today: armenian_date(now), persons: &persons, new_psn, duplicate_cleared };
                Ok(decide(sub, &ctx))
            }

            /// Several submissions in one transaction, each in its own savepoint: one that fails is rolled
            /// back alone and answers its error; the others share one commit (one fsync). The answers are
            /// given only after the commit, so nothing is acknowledged that is not durable.
            pub(crate) async fn process_batch(
                pool: &sqlx::Pool<DB>,
                now: DateTime<Utc>,
                rules: &RestrictionRules,
                jobs: Vec<(Receipt, Result<Submission, Vec<Violation>>)>,
            ) -> Result<Vec<Result<(Outcome, bool), StoreError>>, StoreError> {
                let mut tx = crate::$ops::begin(pool).await?;
                let mut out = Vec::with_capacity(jobs.len());
                // The entries of the batch's accepted submissions: one audit leaf for them all, since they
                // are written by one transaction.
                let (mut entries, mut payloads) = (Vec::new(), Vec::new());
                for (receipt, sub) in jobs {
                    let mut sp = sqlx::Connection::begin(&mut *tx).await?;
                    match process_tx(&mut sp, now, rules, &receipt, sub).await {
                        Ok((o, written)) => {
                            sp.commit().await?;
                            if let Some((e, p)) = written {
                                entries.extend(e);
                                payloads.extend(p);
                            }
                            out.push(Ok(o));
                        }
                        Err(e) => {
                            sp.rollback().await?;
                            out.push(Err(e));
                        }
                    }
                }
                if !entries.is_empty() {
                    // Last, so that PostgreSQL holds the audit head's lock only until the commit.
                    let leaf = crate::audit::Leaf::entries(&entries, &payloads);
                    crate::$ops::audit::append(&mut *tx, now, &[leaf]).await?;
                }
                tx.commit().await?;
                Ok(out)
            }

            /// One submission in the batch's transaction: its outcome, whether it is a replay, and the entries
            /// it wrote with their payloads (for the batch's audit leaf).
            async fn process_tx(
                tx: &mut Conn,
                now: DateTime<Utc>,
                rules: &RestrictionRules,
                receipt: &Receipt,
                sub: Result<Submission, Vec<Violation>>,
            ) -> Result<((Outcome, bool), Option<(Vec<Entry>, Vec<String>)>), StoreError> {
                if let Some(key) = receipt.idempotency_key()
                    && let Some(first) = replay(tx, receipt, key).await?
                {
                    return Ok(((first, true), None));
                }
                let mut written = None;
                let submission_id = new_submission_id()?;
                let subject = sub.as_ref().ok().and_then(|s| s.subject()).map(|p| p.to_string());
                let mut errors = match &sub {
                    Ok(_) => vec![],
                    Err(e) => e.clone(),
                };
                if errors.is_empty()
                    && let Some(s) = suspended(&mut *tx, &receipt.caller.body_id, now).await?
                {
                    errors.push(suspension_violation(&s));
                }
                let decision = match sub {
                    Ok(sub) if errors.is_empty() => Some((decide_in_tx(&mut *tx, &sub, now, false).await?, sub)),
                    _ => None,
                };
                let outcome = match decision {
                    Some((Decision::Accept { entries, created, late }, _)) => {
                        let items = with_provenance(receipt, entries);
                        let (recorded, payloads) = crate::$ops::append_tx_unaudited(&mut *tx, now, items).await?;
                        let outcome = Outcome::Accepted {
                            submission_id,
                            entry_ids: recorded.iter().map(|e| e.id).collect(),
                            psn: created,
                            late,
                        };
                        let subject = subject.or(created.map(|p| p.to_string()));
                        record(&mut *tx, receipt, now, &outcome, subject, late, None).await?;
                        written = Some((recorded, payloads));
                        outcome
                    }
                    Some((Decision::Hold(v), sub)) => {
                        let outcome = Outcome::Held { submission_id, code: v.code, detail: v.detail };
                        record(&mut *tx, receipt, now, &outcome, subject, false, Some(held_form(&sub))).await?;
                        outcome
                    }
                    Some((Decision::Reject(v), _)) => {
                        errors = v;
                        reject_tx(&mut *tx, receipt, now, submission_id, &errors, subject).await?
                    }
                    None => reject_tx(&mut *tx, receipt, now, submission_id, &errors, subject).await?,
                };
                restrict_if_due(&mut *tx, now, rules, &receipt.caller.body_id, &outcome).await?;
                Ok(((outcome, false), written))
            }

            /// A1.55: after a rejection or a late acceptance, suspend the body if the rules' threshold is
            /// reached within their window and no suspension is in force. Counting stops at the threshold
            /// (`LIMIT`), on an index by body and time, so it costs the same however busy the body is.
            async fn restrict_if_due(
                conn: &mut Conn,
                now: DateTime<Utc>,
                rules: &RestrictionRules,
                body: &str,
                outcome: &Outcome,
            ) -> Result<(), StoreError> {
                let (limit, sql, what) = match outcome {
                    Outcome::Rejected { errors, .. }
                        if rules.rejections > 0 && !errors.iter().any(|v| v.code == Code::BodySuspended) =>
                    (
                        rules.rejections,
                        "SELECT COUNT(*) FROM (SELECT 1 FROM rejections WHERE body_id = $1 AND received_at >= $2 \
                         LIMIT $3) AS recent",
                        "rejected submissions",
                    ),
                    Outcome::Accepted { late: true, .. } if rules.late > 0 => (
                        rules.late,
                        "SELECT COUNT(*) FROM (SELECT 1 FROM submissions WHERE body_id = $1 AND late \
                         AND received_at >= $2 LIMIT $3) AS recent",
                        "late submissions",
                    ),
                    _ => return Ok(()),
                };
                let n: i64 = sqlx::query(sql)
                    .bind(body)
                    .bind(now - rules.window)
                    .bind(i64::from(limit))
                    .fetch_one(&mut *conn)
                    .await?
                    .try_get(0)?;
                if n < i64::from(limit) || suspended(&mut *conn, body, now).await?.is_some() {
                    return Ok(());
                }
                let hours = rules.window.num_hours();
                let reason = format!(
                    "automatic (A1.55): {n} {what} within {hours} h reached the limit of {limit}"
                );
                let until = now + rules.suspend_for;
                let id: i64 = sqlx::query(
                    "INSERT INTO suspensions (body_id, reason, since, until, imposed_by) VALUES ($1, $2, $3, $4, $5) \
                     RETURNING id",
                )
                .bind(body)
                .bind(&reason)
                .bind(now)
                .bind(until)
                .bind(AUTOMATIC_RULE)
                .fetch_one(&mut *conn)
                .await?
                .try_get(0)?;
                let act = crate::audit::Leaf::act(
                    "body.suspend",
                    AUTOMATIC_RULE,
                    body,
                    serde_json::json!({ "suspension": id, "reason": reason, "until": until, "automatic": true }),
                );
                crate::$ops::audit::append(&mut *conn, now, &[act]).await?;
                tracing::warn!(target: "security", body, %reason, "body suspended automatically");
                Ok(())
            }

            async fn reject_tx(
                conn: &mut Conn,
                receipt: &Receipt,
                now: DateTime<Utc>,
                submission_id: String,
                errors: &[Violation],
                subject: Option<String>,
            ) -> Result<Outcome, StoreError> {
                let rejection_id = log_rejection(conn, &receipt.sender(), now, &submission_id, errors, subject.clone(), None).await?;
                let outcome = Outcome::Rejected { submission_id, rejection_id, errors: errors.to_vec() };
                record(conn, receipt, now, &outcome, subject, false, None).await?;
                Ok(outcome)
            }

            /// The manager's decision on a held submission: release it (decide again, the duplicate cleared)
            /// or dismiss it (a rejection with the duplicate code). The submitter's identity stays on the
            /// entries; the outcome replaces the held one, so a retry by the provider learns it.
            pub(crate) async fn review(
                pool: &sqlx::Pool<DB>,
                now: DateTime<Utc>,
                id: &str,
                manager: &Caller,
                release: bool,
            ) -> Result<Outcome, StoreError> {
                let mut tx = crate::$ops::begin(pool).await?;
                let lock = if DIALECT == Dialect::Postgres { " FOR UPDATE" } else { "" };
                let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT body_id, kind, user_uid, channel, held_form FROM submissions WHERE id = $1 AND status = 'held'{lock}"
                )))
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| DomainError::new(Code::EntryUnknown, format!("no held submission {id}")))?;
                let (body_id, kind, user_uid, channel, form): (String, String, String, String, Option<String>) =
                    (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?, row.try_get(4)?);
                let form: serde_json::Value = serde_json::from_str(form.as_deref().unwrap_or("null"))
                    .map_err(|e| corrupt("held submission", e))?;
                let sub = Submission::from_value(&kind, form["form"].clone())
                    .map_err(|v| corrupt("held submission", v.detail))?;
                let channel = popreg_domain::Channel::parse(&channel).ok_or_else(|| corrupt("submission channel", &channel))?;
                let payload = form["form"].to_string().into_bytes();
                let from = Sender {
                    body_id: &body_id,
                    user_uid: &user_uid,
                    channel,
                    kind: &kind,
                    media_type: "application/json",
                    payload: &payload,
                };
                let subject = sub.subject().map(|p| p.to_string());
                let decision = if release {
                    decide_in_tx(&mut tx, &sub, now, true).await?
                } else {
                    Decision::Reject(vec![Violation::new(
                        Code::LikelyDuplicate,
                        "",
                        format!("confirmed as a duplicate by the register's manager ({})", manager.user_uid),
                    )])
                };
                let (status, outcome) = match decision {
                    Decision::Accept { entries, created, late } => {
                        let prov = Provenance {
                            provider: body_id.clone(),
                            user_uid: user_uid.clone(),
                            channel,
                            external: Default::default(),
                        };
                        let items = entries.into_iter().map(|e| (prov.clone(), e)).collect();
                        let recorded = crate::$ops::append_tx(&mut tx, now, items).await?;
                        ("released", Outcome::Accepted {
                            submission_id: id.to_string(),
                            entry_ids: recorded.iter().map(|e| e.id).collect(),
                            psn: created,
                            late,
                        })
                    }
                    Decision::Hold(v) => return Err(DomainError::new(v.code, v.detail).into()),
                    Decision::Reject(errors) => {
                        let rejection_id =
                            log_rejection(&mut tx, &from, now, id, &errors, subject, None).await?;
                        (if release { "rejected" } else { "dismissed" }, Outcome::Rejected {
                            submission_id: id.to_string(),
                            rejection_id,
                            errors,
                        })
                    }
                };
                let text = serde_json::to_string(&outcome).map_err(|e| corrupt("submission outcome", e))?;
                sqlx::query("UPDATE submissions SET status = $1, outcome = $2 WHERE id = $3")
                    .bind(status)
                    .bind(text)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                let act = crate::audit::Leaf::act(
                    if release { "held.release" } else { "held.dismiss" },
                    &actor_of(manager),
                    id,
                    serde_json::json!({ "body": body_id, "kind": kind, "status": status }),
                );
                crate::$ops::audit::append(&mut tx, now, &[act]).await?;
                tx.commit().await?;
                Ok(outcome)
            }

            /// A1.50.2: the manager rejects an accepted entry while monitoring accuracy. A retraction entry
            /// supersedes it in the log and the projection (nothing is deleted); the rejection log records it
            /// against the provider with the entry's payload, and the provider is told by e-mail.
            pub(crate) async fn retract(
                pool: &sqlx::Pool<DB>,
                now: DateTime<Utc>,
                entry_id: i64,
                reason: Code,
                note: &str,
                manager: &Caller,
            ) -> Result<i64, StoreError> {
                let mut tx = crate::$ops::begin(pool).await?;
                let row = sqlx::query("SELECT subject_psn FROM entries WHERE id = $1")
                    .bind(entry_id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or_else(|| DomainError::new(Code::EntryUnknown, format!("no entry {entry_id}")))?;
                let subject: String = row.try_get(0)?;
                let psn = Psn::parse(&subject).map_err(|e| corrupt("entry subject", e))?;
                let mine = crate::$ops::load_entries(&mut tx, psn).await?;
                let Some(target) = mine.iter().find(|e| e.id == entry_id).cloned() else {
                    return Err(DomainError::new(Code::EntryUnknown, format!("no entry {entry_id}")).into());
                };
                let done = mine.iter().any(|e| matches!(e.fact, popreg_domain::Fact::Retraction { entry_id: t, .. } if t == entry_id));
                if done || target.fact.creates_person() || matches!(target.fact, popreg_domain::Fact::Retraction { .. }) {
                    return Err(DomainError::new(
                        Code::EntryUnknown,
                        format!("entry {entry_id} is already rejected, or is a person's creating entry or a retraction"),
                    )
                    .into());
                }
                let prov = Provenance {
                    provider: manager.body_id.clone(),
                    user_uid: manager.user_uid.clone(),
                    channel: manager.channel,
                    external: manager.external.clone(),
                };
                let fact = popreg_domain::Fact::Retraction { entry_id, reason_code: reason.as_str().to_string() };
                crate::$ops::append_tx(&mut tx, now, vec![(prov, NewEntry::new(psn, fact))]).await?;
                let payload = serde_json::to_vec(&target.fact).map_err(|e| corrupt("entry payload", e))?;
                let from = Sender {
                    body_id: &target.provider,
                    user_uid: &manager.user_uid,
                    channel: popreg_domain::Channel::System,
                    kind: &target.kind,
                    media_type: "application/json",
                    payload: &payload,
                };
                let errors = vec![Violation::new(
                    reason,
                    "",
                    format!("entry {entry_id} rejected by the register's manager (A1.50.2): {note}"),
                )];
                let id = log_rejection(&mut tx, &from, now, &format!("entry-{entry_id}"), &errors, Some(subject), Some(entry_id)).await?;
                let act = crate::audit::Leaf::act(
                    "entry.reject",
                    &actor_of(manager),
                    &entry_id.to_string(),
                    serde_json::json!({ "reason": reason.as_str(), "note": note, "rejection_id": id }),
                );
                crate::$ops::audit::append(&mut tx, now, &[act]).await?;
                tx.commit().await?;
                Ok(id)
            }
        }
    };
}

submit_ops!(sqlite_submit, sqlx::Sqlite, Dialect::Sqlite, sqlite_ops);
submit_ops!(pg_submit, sqlx::Postgres, Dialect::Postgres, pg_ops);
