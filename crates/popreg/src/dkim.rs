//! `popreg dkim-key`: write the DKIM key that signs forwards of official mail (G.3.1) and say which DNS
//! records to publish. See `docs/operator-guide.md` ("Official mail").

use std::path::Path;

use anyhow::Context;

/// Write a new 2048-bit RSA key (PKCS#1 PEM, mode 0600) to `out`, which must not exist, and return the
/// DNS records to publish for `domain` with `selector`.
pub fn run(out: &Path, domain: &str, selector: &str) -> anyhow::Result<String> {
    anyhow::ensure!(
        !out.exists(),
        "{} exists already; choose another file (a key is never overwritten)",
        out.display()
    );
    let (pem, txt) = popreg_notify::inbound::generate_rsa_key()?;
    write_private(out, &pem).with_context(|| format!("writing {}", out.display()))?;
    Ok(records(out, domain, selector, &txt))
}

/// The key for `popreg demo`: kept in `out` when it exists, else written.
pub fn ensure(out: &Path) -> anyhow::Result<()> {
    if !out.exists() {
        let (pem, _) = popreg_notify::inbound::generate_rsa_key()?;
        write_private(out, &pem).with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(())
}

fn write_private(path: &Path, pem: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)?.write_all(pem.as_bytes())
}

fn records(out: &Path, domain: &str, selector: &str, txt: &str) -> String {
    format!(
        "DKIM key written to {key}\n\
         Configure it:  [notify.inbound] dkim_key = \"{key}\", dkim_selector = \"{selector}\", srs_secret = \"…\"\n\
         Publish in DNS (docs/notifications.md, \"Official mail\"):\n\
         \x20 {selector}._domainkey.{domain}. IN TXT \"{txt}\"\n\
         \x20 {domain}. IN MX 10 <the host running popreg's inbound server>.\n\
         \x20 {domain}. IN TXT \"v=spf1 a mx -all\"\n\
         \x20 _dmarc.{domain}. IN TXT \"v=DMARC1; p=reject; rua=mailto:postmaster@{domain}\"\n",
        key = out.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g_3_1_the_key_is_written_once_and_the_records_printed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dkim.pem");
        let said = run(&path, "e-citizen.am", "popreg").unwrap();
        assert!(
            said.contains("popreg._domainkey.e-citizen.am. IN TXT \"v=DKIM1; k=rsa; p=MII"),
            "{said}"
        );
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .starts_with("-----BEGIN RSA PRIVATE KEY-----")
        );
        assert!(
            run(&path, "e-citizen.am", "popreg").is_err(),
            "never overwritten"
        );
    }
}
