//! `GET /whoami`: who the ID card in the reader says you are (G.2). It answers from the TLS client
//! certificate alone — PSN, the name as written in the certificate, the certificate's serial and validity —
//! and never reads the register (person data go through the access gate, which is not here yet). Whatever is
//! wrong with the certificate is a coded `401` problem in the caller's language whose explanation says what to
//! do (G.9: insert the card, install the national CA chain and the ID-card software, renew the card).

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::http::header::CACHE_CONTROL;
use axum::response::{IntoResponse, Response};
use popreg_identity::{CertError, Identity, TlsPeer};
use serde::Serialize;

use crate::AppState;
use crate::error::ApiError;
use crate::negotiate::{Format, preferences};

#[derive(Serialize)]
struct WhoAmI<'a> {
    psn: String,
    name: Name<'a>,
    certificate: Certificate<'a>,
}

#[derive(Serialize)]
struct Name<'a> {
    surname: Option<&'a str>,
    given_name: Option<&'a str>,
    common_name: &'a str,
}

#[derive(Serialize)]
struct Certificate<'a> {
    serial: &'a str,
    valid_from: String,
    valid_until: String,
    issuer: &'a str,
}

fn identify(state: &AppState, req: &Request) -> Result<Identity, CertError> {
    let Some(peer) = req.extensions().get::<TlsPeer>() else {
        return Err(CertError::NoCertificate(
            "this connection is not HTTPS; ID-card login needs the server's https:// address",
        ));
    };
    let Some(verifier) = &state.0.config.card_verifier else {
        return Err(CertError::NoCertificate(
            "this server does not accept ID cards (server.client_ca is not configured)",
        ));
    };
    verifier.verify(peer, state.0.store.clock().now())
}

/// `GET /whoami`
pub(crate) async fn whoami(State(state): State<AppState>, req: Request) -> Response {
    let (format, lang) = preferences(req.headers());
    let mut resp = match identify(&state, &req) {
        Ok(id) => {
            let body = WhoAmI {
                psn: id.psn.to_string(),
                name: Name {
                    surname: id.surname.as_deref(),
                    given_name: id.given_name.as_deref(),
                    common_name: &id.common_name,
                },
                certificate: Certificate {
                    serial: &id.serial,
                    valid_from: id.not_before.to_rfc3339(),
                    valid_until: id.not_after.to_rfc3339(),
                    issuer: &id.issuer,
                },
            };
            let value = serde_json::to_value(&body).unwrap_or_default();
            let (ctype, text) = match format {
                Format::Json => ("application/json", value.to_string()),
                Format::Xml => (
                    "application/xml; charset=utf-8",
                    crate::xml::to_xml("whoami", &value),
                ),
            };
            ([(axum::http::header::CONTENT_TYPE, ctype)], text).into_response()
        }
        Err(e) => {
            tracing::info!(code = %e.code(), reason = %e, "ID-card identification refused");
            ApiError::new(e.code(), e.to_string())
                .in_format(format)
                .in_lang(lang)
                .into_response()
        }
    };
    // Personal data (or why there are none): never cached.
    resp.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
