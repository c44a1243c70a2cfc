//! The desk and "my data" (G.2, G.3.4, issue 6 §2–3): after login, the person sees a summary and what the
//! register holds about them, grouped as the regulation groups it, with each fact's source body and date and
//! the full history. Every read goes through the citizen's gate ([`popreg_store::Store::read_own`]), which
//! writes a usage record like any other read. Convictions (A1.28) are shown only after an extra click.

use std::collections::HashMap;

use axum::extract::{Request, State};
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};
use popreg_domain::classifiers::{Lang, classifiers};
use popreg_domain::{Entry, PersonState};
use popreg_store::{Released, View};
use serde_json::Value;

use super::i18n::has;
use super::{Citizen, Page, citizen, lang, tr, tr_args};
use crate::AppState;
use crate::workspace::esc;

/// Yerevan's wall clock (UTC+4, no summer time).
pub(crate) fn local(t: DateTime<Utc>) -> String {
    (t + Duration::hours(4))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// A store failure as a page in the person's language.
pub(crate) fn failed(l: Lang, e: popreg_store::StoreError) -> Response {
    tracing::error!(error = %e, "portal: read failed");
    Page::new(l, tr(l, "error-title"))
        .status(super::code_status(e.code()))
        .main(super::coded_html(l, e.code()))
        .render()
}

/// The person's own record and entries, through the citizen's gate.
pub(crate) async fn own(
    state: &AppState,
    who: &Citizen,
    with_history: bool,
) -> Result<(Option<PersonState>, Vec<Entry>), popreg_store::StoreError> {
    let psn = who.session.psn;
    let person = match state.0.store.read_own(psn, View::Current).await? {
        Some(r) => match r.data {
            Released::PersonJson(doc) => serde_json::from_str::<PersonState>(&doc)
                .map_err(|e| popreg_store::StoreError::Corrupt(format!("person: {e}")))
                .map(Some)?,
            Released::Person(map) => serde_json::from_value::<PersonState>(Value::Object(map))
                .map_err(|e| popreg_store::StoreError::Corrupt(format!("person: {e}")))
                .map(Some)?,
            _ => None,
        },
        None => None,
    };
    let entries = if with_history {
        match state.0.store.read_own(psn, View::History).await? {
            Some(popreg_store::Release {
                data: Released::History(e),
                ..
            }) => e,
            _ => vec![],
        }
    } else {
        vec![]
    };
    Ok((person, entries))
}

/// Body names by id, in `l`.
pub(crate) async fn body_names(state: &AppState, l: Lang) -> HashMap<String, String> {
    state
        .0
        .store
        .bodies()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|b| {
            let name = match l {
                Lang::Hy => b.name_hy,
                Lang::En => b.name_en,
                Lang::Ru => b.name_ru,
            };
            (b.id, name)
        })
        .collect()
}

/// `GET /my`: the desk (ԳՐԱՍԵՂԱՆ).
pub(crate) async fn desk(State(state): State<AppState>, req: Request) -> Response {
    let l = lang(req.uri(), req.headers());
    let who = match citizen(&state, req.uri(), req.headers()).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let (person, _) = match own(&state, &who, false).await {
        Ok(x) => x,
        Err(e) => return failed(l, e),
    };
    let s = &who.session;
    let name = person
        .as_ref()
        .map(|p| display_name(p, l))
        .unwrap_or_default();
    let mut main = format!(
        "<p>{welcome}</p><p>{psn_label}: <strong>{psn}</strong></p><p class=\"src\">{info}</p>",
        welcome = esc(&tr_args(l, "desk-welcome", &[("name", name.into())])),
        psn_label = esc(&tr(l, "field-psn")),
        psn = s.psn,
        info = esc(&tr_args(
            l,
            "desk-session-info",
            &[
                (
                    "method",
                    tr(l, &format!("method-{}", s.method.as_str())).into()
                ),
                ("time", local(s.created_at).into()),
                (
                    "minutes",
                    state.0.config.portal.sessions.idle.num_minutes().into()
                ),
            ],
        )),
    );
    if person.is_none() {
        main.push_str(&format!(
            "<p class=\"note\">{}</p>",
            esc(&tr(l, "desk-not-in-register"))
        ));
    }
    // Unread notifications and official mail first (G.3.1–2).
    let unread = state
        .0
        .store
        .inbox(s.psn, 0, 1)
        .await
        .map(|p| p.unread)
        .unwrap_or(0);
    main.push_str(&format!(
        "<p class=\"note\" role=\"status\"><a href=\"/my/inbox\">{}</a></p>",
        esc(&tr_args(l, "desk-unread", &[("count", unread.into())]))
    ));
    // The next appointments (A1.5.4).
    main.push_str(&super::appointments::desk_block(&state, &who, l).await);
    main.push_str("<ul class=\"cards\">");
    for (href, title, hint) in [
        ("/my/inbox", "inbox-title", "desk-inbox-hint"),
        ("/my/forwarding", "forwarding-title", "desk-forwarding-hint"),
        ("/my/data", "desk-my-data", "desk-my-data-hint"),
        ("/my/addresses", "addresses-title", "desk-addresses-hint"),
        ("/my/usage", "desk-usage", "desk-usage-hint"),
        ("/my/sessions", "desk-sessions", "desk-sessions-hint"),
        ("/my/mobile-id", "mobile-title", "desk-mobile-hint"),
        ("/my/registries", "registries-title", "desk-registries-hint"),
        ("/my/companies", "companies-title", "desk-companies-hint"),
        ("/my/appointments", "appt-title", "desk-appointments-hint"),
    ] {
        main.push_str(&format!(
            "<li><h2><a href=\"{href}\">{}</a></h2><p>{}</p></li>",
            esc(&tr(l, title)),
            esc(&tr(l, hint))
        ));
    }
    main.push_str("</ul>");
    main.push_str(&crate::staff::desk_links(&state, s.psn, l).await);
    Page::new(l, tr(l, "desk-title"))
        .session(s)
        .here(req.uri())
        .main(main)
        .render()
}

fn display_name(p: &PersonState, l: Lang) -> String {
    let n = &p.names;
    match l {
        Lang::Hy => format!("{} {}", n.first.hy, n.surname.hy),
        _ => format!("{} {}", n.first.lat, n.surname.lat),
    }
}

/// The groups of "my data", as the regulation groups a person's record (A1.18–A1.28): a title and the
/// top-level fields of the record it shows.
const GROUPS: &[(&str, &[&str])] = &[
    (
        "group-identity",
        &[
            "psn",
            "names",
            "sex",
            "birth_date",
            "birth_place",
            "nationality",
            "death",
            "name_history",
        ],
    ),
    ("group-documents", &["documents"]),
    ("group-citizenship", &["citizenships", "stateless_since"]),
    ("group-residence", &["residence_documents"]),
    (
        "group-addresses",
        &[
            "main_addresses",
            "additional_addresses",
            "consular_registrations",
        ],
    ),
    (
        "group-family",
        &[
            "marital_status",
            "marriages",
            "parents",
            "children",
            "paternity",
            "adoptions",
        ],
    ),
    (
        "group-guardianship",
        &["guardianships", "wards", "legal_incapacity"],
    ),
];

/// What the renderer needs to name a fact's source.
pub(crate) struct Ctx<'a> {
    pub lang: Lang,
    pub bodies: &'a HashMap<String, String>,
    pub recorded: &'a HashMap<i64, DateTime<Utc>>,
}

/// `GET /my/data[?reveal=convictions]`: everything the register holds about me.
pub(crate) async fn my_data(State(state): State<AppState>, req: Request) -> Response {
    let l = lang(req.uri(), req.headers());
    let who = match citizen(&state, req.uri(), req.headers()).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let reveal = super::param(req.uri(), "reveal").as_deref() == Some("convictions");
    let (person, entries) = match own(&state, &who, true).await {
        Ok(x) => x,
        Err(e) => return failed(l, e),
    };
    let page = Page::new(l, tr(l, "data-title"))
        .session(&who.session)
        .here(req.uri());
    let Some(person) = person else {
        return page
            .main(format!(
                "<p class=\"note\">{}</p>",
                esc(&tr(l, "desk-not-in-register"))
            ))
            .render();
    };
    let bodies = body_names(&state, l).await;
    let recorded: HashMap<i64, DateTime<Utc>> =
        entries.iter().map(|e| (e.id, e.recorded_at)).collect();
    let ctx = Ctx {
        lang: l,
        bodies: &bodies,
        recorded: &recorded,
    };
    let doc = match serde_json::to_value(&person) {
        Ok(Value::Object(m)) => m,
        _ => return failed(l, popreg_store::StoreError::Corrupt("person".into())),
    };
    let mut main = format!("<p>{}</p>", esc(&tr(l, "data-intro")));
    main.push_str(&format!(
        "<nav aria-label=\"{}\"><ul>",
        esc(&tr(l, "data-contents"))
    ));
    for (group, _) in GROUPS {
        main.push_str(&format!(
            "<li><a href=\"#{group}\">{}</a></li>",
            esc(&tr(l, group))
        ));
    }
    main.push_str(&format!(
        "<li><a href=\"#group-convictions\">{}</a></li><li><a href=\"/my/data/history\">{}</a></li></ul></nav>",
        esc(&tr(l, "group-convictions")),
        esc(&tr(l, "data-history"))
    ));
    let today = popreg_store::armenian_date(state.0.store.clock().now());
    for (group, fields) in GROUPS {
        main.push_str(&format!(
            "<section id=\"{group}\" aria-labelledby=\"{group}-h\"><h2 id=\"{group}-h\">{}</h2>",
            esc(&tr(l, group))
        ));
        if *group == "group-addresses" {
            main.push_str(&notice_address(&ctx, &person, today));
        }
        let mut dl = String::new();
        for f in *fields {
            let Some(v) = doc.get(*f) else { continue };
            if is_empty(v) {
                continue;
            }
            dl.push_str(&format!(
                "<dt>{}</dt><dd>{}</dd>",
                esc(&label(l, f)),
                render(&ctx, f, v)
            ));
        }
        if dl.is_empty() {
            main.push_str(&format!("<p>{}</p>", esc(&tr(l, "data-none"))));
        } else {
            main.push_str(&format!("<dl>{dl}</dl>"));
        }
        main.push_str("</section>");
    }
    // Convictions: shown to the person only, and only after an extra click (issue 6 §3).
    main.push_str(&format!(
        "<section id=\"group-convictions\" aria-labelledby=\"group-convictions-h\"><h2 id=\"group-convictions-h\">{}</h2>",
        esc(&tr(l, "group-convictions"))
    ));
    if reveal {
        match doc.get("convictions") {
            Some(v) if !is_empty(v) => main.push_str(&render(&ctx, "convictions", v)),
            _ => main.push_str(&format!("<p>{}</p>", esc(&tr(l, "data-none")))),
        }
    } else {
        main.push_str(&format!(
            "<p>{}</p><p><a href=\"/my/data?reveal=convictions#group-convictions\">{}</a></p>",
            esc(&tr(l, "data-sensitive")),
            esc(&tr(l, "data-sensitive-show"))
        ));
    }
    main.push_str("</section>");
    page.main(main).render()
}

/// Which address receives official notices today, and until when (A1.21.2.b).
pub(crate) fn notice_address(ctx: &Ctx<'_>, p: &PersonState, today: chrono::NaiveDate) -> String {
    let l = ctx.lang;
    match p.official_notice_address(today) {
        Some(n) => {
            let addr = serde_json::to_value(&n.address).unwrap_or(Value::Null);
            let kind = match n.kind {
                popreg_domain::person::NoticeAddressKind::Additional => "notice-additional",
                popreg_domain::person::NoticeAddressKind::Main => "notice-main",
            };
            let mut s = format!(
                "<p class=\"note\"><strong>{}</strong> {} ({})",
                esc(&tr(l, "notice-title")),
                render(ctx, "address", &addr),
                esc(&tr(l, kind))
            );
            if let Some(to) = n.valid_to {
                s.push_str(&format!(
                    " — {}",
                    esc(&tr_args(
                        l,
                        "notice-until",
                        &[("date", to.to_string().into())]
                    ))
                ));
            }
            s.push_str("</p>");
            s
        }
        None => format!("<p class=\"note\">{}</p>", esc(&tr(l, "notice-none"))),
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// The label of a field: `field-<name>` in the portal's texts, else the name itself.
fn label(l: Lang, field: &str) -> String {
    let id = format!("field-{}", field.replace('_', "-"));
    if has(l, &id) {
        tr(l, &id)
    } else {
        field.replace('_', " ")
    }
}

/// A code of a classifier in words, for the fields that hold one.
fn code_name(l: Lang, field: &str, code: &str) -> Option<String> {
    let c = classifiers();
    match field {
        "country" | "citizenships" | "issuing_country" => {
            c.country(code).map(|x| x.name.get(l).to_string())
        }
        "marz" => c.marz(code).map(|x| x.name.get(l).to_string()),
        "community" => c.community(code).map(|x| x.name.get(l).to_string()),
        "settlement" => c.settlement(code).map(|(_, s)| s.name.get(l).to_string()),
        "nationality" => c.nationality(code).map(|x| x.name.get(l).to_string()),
        "ground" | "termination_ground" => c
            .citizenship_ground(code)
            .map(|x| x.name.get(l).to_string()),
        "document_type" | "doc_type" => c
            .identity_document_type(code)
            .map(|x| x.name.get(l).to_string())
            .or_else(|| {
                c.residence_document(code)
                    .map(|x| x.name.get(l).to_string())
            }),
        _ => None,
    }
}

/// One value of the record as HTML (escaped).
pub(crate) fn render(ctx: &Ctx<'_>, field: &str, v: &Value) -> String {
    let l = ctx.lang;
    match v {
        Value::Null => String::new(),
        Value::Bool(b) => esc(&tr(l, if *b { "data-yes" } else { "data-no" })),
        Value::Number(n) => esc(&n.to_string()),
        Value::String(s) => {
            if let Some(name) = code_name(l, field, s) {
                return esc(&name);
            }
            let value_id = format!("value-{}", s.replace('_', "-"));
            if s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && has(l, &value_id) {
                return esc(&tr(l, &value_id));
            }
            esc(s)
        }
        Value::Array(items) => {
            if items.iter().all(|i| !i.is_object()) {
                return items
                    .iter()
                    .map(|i| render(ctx, field, i))
                    .collect::<Vec<_>>()
                    .join(", ");
            }
            items
                .iter()
                .map(|i| format!("<div class=\"record\">{}</div>", render(ctx, field, i)))
                .collect()
        }
        Value::Object(m) => {
            // A name in Armenian script with its Latin transliteration.
            if let (Some(Value::String(hy)), Some(Value::String(lat)), 2) =
                (m.get("hy"), m.get("lat"), m.len())
            {
                return format!("{} <span lang=\"hy-Latn\">({})</span>", esc(hy), esc(lat));
            }
            let mut out = String::from("<dl>");
            for (k, x) in m {
                if k == "source" || is_empty(x) {
                    continue;
                }
                out.push_str(&format!(
                    "<dt>{}</dt><dd>{}</dd>",
                    esc(&label(l, k)),
                    render(ctx, k, x)
                ));
            }
            out.push_str("</dl>");
            if let Some(src) = m.get("source") {
                out.push_str(&source(ctx, src));
            }
            out
        }
    }
}

/// "Source: body, date, entry № n".
fn source(ctx: &Ctx<'_>, src: &Value) -> String {
    let id = src.get("entry_id").and_then(Value::as_i64).unwrap_or(0);
    let provider = src.get("provider").and_then(Value::as_str).unwrap_or("");
    let body = ctx
        .bodies
        .get(provider)
        .map(|n| format!("{n} ({provider})"))
        .unwrap_or_else(|| provider.to_string());
    let date = ctx.recorded.get(&id).map(|t| local(*t)).unwrap_or_default();
    format!(
        "<p class=\"src\">{}</p>",
        esc(&tr_args(
            ctx.lang,
            "data-source",
            &[
                ("body", body.into()),
                ("date", date.into()),
                ("entry", id.into())
            ],
        ))
    )
}

/// `GET /my/data/history`: every entry about me, newest first.
pub(crate) async fn history(State(state): State<AppState>, req: Request) -> Response {
    let l = lang(req.uri(), req.headers());
    let who = match citizen(&state, req.uri(), req.headers()).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let entries = match state.0.store.read_own(who.session.psn, View::History).await {
        Ok(Some(popreg_store::Release {
            data: Released::History(e),
            ..
        })) => e,
        Ok(_) => vec![],
        Err(e) => return failed(l, e),
    };
    let bodies = body_names(&state, l).await;
    let mut main = format!(
        "<p>{}</p><p><a href=\"/my/data\">{}</a></p>",
        esc(&tr(l, "history-intro")),
        esc(&tr(l, "data-title"))
    );
    main.push_str(&format!(
        "<div class=\"table-wrap\" role=\"region\" tabindex=\"0\" aria-label=\"{caption}\"><table><caption>{caption}</caption><thead><tr><th scope=\"col\">{recorded}</th><th scope=\"col\">{kind}</th>\
         <th scope=\"col\">{valid}</th><th scope=\"col\">{body}</th><th scope=\"col\">{no}</th></tr></thead><tbody>",
        caption = esc(&tr_args(l, "history-count", &[("count", entries.len().into())])),
        recorded = esc(&tr(l, "history-recorded")),
        kind = esc(&tr(l, "history-kind")),
        valid = esc(&tr(l, "history-valid")),
        body = esc(&tr(l, "history-body")),
        no = esc(&tr(l, "history-entry")),
    ));
    let mut sorted = entries;
    sorted.sort_by_key(|e| std::cmp::Reverse(e.id));
    for e in &sorted {
        let kind_id = format!("kind-{}", e.kind.replace('_', "-"));
        let kind = if has(l, &kind_id) {
            tr(l, &kind_id)
        } else {
            e.kind.replace('_', " ")
        };
        let valid = match (e.valid_from, e.valid_to) {
            (Some(f), Some(t)) => format!("{f} – {t}"),
            (Some(f), None) => format!("{f} –"),
            _ => String::new(),
        };
        let body = bodies
            .get(&e.provider)
            .map(|n| format!("{n} ({})", e.provider))
            .unwrap_or_else(|| e.provider.clone());
        let superseded = e
            .supersedes
            .map(|s| {
                format!(
                    "<br><span class=\"src\">{}</span>",
                    esc(&tr_args(l, "history-corrects", &[("entry", s.into())]))
                )
            })
            .unwrap_or_default();
        main.push_str(&format!(
            "<tr><td>{}</td><td>{}{superseded}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&local(e.recorded_at)),
            esc(&kind),
            esc(&valid),
            esc(&body),
            e.id
        ));
    }
    main.push_str("</tbody></table></div>");
    Page::new(l, tr(l, "data-history"))
        .session(&who.session)
        .here(req.uri())
        .main(main)
        .render()
}

/// `GET /my/sessions`: where and how I logged in, and how each session ended.
pub(crate) async fn sessions(State(state): State<AppState>, req: Request) -> Response {
    let l = lang(req.uri(), req.headers());
    let who = match citizen(&state, req.uri(), req.headers()).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let list = match state.0.store.sessions_of(who.session.psn, 50).await {
        Ok(x) => x,
        Err(e) => return failed(l, e),
    };
    let mut main = format!(
        "<p>{}</p><div class=\"table-wrap\" role=\"region\" tabindex=\"0\" aria-label=\"{}\"><table><thead><tr>\
         <th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th>\
         <th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
        esc(&tr(l, "sessions-intro")),
        esc(&tr(l, "desk-sessions")),
        esc(&tr(l, "sessions-began")),
        esc(&tr(l, "sessions-method")),
        esc(&tr(l, "sessions-last")),
        esc(&tr(l, "sessions-ended")),
        esc(&tr(l, "sessions-from")),
    );
    let current = who.session.id.get(..16).unwrap_or("");
    for s in &list {
        let ended = match (&s.ended_at, s.end_reason.as_deref()) {
            (Some(t), Some(r)) => format!("{} ({})", local(*t), tr(l, &format!("end-{r}"))),
            _ if s.id == current => tr(l, "sessions-this"),
            _ => tr(l, "sessions-open"),
        };
        main.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&local(s.created_at)),
            esc(&tr(l, &format!("method-{}", s.method))),
            esc(&local(s.last_seen)),
            esc(&ended),
            esc(s.client_ip.as_deref().unwrap_or("")),
        ));
    }
    main.push_str("</tbody></table></div>");
    Page::new(l, tr(l, "desk-sessions"))
        .session(&who.session)
        .here(req.uri())
        .main(main)
        .render()
}

/// `GET /help`: troubleshooting (G.9): what the login errors mean, how to install the national CA chain,
/// support contacts. No login needed.
pub(crate) async fn help(req: Request) -> Response {
    let l = lang(req.uri(), req.headers());
    let mut main = String::new();
    for (h, p) in [
        ("help-card-h", "help-card"),
        ("help-ca-h", "help-ca"),
        ("help-errors-h", "help-errors"),
        ("help-session-h", "help-session"),
        ("help-support-h", "help-support"),
    ] {
        main.push_str(&format!(
            "<section><h2>{}</h2><p>{}</p></section>",
            esc(&tr(l, h)),
            esc(&tr(l, p))
        ));
    }
    Page::new(l, tr(l, "help-title"))
        .here(req.uri())
        .main(main)
        .render()
}
