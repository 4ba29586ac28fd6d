-- Each chunk's estimated size in bytes: what its events take once read and encoded, so that a relay
-- claim and the publisher's memory are bounded in bytes, not only in events (a chunk of large
-- executions weighs a hundred times one of small ones). New chunks are measured by the insert from
-- the column values it sends; the chunks already here, once, from their rows' text (plus 400 per
-- event for field names and headers, as EVENT_OVERHEAD_BYTES in db/execution_columns.ts).
alter table outbox_chunks add column if not exists bytes bigint not null default 0;

update outbox_chunks c set bytes = coalesce((
  select sum(octet_length(e::text) + 400) from executions e where e.id = any(c.execution_ids)
), 0);
