//! Identities of people who log in: the national ID card's X.509 authentication certificate presented in
//! the TLS handshake (G.2). [`cert`] checks a presented certificate and reads the PSN from it, [`tls`] builds
//! the server's TLS configuration that asks for it, and [`dev_ca`] is a **test** CA that issues such
//! certificates for development, demos and tests. Mobile ID and API clients will join here.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod cert;
pub mod dev_ca;
pub mod tls;

pub use cert::{CardVerifier, CertError, ClientCert, Identity, TlsPeer};
