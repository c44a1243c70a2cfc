-- The citizen's usage view (G.3.4, issue 5) pages through a person's records and counts them. With the body
-- and the time in the person's index, the count and the filters are answered from the index alone, and a
-- page reads only its own rows (before: one row read per record counted, scattered over the whole log).
DROP INDEX usage_psn;
CREATE INDEX usage_psn ON usage_log (psn, id, body_id, at);
