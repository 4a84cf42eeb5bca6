package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A database stall longer than the gateway may hold events ({@code gateway.storage.outageBufferMs},
 * 3 s here): the session ends for its client with {@code storage_unavailable}, and new connections
 * are refused with it, never with a database address or PostgreSQL's text.
 */
@DisplayName("Past the outage bound, sessions end with storage_unavailable")
@Timeout(180)
class DatabaseOutageBoundTest {
  private static final long BOUND_MS = 3_000;
  private static final Path DATA = Path.of("target", "test-data-outage-bound");
  @RegisterExtension
  static final TestMesh mesh = TestMesh.with(() -> Map.of("voicemesh.dataDir", DATA.toString(),
      "voicemesh.gateway.storage.outageBufferMs", BOUND_MS));
  private final EmbeddedPostgresProcess postgres = new EmbeddedPostgresProcess(DATA);

  @Test
  @DisplayName("a stall past the bound: the talking client gets storage_unavailable and 1013, a new one too, with no database text")
  void stallPastTheBound() throws Exception {
    String port = String.valueOf(((Number) mesh.query("SELECT current_setting('port')::int AS p").get(0).get("p")).intValue());
    try (VoiceClient talking = mesh.connect("")) {
      talking.sessionId();
      List<Long> stopped = postgres.stop();
      try {
        long stoppedAt = System.nanoTime();
        talking.speak(Speech.say("what time is it"), 1200, 1.0);
        JsonObject error = talking.await("error", Duration.ofSeconds(30));
        long endedAfterMs = (System.nanoTime() - stoppedAt) / 1_000_000;
        assertEquals("storage_unavailable", error.getString("code"), error.encode());
        assertEquals((short) 1013, talking.closed().get(10, TimeUnit.SECONDS));
        // The first append waits its 5 s timeout before it counts as failed; then the bound runs out.
        assertTrue(endedAfterMs >= BOUND_MS && endedAfterMs < BOUND_MS + 15_000, "ended after " + endedAfterMs + " ms");
        assertNoDatabaseText(error, port);
        assertTrue(talking.events().stream().filter(e -> "transcript.partial".equals(e.getString("type"))
            || "speech_started".equals(e.getString("type"))).count() > 0, "the conversation went on until the bound");

        try (VoiceClient fresh = mesh.connect("")) {
          JsonObject refused = fresh.await("error", Duration.ofSeconds(20));
          assertEquals("storage_unavailable", refused.getString("code"), refused.encode());
          assertNoDatabaseText(refused, port);
          assertEquals((short) 1013, fresh.closed().get(10, TimeUnit.SECONDS));
          assertFalse(fresh.events().stream().anyMatch(e -> "session.ready".equals(e.getString("type"))));
        }
        JsonObject health = new Rest(mesh.port()).get("/health", null).json();
        assertEquals("DEGRADED", health.getString("status"), health.encode());
      } finally {
        EmbeddedPostgresProcess.resume(stopped);
      }
    }
    // Back: new sessions open again.
    try (VoiceClient after = mesh.connect("")) {
      after.await("session.ready", Duration.ofSeconds(30));
    }
  }

  @Test
  @DisplayName("a value PostgreSQL rejects (an agent name with NUL) gets a code and a generic message, not the database's text")
  void databaseErrorTextStaysOnTheNode() throws Exception {
    String port = String.valueOf(((Number) mesh.query("SELECT current_setting('port')::int AS p").get(0).get("p")).intValue());
    JsonObject error;
    try (VoiceClient client = mesh.connect("agent=a%00b")) {
      error = client.await("error", Duration.ofSeconds(20));
    } catch (io.vertx.core.http.UpgradeRejectedException refused) {
      // Refused before the upgrade (a gateway that checks the name first): the body is the error.
      error = refused.getBody().toJsonObject();
    }
    assertTrue(List.of("internal", "bad_request", "agent_not_found").contains(error.getString("code")), error.encode());
    assertNoDatabaseText(error, port);
    assertFalse(error.getString("message").contains("0x00") || error.getString("message").contains("22021")
        || error.getString("message").contains("UTF8"), error.encode());
  }

  private static void assertNoDatabaseText(JsonObject error, String port) {
    String text = error.getString("message");
    assertFalse(text.contains("127.0.0.1") || text.contains("localhost") || text.contains(port)
        || text.toLowerCase().contains("postgres") || text.contains("Exception"), "database text sent to the client: " + text);
  }
}
