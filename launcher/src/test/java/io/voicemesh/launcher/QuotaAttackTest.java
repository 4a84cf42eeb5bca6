package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Per-user quotas as shipped (reference.conf), attacked through the real gateway. */
@DisplayName("Per-user quotas on the gateway")
@Timeout(240)
class QuotaAttackTest {
  private static final Map<String, Object> QUOTAS = TestMesh.shippedQuotas();
  private static final int CONNECTIONS_PER_USER = (Integer) QUOTAS.get("voicemesh.gateway.limits.connectionsPerUser");
  private static final int SESSIONS_PER_USER = (Integer) QUOTAS.get("voicemesh.gateway.limits.sessionsPerUser");
  private static final int ATTACKERS = 200;
  /**
   * After the victim's last word (and 1.2 s of silence): its transcript, then its whole turn. Before
   * the quotas the victim got `capacity` and no transcript at all; the bound is wide because the
   * attackers' five admitted streams and their turns load the same two CPUs the victim needs.
   */
  private static final Duration TRANSCRIPT_WITHIN = Duration.ofSeconds(30);
  private static final Duration TURN_WITHIN = Duration.ofSeconds(30);

  @RegisterExtension
  static final TestMesh mesh = TestMesh.with(() -> QUOTAS);

  @Test
  @DisplayName("200 non-reading audio senders from one user cannot stop a second user's turn; the excess gets 429 quota_exceeded")
  void nonReadingSendersCannotStopAnotherUser() throws Exception {
    String attacker = mesh.token(TestMesh.uniqueUser("attacker"));
    try (NonReadingSenders senders = new NonReadingSenders().connect(mesh.port(), "token=" + attacker, ATTACKERS)) {
      assertEquals(List.of(), senders.failed());
      assertEquals(SESSIONS_PER_USER, senders.accepted().size(), "one user gets sessionsPerUser new sessions");
      assertEquals(ATTACKERS - SESSIONS_PER_USER, senders.refused().size());
      for (NonReadingSenders.Refused refusal : senders.refused()) {
        assertEquals(429, refusal.status(), refusal.body().encode());
        assertEquals("quota_exceeded", refusal.body().getString("code"), refusal.body().encode());
        assertTrue(refusal.body().getString("message").contains("gateway.limits.sessionsPerUser"),
            "the refusal names the quota: " + refusal.body().encode());
      }
      senders.speakInALoop(Speech.concat(Speech.say("what is nine times eight"), Speech.silence(800),
          Speech.say("what is the date today"), Speech.silence(800)));
      // The attack is under way: every accepted sender holds a speech-recognition stream.
      awaitSttActive(SESSIONS_PER_USER, Duration.ofSeconds(60));

      try (VoiceClient victim = mesh.connect("token=" + mesh.token(TestMesh.uniqueUser("victim")))) {
        victim.sessionId();
        victim.speakRealtime(Speech.say("what time is it"), 1200);
        long spoken = System.nanoTime();
        JsonObject fin = victim.await("transcript.final", TRANSCRIPT_WITHIN);
        assertTrue(fin.getString("text").contains("time"), fin.encode());
        JsonObject completed = victim.await("agent_completed", TURN_WITHIN);
        long turnMs = (System.nanoTime() - spoken) / 1_000_000;
        assertNull(completed.getValue("error"), completed.encode());
        VoiceTurnTest.assertAnswerIsTheTimeNow(victim.await("agent_response", TURN_WITHIN).getString("text"));
        assertEquals(List.of(), victim.events("error"), "the victim got no error");
        System.out.printf("victim's turn completed %d ms after its speech, with %d attackers streaming%n", turnMs,
            senders.accepted().size());
      }
    }
  }

  @Test
  @DisplayName("connectionsPerUser and sessionsPerUser per user: resuming one's own session is allowed, others are unaffected, places come back")
  void quotasAtTheUpgrade() throws Exception {
    String user = mesh.token(TestMesh.uniqueUser("quota"));
    List<VoiceClient> open = new ArrayList<>();
    try {
      List<String> sessions = new ArrayList<>();
      for (int i = 0; i < SESSIONS_PER_USER; i++) {
        VoiceClient speaker = mesh.connect("token=" + user);
        open.add(speaker);
        sessions.add(speaker.sessionId());
      }
      VoiceClient.Refusal newSession = VoiceClient.refusal(mesh.clientVertx(), mesh.port(), "token=" + user, null);
      assertEquals(429, newSession.status(), newSession.body().encode());
      assertEquals("quota_exceeded", newSession.body().getString("code"));
      assertTrue(newSession.body().getString("message").contains("gateway.limits.sessionsPerUser"),
          newSession.body().encode());

      // At the limit, a reconnect to one's own session (taking over a half-dead connection) still gets in.
      VoiceClient resumed = mesh.connect("token=" + user + "&sessionId=" + sessions.get(0));
      assertEquals(sessions.get(0), resumed.sessionId());
      assertEquals((short) 4409, open.get(0).closed().get(15, TimeUnit.SECONDS), "the old connection was taken over");
      open.set(0, resumed);

      // The server lets the old connection go once its close is done: it leaves the participants then.
      awaitParticipants(sessions.get(0), user, 1, Duration.ofSeconds(10));

      String listen = "token=" + user + "&role=listener&sessionId=" + sessions.get(1);
      while (open.size() < CONNECTIONS_PER_USER) {
        VoiceClient listener = mesh.connect(listen);
        open.add(listener);
        listener.await("session.ready", Duration.ofSeconds(10));
      }
      VoiceClient.Refusal tooMany = VoiceClient.refusal(mesh.clientVertx(), mesh.port(), listen, null);
      assertEquals(429, tooMany.status(), tooMany.body().encode());
      assertEquals("quota_exceeded", tooMany.body().getString("code"));
      assertTrue(tooMany.body().getString("message").contains("gateway.limits.connectionsPerUser"),
          tooMany.body().encode());

      try (VoiceClient other = mesh.connect("token=" + mesh.token(TestMesh.uniqueUser("other")))) {
        other.sessionId();
      }

      // A closed connection gives its place back.
      open.remove(open.size() - 1).close();
      VoiceClient again = awaitAccepted(listen, Duration.ofSeconds(10));
      open.add(again);
    } finally {
      for (VoiceClient client : open) {
        client.close();
      }
    }
  }

  private static void awaitParticipants(String sessionId, String token, int count, Duration within) throws Exception {
    Rest rest = new Rest(mesh.port());
    long deadline = System.nanoTime() + within.toNanos();
    JsonObject status = rest.get("/api/v1/sessions/" + sessionId, token).json();
    while (status.getJsonArray("participants").size() != count && System.nanoTime() < deadline) {
      TimeUnit.MILLISECONDS.sleep(100); // polling interval, bounded by the deadline
      status = rest.get("/api/v1/sessions/" + sessionId, token).json();
    }
    assertEquals(count, status.getJsonArray("participants").size(), status.encode());
  }

  private static VoiceClient awaitAccepted(String query, Duration within) throws Exception {
    long deadline = System.nanoTime() + within.toNanos();
    while (true) {
      try {
        VoiceClient client = mesh.connect(query);
        client.await("session.ready", Duration.ofSeconds(10));
        return client;
      } catch (Exception e) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("not accepted within " + within, e);
        }
        TimeUnit.MILLISECONDS.sleep(100); // retry interval, bounded by the deadline
      }
    }
  }

  private static void awaitSttActive(int atLeast, Duration within) throws Exception {
    long deadline = System.nanoTime() + within.toNanos();
    int active = sttActive();
    while (active < atLeast && System.nanoTime() < deadline) {
      TimeUnit.MILLISECONDS.sleep(100); // polling interval, bounded by the deadline
      active = sttActive();
    }
    assertTrue(active >= atLeast, "speech-recognition streams open: " + active);
  }

  static int sttActive() throws Exception {
    HttpResponse<String> health = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + mesh.port() + "/health")).build(),
        HttpResponse.BodyHandlers.ofString());
    return new JsonObject(health.body()).getJsonObject("roles").getJsonObject("stt").getInteger("active");
  }
}
