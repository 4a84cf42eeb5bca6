-- Every client-visible event of a session, in order. The event is kept as its exact JSON text
-- (json, not jsonb) so a replay sends the client byte-for-byte what the live stream sent.
CREATE TABLE session_events (
  session_id uuid        NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  seq        bigint      NOT NULL CHECK (seq > 0),
  type       text        NOT NULL,
  event      json        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (session_id, seq)
);

-- The connection that may append events; a new writer fences out the previous one.
ALTER TABLE sessions ADD COLUMN writer_id text;
CREATE INDEX sessions_user_created ON sessions (user_id, created_at DESC);
