//! The Mobile ID app's JSON API (issue 4 §3, G.2m), under `/api/v1/mobile-id/`: no API key (the app proves
//! itself with the enrolment code, then with its device key's signatures). Refusals are coded problems; each
//! `401` (a wrong code, a wrong signature) counts against the caller's address at the edge's throttle, and
//! the store limits wrong enrolment codes per client on its own. See `docs/identity.md` ("Mobile ID").

use axum::Router;
use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use popreg_domain::Code;
use serde::Deserialize;
use serde_json::json;

use crate::{ApiError, AppState};

/// The largest request body of this API.
const MAX_BODY: usize = 4 * 1024;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/mobile-id/enrol", post(enrol))
        .route("/mobile-id/challenge", post(challenge))
        .route("/mobile-id/sign", post(sign))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Enrol {
    code: String,
    device_name: String,
    public_key: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChallengeRequest {
    device_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Sign {
    challenge_id: String,
    signature: String,
}

/// The request's JSON body as `T`, or the coded refusal; with the caller's address (for the try limit).
async fn read<T: serde::de::DeserializeOwned>(req: Request) -> Result<(T, String), Response> {
    let client = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into());
    let headers = req.headers().clone();
    let refuse = |code: Code, detail: String| {
        ApiError::new(code, detail)
            .for_request(&headers)
            .into_response()
    };
    let Ok(body) = to_bytes(req.into_body(), MAX_BODY).await else {
        return Err(refuse(
            Code::PayloadTooLarge,
            format!("a Mobile ID request is at most {MAX_BODY} bytes"),
        ));
    };
    serde_json::from_slice(&body)
        .map(|v| (v, client))
        .map_err(|e| refuse(Code::Malformed, format!("not a valid request: {e}")))
}

fn answer(
    headers: &axum::http::HeaderMap,
    r: Result<serde_json::Value, popreg_store::StoreError>,
) -> Response {
    match r {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => ApiError::from(e).for_request(headers).into_response(),
    }
}

/// `POST /api/v1/mobile-id/enrol` {code, device_name, public_key} → {device_id}.
async fn enrol(State(state): State<AppState>, req: Request) -> Response {
    let headers = req.headers().clone();
    let (e, client): (Enrol, _) = match read(req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let r = state
        .0
        .store
        .enrol_device(&e.code, &e.device_name, &e.public_key, &client)
        .await;
    if let Err(err) = &r {
        // The code itself is never logged.
        tracing::warn!(target: "security", code = %err.code(), "mobile id: enrolment refused");
    }
    answer(&headers, r.map(|id| json!({ "device_id": id })))
}

/// `POST /api/v1/mobile-id/challenge` {device_id} → the waiting login and a nonce to sign.
async fn challenge(State(state): State<AppState>, req: Request) -> Response {
    let headers = req.headers().clone();
    let (c, _): (ChallengeRequest, _) = match read(req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let r = state.0.store.mobile_id_challenge(&c.device_id).await;
    answer(&headers, r.map(|c| json!(c)))
}

/// `POST /api/v1/mobile-id/sign` {challenge_id, signature} → {approved: true}.
async fn sign(State(state): State<AppState>, req: Request) -> Response {
    let headers = req.headers().clone();
    let (s, _): (Sign, _) = match read(req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let r = state
        .0
        .store
        .mobile_id_sign(&s.challenge_id, &s.signature)
        .await;
    if let Err(err) = &r {
        tracing::warn!(target: "security", code = %err.code(), "mobile id: signature refused");
    }
    answer(&headers, r.map(|()| json!({ "approved": true })))
}
