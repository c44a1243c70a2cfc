//! What makes a forward of official mail survive SPF and DMARC at the person's provider: the envelope
//! sender rewritten with SRS (so SPF is checked against the register's domain, and bounces come back to
//! it), an ARC set (the register's word on how the message arrived) and a DKIM signature of the domain.
//!
//! SRS follows the scheme of libsrs2 (Shevek's "Sender Rewriting Scheme"): `SRS0=HHHH=TT=domain=local@ours`,
//! `TT` the day (days since 1970 modulo 1024) in two base32 characters, `HHHH` the first four base64
//! characters of HMAC-SHA1(secret, `TT` + domain + local) over the lower-cased parts. A bounce to such an
//! address is genuine if the hash matches and the day is at most [`SRS_MAX_AGE_DAYS`] old.

use std::path::Path;

use mail_auth::arc::ArcSealer;
use mail_auth::common::crypto::{Ed25519Key, RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::{DkimSigner, Done};
use mail_auth::{ArcOutput, AuthenticatedMessage, AuthenticationResults};
use popreg_domain::merkle::base64;
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;

use crate::NotifyError;

/// How long a bounce to an SRS address is accepted after the forward went out.
pub const SRS_MAX_AGE_DAYS: i64 = 21;
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
/// The headers the DKIM signature and the ARC message signature cover (those present).
const SIGNED: [&str; 9] = [
    "From",
    "To",
    "Cc",
    "Subject",
    "Date",
    "Message-ID",
    "Reply-To",
    "MIME-Version",
    "Content-Type",
];

fn hmac_hash(secret: &str, tt: &str, domain: &str, local: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret.as_bytes());
    let input = format!(
        "{tt}{}{}",
        domain.to_ascii_lowercase(),
        local.to_ascii_lowercase()
    );
    let tag = ring::hmac::sign(&key, input.as_bytes());
    base64(tag.as_ref()).chars().take(4).collect()
}

fn srs_day(days: i64) -> String {
    let d = days.rem_euclid(1024) as usize;
    [BASE32[d >> 5] as char, BASE32[d & 31] as char]
        .iter()
        .collect()
}

/// The SRS0 address for the envelope sender `from` (`local@domain`) on day `days` (since 1970) at our
/// domain. `None` for the null sender or an address without `@`: such mail is forwarded with the null
/// sender.
pub fn srs_forward(secret: &str, our_domain: &str, from: &str, days: i64) -> Option<String> {
    let (local, domain) = from.rsplit_once('@')?;
    if local.is_empty() || domain.is_empty() {
        return None;
    }
    let tt = srs_day(days);
    let hash = hmac_hash(secret, &tt, domain, local);
    Some(format!("SRS0={hash}={tt}={domain}={local}@{our_domain}"))
}

/// The original sender behind an SRS0 local part, if the hash is ours and the day recent (`days`: today).
pub fn srs_reverse(secret: &str, local_part: &str, days: i64) -> Option<String> {
    let rest = local_part
        .strip_prefix("SRS0=")
        .or_else(|| local_part.strip_prefix("srs0="))?;
    let mut parts = rest.splitn(4, '=');
    let (hash, tt, domain, local) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let expected = hmac_hash(secret, tt, domain, local);
    // Compared without an early exit, so the time taken tells nothing about the right hash.
    let same = hash.len() == expected.len()
        && hash
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if !same {
        return None;
    }
    let t = tt.to_ascii_uppercase().into_bytes();
    let pos = |c: u8| BASE32.iter().position(|b| *b == c);
    let day = (pos(*t.first()?)? << 5 | pos(*t.get(1)?)?) as i64;
    let age = (days.rem_euclid(1024) - day).rem_euclid(1024);
    (t.len() == 2 && age <= SRS_MAX_AGE_DAYS).then(|| format!("{local}@{domain}"))
}

enum Keys {
    Rsa(
        DkimSigner<RsaKey<Sha256>, Done>,
        ArcSealer<RsaKey<Sha256>, Done>,
    ),
    Ed25519(DkimSigner<Ed25519Key, Done>, ArcSealer<Ed25519Key, Done>),
}

/// The domain's key, ready to sign forwards.
pub struct Signer {
    keys: Keys,
    hostname: String,
}

fn bad(path: &Path, e: impl std::fmt::Display) -> NotifyError {
    NotifyError::Config(format!("notify.inbound.dkim_key {}: {e}", path.display()))
}

impl Signer {
    /// Load a PEM private key: RSA (PKCS#1 or PKCS#8) or Ed25519 (PKCS#8).
    pub fn load(
        path: &Path,
        domain: &str,
        selector: &str,
        hostname: &str,
    ) -> Result<Signer, NotifyError> {
        let pem = std::fs::read(path).map_err(|e| bad(path, e))?;
        let der = || PrivateKeyDer::from_pem_slice(&pem).map_err(|e| bad(path, e));
        let ed = match der()? {
            PrivateKeyDer::Pkcs8(k) => Ed25519Key::from_pkcs8_der(k.secret_pkcs8_der()).ok(),
            _ => None,
        };
        let keys = match ed {
            Some(k) => {
                let k2 = match der()? {
                    PrivateKeyDer::Pkcs8(k) => Ed25519Key::from_pkcs8_der(k.secret_pkcs8_der())
                        .map_err(|e| bad(path, e))?,
                    _ => return Err(bad(path, "not an Ed25519 key")),
                };
                Keys::Ed25519(
                    DkimSigner::from_key(k)
                        .domain(domain)
                        .selector(selector)
                        .headers(SIGNED),
                    ArcSealer::from_key(k2)
                        .domain(domain)
                        .selector(selector)
                        .headers(SIGNED),
                )
            }
            None => {
                let rsa = || RsaKey::<Sha256>::from_key_der(der()?).map_err(|e| bad(path, e));
                Keys::Rsa(
                    DkimSigner::from_key(rsa()?)
                        .domain(domain)
                        .selector(selector)
                        .headers(SIGNED),
                    ArcSealer::from_key(rsa()?)
                        .domain(domain)
                        .selector(selector)
                        .headers(SIGNED),
                )
            }
        };
        Ok(Signer {
            keys,
            hostname: hostname.to_string(),
        })
    }

    /// The copy of `raw` to forward: a DKIM signature and an ARC set (instance 1; the register did not
    /// check the sender's own authentication, so the results say `none`) on top of the message as received.
    /// A message that already carries an ARC chain is not sealed again (only signed): the register does not
    /// verify chains. A message too broken to sign is forwarded as it is.
    pub fn forward_copy(&self, raw: &[u8]) -> Vec<u8> {
        let results = AuthenticationResults::new(&self.hostname);
        let has_arc = memchr_ci(raw, b"\narc-seal:") || starts_ci(raw, b"arc-seal:");
        let arc = AuthenticatedMessage::parse(raw)
            .filter(|_| !has_arc)
            .and_then(|msg| {
                let set = match &self.keys {
                    Keys::Rsa(_, s) => s
                        .seal(&msg, &results, &ArcOutput::default())
                        .map(|s| s.to_header()),
                    Keys::Ed25519(_, s) => s
                        .seal(&msg, &results, &ArcOutput::default())
                        .map(|s| s.to_header()),
                };
                set.ok()
            });
        let mut out: Vec<u8> = arc.unwrap_or_default().into_bytes();
        out.extend_from_slice(raw);
        let dkim = match &self.keys {
            Keys::Rsa(d, _) => d.sign(&out).map(|s| s.to_header()),
            Keys::Ed25519(d, _) => d.sign(&out).map(|s| s.to_header()),
        };
        match dkim {
            Ok(h) => {
                let mut signed = h.into_bytes();
                signed.extend_from_slice(&out);
                signed
            }
            Err(e) => {
                tracing::warn!(error = %e, "forward not DKIM-signed");
                out
            }
        }
    }
}

fn starts_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.len() >= needle.len() && hay[..needle.len()].eq_ignore_ascii_case(needle)
}

/// Whether the header part of `raw` contains `needle` (case-insensitive).
pub(crate) fn memchr_ci(raw: &[u8], needle: &[u8]) -> bool {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(raw.len());
    raw[..end]
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// A new 2048-bit RSA key for DKIM: the PKCS#1 PEM private key and the DNS TXT value
/// (`v=DKIM1; k=rsa; p=…`, the public key as SubjectPublicKeyInfo).
pub fn generate_rsa_key() -> Result<(String, String), NotifyError> {
    let pair = mail_auth::dkim::generate::DkimKeyPair::generate_rsa(2048)
        .map_err(|e| NotifyError::Config(format!("DKIM key generation: {e}")))?;
    let pem = pem_wrap("RSA PRIVATE KEY", pair.private_key());
    let spki = rsa_spki(pair.public_key());
    Ok((pem, format!("v=DKIM1; k=rsa; p={}", base64(&spki))))
}

fn der_len(n: usize) -> Vec<u8> {
    match n {
        0..=127 => vec![n as u8],
        128..=255 => vec![0x81, n as u8],
        _ => vec![0x82, (n >> 8) as u8, n as u8],
    }
}

/// SubjectPublicKeyInfo { rsaEncryption, NULL } around a PKCS#1 RSAPublicKey.
fn rsa_spki(pkcs1: &[u8]) -> Vec<u8> {
    const ALG: [u8; 15] = [
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let mut bits = vec![0x03];
    bits.extend(der_len(pkcs1.len() + 1));
    bits.push(0);
    bits.extend_from_slice(pkcs1);
    let mut out = vec![0x30];
    out.extend(der_len(ALG.len() + bits.len()));
    out.extend_from_slice(&ALG);
    out.extend(bits);
    out
}

fn pem_wrap(label: &str, der: &[u8]) -> String {
    let b64 = base64(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g_3_1_srs_round_trips_and_refuses_forged_or_old_addresses() {
        let a = srs_forward("s3cret", "e-citizen.am", "Anna@Example.org", 20_000).unwrap();
        assert!(
            a.starts_with("SRS0=") && a.ends_with("=Example.org=Anna@e-citizen.am"),
            "{a}"
        );
        let local = a.split('@').next().unwrap();
        assert_eq!(
            srs_reverse("s3cret", local, 20_000).as_deref(),
            Some("Anna@Example.org")
        );
        assert_eq!(
            srs_reverse("s3cret", local, 20_021).as_deref(),
            Some("Anna@Example.org")
        );
        assert_eq!(srs_reverse("s3cret", local, 20_022), None, "too old");
        assert_eq!(srs_reverse("other", local, 20_000), None, "another secret");
        let forged = local.replacen("Example.org", "evil.org", 1);
        assert_eq!(srs_reverse("s3cret", &forged, 20_000), None);
        assert_eq!(srs_forward("s3cret", "e-citizen.am", "", 1), None);
    }

    #[test]
    fn g_3_1_the_generated_key_loads_and_signs() {
        let (pem, txt) = generate_rsa_key().unwrap();
        assert!(txt.starts_with("v=DKIM1; k=rsa; p=MII"), "{txt}");
        let dir = std::env::temp_dir().join(format!("popreg-dkim-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("dkim.pem");
        std::fs::write(&path, pem).unwrap();
        let s = Signer::load(&path, "e-citizen.am", "popreg", "mx.e-citizen.am").unwrap();
        let copy = s
            .forward_copy(b"From: a@example.org\r\nTo: b@e-citizen.am\r\nSubject: x\r\n\r\nhi\r\n");
        let text = String::from_utf8(copy).unwrap();
        assert!(text.starts_with("DKIM-Signature:"), "{text}");
        assert!(text.contains("ARC-Seal:") && text.contains("ARC-Message-Signature:"));
        assert!(text.contains("ARC-Authentication-Results:"));
        assert!(text.ends_with("\r\n\r\nhi\r\n"));
    }
}
