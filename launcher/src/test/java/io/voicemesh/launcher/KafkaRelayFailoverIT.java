package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import io.voicemesh.gateway.JwtTokens;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The Kafka relay across JVMs: two session nodes (child JVMs from the fat jar) share one PostgreSQL
 * and compete for the relay's shard leases; a third node serves the gateway and the speech roles.
 * The node holding the leases is killed with SIGKILL while a conversation makes events; the other
 * takes the shards over and the topic (read by a real consumer) ends up holding every stored event.
 */
@DisplayName("The Kafka relay in a cluster")
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class KafkaRelayFailoverIT {
  private static final String SECRET = "kafka-relay-it-secret-of-at-least-32-bytes";
  private static final Duration TURN = Duration.ofSeconds(40);
  private static final long LEASE_MS = 3_000;
  private static final Path WORK = Path.of("target", "kafka-relay-it");
  private static EmbeddedPostgres postgres;
  private static EmbeddedKafka broker;
  private static ClusterProcesses cluster;
  private static Vertx vertx;
  private static Pool database;

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = new ClusterProcesses(WORK.resolve("nodes"), Map.of(
        "VOICEMESH_JWT_SECRET", SECRET,
        "CONFIG_FORCE_voicemesh_kafka_relay_leaseMs", Long.toString(LEASE_MS),
        // Words come slowly enough that the relay's node dies while the answer's events are still being made.
        "CONFIG_FORCE_voicemesh_llm_agents_default_deltaDelayMs", "100"));
    TestFiles.deleteTree(WORK.resolve("broker"));
    broker = EmbeddedKafka.start(WORK.resolve("broker"), 0);
    postgres = EmbeddedPostgres.builder().start();
    String uri = "postgresql://postgres:postgres@127.0.0.1:" + postgres.getPort() + "/postgres";
    Map<String, String> kafka = Map.of("VOICEMESH_KAFKA_BOOTSTRAP_SERVERS", broker.bootstrapServers());
    cluster.start("front", List.of("gateway", "stt", "llm", "tts"), Map.of());
    cluster.start("session-1", List.of("session"), kafka, "--postgres-uri", uri);
    cluster.start("session-2", List.of("session"), kafka, "--postgres-uri", uri);
    cluster.awaitReady(3, "front", "session-1", "session-2");
    vertx = Vertx.vertx();
    database = PgBuilder.pool().connectingTo(uri).using(vertx).build();
  }

  @AfterAll
  static void stopCluster() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
    if (database != null) {
      database.close().await(10, TimeUnit.SECONDS);
    }
    if (vertx != null) {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
    if (broker != null) {
      broker.close();
    }
    if (postgres != null) {
      postgres.close();
    }
  }

  @Test
  @DisplayName("SIGKILL of the relay's node while events flow: the other session node takes its shards over; nothing is missing from the topic")
  void relayNodeKilled() throws Exception {
    KafkaRelayTest.poll(() -> shards("session-1").size() + shards("session-2").size() == 8, Duration.ofSeconds(30),
        "the two relays hold the 8 shards between them");
    String holder = shards("session-1").isEmpty() ? "session-2" : "session-1";
    String survivor = holder.equals("session-1") ? "session-2" : "session-1";
    List<String> sessionIds = new ArrayList<>();
    long takeoverMs;
    String token = JwtTokens.from(vertx, new JsonObject().put("secret", SECRET))
        .mint("kafka-it", null, Instant.now().plusSeconds(600)).token();
    try (VoiceClient client = VoiceClient.connect(vertx, cluster.node("front").port(), "token=" + token)) {
      sessionIds.add(client.sessionId());
      client.speakRealtime(Speech.say("what is twelve times seven"), 1_200);
      client.awaitNth("agent_completed", 1, TURN);
      client.speakRealtime(Speech.say("hello there how are you today"), 1_200);
      // The answer's words are being made (and stored, and relayed) now.
      client.awaitNth("agent_response.delta", 1, TURN);
      long killedAt = System.nanoTime();
      cluster.kill(holder);
      KafkaRelayTest.poll(() -> shards(survivor).size() == 8, Duration.ofMillis(LEASE_MS + 10_000),
          survivor + " takes every shard over");
      takeoverMs = (System.nanoTime() - killedAt) / 1_000_000;
      client.awaitNth("agent_completed", 2, TURN);
      client.speakRealtime(Speech.say("what is two plus two"), 1_200);
      client.awaitNth("agent_completed", 3, TURN);
      assertEquals(List.of(), client.events("error"), "errors the conversation saw");
    }
    KafkaRelayTest.poll(() -> {
      JsonObject kafka = kafka(survivor);
      return kafka != null && kafka.getLong("lagEvents") == 0;
    }, Duration.ofSeconds(30), "the survivor's relay catches up");
    Map<String, Long> lastSeqs = new LinkedHashMap<>();
    Map<String, List<Long>> stored = new LinkedHashMap<>();
    for (String id : sessionIds) {
      List<Long> seqs = new ArrayList<>();
      for (Row row : database.preparedQuery("SELECT seq FROM session_events WHERE session_id = $1 ORDER BY seq")
          .execute(Tuple.of(UUID.fromString(id))).await(10, TimeUnit.SECONDS)) {
        seqs.add(row.getLong("seq"));
      }
      stored.put(id, seqs);
      lastSeqs.put(id, seqs.get(seqs.size() - 1));
    }
    Map<String, List<ConsumerRecord<String, byte[]>>> topic = KafkaRelayTest.consumeUntil(broker.bootstrapServers(),
        lastSeqs, Duration.ofSeconds(30));
    for (String id : sessionIds) {
      List<Long> onTopic = KafkaRelayTest.seqs(topic.get(id));
      List<Long> deduped = onTopic.stream().distinct().toList();
      System.out.printf("Kafka relay failover: %s killed, %s held every shard %d ms later; session %s: %d events stored, "
          + "%d records on the topic (%d re-sent)%n", holder, survivor, takeoverMs, id, stored.get(id).size(), onTopic.size(),
          onTopic.size() - deduped.size());
      assertEquals(stored.get(id), deduped, "every stored event on the topic, in order after dedupe");
    }
    assertTrue(takeoverMs <= LEASE_MS + 10_000, "takeover took " + takeoverMs + " ms");
  }

  private static JsonObject kafka(String node) {
    try {
      return cluster.healthJson(node).getJsonObject("roles").getJsonObject("session").getJsonObject("kafka");
    } catch (Exception e) {
      return null;
    }
  }

  private static List<Object> shards(String node) {
    JsonObject kafka = kafka(node);
    return kafka == null ? List.of() : kafka.getJsonArray("shards", new JsonArray()).getList();
  }
}
