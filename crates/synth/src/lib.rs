//! A deterministic, realistic synthetic population of Armenia, as register entries: for demos, tests and
//! benchmarks.
//!
//! [`generate`] streams [`Batch`]es, one household each, whose entries can be appended as they come. The same
//! [`Config`] gives byte-identical output on every machine: the generator uses its own PRNG
//! (xoshiro256**, see `rng.rs`), no hash-map iteration order and no floating-point results that differ across
//! platforms in what they decide.
//!
//! What the population looks like (see `household.rs` for the model, `examples/synth_stats.rs` to measure it):
//! - Armenia's age and sex pyramid (about 52-53% women, median age 37-38, the 1990s birth collapse, low
//!   fertility since) and geography weighted by the classifiers' community and settlement populations scaled
//!   to each marz's (Yerevan about 36% of the residents); Yerevan's streets by district;
//! - Armenian names from `data/` (older generations with older names), patronymics in the genitive,
//!   Yazidi, Russian and Assyrian names for those nationalities, Russian surnames by sex; foreigners without
//!   patronymics, named as their passports name them;
//! - families: marriages (women at about 25, men at 29, husband usually older), children linked to both
//!   parents from 1995 and named after the father, children born before the wedding recognized by him,
//!   divorces (about one for five marriages) and remarriages, most brides taking the husband's surname;
//! - deaths at Armenia's mortality over the last eight years (about 5-6% of the register), widowhood; old
//!   widows living alone; men working in Russia; citizens abroad; foreign residents with their passports
//!   and residence documents; and, at a small scale, every other kind of fact the register records.
//!
//! Document numbers: ID card nine digits (`0` + 8); old passport two letters (series by issue period, `AA`..`AP`) +
//! 7 digits; biometric passport `AR`..`AV` + 7 digits; birth certificate `BC` + 7 digits; residence documents a
//! prefix by type (`RS` residence status, `WP` work permit, `070` refugee passport, ...) + 7 digits; foreign
//! passports follow each country's pattern. Armenian document numbers never repeat within a run.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod data;
mod dates;
mod emit;
mod geo;
mod household;
mod names;
mod plan;
mod rng;
#[cfg(test)]
mod tests;

use chrono::NaiveDate;
use popreg_domain::entry::{NewEntry, Provenance};

use crate::data::Tables;
use crate::emit::{Providers, PsnAllocator};
use crate::geo::Geo;
use crate::household::{House, Serials};
use crate::plan::Plan;
use crate::rng::Rng;

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The number of persons created (`Birth` or `Registration` entries), exactly.
    pub persons: usize,
    pub seed: u64,
    /// The generation's "now": no event is dated after it.
    pub today: NaiveDate,
}

/// One household or family group: entries in an order that can be appended as is (each person's `Birth` or
/// `Registration` before any other entry about them; entries referring to another person's PSN only after
/// that person's creating entry, in this batch).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    pub entries: Vec<(Provenance, NewEntry)>,
}

impl Batch {
    /// The number of persons this batch creates.
    pub fn persons(&self) -> usize {
        self.entries
            .iter()
            .filter(|(_, e)| e.fact.creates_person())
            .count()
    }
}

/// Stream the population, household by household. Memory stays bounded (the set of PSNs used so far is the
/// only thing that grows, four bytes a person).
pub fn generate(cfg: &Config) -> impl Iterator<Item = Batch> + use<> {
    Generator::new(cfg)
}

struct Generator {
    today: NaiveDate,
    remaining: usize,
    rng: Rng,
    psns: PsnAllocator,
    serials: Serials,
    tables: &'static Tables,
    geo: Geo,
    providers: Providers,
    plan: Plan,
    /// The next batch's entry vector, allocated before the consumer frees the current batch: a large
    /// allocation right after many small frees makes glibc's allocator consolidate its free lists, which
    /// doubled the generation time.
    spare: Vec<(Provenance, NewEntry)>,
}

/// Entries a batch usually fits in (larger ones grow their vector).
const BATCH_CAPACITY: usize = 512;

impl Generator {
    fn new(cfg: &Config) -> Generator {
        let tables = Tables::get();
        // The classifiers' own tests prove they load; should they not, `classifiers()` is empty and `Geo` falls
        // back to a single settlement rather than failing.
        let geo = Geo::new(popreg_domain::classifiers::classifiers(), tables);
        Generator {
            today: cfg.today,
            remaining: cfg.persons,
            rng: Rng::new(cfg.seed, 0),
            psns: PsnAllocator::new(cfg.seed, cfg.persons.min(1 << 24)),
            serials: Serials::default(),
            tables,
            geo,
            providers: Providers::new(),
            plan: Plan::default(),
            spare: Vec::with_capacity(BATCH_CAPACITY),
        }
    }
}

impl Iterator for Generator {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        if self.remaining == 0 {
            return None;
        }
        self.plan.clear();
        let mut house = House {
            rng: &mut self.rng,
            t: self.tables,
            geo: &self.geo,
            today: self.today,
            serials: &mut self.serials,
            plan: &mut self.plan,
            budget: self.remaining,
        };
        house.plan();
        self.remaining -= self.plan.persons.len().min(self.remaining);
        let mut entries = std::mem::take(&mut self.spare);
        emit::emit(
            &mut self.plan,
            self.tables,
            &self.geo,
            &mut self.psns,
            &self.providers,
            &mut self.rng,
            &mut entries,
        );
        if self.remaining > 0 {
            self.spare = Vec::with_capacity(BATCH_CAPACITY);
        }
        Some(Batch { entries })
    }
}
