-- The citizen's usage view (G.3.4, issue 5) pages through a person's records and counts them. With the body
-- in the person's index, the count (their records less their own reads) is answered from the index alone and
-- a page reads only its own rows; before, the count read one row per record, scattered over the whole log.
-- The time is left out to keep the entry small (one of these is written for every record): a count over a
-- period reads the person's rows.
DROP INDEX usage_psn;
CREATE INDEX usage_psn ON usage_log (psn, id, body_id);
