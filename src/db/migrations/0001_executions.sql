-- Executions, their batches, and the transactional outbox of events still to publish.
create table if not exists executions (
  id            uuid primary key,
  batch_id      uuid not null,
  test_case_key text not null,
  status        text not null check (status in ('PASSED', 'FAILED', 'BLOCKED', 'SKIPPED', 'IN_PROGRESS', 'NOT_EXECUTED')),
  started_at    timestamptz not null,
  finished_at   timestamptz,
  duration_ms   integer check (duration_ms >= 0),
  cycle_key     text,
  environment   text,
  executed_by   text,
  comment       text,
  attributes    jsonb,
  content_hash  text not null,
  created_at    timestamptz not null default now()
);

create table if not exists batches (
  id           uuid primary key,
  total        integer not null,
  created      integer not null,
  duplicates   integer not null,
  failed       integer not null,
  received_at  timestamptz not null,
  completed_at timestamptz not null default now()
);

-- One row per stored execution whose event is not yet acknowledged by Kafka. A published event's
-- row is deleted (so the table stays small and the relay's scan cheap); a dead letter stays with
-- state 'failed' until an operator re-queues it. No foreign key: it would cost a lookup per row on
-- the hot insert path, and rows are only ever written in the same statement as their execution.
create table if not exists outbox (
  execution_id uuid primary key,
  batch_id     uuid not null,
  state        text not null default 'pending' check (state in ('pending', 'failed')),
  -- The relay only takes rows whose time has come: a fresh row is leased to the process that
  -- stored it, a claimed row to the relay that claimed it.
  available_at timestamptz not null,
  attempts     integer not null default 0,
  last_error   text,
  created_at   timestamptz not null default now()
);
create index if not exists outbox_pending_available on outbox (available_at) where state = 'pending';
create index if not exists outbox_batch on outbox (batch_id);
