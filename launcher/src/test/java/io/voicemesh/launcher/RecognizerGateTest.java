package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A stream holds a Vosk recognizer only while its audio is not quiet, so the recognizers a node
 * keeps follow the sessions speaking, not the sessions connected.
 */
@DisplayName("Recognizers held only while a session is not quiet")
@Timeout(120)
class RecognizerGateTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  @RegisterExtension
  static final TestMesh mesh = TestMesh.withDefaults();

  @Test
  @DisplayName("4 s of a quiet room hold no recognizer; the question takes one, is heard from its first word, and gives it back")
  void quietHoldsNoRecognizer() throws Exception {
    // The node warms one recognizer in the background at start; it is busy until that is done.
    KafkaRelayTest.poll(() -> metric("voicemesh_stt_recognizers_warm") >= 1, Duration.ofSeconds(60),
        "the node warms a recognizer");
    try (VoiceClient client = mesh.connect("")) {
      client.sessionId();
      // A quiet room (-60 dBFS), at real time: the stream is open the whole time, its recognizer never.
      Future<Void> quiet = client.speak(Speech.noise(4_000, -60, 11), 0, 1.0);
      int polls = 0;
      boolean streamOpen = false;
      while (!quiet.isComplete()) {
        String metrics = metrics();
        streamOpen |= MetricsTest.value(metrics, "voicemesh_sessions{node=\"[^\"]*\",role=\"stt\"}") == 1;
        assertEquals(0, MetricsTest.value(metrics, "voicemesh_stt_recognizers_busy"),
            "a recognizer taken during quiet audio, after " + polls * 100 + " ms");
        polls++;
        TimeUnit.MILLISECONDS.sleep(100); // polling interval; the loop ends with the audio
      }
      assertTrue(streamOpen, "the session's STT stream was open during the quiet audio");
      assertTrue(polls >= 20, "polled through the quiet audio: " + polls);

      Future<Void> question = client.speak(Speech.say("what is nine times eight"), 1_500, 1.0);
      KafkaRelayTest.poll(() -> metric("voicemesh_stt_recognizers_busy") >= 1, Duration.ofSeconds(10),
          "a recognizer taken for the question");
      question.await(20, TimeUnit.SECONDS);
      JsonObject heard = client.await("transcript.final", WAIT);
      assertTrue(heard.getString("text").startsWith("what is nine times eight"), "heard from the first word: " + heard);
      client.await("agent_completed", WAIT);
      KafkaRelayTest.poll(() -> metric("voicemesh_stt_recognizers_busy") == 0, Duration.ofSeconds(10),
          "the recognizer given back after the question");
    }
  }

  private static String metrics() throws Exception {
    return new Rest(mesh.port()).get("/metrics", null).text();
  }

  /** One sample of /metrics, for a polled condition. */
  private static double metric(String series) {
    try {
      return MetricsTest.value(metrics(), series);
    } catch (Exception e) {
      throw new IllegalStateException("no /metrics: " + e, e);
    }
  }
}
