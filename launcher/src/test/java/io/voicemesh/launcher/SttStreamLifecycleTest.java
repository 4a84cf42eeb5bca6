package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

@DisplayName("An STT stream the worker lets go")
@Timeout(120)
class SttStreamLifecycleTest {
  @RegisterExtension
  static final TestMesh mesh = TestMesh.with(() -> Map.of("voicemesh.stt.idleTimeoutMs", 1_000));

  @Test
  @DisplayName("after an idle pause the worker closes the stream, and the next words open a new one")
  void idleStreamIsReplaced() throws Exception {
    try (VoiceClient client = mesh.connect("")) {
      client.sessionId();
      client.speak(Speech.say("what is nine times eight"), 1000, 2).await(20, TimeUnit.SECONDS);
      assertEquals(1, sttActive(), "one stream open while talking");
      client.send(new JsonObject().put("type", "control").put("action", "pause"));
      client.await("agent_completed", Duration.ofSeconds(20));

      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (sttActive() != 0 && System.nanoTime() < deadline) {
        TimeUnit.MILLISECONDS.sleep(100); // polling interval, bounded by the deadline
      }
      assertEquals(0, sttActive(), "the idle stream was closed by the worker");

      client.send(new JsonObject().put("type", "control").put("action", "resume"));
      client.speak(Speech.say("what time is it"), 1000, 2).await(20, TimeUnit.SECONDS);
      JsonObject second = client.awaitNth("transcript.final", 2, Duration.ofSeconds(20));
      assertTrue(second.getString("text").contains("time"), second.encode());
      client.awaitNth("agent_completed", 2, Duration.ofSeconds(20));
    }
  }

  private static int sttActive() throws Exception {
    HttpResponse<String> health = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + mesh.port() + "/health")).build(),
        HttpResponse.BodyHandlers.ofString());
    return new JsonObject(health.body()).getJsonObject("roles").getJsonObject("stt").getInteger("active");
  }
}
