//! Connectors to other authorities' registries. Each speaks a documented HTTP contract (see
//! `docs/connectors.md`); tests and the demo run [`tax::FakeTaxRegistry`], a small local server that speaks
//! the same contract, since the real registries are other authorities' systems.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod tax;
