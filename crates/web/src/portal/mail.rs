//! The official mailbox and the forwarding settings (G.3.1–3, G.5, G.7; issue 6 §6–7).
//!
//! - `GET /my/inbox[?page=N]`: notifications and official mail, newest first, unread ones marked;
//! - `GET /my/inbox/{id}`: one message; the first opening records delivery (and is audited by the store);
//! - `GET /my/inbox/{id}/attachments/{n}`: an attachment, always as a download;
//! - `GET /my/inbox/{id}/raw`: the original of official mail (G.3.1), byte for byte, as a download;
//! - `GET /my/forwarding`: up to three e-mail addresses and the mobile numbers, verified ones with a check
//!   mark and the others with "!" (G.7); forms to add, verify (SMS code), resend, replace and remove;
//! - `POST /my/forwarding/…`: those actions, each with the session's CSRF token;
//! - `GET /my/forwarding/verify?token=…`: the link of the verification e-mail (G.5); works without login.

use axum::extract::{Path, Request, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_SECURITY_POLICY, CONTENT_TYPE,
};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use popreg_domain::classifiers::Lang;
use popreg_store::{ContactKind, ContactPoint, Owner, StoreError};

use super::data::local;
use super::{Citizen, Page, citizen, csrf_field, lang, param, redirect, tr, tr_args};
use crate::AppState;
use crate::workspace::esc;

/// Messages on one page of the inbox.
const PER_PAGE: i64 = 20;

/// A refusal of the store as HTML: the code's title, the code, and what to do.
pub(crate) fn coded(l: Lang, e: &StoreError) -> String {
    super::coded_html(l, e.code())
}

fn status_of(e: &StoreError) -> StatusCode {
    super::code_status(e.code())
}

/// `GET /my/inbox`
pub(crate) async fn inbox(State(state): State<AppState>, req: Request) -> Response {
    let l = lang(req.uri(), req.headers());
    let who = match citizen(&state, req.uri(), req.headers()).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let page_no = param(req.uri(), "page")
        .and_then(|p| p.parse::<i64>().ok())
        .filter(|p| (1..=100_000).contains(p))
        .unwrap_or(1);
    let page = Page::new(l, tr(l, "inbox-title"))
        .session(&who.session)
        .here(req.uri());
    let inbox = match state
        .0
        .store
        .inbox(who.session.psn, (page_no - 1) * PER_PAGE, PER_PAGE)
        .await
    {
        Ok(x) => x,
        Err(e) => return page.status(status_of(&e)).main(coded(l, &e)).render(),
    };
    let mut main = format!(
        "<p>{}</p><p>{}</p>",
        esc(&tr(l, "inbox-intro")),
        esc(&tr_args(
            l,
            "inbox-counts",
            &[
                ("count", inbox.total.into()),
                ("unread", inbox.unread.into())
            ]
        ))
    );
    main.push_str(&inbox_table(l, &inbox.items, "/my/inbox"));
    let pages = (inbox.total + PER_PAGE - 1) / PER_PAGE;
    if pages > 1 {
        main.push_str(&format!(
            "<nav aria-label=\"{}\"><p>",
            esc(&tr(l, "inbox-pages"))
        ));
        if page_no > 1 {
            main.push_str(&format!(
                "<a href=\"/my/inbox?page={}\" rel=\"prev\">{}</a> ",
                page_no - 1,
                esc(&tr(l, "inbox-newer"))
            ));
        }
        main.push_str(&esc(&tr_args(
            l,
            "inbox-page",
            &[("page", page_no.into()), ("pages", pages.into())],
        )));
        if page_no < pages {
            main.push_str(&format!(
                " <a href=\"/my/inbox?page={}\" rel=\"next\">{}</a>",
                page_no + 1,
                esc(&tr(l, "inbox-older"))
            ));
        }
        main.push_str("</p></nav>");
    }
    main.push_str(&format!(
        "<p><a href=\"/my/forwarding\">{}</a></p>",
        esc(&tr(l, "forwarding-title"))
    ));
    page.main(main).render()
}

/// The inbox as a table, newest first; each subject links to `{base}/{id}` (`/my/inbox` for the person,
/// `/my/companies/{tin}/inbox` for a company).
pub(crate) fn inbox_table(l: Lang, items: &[popreg_store::InboxItem], base: &str) -> String {
    if items.is_empty() {
        return format!("<p>{}</p>", esc(&tr(l, "inbox-empty")));
    }
    let mut main = format!(
        "<div class=\"table-wrap\" role=\"region\" tabindex=\"0\" aria-label=\"{}\"><table><thead><tr>\
         <th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th>\
         <th scope=\"col\">{}</th></tr></thead><tbody>",
        esc(&tr(l, "inbox-title")),
        esc(&tr(l, "inbox-received")),
        esc(&tr(l, "inbox-from")),
        esc(&tr(l, "inbox-subject")),
        esc(&tr(l, "inbox-status")),
    );
    for m in items {
        let unread = m.opened_at.is_none();
        let mut marks = vec![];
        if unread {
            marks.push(tr(l, "inbox-unread"));
        }
        if m.legal_significance {
            marks.push(tr(l, "inbox-legal"));
        }
        if m.source == "official_mail" {
            marks.push(tr(l, "inbox-official-mail"));
        }
        if m.attachments > 0 {
            marks.push(tr_args(
                l,
                "inbox-attachments",
                &[("count", m.attachments.into())],
            ));
        }
        let (sender, subject) = shown(l, &m.source, m.sender.name(l.as_str()), &m.subject);
        let subject = if unread {
            format!("<strong>{}</strong>", esc(&subject))
        } else {
            esc(&subject)
        };
        main.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td><a href=\"{base}/{}\">{subject}</a></td><td>{}</td></tr>",
            esc(&local(m.created_at)),
            esc(&sender),
            esc(&super::urlencode(&m.id)),
            esc(&marks.join(" · ")),
        ));
    }
    main.push_str("</tbody></table></div>");
    main
}

/// `GET /my/inbox/{id}`
pub(crate) async fn message(
    State(state): State<AppState>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let l = lang(req.uri(), req.headers());
    let who = match citizen(&state, req.uri(), req.headers()).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let page = Page::new(l, tr(l, "inbox-title"))
        .session(&who.session)
        .here(req.uri());
    let found = state.0.store.open_message(who.session.psn, &id).await;
    message_page(page, l, found, "/my/inbox", "/my/inbox")
}

/// The page of one opened message (`Ok(None)`: not the owner's, or no such message: the same `404`).
/// Attachments link to `{base}/{id}/attachments/{n}`; "back" goes to `back`.
pub(crate) fn message_page(
    page: Page<'_>,
    l: Lang,
    found: Result<Option<popreg_store::InboxMessage>, StoreError>,
    base: &str,
    back: &str,
) -> Response {
    let m = match found {
        Ok(Some(m)) => m,
        // Another person's message and no message are the same answer.
        Ok(None) => {
            return page
                .status(StatusCode::NOT_FOUND)
                .main(format!(
                    "<p class=\"err\" role=\"alert\">{}</p><p><a href=\"{back}\">{}</a></p>",
                    esc(&tr(l, "inbox-no-message")),
                    esc(&tr(l, "inbox-title"))
                ))
                .render();
        }
        Err(e) => return page.status(status_of(&e)).main(coded(l, &e)).render(),
    };
    let (from, subject) = shown(l, &m.source, m.sender.name(l.as_str()), &m.subject);
    let text = if m.source == "forward_failure" {
        tr_args(
            l,
            "inbox-forward-failing-text",
            &[
                ("address", m.subject.clone().into()),
                ("reason", m.text.clone().into()),
            ],
        )
    } else {
        m.text.clone()
    };
    let mut main = format!(
        "<article><h2>{subject}</h2><dl><dt>{from_l}</dt><dd>{from}</dd><dt>{recv_l}</dt><dd>{recv}</dd></dl>",
        subject = esc(&subject),
        from_l = esc(&tr(l, "inbox-from")),
        from = esc(&from),
        recv_l = esc(&tr(l, "inbox-received")),
        recv = esc(&local(m.created_at)),
    );
    if m.legal_significance {
        main.push_str(&format!(
            "<p class=\"note\">{}</p>",
            esc(&tr(l, "inbox-legal-note"))
        ));
    }
    if m.source == "official_mail" {
        // Mail from outside is shown as escaped text only (HTML was reduced to text when it arrived);
        // the original is a download, never rendered in the portal's origin.
        main.push_str(&format!(
            "<p class=\"note\">{}</p><p><a href=\"{base}/{}/raw\" download>{}</a></p>",
            esc(&tr(
                l,
                if m.malformed {
                    "inbox-malformed"
                } else {
                    "inbox-raw-note"
                }
            )),
            esc(&super::urlencode(&m.id)),
            esc(&tr(l, "inbox-raw")),
        ));
    }
    main.push_str(&format!(
        "<div class=\"message\" style=\"white-space:pre-wrap\">{}</div>",
        esc(&text)
    ));
    if !m.attachments.is_empty() {
        main.push_str(&format!(
            "<h3>{}</h3><ul>",
            esc(&tr_args(
                l,
                "inbox-attachments",
                &[("count", (m.attachments.len() as i64).into())]
            ))
        ));
        for a in &m.attachments {
            main.push_str(&format!(
                "<li><a href=\"{base}/{}/attachments/{}\" download>{}</a> ({}, {} B)</li>",
                esc(&super::urlencode(&m.id)),
                a.n,
                esc(&a.name),
                esc(&a.media_type),
                a.size
            ));
        }
        main.push_str("</ul>");
    }
    main.push_str(&format!(
        "</article><p><a href=\"{back}\">{}</a></p>",
        esc(&tr(l, "inbox-back"))
    ));
    page.main(main).render()
}

/// `GET /my/inbox/{id}/attachments/{n}`: always a download, never rendered by the browser in the portal's
/// origin (`Content-Disposition: attachment`, `nosniff`, a sandboxing CSP).
pub(crate) async fn attachment(
    State(state): State<AppState>,
    Path((id, n)): Path<(String, i64)>,
    req: Request,
) -> Response {
    let l = lang(req.uri(), req.headers());
    let who = match citizen(&state, req.uri(), req.headers()).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let found = state.0.store.attachment(who.session.psn, &id, n).await;
    attachment_answer(
        Page::new(l, tr(l, "inbox-title")).session(&who.session),
        l,
        found,
    )
}

/// An attachment as a download, or the page that says there is none (or the coded refusal).
pub(crate) fn attachment_answer(
    page: Page<'_>,
    l: Lang,
    found: Result<Option<popreg_store::Attachment>, StoreError>,
) -> Response {
    match found {
        Ok(Some(a)) => {
            let mut r = a.content.into_response();
            let media = HeaderValue::from_str(&a.media_type)
                .unwrap_or(HeaderValue::from_static("application/octet-stream"));
            as_download(&mut r, media, &a.name);
            r
        }
        Ok(None) => page
            .status(StatusCode::NOT_FOUND)
            .main(format!(
                "<p class=\"err\" role=\"alert\">{}</p>",
                esc(&tr(l, "inbox-no-message"))
            ))
            .render(),
        Err(e) => page.status(status_of(&e)).main(coded(l, &e)).render(),
    }
}

/// The sender and subject a message is listed with: the portal's own notices are written in the
/// reader's language from what they record (the address in the subject).
fn shown(l: Lang, source: &str, sender: &str, subject: &str) -> (String, String) {
    if source == "forward_failure" {
        (
            tr(l, "inbox-portal-sender"),
            tr_args(
                l,
                "inbox-forward-failing-subject",
                &[("address", subject.to_string().into())],
            ),
        )
    } else {
        (sender.to_string(), subject.to_string())
    }
}

/// Headers that keep a download from being rendered in the portal's origin.
fn as_download(r: &mut Response, media: HeaderValue, name: &str) {
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, media);
    if let Ok(v) = HeaderValue::from_str(&content_disposition(name)) {
        h.insert(CONTENT_DISPOSITION, v);
    }
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        axum::http::header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
}

/// `GET /my/inbox/{id}/raw`: the original of official mail (G.3.1), byte for byte, as a download
/// (`message/rfc822`).
pub(crate) async fn raw(
    State(state): State<AppState>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let l = lang(req.uri(), req.headers());
    let who = match citizen(&state, req.uri(), req.headers()).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let page = Page::new(l, tr(l, "inbox-title")).session(&who.session);
    let found = state.0.store.inbound_raw(who.session.psn, &id).await;
    raw_answer(page, l, &id, found)
}

/// The original of official mail as a download (`message/rfc822`), or the answer for an attachment that
/// is not there (another owner's message, no such message, an error).
pub(crate) fn raw_answer(
    page: Page<'_>,
    l: Lang,
    id: &str,
    found: Result<Option<Vec<u8>>, StoreError>,
) -> Response {
    match found {
        Ok(Some(bytes)) => {
            let mut r = bytes.into_response();
            as_download(
                &mut r,
                HeaderValue::from_static("message/rfc822"),
                &format!("message-{}.eml", id.chars().take(64).collect::<String>()),
            );
            r
        }
        Ok(None) => attachment_answer(page, l, Ok(None)),
        Err(e) => attachment_answer(page, l, Err(e)),
    }
}

/// `attachment; filename="ascii"; filename*=UTF-8''percent-encoded` (RFC 6266), the name cut to safe
/// characters in the ASCII form.
fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    let mut encoded = String::new();
    for b in name.bytes().take(400) {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_') {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// The forwarding page, with an optional message on top (a confirmation or a coded refusal).
async fn forwarding_page(
    state: &AppState,
    who: &Citizen,
    l: Lang,
    uri: &axum::http::Uri,
    status: StatusCode,
    top: String,
) -> Response {
    let page = Page::new(l, tr(l, "forwarding-title"))
        .session(&who.session)
        .here(uri)
        .status(status);
    let points = match state.0.store.contact_points(who.session.psn).await {
        Ok(p) => p,
        Err(e) => return page.status(status_of(&e)).main(coded(l, &e)).render(),
    };
    let csrf = csrf_field(&who.session);
    let mut main = format!("{top}<p>{}</p>", esc(&tr(l, "forwarding-intro")));
    for (kind, title, add_label, input_type, hint) in [
        (
            ContactKind::Email,
            "forwarding-emails",
            "forwarding-add-email",
            "email",
            "forwarding-email-hint",
        ),
        (
            ContactKind::Phone,
            "forwarding-phones",
            "forwarding-add-phone",
            "tel",
            "forwarding-phone-hint",
        ),
    ] {
        let mine: Vec<&ContactPoint> = points.iter().filter(|p| p.kind == kind).collect();
        main.push_str(&format!(
            "<section aria-labelledby=\"{k}-h\"><h2 id=\"{k}-h\">{}</h2>",
            esc(&tr(l, title)),
            k = kind.as_str()
        ));
        main.push_str(&contact_list(
            l,
            &mine,
            &csrf,
            "/my/forwarding",
            (kind, add_label, input_type, hint),
        ));
        main.push_str("</section>");
    }
    page.main(main).render()
}

/// A list of addresses of one kind, and while there are fewer than three the form to add one. The forms
/// post to `{base}/{kind}` (add) and `{base}/{id}/{action}`.
pub(crate) fn contact_list(
    l: Lang,
    mine: &[&ContactPoint],
    csrf: &str,
    base: &str,
    (kind, add_label, input_type, hint): (ContactKind, &str, &str, &str),
) -> String {
    let mut main = String::new();
    if mine.is_empty() {
        main.push_str(&format!("<p>{}</p>", esc(&tr(l, "forwarding-none"))));
    } else {
        main.push_str("<ul class=\"contacts\">");
        for p in mine {
            main.push_str(&contact_item(l, p, csrf, base));
        }
        main.push_str("</ul>");
    }
    if (mine.len() as i64) < popreg_store::MAX_CONTACTS_PER_KIND {
        main.push_str(&format!(
            "<form method=\"post\" action=\"{base}/{k}\">{csrf}<label for=\"new-{k}\">{label}</label>\
             <p class=\"src\" id=\"new-{k}-hint\">{hint}</p>\
             <input id=\"new-{k}\" name=\"address\" type=\"{input_type}\" required maxlength=\"254\" \
             aria-describedby=\"new-{k}-hint\" autocomplete=\"{ac}\"> <button type=\"submit\">{save}</button></form>",
            k = kind.as_str(),
            label = esc(&tr(l, add_label)),
            hint = esc(&tr(l, hint)),
            ac = if kind == ContactKind::Email { "email" } else { "tel" },
            save = esc(&tr(l, "forwarding-save")),
        ));
    }
    main
}

/// One address: its state (✓ verified, ! not yet) and what can be done with it.
fn contact_item(l: Lang, p: &ContactPoint, csrf: &str, base: &str) -> String {
    let (mark, state) = if p.verified() {
        ("✓", tr(l, "forwarding-verified"))
    } else {
        ("!", tr(l, "forwarding-unverified"))
    };
    let mut s = format!(
        "<li><span class=\"{cls}\" aria-hidden=\"true\">{mark}</span> <strong>{addr}</strong> — <span class=\"{cls}\">{state}</span>",
        cls = if p.verified() { "ok" } else { "err" },
        addr = esc(&p.address),
        state = esc(&state),
    );
    if let Some(since) = p.failing_since {
        s.push_str(&format!(
            " <span class=\"err\" role=\"status\">{}</span>",
            esc(&tr_args(
                l,
                "forwarding-failing",
                &[
                    ("date", local(since).into()),
                    (
                        "reason",
                        p.failing_reason.clone().unwrap_or_default().into()
                    ),
                ]
            ))
        ));
    }
    if !p.verified() {
        if let Some(until) = p.pending_until {
            s.push_str(&format!(
                " <span class=\"src\">{}</span>",
                esc(&tr_args(
                    l,
                    "forwarding-pending",
                    &[("date", local(until).into())]
                ))
            ));
        }
        if p.kind == ContactKind::Phone {
            s.push_str(&format!(
                "<form method=\"post\" action=\"{base}/{id}/verify\">{csrf}<label for=\"code-{id}\">{label}</label>\
                 <input id=\"code-{id}\" name=\"code\" required maxlength=\"6\" minlength=\"6\" autocomplete=\"one-time-code\" \
                 inputmode=\"text\"> <button type=\"submit\">{verify}</button></form>",
                id = p.id,
                label = esc(&tr(l, "forwarding-code")),
                verify = esc(&tr(l, "forwarding-verify")),
            ));
        }
        s.push_str(&format!(
            "<form method=\"post\" action=\"{base}/{id}/resend\">{csrf}<button type=\"submit\" class=\"secondary\">{}</button></form>",
            esc(&tr(l, "forwarding-resend")),
            id = p.id
        ));
    }
    s.push_str(&format!(
        "<form method=\"post\" action=\"{base}/{id}/replace\">{csrf}<label for=\"replace-{id}\">{label}</label>\
         <input id=\"replace-{id}\" name=\"address\" required maxlength=\"254\" type=\"{t}\"> \
         <button type=\"submit\" class=\"secondary\">{replace}</button></form>\
         <form method=\"post\" action=\"{base}/{id}/remove\">{csrf}<button type=\"submit\" class=\"secondary\">{remove}</button></form></li>",
        id = p.id,
        label = esc(&tr(l, "forwarding-replace-with")),
        t = if p.kind == ContactKind::Email { "email" } else { "tel" },
        replace = esc(&tr(l, "forwarding-replace")),
        remove = esc(&tr(l, "forwarding-remove")),
    ));
    s
}

/// `GET /my/forwarding[?done=…]`
pub(crate) async fn forwarding(State(state): State<AppState>, req: Request) -> Response {
    let l = lang(req.uri(), req.headers());
    let who = match citizen(&state, req.uri(), req.headers()).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let top = match param(req.uri(), "done").as_deref() {
        Some(
            d @ ("added-email" | "added-phone" | "resent" | "replaced" | "removed" | "verified"),
        ) => {
            format!(
                "<p class=\"ok\" role=\"status\">{}</p>",
                esc(&tr(l, &format!("forwarding-done-{d}")))
            )
        }
        _ => String::new(),
    };
    forwarding_page(&state, &who, l, req.uri(), StatusCode::OK, top).await
}

/// `POST /my/forwarding/{action}` and `POST /my/forwarding/{id}/{action}`: add, verify, resend, replace,
/// remove. Success goes back to the page with a confirmation; a refusal shows the page with the coded
/// reason and nothing changed.
pub(crate) async fn act(
    State(state): State<AppState>,
    Path(path): Path<Vec<(String, String)>>,
    req: Request,
) -> Response {
    let super::Posted {
        lang: l,
        uri,
        who,
        body,
    } = match super::posted(&state, req).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let get = |k: &str| super::path_part(&path, k);
    let Some(result) = apply(
        &state,
        Owner::Person(who.session.psn),
        get("action"),
        get("id"),
        &body,
        l,
    )
    .await
    else {
        return super::redirect("/my/forwarding");
    };
    match result {
        Ok(done) => redirect(&format!("/my/forwarding?done={done}")),
        Err(e) => {
            tracing::info!(code = %e.code(), "forwarding settings: refused");
            forwarding_page(&state, &who, l, &uri, status_of(&e), coded(l, &e)).await
        }
    }
}

/// One action on an owner's forwarding addresses: add (`email`, `phone` without an id), `verify` (a phone's
/// code), `resend`, `replace`, `remove` (with the address's id). `Ok(done)` names the confirmation;
/// `None`: no such action (a company has e-mail addresses only).
pub(crate) async fn apply(
    state: &AppState,
    owner: Owner,
    action: &str,
    raw_id: &str,
    body: &[u8],
    l: Lang,
) -> Option<Result<&'static str, StoreError>> {
    let field = |name: &str| super::form_field(body, name).unwrap_or_default();
    let settings = &state.0.config.contacts;
    let store = &state.0.store;
    let id = raw_id.parse::<i64>().ok();
    let person = match owner {
        Owner::Person(p) => Some(p),
        Owner::Company(_) => None,
    };
    Some(match (action, id, person) {
        ("email", None, _) if raw_id.is_empty() => store
            .add_email(owner, &field("address"), l.as_str(), settings)
            .await
            .map(|_| "added-email"),
        ("phone", None, Some(psn)) if raw_id.is_empty() => store
            .add_phone(psn, &field("address"), l.as_str(), settings)
            .await
            .map(|_| "added-phone"),
        ("verify", Some(id), Some(psn)) => match phone_of(store, psn, id).await {
            Ok(number) => store
                .verify_phone(psn, &number, field("code").trim())
                .await
                .map(|_| "verified"),
            Err(e) => Err(e),
        },
        ("resend", Some(id), _) => store
            .resend_verification(owner, id, settings)
            .await
            .map(|_| "resent"),
        ("replace", Some(id), _) => store
            .replace_contact(owner, id, &field("address"), l.as_str(), settings)
            .await
            .map(|_| "replaced"),
        ("remove", Some(id), _) => match store.remove_contact(owner, id).await {
            Ok(true) => Ok("removed"),
            Ok(false) => Err(unknown_contact(id)),
            Err(e) => Err(e),
        },
        _ => return None,
    })
}

fn unknown_contact(id: i64) -> StoreError {
    popreg_domain::DomainError::new(
        popreg_domain::Code::ContactUnknown,
        format!("no contact point {id}"),
    )
    .into()
}

/// The number of one of the person's phone contact points.
async fn phone_of(
    store: &popreg_store::Store,
    psn: popreg_domain::Psn,
    id: i64,
) -> Result<String, StoreError> {
    store
        .contact_points(psn)
        .await?
        .into_iter()
        .find(|c| c.id == id && c.kind == ContactKind::Phone)
        .map(|c| c.address)
        .ok_or_else(|| unknown_contact(id))
}

/// `GET /my/forwarding/verify?token=…`: the link of the verification e-mail (G.5). No login needed: the
/// token is the proof. Lands on the mail section with the confirmation (or the coded reason).
pub(crate) async fn verify_link(State(state): State<AppState>, req: Request) -> Response {
    let l = lang(req.uri(), req.headers());
    let token = param(req.uri(), "token").unwrap_or_default();
    let result = state.0.store.verify_email(&token).await;
    let logged_in = citizen(&state, req.uri(), req.headers()).await.ok();
    let top = match &result {
        Ok(p) => format!(
            "<p class=\"ok\" role=\"status\">{}</p>",
            esc(&tr_args(
                l,
                "forwarding-email-confirmed",
                &[("address", p.address.clone().into())]
            ))
        ),
        Err(e) => coded(l, e),
    };
    let status = match &result {
        Ok(_) => StatusCode::OK,
        Err(e) => status_of(e),
    };
    // A company's address (G.6): the confirmation, and the way to the company's section.
    if let Ok(p) = &result
        && let Some(Owner::Company(tin)) = Owner::from_key(&p.owner)
    {
        let page = Page::new(l, tr(l, "companies-title")).here(req.uri());
        let page = match &logged_in {
            Some(who) => page.session(&who.session),
            None => page,
        };
        return page
            .main(format!(
                "{top}<p><a href=\"/my/companies/{tin}\">{}</a></p>",
                esc(&tr(l, "companies-back"))
            ))
            .render();
    }
    match logged_in {
        Some(who) => forwarding_page(&state, &who, l, req.uri(), status, top).await,
        None => Page::new(l, tr(l, "forwarding-title"))
            .status(status)
            .main(format!(
                "{top}<p><a href=\"/login?next=/my/forwarding\">{}</a></p>",
                esc(&tr(l, "forwarding-login-to-see"))
            ))
            .render(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachment_names_cannot_break_the_header() {
        let d = content_disposition("Որոշում \"1\".pdf\r\nX: y");
        assert!(d.starts_with("attachment; filename=\""));
        assert!(!d.contains('\r') && !d.contains('\n'));
        assert!(d.contains("filename*=UTF-8''%D5%88"), "{d}");
        assert!(HeaderValue::from_str(&d).is_ok());
    }
}
