//! The register manager's API (A1.50, A1.55): rejections by provider, code and period; late submissions;
//! held submissions to release or dismiss; manual rejection of an accepted entry; suspensions. Every route
//! requires the `manage_register` function. A provider sees its own suspension at `/api/v1/suspension`.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use popreg_domain::Code;
use popreg_domain::access::{Caller, Function};
use serde::Deserialize;

use crate::AppState;
use crate::api::Ctx;
use crate::auth::{caller, require};
use crate::error::ApiError;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/manage/stats", get(stats))
        .route("/manage/rejections", get(rejections))
        .route("/manage/held", get(held))
        .route("/manage/held/{id}/release", post(release))
        .route("/manage/held/{id}/dismiss", post(dismiss))
        .route("/manage/entries/{id}/reject", post(reject_entry))
        .route("/manage/suspensions", get(suspensions).post(suspend))
        .route("/manage/suspensions/{id}/lift", post(lift))
        .route("/suspension", get(own_suspension))
}

async fn manager(state: &AppState, headers: &HeaderMap) -> Result<(Ctx, Caller), ApiError> {
    let ctx = Ctx::of(headers)?;
    let who = caller(state, headers).await.map_err(|e| ctx.err(e))?;
    require(&who, Function::ManageRegister).map_err(|e| ctx.err(e))?;
    Ok((ctx, who))
}

pub(crate) fn bad(ctx: &Ctx, detail: impl Into<String>) -> ApiError {
    ctx.err(ApiError::new(Code::BadQuery, detail))
}

pub(crate) fn day(ctx: &Ctx, name: &str, s: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        ctx.err(ApiError::new(
            Code::InvalidDate,
            format!("{name} must be YYYY-MM-DD"),
        ))
    })
}

pub(crate) fn start_of(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or_default()
}

/// The default reporting window: the 30 days up to and including `to`.
/// The end of a suspension's last day (inclusive): the day in Armenia ends at 20:00 UTC.
pub(crate) fn last_day_end(d: NaiveDate) -> DateTime<Utc> {
    start_of(d + Duration::days(1)) - Duration::hours(4)
}

pub(crate) fn default_from(to: NaiveDate) -> NaiveDate {
    to - Duration::days(29)
}

/// Submission statistics for the days `from` to `to`, both inclusive.
pub(crate) async fn stats_for(
    state: &AppState,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<popreg_store::SubmissionStats, popreg_store::StoreError> {
    state
        .0
        .store
        .submission_stats(start_of(from), start_of(to + Duration::days(1)))
        .await
}

#[derive(Deserialize)]
struct Period {
    from: Option<String>,
    to: Option<String>,
}

/// `GET /api/v1/manage/stats?from=D&to=D` (both days inclusive; default the last 30 days): submissions,
/// rejections, held and late per body, rejections per code, and per day (the chart's series).
async fn stats(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<Period>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let (ctx, _) = manager(&state, &headers).await?;
    let Query(q) = q.map_err(|e| bad(&ctx, e.body_text()))?;
    let today = popreg_store::armenian_date(state.0.store.clock().now());
    let to = match &q.to {
        Some(s) => day(&ctx, "to", s)?,
        None => today,
    };
    let from = match &q.from {
        Some(s) => day(&ctx, "from", s)?,
        None => default_from(to),
    };
    if from > to {
        return Err(ctx.err(ApiError::new(Code::PeriodOrder, "from is after to")));
    }
    let s = stats_for(&state, from, to).await.map_err(|e| ctx.err(e))?;
    let bodies: Vec<serde_json::Value> = s
        .bodies
        .iter()
        .map(|(id, c)| {
            let rate = if c.submissions > 0 {
                c.rejected as f64 / c.submissions as f64
            } else {
                0.0
            };
            serde_json::json!({
                "body_id": id, "submissions": c.submissions, "accepted": c.accepted,
                "rejected": c.rejected, "held": c.held, "late": c.late,
                "rejection_rate": (rate * 10000.0).round() / 10000.0,
            })
        })
        .collect();
    let codes: Vec<serde_json::Value> = s
        .codes
        .iter()
        .map(|(c, n)| serde_json::json!({"code": c, "count": n}))
        .collect();
    ctx.render(
        "stats",
        &serde_json::json!({
            "from": from.to_string(), "to": to.to_string(),
            "bodies": bodies, "codes": codes, "days": s.days,
        }),
    )
}

#[derive(Deserialize)]
struct LogQuery {
    body: Option<String>,
    after: Option<i64>,
    limit: Option<i64>,
}

/// `GET /api/v1/manage/rejections?body=ID&after=N&limit=M`: the whole rejection log, or one body's.
async fn rejections(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<LogQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let (ctx, _) = manager(&state, &headers).await?;
    let Query(q) = q.map_err(|e| bad(&ctx, e.body_text()))?;
    crate::submit::rejection_feed(&state, &ctx, q.body.as_deref(), q.after, q.limit).await
}

/// `GET /api/v1/manage/held`: submissions held as likely duplicates.
async fn held(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let (ctx, _) = manager(&state, &headers).await?;
    let items = state
        .0
        .store
        .held_submissions(500)
        .await
        .map_err(|e| ctx.err(e))?;
    ctx.render("held", &serde_json::json!({"items": items}))
}

async fn review(
    state: AppState,
    headers: HeaderMap,
    id: String,
    release: bool,
) -> Result<Response, ApiError> {
    let (ctx, who) = manager(&state, &headers).await?;
    let store = &state.0.store;
    let outcome = if release {
        store.release_held(&id, &who).await
    } else {
        store.dismiss_held(&id, &who).await
    }
    .map_err(|e| ctx.err(e))?;
    ctx.render("submission", &outcome)
}

/// `POST /api/v1/manage/held/{id}/release`: not a duplicate; decide it again and accept if valid.
async fn release(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    review(state, headers, id, true).await
}

/// `POST /api/v1/manage/held/{id}/dismiss`: a duplicate; it becomes a rejection.
async fn dismiss(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    review(state, headers, id, false).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RejectEntry {
    reason_code: String,
    #[serde(default)]
    note: String,
}

pub(crate) fn json_body<T: for<'de> Deserialize<'de>>(
    ctx: &Ctx,
    body: &[u8],
) -> Result<T, ApiError> {
    let v = crate::input::parse_json(body).map_err(|e| ctx.err(ApiError::new(e.code, e.detail)))?;
    serde_json::from_value(v).map_err(|e| ctx.err(ApiError::new(Code::Malformed, e.to_string())))
}

/// Refuse a body that is not `application/json` (`PSR-API-0003`); `what` names it in the answer.
pub(crate) fn require_json(ctx: &Ctx, headers: &HeaderMap, what: &str) -> Result<(), ApiError> {
    let ctype = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ctype.split(';').next().map(str::trim) != Some("application/json") {
        return Err(ctx.err(ApiError::new(
            Code::UnsupportedMediaType,
            format!("send {what} as application/json"),
        )));
    }
    Ok(())
}

/// Run a store change in a task of its own, so that a client that hangs up cannot cancel its transaction
/// half-way; `what` names it if the task fails.
pub(crate) async fn detached<T, E>(
    ctx: &Ctx,
    what: &str,
    change: impl Future<Output = Result<T, E>> + Send + 'static,
) -> Result<T, ApiError>
where
    T: Send + 'static,
    E: Into<ApiError> + Send + 'static,
{
    tokio::spawn(change)
        .await
        .map_err(|e| {
            ctx.err(ApiError::new(
                Code::Internal,
                format!("{what} task failed: {e}"),
            ))
        })?
        .map_err(|e| ctx.err(e))
}

/// `POST /api/v1/manage/entries/{id}/reject` `{"reason_code": "PSR-CON-0002", "note": "…"}` (A1.50.2).
async fn reject_entry(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let (ctx, who) = manager(&state, &headers).await?;
    let req: RejectEntry = json_body(&ctx, &body)?;
    let code = Code::from_code(&req.reason_code).ok_or_else(|| {
        ctx.err(ApiError::new(
            Code::UnknownClassifierCode,
            format!("{} is not a known reason code", req.reason_code),
        ))
    })?;
    let note: String = req.note.chars().take(500).collect();
    let rejection_id = state
        .0
        .store
        .retract_entry(id, code, &note, &who)
        .await
        .map_err(|e| ctx.err(e))?;
    let mut r = ctx.render(
        "retraction",
        &serde_json::json!({"entry_id": id, "rejection_id": rejection_id}),
    )?;
    *r.status_mut() = StatusCode::CREATED;
    Ok(r)
}

/// `GET /api/v1/manage/suspensions`: suspensions in force.
async fn suspensions(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (ctx, _) = manager(&state, &headers).await?;
    let items = state.0.store.suspensions().await.map_err(|e| ctx.err(e))?;
    ctx.render("suspensions", &serde_json::json!({"items": items}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Suspend {
    body_id: String,
    reason: String,
    /// Last day of the suspension (inclusive); none: until lifted.
    until: Option<NaiveDate>,
}

/// `POST /api/v1/manage/suspensions` `{"body_id": "MED-0001", "reason": "…", "until": "2026-12-31"}`.
async fn suspend(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let (ctx, who) = manager(&state, &headers).await?;
    let req: Suspend = json_body(&ctx, &body)?;
    if req.reason.trim().is_empty() || req.reason.chars().count() > 500 {
        return Err(ctx.err(ApiError::new(
            Code::ValueOutOfRange,
            "reason must be 1 to 500 characters",
        )));
    }
    let store = &state.0.store;
    if store
        .body(&req.body_id)
        .await
        .map_err(|e| ctx.err(e))?
        .is_none()
    {
        return Err(ctx.err(ApiError::new(
            Code::AccessUnknown,
            format!("no body {}", req.body_id),
        )));
    }
    let until = req.until.map(last_day_end);
    let id = store
        .suspend(&req.body_id, req.reason.trim(), until, &who.user_uid)
        .await
        .map_err(|e| ctx.err(e))?;
    tracing::info!(target: "audit", body = %req.body_id, by = %who.user_uid, id, "right to submit suspended");
    let mut r = ctx.render("suspension", &serde_json::json!({"id": id}))?;
    *r.status_mut() = StatusCode::CREATED;
    Ok(r)
}

/// `POST /api/v1/manage/suspensions/{id}/lift`
async fn lift(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let (ctx, who) = manager(&state, &headers).await?;
    let lifted = state
        .0
        .store
        .lift_suspension(id, &who.user_uid)
        .await
        .map_err(|e| ctx.err(e))?;
    if !lifted {
        return Err(ctx.err(ApiError::new(
            Code::AccessUnknown,
            format!("no open suspension {id}"),
        )));
    }
    tracing::info!(target: "audit", id, by = %who.user_uid, "suspension lifted");
    ctx.render("suspension", &serde_json::json!({"id": id, "lifted": true}))
}

/// `GET /api/v1/suspension`: the caller's own body's suspension, if one is in force (A1.55: visible to the
/// provider).
async fn own_suspension(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let ctx = Ctx::of(&headers)?;
    let who = caller(&state, &headers).await.map_err(|e| ctx.err(e))?;
    let s = state
        .0
        .store
        .active_suspension(&who.body_id)
        .await
        .map_err(|e| ctx.err(e))?;
    ctx.render(
        "suspension",
        &serde_json::json!({"body_id": who.body_id, "suspended": s.is_some(), "suspension": s}),
    )
}
