package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

@DisplayName("Sessions nobody is connected to end after session.idleEndMs")
@Timeout(120)
class SessionIdleExpiryTest {
  private static final long IDLE_END_MS = 2_000;
  /** The sweep runs every idleEndMs/10: an idle session ends well within this after its idle time. */
  private static final Duration ENDS_WITHIN = Duration.ofSeconds(15);
  @RegisterExtension
  static final TestMesh mesh = TestMesh.with(() -> Map.of("voicemesh.session.idleEndMs", IDLE_END_MS));

  @Test
  @DisplayName("a session without a connection ends with session.ended{reason: idle} in its log; REST says ended, a connect gets 410")
  void unconnectedSessionEnds() throws Exception {
    Rest rest = new Rest(mesh.port());
    String token = mesh.token(TestMesh.uniqueUser("idle"));
    // Used once: a turn leaves events in the log, so session.ended must continue its sequence.
    String id;
    long lastSeqBefore;
    try (VoiceClient client = mesh.connect("token=" + token)) {
      id = client.sessionId();
      client.speak(Speech.say("what is nine times eight"), 1000, 2).await(20, TimeUnit.SECONDS);
      client.await("agent_completed", Duration.ofSeconds(30));
      client.await(e -> "audio.end".equals(e.getString("type")), Duration.ofSeconds(30));
      lastSeqBefore = client.lastSeq();
    }
    long left = System.currentTimeMillis();

    JsonObject ended = awaitState(rest, id, token, "ended", ENDS_WITHIN.plusMillis(IDLE_END_MS));
    long endedAt = Instant.parse(ended.getString("endedAt")).toEpochMilli();
    assertTrue(endedAt - left >= IDLE_END_MS - 500,
        "not ended before it was idle for idleEndMs: ended " + (endedAt - left) + " ms after the client left");

    List<Map<String, Object>> events = mesh.query(
        "SELECT seq, type, event::text AS event FROM session_events WHERE session_id = $1::uuid ORDER BY seq", id);
    Map<String, Object> last = events.get(events.size() - 1);
    assertEquals("session.ended", last.get("type"), "the log ends with session.ended: " + events);
    JsonObject logged = new JsonObject((String) last.get("event"));
    assertEquals("idle", logged.getString("reason"), logged.encode());
    assertEquals(id, logged.getString("sessionId"));
    assertTrue(lastSeqBefore > 0, "the turn was logged");
    assertEquals(events.size(), ((Number) last.get("seq")).intValue(), "the seq has no gap");
    assertTrue(((Number) last.get("seq")).longValue() > lastSeqBefore, "session.ended comes after the turn's events");
    assertEquals(1, events.stream().filter(e -> "session.ended".equals(e.get("type"))).count(), "ended once");

    VoiceClient.Refusal refused = VoiceClient.refusal(mesh.clientVertx(), mesh.port(),
        "sessionId=" + id + "&token=" + token, null);
    assertEquals(410, refused.status(), refused.body().encode());
    assertEquals("session_ended", refused.body().getString("code"));
  }

  @Test
  @DisplayName("sessions with a connected speaker or listener never end as idle; once the speaker leaves, its session does")
  void connectedSessionsStay() throws Exception {
    Rest rest = new Rest(mesh.port());
    String token = mesh.token(TestMesh.uniqueUser("stay"));
    String listened = rest.post("/api/v1/sessions", token, new JsonObject()).json().getString("sessionId");
    String unconnected = rest.post("/api/v1/sessions", token, new JsonObject()).json().getString("sessionId");
    try (VoiceClient speaker = mesh.connect("token=" + token);
        VoiceClient listener = mesh.connect("token=" + token + "&sessionId=" + listened + "&role=listener")) {
      String spoken = speaker.sessionId();
      listener.await("session.ready", Duration.ofSeconds(10));
      long connected = System.currentTimeMillis();

      // The unconnected one, created at the same time, ends: the sweep has run meanwhile.
      awaitState(rest, unconnected, token, "ended", ENDS_WITHIN.plusMillis(IDLE_END_MS));
      // Several idle periods with no audio and no message: only the connections speak for these sessions.
      long quietUntil = connected + 4 * IDLE_END_MS;
      while (System.currentTimeMillis() < quietUntil) {
        assertEquals("active", state(rest, spoken, token), "the speaker's session");
        assertEquals("active", state(rest, listened, token), "the listener's session");
        TimeUnit.MILLISECONDS.sleep(250); // polling interval, bounded by quietUntil
      }
      assertTrue(speaker.isOpen() && listener.isOpen());
      assertEquals(List.of(), speaker.events("session.ended"));
      assertEquals(List.of(), listener.events("session.ended"));

      speaker.close();
      awaitState(rest, spoken, token, "ended", ENDS_WITHIN.plusMillis(IDLE_END_MS));
      assertEquals("active", state(rest, listened, token), "the listener still holds its session");
    }
  }

  private static String state(Rest rest, String id, String token) throws Exception {
    Rest.Response response = rest.get("/api/v1/sessions/" + id, token);
    assertEquals(200, response.status(), response.text());
    return response.json().getString("state");
  }

  private static JsonObject awaitState(Rest rest, String id, String token, String state, Duration within)
      throws Exception {
    long deadline = System.nanoTime() + within.toNanos();
    while (true) {
      JsonObject status = rest.get("/api/v1/sessions/" + id, token).json();
      if (state.equals(status.getString("state"))) {
        return status;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("session " + id + " not " + state + " within " + within + ": " + status.encode());
      }
      TimeUnit.MILLISECONDS.sleep(100); // polling interval, bounded by the deadline
    }
  }
}
