-- Each batch keeps its failed items (index, code, message, details: never the payload) and the
-- fingerprint of the API key that sent it, so a user key is shown only its own batches.
alter table batches add column if not exists uploaded_by text;
-- Recent batches newest first (batch ids are time-ordered UUIDv7), all or one key's.
create index if not exists batches_uploaded_by on batches (uploaded_by, id);

create table if not exists batch_failures (
  batch_id     uuid not null,
  item_index   integer not null,
  -- The id the item carried (or was given), when it had a plausible one; not always a UUID.
  execution_id text,
  code         text not null,
  message      text not null,
  details      jsonb,
  primary key (batch_id, item_index)
);
