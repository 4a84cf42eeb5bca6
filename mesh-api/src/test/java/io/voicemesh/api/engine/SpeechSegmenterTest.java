package io.voicemesh.api.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.voicemesh.api.audio.Pcm16;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The segmenter ending turns on recorded recognizer output: what Vosk returned, position by
 * position, for FreeTTS saying "what is twelve times seven and" (its partials trail the speech:
 * "seven" came 160 ms and "and" 400 ms after the speech stopped), with a tone standing for the
 * voiced audio.
 */
@DisplayName("The speech segmenter's end of turn")
class SpeechSegmenterTest {
  private static final int RATE = Pcm16.DEFAULT_RATE_HZ;
  private static final EndOfTurn MEDIUM = new EndOfTurn(200, 1_200);
  /** Vosk's partials for the first part, by audio position (ms), speech from 300 to 1920 ms. */
  private static final Map<Long, String> FIRST_PARTIALS = Map.of(1120L, "what is", 1360L, "what is well",
      1840L, "what is well timed", 2080L, "what is well timed seven", 2320L, "what is well timed seven and");
  private static final String FIRST_WORDS = "what is well timed seven and";
  private static final long FIRST_END_MS = 1_920;

  /** Replays recorded hypotheses by audio position; settles to the words of all audio fed, when it can. */
  private static final class RecordedStream implements SttStream {
    final TreeMap<Long, String> partials = new TreeMap<>();
    final TreeMap<Long, String> words = new TreeMap<>();
    final boolean canSettle;
    final List<Long> settledAt = new ArrayList<>();
    long positionMs;

    RecordedStream(boolean canSettle) {
      this.canSettle = canSettle;
    }

    @Override
    public String accept(byte[] pcm, int length) {
      positionMs += Pcm16.msFor(RATE, length);
      var partial = partials.floorEntry(positionMs);
      // As Vosk after a settle: the settled words, until a partial of later audio extends them.
      if (!settledAt.isEmpty() && (partial == null || partial.getKey() <= settledAt.get(settledAt.size() - 1))) {
        return words.floorEntry(settledAt.get(settledAt.size() - 1)).getValue();
      }
      return partial == null ? "" : partial.getValue();
    }

    @Override
    public Settled settle() {
      if (!canSettle) {
        return null;
      }
      settledAt.add(positionMs);
      var said = words.floorEntry(positionMs);
      return new Settled(said == null ? "" : said.getValue());
    }

    @Override
    public String finish() {
      var said = words.floorEntry(positionMs);
      return said == null ? "" : said.getValue();
    }

    @Override
    public void close() {
    }
  }

  private record Ended(String text, long audioMs) {
  }

  /**
   * Feeds silence, "speech", silence ... in turn ({@code ms} each), window by window. Speech is a
   * tone that dips by 20 dB for 20 ms in every 100 (syllables; a steady tone would be taken for noise).
   */
  private static void run(SpeechSegmenter segmenter, long... ms) {
    boolean voiced = false;
    for (long stretch : ms) {
      for (long t = 0; t < stretch; t += 20) {
        byte[] window = new byte[segmenter.windowBytes()];
        double amplitude = t % 100 == 40 ? 0.01 : 0.1;
        for (int i = 0; voiced && i < window.length / 2; i++) {
          int s = (int) (amplitude * 32767 * Math.sin(2 * Math.PI * 220 * i / RATE));
          window[2 * i] = (byte) s;
          window[2 * i + 1] = (byte) (s >> 8);
        }
        segmenter.accept(window);
      }
      voiced = !voiced;
    }
  }

  private static SpeechSegmenter segmenter(RecordedStream stream, List<Ended> ended) {
    return new SpeechSegmenter(stream, RATE, 300, MEDIUM, true,
        (text, audioMs, speechStartMs, speechEndMs) -> ended.add(new Ended(text, audioMs)));
  }

  @Test
  @DisplayName("a 600 ms pause after 'and' keeps the turn open; the complete rest ends it after the minimum silence")
  void pauseAfterAnd() {
    RecordedStream stream = new RecordedStream(true);
    stream.partials.putAll(FIRST_PARTIALS);
    stream.words.put(FIRST_END_MS, FIRST_WORDS);
    stream.partials.put(2_800L, FIRST_WORDS + " what time");
    stream.words.put(3_300L, FIRST_WORDS + " what time is it");
    List<Ended> ended = new ArrayList<>();
    run(segmenter(stream, ended), 300, FIRST_END_MS - 300, 600, 780, 2_000);
    assertEquals(List.of(new Ended(FIRST_WORDS + " what time is it", 3_300 + 200)), ended);
    assertEquals(List.of(FIRST_END_MS + 200, 3_300L + 200), stream.settledAt, "settled once a pause, at its minimum");
  }

  @Test
  @DisplayName("a complete question ends after the minimum silence, with the words the recognizer settled on")
  void completeQuestion() {
    RecordedStream stream = new RecordedStream(true);
    stream.partials.putAll(Map.of(1120L, "what is", 1360L, "what as well", 1840L, "what as well timed"));
    stream.words.put(1_840L, "what as well timed seven");
    List<Ended> ended = new ArrayList<>();
    run(segmenter(stream, ended), 300, 1_540, 2_000);
    // The partial still lacked "seven": the settled words, not the partial, made the transcript.
    assertEquals(List.of(new Ended("what as well timed seven", 1_840 + 200)), ended);
  }

  @Test
  @DisplayName("a recognizer that cannot settle is judged on its lagging partial, given the lag: no cut before the 'and'")
  void unsettledPartialGetsTheLag() {
    RecordedStream stream = new RecordedStream(false);
    stream.partials.putAll(FIRST_PARTIALS);
    stream.words.put(FIRST_END_MS, FIRST_WORDS);
    List<Ended> ended = new ArrayList<>();
    run(segmenter(stream, ended), 300, FIRST_END_MS - 300, 2_000);
    // The partial said "...seven" from 160 to 400 ms of silence, yet the turn ended only at the maximum.
    assertEquals(List.of(new Ended(FIRST_WORDS, FIRST_END_MS + 1_200)), ended);
  }

  @Test
  @DisplayName("silence alone: a fixed window ends the turn whatever the words, and nothing settles")
  void silenceOnly() {
    RecordedStream stream = new RecordedStream(true);
    stream.partials.putAll(FIRST_PARTIALS);
    stream.words.put(FIRST_END_MS, FIRST_WORDS);
    List<Ended> ended = new ArrayList<>();
    run(new SpeechSegmenter(stream, RATE, 300, 600, true,
        (text, audioMs, speechStartMs, speechEndMs) -> ended.add(new Ended(text, audioMs))), 300, FIRST_END_MS - 300, 2_000);
    assertEquals(List.of(new Ended(FIRST_WORDS, FIRST_END_MS + 600)), ended);
    assertEquals(List.of(), stream.settledAt);
  }
}
