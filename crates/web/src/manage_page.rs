//! `GET /manage`: the register manager's view in a browser (A1.50, A1.55), for an employee holding
//! `manage_register` who logs in with their ID card. Per provider: submissions, rejections, rejection rate,
//! held and late, with providers past the attention thresholds marked; rejections per reason code; the
//! suspensions in force; the held submissions; and a chart of the daily rejection rate (inline SVG, no
//! script).
//!
//! Actions on the page (`POST /manage/actions/{action}`, CSRF-guarded like every staff form, hy/en/ru):
//! reject an accepted entry by hand with a reason code and a note (A1.50.2, the same store function as
//! `POST /api/v1/manage/entries/{id}/reject`: a retraction supersedes the entry, nothing is deleted, the
//! provider is told), suspend a body's right to submit with a reason and a last day, and lift a suspension
//! (A1.55). Each is in the audit trail. A refused form comes back with the message next to its field and
//! what was typed kept; a done one redirects to the page with a note (post/redirect/get). Releasing and
//! dismissing held submissions stay in the JSON API under `/api/v1/manage/…`.

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use chrono::NaiveDate;
use popreg_domain::Code;
use popreg_domain::access::Function;
use popreg_domain::classifiers::{Lang, classifiers};
use popreg_store::StoreError;

use crate::AppState;
use crate::staff::Staff;
use crate::workspace::{error_page, esc, lang_of, page};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/manage", get(view))
        .route("/manage/actions/{action}", post(act))
}

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
    reject_title: &'static str,
    entry_id: &'static str,
    reason_code: &'static str,
    note: &'static str,
    reject_go: &'static str,
    suspend_title: &'static str,
    last_day: &'static str,
    suspend_go: &'static str,
    lift_go: &'static str,
    done_rejected: &'static str,
    done_suspended: &'static str,
    done_lifted: &'static str,
    not_number: &'static str,
    unknown_code: &'static str,
    no_entry: &'static str,
    need_reason: &'static str,
    no_body: &'static str,
    bad_day: &'static str,
    no_suspension: &'static str,
    csrf: &'static str,
    refused: &'static str,
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
            reject_title: "Մերժել ընդունված գրառումը",
            entry_id: "Գրառման համար",
            reason_code: "Պատճառի կոդ",
            note: "Նշում",
            reject_go: "Մերժել գրառումը",
            suspend_title: "Կասեցնել մարմնի՝ տվյալներ ներկայացնելու իրավունքը",
            last_day: "Վերջին օրը (ըստ ցանկության)",
            suspend_go: "Կասեցնել",
            lift_go: "Վերացնել կասեցումը",
            done_rejected: "Գրառումը մերժված է, և մատակարարը տեղեկացված է։",
            done_suspended: "Մարմնի իրավունքը կասեցված է։",
            done_lifted: "Կասեցումը վերացված է։",
            not_number: "Մուտքագրեք ամբողջ թիվ։",
            unknown_code: "Ընտրեք ցանկից պատճառի կոդ։",
            no_entry: "Այս համարով ընդունված գրառում, որը հնարավոր է մերժել, չկա։",
            need_reason: "Նշեք պատճառը (առավելագույնը 500 նիշ)։",
            no_body: "Այդպիսի մարմին չկա։",
            bad_day: "Մուտքագրեք ամսաթիվ՝ ՏՏՏՏ-ԱԱ-ՕՕ ձևով, ոչ շուտ, քան այսօր։",
            no_suspension: "Գործող այդպիսի կասեցում չկա։",
            csrf: "Ձևաթուղթը հնացել է․ թարմացրեք էջը և կրկին փորձեք։",
            refused: "Գործողությունը չի կատարվել․ ուղղեք նշված դաշտը։",
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
            reject_title: "Reject an accepted entry",
            entry_id: "Entry number",
            reason_code: "Reason code",
            note: "Note",
            reject_go: "Reject the entry",
            suspend_title: "Suspend a body's right to submit",
            last_day: "Last day (optional)",
            suspend_go: "Suspend",
            lift_go: "Lift the suspension",
            done_rejected: "The entry is rejected, and the provider is told.",
            done_suspended: "The body's right to submit is suspended.",
            done_lifted: "The suspension is lifted.",
            not_number: "Enter a whole number.",
            unknown_code: "Choose a reason code from the list.",
            no_entry: "There is no accepted entry with this number that can be rejected.",
            need_reason: "Give a reason (at most 500 characters).",
            no_body: "There is no such body.",
            bad_day: "Enter a date as YYYY-MM-DD, not before today.",
            no_suspension: "There is no such suspension in force.",
            csrf: "The form has expired: reload the page and try again.",
            refused: "Nothing was done: correct the field marked below.",
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
            reject_title: "Отклонить принятую запись",
            entry_id: "Номер записи",
            reason_code: "Код причины",
            note: "Примечание",
            reject_go: "Отклонить запись",
            suspend_title: "Приостановить право органа подавать данные",
            last_day: "Последний день (необязательно)",
            suspend_go: "Приостановить",
            lift_go: "Снять приостановление",
            done_rejected: "Запись отклонена, поставщик извещён.",
            done_suspended: "Право органа подавать данные приостановлено.",
            done_lifted: "Приостановление снято.",
            not_number: "Введите целое число.",
            unknown_code: "Выберите код причины из списка.",
            no_entry: "Нет принятой записи с этим номером, которую можно отклонить.",
            need_reason: "Укажите причину (не более 500 символов).",
            no_body: "Такого органа нет.",
            bad_day: "Введите дату в виде ГГГГ-ММ-ДД, не раньше сегодняшней.",
            no_suspension: "Такого действующего приостановления нет.",
            csrf: "Форма устарела: обновите страницу и попробуйте снова.",
            refused: "Ничего не сделано: исправьте отмеченное поле.",
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

/// A form on the page that was refused: which form, the field the message belongs next to (empty: the
/// whole form), the message, and what was typed.
struct Refused {
    form: &'static str,
    field: &'static str,
    message: String,
    values: Vec<(String, String)>,
}

impl Refused {
    fn value(&self, form: &str, name: &str) -> String {
        if self.form != form {
            return String::new();
        }
        self.values
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
}

/// The employee of this request holding `manage_register`, or the page that says why not.
fn manager(
    state: &AppState,
    req: &Request,
    lang: Lang,
) -> impl Future<Output = Result<Staff, Response>> + Send + use<> {
    crate::workspace::staff_with(state, req, lang, Function::ManageRegister)
}

/// `GET /manage?from=D&to=D&lang=L[&done=ACTION]`
async fn view(State(state): State<AppState>, req: Request) -> Response {
    let lang = lang_of(req.uri(), req.headers());
    let staff = match manager(&state, &req, lang).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let done = crate::portal::param(req.uri(), "done");
    render(
        &state,
        &staff,
        lang,
        req.uri(),
        req.headers(),
        None,
        done.as_deref(),
    )
    .await
}

/// A label, a text/number/date input and, when refused, the message next to it (tied by
/// `aria-describedby`).
fn input(form: &str, name: &str, label: &str, kind: &str, r: Option<&Refused>) -> String {
    let id = format!("{form}-{name}");
    let value = r.map(|r| r.value(form, name)).unwrap_or_default();
    let err = r.filter(|r| r.form == form && r.field == name);
    let described = if err.is_some() {
        format!(" aria-invalid=\"true\" aria-describedby=\"{id}-error\"")
    } else {
        String::new()
    };
    let mut out = format!(
        "<label for=\"{id}\">{}</label><input type=\"{kind}\" id=\"{id}\" name=\"{name}\" value=\"{}\"{described}>",
        esc(label),
        esc(&value)
    );
    if let Some(e) = err {
        out.push_str(&format!(
            "<p class=\"err\" id=\"{id}-error\">{}</p>",
            esc(&e.message)
        ));
    }
    out
}

/// The opening of an action's form with its CSRF token.
fn form_open(action: &str, lang: Lang, token: &str) -> String {
    format!(
        "<form method=\"post\" action=\"/manage/actions/{action}?lang={}\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        lang.as_str(),
        esc(token)
    )
}

/// The reasons a manager may give for rejecting an entry: the contradiction, validation and duplicate codes.
fn reason_select(lang: Lang, tx: &T, r: Option<&Refused>) -> String {
    let chosen = r
        .map(|r| r.value("reject-entry", "reason_code"))
        .unwrap_or_default();
    let err = r.filter(|r| r.form == "reject-entry" && r.field == "reason_code");
    let mut out = format!(
        "<label for=\"reject-entry-reason_code\">{}</label><select id=\"reject-entry-reason_code\" name=\"reason_code\"{}>",
        tx.reason_code,
        if err.is_some() {
            " aria-invalid=\"true\" aria-describedby=\"reject-entry-reason_code-error\""
        } else {
            ""
        }
    );
    for c in Code::ALL.iter().filter(|c| {
        let s = c.as_str();
        s.starts_with("PSR-CON-") || s.starts_with("PSR-VAL-") || s.starts_with("PSR-DUP-")
    }) {
        let title = classifiers()
            .error_code(*c)
            .map(|i| i.title.get(lang))
            .unwrap_or("");
        out.push_str(&format!(
            "<option value=\"{code}\"{sel}>{code} — {}</option>",
            esc(title),
            code = c.as_str(),
            sel = if chosen == c.as_str() {
                " selected"
            } else {
                ""
            }
        ));
    }
    out.push_str("</select>");
    if let Some(e) = err {
        out.push_str(&format!(
            "<p class=\"err\" id=\"reject-entry-reason_code-error\">{}</p>",
            esc(&e.message)
        ));
    }
    out
}

/// The page, with a refused form's message next to its field, or the note of a done action.
#[allow(clippy::too_many_arguments)]
async fn render(
    state: &AppState,
    staff: &Staff,
    lang: Lang,
    uri: &Uri,
    headers: &HeaderMap,
    refused: Option<&Refused>,
    done: Option<&str>,
) -> Response {
    let tx = t(lang);
    let q = uri.query().unwrap_or("");
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
        crate::manage::stats_for(state, from, to).await,
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
    // With a session, the session's CSRF token; with the card alone, the double-submit cookie.
    let (token, set) = match &staff.session {
        Some(s) => (s.csrf.clone(), false),
        None => (
            crate::workspace::cookie_token(headers)
                .filter(|c| c.len() == 48)
                .unwrap_or_else(crate::workspace::new_token),
            true,
        ),
    };
    let mut main = String::new();
    let note = match done {
        Some("reject-entry") => Some(tx.done_rejected),
        Some("suspend") => Some(tx.done_suspended),
        Some("lift") => Some(tx.done_lifted),
        _ => None,
    };
    if let Some(n) = note {
        main.push_str(&format!("<p class=\"ok\" role=\"status\">{n}</p>"));
    }
    if let Some(r) = refused {
        main.push_str(&format!(
            "<p class=\"err\" role=\"alert\">{}</p>",
            tx.refused
        ));
        if r.field.is_empty() {
            main.push_str(&format!("<p class=\"err\">{}</p>", esc(&r.message)));
        }
    }
    main.push_str(&format!("<p>{}: {from} — {to}</p>", tx.period));
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
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th></th></tr></thead><tbody>",
            tx.body, tx.reason, tx.until
        ));
        for s in &suspensions {
            main.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}<input type=\"hidden\" name=\"suspension_id\" value=\"{}\">\
                 <button type=\"submit\" aria-label=\"{} {}\">{}</button></form></td></tr>",
                esc(&s.body_id),
                esc(&s.reason),
                s.until
                    .map(|u| u.format("%Y-%m-%d %H:%M UTC").to_string())
                    .unwrap_or_else(|| "—".into()),
                form_open("lift", lang, &token),
                s.id,
                tx.lift_go,
                esc(&s.body_id),
                tx.lift_go,
            ));
        }
        main.push_str("</tbody></table>");
    }
    main.push_str(&format!("<h2>{}</h2>", tx.suspend_title));
    main.push_str(&form_open("suspend", lang, &token));
    main.push_str(&input("suspend", "body_id", tx.body, "text", refused));
    main.push_str(&input("suspend", "reason", tx.reason, "text", refused));
    main.push_str(&input("suspend", "until", tx.last_day, "date", refused));
    main.push_str(&format!(
        "<button type=\"submit\">{}</button></form>",
        tx.suspend_go
    ));
    main.push_str(&format!("<h2>{}</h2>", tx.reject_title));
    main.push_str(&form_open("reject-entry", lang, &token));
    main.push_str(&input(
        "reject-entry",
        "entry_id",
        tx.entry_id,
        "number",
        refused,
    ));
    main.push_str(&reason_select(lang, tx, refused));
    main.push_str(&input("reject-entry", "note", tx.note, "text", refused));
    main.push_str(&format!(
        "<button type=\"submit\">{}</button></form>",
        tx.reject_go
    ));
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
    let status = if refused.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    page(lang, status, tx.title, &main, set.then_some(token.as_str()))
}

/// Why an action was not done: the form's content (shown next to a field), or the store being down.
enum NotDone {
    Refused(&'static str, String),
    Unavailable,
}

/// A store refusal (unknown, conflict) is the form's business; anything else is an outage.
fn refusal<'a>(field: &'static str, message: &'a str) -> impl Fn(StoreError) -> NotDone + 'a {
    move |e| match e {
        StoreError::Domain(_) => NotDone::Refused(field, message.to_string()),
        other => {
            tracing::error!(error = %other, "manager page: store");
            NotDone::Unavailable
        }
    }
}

/// Carry out one action of the page.
async fn carry_out(
    state: &AppState,
    staff: &Staff,
    tx: &T,
    action: &str,
    field: &(dyn Fn(&str) -> String + Sync),
) -> Result<(), NotDone> {
    let store = &state.0.store;
    let by = &staff.caller;
    match action {
        "reject-entry" => {
            let id: i64 = field("entry_id")
                .parse()
                .map_err(|_| NotDone::Refused("entry_id", tx.not_number.into()))?;
            let code = Code::from_code(&field("reason_code"))
                .ok_or_else(|| NotDone::Refused("reason_code", tx.unknown_code.into()))?;
            let note: String = field("note").chars().take(500).collect();
            store
                .retract_entry(id, code, &note, by)
                .await
                .map_err(refusal("entry_id", tx.no_entry))?;
            tracing::info!(target: "audit", entry = id, by = %by.user_uid, "entry rejected by the manager (A1.50.2)");
        }
        "suspend" => {
            let body_id = field("body_id");
            let reason = field("reason");
            if store
                .body(&body_id)
                .await
                .map_err(refusal("body_id", tx.no_body))?
                .is_none()
            {
                return Err(NotDone::Refused("body_id", tx.no_body.into()));
            }
            if reason.is_empty() || reason.chars().count() > 500 {
                return Err(NotDone::Refused("reason", tx.need_reason.into()));
            }
            let today = popreg_store::armenian_date(store.clock().now());
            let until = match field("until").as_str() {
                "" => None,
                s => Some(
                    NaiveDate::parse_from_str(s, "%Y-%m-%d")
                        .ok()
                        .filter(|d| *d >= today)
                        .ok_or_else(|| NotDone::Refused("until", tx.bad_day.into()))?,
                ),
            };
            let id = store
                .suspend(
                    &body_id,
                    &reason,
                    until.map(crate::manage::last_day_end),
                    &by.user_uid,
                )
                .await
                .map_err(refusal("body_id", tx.no_body))?;
            tracing::info!(target: "audit", body = %body_id, by = %by.user_uid, id, "right to submit suspended");
        }
        "lift" => {
            let id: i64 = field("suspension_id").parse().unwrap_or(-1);
            let lifted = store
                .lift_suspension(id, &by.user_uid)
                .await
                .map_err(refusal("", tx.no_suspension))?;
            if !lifted {
                return Err(NotDone::Refused("", tx.no_suspension.into()));
            }
            tracing::info!(target: "audit", id, by = %by.user_uid, "suspension lifted");
        }
        _ => return Err(NotDone::Refused("", tx.refused.into())),
    }
    Ok(())
}

/// `POST /manage/actions/{action}` (`reject-entry`, `suspend`, `lift`): a form of the page.
async fn act(State(state): State<AppState>, Path(action): Path<String>, req: Request) -> Response {
    let lang = lang_of(req.uri(), req.headers());
    let tx = t(lang);
    let staff = match manager(&state, &req, lang).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let form: &'static str = match action.as_str() {
        "reject-entry" => "reject-entry",
        "suspend" => "suspend",
        "lift" => "lift",
        _ => return error_page(lang, StatusCode::NOT_FOUND, tx.title, Code::RouteNotFound),
    };
    let (uri, headers) = (req.uri().clone(), req.headers().clone());
    let pairs = match crate::workspace::read_form(req, 64 * 1024, tx.title, lang).await {
        Ok((_, pairs)) => pairs,
        Err(r) => return r,
    };
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    if !crate::staff::form_genuine(&staff, &headers, &field("csrf")) {
        tracing::warn!(target: "security", user = %staff.caller.user_uid, "manager page: CSRF token mismatch");
        return page(
            lang,
            StatusCode::FORBIDDEN,
            tx.title,
            &format!("<p class=\"err\" role=\"alert\">{}</p>", tx.csrf),
            None,
        );
    }
    match carry_out(&state, &staff, tx, form, &field).await {
        Ok(()) => crate::portal::redirect(&format!("/manage?lang={}&done={form}", lang.as_str())),
        Err(NotDone::Unavailable) => error_page(
            lang,
            StatusCode::SERVICE_UNAVAILABLE,
            tx.title,
            Code::StorageUnavailable,
        ),
        Err(NotDone::Refused(f, message)) => {
            let values = pairs.into_iter().filter(|(k, _)| k != "csrf").collect();
            let r = Refused {
                form,
                field: f,
                message,
                values,
            };
            render(&state, &staff, lang, &uri, &headers, Some(&r), None).await
        }
    }
}
