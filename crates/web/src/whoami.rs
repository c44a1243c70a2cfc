//! `GET /whoami`: who the ID card in the reader says you are (G.2). It answers from the TLS client
//! certificate alone — PSN, the name as written in the certificate, the certificate's serial and validity —
//! and never reads the register (person data go through the access gate, which is not here yet). Whatever is
//! wrong with the certificate is a coded `401` problem in the caller's language whose explanation says what to
//! do (G.9: insert the card, install the national CA chain and the ID-card software, renew the card).
//! A browser (`Accept` naming `text/html`) gets the same as a small HTML page in its language.

use axum::extract::{Request, State};
use axum::http::header::{
    ACCEPT, CACHE_CONTROL, CONTENT_LANGUAGE, CONTENT_SECURITY_POLICY, CONTENT_TYPE, VARY,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use popreg_domain::classifiers::Lang;
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
    identify_peer(state, req.extensions().get::<TlsPeer>())
}

/// The person behind the TLS client certificate of a connection, checked against the configured CA, CRL
/// and the clock.
pub(crate) fn identify_peer(
    state: &AppState,
    peer: Option<&TlsPeer>,
) -> Result<Identity, CertError> {
    let Some(peer) = peer else {
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

/// Whether the caller is a browser asking for a page.
fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

struct Labels {
    title: &'static str,
    psn: &'static str,
    name: &'static str,
    serial: &'static str,
    valid_until: &'static str,
    issuer: &'static str,
}

fn labels(lang: Lang) -> Labels {
    match lang {
        Lang::Hy => Labels {
            title: "Նույնականացում նույնականացման քարտով",
            psn: "ՀԾՀ",
            name: "Անուն, ազգանուն",
            serial: "Հավաստագրի համարը",
            valid_until: "Վավեր է մինչև",
            issuer: "Հավաստագիրը տրամադրել է",
        },
        Lang::En => Labels {
            title: "Identification by ID card",
            psn: "PSN",
            name: "Name",
            serial: "Certificate serial number",
            valid_until: "Valid until",
            issuer: "Issued by",
        },
        Lang::Ru => Labels {
            title: "Идентификация по идентификационной карте",
            psn: "Номер общественных услуг",
            name: "Фамилия, имя",
            serial: "Серийный номер сертификата",
            valid_until: "Действителен до",
            issuer: "Выдан",
        },
    }
}

use popreg_domain::markup::escape as esc;

/// The answer as an HTML page (everything from the certificate is escaped).
fn html(lang: Lang, result: &Result<Identity, CertError>) -> (StatusCode, String) {
    let l = labels(lang);
    let (status, body) = match result {
        Ok(id) => {
            let row =
                |k: &str, v: &str| format!("<tr><th>{}</th><td>{}</td></tr>\n", esc(k), esc(v));
            let mut rows = row(l.psn, &id.psn.to_string());
            rows.push_str(&row(l.name, &id.common_name));
            rows.push_str(&row(l.serial, &id.serial));
            rows.push_str(&row(
                l.valid_until,
                &id.not_after.format("%Y-%m-%d").to_string(),
            ));
            rows.push_str(&row(l.issuer, &id.issuer));
            (StatusCode::OK, format!("<table>\n{rows}</table>\n"))
        }
        Err(e) => {
            let code = e.code();
            let item = popreg_domain::classifiers::try_classifiers()
                .ok()
                .and_then(|c| c.error_code(code));
            let (title, explanation) = match item {
                Some(i) => (i.title.get(lang), i.explanation.get(lang)),
                None => (code.as_str(), ""),
            };
            (
                StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::UNAUTHORIZED),
                format!(
                    "<h2>{}</h2>\n<p>{}</p>\n<p><code>{}</code></p>\n",
                    esc(title),
                    esc(explanation),
                    esc(code.as_str())
                ),
            )
        }
    };
    let page = format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title>\n\
         <style>body{{font-family:sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}\
         th{{text-align:left;padding-right:1rem}}</style>\n</head>\n<body>\n<h1>{title}</h1>\n{body}</body>\n</html>\n",
        lang = lang.as_str(),
        title = esc(l.title),
    );
    (status, page)
}

/// `GET /whoami`
pub(crate) async fn whoami(State(state): State<AppState>, req: Request) -> Response {
    let (format, lang) = preferences(req.headers());
    let result = identify(&state, &req);
    if let Err(e) = &result {
        tracing::info!(code = %e.code(), reason = %e, "ID-card identification refused");
    }
    if wants_html(req.headers()) {
        let (status, page) = html(lang, &result);
        let mut r = (status, page).into_response();
        let h = r.headers_mut();
        h.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        h.insert(CONTENT_LANGUAGE, HeaderValue::from_static(lang.as_str()));
        h.insert(VARY, HeaderValue::from_static("accept, accept-language"));
        h.insert(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
        );
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return r;
    }
    let mut resp = match result {
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
        Err(e) => ApiError::new(e.code(), e.to_string())
            .in_format(format)
            .in_lang(lang)
            .into_response(),
    };
    // Personal data (or why there are none): never cached.
    resp.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g9_a_browser_gets_the_explanation_as_a_page_in_its_language() {
        let e = Err(CertError::Revoked);
        let (s, page) = html(Lang::Hy, &e);
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert!(page.contains("<html lang=\"hy\">"), "{page}");
        assert!(page.contains("Հավաստագիրը չեղարկված է"), "{page}");
        assert!(page.contains("<code>PSR-AUTH-0004</code>"), "{page}");
        let (_, page) = html(Lang::Ru, &Err(CertError::NoCertificate("x")));
        assert!(
            page.contains("Нет сертификата идентификационной карты"),
            "{page}"
        );
        let mut h = HeaderMap::new();
        h.insert(
            ACCEPT,
            HeaderValue::from_static("text/html,application/xhtml+xml,*/*;q=0.8"),
        );
        assert!(wants_html(&h));
        h.insert(ACCEPT, HeaderValue::from_static("application/json"));
        assert!(!wants_html(&h));
        assert!(!wants_html(&HeaderMap::new()));
    }
}
