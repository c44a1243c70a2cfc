//! The tax registry (State Revenue Committee) connector for TIN checks (A1.36.4).
//!
//! Contract, version 1:
//! `GET {base}/v1/taxpayers/{tin}` with `Accept: application/json`
//! - `200 {"tin": "01234567", "status": "active" | "suspended" | "liquidated", "kind": "legal_entity" |
//!   "individual_entrepreneur" | "individual"}` — the TIN exists;
//! - `404 {"error": "not_found"}` — no such taxpayer (a 404 with any other body is not an answer about the TIN);
//! - anything else, or no answer within the timeout — the registry is unavailable.
//!
//! The format check (8 digits) happens before any call, so a malformed TIN never leaves the register.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use popreg_domain::{Code, DomainError};
use serde::{Deserialize, Serialize};

pub use popreg_domain::Tin;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Taxpayer {
    pub tin: String,
    pub status: String,
    pub kind: String,
}

/// Client of the tax registry.
#[derive(Clone, Debug)]
pub struct TaxRegistry {
    base: String,
    http: reqwest::Client,
}

impl TaxRegistry {
    /// A client for the registry at `base_url` (an `http://` URL; a trailing `/` is ignored). `timeout` bounds
    /// each call as a whole, from connecting to the end of the answer. A URL the client could never call —
    /// not a URL, another scheme, or `https://`, which this build cannot speak (no TLS client) — is refused
    /// here, so that a wrong setting stops the start instead of turning every check into "unavailable".
    pub fn new(base_url: &str, timeout: Duration) -> Result<TaxRegistry, DomainError> {
        let (base, http) = crate::http_client("tax registry", base_url, timeout)?;
        Ok(TaxRegistry { base, http })
    }

    /// Check a TIN: `Ok(taxpayer)` if it exists, [`Code::TinUnknown`] if not, [`Code::TinRegistryUnavailable`]
    /// if the registry cannot answer.
    pub async fn check(&self, tin: Tin) -> Result<Taxpayer, DomainError> {
        let url = format!("{}/v1/taxpayers/{}", self.base, tin);
        let unavailable = |why: String| {
            tracing::warn!(registry = %self.base, reason = %why, "tax registry unavailable");
            DomainError::new(
                Code::TinRegistryUnavailable,
                "the tax registry did not answer; try again later",
            )
        };
        let resp = self
            .http
            .get(&url)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        match resp.status() {
            StatusCode::OK => {
                let t: Taxpayer = resp
                    .json()
                    .await
                    .map_err(|e| unavailable(format!("bad answer: {e}")))?;
                if t.tin != tin.as_str() {
                    return Err(unavailable(format!("answered for another TIN {}", t.tin)));
                }
                Ok(t)
            }
            StatusCode::NOT_FOUND => {
                // Only the contract's own "not found" means the TIN is unknown: a 404 from anything else (a
                // wrong base URL, a proxy) says nothing about the TIN.
                #[derive(Deserialize)]
                struct NotFound {
                    error: String,
                }
                match resp.json::<NotFound>().await {
                    Ok(b) if b.error == "not_found" => Err(DomainError::new(
                        Code::TinUnknown,
                        format!("no taxpayer with TIN {tin}"),
                    )),
                    _ => Err(unavailable(
                        "404 without the contract's {\"error\": \"not_found\"}".into(),
                    )),
                }
            }
            s => Err(unavailable(format!("status {s}"))),
        }
    }
}

/// A local server speaking the contract, for tests and the demo.
pub struct FakeTaxRegistry {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl FakeTaxRegistry {
    pub async fn start(taxpayers: Vec<Taxpayer>) -> std::io::Result<FakeTaxRegistry> {
        let map: Arc<HashMap<String, Taxpayer>> =
            Arc::new(taxpayers.into_iter().map(|t| (t.tin.clone(), t)).collect());
        let app = axum::Router::new()
            .route("/v1/taxpayers/{tin}", axum::routing::get(lookup))
            .with_state(map);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(FakeTaxRegistry { addr, task })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn stop(self) {
        self.task.abort();
    }
}

async fn lookup(
    State(map): State<Arc<HashMap<String, Taxpayer>>>,
    Path(tin): Path<String>,
) -> axum::response::Response {
    match map.get(&tin) {
        Some(t) => axum::Json(t.clone()).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({"error": "not_found"})),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(tin: &str) -> Taxpayer {
        Taxpayer {
            tin: tin.into(),
            status: "active".into(),
            kind: "legal_entity".into(),
        }
    }

    #[tokio::test]
    async fn a1_36_4_tin_checked_against_the_registry_contract() {
        let fake = FakeTaxRegistry::start(vec![tp("02512345")]).await.unwrap();
        let reg = TaxRegistry::new(&fake.url(), Duration::from_secs(2)).unwrap();
        assert_eq!(
            reg.check(Tin::parse("02512345").unwrap())
                .await
                .unwrap()
                .status,
            "active"
        );
        assert_eq!(
            reg.check(Tin::parse("99999999").unwrap())
                .await
                .unwrap_err()
                .code,
            Code::TinUnknown
        );
        fake.stop();
        // A registry that is down is reported as unavailable, not as "unknown TIN".
        tokio::time::sleep(Duration::from_millis(50)).await;
        let down = TaxRegistry::new("http://127.0.0.1:9", Duration::from_millis(500)).unwrap();
        assert_eq!(
            down.check(Tin::parse("02512345").unwrap())
                .await
                .unwrap_err()
                .code,
            Code::TinRegistryUnavailable
        );
    }

    #[test]
    fn a_url_the_client_cannot_call_is_refused_at_construction() {
        let t = Duration::from_secs(1);
        for ok in [
            "http://127.0.0.1:9",
            "http://tax.example.am/api/",
            "HTTP://tax.example.am",
        ] {
            assert!(TaxRegistry::new(ok, t).is_ok(), "{ok}");
        }
        for bad in [
            "https://tax.example.am",
            "ftp://tax.example.am",
            "tax.example.am",
            "",
            "http://tax.example.am/?x=1",
            "http://tax.example.am/#top",
        ] {
            let e = TaxRegistry::new(bad, t).unwrap_err();
            assert!(e.detail.contains("tax registry URL"), "{bad}: {e}");
        }
    }

    #[tokio::test]
    async fn the_base_path_is_kept_and_a_trailing_slash_ignored() {
        let fake = FakeTaxRegistry::start(vec![tp("02512345")]).await.unwrap();
        let tin = Tin::parse("02512345").unwrap();
        let reg = TaxRegistry::new(&format!("{}/", fake.url()), Duration::from_secs(2)).unwrap();
        assert_eq!(reg.check(tin).await.unwrap().tin, "02512345");
        // Under another base path the fake has no route: its bare 404 says nothing about the TIN.
        let reg = TaxRegistry::new(&format!("{}/srv", fake.url()), Duration::from_secs(2)).unwrap();
        assert_eq!(
            reg.check(tin).await.unwrap_err().code,
            Code::TinRegistryUnavailable
        );
        fake.stop();
    }

    /// A registry that gives one fixed answer to every request.
    async fn answering(status: u16, body: &'static str) -> (String, tokio::task::JoinHandle<()>) {
        let app = axum::Router::new().fallback(move || async move {
            (
                StatusCode::from_u16(status).unwrap(),
                [("content-type", "application/json")],
                body,
            )
        });
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        (
            url,
            tokio::spawn(async move {
                let _ = axum::serve(l, app).await;
            }),
        )
    }

    #[tokio::test]
    async fn a1_36_4_answers_outside_the_contract_are_unavailable_never_unknown() {
        let tin = Tin::parse("02512345").unwrap();
        for (status, body, expected) in [
            (
                200,
                r#"{"tin":"02512345","status":"active","kind":"individual","since":"2001"}"#,
                None,
            ),
            (404, r#"{"error":"not_found"}"#, Some(Code::TinUnknown)),
            (
                404,
                r#"{"error":"gone"}"#,
                Some(Code::TinRegistryUnavailable),
            ),
            (404, "<html>no</html>", Some(Code::TinRegistryUnavailable)),
            (
                200,
                r#"{"tin":"99999999","status":"active","kind":"individual"}"#,
                Some(Code::TinRegistryUnavailable),
            ),
            (
                200,
                r#"{"tin":"02512345"}"#,
                Some(Code::TinRegistryUnavailable),
            ),
            (200, "not json", Some(Code::TinRegistryUnavailable)),
            (
                500,
                r#"{"error":"not_found"}"#,
                Some(Code::TinRegistryUnavailable),
            ),
            (429, "", Some(Code::TinRegistryUnavailable)),
        ] {
            let (url, task) = answering(status, body).await;
            let reg = TaxRegistry::new(&url, Duration::from_secs(2)).unwrap();
            let got = reg.check(tin).await.map(|t| t.kind).map_err(|e| e.code);
            match expected {
                None => assert_eq!(got, Ok("individual".to_string()), "{status} {body}"),
                Some(code) => assert_eq!(got, Err(code), "{status} {body}"),
            }
            task.abort();
        }
    }

    #[tokio::test]
    async fn a1_36_4_a_slow_registry_times_out_as_unavailable() {
        // A listener that accepts and never answers.
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let hold = tokio::spawn(async move {
            let mut held = vec![];
            while let Ok((s, _)) = l.accept().await {
                held.push(s);
            }
        });
        let reg = TaxRegistry::new(&format!("http://{addr}"), Duration::from_millis(300)).unwrap();
        assert_eq!(
            reg.check(Tin::parse("02512345").unwrap())
                .await
                .unwrap_err()
                .code,
            Code::TinRegistryUnavailable
        );
        hold.abort();
    }
}
