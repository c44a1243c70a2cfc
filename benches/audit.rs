//! Benchmark of the data-usage log and the audit trail (issue 5), on embedded SQLite in a temporary
//! directory:
//!
//! 1. usage records written through the access gate (`Store::read_person`) by many concurrent readers,
//!    group-committed, until the audit trail holds `--leaves` leaves (default 10,000,000);
//! 2. a signed checkpoint, then `audit verify` over the whole trail (every leaf re-hashed, the tree
//!    rebuilt, every usage row re-hashed against its leaf);
//! 3. the query behind the citizen's usage page for a person with `leaves / persons` records.
//!
//! `cargo bench -p popreg --bench audit -- [--leaves N] [--persons P] [--tasks T] [--dir DIR]`
//! Prints timings; the method and figures are recorded in docs/benchmarks.md.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use popreg_domain::access::{BodyType, Caller, Function};
use popreg_domain::*;
use popreg_store::{AuditSigner, NewBody, Store, StoreOptions, View};

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

    // 1. Usage records through the gate.
    let start_leaves = store.audit_size().await? as u64;
    let want = leaves.saturating_sub(start_leaves);
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

    // 2. Checkpoint and verify.
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

    // 3. The citizen's usage query: every record about one person.
    let mut times = vec![];
    let mut count = 0;
    for _ in 0..20 {
        let t = Instant::now();
        count = store
            .usage_for_person(psns[0], None, None, None, 10_000)
            .await?
            .len();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "citizen usage query: {count} records, median {:.1} ms, max {:.1} ms (20 runs)",
        times[times.len() / 2],
        times[times.len() - 1]
    );
    store.close().await;
    Ok(())
}
