//! Connectors to other authorities' registries. Each speaks a documented HTTP contract (see
//! `docs/connectors.md`); tests and the demo run local servers that speak the same contracts
//! ([`tax::FakeTaxRegistry`], [`fake::FakeRegistries`]), since the real registries are other authorities'
//! systems.
//!
//! - [`tax`]: the tax registry (TIN checks, A1.36.4);
//! - [`registries`]: the legal-entity, vehicle and driving-licence registries (G.4, G.6), X-Road REST
//!   style, with a short-lived cache and graceful degradation.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod fake;
pub mod registries;
pub mod tax;

use std::time::Duration;

use popreg_domain::{Code, DomainError};

/// The HTTP client of one registry and its base URL (no trailing `/`). A URL the client could never call —
/// not a URL, another scheme, `https://` (this build has no TLS client), a query or a fragment — is refused
/// here, so that a wrong setting stops the start instead of turning every call into "unavailable".
/// `timeout` bounds each call as a whole, from connecting to the end of the answer.
pub(crate) fn http_client(
    what: &str,
    base_url: &str,
    timeout: Duration,
) -> Result<(String, reqwest::Client), DomainError> {
    let refuse =
        |why: String| DomainError::new(Code::Internal, format!("{what} URL {base_url:?}: {why}"));
    let url = reqwest::Url::parse(base_url).map_err(|e| refuse(e.to_string()))?;
    match url.scheme() {
        "http" => {}
        "https" => {
            return Err(refuse(
                "https is not supported (this build has no TLS client); use http, for example through a \
                 local TLS-terminating proxy"
                    .into(),
            ));
        }
        other => return Err(refuse(format!("scheme {other:?} is not http"))),
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(refuse("a base URL has no query or fragment".into()));
    }
    let http = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .build()
        .map_err(|e| DomainError::new(Code::Internal, format!("HTTP client: {e}")))?;
    Ok((base_url.trim_end_matches('/').to_string(), http))
}
