//! Publishing public notices (G.3.5) for state bodies holding `publish_notices`:
//!
//! - `POST /api/v1/notices` (JSON in; JSON or XML out): a notice with a title and text in Armenian and
//!   optionally in English and Russian, and an optional last day of validity. It is public at once, in the
//!   portal (`/notices`) and its Atom feed (`/notices.atom`).
//! - `POST /api/v1/notices/{id}/withdraw` (optional JSON `{"reason": "…"}`): withdraw a notice of the
//!   caller's body. It stays visible, marked withdrawn.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use popreg_domain::Code;
use popreg_domain::access::Function;
use popreg_store::{NewNotice, Notice, NoticeText};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::Ctx;
use crate::auth::{caller, require};
use crate::error::ApiError;
use crate::manage::json_body;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/notices", post(publish))
        .route("/notices/{id}/withdraw", post(withdraw))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TextIn {
    #[serde(default)]
    title: String,
    #[serde(default)]
    text: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishRequest {
    hy: Option<TextIn>,
    en: Option<TextIn>,
    ru: Option<TextIn>,
    valid_until: Option<chrono::NaiveDate>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct WithdrawRequest {
    reason: Option<String>,
}

#[derive(Serialize)]
struct NoticeAnswer {
    #[serde(flatten)]
    notice: Notice,
    /// The notice's public page in the portal.
    url: String,
}

fn answer(n: Notice) -> NoticeAnswer {
    NoticeAnswer {
        url: format!("/notices/{}", n.id),
        notice: n,
    }
}

fn json_only(ctx: &Ctx, headers: &HeaderMap) -> Result<(), ApiError> {
    let ctype = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ctype.split(';').next().map(str::trim) != Some("application/json") {
        return Err(ctx.err(ApiError::new(
            Code::UnsupportedMediaType,
            "send the notice as application/json",
        )));
    }
    Ok(())
}

fn text(t: Option<TextIn>) -> Option<NoticeText> {
    t.map(|t| NoticeText {
        title: t.title.trim().to_string(),
        text: t.text,
    })
}

/// `POST /api/v1/notices`
async fn publish(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let ctx = Ctx::of(&headers)?;
    let who = caller(&state, &headers).await.map_err(|e| ctx.err(e))?;
    require(&who, Function::PublishNotices).map_err(|e| ctx.err(e))?;
    json_only(&ctx, &headers)?;
    let req: PublishRequest = json_body(&ctx, &body)?;
    let n = NewNotice {
        hy: text(req.hy).unwrap_or(NoticeText {
            title: String::new(),
            text: String::new(),
        }),
        en: text(req.en),
        ru: text(req.ru),
        valid_until: req.valid_until,
    };
    n.check().map_err(|e| ctx.err(e))?;
    // In a task of its own: a client that hangs up cannot cancel the transaction half-way.
    let store = state.0.store.clone();
    let published = tokio::spawn(async move { store.publish_notice(&who, &n).await })
        .await
        .map_err(|e| {
            ctx.err(ApiError::new(
                Code::Internal,
                format!("notice task failed: {e}"),
            ))
        })?
        .map_err(|e| ctx.err(e))?;
    let mut resp = ctx.render("notice", &answer(published))?;
    *resp.status_mut() = StatusCode::CREATED;
    Ok(resp)
}

/// `POST /api/v1/notices/{id}/withdraw`
async fn withdraw(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let ctx = Ctx::of(&headers)?;
    let who = caller(&state, &headers).await.map_err(|e| ctx.err(e))?;
    require(&who, Function::PublishNotices).map_err(|e| ctx.err(e))?;
    let req: WithdrawRequest = if body.iter().all(u8::is_ascii_whitespace) {
        WithdrawRequest::default()
    } else {
        json_only(&ctx, &headers)?;
        json_body(&ctx, &body)?
    };
    let store = state.0.store.clone();
    let done = tokio::spawn(async move {
        store
            .withdraw_notice(&who, &id, req.reason.as_deref())
            .await
    })
    .await
    .map_err(|e| {
        ctx.err(ApiError::new(
            Code::Internal,
            format!("notice task failed: {e}"),
        ))
    })?
    .map_err(|e| ctx.err(e))?;
    ctx.render("notice", &answer(done))
}
