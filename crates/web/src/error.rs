//! The one place where errors become HTTP answers: RFC 9457 problem details, as JSON or as its XML twin,
//! with a stable code and a title in the caller's language (Accept-Language; Armenian by default).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use popreg_domain::Code;
use popreg_domain::classifiers::Lang;
use popreg_store::StoreError;
use serde::Serialize;

use crate::negotiate::Format;

#[derive(Debug)]
pub struct ApiError {
    pub code: Code,
    pub detail: String,
    pub format: Format,
    pub lang: Lang,
    /// Field-level reasons (a rejected submission), each explained in the caller's language.
    pub errors: Vec<popreg_domain::submission::Violation>,
    /// The rejection log's record of this refusal (A1.51) and the submission it answers.
    pub rejection_id: Option<i64>,
    pub submission_id: Option<String>,
}

#[derive(Serialize)]
struct FieldProblem<'a> {
    code: &'static str,
    field: &'a str,
    message: &'a str,
    detail: &'a str,
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    type_: String,
    title: &'a str,
    status: u16,
    code: &'static str,
    detail: &'a str,
    explanation: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    submission_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rejection_id: Option<i64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<FieldProblem<'a>>,
}

impl ApiError {
    pub fn new(code: Code, detail: impl Into<String>) -> ApiError {
        ApiError {
            code,
            detail: detail.into(),
            format: Format::Json,
            lang: Lang::Hy,
            errors: vec![],
            rejection_id: None,
            submission_id: None,
        }
    }

    pub fn in_format(mut self, f: Format) -> ApiError {
        self.format = f;
        self
    }

    pub fn in_lang(mut self, l: Lang) -> ApiError {
        self.lang = l;
        self
    }

    /// In the format and language the request asks for (JSON when it names no format we produce).
    pub fn for_request(self, headers: &axum::http::HeaderMap) -> ApiError {
        let (format, lang) = crate::negotiate::preferences(headers);
        self.in_format(format).in_lang(lang)
    }
}

impl From<popreg_domain::DomainError> for ApiError {
    fn from(e: popreg_domain::DomainError) -> Self {
        ApiError::new(e.code, e.detail)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        let code = e.code();
        match &e {
            StoreError::Domain(d) => ApiError::new(code, d.detail.clone()),
            other => {
                // Storage details go to the log, not to the caller.
                tracing::error!(error = %other, code = %code, "storage error");
                ApiError::new(code, "the register could not complete the request")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let classifiers = popreg_domain::classifiers::try_classifiers().ok();
        let title_of = |code: Code| {
            classifiers
                .and_then(|c| c.error_code(code))
                .map(|i| i.title.get(self.lang))
                .unwrap_or(code.as_str())
        };
        let item = classifiers.and_then(|c| c.error_code(self.code));
        let (title, explanation) = match item {
            Some(i) => (i.title.get(self.lang), i.explanation.get(self.lang)),
            None => (self.code.as_str(), ""),
        };
        let problem = Problem {
            type_: format!("urn:am:popreg:error:{}", self.code.as_str()),
            title,
            status: status.as_u16(),
            code: self.code.as_str(),
            detail: &self.detail,
            explanation,
            submission_id: self.submission_id.as_deref(),
            rejection_id: self.rejection_id,
            errors: self
                .errors
                .iter()
                .map(|v| FieldProblem {
                    code: v.code.as_str(),
                    field: &v.field,
                    message: title_of(v.code),
                    detail: &v.detail,
                })
                .collect(),
        };
        let value = serde_json::to_value(&problem).unwrap_or_default();
        let (ctype, body) = match self.format {
            Format::Json => ("application/problem+json", value.to_string()),
            Format::Xml => (
                "application/problem+xml",
                crate::xml::to_xml("problem", &value),
            ),
        };
        let mut resp = (status, body).into_response();
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
        if let Ok(v) = HeaderValue::from_str(self.lang.as_str()) {
            resp.headers_mut().insert(header::CONTENT_LANGUAGE, v);
        }
        resp
    }
}
