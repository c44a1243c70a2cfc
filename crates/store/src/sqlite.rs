//! Opening the embedded SQLite register: WAL, `synchronous=FULL` (an acknowledged entry survives a power
//! cut), one writer and a pool of readers, and a refusal to open a file that is not ours.

use std::path::Path;
use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

use crate::{StoreError, StoreOptions};

/// `PRAGMA application_id` of a popreg register ("PSR1").
pub const APPLICATION_ID: i64 = 0x5053_5231; // = 1347637809, written literally below

fn foreign(path: &Path, reason: impl Into<String>) -> StoreError {
    StoreError::Foreign {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Check the file before SQLite touches it: an existing non-empty file must carry the SQLite header.
fn check_header(path: &Path) -> Result<(), StoreError> {
    use std::io::Read;
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(foreign(path, format!("cannot open: {e}"))),
    };
    let mut header = [0u8; 16];
    let n = f
        .read(&mut header)
        .map_err(|e| foreign(path, format!("cannot read: {e}")))?;
    if n == 0 {
        return Ok(());
    }
    if n < 16 || &header != b"SQLite format 3\0" {
        return Err(foreign(
            path,
            "not an SQLite database (bad file header); refusing to start",
        ));
    }
    Ok(())
}

/// Readers share the writer's settings but keep a smaller page cache each (16 readers × 8 MiB at most), so
/// that the server's memory stays bounded; the operating system's page cache holds the rest.
fn reader_options(base: SqliteConnectOptions) -> SqliteConnectOptions {
    base.read_only(true).pragma("cache_size", "-8192")
}

pub(crate) async fn open(
    path: &Path,
    opts: &StoreOptions,
) -> Result<(SqlitePool, SqlitePool), StoreError> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| foreign(path, format!("cannot create directory: {e}")))?;
    }
    check_header(path)?;
    let base = SqliteConnectOptions::from_str("sqlite://")
        .map_err(|e| foreign(path, e.to_string()))?
        .filename(path)
        .journal_mode(if opts.bulk {
            SqliteJournalMode::Truncate
        } else {
            SqliteJournalMode::Wal
        })
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(std::time::Duration::from_secs(10))
        // 4 KiB pages (SQLite's default; takes effect when the file is created). Every commit writes each
        // page it touched as a WAL frame, and an online commit (a usage batch, a submission) touches a dozen
        // or more pages: 16 KiB pages, chosen earlier to pack projection documents with less slack (a 21 %
        // smaller file), made the WAL grow by ~100 MB/s under the lookup benchmark and cut its rate by a
        // third (docs/benchmarks.md, 2026-12-03c).
        .page_size(4096)
        .pragma("cache_size", if opts.bulk { "-262144" } else { "-65536" })
        .pragma("temp_store", if opts.bulk { "file" } else { "memory" });
    let write = SqlitePoolOptions::new()
        .max_connections(1)
        // The write lock is shared with the usage writer's own connection (`usage_writer.rs`): wait for it
        // in short steps, not SQLite's default back-off of up to 100 ms a sleep.
        .after_connect(|conn, _| {
            Box::pin(async move {
                let mut handle = conn.lock_handle().await?;
                // SAFETY: the handle is locked (no other use of the connection meanwhile) and the handler is
                // a plain function without state.
                let rc = unsafe {
                    rusqlite::ffi::sqlite3_busy_handler(
                        handle.as_raw_handle().as_ptr(),
                        Some(crate::usage_writer::short_waits_c),
                        std::ptr::null_mut(),
                    )
                };
                if rc != 0 {
                    return Err(sqlx::Error::Protocol(format!(
                        "sqlite3_busy_handler failed ({rc})"
                    )));
                }
                Ok(())
            })
        })
        .acquire_timeout(opts.acquire_timeout.max(std::time::Duration::from_secs(30)))
        .connect_with(base.clone().create_if_missing(true))
        .await
        .map_err(|e| foreign(path, format!("cannot open: {e}")))?;

    // A valid SQLite file of some other application: refuse rather than write our tables into it.
    let app_id: i64 = sqlx::query("PRAGMA application_id")
        .fetch_one(&write)
        .await
        .and_then(|r| r.try_get(0))
        .map_err(|e| foreign(path, format!("unreadable: {e}")))?;
    if app_id != 0 && app_id != APPLICATION_ID {
        write.close().await;
        return Err(foreign(
            path,
            format!("belongs to another application (application_id {app_id:#x})"),
        ));
    }
    if app_id == 0 {
        let tables: i64 =
            sqlx::query("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name <> 'schema_migrations'")
                .fetch_one(&write)
                .await
                .and_then(|r| r.try_get(0))
                .map_err(|e| foreign(path, format!("unreadable: {e}")))?;
        if tables > 0 {
            write.close().await;
            return Err(foreign(
                path,
                "has tables but is not a popreg register (no application_id)",
            ));
        }
        sqlx::query("PRAGMA application_id = 1347637809")
            .execute(&write)
            .await
            .map_err(|e| foreign(path, format!("cannot write: {e}")))?;
    }
    let readers = SqlitePoolOptions::new()
        .max_connections(opts.max_connections.max(1))
        .acquire_timeout(opts.acquire_timeout);
    let read = if opts.bulk {
        // Opened on first use: switching the journal mode needed the writer to be alone.
        readers.connect_lazy_with(reader_options(base))
    } else {
        readers
            .connect_with(reader_options(base))
            .await
            .map_err(|e| foreign(path, format!("cannot open for reading: {e}")))?
    };
    Ok((write, read))
}
