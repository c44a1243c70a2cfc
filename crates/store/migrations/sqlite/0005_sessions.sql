-- Login sessions of the e-Citizen portal (issue 4, G.2): one row per login. The browser holds a random
-- token in a cookie; only its SHA-256 is kept here, so a copy of the database cannot be used to log in.
-- A session ends on logout, after `idle` without a request, or at its absolute limit; ended rows stay as
-- the record of the login (login and logout are also leaves of the audit trail).
CREATE TABLE sessions (
    id_sha256  TEXT PRIMARY KEY,
    psn        TEXT NOT NULL,
    method     TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen  TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    ended_at   TEXT,
    end_reason TEXT,
    client_ip  TEXT,
    user_agent TEXT
);
CREATE INDEX sessions_psn ON sessions (psn, created_at);
