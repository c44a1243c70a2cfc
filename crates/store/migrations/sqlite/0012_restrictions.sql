-- Automatic restrictions (A1.55): counting a body's recent rejections and late submissions must not scan the
-- body's whole history (submit.rs, restrict_if_due).
CREATE INDEX rejections_body_time ON rejections (body_id, received_at);
CREATE INDEX submissions_late ON submissions (body_id, received_at) WHERE late;
