//! SQLite's usage writer: the group-committing writer of usage records (see `usage.rs`) on a thread of its
//! own, with a read-write SQLite connection of its own and statements prepared once.
//!
//! Why: every gated read writes a usage row, its audit leaf, the subtree nodes it completes and the new tree
//! head before the data leave. Through sqlx each batch cost one cross-thread hand-off per statement and a copy
//! of every bound value; in the lookup benchmark the writer was the largest item of the server's profile
//! (`docs/benchmarks.md`). Here a batch is one `BEGIN IMMEDIATE … COMMIT` of cached statements on this
//! thread, and the fsync of the commit happens off the runtime's threads.
//!
//! SQLite has one write lock per file, which this connection shares with the sqlx writer pool. Both wait
//! for it in short steps ([`short_waits`], installed on both) instead of SQLite's default back-off, which
//! sleeps up to 100 ms at a time and would make a submission wait behind a stream of usage batches.
//! PostgreSQL keeps the sqlx path (its driver has no hand-off per statement, and it commits in groups itself).

use std::path::Path;
use std::sync::Arc;

use chrono::SubsecRound;
use popreg_domain::Clock;
use rusqlite::{Connection, OpenFlags, params};

use crate::StoreError;
use crate::audit::{Leaf, extend, ts, usage_line};
use crate::hot::sqlx_instant;
use crate::usage::{NewUsage, Reply, answer, take_batch};

/// How long a writer waits for SQLite's write lock before it gives up (as the sqlx pool's busy timeout).
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);
/// One step of that wait.
const LOCK_STEP: std::time::Duration = std::time::Duration::from_micros(200);

/// SQLite busy handler: wait [`LOCK_STEP`] and try again, until [`LOCK_WAIT`] has passed.
pub(crate) fn short_waits(attempt: i32) -> bool {
    if (attempt as u128) * LOCK_STEP.as_micros() >= LOCK_WAIT.as_micros() {
        return false;
    }
    std::thread::sleep(LOCK_STEP);
    true
}

/// The C form of [`short_waits`], for the sqlx writer's connection (`sqlite3_busy_handler`).
pub(crate) unsafe extern "C" fn short_waits_c(
    _: *mut std::ffi::c_void,
    attempt: std::ffi::c_int,
) -> std::ffi::c_int {
    std::ffi::c_int::from(short_waits(attempt))
}

/// Open the writer's connection: the same durability as the sqlx writer (WAL, `synchronous=FULL`).
fn open(path: &Path) -> rusqlite::Result<Connection> {
    let c = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    c.busy_handler(Some(short_waits))?;
    // No checkpoints on this connection: the checkpointer thread copies the WAL back into the file, so that
    // a batch never waits for a thousand page writes and a file fsync.
    c.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
         PRAGMA cache_size = -16384; PRAGMA wal_autocheckpoint = 0; \
         PRAGMA journal_size_limit = 67108864;",
    )?;
    c.set_prepared_statement_cache_capacity(16);
    Ok(c)
}

/// Start the writer thread. It ends when every sender of `rx` is gone (the store was dropped).
pub(crate) fn start(
    path: &Path,
    clock: Arc<dyn Clock>,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<(NewUsage, Reply)>,
) {
    let path = path.to_path_buf();
    let spawned = std::thread::Builder::new()
        .name("usage-writer".into())
        .spawn(move || {
            let mut conn: Option<Connection> = None;
            while let Some(first) = rx.blocking_recv() {
                let (records, replies) = take_batch(first, &mut rx);
                let out = match conn.take() {
                    Some(c) => Ok(c),
                    None => open(&path).map_err(StoreError::from),
                }
                .and_then(|c| {
                    let r = write(&c, clock.as_ref(), &records);
                    // A connection whose batch failed is closed; the next batch opens a fresh one.
                    if r.is_ok() {
                        conn = Some(c);
                    }
                    r
                });
                answer(replies, out);
            }
        });
    if let Err(e) = spawned {
        // The receiver went with the closure: every read is refused (PSR-AUD-0001), none released unlogged.
        tracing::error!(error = %e, "the usage writer thread could not start");
    }
}

/// How often the checkpointer looks at the WAL.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// Stops the checkpointer thread when dropped (with the last clone of the store).
pub(crate) struct Checkpointer(Arc<std::sync::atomic::AtomicBool>);

impl Checkpointer {
    /// Stop the thread (within [`CHECKPOINT_EVERY`]).
    pub(crate) fn stop(&self) {
        self.0.store(false, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The checkpointer: a passive checkpoint every [`CHECKPOINT_EVERY`] on a connection of its own, for as
/// long as the store is open (started with it, `Store::open`; before, only with the first usage record, so a
/// register that was only written to had none). Passive: it copies what no reader still needs and never
/// blocks a writer or a reader; once everything is copied the next commit starts the WAL from its beginning
/// again, so it stays small. The usage writer does not checkpoint itself; the sqlx writer keeps SQLite's
/// automatic checkpoint at 1,000 pages, which then finds most frames already copied by this thread on the
/// other core. (Leaving the checkpoints to this thread alone, with the sqlx writer's automatic checkpoint
/// raised to 128 MiB, was tried for issue 3: 13 % more births/s but a p99 of 290 ms instead of 61 ms, from
/// the `RESTART` checkpoints that then block the writer; see `docs/benchmarks.md`, 2026-12-03e.)
pub(crate) fn start_checkpointer(path: &Path) -> Checkpointer {
    let running = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let guard = Checkpointer(Arc::clone(&running));
    let path = path.to_path_buf();
    let spawned = std::thread::Builder::new()
        .name("wal-checkpoint".into())
        .spawn(move || {
            let mut conn: Option<Connection> = None;
            while running.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(CHECKPOINT_EVERY);
                let c = match conn.take() {
                    Some(c) => c,
                    None => match open(&path) {
                        Ok(c) => c,
                        Err(e) => {
                            tracing::warn!(error = %e, "checkpointer cannot open the register");
                            continue;
                        }
                    },
                };
                match checkpoint(&c, RESTART_FRAMES) {
                    Ok(()) => conn = Some(c),
                    Err(e) => tracing::warn!(error = %e, "checkpoint failed"),
                }
            }
        });
    if let Err(e) = spawned {
        // Not fatal: the sqlx writer's automatic checkpoints still bound the WAL.
        tracing::warn!(error = %e, "the checkpointer thread could not start");
    }
    guard
}

/// WAL frames above which the checkpointer also restarts the WAL: 64 MiB of 4 KiB pages.
const RESTART_FRAMES: i64 = 16_384;

/// One round of the checkpointer. Under a steady stream of reads a passive checkpoint copies every frame
/// but the WAL never starts over (some reader is always using it), so it would grow without bound and every
/// read would search a larger WAL index. Once it holds more than [`RESTART_FRAMES`] frames, a `RESTART`
/// checkpoint waits (in the short steps of the busy handler) for the readers of the moment to finish, so
/// that the next commit writes the WAL from its beginning; `journal_size_limit` then truncates the file.
fn checkpoint(c: &Connection, restart_frames: i64) -> rusqlite::Result<()> {
    let (_busy, frames, copied): (i64, i64, i64) =
        c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    if frames >= restart_frames && copied == frames {
        c.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()))?;
    }
    Ok(())
}

/// Write a batch of usage records, their leaves, the completed subtrees and the new head in one
/// transaction. Returns the records' ids, in order.
fn write(c: &Connection, clock: &dyn Clock, batch: &[NewUsage]) -> Result<Vec<i64>, StoreError> {
    c.execute_batch("BEGIN IMMEDIATE")?;
    match write_tx(c, clock, batch) {
        Ok(ids) => {
            if let Err(e) = c.execute_batch("COMMIT") {
                let _ = c.execute_batch("ROLLBACK");
                return Err(e.into());
            }
            Ok(ids)
        }
        Err(e) => {
            let _ = c.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

fn write_tx(c: &Connection, clock: &dyn Clock, batch: &[NewUsage]) -> Result<Vec<i64>, StoreError> {
    // Taken inside the write lock, so times follow commit order as on the sqlx path.
    let now = clock.now().trunc_subsecs(6);
    let at = ts(&now);
    let at_sqlx = sqlx_instant(&now);
    // The write lock makes `max + 1 ..` ours.
    let max: i64 = c
        .prepare_cached("SELECT COALESCE(MAX(id), 0) FROM usage_log")?
        .query_row([], |r| r.get(0))?;
    let ids: Vec<i64> = (1..=batch.len() as i64).map(|i| max + i).collect();
    let leaves: Vec<Leaf> = batch
        .iter()
        .zip(&ids)
        .map(|(u, id)| {
            Leaf::row(
                "usage",
                *id,
                &usage_line(&u.line_fields(&id.to_string(), &at)),
            )
        })
        .collect();
    let head: String = c
        .prepare_cached("SELECT frontier FROM audit_head WHERE id = 1")?
        .query_row([], |r| r.get(0))?;
    let (frontier, rows, nodes) = extend(&head, &at, &leaves)?;
    {
        let mut st = c.prepare_cached(
            "INSERT INTO audit_log (seq, at, kind, data, leaf_hash) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for (seq, kind, data, hash) in &rows {
            st.execute(params![seq, at_sqlx, kind, data, hash])?;
        }
    }
    {
        let mut st =
            c.prepare_cached("INSERT INTO audit_nodes (level, idx, hash) VALUES (?1, ?2, ?3)")?;
        for (level, idx, hash) in &nodes {
            st.execute(params![level, idx, hash])?;
        }
    }
    c.prepare_cached("UPDATE audit_head SET frontier = ?1 WHERE id = 1")?
        .execute([frontier.to_text()])?;
    {
        let mut st = c.prepare_cached(
            "INSERT INTO usage_log (id, at, psn, body_id, user_uid, channel, action, elements, purpose, \
             legal_basis, xroad_client, xroad_id, xroad_user_id, xroad_issue, audit_seq) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        )?;
        for ((u, id), (seq, ..)) in batch.iter().zip(&ids).zip(&rows) {
            st.execute(params![
                id,
                at_sqlx,
                u.psn,
                u.body_id,
                u.user_uid,
                u.channel.as_str(),
                u.action,
                u.elements,
                u.purpose,
                u.legal_basis,
                u.xroad[0],
                u.xroad[1],
                u.xroad[2],
                u.xroad[3],
                seq,
            ])?;
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wal_frames(c: &Connection) -> i64 {
        c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))
            .unwrap()
    }

    #[test]
    fn a2_1_checkpoints_copy_and_restart_the_wal_and_lose_nothing() {
        let dir = std::env::temp_dir().join(format!("popreg-wal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("r.sqlite");
        drop(Connection::open(&path).unwrap()); // the writer opens only an existing register
        let w = open(&path).unwrap();
        w.execute_batch("CREATE TABLE t (x TEXT)").unwrap();
        for i in 0..200 {
            w.execute("INSERT INTO t VALUES (?1)", [format!("row {i}")])
                .unwrap();
        }
        let before = wal_frames(&w);
        assert!(before >= 200, "one frame or more per commit: {before}");
        let reader = Connection::open(&path).unwrap();
        reader.execute_batch("BEGIN").unwrap();
        let n: i64 = reader
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 200);
        // Under the threshold: copied, not restarted (the next commit may still append).
        checkpoint(&w, i64::MAX).unwrap();
        w.execute("INSERT INTO t VALUES ('one more')", []).unwrap();
        reader.execute_batch("COMMIT").unwrap();
        // Over the threshold: the checkpoint restarts the WAL, and the next commit writes from its start.
        checkpoint(&w, 10).unwrap();
        w.execute("INSERT INTO t VALUES ('after the restart')", [])
            .unwrap();
        let after = wal_frames(&w);
        assert!(after < 10, "the WAL started over: {after} frames");
        let n: i64 = reader
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 202, "nothing lost by the checkpoints");
        drop((w, reader));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn lock_waits_are_short_steps_that_end_after_the_limit() {
        let t = std::time::Instant::now();
        assert!(short_waits(0));
        assert!(t.elapsed() < std::time::Duration::from_millis(50));
        let steps = (LOCK_WAIT.as_micros() / LOCK_STEP.as_micros()) as i32;
        assert!(short_waits(steps - 1));
        assert!(!short_waits(steps), "gives up after {LOCK_WAIT:?}");
    }
}
