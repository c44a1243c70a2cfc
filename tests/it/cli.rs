//! The operator commands, run as the real binary.

use std::process::Command;

use popreg_domain::{AsOf, PersonState};

pub(crate) fn popreg() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_popreg"));
    for (k, _) in std::env::vars() {
        if k.starts_with("POPREG_") {
            c.env_remove(k);
        }
    }
    c
}

#[test]
fn default_config_prints_a_valid_commented_example() {
    let out = popreg().arg("default-config").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("# "), "commented");
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("popreg.toml");
    std::fs::write(&f, &text).unwrap();
    let out = popreg()
        .args(["check-config", "--config"])
        .arg(&f)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("configuration is valid"));
}

#[test]
fn check_config_names_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.toml");
    std::fs::write(&f, "[server]\nlisten = \"not an address\"\n").unwrap();
    let out = popreg()
        .args(["check-config", "--config"])
        .arg(&f)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("server.listen"));
    let out = popreg()
        .args(["check-config"])
        .env("POPREG_MAX_CONNECTIONS", "lots")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("POPREG_MAX_CONNECTIONS"));
}

#[test]
fn a_corrupt_or_foreign_sqlite_file_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("register.sqlite");
    std::fs::write(
        &file,
        b"this is not a database at all, just some text that is long enough",
    )
    .unwrap();
    let out = popreg()
        .args(["migrate", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&file.display().to_string()) && err.contains("not an SQLite database"),
        "{err}"
    );

    // A real SQLite database of some other application.
    let other = tempfile::tempdir().unwrap();
    let ofile = other.path().join("register.sqlite");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}?mode=rwc", ofile.display()))
            .await
            .unwrap();
        sqlx::query("CREATE TABLE invoices (id INTEGER)")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    });
    let out = popreg()
        .args(["migrate", "--data-dir"])
        .arg(other.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&ofile.display().to_string()) && err.contains("not a popreg register"),
        "{err}"
    );
}

#[test]
fn generate_then_migrate_again_is_a_no_op() {
    let dir = tempfile::tempdir().unwrap();
    let out = popreg()
        .args(["generate", "--persons", "300", "--seed", "7", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("generated 300 persons"));
    let out = popreg()
        .args(["migrate", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("[]"),
        "nothing left to apply"
    );
}

/// kill -9 in the middle of an import: every committed transaction is whole, nothing is half-written, and
/// the projection agrees with the log for every person.
#[test]
fn kill_9_during_import_loses_no_committed_batch_and_leaves_no_half_entry() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = popreg()
        .args([
            "generate",
            "--persons",
            "400000",
            "--seed",
            "3",
            "--chunk",
            "2000",
            "--data-dir",
        ])
        .arg(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let db = dir.path().join("register.sqlite");
    // Wait until some transactions have committed, then kill without warning.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let rt = tokio::runtime::Runtime::new().unwrap();
    loop {
        std::thread::sleep(std::time::Duration::from_millis(200));
        let n = rt.block_on(async {
            let Ok(pool) =
                sqlx::SqlitePool::connect(&format!("sqlite:{}?mode=ro", db.display())).await
            else {
                return 0;
            };
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM persons")
                .fetch_one(&pool)
                .await
                .unwrap_or(0);
            pool.close().await;
            n
        });
        if n >= 3000 || std::time::Instant::now() > deadline {
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    rt.block_on(async {
        let store = popreg_store::Store::open(
            &format!("sqlite:{}", db.display()),
            &popreg_store::StoreOptions::default(),
            std::sync::Arc::new(popreg_domain::SystemClock),
        )
        .await
        .unwrap();
        store.migrate().await.unwrap();
        let persons = store.count_persons().await.unwrap();
        assert!(persons >= 3000, "committed batches survive: {persons}");
        assert!(persons < 400_000, "the kill came mid-import");
        let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}?mode=ro", db.display())).await.unwrap();
        let ok: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&pool).await.unwrap();
        assert_eq!(ok, "ok");
        let created: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM entries WHERE kind IN ('birth', 'registration')")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(created, persons, "every created person has its projection, and no projection lacks its log");
        let orphans: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM entries e WHERE NOT EXISTS (SELECT 1 FROM persons p WHERE p.psn = e.subject_psn)")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(orphans, 0, "no entry about a person whose batch was lost");
        // Spot-check: the stored projection equals a fresh fold of the log.
        let psns: Vec<String> = sqlx::query_scalar("SELECT psn FROM persons ORDER BY random() LIMIT 200").fetch_all(&pool).await.unwrap();
        for p in psns {
            let p = popreg_domain::Psn::parse(&p).unwrap();
            let folded = PersonState::fold(&store.unaudited().entries(p).await.unwrap(), AsOf::default()).unwrap();
            assert_eq!(store.unaudited().person(p).await.unwrap().unwrap(), folded);
        }
    });
}
