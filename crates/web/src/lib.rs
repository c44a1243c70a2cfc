//! The HTTP edge of the register: the agency API under `/api/v1` (JSON by default, XML on request, same field
//! names), ID-card identification (`/whoami`), operations endpoints (`/healthz`, `/readyz`, `/metrics`) and a
//! landing page at `/`. Domain and store errors become HTTP answers in exactly one place, [`ApiError`]'s
//! `IntoResponse`.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod admin;
mod admin_templates;
mod api;
mod appointments;
mod auth;
mod error;
pub mod input;
mod landing;
mod manage;
mod manage_page;
mod mobile_id;
mod my_usage;
mod negotiate;
mod notices_api;
mod notifications;
mod portal;
mod schemas;
mod sms_receipts;
mod staff;
mod submit;
mod usage_api;
mod webhooks_api;
mod whoami;
mod workspace;
pub mod xml;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;
use popreg_store::Store;

pub use error::ApiError;
pub use negotiate::Format;
pub use portal::{DemoCard, PortalConfig};
pub use sms_receipts::{CallbackSecret, MAX_RECEIPT_BYTES};

/// What the web layer needs to know from the configuration.
#[derive(Clone, Debug)]
pub struct WebConfig {
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Time limit for one request.
    pub request_timeout: Duration,
    /// The tax registry connector for TIN checks; `None` answers "registry unavailable".
    pub tax_registry: Option<popreg_connectors::tax::TaxRegistry>,
    /// The legal-entity, vehicle and driving-licence registries (G.4, G.6); one not configured is
    /// "unavailable".
    pub registries: popreg_connectors::registries::Registries,
    /// Checks ID-card certificates presented over TLS (`GET /whoami`); `None`: ID cards are not accepted.
    pub card_verifier: Option<Arc<popreg_identity::CardVerifier>>,
    /// Checks agencies' API client certificates (mutual TLS); `None`: the `card_verifier`'s CAs are used.
    pub agency_verifier: Option<Arc<popreg_identity::CardVerifier>>,
    /// Behind a TLS-terminating reverse proxy: where it forwards the client certificate, and from where.
    pub forwarded_cert: Option<ForwardedCert>,
    /// Refused authentications (`401`) allowed per client address in `auth_failure_window`; past that the
    /// address gets `429 PSR-API-0008` until the window ends. 0: no limit.
    pub auth_failures_per_window: u32,
    pub auth_failure_window: Duration,
    /// The e-Citizen portal: sessions, cookies, the demo's card chooser.
    pub portal: PortalConfig,
    /// The portal's address and the life of verification links and codes, for the notifications and
    /// forwarding addresses (`notify.portal`).
    pub contacts: popreg_store::ContactSettings,
    /// Where providers' webhooks may go (`notify.webhooks`): checked when a body registers one.
    pub webhooks: popreg_store::WebhookGuard,
    /// The HTTP SMS gateway's callback secret (`notify.sms.http.callback_secret`) for
    /// `POST /api/v1/sms/receipts`; `None`: that route refuses every call.
    pub sms_callback_secret: Option<CallbackSecret>,
}

/// The reverse-proxy mode of ID-card login: the proxy terminates TLS, asks for the card, and forwards the
/// client certificate (URL-encoded PEM) in `header`. The header is believed only on connections from
/// `trusted`; from any other address a request carrying it is refused (`403 PSR-AUTH-0009`). Either way the
/// certificate is checked here again against the CA bundle, the CRL and the clock.
#[derive(Clone, Debug)]
pub struct ForwardedCert {
    pub header: axum::http::HeaderName,
    pub trusted: Vec<std::net::IpAddr>,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            max_body_bytes: 1 << 20,
            request_timeout: Duration::from_secs(30),
            tax_registry: None,
            registries: Default::default(),
            card_verifier: None,
            agency_verifier: None,
            forwarded_cert: None,
            auth_failures_per_window: 30,
            auth_failure_window: Duration::from_secs(60),
            portal: PortalConfig::default(),
            contacts: popreg_store::ContactSettings::default(),
            webhooks: popreg_store::WebhookGuard::default(),
            sms_callback_secret: None,
        }
    }
}

/// Hash an API key the way the register keeps it (SHA-256, lower-case hex).
pub use popreg_store::hash_api_key;

pub(crate) struct AppInner {
    pub store: Store,
    pub config: WebConfig,
    pub metrics: Option<PrometheusHandle>,
    /// Refused authentications per client address: (window start, count).
    pub failures: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, (Instant, u32)>>,
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
            failures: Default::default(),
        }))
    }
}

/// The whole application router.
pub fn router(state: AppState) -> Router {
    let max_body = state.0.config.max_body_bytes;
    let timeout = state.0.config.request_timeout;
    let routes = Router::new()
        .route("/", get(landing::page))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .route("/whoami", get(whoami::whoami))
        .merge(schemas::routes())
        .merge(workspace::routes())
        .merge(admin::routes())
        .merge(appointments::routes())
        .merge(my_usage::routes())
        .merge(portal::routes())
        .merge(manage_page::routes())
        .route("/staff/body", get(staff::choose_body))
        .nest(
            "/api/v1",
            api::routes()
                .merge(submit::routes())
                .merge(manage::routes())
                .merge(usage_api::routes())
                .merge(notifications::routes())
                .merge(notices_api::routes())
                .merge(sms_receipts::routes())
                .merge(mobile_id::routes())
                .merge(webhooks_api::routes())
                .layer(middleware::from_fn(auth::with_tls_peer)),
        );
    let forwarded = middleware::from_fn_with_state(state.clone(), forwarded_cert);
    let throttle = middleware::from_fn_with_state(state.clone(), throttle);
    with_edge(routes, max_body, timeout)
        .layer(forwarded)
        .layer(throttle)
        .with_state(state)
}

/// Brute force against keys and cards: every `401` counts against the client's address; past
/// `auth_failures_per_window` in the window, the address is answered `429 PSR-API-0008` with `Retry-After`
/// (whatever it sends) until the window ends. Behind a reverse proxy the address is the proxy's: limit at the
/// proxy too.
async fn throttle(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let cfg = &state.0.config;
    let ip = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let (Some(ip), limit @ 1..) = (ip, cfg.auth_failures_per_window) else {
        return next.run(req).await;
    };
    let window = cfg.auth_failure_window;
    let now = Instant::now();
    let blocked_for = {
        let map = state.0.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&ip).and_then(|(start, n)| {
            let left = window.checked_sub(now.duration_since(*start))?;
            (*n >= limit).then_some(left)
        })
    };
    if let Some(left) = blocked_for {
        tracing::warn!(target: "security", %ip, "too many refused authentications: throttled");
        let mut r = ApiError::new(
            popreg_domain::Code::TooManyFailures,
            "too many refused authentications from this address; wait and check the key or card",
        )
        .for_request(req.headers())
        .into_response();
        if let Ok(v) = axum::http::HeaderValue::from_str(&(left.as_secs() + 1).to_string()) {
            r.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
        }
        return r;
    }
    let resp = next.run(req).await;
    if resp.status() == StatusCode::UNAUTHORIZED {
        let mut map = state.0.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let e = map.entry(ip).or_insert((now, 0));
        if now.duration_since(e.0) >= window {
            *e = (now, 0);
        }
        e.1 += 1;
    }
    resp
}

/// The reverse-proxy mode (see [`ForwardedCert`]): turn a trusted proxy's certificate header into the
/// request's [`popreg_identity::TlsPeer`], exactly as a direct TLS handshake would; refuse the header from
/// anyone else. Needs the connection's address (`ConnectInfo`), which `popreg serve` provides.
async fn forwarded_cert(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(fw) = &state.0.config.forwarded_cert else {
        return next.run(req).await;
    };
    let remote = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let trusted = remote.is_some_and(|ip| fw.trusted.contains(&ip));
    let value = req.headers().get(&fw.header).cloned();
    match (trusted, value) {
        (true, Some(v)) => {
            let pem = percent_decode(v.as_bytes());
            let chain = popreg_identity::cert::certs_from_pem(&pem).unwrap_or_default();
            if chain.is_empty() {
                tracing::warn!(target: "security", "forwarded client certificate is not PEM");
                return ApiError::new(
                    popreg_domain::Code::AuthCertificateInvalid,
                    "the certificate forwarded by the proxy cannot be read",
                )
                .for_request(req.headers())
                .into_response();
            }
            req.extensions_mut()
                .insert(popreg_identity::TlsPeer::from_chain(chain));
        }
        (true, None) => {
            req.extensions_mut()
                .insert(popreg_identity::TlsPeer::anonymous());
        }
        (false, Some(_)) => {
            tracing::warn!(
                target: "security",
                remote = ?remote,
                header = %fw.header,
                "forwarded client certificate from an untrusted address: refused"
            );
            return ApiError::new(
                popreg_domain::Code::AuthUntrustedProxy,
                "a forwarded client certificate is accepted only from the register's own proxies",
            )
            .for_request(req.headers())
            .into_response();
        }
        (false, None) => {}
    }
    next.run(req).await
}

/// `%XX` decoding (nginx's `$ssl_client_escaped_cert`); other bytes as they are.
fn percent_decode(b: &[u8]) -> Vec<u8> {
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (
                b.get(i + 1).copied().and_then(hex),
                b.get(i + 2).copied().and_then(hex),
            )
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// The layers every route shares, from the inside out: the fallback (`404 PSR-API-0006`), metrics, the
/// panic catcher (`500 PSR-SYS-0001`), the time limit (`503`, empty body), the body limit (`413
/// PSR-API-0004`), and outermost [`edge_errors`], which answers or re-renders the errors produced without a
/// handler in the caller's format and language.
fn with_edge<S: Clone + Send + Sync + 'static>(
    routes: Router<S>,
    max_body: usize,
    timeout: Duration,
) -> Router<S> {
    routes
        .fallback(not_found)
        // The body limit below applies to every body, whichever extractor reads it; axum's own default
        // (2 MiB, only in its extractors) would otherwise cut configured limits above it.
        .layer(DefaultBodyLimit::disable())
        .layer(middleware::from_fn(record_metrics))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            let mut r =
                ApiError::new(popreg_domain::Code::Internal, "internal error").into_response();
            r.extensions_mut().insert(Panicked);
            r
        }))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(max_body))
        .layer(middleware::from_fn_with_state(max_body, edge_errors))
}

/// Marks the answer of the panic catcher, which cannot see the request.
#[derive(Clone, Copy)]
struct Panicked;

/// Errors that no handler produces, in the caller's format (`Accept`) and language (`Accept-Language`):
/// - a declared `Content-Length` over the limit is refused with `413 PSR-API-0004` before anything reads the
///   body;
/// - a body without a length that turns out too large is cut by the body limit while it is read, which answers
///   a plain `413`: it is replaced by the same problem document;
/// - the answer of the panic catcher becomes `500 PSR-SYS-0001`.
async fn edge_errors(State(max_body): State<usize>, req: Request, next: Next) -> Response {
    let (format, lang) = negotiate::preferences(req.headers());
    let too_large = || {
        ApiError::new(
            popreg_domain::Code::PayloadTooLarge,
            format!("the request body is larger than the limit of {max_body} bytes"),
        )
        .in_format(format)
        .in_lang(lang)
        .into_response()
    };
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > max_body as u64) {
        return too_large();
    }
    let resp = next.run(req).await;
    if resp.extensions().get::<Panicked>().is_some() {
        return ApiError::new(popreg_domain::Code::Internal, "internal error")
            .in_format(format)
            .in_lang(lang)
            .into_response();
    }
    if resp.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_problem(&resp) {
        return too_large();
    }
    resp
}

fn is_problem(resp: &Response) -> bool {
    resp.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+"))
}

async fn not_found(headers: HeaderMap) -> ApiError {
    ApiError::new(popreg_domain::Code::RouteNotFound, "no such route").for_request(&headers)
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match state.0.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(e) => {
            tracing::error!(database = %state.0.store.label(), error = %e, "readiness check failed: database unreachable");
            ApiError::new(
                popreg_domain::Code::StorageUnavailable,
                "database unreachable",
            )
            .for_request(&headers)
            .into_response()
        }
    }
}

async fn metrics_text(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match &state.0.metrics {
        Some(h) => {
            outbox_backlog(&state.0.store).await;
            (
                [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
                h.render(),
            )
                .into_response()
        }
        None => ApiError::new(
            popreg_domain::Code::RouteNotFound,
            "metrics are not enabled",
        )
        .for_request(&headers)
        .into_response(),
    }
}

/// The outbox backlog per channel (issue 7), read at each scrape: `popreg_outbox_backlog{channel, state}`
/// with `state` `due` (waiting for a worker now) or `undelivered` (not handed over yet, retries included;
/// messages given up are not counted).
async fn outbox_backlog(store: &Store) {
    match store.outbox_backlog().await {
        Ok(rows) => {
            for (channel, due, undelivered) in rows {
                metrics::gauge!("popreg_outbox_backlog", "channel" => channel.clone(), "state" => "due")
                    .set(due as f64);
                metrics::gauge!("popreg_outbox_backlog", "channel" => channel, "state" => "undelivered")
                    .set(undelivered as f64);
            }
        }
        Err(e) => tracing::warn!(error = %e, "outbox backlog not read for /metrics"),
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::{Body, Bytes};
    use axum::routing::post;
    use tower::ServiceExt;

    async fn boom() -> &'static str {
        panic!("a bug in a handler")
    }

    /// The edge layers around two routes no real route does yet: one that reads a body, one that panics.
    fn app(max_body: usize) -> Router {
        with_edge(
            Router::new()
                .route("/echo", post(|b: Bytes| async move { b.len().to_string() }))
                .route("/boom", get(boom)),
            max_body,
            Duration::from_secs(10),
        )
    }

    async fn call(app: Router, req: axum::http::Request<Body>) -> (StatusCode, HeaderMap, String) {
        let resp = app.oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, headers, String::from_utf8(body.to_vec()).unwrap())
    }

    fn get_as(path: &str, accept: &str, lang: &str) -> axum::http::Request<Body> {
        axum::http::Request::get(path)
            .header("accept", accept)
            .header("accept-language", lang)
            .body(Body::empty())
            .unwrap()
    }

    fn post_body(len: usize, content_length: bool) -> axum::http::request::Builder {
        let b = axum::http::Request::post("/echo");
        if content_length {
            b.header(CONTENT_LENGTH, len)
        } else {
            b
        }
    }

    #[tokio::test]
    async fn a_declared_length_over_the_limit_is_a_coded_problem_in_the_callers_format() {
        let req = post_body(4096, true)
            .header("accept", "application/xml")
            .header("accept-language", "ru")
            .body(Body::from(vec![b'x'; 4096]))
            .unwrap();
        let (s, h, body) = call(app(1024), req).await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(h[CONTENT_TYPE], "application/problem+xml");
        assert_eq!(h["content-language"], "ru");
        assert!(body.contains("<code>PSR-API-0004</code>"), "{body}");
        assert!(
            body.contains("<title>Запрос слишком большой</title>"),
            "{body}"
        );
    }

    #[tokio::test]
    async fn a_body_without_length_is_cut_at_the_limit_with_the_same_problem() {
        // No Content-Length (as with chunked transfer): the limit strikes while the handler reads the body.
        let req = post_body(4096, false)
            .header("accept-language", "en")
            .body(Body::from(vec![b'x'; 4096]))
            .unwrap();
        let (s, h, body) = call(app(1024), req).await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(h[CONTENT_TYPE], "application/problem+json");
        let j: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(j["code"], "PSR-API-0004");
        assert_eq!(j["title"], "Request too large");
        // At the limit, the body goes through.
        let req = post_body(1024, false)
            .body(Body::from(vec![b'x'; 1024]))
            .unwrap();
        let (s, _, body) = call(app(1024), req).await;
        assert_eq!((s, body.as_str()), (StatusCode::OK, "1024"));
    }

    #[tokio::test]
    async fn the_configured_limit_is_the_one_in_force_even_above_axums_default() {
        let len = 3 << 20; // 3 MiB, over axum's built-in 2 MiB
        let req = post_body(len, true)
            .body(Body::from(vec![b'x'; len]))
            .unwrap();
        let (s, _, body) = call(app(4 << 20), req).await;
        assert_eq!((s, body), (StatusCode::OK, len.to_string()));
    }

    #[tokio::test]
    async fn a_panic_is_a_coded_problem_in_the_callers_format_and_language() {
        let (s, h, body) = call(app(1024), get_as("/boom", "application/xml", "en")).await;
        assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(h[CONTENT_TYPE], "application/problem+xml");
        assert_eq!(h["content-language"], "en");
        assert!(body.contains("<code>PSR-SYS-0001</code>"), "{body}");
        assert!(body.contains("<title>Internal error</title>"), "{body}");
        assert!(!body.contains("a bug in a handler"), "no internals: {body}");
    }

    #[tokio::test]
    async fn an_unknown_path_answers_in_the_callers_format_and_language() {
        let req = get_as("/no/such/route", "image/png", "ru-RU");
        let (s, h, body) = call(app(1024), req).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert_eq!(
            h[CONTENT_TYPE], "application/problem+json",
            "JSON when no producible format is named"
        );
        assert_eq!(h["content-language"], "ru");
        let j: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            (j["code"].as_str(), j["title"].as_str()),
            (Some("PSR-API-0006"), Some("Адрес не найден"))
        );
    }
}
