//! Throughput of the generator: persons per second for one million persons, single-threaded.
//!
//! `cargo run --release -p popreg-synth --example synth_speed -- [persons] [seed]`

use std::time::Instant;

use chrono::NaiveDate;
use popreg_synth::{Config, generate};

fn main() {
    let mut args = std::env::args().skip(1);
    let persons: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let seed = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
    let start = Instant::now();
    let (mut batches, mut entries, mut created) = (0usize, 0usize, 0usize);
    for b in generate(&Config {
        persons,
        seed,
        today,
    }) {
        batches += 1;
        entries += b.entries.len();
        created += b.persons();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{created} persons, {batches} batches, {entries} entries in {secs:.2} s: {:.0} persons/s, {:.0} entries/s",
        created as f64 / secs,
        entries as f64 / secs
    );
}
