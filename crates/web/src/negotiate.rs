//! Content negotiation: JSON unless the client asks for XML; 406 for anything we cannot produce.

use axum::http::HeaderMap;
use axum::http::header::ACCEPT;

use crate::error::ApiError;
use popreg_domain::Code;
use popreg_domain::classifiers::Lang;

/// The caller's language from `Accept-Language` (Armenian by default).
pub fn language(headers: &HeaderMap) -> Lang {
    Lang::negotiate(
        headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

/// Format and language for an answer that is an error whatever the request asked for (unknown path, body too
/// large, database down, a caught panic): the requested format if we can produce it, else JSON.
pub fn preferences(headers: &HeaderMap) -> (Format, Lang) {
    (format(headers).unwrap_or(Format::Json), language(headers))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

/// Pick the answer format from `Accept`. No header, `*/*` or `application/*` → JSON. Media types are tried
/// in order of their `q` weight; `q=0` excludes. A header we cannot parse, or one that names only types we
/// do not produce, is refused with 406 (PSR-API-0001).
pub fn format(headers: &HeaderMap) -> Result<Format, ApiError> {
    let Some(raw) = headers.get(ACCEPT) else {
        return Ok(Format::Json);
    };
    let raw = raw
        .to_str()
        .map_err(|_| not_acceptable("Accept header is not ASCII"))?;
    if raw.trim().is_empty() {
        return Ok(Format::Json);
    }
    let mut choices: Vec<(f32, usize, Format)> = vec![];
    for (i, part) in raw.split(',').enumerate() {
        let mut params = part.split(';');
        let media = params.next().unwrap_or("").trim().to_ascii_lowercase();
        let (ty, sub) = media
            .split_once('/')
            .ok_or_else(|| not_acceptable("malformed media range in Accept"))?;
        if ty.is_empty() || sub.is_empty() || ty.contains(' ') || sub.contains(' ') {
            return Err(not_acceptable("malformed media range in Accept"));
        }
        let mut q = 1.0f32;
        for p in params {
            if let Some((k, v)) = p.split_once('=')
                && k.trim().eq_ignore_ascii_case("q")
            {
                q = v
                    .trim()
                    .parse()
                    .map_err(|_| not_acceptable("malformed q value in Accept"))?;
                if !(0.0..=1.0).contains(&q) {
                    return Err(not_acceptable("q value out of range in Accept"));
                }
            }
        }
        let f = match (ty, sub) {
            ("application", "json")
            | ("application", "problem+json")
            | ("*", "*")
            | ("application", "*") => Some(Format::Json),
            ("application", "xml") | ("text", "xml") | ("application", "problem+xml") => {
                Some(Format::Xml)
            }
            ("text", "*") => Some(Format::Xml),
            _ => None,
        };
        if let Some(f) = f
            && q > 0.0
        {
            choices.push((q, i, f));
        }
    }
    choices.sort_by(|a, b| {
        b.0.partial_cmp(&a.0)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.1.cmp(&b.1))
    });
    choices
        .first()
        .map(|c| c.2)
        .ok_or_else(|| not_acceptable("only application/json and application/xml are available"))
}

fn not_acceptable(detail: &str) -> ApiError {
    ApiError::new(Code::NotAcceptable, detail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn f(accept: &str) -> Result<Format, Code> {
        let mut h = HeaderMap::new();
        h.insert(ACCEPT, HeaderValue::from_str(accept).unwrap());
        format(&h).map_err(|e| e.code)
    }

    #[test]
    fn negotiation() {
        assert_eq!(format(&HeaderMap::new()).unwrap(), Format::Json);
        assert_eq!(f("application/json"), Ok(Format::Json));
        assert_eq!(f("application/xml"), Ok(Format::Xml));
        assert_eq!(
            f("text/html, application/xml;q=0.9, */*;q=0.8"),
            Ok(Format::Xml)
        );
        assert_eq!(
            f("application/json;q=0.5, application/xml"),
            Ok(Format::Xml)
        );
        assert_eq!(f("*/*"), Ok(Format::Json));
        assert_eq!(f("image/png"), Err(Code::NotAcceptable));
        assert_eq!(f("garbage"), Err(Code::NotAcceptable));
        assert_eq!(f("application/json;q=abc"), Err(Code::NotAcceptable));
        assert_eq!(f("application/json;q=0"), Err(Code::NotAcceptable));
    }
}
