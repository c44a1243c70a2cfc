//! Legal entities (G.6): a person who is founder, director, head of staff, … of a company sees the
//! company's section, reads the notifications sent to it (the company inbox) and has them forwarded to up to
//! three e-mail addresses, each confirmed through a link.
//!
//! - `GET /my/companies`: every company in which the legal-entity registry says the person holds a role,
//!   each as a section with its inbox and its forwarding addresses;
//! - `GET /my/companies/{tin}[?done=…]`: one company's section;
//! - `GET /my/companies/{tin}/inbox/{id}`, `…/attachments/{n}` and `…/raw` (the original of official mail
//!   to `<TIN>@domain`): a message of the company inbox (the first opening records delivery; the audit act
//!   names the person who opened it and the company);
//! - `POST /my/companies/{tin}/forwarding/email` and `POST /my/companies/{tin}/forwarding/{id}/{action}`
//!   (`resend`, `replace`, `remove`): the company's e-mail addresses, with the session's CSRF token. The
//!   verification link is the same as for a person's addresses (`/my/forwarding/verify?token=…`).
//!
//! **Access.** On every request the person's roles are asked from the legal-entity registry (through the
//! connector's short cache): without a role in the company the answer is `404 PSR-REG-0003` with no data of
//! the company — the same for a TIN that does not exist or is malformed. When the registry cannot answer,
//! nothing of the company is shown (`503 PSR-REG-0001`): access is never granted on a guess.

use std::collections::BTreeMap;

use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use popreg_connectors::registries::CompanyRole;
use popreg_domain::classifiers::Lang;
use popreg_domain::{Code, DomainError, Tin};
use popreg_store::{ContactKind, Owner};

use super::registries::{company_name, day, named};
use super::{Citizen, Page, csrf_field, param, redirect, tr, tr_args};
use crate::AppState;
use crate::workspace::esc;

/// Messages of a company's inbox shown on the list page, and on the company's own page.
const ON_LIST: i64 = 10;
const ON_PAGE: i64 = 50;

/// The company of the path, if the person holds a role in it now: the TIN and their roles in it.
async fn holding(
    state: &AppState,
    who: &Citizen,
    raw: &str,
) -> Result<(Tin, Vec<CompanyRole>), DomainError> {
    let not_yours = || {
        DomainError::new(
            Code::CompanyNotYours,
            "no company with this TIN in which you hold a role",
        )
    };
    let tin = Tin::parse(raw).map_err(|_| not_yours())?;
    let roles = state
        .0
        .config
        .registries
        .roles_in(who.session.psn, tin)
        .await?;
    if roles.is_empty() {
        tracing::info!(code = Code::CompanyNotYours.as_str(), %tin, "company section refused: no role");
        return Err(not_yours());
    }
    Ok((tin, roles))
}

/// The refusal page of a code: its title, code and explanation, with its status.
fn refused(page: Page<'_>, l: Lang, e: &DomainError) -> Response {
    page.status(super::code_status(e.code))
        .main(format!(
            "{}<p><a href=\"/my/companies\">{}</a></p>",
            super::coded_html(l, e.code),
            esc(&tr(l, "companies-title"))
        ))
        .render()
}

/// One company's section: what it is and the person's roles, its inbox, its forwarding addresses.
async fn section(
    state: &AppState,
    who: &Citizen,
    l: Lang,
    tin: Tin,
    roles: &[CompanyRole],
    messages: i64,
) -> String {
    let Some(first) = roles.first() else {
        return String::new();
    };
    let owner = Owner::Company(tin);
    let roles_text = roles
        .iter()
        .map(|r| format!("{} ({})", named(l, "role", &r.role), day(r.since)))
        .collect::<Vec<_>>()
        .join(", ");
    let mut s = format!(
        "<section aria-labelledby=\"c{tin}\"><h2 id=\"c{tin}\"><a href=\"/my/companies/{tin}\">{name}</a></h2>\
         <dl><dt>{tin_l}</dt><dd>{tin}</dd><dt>{form_l}</dt><dd>{form}</dd><dt>{role_l}</dt><dd>{roles}</dd></dl>",
        name = esc(company_name(l, first)),
        tin_l = esc(&tr(l, "company-tin")),
        form_l = esc(&tr(l, "company-form")),
        form = esc(&named(l, "legal-form", &first.legal_form)),
        role_l = esc(&tr(l, "company-role")),
        roles = esc(&roles_text),
    );
    s.push_str(&format!("<h3>{}</h3>", esc(&tr(l, "companies-inbox"))));
    match state.0.store.inbox(owner, 0, messages).await {
        Ok(inbox) => {
            s.push_str(&format!(
                "<p>{}</p>",
                esc(&tr_args(
                    l,
                    "inbox-counts",
                    &[
                        ("count", inbox.total.into()),
                        ("unread", inbox.unread.into())
                    ]
                ))
            ));
            s.push_str(&super::mail::inbox_table(
                l,
                &inbox.items,
                &format!("/my/companies/{tin}/inbox"),
            ));
        }
        Err(e) => s.push_str(&super::mail::coded(l, &e)),
    }
    s.push_str(&format!(
        "<h3>{}</h3><p>{}</p>",
        esc(&tr(l, "companies-forwarding")),
        esc(&tr(l, "companies-forwarding-intro"))
    ));
    match state.0.store.contact_points(owner).await {
        Ok(points) => {
            let emails: Vec<_> = points
                .iter()
                .filter(|p| p.kind == ContactKind::Email)
                .collect();
            let list = super::mail::contact_list(
                l,
                &emails,
                &csrf_field(&who.session),
                &format!("/my/companies/{tin}/forwarding"),
                (
                    ContactKind::Email,
                    "forwarding-add-email",
                    "email",
                    "forwarding-email-hint",
                ),
            );
            // Several companies on one page: the form's element ids carry the TIN.
            s.push_str(&list.replace("\"new-email", &format!("\"c{tin}-new-email")));
        }
        Err(e) => s.push_str(&super::mail::coded(l, &e)),
    }
    s.push_str("</section>");
    s
}

/// `GET /my/companies`
pub(crate) async fn list(State(state): State<AppState>, req: Request) -> Response {
    let (l, who) = match super::viewer(&state, req.uri(), req.headers()).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let page = Page::new(l, tr(l, "companies-title"))
        .session(&who.session)
        .here(req.uri());
    let roles = match state.0.config.registries.roles(who.session.psn).await {
        Ok(r) => r,
        Err(e) => {
            return page
                .status(super::code_status(e.code))
                .main(format!(
                    "<p>{}</p>{}",
                    esc(&tr(l, "companies-intro")),
                    super::coded_html(l, e.code)
                ))
                .render();
        }
    };
    let mut by_company: BTreeMap<String, Vec<CompanyRole>> = BTreeMap::new();
    for r in roles {
        by_company.entry(r.tin.clone()).or_default().push(r);
    }
    let mut main = format!("<p>{}</p>", esc(&tr(l, "companies-intro")));
    if by_company.is_empty() {
        main.push_str(&format!("<p>{}</p>", esc(&tr(l, "companies-none"))));
    }
    for (tin, roles) in &by_company {
        if let Ok(tin) = Tin::parse(tin) {
            main.push_str(&section(&state, &who, l, tin, roles, ON_LIST).await);
        }
    }
    page.main(main).render()
}

/// The page of one company, with a message on top (a confirmation or a coded refusal).
async fn company_page(
    state: &AppState,
    who: &Citizen,
    l: Lang,
    uri: &Uri,
    (tin, roles): (Tin, Vec<CompanyRole>),
    status: StatusCode,
    top: String,
) -> Response {
    let title = roles
        .first()
        .map(|r| company_name(l, r).to_string())
        .unwrap_or_default();
    let body = section(state, who, l, tin, &roles, ON_PAGE).await;
    Page::new(l, title)
        .session(&who.session)
        .here(uri)
        .status(status)
        .main(format!(
            "{top}{body}<p><a href=\"/my/companies\">{}</a></p>",
            esc(&tr(l, "companies-title"))
        ))
        .render()
}

/// `GET /my/companies/{tin}[?done=…]`
pub(crate) async fn one(
    State(state): State<AppState>,
    Path(tin): Path<String>,
    req: Request,
) -> Response {
    let (l, who) = match super::viewer(&state, req.uri(), req.headers()).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let held = match holding(&state, &who, &tin).await {
        Ok(h) => h,
        Err(e) => {
            return refused(
                Page::new(l, tr(l, "companies-title"))
                    .session(&who.session)
                    .here(req.uri()),
                l,
                &e,
            );
        }
    };
    let top = match param(req.uri(), "done").as_deref() {
        Some(d @ ("added-email" | "resent" | "replaced" | "removed")) => format!(
            "<p class=\"ok\" role=\"status\">{}</p>",
            esc(&tr(l, &format!("forwarding-done-{d}")))
        ),
        _ => String::new(),
    };
    company_page(&state, &who, l, req.uri(), held, StatusCode::OK, top).await
}

/// `GET /my/companies/{tin}/inbox/{id}`
pub(crate) async fn message(
    State(state): State<AppState>,
    Path((tin, id)): Path<(String, String)>,
    req: Request,
) -> Response {
    let (l, who) = match super::viewer(&state, req.uri(), req.headers()).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let page = Page::new(l, tr(l, "inbox-title"))
        .session(&who.session)
        .here(req.uri());
    let tin = match holding(&state, &who, &tin).await {
        Ok((tin, _)) => tin,
        Err(e) => return refused(page, l, &e),
    };
    let found = state
        .0
        .store
        .open_message_of(Owner::Company(tin), who.session.psn, &id)
        .await;
    super::mail::message_page(
        page,
        l,
        found,
        &format!("/my/companies/{tin}/inbox"),
        &format!("/my/companies/{tin}"),
    )
}

/// `GET /my/companies/{tin}/inbox/{id}/attachments/{n}` and `GET /my/companies/{tin}/inbox/{id}/raw` (the
/// original of official mail sent to `<TIN>@domain`, G.6): a file of the company inbox, for a person holding
/// a role in the company.
pub(crate) async fn file(
    State(state): State<AppState>,
    Path(path): Path<Vec<(String, String)>>,
    req: Request,
) -> Response {
    let (l, who) = match super::viewer(&state, req.uri(), req.headers()).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let get = |k: &str| super::path_part(&path, k);
    let page = Page::new(l, tr(l, "inbox-title")).session(&who.session);
    let tin = match holding(&state, &who, get("tin")).await {
        Ok((tin, _)) => tin,
        Err(e) => return refused(page, l, &e),
    };
    let (store, owner, id) = (&state.0.store, Owner::Company(tin), get("id"));
    if path.iter().any(|(k, _)| k == "n") {
        let found = match get("n").parse::<i64>() {
            Ok(n) => store.attachment(owner, id, n).await,
            Err(_) => Ok(None),
        };
        super::mail::attachment_answer(page, l, found)
    } else {
        let found = store.inbound_raw(owner, id).await;
        super::mail::raw_answer(page, l, id, found)
    }
}

/// `POST /my/companies/{tin}/forwarding/{action}` and `…/forwarding/{id}/{action}`
pub(crate) async fn act(
    State(state): State<AppState>,
    Path(path): Path<Vec<(String, String)>>,
    req: Request,
) -> Response {
    let posted = match super::posted(&state, req).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (l, who) = (posted.lang, &posted.who);
    let get = |k: &str| super::path_part(&path, k);
    let (tin, roles) = match holding(&state, who, get("tin")).await {
        Ok(h) => h,
        Err(e) => {
            return refused(
                Page::new(l, tr(l, "companies-title")).session(&who.session),
                l,
                &e,
            );
        }
    };
    let Some(result) = super::mail::apply(
        &state,
        Owner::Company(tin),
        get("action"),
        get("id"),
        &posted.body,
        l,
    )
    .await
    else {
        return redirect(&format!("/my/companies/{tin}"));
    };
    match result {
        Ok(done) => redirect(&format!("/my/companies/{tin}?done={done}")),
        Err(e) => {
            tracing::info!(code = %e.code(), %tin, "company forwarding settings: refused");
            let status = super::code_status(e.code());
            let top = super::mail::coded(l, &e);
            company_page(&state, who, l, &posted.uri, (tin, roles), status, top).await
        }
    }
}
