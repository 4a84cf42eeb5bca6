package io.voicemesh.session;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import io.vertx.kafka.client.producer.RecordMetadata;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import io.voicemesh.api.event.ConversationEvent;
import io.voicemesh.api.MeshMetrics;
import io.voicemesh.api.message.KafkaRelayStatus;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every stored session event onto Kafka: the event log in PostgreSQL read as a transactional outbox.
 *
 * <pre>
 *  gateway ── session.events.append ──▶ session_events ──(trigger, same transaction)──▶ kafka_outbox
 *                                                                                          │ version &gt; relayed_version
 *  KafkaRelay (holder of the shard's lease) ◀── pending sessions, their events after sent_seq ┘
 *     │ produce: key sessionId, value = the stored JSON bytes, headers seq, type (idempotent, acks=all)
 *     ▼ acked
 *  kafka_outbox.sent_seq = last seq acked in order (only while still holding the lease)
 * </pre>
 *
 * Sessions are spread over {@code shards} by a hash of their id; each shard has one lease row,
 * renewed by its holder every {@code leaseMs / 3} and taken by any other relay once it expired, so
 * exactly one relay serves a shard and a dead node's shards move within {@code leaseMs}. A relay
 * sends a session's events strictly in seq order, waits for Kafka's acknowledgement, then records
 * the progress: a crash, a restart or a lease moving re-sends at most the round in flight
 * (consumers dedupe by {@code (sessionId, seq)}). While Kafka is away the sends fail or wait; the
 * relay backs off (up to {@value #BACKOFF_MAX_MS} ms) and resumes from the recorded progress.
 * Nothing here touches the conversation's path: the gateway only stores events.
 */
final class KafkaRelay {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaRelay.class);
  private static final long BACKOFF_FIRST_MS = 250;
  private static final long BACKOFF_MAX_MS = 5_000;
  private static final long LAG_INTERVAL_MS = 1_000;
  private static final long START_RETRY_MS = 10_000;

  /** The relay's settings, from the {@code kafka} config section. */
  record Settings(String bootstrapServers, String topic, String transcriptsTopic, String language,
      Map<String, String> producer, int shards, long leaseMs, long pollMs, int batchSessions, int batchEvents,
      long gapWaitMs) {

    static Settings from(JsonObject kafka) {
      JsonObject relay = kafka.getJsonObject("relay", new JsonObject());
      JsonObject transcripts = kafka.getJsonObject("transcripts", new JsonObject());
      Map<String, String> producer = new LinkedHashMap<>();
      kafka.getJsonObject("producer", new JsonObject()).forEach(e -> producer.put(e.getKey(), String.valueOf(e.getValue())));
      Settings settings = new Settings(kafka.getString("bootstrapServers", ""),
          kafka.getString("topic", "voicemesh.session-events"),
          transcripts.getBoolean("enabled", false) ? transcripts.getString("topic", "voicemesh.transcripts") : "",
          transcripts.getString("language", "en-US"), producer,
          relay.getInteger("shards", 8), relay.getLong("leaseMs", 5_000L), relay.getLong("pollMs", 50L),
          relay.getInteger("batchSessions", 500), relay.getInteger("batchEvents", 500),
          relay.getLong("gapWaitMs", 120_000L));
      if (settings.shards < 1 || settings.shards > 1024) {
        throw new IllegalArgumentException("kafka.relay.shards must be 1 to 1024; got " + settings.shards);
      }
      if (settings.leaseMs < 1_000) {
        throw new IllegalArgumentException("kafka.relay.leaseMs must be at least 1000; got " + settings.leaseMs);
      }
      if (settings.pollMs < 1 || settings.batchSessions < 1 || settings.batchEvents < 1) {
        throw new IllegalArgumentException("kafka.relay.pollMs, batchSessions and batchEvents must be positive");
      }
      if (settings.topic.isBlank()) {
        throw new IllegalArgumentException("kafka.topic must not be empty");
      }
      return settings;
    }

    boolean enabled() {
      return !bootstrapServers.isBlank();
    }
  }

  /** One stored event not yet on Kafka. */
  private record Pending(UUID sessionId, long seq, String type, String json, OffsetDateTime storedAt) {
  }

  /** A session's run of events this round, and what the relay will record once they are acked. */
  private record Run(UUID sessionId, long version, List<Pending> events, boolean caughtUp) {
  }

  private final Vertx vertx;
  private final Pool pool;
  private final Settings settings;
  private final String holder;
  private final Map<String, String> producerConfig = new HashMap<>();
  private KafkaProducer<String, Buffer> producer;
  private Set<Integer> shards = Set.of();
  /** Until when (System.nanoTime) the leases in {@link #shards} are surely ours: the renewal's start plus leaseMs. */
  private long leasedUntil;
  private long backoffMs;
  private volatile boolean stopped;
  private volatile long lagEvents;
  private volatile double lagSeconds;
  private volatile String lastError;
  private final Counter sent;
  private final Timer latency;
  private final List<Long> timers = new ArrayList<>();

  KafkaRelay(Vertx vertx, Pool pool, Settings settings, String node) {
    this.vertx = vertx;
    this.pool = pool;
    this.settings = settings;
    this.holder = node + "/" + UUID.randomUUID();
    Map<String, String> config = producerConfig;
    config.put("bootstrap.servers", settings.bootstrapServers());
    config.put("acks", "all");
    config.put("enable.idempotence", "true");
    config.put("max.in.flight.requests.per.connection", "5");
    config.put("linger.ms", "5");
    config.put("compression.type", "lz4");
    // While Kafka is away a send waits this long for the topic's metadata (on a worker thread, not an event loop).
    config.put("max.block.ms", "5000");
    config.put("client.id", "voicemesh-relay-" + node);
    config.putAll(settings.producer());
    // Not to be overridden: a value is the stored bytes, keyed by session.
    config.put("key.serializer", "org.apache.kafka.common.serialization.StringSerializer");
    config.put("value.serializer", "io.vertx.kafka.client.serialization.BufferSerializer");
    this.sent = Counter.builder(MeshMetrics.KAFKA_RELAY_SENT).description("Session events the Kafka relay had acked")
        .tag("node", node).register(MeshMetrics.registry());
    this.latency = MeshMetrics.timer(MeshMetrics.KAFKA_RELAY_LATENCY);
    Gauge.builder(MeshMetrics.KAFKA_RELAY_LAG_EVENTS, () -> lagEvents).description("Stored session events not yet on Kafka")
        .tag("node", node).register(MeshMetrics.registry());
    Gauge.builder(MeshMetrics.KAFKA_RELAY_LAG_SECONDS, () -> lagSeconds)
        .description("Age of the oldest stored session event not yet on Kafka").tag("node", node)
        .register(MeshMetrics.registry());
  }

  /**
   * Enables the outbox in the database (once), then takes leases and relays until {@link #stop}.
   * The future completes at once: a relay that cannot start (the bootstrap address does not
   * resolve yet, the database is away) says why in its status and tries again every
   * {@value #START_RETRY_MS} ms; the session role serves meanwhile.
   */
  Future<Void> start() {
    attemptStart();
    return Future.succeededFuture();
  }

  private void attemptStart() {
    if (stopped) {
      return;
    }
    // Creating a producer loads its classes and resolves the bootstrap address: not on an event loop.
    Future<KafkaProducer<String, Buffer>> created = producer != null ? Future.succeededFuture(producer)
        : vertx.executeBlocking(() -> KafkaProducer.<String, Buffer>create(vertx, producerConfig));
    created
        .andThen(done -> {
          if (done.succeeded()) {
            producer = done.result();
            // Each send's future carries its own failure, handled by its round; without a handler the
            // producer also reports every failed send to the context as unhandled (at a forced close).
            producer.exceptionHandler(e -> LOG.debug("Kafka relay: producer: {}", e.toString()));
          }
        })
        .compose(made -> pool.preparedQuery("INSERT INTO kafka_relay (id, shards) VALUES (1, $1) ON CONFLICT (id) DO NOTHING")
            .execute(Tuple.of(settings.shards())))
        .compose(v -> pool.query("SELECT shards FROM kafka_relay").execute())
        .onSuccess(rows -> {
          lastError = null;
          int shardCount = rows.iterator().next().getInteger("shards");
          if (shardCount != settings.shards()) {
            LOG.warn("kafka.relay.shards is {}, but this database was set up with {} shards: using {}",
                settings.shards(), shardCount, shardCount);
          }
          LOG.info("Kafka relay {} to {} topic {} over {} shards{}", holder, settings.bootstrapServers(),
              settings.topic(), shardCount,
              settings.transcriptsTopic().isBlank() ? "" : ", transcripts to " + settings.transcriptsTopic());
          timers.add(vertx.setPeriodic(0, Math.max(200, settings.leaseMs() / 3), t -> renew(shardCount)));
          timers.add(vertx.setPeriodic(LAG_INTERVAL_MS, t -> measureLag()));
          vertx.setTimer(settings.pollMs(), t -> round());
        })
        .onFailure(e -> {
          lastError = "not started: " + e;
          LOG.error("Kafka relay did not start ({}); trying again in {} ms", e.toString(), START_RETRY_MS);
          vertx.setTimer(START_RETRY_MS, t -> attemptStart());
        });
  }

  /** Takes every shard that is free or whose lease expired, and renews those it holds. */
  private void renew(int shardCount) {
    if (stopped) {
      return;
    }
    long startedAt = System.nanoTime();
    pool.preparedQuery("INSERT INTO kafka_relay_leases (shard, holder, expires_at) "
            + "SELECT s, $1, now() + make_interval(secs => $2) FROM generate_series(0, $3 - 1) AS s "
            + "ON CONFLICT (shard) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at "
            + "WHERE kafka_relay_leases.holder = EXCLUDED.holder OR kafka_relay_leases.expires_at < now() "
            + "RETURNING shard")
        .execute(Tuple.of(holder, settings.leaseMs() / 1000.0, shardCount))
        .onSuccess(rows -> {
          Set<Integer> held = new TreeSet<>();
          rows.forEach(row -> held.add(row.getInteger("shard")));
          if (!held.equals(shards)) {
            LOG.info("Kafka relay {} holds shards {}", holder, held);
          }
          shards = held;
          leasedUntil = startedAt + settings.leaseMs() * 1_000_000;
        })
        .onFailure(e -> LOG.warn("Kafka relay: leases not renewed ({})", e.getMessage()));
  }

  private List<Integer> heldShards() {
    return System.nanoTime() - leasedUntil < 0 ? List.copyOf(shards) : List.of();
  }

  /** One round: the pending sessions of our shards, their next events in order, produced, then the progress recorded. */
  private void round() {
    if (stopped) {
      return;
    }
    List<Integer> mine = heldShards();
    if (mine.isEmpty()) {
      vertx.setTimer(settings.pollMs(), t -> round());
      return;
    }
    pool.preparedQuery("SELECT o.session_id, o.version, o.sent_seq, e.seq, e.type, e.event::text AS event, e.created_at "
            + "FROM (SELECT session_id, version, sent_seq FROM kafka_outbox WHERE shard = ANY($1) "
            + "AND version > relayed_version LIMIT $2) o "
            + "LEFT JOIN LATERAL (SELECT seq, type, event, created_at FROM session_events "
            + "WHERE session_id = o.session_id AND seq > o.sent_seq ORDER BY seq LIMIT $3) e ON true "
            + "ORDER BY o.session_id, e.seq")
        .execute(Tuple.of(mine.toArray(Integer[]::new), settings.batchSessions(), settings.batchEvents()))
        .map(this::runs)
        .compose(runs -> relay(runs).map(runs.stream().anyMatch(run -> !run.events().isEmpty())))
        .onComplete(done -> {
          if (done.succeeded()) {
            backoffMs = 0;
            lastError = null;
            if (done.result()) {
              vertx.runOnContext(v -> round());
            } else {
              vertx.setTimer(settings.pollMs(), t -> round());
            }
          } else {
            backoffMs = backoffMs == 0 ? BACKOFF_FIRST_MS : Math.min(BACKOFF_MAX_MS, backoffMs * 2);
            lastError = done.cause().toString();
            LOG.warn("Kafka relay: round failed ({}); next in {} ms", done.cause().toString(), backoffMs);
            vertx.setTimer(backoffMs, t -> round());
          }
        });
  }

  /** The rows grouped by session; each session's events cut at the first gap in its seqs. */
  private List<Run> runs(io.vertx.sqlclient.RowSet<Row> rows) {
    Map<UUID, List<Row>> bySession = new LinkedHashMap<>();
    rows.forEach(row -> bySession.computeIfAbsent(row.getUUID("session_id"), id -> new ArrayList<>()).add(row));
    List<Run> runs = new ArrayList<>();
    OffsetDateTime gapDeadline = OffsetDateTime.now().minus(Duration.ofMillis(settings.gapWaitMs()));
    bySession.forEach((id, sessionRows) -> {
      Row first = sessionRows.get(0);
      long version = first.getLong("version");
      long expected = first.getLong("sent_seq") + 1;
      List<Pending> events = new ArrayList<>();
      boolean gap = false;
      for (Row row : sessionRows) {
        Long seq = row.getLong("seq");
        if (seq == null) {
          break; // no event after sent_seq: caught up
        }
        OffsetDateTime storedAt = row.getOffsetDateTime("created_at");
        if (seq != expected) {
          // A hole in the log; events are stored in order, so wait for it, unless it is too old to ever fill.
          if (!(events.isEmpty() && storedAt.isBefore(gapDeadline))) {
            gap = true;
            break;
          }
          LOG.warn("Kafka relay: session {} has no events {}..{}; sending on from {}", id, expected, seq - 1, seq);
        }
        events.add(new Pending(id, seq, row.getString("type"), row.getString("event"), storedAt));
        expected = seq + 1;
      }
      boolean caughtUp = !gap && events.size() < settings.batchEvents();
      runs.add(new Run(id, version, events, caughtUp));
    });
    return runs;
  }

  /** Produces every run's events, then records for each session how far its events were acked, in order. */
  private Future<Void> relay(List<Run> runs) {
    List<Future<RecordMetadata>> sends = new ArrayList<>();
    List<List<Future<RecordMetadata>>> perRun = new ArrayList<>();
    for (Run run : runs) {
      List<Future<RecordMetadata>> runSends = new ArrayList<>();
      for (Pending event : run.events()) {
        Future<RecordMetadata> send = producer.send(record(event));
        if (!settings.transcriptsTopic().isBlank()) {
          JsonObject transcript = transcript(event);
          if (transcript != null) {
            send = Future.all(send, producer.send(KafkaProducerRecord.create(settings.transcriptsTopic(),
                event.sessionId().toString(), transcript.toBuffer()))).map(both -> both.resultAt(0));
          }
        }
        runSends.add(send);
      }
      sends.addAll(runSends);
      perRun.add(runSends);
    }
    return Future.join(sends).transform(joined -> {
      List<UUID> ids = new ArrayList<>();
      List<Long> sentSeqs = new ArrayList<>();
      List<Long> versions = new ArrayList<>();
      List<Boolean> done = new ArrayList<>();
      Throwable failure = null;
      long now = System.currentTimeMillis();
      for (int i = 0; i < runs.size(); i++) {
        Run run = runs.get(i);
        long acked = -1;
        boolean all = true;
        for (int j = 0; j < run.events().size(); j++) {
          Future<RecordMetadata> send = perRun.get(i).get(j);
          if (send.failed()) {
            failure = send.cause();
            all = false;
            break;
          }
          Pending event = run.events().get(j);
          acked = event.seq();
          sent.increment();
          latency.record(Math.max(0, now - event.storedAt().toInstant().toEpochMilli()),
              java.util.concurrent.TimeUnit.MILLISECONDS);
        }
        if (acked < 0 && !(all && run.caughtUp())) {
          continue;
        }
        ids.add(run.sessionId());
        sentSeqs.add(acked);
        versions.add(run.version());
        done.add(all && run.caughtUp());
      }
      Throwable sendFailure = failure;
      Future<Void> recorded = ids.isEmpty() ? Future.succeededFuture() : pool.preparedQuery(
              "UPDATE kafka_outbox o SET sent_seq = greatest(o.sent_seq, u.sent), "
                  + "relayed_version = CASE WHEN u.done THEN greatest(o.relayed_version, u.version) ELSE o.relayed_version END "
                  + "FROM unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::bool[]) AS u(id, sent, version, done) "
                  + "WHERE o.session_id = u.id AND EXISTS (SELECT 1 FROM kafka_relay_leases l "
                  + "WHERE l.shard = o.shard AND l.holder = $5 AND l.expires_at > now())")
          .execute(Tuple.of(ids.toArray(UUID[]::new), sentSeqs.toArray(Long[]::new), versions.toArray(Long[]::new),
              done.toArray(Boolean[]::new), holder))
          .mapEmpty();
      return recorded.compose(v -> sendFailure == null ? Future.<Void>succeededFuture() : Future.failedFuture(sendFailure));
    });
  }

  private KafkaProducerRecord<String, Buffer> record(Pending event) {
    return KafkaProducerRecord.<String, Buffer>create(settings.topic(), event.sessionId().toString(),
            Buffer.buffer(event.json()))
        .addHeader("seq", Long.toString(event.seq()))
        .addHeader("type", event.type());
  }

  /**
   * The compact record of a final user transcript ({@code user_message}) or an agent answer
   * ({@code agent_completed}, with what the user heard of it and the turn's timings); null for other events.
   */
  private JsonObject transcript(Pending event) {
    if (!ConversationEvent.USER_MESSAGE.equals(event.type()) && !ConversationEvent.AGENT_COMPLETED.equals(event.type())) {
      return null;
    }
    JsonObject stored = new JsonObject(event.json());
    boolean user = ConversationEvent.USER_MESSAGE.equals(event.type());
    JsonObject record = new JsonObject().put("sessionId", event.sessionId().toString())
        .put("turnId", stored.getValue("turnId")).put("seq", event.seq()).put("role", user ? "user" : "agent")
        .put("text", user ? stored.getString("text") : stored.getString("heardText"))
        .put("language", settings.language()).put("ts", stored.getValue("ts"));
    if (!user) {
      record.put("interrupted", stored.getBoolean("interrupted", false)).put("timings", stored.getValue("timings"));
    }
    return record;
  }

  /** Events stored but not yet on Kafka (all shards, whoever holds them), and the oldest one's age. */
  private void measureLag() {
    if (stopped) {
      return;
    }
    pool.query("SELECT count(e.seq) AS events, "
            + "coalesce(extract(epoch FROM now() - min(e.created_at)), 0)::float8 AS seconds "
            + "FROM kafka_outbox o JOIN session_events e ON e.session_id = o.session_id AND e.seq > o.sent_seq "
            + "WHERE o.version > o.relayed_version")
        .execute()
        .onSuccess(rows -> {
          Row row = rows.iterator().next();
          lagEvents = row.getLong("events");
          lagSeconds = Math.max(0, row.getDouble("seconds"));
        })
        .onFailure(e -> LOG.debug("Kafka relay: lag not measured ({})", e.getMessage()));
  }

  /** What {@code /health} and the node status show. */
  KafkaRelayStatus status() {
    return new KafkaRelayStatus(settings.topic(), List.copyOf(new TreeSet<>(heldShards())), lagEvents, lagSeconds,
        lastError);
  }

  Future<Void> stop() {
    stopped = true;
    timers.forEach(vertx::cancelTimer);
    // Let the leases go at once, so another node takes over without waiting for them to expire.
    Future<Void> released = pool.preparedQuery("DELETE FROM kafka_relay_leases WHERE holder = $1")
        .execute(Tuple.of(holder)).<Void>mapEmpty().recover(e -> Future.succeededFuture());
    return producer == null ? released
        : released.eventually(() -> producer.close(2_000).recover(e -> Future.succeededFuture()));
  }
}
