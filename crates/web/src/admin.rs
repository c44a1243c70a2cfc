//! `/admin`: the administration of the Access Control System in the browser (A1.5.3, A1.33–34, A1.55), for
//! an employee whose functions include `manage_access`, logged in to the portal (a session: ID card, Mobile
//! ID or the demo's card chooser; see [`crate::staff`]).
//!
//! Bodies (type, X-Road member, contact e-mail, suspension), adding a body, suspending and lifting; per
//! body: employees (add by PSN, set functions, remove), read grants (add, revoke), API keys (issue — the key
//! is shown once on the result page — and revoke), client certificates for mutual TLS (register from PEM,
//! revoke). Every change is one call of the same store function the CLI and the API use, so it is
//! time-stamped and written to `access_events` and the audit trail in its own transaction; the actor is the
//! employee's PSN. Every POST carries the session's CSRF token and must come from this origin. A refused
//! form comes back with the reason next to the field and what was typed kept.

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::{get, post};
use chrono::NaiveDate;
use popreg_domain::access::{BodyType, Function};
use popreg_domain::classifiers::Lang;
use popreg_domain::submission::Violation;
use popreg_domain::{Code, Psn};
use popreg_store::{Body, NewAgencyCert, NewBody, Session, StoreError};

use crate::AppState;
use crate::portal::{Page, coded_html, csrf_field, redirect, tr, tr_args, urlencode};
use crate::staff::{Staff, body_name};
use crate::workspace::esc;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(home))
        .route("/admin/templates", get(crate::admin_templates::overview))
        .route(
            "/admin/templates/{name}",
            get(crate::admin_templates::template_page).post(crate::admin_templates::save_version),
        )
        .route("/admin/bodies", post(create_body))
        .route("/admin/bodies/{id}", get(body_page))
        .route("/admin/bodies/{id}/{action}", post(act))
}

/// The longest form the administration accepts (a PEM certificate with its chain fits).
const MAX_FORM: usize = 64 * 1024;

/// A refused form: which form, the field the reason belongs to, the reason, and what was typed.
struct Refused {
    form: String,
    field: String,
    message: String,
    values: Vec<(String, String)>,
}

impl Refused {
    fn new(form: &str, field: &str, message: String, values: &[(String, String)]) -> Refused {
        Refused {
            form: form.into(),
            field: field.into(),
            message,
            values: values.to_vec(),
        }
    }
}

/// The page's state: nothing refused, or one form refused.
type Form<'a> = Option<&'a Refused>;

fn value(r: Form<'_>, form: &str, name: &str) -> String {
    r.filter(|r| r.form == form)
        .and_then(|r| r.values.iter().find(|(k, _)| k == name))
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn values<'a>(r: Form<'a>, form: &str, name: &str) -> Vec<&'a str> {
    r.filter(|r| r.form == form)
        .map(|r| {
            r.values
                .iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .collect()
        })
        .unwrap_or_default()
}

/// A labelled input with its value kept and its refusal next to it.
#[allow(clippy::too_many_arguments)]
fn input(
    r: Form<'_>,
    form: &str,
    name: &str,
    label: &str,
    kind: &str,
    required: bool,
    extra: &str,
) -> String {
    let id = format!("{form}-{name}");
    let (error, aria) = match r.filter(|r| r.form == form && r.field == name) {
        Some(r) => (
            format!("<p class=\"err\" id=\"{id}-error\">{}</p>", esc(&r.message)),
            format!(" aria-invalid=\"true\" aria-describedby=\"{id}-error\""),
        ),
        None => (String::new(), String::new()),
    };
    let req = if required { " required" } else { "" };
    // One `aria-describedby` naming both a hint (given in `extra`) and the refusal.
    let (extra, aria) = match extra.split_once(" aria-describedby=\"") {
        Some((before, after)) if !aria.is_empty() => (
            format!(
                "{before}{}",
                after.split_once('"').map(|x| x.1).unwrap_or("")
            ),
            aria.replacen(
                "aria-describedby=\"",
                &format!(
                    "aria-describedby=\"{} ",
                    after.split('"').next().unwrap_or("")
                ),
                1,
            ),
        ),
        _ => (extra.to_string(), aria),
    };
    let field = if kind == "textarea" {
        format!(
            "<textarea id=\"{id}\" name=\"{name}\" rows=\"8\" cols=\"64\"{req}{aria}{extra}>{}</textarea>",
            esc(&value(r, form, name))
        )
    } else {
        format!(
            "<input type=\"{kind}\" id=\"{id}\" name=\"{name}\" value=\"{}\"{req}{aria}{extra}>",
            esc(&value(r, form, name))
        )
    };
    format!(
        "<p><label for=\"{id}\">{}{}</label><br>{field}</p>{error}",
        esc(label),
        if required { " *" } else { "" },
    )
}

/// The refusal of the whole form (not of one field), if it is this form's.
fn form_error(r: Form<'_>, form: &str) -> String {
    match r.filter(|r| r.form == form && r.field.is_empty()) {
        Some(r) => format!("<p class=\"err\" role=\"alert\">{}</p>", esc(&r.message)),
        None => String::new(),
    }
}

/// Check boxes for the functions, `checked` ticked (or, on a refused form, what was ticked).
fn function_boxes(l: Lang, r: Form<'_>, form: &str, checked: &[Function]) -> String {
    let kept = values(r, form, "functions");
    let refused_here = r.is_some_and(|r| r.form == form);
    let mut out = format!(
        "<fieldset id=\"{form}-functions\"><legend>{}</legend>",
        esc(&tr(l, "admin-col-functions"))
    );
    for f in Function::ALL {
        let on = if refused_here {
            kept.contains(&f.as_str())
        } else {
            checked.contains(f)
        };
        out.push_str(&format!(
            "<label style=\"display:block;font-weight:normal\"><input type=\"checkbox\" name=\"functions\" value=\"{v}\"{c}> {t} (<code>{v}</code>)</label>",
            v = f.as_str(),
            c = if on { " checked" } else { "" },
            t = esc(&function_name(l, *f)),
        ));
    }
    out.push_str("</fieldset>");
    if let Some(r) = r.filter(|r| r.form == form && r.field == "functions") {
        out.push_str(&format!(
            "<p class=\"err\" id=\"{form}-functions-error\">{}</p>",
            esc(&r.message)
        ));
    }
    out
}

pub(crate) fn function_name(l: Lang, f: Function) -> String {
    tr(l, &format!("admin-fn-{}", f.as_str()))
}

fn type_name(l: Lang, t: BodyType) -> String {
    tr(l, &format!("admin-type-{}", t.as_str()))
}

fn functions_text(l: Lang, fs: &[Function]) -> String {
    fs.iter()
        .map(|f| esc(&function_name(l, *f)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A store refusal in the page's language: the code's title and code, and the detail on English pages.
fn store_message(l: Lang, e: &StoreError) -> String {
    let detail = match e {
        StoreError::Domain(d) => d.detail.clone(),
        other => other.to_string(),
    };
    crate::workspace::message(l, &Violation::new(e.code(), "", detail))
}

/// The employee of this request with `manage_access`, with their portal session; without a session (the
/// ID card alone), the way to log in.
pub(crate) async fn admin(
    state: &AppState,
    parts: &Parts,
    l: Lang,
) -> Result<(Staff, Session), Response> {
    crate::staff::with_session(state, parts, l, Function::ManageAccess).await
}

pub(crate) fn page<'a>(
    l: Lang,
    title: String,
    session: &'a Session,
    here: &str,
    main: String,
) -> Page<'a> {
    Page::new(l, title)
        .session(session)
        .here_path(here)
        .main(main)
}

/// A 404 page of the administration: `message` (a message id) and the way back to `here` (labelled `back`).
pub(crate) fn not_found(
    l: Lang,
    session: &Session,
    here: &str,
    message: &str,
    back: &str,
) -> Response {
    let title = if here == "/admin" {
        "admin-title"
    } else {
        "admin-templates"
    };
    page(
        l,
        tr(l, title),
        session,
        here,
        format!(
            "<p class=\"err\" role=\"alert\">{}</p><p><a href=\"{here}?lang={}\">{}</a></p>",
            esc(&tr(l, message)),
            l.as_str(),
            esc(&tr(l, back))
        ),
    )
    .status(StatusCode::NOT_FOUND)
    .render()
}

pub(crate) fn unavailable(l: Lang, session: &Session, e: StoreError) -> Response {
    tracing::error!(error = %e, "admin: store");
    page(
        l,
        tr(l, "admin-title"),
        session,
        "/admin",
        coded_html(l, e.code()),
    )
    .status(crate::portal::code_status(e.code()))
    .render()
}

/// `GET /admin`: the bodies and the form to add one.
async fn home(State(state): State<AppState>, req: Request) -> Response {
    let l = crate::portal::lang(req.uri(), req.headers());
    let (parts, _) = req.into_parts();
    let (_, session) = match admin(&state, &parts, l).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let done = crate::portal::param(&parts.uri, "done").is_some();
    bodies_page(&state, l, &session, None, done, StatusCode::OK).await
}

async fn bodies_page(
    state: &AppState,
    l: Lang,
    session: &Session,
    refused: Form<'_>,
    done: bool,
    status: StatusCode,
) -> Response {
    let store = &state.0.store;
    let (bodies, suspensions) = match (store.bodies().await, store.suspensions().await) {
        (Ok(b), Ok(s)) => (b, s),
        (Err(e), _) | (_, Err(e)) => return unavailable(l, session, e),
    };
    let mut main = String::new();
    if done {
        main.push_str(&done_note(l));
    }
    main.push_str(&format!(
        "<section aria-labelledby=\"bodies\"><h2 id=\"bodies\">{}</h2><div class=\"table-wrap\"><table><thead><tr>\
         <th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th>\
         <th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
        esc(&tr(l, "admin-bodies")),
        esc(&tr(l, "admin-col-id")),
        esc(&tr(l, "admin-col-name")),
        esc(&tr(l, "admin-col-type")),
        esc(&tr(l, "admin-col-xroad")),
        esc(&tr(l, "admin-col-email")),
        esc(&tr(l, "admin-col-state")),
    ));
    for b in &bodies {
        let state_text = match suspensions.iter().find(|s| s.body_id == b.id) {
            Some(s) => format!(
                "<span class=\"err\">{}</span>",
                esc(&tr_args(
                    l,
                    "admin-state-suspended",
                    &[("date", day(s.since).into())]
                ))
            ),
            None => esc(&tr(l, "admin-state-active")),
        };
        main.push_str(&format!(
            "<tr><td><a href=\"/admin/bodies/{id}?lang={lang}\">{id}</a></td><td>{name}</td><td>{ty}</td>\
             <td>{xr}</td><td>{mail}</td><td>{state_text}</td></tr>",
            id = esc(&b.id),
            lang = l.as_str(),
            name = esc(&body_name(b, l)),
            ty = esc(&type_name(l, b.body_type)),
            xr = esc(b.xroad_member.as_deref().unwrap_or("—")),
            mail = esc(b.contact_email.as_deref().unwrap_or("—")),
        ));
    }
    main.push_str("</tbody></table></div></section>");
    // The form to add a body.
    let f = "body";
    let mut types = String::new();
    let chosen = value(refused, f, "body_type");
    for t in BodyType::ALL {
        types.push_str(&format!(
            "<option value=\"{v}\"{s}>{n}</option>",
            v = t.as_str(),
            s = if chosen == t.as_str() {
                " selected"
            } else {
                ""
            },
            n = esc(&type_name(l, *t)),
        ));
    }
    let type_error = match refused.filter(|r| r.form == f && r.field == "body_type") {
        Some(r) => format!("<p class=\"err\">{}</p>", esc(&r.message)),
        None => String::new(),
    };
    main.push_str(&format!(
        "<section aria-labelledby=\"add-body\"><h2 id=\"add-body\">{title}</h2>{ferr}\
         <form method=\"post\" action=\"/admin/bodies?lang={lang}\">{csrf}{id}\
         <p><label for=\"body-body_type\">{tlabel} *</label><br><select id=\"body-body_type\" name=\"body_type\" required>{types}</select></p>{type_error}\
         {hy}{en}{ru}{xr}{mail}<button type=\"submit\">{add}</button></form></section>",
        title = esc(&tr(l, "admin-add-body")),
        ferr = form_error(refused, f),
        lang = l.as_str(),
        csrf = csrf_field(session),
        id = input(refused, f, "id", &tr(l, "admin-col-id"), "text", true, " maxlength=\"32\" autocomplete=\"off\""),
        tlabel = esc(&tr(l, "admin-col-type")),
        hy = input(refused, f, "name_hy", &tr(l, "admin-name-hy"), "text", true, " maxlength=\"200\" lang=\"hy\""),
        en = input(refused, f, "name_en", &tr(l, "admin-name-en"), "text", true, " maxlength=\"200\" lang=\"en\""),
        ru = input(refused, f, "name_ru", &tr(l, "admin-name-ru"), "text", true, " maxlength=\"200\" lang=\"ru\""),
        xr = input(refused, f, "xroad_member", &tr(l, "admin-col-xroad"), "text", false, " maxlength=\"200\""),
        mail = input(refused, f, "contact_email", &tr(l, "admin-col-email"), "email", false, " maxlength=\"200\""),
        add = esc(&tr(l, "admin-add")),
    ));
    main.push_str(&format!(
        "<p><a href=\"/admin/templates?lang={}\">{}</a></p>",
        l.as_str(),
        esc(&tr(l, "admin-templates"))
    ));
    page(l, tr(l, "admin-title"), session, "/admin", main)
        .status(status)
        .render()
}

fn done_note(l: Lang) -> String {
    format!(
        "<p class=\"ok\" role=\"status\">{}</p>",
        esc(&tr(l, "admin-done"))
    )
}

fn day(t: chrono::DateTime<chrono::Utc>) -> String {
    popreg_store::armenian_date(t).to_string()
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
        .unwrap_or("")
}

/// The checked functions of a form, or the reason to refuse it.
fn checked_functions(l: Lang, form: &[(String, String)]) -> Result<Vec<Function>, String> {
    let fs: Vec<Function> = form
        .iter()
        .filter(|(k, _)| k == "functions")
        .filter_map(|(_, v)| Function::parse(v))
        .collect();
    if fs.is_empty() {
        Err(tr(l, "admin-functions-required"))
    } else {
        Ok(fs)
    }
}

/// An optional date field (`YYYY-MM-DD`), or the reason to refuse it.
fn optional_date(l: Lang, s: &str) -> Result<Option<NaiveDate>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| tr(l, "admin-date-invalid"))
}

/// A checked form of the administration: the employee, the session, the language and the fields; or the
/// answer (log in, refused, forged).
pub(crate) async fn posted(
    state: &AppState,
    req: Request,
) -> Result<(Staff, Session, Lang, Vec<(String, String)>), Response> {
    let l = crate::portal::lang(req.uri(), req.headers());
    let (parts, body) = req.into_parts();
    let (staff, session) = admin(state, &parts, l).await?;
    let body = axum::body::to_bytes(body, MAX_FORM)
        .await
        .unwrap_or_default();
    if let Some(r) = crate::portal::forged(&parts.headers, &session, &body, l) {
        return Err(r);
    }
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    Ok((staff, session, l, form))
}

/// `POST /admin/bodies`: add a body.
async fn create_body(State(state): State<AppState>, req: Request) -> Response {
    let (staff, session, l, form) = match posted(&state, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let f = "body";
    let refuse = |fieldname: &str, message: String| Refused::new(f, fieldname, message, &form);
    let mut refused = None;
    for name in ["id", "name_hy", "name_en", "name_ru"] {
        if field(&form, name).is_empty() && refused.is_none() {
            refused = Some(refuse(name, tr(l, "admin-field-required")));
        }
    }
    let body_type = BodyType::parse(field(&form, "body_type"));
    if body_type.is_none() && refused.is_none() {
        refused = Some(refuse("body_type", tr(l, "admin-field-required")));
    }
    if refused.is_none()
        && let Some(t) = body_type
    {
        let opt = |n: &str| Some(field(&form, n).to_string()).filter(|s| !s.is_empty());
        let new = NewBody {
            id: field(&form, "id").to_string(),
            body_type: t,
            name_hy: field(&form, "name_hy").to_string(),
            name_en: field(&form, "name_en").to_string(),
            name_ru: field(&form, "name_ru").to_string(),
            xroad_member: opt("xroad_member"),
            contact_email: opt("contact_email"),
        };
        match state
            .0
            .store
            .create_body(&staff.caller.user_uid, &new)
            .await
        {
            Ok(b) => {
                tracing::info!(target: "audit", body = %b.id, by = %staff.caller.user_uid, "admin: body created");
                return redirect(&format!(
                    "/admin/bodies/{}?lang={}&done=1",
                    urlencode(&b.id),
                    l.as_str()
                ));
            }
            Err(e @ StoreError::Domain(_)) => {
                let d = e.to_string();
                // A conflict names the id or the member, whichever is taken: shown at the id.
                let name = if e.code() == Code::AccessConflict {
                    "id"
                } else if d.contains("X-Road") {
                    "xroad_member"
                } else if d.contains("e-mail") {
                    "contact_email"
                } else if d.contains("name (") {
                    "name_hy"
                } else {
                    "id"
                };
                refused = Some(refuse(name, store_message(l, &e)));
            }
            Err(e) => return unavailable(l, &session, e),
        }
    }
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    bodies_page(&state, l, &session, refused.as_ref(), false, status).await
}

/// `GET /admin/bodies/{id}`: one body's suspension, employees, grants, keys and certificates.
async fn body_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let l = crate::portal::lang(req.uri(), req.headers());
    let (parts, _) = req.into_parts();
    let (_, session) = match admin(&state, &parts, l).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let done = crate::portal::param(&parts.uri, "done").is_some();
    render_body(&state, l, &session, &id, None, done, StatusCode::OK).await
}

/// One section of a body's page: heading, table head (message ids; "" for an empty head), rows, and the
/// form after it.
fn section(l: Lang, id: &str, title: &str, heads: &[&str], rows: &str, after: &str) -> String {
    let head: String = heads
        .iter()
        .map(|h| match *h {
            "" => "<th scope=\"col\"></th>".to_string(),
            h => format!("<th scope=\"col\">{}</th>", esc(&tr(l, h))),
        })
        .collect();
    let table = if rows.is_empty() {
        format!("<p>{}</p>", esc(&tr(l, "admin-none")))
    } else {
        format!(
            "<div class=\"table-wrap\"><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>"
        )
    };
    format!(
        "<section aria-labelledby=\"{id}\"><h2 id=\"{id}\">{}</h2>{table}{after}</section>",
        esc(&tr(l, title))
    )
}

/// A one-button form for an action on one item (revoke, remove, lift).
fn button_form(
    l: Lang,
    session: &Session,
    body: &str,
    action: &str,
    item_field: &str,
    item: &str,
    label: &str,
) -> String {
    format!(
        "<form method=\"post\" action=\"/admin/bodies/{b}/{action}?lang={lang}\">{csrf}\
         <input type=\"hidden\" name=\"{item_field}\" value=\"{item}\">\
         <button type=\"submit\" class=\"secondary\" aria-label=\"{label} {item}\">{label}</button></form>",
        b = esc(body),
        lang = l.as_str(),
        csrf = csrf_field(session),
        item = esc(item),
        label = esc(label),
    )
}

/// The revoke button of an item in force; nothing for a revoked one.
fn revoke_cell(
    l: Lang,
    session: &Session,
    body: &str,
    action: &str,
    item_field: &str,
    item: &str,
    in_force: bool,
) -> String {
    if in_force {
        button_form(
            l,
            session,
            body,
            action,
            item_field,
            item,
            &tr(l, "admin-revoke"),
        )
    } else {
        String::new()
    }
}

fn form_open(l: Lang, session: &Session, body: &str, action: &str) -> String {
    format!(
        "<form method=\"post\" action=\"/admin/bodies/{}/{action}?lang={}\">{}",
        esc(body),
        l.as_str(),
        csrf_field(session)
    )
}

#[allow(clippy::too_many_arguments)]
async fn render_body(
    state: &AppState,
    l: Lang,
    session: &Session,
    id: &str,
    refused: Form<'_>,
    done: bool,
    status: StatusCode,
) -> Response {
    let store = &state.0.store;
    let body = match store.body(id).await {
        Ok(Some(b)) => b,
        Ok(None) => {
            return not_found(l, session, "/admin", "admin-unknown-body", "admin-back");
        }
        Err(e) => return unavailable(l, session, e),
    };
    let loaded = (
        store.active_suspension(id).await,
        store.employees(id).await,
        store.grants(id).await,
        store.api_keys(id).await,
        store.agency_certs(id).await,
    );
    let (suspension, employees, grants, keys, certs) = match loaded {
        (Ok(a), Ok(b), Ok(c), Ok(d), Ok(e)) => (a, b, c, d, e),
        (Err(e), ..) | (_, Err(e), ..) | (_, _, Err(e), ..) | (.., Err(e), _) | (.., Err(e)) => {
            return unavailable(l, session, e);
        }
    };
    let mut main = format!(
        "<p><a href=\"/admin?lang={}\">{}</a></p>",
        l.as_str(),
        esc(&tr(l, "admin-back"))
    );
    if done {
        main.push_str(&done_note(l));
    }
    main.push_str(&body_summary(l, &body));
    main.push_str(&suspension_section(
        l,
        session,
        &body,
        suspension.as_ref(),
        refused,
    ));
    // Employees.
    let mut rows = String::new();
    for e in &employees {
        let psn = e.psn.to_string();
        let actions = if e.until.is_none() {
            let f = format!("functions-{psn}");
            format!(
                "<details{open_attr}><summary>{change}</summary>{open}<input type=\"hidden\" name=\"psn\" value=\"{psn}\">{boxes}\
                 <button type=\"submit\">{save}</button></form></details>{remove}",
                open_attr = if refused.is_some_and(|r| r.form == f) {
                    " open"
                } else {
                    ""
                },
                change = esc(&tr(l, "admin-change-functions")),
                open = form_open(l, session, id, "employee-functions"),
                boxes = function_boxes(l, refused, &f, &e.functions),
                save = esc(&tr(l, "admin-set-functions")),
                remove = button_form(
                    l,
                    session,
                    id,
                    "employee-remove",
                    "psn",
                    &psn,
                    &tr(l, "admin-remove")
                ),
            )
        } else {
            String::new()
        };
        rows.push_str(&format!(
            "<tr><td>{psn}</td><td>{fs}</td><td>{since}</td><td>{until}</td><td>{actions}</td></tr>",
            fs = functions_text(l, &e.functions),
            since = day(e.since),
            until = e.until.map(day).unwrap_or_else(|| "—".into()),
        ));
    }
    let f = "employee";
    let add = format!(
        "<h3>{title}</h3>{ferr}{open}{psn}{boxes}<button type=\"submit\">{add}</button></form>",
        title = esc(&tr(l, "admin-add-employee")),
        ferr = form_error(refused, f),
        open = form_open(l, session, id, "employee-add"),
        psn = input(
            refused,
            f,
            "psn",
            &tr(l, "admin-col-psn"),
            "text",
            true,
            " inputmode=\"numeric\" pattern=\"[0-9]{10}\" maxlength=\"10\" autocomplete=\"off\""
        ),
        boxes = function_boxes(l, refused, f, &[]),
        add = esc(&tr(l, "admin-add")),
    );
    main.push_str(&section(
        l,
        "employees",
        "admin-employees",
        &[
            "admin-col-psn",
            "admin-col-functions",
            "admin-col-since",
            "admin-col-until",
            "",
        ],
        &rows,
        &add,
    ));
    // Grants.
    let mut rows = String::new();
    for g in &grants {
        let revoke = revoke_cell(
            l,
            session,
            id,
            "grant-revoke",
            "grant",
            &g.id,
            g.revoked_at.is_none(),
        );
        rows.push_str(&format!(
            "<tr><td>{gid}</td><td><code>{els}</code></td><td>{p}</td><td>{lb}</td><td>{ends}</td><td>{rev}</td><td>{revoke}</td></tr>",
            gid = esc(&g.id),
            els = esc(&g.elements.join(", ")),
            p = esc(&g.purpose),
            lb = esc(&g.legal_basis),
            ends = g.ends_on.map(|d| d.to_string()).unwrap_or_else(|| "—".into()),
            rev = g.revoked_at.map(day).unwrap_or_else(|| "—".into()),
        ));
    }
    let f = "grant";
    let known = popreg_domain::disclosure::element_names().join(", ");
    let add = format!(
        "<h3>{title}</h3>{ferr}{open}{els}<p id=\"grant-elements-hint\">{hint} <code>{known}</code></p>{purpose}{basis}{ends}\
         <button type=\"submit\">{add}</button></form>",
        title = esc(&tr(l, "admin-add-grant")),
        ferr = form_error(refused, f),
        open = form_open(l, session, id, "grant-add"),
        els = input(
            refused,
            f,
            "elements",
            &tr(l, "admin-col-elements"),
            "text",
            true,
            " aria-describedby=\"grant-elements-hint\""
        ),
        hint = esc(&tr(l, "admin-elements-hint")),
        known = esc(&known),
        purpose = input(
            refused,
            f,
            "purpose",
            &tr(l, "admin-col-purpose"),
            "text",
            true,
            " maxlength=\"200\""
        ),
        basis = input(
            refused,
            f,
            "legal_basis",
            &tr(l, "admin-col-basis"),
            "text",
            true,
            " maxlength=\"200\""
        ),
        ends = input(
            refused,
            f,
            "ends_on",
            &tr(l, "admin-col-ends"),
            "date",
            false,
            ""
        ),
        add = esc(&tr(l, "admin-add")),
    );
    main.push_str(&section(
        l,
        "grants",
        "admin-grants",
        &[
            "admin-col-id",
            "admin-col-elements",
            "admin-col-purpose",
            "admin-col-basis",
            "admin-col-ends",
            "admin-col-revoked",
            "",
        ],
        &rows,
        &add,
    ));
    // API keys.
    let mut rows = String::new();
    for k in &keys {
        let revoke = revoke_cell(
            l,
            session,
            id,
            "key-revoke",
            "key",
            &k.id,
            k.revoked_at.is_none(),
        );
        rows.push_str(&format!(
            "<tr><td>{kid}</td><td>{owner}</td><td>{fs}</td><td>{label}</td><td>{created}</td><td>{rev}</td><td>{revoke}</td></tr>",
            kid = esc(&k.id),
            owner = esc(&k.owner_uid),
            fs = functions_text(l, &k.functions),
            label = esc(&k.label),
            created = day(k.created_at),
            rev = k.revoked_at.map(day).unwrap_or_else(|| "—".into()),
        ));
    }
    let f = "key";
    let add = format!(
        "<h3>{title}</h3>{ferr}{open}{owner}{label}{boxes}<button type=\"submit\">{add}</button></form>",
        title = esc(&tr(l, "admin-issue-key")),
        ferr = form_error(refused, f),
        open = form_open(l, session, id, "key-issue"),
        owner = input(
            refused,
            f,
            "owner_uid",
            &tr(l, "admin-col-owner"),
            "text",
            true,
            " maxlength=\"200\""
        ),
        label = input(
            refused,
            f,
            "label",
            &tr(l, "admin-col-label"),
            "text",
            false,
            " maxlength=\"200\""
        ),
        boxes = function_boxes(l, refused, f, &[]),
        add = esc(&tr(l, "admin-issue-key")),
    );
    main.push_str(&section(
        l,
        "keys",
        "admin-keys",
        &[
            "admin-col-id",
            "admin-col-owner",
            "admin-col-functions",
            "admin-col-label",
            "admin-col-created",
            "admin-col-revoked",
            "",
        ],
        &rows,
        &add,
    ));
    // Client certificates.
    let mut rows = String::new();
    for c in &certs {
        let revoke = revoke_cell(
            l,
            session,
            id,
            "cert-revoke",
            "cert",
            &c.id,
            c.revoked_at.is_none(),
        );
        rows.push_str(&format!(
            "<tr><td>{cid}</td><td>{subject}<br><small>{issuer}</small></td><td>{from} — {to}</td><td><code>{fp}</code></td>\
             <td>{fs}</td><td>{rev}</td><td>{revoke}</td></tr>",
            cid = esc(&c.id),
            subject = esc(&c.subject),
            issuer = esc(&c.issuer),
            from = day(c.not_before),
            to = day(c.not_after),
            fp = esc(&c.fingerprint),
            fs = functions_text(l, &c.functions),
            rev = c.revoked_at.map(day).unwrap_or_else(|| "—".into()),
        ));
    }
    let f = "cert";
    let add = format!(
        "<h3>{title}</h3>{ferr}{open}{pem}{label}{boxes}<button type=\"submit\">{add}</button></form>",
        title = esc(&tr(l, "admin-add-cert")),
        ferr = form_error(refused, f),
        open = form_open(l, session, id, "cert-add"),
        pem = input(
            refused,
            f,
            "pem",
            &tr(l, "admin-cert-pem"),
            "textarea",
            true,
            ""
        ),
        label = input(
            refused,
            f,
            "label",
            &tr(l, "admin-col-label"),
            "text",
            false,
            " maxlength=\"200\""
        ),
        boxes = function_boxes(l, refused, f, &[]),
        add = esc(&tr(l, "admin-add-cert")),
    );
    main.push_str(&section(
        l,
        "certs",
        "admin-certs",
        &[
            "admin-col-id",
            "admin-col-subject",
            "admin-col-valid",
            "admin-col-fingerprint",
            "admin-col-functions",
            "admin-col-revoked",
            "",
        ],
        &rows,
        &add,
    ));
    let title = format!("{} — {}", body_name(&body, l), body.id);
    page(
        l,
        title,
        session,
        &format!("/admin/bodies/{}", body.id),
        main,
    )
    .status(status)
    .render()
}

fn body_summary(l: Lang, b: &Body) -> String {
    format!(
        "<dl><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd></dl>",
        esc(&tr(l, "admin-col-id")),
        esc(&b.id),
        esc(&tr(l, "admin-col-type")),
        esc(&type_name(l, b.body_type)),
        esc(&tr(l, "admin-col-xroad")),
        esc(b.xroad_member.as_deref().unwrap_or("—")),
        esc(&tr(l, "admin-col-email")),
        esc(b.contact_email.as_deref().unwrap_or("—")),
    )
}

fn suspension_section(
    l: Lang,
    session: &Session,
    body: &Body,
    s: Option<&popreg_store::Suspension>,
    refused: Form<'_>,
) -> String {
    let inner = match s {
        Some(s) => format!(
            "<p class=\"err\">{}</p>{}",
            esc(&tr_args(
                l,
                "admin-suspended-info",
                &[
                    ("date", day(s.since).into()),
                    (
                        "until",
                        s.until.map(day).unwrap_or_else(|| "—".into()).into()
                    ),
                    ("reason", s.reason.clone().into()),
                ]
            )),
            button_form(
                l,
                session,
                &body.id,
                "lift",
                "suspension",
                &s.id.to_string(),
                &tr(l, "admin-lift")
            )
        ),
        None => {
            let f = "suspend";
            format!(
                "<p>{state}</p>{ferr}{open}{reason}{until}<button type=\"submit\">{go}</button></form>",
                state = esc(&tr(l, "admin-state-active")),
                ferr = form_error(refused, f),
                open = form_open(l, session, &body.id, "suspend"),
                reason = input(
                    refused,
                    f,
                    "reason",
                    &tr(l, "admin-reason"),
                    "text",
                    true,
                    " maxlength=\"500\""
                ),
                until = input(
                    refused,
                    f,
                    "until",
                    &tr(l, "admin-last-day"),
                    "date",
                    false,
                    ""
                ),
                go = esc(&tr(l, "admin-suspend")),
            )
        }
    };
    format!(
        "<section aria-labelledby=\"suspension\"><h2 id=\"suspension\">{}</h2>{inner}</section>",
        esc(&tr(l, "admin-suspension"))
    )
}

/// What one action did: go back to the body's page, show a page (the key, once), or refuse the form.
enum Done {
    Back,
    Show(String),
    Refuse(Refused),
}

/// The actions of `POST /admin/bodies/{id}/{action}`.
const ACTIONS: &[&str] = &[
    "suspend",
    "lift",
    "employee-add",
    "employee-functions",
    "employee-remove",
    "grant-add",
    "grant-revoke",
    "key-issue",
    "key-revoke",
    "cert-add",
    "cert-revoke",
];

/// `POST /admin/bodies/{id}/{action}`: one change to a body.
async fn act(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    req: Request,
) -> Response {
    let (staff, session, l, form) = match posted(&state, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !ACTIONS.contains(&action.as_str()) {
        return page(
            l,
            tr(l, "admin-title"),
            &session,
            "/admin",
            coded_html(l, Code::RouteNotFound),
        )
        .status(StatusCode::NOT_FOUND)
        .render();
    }
    let store = &state.0.store;
    let body = match store.body(&id).await {
        Ok(Some(b)) => b,
        Ok(None) => {
            return render_body(&state, l, &session, &id, None, false, StatusCode::NOT_FOUND).await;
        }
        Err(e) => return unavailable(l, &session, e),
    };
    let by = staff.caller.user_uid.clone();
    let done = match do_act(&state, l, &body, &action, &by, &form).await {
        Ok(d) => d,
        Err(e) => return unavailable(l, &session, e),
    };
    match done {
        Done::Back => {
            tracing::info!(target: "audit", body = %body.id, action = %action, by = %by, "admin: access changed");
            redirect(&format!(
                "/admin/bodies/{}?lang={}&done=1",
                urlencode(&body.id),
                l.as_str()
            ))
        }
        Done::Show(main) => {
            tracing::info!(target: "audit", body = %body.id, action = %action, by = %by, "admin: access changed");
            page(l, tr(l, "admin-key-issued-title"), &session, "/admin", main)
                .status(StatusCode::CREATED)
                .render()
        }
        Done::Refuse(r) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            render_body(&state, l, &session, &id, Some(&r), false, status).await
        }
    }
}

/// Carry out one action; a refusal of the form's content is `Done::Refuse`, a store outage `Err`.
async fn do_act(
    state: &AppState,
    l: Lang,
    body: &Body,
    action: &str,
    by: &str,
    form: &[(String, String)],
) -> Result<Done, StoreError> {
    let store = &state.0.store;
    let id = body.id.as_str();
    let refuse = |f: &str, name: &str, message: String| {
        Ok(Done::Refuse(Refused::new(f, name, message, form)))
    };
    // A store refusal (unknown, conflict, malformed) goes next to `name` of form `f`; an outage is an error.
    macro_rules! attempt {
        ($f:expr, $name:expr, $call:expr) => {
            match $call {
                Ok(v) => v,
                Err(e @ StoreError::Domain(_)) => return refuse($f, $name, store_message(l, &e)),
                Err(e) => return Err(e),
            }
        };
    }
    match action {
        "suspend" => {
            let reason = field(form, "reason");
            if reason.is_empty() || reason.chars().count() > 500 {
                return refuse("suspend", "reason", tr(l, "admin-field-required"));
            }
            let until = match optional_date(l, field(form, "until")) {
                Ok(d) => d.map(crate::manage::last_day_end),
                Err(m) => return refuse("suspend", "until", m),
            };
            attempt!(
                "suspend",
                "reason",
                store.suspend(id, reason, until, by).await
            );
            Ok(Done::Back)
        }
        "lift" => {
            let sid = field(form, "suspension").parse::<i64>().unwrap_or(-1);
            let mine = store
                .active_suspension(id)
                .await?
                .is_some_and(|s| s.id == sid);
            if !mine || !store.lift_suspension(sid, by).await? {
                return refuse("suspend", "", tr(l, "admin-unknown-item"));
            }
            Ok(Done::Back)
        }
        "employee-add" => {
            let Ok(psn) = field(form, "psn").parse::<Psn>() else {
                return refuse("employee", "psn", tr(l, "admin-psn-invalid"));
            };
            let fs = match checked_functions(l, form) {
                Ok(fs) => fs,
                Err(m) => return refuse("employee", "functions", m),
            };
            attempt!(
                "employee",
                "psn",
                store.add_employee(by, id, psn, &fs).await
            );
            Ok(Done::Back)
        }
        "employee-functions" | "employee-remove" => {
            let Ok(psn) = field(form, "psn").parse::<Psn>() else {
                return refuse("employee", "", tr(l, "admin-unknown-item"));
            };
            let f = format!("functions-{psn}");
            if action == "employee-remove" {
                attempt!(&f, "", store.end_employee(by, id, psn).await);
            } else {
                let fs = match checked_functions(l, form) {
                    Ok(fs) => fs,
                    Err(m) => return refuse(&f, "functions", m),
                };
                attempt!(
                    &f,
                    "functions",
                    store.set_employee_functions(by, id, psn, &fs).await
                );
            }
            Ok(Done::Back)
        }
        "grant-add" => {
            let elements: Vec<String> = field(form, "elements")
                .split([',', ' ', '\n'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            for (name, empty) in [
                ("elements", elements.is_empty()),
                ("purpose", field(form, "purpose").is_empty()),
                ("legal_basis", field(form, "legal_basis").is_empty()),
            ] {
                if empty {
                    return refuse("grant", name, tr(l, "admin-field-required"));
                }
            }
            let ends = match optional_date(l, field(form, "ends_on")) {
                Ok(d) => d,
                Err(m) => return refuse("grant", "ends_on", m),
            };
            let purpose = field(form, "purpose");
            let basis = field(form, "legal_basis");
            attempt!(
                "grant",
                "elements",
                store
                    .add_grant(by, id, &elements, purpose, basis, ends)
                    .await
            );
            Ok(Done::Back)
        }
        "key-issue" => {
            let owner = field(form, "owner_uid");
            if owner.is_empty() {
                return refuse("key", "owner_uid", tr(l, "admin-field-required"));
            }
            let fs = match checked_functions(l, form) {
                Ok(fs) => fs,
                Err(m) => return refuse("key", "functions", m),
            };
            let label = field(form, "label");
            let (key_id, key) = attempt!(
                "key",
                "owner_uid",
                store.issue_api_key(by, id, owner, &fs, label).await
            );
            Ok(Done::Show(format!(
                "<p class=\"note\" role=\"status\">{once}</p><dl><dt>{idl}</dt><dd>{kid}</dd><dt>{bl}</dt><dd>{b}</dd></dl>\
                 <p><label for=\"issued-key\">{kl}</label><br><input id=\"issued-key\" readonly value=\"{key}\" size=\"72\"></p>\
                 <p><code>X-API-Key: {key}</code></p><p><a href=\"/admin/bodies/{b}?lang={lang}\">{back}</a></p>",
                once = esc(&tr(l, "admin-key-shown-once")),
                idl = esc(&tr(l, "admin-col-id")),
                kid = esc(&key_id),
                bl = esc(&tr(l, "admin-bodies")),
                b = esc(id),
                kl = esc(&tr(l, "admin-keys")),
                key = esc(&key),
                lang = l.as_str(),
                back = esc(&body_name(body, l)),
            )))
        }
        "cert-add" => {
            let pem = field(form, "pem");
            let described = match popreg_identity::cert::describe_pem(pem.as_bytes()) {
                Ok(c) => c,
                Err(_) => return refuse("cert", "pem", tr(l, "admin-cert-invalid")),
            };
            let fs = match checked_functions(l, form) {
                Ok(fs) => fs,
                Err(m) => return refuse("cert", "functions", m),
            };
            let new = NewAgencyCert {
                fingerprint: described.fingerprint,
                subject: described.subject,
                issuer: described.issuer,
                not_before: described.not_before,
                not_after: described.not_after,
            };
            let label = field(form, "label");
            attempt!(
                "cert",
                "pem",
                store.register_agency_cert(by, id, &new, &fs, label).await
            );
            Ok(Done::Back)
        }
        "grant-revoke" | "key-revoke" | "cert-revoke" => {
            // Only an item of this body: an id from another body's page is refused.
            let (form_name, item) = match action {
                "grant-revoke" => ("grant", field(form, "grant")),
                "key-revoke" => ("key", field(form, "key")),
                _ => ("cert", field(form, "cert")),
            };
            let ours = match action {
                "grant-revoke" => store.grants(id).await?.iter().any(|g| g.id == item),
                "key-revoke" => store.api_keys(id).await?.iter().any(|k| k.id == item),
                _ => store.agency_certs(id).await?.iter().any(|c| c.id == item),
            };
            if !ours {
                return refuse(form_name, "", tr(l, "admin-unknown-item"));
            }
            match action {
                "grant-revoke" => attempt!(form_name, "", store.revoke_grant(by, item).await),
                "key-revoke" => attempt!(form_name, "", store.revoke_api_key(by, item).await),
                _ => attempt!(form_name, "", store.revoke_agency_cert(by, item).await),
            }
            Ok(Done::Back)
        }
        _ => refuse("", "", tr(l, "admin-unknown-item")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a1_33_a_refused_field_keeps_its_value_and_names_its_hint_and_reason_once() {
        let r = Refused::new(
            "grant",
            "elements",
            "bad <element>".into(),
            &[("elements".into(), "person.x\"".into())],
        );
        let html = input(
            Some(&r),
            "grant",
            "elements",
            "Data elements",
            "text",
            true,
            " aria-describedby=\"grant-elements-hint\" maxlength=\"9\"",
        );
        assert_eq!(html.matches("aria-describedby").count(), 1, "{html}");
        assert!(
            html.contains("aria-describedby=\"grant-elements-hint grant-elements-error\""),
            "{html}"
        );
        assert!(html.contains(" maxlength=\"9\""), "{html}");
        assert!(html.contains("value=\"person.x&quot;\""), "{html}");
        assert!(html.contains("<label for=\"grant-elements\">"), "{html}");
        assert!(html.contains("bad &lt;element&gt;"), "{html}");
        // Another form's refusal leaves this field empty and unmarked.
        let other = input(Some(&r), "key", "owner_uid", "Owner", "text", true, "");
        assert!(!other.contains("aria-invalid") && other.contains("value=\"\""));
    }
}
