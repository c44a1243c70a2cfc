//! SQLite's submission batch on the writer connection itself: rusqlite on sqlx's connection handle.
//!
//! The profile of `benches/submit.sh` (`docs/benchmarks.md`, "Submissions") showed the single writer's time
//! going to thread hand-offs: sqlx runs each SQLite connection on a worker thread of its own and sends every
//! statement and every row across threads, about fifteen times per accepted birth, one after the other,
//! and on a busy machine each hand-off also waits for a core. Here the batch opens its transaction with
//! sqlx (`BEGIN IMMEDIATE`), takes the connection's handle once ([`sqlx::SqliteConnection::lock_handle`]: the
//! worker thread makes no call on it meanwhile) and runs every statement of every submission with
//! rusqlite's cached prepared statements on the calling task; then, through sqlx again, appends the batch's
//! one audit leaf and commits. Nothing is answered before the commit.
//!
//! It writes the same rows as the sqlx writer ([`super::sqlite_submit`]): the same statements (shared
//! constants), values encoded as sqlx encodes them in SQLite (instants as RFC 3339 text, dates as
//! `YYYY-MM-DD`, booleans as 0/1), the same decision ([`decide`]) on the same loaded states, each
//! submission in its own savepoint. With the automatic restrictions of A1.55 switched on, a batch goes
//! through the sqlx writer (the suspension it may impose writes an audit act in the submission's
//! savepoint).

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use rusqlite::{Connection, OptionalExtension, params};

use super::*;
use crate::hot::{instant, opt_instant, sqlx_instant};

type Job = (Receipt, Result<Submission, Vec<Violation>>);
type Answer = Result<(Outcome, bool), StoreError>;
/// The entries an accepted submission wrote, with their payloads (for the batch's audit leaf).
type Written = Option<(Vec<Entry>, Vec<String>)>;
/// The batch's answers, and the entries it wrote with their payloads.
type Ran = (Vec<Answer>, Vec<Entry>, Vec<String>);
/// Persons' stored projections as loaded for a decision, and their fold tails.
#[derive(Default)]
struct Loaded {
    states: HashMap<Psn, PersonState>,
    tails: HashMap<Psn, Option<crate::FoldTail>>,
}

static INSERT_ENTRY: LazyLock<String> = LazyLock::new(|| {
    let marks: Vec<String> = (1..=16).map(|i| format!("${i}")).collect();
    format!(
        "INSERT INTO entries ({}) VALUES ({})",
        crate::ENTRY_COLUMNS,
        marks.join(", ")
    )
});
static ENTRIES_OF: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM entries WHERE subject_psn = $1 ORDER BY id",
        crate::ENTRY_COLUMNS
    )
});
static UPSERT_PERSON: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO persons ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10){}",
        crate::PERSON_COLUMNS,
        crate::PERSON_UPSERT_TAIL
    )
});

/// A date as sqlx writes it in SQLite.
fn date(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| d.format("%Y-%m-%d").to_string())
}

/// Decide and write a batch of submissions in one transaction (see the module's documentation).
pub(crate) async fn process_batch(
    pool: &sqlx::SqlitePool,
    now: DateTime<Utc>,
    rules: &RestrictionRules,
    jobs: Vec<Job>,
) -> Result<Vec<Answer>, StoreError> {
    if rules.rejections > 0 || rules.late > 0 {
        return sqlite_submit::process_batch(pool, now, rules, jobs).await;
    }
    let mut tx = crate::sqlite_ops::begin(pool).await?;
    let (out, entries, payloads) = {
        let mut handle = tx.lock_handle().await?;
        // SAFETY: the handle is sqlx's open connection, on which sqlx makes no call while `handle` lives.
        // `from_handle` does not take ownership (the connection is not closed on drop), and `c` is
        // dropped, finalizing its prepared statements, before `handle` gives the connection back.
        let c = unsafe { Connection::from_handle(handle.as_raw_handle().as_ptr()) }?;
        let r = run(&c, now, jobs);
        drop(c);
        r?
    };
    if !entries.is_empty() {
        // Last, as in the sqlx writer: one leaf for the entries of the whole transaction.
        let leaf = crate::audit::Leaf::entries(&entries, &payloads);
        crate::sqlite_ops::audit::append(&mut tx, now, &[leaf]).await?;
    }
    tx.commit().await?;
    Ok(out)
}

fn run(c: &Connection, now: DateTime<Utc>, jobs: Vec<Job>) -> Result<Ran, StoreError> {
    let mut out = Vec::with_capacity(jobs.len());
    let (mut entries, mut payloads) = (Vec::new(), Vec::new());
    for (receipt, sub) in jobs {
        c.execute_batch("SAVEPOINT submission")?;
        match one(c, now, &receipt, sub) {
            Ok((answer, written)) => {
                c.execute_batch("RELEASE submission")?;
                if let Some((e, p)) = written {
                    entries.extend(e);
                    payloads.extend(p);
                }
                out.push(Ok(answer));
            }
            Err(e) => {
                c.execute_batch("ROLLBACK TO submission; RELEASE submission")?;
                out.push(Err(e));
            }
        }
    }
    Ok((out, entries, payloads))
}

/// One submission, as `process_tx` of the sqlx writer decides and writes it.
fn one(
    c: &Connection,
    now: DateTime<Utc>,
    receipt: &Receipt,
    sub: Result<Submission, Vec<Violation>>,
) -> Result<((Outcome, bool), Written), StoreError> {
    if let Some(key) = receipt.idempotency_key() {
        let first = c
            .prepare_cached(SELECT_REPLAY)?
            .query_row(params![receipt.caller.body_id, key], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        if let Some(row) = first {
            return Ok(((replayed(receipt, key, row)?, true), None));
        }
    }
    let submission_id = new_submission_id()?;
    let subject = sub
        .as_ref()
        .ok()
        .and_then(|s| s.subject())
        .map(|p| p.to_string());
    let mut errors = match &sub {
        Ok(_) => vec![],
        Err(e) => e.clone(),
    };
    if errors.is_empty()
        && let Some(s) = suspended(c, &receipt.caller.body_id, now)?
    {
        errors.push(suspension_violation(&s));
    }
    let decision = match sub {
        Ok(sub) if errors.is_empty() => Some((decide_here(c, &sub, now)?, sub)),
        _ => None,
    };
    let mut written = None;
    let outcome = match decision {
        Some((
            (
                Decision::Accept {
                    entries,
                    created,
                    late,
                },
                loaded,
            ),
            _,
        )) => {
            let (recorded, payloads) = append(c, now, with_provenance(receipt, entries), loaded)?;
            let outcome = Outcome::Accepted {
                submission_id,
                entry_ids: recorded.iter().map(|e| e.id).collect(),
                psn: created,
                late,
            };
            let subject = subject.or(created.map(|p| p.to_string()));
            record(c, receipt, now, &outcome, subject, late, None)?;
            written = Some((recorded, payloads));
            outcome
        }
        Some(((Decision::Hold(v), _), sub)) => {
            let outcome = Outcome::Held {
                submission_id,
                code: v.code,
                detail: v.detail,
            };
            record(
                c,
                receipt,
                now,
                &outcome,
                subject,
                false,
                Some(held_form(&sub)),
            )?;
            outcome
        }
        Some(((Decision::Reject(v), _), _)) => {
            errors = v;
            reject(c, receipt, now, submission_id, &errors, subject)?
        }
        None => reject(c, receipt, now, submission_id, &errors, subject)?,
    };
    Ok(((outcome, false), written))
}

fn suspended(
    c: &Connection,
    body: &str,
    now: DateTime<Utc>,
) -> Result<Option<Suspension>, StoreError> {
    let row = c
        .prepare_cached(SUSPENSION_IN_FORCE)?
        .query_row(params![body, sqlx_instant(&now)], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, String>(5)?,
            ))
        })
        .optional()?;
    row.map(|(id, body_id, reason, since, until, imposed_by)| {
        Ok(Suspension {
            id,
            body_id,
            reason,
            since: instant(&since)?,
            until: opt_instant(until)?,
            imposed_by,
        })
    })
    .transpose()
}

/// The persons' current states and fold tails (those that exist, and are not loaded yet; with `born_on`,
/// only those born that day) into `into`.
fn states(
    c: &Connection,
    psns: &[Psn],
    born_on: Option<NaiveDate>,
    into: &mut Loaded,
) -> Result<(), StoreError> {
    let mut q = c.prepare_cached("SELECT doc, fold_tail FROM persons WHERE psn = $1")?;
    let mut on_day =
        c.prepare_cached("SELECT doc, fold_tail FROM persons WHERE psn = $1 AND birth_date = $2")?;
    for p in psns {
        if into.states.contains_key(p) {
            continue;
        }
        let read = |r: &rusqlite::Row<'_>| Ok((r.get(0)?, r.get(1)?));
        let row: Option<(String, Option<i64>)> = match born_on {
            None => q.query_row(params![p.to_string()], read),
            Some(d) => on_day.query_row(params![p.to_string(), date(Some(d))], read),
        }
        .optional()?;
        if let Some((doc, tail)) = row {
            let s: PersonState =
                serde_json::from_str(&doc).map_err(|e| corrupt("person projection", e))?;
            into.states.insert(*p, s);
            into.tails.insert(*p, crate::FoldTail::decode(tail));
        }
    }
    Ok(())
}

fn fresh_psn(c: &Connection) -> Result<Psn, StoreError> {
    let mut q = c.prepare_cached("SELECT 1 FROM entries WHERE subject_psn = $1 LIMIT 1")?;
    for _ in 0..32 {
        let psn = Psn::allocate_os()?;
        if !q.exists(params![psn.to_string()])? {
            return Ok(psn);
        }
    }
    Err(DomainError::new(Code::PsnExhausted, "no free PSN found in 32 draws").into())
}

/// Load what the decision needs and decide (the write transaction holds SQLite's only write lock). Also
/// answers the states loaded, for [`append`] to extend.
fn decide_here(
    c: &Connection,
    sub: &Submission,
    now: DateTime<Utc>,
) -> Result<(Decision, Loaded), StoreError> {
    let mut loaded = Loaded::default();
    states(c, &sub.referenced(), None, &mut loaded)?;
    let then = sub.referenced_then(&loaded.states);
    states(c, &then, sub.referenced_then_born_on(), &mut loaded)?;
    let new_psn = match sub {
        Submission::Birth(_) | Submission::BirthAbroad(_) | Submission::Registration(_) => {
            Some(fresh_psn(c)?)
        }
        _ => None,
    };
    let ctx = Context {
        today: armenian_date(now),
        persons: &loaded.states,
        new_psn,
        duplicate_cleared: false,
    };
    Ok((decide(sub, &ctx), loaded))
}

/// Append an accepted submission's entries and rewrite its persons' projections: what `append_tx`
/// does (without the audit leaf), on this connection.
fn append(
    c: &Connection,
    now: DateTime<Utc>,
    items: Vec<(Provenance, NewEntry)>,
    mut loaded: Loaded,
) -> Result<(Vec<Entry>, Vec<String>), StoreError> {
    // The write transaction holds SQLite's single write lock: max(id)+1.. is ours alone.
    let max: i64 = c
        .prepare_cached("SELECT COALESCE(MAX(id), 0) FROM entries")?
        .query_row([], |r| r.get(0))?;
    let recorded: Vec<Entry> = items
        .into_iter()
        .zip(max + 1..)
        .map(|((prov, new), id)| Entry::recorded(id, now, new, &prov))
        .collect();
    let (order, mut by_subject) = crate::group_by_subject(&recorded);
    let mut existing: HashSet<Psn> = HashSet::new();
    {
        let mut q = c.prepare_cached("SELECT 1 FROM persons WHERE psn = $1")?;
        for psn in &order {
            if q.exists(params![psn.to_string()])? {
                existing.insert(*psn);
            }
        }
    }
    for psn in &order {
        let creates = by_subject[psn]
            .iter()
            .any(|&i| recorded[i].fact.creates_person());
        crate::check_subject(*psn, creates, existing.contains(psn))?;
    }
    {
        let mut owner_of = c.prepare_cached("SELECT subject_psn FROM entries WHERE id = $1")?;
        for e in &recorded {
            if let Some(t) = crate::corrected_entry(e) {
                let owner: Option<String> = owner_of.query_row([t], |r| r.get(0)).optional()?;
                crate::check_corrected(e, t, owner.as_deref())?;
            }
        }
    }
    let payloads: Vec<String> = recorded
        .iter()
        .map(|e| serde_json::to_string(&e.fact).map_err(|x| corrupt("entry payload", x)))
        .collect::<Result<_, _>>()?;
    {
        let mut ins = c.prepare_cached(&INSERT_ENTRY)?;
        for (e, payload) in recorded.iter().zip(&payloads) {
            let x = &e.external;
            ins.execute(params![
                e.id,
                e.subject.to_string(),
                e.kind,
                payload,
                e.provider,
                e.user_uid,
                e.channel.as_str(),
                x.xroad_client,
                x.xroad_id,
                x.xroad_user_id,
                x.xroad_issue,
                x.idempotency_key,
                sqlx_instant(&e.recorded_at),
                date(e.valid_from),
                date(e.valid_to),
                e.supersedes,
            ])?;
        }
    }
    // New persons from these entries alone. Persons who existed before: the state the decision loaded
    // (or the stored one) extended by the new entries when they sort last, else folded from all of their
    // entries.
    let fresh: Vec<Vec<usize>> = order
        .iter()
        .filter(|p| !existing.contains(*p))
        .filter_map(|p| by_subject.remove(p))
        .collect();
    let mut rows = crate::fold_rows(&recorded, &fresh)?;
    for psn in order.iter().filter(|p| existing.contains(*p)) {
        if !loaded.states.contains_key(psn) {
            states(c, &[*psn], None, &mut loaded)?;
        }
        let new: Vec<&Entry> = by_subject
            .get(psn)
            .map(|ix| ix.iter().map(|&i| &recorded[i]).collect())
            .unwrap_or_default();
        let extended = loaded.states.remove(psn).and_then(|state| {
            let tail = loaded.tails.get(psn).copied().flatten();
            crate::extend_projection(state, tail, &new)
        });
        rows.push(match extended {
            Some((state, tail)) => crate::PersonRow::of(&state, tail)?,
            None => {
                let mine: Vec<Entry> = c
                    .prepare_cached(&ENTRIES_OF)?
                    .query_map(params![psn.to_string()], |r| Ok(crate::hot::entry(r)))?
                    .map(|r| r.map_err(StoreError::from).and_then(|e| e))
                    .collect::<Result<_, _>>()?;
                crate::fold_row(*psn, &mine)?
            }
        });
    }
    let mut up = c.prepare_cached(&UPSERT_PERSON)?;
    for r in &rows {
        up.execute(params![
            r.psn,
            r.doc,
            r.surname_fold,
            r.first_fold,
            date(Some(r.birth_date)),
            r.sex,
            date(r.death_date),
            r.last_entry_id,
            sqlx_instant(&r.updated_at),
            r.fold_tail,
        ])?;
    }
    Ok((recorded, payloads))
}

#[allow(clippy::too_many_arguments)]
fn record(
    c: &Connection,
    receipt: &Receipt,
    now: DateTime<Utc>,
    outcome: &Outcome,
    subject: Option<String>,
    late: bool,
    held: Option<String>,
) -> Result<(), StoreError> {
    let text = serde_json::to_string(outcome).map_err(|e| corrupt("submission outcome", e))?;
    c.prepare_cached(INSERT_SUBMISSION)?.execute(params![
        outcome.submission_id(),
        receipt.caller.body_id,
        receipt.kind,
        receipt.caller.user_uid,
        receipt.caller.channel.as_str(),
        receipt.idempotency_key(),
        receipt.sha256(),
        sqlx_instant(&now),
        outcome.status(),
        subject,
        late,
        text,
        held,
    ])?;
    Ok(())
}

/// The rejection log row, the body's webhook event and e-mail, and the submission's record.
fn reject(
    c: &Connection,
    receipt: &Receipt,
    now: DateTime<Utc>,
    submission_id: String,
    errors: &[Violation],
    subject: Option<String>,
) -> Result<Outcome, StoreError> {
    let from = receipt.sender();
    let code = rejection_code(errors);
    let errors_json = serde_json::to_string(errors).map_err(|e| corrupt("rejection errors", e))?;
    let at = sqlx_instant(&now);
    let id: i64 = c.prepare_cached(INSERT_REJECTION)?.query_row(
        params![
            submission_id,
            from.body_id,
            from.kind,
            from.user_uid,
            from.channel.as_str(),
            at,
            code,
            errors_json,
            from.media_type,
            from.payload,
            subject,
            None::<i64>,
        ],
        |r| r.get(0),
    )?;
    let params_json = rejection_params(id, &submission_id, &from, code, errors, now);
    let event = serde_json::json!({"event": "rejection", "rejection": &params_json});
    c.prepare_cached(INSERT_WEBHOOK_EVENT)?.execute(params![
        event.to_string(),
        at,
        from.body_id
    ])?;
    let email: Option<String> = c
        .prepare_cached(SELECT_CONTACT)?
        .query_row(params![from.body_id], |r| r.get::<_, Option<String>>(0))
        .optional()?
        .flatten();
    if let Some(to) = email.filter(|e| !e.trim().is_empty()) {
        c.prepare_cached(INSERT_REJECTION_EMAIL)?.execute(params![
            to,
            params_json.to_string(),
            format!("rejection:{id}"),
            at,
        ])?;
    }
    let outcome = Outcome::Rejected {
        submission_id,
        rejection_id: id,
        errors: errors.to_vec(),
    };
    record(c, receipt, now, &outcome, subject, false, None)?;
    Ok(outcome)
}
