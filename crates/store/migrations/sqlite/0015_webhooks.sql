-- Webhooks for providers (A1.52–54): a body registers one URL and gets a secret; every rejection of the
-- body's submissions is written to `webhook_outbox` in the same transaction as the rejection log row, and a
-- worker POSTs it, signed (HMAC-SHA256), retrying with exponential backoff. Every attempt is kept.
CREATE TABLE webhooks (
    body_id    TEXT PRIMARY KEY,
    url        TEXT NOT NULL,
    secret     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);

CREATE TABLE webhook_outbox (
    id              INTEGER PRIMARY KEY,
    body_id         TEXT    NOT NULL,
    event           TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    created_at      TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,
    delivered_at    TEXT,
    last_error      TEXT
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at) WHERE delivered_at IS NULL;
CREATE INDEX webhook_outbox_body ON webhook_outbox (body_id, id);

CREATE TABLE webhook_attempts (
    id          INTEGER PRIMARY KEY,
    outbox_id   INTEGER NOT NULL,
    url         TEXT    NOT NULL,
    at          TEXT    NOT NULL,
    http_status INTEGER,
    error       TEXT,
    delivered   INTEGER NOT NULL
);
CREATE INDEX webhook_attempts_outbox ON webhook_attempts (outbox_id, id);
