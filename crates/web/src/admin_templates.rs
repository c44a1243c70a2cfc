//! `/admin/templates`: the notification templates in the administration (issue 7, item 2), for an
//! employee holding `manage_access` with a portal session.
//!
//! - `GET /admin/templates`: every template rendered with sample values in Armenian, English and Russian,
//!   as its current version has it: an e-mail's subject and text, an SMS's text with its encoding (GSM-7
//!   or UCS-2), length and number of parts; a link to each template's page.
//! - `GET /admin/templates/{name}`: the template's versions (number, language, who, when; version 1 is the
//!   shipped text), its placeholders, and per language a form with the current text to save a new version.
//! - `POST /admin/templates/{name}`: save a new version of one language's subject and body (CSRF token,
//!   same origin). The text is checked first (`popreg_notify::templates::check_text`): an unknown or
//!   missing placeholder (`PSR-NTF-0008`, `PSR-NTF-0009`), text that is not Fluent (`PSR-NTF-0010`) or an
//!   empty part (`PSR-VAL-0006`) comes back with the coded reason next to the field and what was typed
//!   kept. The version and its audit act are written in one transaction
//!   (`popreg_store::Store::add_template_version`). New outbox rows get the new version; queued rows keep
//!   theirs.

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use popreg_domain::classifiers::{Lang, classifiers};
use popreg_notify::templates::{
    self, PORTAL_TEMPLATES, Preview, SMS_TEMPLATES, TemplateText, TextError,
};
use popreg_store::{Session, Store, StoreError};

use crate::AppState;
use crate::admin::{admin, not_found, page, posted, unavailable};
use crate::portal::{csrf_field, redirect, tr, tr_args, urlencode};
use crate::workspace::esc;

const LANGS: [Lang; 3] = [Lang::Hy, Lang::En, Lang::Ru];

/// The feed address shown in the previews of the bodies' e-mails.
const FEED: &str = "/api/v1/rejections";

/// A template's current version and its text in each language (`None`: the shipped text).
async fn current(
    store: &Store,
    name: &str,
) -> Result<(i64, Vec<(Lang, Option<TemplateText>)>), StoreError> {
    let version = store.template_version_current(name).await?;
    let mut texts = vec![];
    for l in LANGS {
        let t = store
            .template_text(name, l.as_str(), version)
            .await?
            .map(|v| TemplateText {
                subject: v.subject,
                body: v.body,
            });
        texts.push((l, t));
    }
    Ok((version, texts))
}

/// A rendered preview: an e-mail's subject and text, or an SMS's text with its encoding and parts.
fn preview_html(l: Lang, p: &Result<Preview, templates::TemplateError>) -> String {
    match p {
        Ok(Preview::Email(r)) => format!(
            "<p><strong>{}:</strong> {}</p><pre class=\"message\">{}</pre>",
            esc(&tr(l, "admin-template-subject")),
            esc(&r.subject),
            esc(&r.body)
        ),
        Ok(Preview::Sms(text)) => {
            let enc = popreg_notify::sms::encode(text);
            let encoding = match enc.encoding {
                popreg_notify::sms::SmsEncoding::Gsm7 => "GSM-7",
                popreg_notify::sms::SmsEncoding::Ucs2 => "UCS-2",
            };
            format!(
                "<pre class=\"message\">{}</pre><p>{}</p>",
                esc(text),
                esc(&tr_args(
                    l,
                    "admin-template-sms-encoding",
                    &[
                        ("encoding", encoding.into()),
                        ("units", (enc.units as i64).into()),
                        ("parts", (enc.parts.len() as i64).into()),
                    ]
                ))
            )
        }
        Err(e) => format!("<p class=\"err\">{}</p>", esc(&e.to_string())),
    }
}

fn channel_note(name: &str) -> &'static str {
    if SMS_TEMPLATES.contains(&name) {
        "admin-template-sms"
    } else if PORTAL_TEMPLATES.contains(&name) {
        "admin-template-portal"
    } else {
        "admin-template-email"
    }
}

/// `GET /admin/templates`.
pub(crate) async fn overview(State(state): State<AppState>, req: Request) -> Response {
    let l = crate::portal::lang(req.uri(), req.headers());
    let (parts, _) = req.into_parts();
    let (_, session) = match admin(&state, &parts, l).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut main = format!("<p>{}</p>", esc(&tr(l, "admin-templates-intro")));
    for name in templates::all_templates() {
        let (version, texts) = match current(&state.0.store, name).await {
            Ok(x) => x,
            Err(e) => return unavailable(l, &session, e),
        };
        main.push_str(&format!(
            "<section aria-labelledby=\"t-{name}\"><h2 id=\"t-{name}\"><code>{name}</code></h2><p>{}</p>\
             <p>{} <a href=\"/admin/templates/{name}?lang={lang}\">{}</a></p>",
            esc(&tr(l, channel_note(name))),
            esc(&tr_args(
                l,
                "admin-template-version-current",
                &[("version", version.into())]
            )),
            esc(&tr(l, "admin-template-edit")),
            lang = l.as_str(),
        ));
        for (x, text) in &texts {
            let shown = preview_html(l, &templates::preview(name, *x, FEED, text.as_ref()));
            main.push_str(&format!(
                "<h3 lang=\"{code}\">{}</h3><div lang=\"{code}\">{shown}</div>",
                esc(&tr(l, &format!("admin-template-lang-{}", x.as_str()))),
                code = x.as_str(),
            ));
        }
        main.push_str("</section>");
    }
    main.push_str(&format!(
        "<p><a href=\"/admin?lang={}\">{}</a></p>",
        l.as_str(),
        esc(&tr(l, "admin-title"))
    ));
    page(
        l,
        tr(l, "admin-templates"),
        &session,
        "/admin/templates",
        main,
    )
    .render()
}

/// A refused form: its language, the field, the reason, and what was typed.
struct Refused {
    lang: Lang,
    field: &'static str,
    message: String,
    typed: TemplateText,
}

/// The reason of a refused text in the page's language, with its code (and the placeholder it names).
fn refusal(l: Lang, e: &TextError) -> String {
    let code = e.code();
    let title = classifiers()
        .error_code(code)
        .map(|i| i.title.get(l))
        .unwrap_or(code.as_str());
    match e {
        TextError::Unknown { name, .. } => format!("{title} ({}): {name}", code.as_str()),
        TextError::Missing { name, .. } => format!("{title} ({}): {{ ${name} }}", code.as_str()),
        _ if l == Lang::En => format!("{title} ({}): {e}", code.as_str()),
        _ => format!("{title} ({})", code.as_str()),
    }
}

/// A labelled field of a language's form, its refusal next to it.
fn field_html(
    form: &str,
    name: &str,
    label: &str,
    value: &str,
    refused: Option<&Refused>,
    textarea: bool,
    lang: Lang,
) -> String {
    let id = format!("{form}-{name}");
    let (error, aria) = match refused.filter(|r| r.field == name) {
        Some(r) => (
            format!(
                "<p class=\"err\" id=\"{id}-error\" role=\"alert\">{}</p>",
                esc(&r.message)
            ),
            format!(" aria-invalid=\"true\" aria-describedby=\"{id}-error\""),
        ),
        None => (String::new(), String::new()),
    };
    let input = if textarea {
        format!(
            "<textarea id=\"{id}\" name=\"{name}\" rows=\"16\" cols=\"72\" lang=\"{code}\" required{aria}>{}</textarea>",
            esc(value),
            code = lang.as_str()
        )
    } else {
        format!(
            "<input type=\"text\" id=\"{id}\" name=\"{name}\" value=\"{}\" size=\"72\" maxlength=\"300\" \
             lang=\"{code}\" required{aria}>",
            esc(value),
            code = lang.as_str()
        )
    };
    format!(
        "<p><label for=\"{id}\">{} *</label><br>{input}</p>{error}",
        esc(label)
    )
}

/// The page of one template: versions, placeholders, a form per language.
async fn render_template(
    state: &AppState,
    l: Lang,
    session: &Session,
    name: &str,
    refused: Option<&Refused>,
    done: Option<i64>,
    status: StatusCode,
) -> Response {
    let store = &state.0.store;
    let Some((allowed, required)) = templates::placeholders(name) else {
        return not_found(
            l,
            session,
            "/admin/templates",
            "admin-template-unknown",
            "admin-templates",
        );
    };
    let loaded = (
        store.template_versions(name).await,
        current(store, name).await,
    );
    let (versions, (version, texts)) = match loaded {
        (Ok(v), Ok(c)) => (v, c),
        (Err(e), _) | (_, Err(e)) => return unavailable(l, session, e),
    };
    let mut main = format!(
        "<p><a href=\"/admin/templates?lang={}\">{}</a></p><p>{}</p>",
        l.as_str(),
        esc(&tr(l, "admin-templates")),
        esc(&tr(l, channel_note(name)))
    );
    if let Some(v) = done {
        main.push_str(&format!(
            "<p class=\"ok\" role=\"status\">{}</p>",
            esc(&tr_args(
                l,
                "admin-template-saved",
                &[("version", v.into())]
            ))
        ));
    }
    main.push_str(&format!(
        "<p>{}</p>",
        esc(&tr_args(
            l,
            "admin-template-version-current",
            &[("version", version.into())]
        ))
    ));
    // The versions, newest first; version 1 is the shipped text.
    let mut rows: String = versions
        .iter()
        .map(|v| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td><time datetime=\"{}\">{}</time></td></tr>",
                v.version,
                esc(&tr(l, &format!("admin-template-lang-{}", v.lang))),
                esc(&v.created_by),
                v.created_at.to_rfc3339(),
                esc(&popreg_store::armenian_date(v.created_at).to_string()),
            )
        })
        .collect();
    rows.push_str(&format!(
        "<tr><td>1</td><td>{}</td><td colspan=\"2\">{}</td></tr>",
        esc(&LANGS
            .iter()
            .map(|x| tr(l, &format!("admin-template-lang-{}", x.as_str())))
            .collect::<Vec<_>>()
            .join(", ")),
        esc(&tr(l, "admin-template-shipped"))
    ));
    main.push_str(&format!(
        "<section aria-labelledby=\"versions\"><h2 id=\"versions\">{}</h2><div class=\"table-wrap\"><table>\
         <thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th>\
         <th scope=\"col\">{}</th></tr></thead><tbody>{rows}</tbody></table></div></section>",
        esc(&tr(l, "admin-template-versions")),
        esc(&tr(l, "admin-template-col-version")),
        esc(&tr(l, "admin-template-col-lang")),
        esc(&tr(l, "admin-template-col-by")),
        esc(&tr(l, "admin-template-col-at")),
    ));
    let list = |names: &[&str]| {
        names
            .iter()
            .map(|n| format!("{{ ${n} }}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    main.push_str(&format!(
        "<p id=\"placeholders\">{}</p>",
        esc(&tr_args(
            l,
            "admin-template-placeholders",
            &[
                ("list", list(allowed).into()),
                ("required", list(required).into())
            ]
        ))
    ));
    let sms = SMS_TEMPLATES.contains(&name);
    for (x, text) in &texts {
        let form = format!("v-{}", x.as_str());
        let mine = refused.filter(|r| r.lang == *x);
        let shown = match (mine, text) {
            (Some(r), _) => r.typed.clone(),
            (None, Some(t)) => t.clone(),
            (None, None) => templates::shipped_text(name, *x).unwrap_or(TemplateText {
                subject: String::new(),
                body: String::new(),
            }),
        };
        let subject = if sms {
            String::new()
        } else {
            field_html(
                &form,
                "subject",
                &tr(l, "admin-template-subject"),
                &shown.subject,
                mine,
                false,
                *x,
            )
        };
        let body = field_html(
            &form,
            "body",
            &tr(l, "admin-template-body"),
            &shown.body,
            mine,
            true,
            *x,
        );
        main.push_str(&format!(
            "<section aria-labelledby=\"{form}\"><h2 id=\"{form}\">{}</h2>\
             <form method=\"post\" action=\"/admin/templates/{name}?lang={lang}\" aria-describedby=\"placeholders\">{csrf}\
             <input type=\"hidden\" name=\"text_lang\" value=\"{code}\">{subject}{body}\
             <p><button type=\"submit\">{}</button></p></form></section>",
            esc(&tr_args(
                l,
                "admin-template-new-version",
                &[(
                    "lang",
                    tr(l, &format!("admin-template-lang-{}", x.as_str())).into()
                )]
            )),
            esc(&tr(l, "admin-template-save")),
            lang = l.as_str(),
            csrf = csrf_field(session),
            code = x.as_str(),
        ));
    }
    page(
        l,
        format!("{}: {name}", tr(l, "admin-templates")),
        session,
        "/admin/templates",
        main,
    )
    .status(status)
    .render()
}

/// `GET /admin/templates/{name}`.
pub(crate) async fn template_page(
    State(state): State<AppState>,
    Path(name): Path<String>,
    req: Request,
) -> Response {
    let l = crate::portal::lang(req.uri(), req.headers());
    let (parts, _) = req.into_parts();
    let (_, session) = match admin(&state, &parts, l).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let done = crate::portal::param(&parts.uri, "done").and_then(|v| v.parse().ok());
    render_template(&state, l, &session, &name, None, done, StatusCode::OK).await
}

/// `POST /admin/templates/{name}`: save a new version of one language's text.
pub(crate) async fn save_version(
    State(state): State<AppState>,
    Path(name): Path<String>,
    req: Request,
) -> Response {
    let (staff, session, l, form) = match posted(&state, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    if templates::placeholders(&name).is_none() {
        return render_template(
            &state,
            l,
            &session,
            &name,
            None,
            None,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
    let Some(text_lang) = Lang::parse(&get("text_lang")) else {
        return crate::workspace::error_page(
            l,
            StatusCode::BAD_REQUEST,
            &tr(l, "admin-templates"),
            popreg_domain::Code::Malformed,
        );
    };
    let typed = TemplateText {
        subject: get("subject").trim().to_string(),
        body: get("body").replace("\r\n", "\n").trim_end().to_string(),
    };
    let refused = match templates::check_text(&name, text_lang, &typed) {
        Err(e) => Refused {
            lang: text_lang,
            field: if e.field() == "subject" {
                "subject"
            } else {
                "body"
            },
            message: refusal(l, &e),
            typed,
        },
        Ok(()) => match state
            .0
            .store
            .add_template_version(
                &staff.caller.user_uid,
                &name,
                text_lang.as_str(),
                &typed.subject,
                &typed.body,
            )
            .await
        {
            Ok(v) => {
                tracing::info!(target: "audit", template = %name, version = v.version,
                    lang = text_lang.as_str(), by = %staff.caller.user_uid, "admin: template version saved");
                return redirect(&format!(
                    "/admin/templates/{}?lang={}&done={}",
                    urlencode(&name),
                    l.as_str(),
                    v.version
                ));
            }
            Err(e @ StoreError::Domain(_)) => Refused {
                lang: text_lang,
                field: "body",
                message: crate::workspace::message(
                    l,
                    &popreg_domain::submission::Violation::new(e.code(), "", e.to_string()),
                ),
                typed,
            },
            Err(e) => return unavailable(l, &session, e),
        },
    };
    render_template(
        &state,
        l,
        &session,
        &name,
        Some(&refused),
        None,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}
