//! SQLite's batch of notifications (the batch form of the sending API, [`Store::send_notifications`]) on
//! the writer connection itself: rusqlite on sqlx's connection handle, as the submission writer does
//! (`submit/sqlite_writer.rs`, whose module documentation says why: sqlx hands every statement and row of a
//! SQLite connection to a worker thread and back, several times per notification).
//!
//! The batch opens its transaction with sqlx (`BEGIN IMMEDIATE`), takes the connection's handle once, runs
//! every statement of every notification with rusqlite's cached prepared statements on the calling task,
//! then appends the audit acts and commits through sqlx again. It writes the same rows as the sqlx path
//! (`write` in `inbox_ops!`): the same statements, values encoded as sqlx encodes them in SQLite (instants
//! as RFC 3339 text, booleans as 0/1), the same forwards ([`forwards`]) and act ([`send_act`]); all or none.

use rusqlite::{Connection, OptionalExtension, params};

use super::*;
use crate::hot::{instant, sqlx_instant};

/// What the run decided: the answers and the acts to append, or a race on an idempotency key (`None`).
type Ran = Option<(Vec<SentNotification>, Vec<Leaf>)>;

/// Write a batch of checked notifications in one transaction (see the module's documentation). `None`: a
/// concurrent request with one of the idempotency keys committed first (nothing is written; look again).
pub(crate) async fn send_batch(
    pool: &sqlx::SqlitePool,
    now: DateTime<Utc>,
    caller: &Caller,
    ns: &[(NewNotification, String)],
    settings: &ContactSettings,
) -> Result<Option<Vec<SentNotification>>, StoreError> {
    let mut tx = crate::sqlite_ops::begin(pool).await?;
    let ran = {
        let mut handle = tx.lock_handle().await?;
        // SAFETY: the handle is sqlx's open connection, on which sqlx makes no call while `handle` lives.
        // `from_handle` does not take ownership (the connection is not closed on drop), and `c` is
        // dropped, finalizing its prepared statements, before `handle` gives the connection back.
        let c = unsafe { Connection::from_handle(handle.as_raw_handle().as_ptr()) }?;
        let r = run(&c, now, caller, ns, settings);
        drop(c);
        r?
    };
    // A race: the transaction rolls back when dropped.
    let Some((out, acts)) = ran else {
        return Ok(None);
    };
    crate::sqlite_ops::audit::append(&mut tx, now, &acts).await?;
    tx.commit().await?;
    Ok(Some(out))
}

fn run(
    c: &Connection,
    now: DateTime<Utc>,
    caller: &Caller,
    ns: &[(NewNotification, String)],
    settings: &ContactSettings,
) -> Result<Ran, StoreError> {
    let names: (Option<String>, Option<String>, Option<String>) = c
        .prepare_cached(BODY_NAMES)?
        .query_row(params![caller.body_id], |r| {
            Ok((Some(r.get(0)?), Some(r.get(1)?), Some(r.get(2)?)))
        })
        .optional()?
        .unwrap_or((None, None, None));
    let sender = sender_of(caller.body_id.clone(), names.0, names.1, names.2);
    let mut out = Vec::with_capacity(ns.len());
    let mut acts = Vec::with_capacity(ns.len());
    for (i, (n, fingerprint)) in ns.iter().enumerate() {
        let (sent, act) =
            one(c, now, caller, &sender, n, fingerprint, settings).map_err(|e| numbered(i, e))?;
        match sent {
            Sent::New(s) | Sent::Replay(s) => out.push(s),
            Sent::Raced => return Ok(None),
        }
        acts.extend(act);
    }
    Ok(Some((out, acts)))
}

/// One notification: its inbox message, attachments and outbox rows; the act to append (none for a
/// replay).
fn one(
    c: &Connection,
    now: DateTime<Utc>,
    caller: &Caller,
    sender: &Sender,
    n: &NewNotification,
    fingerprint: &str,
    settings: &ContactSettings,
) -> Result<(Sent, Option<Leaf>), StoreError> {
    if let Some(key) = &n.idempotency_key {
        let row: Option<(String, String, String)> = c
            .prepare_cached(BY_IDEMPOTENCY_KEY)?
            .query_row(params![caller.body_id, key], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        if let Some((id, same, created_at)) = row {
            return Ok((replay(id, &same, fingerprint, instant(&created_at)?)?, None));
        }
    }
    let psn = n.recipient.key();
    if let Owner::Person(p) = n.recipient
        && c.prepare_cached(PERSON_EXISTS)?
            .query_row(params![p.to_string()], |_| Ok(()))
            .optional()?
            .is_none()
    {
        return Err(unknown_person(&psn));
    }
    let id = crate::access::random_hex(16)?;
    let at = sqlx_instant(&now);
    let inserted = c.prepare_cached(INBOX_INSERT)?.execute(params![
        id,
        psn,
        caller.body_id,
        caller.user_uid,
        caller.channel.as_str(),
        n.idempotency_key,
        fingerprint,
        n.subject,
        n.text,
        n.legal_significance,
        at,
    ]);
    match inserted {
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            return Ok((Sent::Raced, None));
        }
        Err(e) => return Err(e.into()),
        Ok(_) => {}
    }
    for (i, a) in n.attachments.iter().enumerate() {
        c.prepare_cached(ATTACHMENT_INSERT)?.execute(params![
            id,
            i as i64,
            a.name,
            a.media_type,
            a.content.len() as i64,
            crate::access::hex(&<sha2::Sha256 as sha2::Digest>::digest(&a.content)),
            a.content,
        ])?;
    }
    let points = c
        .prepare_cached(VERIFIED_POINTS)?
        .query_map(params![psn], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<Result<Vec<(i64, String, String, String)>, _>>()?;
    let source = format!("notification:{id}");
    let mut insert = c.prepare_cached(OUTBOX_INSERT)?;
    for f in forwards(&points, &id, sender, n, now, settings) {
        insert.execute(params![
            f.channel,
            f.address,
            f.template,
            f.lang,
            f.params.to_string(),
            f.dedupe_key,
            at,
            source,
        ])?;
    }
    let act = send_act(caller, &id, &psn, fingerprint, n, points.len());
    Ok((
        Sent::New(SentNotification {
            id,
            created_at: now,
            replayed: false,
        }),
        Some(act),
    ))
}
