//! `/api/v1/webhook`: a provider's own webhook (A1.52–54). A body with the `submit` function registers one
//! URL (`PUT`, answered with a new secret, shown once), looks at it and its latest events with their
//! delivery state (`GET`), or removes it (`DELETE`). Every rejection of the body's submissions is then POSTed
//! to the URL, signed; the contract is in `docs/api-guide.md` and the worker in `popreg_notify::webhook`.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use popreg_domain::Code;
use popreg_domain::access::{Caller, Function};
use serde::Deserialize;

use crate::AppState;
use crate::api::Ctx;
use crate::auth::{caller, require};
use crate::error::ApiError;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/webhook", get(show).put(set).delete(remove))
}

/// Events shown with the webhook.
const RECENT: i64 = 20;

async fn provider(state: &AppState, headers: &HeaderMap) -> Result<(Ctx, Caller), ApiError> {
    let ctx = Ctx::of(headers)?;
    let who = caller(state, headers).await.map_err(|e| ctx.err(e))?;
    require(&who, Function::Submit).map_err(|e| ctx.err(e))?;
    Ok((ctx, who))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetWebhook {
    url: String,
}

/// `PUT /api/v1/webhook` `{"url": "https://…"}`: register or replace; answers the new secret.
async fn set(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let (ctx, who) = provider(&state, &headers).await?;
    crate::manage::require_json(&ctx, &headers, "the webhook")?;
    let req: SetWebhook = crate::manage::json_body(&ctx, &body)?;
    let by = format!("{}/{}", who.body_id, who.user_uid);
    let (secret, url) = state
        .0
        .store
        .webhook_set(&who.body_id, req.url.trim(), &by, &state.0.config.webhooks)
        .await
        .map_err(|e| ctx.err(e))?;
    tracing::info!(target: "audit", body = %who.body_id, by = %by, "webhook registered");
    let mut r = ctx.render(
        "webhook",
        &serde_json::json!({
            "body_id": who.body_id, "url": url, "secret": secret, "events": ["rejection"],
            "signature": "X-Popreg-Signature: sha256=HMAC-SHA256(secret, X-Popreg-Timestamp + \".\" + body)",
        }),
    )?;
    *r.status_mut() = StatusCode::CREATED;
    Ok(r)
}

/// `GET /api/v1/webhook`: the registered URL (never the secret) and the latest events with their delivery.
async fn show(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let (ctx, who) = provider(&state, &headers).await?;
    let store = &state.0.store;
    let hook = store.webhook(&who.body_id).await.map_err(|e| ctx.err(e))?;
    let events = store
        .webhook_events(&who.body_id, RECENT)
        .await
        .map_err(|e| ctx.err(e))?;
    ctx.render(
        "webhook",
        &serde_json::json!({"body_id": who.body_id, "webhook": hook, "events": events}),
    )
}

/// `DELETE /api/v1/webhook`: no more deliveries (undelivered events wait for a new registration).
async fn remove(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let (ctx, who) = provider(&state, &headers).await?;
    let by = format!("{}/{}", who.body_id, who.user_uid);
    let removed = state
        .0
        .store
        .webhook_remove(&who.body_id, &by)
        .await
        .map_err(|e| ctx.err(e))?;
    if !removed {
        return Err(ctx.err(ApiError::new(
            Code::AccessUnknown,
            format!("body {} has no webhook", who.body_id),
        )));
    }
    ctx.render(
        "webhook",
        &serde_json::json!({"body_id": who.body_id, "removed": true}),
    )
}
