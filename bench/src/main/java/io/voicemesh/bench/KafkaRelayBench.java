package io.voicemesh.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.Bus;
import io.voicemesh.api.Role;
import io.voicemesh.api.message.EventAppend;
import io.voicemesh.api.message.EventAppended;
import io.voicemesh.api.message.LoggedEvent;
import io.voicemesh.api.message.SessionInfo;
import io.voicemesh.api.message.SessionOpen;
import io.voicemesh.launcher.EmbeddedKafka;
import io.voicemesh.launcher.Mesh;
import io.voicemesh.launcher.MeshConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * The Kafka relay under load: an in-process KRaft broker, a session node relaying to it, and
 * {@code sessions} writers appending events to the real session role over the event bus the way a
 * speaker connection does (one append per session per 100 ms task, in seq order), at
 * {@code eventsPerSecond} each. A real consumer reads the topic; an event's lag is from its
 * {@code ts} (made, just before it is stored) to the consumer having it.
 */
final class KafkaRelayBench {
  private static final String TOPIC = "voicemesh.session-events";
  private static final long TICK_MS = 100;

  record Result(int sessions, double offeredPerSecond, double relayedPerSecond, LatencyRecorder.Percentiles lag,
      long appendFailures, long lagEventsAfter, double relayMeanMs, double relayMaxMs) {
    @Override
    public String toString() {
      return String.format("%d sessions, offered %.0f events/s, relayed %.0f events/s, made -> consumed %s, "
          + "append failures %d, lag after stop %d events; the relay's own stored -> acked (%s, whole run): "
          + "mean %.0f ms, max %.0f ms", sessions, offeredPerSecond, relayedPerSecond, lag, appendFailures,
          lagEventsAfter, io.voicemesh.api.MeshMetrics.KAFKA_RELAY_LATENCY, relayMeanMs, relayMaxMs);
    }
  }

  private KafkaRelayBench() {
  }

  static Result run(Path work, int sessions, int eventsPerSecond, long warmupMs, long measureMs) throws Exception {
    try (EmbeddedKafka broker = EmbeddedKafka.start(work.resolve("kafka"), 0)) {
      Map<String, Object> settings = GatewayLoad.meshSettings(work.resolve("mesh"), "bench-kafka");
      settings.put("voicemesh.kafka.bootstrapServers", broker.bootstrapServers());
      try (Mesh mesh = Mesh.start(MeshConfig.load(null, settings), new Mesh.NodeSpec(EnumSet.of(Role.SESSION), false, true))
          .await(3, TimeUnit.MINUTES)) {
        return measure(mesh.vertx(), broker.bootstrapServers(), sessions, eventsPerSecond, warmupMs, measureMs);
      }
    }
  }

  private static Result measure(Vertx vertx, String bootstrap, int sessions, int eventsPerSecond, long warmupMs,
      long measureMs) throws Exception {
    List<String[]> writers = new ArrayList<>(); // {sessionId, writerId}
    for (int i = 0; i < sessions; i++) {
      String writerId = "bench-writer-" + i;
      SessionInfo info = Bus.request(vertx.eventBus(), Addresses.SESSION_OPEN,
          new SessionOpen(null, "bench", "default", null, writerId), SessionInfo.class, 10_000).await(30, TimeUnit.SECONDS);
      writers.add(new String[] {info.sessionId(), writerId});
    }
    LatencyRecorder lag = new LatencyRecorder();
    AtomicLong consumedInWindow = new AtomicLong();
    AtomicBoolean running = new AtomicBoolean(true);
    java.util.concurrent.atomic.AtomicLongArray window = new java.util.concurrent.atomic.AtomicLongArray(
        new long[] {Long.MAX_VALUE, Long.MAX_VALUE}); // epoch ms: measured from, to
    Thread consumer = new Thread(() -> consume(bootstrap, running, lag, consumedInWindow, window), "bench-kafka-consumer");
    consumer.start();

    long[] seqs = new long[sessions];
    AtomicLong made = new AtomicLong();
    AtomicLong failures = new AtomicLong();
    boolean[] inFlight = new boolean[sessions];
    int perTick = Math.max(1, (int) (eventsPerSecond * TICK_MS / 1000));
    long timer = vertx.setPeriodic(TICK_MS, id -> {
      for (int s = 0; s < sessions; s++) {
        if (inFlight[s]) {
          continue; // one append in flight per writer, as a speaker connection does
        }
        List<LoggedEvent> events = new ArrayList<>();
        for (int e = 0; e < perTick; e++) {
          long seq = ++seqs[s];
          String json = new JsonObject().put("type", "transcript.partial").put("seq", seq).put("sessionId", writers.get(s)[0])
              .put("ts", System.currentTimeMillis()).put("text", "and then the quick brown fox").encode();
          events.add(new LoggedEvent(seq, "transcript.partial", json));
        }
        made.addAndGet(events.size());
        int session = s;
        inFlight[s] = true;
        Future<EventAppended> stored = Bus.request(vertx.eventBus(), Addresses.SESSION_EVENTS_APPEND,
            new EventAppend(writers.get(s)[0], writers.get(s)[1], events), EventAppended.class, 5_000);
        stored.onComplete(done -> {
          inFlight[session] = false;
          if (done.failed()) {
            failures.incrementAndGet();
            seqs[session] -= events.size(); // made again on the next tick: no hole in the log
          }
        });
      }
    });
    Thread.sleep(warmupMs);
    long madeBefore = made.get();
    window.set(0, System.currentTimeMillis());
    lag.start();
    Thread.sleep(measureMs);
    window.set(1, System.currentTimeMillis());
    long madeInWindow = made.get() - madeBefore;
    vertx.cancelTimer(timer);
    // Everything made in the window is on the topic within 30 s, or counts as lag.
    long deadline = System.currentTimeMillis() + 30_000;
    while (consumedInWindow.get() < madeInWindow && System.currentTimeMillis() < deadline) {
      Thread.sleep(100);
    }
    lag.stop();
    running.set(false);
    consumer.join(10_000);
    double seconds = (window.get(1) - window.get(0)) / 1000.0;
    io.micrometer.core.instrument.Timer relay = io.voicemesh.api.MeshMetrics.registry()
        .find(io.voicemesh.api.MeshMetrics.KAFKA_RELAY_LATENCY).timer();
    return new Result(sessions, madeInWindow / seconds, consumedInWindow.get() / seconds, lag.percentiles(),
        failures.get(), Math.max(0, madeInWindow - consumedInWindow.get()),
        relay == null ? Double.NaN : relay.mean(TimeUnit.MILLISECONDS), relay == null ? Double.NaN : relay.max(TimeUnit.MILLISECONDS));
  }

  private static void consume(String bootstrap, AtomicBoolean running, LatencyRecorder lag, AtomicLong consumedInWindow,
      java.util.concurrent.atomic.AtomicLongArray window) {
    java.util.Set<String> seen = new java.util.HashSet<>();
    Properties props = new Properties();
    props.put("bootstrap.servers", bootstrap);
    props.put("group.id", "bench-" + UUID.randomUUID());
    props.put("auto.offset.reset", "earliest");
    props.put("enable.auto.commit", "false");
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
        new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(TOPIC));
      while (running.get()) {
        for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(100))) {
          long now = System.currentTimeMillis();
          JsonObject event = new JsonObject(new String(record.value(), StandardCharsets.UTF_8));
          long ts = event.getLong("ts");
          // Consumers dedupe by (sessionId, seq): a re-sent event counts once, at its first arrival.
          if (ts >= window.get(0) && ts < window.get(1) && seen.add(record.key() + ":" + event.getLong("seq"))) {
            consumedInWindow.incrementAndGet();
            lag.record(TimeUnit.MILLISECONDS.toNanos(now - ts));
          }
        }
      }
    }
  }
}
