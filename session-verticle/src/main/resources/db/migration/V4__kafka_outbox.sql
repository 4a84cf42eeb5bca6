-- The Kafka relay reads the event log as a transactional outbox (KafkaRelay).
--
-- kafka_relay: one row once a relay has ever run against this database; from then on every
-- statement storing session events marks its sessions in kafka_outbox (the trigger below), in the
-- same transaction. Without it (Kafka never configured) the trigger does nothing.
CREATE TABLE kafka_relay (
  id         int         PRIMARY KEY CHECK (id = 1),
  shards     int         NOT NULL CHECK (shards > 0),
  enabled_at timestamptz NOT NULL DEFAULT now()
);

-- One row per session with events since the relay was enabled. version is bumped by every
-- statement that stores events of the session; relayed_version is the version the relay had seen
-- when it last found nothing more to send; sent_seq: every event up to it is on Kafka.
CREATE TABLE kafka_outbox (
  session_id      uuid   PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
  shard           int    NOT NULL,
  version         bigint NOT NULL DEFAULT 1,
  relayed_version bigint NOT NULL DEFAULT 0,
  sent_seq        bigint NOT NULL DEFAULT 0
);
CREATE INDEX kafka_outbox_pending ON kafka_outbox (shard) WHERE version > relayed_version;

-- Which relay holds each shard, until when: the holder renews it; another takes it once it expired.
CREATE TABLE kafka_relay_leases (
  shard      int         PRIMARY KEY,
  holder     text        NOT NULL,
  expires_at timestamptz NOT NULL
);

CREATE FUNCTION kafka_outbox_mark() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO kafka_outbox AS o (session_id, shard)
  SELECT DISTINCT n.session_id, (hashtext(n.session_id::text) & 2147483647) % r.shards
  FROM new_events n, kafka_relay r
  ON CONFLICT (session_id) DO UPDATE SET version = o.version + 1;
  RETURN NULL;
END $$;

CREATE TRIGGER session_events_kafka_outbox AFTER INSERT ON session_events
  REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION kafka_outbox_mark();
