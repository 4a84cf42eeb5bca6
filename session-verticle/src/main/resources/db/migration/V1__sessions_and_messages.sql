CREATE TABLE sessions (
  id            uuid        PRIMARY KEY,
  user_id       text        NOT NULL,
  agent         text        NOT NULL,
  status        text        NOT NULL CHECK (status IN ('active', 'ended')),
  metadata      jsonb       NOT NULL DEFAULT '{}'::jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_activity timestamptz NOT NULL DEFAULT now(),
  ended_at      timestamptz
);
CREATE INDEX sessions_user_status ON sessions (user_id, status);

CREATE TABLE messages (
  id         bigserial   PRIMARY KEY,
  session_id uuid        NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  turn_id    text        NOT NULL,
  role       text        NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
  text       text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_session ON messages (session_id, id);
