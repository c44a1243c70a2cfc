//! Who presented this certificate? The check of an ID-card authentication certificate that a browser (or
//! curl) presented in the TLS handshake: the chain to a configured CA, the validity period at the time of
//! an injected clock, the CRL, the client-authentication purpose, and finally the PSN from the subject's
//! `serialNumber` attribute (`PNOAM-<PSN>`, ETSI EN 319 412-1 natural-person semantics) with its check digit.
//!
//! The TLS layer ([`crate::tls`]) only proves that the client holds the certificate's private key; every
//! other check happens here, so that each failure becomes a coded answer in the caller's language instead
//! of a bare handshake error. The presented chain is wrapped in [`TlsPeer`], whose contents only this module
//! reads: no code can take a PSN from a certificate without going through [`CardVerifier::verify`].

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use popreg_domain::{Code, Psn};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer, TrustAnchor, UnixTime};
use webpki::{
    CertRevocationList, EndEntityCert, ExpirationPolicy, KeyUsage, OwnedCertRevocationList,
    RevocationCheckDepth, RevocationOptionsBuilder, UnknownStatusPolicy,
};
use x509_parser::prelude::{FromDer, X509Certificate};

/// OID of the X.520 `serialNumber` attribute (2.5.4.5), which carries `PNOAM-<PSN>`.
pub const OID_SERIAL_NUMBER: &[u64] = &[2, 5, 4, 5];
/// OID of the X.520 `surname` attribute (2.5.4.4).
pub const OID_SURNAME: &[u64] = &[2, 5, 4, 4];
/// OID of the X.520 `givenName` attribute (2.5.4.42).
pub const OID_GIVEN_NAME: &[u64] = &[2, 5, 4, 42];
/// The semantics identifier before the PSN: `PNO` (national personal number), `AM` (Armenia), `-`.
pub const PSN_PREFIX: &str = "PNOAM-";

/// The client certificate chain presented in one TLS connection, end-entity first; `None` when the client
/// presented none. The HTTPS server puts one into every request it serves; a request without it did not
/// come over TLS.
#[derive(Clone, Debug, Default)]
pub struct TlsPeer {
    chain: Option<Arc<[CertificateDer<'static>]>>,
}

impl TlsPeer {
    /// A TLS client without a certificate.
    pub fn anonymous() -> TlsPeer {
        TlsPeer { chain: None }
    }

    /// A TLS client that presented this chain (end-entity first); an empty chain is no certificate.
    pub fn from_chain(chain: Vec<CertificateDer<'static>>) -> TlsPeer {
        TlsPeer {
            chain: (!chain.is_empty()).then(|| chain.into()),
        }
    }

    /// The SHA-256 fingerprint of the presented end-entity certificate (lower-case hex), if any: how a
    /// registered client certificate is recognised. Says nothing about whether it is any good.
    pub fn fingerprint(&self) -> Option<String> {
        self.chain
            .as_ref()
            .and_then(|c| c.first())
            .map(|der| fingerprint(der))
    }

    /// Whether a certificate was presented (not whether it is any good).
    pub fn has_certificate(&self) -> bool {
        self.chain.is_some()
    }
}

/// Why a presented certificate does not identify anyone. Each maps to a stable [`Code`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    #[error("no client certificate: {0}")]
    NoCertificate(&'static str),
    #[error("the certificate expired on {0}")]
    Expired(DateTime<Utc>),
    #[error("the certificate is valid only from {0}")]
    NotYetValid(DateTime<Utc>),
    #[error("the certificate has been revoked")]
    Revoked,
    #[error("the certificate was not issued by a certification authority this server trusts")]
    UnknownIssuer,
    #[error("the certificate subject carries no PSN: {0}")]
    NoPsn(String),
    #[error("the certificate is not valid: {0}")]
    Invalid(String),
}

impl CertError {
    pub fn code(&self) -> Code {
        match self {
            CertError::NoCertificate(_) => Code::AuthNoCertificate,
            CertError::Expired(_) => Code::AuthCertificateExpired,
            CertError::NotYetValid(_) => Code::AuthCertificateNotYetValid,
            CertError::Revoked => Code::AuthCertificateRevoked,
            CertError::UnknownIssuer => Code::AuthUnknownIssuer,
            CertError::NoPsn(_) => Code::AuthNoPsn,
            CertError::Invalid(_) => Code::AuthCertificateInvalid,
        }
    }
}

/// The person a valid ID-card certificate identifies, with what the certificate says about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub psn: Psn,
    /// The subject's common name (`SURNAME,GIVEN,PSN` on Armenian ID cards).
    pub common_name: String,
    pub surname: Option<String>,
    pub given_name: Option<String>,
    /// The certificate's serial number, lower-case hex.
    pub serial: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    /// The issuer's distinguished name, RFC 4514 style.
    pub issuer: String,
}

/// A configuration error: a CA bundle or CRL that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("no certificate in the CA bundle")]
    EmptyBundle,
    #[error("CA bundle: {0}")]
    Pem(String),
    #[error("CA certificate is not usable as a trust anchor: {0}")]
    Anchor(String),
    #[error("CRL: {0}")]
    Crl(String),
}

/// Checks presented certificates against the configured CAs and CRLs.
pub struct CardVerifier {
    anchors: Vec<TrustAnchor<'static>>,
    ca_ders: Vec<CertificateDer<'static>>,
    crls: Vec<CertRevocationList<'static>>,
}

impl std::fmt::Debug for CardVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardVerifier")
            .field("anchors", &self.anchors.len())
            .field("crls", &self.crls.len())
            .finish()
    }
}

/// Parse every `CERTIFICATE` block of a PEM bundle.
pub fn certs_from_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TrustError> {
    CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TrustError::Pem(e.to_string()))
}

/// Parse every `X509 CRL` block of a PEM file.
pub fn crls_from_pem(pem: &[u8]) -> Result<Vec<CertificateRevocationListDer<'static>>, TrustError> {
    CertificateRevocationListDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TrustError::Crl(e.to_string()))
}

impl CardVerifier {
    /// Trust the CA certificates of a PEM bundle, with the CRLs of an optional PEM file.
    pub fn from_pem(ca_bundle: &[u8], crls: Option<&[u8]>) -> Result<CardVerifier, TrustError> {
        let cas = certs_from_pem(ca_bundle)?;
        let crls = match crls {
            Some(p) => crls_from_pem(p)?,
            None => vec![],
        };
        CardVerifier::new(cas, &crls)
    }

    pub fn new(
        cas: Vec<CertificateDer<'static>>,
        crls: &[CertificateRevocationListDer<'_>],
    ) -> Result<CardVerifier, TrustError> {
        if cas.is_empty() {
            return Err(TrustError::EmptyBundle);
        }
        let anchors = cas
            .iter()
            .map(|c| {
                webpki::anchor_from_trusted_cert(c)
                    .map(|a| a.to_owned())
                    .map_err(|e| TrustError::Anchor(format!("{e:?}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let crls = crls
            .iter()
            .map(|c| {
                OwnedCertRevocationList::from_der(c)
                    .map(CertRevocationList::from)
                    .map_err(|e| TrustError::Crl(format!("{e:?}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CardVerifier {
            anchors,
            ca_ders: cas,
            crls,
        })
    }

    /// The trusted CA certificates (their subjects are the hints a browser uses to pick a certificate).
    pub fn ca_certificates(&self) -> &[CertificateDer<'static>] {
        &self.ca_ders
    }

    /// Who does this TLS client's certificate identify, at time `now`?
    pub fn verify(&self, peer: &TlsPeer, now: DateTime<Utc>) -> Result<Identity, CertError> {
        let ee_der = self.checked(peer, now)?;
        identity_of(&parse(ee_der)?)
    }

    /// An agency system's client certificate (mutual TLS for the API): the same chain, validity, CRL and
    /// client-authentication checks as an ID card, without a PSN. Answers the certificate's description,
    /// whose fingerprint the register looks up among registered certificates.
    pub fn verify_client(
        &self,
        peer: &TlsPeer,
        now: DateTime<Utc>,
    ) -> Result<ClientCert, CertError> {
        describe_der(self.checked(peer, now)?)
    }

    /// The end-entity certificate of `peer`, once its chain, validity, CRL status and purpose are checked.
    fn checked<'p>(
        &self,
        peer: &'p TlsPeer,
        now: DateTime<Utc>,
    ) -> Result<&'p CertificateDer<'static>, CertError> {
        let Some(chain) = &peer.chain else {
            return Err(CertError::NoCertificate(
                "the browser presented no certificate (is the ID card in the reader?)",
            ));
        };
        let Some((ee_der, intermediates)) = chain.split_first() else {
            return Err(CertError::NoCertificate("empty certificate chain"));
        };
        let ee = EndEntityCert::try_from(ee_der)
            .map_err(|e| CertError::Invalid(format!("cannot parse the certificate: {e:?}")))?;
        let crl_refs: Vec<&CertRevocationList<'_>> = self.crls.iter().collect();
        let revocation = RevocationOptionsBuilder::new(&crl_refs).ok().map(|b| {
            b.with_depth(RevocationCheckDepth::Chain)
                .with_status_policy(UnknownStatusPolicy::Allow)
                .with_expiration_policy(ExpirationPolicy::Ignore)
                .build()
        });
        let secs = now.timestamp().max(0) as u64;
        let algs = rustls::crypto::ring::default_provider()
            .signature_verification_algorithms
            .all;
        let parsed = parse(ee_der)?;
        ee.verify_for_usage(
            algs,
            &self.anchors,
            intermediates,
            UnixTime::since_unix_epoch(std::time::Duration::from_secs(secs)),
            KeyUsage::client_auth(),
            revocation,
            None,
        )
        .map_err(|e| map_webpki(e, &parsed))?;
        Ok(ee_der)
    }
}

/// What a client certificate says about itself, for registering it and showing it: the SHA-256 fingerprint
/// of its DER encoding (how the register recognises it), subject, issuer, common name and validity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientCert {
    /// SHA-256 of the DER certificate, 64 lower-case hex digits.
    pub fingerprint: String,
    pub subject: String,
    pub issuer: String,
    pub common_name: Option<String>,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
}

/// SHA-256 of a DER certificate, lower-case hex.
pub fn fingerprint(der: &[u8]) -> String {
    use sha2::Digest;
    crate::dev_ca::hex(&sha2::Sha256::digest(der))
}

/// Describe one DER certificate (no trust check).
pub fn describe_der(der: &[u8]) -> Result<ClientCert, CertError> {
    let c = parse(der)?;
    Ok(ClientCert {
        fingerprint: fingerprint(der),
        subject: c.subject().to_string(),
        issuer: c.issuer().to_string(),
        common_name: attr(&c, &[2, 5, 4, 3])?,
        not_before: time_of(c.validity().not_before),
        not_after: time_of(c.validity().not_after),
    })
}

/// Describe the first certificate of a PEM text (no trust check): what an operator registers.
pub fn describe_pem(pem: &[u8]) -> Result<ClientCert, CertError> {
    let certs = certs_from_pem(pem).map_err(|e| CertError::Invalid(e.to_string()))?;
    let first = certs
        .first()
        .ok_or_else(|| CertError::Invalid("no certificate in the PEM text".into()))?;
    describe_der(first)
}

fn parse(der: &[u8]) -> Result<X509Certificate<'_>, CertError> {
    X509Certificate::from_der(der)
        .map(|(_, c)| c)
        .map_err(|e| CertError::Invalid(format!("cannot parse the certificate: {e}")))
}

fn time_of(t: x509_parser::time::ASN1Time) -> DateTime<Utc> {
    Utc.timestamp_opt(t.timestamp(), 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn map_webpki(e: webpki::Error, cert: &X509Certificate<'_>) -> CertError {
    use webpki::Error as E;
    match e {
        E::CertExpired { .. } => CertError::Expired(time_of(cert.validity().not_after)),
        E::CertNotValidYet { .. } => CertError::NotYetValid(time_of(cert.validity().not_before)),
        E::CertRevoked => CertError::Revoked,
        // A CA of the same name but another key (another test CA, or a forgery) fails the signature check
        // instead of the name match: for the user, both mean "not issued by a CA this server trusts".
        E::UnknownIssuer | E::InvalidSignatureForPublicKey => CertError::UnknownIssuer,
        other => CertError::Invalid(format!("{other:?}")),
    }
}

fn attr(cert: &X509Certificate<'_>, oid: &[u64]) -> Result<Option<String>, CertError> {
    let oid = x509_parser::der_parser::Oid::from(oid)
        .map_err(|_| CertError::Invalid("bad attribute OID".into()))?;
    match cert.subject().iter_by_oid(&oid).next() {
        None => Ok(None),
        Some(a) => a
            .as_str()
            .map(|s| Some(s.to_string()))
            .map_err(|_| CertError::Invalid(format!("subject attribute {oid} is not a string"))),
    }
}

/// The PSN in a subject `serialNumber` value: `PNOAM-` then 10 digits with a valid check digit.
pub fn psn_from_serial_number(value: &str) -> Result<Psn, CertError> {
    let Some(digits) = value.strip_prefix(PSN_PREFIX) else {
        return Err(CertError::NoPsn(format!(
            "the subject serialNumber does not start with {PSN_PREFIX}"
        )));
    };
    Psn::parse(digits).map_err(|e| CertError::NoPsn(format!("{PSN_PREFIX}…: {}", e.detail)))
}

/// What the (already verified) certificate says about its holder.
fn identity_of(cert: &X509Certificate<'_>) -> Result<Identity, CertError> {
    let serial_number = attr(cert, OID_SERIAL_NUMBER)?
        .ok_or_else(|| CertError::NoPsn("the subject has no serialNumber attribute".into()))?;
    let psn = psn_from_serial_number(&serial_number)?;
    Ok(Identity {
        psn,
        common_name: attr(cert, &[2, 5, 4, 3])?.unwrap_or_default(),
        surname: attr(cert, OID_SURNAME)?,
        given_name: attr(cert, OID_GIVEN_NAME)?,
        serial: crate::dev_ca::hex(cert.raw_serial()),
        not_before: time_of(cert.validity().not_before),
        not_after: time_of(cert.validity().not_after),
        issuer: cert.issuer().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dev_ca::{CardHolder, DevCa};
    use chrono::Duration;

    fn psn() -> Psn {
        let mut n = 0x1234_5678_9abc_u64;
        Psn::allocate(&mut || {
            n += 7919;
            n
        })
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
    }

    fn peer(c: &crate::dev_ca::Issued) -> TlsPeer {
        TlsPeer::from_chain(vec![CertificateDer::from(c.cert_der.clone())])
    }

    #[test]
    fn g2_psn_is_read_from_the_pnoam_serial_number() {
        let p = psn();
        assert_eq!(psn_from_serial_number(&format!("PNOAM-{p}")).unwrap(), p);
        for bad in [
            p.to_string(),
            format!("PNOUA-{p}"),
            format!("IDCAM-{p}"),
            "PNOAM-123".into(),
            "PNOAM-12345678x0".into(),
        ] {
            assert!(
                matches!(psn_from_serial_number(&bad), Err(CertError::NoPsn(_))),
                "{bad}"
            );
        }
        // A wrong check digit is no PSN either.
        let mut s = p.to_string().into_bytes();
        s[9] = b'0' + (s[9] - b'0' + 1) % 10;
        let wrong = String::from_utf8(s).unwrap();
        assert!(matches!(
            psn_from_serial_number(&format!("PNOAM-{wrong}")),
            Err(CertError::NoPsn(_))
        ));
    }

    #[test]
    fn g2_a_valid_card_identifies_its_holder() {
        let ca = DevCa::new(now()).unwrap();
        let holder = CardHolder::new(psn(), now(), 5).named("Petrosyan", "Anna");
        let card = ca.id_card(&holder).unwrap();
        let v = CardVerifier::from_pem(ca.certificate().cert_pem.as_bytes(), None).unwrap();
        let id = v.verify(&peer(&card), now()).unwrap();
        assert_eq!(id.psn, psn());
        assert_eq!(id.common_name, format!("PETROSYAN,ANNA,{}", psn()));
        assert_eq!(id.surname.as_deref(), Some("PETROSYAN"));
        assert_eq!(id.given_name.as_deref(), Some("ANNA"));
        assert_eq!(id.serial, crate::dev_ca::hex(&card.serial));
        assert_eq!(id.not_after.timestamp(), holder.not_after.timestamp());
        assert!(
            id.issuer.contains("popreg demo ID-card CA"),
            "{}",
            id.issuer
        );
    }

    #[test]
    fn a1_37_a_client_certificate_is_described_by_its_der_fingerprint_and_checked_without_a_psn() {
        let ca = DevCa::new(now()).unwrap();
        let card = ca.id_card(&CardHolder::new(psn(), now(), 5)).unwrap();
        let described = describe_pem(card.cert_pem.as_bytes()).unwrap();
        assert_eq!(described.fingerprint, fingerprint(&card.cert_der));
        assert_eq!(described.fingerprint.len(), 64);
        assert_eq!(
            peer(&card).fingerprint(),
            Some(described.fingerprint.clone())
        );
        assert!(described.issuer.contains("popreg demo ID-card CA"));
        let v = CardVerifier::from_pem(ca.certificate().cert_pem.as_bytes(), None).unwrap();
        assert_eq!(v.verify_client(&peer(&card), now()).unwrap(), described);
        // Another CA's certificate, or one past its validity, is refused with the card's codes.
        let foreign = DevCa::new(now())
            .unwrap()
            .id_card(&CardHolder::new(psn(), now(), 5))
            .unwrap();
        assert_eq!(
            v.verify_client(&peer(&foreign), now()).unwrap_err().code(),
            Code::AuthUnknownIssuer
        );
        let later = now() + Duration::days(6 * 365);
        assert_eq!(
            v.verify_client(&peer(&card), later).unwrap_err().code(),
            Code::AuthCertificateExpired
        );
        assert!(describe_pem(b"not a certificate").is_err());
        assert_eq!(TlsPeer::anonymous().fingerprint(), None);
    }

    #[test]
    fn g9_each_failure_has_its_code() {
        let ca = DevCa::new(now()).unwrap();
        let card = ca.id_card(&CardHolder::new(psn(), now(), 5)).unwrap();
        let crl = ca.crl(now(), &[&card.serial]).unwrap();
        let ca_pem = ca.certificate().cert_pem.as_bytes();
        let plain = CardVerifier::from_pem(ca_pem, None).unwrap();
        let with_crl = CardVerifier::from_pem(ca_pem, Some(crl.pem.as_bytes())).unwrap();
        let code = |v: &CardVerifier, p: &TlsPeer, at| v.verify(p, at).unwrap_err().code();

        assert_eq!(
            code(&plain, &TlsPeer::anonymous(), now()),
            Code::AuthNoCertificate
        );
        // The clock decides: the same card is expired ten years on, not yet valid ten years before.
        assert_eq!(
            code(&plain, &peer(&card), now() + Duration::days(3660)),
            Code::AuthCertificateExpired
        );
        assert_eq!(
            code(&plain, &peer(&card), now() - Duration::days(3660)),
            Code::AuthCertificateNotYetValid
        );
        assert_eq!(
            code(&with_crl, &peer(&card), now()),
            Code::AuthCertificateRevoked
        );
        let other = DevCa::new(now()).unwrap();
        let foreign = other.id_card(&CardHolder::new(psn(), now(), 5)).unwrap();
        assert_eq!(
            code(&plain, &peer(&foreign), now()),
            Code::AuthUnknownIssuer,
            "same CA name, other key"
        );
        let mut unrelated = rcgen::CertificateParams::default();
        unrelated.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        unrelated
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Some other CA");
        let unrelated_key = rcgen::KeyPair::generate().unwrap();
        let unrelated_ca = unrelated.self_signed(&unrelated_key).unwrap();
        let v = CardVerifier::new(vec![unrelated_ca.der().clone()], &[]).unwrap();
        assert_eq!(
            code(&v, &peer(&card), now()),
            Code::AuthUnknownIssuer,
            "other CA name"
        );
        // A TLS server certificate of the right CA is not an ID card: no client-auth purpose.
        let server = ca.server_cert(now(), &["localhost"]).unwrap();
        assert_eq!(
            code(&plain, &peer(&server), now()),
            Code::AuthCertificateInvalid
        );
        let garbage = TlsPeer::from_chain(vec![CertificateDer::from(vec![0x30, 0x03, 1, 2, 3])]);
        assert_eq!(code(&plain, &garbage, now()), Code::AuthCertificateInvalid);
    }

    #[test]
    fn g2_a_card_without_pnoam_serial_number_identifies_nobody() {
        use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, KeyPair};
        // A certificate of a trusted CA whose subject has a name but no serialNumber.
        let mut ca_params = CertificateParams::default();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca_key = KeyPair::generate().unwrap();
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let mut p = CertificateParams::default();
        p.distinguished_name
            .push(DnType::CommonName, "PETROSYAN,ANNA,1234567890");
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        p.not_before = rcgen::date_time_ymd(2025, 1, 1);
        p.not_after = rcgen::date_time_ymd(2030, 1, 1);
        let key = KeyPair::generate().unwrap();
        let cert = p
            .signed_by(&key, &rcgen::Issuer::from_params(&ca_params, &ca_key))
            .unwrap();
        let v = CardVerifier::new(vec![ca_cert.der().clone()], &[]).unwrap();
        let e = v
            .verify(&TlsPeer::from_chain(vec![cert.der().clone()]), now())
            .unwrap_err();
        assert_eq!(e.code(), Code::AuthNoPsn, "{e}");
    }

    #[test]
    fn a_bundle_without_certificates_is_refused() {
        assert!(matches!(
            CardVerifier::from_pem(b"", None),
            Err(TrustError::EmptyBundle)
        ));
    }
}
