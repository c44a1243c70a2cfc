//! `POST /api/v1/sms/receipts`: the HTTP SMS gateway's status callbacks (contract version 1, G.7). The body
//! is the gateway's status object `{"id": "gw-123", "status": "delivered", "error": "…", "done_at": "…"}`;
//! it marks the outbox row that the gateway's id belongs to delivered, or failed for good (`undeliverable`,
//! `expired`, `rejected`, `deleted`).
//!
//! Only the gateway may call it: `Authorization: Bearer {notify.sms.http.callback_secret}`, compared in
//! constant time (of the SHA-256 digests, so the length leaks nothing either). Without a configured secret
//! every call is refused. Answers: `204` recorded; `401 PSR-NTF-0005` no or a wrong secret; `400
//! PSR-NTF-0006` not a status; `503 PSR-NTF-0007` no message has that id yet (the receipt overtook the
//! record of the send: the gateway posts it again); `413 PSR-API-0004` over 16 KiB.

use std::fmt;

use axum::Router;
use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use popreg_domain::Code;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::ApiError;

/// The largest receipt read.
pub const MAX_RECEIPT_BYTES: usize = 16 * 1024;

/// The shared secret of the gateway's callbacks, kept as its SHA-256. `Debug` shows `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct CallbackSecret([u8; 32]);

impl CallbackSecret {
    pub fn new(secret: &str) -> CallbackSecret {
        CallbackSecret(Sha256::digest(secret.as_bytes()).into())
    }

    /// Whether `given` is the secret, in time independent of where they differ.
    fn matches(&self, given: &str) -> bool {
        let given: [u8; 32] = Sha256::digest(given.as_bytes()).into();
        self.0
            .iter()
            .zip(given.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

impl fmt::Debug for CallbackSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The gateway's status object (the fields the register uses).
#[derive(Deserialize)]
struct Status {
    id: String,
    status: String,
    #[serde(default)]
    error: Option<String>,
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/sms/receipts", post(receipt))
}

async fn receipt(State(state): State<AppState>, req: Request) -> Response {
    let headers = req.headers().clone();
    let refuse = |code: Code, detail: &str| {
        ApiError::new(code, detail.to_string())
            .for_request(&headers)
            .into_response()
    };
    let given = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let allowed = match (&state.0.config.sms_callback_secret, given) {
        (Some(secret), Some(given)) => secret.matches(given.trim()),
        _ => false,
    };
    if !allowed {
        tracing::warn!(target: "security", "SMS receipt callback without the right secret: refused");
        return refuse(
            Code::SmsReceiptUnauthorized,
            "SMS receipts are accepted only from the configured gateway, with its shared secret",
        );
    }
    let Ok(body) = to_bytes(req.into_body(), MAX_RECEIPT_BYTES).await else {
        return refuse(
            Code::PayloadTooLarge,
            &format!("an SMS receipt is at most {MAX_RECEIPT_BYTES} bytes"),
        );
    };
    let status: Status = match serde_json::from_slice(&body) {
        Ok(s) => s,
        Err(e) => return refuse(Code::SmsReceiptInvalid, &format!("not a status: {e}")),
    };
    if status.id.is_empty() || status.id.len() > 64 || status.status.len() > 32 {
        return refuse(Code::SmsReceiptInvalid, "the id or the status is malformed");
    }
    let error = status.error.as_deref();
    match state
        .0
        .store
        .sms_receipt(&status.id, &status.status, error)
        .await
    {
        Ok(Some(r)) => {
            tracing::info!(outbox_id = r.outbox_id, status = %status.status, "SMS receipt from the gateway");
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(None) => refuse(
            Code::SmsReceiptUnknown,
            "no SMS with this id is recorded yet; post the receipt again later",
        ),
        Err(e) => ApiError::from(e).for_request(&headers).into_response(),
    }
}
