//! The one integration-test binary: store conformance (SQLite and PostgreSQL), the HTTP API against a real
//! server on port 0, the CLI.

mod access;
mod admin;
mod api;
mod audit;
mod booking;
mod browser;
mod cli;
mod common;
mod identity;
mod inbound_mail;
mod matrix;
mod mobile_id;
mod my_usage;
mod notices;
mod notifications_api;
mod notify;
mod portal;
mod registries;
mod schemas;
mod sms;
mod store;
mod submit;
mod templates;
mod webhooks;
mod workspace;
