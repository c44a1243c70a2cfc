//! Schema migrations, one SQL file per dialect and version, embedded in the binary. Applied in order inside
//! a transaction each; the `schema_migrations` table records what ran. On PostgreSQL an advisory lock keeps
//! two starting servers from migrating at once.

use sqlx::{PgPool, Row, SqlitePool};

use crate::StoreError;

/// One migration: the same file name under `migrations/sqlite/` and `migrations/postgres/`.
macro_rules! migration {
    ($version:literal, $name:literal, $file:literal) => {
        (
            $version,
            $name,
            include_str!(concat!("../migrations/sqlite/", $file)),
            include_str!(concat!("../migrations/postgres/", $file)),
        )
    };
}

/// (version, name, SQLite text, PostgreSQL text), in order. A new migration is one more line.
pub const MIGRATIONS: &[(i64, &str, &str, &str)] = &[
    migration!(1, "register", "0001_register.sql"),
    migration!(2, "access", "0002_access.sql"),
    migration!(3, "submissions", "0003_submissions.sql"),
    migration!(4, "audit", "0004_audit.sql"),
    migration!(5, "sessions", "0005_sessions.sql"),
    migration!(6, "notifications", "0006_notifications.sql"),
    migration!(7, "sms", "0007_sms.sql"),
    migration!(8, "mobile_id", "0008_mobile_id.sql"),
    migration!(9, "notices", "0009_notices.sql"),
    migration!(10, "agency_certs", "0010_agency_certs.sql"),
    migration!(11, "inbound_mail", "0011_inbound_mail.sql"),
    migration!(12, "restrictions", "0012_restrictions.sql"),
    migration!(13, "appointments", "0013_appointments.sql"),
    migration!(14, "template_versions", "0014_template_versions.sql"),
    migration!(15, "webhooks", "0015_webhooks.sql"),
    migration!(16, "usage_person_index", "0016_usage_person_index.sql"),
    migration!(17, "person_fold_tail", "0017_person_fold_tail.sql"),
];

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)";

pub(crate) async fn run_sqlite(pool: &SqlitePool) -> Result<Vec<i64>, StoreError> {
    sqlx::query(CREATE_TABLE).execute(pool).await?;
    let mut applied = vec![];
    for (version, name, sql, _) in MIGRATIONS {
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
        let done = sqlx::query("SELECT 1 FROM schema_migrations WHERE version = $1")
            .bind(version)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        if done {
            continue;
        }
        sqlx::raw_sql(sqlx::AssertSqlSafe(*sql))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
        )
        .bind(version)
        .bind(name)
        .bind(chrono::Utc::now().to_rfc3339())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        applied.push(*version);
    }
    Ok(applied)
}

pub(crate) async fn run_postgres(pool: &PgPool) -> Result<Vec<i64>, StoreError> {
    let mut tx = pool.begin().await?;
    // Serialise concurrent migrators; released at commit.
    sqlx::query("SELECT pg_advisory_xact_lock(5053523101)")
        .execute(&mut *tx)
        .await?;
    sqlx::query(CREATE_TABLE).execute(&mut *tx).await?;
    let mut applied = vec![];
    for (version, name, _, sql) in MIGRATIONS {
        let done = sqlx::query("SELECT version FROM schema_migrations WHERE version = $1")
            .bind(version)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get::<i64, _>(0))
            .transpose()?
            .is_some();
        if done {
            continue;
        }
        sqlx::raw_sql(sqlx::AssertSqlSafe(*sql))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
        )
        .bind(version)
        .bind(name)
        .bind(chrono::Utc::now().to_rfc3339())
        .execute(&mut *tx)
        .await?;
        applied.push(*version);
    }
    tx.commit().await?;
    Ok(applied)
}
