-- Notifications to persons (A1.5.6, G.3.2–3, G.5, G.7): the portal inbox, its attachments, the person's
-- forwarding addresses (contact points) with their verification, and what the outbox needs to report
-- delivery per destination.
CREATE TABLE inbox_messages (
    id                 TEXT    PRIMARY KEY,
    recipient_psn      TEXT    NOT NULL,
    body_id            TEXT    NOT NULL,
    user_uid           TEXT    NOT NULL,
    channel            TEXT    NOT NULL,
    idempotency_key    TEXT,
    request_sha256     TEXT    NOT NULL,
    subject            TEXT    NOT NULL,
    text               TEXT    NOT NULL,
    legal_significance INTEGER NOT NULL DEFAULT 0,
    created_at         TEXT    NOT NULL,
    opened_at          TEXT
);
CREATE UNIQUE INDEX inbox_messages_idempotency ON inbox_messages (body_id, idempotency_key);
CREATE INDEX inbox_messages_recipient ON inbox_messages (recipient_psn, created_at);

CREATE TABLE inbox_attachments (
    message_id TEXT    NOT NULL,
    n          INTEGER NOT NULL,
    name       TEXT    NOT NULL,
    media_type TEXT    NOT NULL,
    size       INTEGER NOT NULL,
    sha256     TEXT    NOT NULL,
    content    BLOB    NOT NULL,
    PRIMARY KEY (message_id, n)
);

CREATE TABLE contact_points (
    id            INTEGER PRIMARY KEY,
    psn           TEXT    NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('email', 'phone')),
    address       TEXT    NOT NULL,
    lang          TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    verified_at   TEXT,
    token_sha256  TEXT,
    token_expires TEXT,
    attempts      INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX contact_points_address ON contact_points (psn, kind, address);
CREATE UNIQUE INDEX contact_points_token ON contact_points (token_sha256);

-- What an outbox row belongs to (`notification:{id}`, `contact:{psn}`) and how its last attempt failed
-- (`temporary`, `permanent`, `technical`).
ALTER TABLE outbox ADD COLUMN source TEXT;
ALTER TABLE outbox ADD COLUMN failure TEXT;
CREATE INDEX outbox_source ON outbox (source, created_at);
