-- Each execution keeps the fingerprint of the key that stored it, so GET /v1/executions/{id}
-- answers that key (and admin keys) only, as batches do; rows stored before take their batch's.
alter table executions add column if not exists uploaded_by text;
update executions e set uploaded_by = b.uploaded_by
from batches b
where b.id = e.batch_id and b.uploaded_by is not null and e.uploaded_by is null;
