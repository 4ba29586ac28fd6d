-- The outbox keeps one row per stored chunk instead of one per event: an insert statement of 500
-- executions adds one outbox row, and publishing them deletes one, so the outbox costs per chunk,
-- not per event. Events that could not be published are kept one by one as dead letters.
create table if not exists outbox_chunks (
  id            bigint generated always as identity primary key,
  batch_id      uuid not null,
  -- The executions whose events are still pending; shrinks only when part of a chunk is handed
  -- back (the rest acknowledged or set aside as dead letters).
  execution_ids uuid[] not null,
  -- A chunk is leased to whoever holds it in memory (the instance that stored it, or the relay
  -- that claimed it) until this time; the holder extends it while it holds the chunk.
  available_at  timestamptz not null,
  -- Times the chunk was handed back because Kafka was unreachable or its holder stopped.
  releases      integer not null default 0,
  created_at    timestamptz not null default now()
);
create index if not exists outbox_chunks_available on outbox_chunks (available_at);
create index if not exists outbox_chunks_batch on outbox_chunks (batch_id);

create table if not exists dead_letters (
  execution_id uuid primary key,
  batch_id     uuid not null,
  attempts     integer not null,
  last_error   text not null,
  -- When the execution was stored, and when its event was given up.
  created_at   timestamptz not null,
  failed_at    timestamptz not null default now()
);
create index if not exists dead_letters_batch on dead_letters (batch_id);

-- Carry the per-event rows over: pending events as chunks of at most 500 per batch, due at once;
-- dead letters as they are.
insert into outbox_chunks (batch_id, execution_ids, available_at, created_at)
select batch_id, array_agg(execution_id order by execution_id), now(), min(created_at)
from (
  select execution_id, batch_id, created_at,
    (row_number() over (partition by batch_id order by execution_id) - 1) / 500 as part
  from outbox where state = 'pending'
) pending
group by batch_id, part;

insert into dead_letters (execution_id, batch_id, attempts, last_error, created_at)
select execution_id, batch_id, attempts, coalesce(last_error, 'unknown'), created_at
from outbox where state = 'failed'
on conflict (execution_id) do nothing;

drop table outbox;
