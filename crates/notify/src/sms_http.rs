//! An HTTP SMS gateway, the alternative to an SMSC over SMPP, for operators and aggregators that offer a web
//! API instead. The register speaks one small contract (version 1); an adapter in front of a particular
//! gateway, if needed, translates.
//!
//! **Send.** `POST {url}/v1/messages` with `Authorization: Bearer {token}`, `Idempotency-Key: {reference}` and
//! `Content-Type: application/json`:
//!
//! ```json
//! {"to": "+37491234567", "text": "…", "reference": "sms-verify:42", "callback_url": "https://…"}
//! ```
//!
//! (`callback_url` only when configured.) Answers:
//! - `200`, `201` or `202` `{"id": "gw-123"}` — accepted; the same `reference` again must give the same id
//!   and send nothing more (the register retries after a crash with the same reference);
//! - `400` or `422` `{"error": "invalid_destination" | "invalid_text" | …}` — permanent: this message will
//!   never go;
//! - `401`, `403` — technical: the token is wrong;
//! - `408`, `429`, `5xx`, no answer within the timeout — temporary;
//! - anything else — technical.
//!
//! **Status.** `GET {url}/v1/messages/{id}` answers `200 {"id": "gw-123", "status": "delivered", "error":
//! "…", "done_at": "…"}` with `status` one of `enroute`, `delivered`, `expired`, `deleted`, `undeliverable`,
//! `accepted`, `unknown`, `rejected` (`error` and `done_at` optional). With a `callback_url` the gateway
//! posts the same object there on every change; [`parse_status`] reads it.
//!
//! The URL is `http://` only: this build has no TLS in its HTTP client (as for the tax registry connector);
//! reach an `https://` gateway through a local TLS-terminating proxy. Answers are read up to 64 KiB.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::NotifyError;
use crate::config::{Secret, SmsConfig};
use crate::sms::{
    DeliveryReport, Msisdn, ProviderIds, RateLimiter, SmsError, SmsSender, check_text,
};

/// The largest answer read from the gateway.
const MAX_ANSWER: usize = 64 * 1024;

/// The request of contract version 1.
#[derive(Debug, Serialize, Deserialize)]
pub struct SendRequest {
    pub to: String,
    pub text: String,
    pub reference: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
}

#[derive(Deserialize)]
struct Accepted {
    id: String,
}

#[derive(Deserialize)]
struct Refused {
    #[serde(default)]
    error: String,
}

/// Read a status callback's body.
pub fn parse_status(body: &[u8]) -> Result<DeliveryReport, SmsError> {
    serde_json::from_slice::<DeliveryReport>(body)
        .map_err(|e| SmsError::Technical(format!("SMS gateway status: {e}")))
}

/// The client of an HTTP SMS gateway.
pub struct HttpGateway {
    base: String,
    http: reqwest::Client,
    token: Option<Secret>,
    callback_url: Option<String>,
    limiter: RateLimiter,
    max_parts: usize,
    /// Where [`HttpGateway::callback`] hands status changes on (the receiver of [`crate::sms::SmsChannel::start`]).
    reports: Option<tokio::sync::mpsc::Sender<DeliveryReport>>,
}

impl fmt::Debug for HttpGateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpGateway")
            .field("base", &self.base)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

impl HttpGateway {
    /// A client for `[notify.sms.http]`; a URL it could never call is refused here.
    pub fn new(cfg: &SmsConfig) -> Result<HttpGateway, NotifyError> {
        let h = &cfg.http;
        let bad =
            |why: String| NotifyError::Config(format!("notify.sms.http.url {:?}: {why}", h.url));
        let url = reqwest::Url::parse(&h.url).map_err(|e| bad(e.to_string()))?;
        if url.scheme() != "http" {
            return Err(bad(
                "only http:// (no TLS client in this build; use a local TLS-terminating proxy)"
                    .into(),
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("a base URL has no query or fragment".into()));
        }
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout())
            .connect_timeout(cfg.timeout())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| NotifyError::Config(format!("HTTP client: {e}")))?;
        Ok(HttpGateway {
            base: h.url.trim_end_matches('/').to_string(),
            http,
            token: h.token.clone(),
            callback_url: (!h.callback_url.is_empty()).then(|| h.callback_url.clone()),
            limiter: RateLimiter::per_second(cfg.max_per_second),
            max_parts: cfg.max_parts,
            reports: None,
        })
    }

    /// The gateway with a report channel: [`HttpGateway::callback`] feeds it.
    pub fn with_reports(
        mut self,
        capacity: usize,
    ) -> (HttpGateway, tokio::sync::mpsc::Receiver<DeliveryReport>) {
        let (tx, rx) = tokio::sync::mpsc::channel(capacity.max(1));
        self.reports = Some(tx);
        (self, rx)
    }

    /// A status callback's body, read and handed to the report channel. `Err` for a body that is not a
    /// status (answer the gateway 400) and, temporary, for a full or missing channel (answer 503: the
    /// gateway posts it again).
    pub async fn callback(&self, body: &[u8]) -> Result<(), SmsError> {
        let report = parse_status(body)?;
        let tx = self
            .reports
            .as_ref()
            .ok_or_else(|| SmsError::Temporary("no report channel".into()))?;
        tx.try_send(report)
            .map_err(|e| SmsError::Temporary(format!("status not taken: {e}")))
    }

    fn authorized(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(t) => req.bearer_auth(t.expose()),
            None => req,
        }
    }

    /// Ask the gateway what became of a message.
    pub async fn status(&self, id: &str) -> Result<DeliveryReport, SmsError> {
        let url = format!("{}/v1/messages/{}", self.base, path_segment(id));
        let resp = self
            .authorized(self.http.get(&url).header("accept", "application/json"))
            .send()
            .await
            .map_err(|e| SmsError::Temporary(format!("SMS gateway: {e}")))?;
        let code = resp.status();
        let body = read_capped(resp).await?;
        if code.as_u16() != 200 {
            return Err(by_status(code.as_u16(), &body));
        }
        parse_status(&body)
    }
}

impl SmsSender for HttpGateway {
    async fn send(
        &self,
        to: &Msisdn,
        text: &str,
        reference: &str,
    ) -> Result<ProviderIds, SmsError> {
        let plan = check_text(text, self.max_parts)?;
        for _ in 0..plan.parts.len() {
            self.limiter.wait().await;
        }
        let req = SendRequest {
            to: to.e164().to_string(),
            text: text.to_string(),
            reference: reference.to_string(),
            callback_url: self.callback_url.clone(),
        };
        let resp = self
            .authorized(
                self.http
                    .post(format!("{}/v1/messages", self.base))
                    .header("accept", "application/json")
                    .header("idempotency-key", reference)
                    .json(&req),
            )
            .send()
            .await
            .map_err(|e| SmsError::Temporary(format!("SMS gateway: {e}")))?;
        let code = resp.status().as_u16();
        let body = read_capped(resp).await?;
        let r = match code {
            200..=202 => serde_json::from_slice::<Accepted>(&body)
                .map(|a| ProviderIds(vec![a.id]))
                .map_err(|e| SmsError::Technical(format!("SMS gateway answer: {e}"))),
            _ => Err(by_status(code, &body)),
        };
        match &r {
            Ok(ids) => tracing::info!(
                reference, to = %to.masked(), parts = plan.parts.len(), ids = ?ids.0, gateway = %self.base,
                "SMS accepted by the gateway"
            ),
            Err(e) => tracing::warn!(
                reference, to = %to.masked(), gateway = %self.base, error = %e,
                "SMS not accepted by the gateway"
            ),
        }
        r
    }
}

/// The error an HTTP status means (see the contract above).
fn by_status(code: u16, body: &[u8]) -> SmsError {
    let detail = serde_json::from_slice::<Refused>(body)
        .map(|r| r.error)
        .unwrap_or_default();
    let reason = if detail.is_empty() {
        format!("SMS gateway answered {code}")
    } else {
        format!("SMS gateway answered {code}: {detail}")
    };
    match code {
        400 | 422 => SmsError::Permanent(reason),
        408 | 429 | 500..=599 => SmsError::Temporary(reason),
        _ => SmsError::Technical(reason),
    }
}

/// An id as one path segment: anything but unreserved characters percent-encoded.
fn path_segment(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The body, refused past [`MAX_ANSWER`] (a hostile or broken gateway cannot make the register buffer more).
async fn read_capped(mut resp: reqwest::Response) -> Result<Vec<u8>, SmsError> {
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(c)) => {
                if body.len() + c.len() > MAX_ANSWER {
                    return Err(SmsError::Technical(format!(
                        "SMS gateway answer larger than {MAX_ANSWER} bytes"
                    )));
                }
                body.extend_from_slice(&c);
            }
            Ok(None) => return Ok(body),
            Err(e) => return Err(SmsError::Temporary(format!("SMS gateway: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SmsHttpConfig;
    use crate::sms::DeliveryStatus;

    fn cfg(url: &str) -> SmsConfig {
        SmsConfig {
            http: SmsHttpConfig {
                url: url.into(),
                token: Some(Secret::new("t0ken-xyz")),
                callback_url: String::new(),
                callback_secret: None,
            },
            ..SmsConfig::default()
        }
    }

    #[test]
    fn g_7_gateway_urls_and_the_hidden_token() {
        let g = HttpGateway::new(&cfg("http://127.0.0.1:8088/sms/")).unwrap();
        assert_eq!(g.base, "http://127.0.0.1:8088/sms");
        assert!(!format!("{g:?}").contains("t0ken-xyz"));
        for bad in [
            "https://gw.example.am",
            "ftp://x",
            "not a url",
            "http://x/?a=1",
            "",
        ] {
            assert!(
                matches!(HttpGateway::new(&cfg(bad)), Err(NotifyError::Config(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn g_7_gateway_answers_map_to_failure_kinds() {
        let body = br#"{"error": "invalid_destination"}"#;
        assert_eq!(
            by_status(400, body),
            SmsError::Permanent("SMS gateway answered 400: invalid_destination".into())
        );
        assert!(by_status(422, b"").is_permanent());
        assert!(by_status(429, b"").is_temporary());
        assert!(by_status(503, b"<html>").is_temporary());
        assert!(matches!(by_status(401, b""), SmsError::Technical(_)));
        assert!(matches!(by_status(404, b""), SmsError::Technical(_)));
        assert_eq!(path_segment("a/b c"), "a%2Fb%20c");
    }

    #[test]
    fn g_7_status_callbacks() {
        let r = parse_status(br#"{"id": "gw-1", "status": "undeliverable", "error": "absent"}"#)
            .unwrap();
        assert_eq!(r.provider_id, "gw-1");
        assert_eq!(r.status, DeliveryStatus::Undeliverable);
        assert_eq!(r.error.as_deref(), Some("absent"));
        assert!(parse_status(br#"{"id": "gw-1", "status": "lost"}"#).is_err());
    }
}
