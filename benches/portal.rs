//! Benchmark of the e-Citizen portal's two busiest pages (issue "portal", performance): the desk `/my` and
//! "my data" `/my/data`, over HTTP, by `--users` concurrent logged-in persons (default 50) for `--secs`
//! seconds each page, against an existing register (e.g. the 3,000,000 persons of `benches/run.sh`).
//!
//! `cargo bench -p popreg --bench portal -- --dir DIR --psns FILE [--users 50] [--secs 20] [--pages /my,/my/data]`
//!
//! `--pages` names other pages to measure the same way, e.g. `/my/usage` over the register that
//! `benches/audit.rs` fills (its `--dir` holds a `psns.txt` whose first person has `leaves / persons` usage
//! records), with `--users 1`.
//!
//! - `DIR` is a data directory made by `popreg generate` (SQLite); `FILE` a list of its PSNs, one per line
//!   (`benches/run.sh` writes one: `psns.txt`).
//! - The server runs in this process (`popreg::app::start`, the same router and settings as `popreg serve`),
//!   on 127.0.0.1, with sessions opened for `--users` persons drawn from the list (the store's own
//!   `open_session`, as an ID-card login does). Each user is a task that requests its page again as soon as
//!   the last answer is read (closed loop, keep-alive), like `wrk` does.
//! - Reported: requests/s and the latency of each request as the client measured it (p50/p90/p99/p99.9,
//!   max), which is an upper bound of the server's time: it includes the client's own work on the same two
//!   cores; and the server's own time per route from its Prometheus histogram
//!   (`popreg_http_request_duration_seconds`, buckets 10/20/25/30/40/50 ms): the share answered within each bound.
//!   Every "my data" answer wrote its usage record durably before it was sent (`Store::read_own`).
//!
//! Results, method and machine: `docs/benchmarks.md`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use popreg_domain::{Psn, SystemClock};
use popreg_store::{LoginContext, LoginMethod, SessionLimits};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p / 100.0).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let dir = std::path::PathBuf::from(arg("--dir").ok_or_else(|| anyhow::anyhow!("--dir DIR"))?);
    let psns_file = arg("--psns").ok_or_else(|| anyhow::anyhow!("--psns FILE"))?;
    let users: usize = arg("--users").and_then(|v| v.parse().ok()).unwrap_or(50);
    let secs: u64 = arg("--secs").and_then(|v| v.parse().ok()).unwrap_or(20);
    let pages = arg("--pages").unwrap_or_else(|| "/my,/my/data".into());
    let mut psns = vec![];
    for line in std::fs::read_to_string(&psns_file)?.lines().take(users) {
        psns.push(Psn::parse(line.trim())?);
    }
    anyhow::ensure!(
        psns.len() == users,
        "{psns_file} has fewer than {users} PSNs"
    );

    let mut cfg = popreg::config::Config::default();
    cfg.storage.data_dir = dir.clone();
    cfg.server.listen = "127.0.0.1:0".into();
    cfg.portal.secure_cookies = false;
    let store = popreg::app::open_store(&cfg, Arc::new(SystemClock)).await?;
    let limits = SessionLimits {
        idle: chrono::Duration::hours(1),
        absolute: chrono::Duration::hours(2),
    };
    let mut cookies = vec![];
    for p in &psns {
        let (token, _) = store
            .open_session(*p, LoginMethod::IdCard, limits, &LoginContext::default())
            .await?;
        cookies.push(format!("psr_session={token}"));
    }
    let running = popreg::app::start(&cfg, store).await?;
    let url = running.url();
    println!(
        "== machine: {} cores; register {}; {users} users, {secs} s per page",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        dir.display()
    );
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(users)
        .build()?;
    for page in pages.split(',') {
        // Warm-up: every user once.
        for c in &cookies {
            let r = client
                .get(format!("{url}{page}"))
                .header("Cookie", c)
                .send()
                .await?;
            anyhow::ensure!(r.status() == 200, "{page}: {}", r.status());
            r.bytes().await?;
        }
        let until = Instant::now() + Duration::from_secs(secs);
        let mut tasks = vec![];
        for c in cookies.clone() {
            let (client, target) = (client.clone(), format!("{url}{page}"));
            tasks.push(tokio::spawn(async move {
                let mut lat = vec![];
                let mut errors = 0u64;
                while Instant::now() < until {
                    let t = Instant::now();
                    match client.get(&target).header("Cookie", &c).send().await {
                        Ok(r) if r.status() == 200 => {
                            if r.bytes().await.is_err() {
                                errors += 1;
                            }
                        }
                        _ => errors += 1,
                    }
                    lat.push(t.elapsed());
                }
                (lat, errors)
            }));
        }
        let mut all = vec![];
        let mut errors = 0;
        for t in tasks {
            let (l, e) = t.await?;
            all.extend(l);
            errors += e;
        }
        all.sort();
        println!(
            "{page}: {} requests, {:.0} requests/s, latency p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, \
             p99.9 {:.2} ms, max {:.2} ms, errors {errors}",
            all.len(),
            all.len() as f64 / secs as f64,
            percentile(&all, 50.0),
            percentile(&all, 90.0),
            percentile(&all, 99.0),
            percentile(&all, 99.9),
            all.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
        );
        // The server's own time for this route, from its Prometheus histogram (warm-up included): the
        // share of requests answered within each bucket bound around the 30 ms target.
        let metrics = client
            .get(format!("{url}/metrics"))
            .send()
            .await?
            .text()
            .await?;
        let bucket = |le: &str| -> f64 {
            let key = format!(
                "popreg_http_request_duration_seconds_bucket{{method=\"GET\",route=\"{page}\",le=\"{le}\"}}"
            );
            metrics
                .lines()
                .find(|l| l.starts_with(&key))
                .and_then(|l| l.rsplit(' ').next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0.0)
        };
        let total = bucket("+Inf");
        println!(
            "{page}: server time (histogram of {total} requests): {:.2}% within 10 ms, {:.2}% within 20 ms, \
             {:.2}% within 25 ms, {:.2}% within 30 ms, {:.2}% within 40 ms, {:.2}% within 50 ms",
            100.0 * bucket("0.01") / total.max(1.0),
            100.0 * bucket("0.02") / total.max(1.0),
            100.0 * bucket("0.025") / total.max(1.0),
            100.0 * bucket("0.03") / total.max(1.0),
            100.0 * bucket("0.04") / total.max(1.0),
            100.0 * bucket("0.05") / total.max(1.0),
        );
    }
    running.shutdown().await?;
    Ok(())
}
