//! Notifications (A1.52–A1.54, architecture principle 5): the worker that delivers the outbox's e-mails over
//! SMTP with retries, the hy/en/ru templates they are rendered from, and the reminder for rejections left
//! uncorrected past the deadline.
//!
//! The outbox rows are written by the change that causes them, in its transaction (`popreg-store`); this
//! crate only reads and delivers them. A message is never dropped: a failed attempt is retried with
//! exponential backoff (30 s doubling, at most an hour apart), for as long as it takes.
//!
//! SMS (G.7) is a channel of its own: [`sms`] (encoding, parts, Armenian numbers, the [`sms::SmsSender`]
//! interface), [`smpp`] (an SMPP 3.4 client) and [`sms_http`] (an HTTP gateway client). The worker delivers
//! the outbox's `sms` rows through it when `[notify.sms]` names a provider ([`deliver_sms_due`]) and records
//! the delivery receipts ([`record_receipts`]).
//!
//! Webhooks of providers (A1.52) are a channel of their own too: [`webhook`] POSTs the events of
//! `webhook_outbox`, signed with HMAC-SHA256, with the same backoff.
//!
//! For the binary: [`NotifyConfig`] is the `[notify]` section, and [`spawn`] starts the worker (or nothing
//! when `notify.enabled` is false); [`webhook::spawn`] starts the webhook worker.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod capture;
mod config;
pub mod html;
pub mod inbound;
mod mailer;
mod relay;
pub mod smpp;
pub mod sms;
pub mod sms_http;
mod sms_worker;
pub mod templates;
pub mod webhook;
mod worker;

/// A TLS server of the tests: a private CA and a certificate it signed for `name`.
#[cfg(test)]
pub(crate) fn test_tls(name: &str) -> (tokio_rustls::TlsAcceptor, rcgen::Certificate) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec![name.to_string()])
        .unwrap()
        .signed_by(&key, &Issuer::from_params(&ca_params, &ca_key))
        .unwrap();
    let server = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![leaf.der().clone()],
        rustls_pki_types::PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
    )
    .unwrap();
    (
        tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(server)),
        ca,
    )
}

use std::fmt;

pub use config::{
    InboundConfig, NotifyConfig, PortalConfig, Secret, Security, SmppConfig, SmsConfig,
    SmsHttpConfig, SmsProviderKind, SmtpConfig,
};
pub use mailer::Mailer;
pub use sms_worker::{apply_report, deliver_sms_due, record_receipts};
pub use templates::{Rendered, TemplateError, TemplateText};
pub use worker::{
    Delivered, RETRY_BASE, RETRY_CAP, backoff, deliver_due, enqueue_reminders, run,
    run_with_reminders, spawn, spawn_with_capture,
};

/// Errors of the notification worker. The SMTP password never appears in one.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    Store(#[from] popreg_store::StoreError),
    #[error("invalid notification settings: {0}")]
    Config(String),
}

/// Why one message was not delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendError {
    /// The relay could not be reached at all (connection, TLS, timeout): trying further messages now is
    /// pointless. Otherwise the relay or the message itself refused this one.
    pub relay_down: bool,
    pub reason: String,
}

impl SendError {
    pub(crate) fn message(reason: String) -> SendError {
        SendError {
            relay_down: false,
            reason,
        }
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for SendError {}
