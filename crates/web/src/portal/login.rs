//! Logging in and out (G.2, issue 4 §4): the login page with its choices, ID-card login (the certificate of
//! the TLS connection, checked against the national CA, its CRL and the clock), the demo's card chooser,
//! logout, and the language switch.

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::header::USER_AGENT;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use popreg_domain::Psn;
use popreg_domain::classifiers::Lang;
use popreg_store::{LoginContext, LoginMethod};

use super::{
    LANG_COOKIE, Page, cookie, form_field, lang, local_path, redirect, same_origin, session_cookie,
    set_cookie, tr, tr_args,
};
use crate::AppState;
use crate::workspace::esc;

use super::param as query_param;

/// `GET /login?next=…&ended=idle|absolute|logout`: the ways in, and why the person is here.
pub(crate) async fn page(State(state): State<AppState>, req: Request) -> Response {
    let l = lang(req.uri(), req.headers());
    let cfg = &state.0.config.portal;
    let next = local_path(query_param(req.uri(), "next").as_deref());
    let mut main = String::new();
    let limits = cfg.sessions;
    match query_param(req.uri(), "ended").as_deref() {
        Some("idle") => main.push_str(&note(&tr_args(
            l,
            "login-ended-idle",
            &[("minutes", limits.idle.num_minutes().into())],
        ))),
        Some("absolute") => main.push_str(&note(&tr_args(
            l,
            "login-ended-absolute",
            &[("hours", limits.absolute.num_hours().into())],
        ))),
        Some("logout") => main.push_str(&note(&tr(l, "login-ended-logout"))),
        _ if query_param(req.uri(), "next").is_some() => {
            main.push_str(&note(&tr(l, "login-required")))
        }
        _ => {}
    }
    if let Some(reason) = query_param(req.uri(), "error") {
        let text = match reason.as_str() {
            "demo" => tr(l, "login-demo-refused"),
            "mobile" => tr(l, "login-mobile-psn"),
            "origin" => tr(l, "csrf-text"),
            _ => tr(l, "login-card-failed"),
        };
        main.push_str(&format!(
            "<p class=\"err\" role=\"alert\">{}</p>",
            esc(&text)
        ));
    }
    let https = req.extensions().get::<popreg_identity::TlsPeer>().is_some();
    main.push_str(&format!(
        "<section aria-labelledby=\"card\"><h2 id=\"card\">{title}</h2><p>{intro}</p>",
        title = esc(&tr(l, "login-card-title")),
        intro = esc(&tr(l, "login-card-intro")),
    ));
    if https {
        main.push_str(&format!(
            "<form method=\"post\" action=\"/login/card\"><input type=\"hidden\" name=\"next\" value=\"{next}\">\
             <button type=\"submit\">{button}</button></form>",
            next = esc(&next),
            button = esc(&tr(l, "login-card")),
        ));
    } else {
        let text = match &cfg.card_login_url {
            Some(url) => tr_args(l, "login-card-needs-https", &[("url", url.clone().into())]),
            None => tr(l, "login-card-unavailable"),
        };
        main.push_str(&format!("<p>{}</p>", esc(&text)));
    }
    main.push_str(&format!(
        "<p><a href=\"/help\">{}</a></p></section>",
        esc(&tr(l, "login-help"))
    ));
    main.push_str(&format!(
        "<section aria-labelledby=\"mobile\"><h2 id=\"mobile\">Mobile ID</h2><p>{}</p>\
         <form method=\"post\" action=\"/login/mobile\"><input type=\"hidden\" name=\"next\" value=\"{}\">\
         <label for=\"mobile-psn\">{}</label> <input id=\"mobile-psn\" name=\"psn\" inputmode=\"numeric\" \
         autocomplete=\"off\" maxlength=\"10\" required> <button type=\"submit\">{}</button></form></section>",
        esc(&tr(l, "login-mobile-intro")),
        esc(&next),
        esc(&tr(l, "login-mobile-psn-label")),
        esc(&tr(l, "login-mobile-start")),
    ));
    if !cfg.demo_cards.is_empty() {
        main.push_str(&format!(
            "<section aria-labelledby=\"demo\" class=\"note\"><h2 id=\"demo\">{title}</h2><p>{warn}</p><ul>",
            title = esc(&tr(l, "login-demo-title")),
            warn = esc(&tr(l, "login-demo-warning")),
        ));
        for card in &cfg.demo_cards {
            main.push_str(&format!(
                "<li><form method=\"post\" action=\"/login/demo\"><input type=\"hidden\" name=\"psn\" value=\"{psn}\">\
                 <input type=\"hidden\" name=\"next\" value=\"{next}\"><button type=\"submit\" class=\"secondary\">{label}</button> \
                 <span>{psn}</span></form></li>",
                psn = card.psn,
                next = esc(&next),
                label = esc(&tr_args(l, "login-demo-as", &[("name", card.name.clone().into())])),
            ));
        }
        main.push_str("</ul></section>");
    }
    Page::new(l, tr(l, "login-title"))
        .here(req.uri())
        .main(main)
        .render()
}

fn note(text: &str) -> String {
    format!("<p class=\"note\" role=\"status\">{}</p>", esc(text))
}

pub(crate) fn context(headers: &HeaderMap, req_peer: Option<std::net::IpAddr>) -> LoginContext {
    LoginContext {
        client_ip: req_peer.map(|ip| ip.to_string()),
        user_agent: headers
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    }
}

fn peer_ip(req: &Request) -> Option<std::net::IpAddr> {
    req.extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip())
}

/// Open the session and send the person on to `next` with its cookie.
pub(crate) async fn open(
    state: &AppState,
    psn: Psn,
    method: LoginMethod,
    from: LoginContext,
    next: &str,
    headers: &HeaderMap,
) -> Response {
    let cfg = &state.0.config.portal;
    match state
        .0
        .store
        .open_session(psn, method, cfg.sessions, &from)
        .await
    {
        Ok((token, _)) => {
            let mut r = redirect(next);
            set_cookie(&mut r, &session_cookie(cfg, Some(&token)));
            r
        }
        Err(e) => crate::ApiError::from(e)
            .for_request(headers)
            .into_response(),
    }
}

/// `POST /login/card`: log in with the ID card presented in this HTTPS connection.
pub(crate) async fn card(State(state): State<AppState>, req: Request) -> Response {
    let l = lang(req.uri(), req.headers());
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 16 * 1024)
        .await
        .unwrap_or_default();
    let next = local_path(form_field(&body, "next").as_deref());
    if !same_origin(&parts.headers) {
        return redirect("/login?error=origin");
    }
    let peer = parts.extensions.get::<popreg_identity::TlsPeer>();
    match crate::whoami::identify_peer(&state, peer) {
        Ok(identity) => {
            let ip = parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip());
            open(
                &state,
                identity.psn,
                LoginMethod::IdCard,
                context(&parts.headers, ip),
                &next,
                &parts.headers,
            )
            .await
        }
        Err(e) => {
            tracing::warn!(target: "security", reason = %e, "portal: ID-card login refused");
            // A login error is answered with the explanation of what to do (G.9), not a bare error.
            Page::new(l, tr(l, "login-title"))
                .status(StatusCode::UNAUTHORIZED)
                .main(format!(
                    "<p class=\"err\" role=\"alert\">{failed}</p><p>{reason}</p><p><a href=\"/help\">{help}</a></p>\
                     <p><a href=\"/login\">{back}</a></p>",
                    failed = esc(&tr(l, "login-card-failed")),
                    reason = esc(&e.to_string()),
                    help = esc(&tr(l, "login-help")),
                    back = esc(&tr(l, "nav-login")),
                ))
                .render()
        }
    }
}

/// `POST /login/demo`: the demo's card chooser. Refused unless the server runs as `popreg demo` and the
/// person is one of its demo cards.
pub(crate) async fn demo(State(state): State<AppState>, req: Request) -> Response {
    let ip = peer_ip(&req);
    let (parts, body) = req.into_parts();
    let body: Bytes = axum::body::to_bytes(body, 16 * 1024)
        .await
        .unwrap_or_default();
    let cfg = &state.0.config.portal;
    let psn = form_field(&body, "psn").and_then(|p| p.parse::<Psn>().ok());
    let Some(psn) = psn.filter(|p| cfg.demo_cards.iter().any(|c| c.psn == *p)) else {
        tracing::warn!(target: "security", "portal: demo login refused (not a demo server or not a demo card)");
        return redirect("/login?error=demo");
    };
    if !same_origin(&parts.headers) {
        return redirect("/login?error=origin");
    }
    let next = local_path(form_field(&body, "next").as_deref());
    open(
        &state,
        psn,
        LoginMethod::DemoCard,
        context(&parts.headers, ip),
        &next,
        &parts.headers,
    )
    .await
}

/// `POST /logout`: end the session (CSRF-checked) and forget the cookie.
pub(crate) async fn logout(State(state): State<AppState>, req: Request) -> Response {
    let l = lang(req.uri(), req.headers());
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 16 * 1024)
        .await
        .unwrap_or_default();
    let who = match super::citizen(&state, &parts.uri, &parts.headers).await {
        Ok(c) => c,
        // No session in force: nothing to end.
        Err(_) => return redirect("/login?ended=logout"),
    };
    if let Some(r) = super::forged(&parts.headers, &who.session, &body, l) {
        return r;
    }
    let token = cookie(&parts.headers, super::SESSION_COOKIE).unwrap_or_default();
    if let Err(e) = state.0.store.close_session(token).await {
        return crate::ApiError::from(e)
            .for_request(&parts.headers)
            .into_response();
    }
    let mut r = redirect("/login?ended=logout");
    set_cookie(&mut r, &session_cookie(&state.0.config.portal, None));
    r
}

/// `GET /lang?to=hy|en|ru&back=/path`: remember the language (a year) and go back.
pub(crate) async fn switch_language(State(state): State<AppState>, uri: Uri) -> Response {
    let to = query_param(&uri, "to").as_deref().and_then(Lang::parse);
    let back = local_path(query_param(&uri, "back").as_deref());
    let mut r = redirect(&back);
    if let Some(l) = to {
        let secure = if state.0.config.portal.secure_cookies {
            "; Secure"
        } else {
            ""
        };
        set_cookie(
            &mut r,
            &format!(
                "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax{secure}",
                l.as_str()
            ),
        );
    }
    r
}
