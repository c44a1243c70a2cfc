-- The entry log (A2.1): immutable. Triggers refuse UPDATE and DELETE even from a hand-written statement.
CREATE TABLE entries (
    id              INTEGER PRIMARY KEY,
    subject_psn     TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    provider        TEXT    NOT NULL,
    user_uid        TEXT    NOT NULL,
    channel         TEXT    NOT NULL,
    xroad_client    TEXT,
    xroad_id        TEXT,
    xroad_user_id   TEXT,
    xroad_issue     TEXT,
    idempotency_key TEXT,
    recorded_at     TEXT    NOT NULL,
    valid_from      TEXT,
    valid_to        TEXT,
    supersedes      INTEGER REFERENCES entries(id)
);
CREATE INDEX entries_subject ON entries (subject_psn, id);

CREATE TRIGGER entries_immutable_update BEFORE UPDATE ON entries
BEGIN SELECT RAISE(ABORT, 'PSR-SYS-0003 entries are immutable (A2.1)'); END;
CREATE TRIGGER entries_immutable_delete BEFORE DELETE ON entries
BEGIN SELECT RAISE(ABORT, 'PSR-SYS-0003 entries are never deleted (A2.1)'); END;

-- The current state of each person: a projection of the entry log kept in the same transaction.
CREATE TABLE persons (
    psn           TEXT    PRIMARY KEY,
    doc           TEXT    NOT NULL,
    surname_fold  TEXT    NOT NULL,
    first_fold    TEXT    NOT NULL,
    birth_date    TEXT    NOT NULL,
    sex           TEXT    NOT NULL CHECK (sex IN ('F', 'M')),
    death_date    TEXT,
    last_entry_id INTEGER NOT NULL,
    updated_at    TEXT    NOT NULL
);
CREATE INDEX persons_name ON persons (surname_fold, first_fold, birth_date);
