//! `/appointments/staff`: the Appointment Booking System for a body's staff (A1.5.4, security class
//! C2 I1 A1), for an employee holding `staff_appointments`, logged in to the portal (a session; see
//! [`crate::staff`]).
//!
//! On one page, for a day (Yerevan; today by default): the body's services and the form to add one, the
//! form to open slots (a day, from–to, every so many minutes, places per slot), and the day's slots with
//! their bookings: the visitor's PSN and — when the body may read persons — their name, read through the
//! access gate (a usage record the person sees), the purpose, the status; a visit whose time has come is
//! marked attended or no-show; an upcoming slot is cancelled with a reason, and each booked person gets a
//! notice in their portal inbox in the language they booked in. Every form carries the session's CSRF token
//! and must come from this origin; a refusal comes back next to its field with what was typed kept.

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{NaiveDate, NaiveTime};
use popreg_domain::Psn;
use popreg_domain::access::Function;
use popreg_domain::classifiers::Lang;
use popreg_store::{
    Booking, BookingNote, BookingStatus, NewService, Released, Session, SlotPlan, StoreError, View,
};
use serde_json::Value;

use crate::AppState;
use crate::portal::appointments::{lang_of, refusal_text, security_class, status_text};
use crate::portal::data::local;
use crate::portal::{Page, coded_html, csrf_field, form_field, param, redirect, tr, tr_args};
use crate::staff::Staff;
use crate::workspace::esc;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/appointments/staff", get(home))
        .route("/appointments/staff/services", post(add_service))
        .route("/appointments/staff/slots", post(open_slots))
        .route("/appointments/staff/slots/{id}/cancel", post(cancel_slot))
        .route("/appointments/staff/bookings/{id}/{action}", post(mark))
}

const HERE: &str = "/appointments/staff";

/// A refused form: which form, the field, the reason, what was typed.
struct Refused {
    form: &'static str,
    field: String,
    message: String,
    values: Vec<(String, String)>,
}

impl Refused {
    fn value(&self, form: &str, name: &str) -> Option<&str> {
        (self.form == form)
            .then(|| self.values.iter().find(|(k, _)| k == name))
            .flatten()
            .map(|(_, v)| v.as_str())
    }
}

/// The notice a person gets when the staff cancel their slot, in the language they booked in.
fn cancelled_note(b: &Booking, reason: &str) -> BookingNote {
    let l = lang_of(b);
    let when = local(b.starts_at);
    let reason = if reason.trim().is_empty() {
        tr(l, "appt-note-no-reason")
    } else {
        reason.trim().to_string()
    };
    BookingNote {
        subject: tr_args(
            l,
            "appt-note-cancelled-subject",
            &[("time", when.clone().into())],
        ),
        text: tr_args(
            l,
            "appt-note-cancelled-text",
            &[
                ("service", b.service.name(l.as_str()).to_string().into()),
                ("body", b.service.body.name(l.as_str()).to_string().into()),
                ("time", when.into()),
                ("reason", reason.into()),
            ],
        ),
    }
}

/// The day of the page: `?day=`, else today in Yerevan.
fn day_of(state: &AppState, uri: &axum::http::Uri) -> NaiveDate {
    param(uri, "day")
        .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok())
        .unwrap_or_else(|| popreg_store::armenian_date(state.0.store.clock().now()))
}

/// A person's name as the gate releases it to this body, or `None` (no `read_persons`, no grant covering
/// the names, not in the register).
async fn visitor_name(state: &AppState, staff: &Staff, psn: &str, l: Lang) -> Option<String> {
    if !staff.caller.may(Function::ReadPersons) {
        return None;
    }
    let psn = Psn::parse(psn).ok()?;
    let release = state
        .0
        .store
        .read_person(&staff.caller, psn, View::Current)
        .await
        .ok()??;
    let doc: Value = match release.data {
        Released::Person(map) => Value::Object(map),
        Released::PersonJson(text) => serde_json::from_str(&text).ok()?,
        _ => return None,
    };
    let part = |p: &str| {
        let n = &doc["names"][p];
        let v = if l == Lang::Hy { &n["hy"] } else { &n["lat"] };
        v.as_str().map(str::to_string)
    };
    Some(format!("{} {}", part("first")?, part("surname")?))
}

/// The page for the staff's day, with a note or a refused form.
#[allow(clippy::too_many_arguments)]
async fn render(
    state: &AppState,
    l: Lang,
    staff: &Staff,
    session: &Session,
    day: NaiveDate,
    note: Option<String>,
    refused: Option<&Refused>,
    status: StatusCode,
) -> Response {
    let store = &state.0.store;
    let body = &staff.caller.body_id;
    let (services, slots, bookings) = match (
        store.services(Some(body)).await,
        store.body_slots(body, day).await,
        store.body_bookings(body, day).await,
    ) {
        (Ok(a), Ok(b), Ok(c)) => (a, b, c),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return failed(l, session, e),
    };
    let now = store.clock().now();
    let kept = |form: &str, name: &str, default: &str| {
        refused
            .and_then(|r| r.value(form, name))
            .unwrap_or(default)
            .to_string()
    };
    let error = |form: &str, field: &str| match refused.filter(|r| {
        r.form == form && (r.field == field || (field.is_empty() && r.field.is_empty()))
    }) {
        Some(r) => format!(
            "<p class=\"err\" role=\"alert\" id=\"{form}-{field}-error\">{}</p>",
            esc(&r.message)
        ),
        None => String::new(),
    };
    let mut main = format!(
        "<p>{}</p>",
        esc(&tr_args(
            l,
            "appt-staff-intro",
            &[("body", staff.body_name.clone().into())]
        ))
    );
    if let Some(n) = note {
        main.push_str(&format!("<p class=\"ok\" role=\"status\">{}</p>", esc(&n)));
    }
    // The day.
    main.push_str(&format!(
        "<form method=\"get\" action=\"{HERE}\"><p><label for=\"day\">{}</label> \
         <input type=\"date\" id=\"day\" name=\"day\" value=\"{day}\"> <button type=\"submit\" class=\"secondary\">{}</button></p></form>",
        esc(&tr(l, "appt-staff-day")),
        esc(&tr(l, "appt-staff-show")),
    ));
    // The day's slots and bookings.
    main.push_str(&format!(
        "<section aria-labelledby=\"slots\"><h2 id=\"slots\">{}</h2>{}",
        esc(&tr_args(
            l,
            "appt-staff-slots",
            &[("day", day.to_string().into())]
        )),
        error("cancel", "")
    ));
    if slots.is_empty() {
        main.push_str(&format!("<p>{}</p>", esc(&tr(l, "appt-staff-no-slots"))));
    }
    for s in &slots {
        let state_text = if s.cancelled_at.is_some() {
            tr(l, "appt-staff-slot-cancelled")
        } else {
            tr_args(
                l,
                "appt-staff-slot-booked",
                &[("booked", s.booked.into()), ("capacity", s.capacity.into())],
            )
        };
        main.push_str(&format!(
            "<article class=\"record\" id=\"slot-{id}\"><h3><time datetime=\"{iso}\">{when}</time> — {service}</h3><p>{state_text}</p>",
            id = esc(&s.id),
            iso = s.starts_at.to_rfc3339(),
            when = esc(&local(s.starts_at)),
            service = esc(s.service.name(l.as_str())),
            state_text = esc(&state_text),
        ));
        let mine: Vec<&Booking> = bookings.iter().filter(|b| b.slot_id == s.id).collect();
        if !mine.is_empty() {
            main.push_str(&format!(
                "<div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th>\
                 <th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
                esc(&tr(l, "appt-col-visitor")),
                esc(&tr(l, "field-psn")),
                esc(&tr(l, "appt-col-purpose")),
                esc(&tr(l, "appt-col-status")),
                esc(&tr(l, "appt-col-action")),
            ));
            for b in mine {
                let name = visitor_name(state, staff, &b.psn, l)
                    .await
                    .unwrap_or_else(|| tr(l, "appt-staff-name-hidden"));
                let actions = if b.status == BookingStatus::Booked && b.starts_at <= now {
                    ["attended", "no_show"]
                        .iter()
                        .map(|a| {
                            format!(
                                "<form method=\"post\" action=\"{HERE}/bookings/{id}/{a}?day={day}\" style=\"display:inline\">{csrf}\
                                 <button type=\"submit\" class=\"secondary\">{label}</button></form> ",
                                id = esc(&b.id),
                                csrf = csrf_field(session),
                                label = esc(&tr(l, &format!("appt-staff-mark-{a}"))),
                            )
                        })
                        .collect::<String>()
                } else {
                    String::new()
                };
                main.push_str(&format!(
                    "<tr id=\"booking-{id}\"><td>{name}</td><td>{psn}</td><td>{purpose}</td><td>{status}</td><td>{actions}</td></tr>",
                    id = esc(&b.id),
                    name = esc(&name),
                    psn = esc(&b.psn),
                    purpose = esc(&b.purpose),
                    status = esc(&status_text(l, b.status)),
                ));
            }
            main.push_str("</tbody></table></div>");
        }
        if s.cancelled_at.is_none() && s.starts_at > now {
            main.push_str(&format!(
                "<form method=\"post\" action=\"{HERE}/slots/{id}/cancel?day={day}\">{csrf}\
                 <p><label for=\"reason-{id}\">{reason_l}</label> <input type=\"text\" id=\"reason-{id}\" name=\"reason\" maxlength=\"500\"> \
                 <button type=\"submit\" class=\"secondary\">{cancel}</button></p></form>",
                id = esc(&s.id),
                csrf = csrf_field(session),
                reason_l = esc(&tr(l, "appt-staff-reason")),
                cancel = esc(&tr(l, "appt-staff-cancel-slot")),
            ));
        }
        main.push_str("</article>");
    }
    main.push_str("</section>");
    // Opening slots.
    let mut options = String::new();
    let chosen = kept("slots", "service", "");
    for s in &services {
        options.push_str(&format!(
            "<option value=\"{id}\"{sel}>{name} ({minutes})</option>",
            id = esc(&s.id),
            sel = if chosen == s.id { " selected" } else { "" },
            name = esc(s.name(l.as_str())),
            minutes = esc(&tr_args(
                l,
                "appt-minutes",
                &[("minutes", s.minutes.into())]
            )),
        ));
    }
    main.push_str(&format!(
        "<section aria-labelledby=\"open\"><h2 id=\"open\">{title}</h2>",
        title = esc(&tr(l, "appt-staff-open"))
    ));
    if services.is_empty() {
        main.push_str(&format!("<p>{}</p>", esc(&tr(l, "appt-staff-no-services"))));
    } else {
        let input = |name: &str, kind: &str, default: &str, extra: &str| {
            let err = error("slots", name);
            let aria = if err.is_empty() {
                String::new()
            } else {
                format!(" aria-invalid=\"true\" aria-describedby=\"slots-{name}-error\"")
            };
            format!(
                "<p><label for=\"slots-{name}\">{label} *</label><br><input type=\"{kind}\" id=\"slots-{name}\" name=\"{name}\" \
                 value=\"{value}\" required{extra}{aria}></p>{err}",
                label = esc(&tr(l, &format!("appt-staff-field-{name}"))),
                value = esc(&kept("slots", name, default)),
            )
        };
        main.push_str(&format!(
            "<form method=\"post\" action=\"{HERE}/slots?day={day}\">{csrf}{general}\
             <p><label for=\"slots-service\">{service_l} *</label><br><select id=\"slots-service\" name=\"service\" required>{options}</select></p>{service_err}\
             {date}{from}{to}{every}{capacity}<p><button type=\"submit\">{open}</button></p></form>",
            csrf = csrf_field(session),
            general = error("slots", ""),
            service_l = esc(&tr(l, "appt-staff-field-service")),
            service_err = error("slots", "service"),
            date = input("date", "date", &day.to_string(), ""),
            from = input("from", "time", "09:00", ""),
            to = input("to", "time", "13:00", ""),
            every = input("every", "number", "30", " min=\"5\" max=\"480\""),
            capacity = input("capacity", "number", "1", " min=\"1\" max=\"50\""),
            open = esc(&tr(l, "appt-staff-open-button")),
        ));
    }
    main.push_str("</section>");
    // Services.
    main.push_str(&format!(
        "<section aria-labelledby=\"services\"><h2 id=\"services\">{}</h2><ul>",
        esc(&tr(l, "appt-staff-services"))
    ));
    for s in &services {
        main.push_str(&format!(
            "<li>{} / {} / {} — {}</li>",
            esc(&s.name_hy),
            esc(&s.name_en),
            esc(&s.name_ru),
            esc(&tr_args(
                l,
                "appt-minutes",
                &[("minutes", s.minutes.into())]
            ))
        ));
    }
    main.push_str("</ul>");
    let field = |name: &str, kind: &str, required: bool, extra: &str| {
        let err = error("service", name);
        let aria = if err.is_empty() {
            String::new()
        } else {
            format!(" aria-invalid=\"true\" aria-describedby=\"service-{name}-error\"")
        };
        format!(
            "<p><label for=\"service-{name}\">{label}{star}</label><br><input type=\"{kind}\" id=\"service-{name}\" \
             name=\"{name}\" value=\"{value}\"{req}{extra}{aria}></p>{err}",
            label = esc(&tr(l, &format!("appt-staff-field-{name}"))),
            star = if required { " *" } else { "" },
            req = if required { " required" } else { "" },
            value = esc(&kept(
                "service",
                name,
                if name == "minutes" { "20" } else { "" }
            )),
        )
    };
    main.push_str(&format!(
        "<h3>{title}</h3><form method=\"post\" action=\"{HERE}/services?day={day}\">{csrf}{general}{hy}{en}{ru}{minutes}\
         <p><button type=\"submit\">{add}</button></p></form></section>",
        title = esc(&tr(l, "appt-staff-add-service")),
        csrf = csrf_field(session),
        general = error("service", ""),
        hy = field("name_hy", "text", true, " maxlength=\"200\" lang=\"hy\""),
        en = field("name_en", "text", false, " maxlength=\"200\" lang=\"en\""),
        ru = field("name_ru", "text", false, " maxlength=\"200\" lang=\"ru\""),
        minutes = field("minutes", "number", true, " min=\"5\" max=\"480\""),
        add = esc(&tr(l, "appt-staff-add-service")),
    ));
    main.push_str(&security_class(l));
    Page::new(l, tr(l, "appt-staff-title"))
        .status(status)
        .session(session)
        .here_path(&format!("{HERE}?day={day}"))
        .main(main)
        .render()
}

fn failed(l: Lang, session: &Session, e: StoreError) -> Response {
    tracing::error!(error = %e, "appointments: store");
    Page::new(l, tr(l, "appt-staff-title"))
        .status(crate::portal::code_status(e.code()))
        .session(session)
        .here_path(HERE)
        .main(coded_html(l, e.code()))
        .render()
}

/// A checked staff form: the employee with `staff_appointments` and their session (else the way to log in
/// or the refusal), the page's language and day, the form's fields; a forged form is refused (`403`).
struct StaffForm {
    l: Lang,
    staff: Staff,
    session: Session,
    day: NaiveDate,
    body: axum::body::Bytes,
}

impl StaffForm {
    fn field(&self, name: &str) -> String {
        form_field(&self.body, name).unwrap_or_default()
    }

    fn values(&self, names: &[&str]) -> Vec<(String, String)> {
        names
            .iter()
            .map(|n| (n.to_string(), self.field(n)))
            .collect()
    }
}

async fn staff_form(state: &AppState, req: Request) -> Result<StaffForm, Response> {
    let l = crate::portal::lang(req.uri(), req.headers());
    let (parts, body) = req.into_parts();
    let (staff, session) =
        crate::staff::with_session(state, &parts, l, Function::StaffAppointments).await?;
    let body = axum::body::to_bytes(body, 16 * 1024)
        .await
        .unwrap_or_default();
    if let Some(r) = crate::portal::forged(&parts.headers, &session, &body, l) {
        return Err(r);
    }
    Ok(StaffForm {
        l,
        day: day_of(state, &parts.uri),
        staff,
        session,
        body,
    })
}

/// After a change: back to the day's page with a note.
fn done(day: NaiveDate, what: &str) -> Response {
    redirect(&format!("{HERE}?day={day}&done={what}"))
}

/// A store refusal of form `form`, on `field` for a coded domain refusal; any other failure is the error
/// page.
async fn refused(
    state: &AppState,
    f: &StaffForm,
    form: &'static str,
    field: &str,
    values: Vec<(String, String)>,
    e: StoreError,
) -> Response {
    if !matches!(e, StoreError::Domain(_)) {
        return failed(f.l, &f.session, e);
    }
    let status = crate::portal::code_status(e.code());
    let r = Refused {
        form,
        field: field.to_string(),
        message: refusal_text(f.l, &e),
        values,
    };
    render(
        state,
        f.l,
        &f.staff,
        &f.session,
        f.day,
        None,
        Some(&r),
        status,
    )
    .await
}

/// `GET /appointments/staff?day=YYYY-MM-DD`
async fn home(State(state): State<AppState>, req: Request) -> Response {
    let l = crate::portal::lang(req.uri(), req.headers());
    let (parts, _) = req.into_parts();
    let (staff, session) =
        match crate::staff::with_session(&state, &parts, l, Function::StaffAppointments).await {
            Ok(x) => x,
            Err(r) => return r,
        };
    let note = param(&parts.uri, "done")
        .filter(|d| ["service", "slots", "cancelled", "attended", "no_show"].contains(&d.as_str()))
        .map(|d| {
            tr_args(
                l,
                &format!("appt-staff-done-{d}"),
                &[(
                    "count",
                    param(&parts.uri, "n")
                        .and_then(|n| n.parse::<i64>().ok())
                        .unwrap_or(0)
                        .into(),
                )],
            )
        });
    let day = day_of(&state, &parts.uri);
    render(&state, l, &staff, &session, day, note, None, StatusCode::OK).await
}

/// `POST /appointments/staff/services`: `name_hy`, `name_en`, `name_ru`, `minutes`.
async fn add_service(State(state): State<AppState>, req: Request) -> Response {
    let f = match staff_form(&state, req).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let values = f.values(&["name_hy", "name_en", "name_ru", "minutes"]);
    let minutes = f.field("minutes").trim().parse::<i64>().unwrap_or(0);
    let s = NewService {
        name_hy: f.field("name_hy"),
        name_en: f.field("name_en"),
        name_ru: f.field("name_ru"),
        minutes,
    };
    match state.0.store.add_service(&f.staff.caller, &s).await {
        Ok(_) => done(f.day, "service"),
        Err(e) => {
            let field = match &e {
                StoreError::Domain(d) if d.detail.starts_with("minutes") => "minutes",
                StoreError::Domain(d) => ["name_hy", "name_en", "name_ru"]
                    .into_iter()
                    .find(|n| d.detail.starts_with(n))
                    .unwrap_or(""),
                _ => "",
            };
            refused(&state, &f, "service", field, values, e).await
        }
    }
}

/// `POST /appointments/staff/slots`: `service`, `date`, `from`, `to`, `every`, `capacity`.
async fn open_slots(State(state): State<AppState>, req: Request) -> Response {
    let f = match staff_form(&state, req).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let values = f.values(&["service", "date", "from", "to", "every", "capacity"]);
    let time = |n: &str| NaiveTime::parse_from_str(f.field(n).trim(), "%H:%M").ok();
    let bad = |field: &str| {
        StoreError::Domain(popreg_domain::DomainError::new(
            popreg_domain::Code::SlotPlanInvalid,
            format!("{field} is not valid"),
        ))
    };
    let plan = (|| {
        Ok(SlotPlan {
            service_id: f.field("service"),
            day: NaiveDate::parse_from_str(f.field("date").trim(), "%Y-%m-%d")
                .map_err(|_| ("date", bad("date")))?,
            from: time("from").ok_or_else(|| ("from", bad("from")))?,
            to: time("to").ok_or_else(|| ("to", bad("to")))?,
            every_minutes: f
                .field("every")
                .trim()
                .parse()
                .map_err(|_| ("every", bad("every")))?,
            capacity: f
                .field("capacity")
                .trim()
                .parse()
                .map_err(|_| ("capacity", bad("capacity")))?,
        })
    })();
    let plan: SlotPlan = match plan {
        Ok(p) => p,
        Err((field, e)) => return refused(&state, &f, "slots", field, values, e).await,
    };
    match state.0.store.open_slots(&f.staff.caller, &plan).await {
        Ok(n) => redirect(&format!("{HERE}?day={}&done=slots&n={n}", plan.day)),
        Err(e) => {
            let field = match e.code() {
                popreg_domain::Code::ServiceUnknown => "service",
                _ => "",
            };
            refused(&state, &f, "slots", field, values, e).await
        }
    }
}

/// `POST /appointments/staff/slots/{id}/cancel`: `reason` (optional).
async fn cancel_slot(
    State(state): State<AppState>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let f = match staff_form(&state, req).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let reason = f.field("reason");
    let settings = &state.0.config.contacts;
    match state
        .0
        .store
        .cancel_slot(&f.staff.caller, &id, Some(&reason), settings, |b| {
            cancelled_note(b, &reason)
        })
        .await
    {
        Ok(cancelled) => redirect(&format!(
            "{HERE}?day={}&done=cancelled&n={}",
            f.day,
            cancelled.len()
        )),
        Err(e) => refused(&state, &f, "cancel", "", vec![], e).await,
    }
}

/// `POST /appointments/staff/bookings/{id}/{action}`: `attended` or `no_show`.
async fn mark(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    req: Request,
) -> Response {
    let f = match staff_form(&state, req).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let status = match action.as_str() {
        "attended" => BookingStatus::Attended,
        "no_show" => BookingStatus::NoShow,
        _ => {
            return Page::new(f.l, tr(f.l, "appt-staff-title"))
                .status(StatusCode::NOT_FOUND)
                .session(&f.session)
                .main(coded_html(f.l, popreg_domain::Code::BookingUnknown))
                .render();
        }
    };
    match state
        .0
        .store
        .mark_booking(&f.staff.caller, &id, status)
        .await
    {
        Ok(_) => done(f.day, status.as_str()),
        Err(e) => refused(&state, &f, "cancel", "", vec![], e).await,
    }
}
