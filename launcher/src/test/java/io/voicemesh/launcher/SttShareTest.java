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
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** One STT node of capacity 10: a user may hold 3 of its streams (userShare 0.3), a token 2 (tokenShare 0.2). */
@DisplayName("A user's and a token's share of an STT node")
@Timeout(180)
class SttShareTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  @RegisterExtension
  static final TestMesh mesh = TestMesh.with(() -> Map.of(
      "voicemesh.stt.capacity", 10,
      "voicemesh.stt.userShare", 0.3,
      "voicemesh.stt.tokenShare", 0.2));

  @Test
  @DisplayName("a token holds at most 2 streams and a user 3, while another user still gets a stream and a turn; a freed stream is taken by the waiting audio")
  void userAndTokenShares() throws Exception {
    String user = TestMesh.uniqueUser("greedy");
    // Two tokens of one user (different expiries, so different tokens).
    String first = mesh.mesh().tokens().mint(user, null, Instant.now().plusSeconds(3600)).token();
    String second = mesh.mesh().tokens().mint(user, null, Instant.now().plusSeconds(3700)).token();
    byte[] phrase = Speech.say("what is nine times eight");
    List<VoiceClient> clients = new ArrayList<>();
    try {
      VoiceClient a1 = streaming(clients, first, phrase, 1);
      streaming(clients, first, phrase, 2);
      VoiceClient overToken = speaking(clients, first, phrase);
      assertQuotaError(overToken, "stt.tokenShare");
      assertEquals(2, sttActive(), "the token's third stream was refused");

      streaming(clients, second, phrase, 3);
      VoiceClient overUser = speaking(clients, second, phrase);
      assertQuotaError(overUser, "stt.userShare");
      assertEquals(3, sttActive(), "the user's fourth stream was refused");

      try (VoiceClient other = mesh.connect("token=" + mesh.token(TestMesh.uniqueUser("other")))) {
        other.sessionId();
        other.speakRealtime(Speech.say("what time is it"), 1200);
        JsonObject fin = other.await("transcript.final", WAIT);
        assertTrue(fin.getString("text").contains("time"), fin.encode());
        assertNull(other.await("agent_completed", WAIT).getValue("error"));
        assertEquals(List.of(), other.events("error"), "the other user got no error");
      }

      // The refused client's next audio asks again: once its token has room, it is heard. The other
      // user's stream closes asynchronously: wait for it first, or a1's close is not what freed room
      // (the greedy token would still hold two streams and its next open be refused again).
      awaitSttActive(3);
      a1.close();
      awaitSttActive(2);
      overToken.speak(phrase, 600, 1.0);
      JsonObject heard = overToken.await("transcript.final", WAIT);
      assertTrue(heard.getString("text").contains("nine times eight"), heard.encode());
    } finally {
      for (VoiceClient client : clients) {
        client.close();
      }
    }
  }

  private static void awaitSttActive(int streams) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (sttActive() != streams && System.nanoTime() < deadline) {
      java.util.concurrent.TimeUnit.MILLISECONDS.sleep(50); // polling interval, bounded by the deadline
    }
    assertEquals(streams, sttActive(), "STT streams open");
  }

  /** A speaker whose audio was heard (so its stream is open), with the node then serving {@code streams} in all. */
  private static VoiceClient streaming(List<VoiceClient> clients, String token, byte[] pcm, int streams) throws Exception {
    VoiceClient client = speaking(clients, token, pcm);
    JsonObject heard = client.await("transcript.final", WAIT);
    assertTrue(heard.getString("text").contains("nine times eight"), heard.encode());
    assertEquals(streams, sttActive(), "streams open");
    assertEquals(List.of(), client.events("error"));
    return client;
  }

  private static VoiceClient speaking(List<VoiceClient> clients, String token, byte[] pcm) throws Exception {
    VoiceClient client = mesh.connect("token=" + token);
    clients.add(client);
    client.sessionId();
    client.speak(pcm, 600, 1.0);
    return client;
  }

  private static void assertQuotaError(VoiceClient client, String share) throws Exception {
    JsonObject error = client.await("error", WAIT);
    assertEquals("quota_exceeded", error.getString("code"), error.encode());
    assertTrue(error.getString("message").contains(share), "the error names the quota: " + error.encode());
  }

  private static int sttActive() throws Exception {
    HttpResponse<String> health = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + mesh.port() + "/health")).build(),
        HttpResponse.BodyHandlers.ofString());
    return new JsonObject(health.body()).getJsonObject("roles").getJsonObject("stt").getInteger("active");
  }
}
