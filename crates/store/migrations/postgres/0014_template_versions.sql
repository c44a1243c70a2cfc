-- Versioned notification templates (issue 7, item 2; like GOV.UK Notify). The text shipped in the Fluent
-- files (`crates/notify/locales/*/notify.ftl`) is version 1 of every template and is not stored here. An
-- administrator saves a new version of one language's subject and body; the other languages of that
-- version are those of the latest earlier version that has them (else the shipped text). Versions are
-- numbered per template and never change once written.
CREATE TABLE template_versions (
    template   TEXT        NOT NULL,
    version    BIGINT      NOT NULL CHECK (version >= 2),
    lang       TEXT        NOT NULL CHECK (lang IN ('hy', 'en', 'ru')),
    subject    TEXT        NOT NULL,
    body       TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    created_by TEXT        NOT NULL,
    PRIMARY KEY (template, version)
);
CREATE INDEX template_versions_lang ON template_versions (template, lang, version);

-- Every outbox row records the version current when it was enqueued, and its delivery renders that
-- version: a later edit never changes a queued message. Rows written before this migration are version 1.
-- The trigger fills it in for every writer of the outbox (the sending API, rejections, reminders,
-- forwards), in the writer's own transaction.
ALTER TABLE outbox ADD COLUMN template_version BIGINT;
UPDATE outbox SET template_version = 1;
CREATE FUNCTION outbox_template_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.template_version IS NULL THEN
        NEW.template_version := COALESCE(
            (SELECT MAX(version) FROM template_versions WHERE template = NEW.template), 1);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER outbox_template_version BEFORE INSERT ON outbox
FOR EACH ROW EXECUTE FUNCTION outbox_template_version();
