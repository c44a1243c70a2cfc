-- The data-usage log (G.3.4, A1.30, A1.37) and the tamper-evident audit trail (A1.8, A2.9).
--
-- usage_log: one row per release of a person's data through the access gate, written durably before the data
-- leaves. usage_hidings: an authorized body's lawful hiding of a usage row from the person until a date.
-- audit_log: the leaves of an RFC 6962 Merkle tree, seq = leaf index; `data` holds exactly the bytes hashed.
-- audit_nodes: the roots of complete subtrees (level >= 1), from which inclusion proofs are built.
-- audit_head: the tree's right edge (size and complete-subtree roots) that the next append extends.
-- audit_checkpoints: signed tree heads. Every table here is append-only; triggers refuse UPDATE and DELETE
-- (audit_head excepted: it is the one mutable row, and `popreg audit verify` never trusts it).
CREATE TABLE usage_log (
    id            INTEGER PRIMARY KEY,
    at            TEXT    NOT NULL,
    psn           TEXT    NOT NULL,
    body_id       TEXT    NOT NULL,
    user_uid      TEXT    NOT NULL,
    channel       TEXT    NOT NULL,
    action        TEXT    NOT NULL,
    elements      TEXT    NOT NULL,
    purpose       TEXT    NOT NULL,
    legal_basis   TEXT    NOT NULL,
    xroad_client  TEXT,
    xroad_id      TEXT,
    xroad_user_id TEXT,
    xroad_issue   TEXT,
    audit_seq     INTEGER NOT NULL
);
CREATE INDEX usage_psn ON usage_log (psn, id);
CREATE INDEX usage_body ON usage_log (body_id, id);
CREATE INDEX usage_at ON usage_log (at);

CREATE TABLE usage_hidings (
    id           INTEGER PRIMARY KEY,
    usage_id     INTEGER NOT NULL,
    hidden_until TEXT    NOT NULL,
    reason       TEXT    NOT NULL,
    body_id      TEXT    NOT NULL,
    user_uid     TEXT    NOT NULL,
    at           TEXT    NOT NULL
);
CREATE INDEX usage_hidings_usage ON usage_hidings (usage_id);

CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,
    at        TEXT    NOT NULL,
    kind      TEXT    NOT NULL,
    data      TEXT    NOT NULL,
    leaf_hash TEXT    NOT NULL
);

CREATE TABLE audit_nodes (
    level INTEGER NOT NULL,
    idx   INTEGER NOT NULL,
    hash  TEXT    NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;

CREATE TABLE audit_head (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    frontier TEXT    NOT NULL
);
INSERT INTO audit_head (id, frontier) VALUES (1, '0');

CREATE TABLE audit_checkpoints (
    id        INTEGER PRIMARY KEY,
    size      INTEGER NOT NULL,
    root      TEXT    NOT NULL,
    at        TEXT    NOT NULL,
    key_id    TEXT    NOT NULL,
    note      TEXT    NOT NULL,
    signature TEXT    NOT NULL
);

CREATE TRIGGER usage_log_immutable_update BEFORE UPDATE ON usage_log
BEGIN SELECT RAISE(ABORT, 'PSR-SYS-0003 the usage log is append-only'); END;
CREATE TRIGGER usage_log_immutable_delete BEFORE DELETE ON usage_log
BEGIN SELECT RAISE(ABORT, 'PSR-SYS-0003 the usage log is append-only'); END;
CREATE TRIGGER usage_hidings_immutable_update BEFORE UPDATE ON usage_hidings
BEGIN SELECT RAISE(ABORT, 'PSR-SYS-0003 hidings are append-only'); END;
CREATE TRIGGER usage_hidings_immutable_delete BEFORE DELETE ON usage_hidings
BEGIN SELECT RAISE(ABORT, 'PSR-SYS-0003 hidings are append-only'); END;
CREATE TRIGGER audit_log_immutable_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'PSR-SYS-0003 the audit log is append-only'); END;
CREATE TRIGGER audit_log_immutable_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'PSR-SYS-0003 the audit log is append-only'); END;
CREATE TRIGGER audit_nodes_immutable_update BEFORE UPDATE ON audit_nodes
BEGIN SELECT RAISE(ABORT, 'PSR-SYS-0003 the audit tree is append-only'); END;
CREATE TRIGGER audit_nodes_immutable_delete BEFORE DELETE ON audit_nodes
BEGIN SELECT RAISE(ABORT, 'PSR-SYS-0003 the audit tree is append-only'); END;
CREATE TRIGGER audit_checkpoints_immutable_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'PSR-SYS-0003 checkpoints are append-only'); END;
CREATE TRIGGER audit_checkpoints_immutable_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'PSR-SYS-0003 checkpoints are append-only'); END;
