//! My addresses (A1.21, issue 6 §4): which address receives official notices today, the main and
//! additional addresses with their validity, a warning while the main address has an end date, and the
//! forms to declare an additional address for notices or a new main address.
//!
//! A declaration is a submission of kind `additional_address` or `main_address` made by the person
//! themself: the same data-element checks and the same decision pipeline as a body's submission (structure,
//! then the decision against the register — unknown codes, periods that end before they start, …), recorded
//! with provider [`popreg_store::SELF_BODY`], the person's PSN as the user, channel `web`. Refusals are shown
//! next to the fields with what was typed kept, and land in the rejection log like any other.

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Duration;
use popreg_domain::access::{BodyType, Caller, Function};
use popreg_domain::classifiers::Lang;
use popreg_domain::elements::{self, KindDef};
use popreg_domain::submission::Violation;
use popreg_domain::{Channel, ExternalIds, PersonState};
use popreg_store::{Outcome, Receipt};
use serde_json::{Map, Value};

use super::data::{Ctx, body_names, failed, notice_address, own, render};
use super::{Citizen, Page, citizen, csrf_field, lang, param, redirect, tr, tr_args};
use crate::AppState;
use crate::workspace::esc;

/// The kinds a person may declare themself.
const KINDS: [&str; 2] = ["additional_address", "main_address"];

/// How long before its end a main address is warned about.
const WARN_DAYS: i64 = 60;

fn kind_def(kind: &str) -> Option<&'static KindDef> {
    KINDS
        .contains(&kind)
        .then(|| elements::kind(kind))
        .flatten()
}

/// One declaration form: the kind's fields except the person's own PSN, with values and refusals.
fn form(
    l: Lang,
    who: &Citizen,
    def: &KindDef,
    values: &Map<String, Value>,
    errors: &[Violation],
) -> String {
    let mut out = format!(
        "<form method=\"post\" action=\"/my/addresses/{}\" id=\"form-{}\">{}",
        def.name,
        def.name,
        csrf_field(&who.session)
    );
    let general: Vec<&Violation> = errors
        .iter()
        .filter(|e| e.field.is_empty() || e.field == "psn")
        .collect();
    for e in general {
        out.push_str(&format!(
            "<p class=\"err\" role=\"alert\">{} ({})</p>",
            esc(e.detail.as_str()),
            esc(e.code.as_str())
        ));
    }
    for f in def.fields.iter().filter(|f| f.name != "psn") {
        crate::workspace::field_html(l, "", f, values, errors, &mut out);
    }
    out.push_str(&format!(
        "<button type=\"submit\">{}</button></form>",
        esc(&tr(l, "addresses-declare"))
    ));
    out
}

/// The page, with the forms (one of them possibly refilled with a refused declaration).
async fn page(
    state: &AppState,
    who: &Citizen,
    l: Lang,
    uri: &axum::http::Uri,
    status: StatusCode,
    top: String,
    refilled: Option<(&str, &Map<String, Value>, &[Violation])>,
) -> Response {
    let (person, entries) = match own(state, who, true).await {
        Ok(x) => x,
        Err(e) => return failed(l, e),
    };
    let pg = Page::new(l, tr(l, "addresses-title"))
        .session(&who.session)
        .here(uri)
        .status(status);
    let Some(person) = person else {
        return pg
            .main(format!(
                "<p class=\"note\">{}</p>",
                esc(&tr(l, "desk-not-in-register"))
            ))
            .render();
    };
    let bodies = body_names(state, l).await;
    let recorded = entries.iter().map(|e| (e.id, e.recorded_at)).collect();
    let ctx = Ctx {
        lang: l,
        bodies: &bodies,
        recorded: &recorded,
    };
    let today = popreg_store::armenian_date(state.0.store.clock().now());
    let mut main = top;
    main.push_str(&format!("<p>{}</p>", esc(&tr(l, "addresses-intro"))));
    main.push_str(&notice_address(&ctx, &person, today));
    main.push_str(&expiry_warning(l, &person, today));
    for (field, title) in [
        ("main_addresses", "field-main-addresses"),
        ("additional_addresses", "field-additional-addresses"),
    ] {
        let v = serde_json::to_value(&person)
            .ok()
            .and_then(|d| d.get(field).cloned())
            .unwrap_or(Value::Null);
        main.push_str(&format!("<section><h2>{}</h2>", esc(&tr(l, title))));
        match &v {
            Value::Array(a) if !a.is_empty() => main.push_str(&render(&ctx, field, &v)),
            _ => main.push_str(&format!("<p>{}</p>", esc(&tr(l, "data-none")))),
        }
        main.push_str("</section>");
    }
    // One form at a time (their fields share names and ids): the refused one, or the one asked for
    // (`?form=main_address`), or the additional address; a link switches to the other.
    let shown = refilled
        .map(|(k, _, _)| k.to_string())
        .or_else(|| param(uri, "form"))
        .filter(|k| KINDS.contains(&k.as_str()))
        .unwrap_or_else(|| KINDS[0].to_string());
    if let Some(def) = kind_def(&shown) {
        let empty = Map::new();
        let (values, errors) = match refilled {
            Some((_, v, e)) => (v, e),
            None => (&empty, &[][..]),
        };
        let id = shown.replace('_', "-");
        main.push_str(&format!(
            "<section aria-labelledby=\"h-{shown}\"><h2 id=\"h-{shown}\">{}</h2><p>{}</p>{}</section>",
            esc(&tr(l, &format!("addresses-{id}"))),
            esc(&tr(l, &format!("addresses-{id}-hint"))),
            form(l, who, def, values, errors)
        ));
    }
    for other in KINDS.iter().filter(|k| **k != shown) {
        main.push_str(&format!(
            "<p><a href=\"/my/addresses?form={other}#form-{other}\">{}</a></p>",
            esc(&tr(l, &format!("addresses-{}", other.replace('_', "-"))))
        ));
    }
    pg.main(main).render()
}

/// A1.21.1: a main address with an end date stays until a new one is declared; warn while it has one.
fn expiry_warning(l: Lang, p: &PersonState, today: chrono::NaiveDate) -> String {
    let Some(main) = p.main_address_on(today) else {
        return String::new();
    };
    match main.valid_to {
        Some(end) if end - today <= Duration::days(WARN_DAYS) => format!(
            "<p class=\"note\" role=\"status\"><strong>{}</strong> <a href=\"/my/addresses?form=main_address#form-main_address\">{}</a></p>",
            esc(&tr_args(
                l,
                "addresses-expiring",
                &[("date", end.to_string().into())]
            )),
            esc(&tr(l, "addresses-declare-new"))
        ),
        _ => String::new(),
    }
}

/// `GET /my/addresses[?done=declared|held]`
pub(crate) async fn view(State(state): State<AppState>, req: Request) -> Response {
    let l = lang(req.uri(), req.headers());
    let who = match citizen(&state, req.uri(), req.headers()).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let top = match param(req.uri(), "done").as_deref() {
        Some(d @ ("declared" | "held")) => format!(
            "<p class=\"ok\" role=\"status\">{}</p>",
            esc(&tr(l, &format!("addresses-done-{d}")))
        ),
        _ => String::new(),
    };
    page(&state, &who, l, req.uri(), StatusCode::OK, top, None).await
}

/// `POST /my/addresses/{kind}`: the declaration through the register's decision pipeline.
pub(crate) async fn declare(
    State(state): State<AppState>,
    Path(kind): Path<String>,
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
    let Some(def) = kind_def(&kind) else {
        return redirect("/my/addresses");
    };
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let psn = who.session.psn;
    let parsed = crate::workspace::to_value(def, &pairs)
        .map_err(|v| vec![v])
        .and_then(|mut v| {
            if let Value::Object(m) = &mut v {
                // The person declares for themself only, whatever the form says.
                m.insert("psn".into(), Value::String(psn.to_string()));
            }
            crate::submit::decide_input(def, v)
        });
    // What was typed, by field path (`address.street`), to refill the form.
    let values: Map<String, Value> = pairs
        .iter()
        .filter(|(k, _)| k != "csrf" && k != "psn")
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let receipt = Receipt {
        kind: def.name.to_string(),
        caller: Caller {
            body_id: popreg_store::SELF_BODY.to_string(),
            body_type: BodyType::Other,
            user_uid: psn.to_string(),
            functions: vec![Function::Submit],
            channel: Channel::Web,
            external: ExternalIds::default(),
        },
        media_type: "application/x-www-form-urlencoded".into(),
        payload: body.to_vec(),
    };
    match crate::submit::record(&state, receipt, parsed).await {
        Ok((Outcome::Accepted { .. }, _)) => redirect("/my/addresses?done=declared"),
        Ok((Outcome::Held { .. }, _)) => redirect("/my/addresses?done=held"),
        Ok((Outcome::Rejected { errors, .. }, _)) => {
            let top = format!(
                "<p class=\"err\" role=\"alert\">{}</p>",
                esc(&tr(l, "addresses-refused"))
            );
            page(
                &state,
                &who,
                l,
                &uri,
                StatusCode::UNPROCESSABLE_ENTITY,
                top,
                Some((def.name, &values, &errors)),
            )
            .await
        }
        Err(e) => failed(l, e),
    }
}
