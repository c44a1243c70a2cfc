-- Mobile ID (issue 4 §3, G.2m): enrolment codes, the persons' devices and their public keys, logins waiting
-- for a device's approval, the challenges devices sign, and wrong enrolment codes per client (guessing).
-- Codes and the browser's waiting token are kept only as SHA-256 (hex).
CREATE TABLE mobile_id_codes (
    code_sha256 TEXT PRIMARY KEY,
    psn         TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ
);
CREATE INDEX mobile_id_codes_psn ON mobile_id_codes (psn, created_at);

-- `public_key`: the raw 32-byte Ed25519 public key, base64.
CREATE TABLE mobile_id_devices (
    id          TEXT PRIMARY KEY,
    psn         TEXT NOT NULL,
    name        TEXT NOT NULL,
    public_key  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    last_used   TIMESTAMPTZ,
    revoked_at  TIMESTAMPTZ
);
CREATE INDEX mobile_id_devices_psn ON mobile_id_devices (psn);

-- A login started on the portal's login page: `browser_sha256` names the waiting browser (its cookie),
-- `verification` is shown on both screens; `approved_*` when a device signed; `consumed_at` when the browser
-- opened its session.
CREATE TABLE mobile_id_logins (
    id             TEXT PRIMARY KEY,
    psn            TEXT NOT NULL,
    browser_sha256 TEXT NOT NULL UNIQUE,
    verification   TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    expires_at     TIMESTAMPTZ NOT NULL,
    approved_at    TIMESTAMPTZ,
    approved_by    TEXT,
    consumed_at    TIMESTAMPTZ
);
CREATE INDEX mobile_id_logins_psn ON mobile_id_logins (psn, created_at);

CREATE TABLE mobile_id_challenges (
    id          TEXT PRIMARY KEY,
    device_id   TEXT NOT NULL,
    login_id    TEXT NOT NULL,
    nonce       TEXT NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ
);

CREATE TABLE mobile_id_tries (
    client TEXT NOT NULL,
    at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX mobile_id_tries_client ON mobile_id_tries (client, at);
