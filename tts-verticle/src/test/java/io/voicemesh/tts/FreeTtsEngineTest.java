package io.voicemesh.tts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.voicemesh.api.audio.Pcm16;
import java.io.ByteArrayOutputStream;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("The FreeTTS engine's word timings")
class FreeTtsEngineTest {
  private static final int RATE = 16_000;
  private static FreeTtsEngine engine;

  @BeforeAll
  static void load() {
    engine = new FreeTtsEngine("kevin16", 1, 0);
  }

  @AfterAll
  static void close() {
    engine.close();
  }

  /** RMS in dBFS of the audio between two positions (ms). */
  private static double dbfs(byte[] pcm, long fromMs, long toMs) {
    int from = Pcm16.bytesFor(RATE, (int) fromMs) / 2;
    int to = Math.min(pcm.length / 2, Pcm16.bytesFor(RATE, (int) toMs) / 2);
    double sum = 0;
    for (int i = from; i < to; i++) {
      short sample = (short) ((pcm[2 * i] & 0xff) | (pcm[2 * i + 1] << 8));
      sum += (double) sample * sample;
    }
    return 10 * Math.log10(Math.max(1e-9, sum / Math.max(1, to - from)) / (32768.0 * 32768.0));
  }

  @Test
  @DisplayName("give one end per word of the text, in order, within the audio; what follows an end of speech is quiet")
  void oneEndPerWord() throws Exception {
    String text = "Dr. Smith paid $12 for 3 apples, then walked home. It's 84 degrees!";
    ByteArrayOutputStream audio = new ByteArrayOutputStream();
    List<Long> ends = engine.synthesizeTimed(text, null, audio::writeBytes, () -> false);
    byte[] pcm = audio.toByteArray();
    long audioMs = Pcm16.msFor(RATE, pcm.length);
    assertEquals(text.split(" ").length, ends.size(), "ends: " + ends);
    assertTrue(ends.get(0) > 0, ends.toString());
    for (int i = 1; i < ends.size(); i++) {
      assertTrue(ends.get(i) > ends.get(i - 1), "word " + i + " ends after the one before: " + ends);
    }
    assertTrue(ends.get(ends.size() - 1) <= audioMs, ends + " within " + audioMs + " ms");
    double speech = dbfs(pcm, 0, audioMs);
    // "home." ends the first utterance and "degrees!" the text: a pause follows each.
    for (int sentenceEnd : List.of(9, 12)) {
      long end = ends.get(sentenceEnd);
      double after = dbfs(pcm, end + 20, end + 120);
      assertTrue(after < speech - 15, "after word " + sentenceEnd + " (" + end + " ms): " + after + " dBFS vs " + speech);
    }
    // Mid-sentence a word's end is not followed by a pause that long: speech goes on.
    double midWord = dbfs(pcm, ends.get(1) - 100, ends.get(1));
    assertTrue(midWord > speech - 15, "the last 100 ms of 'Smith' are speech: " + midWord);
  }
}
