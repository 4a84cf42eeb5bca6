package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

@DisplayName("Metrics")
@Timeout(120)
class MetricsTest {
  @RegisterExtension
  static final TestMesh mesh = TestMesh.withDefaults();

  @Test
  @DisplayName("after a voice turn, /metrics has every stage histogram counted and agent_completed carries the turn's timings")
  void stageHistogramsAndTimings() throws Exception {
    JsonObject timings;
    try (VoiceClient client = mesh.connect("")) {
      client.sessionId();
      client.sendText("not json");
      client.speakRealtime(Speech.say("what is nine times eight"), 1_000);
      timings = client.await("agent_completed", Duration.ofSeconds(30)).getJsonObject("timings");
      String metrics = scrape();
      for (String histogram : List.of("voicemesh_stt_final_latency_seconds", "voicemesh_llm_first_token_seconds",
          "voicemesh_tts_first_audio_seconds", "voicemesh_voice_to_voice_seconds", "voicemesh_endpointing_seconds",
          "voicemesh_bus_audio_hop_seconds")) {
        assertTrue(value(metrics, histogram + "_count") > 0, histogram + " counted");
        assertTrue(metrics.contains(histogram + "_bucket{"), histogram + " is a histogram");
      }
      for (String role : List.of("gateway", "stt", "llm", "tts")) {
        assertTrue(metrics.contains("voicemesh_sessions{node=") && metrics.matches("(?s).*voicemesh_sessions\\{[^}]*role=\"" + role + "\".*"),
            "sessions gauge for " + role);
      }
      assertEquals(1.0, value(metrics, "voicemesh_sessions{node=\"[^\"]*\",role=\"gateway\"}"), "one connection open");
      assertTrue(value(metrics, "voicemesh_errors_total{code=\"bad_frame\"}") >= 1, "errors counted by code");
      assertTrue(metrics.contains("vertx_http_server_requests_total") || metrics.contains("vertx_eventbus_"),
          "Vert.x's own meters are there too");
    }
    for (String stage : List.of("endpointingMs", "sttFinalMs", "llmFirstTokenMs", "ttsFirstAudioMs", "voiceToVoiceMs")) {
      assertTrue(timings.getLong(stage) != null && timings.getLong(stage) >= 0, stage + " in " + timings);
    }
    // The default end of turn (eagerness auto) waits 200 ms after words that sound complete, 1200 ms after others.
    assertTrue(timings.getLong("endpointingMs") >= 150 && timings.getLong("endpointingMs") <= 1_500,
        "the silence that ended the turn shows as endpointing: " + timings);
    assertTrue(timings.getLong("voiceToVoiceMs") >= timings.getLong("endpointingMs"), timings.encode());
  }

  private static String scrape() throws Exception {
    HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + mesh.port() + "/metrics")).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, response.statusCode());
    return response.body();
  }

  /** The value of the first sample whose name and labels match {@code series} (a regex prefix). */
  /** The sample of {@code series} in Prometheus text {@code metrics} (labels optional; {@code [^"]*} matches any label value). */
  static double value(String metrics, String series) {
    String pattern = series.contains("{") ? Pattern.quote(series).replace("[^\"]*", "\\E[^\"]*\\Q") : Pattern.quote(series) + "(\\{[^}]*\\})?";
    Matcher m = Pattern.compile("(?m)^" + pattern + " (\\S+)$").matcher(metrics);
    assertTrue(m.find(), "no sample " + series);
    return Double.parseDouble(m.group(m.groupCount()));
  }
}
