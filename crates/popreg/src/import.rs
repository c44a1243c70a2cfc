//! Loading a generated population through the register's own append path, in large transactions.
//! Each transaction is whole or absent: a crash (even kill -9) loses at most the batch in flight and never
//! leaves half of one behind.

use std::time::Instant;

use popreg_store::Store;
use popreg_synth::Config as SynthConfig;

/// What an import did.
#[derive(Clone, Debug, Default)]
pub struct ImportStats {
    pub persons: usize,
    pub entries: usize,
    pub transactions: usize,
    pub seconds: f64,
}

impl ImportStats {
    pub fn persons_per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.persons as f64 / self.seconds
        } else {
            0.0
        }
    }
}

/// Generate `cfg.persons` persons and append them in transactions of about `chunk_entries` entries.
/// `progress` is called after each committed transaction. The store's secondary indexes are dropped for the
/// load and built at the end (see [`Store::begin_bulk_load`]): run this offline, not beside a serving server.
///
/// The generator runs on a thread of its own, a chunk or two ahead of the database (two cores: one makes
/// the population, the other writes it).
pub async fn generate_into(
    store: &Store,
    cfg: &SynthConfig,
    chunk_entries: usize,
    mut progress: impl FnMut(&ImportStats),
) -> anyhow::Result<ImportStats> {
    let start = Instant::now();
    let mut stats = ImportStats::default();
    store.begin_bulk_load().await?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(Vec<_>, usize)>(2);
    let producer = {
        let cfg = cfg.clone();
        std::thread::spawn(move || {
            let mut pending = Vec::with_capacity(chunk_entries + 64);
            let mut pending_persons = 0usize;
            for batch in popreg_synth::generate(&cfg) {
                pending_persons += batch
                    .entries
                    .iter()
                    .filter(|(_, e)| e.fact.creates_person())
                    .count();
                pending.extend(batch.entries);
                if pending.len() >= chunk_entries {
                    let full =
                        std::mem::replace(&mut pending, Vec::with_capacity(chunk_entries + 64));
                    if tx.blocking_send((full, pending_persons)).is_err() {
                        return; // the importer stopped (it failed): nothing more to make
                    }
                    pending_persons = 0;
                }
            }
            if !pending.is_empty() {
                let _ = tx.blocking_send((pending, pending_persons));
            }
        })
    };
    while let Some((chunk, persons)) = rx.recv().await {
        stats.entries += chunk.len();
        store.append_mixed(chunk).await?;
        stats.persons += persons;
        stats.transactions += 1;
        stats.seconds = start.elapsed().as_secs_f64();
        progress(&stats);
    }
    producer
        .join()
        .map_err(|_| anyhow::anyhow!("the population generator panicked"))?;
    // Index building is part of the import's time.
    store.finish_bulk_load().await?;
    stats.seconds = start.elapsed().as_secs_f64();
    progress(&stats);
    Ok(stats)
}
