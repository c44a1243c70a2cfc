//! The Appointment Booking System (A1.5.4, security class C2 I1 A1): persons book a visit to a body for
//! advice, a service, or a legal or administrative act.
//!
//! - A body's employees holding `staff_appointments` add the **services** they receive visitors for (a
//!   name in hy/en/ru and how long a visit takes) and open **slots** for them: a day, from–to, every so many
//!   minutes, each slot for one visitor or a few (`capacity`). They see the day's bookings, mark a visit
//!   attended or a no-show, and cancel a slot: its bookings are cancelled and each person is told in the
//!   portal inbox (and the verified forwarding addresses), in the language they booked in.
//! - A person logged in to the portal sees the free slots of the next [`BOOKING_HORIZON_DAYS`] days, books
//!   one with a purpose (confirmed in the inbox), sees their bookings and cancels their own upcoming one.
//!
//! A slot cannot be double-booked and a person cannot hold two bookings at the same time: a booking takes a
//! numbered seat of its slot, and partial unique indexes over (slot, seat) and (person, time) of the bookings
//! not cancelled enforce both on SQLite and PostgreSQL, whatever races. Every change is an act of the audit
//! trail in the same transaction (`appointment.service`, `appointment.slots`, `appointment.book`,
//! `appointment.cancel`, `appointment.mark`, `appointment.slot_cancel`); the purpose a person writes is kept
//! in its table and recorded in the trail by its SHA-256 only.
//!
//! Times are stored in UTC; days and times the staff type are Yerevan's wall clock (UTC+4, no summer time).

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, SubsecRound, TimeZone, Utc};
use popreg_domain::access::{Caller, Function};
use popreg_domain::{Code, Psn};
use serde::Serialize;
use serde_json::json;

use crate::audit::{Leaf, sha256_hex};
use crate::contacts::{ContactSettings, Owner};
use crate::inbox::{OUTBOX_INSERT, Sender, in_lang, sender_of};
use crate::notices::valid_id;
use crate::usage::refused;
use crate::{Inner, Store, StoreError, pg_ops, sqlite_ops};

/// The module's security class (A1.8, A1.5.4): confidentiality 2, integrity 1, availability 1.
pub const BOOKING_SECURITY_CLASS: &str = "C2 I1 A1";
/// How far ahead persons see and book free slots, in days.
pub const BOOKING_HORIZON_DAYS: i64 = 30;
/// The longest purpose of a visit, in characters.
pub const MAX_PURPOSE_CHARS: usize = 500;
/// The longest name of a service, in characters.
pub const MAX_SERVICE_NAME_CHARS: usize = 200;
/// Most slots one opening creates.
pub const MAX_SLOTS_PER_OPENING: usize = 200;
/// Most visitors one slot receives.
pub const MAX_CAPACITY: i64 = 50;
/// The shortest and longest visit, in minutes.
pub const SERVICE_MINUTES: std::ops::RangeInclusive<i64> = 5..=480;
/// Yerevan's offset from UTC (no summer time).
const YEREVAN_HOURS: i64 = 4;

/// A bound no booking reaches (9999-12-31), for the upper end of open ranges (both dialects compare it).
fn far_future() -> DateTime<Utc> {
    DateTime::from_timestamp(253_402_214_400, 0).unwrap_or_default()
}

/// An instant of Yerevan's wall clock.
pub fn yerevan_instant(day: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_time(time)) - Duration::hours(YEREVAN_HOURS)
}

/// A service a body receives visitors for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Service {
    pub id: String,
    pub body: Sender,
    pub name_hy: String,
    pub name_en: String,
    pub name_ru: String,
    /// How long a visit takes.
    pub minutes: i64,
}

impl Service {
    /// The name in a language (`hy`, `en`, `ru`; Armenian otherwise).
    pub fn name(&self, lang: &str) -> &str {
        in_lang(lang, &self.name_hy, &self.name_en, &self.name_ru)
    }
}

/// A service to add. Armenian is required; an empty English or Russian name is the Armenian one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewService {
    pub name_hy: String,
    pub name_en: String,
    pub name_ru: String,
    pub minutes: i64,
}

/// Slots to open: on `day` (Yerevan), one every `every_minutes` from `from` while a visit ends by `to`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotPlan {
    pub service_id: String,
    pub day: NaiveDate,
    pub from: NaiveTime,
    pub to: NaiveTime,
    pub every_minutes: i64,
    pub capacity: i64,
}

/// A time opened for visits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Slot {
    pub id: String,
    pub service: Service,
    pub starts_at: DateTime<Utc>,
    pub minutes: i64,
    pub capacity: i64,
    /// Bookings that hold a seat (not cancelled).
    pub booked: i64,
    pub cancelled_at: Option<DateTime<Utc>>,
}

impl Slot {
    /// Seats still free (none once cancelled).
    pub fn free(&self) -> i64 {
        if self.cancelled_at.is_some() {
            0
        } else {
            (self.capacity - self.booked).max(0)
        }
    }
}

/// Where a booking stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    Booked,
    Cancelled,
    Attended,
    NoShow,
}

impl BookingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BookingStatus::Booked => "booked",
            BookingStatus::Cancelled => "cancelled",
            BookingStatus::Attended => "attended",
            BookingStatus::NoShow => "no_show",
        }
    }

    pub fn parse(s: &str) -> Option<BookingStatus> {
        [
            BookingStatus::Booked,
            BookingStatus::Cancelled,
            BookingStatus::Attended,
            BookingStatus::NoShow,
        ]
        .into_iter()
        .find(|b| b.as_str() == s)
    }
}

/// A person's booking of a slot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Booking {
    pub id: String,
    pub slot_id: String,
    pub psn: String,
    pub service: Service,
    pub starts_at: DateTime<Utc>,
    pub minutes: i64,
    pub purpose: String,
    /// The portal's language when the person booked: the language of the messages about it.
    pub lang: String,
    pub status: BookingStatus,
    pub created_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Who cancelled: the person's PSN, or `BODY/USER` of the staff.
    pub cancelled_by: Option<String>,
}

/// A message to put into a person's inbox about a booking, written by the caller in the booking's
/// language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BookingNote {
    pub subject: String,
    pub text: String,
}

const SERVICE_SELECT: &str = "SELECT s.id, s.body_id, b.name_hy, b.name_en, b.name_ru, s.name_hy, s.name_en, \
     s.name_ru, s.minutes FROM appointment_services s LEFT JOIN bodies b ON b.id = s.body_id";

type ServiceRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
    i64,
);

fn service_of(r: ServiceRow) -> Service {
    Service {
        id: r.0,
        body: sender_of(r.1, r.2, r.3, r.4),
        name_hy: r.5,
        name_en: r.6,
        name_ru: r.7,
        minutes: r.8,
    }
}

const SLOT_SELECT: &str = "SELECT t.id, t.service_id, t.starts_at, t.minutes, t.capacity, t.cancelled_at, \
     (SELECT COUNT(*) FROM appointment_bookings k WHERE k.slot_id = t.id AND k.status <> 'cancelled') \
     FROM appointment_slots t";

type SlotRow = (
    String,
    String,
    DateTime<Utc>,
    i64,
    i64,
    Option<DateTime<Utc>>,
    i64,
);

const BOOKING_SELECT: &str = "SELECT k.id, k.slot_id, k.psn, k.starts_at, t.minutes, k.purpose, k.lang, k.status, \
     k.created_at, k.cancelled_at, k.cancelled_by, t.service_id \
     FROM appointment_bookings k JOIN appointment_slots t ON t.id = k.slot_id";

type BookingRow = (
    String,
    String,
    String,
    DateTime<Utc>,
    i64,
    String,
    String,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<String>,
    String,
);

fn unknown_service() -> StoreError {
    refused(Code::ServiceUnknown, "no service with this id at this body")
}

fn unknown_slot() -> StoreError {
    refused(Code::SlotUnknown, "no slot with this id open for booking")
}

fn unknown_booking() -> StoreError {
    refused(Code::BookingUnknown, "no booking with this id")
}

fn may_staff(caller: &Caller) -> Result<(), StoreError> {
    if caller.may(Function::StaffAppointments) {
        Ok(())
    } else {
        Err(refused(
            Code::Forbidden,
            "receiving visitors needs the function staff_appointments",
        ))
    }
}

fn actor(caller: &Caller) -> String {
    format!("{}/{}", caller.body_id, caller.user_uid)
}

/// A one-line text of at most `max` characters (trimmed), or the refusal naming `field`.
fn one_line(field: &str, value: &str, max: usize) -> Result<String, StoreError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(refused(Code::MissingField, format!("{field} is empty")));
    }
    if v.chars().count() > max {
        return Err(refused(
            Code::ValueOutOfRange,
            format!("{field} is longer than {max} characters"),
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(refused(
            Code::Malformed,
            format!("{field} must be one line without control characters"),
        ));
    }
    Ok(v.to_string())
}

impl NewService {
    /// The service as it will be stored, or the refusal: no Armenian name (`PSR-VAL-0006`), too long or
    /// several lines (`PSR-VAL-0011`, `PSR-VAL-0001`), a visit shorter than 5 or longer than 480 minutes
    /// (`PSR-VAL-0011`).
    pub fn checked(&self) -> Result<NewService, StoreError> {
        let hy = one_line("name_hy", &self.name_hy, MAX_SERVICE_NAME_CHARS)?;
        let other = |field: &str, v: &str| {
            if v.trim().is_empty() {
                Ok(hy.clone())
            } else {
                one_line(field, v, MAX_SERVICE_NAME_CHARS)
            }
        };
        let en = other("name_en", &self.name_en)?;
        let ru = other("name_ru", &self.name_ru)?;
        if !SERVICE_MINUTES.contains(&self.minutes) {
            return Err(refused(
                Code::ValueOutOfRange,
                "minutes must be between 5 and 480",
            ));
        }
        Ok(NewService {
            name_hy: hy,
            name_en: en,
            name_ru: ru,
            minutes: self.minutes,
        })
    }
}

impl SlotPlan {
    /// The start of every slot the plan makes (a visit of `minutes` ends by `to`), or `PSR-BKG-0008` for a
    /// plan that makes none or more than [`MAX_SLOTS_PER_OPENING`], or a bad interval or capacity.
    pub fn starts(&self, minutes: i64) -> Result<Vec<DateTime<Utc>>, StoreError> {
        let bad = |why: &str| refused(Code::SlotPlanInvalid, why.to_string());
        if !SERVICE_MINUTES.contains(&self.every_minutes) {
            return Err(bad("the interval must be between 5 and 480 minutes"));
        }
        if !(1..=MAX_CAPACITY).contains(&self.capacity) {
            return Err(bad("the capacity must be between 1 and 50"));
        }
        let end = yerevan_instant(self.day, self.to);
        let mut t = yerevan_instant(self.day, self.from);
        let mut out = vec![];
        while t + Duration::minutes(minutes) <= end {
            out.push(t);
            if out.len() > MAX_SLOTS_PER_OPENING {
                return Err(bad("too many slots in one opening"));
            }
            t += Duration::minutes(self.every_minutes);
        }
        if out.is_empty() {
            return Err(bad("no visit fits between the start and the end"));
        }
        Ok(out)
    }
}

/// The purpose of a visit as it will be stored, or the refusal (`PSR-VAL-0006`, `PSR-VAL-0011`,
/// `PSR-VAL-0001`).
pub fn checked_purpose(purpose: &str) -> Result<String, StoreError> {
    one_line("purpose", purpose, MAX_PURPOSE_CHARS)
}

/// Put a note about booking `$b` into its person's inbox (source `appointment`, from the slot's body) and
/// forward it to their verified addresses, inside the transaction `$tx`. Evaluates to the message's id.
macro_rules! deliver_note {
    ($tx:ident, $now:expr, $b:expr, $user:expr, $note:expr, $settings:expr) => {{
        let b: &Booking = $b;
        let note: BookingNote = $note;
        let settings: &ContactSettings = $settings;
        let id = crate::access::random_hex(16)?;
        sqlx::query(
            "INSERT INTO inbox_messages (id, recipient_psn, body_id, user_uid, channel, request_sha256, subject, \
             text, legal_significance, created_at, source) \
             VALUES ($1, $2, $3, $4, 'portal', $5, $6, $7, FALSE, $8, 'appointment')",
        )
        .bind(&id)
        .bind(&b.psn)
        .bind(&b.service.body.body_id)
        .bind($user)
        .bind(sha256_hex(&format!("{}\n{}", note.subject, note.text)))
        .bind(&note.subject)
        .bind(&note.text)
        .bind($now)
        .execute(&mut *$tx)
        .await?;
        let points: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT id, kind, address, lang FROM contact_points WHERE psn = $1 AND verified_at IS NOT NULL \
             ORDER BY id",
        )
        .bind(&b.psn)
        .fetch_all(&mut *$tx)
        .await?;
        let owner = Psn::parse(&b.psn)
            .map(Owner::Person)
            .map_err(|e| crate::corrupt("booking psn", e))?;
        let inbox_url = settings.inbox_link_of(&owner, &id);
        let source = format!("notification:{id}");
        for (cid, kind, address, lang) in &points {
            let sender = b.service.body.name(lang);
            let (channel, template, params) = if kind == "email" {
                (
                    "email",
                    "forwarded",
                    json!({
                        "notification_id": id,
                        "sender": sender,
                        "subject": note.subject,
                        "text": note.text,
                        "legal_significance": false,
                        "attachments": Vec::<String>::new(),
                        "created_at": $now.to_rfc3339(),
                        "inbox_url": inbox_url,
                        "forwarding_url": settings.forwarding_link_of(&owner),
                    }),
                )
            } else {
                (
                    "sms",
                    "notification_sms",
                    json!({ "notification_id": id, "sender": sender, "inbox_url": inbox_url }),
                )
            };
            sqlx::query(OUTBOX_INSERT)
                .bind(channel)
                .bind(address)
                .bind(template)
                .bind(lang)
                .bind(params.to_string())
                .bind(format!("notification:{id}:{cid}"))
                .bind($now)
                .bind(&source)
                .execute(&mut *$tx)
                .await?;
        }
        id
    }};
}

impl Store {
    /// Add a service of the caller's body (A1.5.4); the act `appointment.service` in the same transaction.
    /// Needs `staff_appointments` (`PSR-API-0007`); the content is checked by [`NewService::checked`].
    pub async fn add_service(
        &self,
        caller: &Caller,
        s: &NewService,
    ) -> Result<Service, StoreError> {
        may_staff(caller)?;
        let s = s.checked()?;
        let id = crate::access::random_hex(16)?;
        let now = self.clock.now().trunc_subsecs(6);
        dispatch!(self, write, pool, ops => {
            let mut tx = ops::begin(pool).await?;
            sqlx::query(
                "INSERT INTO appointment_services (id, body_id, name_hy, name_en, name_ru, minutes, created_at, \
                 created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&id)
            .bind(&caller.body_id)
            .bind(&s.name_hy)
            .bind(&s.name_en)
            .bind(&s.name_ru)
            .bind(s.minutes)
            .bind(now)
            .bind(actor(caller))
            .execute(&mut *tx)
            .await?;
            let act = Leaf::act(
                "appointment.service",
                &actor(caller),
                &id,
                json!({ "body": caller.body_id, "name_hy": s.name_hy, "minutes": s.minutes }),
            );
            ops::audit::append(&mut tx, now, &[act]).await?;
            tx.commit().await?;
        });
        self.service(&id).await?.ok_or_else(unknown_service)
    }

    /// One service; `None` for an unknown id.
    pub async fn service(&self, id: &str) -> Result<Option<Service>, StoreError> {
        if !valid_id(id) {
            return Ok(None);
        }
        let sql = format!("{SERVICE_SELECT} WHERE s.id = $1");
        dispatch!(self, read, pool, ops => {
            let row: Option<ServiceRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(pool)
                .await?;
            Ok(row.map(service_of))
        })
    }

    /// The services of one body, or of every body (`None`), by body and name.
    pub async fn services(&self, body_id: Option<&str>) -> Result<Vec<Service>, StoreError> {
        let sql = format!(
            "{SERVICE_SELECT} WHERE s.body_id = $1 OR $2 ORDER BY s.body_id, s.name_hy, s.id"
        );
        dispatch!(self, read, pool, ops => {
            let rows: Vec<ServiceRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(body_id.unwrap_or(""))
                .bind(body_id.is_none())
                .fetch_all(pool)
                .await?;
            Ok(rows.into_iter().map(service_of).collect())
        })
    }

    /// Open the slots of a plan for a service of the caller's body; times already past and times the
    /// service has a slot at already are left out. Returns how many were opened (`PSR-BKG-0008` when none
    /// is left to open). The act `appointment.slots` is written in the same transaction.
    pub async fn open_slots(&self, caller: &Caller, plan: &SlotPlan) -> Result<usize, StoreError> {
        may_staff(caller)?;
        let service = self
            .service(&plan.service_id)
            .await?
            .filter(|s| s.body.body_id == caller.body_id)
            .ok_or_else(unknown_service)?;
        let now = self.clock.now().trunc_subsecs(6);
        let starts: Vec<DateTime<Utc>> = plan
            .starts(service.minutes)?
            .into_iter()
            .filter(|t| *t > now)
            .collect();
        if starts.is_empty() {
            return Err(refused(
                Code::SlotPlanInvalid,
                "every time of this plan has passed",
            ));
        }
        let by = actor(caller);
        dispatch!(self, write, pool, ops => {
            let mut tx = ops::begin(pool).await?;
            let mut opened = 0usize;
            for t in &starts {
                let id = crate::access::random_hex(16)?;
                let done = sqlx::query(
                    "INSERT INTO appointment_slots (id, body_id, service_id, starts_at, minutes, capacity, \
                     created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (service_id, starts_at) DO NOTHING",
                )
                .bind(&id)
                .bind(&caller.body_id)
                .bind(&service.id)
                .bind(*t)
                .bind(service.minutes)
                .bind(plan.capacity)
                .bind(now)
                .bind(&by)
                .execute(&mut *tx)
                .await?;
                opened += done.rows_affected() as usize;
            }
            if opened == 0 {
                return Err(refused(
                    Code::SlotPlanInvalid,
                    "the service has a slot at every time of this plan already",
                ));
            }
            let act = Leaf::act(
                "appointment.slots",
                &by,
                &service.id,
                json!({
                    "body": caller.body_id,
                    "day": plan.day,
                    "from": plan.from.format("%H:%M").to_string(),
                    "to": plan.to.format("%H:%M").to_string(),
                    "every_minutes": plan.every_minutes,
                    "capacity": plan.capacity,
                    "opened": opened,
                }),
            );
            ops::audit::append(&mut tx, now, &[act]).await?;
            tx.commit().await?;
            Ok(opened)
        })
    }

    /// Every service by id (a small table), for assembling slots and bookings.
    async fn services_by_id(&self) -> Result<HashMap<String, Service>, StoreError> {
        Ok(self
            .services(None)
            .await?
            .into_iter()
            .map(|s| (s.id.clone(), s))
            .collect())
    }

    async fn slots_where(
        &self,
        filter: &str,
        body: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Slot>, StoreError> {
        let services = self.services_by_id().await?;
        let sql = format!("{SLOT_SELECT} WHERE {filter} ORDER BY t.starts_at, t.id LIMIT 5000");
        let rows: Vec<SlotRow> = dispatch!(self, read, pool, ops => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(body)
                .bind(from)
                .bind(to)
                .fetch_all(pool)
                .await?
        });
        rows.into_iter()
            .map(|r| {
                let service = services
                    .get(&r.1)
                    .cloned()
                    .ok_or_else(|| crate::corrupt("slot", "its service is missing"))?;
                Ok(Slot {
                    id: r.0,
                    service,
                    starts_at: r.2,
                    minutes: r.3,
                    capacity: r.4,
                    cancelled_at: r.5,
                    booked: r.6,
                })
            })
            .collect()
    }

    /// The slots with a free seat from now to [`BOOKING_HORIZON_DAYS`] ahead, of every body, soonest first.
    pub async fn free_slots(&self) -> Result<Vec<Slot>, StoreError> {
        let now = self.clock.now();
        let slots = self
            .slots_where(
                "($1 = '' OR t.body_id = $1) AND t.cancelled_at IS NULL AND t.starts_at > $2 AND t.starts_at <= $3",
                "",
                now,
                now + Duration::days(BOOKING_HORIZON_DAYS),
            )
            .await?;
        Ok(slots.into_iter().filter(|s| s.free() > 0).collect())
    }

    /// A body's slots on a day (Yerevan), cancelled ones too, by time.
    pub async fn body_slots(&self, body_id: &str, day: NaiveDate) -> Result<Vec<Slot>, StoreError> {
        let from = yerevan_instant(day, NaiveTime::MIN);
        self.slots_where(
            "t.body_id = $1 AND t.starts_at >= $2 AND t.starts_at < $3",
            body_id,
            from,
            from + Duration::days(1),
        )
        .await
    }

    /// One slot; `None` for an unknown id.
    pub async fn slot(&self, id: &str) -> Result<Option<Slot>, StoreError> {
        if !valid_id(id) {
            return Ok(None);
        }
        let services = self.services_by_id().await?;
        let sql = format!("{SLOT_SELECT} WHERE t.id = $1");
        let row: Option<SlotRow> = dispatch!(self, read, pool, ops => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?
        });
        Ok(row.and_then(|r| {
            Some(Slot {
                service: services.get(&r.1)?.clone(),
                id: r.0,
                starts_at: r.2,
                minutes: r.3,
                capacity: r.4,
                cancelled_at: r.5,
                booked: r.6,
            })
        }))
    }

    async fn bookings_where(
        &self,
        filter: &str,
        key: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<Booking>, StoreError> {
        let services = self.services_by_id().await?;
        let sql = format!("{BOOKING_SELECT} WHERE {filter} LIMIT $4");
        let rows: Vec<BookingRow> = dispatch!(self, read, pool, ops => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(key)
                .bind(from)
                .bind(to)
                .bind(limit)
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(|r| booking_of(r, &services)).collect()
    }

    /// A person's bookings, the latest time first (at most 500).
    pub async fn bookings_of(&self, psn: Psn) -> Result<Vec<Booking>, StoreError> {
        self.bookings_where(
            "k.psn = $1 AND k.starts_at >= $2 AND k.starts_at <= $3 ORDER BY k.starts_at DESC, k.id",
            &psn.to_string(),
            DateTime::<Utc>::UNIX_EPOCH,
            far_future(),
            500,
        )
        .await
    }

    /// A person's next bookings in force (status `booked`, not yet begun), soonest first.
    pub async fn upcoming_bookings(
        &self,
        psn: Psn,
        limit: i64,
    ) -> Result<Vec<Booking>, StoreError> {
        self.bookings_where(
            "k.psn = $1 AND k.status = 'booked' AND k.starts_at > $2 AND k.starts_at <= $3 \
             ORDER BY k.starts_at, k.id",
            &psn.to_string(),
            self.clock.now(),
            far_future(),
            limit.clamp(1, 500),
        )
        .await
    }

    /// The bookings of a body's slots on a day (Yerevan), cancelled ones too, by time.
    pub async fn body_bookings(
        &self,
        body_id: &str,
        day: NaiveDate,
    ) -> Result<Vec<Booking>, StoreError> {
        let from = yerevan_instant(day, NaiveTime::MIN);
        self.bookings_where(
            "t.body_id = $1 AND k.starts_at >= $2 AND k.starts_at < $3 ORDER BY k.starts_at, k.seat, k.id",
            body_id,
            from,
            from + Duration::days(1),
            5000,
        )
        .await
    }

    /// One booking; `None` for an unknown id.
    pub async fn booking(&self, id: &str) -> Result<Option<Booking>, StoreError> {
        if !valid_id(id) {
            return Ok(None);
        }
        Ok(self
            .bookings_where(
                "k.id = $1 AND k.created_at >= $2 AND k.created_at <= $3",
                id,
                DateTime::<Utc>::UNIX_EPOCH,
                far_future(),
                1,
            )
            .await?
            .pop())
    }

    /// Book a free seat of a slot for a person (A1.5.4): the booking, the confirmation `note(booking)` in
    /// the person's inbox (forwarded to their verified addresses) and the act `appointment.book`, in one
    /// transaction. Refuses an unknown or cancelled slot or one beyond the horizon (`PSR-BKG-0002`), a
    /// slot whose time has come (`PSR-BKG-0003`), a full slot (`PSR-BKG-0001`), a second booking of the
    /// person at the same time (`PSR-BKG-0006`), and a purpose [`checked_purpose`] refuses.
    pub async fn book_slot<F>(
        &self,
        psn: Psn,
        slot_id: &str,
        purpose: &str,
        lang: &str,
        settings: &ContactSettings,
        note: F,
    ) -> Result<Booking, StoreError>
    where
        F: Fn(&Booking) -> BookingNote,
    {
        let purpose = checked_purpose(purpose)?;
        let slot = self
            .slot(slot_id)
            .await?
            .filter(|s| s.cancelled_at.is_none())
            .ok_or_else(unknown_slot)?;
        let now = self.clock.now().trunc_subsecs(6);
        if slot.starts_at <= now {
            return Err(refused(Code::SlotInPast, "the time of this slot has come"));
        }
        if slot.starts_at > now + Duration::days(BOOKING_HORIZON_DAYS) {
            return Err(unknown_slot());
        }
        let lang = match lang {
            "en" => "en",
            "ru" => "ru",
            _ => "hy",
        };
        let id = crate::access::random_hex(16)?;
        let who = psn.to_string();
        let taken = || refused(Code::SlotTaken, "every seat of this slot is booked");
        let busy = || {
            refused(
                Code::PersonBusy,
                "the person has another booking at this time",
            )
        };
        let booking = Booking {
            id: id.clone(),
            slot_id: slot.id.clone(),
            psn: who.clone(),
            service: slot.service.clone(),
            starts_at: slot.starts_at,
            minutes: slot.minutes,
            purpose: purpose.clone(),
            lang: lang.to_string(),
            status: BookingStatus::Booked,
            created_at: now,
            cancelled_at: None,
            cancelled_by: None,
        };
        dispatch!(self, write, pool, ops => {
            let mut tx = ops::begin(pool).await?;
            // Read again inside the transaction: the slot may have been cancelled meanwhile.
            let open: Option<(Option<DateTime<Utc>>,)> =
                sqlx::query_as("SELECT cancelled_at FROM appointment_slots WHERE id = $1")
                    .bind(&slot.id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if !matches!(open, Some((None,))) {
                return Err(unknown_slot());
            }
            if sqlx::query_as::<_, (i64,)>(
                "SELECT COUNT(*) FROM appointment_bookings WHERE psn = $1 AND starts_at = $2 AND status <> 'cancelled'",
            )
            .bind(&who)
            .bind(slot.starts_at)
            .fetch_one(&mut *tx)
            .await?
            .0 > 0
            {
                return Err(busy());
            }
            let held: Vec<(i64,)> = sqlx::query_as(
                "SELECT seat FROM appointment_bookings WHERE slot_id = $1 AND status <> 'cancelled'",
            )
            .bind(&slot.id)
            .fetch_all(&mut *tx)
            .await?;
            let seat = (1..=slot.capacity)
                .find(|s| !held.iter().any(|(h,)| h == s))
                .ok_or_else(taken)?;
            let inserted = sqlx::query(
                "INSERT INTO appointment_bookings (id, slot_id, seat, psn, starts_at, purpose, lang, status, \
                 created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'booked', $8)",
            )
            .bind(&id)
            .bind(&slot.id)
            .bind(seat)
            .bind(&who)
            .bind(slot.starts_at)
            .bind(&purpose)
            .bind(lang)
            .bind(now)
            .execute(&mut *tx)
            .await;
            // A concurrent booking took the seat or the person's time first (PostgreSQL; SQLite's write
            // lock serialises the check above).
            match inserted {
                Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                    let m = d.message().to_string();
                    return Err(if m.contains("psn") || m.contains("person") { busy() } else { taken() });
                }
                Err(e) => return Err(e.into()),
                Ok(_) => {}
            }
            let message = deliver_note!(tx, now, &booking, &who, note(&booking), settings);
            let act = Leaf::act(
                "appointment.book",
                &who,
                &id,
                json!({
                    "slot": slot.id,
                    "body": slot.service.body.body_id,
                    "service": slot.service.id,
                    "starts_at": slot.starts_at,
                    "seat": seat,
                    "purpose_sha256": sha256_hex(&purpose),
                    "notice": message,
                }),
            );
            ops::audit::append(&mut tx, now, &[act]).await?;
            tx.commit().await?;
        });
        Ok(booking)
    }

    /// A person cancels their own upcoming booking; the act `appointment.cancel` in the same transaction.
    /// Another person's booking and an unknown id are the same `PSR-BKG-0004`; a booking no longer in force
    /// or whose time has come is `PSR-BKG-0005`.
    pub async fn cancel_booking(&self, psn: Psn, id: &str) -> Result<Booking, StoreError> {
        let mine = self
            .booking(id)
            .await?
            .filter(|b| b.psn == psn.to_string())
            .ok_or_else(unknown_booking)?;
        let now = self.clock.now().trunc_subsecs(6);
        if mine.starts_at <= now {
            return Err(refused(
                Code::BookingClosed,
                "the time of this booking has come",
            ));
        }
        let who = psn.to_string();
        dispatch!(self, write, pool, ops => {
            let mut tx = ops::begin(pool).await?;
            let done = sqlx::query(
                "UPDATE appointment_bookings SET status = 'cancelled', cancelled_at = $1, cancelled_by = $2 \
                 WHERE id = $3 AND psn = $2 AND status = 'booked'",
            )
            .bind(now)
            .bind(&who)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(refused(Code::BookingClosed, "this booking is no longer in force"));
            }
            let act = Leaf::act(
                "appointment.cancel",
                &who,
                id,
                json!({ "slot": mine.slot_id, "body": mine.service.body.body_id }),
            );
            ops::audit::append(&mut tx, now, &[act]).await?;
            tx.commit().await?;
        });
        self.booking(id).await?.ok_or_else(unknown_booking)
    }

    /// The staff mark a booking of their body `attended` or `no_show` once its time has come; the act
    /// `appointment.mark` in the same transaction. A booking of another body or an unknown id is
    /// `PSR-BKG-0004`; one not in force is `PSR-BKG-0005`; before its time `PSR-BKG-0009`.
    pub async fn mark_booking(
        &self,
        caller: &Caller,
        id: &str,
        status: BookingStatus,
    ) -> Result<Booking, StoreError> {
        may_staff(caller)?;
        if !matches!(status, BookingStatus::Attended | BookingStatus::NoShow) {
            return Err(refused(
                Code::Malformed,
                "a visit is marked attended or no_show",
            ));
        }
        let b = self
            .booking(id)
            .await?
            .filter(|b| b.service.body.body_id == caller.body_id)
            .ok_or_else(unknown_booking)?;
        let now = self.clock.now().trunc_subsecs(6);
        if b.starts_at > now {
            return Err(refused(
                Code::VisitNotDue,
                "the time of this visit has not come yet",
            ));
        }
        let by = actor(caller);
        dispatch!(self, write, pool, ops => {
            let mut tx = ops::begin(pool).await?;
            let done = sqlx::query(
                "UPDATE appointment_bookings SET status = $1, marked_at = $2, marked_by = $3 \
                 WHERE id = $4 AND status = 'booked'",
            )
            .bind(status.as_str())
            .bind(now)
            .bind(&by)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(refused(Code::BookingClosed, "this booking is no longer in force"));
            }
            let act = Leaf::act(
                "appointment.mark",
                &by,
                id,
                json!({ "status": status.as_str(), "slot": b.slot_id }),
            );
            ops::audit::append(&mut tx, now, &[act]).await?;
            tx.commit().await?;
        });
        self.booking(id).await?.ok_or_else(unknown_booking)
    }

    /// The staff cancel an upcoming slot of their body: the slot and its bookings in force are cancelled,
    /// each person gets `note(booking)` in their inbox (forwarded to their verified addresses), and the act
    /// `appointment.slot_cancel` is written, in one transaction. Returns the bookings cancelled. Another
    /// body's slot, an unknown or cancelled one is `PSR-BKG-0002`; one whose time has come `PSR-BKG-0003`.
    pub async fn cancel_slot<F>(
        &self,
        caller: &Caller,
        slot_id: &str,
        reason: Option<&str>,
        settings: &ContactSettings,
        note: F,
    ) -> Result<Vec<Booking>, StoreError>
    where
        F: Fn(&Booking) -> BookingNote,
    {
        may_staff(caller)?;
        let reason = match reason.map(str::trim).filter(|r| !r.is_empty()) {
            Some(r) => Some(one_line("reason", r, MAX_PURPOSE_CHARS)?),
            None => None,
        };
        let slot = self
            .slot(slot_id)
            .await?
            .filter(|s| s.service.body.body_id == caller.body_id && s.cancelled_at.is_none())
            .ok_or_else(unknown_slot)?;
        let now = self.clock.now().trunc_subsecs(6);
        if slot.starts_at <= now {
            return Err(refused(Code::SlotInPast, "the time of this slot has come"));
        }
        let by = actor(caller);
        let services = self.services_by_id().await?;
        let sql = format!(
            "{BOOKING_SELECT} WHERE k.slot_id = $1 AND k.status = 'booked' ORDER BY k.seat"
        );
        let cancelled = dispatch!(self, write, pool, ops => {
            let mut tx = ops::begin(pool).await?;
            let done = sqlx::query(
                "UPDATE appointment_slots SET cancelled_at = $1, cancelled_by = $2, cancel_reason = $3 \
                 WHERE id = $4 AND cancelled_at IS NULL",
            )
            .bind(now)
            .bind(&by)
            .bind(&reason)
            .bind(&slot.id)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(unknown_slot());
            }
            let rows: Vec<BookingRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(&slot.id)
                .fetch_all(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE appointment_bookings SET status = 'cancelled', cancelled_at = $1, cancelled_by = $2 \
                 WHERE slot_id = $3 AND status = 'booked'",
            )
            .bind(now)
            .bind(&by)
            .bind(&slot.id)
            .execute(&mut *tx)
            .await?;
            let mut cancelled = vec![];
            let mut notices = vec![];
            for r in rows {
                let mut b = booking_of(r, &services)?;
                b.status = BookingStatus::Cancelled;
                b.cancelled_at = Some(now);
                b.cancelled_by = Some(by.clone());
                let message = deliver_note!(tx, now, &b, &caller.user_uid, note(&b), settings);
                notices.push(json!({ "booking": b.id, "psn": b.psn, "notice": message }));
                cancelled.push(b);
            }
            let act = Leaf::act(
                "appointment.slot_cancel",
                &by,
                &slot.id,
                json!({ "body": caller.body_id, "reason": reason, "bookings": notices }),
            );
            ops::audit::append(&mut tx, now, &[act]).await?;
            tx.commit().await?;
            cancelled
        });
        Ok(cancelled)
    }
}

fn booking_of(r: BookingRow, services: &HashMap<String, Service>) -> Result<Booking, StoreError> {
    let service = services
        .get(&r.11)
        .cloned()
        .ok_or_else(|| crate::corrupt("booking", "its service is missing"))?;
    let status =
        BookingStatus::parse(&r.7).ok_or_else(|| crate::corrupt("booking status", &r.7))?;
    Ok(Booking {
        id: r.0,
        slot_id: r.1,
        psn: r.2,
        service,
        starts_at: r.3,
        minutes: r.4,
        purpose: r.5,
        lang: r.6,
        status,
        created_at: r.8,
        cancelled_at: r.9,
        cancelled_by: r.10,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn a1_5_4_a_plan_makes_the_slots_that_fit_in_yerevan_time() {
        let plan = SlotPlan {
            service_id: "ab".into(),
            day: NaiveDate::from_ymd_opt(2026, 2, 2).unwrap(),
            from: hm(9, 0),
            to: hm(10, 0),
            every_minutes: 20,
            capacity: 1,
        };
        let starts = plan.starts(30).unwrap();
        // 09:00 and 09:20 end by 10:00; 09:40 would end at 10:10.
        assert_eq!(starts.len(), 2);
        assert_eq!(starts[0].to_rfc3339(), "2026-02-02T05:00:00+00:00");
        let none = SlotPlan {
            to: hm(9, 10),
            ..plan.clone()
        };
        assert_eq!(none.starts(30).unwrap_err().code(), Code::SlotPlanInvalid);
        let crowded = SlotPlan {
            capacity: MAX_CAPACITY + 1,
            ..plan
        };
        assert_eq!(
            crowded.starts(30).unwrap_err().code(),
            Code::SlotPlanInvalid
        );
    }

    #[test]
    fn a1_5_4_a_service_needs_an_armenian_name_and_a_sane_length() {
        let s = NewService {
            name_hy: "Խորհրդատվություն".into(),
            name_en: String::new(),
            name_ru: "Консультация".into(),
            minutes: 20,
        };
        let c = s.checked().unwrap();
        assert_eq!(c.name_en, "Խորհրդատվություն");
        assert_eq!(c.name_ru, "Консультация");
        let no_hy = NewService {
            name_hy: " ".into(),
            ..s.clone()
        };
        assert_eq!(no_hy.checked().unwrap_err().code(), Code::MissingField);
        let long = NewService { minutes: 600, ..s };
        assert_eq!(long.checked().unwrap_err().code(), Code::ValueOutOfRange);
    }
}
