//! Employees of bodies in the browser (A1.33–34, issue 4): who is acting in the provider workspace, the
//! manager's page and the administration, for which body, and how the request proved it.
//!
//! Two ways in:
//! - **a portal session** (`psr_session`, opened once by ID card over HTTPS, Mobile ID or the demo's card
//!   chooser): the session's PSN, and the session's CSRF token guards every form;
//! - **the ID card on every request** (TLS client certificate), as before sessions existed: the CSRF guard
//!   is then the workspace's double-submit cookie.
//!
//! Either way the PSN must be an active employee (the `employees` table, read on every request) of a body
//! with the function the page needs. A person employed by several such bodies chooses one
//! (`GET /staff/body?to=ID&back=/path`, remembered in the cookie `psr_body` and checked against the
//! employees table again on every request). An employee of a body whose right is suspended (A1.55) is
//! refused with the suspension's reason from the next request on, with a `security` log line.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use popreg_domain::access::{Caller, Function};
use popreg_domain::classifiers::Lang;
use popreg_domain::{Channel, Code, ExternalIds};
use popreg_identity::TlsPeer;
use popreg_store::{Session, SessionLookup};

use crate::AppState;
use crate::portal::{
    Page, coded_html, cookie, local_path, param, redirect, set_cookie, tr, tr_args, urlencode,
};
use crate::workspace::esc;

/// The cookie that remembers which body an employee of several acts for.
pub(crate) const BODY_COOKIE: &str = "psr_body";

/// An employee acting for a body in this request.
pub(crate) struct Staff {
    /// The body, the employee's PSN as the identified user (A1.37), the employee's functions, channel `web`.
    pub caller: Caller,
    /// The body's name in the page's language.
    pub body_name: String,
    /// The portal session the request came with; `None`: identified by the ID card of this request.
    pub session: Option<Session>,
}

/// The request's portal session, if one is in force.
pub(crate) async fn session_of(state: &AppState, headers: &HeaderMap) -> Option<Session> {
    let token = cookie(headers, crate::portal::SESSION_COOKIE)?;
    match state
        .0
        .store
        .session(token, state.0.config.portal.sessions)
        .await
    {
        Ok(SessionLookup::Active(s)) => Some(s),
        Ok(_) => None,
        Err(e) => {
            tracing::error!(error = %e, "staff: session lookup failed");
            None
        }
    }
}

/// The employee of this request who holds `function` at a body, or the page that says why not: no session
/// and no card (`401`, with the way to the login page), not such an employee (`403`), the body suspended
/// (`403`, A1.55), several bodies to choose from (`200`, the chooser).
pub(crate) async fn employee(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    peer: Option<&TlsPeer>,
    lang: Lang,
    function: Function,
) -> Result<Staff, Response> {
    let session = session_of(state, headers).await;
    let psn = match &session {
        Some(s) => s.psn,
        None => match crate::whoami::identify_peer(state, peer) {
            Ok(i) => i.psn,
            Err(e) => {
                tracing::warn!(target: "security", reason = %e, "staff page: no session and no valid ID card");
                return Err(refusal(
                    lang,
                    StatusCode::UNAUTHORIZED,
                    &crate::workspace::no_card_text(lang),
                    Some(uri),
                ));
            }
        },
    };
    let store = &state.0.store;
    let unavailable = |e: popreg_store::StoreError| {
        tracing::error!(error = %e, "staff: access tables");
        refusal_html(
            lang,
            StatusCode::SERVICE_UNAVAILABLE,
            coded_html(lang, Code::StorageUnavailable),
        )
    };
    let jobs: Vec<_> = store
        .employments(psn)
        .await
        .map_err(unavailable)?
        .into_iter()
        .filter(|j| popreg_domain::access::holds(&j.functions, function))
        .collect();
    if jobs.is_empty() {
        tracing::warn!(target: "security", %psn, function = function.as_str(), "staff page: not an employee with the function");
        return Err(refusal(
            lang,
            StatusCode::FORBIDDEN,
            &crate::workspace::not_employee_text(lang, function),
            None,
        ));
    }
    let chosen = param(uri, "body")
        .or_else(|| cookie(headers, BODY_COOKIE).map(str::to_string))
        .and_then(|b| jobs.iter().position(|j| j.body_id == b));
    let job = match chosen {
        Some(i) => &jobs[i],
        None if jobs.len() == 1 || session.is_none() => &jobs[0],
        None => return Err(chooser(state, lang, uri, &jobs, session.as_ref()).await),
    };
    let Some(body) = store.body(&job.body_id).await.map_err(unavailable)? else {
        return Err(refusal_html(
            lang,
            StatusCode::SERVICE_UNAVAILABLE,
            coded_html(lang, Code::StorageCorrupt),
        ));
    };
    if let Some(s) = store
        .active_suspension(&body.id)
        .await
        .map_err(unavailable)?
    {
        tracing::warn!(
            target: "security",
            %psn,
            body = %body.id,
            suspension = s.id,
            "staff page: the employee's body is suspended (A1.55): refused"
        );
        let until = s
            .until
            .map(|u| popreg_store::armenian_date(u).to_string())
            .unwrap_or_else(|| "—".into());
        let text = tr_args(
            lang,
            "staff-suspended",
            &[
                ("body", body.id.clone().into()),
                ("date", until.into()),
                ("reason", s.reason.clone().into()),
            ],
        );
        return Err(refusal_html(
            lang,
            StatusCode::FORBIDDEN,
            format!(
                "<p class=\"err\" role=\"alert\">{}</p>{}",
                esc(&text),
                coded_html(lang, Code::BodySuspended)
            ),
        ));
    }
    let body_name = body_name(&body, lang);
    Ok(Staff {
        caller: Caller {
            body_id: body.id,
            body_type: body.body_type,
            user_uid: psn.to_string(),
            functions: job.functions.clone(),
            channel: Channel::Web,
            external: ExternalIds::default(),
        },
        body_name,
        session,
    })
}

/// The employee of this request who holds `function`, with their portal session; without a session (the ID
/// card alone) the way to log in, since the pages' forms are guarded by the session's CSRF token.
pub(crate) async fn with_session(
    state: &AppState,
    parts: &axum::http::request::Parts,
    lang: Lang,
    function: Function,
) -> Result<(Staff, Session), Response> {
    let to_login = || {
        let back = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/my");
        redirect(&format!("/login?next={}", urlencode(back)))
    };
    if session_of(state, &parts.headers).await.is_none() {
        return Err(to_login());
    }
    let staff = employee(
        state,
        &parts.uri,
        &parts.headers,
        parts.extensions.get(),
        lang,
        function,
    )
    .await?;
    match staff.session.clone() {
        Some(s) => Ok((staff, s)),
        None => Err(to_login()),
    }
}

/// The staff pages a person may open with this session, for the desk: the workspace (`submit`), the
/// manager's page (`manage_register`), the administration (`manage_access`), by their employments in force;
/// nothing for a person who is no employee.
pub(crate) async fn desk_links(state: &AppState, psn: popreg_domain::Psn, lang: Lang) -> String {
    let jobs = state.0.store.employments(psn).await.unwrap_or_default();
    let mut items = String::new();
    for (f, href, title) in [
        (Function::Submit, "/workspace", "staff-link-workspace"),
        (Function::ManageRegister, "/manage", "staff-link-manage"),
        (Function::ManageAccess, "/admin", "staff-link-admin"),
        (
            Function::StaffAppointments,
            "/appointments/staff",
            "staff-link-appointments",
        ),
    ] {
        if jobs
            .iter()
            .any(|j| popreg_domain::access::holds(&j.functions, f))
        {
            items.push_str(&format!(
                "<li><a href=\"{href}?lang={}\">{}</a></li>",
                lang.as_str(),
                esc(&tr(lang, title))
            ));
        }
    }
    if items.is_empty() {
        return items;
    }
    format!(
        "<section aria-labelledby=\"staff\"><h2 id=\"staff\">{}</h2><ul>{items}</ul></section>",
        esc(&tr(lang, "staff-links-title"))
    )
}

/// A body's name in `lang`.
pub(crate) fn body_name(b: &popreg_store::Body, lang: Lang) -> String {
    match lang {
        Lang::Hy => b.name_hy.clone(),
        Lang::En => b.name_en.clone(),
        Lang::Ru => b.name_ru.clone(),
    }
}

fn refusal(lang: Lang, status: StatusCode, text: &str, login_back: Option<&Uri>) -> Response {
    let mut main = format!("<p class=\"err\" role=\"alert\">{}</p>", esc(text));
    if let Some(uri) = login_back {
        let back = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        main.push_str(&format!(
            "<p><a href=\"/login?next={}\">{}</a></p>",
            esc(&urlencode(back)),
            esc(&tr(lang, "staff-login"))
        ));
    }
    refusal_html(lang, status, main)
}

fn refusal_html(lang: Lang, status: StatusCode, main: String) -> Response {
    Page::new(lang, tr(lang, "staff-title"))
        .status(status)
        .main(main)
        .render()
}

/// The page that lets an employee of several bodies choose the one to act for.
async fn chooser(
    state: &AppState,
    lang: Lang,
    uri: &Uri,
    jobs: &[popreg_store::Employee],
    session: Option<&Session>,
) -> Response {
    let back = uri.path().to_string();
    let mut items = String::new();
    for j in jobs {
        let name = match state.0.store.body(&j.body_id).await {
            Ok(Some(b)) => body_name(&b, lang),
            _ => j.body_id.clone(),
        };
        items.push_str(&format!(
            "<li><a href=\"/staff/body?to={id}&amp;back={back}\">{name}</a> ({id})</li>",
            id = esc(&j.body_id),
            back = esc(&urlencode(&back)),
            name = esc(&name),
        ));
    }
    let main = format!(
        "<p>{}</p><ul>{items}</ul>",
        esc(&tr(lang, "staff-choose-intro"))
    );
    let mut page = Page::new(lang, tr(lang, "staff-choose-title"))
        .here(uri)
        .main(main);
    if let Some(s) = session {
        page = page.session(s);
    }
    page.render()
}

/// `GET /staff/body?to=ID&back=/path`: act for body `ID` from now on (remembered in a cookie; whether the
/// person is that body's employee is checked on every request, not here).
pub(crate) async fn choose_body(State(state): State<AppState>, req: Request) -> Response {
    let uri = req.uri();
    let back = local_path(param(uri, "back").as_deref());
    let mut r = redirect(&back);
    let to = param(uri, "to").filter(|t| {
        !t.is_empty()
            && t.len() <= 32
            && t.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
    });
    if let Some(to) = to {
        let secure = if state.0.config.portal.secure_cookies {
            "; Secure"
        } else {
            ""
        };
        set_cookie(
            &mut r,
            &format!("{BODY_COOKIE}={to}; Path=/; HttpOnly; SameSite=Lax{secure}"),
        );
    }
    r
}

/// Whether a staff form is genuine: with a session, the session's CSRF token and this origin; with the card
/// alone, the double-submit cookie equal to the form's field.
pub(crate) fn form_genuine(staff: &Staff, headers: &HeaderMap, sent: &str) -> bool {
    match &staff.session {
        Some(s) => {
            crate::portal::same_origin(headers) && crate::portal::tokens_equal(sent, &s.csrf)
        }
        None => {
            let cookie = crate::workspace::cookie_token(headers).unwrap_or_default();
            !cookie.is_empty() && crate::portal::tokens_equal(&cookie, sent)
        }
    }
}
