//! SQLite's hot read path: the point look-ups that every API read makes — the presented key and its body,
//! the body's grants in force, the person's stored projection — run on plain SQLite connections, directly
//! on the calling task's thread.
//!
//! Why: sqlx runs every SQLite connection on its own worker thread and hands each command and each row
//! across threads through channels. For a look-up that takes SQLite a few microseconds, those hand-offs
//! (futex waits and wake-ups) were half of the server's CPU time in the lookup benchmark
//! (`docs/benchmarks.md`); handing the call to tokio's blocking pool instead still spent a third of it on
//! waking threads. A primary-key look-up in a file the operating system caches is shorter than a thread
//! hand-off, so it runs inline. The price: a look-up that must read the disk holds one runtime thread for
//! that read. Only indexed single-row (or single-body) look-ups run inline ([`HotReaders::run`]); one
//! person's range of the usage log (up to 10,000 rows) runs on the blocking pool
//! ([`HotReaders::run_blocking`]); other scans stay on sqlx.
//!
//! The connections are read-only (`SQLITE_OPEN_READ_ONLY`, `query_only`), opened lazily on the same file as
//! the sqlx pools, at most `max` at a time; in WAL mode each statement sees the latest commit, as the sqlx
//! readers do. Writes never come here. PostgreSQL keeps its sqlx pool (its driver has no such hand-off).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OpenFlags};

use crate::StoreError;

/// A small pool of read-only SQLite connections used from tokio's blocking pool.
pub(crate) struct HotReaders {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    permits: tokio::sync::Semaphore,
}

impl HotReaders {
    pub(crate) fn new(path: PathBuf, max: u32) -> Arc<HotReaders> {
        Arc::new(HotReaders {
            path,
            idle: Mutex::new(Vec::new()),
            permits: tokio::sync::Semaphore::new(max.max(1) as usize),
        })
    }

    /// The register's file.
    pub(crate) fn path(&self) -> &std::path::Path {
        &self.path
    }

    pub(crate) fn open(&self) -> rusqlite::Result<Connection> {
        let c = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // WAL readers wait only in rare recovery cases; never hold a runtime thread long for one.
        c.busy_timeout(std::time::Duration::from_secs(1))?;
        // The same small page cache as the sqlx readers: the operating system's cache holds the rest.
        c.execute_batch("PRAGMA cache_size = -8192; PRAGMA query_only = 1;")?;
        Ok(c)
    }

    /// Wait for a permit and take an idle connection, if there is one.
    async fn checkout(
        &self,
    ) -> Result<(tokio::sync::SemaphorePermit<'_>, Option<Connection>), StoreError> {
        let permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| StoreError::Unavailable("the SQLite readers are closed".into()))?;
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        Ok((permit, idle))
    }

    /// Give a connection back after `out`. A connection whose statement failed for a reason of its own (I/O,
    /// a closed file) is dropped; the next call opens a fresh one.
    fn checkin<T>(&self, conn: Connection, out: &Result<T, StoreError>) {
        if !matches!(out, Err(StoreError::Unavailable(_))) {
            self.idle
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(conn);
        }
    }

    /// Run `f` on an idle connection (opening one if none is idle), on this thread.
    pub(crate) async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&Connection) -> Result<T, StoreError>,
    {
        let (_permit, idle) = self.checkout().await?;
        let conn = match idle {
            Some(c) => c,
            None => self.open()?,
        };
        let out = f(&conn);
        self.checkin(conn, &out);
        out
    }

    /// Run `f` on an idle connection on tokio's blocking pool: for range reads too long to run inline.
    pub(crate) async fn run_blocking<T, F>(self: &Arc<Self>, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (_permit, idle) = self.checkout().await?;
        let me = Arc::clone(self);
        let (conn, out) = tokio::task::spawn_blocking(move || {
            let conn = match idle {
                Some(c) => c,
                None => match me.open() {
                    Ok(c) => c,
                    Err(e) => return (None, Err(StoreError::from(e))),
                },
            };
            let out = f(&conn);
            (Some(conn), out)
        })
        .await
        .map_err(|e| StoreError::Database(format!("reader task failed: {e}")))?;
        if let Some(conn) = conn {
            self.checkin(conn, &out);
        }
        out
    }

    /// Close every idle connection (at shutdown).
    pub(crate) fn close(&self) {
        self.permits.close();
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode as C;
        match &e {
            rusqlite::Error::SqliteFailure(f, _)
                if matches!(
                    f.code,
                    C::DatabaseBusy
                        | C::DatabaseLocked
                        | C::CannotOpen
                        | C::SystemIoFailure
                        | C::NotADatabase
                        | C::DatabaseCorrupt
                ) =>
            {
                StoreError::Unavailable(e.to_string())
            }
            rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::InvalidColumnType(..)
            | rusqlite::Error::IntegralValueOutOfRange(..) => StoreError::Corrupt(e.to_string()),
            _ => StoreError::Database(e.to_string()),
        }
    }
}

/// An instant as sqlx keeps it in SQLite (RFC 3339 text).
pub(crate) fn instant(s: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%:z"))
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| crate::corrupt("timestamp", format!("{s:?}: {e}")))
}

/// An instant as sqlx binds it in SQLite, so that text comparisons with stored instants agree.
pub(crate) fn sqlx_instant(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
}

/// An optional instant column.
pub(crate) fn opt_instant(s: Option<String>) -> Result<Option<DateTime<Utc>>, StoreError> {
    s.as_deref().map(instant).transpose()
}

/// A date as sqlx keeps it in SQLite (`YYYY-MM-DD`).
pub(crate) fn opt_date(s: Option<String>) -> Result<Option<NaiveDate>, StoreError> {
    s.as_deref()
        .map(|d| {
            NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|e| crate::corrupt("date", format!("{d:?}: {e}")))
        })
        .transpose()
}

/// An entry from a row of `entry_columns!()` (the same reading as the sqlx path's `entry_from_row`).
pub(crate) fn entry(r: &rusqlite::Row<'_>) -> Result<popreg_domain::Entry, StoreError> {
    let payload: String = r.get(3)?;
    let subject: String = r.get(1)?;
    let channel: String = r.get(6)?;
    Ok(popreg_domain::Entry {
        id: r.get(0)?,
        subject: popreg_domain::Psn::parse(&subject)
            .map_err(|e| crate::corrupt("entry subject", e))?,
        kind: r.get(2)?,
        fact: serde_json::from_str(&payload).map_err(|e| crate::corrupt("entry payload", e))?,
        provider: r.get(4)?,
        user_uid: r.get(5)?,
        channel: popreg_domain::Channel::parse(&channel)
            .ok_or_else(|| crate::corrupt("entry channel", &channel))?,
        external: popreg_domain::ExternalIds {
            xroad_client: r.get(7)?,
            xroad_id: r.get(8)?,
            xroad_user_id: r.get(9)?,
            xroad_issue: r.get(10)?,
            idempotency_key: r.get(11)?,
        },
        recorded_at: instant(&r.get::<_, String>(12)?)?,
        valid_from: opt_date(r.get(13)?)?,
        valid_to: opt_date(r.get(14)?)?,
        supersedes: r.get(15)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_and_dates_as_sqlx_writes_them_are_read_back() {
        let t = instant("2026-12-03T07:24:46.984311+00:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-12-03T07:24:46.984311+00:00");
        assert_eq!(
            instant("2026-12-03 07:24:46+04:00").unwrap().to_rfc3339(),
            "2026-12-03T03:24:46+00:00"
        );
        assert!(matches!(instant("yesterday"), Err(StoreError::Corrupt(_))));
        assert_eq!(
            opt_date(Some("2027-01-31".into())).unwrap(),
            NaiveDate::from_ymd_opt(2027, 1, 31)
        );
        assert_eq!(opt_date(None).unwrap(), None);
        assert!(opt_date(Some("2027-02-30".into())).is_err());
    }
}
