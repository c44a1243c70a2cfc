//! Public, key-free routes derived from the data-element registry: the OpenAPI document, the index of
//! submission kinds, each kind's JSON Schema and XSD, and the element catalogue.

use std::sync::OnceLock;

use axum::Router;
use axum::extract::Path;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use popreg_domain::Code;
use popreg_domain::elements::{self, KindDef};
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiError;
use crate::negotiate::Format;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/schemas", get(index))
        .route("/api/v1/schemas/{file}", get(schema_file))
        .route("/api/v1/elements", get(catalogue))
}

fn answer(content_type: &'static str, body: String) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// A document in the format the request asks for (JSON or XML, same field names).
fn negotiated(headers: &HeaderMap, root: &str, v: &Value) -> Result<Response, ApiError> {
    let lang = crate::negotiate::language(headers);
    let format = crate::negotiate::format(headers).map_err(|e| e.in_lang(lang))?;
    Ok(match format {
        Format::Json => answer("application/json", v.to_string()),
        Format::Xml => answer(
            "application/xml; charset=utf-8",
            crate::xml::to_xml(root, v),
        ),
    })
}

/// `GET /api/v1/openapi.json`
async fn openapi() -> Response {
    static DOC: OnceLock<String> = OnceLock::new();
    answer(
        "application/json",
        DOC.get_or_init(|| elements::openapi().to_string()).clone(),
    )
}

fn kind_urls(k: &KindDef) -> Value {
    json!({
        "json_schema": format!("/api/v1/schemas/{}.json", k.name),
        "xsd": format!("/api/v1/schemas/{}.xsd", k.name),
        "submit": format!("/api/v1/submissions/{}", k.name),
    })
}

/// `GET /api/v1/schemas`: every kind with its title in the caller's language, providers and URLs.
async fn index(headers: HeaderMap) -> Result<Response, ApiError> {
    let lang = crate::negotiate::language(&headers);
    let kinds: Vec<Value> = elements::kinds()
        .iter()
        .map(|k| {
            let mut v = json!({
                "kind": k.name,
                "title": k.title.get(lang),
                "providers": k.providers.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
            });
            if let (Some(o), Value::Object(urls)) = (v.as_object_mut(), kind_urls(k)) {
                o.extend(urls);
            }
            v
        })
        .collect();
    let doc = json!({
        "language": lang.as_str(),
        "schema_version": "1",
        "openapi": "/api/v1/openapi.json",
        "elements": "/api/v1/elements",
        "kinds": kinds,
    });
    let mut r = negotiated(&headers, "schemas", &doc)?;
    if let Ok(v) = HeaderValue::from_str(lang.as_str()) {
        r.headers_mut()
            .insert(axum::http::header::CONTENT_LANGUAGE, v);
    }
    Ok(r)
}

/// `GET /api/v1/schemas/{kind}.json` (JSON Schema) and `GET /api/v1/schemas/{kind}.xsd` (XML Schema).
async fn schema_file(headers: HeaderMap, Path(file): Path<String>) -> Result<Response, ApiError> {
    let (name, ext) = file.rsplit_once('.').ok_or_else(|| {
        ApiError::new(Code::RouteNotFound, "a schema is {kind}.json or {kind}.xsd")
            .for_request(&headers)
    })?;
    if ext != "json" && ext != "xsd" {
        return Err(ApiError::new(
            Code::RouteNotFound,
            format!("no schema format .{ext}: use .json or .xsd"),
        )
        .for_request(&headers));
    }
    let kind = elements::kind(name).ok_or_else(|| {
        ApiError::new(
            Code::UnknownKind,
            format!("no submission kind named {name:?}; see /api/v1/schemas"),
        )
        .for_request(&headers)
    })?;
    Ok(if ext == "json" {
        answer(
            "application/schema+json",
            elements::json_schema(kind).to_string(),
        )
    } else {
        answer("application/xml; charset=utf-8", elements::xsd(kind))
    })
}

/// `GET /api/v1/elements`: the data-element catalogue.
async fn catalogue(headers: HeaderMap) -> Result<Response, ApiError> {
    static DOC: OnceLock<Value> = OnceLock::new();
    negotiated(
        &headers,
        "catalogue",
        DOC.get_or_init(elements::catalogue_json),
    )
}
