-- Console sessions ended by sign-out before their expiry: a session's cookie stays valid by its
-- signature until it expires, so the server keeps its id (a SHA-256 of the cookie's nonce, never
-- the nonce) until then, and refuses it. Rows past their expiry are deleted as new ones come in.
create table if not exists console_revoked_sessions (
  session_id text primary key,
  expires_at timestamptz not null
);
create index if not exists console_revoked_sessions_expires_at
  on console_revoked_sessions (expires_at);
