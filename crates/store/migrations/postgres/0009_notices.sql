-- Public notices of state bodies (G.3.5): visible to everyone in the portal and its Atom feed. A notice is
-- never deleted; a withdrawal keeps the row and marks it (withdrawn_at, withdrawn_reason). The search_*
-- columns hold the title and text case-folded for search (Armenian with the ligature unfolded), written
-- by the store with the same folding as the query.
CREATE TABLE notices (
    id               TEXT        PRIMARY KEY,
    body_id          TEXT        NOT NULL,
    user_uid         TEXT        NOT NULL,
    title_hy         TEXT        NOT NULL,
    text_hy          TEXT        NOT NULL,
    title_en         TEXT,
    text_en          TEXT,
    title_ru         TEXT,
    text_ru          TEXT,
    search_hy        TEXT        NOT NULL,
    search_en        TEXT,
    search_ru        TEXT,
    published_at     TIMESTAMPTZ NOT NULL,
    valid_until      DATE,
    withdrawn_at     TIMESTAMPTZ,
    withdrawn_reason TEXT
);
CREATE INDEX notices_published ON notices (published_at, id);
CREATE INDEX notices_body ON notices (body_id, published_at);
