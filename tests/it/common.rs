//! Test harness: fresh databases per test (SQLite in a temp dir, PostgreSQL as a new database on the server
//! named by `POPREG_TEST_PG_URL`), and sample facts.
//!
//! PostgreSQL is never skipped: without `POPREG_TEST_PG_URL` the PostgreSQL tests fail and say how to run
//! them (`./scripts/test.sh` provides a server).
#![allow(dead_code)]

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use popreg_domain::*;
use popreg_store::{Store, StoreOptions};

pub const SQLITE: &str = "sqlite";
pub const POSTGRES: &str = "postgres";

/// A fresh, migrated database for one test. Dropping it removes it.
pub struct TestDb {
    pub url: String,
    pub store: Store,
    pub clock: Arc<ManualClock>,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

pub fn pg_admin_url() -> String {
    std::env::var("POPREG_TEST_PG_URL").unwrap_or_else(|_| {
        panic!(
            "POPREG_TEST_PG_URL is not set: PostgreSQL tests are never skipped. Run ./scripts/test.sh, which \
             provides a server, or set POPREG_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/postgres"
        )
    })
}

fn unique_name() -> String {
    let n: u64 = getrandom_u64();
    format!("popreg_t_{:x}_{}", n, std::process::id())
}

fn getrandom_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    h.finish()
}

/// Replace the database name of a PostgreSQL URL.
pub fn with_db(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[scheme_end..].find('/').map(|i| i + scheme_end);
    let host = match path_start {
        Some(i) => &base[..i],
        None => base,
    };
    match query {
        Some(q) => format!("{host}/{db}?{q}"),
        None => format!("{host}/{db}"),
    }
}

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 15, 9, 0, 0).unwrap()
}

impl TestDb {
    pub async fn new(kind: &str) -> TestDb {
        match kind {
            SQLITE => TestDb::sqlite().await,
            _ => TestDb::postgres().await,
        }
    }

    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("register.sqlite").display());
        let clock = Arc::new(ManualClock::new(t0()));
        let store = Store::open(&url, &StoreOptions::default(), clock.clone())
            .await
            .unwrap();
        store.migrate().await.unwrap();
        TestDb {
            url,
            store,
            clock,
            _dir: Some(dir),
            pg: None,
        }
    }

    pub async fn postgres() -> TestDb {
        let admin = pg_admin_url();
        let name = unique_name();
        let pool = sqlx::PgPool::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin}: {e}"));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        let url = with_db(&admin, &name);
        let clock = Arc::new(ManualClock::new(t0()));
        let store = Store::open(&url, &StoreOptions::default(), clock.clone())
            .await
            .unwrap();
        store.migrate().await.unwrap();
        TestDb {
            url,
            store,
            clock,
            _dir: None,
            pg: Some((admin, name)),
        }
    }

    /// A raw connection pool for tests that go around the store on purpose (tampering).
    pub async fn raw_pg(&self) -> sqlx::PgPool {
        sqlx::PgPool::connect(&self.url).await.unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg.take() {
            // Best effort, on its own runtime: the test's runtime may be shutting down.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async move {
                    if let Ok(pool) = sqlx::PgPool::connect(&admin).await {
                        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                        )))
                        .execute(&pool)
                        .await;
                    }
                });
            })
            .join();
        }
    }
}

/// Run one async conformance test body against SQLite and PostgreSQL: generates `sqlite_NAME` and
/// `postgres_NAME` tests.
#[macro_export]
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::TestDb::new($crate::common::SQLITE).await).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::TestDb::new($crate::common::POSTGRES).await).await
                }
            )*
        }
    };
}

pub fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

pub fn names(first: &str, patronymic: Option<&str>, surname: &str) -> PersonNames {
    PersonNames {
        first: Name::armenian(first).unwrap(),
        patronymic: patronymic.map(|p| Name::armenian(p).unwrap()),
        surname: Name::armenian(surname).unwrap(),
    }
}

pub fn yerevan() -> Place {
    Place {
        country: "AM".into(),
        marz: Some("AM-ER".into()),
        community: Some("AM-ER-001".into()),
        ..Default::default()
    }
}

pub fn address(street: &str) -> Address {
    Address {
        country: "AM".into(),
        marz: Some("AM-ER".into()),
        community: Some("AM-ER-001".into()),
        street: Some(street.into()),
        building: Some("12".into()),
        apartment: Some("5".into()),
        postcode: Some("0010".into()),
        ..Default::default()
    }
}

pub fn prov(provider: &str) -> Provenance {
    Provenance {
        provider: provider.into(),
        user_uid: format!("uid-{provider}-1"),
        channel: Channel::Api,
        external: ExternalIds::default(),
    }
}

pub fn psn(n: u64) -> Psn {
    let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xDEAD_BEEF;
    Psn::allocate(&mut || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        x >> 7
    })
}

pub fn registration(first: &str, surname: &str, born: NaiveDate, sex: Sex) -> Fact {
    Fact::Registration {
        names: names(first, Some("Արամի"), surname),
        birth_date: born,
        birth_place: yerevan(),
        sex,
    }
}

/// Register a couple, a mother born 10 March 1995 and a father born 1 July 1993, with the given PSNs and
/// surname (the parents most submission tests start from).
pub async fn register_parents(store: &Store, mother: Psn, father: Psn, surname: &str) {
    store
        .append(
            &prov("MIGR-01"),
            vec![
                NewEntry::new(mother, registration("Անի", surname, d(1995, 3, 10), Sex::F)),
                NewEntry::new(
                    father,
                    registration("Դավիթ", surname, d(1993, 7, 1), Sex::M),
                ),
            ],
        )
        .await
        .unwrap();
}

/// The configuration the tests start servers with: the defaults, with the data directory (which holds the
/// audit signing key) in one temporary directory for the whole test process.
pub fn test_config() -> popreg::config::Config {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    let dir = DIR.get_or_init(|| tempfile::tempdir().unwrap());
    let mut cfg = popreg::config::Config::default();
    cfg.storage.data_dir = dir.path().to_path_buf();
    cfg
}
