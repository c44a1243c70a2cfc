-- SMS delivery (G.7, issue 7): the provider's ids of each message's parts, delivery receipts, permanent
-- failures that end the attempts, and the per-number daily cap's count.
--
-- `given_up_at`: the message will not be tried again (a permanent refusal, a failed receipt, the daily cap).
-- `delivered_at`: a delivery receipt said every part reached the phone.
ALTER TABLE outbox ADD COLUMN given_up_at TEXT;
ALTER TABLE outbox ADD COLUMN delivered_at TEXT;
CREATE INDEX outbox_recipient ON outbox (channel, recipient, sent_at);

-- One row per part the provider accepted, under its id; `status` is the last receipt's word
-- (`delivered`, `undeliverable`, `expired`, `rejected`, `deleted`, `enroute`, `accepted`, `unknown`).
CREATE TABLE sms_parts (
    outbox_id   INTEGER NOT NULL,
    part        INTEGER NOT NULL,
    provider_id TEXT    NOT NULL,
    status      TEXT,
    error       TEXT,
    reported_at TEXT,
    PRIMARY KEY (outbox_id, part)
);
CREATE INDEX sms_parts_provider ON sms_parts (provider_id);
