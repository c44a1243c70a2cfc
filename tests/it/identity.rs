//! ID-card login (G.2, G.9) over real TLS: the server asks for an optional client certificate, `/whoami`
//! answers who the card identifies or a coded `401` saying what is wrong. Certificates come from the test CA
//! (`popreg_identity::dev_ca`); the validity of cards is judged by the register's clock, which the tests move.

use std::path::Path;
use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode};
use chrono::Duration;
use popreg::config::Config;
use popreg_domain::Psn;
use popreg_identity::dev_ca::{CardHolder, DevCa, Issued, hex};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::Value;

use crate::common::*;

/// A test PKI on disk and a server using it.
pub(crate) struct Pki {
    pub(crate) dir: tempfile::TempDir,
    ca: DevCa,
    pub(crate) holder: Psn,
    card: Issued,
    revoked: Issued,
    expired: Issued,
    foreign: Issued,
}

impl Pki {
    pub(crate) fn new() -> Pki {
        let dir = tempfile::tempdir().unwrap();
        // Cards are judged at the register's clock (t0); the server certificate at the client's real time.
        let ca = DevCa::new(t0().min(chrono::Utc::now())).unwrap();
        let holder = psn(4242);
        let card = ca
            .id_card(&CardHolder::new(holder, t0(), 5).named("Petrosyan", "Anna"))
            .unwrap();
        let revoked = ca.id_card(&CardHolder::new(psn(4243), t0(), 5)).unwrap();
        let mut past = CardHolder::new(psn(4244), t0(), 5);
        past.not_before = t0() - Duration::days(5 * 365);
        past.not_after = t0() - Duration::days(1);
        let expired = ca.id_card(&past).unwrap();
        let foreign = DevCa::new(t0())
            .unwrap()
            .id_card(&CardHolder::new(psn(4245), t0(), 5))
            .unwrap();
        let server = ca
            .server_cert(chrono::Utc::now(), &["localhost", "127.0.0.1"])
            .unwrap();
        let crl = ca.crl(chrono::Utc::now(), &[&revoked.serial]).unwrap();
        let w = |name: &str, data: &str| std::fs::write(dir.path().join(name), data).unwrap();
        w("ca.pem", &ca.certificate().cert_pem);
        w("server.pem", &server.cert_pem);
        w("server.key.pem", &server.key_pem);
        w("crl.pem", &crl.pem);
        for (name, c) in [
            ("card", &card),
            ("revoked", &revoked),
            ("expired", &expired),
        ] {
            w(&format!("{name}.pem"), &c.cert_pem);
            w(&format!("{name}.key.pem"), &c.key_pem);
        }
        Pki {
            dir,
            ca,
            holder,
            card,
            revoked,
            expired,
            foreign,
        }
    }

    pub(crate) fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    pub(crate) fn config(&self) -> Config {
        let mut cfg = test_config();
        cfg.server.listen = "127.0.0.1:0".into();
        cfg.server.tls_cert = self.path("server.pem");
        cfg.server.tls_key = self.path("server.key.pem");
        cfg.server.client_ca = self.path("ca.pem");
        cfg.server.client_crl = self.path("crl.pem");
        cfg
    }

    /// An HTTPS client trusting the test CA, presenting `card` if given.
    fn client(&self, card: Option<&Issued>) -> Https {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from(self.ca.certificate().cert_der.clone()))
            .unwrap();
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
        let tls = match card {
            Some(c) => builder
                .with_client_auth_cert(
                    vec![CertificateDer::from(c.cert_der.clone())],
                    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(c.key_der.clone())),
                )
                .unwrap(),
            None => builder.with_no_client_auth(),
        };
        Https(Arc::new(tls))
    }
}

/// A minimal HTTPS client (hyper over tokio-rustls with the ring provider, as the server uses): one
/// connection per request.
struct Https(Arc<rustls::ClientConfig>);

impl Https {
    async fn get(&self, url: &str, path: &str, lang: &str) -> (StatusCode, HeaderMap, String) {
        self.get_as(url, path, lang, "application/json").await
    }

    async fn get_as(
        &self,
        url: &str,
        path: &str,
        lang: &str,
        accept: &str,
    ) -> (StatusCode, HeaderMap, String) {
        let authority = url.trim_start_matches("https://");
        let tcp = tokio::net::TcpStream::connect(authority).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let tls = tokio_rustls::TlsConnector::from(self.0.clone())
            .connect(name, tcp)
            .await
            .unwrap();
        let (mut send, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls))
                .await
                .unwrap();
        tokio::spawn(conn);
        let req = hyper::Request::get(path)
            .header("host", authority)
            .header("accept-language", lang)
            .header("accept", accept)
            .body(axum::body::Body::empty())
            .unwrap();
        let resp = send.send_request(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = axum::body::to_bytes(axum::body::Body::new(resp.into_body()), 1 << 20)
            .await
            .unwrap();
        (status, headers, String::from_utf8(body.to_vec()).unwrap())
    }
}

async fn whoami(client: &Https, url: &str, lang: &str) -> (StatusCode, Value) {
    let (status, headers, body) = client.get(url, "/whoami", lang).await;
    assert_eq!(headers["cache-control"], "no-store");
    (status, serde_json::from_str(&body).unwrap())
}

#[tokio::test]
async fn g2_an_id_card_over_tls_identifies_its_holder() {
    let pki = Pki::new();
    let db = TestDb::sqlite().await;
    let running = popreg::app::start(&pki.config(), db.store.clone())
        .await
        .unwrap();
    let url = running.url();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let (s, j) = whoami(&pki.client(Some(&pki.card)), &url, "en").await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(j["psn"], pki.holder.to_string());
    assert_eq!(j["name"]["surname"], "PETROSYAN");
    assert_eq!(j["name"]["given_name"], "ANNA");
    assert_eq!(
        j["name"]["common_name"],
        format!("PETROSYAN,ANNA,{}", pki.holder)
    );
    assert_eq!(j["certificate"]["serial"], hex(&pki.card.serial));
    let until = (t0() + Duration::days(5 * 365))
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string();
    assert!(
        j["certificate"]["valid_until"]
            .as_str()
            .unwrap()
            .starts_with(&until),
        "{j}"
    );
    // A browser gets a page.
    let (s, h, page) = pki
        .client(Some(&pki.card))
        .get_as(&url, "/whoami", "en", "text/html,*/*;q=0.8")
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["content-type"], "text/html; charset=utf-8");
    assert!(page.contains("<html lang=\"en\">"), "{page}");
    assert!(page.contains(&format!("<td>{}</td>", pki.holder)), "{page}");
    // The same card, years later by the register's clock, has expired.
    db.clock.advance(Duration::days(6 * 365));
    let (s, j) = whoami(&pki.client(Some(&pki.card)), &url, "en").await;
    assert_eq!(
        (s, j["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("PSR-AUTH-0002"))
    );
    running.shutdown().await.unwrap();
}

#[tokio::test]
async fn g9_each_unusable_card_is_a_coded_401_in_the_callers_language() {
    let pki = Pki::new();
    let db = TestDb::sqlite().await;
    let running = popreg::app::start(&pki.config(), db.store.clone())
        .await
        .unwrap();
    let url = running.url();

    // No card: the public pages still work, /whoami explains.
    let anon = pki.client(None);
    let (s, _, body) = anon.get(&url, "/healthz", "en").await;
    assert_eq!((s, body.as_str()), (StatusCode::OK, "ok\n"));
    let (s, j) = whoami(&anon, &url, "ru").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(j["code"], "PSR-AUTH-0001");
    assert_eq!(j["title"], "Нет сертификата идентификационной карты");
    let (_, j) = whoami(&anon, &url, "hy").await;
    assert_eq!(j["title"], "Նույնականացման քարտի հավաստագիր չկա");

    for (card, code, title) in [
        (&pki.expired, "PSR-AUTH-0002", "Certificate expired"),
        (&pki.revoked, "PSR-AUTH-0004", "Certificate revoked"),
        (
            &pki.foreign,
            "PSR-AUTH-0005",
            "Certificate from an unknown authority",
        ),
    ] {
        let (s, j) = whoami(&pki.client(Some(card)), &url, "en").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{code}: {j}");
        assert_eq!(
            (j["code"].as_str(), j["title"].as_str()),
            (Some(code), Some(title))
        );
        assert!(j["explanation"].as_str().unwrap().len() > 40, "{j}");
    }
    let (_, j) = whoami(&pki.client(Some(&pki.foreign)), &url, "en").await;
    assert!(
        j["explanation"]
            .as_str()
            .unwrap()
            .contains("national certification authority's certificate chain"),
        "G.9 advice: {j}"
    );
    running.shutdown().await.unwrap();
}

#[tokio::test]
async fn g2_whoami_over_plain_http_says_id_cards_need_https() {
    let db = TestDb::sqlite().await;
    let mut cfg = test_config();
    cfg.server.listen = "127.0.0.1:0".into();
    let running = popreg::app::start(&cfg, db.store.clone()).await.unwrap();
    let r = reqwest::get(format!("{}/whoami", running.url()))
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::UNAUTHORIZED);
    let j: Value = r.json().await.unwrap();
    assert_eq!(j["code"], "PSR-AUTH-0001");
    assert!(j["detail"].as_str().unwrap().contains("not HTTPS"), "{j}");
    running.shutdown().await.unwrap();
}

/// `curl --cacert ca.pem [--cert C.pem --key C.key.pem] URL/whoami` in the PKI directory: (status, body).
pub(crate) fn curl_at(dir: &Path, url: &str, card: Option<&str>) -> (String, String) {
    curl_in(dir, card, &[&format!("{url}/whoami")])
}

/// `curl --cacert ca.pem [--cert C.pem --key C.key.pem] ARGS…` in the PKI directory, with a cookie jar
/// there (`jar.txt`): (status, body).
pub(crate) fn curl_in(dir: &Path, card: Option<&str>, args: &[&str]) -> (String, String) {
    let p = |f: &str| dir.join(f).display().to_string();
    let mut cmd = std::process::Command::new("curl");
    cmd.args(["-sS", "-w", "\n%{http_code}", "--cacert", &p("ca.pem")]);
    cmd.args(["-c", &p("jar.txt"), "-b", &p("jar.txt")]);
    if let Some(c) = card {
        cmd.args([
            "--cert",
            &p(&format!("{c}.pem")),
            "--key",
            &p(&format!("{c}.key.pem")),
        ]);
    }
    let out = cmd
        .args(args)
        .output()
        .expect("curl is needed for this test (apt-get install curl)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, status) = text.rsplit_once('\n').unwrap();
    (status.to_string(), body.to_string())
}

#[tokio::test]
async fn g2_curl_with_a_card_certificate_and_key_is_identified() {
    let pki = Pki::new();
    let db = TestDb::sqlite().await;
    let running = popreg::app::start(&pki.config(), db.store.clone())
        .await
        .unwrap();
    // curl checks the server name: use the name in the server certificate.
    let url = running
        .url()
        .replace("https://127.0.0.1", "https://localhost");
    let dir = pki.dir.path().to_path_buf();
    let run = move |card: &'static str| {
        let (dir, url) = (dir.clone(), url.clone());
        tokio::task::spawn_blocking(move || curl_at(&dir, &url, Some(card)))
    };
    let (status, body) = run("card").await.unwrap();
    assert_eq!(status, "200", "{body}");
    let j: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(j["psn"], pki.holder.to_string());
    let (status, body) = run("revoked").await.unwrap();
    assert_eq!(status, "401", "{body}");
    assert!(body.contains("PSR-AUTH-0004"), "{body}");
    running.shutdown().await.unwrap();
}

#[tokio::test]
async fn dev_ca_command_writes_a_pki_that_serve_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pki");
    let (good, bad) = (psn(4301), psn(4302));
    let run = |out: &Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_popreg"))
            .arg("dev-ca")
            .arg("--out")
            .arg(out)
            .args([
                "--psn",
                &format!("{good}=Petrosyan,Anna"),
                "--revoke",
                &bad.to_string(),
            ])
            .output()
            .unwrap()
    };
    let o = run(&out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("TEST certification authority"), "{text}");
    assert!(text.contains("curl --cacert"), "{text}");
    for f in [
        "ca.pem",
        "ca.key.pem",
        "server.pem",
        "server.key.pem",
        "crl.pem",
    ] {
        assert!(out.join(f).exists(), "{f}");
    }
    for ext in ["pem", "key.pem", "p12"] {
        assert!(out.join(format!("card-{good}.{ext}")).exists(), "{ext}");
        assert!(out.join(format!("card-{bad}.{ext}")).exists(), "{ext}");
    }
    assert!(
        !run(&out).status.success(),
        "an existing CA is never overwritten"
    );

    // The files serve as they are: HTTPS with ID-card login, checked with curl.
    let p = |f: &str| out.join(f).display().to_string();
    let mut cfg = test_config();
    cfg.server.listen = "127.0.0.1:0".into();
    cfg.server.tls_cert = p("server.pem");
    cfg.server.tls_key = p("server.key.pem");
    cfg.server.client_ca = p("ca.pem");
    cfg.server.client_crl = p("crl.pem");
    // Cards are valid from yesterday (real time): the register's clock must be now, not the test epoch.
    let db = TestDb::sqlite().await;
    db.clock.set(chrono::Utc::now());
    let running = popreg::app::start(&cfg, db.store.clone()).await.unwrap();
    let url = running
        .url()
        .replace("https://127.0.0.1", "https://localhost");
    let curl = |card: String| {
        let (out, url) = (out.clone(), url.clone());
        tokio::task::spawn_blocking(move || curl_at(&out, &url, Some(&card)))
    };
    let (status, body) = curl(format!("card-{good}")).await.unwrap();
    assert_eq!(status, "200", "{body}");
    let j: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(j["psn"], good.to_string());
    assert_eq!(j["name"]["surname"], "PETROSYAN");
    let (status, body) = curl(format!("card-{bad}")).await.unwrap();
    assert_eq!(status, "401", "{body}");
    assert!(body.contains("PSR-AUTH-0004"), "{body}");
    running.shutdown().await.unwrap();
}

/// `%XX`-encode everything but unreserved characters, as nginx's `$ssl_client_escaped_cert` does.
fn escaped(pem: &str) -> String {
    pem.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Issue 4, reverse-proxy mode: a TLS-terminating proxy forwards the ID card in a header. From a trusted
/// proxy address the card identifies its holder exactly as over direct TLS (and is checked again: a card
/// from another CA or a revoked one is refused); from any other address the header is refused with
/// `403 PSR-AUTH-0009`; and without the header the request is simply anonymous.
#[tokio::test]
async fn g2_a_card_forwarded_by_a_trusted_proxy_identifies_and_an_untrusted_one_is_refused() {
    let db = TestDb::sqlite().await;
    let pki = Pki::new();
    let start = |trusted: &str| {
        let mut cfg = test_config();
        cfg.server.listen = "127.0.0.1:0".into();
        cfg.server.client_ca = pki.path("ca.pem");
        cfg.server.client_crl = pki.path("crl.pem");
        cfg.server.forwarded_cert_header = "X-Client-Cert".into();
        cfg.server.trusted_proxies = vec![trusted.to_string()];
        cfg.validate().unwrap();
        let store = db.store.clone();
        async move { popreg::app::start(&cfg, store).await.unwrap() }
    };
    let c = reqwest::Client::new();
    let ask = |url: String, cert: Option<String>| {
        let c = c.clone();
        async move {
            let mut rq = c.get(format!("{url}/whoami"));
            if let Some(p) = cert {
                rq = rq.header("X-Client-Cert", p);
            }
            let r = rq.send().await.unwrap();
            let status = r.status();
            (status, r.json::<Value>().await.unwrap())
        }
    };
    let running = start("127.0.0.1").await;
    let (s, j) = ask(running.url(), Some(escaped(&pki.card.cert_pem))).await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(j["psn"], pki.holder.to_string());
    for (card, code) in [
        (&pki.foreign, "PSR-AUTH-0005"),
        (&pki.revoked, "PSR-AUTH-0004"),
        (&pki.expired, "PSR-AUTH-0002"),
    ] {
        let (s, j) = ask(running.url(), Some(escaped(&card.cert_pem))).await;
        assert_eq!(
            (s, j["code"].as_str().unwrap()),
            (StatusCode::UNAUTHORIZED, code)
        );
    }
    let (s, j) = ask(running.url(), Some("not a certificate".into())).await;
    assert_eq!(
        (s, j["code"].as_str().unwrap()),
        (StatusCode::UNAUTHORIZED, "PSR-AUTH-0007")
    );
    let (s, j) = ask(running.url(), None).await;
    assert_eq!(
        (s, j["code"].as_str().unwrap()),
        (StatusCode::UNAUTHORIZED, "PSR-AUTH-0001")
    );
    running.shutdown().await.unwrap();

    // The same request from an address that is not the proxy's.
    let running = start("10.9.9.9").await;
    let (s, j) = ask(running.url(), Some(escaped(&pki.card.cert_pem))).await;
    assert_eq!(
        (s, j["code"].as_str().unwrap()),
        (StatusCode::FORBIDDEN, "PSR-AUTH-0009")
    );
    running.shutdown().await.unwrap();

    // The header is only for use with a CA bundle and named proxies.
    let mut cfg = test_config();
    cfg.server.forwarded_cert_header = "X-Client-Cert".into();
    cfg.server.client_ca = pki.path("ca.pem");
    assert!(cfg.validate().is_err(), "no trusted proxies");
    cfg.server.trusted_proxies = vec!["proxy.example".into()];
    assert!(cfg.validate().is_err(), "not an address");
}
