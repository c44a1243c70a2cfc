//! The demo's mail catcher (issue 6 item 11): `GET /demo/mail` lists the e-mails and SMS the system "sent" in
//! `popreg demo`, newest first, so that a visitor can follow a verification link or read an SMS code. The
//! messages are the real rendered ones (the outbox rows went through the worker; see
//! `popreg_notify::capture`). Outside the demo there is no catcher and the page answers 404.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{Page, lang, tr};
use crate::AppState;
use crate::workspace::esc;

pub(crate) async fn page(State(state): State<AppState>, req: Request) -> Response {
    let Some(capture) = &state.0.config.portal.demo_mail else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let l = lang(req.uri(), req.headers());
    let list = capture.list();
    let mut main = format!(
        "<p class=\"note\" role=\"note\"><strong>{}</strong> {}</p>",
        esc(&tr(l, "demo-mail-only")),
        esc(&tr(l, "demo-mail-intro"))
    );
    if list.is_empty() {
        main.push_str(&format!("<p>{}</p>", esc(&tr(l, "demo-mail-empty"))));
    }
    for m in list {
        let kind = if m.channel == "sms" {
            tr(l, "demo-mail-sms")
        } else {
            tr(l, "demo-mail-email")
        };
        let title = if m.subject.is_empty() {
            kind.clone()
        } else {
            m.subject.clone()
        };
        main.push_str(&format!(
            "<article class=\"card\"><h2>{}</h2><dl><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd>",
            esc(&title),
            esc(&tr(l, "demo-mail-kind")),
            esc(&kind),
            esc(&tr(l, "demo-mail-to")),
            esc(&m.to),
            esc(&tr(l, "demo-mail-at")),
            esc(&super::data::local(m.at)),
        ));
        if !m.from.is_empty() {
            main.push_str(&format!(
                "<dt>{}</dt><dd>{}</dd>",
                esc(&tr(l, "demo-mail-from")),
                esc(&m.from)
            ));
        }
        main.push_str(&format!(
            "</dl><pre class=\"message\">{}</pre>",
            linkify(&m.body)
        ));
        if !m.raw.is_empty() {
            main.push_str(&format!(
                "<details><summary>{}</summary><pre>{}</pre></details>",
                esc(&tr(l, "demo-mail-raw")),
                esc(&m.raw)
            ));
        }
        main.push_str("</article>");
    }
    Page::new(l, tr(l, "demo-mail-title"))
        .here(req.uri())
        .main(main)
        .render()
}

/// The text escaped, with every `http://` or `https://` address made a link (the verification links).
fn linkify(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = ["https://", "http://"]
        .iter()
        .filter_map(|p| rest.find(p))
        .min()
    {
        out.push_str(&esc(&rest[..at]));
        let url_len = rest[at..]
            .find(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == '"')
            .unwrap_or(rest.len() - at);
        let url = &rest[at..at + url_len];
        out.push_str(&format!("<a href=\"{0}\">{0}</a>", esc(url)));
        rest = &rest[at + url_len..];
    }
    out.push_str(&esc(rest));
    out
}

#[cfg(test)]
mod tests {
    use super::linkify;

    #[test]
    fn g_5_links_in_caught_mail_are_clickable_and_nothing_else_is_markup() {
        assert_eq!(
            linkify("Open http://127.0.0.1:8080/my/forwarding/verify?token=a&b=1 now <b>"),
            "Open <a href=\"http://127.0.0.1:8080/my/forwarding/verify?token=a&amp;b=1\">\
             http://127.0.0.1:8080/my/forwarding/verify?token=a&amp;b=1</a> now &lt;b&gt;"
        );
        assert_eq!(linkify("no link"), "no link");
        assert_eq!(
            linkify("https://a.am\nhttps://b.am"),
            "<a href=\"https://a.am\">https://a.am</a>\n<a href=\"https://b.am\">https://b.am</a>"
        );
    }
}
