//! `popreg dev-ca`: write a **test** PKI (CA, server certificate, ID-card certificates, CRL) for trying
//! ID-card login without a card reader, and say how to use it. See `docs/identity.md`.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, Utc};
use popreg_domain::Psn;
use popreg_identity::dev_ca::{CardHolder, P12_PASSWORD, write_dir};

/// A holder from the command line: `PSN` or `PSN=SURNAME,GIVEN` (Latin letters).
pub fn parse_holder(s: &str, now: DateTime<Utc>, years: i64) -> anyhow::Result<CardHolder> {
    let (psn, name) = match s.split_once('=') {
        Some((p, n)) => (p, Some(n)),
        None => (s, None),
    };
    let psn = Psn::parse(psn).with_context(|| format!("--psn {s}"))?;
    let holder = CardHolder::new(psn, now, years);
    Ok(match name {
        None => holder,
        Some(n) => {
            let (surname, given) = n
                .split_once(',')
                .with_context(|| format!("--psn {s}: the name is SURNAME,GIVEN"))?;
            let ok =
                |x: &str| !x.is_empty() && x.chars().all(|c| c.is_ascii_alphabetic() || c == '-');
            anyhow::ensure!(
                ok(surname) && ok(given),
                "--psn {s}: the name is SURNAME,GIVEN in Latin letters"
            );
            holder.named(surname, given)
        }
    })
}

/// Write the PKI into `out` and return what to tell the operator.
pub fn run(out: &Path, psns: &[String], revoke: &[String], years: i64) -> anyhow::Result<String> {
    anyhow::ensure!(
        !psns.is_empty() || !revoke.is_empty(),
        "name at least one card holder with --psn PSN"
    );
    let now = Utc::now();
    let holders = psns
        .iter()
        .map(|s| parse_holder(s, now, years))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let revoked = revoke
        .iter()
        .map(|s| parse_holder(s, now, years))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let w = write_dir(out, now, &holders, &revoked)?;
    let d = out.display();
    let mut t = String::new();
    let _ = writeln!(
        t,
        "TEST certification authority written to {d} (never use it in production):"
    );
    for f in &w.files {
        let _ = writeln!(t, "  {f}");
    }
    let _ = writeln!(t, "cards:");
    for (psn, serial, is_revoked) in &w.cards {
        let state = if *is_revoked {
            "REVOKED (in crl.pem)"
        } else {
            "valid"
        };
        let _ = writeln!(t, "  {psn}  serial {serial}  {state}");
    }
    let _ = writeln!(t, "serve HTTPS with ID-card login:");
    let _ = writeln!(
        t,
        "  POPREG_TLS_CERT={d}/server.pem POPREG_TLS_KEY={d}/server.key.pem \\\n  \
         POPREG_CLIENT_CA={d}/ca.pem POPREG_CLIENT_CRL={d}/crl.pem \\\n  \
         popreg serve --listen 127.0.0.1:8443"
    );
    if let Some((psn, _, _)) = w.cards.first() {
        let _ = writeln!(t, "identify with a card:");
        let _ = writeln!(
            t,
            "  curl --cacert {d}/ca.pem --cert {d}/card-{psn}.pem --key {d}/card-{psn}.key.pem \
             https://localhost:8443/whoami"
        );
        let _ = writeln!(
            t,
            "in a browser: import {d}/card-{psn}.p12 (password \"{P12_PASSWORD}\") as your certificate and \
             {d}/ca.pem as a trusted authority, then open https://localhost:8443/whoami"
        );
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holders_are_a_psn_with_an_optional_latin_name() {
        let now = Utc::now();
        let mut n = 987_654_321_012_u64;
        let p = Psn::allocate(&mut || {
            n += 7;
            n
        });
        let h = parse_holder(&format!("{p}=Petrosyan,Anna"), now, 5).unwrap();
        assert_eq!(
            (h.psn, h.surname.as_str(), h.given_name.as_str()),
            (p, "PETROSYAN", "ANNA")
        );
        assert_eq!(parse_holder(&p.to_string(), now, 5).unwrap().psn, p);
        assert!(parse_holder("123", now, 5).is_err());
        assert!(parse_holder(&format!("{p}=Petrosyan"), now, 5).is_err());
        assert!(parse_holder(&format!("{p}=Պետրոսյան,Աննա"), now, 5).is_err());
    }
}
