-- The Access Control System (A1.5.3, A1.33–34, A1.37): bodies, their API keys, their employees, their read
-- grants, and the append-only log of every change to any of them. Keys are kept as SHA-256 only.
CREATE TABLE bodies (
    id            TEXT PRIMARY KEY,
    body_type     TEXT NOT NULL,
    name_hy       TEXT NOT NULL,
    name_en       TEXT NOT NULL,
    name_ru       TEXT NOT NULL,
    xroad_member  TEXT UNIQUE,
    contact_email TEXT,
    created_at    TEXT NOT NULL
);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    body_id    TEXT NOT NULL REFERENCES bodies(id),
    key_sha256 TEXT NOT NULL UNIQUE,
    owner_uid  TEXT NOT NULL,
    functions  TEXT NOT NULL,
    label      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX api_keys_body ON api_keys (body_id);

CREATE TABLE employees (
    body_id   TEXT NOT NULL REFERENCES bodies(id),
    psn       TEXT NOT NULL,
    functions TEXT NOT NULL,
    since     TEXT NOT NULL,
    until     TEXT,
    PRIMARY KEY (body_id, psn, since)
);

CREATE TABLE read_grants (
    id          TEXT PRIMARY KEY,
    body_id     TEXT NOT NULL REFERENCES bodies(id),
    elements    TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    legal_basis TEXT NOT NULL,
    granted_at  TEXT NOT NULL,
    ends_on     TEXT,
    revoked_at  TEXT
);
CREATE INDEX read_grants_body ON read_grants (body_id);

-- Every change above, in order. Immutable like the entry log: triggers refuse UPDATE and DELETE.
CREATE TABLE access_events (
    id     INTEGER PRIMARY KEY,
    at     TEXT NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL
);

CREATE TRIGGER access_events_immutable_update BEFORE UPDATE ON access_events
BEGIN SELECT RAISE(ABORT, 'PSR-SYS-0003 access events are immutable'); END;
CREATE TRIGGER access_events_immutable_delete BEFORE DELETE ON access_events
BEGIN SELECT RAISE(ABORT, 'PSR-SYS-0003 access events are never deleted'); END;
