//! Public notices of state bodies (G.3.5), for everyone, without login:
//!
//! - `GET /notices[?q=…&body=…&page=N]`: a search form, the notices newest first (body, date, title,
//!   excerpt; withdrawn ones marked), pages linked with `rel="prev"`/`rel="next"`;
//! - `GET /notices/{id}`: one notice; a withdrawn one says so, with the date and reason;
//! - `GET /notices.atom`: the newest notices as an Atom feed (RFC 4287) in the reader's language.

use axum::extract::{Path, Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_LANGUAGE, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use popreg_domain::classifiers::Lang;
use popreg_domain::markup::escape;
use popreg_store::{Notice, NoticeQuery};

use super::mail::coded;
use super::{Page, lang, param, tr, tr_args, urlencode};
use crate::AppState;

/// Notices on one page of the list.
pub(crate) const PER_PAGE: i64 = 10;
/// Entries in the Atom feed.
pub(crate) const FEED_ENTRIES: i64 = 50;
/// The characters of a notice's text shown in the list.
const EXCERPT_CHARS: usize = 240;
/// The tag URI (RFC 4151) every feed and entry id starts with.
const TAG: &str = "tag:popreg.am,2026:notices";

fn day(t: DateTime<Utc>) -> String {
    popreg_store::armenian_date(t).to_string()
}

fn excerpt(s: &str) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= EXCERPT_CHARS {
        return flat;
    }
    let mut out: String = flat.chars().take(EXCERPT_CHARS).collect();
    out.push('…');
    out
}

fn store_failed(l: Lang, title: String, e: &popreg_store::StoreError) -> Response {
    tracing::error!(error = %e, "notices: the store failed");
    Page::new(l, title)
        .status(StatusCode::SERVICE_UNAVAILABLE)
        .main(coded(l, e))
        .render()
}

/// The query of the list page for a page number, with the search kept.
fn list_link(q: &str, body: &str, page: i64) -> String {
    let mut parts = vec![];
    if !q.is_empty() {
        parts.push(format!("q={}", urlencode(q)));
    }
    if !body.is_empty() {
        parts.push(format!("body={}", urlencode(body)));
    }
    if page > 1 {
        parts.push(format!("page={page}"));
    }
    if parts.is_empty() {
        "/notices".into()
    } else {
        format!("/notices?{}", parts.join("&"))
    }
}

/// The marks of a notice: withdrawn, valid until.
fn marks(l: Lang, n: &Notice) -> String {
    let mut out = String::new();
    if n.withdrawn_at.is_some() {
        out.push_str(&format!(
            " <strong class=\"err\">{}</strong>",
            escape(&tr(l, "notices-withdrawn"))
        ));
    }
    if let Some(d) = n.valid_until {
        out.push_str(&format!(
            " · {}",
            escape(&tr_args(
                l,
                "notices-valid-until",
                &[("date", d.to_string().into())]
            ))
        ));
    }
    out
}

/// `GET /notices`
pub(crate) async fn list(State(state): State<AppState>, req: Request) -> Response {
    let l = lang(req.uri(), req.headers());
    let title = tr(l, "notices-title");
    let q = param(req.uri(), "q")
        .map(|s| {
            s.trim()
                .chars()
                .take(popreg_store::MAX_NOTICE_QUERY_CHARS)
                .collect::<String>()
        })
        .unwrap_or_default();
    let body = param(req.uri(), "body")
        .filter(|b| b.len() <= 64)
        .unwrap_or_default();
    let page_no = param(req.uri(), "page")
        .and_then(|p| p.parse::<i64>().ok())
        .filter(|p| (1..=100_000).contains(p))
        .unwrap_or(1);
    let query = NoticeQuery {
        q: Some(q.clone()),
        body: Some(body.clone()),
        lang: l.as_str().into(),
        offset: (page_no - 1) * PER_PAGE,
        limit: PER_PAGE,
    };
    let store = &state.0.store;
    let (found, bodies) = match (store.notices(&query).await, store.notice_bodies().await) {
        (Ok(f), Ok(b)) => (f, b),
        (Err(e), _) | (_, Err(e)) => return store_failed(l, title, &e),
    };
    let mut options = format!(
        "<option value=\"\">{}</option>",
        escape(&tr(l, "notices-body-all"))
    );
    for b in &bodies {
        options.push_str(&format!(
            "<option value=\"{id}\"{sel}>{name}</option>",
            id = escape(&b.body_id),
            sel = if b.body_id == body { " selected" } else { "" },
            name = escape(b.name(l.as_str())),
        ));
    }
    let mut main = format!(
        "<p>{intro}</p><form method=\"get\" action=\"/notices\" role=\"search\">\
         <p><label for=\"q\">{ql}</label><br><input type=\"search\" id=\"q\" name=\"q\" value=\"{qv}\" \
         maxlength=\"200\" style=\"max-width:100%\"></p><p><label for=\"body\">{bl}</label><br><select id=\"body\" name=\"body\" style=\"max-width:100%\">{options}</select></p>\
         <p><button type=\"submit\">{go}</button></p></form>\
         <p><a href=\"/notices.atom?lang={lang}\" type=\"application/atom+xml\">{feed}</a></p>",
        intro = escape(&tr(l, "notices-intro")),
        ql = escape(&tr(l, "notices-search-label")),
        qv = escape(&q),
        bl = escape(&tr(l, "notices-body-label")),
        go = escape(&tr(l, "notices-search-button")),
        lang = l.as_str(),
        feed = escape(&tr(l, "notices-feed")),
    );
    if found.items.is_empty() {
        main.push_str(&format!(
            "<p role=\"status\">{}</p>",
            escape(&tr(l, "notices-none"))
        ));
    } else {
        main.push_str(&format!(
            "<section aria-label=\"{}\"><p role=\"status\">{}</p>",
            escape(&tr(l, "notices-results")),
            escape(&tr_args(
                l,
                "notices-found",
                &[("count", found.total.into())]
            ))
        ));
        for n in &found.items {
            let t = n.text(l.as_str());
            main.push_str(&format!(
                "<article class=\"record\" lang=\"{tl}\"><h2><a href=\"/notices/{id}\">{title}</a></h2>\
                 <p class=\"src\" lang=\"{l}\">{body} · {date}{marks}</p><p>{excerpt}</p></article>",
                tl = n.text_lang(l.as_str()),
                id = escape(&n.id),
                title = escape(&t.title),
                l = l.as_str(),
                body = escape(n.body.name(l.as_str())),
                date = escape(&tr_args(
                    l,
                    "notices-published",
                    &[("date", day(n.published_at).into())]
                )),
                marks = marks(l, n),
                excerpt = escape(&excerpt(&t.text)),
            ));
        }
        main.push_str("</section>");
    }
    let pages = (found.total + PER_PAGE - 1) / PER_PAGE;
    if pages > 1 {
        main.push_str(&format!(
            "<nav aria-label=\"{}\"><p>",
            escape(&tr(l, "notices-pages"))
        ));
        if page_no > 1 {
            main.push_str(&format!(
                "<a href=\"{}\" rel=\"prev\">{}</a> ",
                escape(&list_link(&q, &body, page_no - 1)),
                escape(&tr(l, "notices-newer"))
            ));
        }
        main.push_str(&escape(&tr_args(
            l,
            "notices-page",
            &[("page", page_no.into()), ("pages", pages.into())],
        )));
        if page_no < pages {
            main.push_str(&format!(
                " <a href=\"{}\" rel=\"next\">{}</a>",
                escape(&list_link(&q, &body, page_no + 1)),
                escape(&tr(l, "notices-older"))
            ));
        }
        main.push_str("</p></nav>");
    }
    Page::new(l, title).here(req.uri()).main(main).render()
}

/// `GET /notices/{id}`
pub(crate) async fn notice(
    State(state): State<AppState>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let l = lang(req.uri(), req.headers());
    let n = match state.0.store.notice(&id).await {
        Ok(Some(n)) => n,
        Ok(None) => {
            return Page::new(l, tr(l, "notices-title"))
                .status(StatusCode::NOT_FOUND)
                .here(req.uri())
                .main(format!(
                    "<p>{}</p><p><a href=\"/notices\">{}</a></p>",
                    escape(&tr(l, "notices-unknown")),
                    escape(&tr(l, "notices-back"))
                ))
                .render();
        }
        Err(e) => return store_failed(l, tr(l, "notices-title"), &e),
    };
    let t = n.text(l.as_str());
    let tl = n.text_lang(l.as_str());
    let mut main = String::new();
    if let Some(w) = n.withdrawn_at {
        main.push_str(&format!(
            "<p class=\"note\" role=\"note\"><strong>{}</strong>",
            escape(&tr_args(
                l,
                "notices-withdrawn-on",
                &[("date", day(w).into())]
            ))
        ));
        if let Some(r) = &n.withdrawn_reason {
            main.push_str(&format!(
                "<br>{}",
                escape(&tr_args(
                    l,
                    "notices-withdrawn-reason",
                    &[("reason", r.clone().into())]
                ))
            ));
        }
        main.push_str("</p>");
    }
    main.push_str(&format!(
        "<p class=\"src\">{body} · {date}{marks}</p>",
        body = escape(n.body.name(l.as_str())),
        date = escape(&tr_args(
            l,
            "notices-published",
            &[("date", day(n.published_at).into())]
        )),
        marks = marks(l, &n),
    ));
    if tl != l.as_str() {
        main.push_str(&format!(
            "<p class=\"note\">{}</p>",
            escape(&tr(l, "notices-in-armenian"))
        ));
    }
    main.push_str(&format!("<div lang=\"{tl}\">"));
    for para in t.text.split("\n\n").filter(|p| !p.trim().is_empty()) {
        main.push_str(&format!(
            "<p>{}</p>",
            escape(para.trim()).replace('\n', "<br>")
        ));
    }
    main.push_str(&format!(
        "</div><p><a href=\"/notices\">{}</a></p>",
        escape(&tr(l, "notices-back"))
    ));
    Page::new(l, t.title.clone())
        .here(req.uri())
        .main(main)
        .render()
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The portal's address for absolute links: the configured one, else this request's host.
fn base_url(state: &AppState, req: &Request) -> String {
    let configured = state.0.config.contacts.portal_url.trim_end_matches('/');
    if !configured.is_empty() {
        return configured.to_string();
    }
    let host = req
        .headers()
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
        })
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// The Atom document (RFC 4287) of `notices`, newest first.
pub(crate) fn atom(l: Lang, base: &str, notices: &[Notice], now: DateTime<Utc>) -> String {
    let lang = l.as_str();
    let updated = notices
        .iter()
        .map(|n| n.withdrawn_at.unwrap_or(n.published_at))
        .max()
        .unwrap_or(now);
    let mut x = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"{lang}\">\n\
         <id>{TAG}</id>\n<title>{title}</title>\n<subtitle>{sub}</subtitle>\n<updated>{updated}</updated>\n\
         <link rel=\"self\" type=\"application/atom+xml\" href=\"{self_href}\"/>\n\
         <link rel=\"alternate\" type=\"text/html\" href=\"{alt}\"/>\n<author><name>{portal}</name></author>\n",
        title = escape(&tr(l, "notices-title")),
        sub = escape(&tr(l, "notices-intro")),
        updated = rfc3339(updated),
        self_href = escape(&format!("{base}/notices.atom?lang={lang}")),
        alt = escape(&format!("{base}/notices?lang={lang}")),
        portal = escape(&tr(l, "portal-name")),
    );
    for n in notices {
        let t = n.text(lang);
        let title = if n.withdrawn_at.is_some() {
            format!("[{}] {}", tr(l, "notices-withdrawn"), t.title)
        } else {
            t.title.clone()
        };
        x.push_str(&format!(
            "<entry>\n<id>{TAG}/{id}</id>\n<title>{title}</title>\n<updated>{updated}</updated>\n\
             <published>{published}</published>\n<author><name>{body}</name></author>\n\
             <link rel=\"alternate\" type=\"text/html\" href=\"{href}\"/>\n\
             <content type=\"text\" xml:lang=\"{tl}\">{text}</content>\n</entry>\n",
            id = escape(&n.id),
            title = escape(&title),
            updated = rfc3339(n.withdrawn_at.unwrap_or(n.published_at)),
            published = rfc3339(n.published_at),
            body = escape(n.body.name(lang)),
            href = escape(&format!("{base}/notices/{}?lang={lang}", n.id)),
            tl = n.text_lang(lang),
            text = escape(&t.text),
        ));
    }
    x.push_str("</feed>\n");
    x
}

/// `GET /notices.atom`
pub(crate) async fn feed(State(state): State<AppState>, req: Request) -> Response {
    let l = lang(req.uri(), req.headers());
    let query = NoticeQuery {
        lang: l.as_str().into(),
        limit: FEED_ENTRIES,
        ..NoticeQuery::default()
    };
    let found = match state.0.store.notices(&query).await {
        Ok(f) => f,
        Err(e) => return store_failed(l, tr(l, "notices-title"), &e),
    };
    let base = base_url(&state, &req);
    let body = atom(l, &base, &found.items, state.0.store.clock().now());
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/atom+xml; charset=utf-8"),
    );
    h.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(CONTENT_LANGUAGE, HeaderValue::from_static(l.as_str()));
    r
}
