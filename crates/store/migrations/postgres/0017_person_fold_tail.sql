-- Where a person's next entry lands in the fold's valid-time order (issue 3): the latest valid-from date of
-- any of their entries other than the one that created them, as days from 1 January of year 1 (chrono's
-- `num_days_from_ce`), 0 when none of those entries has a date (or there are none), NULL when not known
-- (rows written before this column; the next append folds the person from all of their entries and sets it).
-- An appended entry that sorts after that point, corrects nothing and retracts nothing extends the stored
-- projection instead of folding every entry of the person again.
ALTER TABLE persons ADD COLUMN fold_tail BIGINT;
