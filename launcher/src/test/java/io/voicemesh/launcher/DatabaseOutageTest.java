package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The embedded PostgreSQL killed and stalled for real under a running all-in-one mesh: the mesh
 * restarts it, conversations go on through the outage, and the event log ends up whole.
 */
@DisplayName("The all-in-one mesh survives its database")
@Timeout(300)
class DatabaseOutageTest {
  private static final Duration TURN = Duration.ofSeconds(40);
  /** A data folder of its own: this class kills the database that lives in it. */
  private static final Path DATA = Path.of("target", "test-data-outage");
  @RegisterExtension
  static final TestMesh mesh = TestMesh.with(() -> Map.of("voicemesh.dataDir", DATA.toString()));
  private final EmbeddedPostgresProcess postgres = new EmbeddedPostgresProcess(DATA);

  @Test
  @DisplayName("kill -9 of PostgreSQL: it is restarted, /health is 200 UP again within 30 s (never 503), and the next turn works with its history")
  void killedDatabaseIsRestarted() throws Exception {
    try (VoiceClient client = mesh.connect("")) {
      String sessionId = client.sessionId();
      client.speak(Speech.say("what is nine times eight"), 1200, 1.0).await(30, TimeUnit.SECONDS);
      assertEquals("9 times 8 is 72.", client.await("agent_response", TURN).getString("text"));
      client.awaitNth("agent_completed", 1, TURN);
      awaitLoggedUpTo(sessionId, client.lastSeq());

      long killed = postgres.kill();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      List<Integer> statuses = new ArrayList<>();
      JsonObject health = null;
      while (System.nanoTime() < deadline) {
        Rest.Response response = new Rest(mesh.port()).get("/health", null);
        statuses.add(response.status());
        health = response.json();
        if (response.status() == 200 && "UP".equals(health.getString("status"))
            && health.getJsonObject("database").getInteger("restarts") >= 1) {
          break;
        }
        Thread.sleep(200);
      }
      assertEquals("UP", health.getString("status"), "health 30 s after the kill: " + health);
      assertTrue(statuses.stream().allMatch(s -> s == 200), "DEGRADED, never DOWN, meanwhile: " + statuses);
      assertTrue(postgres.postmasterPid() != killed, "a new postmaster runs");

      // The same connection goes on: its next turn stores and reads history in the restarted database.
      client.speak(Speech.say("what time is it"), 1200, 1.0).await(30, TimeUnit.SECONDS);
      JsonObject completed = client.awaitNth("agent_completed", 2, TURN);
      assertNull(completed.getValue("error"), "the turn after the restart: " + completed);
      VoiceTurnTest.assertAnswerIsTheTimeNow(client.awaitNth("agent_response", 2, TURN).getString("text"));
      assertEquals(List.of(), client.events("error"), "no error reached the client");
      assertTrue(client.isOpen());
      awaitLoggedUpTo(sessionId, client.lastSeq());
      assertEquals(List.of("user", "assistant", "user", "assistant"), mesh.query(
              "SELECT role FROM messages WHERE session_id = $1 ORDER BY id", UUID.fromString(sessionId)).stream()
          .map(row -> row.get("role")).toList());
      assertLogHoldsWhatTheClientGot(sessionId, client);
    }
  }

  @Test
  @DisplayName("a 20 s SIGSTOP of PostgreSQL mid-turn: the turn completes without an error, /health says DEGRADED, and afterwards the log holds every event in order")
  void stalledDatabaseDelaysOnlyTheLog() throws Exception {
    try (VoiceClient client = mesh.connect("")) {
      String sessionId = client.sessionId();
      client.speak(Speech.say("what time is it"), 1200, 1.0);
      client.await("speech_started", TURN);
      List<Long> stopped = postgres.stop();
      long stoppedAt = System.nanoTime();
      JsonObject degraded;
      JsonObject completed;
      try {
        degraded = awaitHealth(h -> "DEGRADED".equals(h.getString("status")), Duration.ofSeconds(10));
        completed = client.await("agent_completed", Duration.ofSeconds(18));
        assertTrue(System.nanoTime() - stoppedAt < TimeUnit.SECONDS.toNanos(19),
            "the turn completed while the database was still stopped");
        long left = TimeUnit.SECONDS.toMillis(20) - (System.nanoTime() - stoppedAt) / 1_000_000;
        if (left > 0) {
          Thread.sleep(left); // the whole 20 s stall: the connection stays up through it
        }
        assertTrue(client.isOpen(), "the client is still connected after 20 s without a database");
      } finally {
        EmbeddedPostgresProcess.resume(stopped);
      }
      assertEquals(200, new Rest(mesh.port()).get("/health", null).status());
      assertEquals("DEGRADED", degraded.getJsonObject("mesh").getJsonObject("session").getString("status"), degraded.encode());
      assertTrue(degraded.getJsonObject("mesh").getJsonObject("session").getString("reason").contains("database"),
          degraded.encode());

      assertNull(completed.getValue("error"), "the turn: " + completed);
      assertFalse(completed.getBoolean("interrupted"));
      VoiceTurnTest.assertAnswerIsTheTimeNow(client.await("agent_response", TURN).getString("text"));
      assertEquals(List.of(), client.events("error"), "no error reached the client");

      awaitHealth(h -> "UP".equals(h.getString("status")), Duration.ofSeconds(30));
      awaitLoggedUpTo(sessionId, client.lastSeq());
      assertLogHoldsWhatTheClientGot(sessionId, client);
      // Both messages of the turn were stored once the database was back, in order, once each.
      List<Map<String, Object>> messages = awaitMessages(sessionId, 2);
      assertEquals(List.of("user", "assistant"), messages.stream().map(m -> m.get("role")).toList());
      assertTrue(String.valueOf(messages.get(1).get("text")).startsWith("The time is"), messages.toString());
    }
  }

  /** The event log holds exactly the session events the client got: seq 1..n, no gap, the same JSON, in order. */
  private static void assertLogHoldsWhatTheClientGot(String sessionId, VoiceClient client) throws Exception {
    List<JsonObject> got = client.sessionEvents().stream().map(JsonObject::copy).peek(e -> e.remove("_receivedAt")).toList();
    List<Map<String, Object>> logged = mesh.query(
        "SELECT seq, event::text AS event FROM session_events WHERE session_id = $1 ORDER BY seq", UUID.fromString(sessionId));
    assertEquals(got.size(), logged.size(), "events the client got vs. the log");
    for (int i = 0; i < logged.size(); i++) {
      assertEquals((long) i + 1, ((Number) logged.get(i).get("seq")).longValue(), "no gap in the log");
      assertEquals(got.get(i), new JsonObject((String) logged.get(i).get("event")), "event " + (i + 1));
    }
  }

  private static void awaitLoggedUpTo(String sessionId, long seq) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    long stored = 0;
    while (System.nanoTime() < deadline) {
      stored = ((Number) mesh.query("SELECT coalesce(max(seq), 0) AS s FROM session_events WHERE session_id = $1",
          UUID.fromString(sessionId)).get(0).get("s")).longValue();
      if (stored >= seq) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("the log holds events up to " + stored + ", the client got up to " + seq);
  }

  private static List<Map<String, Object>> awaitMessages(String sessionId, int count) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    List<Map<String, Object>> messages = List.of();
    while (System.nanoTime() < deadline) {
      messages = mesh.query("SELECT role, text FROM messages WHERE session_id = $1 ORDER BY id", UUID.fromString(sessionId));
      if (messages.size() >= count) {
        return messages;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("stored messages: " + messages);
  }

  private static JsonObject awaitHealth(Predicate<JsonObject> wanted, Duration within) throws Exception {
    long deadline = System.nanoTime() + within.toNanos();
    JsonObject health = null;
    while (System.nanoTime() < deadline) {
      Rest.Response response = new Rest(mesh.port()).get("/health", null);
      health = response.json();
      if (wanted.test(health)) {
        assertEquals(200, response.status(), health.encode());
        return health;
      }
      Thread.sleep(200);
    }
    throw new AssertionError("health within " + within + ": " + health);
  }
}
