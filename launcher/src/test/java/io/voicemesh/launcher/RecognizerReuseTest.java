package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.audio.Pcm16;
import io.voicemesh.api.engine.Engines;
import io.voicemesh.api.engine.SttEngine;
import io.voicemesh.api.engine.SttEngineProvider;
import io.voicemesh.api.engine.SttStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The embedded Vosk engine keeps recognizers between streams (a used one decodes several times
 * faster than a new one); what one stream left in a recognizer must not reach the next.
 */
@DisplayName("Vosk recognizers kept between streams")
class RecognizerReuseTest {
  private static JsonObject config() {
    return new JsonObject().put("modelCacheDir", Path.of("target", "test-data", "models").toString());
  }

  @Test
  @DisplayName("a stream closed mid-utterance leaves none of its words to the next stream, which gets its recognizer")
  void reusedRecognizerStartsClean() throws Exception {
    // One idle recognizer and no warm-up: each stream gets the one the stream before gave back.
    SttEngine engine = Engines.create(SttEngineProvider.class, "vosk", (Vertx) null,
        config().put("idleRecognizers", 1).put("warmup", false));
    try {
      byte[] first = Speech.say("calculate eight times nine");
      byte[] second = Speech.say("hello there");
      int window = Pcm16.bytesFor(Pcm16.DEFAULT_RATE_HZ, 20);
      // Cut at the first word, in the middle, near the end: Vosk holds audio it has not decoded yet
      // at each, which a recognizer that was only reset() decodes into the next stream.
      for (int quarters = 1; quarters <= 3; quarters++) {
        SttStream cut = engine.open(Pcm16.DEFAULT_RATE_HZ);
        String heard = feed(cut, Arrays.copyOf(first, first.length * quarters / 4 / window * window));
        cut.close();
        try (SttStream next = engine.open(Pcm16.DEFAULT_RATE_HZ)) {
          feed(next, second);
          String text = next.finish();
          assertTrue(text.contains("hello there"), text);
          for (String word : List.of("calculate", "eight", "times", "nine", "late", "hello hello")) {
            assertFalse(text.contains(word), "cut after " + quarters + "/4 (heard '" + heard + "'), the next stream has '"
                + word + "': " + text);
          }
        }
      }
    } finally {
      engine.close();
    }
  }

  @Test
  @DisplayName("a negative stt.vosk.idleRecognizers is refused at start")
  void negativeIdleRecognizersRefused() {
    Exception refused = assertThrows(Exception.class, () -> Engines.create(SttEngineProvider.class, "vosk", (Vertx) null,
        config().put("idleRecognizers", -1)));
    assertTrue(String.valueOf(refused.getMessage()).contains("idleRecognizers"), refused.toString());
  }

  /** Feeds 20 ms windows, as an STT node does; returns the last hypothesis. */
  private static String feed(SttStream stream, byte[] pcm) {
    int window = Pcm16.bytesFor(Pcm16.DEFAULT_RATE_HZ, 20);
    String hypothesis = "";
    for (int offset = 0; offset + window <= pcm.length; offset += window) {
      hypothesis = stream.accept(Arrays.copyOfRange(pcm, offset, offset + window), window);
    }
    return hypothesis;
  }
}
