//! The e-Citizen portal (G.1–G.9): server-rendered pages that work without JavaScript, in Armenian (the
//! default), English and Russian, with the language chosen in the top bar and remembered in a cookie.
//!
//! **Sessions** (issue 4 §4). A login (ID card over HTTPS, or the demo's card chooser) opens a session in
//! the store ([`popreg_store::Store::open_session`]); the browser keeps its random token in the cookie
//! [`SESSION_COOKIE`] — `HttpOnly`, `SameSite=Lax`, `Path=/`, `Secure` unless the portal is configured for
//! plain HTTP (the demo on the loopback address). The session ends on logout, after the idle limit, or at its
//! absolute limit; login and every end are leaves of the audit trail.
//!
//! **CSRF.** Every state-changing form is a POST that carries the session's CSRF token in the hidden field
//! `csrf`, compared in constant time, and must come from this origin (`Origin`, else `Sec-Fetch-Site`). The
//! login forms, which have no session yet, must come from this origin.

pub(crate) mod addresses;
pub(crate) mod appointments;
pub(crate) mod companies;
pub(crate) mod data;
pub(crate) mod demo_mail;
pub(crate) mod i18n;
pub(crate) mod login;
pub(crate) mod mail;
pub(crate) mod mobile;
pub(crate) mod notices;
pub(crate) mod registries;

use axum::Router;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, HOST, LOCATION, REFERRER_POLICY,
    SET_COOKIE, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use popreg_domain::classifiers::Lang;
use popreg_store::{Session, SessionEnd, SessionLimits, SessionLookup};

use crate::AppState;
use crate::workspace::esc;
pub(crate) use i18n::{tr, tr_args};

/// The cookie that holds the session token.
pub(crate) const SESSION_COOKIE: &str = "psr_session";
/// The cookie that remembers the chosen language (G.2).
pub(crate) const LANG_COOKIE: &str = "psr_lang";

/// The portal's settings.
#[derive(Clone, Debug)]
pub struct PortalConfig {
    pub sessions: SessionLimits,
    /// Mark cookies `Secure` (sent over HTTPS only). Off only for the demo on plain HTTP.
    pub secure_cookies: bool,
    /// The demo's card chooser: persons one may log in as without a card. Empty — and the chooser and its
    /// route refuse — outside `popreg demo`, which is the only place that fills it (not a configuration key).
    pub demo_cards: Vec<DemoCard>,
    /// The HTTPS address where ID cards are accepted, shown on the login page of a plain-HTTP portal.
    pub card_login_url: Option<String>,
    /// The demo's mail catcher, shown at `/demo/mail`. `None` — and the page answers 404 — outside
    /// `popreg demo`, the only place that sets it (not a configuration key).
    pub demo_mail: Option<std::sync::Arc<popreg_notify::capture::Capture>>,
}

impl Default for PortalConfig {
    fn default() -> Self {
        PortalConfig {
            sessions: SessionLimits::default(),
            secure_cookies: true,
            demo_cards: vec![],
            card_login_url: None,
            demo_mail: None,
        }
    }
}

/// A person of the demo population one may log in as with the demo's card chooser.
#[derive(Clone, Debug)]
pub struct DemoCard {
    pub psn: popreg_domain::Psn,
    /// The name shown on the chooser.
    pub name: String,
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login::page))
        .route("/login/card", post(login::card))
        .route("/login/demo", post(login::demo))
        .route("/logout", post(login::logout))
        .route("/lang", get(login::switch_language))
        .route("/my", get(data::desk))
        .route("/my/data", get(data::my_data))
        .route("/my/data/history", get(data::history))
        .route("/my/sessions", get(data::sessions))
        .route("/help", get(data::help))
        .route("/my/addresses", get(addresses::view))
        .route("/my/addresses/{kind}", post(addresses::declare))
        .route("/my/inbox", get(mail::inbox))
        .route("/my/inbox/{id}", get(mail::message))
        .route("/my/inbox/{id}/attachments/{n}", get(mail::attachment))
        .route("/my/inbox/{id}/raw", get(mail::raw))
        .route("/my/forwarding", get(mail::forwarding))
        .route("/my/forwarding/verify", get(mail::verify_link))
        .route("/my/forwarding/{action}", post(mail::act))
        .route("/my/forwarding/{id}/{action}", post(mail::act))
        .route("/login/mobile", post(mobile::start))
        .route("/login/mobile/wait", get(mobile::wait))
        .route("/my/mobile-id", get(mobile::devices))
        .route("/my/mobile-id/code", post(mobile::generate))
        .route("/my/mobile-id/{id}/revoke", post(mobile::revoke))
        .route("/my/appointments", get(appointments::page))
        .route("/my/appointments/book", post(appointments::book))
        .route("/my/appointments/{id}/cancel", post(appointments::cancel))
        .route("/my/registries", get(registries::page))
        .route("/my/companies", get(companies::list))
        .route("/my/companies/{tin}", get(companies::one))
        .route("/my/companies/{tin}/inbox/{id}", get(companies::message))
        .route("/my/companies/{tin}/inbox/{id}/raw", get(companies::file))
        .route(
            "/my/companies/{tin}/inbox/{id}/attachments/{n}",
            get(companies::file),
        )
        .route(
            "/my/companies/{tin}/forwarding/{action}",
            post(companies::act),
        )
        .route(
            "/my/companies/{tin}/forwarding/{id}/{action}",
            post(companies::act),
        )
        .route("/demo/mail", get(demo_mail::page))
        .route("/notices", get(notices::list))
        .route("/notices.atom", get(notices::feed))
        .route("/notices/{id}", get(notices::notice))
}

/// The value of cookie `name`, if the request carries it.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            let (k, v) = c.trim().split_once('=')?;
            (k == name).then_some(v)
        })
}

/// The value of query parameter `name`, decoded.
pub(crate) fn param(uri: &Uri, name: &str) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(uri.query()?)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// The page language: `?lang=`, then the remembered choice, then `Accept-Language`.
pub(crate) fn lang(uri: &Uri, headers: &HeaderMap) -> Lang {
    uri.query()
        .and_then(|q| q.split('&').find_map(|p| p.strip_prefix("lang=")))
        .and_then(Lang::parse)
        .or_else(|| cookie(headers, LANG_COOKIE).and_then(Lang::parse))
        .unwrap_or_else(|| crate::negotiate::language(headers))
}

/// A path of this site to return to (`/…`, not `//…`, no scheme or host, no control characters), else `/my`.
pub(crate) fn local_path(p: Option<&str>) -> String {
    match p {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.starts_with("/\\")
                && p.len() <= 512
                && !p.chars().any(|c| c.is_control() || c == '\\') =>
        {
            p.to_string()
        }
        _ => "/my".to_string(),
    }
}

/// A logged-in person: their session and the token it was found by.
pub(crate) struct Citizen {
    pub session: Session,
}

/// The session of the request, or the answer to give instead: a redirect to the login page that says why
/// (no session, ended by idleness or by its absolute limit), clearing a dead cookie.
pub(crate) async fn citizen(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Citizen, Response> {
    let cfg = &state.0.config.portal;
    let back = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/my");
    let to_login = |why: Option<&str>, clear: bool| {
        let mut target = format!("/login?next={}", urlencode(back));
        if let Some(w) = why {
            target.push_str("&ended=");
            target.push_str(w);
        }
        let mut r = redirect(&target);
        if clear {
            set_cookie(&mut r, &session_cookie(cfg, None));
        }
        r
    };
    let Some(token) = cookie(headers, SESSION_COOKIE) else {
        return Err(to_login(None, false));
    };
    match state.0.store.session(token, cfg.sessions).await {
        Ok(SessionLookup::Active(session)) => Ok(Citizen { session }),
        Ok(SessionLookup::Ended(end)) => Err(to_login(
            Some(match end {
                SessionEnd::Idle => "idle",
                SessionEnd::Absolute => "absolute",
                SessionEnd::Logout => "logout",
            }),
            true,
        )),
        Ok(SessionLookup::Unknown) => Err(to_login(None, true)),
        Err(e) => {
            tracing::error!(error = %e, "session lookup failed");
            Err(crate::ApiError::from(e)
                .for_request(headers)
                .into_response())
        }
    }
}

/// The `Set-Cookie` value of the session cookie: the token, or (`None`) its removal.
pub(crate) fn session_cookie(cfg: &PortalConfig, token: Option<&str>) -> String {
    let secure = if cfg.secure_cookies { "; Secure" } else { "" };
    match token {
        Some(t) => format!("{SESSION_COOKIE}={t}; Path=/; HttpOnly; SameSite=Lax{secure}"),
        None => format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
    }
}

pub(crate) fn set_cookie(r: &mut Response, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().append(SET_COOKIE, v);
    }
}

/// `303 See Other` to a path of this site.
pub(crate) fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// Percent-encoding for a query value.
pub(crate) fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Whether a state-changing request comes from this site: its `Origin` names this host, or — without
/// `Origin` — `Sec-Fetch-Site` is not `cross-site`/`same-site`. Clients that send neither (not browsers) pass:
/// cross-site request forgery needs a browser, and browsers send `Origin` on every POST.
pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    let host = headers.get(HOST).and_then(|h| h.to_str().ok());
    if let Some(origin) = headers.get("origin").and_then(|o| o.to_str().ok()) {
        let authority = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"));
        return matches!((authority, host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h));
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some(site) => matches!(site, "same-origin" | "none"),
        None => true,
    }
}

/// Constant-time equality of two tokens.
pub(crate) fn tokens_equal(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A form field of an `application/x-www-form-urlencoded` body.
pub(crate) fn form_field(body: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// The refusal of a forged state-changing request of a session (wrong origin or CSRF token); `None` when
/// the request is genuine.
pub(crate) fn forged(
    headers: &HeaderMap,
    session: &Session,
    body: &[u8],
    lang: Lang,
) -> Option<Response> {
    let token = form_field(body, "csrf").unwrap_or_default();
    if same_origin(headers) && tokens_equal(&token, &session.csrf) {
        return None;
    }
    tracing::warn!(target: "security", session = session.id.get(..16).unwrap_or(""), "portal: CSRF check failed");
    Some(
        Page::new(lang, tr(lang, "csrf-title"))
            .status(StatusCode::FORBIDDEN)
            .main(format!(
                "<p class=\"err\" role=\"alert\">{}</p><p><a href=\"/my\">{}</a></p>",
                esc(&tr(lang, "csrf-text")),
                esc(&tr(lang, "nav-desk"))
            ))
            .render(),
    )
}

/// A state-changing form of a logged-in person, checked: the session (else the way to the login page), the
/// body (at most 16 KiB), the CSRF token and origin (else `403`).
pub(crate) struct Posted {
    pub lang: Lang,
    pub uri: Uri,
    pub who: Citizen,
    pub body: axum::body::Bytes,
}

pub(crate) async fn posted(
    state: &AppState,
    req: axum::extract::Request,
) -> Result<Posted, Response> {
    let lang = lang(req.uri(), req.headers());
    let (parts, body) = req.into_parts();
    let who = citizen(state, &parts.uri, &parts.headers).await?;
    let body = axum::body::to_bytes(body, 16 * 1024)
        .await
        .unwrap_or_default();
    if let Some(r) = forged(&parts.headers, &who.session, &body, lang) {
        return Err(r);
    }
    Ok(Posted {
        lang,
        uri: parts.uri,
        who,
        body,
    })
}

/// The page language and the logged-in person of a request, or the answer to give instead (the way to the
/// login page).
pub(crate) async fn viewer(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<(Lang, Citizen), Response> {
    Ok((lang(uri, headers), citizen(state, uri, headers).await?))
}

/// The value of `name` among a route's path parameters, or `""`.
pub(crate) fn path_part<'a>(path: &'a [(String, String)], name: &str) -> &'a str {
    path.iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// A coded error in the page's language, as HTML: the code's title and the code, then what to do.
pub(crate) fn coded_html(l: Lang, code: popreg_domain::Code) -> String {
    let (name, explanation) = popreg_domain::classifiers::classifiers()
        .error_code(code)
        .map(|i| (i.title.get(l), i.explanation.get(l)))
        .unwrap_or((code.as_str(), ""));
    format!(
        "<p class=\"err\" role=\"alert\">{} (<code>{}</code>)</p><p>{}</p>",
        esc(name),
        code.as_str(),
        esc(explanation)
    )
}

/// The HTTP status the error-code classifier gives a code (500 for a code it does not list).
pub(crate) fn code_status(code: popreg_domain::Code) -> StatusCode {
    popreg_domain::classifiers::classifiers()
        .error_code(code)
        .and_then(|c| StatusCode::from_u16(c.http_status).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// A hidden CSRF field for a form of `session`.
pub(crate) fn csrf_field(session: &Session) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(&session.csrf)
    )
}

/// A portal page: the shell (skip link, top bar with the portal's name, the desk link when logged in, the
/// language switch, logout), the page's `<main>`, and the footer.
pub(crate) struct Page<'a> {
    lang: Lang,
    title: String,
    status: StatusCode,
    main: String,
    session: Option<&'a Session>,
    /// The path (with query) of this page, for the language switch to come back to.
    here: String,
    /// Reload the page after this many seconds (a page waiting for something, without JavaScript).
    refresh: Option<u32>,
}

impl<'a> Page<'a> {
    pub(crate) fn new(lang: Lang, title: impl Into<String>) -> Page<'a> {
        Page {
            lang,
            title: title.into(),
            status: StatusCode::OK,
            main: String::new(),
            session: None,
            here: "/".into(),
            refresh: None,
        }
    }
    pub(crate) fn status(mut self, s: StatusCode) -> Self {
        self.status = s;
        self
    }
    pub(crate) fn main(mut self, html: String) -> Self {
        self.main = html;
        self
    }
    pub(crate) fn session(mut self, s: &'a Session) -> Self {
        self.session = Some(s);
        self
    }
    pub(crate) fn here(mut self, uri: &Uri) -> Self {
        self.here = strip_lang(uri);
        self
    }
    pub(crate) fn refresh(mut self, secs: u32) -> Self {
        self.refresh = Some(secs);
        self
    }
    pub(crate) fn here_path(mut self, path: &str) -> Self {
        self.here = path.to_string();
        self
    }

    pub(crate) fn render(self) -> Response {
        let l = self.lang;
        let mut langs = String::new();
        for (code, name) in [("hy", "Հայերեն"), ("en", "English"), ("ru", "Русский")]
        {
            let current = code == l.as_str();
            langs.push_str(&format!(
                "<li><a href=\"/lang?to={code}&amp;back={back}\" lang=\"{code}\" hreflang=\"{code}\"{cur}>{name}</a></li>",
                back = esc(&urlencode(&self.here)),
                cur = if current { " aria-current=\"true\"" } else { "" },
            ));
        }
        let account = match self.session {
            Some(s) => format!(
                "<li><a href=\"/my\">{desk}</a></li><li><a href=\"/my/registries\">{registries}</a></li>\
                 <li><a href=\"/my/companies\">{companies}</a></li><li><form method=\"post\" action=\"/logout\">{csrf}\
                 <button type=\"submit\" class=\"link\">{logout}</button></form></li>",
                desk = esc(&tr(l, "nav-desk")),
                registries = esc(&tr(l, "nav-registries")),
                companies = esc(&tr(l, "nav-companies")),
                csrf = csrf_field(s),
                logout = esc(&tr(l, "nav-logout")),
            ),
            None => format!(
                "<li><a href=\"/login\">{}</a></li>",
                esc(&tr(l, "nav-login"))
            ),
        };
        let html = format!(
            "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">{refresh}\
             <title>{title} — {portal}</title><style>{CSS}</style></head>\n<body>\n\
             <a class=\"skip\" href=\"#main\">{skip}</a>\n\
             <header><nav aria-label=\"{nav_label}\"><a class=\"brand\" href=\"/\">{portal}</a><ul>{account}</ul>\
             <ul class=\"langs\" aria-label=\"{lang_label}\">{langs}</ul></nav></header>\n\
             <main id=\"main\" tabindex=\"-1\"><h1>{title}</h1>\n{main}\n</main>\n\
             <footer><p>{footer}</p></footer>\n</body>\n</html>\n",
            lang = l.as_str(),
            title = esc(&self.title),
            portal = esc(&tr(l, "portal-name")),
            skip = esc(&tr(l, "skip-to-content")),
            nav_label = esc(&tr(l, "nav-label")),
            lang_label = esc(&tr(l, "lang-switch")),
            main = self.main,
            refresh = self
                .refresh
                .map(|s| format!("<meta http-equiv=\"refresh\" content=\"{s}\">"))
                .unwrap_or_default(),
            footer = esc(&tr(l, "footer-text")),
        );
        html_response(self.status, l, html)
    }
}

/// An HTML page with the headers every page of the portal and the workspaces carries: never cached (it
/// holds personal data), a strict content security policy (no scripts at all), no framing, no sniffing.
pub(crate) fn html_response(status: StatusCode, lang: Lang, html: String) -> Response {
    let mut r = (status, html).into_response();
    let h = r.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if let Ok(v) = HeaderValue::from_str(lang.as_str()) {
        h.insert(axum::http::header::CONTENT_LANGUAGE, v);
    }
    r
}

/// The request's path and query without its `lang=` parameter.
fn strip_lang(uri: &Uri) -> String {
    let path = uri.path();
    let rest: Vec<&str> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("lang="))
        .collect();
    if rest.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", rest.join("&"))
    }
}

/// The portal's style: system fonts, 4.5:1 contrast or better, visible focus, one column on a phone.
const CSS: &str = "\
*{box-sizing:border-box}\
body{font-family:system-ui,'Noto Sans Armenian','DejaVu Sans',sans-serif;margin:0;color:#1b1b1b;background:#fff;line-height:1.5}\
.skip{position:absolute;left:-999px;top:0;background:#fff;padding:.5rem}.skip:focus{left:.5rem}\
header{background:#0b3d6e;color:#fff}header nav{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1.5rem;max-width:60rem;margin:0 auto;padding:.6rem 1rem}\
header a,header button.link{color:#fff}header ul{list-style:none;display:flex;flex-wrap:wrap;gap:.3rem 1rem;margin:0;padding:0;align-items:center}\
header .langs{margin-left:auto}.brand{font-weight:700;font-size:1.15rem;text-decoration:none}\
a[aria-current]{font-weight:700;text-decoration:none}\
main{max-width:60rem;margin:0 auto;padding:1rem}footer{max-width:60rem;margin:2rem auto;padding:1rem;border-top:1px solid #ccc;color:#444}\
:focus-visible{outline:3px solid #0b3d6e;outline-offset:2px}header :focus-visible,.skip:focus-visible{outline-color:#f2a900}\
.table-wrap{overflow-x:auto}\
button{font:inherit;padding:.5rem 1.1rem;border:1px solid #0b3d6e;background:#0b3d6e;color:#fff;border-radius:4px;cursor:pointer}\
button.link{background:none;border:none;padding:0;text-decoration:underline;color:#0b3d6e}\
button.secondary{background:#fff;color:#0b3d6e}\
.err{color:#a00000;font-weight:600}.ok{color:#1d6b2b;font-weight:600}.note{background:#fff6d6;border-left:4px solid #f2a900;padding:.5rem 1rem}\
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(16rem,1fr));gap:1rem;padding:0;list-style:none}\
.cards li{border:1px solid #ccc;border-radius:6px;padding:1rem}\
section{margin:1.5rem 0}dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:.5rem 0}dt{font-weight:600}dd{margin:0}\
.record{border-left:3px solid #0b3d6e;padding:.2rem .8rem;margin:.6rem 0}.src{color:#444;font-size:.9rem}\
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}\
h1,h2{overflow-wrap:break-word}\
@media (max-width:40rem){dl{grid-template-columns:1fr}header .langs{margin-left:0}}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g_2_return_paths_stay_on_this_site() {
        assert_eq!(local_path(Some("/my/data?x=1")), "/my/data?x=1");
        for bad in [
            "//evil.example/",
            "https://evil.example/",
            "/\\evil.example",
            "evil",
            "/a\r\nSet-Cookie: x",
        ] {
            assert_eq!(local_path(Some(bad)), "/my", "{bad:?}");
        }
        assert_eq!(local_path(None), "/my");
    }

    #[test]
    fn csrf_tokens_compare_exactly() {
        assert!(tokens_equal("abc", "abc"));
        assert!(!tokens_equal("abc", "abd"));
        assert!(!tokens_equal("abc", "ab"));
        assert!(!tokens_equal("", "a"));
    }

    #[test]
    fn same_origin_reads_origin_then_fetch_metadata() {
        let h = |pairs: &[(&'static str, &str)]| {
            let mut m = HeaderMap::new();
            for (k, v) in pairs {
                m.insert(*k, HeaderValue::from_str(v).unwrap());
            }
            m
        };
        assert!(same_origin(&h(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080")
        ])));
        assert!(!same_origin(&h(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://evil.example")
        ])));
        assert!(!same_origin(&h(&[
            ("host", "a"),
            ("sec-fetch-site", "cross-site")
        ])));
        assert!(same_origin(&h(&[
            ("host", "a"),
            ("sec-fetch-site", "same-origin")
        ])));
        assert!(same_origin(&h(&[("host", "a")])));
    }

    #[test]
    fn the_language_switch_comes_back_without_the_old_choice() {
        let u: Uri = "/my/usage?lang=en&body=MED-1".parse().unwrap();
        assert_eq!(strip_lang(&u), "/my/usage?body=MED-1");
        let u: Uri = "/my?lang=ru".parse().unwrap();
        assert_eq!(strip_lang(&u), "/my");
    }
}
