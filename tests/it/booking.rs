//! The Appointment Booking System (A1.5.4, security class C2 I1 A1) and the desk's upcoming appointments
//! (issue 6, G.3), against a real server on SQLite and PostgreSQL: a person books a free time and sees it on
//! the desk and in "my appointments", a second person cannot take the same single slot (`PSR-BKG-0001`),
//! cancelling frees the slot, another person's booking is a `404` without data, a past time cannot be
//! booked, forms without the CSRF token are refused, and the staff (with `staff_appointments` only) open
//! times, see the day's bookings and cancel a slot, which puts a notice into the booked person's inbox in
//! the language they booked in.

use chrono::{NaiveDate, NaiveTime};
use popreg_domain::access::{BodyType, Caller, Function};
use popreg_domain::*;
use popreg_store::{BookingNote, BookingStatus, NewService, SlotPlan, Store};
use reqwest::redirect::Policy;

use crate::common::*;
use crate::notices::urlencode;

crate::conformance!(
    a1_5_4_a_booked_time_shows_on_the_desk_and_a_second_person_cannot_take_it,
    a1_5_4_cancelling_frees_the_slot_and_only_the_owner_may_cancel,
    a1_5_4_no_booking_in_the_past_nor_two_at_one_time,
    a1_5_4_staff_open_times_see_bookings_and_cancelling_a_slot_notifies_the_person,
);

const BODY: &str = "APT-0001";

/// The staff member of the appointments body: `staff_appointments`, plus `read_persons` when asked.
fn staff(uid: Psn, read: bool) -> Caller {
    let mut functions = vec![Function::StaffAppointments];
    if read {
        functions.push(Function::ReadPersons);
    }
    Caller {
        body_id: BODY.into(),
        body_type: BodyType::AuthorizedBody,
        user_uid: uid.to_string(),
        functions,
        channel: Channel::Web,
        external: ExternalIds::default(),
    }
}

/// The first day the tests book on: the day after the test clock's start (2026-01-15 13:00 Yerevan).
fn day() -> NaiveDate {
    d(2026, 1, 16)
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

/// The appointments body, a service "consultation" (30 minutes) and four single slots on [`day`] from
/// 09:00 to 11:00 Yerevan. Returns the service id and the slot ids by time.
async fn open_day(s: &Store, clerk: Psn) -> (String, Vec<String>) {
    crate::admin::new_body(s, BODY, BodyType::AuthorizedBody).await;
    let service = s
        .add_service(
            &staff(clerk, false),
            &NewService {
                name_hy: "Խորհրդատվություն".into(),
                name_en: "Consultation".into(),
                name_ru: "Консультация".into(),
                minutes: 30,
            },
        )
        .await
        .unwrap();
    let opened = s
        .open_slots(
            &staff(clerk, false),
            &SlotPlan {
                service_id: service.id.clone(),
                day: day(),
                from: hm(9, 0),
                to: hm(11, 0),
                every_minutes: 30,
                capacity: 1,
            },
        )
        .await
        .unwrap();
    assert_eq!(opened, 4);
    let slots = s.body_slots(BODY, day()).await.unwrap();
    (service.id, slots.into_iter().map(|s| s.id).collect())
}

/// A server on the test database and a client that does not follow redirects.
async fn site(db: &TestDb) -> (popreg::app::Running, reqwest::Client) {
    let mut cfg = test_config();
    cfg.server.listen = "127.0.0.1:0".into();
    cfg.server.auth_failures_per_window = 0;
    cfg.portal.secure_cookies = false;
    let app = popreg::app::start(&cfg, db.store.clone()).await.unwrap();
    let c = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    (app, c)
}

/// A logged-in person: (cookie, CSRF token).
struct Who {
    cookie: String,
    csrf: String,
}

async fn login(s: &Store, p: Psn) -> Who {
    let (cookie, csrf) = crate::admin::session(s, p).await;
    Who { cookie, csrf }
}

async fn get(
    c: &reqwest::Client,
    app: &popreg::app::Running,
    who: &Who,
    path: &str,
) -> (u16, String) {
    let r = c
        .get(format!("{}{path}", app.url()))
        .header("Cookie", &who.cookie)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// A form post as `who`: with the session's CSRF token unless `csrf` is false. (status, Location, body).
async fn post(
    c: &reqwest::Client,
    app: &popreg::app::Running,
    who: &Who,
    path: &str,
    fields: &[(&str, &str)],
    csrf: bool,
) -> (u16, String, String) {
    let mut form: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect();
    if csrf {
        form.push(format!("csrf={}", who.csrf));
    }
    let r = c
        .post(format!("{}{path}", app.url()))
        .header("Cookie", &who.cookie)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form.join("&"))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, location, r.text().await.unwrap())
}

fn note(b: &popreg_store::Booking) -> BookingNote {
    BookingNote {
        subject: format!("booked {}", b.id),
        text: b.purpose.clone(),
    }
}

async fn a1_5_4_a_booked_time_shows_on_the_desk_and_a_second_person_cannot_take_it(db: TestDb) {
    let s = &db.store;
    let (ani, bob, clerk) = (psn(7101), psn(7102), psn(7103));
    let (_, slots) = open_day(s, clerk).await;
    let (app, c) = site(&db).await;
    let (a, b) = (login(s, ani).await, login(s, bob).await);

    // Before booking: the desk says there is nothing coming, the page offers the four times.
    let (status, desk) = get(&c, &app, &a, "/my?lang=en").await;
    assert_eq!(status, 200);
    assert!(desk.contains("desk-appointments-none"), "{desk}");
    assert!(desk.contains("You have no upcoming appointments."));
    let (status, page) = get(&c, &app, &a, "/my/appointments?lang=en").await;
    assert_eq!(status, 200);
    for id in &slots {
        assert!(
            page.contains(&format!("value=\"{id}\"")),
            "slot {id} offered"
        );
    }
    assert!(page.contains("2026-01-16 09:00"), "Yerevan time");
    assert!(
        page.contains("C2 I1 A1"),
        "the module's security class is shown"
    );

    // Ani books the first time.
    let (status, location, _) = post(
        &c,
        &app,
        &a,
        "/my/appointments/book?lang=en",
        &[("slot", &slots[0]), ("purpose", "Passport advice")],
        true,
    )
    .await;
    assert_eq!(status, 303);
    assert!(
        location.starts_with("/my/appointments?booked="),
        "{location}"
    );
    let mine = s.bookings_of(ani).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].status, BookingStatus::Booked);
    assert_eq!(mine[0].lang, "en");
    // The desk shows it, in Yerevan time, with the body and the service; the page lists it as upcoming.
    let (_, desk) = get(&c, &app, &a, "/my?lang=en").await;
    assert!(desk.contains("desk-appointments-list"), "{desk}");
    assert!(
        desk.contains("2026-01-16 09:00</time> — Body APT-0001 — Consultation"),
        "{desk}"
    );
    assert!(desk.contains("href=\"/my/appointments\""));
    let (_, page) = get(&c, &app, &a, &format!("{location}&lang=en")).await;
    assert!(
        page.contains("Your visit is booked for 2026-01-16 09:00."),
        "{page}"
    );
    assert!(page.contains(&format!("id=\"booking-{}\"", mine[0].id)));
    assert!(page.contains("Passport advice"));
    assert!(
        !page.contains(&format!("value=\"{}\"", slots[0])),
        "the taken time is no longer offered"
    );
    // The confirmation is in the inbox, in the language she booked in.
    let inbox = s.inbox(ani, 0, 10).await.unwrap();
    assert_eq!(inbox.items.len(), 1);
    assert_eq!(
        inbox.items[0].subject,
        "Appointment booked: 2026-01-16 09:00"
    );
    assert_eq!(inbox.items[0].source, "appointment");
    assert_eq!(inbox.items[0].sender.body_id, BODY);
    assert_eq!(crate::portal::acts(&db, "appointment.book").await, 1);

    // Bob cannot take the same single slot: a clear refusal in his language, next to the time.
    let (status, _, body) = post(
        &c,
        &app,
        &b,
        "/my/appointments/book",
        &[("slot", &slots[0]), ("purpose", "Այլ հարց")],
        true,
    )
    .await;
    assert_eq!(status, 409);
    assert!(body.contains("PSR-BKG-0001"), "{body}");
    assert!(body.contains("Այս ժամն արդեն զբաղված է"), "{body}");
    let (status, _, body) = post(
        &c,
        &app,
        &b,
        "/my/appointments/book?lang=ru",
        &[("slot", &slots[0]), ("purpose", "Вопрос")],
        true,
    )
    .await;
    assert_eq!(status, 409);
    assert!(
        body.contains("Это время уже занято (PSR-BKG-0001)"),
        "{body}"
    );
    assert!(s.bookings_of(bob).await.unwrap().is_empty());
    // A form without the session's CSRF token is refused and books nothing.
    let (status, _, _) = post(
        &c,
        &app,
        &b,
        "/my/appointments/book",
        &[("slot", &slots[1]), ("purpose", "x")],
        false,
    )
    .await;
    assert_eq!(status, 403);
    assert!(s.bookings_of(bob).await.unwrap().is_empty());
    // Bob's desk is still empty; Ani's booking is hers alone.
    let (_, desk) = get(&c, &app, &b, "/my").await;
    assert!(desk.contains("desk-appointments-none"));
    assert!(!desk.contains("Խորհրդատվություն"));
    app.shutdown().await.unwrap();
}

async fn a1_5_4_cancelling_frees_the_slot_and_only_the_owner_may_cancel(db: TestDb) {
    let s = &db.store;
    let (ani, bob, clerk) = (psn(7201), psn(7202), psn(7203));
    let (_, slots) = open_day(s, clerk).await;
    let settings = popreg_store::ContactSettings::default();
    let booking = s
        .book_slot(
            ani,
            &slots[1],
            "Ամուսնության վկայական",
            "hy",
            &settings,
            note,
        )
        .await
        .unwrap();
    assert_eq!(s.slot(&slots[1]).await.unwrap().unwrap().free(), 0);
    let (app, c) = site(&db).await;
    let (a, b) = (login(s, ani).await, login(s, bob).await);

    // Bob cannot cancel Ani's booking: the same 404 as a booking that does not exist, and none of its data.
    let path = format!("/my/appointments/{}/cancel", booking.id);
    let (status, _, body) = post(&c, &app, &b, &path, &[], true).await;
    assert_eq!(status, 404);
    assert!(body.contains("PSR-BKG-0004"), "{body}");
    assert!(
        !body.contains("Ամուսնության"),
        "no data of another person's booking"
    );
    assert!(!body.contains(&ani.to_string()));
    let (status, _, _) = post(&c, &app, &b, "/my/appointments/00ff/cancel", &[], true).await;
    assert_eq!(status, 404);
    // Without the CSRF token Ani's own cancellation is refused too.
    let (status, _, _) = post(&c, &app, &a, &path, &[], false).await;
    assert_eq!(status, 403);
    assert_eq!(
        s.booking(&booking.id).await.unwrap().unwrap().status,
        BookingStatus::Booked
    );

    // Ani cancels: the slot is free again and Bob books it.
    let (status, location, _) = post(&c, &app, &a, &path, &[], true).await;
    assert_eq!(status, 303);
    assert_eq!(location, "/my/appointments?cancelled=1");
    let cancelled = s.booking(&booking.id).await.unwrap().unwrap();
    assert_eq!(cancelled.status, BookingStatus::Cancelled);
    assert_eq!(
        cancelled.cancelled_by.as_deref(),
        Some(ani.to_string().as_str())
    );
    assert_eq!(s.slot(&slots[1]).await.unwrap().unwrap().free(), 1);
    assert_eq!(crate::portal::acts(&db, "appointment.cancel").await, 1);
    let (_, desk) = get(&c, &app, &a, "/my").await;
    assert!(desk.contains("desk-appointments-none"));
    let (_, page) = get(&c, &app, &a, &format!("{location}&lang=en")).await;
    assert!(page.contains("The booking was cancelled."));
    assert!(
        page.contains("Cancelled"),
        "listed among past and cancelled"
    );
    // Cancelling twice is refused.
    let (status, _, body) = post(&c, &app, &a, &path, &[], true).await;
    assert_eq!(status, 409);
    assert!(body.contains("PSR-BKG-0005"));
    let (status, _, _) = post(
        &c,
        &app,
        &b,
        "/my/appointments/book",
        &[("slot", &slots[1]), ("purpose", "Անձնագիր")],
        true,
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(s.slot(&slots[1]).await.unwrap().unwrap().free(), 0);
    app.shutdown().await.unwrap();
}

async fn a1_5_4_no_booking_in_the_past_nor_two_at_one_time(db: TestDb) {
    let s = &db.store;
    let (ani, clerk) = (psn(7301), psn(7302));
    let (_, slots) = open_day(s, clerk).await;
    let settings = popreg_store::ContactSettings::default();
    // A second service at the same times: Ani cannot hold two bookings at 09:00.
    let other = s
        .add_service(
            &staff(clerk, false),
            &NewService {
                name_hy: "Անձնագրի տրամադրում".into(),
                name_en: String::new(),
                name_ru: String::new(),
                minutes: 30,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        other.name_en, "Անձնագրի տրամադրում",
        "Armenian where no other name"
    );
    s.open_slots(
        &staff(clerk, false),
        &SlotPlan {
            service_id: other.id.clone(),
            day: day(),
            from: hm(9, 0),
            to: hm(9, 30),
            every_minutes: 30,
            capacity: 3,
        },
    )
    .await
    .unwrap();
    let same_time = s
        .body_slots(BODY, day())
        .await
        .unwrap()
        .into_iter()
        .find(|x| x.service.id == other.id)
        .unwrap();
    assert_eq!(same_time.free(), 3);
    s.book_slot(ani, &slots[0], "Առաջին", "hy", &settings, note)
        .await
        .unwrap();
    let e = s
        .book_slot(ani, &same_time.id, "Երկրորդ", "hy", &settings, note)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PersonBusy);
    // An empty purpose is refused.
    let e = s
        .book_slot(ani, &slots[2], "  ", "hy", &settings, note)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::MissingField);

    // Once 09:30 has come, the 09:30 slot and the earlier ones cannot be booked, in the store and the portal.
    db.clock
        .set(popreg_store::yerevan_instant(day(), hm(9, 30)));
    let e = s
        .book_slot(ani, &slots[1], "Ուշ", "hy", &settings, note)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::SlotInPast);
    let (app, c) = site(&db).await;
    let a = login(s, ani).await;
    let (status, _, body) = post(
        &c,
        &app,
        &a,
        "/my/appointments/book?lang=en",
        &[("slot", &slots[1]), ("purpose", "Late")],
        true,
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        body.contains("This time has passed (PSR-BKG-0003)"),
        "{body}"
    );
    // Past times are not offered; the 10:00 and 10:30 ones are.
    let (_, page) = get(&c, &app, &a, "/my/appointments").await;
    assert!(!page.contains(&format!("value=\"{}\"", slots[1])));
    assert!(page.contains(&format!("value=\"{}\"", slots[2])));
    // A past booking cannot be cancelled; it is listed among the past ones without a cancel button.
    let first = s.bookings_of(ani).await.unwrap().pop().unwrap();
    let (status, _, _) = post(
        &c,
        &app,
        &a,
        &format!("/my/appointments/{}/cancel", first.id),
        &[],
        true,
    )
    .await;
    assert_eq!(status, 409);
    assert!(!page.contains(&format!("/my/appointments/{}/cancel", first.id)));
    // Beyond 30 days nothing is offered or taken.
    let far = d(2026, 3, 2);
    s.open_slots(
        &staff(clerk, false),
        &SlotPlan {
            service_id: other.id.clone(),
            day: far,
            from: hm(9, 0),
            to: hm(9, 30),
            every_minutes: 30,
            capacity: 1,
        },
    )
    .await
    .unwrap();
    let far_slot = s.body_slots(BODY, far).await.unwrap().pop().unwrap();
    assert!(
        !s.free_slots()
            .await
            .unwrap()
            .iter()
            .any(|x| x.id == far_slot.id)
    );
    let e = s
        .book_slot(ani, &far_slot.id, "Շուտ", "hy", &settings, note)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::SlotUnknown);
    app.shutdown().await.unwrap();
}

async fn a1_5_4_staff_open_times_see_bookings_and_cancelling_a_slot_notifies_the_person(
    db: TestDb,
) {
    let s = &db.store;
    let (ani, clerk, other) = (psn(7401), psn(7402), psn(7403));
    // Ani is in the register: the staff see her name through the gate (a usage record she sees).
    s.append(
        &prov("CIV-01"),
        vec![NewEntry::new(
            ani,
            registration("Անի", "Մելքոնյան", d(1990, 4, 2), Sex::F),
        )],
    )
    .await
    .unwrap();
    crate::admin::new_body(s, BODY, BodyType::AuthorizedBody).await;
    s.add_employee(
        "test",
        BODY,
        clerk,
        &[Function::StaffAppointments, Function::ReadPersons],
    )
    .await
    .unwrap();
    s.add_grant(
        "test",
        BODY,
        &["person.names".to_string()],
        "receiving visitors",
        "A1.5.4",
        None,
    )
    .await
    .unwrap();
    // An employee of another body with `submit` only.
    crate::admin::new_body(s, "MED-0009", BodyType::MedicalOrganization).await;
    s.add_employee("test", "MED-0009", other, &[Function::Submit])
        .await
        .unwrap();
    let (app, c) = site(&db).await;
    let (k, o) = (login(s, clerk).await, login(s, other).await);

    // Without `staff_appointments` the page and its forms are refused.
    let (status, _) = get(&c, &app, &o, "/appointments/staff").await;
    assert_eq!(status, 403);
    let (status, _, _) = post(
        &c,
        &app,
        &o,
        "/appointments/staff/services",
        &[("name_hy", "Խորհրդատվություն"), ("minutes", "20")],
        true,
    )
    .await;
    assert_eq!(status, 403);
    assert!(s.services(None).await.unwrap().is_empty());

    // The clerk adds a service; a form without the CSRF token is refused, a bad one comes back with the
    // reason next to the field.
    let (status, _) = get(&c, &app, &k, "/appointments/staff?lang=en").await;
    assert_eq!(status, 200);
    let (status, _, _) = post(
        &c,
        &app,
        &k,
        "/appointments/staff/services",
        &[("name_hy", "Խորհրդատվություն"), ("minutes", "20")],
        false,
    )
    .await;
    assert_eq!(status, 403);
    let (status, _, body) = post(
        &c,
        &app,
        &k,
        "/appointments/staff/services?lang=en",
        &[("name_hy", "Խորհրդատվություն"), ("minutes", "1000")],
        true,
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("id=\"service-minutes-error\""), "{body}");
    assert!(
        body.contains("value=\"Խորհրդատվություն\""),
        "what was typed is kept"
    );
    let (status, location, _) = post(
        &c,
        &app,
        &k,
        "/appointments/staff/services",
        &[
            ("name_hy", "Խորհրդատվություն"),
            ("name_en", "Consultation"),
            ("name_ru", "Консультация"),
            ("minutes", "20"),
        ],
        true,
    )
    .await;
    assert_eq!(status, 303, "{location}");
    let service = s.services(Some(BODY)).await.unwrap().pop().unwrap();
    assert_eq!(service.minutes, 20);
    // Opens 09:00–10:00 every 20 minutes on the next day: three times.
    let (status, location, _) = post(
        &c,
        &app,
        &k,
        "/appointments/staff/slots",
        &[
            ("service", &service.id),
            ("date", "2026-01-16"),
            ("from", "09:00"),
            ("to", "10:00"),
            ("every", "20"),
            ("capacity", "1"),
        ],
        true,
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(
        location,
        "/appointments/staff?day=2026-01-16&done=slots&n=3"
    );
    let slots = s.body_slots(BODY, day()).await.unwrap();
    assert_eq!(slots.len(), 3);
    assert_eq!(crate::portal::acts(&db, "appointment.slots").await, 1);
    // An end before the start opens nothing: refused with the code.
    let (status, _, body) = post(
        &c,
        &app,
        &k,
        "/appointments/staff/slots",
        &[
            ("service", &service.id),
            ("date", "2026-01-16"),
            ("from", "12:00"),
            ("to", "11:00"),
            ("every", "20"),
            ("capacity", "1"),
        ],
        true,
    )
    .await;
    assert_eq!(status, 422);
    assert!(body.contains("PSR-BKG-0008"));

    // Ani books the first two times in English; the clerk sees her name and PSN on the day's page.
    let settings = popreg_store::ContactSettings::default();
    let first = s
        .book_slot(ani, &slots[0].id, "Passport", "en", &settings, note)
        .await
        .unwrap();
    let second = s
        .book_slot(ani, &slots[1].id, "Certificate", "en", &settings, note)
        .await
        .unwrap();
    let (status, page) = get(&c, &app, &k, "/appointments/staff?day=2026-01-16&lang=en").await;
    assert_eq!(status, 200);
    assert!(page.contains(&ani.to_string()));
    assert!(!page.contains("(name not available)"), "{page}");
    assert!(page.contains("Passport"));
    assert!(page.contains("C2 I1 A1"));
    let read = s
        .usage_for_person(ani, Some(BODY), None, None, 100)
        .await
        .unwrap()
        .len();
    assert!(read >= 1, "the name was read through the gate and logged");
    // A visit whose time has not come cannot be marked.
    let path = format!("/appointments/staff/bookings/{}/attended", first.id);
    let (status, _, body) = post(&c, &app, &k, &path, &[], true).await;
    assert_eq!(status, 409);
    assert!(body.contains("PSR-BKG-0009"));

    db.clock.advance(chrono::Duration::minutes(1));
    // The clerk cancels the 09:20 slot with a reason: Ani's booking is cancelled and she is told, in English.
    let (status, location, _) = post(
        &c,
        &app,
        &k,
        &format!(
            "/appointments/staff/slots/{}/cancel?day=2026-01-16",
            slots[1].id
        ),
        &[("reason", "The office is closed")],
        true,
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(
        location,
        "/appointments/staff?day=2026-01-16&done=cancelled&n=1"
    );
    let b = s.booking(&second.id).await.unwrap().unwrap();
    assert_eq!(b.status, BookingStatus::Cancelled);
    assert_eq!(b.cancelled_by, Some(format!("{BODY}/{clerk}")));
    let inbox = s.inbox(ani, 0, 10).await.unwrap();
    assert_eq!(
        inbox.items.len(),
        3,
        "two confirmations and the cancellation"
    );
    assert_eq!(
        inbox.items[0].subject,
        "Your appointment was cancelled: 2026-01-16 09:20"
    );
    let m = s
        .open_message(ani, &inbox.items[0].id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        m.text.contains("Reason: The office is closed"),
        "{}",
        m.text
    );
    assert!(m.text.contains("Consultation"));
    assert_eq!(crate::portal::acts(&db, "appointment.slot_cancel").await, 1);
    assert_eq!(
        s.slot(&slots[1].id).await.unwrap().unwrap().free(),
        0,
        "a cancelled slot is not free"
    );
    assert!(
        !s.free_slots()
            .await
            .unwrap()
            .iter()
            .any(|x| x.id == slots[1].id)
    );

    // Once the 09:00 visit has begun the clerk marks it attended (once).
    db.clock.set(popreg_store::yerevan_instant(day(), hm(9, 5)));
    let k = login(s, clerk).await;
    let (status, location, _) = post(&c, &app, &k, &path, &[], true).await;
    assert_eq!(status, 303, "{location}");
    assert_eq!(
        s.booking(&first.id).await.unwrap().unwrap().status,
        BookingStatus::Attended
    );
    let (status, _, _) = post(
        &c,
        &app,
        &k,
        &format!("/appointments/staff/bookings/{}/no_show", first.id),
        &[],
        true,
    )
    .await;
    assert_eq!(status, 409);
    // Another body's employee cannot mark it, even with `staff_appointments` elsewhere: same 404.
    let stranger = Caller {
        body_id: "MED-0009".into(),
        ..staff(other, false)
    };
    let e = s
        .mark_booking(&stranger, &first.id, BookingStatus::NoShow)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::BookingUnknown);
    // The desk of a person with no booking left in force is empty again; the past visit stays listed.
    let a = login(s, ani).await;
    let (_, desk) = get(&c, &app, &a, "/my").await;
    assert!(desk.contains("desk-appointments-none"));
    let (_, mine) = get(&c, &app, &a, "/my/appointments?lang=en").await;
    assert!(mine.contains("Attended"));
    app.shutdown().await.unwrap();
}
