//! `/api/v1`: reading persons (current, history, as of), the official-notice address, classifiers.
//!
//! Person routes need a caller with the `read_persons` function (an API key issued to a body, see
//! [`crate::auth`]); the TIN check needs any valid key. Classifiers carry no personal data and are public.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, NaiveDate, Utc};
use popreg_domain::access::{Caller, Function};
use popreg_domain::classifiers::{Lang, try_classifiers};
use popreg_domain::{AsOf, Code, Psn};
use popreg_store::{Release, Released, View};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth;
use crate::error::ApiError;
use crate::negotiate::{Format, format};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/persons/{psn}", get(person))
        .route("/persons/{psn}/history", get(history))
        .route("/persons/{psn}/notice-address", get(notice_address))
        .route("/psn/{psn}/check", get(check_psn))
        .route("/tin/{tin}/check", get(check_tin))
        .route("/caller", get(caller_info))
        .route("/classifiers", get(classifiers_list))
        .route("/classifiers/{name}", get(classifier))
}

/// The request's language and format, read before anything can fail so that errors use them too.
pub(crate) struct Ctx {
    pub(crate) format: Format,
    pub(crate) lang: Lang,
}

impl Ctx {
    pub(crate) fn of(headers: &HeaderMap) -> Result<Ctx, ApiError> {
        let lang = crate::negotiate::language(headers);
        let format = format(headers).map_err(|e| e.in_lang(lang))?;
        Ok(Ctx { format, lang })
    }

    pub(crate) fn err(&self, e: impl Into<ApiError>) -> ApiError {
        e.into().in_format(self.format).in_lang(self.lang)
    }

    pub(crate) fn render<T: Serialize>(&self, root: &str, v: &T) -> Result<Response, ApiError> {
        let value = serde_json::to_value(v)
            .map_err(|e| self.err(ApiError::new(Code::Internal, e.to_string())))?;
        Ok(match self.format {
            Format::Json => json_response(value.to_string()),
            Format::Xml => xml_response(crate::xml::to_xml(root, &value)),
        })
    }
}

fn json_response(body: String) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

fn xml_response(body: String) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/xml; charset=utf-8"),
    );
    r
}

/// The common start of every person route: negotiate the answer, identify the caller and check that it may
/// read persons, then parse the PSN. The caller is checked before the PSN is looked at, so an unauthorised
/// caller learns nothing about it.
async fn person_request(
    state: &AppState,
    headers: &HeaderMap,
    raw: &str,
) -> Result<(Ctx, Caller, Psn), ApiError> {
    let ctx = Ctx::of(headers)?;
    let caller = auth::caller(state, headers).await.map_err(|e| ctx.err(e))?;
    auth::require(&caller, Function::ReadPersons).map_err(|e| ctx.err(e))?;
    let psn = parse_psn(&ctx, raw)?;
    Ok((ctx, caller, psn))
}

/// `GET /api/v1/caller`: who the register takes the caller to be — body, user, functions, channel and the
/// X-Road and idempotency ids it read — so that a client can check its set-up before it submits anything.
async fn caller_info(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let ctx = Ctx::of(&headers)?;
    let caller = auth::caller(&state, &headers)
        .await
        .map_err(|e| ctx.err(e))?;
    ctx.render("caller", &caller)
}

fn parse_psn(ctx: &Ctx, raw: &str) -> Result<Psn, ApiError> {
    Psn::parse(raw).map_err(|e| ctx.err(e))
}

/// `valid_on` (a date) and `known_at` (an RFC 3339 instant, or a date meaning the end of that day UTC).
#[derive(Debug, Deserialize)]
struct AsOfQuery {
    valid_on: Option<String>,
    known_at: Option<String>,
}

fn parse_date(ctx: &Ctx, name: &str, s: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        ctx.err(ApiError::new(
            Code::InvalidDate,
            format!("{name} must be a real date YYYY-MM-DD"),
        ))
    })
}

impl AsOfQuery {
    fn parse(&self, ctx: &Ctx) -> Result<AsOf, ApiError> {
        let valid_on = self
            .valid_on
            .as_deref()
            .map(|s| parse_date(ctx, "valid_on", s))
            .transpose()?;
        let known_at = match self.known_at.as_deref() {
            None => None,
            Some(s) => Some(match DateTime::parse_from_rfc3339(s) {
                Ok(t) => t.with_timezone(&Utc),
                Err(_) => {
                    let d = parse_date(ctx, "known_at", s)?;
                    d.and_hms_opt(23, 59, 59)
                        .map(|t| t.and_utc())
                        .ok_or_else(|| {
                            ctx.err(ApiError::new(
                                Code::InvalidDate,
                                "known_at must be RFC 3339 or YYYY-MM-DD",
                            ))
                        })?
                }
            }),
        };
        Ok(AsOf { valid_on, known_at })
    }
}

pub(crate) fn query<T: for<'de> Deserialize<'de>>(
    ctx: &Ctx,
    q: Result<Query<T>, axum::extract::rejection::QueryRejection>,
) -> Result<T, ApiError> {
    q.map(|Query(v)| v)
        .map_err(|e| ctx.err(ApiError::new(Code::BadQuery, e.body_text())))
}

/// Pass the access gate: the release of `view` to the caller, its usage record written first. An unknown
/// person (in that view) is `PSR-PSN-…` unknown; nothing is released or recorded then.
async fn release(
    state: &AppState,
    ctx: &Ctx,
    caller: &Caller,
    psn: Psn,
    view: View,
) -> Result<Release, ApiError> {
    state
        .0
        .store
        .read_person(caller, psn, view)
        .await
        .map_err(|e| ctx.err(e))?
        .ok_or_else(|| {
            let detail = match view {
                View::AsOf(_) => {
                    format!("person {psn} was not yet registered or born in the requested view")
                }
                _ => format!("no person with PSN {psn}"),
            };
            ctx.err(ApiError::new(Code::PsnUnknown, detail))
        })
}

/// The answer with the id of the usage record that logged it (`X-Usage-Id`), so that a body can cite it.
fn with_usage(mut r: Response, usage_id: i64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&usage_id.to_string()) {
        r.headers_mut().insert("x-usage-id", v);
    }
    r
}

/// `GET /api/v1/persons/{psn}[?valid_on=D][&known_at=K]`: the person cut to the caller's grants.
async fn person(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(raw): Path<String>,
    q: Result<Query<AsOfQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let (ctx, caller, psn) = person_request(&state, &headers, &raw).await?;
    let as_of = query(&ctx, q)?.parse(&ctx)?;
    let view = if as_of == AsOf::default() {
        View::Current
    } else {
        View::AsOf(as_of)
    };
    let r = release(&state, &ctx, &caller, psn, view).await?;
    let body = match r.data {
        Released::Person(doc) => ctx.render("person", &doc)?,
        Released::PersonJson(doc) => match ctx.format {
            Format::Json => json_response(doc),
            Format::Xml => {
                let v: serde_json::Value = serde_json::from_str(&doc)
                    .map_err(|e| ctx.err(ApiError::new(Code::StorageCorrupt, e.to_string())))?;
                xml_response(crate::xml::to_xml("person", &v))
            }
        },
        _ => return Err(ctx.err(ApiError::new(Code::Internal, "the gate released no person"))),
    };
    Ok(with_usage(body, r.usage_id))
}

/// `GET /api/v1/persons/{psn}/history`: every entry, oldest first, with provenance and both times
/// (element `person.history`).
async fn history(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let (ctx, caller, psn) = person_request(&state, &headers, &raw).await?;
    let r = release(&state, &ctx, &caller, psn, View::History).await?;
    let Released::History(entries) = r.data else {
        return Err(ctx.err(ApiError::new(
            Code::Internal,
            "the gate released no history",
        )));
    };
    #[derive(Serialize)]
    struct History<'a> {
        psn: Psn,
        entries: &'a [popreg_domain::Entry],
    }
    let body = ctx.render(
        "history",
        &History {
            psn,
            entries: &entries,
        },
    )?;
    Ok(with_usage(body, r.usage_id))
}

#[derive(Debug, Deserialize)]
struct DateQuery {
    date: Option<String>,
}

/// `GET /api/v1/persons/{psn}/notice-address[?date=D]` (A1.21.2.b; element `person.notice_address`).
async fn notice_address(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(raw): Path<String>,
    q: Result<Query<DateQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let (ctx, caller, psn) = person_request(&state, &headers, &raw).await?;
    let q = query(&ctx, q)?;
    let date = match q.date.as_deref() {
        Some(s) => parse_date(&ctx, "date", s)?,
        None => state.0.store.clock().now().date_naive(),
    };
    let r = release(&state, &ctx, &caller, psn, View::NoticeAddress(date)).await?;
    let Released::NoticeAddress(notice_address) = r.data else {
        return Err(ctx.err(ApiError::new(
            Code::Internal,
            "the gate released no address",
        )));
    };
    #[derive(Serialize)]
    struct Answer {
        psn: Psn,
        date: NaiveDate,
        notice_address: Option<popreg_domain::person::NoticeAddress>,
    }
    let body = ctx.render(
        "notice_address",
        &Answer {
            psn,
            date,
            notice_address,
        },
    )?;
    Ok(with_usage(body, r.usage_id))
}

/// `GET /api/v1/psn/{psn}/check`: checksum first, then existence, each failure with its own code (A1.36.1;
/// element `person.psn`).
async fn check_psn(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let (ctx, caller, psn) = person_request(&state, &headers, &raw).await?;
    let r = release(&state, &ctx, &caller, psn, View::Exists).await?;
    #[derive(Serialize)]
    struct Ok {
        psn: Psn,
        valid: bool,
        exists: bool,
    }
    let body = ctx.render(
        "psn_check",
        &Ok {
            psn,
            valid: true,
            exists: true,
        },
    )?;
    Ok(with_usage(body, r.usage_id))
}

/// `GET /api/v1/classifiers`: name, version and size of each code list.
async fn classifiers_list(headers: HeaderMap) -> Result<Response, ApiError> {
    let ctx = Ctx::of(&headers)?;
    let c = try_classifiers().map_err(|e| ctx.err(e))?;
    #[derive(Serialize)]
    struct List<T> {
        classifiers: T,
    }
    ctx.render(
        "classifiers",
        &List {
            classifiers: c.list(),
        },
    )
}

/// `GET /api/v1/classifiers/{name}`: the whole code list as shipped.
async fn classifier(headers: HeaderMap, Path(name): Path<String>) -> Result<Response, ApiError> {
    let ctx = Ctx::of(&headers)?;
    let raw = popreg_domain::classifiers::Classifiers::raw_json(&name).ok_or_else(|| {
        ctx.err(ApiError::new(
            Code::RouteNotFound,
            format!("no classifier named {name}"),
        ))
    })?;
    match ctx.format {
        Format::Json => Ok(json_response(raw.to_string())),
        Format::Xml => {
            let v: serde_json::Value = serde_json::from_str(raw)
                .map_err(|e| ctx.err(ApiError::new(Code::Internal, e.to_string())))?;
            Ok(xml_response(crate::xml::to_xml("classifier", &v)))
        }
    }
}

/// `GET /api/v1/tin/{tin}/check`: format first (PSR-TIN-0001), then the tax registry (PSR-TIN-0002 unknown,
/// PSR-TIN-0003 registry unavailable) (A1.36.4).
async fn check_tin(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    use popreg_connectors::tax::Tin;
    let ctx = Ctx::of(&headers)?;
    auth::caller(&state, &headers)
        .await
        .map_err(|e| ctx.err(e))?;
    let tin = Tin::parse(&raw).map_err(|e| ctx.err(e))?;
    let registry = state.0.config.tax_registry.as_ref().ok_or_else(|| {
        ctx.err(ApiError::new(
            Code::TinRegistryUnavailable,
            "no tax registry connector is configured",
        ))
    })?;
    let taxpayer = registry.check(tin).await.map_err(|e| ctx.err(e))?;
    #[derive(Serialize)]
    struct Answer {
        tin: String,
        valid: bool,
        exists: bool,
        status: String,
        kind: String,
    }
    ctx.render(
        "tin_check",
        &Answer {
            tin: taxpayer.tin,
            valid: true,
            exists: true,
            status: taxpayer.status,
            kind: taxpayer.kind,
        },
    )
}
