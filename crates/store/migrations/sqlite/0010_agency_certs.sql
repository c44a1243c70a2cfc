-- Agency API clients by mutual TLS (issue 4 item 6): a body registers the client certificates its systems
-- call with. Only the SHA-256 fingerprint of the DER certificate identifies one; subject, issuer and validity
-- are kept for display. The functions are given with the registration, as for an API key. A registration is
-- revoked by setting revoked_at, never deleted; every change is an access_events row.
CREATE TABLE agency_certs (
    id                 TEXT PRIMARY KEY,
    body_id            TEXT NOT NULL REFERENCES bodies(id),
    fingerprint_sha256 TEXT NOT NULL UNIQUE,
    subject            TEXT NOT NULL,
    issuer             TEXT NOT NULL,
    not_before         TEXT NOT NULL,
    not_after          TEXT NOT NULL,
    functions          TEXT NOT NULL,
    label              TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    revoked_at         TEXT
);
CREATE INDEX agency_certs_body ON agency_certs (body_id);
