-- Each execution keeps the fingerprint of the key that stored it, so GET /v1/executions/{id}
-- answers that key (and admin keys) only, as batches do; rows stored before take their batch's.
alter table executions add column if not exists uploaded_by text;
update executions e set uploaded_by = b.uploaded_by
from batches b
where b.id = e.batch_id and b.uploaded_by is not null and e.uploaded_by is null;

-- A batch keeps its first BATCH_FAILURES_KEPT failed items and counts the rest.
alter table batches add column if not exists failures_not_kept integer not null default 0;
-- Batches and their failed items are deleted BATCH_RETENTION_DAYS after they completed, oldest first.
create index if not exists batches_completed_at on batches (completed_at);
