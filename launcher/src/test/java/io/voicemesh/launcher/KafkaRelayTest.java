package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Every session event on Kafka: a real in-process KRaft broker, the all-in-one mesh relaying to it,
 * and a real {@link KafkaConsumer} reading the topic back.
 */
@DisplayName("The Kafka relay")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(300)
class KafkaRelayTest {
  private static final Duration TURN = Duration.ofSeconds(30);
  static final String TOPIC = "voicemesh.session-events";
  static final String TRANSCRIPTS = "voicemesh.transcripts";
  /** Its own data folder: the outbox of other test classes' sessions is not this test's to relay. */
  private static final Path DATA = Path.of("target", "kafka-relay-test-data");
  private static EmbeddedKafka broker;

  @RegisterExtension
  static final TestMesh mesh = TestMesh.with(() -> {
    try {
      TestFiles.deleteTree(DATA);
      broker = EmbeddedKafka.start(DATA.resolve("broker"), 0);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    return Map.of("voicemesh.dataDir", DATA.toString(), "voicemesh.kafka.bootstrapServers", broker.bootstrapServers(),
        "voicemesh.kafka.relay.leaseMs", 3000, "voicemesh.kafka.transcripts.enabled", true);
  });

  @AfterAll
  static void stopBroker() {
    if (broker != null) {
      broker.close();
    }
  }

  @Test
  @Order(1)
  @DisplayName("after two spoken turns the topic holds every event of the session, seq 1..N in order, byte-equal to session_events")
  void twoTurnsOnTheTopic() throws Exception {
    String sessionId;
    List<JsonObject> userMessages;
    List<JsonObject> completions;
    try (VoiceClient client = mesh.connect("")) {
      sessionId = client.sessionId();
      client.speakRealtime(Speech.say("what is twelve times seven"), 1200);
      client.awaitNth("agent_completed", 1, TURN);
      client.speakRealtime(Speech.say("hello there"), 1200);
      client.awaitNth("agent_completed", 2, TURN);
      userMessages = client.events("user_message");
      completions = client.events("agent_completed");
    }
    List<Map<String, Object>> stored = storedEvents(sessionId);
    assertTrue(stored.size() >= 10, "two turns store at least ten events: " + stored.size());
    EventOrder.check(stored.stream().map(e -> new JsonObject((String) e.get("event"))).toList());
    long lastSeq = (Long) stored.get(stored.size() - 1).get("seq");
    List<ConsumerRecord<String, byte[]>> records = consumeUntil(broker.bootstrapServers(), Map.of(sessionId, lastSeq),
        Duration.ofSeconds(30)).get(sessionId);
    assertEquals(stored.size(), records.size(), "records on the topic, once each: " + seqs(records));
    for (int i = 0; i < stored.size(); i++) {
      Map<String, Object> event = stored.get(i);
      ConsumerRecord<String, byte[]> record = records.get(i);
      assertEquals(i + 1L, event.get("seq"));
      assertEquals(sessionId, record.key());
      assertEquals(String.valueOf(event.get("seq")), header(record, "seq"));
      assertEquals(event.get("type"), header(record, "type"));
      assertArrayEquals(((String) event.get("event")).getBytes(StandardCharsets.UTF_8), record.value(),
          "record " + (i + 1) + " is the stored JSON, byte for byte");
    }
    awaitLagZero();

    // The transcripts feed: one compact record per user transcript and per agent answer, in turn order.
    long lastAnswerSeq = completions.get(1).getLong("seq");
    List<JsonObject> transcripts = consumeUntil(broker.bootstrapServers(), TRANSCRIPTS, Map.of(sessionId, lastAnswerSeq),
        Duration.ofSeconds(30)).get(sessionId).stream().map(r -> new JsonObject(new String(r.value(), StandardCharsets.UTF_8)))
        .toList();
    assertEquals(List.of("user", "agent", "user", "agent"), transcripts.stream().map(t -> t.getString("role")).toList());
    for (int turn = 0; turn < 2; turn++) {
      JsonObject user = transcripts.get(2 * turn);
      JsonObject agent = transcripts.get(2 * turn + 1);
      assertEquals(userMessages.get(turn).getString("text"), user.getString("text"));
      assertEquals(userMessages.get(turn).getValue("turnId"), user.getValue("turnId"));
      assertEquals(completions.get(turn).getString("heardText"), agent.getString("text"));
      assertEquals(completions.get(turn).getJsonObject("timings"), agent.getJsonObject("timings"));
      assertEquals("en-US", agent.getString("language"));
      assertEquals(sessionId, agent.getString("sessionId"));
    }
    assertTrue(!transcripts.get(1).getString("text").isBlank() && !transcripts.get(3).getString("text").isBlank(),
        "the agent's answers: " + transcripts);
  }

  @Test
  @Order(2)
  @DisplayName("Kafka stopped for 30 s while sessions talk: no error, no delay; afterwards every event once after dedupe, in order, and lag 0")
  void brokerOutage() throws Exception {
    int sessions = 3;
    List<VoiceClient> clients = new ArrayList<>();
    List<Long> baseline = new ArrayList<>();
    List<Long> duringOutage = new ArrayList<>();
    try {
      for (int i = 0; i < sessions; i++) {
        clients.add(mesh.connect(""));
      }
      for (VoiceClient client : clients) {
        baseline.add(turn(client, "what is two plus two", 1));
      }
      int port = broker.port();
      Path dir = broker.dir();
      long stoppedAt = System.nanoTime();
      broker.close();
      broker = null;
      // The sessions talk on while the broker is away: every turn answered, no error, no delay.
      int turn = 2;
      while (System.nanoTime() - stoppedAt < Duration.ofSeconds(22).toNanos()) {
        for (VoiceClient client : clients) {
          duringOutage.add(turn(client, turn % 2 == 0 ? "hello there" : "what is three times four", turn));
        }
        turn++;
      }
      JsonObject relay = kafkaStatus();
      assertTrue(relay.getLong("lagEvents") > 0, "the relay is behind while Kafka is away: " + relay);
      long waitMs = Duration.ofSeconds(30).toMillis() - (System.nanoTime() - stoppedAt) / 1_000_000;
      if (waitMs > 0) {
        Thread.sleep(waitMs); // the outage's length is the test's subject, not a synchronisation
      }
      broker = EmbeddedKafka.start(dir, port);
      System.out.printf("KafkaRelayTest: voice-to-voice before the outage %s ms, during it %s ms; relay then %s%n",
          baseline, duringOutage, relay.encode());
      for (VoiceClient client : clients) {
        assertEquals(List.of(), client.events("error"), "errors the conversation saw");
      }
      long worstBaseline = baseline.stream().mapToLong(Long::longValue).max().orElseThrow();
      long worstOutage = duringOutage.stream().mapToLong(Long::longValue).max().orElseThrow();
      assertTrue(worstOutage <= Math.max(2_500, 2 * worstBaseline),
          "voice-to-voice during the outage " + duringOutage + " vs before " + baseline);
      awaitLagZero();
      Map<String, Long> lastSeqs = new LinkedHashMap<>();
      Map<String, List<Map<String, Object>>> storedBySession = new HashMap<>();
      for (VoiceClient client : clients) {
        List<Map<String, Object>> stored = storedEvents(client.sessionId());
        storedBySession.put(client.sessionId(), stored);
        lastSeqs.put(client.sessionId(), (Long) stored.get(stored.size() - 1).get("seq"));
      }
      Map<String, List<ConsumerRecord<String, byte[]>>> bySession = consumeUntil(broker.bootstrapServers(), lastSeqs,
          Duration.ofSeconds(60));
      for (String sessionId : lastSeqs.keySet()) {
        List<Map<String, Object>> stored = storedBySession.get(sessionId);
        // Dedupe by (sessionId, seq), keeping the first copy: what remains is the log, in order.
        Map<Long, byte[]> deduped = new LinkedHashMap<>();
        bySession.get(sessionId).forEach(record -> deduped.putIfAbsent(Long.parseLong(header(record, "seq")), record.value()));
        assertEquals(stored.stream().map(e -> (Long) e.get("seq")).toList(), List.copyOf(deduped.keySet()),
            "session " + sessionId + ": seqs on the topic after dedupe");
        for (Map<String, Object> event : stored) {
          assertArrayEquals(((String) event.get("event")).getBytes(StandardCharsets.UTF_8), deduped.get((Long) event.get("seq")));
        }
      }
    } finally {
      for (VoiceClient client : clients) {
        client.close();
      }
    }
  }

  /** Speaks one turn and waits for its end; returns the turn's voice-to-voice time. */
  private static long turn(VoiceClient client, String words, int n) throws Exception {
    client.speakRealtime(Speech.say(words), 1_500);
    JsonObject completed;
    try {
      completed = client.awaitNth("agent_completed", n, TURN);
    } catch (AssertionError e) {
      throw new AssertionError("turn " + n + " (" + words + ") of session " + client.sessionId() + " did not complete; "
          + "connection open: " + client.isOpen() + ", closed " + (client.closed().isDone() ? client.closed().getNow(null)
          + " " + client.closeReason() : "no"), e);
    }
    return completed.getJsonObject("timings").getLong("voiceToVoiceMs");
  }

  static List<Map<String, Object>> storedEvents(String sessionId) throws Exception {
    return mesh.query("SELECT seq, type, event::text AS event FROM session_events WHERE session_id = $1 ORDER BY seq",
        UUID.fromString(sessionId));
  }

  private static JsonObject kafkaStatus() throws Exception {
    JsonObject health = new Rest(mesh.port()).get("/health", null).json();
    JsonObject kafka = health.getJsonObject("roles").getJsonObject("session").getJsonObject("kafka");
    assertNotNull(kafka, "/health shows the relay: " + health.encode());
    return kafka;
  }

  private static void awaitLagZero() throws Exception {
    poll(() -> {
      try {
        JsonObject kafka = kafkaStatus();
        return kafka.getLong("lagEvents") == 0 && kafka.getDouble("lagSeconds") == 0;
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }, Duration.ofSeconds(60), "the relay's lag returns to 0");
    String metrics = new Rest(mesh.port()).get("/metrics", null).text();
    assertTrue(metrics.contains("voicemesh_kafka_relay_lag_events"), "lag in /metrics");
  }

  static void poll(BooleanSupplier condition, Duration timeout, String what) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + timeout + ": " + what);
      }
      Thread.sleep(100);
    }
  }

  static String header(ConsumerRecord<String, byte[]> record, String name) {
    var header = record.headers().lastHeader(name);
    if (header == null && "seq".equals(name)) {
      return String.valueOf(new JsonObject(new String(record.value(), StandardCharsets.UTF_8)).getLong("seq"));
    }
    return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
  }

  static List<Long> seqs(List<ConsumerRecord<String, byte[]>> records) {
    return records.stream().map(r -> Long.parseLong(header(r, "seq"))).toList();
  }

  /**
   * Reads the topic from the beginning with a real consumer until each session's records reach its
   * last seq; returns each session's records in topic order (duplicates included).
   */
  static Map<String, List<ConsumerRecord<String, byte[]>>> consumeUntil(String bootstrap, Map<String, Long> lastSeqs,
      Duration timeout) {
    return consumeUntil(bootstrap, TOPIC, lastSeqs, timeout);
  }

  /** {@link #consumeUntil(String, Map, Duration)} on any topic whose records carry a {@code seq} (header or JSON field). */
  static Map<String, List<ConsumerRecord<String, byte[]>>> consumeUntil(String bootstrap, String topic,
      Map<String, Long> lastSeqs, Duration timeout) {
    Properties props = new Properties();
    props.put("bootstrap.servers", bootstrap);
    props.put("group.id", "test-" + UUID.randomUUID());
    props.put("enable.auto.commit", "false");
    props.put("isolation.level", "read_committed");
    Map<String, List<ConsumerRecord<String, byte[]>>> bySession = new HashMap<>();
    lastSeqs.keySet().forEach(id -> bySession.put(id, new ArrayList<>()));
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
        new ByteArrayDeserializer())) {
      long deadline = System.nanoTime() + timeout.toNanos();
      List<TopicPartition> partitions = new ArrayList<>();
      while (partitions.isEmpty()) {
        consumer.listTopics(Duration.ofSeconds(5)).getOrDefault(topic, List.of())
            .forEach(p -> partitions.add(new TopicPartition(p.topic(), p.partition())));
        if (System.nanoTime() > deadline) {
          throw new AssertionError("no topic " + topic);
        }
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      while (!complete(bySession, lastSeqs)) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("the topic does not hold every event within " + timeout + ": "
              + bySession.entrySet().stream().map(e -> e.getKey() + "=" + seqs(e.getValue())).toList());
        }
        for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          List<ConsumerRecord<String, byte[]>> list = bySession.get(record.key());
          if (list != null) {
            list.add(record);
          }
        }
      }
    }
    return bySession;
  }

  private static boolean complete(Map<String, List<ConsumerRecord<String, byte[]>>> bySession, Map<String, Long> lastSeqs) {
    return lastSeqs.entrySet().stream().allMatch(e -> seqs(bySession.get(e.getKey())).contains(e.getValue()));
  }
}
