//! Benchmark of the data-usage log and the audit trail (issue 5), on embedded SQLite in a temporary
//! directory:
//!
//! 1. usage records written through the access gate (`Store::read_person`) by many concurrent readers,
//!    group-committed, until the audit trail holds `--leaves` leaves (default 10,000,000);
//! 2. a signed checkpoint, then `audit verify` over the whole trail (every leaf re-hashed, the tree
//!    rebuilt, every usage row re-hashed against its leaf);
//! 3. the queries behind the citizen's usage page for a person with `leaves / persons` records: the page
//!    (the count, and 100 records: the newest, and deep in the list) and the export (every record).
//!
//! `cargo bench -p popreg --bench audit -- [--leaves N] [--persons P] [--tasks T] [--dir DIR] [--fill sql]`
//!
//! `--fill sql` measures step 3 on a log of the same shape made quickly: one record per person through the
//! gate, then copies of those rows by SQL (interleaved: person `i % P`) up to `--leaves` rows. The copies
//! have no leaves of their own, so step 2 is skipped.
//! Prints timings; the method and figures are recorded in docs/benchmarks.md.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use popreg_domain::access::{BodyType, Caller, Function};
use popreg_domain::*;
use popreg_store::{AuditSigner, NewBody, PersonUsageFilter, Store, StoreOptions, View};

#[path = "shared.rs"]
mod shared;

use shared::arg;

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let leaves = arg("--leaves", 10_000_000);
    let persons = arg("--persons", 1000);
    let tasks = arg("--tasks", 256);
    let args: Vec<String> = std::env::args().collect();
    let tmp = tempfile::tempdir()?;
    let dir = args
        .iter()
        .position(|a| a == "--dir")
        .and_then(|i| args.get(i + 1))
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir)?;
    let url = format!("sqlite:{}", dir.join("register.sqlite").display());
    let store = Store::open(&url, &StoreOptions::default(), Arc::new(SystemClock)).await?;
    store.migrate().await?;
    store.set_audit_signer(AuditSigner::load_or_create(&dir.join("audit.pk8"))?);

    // The persons read, and a body granted everything.
    let psns = shared::psns(persons);
    let prov = shared::provenance();
    let entries = shared::registrations(&psns)?;
    // The persons, for the portal bench's `--psns` (the first has `leaves / persons` records).
    std::fs::write(
        dir.join("psns.txt"),
        psns.iter().map(|p| format!("{p}\n")).collect::<String>(),
    )?;
    // A second run over the same --dir re-measures on the data already there.
    let fresh = store.count_persons().await? == 0;
    if fresh {
        store.append(&prov, entries).await?;
        store
            .create_body(
                "bench",
                &NewBody {
                    id: "OPS-B".into(),
                    body_type: BodyType::Operator,
                    name_hy: "Չափումներ".into(),
                    name_en: "Benchmark".into(),
                    name_ru: "Замеры".into(),
                    xroad_member: None,
                    contact_email: None,
                },
            )
            .await?;
        store
            .add_grant(
                "bench",
                "OPS-B",
                &["person.*".into()],
                "benchmark",
                "none",
                None,
            )
            .await?;
    }
    let caller = Caller {
        body_id: "OPS-B".into(),
        body_type: BodyType::Operator,
        user_uid: "bench".into(),
        functions: vec![Function::ReadPersons],
        channel: Channel::Api,
        external: ExternalIds::default(),
    };
    println!(
        "== machine: {} cores; SQLite in {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        dir.display()
    );

    let by_sql = args.windows(2).any(|w| w[0] == "--fill" && w[1] == "sql");

    // 1. Usage records through the gate.
    let start_leaves = store.audit_size().await? as u64;
    let want = match by_sql {
        // One record per person, copied by SQL below.
        true if fresh => persons,
        true => 0,
        false => leaves.saturating_sub(start_leaves),
    };
    let next = Arc::new(AtomicU64::new(0));
    let psns = Arc::new(psns);
    let t = Instant::now();
    let mut handles = vec![];
    for _ in 0..tasks {
        let (store, caller, next, psns) =
            (store.clone(), caller.clone(), next.clone(), psns.clone());
        handles.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= want {
                    return Ok::<(), popreg_store::StoreError>(());
                }
                let p = psns[(i % psns.len() as u64) as usize];
                store.read_person(&caller, p, View::Exists).await?;
                if i > 0 && i % 1_000_000 == 0 {
                    eprintln!("  {i} usage records");
                }
            }
        }));
    }
    for h in handles {
        h.await??;
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "usage records through the gate: {want} in {secs:.1} s = {:.0}/s ({tasks} concurrent readers, group commit)",
        want as f64 / secs
    );

    if by_sql {
        fill_by_sql(&dir.join("register.sqlite"), leaves, persons).await?;
    } else {
        checkpoint_and_verify(&store).await?;
    }

    // 3. The citizen's usage page and export: every record about one person.
    let person = psns[0];
    let every = PersonUsageFilter::default();
    let total = store.count_usage_for_person(person, &every).await?;
    let all = store
        .usage_for_person(person, None, None, None, 10_000)
        .await?;
    let deep = all.get(all.len() / 2).map(|r| r.id);
    let median = |mut times: Vec<f64>| {
        times.sort_by(f64::total_cmp);
        (times[times.len() / 2], times[times.len() - 1])
    };
    for (what, before) in [("first page", None), ("a page in the middle", deep)] {
        let mut times = vec![];
        for _ in 0..50 {
            let t = Instant::now();
            let page = PersonUsageFilter { before, ..every };
            let (n, rows) = tokio::try_join!(
                store.count_usage_for_person(person, &every),
                store.usage_page_for_person(person, &page, 101),
            )?;
            if before.is_some() {
                store.count_usage_for_person(person, &page).await?;
            }
            anyhow::ensure!(n == total && rows.len() == 101.min(total as usize));
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let (med, max) = median(times);
        println!(
            "citizen usage page, {what}: count of {total} + 101 records, median {med:.2} ms, max {max:.2} ms (50 runs)"
        );
    }
    let mut times = vec![];
    let mut count = 0;
    for _ in 0..20 {
        let t = Instant::now();
        count = store
            .usage_for_person(person, None, None, None, 10_000)
            .await?
            .len();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let (med, max) = median(times);
    println!(
        "citizen usage export query (every record): {count} records, median {med:.1} ms, max {max:.1} ms (20 runs)"
    );
    store.close().await;
    Ok(())
}

/// Copies of the gate's records by SQL up to `leaves` rows in all, person `i % persons` for row `i`.
async fn fill_by_sql(file: &std::path::Path, leaves: u64, persons: u64) -> anyhow::Result<()> {
    use sqlx::Connection;
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite:{}", file.display())).await?;
    let have: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM usage_log")
        .fetch_one(&mut c)
        .await?;
    let want = leaves.saturating_sub(have as u64);
    let t = Instant::now();
    sqlx::query("PRAGMA busy_timeout = 10000")
        .execute(&mut c)
        .await?;
    sqlx::query(
        "CREATE TEMP TABLE tmpl AS SELECT row_number() OVER (ORDER BY id) - 1 AS k, * FROM usage_log \
         WHERE body_id <> 'SELF' ORDER BY id LIMIT $1",
    )
    .bind(persons as i64)
    .execute(&mut c)
    .await?;
    sqlx::query("CREATE UNIQUE INDEX temp.tmpl_k ON tmpl (k)")
        .execute(&mut c)
        .await?;
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tmpl")
        .fetch_one(&mut c)
        .await?;
    anyhow::ensure!(n > 0, "no gate records to copy");
    let mut done = 0u64;
    while done < want {
        let step = (want - done).min(1_000_000);
        sqlx::query(
            "WITH RECURSIVE s(i) AS (SELECT $1 UNION ALL SELECT i + 1 FROM s WHERE i < $2) \
             INSERT INTO usage_log (at, psn, body_id, user_uid, channel, action, elements, purpose, legal_basis, \
             xroad_client, xroad_id, xroad_user_id, xroad_issue, audit_seq) \
             SELECT t.at, t.psn, t.body_id, t.user_uid, t.channel, t.action, t.elements, t.purpose, \
             t.legal_basis, t.xroad_client, t.xroad_id, t.xroad_user_id, t.xroad_issue, t.audit_seq \
             FROM s JOIN tmpl t ON t.k = s.i % $3",
        )
        .bind(done as i64)
        .bind((done + step - 1) as i64)
        .bind(n)
        .execute(&mut c)
        .await?;
        done += step;
        eprintln!("  {} usage rows", have as u64 + done);
    }
    println!(
        "usage rows copied by SQL (not through the gate; step 2 skipped): {want} in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    c.close().await?;
    Ok(())
}

/// Step 2: a signed checkpoint, then `audit verify` over the whole trail.
async fn checkpoint_and_verify(store: &Store) -> anyhow::Result<()> {
    let t = Instant::now();
    let cp = store.audit_checkpoint().await?;
    println!(
        "checkpoint of {} leaves signed in {:.3} s",
        cp.size,
        t.elapsed().as_secs_f64()
    );
    let (_, key) = store
        .audit_public_key()
        .ok_or_else(|| anyhow::anyhow!("no key"))?;
    let t = Instant::now();
    let report = store.audit_verify(&key).await?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "audit verify: {} leaves, {} rows re-hashed, {} findings, in {secs:.1} s",
        report.leaves,
        report.rows_checked,
        report.findings.len()
    );
    anyhow::ensure!(
        report.ok(),
        "the trail does not verify: {:?}",
        report.findings
    );

    Ok(())
}
