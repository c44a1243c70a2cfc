//! The provider workspace (A1.35, the web channel): an employee logs in with their ID card (TLS client
//! certificate, G.2), is matched to the body that employs them with the `submit` function, and fills in
//! forms generated from the data-element registry — the same definition the JSON Schemas and XSDs come
//! from. A submitted form goes through the same pipeline as the API (structure, competence, suspension,
//! decision, rejection log) with channel `web` and the employee's PSN as the identified user (A1.37).
//! Refusals are shown next to the fields, in hy/en/ru, with what was typed kept.
//!
//! The ID card is an ambient credential (the browser presents it to any page), so every POST carries a
//! CSRF token: a random value in a `SameSite=Strict`, `HttpOnly`, `Secure` cookie that must equal the form's
//! hidden field (double submit).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::get;
use popreg_domain::Code;
use popreg_domain::access::Function;
use popreg_domain::classifiers::{Lang, classifiers};
use popreg_domain::elements::{self, FieldDef, KindDef, ValueDomain};
use popreg_domain::submission::Violation;
use popreg_store::{Outcome, Receipt};
use serde_json::{Map, Value};

use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/workspace", get(home))
        .route("/workspace/{kind}", get(form).post(submit))
}

const CSRF_COOKIE: &str = "psr_csrf";

pub(crate) use popreg_domain::markup::escape as esc;

struct T {
    title: &'static str,
    body: &'static str,
    kinds: &'static str,
    send: &'static str,
    accepted: &'static str,
    held: &'static str,
    rejected: &'static str,
    psn: &'static str,
    submission: &'static str,
    late: &'static str,
    no_card: &'static str,
    not_employee: &'static str,
    csrf: &'static str,
    another: &'static str,
    yes: &'static str,
}

fn t(lang: Lang) -> &'static T {
    match lang {
        Lang::Hy => &T {
            title: "Տվյալներ ներկայացնողի աշխատանքային տարածք",
            body: "Մարմին",
            kinds: "Ի՞նչ եք ներկայացնում",
            send: "Ներկայացնել",
            accepted: "Ընդունված է",
            held: "Պահված է ստուգման համար",
            rejected: "Մերժված է. ուղղեք նշված դաշտերը",
            psn: "ՀԾՀ",
            submission: "Հայտի համար",
            late: "Ներկայացված է ժամկետից ուշ",
            no_card: "Մուտք գործեք նույնականացման քարտով",
            not_employee: "Դուք գրանցված չեք որպես տվյալներ ներկայացնելու իրավունք ունեցող աշխատակից",
            csrf: "Ձևաթուղթը հնացել է. բացեք այն նորից և կրկին ուղարկեք",
            another: "Նոր հայտ",
            yes: "այո",
        },
        Lang::En => &T {
            title: "Provider workspace",
            body: "Body",
            kinds: "What are you submitting?",
            send: "Submit",
            accepted: "Accepted",
            held: "Held for review",
            rejected: "Refused: correct the fields marked below",
            psn: "PSN",
            submission: "Submission number",
            late: "Submitted after the deadline",
            no_card: "Log in with your ID card",
            not_employee: "You are not registered as an employee permitted to submit data",
            csrf: "The form has expired: open it again and resubmit",
            another: "New submission",
            yes: "yes",
        },
        Lang::Ru => &T {
            title: "Рабочее место поставщика данных",
            body: "Орган",
            kinds: "Что вы подаёте?",
            send: "Подать",
            accepted: "Принято",
            held: "Задержано для проверки",
            rejected: "Отказано: исправьте отмеченные поля",
            psn: "Номер общественных услуг",
            submission: "Номер заявки",
            late: "Подано после срока",
            no_card: "Войдите с идентификационной картой",
            not_employee: "Вы не зарегистрированы как сотрудник с правом подачи данных",
            csrf: "Форма устарела: откройте её снова и отправьте ещё раз",
            another: "Новая заявка",
            yes: "да",
        },
    }
}

pub(crate) fn page(
    lang: Lang,
    status: StatusCode,
    title: &str,
    main: &str,
    cookie: Option<&str>,
) -> Response {
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"{l}\">\n<head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t}</title><style>body{{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}\
         label{{display:block;margin-top:.8rem;font-weight:600}}input,select{{font-size:1rem;padding:.3rem;width:100%;max-width:28rem}}\
         fieldset{{margin-top:1rem}}.err{{color:#a00;font-weight:600}}.ok{{color:#060}}button{{margin-top:1.2rem;font-size:1rem;padding:.5rem 1.2rem}}\
         nav a{{margin-right:1rem}}</style></head>\n<body>\n<nav><a href=\"?lang=hy\">Հայերեն</a><a href=\"?lang=en\">English</a><a href=\"?lang=ru\">Русский</a></nav>\n\
         <h1>{t}</h1>\n{main}\n</body>\n</html>\n",
        l = lang.as_str(),
        t = esc(title),
    );
    let mut r = crate::portal::html_response(status, lang, html);
    let h = r.headers_mut();
    if let Some(token) = cookie
        && let Ok(v) = HeaderValue::from_str(&format!(
            "{CSRF_COOKIE}={token}; Path=/; HttpOnly; Secure; SameSite=Strict"
        ))
    {
        h.insert(SET_COOKIE, v);
    }
    r
}

/// The page language: `?lang=` first, then `Accept-Language`.
pub(crate) fn lang_of(req_uri: &axum::http::Uri, headers: &HeaderMap) -> Lang {
    req_uri
        .query()
        .and_then(|q| q.split('&').find_map(|p| p.strip_prefix("lang=")))
        .and_then(Lang::parse)
        .unwrap_or_else(|| crate::negotiate::language(headers))
}

/// "Log in with your ID card", in `lang`.
pub(crate) fn no_card_text(lang: Lang) -> String {
    t(lang).no_card.to_string()
}

/// Why a person who is no employee with `function` is refused, in `lang`.
pub(crate) fn not_employee_text(lang: Lang, function: Function) -> String {
    match function {
        Function::Submit => t(lang).not_employee.to_string(),
        _ => crate::portal::tr(lang, "staff-not-permitted"),
    }
}

pub(crate) fn new_token() -> String {
    let mut b = [0u8; 24];
    if getrandom::fill(&mut b).is_err() {
        return String::new();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub(crate) fn cookie_token(headers: &HeaderMap) -> Option<String> {
    crate::portal::cookie(headers, CSRF_COOKIE).map(str::to_string)
}

/// The employee of this request with the `submit` function (session or ID card, see [`crate::staff`]).
fn staff(
    state: &AppState,
    req: &Request,
    lang: Lang,
) -> impl Future<Output = Result<crate::staff::Staff, Response>> + Send + use<> {
    staff_with(state, req, lang, Function::Submit)
}

/// The employee of this request with `function`; the future holds no borrow of the request.
pub(crate) fn staff_with(
    state: &AppState,
    req: &Request,
    lang: Lang,
    function: Function,
) -> impl Future<Output = Result<crate::staff::Staff, Response>> + Send + use<> {
    let (state, uri, headers) = (state.clone(), req.uri().clone(), req.headers().clone());
    let peer = req.extensions().get::<popreg_identity::TlsPeer>().cloned();
    async move { crate::staff::employee(&state, &uri, &headers, peer.as_ref(), lang, function).await }
}

/// `GET /workspace`: what this body may submit.
async fn home(State(state): State<AppState>, req: Request) -> Response {
    let lang = lang_of(req.uri(), req.headers());
    let staff = match staff(&state, &req, lang).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (who, body_name) = (&staff.caller, &staff.body_name);
    let tx = t(lang);
    let items: String = elements::kinds()
        .iter()
        .filter(|k| k.providers.contains(&who.body_type) && who.may_submit(k.name))
        .map(|k| {
            format!(
                "<li><a href=\"/workspace/{}?lang={}\">{}</a></li>",
                k.name,
                lang.as_str(),
                esc(k.title.get(lang))
            )
        })
        .collect();
    let main = format!(
        "<p>{}: <strong>{}</strong> ({})</p>\n<h2>{}</h2>\n<ul>{items}</ul>",
        tx.body,
        esc(body_name),
        esc(&who.body_id),
        tx.kinds
    );
    page(lang, StatusCode::OK, tx.title, &main, None)
}

/// One input (or a fieldset for a composite), with its value and its errors.
pub(crate) fn field_html(
    lang: Lang,
    path: &str,
    f: &FieldDef,
    values: &Map<String, Value>,
    errors: &[Violation],
    out: &mut String,
) {
    let Some(el) = f.element() else { return };
    let label = esc(el.name.get(lang));
    let req = if f.required { " *" } else { "" };
    if let ValueDomain::Composite(name) = el.domain {
        let Some(c) = elements::composite(name) else {
            return;
        };
        out.push_str(&format!("<fieldset><legend>{label}{req}</legend>"));
        for sub in c.all_fields() {
            field_html(
                lang,
                &format!("{path}{}.", f.name),
                sub,
                values,
                errors,
                out,
            );
        }
        out.push_str("</fieldset>");
        return;
    }
    let name = format!("{path}{}", f.name);
    let value = values.get(&name).and_then(Value::as_str).unwrap_or("");
    let id = name.replace('.', "-");
    out.push_str(&format!("<label for=\"{id}\">{label}{req}</label>"));
    let required = if f.required && !path.contains('.') {
        " required"
    } else {
        ""
    };
    match el.domain {
        ValueDomain::Enumeration {
            values: choices, ..
        } => {
            out.push_str(&format!(
                "<select id=\"{id}\" name=\"{name}\"{required}><option value=\"\"></option>"
            ));
            for c in choices {
                let sel = if c.code == value { " selected" } else { "" };
                out.push_str(&format!(
                    "<option value=\"{}\"{sel}>{}</option>",
                    esc(c.code),
                    esc(c.meaning.get(lang))
                ));
            }
            out.push_str("</select>");
        }
        ValueDomain::Boolean { .. } => {
            let checked = if value == "true" { " checked" } else { "" };
            out.push_str(&format!(
                "<input type=\"checkbox\" id=\"{id}\" name=\"{name}\" value=\"true\"{checked} style=\"width:auto\"> {}",
                t(lang).yes
            ));
        }
        _ => {
            let kind = match el.domain {
                ValueDomain::Date => "date",
                ValueDomain::Integer { .. } => "number",
                _ => "text",
            };
            let extra = match el.domain {
                ValueDomain::Psn => {
                    " inputmode=\"numeric\" pattern=\"[0-9]{10}\" maxlength=\"10\"".to_string()
                }
                ValueDomain::Text { max, .. } => format!(" maxlength=\"{max}\""),
                ValueDomain::Name => " maxlength=\"80\"".to_string(),
                _ => String::new(),
            };
            out.push_str(&format!(
                "<input type=\"{kind}\" id=\"{id}\" name=\"{name}\" value=\"{}\"{required}{extra}>",
                esc(value)
            ));
        }
    }
    for e in errors.iter().filter(|e| e.field == name) {
        out.push_str(&format!(
            "<p class=\"err\" id=\"{id}-error\">{}</p>",
            esc(&message(lang, e))
        ));
    }
}

/// A reason in the page's language: the code's title, and the developer's detail (English) on English pages.
pub(crate) fn message(lang: Lang, v: &Violation) -> String {
    let title = classifiers()
        .error_code(v.code)
        .map(|i| i.title.get(lang))
        .unwrap_or(v.code.as_str());
    match lang {
        Lang::En => format!("{} ({}): {}", title, v.code.as_str(), v.detail),
        _ => format!("{} ({})", title, v.code.as_str()),
    }
}

/// A page that explains an error code in the page's language (title, code and what to do).
pub(crate) fn error_page(lang: Lang, status: StatusCode, title: &str, code: Code) -> Response {
    let (name, explanation) = classifiers()
        .error_code(code)
        .map(|i| (i.title.get(lang), i.explanation.get(lang)))
        .unwrap_or((code.as_str(), ""));
    let main = format!(
        "<p class=\"err\" role=\"alert\">{} ({})</p><p>{}</p>",
        esc(name),
        code.as_str(),
        esc(explanation)
    );
    page(lang, status, title, &main, None)
}

fn form_html(
    lang: Lang,
    kind: &KindDef,
    values: &Map<String, Value>,
    errors: &[Violation],
    token: &str,
) -> String {
    let mut out = String::new();
    let general: Vec<&Violation> = errors
        .iter()
        .filter(|e| {
            e.field.is_empty()
                || !values.contains_key(&e.field)
                    && !kind
                        .fields
                        .iter()
                        .any(|f| e.field == f.name || e.field.starts_with(&format!("{}.", f.name)))
        })
        .collect();
    if !errors.is_empty() {
        out.push_str(&format!(
            "<p class=\"err\" role=\"alert\">{}</p>",
            t(lang).rejected
        ));
    }
    for e in general {
        out.push_str(&format!("<p class=\"err\">{}</p>", esc(&message(lang, e))));
    }
    out.push_str(&format!(
        "<form method=\"post\" action=\"/workspace/{}?lang={}\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        kind.name,
        lang.as_str(),
        esc(token)
    ));
    for f in kind.fields {
        field_html(lang, "", f, values, errors, &mut out);
    }
    out.push_str(&format!(
        "<button type=\"submit\">{}</button></form>",
        t(lang).send
    ));
    out
}

/// `GET /workspace/{kind}`: the empty form.
async fn form(State(state): State<AppState>, Path(kind): Path<String>, req: Request) -> Response {
    let lang = lang_of(req.uri(), req.headers());
    let staff = match staff(&state, &req, lang).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(def) = elements::kind(&kind).filter(|k| {
        k.providers.contains(&staff.caller.body_type) && staff.caller.may_submit(k.name)
    }) else {
        return error_page(
            lang,
            StatusCode::NOT_FOUND,
            t(lang).title,
            Code::NotCompetent,
        );
    };
    // With a session, the session's CSRF token; with the card alone, the double-submit cookie.
    let (token, set) = match &staff.session {
        Some(s) => (s.csrf.clone(), false),
        None => (
            cookie_token(req.headers())
                .filter(|c| c.len() == 48)
                .unwrap_or_else(new_token),
            true,
        ),
    };
    page(
        lang,
        StatusCode::OK,
        def.title.get(lang),
        &form_html(lang, def, &Map::new(), &[], &token),
        set.then_some(token.as_str()),
    )
}

/// The flat form (`mother.psn=…`) as the JSON value of the wire form: empty fields left out, booleans and
/// integers typed by the registry.
pub(crate) fn to_value(def: &KindDef, pairs: &[(String, String)]) -> Result<Value, Violation> {
    let mut root = Map::new();
    for (k, v) in pairs {
        let v = v.trim();
        if k == "csrf" || v.is_empty() {
            continue;
        }
        let (top, sub) = match k.split_once('.') {
            Some((a, b)) => (a, Some(b)),
            None => (k.as_str(), None),
        };
        let domain = match sub {
            None => def.field(top).and_then(|f| f.element()).map(|e| e.domain),
            Some(s) => def
                .field(top)
                .and_then(|f| f.element())
                .and_then(|e| match e.domain {
                    ValueDomain::Composite(c) => elements::composite(c),
                    _ => None,
                })
                .and_then(|c| c.all_fields().into_iter().find(|f| f.name == s))
                .and_then(|f| f.element())
                .map(|e| e.domain),
        };
        let typed = match domain {
            Some(ValueDomain::Boolean { .. }) => Value::Bool(v == "true"),
            Some(ValueDomain::Integer { .. }) => v
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::String(v.into())),
            _ => Value::String(v.into()),
        };
        let slot = match sub {
            None => &mut root,
            Some(_) => match root
                .entry(top.to_string())
                .or_insert_with(|| Value::Object(Map::new()))
            {
                Value::Object(m) => m,
                _ => {
                    return Err(Violation::new(
                        Code::DuplicateField,
                        k.clone(),
                        "given twice",
                    ));
                }
            },
        };
        let key = sub.unwrap_or(top).to_string();
        if slot.insert(key, typed).is_some() {
            return Err(Violation::new(
                Code::DuplicateField,
                k.clone(),
                "given twice",
            ));
        }
    }
    Ok(Value::Object(root))
}

/// A form's bytes and its fields (an unreadable body has no fields); over `limit` bytes, the error page.
pub(crate) async fn read_form(
    req: Request,
    limit: usize,
    title: &str,
    lang: Lang,
) -> Result<(Bytes, Vec<(String, String)>), Response> {
    let body = axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|_| {
            error_page(
                lang,
                StatusCode::PAYLOAD_TOO_LARGE,
                title,
                Code::PayloadTooLarge,
            )
        })?;
    let pairs = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    Ok((body, pairs))
}

/// `POST /workspace/{kind}`: the form through the pipeline.
async fn submit(State(state): State<AppState>, Path(kind): Path<String>, req: Request) -> Response {
    let lang = lang_of(req.uri(), req.headers());
    let staff = match staff(&state, &req, lang).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let tx = t(lang);
    let headers = req.headers().clone();
    let (body, pairs) = match read_form(req, usize::MAX, tx.title, lang).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let sent = pairs
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let token = sent.to_string();
    if !crate::staff::form_genuine(&staff, &headers, sent) {
        tracing::warn!(target: "security", body = %staff.caller.body_id, user = %staff.caller.user_uid, "workspace: CSRF token mismatch");
        return page(
            lang,
            StatusCode::FORBIDDEN,
            tx.title,
            &format!("<p class=\"err\">{}</p>", tx.csrf),
            None,
        );
    }
    let Some(def) = elements::kind(&kind) else {
        return error_page(lang, StatusCode::NOT_FOUND, tx.title, Code::UnknownKind);
    };
    let receipt = Receipt {
        kind: def.name.to_string(),
        caller: staff.caller,
        media_type: "application/x-www-form-urlencoded".into(),
        payload: body.to_vec(),
    };
    let parsed = crate::submit::competence(&receipt.caller, def.name)
        .and_then(|def| Ok((def, to_value(def, &pairs)?)))
        .map_err(|v| vec![v])
        .and_then(|(def, v)| crate::submit::decide_input(def, v));
    let result = crate::submit::record(&state, receipt, parsed).await;
    let outcome = match result {
        Ok((o, _)) => o,
        Err(e) => {
            tracing::error!(error = %e, "workspace submission failed");
            return error_page(lang, StatusCode::SERVICE_UNAVAILABLE, tx.title, e.code());
        }
    };
    // The values as typed, flat, to fill the form again.
    let flat: Map<String, Value> = pairs
        .iter()
        .filter(|(k, _)| k != "csrf")
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let again = format!(
        "<p><a href=\"/workspace/{}?lang={}\">{}</a></p>",
        def.name,
        lang.as_str(),
        tx.another
    );
    match outcome {
        Outcome::Accepted {
            submission_id,
            psn,
            late,
            ..
        } => {
            let mut main = format!(
                "<p class=\"ok\" role=\"status\">{}</p><dl><dt>{}</dt><dd>{}</dd>",
                tx.accepted,
                tx.submission,
                esc(&submission_id)
            );
            if let Some(p) = psn {
                main.push_str(&format!("<dt>{}</dt><dd id=\"psn\">{p}</dd>", tx.psn));
            }
            main.push_str("</dl>");
            if late {
                main.push_str(&format!("<p class=\"err\">{}</p>", tx.late));
            }
            main.push_str(&again);
            page(lang, StatusCode::CREATED, def.title.get(lang), &main, None)
        }
        Outcome::Held {
            submission_id,
            code,
            detail,
        } => {
            let main = format!(
                "<p role=\"status\">{}</p><p>{}</p><dl><dt>{}</dt><dd>{}</dd></dl>{again}",
                tx.held,
                esc(&message(lang, &Violation::new(code, "", detail))),
                tx.submission,
                esc(&submission_id)
            );
            page(lang, StatusCode::ACCEPTED, def.title.get(lang), &main, None)
        }
        Outcome::Rejected { errors, .. } => {
            let status = errors
                .first()
                .and_then(|e| StatusCode::from_u16(e.code.http_status()).ok())
                .unwrap_or(StatusCode::BAD_REQUEST);
            page(
                lang,
                status,
                def.title.get(lang),
                &form_html(lang, def, &flat, &errors, &token),
                None,
            )
        }
    }
}
