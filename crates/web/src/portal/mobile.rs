//! Mobile ID in the portal (issue 4 §3, G.2m): the person's devices with a "Revoke" form each, the
//! "Generate" button for an enrolment code (shown once), and the login by phone — the login page's form
//! starts it, the waiting page shows the verification code and refreshes itself (no JavaScript) until the
//! phone approved, then opens the session. The app's side is `crate::mobile_id` (`/api/v1/mobile-id/…`).

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use popreg_domain::Psn;
use popreg_domain::classifiers::Lang;
use popreg_store::{EnrolmentCode, LoginMethod, MobileLoginState, Session};

use super::data::{failed, local};
use super::{
    Page, citizen, cookie, csrf_field, forged, form_field, lang, local_path, redirect, same_origin,
    set_cookie, tr, tr_args, urlencode,
};
use crate::AppState;
use crate::workspace::esc;

/// The cookie of a browser waiting for the phone: the login's token (only its hash is kept).
const WAIT_COOKIE: &str = "psr_mobile_login";
/// Seconds between the waiting page's reloads.
const REFRESH_SECS: u32 = 3;

async fn body(req: Request) -> (axum::http::request::Parts, axum::body::Bytes) {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 16 * 1024)
        .await
        .unwrap_or_default();
    (parts, body)
}

/// The person of a form's POST, after the session and CSRF checks; else the answer to give instead.
async fn genuine_post(state: &AppState, req: Request) -> Result<(Lang, super::Citizen), Response> {
    let l = lang(req.uri(), req.headers());
    let who = citizen(state, req.uri(), req.headers()).await?;
    let (parts, body) = body(req).await;
    match forged(&parts.headers, &who.session, &body, l) {
        Some(r) => Err(r),
        None => Ok((l, who)),
    }
}

/// The devices page, with a new code when one was just generated.
async fn devices_page(
    state: &AppState,
    l: Lang,
    session: &Session,
    code: Option<EnrolmentCode>,
    message: Option<(&str, String)>,
) -> Response {
    let devices = match state.0.store.devices_of(session.psn).await {
        Ok(d) => d,
        Err(e) => return failed(l, e),
    };
    let mut main = format!("<p>{}</p>", esc(&tr(l, "mobile-intro")));
    if let Some((class, text)) = message {
        main.push_str(&format!(
            "<p class=\"{class}\" role=\"status\">{}</p>",
            esc(&text)
        ));
    }
    if let Some(c) = code {
        main.push_str(&format!(
            "<section class=\"note\" aria-labelledby=\"code\"><h2 id=\"code\">{title}</h2>\
             <p><strong class=\"code\">{code}</strong></p><p>{until}</p></section>",
            title = esc(&tr(l, "mobile-code-title")),
            code = esc(&c.code),
            until = esc(&tr_args(
                l,
                "mobile-code-until",
                &[("time", local(c.expires_at).into())]
            )),
        ));
    }
    main.push_str(&format!(
        "<form method=\"post\" action=\"/my/mobile-id/code\">{csrf}<button type=\"submit\">{label}</button></form>",
        csrf = csrf_field(session),
        label = esc(&tr(l, "mobile-generate")),
    ));
    if devices.is_empty() {
        main.push_str(&format!("<p>{}</p>", esc(&tr(l, "mobile-none"))));
    } else {
        main.push_str(&format!(
            "<div class=\"table-wrap\" role=\"region\" tabindex=\"0\" aria-label=\"{list}\"><table><thead><tr>\
             <th scope=\"col\">{name}</th><th scope=\"col\">{created}</th><th scope=\"col\">{used}</th>\
             <th scope=\"col\"><span class=\"skip\">{revoke}</span></th></tr></thead><tbody>",
            list = esc(&tr(l, "mobile-devices")),
            name = esc(&tr(l, "mobile-device-name")),
            created = esc(&tr(l, "mobile-device-created")),
            used = esc(&tr(l, "mobile-device-used")),
            revoke = esc(&tr(l, "mobile-revoke")),
        ));
        for d in &devices {
            main.push_str(&format!(
                "<tr><td>{name}</td><td>{created}</td><td>{used}</td><td><form method=\"post\" \
                 action=\"/my/mobile-id/{id}/revoke\">{csrf}<button type=\"submit\" class=\"secondary\">{revoke}</button>\
                 </form></td></tr>",
                name = esc(&d.name),
                created = esc(&local(d.created_at)),
                used = esc(&d.last_used.map(local).unwrap_or_default()),
                id = esc(&urlencode(&d.id)),
                csrf = csrf_field(session),
                revoke = esc(&tr(l, "mobile-revoke")),
            ));
        }
        main.push_str("</tbody></table></div>");
    }
    Page::new(l, tr(l, "mobile-title"))
        .session(session)
        .here_path("/my/mobile-id")
        .main(main)
        .render()
}

/// `GET /my/mobile-id`: the person's devices.
pub(crate) async fn devices(State(state): State<AppState>, req: Request) -> Response {
    let l = lang(req.uri(), req.headers());
    let who = match citizen(&state, req.uri(), req.headers()).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let message = super::param(req.uri(), "revoked").map(|_| ("ok", tr(l, "mobile-revoked")));
    devices_page(&state, l, &who.session, None, message).await
}

/// `POST /my/mobile-id/code`: a new enrolment code, shown once.
pub(crate) async fn generate(State(state): State<AppState>, req: Request) -> Response {
    let (l, who) = match genuine_post(&state, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match state.0.store.new_enrolment_code(who.session.psn).await {
        Ok(code) => devices_page(&state, l, &who.session, Some(code), None).await,
        Err(e) => failed(l, e),
    }
}

/// `POST /my/mobile-id/{id}/revoke`: revoke one of my devices.
pub(crate) async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let (l, who) = match genuine_post(&state, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match state.0.store.revoke_device(who.session.psn, &id).await {
        Ok(()) => redirect("/my/mobile-id?revoked=1"),
        Err(e) => failed(l, e),
    }
}

fn wait_cookie(state: &AppState, token: Option<&str>) -> String {
    let secure = if state.0.config.portal.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    match token {
        Some(t) => format!("{WAIT_COOKIE}={t}; Path=/login/mobile; HttpOnly; SameSite=Lax{secure}"),
        None => {
            format!("{WAIT_COOKIE}=; Path=/login/mobile; HttpOnly; SameSite=Lax; Max-Age=0{secure}")
        }
    }
}

/// `POST /login/mobile` {psn, next}: start a login by phone and wait for it.
pub(crate) async fn start(State(state): State<AppState>, req: Request) -> Response {
    let l = lang(req.uri(), req.headers());
    let (parts, body) = body(req).await;
    if !same_origin(&parts.headers) {
        return redirect("/login?error=origin");
    }
    let next = local_path(form_field(&body, "next").as_deref());
    let Some(psn) = form_field(&body, "psn").and_then(|p| p.trim().parse::<Psn>().ok()) else {
        return redirect("/login?error=mobile");
    };
    match state.0.store.start_mobile_login(psn).await {
        Ok(login) => {
            let mut r = redirect(&format!("/login/mobile/wait?next={}", urlencode(&next)));
            set_cookie(&mut r, &wait_cookie(&state, Some(&login.browser_token)));
            r
        }
        Err(e) => failed(l, e),
    }
}

/// `GET /login/mobile/wait?next=…`: the verification code, reloaded until the phone approved; then the
/// session opens.
pub(crate) async fn wait(State(state): State<AppState>, req: Request) -> Response {
    let l = lang(req.uri(), req.headers());
    let next = local_path(super::param(req.uri(), "next").as_deref());
    let token = cookie(req.headers(), WAIT_COOKIE).unwrap_or_default();
    let st = match state.0.store.mobile_login_state(token).await {
        Ok(s) => s,
        Err(e) => return failed(l, e),
    };
    match st {
        MobileLoginState::Approved(psn) => {
            let ip = req
                .extensions()
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip());
            let from = super::login::context(req.headers(), ip);
            let mut r =
                super::login::open(&state, psn, LoginMethod::MobileId, from, &next, req.headers())
                    .await;
            set_cookie(&mut r, &wait_cookie(&state, None));
            r
        }
        MobileLoginState::Waiting {
            verification,
            expires_at,
        } => Page::new(l, tr(l, "mobile-wait-title"))
            .here(req.uri())
            .refresh(REFRESH_SECS)
            .main(format!(
                "<p>{intro}</p><p class=\"note\" role=\"status\"><strong class=\"code\">{verification}</strong></p>\
                 <p>{until}</p><p><a href=\"/login\">{cancel}</a></p>",
                intro = esc(&tr(l, "mobile-wait-intro")),
                verification = esc(&verification),
                until = esc(&tr_args(l, "mobile-wait-until", &[("time", local(expires_at).into())])),
                cancel = esc(&tr(l, "mobile-wait-cancel")),
            ))
            .render(),
        MobileLoginState::Ended => {
            let mut r = Page::new(l, tr(l, "mobile-wait-title"))
                .status(StatusCode::GONE)
                .here(req.uri())
                .main(format!(
                    "<p class=\"err\" role=\"alert\">{}</p><p><a href=\"/login\">{}</a></p>",
                    esc(&tr(l, "mobile-wait-ended")),
                    esc(&tr(l, "nav-login")),
                ))
                .render();
            set_cookie(&mut r, &wait_cookie(&state, None));
            r
        }
    }
}
