//! The data-usage log and the audit trail over the API (A1.30, A2.9).
//!
//! - `GET /api/v1/usage`: search the usage log by person, body, user, purpose and period (`audit_usage` or
//!   `manage_register`); a search by person is itself recorded as a use of that person's data.
//! - `GET /api/v1/usage/anomalies`: users reading far more persons than their body's usual, and reads out of
//!   hours (same functions).
//! - `POST /api/v1/usage/{id}/hide`: hide a record from the person until a day, with the lawful reason
//!   (`hide_usage`); the hiding is itself in the audit trail.
//! - `GET /api/v1/audit/checkpoint` (anyone: it holds no personal data) and `POST` (sign one now;
//!   `manage_register`); `GET /api/v1/audit/public-key`: the key that signs checkpoints;
//!   `GET /api/v1/audit/leaves/{seq}/proof`: the inclusion proof of any leaf (`audit_usage`).

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{Duration, NaiveDate};
use popreg_domain::access::{Caller, Function};
use popreg_domain::{Code, Psn};
use popreg_store::UsageFilter;
use serde::Deserialize;

use crate::AppState;
use crate::api::{Ctx, query};
use crate::auth::{caller, require};
use crate::error::ApiError;
use crate::manage::{bad, day, json_body, start_of};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/usage", get(search))
        .route("/usage/anomalies", get(anomalies))
        .route("/usage/{id}/hide", post(hide))
        .route("/audit/checkpoint", get(checkpoint).post(new_checkpoint))
        .route("/audit/public-key", get(public_key))
        .route("/audit/leaves/{seq}/proof", get(proof))
}

/// The caller, holding `audit_usage` or `manage_register`.
async fn supervisor(state: &AppState, headers: &HeaderMap) -> Result<(Ctx, Caller), ApiError> {
    let ctx = Ctx::of(headers)?;
    let who = caller(state, headers).await.map_err(|e| ctx.err(e))?;
    if !who.functions.contains(&Function::AuditUsage) {
        require(&who, Function::ManageRegister).map_err(|e| ctx.err(e))?;
    }
    Ok((ctx, who))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchQuery {
    psn: Option<String>,
    body: Option<String>,
    user: Option<String>,
    purpose: Option<String>,
    /// First day, inclusive (UTC).
    from: Option<String>,
    /// Last day, inclusive (UTC).
    to: Option<String>,
    before_id: Option<i64>,
    limit: Option<i64>,
}

/// `GET /api/v1/usage?psn=&body=&user=&purpose=&from=&to=&before_id=&limit=`: newest first, hidden records
/// included with their `hidden_until`.
async fn search(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<SearchQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let (ctx, who) = supervisor(&state, &headers).await?;
    let q = query(&ctx, q)?;
    let psn = q
        .psn
        .as_deref()
        .map(|s| Psn::parse(s).map_err(|e| ctx.err(e)))
        .transpose()?;
    let from = q
        .from
        .as_deref()
        .map(|s| day(&ctx, "from", s))
        .transpose()?;
    let to = q.to.as_deref().map(|s| day(&ctx, "to", s)).transpose()?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=10_000).contains(&limit) {
        return Err(bad(&ctx, "limit must be 1..10000"));
    }
    let filter = UsageFilter {
        psn,
        body_id: q.body,
        user_uid: q.user,
        purpose: q.purpose,
        from: from.map(start_of),
        to: to.map(|d| start_of(d + Duration::days(1))),
        before_id: q.before_id,
        limit,
    };
    let items = state
        .0
        .store
        .usage_search(&who, &filter)
        .await
        .map_err(|e| ctx.err(e))?;
    let next_before_id = (items.len() as i64 == limit)
        .then(|| items.last().map(|r| r.id))
        .flatten();
    ctx.render(
        "usage",
        &serde_json::json!({ "items": items, "next_before_id": next_before_id }),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnomalyQuery {
    from: Option<String>,
    to: Option<String>,
    /// A user stands out above this many times the body's median of distinct persons read (default 5).
    factor: Option<i64>,
    /// …and at least this many distinct persons (default 50).
    min_persons: Option<i64>,
}

/// `GET /api/v1/usage/anomalies?from=&to=&factor=&min_persons=` (default: the last 7 days).
async fn anomalies(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<AnomalyQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let (ctx, _) = supervisor(&state, &headers).await?;
    let q = query(&ctx, q)?;
    let today = state.0.store.clock().now().date_naive();
    let to = q.to.as_deref().map(|s| day(&ctx, "to", s)).transpose()?;
    let to = to.unwrap_or(today);
    let from = match q.from.as_deref() {
        Some(s) => day(&ctx, "from", s)?,
        None => to - Duration::days(6),
    };
    if from > to {
        return Err(ctx.err(ApiError::new(Code::PeriodOrder, "from is after to")));
    }
    let factor = q.factor.unwrap_or(5);
    let min_persons = q.min_persons.unwrap_or(50);
    if factor < 1 || min_persons < 1 {
        return Err(bad(&ctx, "factor and min_persons must be at least 1"));
    }
    let items = state
        .0
        .store
        .usage_anomalies(
            start_of(from),
            start_of(to + Duration::days(1)),
            factor,
            min_persons,
        )
        .await
        .map_err(|e| ctx.err(e))?;
    ctx.render(
        "anomalies",
        &serde_json::json!({ "from": from, "to": to, "items": items }),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Hide {
    hidden_until: NaiveDate,
    reason: String,
}

/// `POST /api/v1/usage/{id}/hide` `{"hidden_until": "2027-06-30", "reason": "…"}`.
async fn hide(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let ctx = Ctx::of(&headers)?;
    let who = caller(&state, &headers).await.map_err(|e| ctx.err(e))?;
    require(&who, Function::HideUsage).map_err(|e| ctx.err(e))?;
    let req: Hide = json_body(&ctx, &body)?;
    let h = state
        .0
        .store
        .hide_usage(&who, id, req.hidden_until, &req.reason)
        .await
        .map_err(|e| ctx.err(e))?;
    let mut r = ctx.render("hiding", &h)?;
    *r.status_mut() = StatusCode::CREATED;
    Ok(r)
}

/// `GET /api/v1/audit/checkpoint`: the newest signed checkpoint (404 `PSR-AUD-0002` before the first).
async fn checkpoint(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let ctx = Ctx::of(&headers)?;
    let c = state
        .0
        .store
        .latest_checkpoint()
        .await
        .map_err(|e| ctx.err(e))?
        .ok_or_else(|| ctx.err(ApiError::new(Code::AuditNotFound, "no checkpoint yet")))?;
    ctx.render("checkpoint", &c)
}

/// `POST /api/v1/audit/checkpoint`: sign a checkpoint of the tree as it is now.
async fn new_checkpoint(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let ctx = Ctx::of(&headers)?;
    let who = caller(&state, &headers).await.map_err(|e| ctx.err(e))?;
    require(&who, Function::ManageRegister).map_err(|e| ctx.err(e))?;
    let c = state
        .0
        .store
        .audit_checkpoint()
        .await
        .map_err(|e| ctx.err(e))?;
    let mut r = ctx.render("checkpoint", &c)?;
    *r.status_mut() = StatusCode::CREATED;
    Ok(r)
}

/// `GET /api/v1/audit/public-key`: `{key_id, algorithm: "Ed25519", public_key_base64}`.
async fn public_key(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let ctx = Ctx::of(&headers)?;
    let (key_id, key) = state.0.store.audit_public_key().ok_or_else(|| {
        ctx.err(ApiError::new(
            Code::StorageUnavailable,
            "no audit signing key is configured",
        ))
    })?;
    ctx.render(
        "public_key",
        &serde_json::json!({
            "key_id": key_id,
            "algorithm": "Ed25519",
            "public_key_base64": popreg_domain::merkle::base64(&key),
            "origin": popreg_store::AUDIT_ORIGIN,
        }),
    )
}

/// `GET /api/v1/audit/leaves/{seq}/proof`: any leaf's inclusion proof, for supervisors.
async fn proof(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(seq): Path<i64>,
) -> Result<Response, ApiError> {
    let (ctx, _) = supervisor(&state, &headers).await?;
    let p = state
        .0
        .store
        .inclusion_proof(seq)
        .await
        .map_err(|e| ctx.err(e))?
        .ok_or_else(|| ctx.err(ApiError::new(Code::AuditNotFound, format!("no leaf {seq}"))))?;
    ctx.render("inclusion_proof", &p)
}
