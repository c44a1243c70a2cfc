//! Pure types and rules of the Population State Register: PSN, names, facts, entries, the person projection
//! with "as of" reads, classifiers and error codes. No I/O and no async: everything here is testable alone.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod access;
pub mod classifiers;
pub mod clock;
pub mod disclosure;
pub mod elements;
pub mod entry;
pub mod error;
pub mod markup;
pub mod merkle;
pub mod model;
pub mod names;
pub mod person;
pub mod psn;
pub mod submission;
pub mod tin;

pub use clock::{Clock, ManualClock, SystemClock};
pub use entry::{Channel, Entry, ExternalIds, NewEntry, Provenance};
pub use error::{Code, DomainError};
pub use model::*;
pub use names::{Name, PersonNames};
pub use person::{AsOf, PersonState};
pub use psn::Psn;
pub use tin::Tin;
