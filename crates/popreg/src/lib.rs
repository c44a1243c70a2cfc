//! The popreg application: configuration, wiring and the operator commands. The binary (`main.rs`) is a thin
//! CLI over this library, so integration tests start the same server the operator does.

pub mod admin;
pub mod app;
pub mod config;
pub mod devca;
pub mod dkim;
pub mod https;
pub mod import;
