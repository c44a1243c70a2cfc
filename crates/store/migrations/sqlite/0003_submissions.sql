-- Submissions by providers (A1.32–A1.55): every submission received, its outcome, and the idempotency key it
-- came with; the rejection log (A1.51), append-only and keeping the offending payload; suspensions of a
-- body's right to submit (A1.55); and the outbox through which notifications leave (sent by a worker).
CREATE TABLE submissions (
    id              TEXT    PRIMARY KEY,
    body_id         TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    user_uid        TEXT    NOT NULL,
    channel         TEXT    NOT NULL,
    idempotency_key TEXT,
    payload_sha256  TEXT    NOT NULL,
    received_at     TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('accepted', 'held', 'rejected', 'released', 'dismissed')),
    subject_psn     TEXT,
    late            INTEGER NOT NULL DEFAULT 0,
    outcome         TEXT    NOT NULL,
    held_form       TEXT
);
CREATE UNIQUE INDEX submissions_idempotency ON submissions (body_id, idempotency_key);
CREATE INDEX submissions_body ON submissions (body_id, received_at);

CREATE TABLE rejections (
    id            INTEGER PRIMARY KEY,
    submission_id TEXT    NOT NULL,
    body_id       TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    user_uid      TEXT    NOT NULL,
    channel       TEXT    NOT NULL,
    received_at   TEXT    NOT NULL,
    code          TEXT    NOT NULL,
    errors        TEXT    NOT NULL,
    media_type    TEXT    NOT NULL,
    payload       BLOB    NOT NULL,
    subject_psn   TEXT,
    entry_id      INTEGER
);
CREATE INDEX rejections_body ON rejections (body_id, id);
CREATE INDEX rejections_time ON rejections (received_at);

CREATE TRIGGER rejections_immutable_update BEFORE UPDATE ON rejections
BEGIN SELECT RAISE(ABORT, 'PSR-SYS-0003 the rejection log is append-only (A1.51)'); END;
CREATE TRIGGER rejections_immutable_delete BEFORE DELETE ON rejections
BEGIN SELECT RAISE(ABORT, 'PSR-SYS-0003 the rejection log is append-only (A1.51)'); END;

CREATE TABLE suspensions (
    id         INTEGER PRIMARY KEY,
    body_id    TEXT NOT NULL,
    reason     TEXT NOT NULL,
    since      TEXT NOT NULL,
    until      TEXT,
    imposed_by TEXT NOT NULL,
    lifted_at  TEXT,
    lifted_by  TEXT
);
CREATE INDEX suspensions_body ON suspensions (body_id);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    channel         TEXT    NOT NULL,
    recipient       TEXT    NOT NULL,
    template        TEXT    NOT NULL,
    lang            TEXT    NOT NULL,
    params          TEXT    NOT NULL,
    dedupe_key      TEXT    NOT NULL UNIQUE,
    created_at      TEXT    NOT NULL,
    next_attempt_at TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    sent_at         TEXT
);
CREATE INDEX outbox_due ON outbox (sent_at, next_attempt_at);
