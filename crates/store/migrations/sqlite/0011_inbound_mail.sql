-- The official mail domain (G.3.1): mail received by the register's own SMTP server for <PSN>@domain. The
-- raw message is kept byte for byte (evidence: append-only), with the copy forwarded to the person's
-- verified addresses (DKIM-signed, ARC-sealed) and the SRS envelope sender it goes out with. Each recipient
-- gets an inbox message (source 'official_mail') pointing at it.
CREATE TABLE inbound_mail (
    id            TEXT    PRIMARY KEY,
    received_at   TEXT    NOT NULL,
    remote_addr   TEXT    NOT NULL,
    helo          TEXT    NOT NULL,
    mail_from     TEXT    NOT NULL,
    srs_from      TEXT,
    from_header   TEXT    NOT NULL,
    malformed     INTEGER NOT NULL DEFAULT 0,
    size          INTEGER NOT NULL,
    sha256        TEXT    NOT NULL,
    raw           BLOB    NOT NULL,
    forward_copy  BLOB
);
CREATE INDEX inbound_mail_srs ON inbound_mail (srs_from);
CREATE TRIGGER inbound_mail_immutable_update BEFORE UPDATE ON inbound_mail
BEGIN SELECT RAISE(ABORT, 'PSR-SYS-0003 received mail is append-only'); END;
CREATE TRIGGER inbound_mail_immutable_delete BEFORE DELETE ON inbound_mail
BEGIN SELECT RAISE(ABORT, 'PSR-SYS-0003 received mail is append-only'); END;

-- Where an inbox message came from: 'notification' (the sending API), 'official_mail' (received over
-- SMTP; mail_id names it), 'forward_failure' (the portal's notice that a forwarding address bounced).
ALTER TABLE inbox_messages ADD COLUMN source TEXT NOT NULL DEFAULT 'notification';
ALTER TABLE inbox_messages ADD COLUMN mail_id TEXT;
CREATE INDEX inbox_messages_mail ON inbox_messages (mail_id);

-- A forwarding address whose mail bounces for good: shown as failing, no longer forwarded to.
ALTER TABLE contact_points ADD COLUMN failing_since TEXT;
ALTER TABLE contact_points ADD COLUMN failing_reason TEXT;
