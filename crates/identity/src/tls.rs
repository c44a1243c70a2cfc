//! The TLS side of ID-card login: a rustls server configuration (ring provider) that asks for an
//! **optional** client certificate, so a browser without a card still sees the public pages.
//!
//! The client-certificate check in the handshake is deliberately narrow: rustls verifies the client's
//! signature over the handshake (the client holds the certificate's private key — for a real card, the PIN
//! was entered), and [`DeferredCardCheck`] only checks that the certificate parses. Chain, validity, CRL and
//! PSN are checked per request by [`crate::cert::CardVerifier`] with the register's clock, so that an
//! expired, revoked or foreign card is answered with a coded explanation in the user's language (G.9)
//! instead of a handshake failure the browser shows as an unexplained network error. The browser is told
//! which CAs are acceptable (the configured CA subjects), so it offers only ID-card certificates.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig, SignatureScheme,
};
use rustls_pki_types::pem::PemObject;

use crate::cert::certs_from_pem;

/// The server's certificate or key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("server certificate: {0}")]
    Cert(String),
    #[error("server key: {0}")]
    Key(String),
    #[error("client CA bundle: {0}")]
    ClientCa(String),
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The ring provider: the one the whole program uses (sqlx's TLS uses it too).
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Accepts any well-formed client certificate whose holder proves possession of its key; see the module
/// documentation for why the rest is checked later.
#[derive(Debug)]
pub struct DeferredCardCheck {
    hints: Vec<DistinguishedName>,
    algs: WebPkiSupportedAlgorithms,
}

impl DeferredCardCheck {
    pub fn new(client_cas: &[CertificateDer<'static>]) -> Result<DeferredCardCheck, TlsSetupError> {
        let mut roots = RootCertStore::empty();
        for c in client_cas {
            roots
                .add(c.clone())
                .map_err(|e| TlsSetupError::ClientCa(e.to_string()))?;
        }
        Ok(DeferredCardCheck {
            hints: roots.subjects(),
            algs: provider().signature_verification_algorithms,
        })
    }
}

impl ClientCertVerifier for DeferredCardCheck {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        webpki::EndEntityCert::try_from(end_entity)
            .map(|_| ClientCertVerified::assertion())
            .map_err(|_| rustls::Error::InvalidCertificate(rustls::CertificateError::BadEncoding))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

/// A server configuration from PEM: the server's certificate chain and key, and optionally the CA bundle
/// of ID cards (without it, no client certificate is asked for). ALPN offers HTTP/1.1.
pub fn server_config(
    cert_chain_pem: &[u8],
    key_pem: &[u8],
    client_cas: Option<&[CertificateDer<'static>]>,
) -> Result<ServerConfig, TlsSetupError> {
    let chain = certs_from_pem(cert_chain_pem).map_err(|e| TlsSetupError::Cert(e.to_string()))?;
    if chain.is_empty() {
        return Err(TlsSetupError::Cert("no CERTIFICATE block".into()));
    }
    let key =
        PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| TlsSetupError::Key(e.to_string()))?;
    let builder =
        ServerConfig::builder_with_provider(provider()).with_safe_default_protocol_versions()?;
    let builder = match client_cas {
        Some(cas) => builder.with_client_cert_verifier(Arc::new(DeferredCardCheck::new(cas)?)),
        None => builder.with_no_client_auth(),
    };
    let mut cfg = builder.with_single_cert(chain, key)?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(cfg)
}
