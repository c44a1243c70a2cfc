//! My appointments (A1.5.4 Appointment Booking System, security class C2 I1 A1; issue 6): the person sees
//! the free times of the next 30 days by body and service, books one with a purpose, sees their upcoming
//! and past bookings and cancels their own upcoming one. A booking is confirmed in the portal inbox. The desk
//! shows the next three ([`desk_block`]).
//!
//! Every form carries the session's CSRF token; a refusal comes back next to the field, with what was typed
//! kept. Another person's booking and a booking that does not exist are the same `404`.

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use popreg_domain::Code;
use popreg_domain::classifiers::{Lang, classifiers};
use popreg_store::{BOOKING_SECURITY_CLASS, Booking, BookingNote, BookingStatus, Slot, StoreError};

use super::data::{failed, local};
use super::{Citizen, Page, csrf_field, form_field, param, posted, redirect, tr, tr_args, viewer};
use crate::AppState;
use crate::workspace::esc;

/// Upcoming bookings on the desk.
const DESK_BOOKINGS: i64 = 3;
/// Free times offered per service in its list (the soonest).
const TIMES_PER_SERVICE: usize = 60;

/// The language of a stored booking, for the messages about it.
pub(crate) fn lang_of(b: &Booking) -> Lang {
    Lang::parse(&b.lang).unwrap_or(Lang::Hy)
}

/// The confirmation put into the person's inbox, in the language they booked in.
pub(crate) fn booked_note(b: &Booking) -> BookingNote {
    let l = lang_of(b);
    let when = local(b.starts_at);
    BookingNote {
        subject: tr_args(
            l,
            "appt-note-booked-subject",
            &[("time", when.clone().into())],
        ),
        text: tr_args(
            l,
            "appt-note-booked-text",
            &[
                ("service", b.service.name(l.as_str()).to_string().into()),
                ("body", b.service.body.name(l.as_str()).to_string().into()),
                ("time", when.into()),
                ("minutes", b.minutes.into()),
                ("purpose", b.purpose.clone().into()),
                ("id", b.id.clone().into()),
            ],
        ),
    }
}

/// The security class of the module, shown on its pages (A1.8).
pub(crate) fn security_class(l: Lang) -> String {
    format!(
        "<p class=\"src\" id=\"security-class\">{}</p>",
        esc(&tr_args(
            l,
            "appt-security-class",
            &[("class", BOOKING_SECURITY_CLASS.into())]
        ))
    )
}

/// A refusal in the page's language: the code's title and code, then what to do.
pub(crate) fn refusal_text(l: Lang, e: &StoreError) -> String {
    let code = e.code();
    match classifiers().error_code(code) {
        Some(i) => format!(
            "{} ({}). {}",
            i.title.get(l),
            code.as_str(),
            i.explanation.get(l)
        ),
        None => code.as_str().to_string(),
    }
}

/// The status of a booking, in words.
pub(crate) fn status_text(l: Lang, s: BookingStatus) -> String {
    tr(l, &format!("appt-status-{}", s.as_str()))
}

/// The next bookings of the person for the desk (G.3), with the link to the appointments page.
pub(crate) async fn desk_block(state: &AppState, who: &Citizen, l: Lang) -> String {
    let next = state
        .0
        .store
        .upcoming_bookings(who.session.psn, DESK_BOOKINGS)
        .await
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "desk: upcoming appointments");
            vec![]
        });
    let mut out = format!(
        "<section aria-labelledby=\"desk-appointments\"><h2 id=\"desk-appointments\">{}</h2>",
        esc(&tr(l, "desk-appointments"))
    );
    if next.is_empty() {
        out.push_str(&format!(
            "<p id=\"desk-appointments-none\">{}</p>",
            esc(&tr(l, "desk-appointments-none"))
        ));
    } else {
        out.push_str("<ul id=\"desk-appointments-list\">");
        for b in &next {
            out.push_str(&format!(
                "<li><time datetime=\"{}\">{}</time> — {} — {}</li>",
                b.starts_at.to_rfc3339(),
                esc(&local(b.starts_at)),
                esc(b.service.body.name(l.as_str())),
                esc(b.service.name(l.as_str())),
            ));
        }
        out.push_str("</ul>");
    }
    out.push_str(&format!(
        "<p><a href=\"/my/appointments\">{}</a></p></section>",
        esc(&tr(l, "desk-appointments-link"))
    ));
    out
}

/// A refused booking form: the service whose form it was, the field, the reason, what was typed.
struct Refused {
    service: String,
    field: &'static str,
    message: String,
    slot: String,
    purpose: String,
}

/// The page: notes, my upcoming bookings, my past ones, the free times by service.
async fn render(
    state: &AppState,
    l: Lang,
    who: &Citizen,
    note: Option<String>,
    refused: Option<&Refused>,
    status: StatusCode,
) -> Response {
    let store = &state.0.store;
    let (mine, free) = match (
        store.bookings_of(who.session.psn).await,
        store.free_slots().await,
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return failed(l, e),
    };
    let now = store.clock().now();
    let mut main = String::new();
    if let Some(n) = note {
        main.push_str(&format!("<p class=\"ok\" role=\"status\">{}</p>", esc(&n)));
    }
    main.push_str(&format!("<p>{}</p>", esc(&tr(l, "appt-intro"))));
    let (upcoming, past): (Vec<&Booking>, Vec<&Booking>) = mine
        .iter()
        .partition(|b| b.status == BookingStatus::Booked && b.starts_at > now);
    main.push_str(&format!(
        "<section aria-labelledby=\"upcoming\"><h2 id=\"upcoming\">{}</h2>",
        esc(&tr(l, "appt-upcoming"))
    ));
    if upcoming.is_empty() {
        main.push_str(&format!("<p>{}</p>", esc(&tr(l, "appt-none"))));
    } else {
        main.push_str(&bookings_table(l, who, upcoming.into_iter().rev(), true));
    }
    main.push_str("</section>");
    main.push_str(&free_times(l, who, &free, refused));
    main.push_str(&format!(
        "<section aria-labelledby=\"past\"><h2 id=\"past\">{}</h2>",
        esc(&tr(l, "appt-past"))
    ));
    if past.is_empty() {
        main.push_str(&format!("<p>{}</p>", esc(&tr(l, "appt-none"))));
    } else {
        main.push_str(&bookings_table(l, who, past.into_iter(), false));
    }
    main.push_str("</section>");
    main.push_str(&security_class(l));
    Page::new(l, tr(l, "appt-title"))
        .status(status)
        .session(&who.session)
        .here_path("/my/appointments")
        .main(main)
        .render()
}

fn bookings_table<'a>(
    l: Lang,
    who: &Citizen,
    rows: impl Iterator<Item = &'a Booking>,
    cancellable: bool,
) -> String {
    let mut out = format!(
        "<div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th>\
         <th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th>\
         </tr></thead><tbody>",
        esc(&tr(l, "appt-col-time")),
        esc(&tr(l, "appt-col-body")),
        esc(&tr(l, "appt-col-service")),
        esc(&tr(l, "appt-col-purpose")),
        esc(&tr(l, "appt-col-status")),
        esc(&tr(l, "appt-col-action")),
    );
    for b in rows {
        let action = if cancellable {
            format!(
                "<form method=\"post\" action=\"/my/appointments/{id}/cancel\">{csrf}\
                 <button type=\"submit\" class=\"secondary\">{cancel}</button></form>",
                id = esc(&b.id),
                csrf = csrf_field(&who.session),
                cancel = esc(&tr(l, "appt-cancel")),
            )
        } else {
            String::new()
        };
        out.push_str(&format!(
            "<tr id=\"booking-{id}\"><td><time datetime=\"{iso}\">{when}</time></td><td>{body}</td><td>{service}</td>\
             <td>{purpose}</td><td>{status}</td><td>{action}</td></tr>",
            id = esc(&b.id),
            iso = b.starts_at.to_rfc3339(),
            when = esc(&local(b.starts_at)),
            body = esc(b.service.body.name(l.as_str())),
            service = esc(b.service.name(l.as_str())),
            purpose = esc(&b.purpose),
            status = esc(&status_text(l, b.status)),
        ));
    }
    out.push_str("</tbody></table></div>");
    out
}

/// The free times of the next 30 days, one booking form per service.
fn free_times(l: Lang, who: &Citizen, free: &[Slot], refused: Option<&Refused>) -> String {
    let mut out = format!(
        "<section aria-labelledby=\"book\"><h2 id=\"book\">{}</h2>",
        esc(&tr(l, "appt-book"))
    );
    // Services in the order of their soonest free time.
    let mut services: Vec<&popreg_store::Service> = vec![];
    for s in free {
        if !services.iter().any(|x| x.id == s.service.id) {
            services.push(&s.service);
        }
    }
    if services.is_empty() {
        out.push_str(&format!(
            "<p id=\"no-free-times\">{}</p></section>",
            esc(&tr(l, "appt-no-free"))
        ));
        return out;
    }
    for service in services {
        let mine = refused.filter(|r| r.service == service.id);
        let error = |field: &str| match mine.filter(|r| r.field == field) {
            Some(r) => (
                format!(
                    "<p class=\"err\" role=\"alert\" id=\"{}-{field}-error\">{}</p>",
                    esc(&service.id),
                    esc(&r.message)
                ),
                format!(
                    " aria-invalid=\"true\" aria-describedby=\"{}-{field}-error\"",
                    esc(&service.id)
                ),
            ),
            None => (String::new(), String::new()),
        };
        let (slot_err, slot_aria) = error("slot");
        let (purpose_err, purpose_aria) = error("purpose");
        let mut options = String::new();
        for s in free
            .iter()
            .filter(|s| s.service.id == service.id)
            .take(TIMES_PER_SERVICE)
        {
            let chosen = mine.is_some_and(|r| r.slot == s.id);
            options.push_str(&format!(
                "<option value=\"{id}\"{sel}>{when} ({free})</option>",
                id = esc(&s.id),
                sel = if chosen { " selected" } else { "" },
                when = esc(&local(s.starts_at)),
                free = esc(&tr_args(
                    l,
                    "appt-free-places",
                    &[("count", s.free().into())]
                )),
            ));
        }
        let sid = esc(&service.id);
        out.push_str(&format!(
            "<article class=\"record\" id=\"service-{sid}\"><h3>{service} — {body}</h3><p class=\"src\">{minutes}</p>\
             <form method=\"post\" action=\"/my/appointments/book\">{csrf}\
             <input type=\"hidden\" name=\"service\" value=\"{sid}\">\
             <p><label for=\"{sid}-slot\">{slot_l} *</label><br>\
             <select id=\"{sid}-slot\" name=\"slot\" required{slot_aria}>{options}</select></p>{slot_err}\
             <p><label for=\"{sid}-purpose\">{purpose_l} *</label><br>\
             <input type=\"text\" id=\"{sid}-purpose\" name=\"purpose\" maxlength=\"500\" size=\"60\" required \
             value=\"{purpose}\"{purpose_aria}></p>{purpose_err}\
             <p><button type=\"submit\">{book}</button></p></form></article>",
            service = esc(service.name(l.as_str())),
            body = esc(service.body.name(l.as_str())),
            minutes = esc(&tr_args(l, "appt-minutes", &[("minutes", service.minutes.into())])),
            csrf = csrf_field(&who.session),
            slot_l = esc(&tr(l, "appt-field-slot")),
            purpose_l = esc(&tr(l, "appt-field-purpose")),
            purpose = esc(mine.map(|r| r.purpose.as_str()).unwrap_or("")),
            book = esc(&tr(l, "appt-book-button")),
        ));
    }
    // A refusal for a service no longer listed (its times are gone) is shown above the list.
    if let Some(r) = refused.filter(|r| !free.iter().any(|s| s.service.id == r.service)) {
        out.insert_str(
            out.find("</h2>").map(|i| i + 5).unwrap_or(0),
            &format!("<p class=\"err\" role=\"alert\">{}</p>", esc(&r.message)),
        );
    }
    out.push_str("</section>");
    out
}

/// `GET /my/appointments`
pub(crate) async fn page(State(state): State<AppState>, req: Request) -> Response {
    let (l, who) = match viewer(&state, req.uri(), req.headers()).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let note = if let Some(id) = param(req.uri(), "booked") {
        match state.0.store.booking(&id).await {
            Ok(Some(b)) if b.psn == who.session.psn.to_string() => Some(tr_args(
                l,
                "appt-booked",
                &[("time", local(b.starts_at).into())],
            )),
            _ => None,
        }
    } else if param(req.uri(), "cancelled").is_some() {
        Some(tr(l, "appt-cancelled"))
    } else {
        None
    };
    render(&state, l, &who, note, None, StatusCode::OK).await
}

/// `POST /my/appointments/book`: `slot`, `purpose` (and `service`, the form it came from).
pub(crate) async fn book(State(state): State<AppState>, req: Request) -> Response {
    let p = match posted(&state, req).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let field = |n: &str| form_field(&p.body, n).unwrap_or_default();
    let (slot, purpose) = (field("slot"), field("purpose"));
    let settings = &state.0.config.contacts;
    match state
        .0
        .store
        .book_slot(
            p.who.session.psn,
            &slot,
            &purpose,
            p.lang.as_str(),
            settings,
            booked_note,
        )
        .await
    {
        Ok(b) => redirect(&format!("/my/appointments?booked={}", b.id)),
        Err(e @ StoreError::Domain(_)) => {
            let on_purpose = matches!(
                e.code(),
                Code::MissingField | Code::ValueOutOfRange | Code::Malformed
            );
            let r = Refused {
                service: field("service"),
                field: if on_purpose { "purpose" } else { "slot" },
                message: refusal_text(p.lang, &e),
                slot,
                purpose,
            };
            let status = super::code_status(e.code());
            render(&state, p.lang, &p.who, None, Some(&r), status).await
        }
        Err(e) => failed(p.lang, e),
    }
}

/// `POST /my/appointments/{id}/cancel`
pub(crate) async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let p = match posted(&state, req).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let l = p.lang;
    match state.0.store.cancel_booking(p.who.session.psn, &id).await {
        Ok(_) => redirect("/my/appointments?cancelled=1"),
        Err(e @ StoreError::Domain(_)) => Page::new(l, tr(l, "appt-title"))
            .status(super::code_status(e.code()))
            .session(&p.who.session)
            .here_path("/my/appointments")
            .main(format!(
                "{}<p><a href=\"/my/appointments\">{}</a></p>",
                super::coded_html(l, e.code()),
                esc(&tr(l, "appt-title"))
            ))
            .render(),
        Err(e) => failed(l, e),
    }
}
