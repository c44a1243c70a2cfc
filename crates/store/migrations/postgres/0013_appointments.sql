-- The Appointment Booking System (A1.5.4, security class C2 I1 A1): the services a body receives visitors
-- for, the times it opens for them (slots, each for one visitor or a few), and the persons' bookings.
-- A slot's seats are numbered 1..capacity; a booking holds one seat, and the partial unique indexes let no
-- seat be held twice and no person hold two bookings at the same time (cancelled bookings do not count).
-- Bookings are never deleted: a cancellation or the staff's mark (attended, no-show) changes the status.
CREATE TABLE appointment_services (
    id         TEXT    PRIMARY KEY,
    body_id    TEXT    NOT NULL,
    name_hy    TEXT    NOT NULL,
    name_en    TEXT    NOT NULL,
    name_ru    TEXT    NOT NULL,
    minutes    BIGINT  NOT NULL CHECK (minutes BETWEEN 5 AND 480),
    created_at TIMESTAMPTZ NOT NULL,
    created_by TEXT    NOT NULL
);
CREATE INDEX appointment_services_body ON appointment_services (body_id);

CREATE TABLE appointment_slots (
    id            TEXT    PRIMARY KEY,
    body_id       TEXT    NOT NULL,
    service_id    TEXT    NOT NULL REFERENCES appointment_services (id),
    starts_at     TIMESTAMPTZ NOT NULL,
    minutes       BIGINT  NOT NULL,
    capacity      BIGINT  NOT NULL DEFAULT 1 CHECK (capacity BETWEEN 1 AND 50),
    created_at    TIMESTAMPTZ NOT NULL,
    created_by    TEXT    NOT NULL,
    cancelled_at  TIMESTAMPTZ,
    cancelled_by  TEXT,
    cancel_reason TEXT
);
CREATE UNIQUE INDEX appointment_slots_time ON appointment_slots (service_id, starts_at);
CREATE INDEX appointment_slots_start ON appointment_slots (starts_at);
CREATE INDEX appointment_slots_body ON appointment_slots (body_id, starts_at);

CREATE TABLE appointment_bookings (
    id           TEXT    PRIMARY KEY,
    slot_id      TEXT    NOT NULL REFERENCES appointment_slots (id),
    seat         BIGINT  NOT NULL,
    psn          TEXT    NOT NULL,
    starts_at    TIMESTAMPTZ NOT NULL,
    purpose      TEXT    NOT NULL,
    lang         TEXT    NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('booked', 'cancelled', 'attended', 'no_show')),
    created_at   TIMESTAMPTZ NOT NULL,
    cancelled_at TIMESTAMPTZ,
    cancelled_by TEXT,
    marked_at    TIMESTAMPTZ,
    marked_by    TEXT
);
CREATE UNIQUE INDEX appointment_bookings_seat ON appointment_bookings (slot_id, seat) WHERE status <> 'cancelled';
CREATE UNIQUE INDEX appointment_bookings_person_time ON appointment_bookings (psn, starts_at)
    WHERE status <> 'cancelled';
CREATE INDEX appointment_bookings_psn ON appointment_bookings (psn, starts_at);
CREATE INDEX appointment_bookings_slot ON appointment_bookings (slot_id);
