//! `GET /manage`: the register manager's view in a browser (A1.50, A1.55), for an employee holding
//! `manage_register` who logs in with their ID card. Per provider: submissions, rejections, rejection rate,
//! held and late, with providers past the attention thresholds marked; rejections per reason code; the
//! suspensions in force; the held submissions; and a chart of the daily rejection rate (inline SVG, no
//! script). Actions (release, dismiss, suspend, reject an entry) are in the JSON API under
//! `/api/v1/manage/…`.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use popreg_domain::Code;
use popreg_domain::access::Function;
use popreg_domain::classifiers::{Lang, classifiers};

use crate::AppState;
use crate::workspace::{error_page, esc, lang_of, page};

/// A provider needs the manager's attention past this rejection rate (with at least `MIN_SUBMISSIONS`).
pub(crate) const ATTENTION_RATE: f64 = 0.2;
const MIN_SUBMISSIONS: i64 = 10;

struct T {
    title: &'static str,
    period: &'static str,
    body: &'static str,
    submissions: &'static str,
    rejected: &'static str,
    rate: &'static str,
    held: &'static str,
    late: &'static str,
    attention: &'static str,
    codes: &'static str,
    code: &'static str,
    count: &'static str,
    chart: &'static str,
    suspensions: &'static str,
    reason: &'static str,
    until: &'static str,
    none: &'static str,
    held_list: &'static str,
}

fn t(lang: Lang) -> &'static T {
    match lang {
        Lang::Hy => &T {
            title: "Ռեգիստրի վարող. ներկայացումների վերահսկում",
            period: "Ժամանակահատված",
            body: "Մարմին",
            submissions: "Հայտեր",
            rejected: "Մերժված",
            rate: "Մերժման տոկոս",
            held: "Պահված",
            late: "Ուշացած",
            attention: "Ուշադրություն",
            codes: "Մերժումներ ըստ պատճառի",
            code: "Կոդ",
            count: "Քանակ",
            chart: "Մերժումների օրական տոկոսը",
            suspensions: "Գործող կասեցումներ",
            reason: "Պատճառ",
            until: "Մինչև",
            none: "Չկան",
            held_list: "Ստուգման սպասող հայտեր",
        },
        Lang::En => &T {
            title: "Register manager: monitoring submissions",
            period: "Period",
            body: "Body",
            submissions: "Submissions",
            rejected: "Rejected",
            rate: "Rejection rate",
            held: "Held",
            late: "Late",
            attention: "Attention",
            codes: "Rejections by reason",
            code: "Code",
            count: "Count",
            chart: "Daily rejection rate",
            suspensions: "Suspensions in force",
            reason: "Reason",
            until: "Until",
            none: "None",
            held_list: "Submissions held for review",
        },
        Lang::Ru => &T {
            title: "Ведущий регистра: контроль подачи данных",
            period: "Период",
            body: "Орган",
            submissions: "Заявки",
            rejected: "Отклонено",
            rate: "Доля отказов",
            held: "Задержано",
            late: "С опозданием",
            attention: "Внимание",
            codes: "Отказы по причинам",
            code: "Код",
            count: "Число",
            chart: "Доля отказов по дням",
            suspensions: "Действующие приостановления",
            reason: "Причина",
            until: "До",
            none: "Нет",
            held_list: "Заявки, ожидающие проверки",
        },
    }
}

/// Bars of the daily rejection rate, 0–100 %, as an accessible inline SVG.
fn chart(days: &[popreg_store::DayCount], title: &str) -> String {
    let (w, h, pad) = (640.0f64, 160.0f64, 20.0f64);
    let n = days.len().max(1) as f64;
    let bw = (w - 2.0 * pad) / n;
    let mut bars = String::new();
    for (i, d) in days.iter().enumerate() {
        let rate = if d.submissions > 0 {
            d.rejected as f64 / d.submissions as f64
        } else {
            0.0
        };
        let bh = rate * (h - 2.0 * pad);
        bars.push_str(&format!(
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#a33\"><title>{}: {:.0} % ({}/{})</title></rect>",
            pad + i as f64 * bw + 1.0,
            h - pad - bh,
            (bw - 2.0).max(1.0),
            bh,
            esc(&d.day),
            rate * 100.0,
            d.rejected,
            d.submissions
        ));
    }
    format!(
        "<svg role=\"img\" aria-label=\"{t}\" viewBox=\"0 0 {w} {h}\" width=\"100%\" style=\"max-width:40rem\">\
         <line x1=\"{pad}\" y1=\"{y0}\" x2=\"{x1}\" y2=\"{y0}\" stroke=\"#333\"/>\
         <text x=\"0\" y=\"{pad}\" font-size=\"10\">100%</text><text x=\"0\" y=\"{y0}\" font-size=\"10\">0</text>{bars}</svg>",
        t = esc(title),
        y0 = h - pad,
        x1 = w - pad,
    )
}

/// `GET /manage?from=D&to=D&lang=L`
pub(crate) async fn view(State(state): State<AppState>, req: Request) -> Response {
    let lang = lang_of(req.uri(), req.headers());
    let tx = t(lang);
    if let Err(r) = crate::staff::employee(
        &state,
        req.uri(),
        req.headers(),
        req.extensions().get(),
        lang,
        Function::ManageRegister,
    )
    .await
    {
        return r;
    }
    let q = req.uri().query().unwrap_or("");
    let arg = |name: &str| {
        q.split('&')
            .find_map(|p| p.strip_prefix(&format!("{name}=")))
            .and_then(|v| NaiveDate::parse_from_str(v, "%Y-%m-%d").ok())
    };
    let store = &state.0.store;
    let today = popreg_store::armenian_date(store.clock().now());
    let to = arg("to").unwrap_or(today);
    let from = arg("from")
        .unwrap_or(crate::manage::default_from(to))
        .min(to);
    let (stats, suspensions, held) = match (
        crate::manage::stats_for(&state, from, to).await,
        store.suspensions().await,
        store.held_submissions(100).await,
    ) {
        (Ok(a), Ok(b), Ok(c)) => (a, b, c),
        _ => {
            return error_page(
                lang,
                StatusCode::SERVICE_UNAVAILABLE,
                tx.title,
                Code::StorageUnavailable,
            );
        }
    };
    let mut main = format!("<p>{}: {from} — {to}</p>", tx.period);
    main.push_str(&format!(
        "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        tx.body, tx.submissions, tx.rejected, tx.rate, tx.held, tx.late, tx.attention
    ));
    for (id, c) in &stats.bodies {
        let rate = if c.submissions > 0 {
            c.rejected as f64 / c.submissions as f64
        } else {
            0.0
        };
        let flag = c.submissions >= MIN_SUBMISSIONS && rate > ATTENTION_RATE;
        main.push_str(&format!(
            "<tr{}><td>{}</td><td>{}</td><td>{}</td><td>{:.1} %</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            if flag { " class=\"err\"" } else { "" },
            esc(id),
            c.submissions,
            c.rejected,
            rate * 100.0,
            c.held,
            c.late,
            if flag { "⚠" } else { "" }
        ));
    }
    main.push_str("</tbody></table>");
    main.push_str(&format!(
        "<h2>{}</h2>{}",
        tx.chart,
        chart(&stats.days, tx.chart)
    ));
    main.push_str(&format!(
        "<h2>{}</h2><table><thead><tr><th>{}</th><th></th><th>{}</th></tr></thead><tbody>",
        tx.codes, tx.code, tx.count
    ));
    for (code, n) in &stats.codes {
        let title = Code::from_code(code)
            .and_then(|c| classifiers().error_code(c))
            .map(|i| i.title.get(lang))
            .unwrap_or("");
        main.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{n}</td></tr>",
            esc(code),
            esc(title)
        ));
    }
    main.push_str("</tbody></table>");
    main.push_str(&format!("<h2>{}</h2>", tx.suspensions));
    if suspensions.is_empty() {
        main.push_str(&format!("<p>{}</p>", tx.none));
    } else {
        main.push_str(&format!(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
            tx.body, tx.reason, tx.until
        ));
        for s in &suspensions {
            main.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&s.body_id),
                esc(&s.reason),
                s.until
                    .map(|u| u.format("%Y-%m-%d %H:%M UTC").to_string())
                    .unwrap_or_else(|| "—".into())
            ));
        }
        main.push_str("</tbody></table>");
    }
    main.push_str(&format!("<h2>{}</h2>", tx.held_list));
    if held.is_empty() {
        main.push_str(&format!("<p>{}</p>", tx.none));
    } else {
        main.push_str("<ul>");
        for h in &held {
            main.push_str(&format!(
                "<li><code>{}</code> {} {} ({})</li>",
                esc(&h.id),
                esc(&h.kind),
                esc(&h.body_id),
                h.received_at.format("%Y-%m-%d %H:%M")
            ));
        }
        main.push_str("</ul>");
    }
    page(lang, StatusCode::OK, tx.title, &main, None)
}
