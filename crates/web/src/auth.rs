//! Who is calling (A1.33–34, A1.37): a request's API key, looked up in the register's access tables, becomes
//! the [`Caller`] — the body it acts for, the identified user, the functions it holds, the channel, and the
//! X-Road and idempotency ids of the request.
//!
//! The key comes in `X-API-Key` or `Authorization: Bearer`. Behind an X-Road security server the request also
//! carries `X-Road-Client` (`INSTANCE/CLASS/MEMBER/SUBSYSTEM`), which must be the member the key's body is
//! registered with: a key copied out of one body's system does not work from another member's. There the
//! channel is `x_road` and `X-Road-UserId` names the user; otherwise the channel is `api` and the user is the
//! key's owner. `X-Road-*` headers without `X-Road-Client` are refused rather than half believed.
//!
//! **Client certificates** (mutual TLS, issue 4 item 6). A request over HTTPS with no API key at all that
//! presents a client certificate is looked up by the SHA-256 fingerprint of its DER encoding among the
//! bodies' registered certificates (`agency_certs`); a registered, unrevoked one is then checked like an ID
//! card (chain to `server.agency_ca`, else `server.client_ca`; validity at the register's clock; CRL; client
//! authentication) and acts for its body with the functions registered with it. The user is
//! `X-Road-UserId` (behind X-Road) or the certificate's subject common name. An unregistered or revoked
//! certificate is `401 PSR-AUTH-0010`. A key, when one is presented, always decides: a certificate never
//! widens a key's rights.
//!
//! Nothing here logs a key. A refused key leaves a `security` log line without it.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use popreg_domain::access::{Caller, Function};
use popreg_domain::{Channel, Code, ExternalIds};

use crate::AppState;
use crate::error::ApiError;

/// The longest header value taken into a [`Caller`] (keys, X-Road ids, idempotency keys).
pub(crate) const MAX_HEADER_CHARS: usize = 200;

const X_ROAD_CLIENT: &str = "x-road-client";
const X_ROAD_ID: &str = "x-road-id";
const X_ROAD_USER_ID: &str = "x-road-userid";
const X_ROAD_ISSUE: &str = "x-road-issue";
const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// The credentials of `Authorization: Bearer <key>`. The scheme name is case-insensitive (RFC 7235 §2.1:
/// `bearer`, `BEARER` are the same scheme) and is separated from the key by one or more spaces.
pub(crate) fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, rest) = value.trim_start().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(rest)
}

tokio::task_local! {
    /// The TLS client of the API request being served (none over plain HTTP), for [`caller`].
    static TLS_PEER: Option<popreg_identity::TlsPeer>;
}

/// Make the request's TLS client (if any) known to [`caller`] while the request is served: the handlers
/// take only the headers, and the peer cannot come from a header (a client could forge it).
pub(crate) async fn with_tls_peer(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let peer = req.extensions().get::<popreg_identity::TlsPeer>().cloned();
    TLS_PEER.scope(peer, next.run(req)).await
}

/// Who a credential acts as: the body, the default user, the functions, and the credential's id for logs.
struct Found {
    body: popreg_store::Body,
    owner_uid: String,
    functions: Vec<Function>,
    id: String,
}

/// The caller of a request, or the coded refusal in the request's format and language: 401 without a key
/// or with an unknown or revoked one, 403 when `X-Road-Client` is not the key's body's member, 400 for
/// malformed identity headers.
pub(crate) async fn caller(state: &AppState, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let refuse = |code: Code, detail: &str| ApiError::new(code, detail).for_request(headers);
    let no_key = headers.get("x-api-key").is_none() && headers.get(AUTHORIZATION).is_none();
    let peer = TLS_PEER
        .try_with(|p| p.clone())
        .ok()
        .flatten()
        .filter(popreg_identity::TlsPeer::has_certificate);
    let found = match peer {
        Some(peer) if no_key => by_certificate(state, headers, &peer).await?,
        _ => by_key(state, headers).await?,
    };
    let external = ExternalIds {
        xroad_client: one_header(headers, X_ROAD_CLIENT)
            .map_err(|d| refuse(Code::Malformed, &d))?,
        xroad_id: one_header(headers, X_ROAD_ID).map_err(|d| refuse(Code::Malformed, &d))?,
        xroad_user_id: one_header(headers, X_ROAD_USER_ID)
            .map_err(|d| refuse(Code::Malformed, &d))?,
        xroad_issue: one_header(headers, X_ROAD_ISSUE).map_err(|d| refuse(Code::Malformed, &d))?,
        idempotency_key: one_header(headers, IDEMPOTENCY_KEY)
            .map_err(|d| refuse(Code::Malformed, &d))?,
    };
    let (channel, user_uid) = match &external.xroad_client {
        None => {
            if external.xroad_id.is_some()
                || external.xroad_user_id.is_some()
                || external.xroad_issue.is_some()
            {
                return Err(refuse(
                    Code::Malformed,
                    "X-Road-Id, X-Road-UserId and X-Road-Issue come only with X-Road-Client",
                ));
            }
            (Channel::Api, found.owner_uid.clone())
        }
        Some(client) => {
            if !popreg_store::valid_xroad_member(client) {
                return Err(refuse(
                    Code::Malformed,
                    "X-Road-Client must be INSTANCE/CLASS/MEMBER/SUBSYSTEM",
                ));
            }
            if found.body.xroad_member.as_deref() != Some(client.as_str()) {
                tracing::warn!(
                    target: "security",
                    reason = "X-Road client is not the key's body's member",
                    body = %found.body.id,
                    credential = %found.id,
                    xroad_client = %client,
                    "request refused"
                );
                return Err(refuse(
                    Code::AuthXRoadClientMismatch,
                    "X-Road-Client is not the member registered for this API key's body",
                ));
            }
            let user = external
                .xroad_user_id
                .clone()
                .unwrap_or_else(|| found.owner_uid.clone());
            (Channel::XRoad, user)
        }
    };
    Ok(Caller {
        body_id: found.body.id,
        body_type: found.body.body_type,
        user_uid,
        functions: found.functions,
        channel,
        external,
    })
}

/// The body an API key acts for, or `401`.
async fn by_key(state: &AppState, headers: &HeaderMap) -> Result<Found, ApiError> {
    let refuse = |code: Code, detail: &str| ApiError::new(code, detail).for_request(headers);
    let key = presented_key(headers).map_err(|detail| refuse(Code::Unauthorized, detail))?;
    let found = state
        .0
        .store
        .caller_for_key(&key)
        .await
        .map_err(|e| ApiError::from(e).for_request(headers))?;
    let Some(found) = found else {
        tracing::warn!(
            target: "security",
            reason = "unknown or revoked API key",
            "request refused"
        );
        return Err(refuse(Code::Unauthorized, "the API key is not valid"));
    };
    Ok(Found {
        body: found.body,
        owner_uid: found.key.owner_uid,
        functions: found.key.functions,
        id: found.key.id,
    })
}

/// The body a registered client certificate acts for, or `401`: not registered or revoked
/// (`PSR-AUTH-0010`), or not valid now (the ID card's codes: expired, revoked by its CA, unknown issuer…).
async fn by_certificate(
    state: &AppState,
    headers: &HeaderMap,
    peer: &popreg_identity::TlsPeer,
) -> Result<Found, ApiError> {
    let refuse = |code: Code, detail: &str| ApiError::new(code, detail).for_request(headers);
    let cfg = &state.0.config;
    let Some(verifier) = cfg.agency_verifier.as_ref().or(cfg.card_verifier.as_ref()) else {
        return Err(refuse(
            Code::Unauthorized,
            "an API key is required (this server checks no client certificates)",
        ));
    };
    let fingerprint = peer.fingerprint().unwrap_or_default();
    let registered = state
        .0
        .store
        .caller_for_cert(&fingerprint)
        .await
        .map_err(|e| ApiError::from(e).for_request(headers))?;
    let Some(registered) = registered else {
        tracing::warn!(
            target: "security",
            reason = "unregistered or revoked client certificate",
            %fingerprint,
            "request refused"
        );
        return Err(refuse(
            Code::AuthClientCertNotRegistered,
            "the client certificate is not registered for any body, or its registration is revoked",
        ));
    };
    let checked = verifier
        .verify_client(peer, state.0.store.clock().now())
        .map_err(|e| {
            tracing::warn!(
                target: "security",
                reason = %e,
                cert = %registered.cert.id,
                body = %registered.body.id,
                "registered client certificate refused"
            );
            refuse(e.code(), &e.to_string())
        })?;
    let owner_uid = checked
        .common_name
        .filter(|cn| !cn.trim().is_empty())
        .unwrap_or(checked.subject)
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_HEADER_CHARS)
        .collect();
    Ok(Found {
        body: registered.body,
        owner_uid,
        functions: registered.cert.functions,
        id: registered.cert.id,
    })
}

/// `Ok(())` when the caller holds `f`, else 403 [`Code::Forbidden`]. The error is in JSON and Armenian:
/// render it for the request (e.g. with the route's `Ctx::err`).
pub(crate) fn require(caller: &Caller, f: Function) -> Result<(), ApiError> {
    if caller.may(f) {
        Ok(())
    } else {
        tracing::info!(
            target: "security",
            body = %caller.body_id,
            function = f.as_str(),
            "function not permitted"
        );
        Err(ApiError::new(
            Code::Forbidden,
            format!(
                "body {} is not permitted the function {}",
                caller.body_id,
                f.as_str()
            ),
        ))
    }
}

/// The key of `X-API-Key` or `Authorization: Bearer`, or why there is none to look up.
fn presented_key(headers: &HeaderMap) -> Result<String, &'static str> {
    let missing = "an API key is required (X-API-Key, or Authorization: Bearer)";
    let raw = match headers.get("x-api-key") {
        Some(v) => v
            .to_str()
            .map_err(|_| "the API key is not valid")?
            .to_string(),
        None => {
            let auth = headers.get(AUTHORIZATION).ok_or(missing)?;
            let auth = auth.to_str().map_err(|_| "the API key is not valid")?;
            bearer_token(auth).ok_or(missing)?.to_string()
        }
    };
    let key = raw.trim();
    if key.is_empty() {
        return Err(missing);
    }
    if key.len() > MAX_HEADER_CHARS || key.chars().any(|c| c.is_control() || c == ' ') {
        return Err("the API key is not valid");
    }
    Ok(key.to_string())
}

/// A header that may appear at most once: printable ASCII, at most [`MAX_HEADER_CHARS`] long.
fn one_header(headers: &HeaderMap, name: &str) -> Result<Option<String>, String> {
    let mut all = headers.get_all(name).iter();
    let Some(v) = all.next() else {
        return Ok(None);
    };
    if all.next().is_some() {
        return Err(format!("{name} appears more than once"));
    }
    let s = v
        .to_str()
        .map_err(|_| format!("{name} must be printable ASCII"))?
        .trim();
    if s.is_empty() {
        return Err(format!("{name} is empty"));
    }
    if s.len() > MAX_HEADER_CHARS || s.chars().any(char::is_control) {
        return Err(format!(
            "{name} must be at most {MAX_HEADER_CHARS} printable characters"
        ));
    }
    Ok(Some(s.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        for v in [
            "Bearer k-1",
            "bearer k-1",
            "BEARER k-1",
            "bEaReR k-1",
            "Bearer   k-1",
        ] {
            assert_eq!(bearer_token(v).map(str::trim), Some("k-1"), "{v}");
        }
        for v in ["Basic k-1", "Bearerk-1", "Bearer", "Bear k-1", "k-1", ""] {
            assert_eq!(bearer_token(v), None, "{v}");
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn identity_headers_are_single_short_and_printable() {
        assert_eq!(
            one_header(&headers(&[("x-road-id", " abc ")]), "x-road-id"),
            Ok(Some("abc".into()))
        );
        assert_eq!(one_header(&headers(&[]), "x-road-id"), Ok(None));
        let long = "a".repeat(MAX_HEADER_CHARS + 1);
        for h in [
            headers(&[("x-road-id", "a"), ("x-road-id", "b")]),
            headers(&[("x-road-id", &long)]),
            headers(&[("x-road-id", "a\tb")]),
            headers(&[("x-road-id", "  ")]),
        ] {
            assert!(one_header(&h, "x-road-id").is_err(), "{h:?}");
        }
    }

    #[test]
    fn the_key_comes_from_x_api_key_or_bearer() {
        assert_eq!(
            presented_key(&headers(&[("x-api-key", "psr_1")])),
            Ok("psr_1".into())
        );
        assert_eq!(
            presented_key(&headers(&[("authorization", "Bearer psr_2")])),
            Ok("psr_2".into())
        );
        assert!(presented_key(&headers(&[])).is_err());
        assert!(presented_key(&headers(&[("authorization", "Basic psr_2")])).is_err());
        assert!(presented_key(&headers(&[("x-api-key", "a b")])).is_err());
        assert!(presented_key(&headers(&[("x-api-key", &"k".repeat(201))])).is_err());
    }
}
