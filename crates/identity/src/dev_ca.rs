//! A **test** certification authority for development, demos and tests: never for production. It makes what
//! the national PKI makes for real — a CA certificate, a TLS server certificate, ID-card certificates whose
//! subject names the holder's PSN the way [`crate::cert`] reads it, and a CRL of revoked cards — so that
//! ID-card login runs end to end without a card reader. The profile is described in `docs/identity.md`.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use popreg_domain::Psn;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DistinguishedName,
    DnType, DnValue, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose,
    RevocationReason, RevokedCertParams, SanType, SerialNumber,
};

use crate::cert::{OID_GIVEN_NAME, OID_SERIAL_NUMBER, OID_SURNAME, PSN_PREFIX};
use rcgen::string::PrintableString;

/// The common name of the test CA; the word TEST is part of its name on purpose.
pub const CA_COMMON_NAME: &str = "popreg demo ID-card CA";
/// The organisation of the test CA's certificate.
pub const CA_ORGANIZATION: &str = "TEST ONLY - popreg development CA - not for production";
/// The password of the PKCS#12 files written by [`write_dir`] (browsers ask for one on import).
pub const P12_PASSWORD: &str = "popreg";

/// Something went wrong while making test certificates.
#[derive(Debug, thiserror::Error)]
pub enum DevCaError {
    #[error("certificate generation failed: {0}")]
    Rcgen(#[from] rcgen::Error),
    #[error("PKCS#12 encoding failed: {0}")]
    Pkcs12(String),
    #[error("randomness unavailable: {0}")]
    Random(String),
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("{0}")]
    Invalid(String),
}

/// A certificate with its private key, as PEM and DER.
#[derive(Clone, Debug)]
pub struct Issued {
    pub cert_pem: String,
    pub cert_der: Vec<u8>,
    pub key_pem: String,
    pub key_der: Vec<u8>,
    /// The certificate's serial number (big-endian bytes).
    pub serial: Vec<u8>,
}

/// The holder and validity of a test ID-card certificate.
#[derive(Clone, Debug)]
pub struct CardHolder {
    pub psn: Psn,
    /// Surname in Latin letters, as printed on the card's machine-readable zone.
    pub surname: String,
    /// Given name in Latin letters.
    pub given_name: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
}

impl CardHolder {
    /// A card valid from a day before `now` for `years` years, with a placeholder name.
    pub fn new(psn: Psn, now: DateTime<Utc>, years: i64) -> CardHolder {
        CardHolder {
            psn,
            surname: "TESTYAN".into(),
            given_name: "TEST".into(),
            not_before: now - Duration::days(1),
            not_after: now + Duration::days(365 * years),
        }
    }

    pub fn named(mut self, surname: &str, given_name: &str) -> CardHolder {
        self.surname = surname.to_uppercase();
        self.given_name = given_name.to_uppercase();
        self
    }
}

/// The test CA: its key and certificate.
pub struct DevCa {
    params: CertificateParams,
    key: KeyPair,
    cert: Issued,
}

fn to_time(t: DateTime<Utc>) -> Result<time::OffsetDateTime, DevCaError> {
    time::OffsetDateTime::from_unix_timestamp(t.timestamp())
        .map_err(|e| DevCaError::Invalid(format!("time out of range: {e}")))
}

/// A random positive 16-byte serial number.
fn random_serial() -> Result<Vec<u8>, DevCaError> {
    let mut s = [0u8; 16];
    getrandom::fill(&mut s).map_err(|e| DevCaError::Random(e.to_string()))?;
    s[0] = (s[0] & 0x7f) | 0x10; // positive, and no leading zero byte to strip
    Ok(s.to_vec())
}

fn issued(cert: &rcgen::Certificate, key: &KeyPair, serial: Vec<u8>) -> Issued {
    Issued {
        cert_pem: cert.pem(),
        cert_der: cert.der().to_vec(),
        key_pem: key.serialize_pem(),
        key_der: key.serialize_der(),
        serial,
    }
}

impl DevCa {
    /// A new CA (ECDSA P-256), valid from a day before `now` for 10 years.
    pub fn new(now: DateTime<Utc>) -> Result<DevCa, DevCaError> {
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CountryName, "AM");
        dn.push(DnType::OrganizationName, CA_ORGANIZATION);
        dn.push(DnType::CommonName, CA_COMMON_NAME);
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.not_before = to_time(now - Duration::days(1))?;
        params.not_after = to_time(now + Duration::days(3650))?;
        let serial = random_serial()?;
        params.serial_number = Some(SerialNumber::from_slice(&serial));
        let key = KeyPair::generate()?;
        let cert = params.self_signed(&key)?;
        let cert = issued(&cert, &key, serial);
        Ok(DevCa { params, key, cert })
    }

    /// The CA certificate and key.
    pub fn certificate(&self) -> &Issued {
        &self.cert
    }

    fn issuer(&self) -> Issuer<'_, &KeyPair> {
        Issuer::from_params(&self.params, &self.key)
    }

    /// A TLS server certificate for the given DNS names and IP addresses.
    pub fn server_cert(&self, now: DateTime<Utc>, names: &[&str]) -> Result<Issued, DevCaError> {
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, CA_ORGANIZATION);
        dn.push(
            DnType::CommonName,
            names.first().copied().unwrap_or("localhost"),
        );
        params.distinguished_name = dn;
        for n in names {
            params.subject_alt_names.push(match n.parse() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => SanType::DnsName((*n).try_into()?),
            });
        }
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        params.not_before = to_time(now - Duration::days(1))?;
        params.not_after = to_time(now + Duration::days(825))?;
        let serial = random_serial()?;
        params.serial_number = Some(SerialNumber::from_slice(&serial));
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer())?;
        Ok(issued(&cert, &key, serial))
    }

    /// An ID-card authentication certificate for a holder: subject `CN=SURNAME,GIVEN,PSN`,
    /// `surname`, `givenName`, `serialNumber=PNOAM-<PSN>`, `C=AM`; key usage digitalSignature, extended key
    /// usage clientAuth.
    pub fn id_card(&self, holder: &CardHolder) -> Result<Issued, DevCaError> {
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CountryName, "AM");
        dn.push(
            DnType::CommonName,
            format!("{},{},{}", holder.surname, holder.given_name, holder.psn),
        );
        dn.push(
            DnType::CustomDnType(OID_SURNAME.to_vec()),
            holder.surname.clone(),
        );
        dn.push(
            DnType::CustomDnType(OID_GIVEN_NAME.to_vec()),
            holder.given_name.clone(),
        );
        // X.520 serialNumber is a PrintableString.
        dn.push(
            DnType::CustomDnType(OID_SERIAL_NUMBER.to_vec()),
            DnValue::PrintableString(PrintableString::try_from(format!(
                "{PSN_PREFIX}{}",
                holder.psn
            ))?),
        );
        params.distinguished_name = dn;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        params.not_before = to_time(holder.not_before)?;
        params.not_after = to_time(holder.not_after)?;
        let serial = random_serial()?;
        params.serial_number = Some(SerialNumber::from_slice(&serial));
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer())?;
        Ok(issued(&cert, &key, serial))
    }

    /// A CRL issued now, valid for 30 days, listing the given serial numbers as revoked (key compromise:
    /// a lost card).
    pub fn crl(&self, now: DateTime<Utc>, revoked: &[&[u8]]) -> Result<Crl, DevCaError> {
        let params = CertificateRevocationListParams {
            this_update: to_time(now - Duration::minutes(5))?,
            next_update: to_time(now + Duration::days(30))?,
            crl_number: SerialNumber::from(now.timestamp().max(1) as u64),
            issuing_distribution_point: None,
            revoked_certs: revoked
                .iter()
                .map(|s| {
                    Ok(RevokedCertParams {
                        serial_number: SerialNumber::from_slice(s),
                        revocation_time: to_time(now - Duration::minutes(5))?,
                        reason_code: Some(RevocationReason::KeyCompromise),
                        invalidity_date: None,
                    })
                })
                .collect::<Result<_, DevCaError>>()?,
            key_identifier_method: KeyIdMethod::Sha256,
        };
        let crl = params.signed_by(&self.issuer())?;
        Ok(Crl {
            pem: crl.pem()?,
            der: crl.der().to_vec(),
        })
    }
}

/// A certificate revocation list as PEM and DER.
#[derive(Clone, Debug)]
pub struct Crl {
    pub pem: String,
    pub der: Vec<u8>,
}

/// A PKCS#12 file (for import into a browser or the OS certificate store) holding a key, its certificate
/// and the CA certificate, protected by `password`.
pub fn pkcs12(
    card: &Issued,
    ca: &Issued,
    alias: &str,
    password: &str,
) -> Result<Vec<u8>, DevCaError> {
    use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
    let e = |e: p12_keystore::error::Error| DevCaError::Pkcs12(e.to_string());
    let key = PrivateKey::from_der(&card.key_der).map_err(e)?;
    let chain = PrivateKeyChain::new(
        card.serial.clone(),
        key,
        [
            Certificate::from_der(&card.cert_der).map_err(e)?,
            Certificate::from_der(&ca.cert_der).map_err(e)?,
        ],
    );
    let mut ks = KeyStore::new();
    ks.add_entry(alias, KeyStoreEntry::PrivateKeyChain(chain));
    ks.writer(password).write().map_err(e)
}

/// What [`write_dir`] wrote.
#[derive(Debug)]
pub struct Written {
    pub dir: PathBuf,
    /// The files, relative to `dir`, in the order written.
    pub files: Vec<String>,
    /// (PSN, certificate serial in hex, revoked?) of each card.
    pub cards: Vec<(Psn, String, bool)>,
}

/// Write a complete test PKI into `dir`: `ca.pem` (certificate), `ca.key.pem`, `server.pem` +
/// `server.key.pem` (for `localhost` and `127.0.0.1`), for each card `card-<PSN>.pem`,
/// `card-<PSN>.key.pem` and `card-<PSN>.p12` (password [`P12_PASSWORD`]), and `crl.pem` listing the cards of
/// `revoke`. Each PSN in `revoke` also gets a card (so that there is one to be refused). Refuses a
/// directory that already holds a `ca.pem`.
pub fn write_dir(
    dir: &Path,
    now: DateTime<Utc>,
    holders: &[CardHolder],
    revoke: &[CardHolder],
) -> Result<Written, DevCaError> {
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |e| DevCaError::Io(p, e)
    };
    if dir.join("ca.pem").exists() {
        return Err(DevCaError::Invalid(format!(
            "{} already holds a CA (ca.pem); choose another directory",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut files = Vec::new();
    let mut write = |name: &str, data: &[u8], secret: bool| -> Result<(), DevCaError> {
        let p = dir.join(name);
        std::fs::write(&p, data).map_err(io(&p))?;
        #[cfg(unix)]
        if secret {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).map_err(io(&p))?;
        }
        #[cfg(not(unix))]
        let _ = secret;
        files.push(name.to_string());
        Ok(())
    };
    let ca = DevCa::new(now)?;
    write("ca.pem", ca.certificate().cert_pem.as_bytes(), false)?;
    write("ca.key.pem", ca.certificate().key_pem.as_bytes(), true)?;
    let server = ca.server_cert(now, &["localhost", "127.0.0.1", "::1"])?;
    write("server.pem", server.cert_pem.as_bytes(), false)?;
    write("server.key.pem", server.key_pem.as_bytes(), true)?;
    let mut cards = Vec::new();
    let mut revoked = Vec::new();
    for (h, is_revoked) in holders
        .iter()
        .map(|h| (h, false))
        .chain(revoke.iter().map(|h| (h, true)))
    {
        let card = ca.id_card(h)?;
        let base = format!("card-{}", h.psn);
        write(&format!("{base}.pem"), card.cert_pem.as_bytes(), false)?;
        write(&format!("{base}.key.pem"), card.key_pem.as_bytes(), true)?;
        let p12 = pkcs12(&card, ca.certificate(), &base, P12_PASSWORD)?;
        write(&format!("{base}.p12"), &p12, true)?;
        cards.push((h.psn, hex(&card.serial), is_revoked));
        if is_revoked {
            revoked.push(card.serial.clone());
        }
    }
    let refs: Vec<&[u8]> = revoked.iter().map(|s| s.as_slice()).collect();
    let crl = ca.crl(now, &refs)?;
    write("crl.pem", crl.pem.as_bytes(), false)?;
    Ok(Written {
        dir: dir.to_path_buf(),
        files,
        cards,
    })
}

/// Lower-case hex of bytes.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cert::CardVerifier;

    #[test]
    fn write_dir_makes_a_usable_pki_and_refuses_to_overwrite_it() {
        let dir =
            std::env::temp_dir().join(format!("popreg-devca-{}", hex(&random_serial().unwrap())));
        let now = Utc::now();
        let mut n = 77_000_000_u64;
        let mut next = || {
            Psn::allocate(&mut || {
                n += 104_729;
                n
            })
        };
        let (good, bad) = (next(), next());
        let w = write_dir(
            &dir,
            now,
            &[CardHolder::new(good, now, 5)],
            &[CardHolder::new(bad, now, 5)],
        )
        .unwrap();
        for f in [
            "ca.pem",
            "server.pem",
            "crl.pem",
            &format!("card-{good}.p12"),
            &format!("card-{bad}.key.pem"),
        ] {
            assert!(w.files.iter().any(|x| x == f), "{f} in {:?}", w.files);
        }
        let read = |f: &str| std::fs::read(dir.join(f)).unwrap();
        let v = CardVerifier::from_pem(&read("ca.pem"), Some(&read("crl.pem"))).unwrap();
        let peer =
            |f: &str| crate::TlsPeer::from_chain(crate::cert::certs_from_pem(&read(f)).unwrap());
        assert_eq!(
            v.verify(&peer(&format!("card-{good}.pem")), now)
                .unwrap()
                .psn,
            good
        );
        assert_eq!(
            v.verify(&peer(&format!("card-{bad}.pem")), now)
                .unwrap_err(),
            crate::CertError::Revoked
        );
        // The PKCS#12 file opens with the documented password and holds the key and both certificates.
        let ks = p12_keystore::KeyStore::from_pkcs12(
            &read(&format!("card-{good}.p12")),
            P12_PASSWORD,
            p12_keystore::Pkcs12ImportPolicy::Relaxed,
        )
        .unwrap();
        let (_, chain) = ks.private_key_chain().unwrap();
        assert_eq!(chain.certs().len(), 2);
        assert!(
            write_dir(&dir, now, &[], &[]).is_err(),
            "an existing CA is never overwritten"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
