//! What other state registries hold about the citizen (G.4): `GET /my/registries` shows the person's driving
//! licences and vehicles (road police) and their roles in legal entities (Ministry of Justice), asked from
//! the three registries through their connectors (`popreg_connectors::registries`) when the page is opened.
//!
//! Graceful degradation: the three are asked at once; one that is not configured, down or too slow makes
//! only its own section say "registry unavailable right now" (`PSR-REG-0001`, and the connector logs a
//! `WARN` line); the rest of the page is shown, with `200`.

use axum::extract::{Request, State};
use axum::response::Response;
use chrono::NaiveDate;
use popreg_connectors::registries::CompanyRole;
use popreg_domain::DomainError;
use popreg_domain::classifiers::Lang;

use super::{Page, tr};
use crate::AppState;
use crate::workspace::esc;

/// A date as the portal shows a day: `31.12.2024`.
pub(crate) fn day(d: NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}

/// The portal's name of a registry's code (`{prefix}-{code}`), or the code itself when it has none.
pub(crate) fn named(l: Lang, prefix: &str, code: &str) -> String {
    let id = format!("{prefix}-{code}");
    if super::i18n::has(l, &id) {
        tr(l, &id)
    } else {
        code.to_string()
    }
}

/// A company's name in the page's language (the registry names companies in Armenian and English).
pub(crate) fn company_name(l: Lang, r: &CompanyRole) -> &str {
    match l {
        Lang::Hy => &r.name_hy,
        _ => &r.name_en,
    }
}

/// A table with a caption-less header row and rows of already escaped cells.
pub(crate) fn table(l: Lang, label: &str, heads: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut s = format!(
        "<div class=\"table-wrap\" role=\"region\" tabindex=\"0\" aria-label=\"{}\"><table><thead><tr>",
        esc(&tr(l, label))
    );
    for h in heads {
        s.push_str(&format!("<th scope=\"col\">{}</th>", esc(&tr(l, h))));
    }
    s.push_str("</tr></thead><tbody>");
    for r in rows {
        s.push_str("<tr>");
        for c in r {
            s.push_str(&format!("<td>{c}</td>"));
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table></div>");
    s
}

/// One section: its heading and source, then the rows, "none", or the coded "unavailable".
fn section<T>(
    l: Lang,
    (id, title, source, none): (&str, &str, &str, &str),
    answer: Result<Vec<T>, DomainError>,
    render: impl Fn(Vec<T>) -> String,
) -> String {
    let body = match answer {
        Ok(items) if items.is_empty() => format!("<p>{}</p>", esc(&tr(l, none))),
        Ok(items) => render(items),
        Err(e) => super::coded_html(l, e.code),
    };
    format!(
        "<section aria-labelledby=\"{id}\"><h2 id=\"{id}\">{}</h2><p class=\"src\">{}</p>{body}</section>",
        esc(&tr(l, title)),
        esc(&tr(l, source)),
    )
}

/// The rows of the person's roles in companies, each company linking to its section (G.6).
pub(crate) fn roles_table(l: Lang, roles: Vec<CompanyRole>) -> String {
    let rows = roles
        .iter()
        .map(|r| {
            vec![
                format!(
                    "<a href=\"/my/companies/{}\">{}</a>",
                    esc(&super::urlencode(&r.tin)),
                    esc(company_name(l, r))
                ),
                esc(&r.tin),
                esc(&named(l, "legal-form", &r.legal_form)),
                esc(&named(l, "role", &r.role)),
                day(r.since),
            ]
        })
        .collect();
    table(
        l,
        "registries-companies",
        &[
            "company-name",
            "company-tin",
            "company-form",
            "company-role",
            "company-since",
        ],
        rows,
    )
}

/// `GET /my/registries`
pub(crate) async fn page(State(state): State<AppState>, req: Request) -> Response {
    let (l, who) = match super::viewer(&state, req.uri(), req.headers()).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let psn = who.session.psn;
    let reg = &state.0.config.registries;
    let (licences, vehicles, roles) =
        tokio::join!(reg.licences(psn), reg.vehicles(psn), reg.roles(psn));
    let mut main = format!("<p>{}</p>", esc(&tr(l, "registries-intro")));
    main.push_str(&section(
        l,
        (
            "licences",
            "registries-licences",
            "registries-source-police",
            "registries-no-licences",
        ),
        licences,
        |items| {
            let rows = items
                .iter()
                .map(|d| {
                    vec![
                        esc(&d.number),
                        esc(&d.categories.join(", ")),
                        day(d.issued),
                        day(d.valid_until),
                        esc(&named(l, "licence-status", &d.status)),
                    ]
                })
                .collect();
            table(
                l,
                "registries-licences",
                &[
                    "licence-number",
                    "licence-categories",
                    "licence-issued",
                    "licence-valid-until",
                    "licence-status",
                ],
                rows,
            )
        },
    ));
    main.push_str(&section(
        l,
        (
            "vehicles",
            "registries-vehicles",
            "registries-source-police",
            "registries-no-vehicles",
        ),
        vehicles,
        |items| {
            let rows = items
                .iter()
                .map(|v| {
                    vec![
                        esc(&v.plate),
                        esc(&format!("{} {}", v.make, v.model)),
                        v.year.to_string(),
                        esc(&named(l, "colour", &v.colour)),
                        esc(&v.vin),
                        day(v.registered),
                    ]
                })
                .collect();
            table(
                l,
                "registries-vehicles",
                &[
                    "vehicle-plate",
                    "vehicle-make",
                    "vehicle-year",
                    "vehicle-colour",
                    "vehicle-vin",
                    "vehicle-registered",
                ],
                rows,
            )
        },
    ));
    main.push_str(&section(
        l,
        (
            "companies",
            "registries-companies",
            "registries-source-justice",
            "registries-no-companies",
        ),
        roles,
        |roles| roles_table(l, roles),
    ));
    Page::new(l, tr(l, "registries-title"))
        .session(&who.session)
        .here(req.uri())
        .main(main)
        .render()
}
