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
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use popreg_domain::access::Function;
use popreg_store::{NewNotice, Notice, NoticeText};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::Ctx;
use crate::auth::{caller, require};
use crate::error::ApiError;
use crate::manage::{detached, json_body, require_json};

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
    require_json(&ctx, &headers, "the notice")?;
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
    let store = state.0.store.clone();
    let published = detached(&ctx, "notice", async move {
        store.publish_notice(&who, &n).await
    })
    .await?;
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
        require_json(&ctx, &headers, "the notice")?;
        json_body(&ctx, &body)?
    };
    let store = state.0.store.clone();
    let done = detached(&ctx, "notice", async move {
        store
            .withdraw_notice(&who, &id, req.reason.as_deref())
            .await
    })
    .await?;
    ctx.render("notice", &answer(done))
}
