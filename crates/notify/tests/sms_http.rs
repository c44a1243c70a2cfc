//! The HTTP SMS gateway client (G.7) against a local server speaking contract version 1 (the gateway is
//! another company's system, so a small server in the test plays it, as for the tax registry): acceptance
//! with an id, idempotent retries by reference, status polls and callbacks, refusals mapped to permanent,
//! temporary and technical failures, an unreachable gateway, an oversized answer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use popreg_notify::sms::{DeliveryStatus, Msisdn, SmsChannel, SmsError, SmsSender};
use popreg_notify::sms_http::{HttpGateway, SendRequest, parse_status};
use popreg_notify::{Secret, SmsConfig, SmsHttpConfig, SmsProviderKind};
use serde_json::json;

#[derive(Default)]
struct Gateway {
    /// reference -> (id, request)
    by_reference: HashMap<String, (String, SendRequest)>,
    posts: usize,
}

type Shared = Arc<Mutex<Gateway>>;

async fn post(
    State(gw): State<Shared>,
    headers: HeaderMap,
    Json(req): Json<SendRequest>,
) -> Response {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer t0ken") {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok());
    assert_eq!(key, Some(req.reference.as_str()));
    match req.to.as_str() {
        "+37499000000" => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": "invalid_destination"})),
            )
                .into_response();
        }
        "+37499000001" => return StatusCode::TOO_MANY_REQUESTS.into_response(),
        "+37499000003" => return (StatusCode::ACCEPTED, "x".repeat(200_000)).into_response(),
        _ => {}
    }
    let mut gw = gw.lock().unwrap();
    gw.posts += 1;
    let n = gw.by_reference.len() + 1;
    let id = gw
        .by_reference
        .entry(req.reference.clone())
        .or_insert_with(|| (format!("gw-{n}"), req))
        .0
        .clone();
    (StatusCode::ACCEPTED, Json(json!({ "id": id }))).into_response()
}

async fn status(State(gw): State<Shared>, Path(id): Path<String>) -> Response {
    let gw = gw.lock().unwrap();
    match gw.by_reference.values().find(|(i, _)| *i == id) {
        Some(_) => {
            Json(json!({"id": id, "status": "delivered", "done_at": "2026-01-01T12:01:00Z"}))
                .into_response()
        }
        None => (StatusCode::NOT_FOUND, Json(json!({"error": "not_found"}))).into_response(),
    }
}

async fn start() -> (String, Shared) {
    let gw: Shared = Arc::default();
    let app = axum::Router::new()
        .route("/sms/v1/messages", axum::routing::post(post))
        .route("/sms/v1/messages/{id}", axum::routing::get(status))
        .with_state(gw.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/sms/"), gw)
}

fn config(url: &str, token: &str) -> SmsConfig {
    SmsConfig {
        provider: SmsProviderKind::Http,
        max_per_second: 0,
        timeout_seconds: 5,
        http: SmsHttpConfig {
            url: url.into(),
            token: Some(Secret::new(token)),
            callback_url: String::new(),
            callback_secret: None,
        },
        ..SmsConfig::default()
    }
}

#[tokio::test]
async fn g_7_http_gateway_contract() {
    let (url, gw) = start().await;
    let client = HttpGateway::new(&config(&url, "t0ken")).unwrap();
    let to = Msisdn::parse("091 234 567").unwrap();
    let text = "Ձեր հաստատման կոդը՝ 10128d";

    let ids = client.send(&to, text, "sms-verify:1").await.unwrap();
    assert_eq!(ids.0, ["gw-1"]);
    {
        let gw = gw.lock().unwrap();
        let (_, req) = &gw.by_reference["sms-verify:1"];
        assert_eq!((req.to.as_str(), req.text.as_str()), ("+37491234567", text));
    }
    // A retry with the same reference gets the same id; the gateway sends nothing twice.
    let again = client.send(&to, text, "sms-verify:1").await.unwrap();
    assert_eq!(again, ids);
    assert_eq!(gw.lock().unwrap().by_reference.len(), 1);

    let r = client.status("gw-1").await.unwrap();
    assert_eq!(
        (r.provider_id.as_str(), r.status),
        ("gw-1", DeliveryStatus::Delivered)
    );
    assert!(matches!(
        client.status("gw-404").await,
        Err(SmsError::Technical(_))
    ));
    let cb = parse_status(br#"{"id": "gw-1", "status": "expired"}"#).unwrap();
    assert_eq!(cb.status, DeliveryStatus::Expired);

    // Callbacks through the channel the provider starts with.
    let (channel, mut reports) = SmsChannel::start(&config(&url, "t0ken")).unwrap();
    let SmsChannel::Http(http) = &channel else {
        panic!("provider = http starts the HTTP gateway")
    };
    http.callback(br#"{"id": "gw-1", "status": "undeliverable", "error": "absent"}"#)
        .await
        .unwrap();
    let r = reports.recv().await.unwrap();
    assert_eq!(
        (r.provider_id.as_str(), r.status),
        ("gw-1", DeliveryStatus::Undeliverable)
    );
    assert!(matches!(
        http.callback(b"{}").await,
        Err(SmsError::Technical(_))
    ));
    assert_eq!(channel.send(&to, text, "sms-verify:1").await.unwrap(), ids);

    let bad = Msisdn::parse("099 000 000").unwrap();
    let e = client.send(&bad, text, "r2").await.unwrap_err();
    assert_eq!(
        e,
        SmsError::Permanent("SMS gateway answered 400: invalid_destination".into())
    );
    let busy = Msisdn::parse("099 000 001").unwrap();
    assert!(
        client
            .send(&busy, text, "r3")
            .await
            .unwrap_err()
            .is_temporary()
    );
    let huge = Msisdn::parse("099 000 003").unwrap();
    let e = client.send(&huge, text, "r4").await.unwrap_err();
    assert!(
        matches!(&e, SmsError::Technical(s) if s.contains("larger than")),
        "{e}"
    );

    let wrong = HttpGateway::new(&config(&url, "wrong")).unwrap();
    assert!(matches!(
        wrong.send(&to, text, "r5").await,
        Err(SmsError::Technical(_))
    ));

    // Nothing listens: temporary.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = HttpGateway::new(&config(&format!("http://127.0.0.1:{port}"), "t0ken")).unwrap();
    assert!(down.send(&to, text, "r6").await.unwrap_err().is_temporary());
}
