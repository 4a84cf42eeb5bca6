package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import io.voicemesh.api.audio.Pcm16;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

@DisplayName("Bad input on /v1/voice")
@Timeout(180)
class BadInputTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  @RegisterExtension
  static final TestMesh mesh = TestMesh.withDefaults();

  @Test
  @DisplayName("each bad frame gets an error with a stable code; the connection, other sessions and stored data are unaffected")
  void badFramesAreAnsweredAndCostNothingElse() throws Exception {
    try (VoiceClient bad = mesh.connect(""); VoiceClient bystander = mesh.connect("")) {
      String badSession = bad.sessionId();
      String bystanderSession = bystander.sessionId();
      long sessionsBefore = count("SELECT count(*) FROM sessions");
      long messagesBefore = count("SELECT count(*) FROM messages");

      assertError(bad, () -> bad.sendText("this is not json"), "bad_frame");
      assertError(bad, () -> bad.sendText("[1, 2, 3]"), "bad_frame");
      assertError(bad, () -> bad.sendText("{\"type\":\"launch.rockets\"}"), "unknown_type");
      assertError(bad, () -> bad.sendText("{\"no\":\"type\"}"), "unknown_type");
      assertError(bad, () -> bad.sendBinary(new byte[64 * 1024 + 2]), "frame_too_large");
      assertError(bad, () -> bad.sendBinary(new byte[641]), "bad_audio");
      assertError(bad, () -> bad.sendText("{\"type\":\"session.update\",\"silenceMs\":\"soon\"}"), "bad_request");
      assertError(bad, () -> bad.sendText("{\"type\":\"session.update\",\"inputSampleRate\":1}"), "bad_request");
      assertError(bad, () -> bad.sendText("{\"type\":\"control\",\"action\":\"dance\"}"), "bad_request");
      assertError(bad, () -> bad.sendText("{\"type\":\"ping\"," + "\"pad\":\"" + "x".repeat(20_000) + "\"}"),
          "frame_too_large");
      assertError(bad, () -> {
        byte[] frame = new byte[Pcm16.bytesFor(Pcm16.DEFAULT_RATE_HZ, 20)];
        for (int i = 0; i < 400; i++) {
          bad.sendBinary(frame);
        }
      }, "rate_limited");

      assertTrue(bad.isOpen(), "the connection that sent bad input stays open");
      bad.send(new JsonObject().put("type", "ping").put("id", 7));
      assertEquals(7, bad.await("pong", WAIT).getInteger("id"));
      bystander.send(new JsonObject().put("type", "ping").put("id", 8));
      assertEquals(8, bystander.await("pong", WAIT).getInteger("id"));
      assertEquals(List.of(), bystander.events("error"), "the other session saw no error");

      assertEquals(sessionsBefore, count("SELECT count(*) FROM sessions"));
      assertEquals(messagesBefore, count("SELECT count(*) FROM messages"));
      for (String id : List.of(badSession, bystanderSession)) {
        assertEquals("active", mesh.query("SELECT status FROM sessions WHERE id = $1", UUID.fromString(id))
            .get(0).get("status"));
      }

      // The connection still carries a whole voice turn after all of that.
      bad.speak(Speech.say("calculate eight times nine"), 1000, 1).await(30, TimeUnit.SECONDS);
      assertEquals("8 times 9 is 72.", bad.await("agent_response", Duration.ofSeconds(30)).getString("text"));
      bad.await("agent_completed", Duration.ofSeconds(30));
    }
  }

  @Test
  @DisplayName("a 2 MiB message in 64 KiB fragments is refused with frame_too_large, and the connection stays")
  void hugeFragmentedMessage() throws Exception {
    try (VoiceClient huge = mesh.connect("")) {
      huge.sessionId();
      huge.sendBinary(new byte[2 * 1024 * 1024]);
      assertEquals("frame_too_large", huge.await("error", WAIT).getString("code"));
      huge.send(new JsonObject().put("type", "ping"));
      huge.await("pong", WAIT);
      assertTrue(huge.isOpen());
    }
  }

  @Test
  @DisplayName("a single frame beyond the 1 MiB WebSocket limit closes only that connection")
  void hugeFrameClosesOnlyItsConnection() throws Exception {
    try (VoiceClient huge = VoiceClient.connect(mesh.clientVertx(), mesh.port(),
        "token=" + mesh.token(TestMesh.USER), 4 * 1024 * 1024);
         VoiceClient bystander = mesh.connect("")) {
      huge.sessionId();
      bystander.sessionId();
      huge.sendBinary(new byte[2 * 1024 * 1024]);
      // The server closes with 1009; a client still busy sending may only see the TCP close (1006).
      short code = huge.closed().get(10, TimeUnit.SECONDS);
      assertTrue(code == 1009 || code == 1006, "close code " + code);
      bystander.send(new JsonObject().put("type", "ping"));
      bystander.await("pong", WAIT);
      assertTrue(bystander.isOpen());
    }
  }

  @Test
  @DisplayName("a malformed upgrade query is refused with 400 bad_request before any session is touched")
  void badUpgradeQueries() throws Exception {
    String token = "token=" + mesh.token(TestMesh.USER);
    String session;
    try (VoiceClient client = mesh.connect("")) {
      session = client.sessionId();
    }
    for (String query : List.of("role=boss", "sampleRate=44", "sampleRate=lots", "role=listener",
        "lastSeq=5", "sessionId=" + session + "&lastSeq=-1", "sessionId=" + session + "&lastSeq=x")) {
      VoiceClient.Refusal refusal = VoiceClient.refusal(mesh.clientVertx(), mesh.port(), token + "&" + query, null);
      assertEquals(400, refusal.status(), query);
      assertEquals("bad_request", refusal.body().getString("code"), query);
      assertTrue(!refusal.body().getString("message").isBlank(), query);
    }
  }

  private static void assertError(VoiceClient client, ThrowingRunnable send, String code) throws Exception {
    int before = client.events("error").size();
    send.run();
    JsonObject error = client.awaitNth("error", before + 1, WAIT);
    assertEquals(code, error.getString("code"), error.encode());
    assertTrue(error.getString("message") != null && !error.getString("message").isBlank(), error.encode());
  }

  private static long count(String sql) throws Exception {
    return ((Number) mesh.query(sql).get(0).get("count")).longValue();
  }

  private interface ThrowingRunnable {
    void run() throws Exception;
  }
}
