//! The HTTP edge of the register: the agency API under `/api/v1` (JSON by default, XML on request, same field
//! names), operations endpoints (`/healthz`, `/readyz`, `/metrics`). Domain and store errors become HTTP
//! answers in exactly one place, [`ApiError`]'s `IntoResponse`.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod api;
mod error;
mod negotiate;
pub mod xml;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;
use popreg_store::Store;
use sha2::{Digest, Sha256};

pub use error::ApiError;
pub use negotiate::Format;

/// What the web layer needs to know from the configuration.
#[derive(Clone, Debug)]
pub struct WebConfig {
    /// SHA-256 (hex) of the API keys allowed to read persons. Keys themselves are never stored.
    pub api_key_sha256: Vec<String>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Time limit for one request.
    pub request_timeout: Duration,
    /// The tax registry connector for TIN checks; `None` answers "registry unavailable".
    pub tax_registry: Option<popreg_connectors::tax::TaxRegistry>,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            api_key_sha256: vec![],
            max_body_bytes: 1 << 20,
            request_timeout: Duration::from_secs(30),
            tax_registry: None,
        }
    }
}

/// Hash an API key the way the configuration stores it.
pub fn hash_api_key(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) struct AppInner {
    pub store: Store,
    pub config: WebConfig,
    pub metrics: Option<PrometheusHandle>,
}

/// Shared state of the HTTP handlers.
#[derive(Clone)]
pub struct AppState(pub(crate) Arc<AppInner>);

impl AppState {
    pub fn new(store: Store, config: WebConfig, metrics: Option<PrometheusHandle>) -> AppState {
        AppState(Arc::new(AppInner {
            store,
            config,
            metrics,
        }))
    }
}

/// The whole application router.
pub fn router(state: AppState) -> Router {
    let max_body = state.0.config.max_body_bytes;
    let timeout = state.0.config.request_timeout;
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .nest("/api/v1", api::routes())
        .fallback(|| async { ApiError::new(popreg_domain::Code::RouteNotFound, "no such route") })
        .layer(middleware::from_fn(record_metrics))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            ApiError::new(popreg_domain::Code::Internal, "internal error").into_response()
        }))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(max_body))
        .with_state(state)
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.0.store.ping().await {
        Ok(()) => (axum::http::StatusCode::OK, "ready\n").into_response(),
        Err(e) => {
            tracing::error!(database = %state.0.store.label(), error = %e, "readiness check failed: database unreachable");
            ApiError::new(
                popreg_domain::Code::StorageUnavailable,
                "database unreachable",
            )
            .into_response()
        }
    }
}

async fn metrics_text(State(state): State<AppState>) -> Response {
    match &state.0.metrics {
        Some(h) => (
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            h.render(),
        )
            .into_response(),
        None => ApiError::new(
            popreg_domain::Code::RouteNotFound,
            "metrics are not enabled",
        )
        .into_response(),
    }
}

/// Count and time every request by its route template (never by the raw path: it carries PSNs).
async fn record_metrics(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "other".into());
    let method = req.method().to_string();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::counter!("popreg_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("popreg_http_request_duration_seconds", "method" => method, "route" => route)
        .record(start.elapsed().as_secs_f64());
    resp
}
