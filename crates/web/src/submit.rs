//! `POST /api/v1/submissions/{kind}`: one pipeline for JSON, XML and (through X-Road) both (A1.35).
//!
//! Order of the steps, and why:
//! 1. negotiate the answer's format and language, so every refusal below is in them;
//! 2. identify the caller and require the `submit` function (401/403 are not logged as rejections: nothing
//!    was submitted by anyone we know);
//! 3. from here on every refusal is recorded in the rejection log with the payload exactly as received
//!    (A1.51): unknown kind, media type, encoding, syntax, structure (the data-element registry), competence
//!    of the body's type (A1.32), then the decision against the register (contradictions, duplicates) inside
//!    the store's transaction, together with the entries or the rejection.
//!
//! Also: `GET /api/v1/submissions/{id}` (the outcome again) and `GET /api/v1/rejections?after=N` (the feed of
//! the caller's rejections that a provider's system follows, A1.52).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use popreg_domain::Code;
use popreg_domain::access::{Caller, Function};
use popreg_domain::elements;
use popreg_domain::elements::KindDef;
use popreg_domain::submission::{Submission, Violation};
use popreg_store::{Outcome, Receipt};
use serde::Deserialize;

use crate::AppState;
use crate::api::Ctx;
use crate::auth::{caller, require};
use crate::error::ApiError;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/submissions/{kind}", post(submit))
        .route("/submissions/{kind}/{id}", get(outcome))
        .route("/rejections", get(rejections))
}

/// The body's media type: JSON or XML, UTF-8 only.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Media {
    Json,
    Xml,
}

fn media(headers: &HeaderMap) -> Result<Media, Violation> {
    let raw = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut parts = raw.split(';');
    let essence = parts.next().unwrap_or("").trim();
    for p in parts {
        if let Some((k, v)) = p.split_once('=')
            && k.trim() == "charset"
            && !matches!(v.trim().trim_matches('"'), "utf-8" | "utf8")
        {
            return Err(Violation::new(
                Code::BadEncoding,
                "",
                format!("charset {} is not accepted; send UTF-8", v.trim()),
            ));
        }
    }
    match essence {
        "application/json" => Ok(Media::Json),
        "application/xml" | "text/xml" => Ok(Media::Xml),
        other => Err(Violation::new(
            Code::UnsupportedMediaType,
            "",
            format!(
                "Content-Type {:?} is not accepted; send application/json or application/xml",
                if other.is_empty() { "(none)" } else { other }
            ),
        )),
    }
}

fn violation(e: elements::FieldError) -> Violation {
    Violation::new(e.code, e.field, e.detail)
}

/// Parse a body into its JSON value (either channel gives the same value).
fn parse(def: &KindDef, media: Media, body: &[u8]) -> Result<serde_json::Value, Vec<Violation>> {
    match media {
        Media::Json => crate::input::parse_json(body),
        Media::Xml => crate::input::parse_xml(def, body),
    }
    .map_err(|e| vec![violation(e)])
}

/// From a submission's JSON value to a typed submission, or the reasons it is not one: the structure against
/// the data-element registry, then the typed form. Shared by every channel, after [`competence`].
pub(crate) fn decide_input(
    def: &KindDef,
    value: serde_json::Value,
) -> Result<Submission, Vec<Violation>> {
    let errors = elements::check(def, &value);
    if !errors.is_empty() {
        return Err(errors.into_iter().map(violation).collect());
    }
    Submission::from_value(def.name, value).map_err(|v| vec![v])
}

/// The kind's definition, if the caller's body type is competent for it (A1.32, A1.38–48).
pub(crate) fn competence(caller: &Caller, kind: &str) -> Result<&'static KindDef, Violation> {
    let def = elements::kind(kind).ok_or_else(|| {
        Violation::new(Code::UnknownKind, "", format!("no submission kind {kind}"))
    })?;
    if def.providers.contains(&caller.body_type) {
        // A1.34: the employee's or client's functions may limit it to some kinds (submit_births, …).
        if !caller.may_submit(kind) {
            tracing::warn!(target: "security", body = %caller.body_id, user = %caller.user_uid, kind, "submission of a kind not permitted to this user");
            return Err(Violation::new(
                Code::Forbidden,
                "",
                format!(
                    "the functions of {} at body {} do not include submitting {kind}",
                    caller.user_uid, caller.body_id
                ),
            ));
        }
        return Ok(def);
    }
    Err(Violation::new(
        Code::NotCompetent,
        "",
        format!(
            "{kind} is submitted by {}; this body is a {}",
            def.providers
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(" or "),
            caller.body_type.as_str()
        ),
    ))
}

/// `POST /api/v1/submissions/{kind}`
async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(kind): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let ctx = Ctx::of(&headers)?;
    let who = caller(&state, &headers).await.map_err(|e| ctx.err(e))?;
    require(&who, Function::Submit).map_err(|e| ctx.err(e))?;
    let media_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(100)
        .collect();
    let receipt = Receipt {
        kind: kind.chars().take(64).collect(),
        caller: who,
        media_type,
        payload: body.to_vec(),
    };
    let parsed = media(&headers)
        .and_then(|m| Ok((m, competence(&receipt.caller, &kind)?)))
        .map_err(|v| vec![v])
        .and_then(|(m, def)| decide_input(def, parse(def, m, &body)?));
    let (outcome, replayed) = record(&state, receipt, parsed)
        .await
        .map_err(|e| ctx.err(e))?;
    let mut resp = render(&ctx, outcome)?;
    if replayed {
        resp.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(resp)
}

/// Decide and record a submission (or its refusal) in a task of its own, so that a client that hangs up
/// mid-request cannot cancel the transaction half-way: it runs to its commit or rollback either way.
pub(crate) async fn record(
    state: &AppState,
    receipt: Receipt,
    parsed: Result<Submission, Vec<Violation>>,
) -> Result<(Outcome, bool), popreg_store::StoreError> {
    let store = state.0.store.clone();
    tokio::spawn(async move {
        match parsed {
            Ok(sub) => store.submit(&receipt, sub).await,
            Err(errors) => store.reject(&receipt, errors).await,
        }
    })
    .await
    .map_err(|e| popreg_store::StoreError::Database(format!("submission task failed: {e}")))?
}

/// The answer for an outcome: 201 accepted, 202 held, or the rejection as a problem document.
fn render(ctx: &Ctx, outcome: Outcome) -> Result<Response, ApiError> {
    let status = match &outcome {
        Outcome::Accepted { .. } => StatusCode::CREATED,
        Outcome::Held { .. } => StatusCode::ACCEPTED,
        Outcome::Rejected {
            submission_id,
            rejection_id,
            errors,
        } => {
            let first = errors.first().map(|v| v.code).unwrap_or(Code::Malformed);
            let detail = errors
                .iter()
                .map(|v| {
                    if v.field.is_empty() {
                        v.detail.clone()
                    } else {
                        format!("{}: {}", v.field, v.detail)
                    }
                })
                .collect::<Vec<_>>()
                .join("; ");
            let mut e = ctx.err(ApiError::new(first, detail));
            e.errors = errors.clone();
            e.rejection_id = Some(*rejection_id);
            e.submission_id = Some(submission_id.clone());
            return Err(e);
        }
    };
    let mut resp = ctx.render("submission", &outcome)?;
    *resp.status_mut() = status;
    Ok(resp)
}

/// `GET /api/v1/submissions/{kind}/{id}`: the outcome of one of the caller's submissions, again.
async fn outcome(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((_kind, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let ctx = Ctx::of(&headers)?;
    let who = caller(&state, &headers).await.map_err(|e| ctx.err(e))?;
    require(&who, Function::Submit).map_err(|e| ctx.err(e))?;
    match state
        .0
        .store
        .submission_outcome(&who.body_id, &id)
        .await
        .map_err(|e| ctx.err(e))?
    {
        Some(o) => render(&ctx, o),
        None => Err(ctx.err(ApiError::new(
            Code::RouteNotFound,
            "no submission with this id from this body",
        ))),
    }
}

#[derive(Deserialize)]
struct FeedQuery {
    after: Option<i64>,
    limit: Option<i64>,
}

/// `GET /api/v1/rejections?after=N&limit=M`: the caller's body's rejections after id N, oldest first. A
/// provider's system polls it with the last id it has seen (A1.52).
async fn rejections(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<FeedQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let ctx = Ctx::of(&headers)?;
    let who = caller(&state, &headers).await.map_err(|e| ctx.err(e))?;
    require(&who, Function::Submit).map_err(|e| ctx.err(e))?;
    let Query(q) = q.map_err(|e| ctx.err(ApiError::new(Code::BadQuery, e.body_text())))?;
    rejection_feed(&state, &ctx, Some(&who.body_id), q.after, q.limit).await
}

/// A page of the rejection log after id `after` (of one body, or all), with `next_after` to poll from.
pub(crate) async fn rejection_feed(
    state: &AppState,
    ctx: &Ctx,
    body: Option<&str>,
    after: Option<i64>,
    limit: Option<i64>,
) -> Result<Response, ApiError> {
    let items = state
        .0
        .store
        .rejections(body, after.unwrap_or(0), limit.unwrap_or(100))
        .await
        .map_err(|e| ctx.err(e))?;
    let next = items.last().map(|r| r.id).or(after).unwrap_or(0);
    ctx.render(
        "rejections",
        &serde_json::json!({ "items": items, "next_after": next }),
    )
}
