-- Resubmissions are now told from conflicts by comparing the stored columns, only for the ids an
-- insert skipped; hashing every item on the hot path cost more than that comparison ever does.
alter table executions drop column if exists content_hash;
