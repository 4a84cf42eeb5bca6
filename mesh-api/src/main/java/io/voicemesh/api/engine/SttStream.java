package io.voicemesh.api.engine;

import java.util.List;
import java.util.function.Consumer;

/**
 * One session's recognizer. Calls block and come from one thread at a time, in order; the STT
 * verticle decides where an utterance ends and calls {@link #finish()}.
 */
public interface SttStream extends AutoCloseable {

  /** Feeds PCM16LE audio; returns the hypothesis for the whole current utterance so far. */
  String accept(byte[] pcm, int length);

  /**
   * Decodes all audio fed so far and returns the current utterance's text up to here, without
   * ending it: in a pause, the words just said, which the last hypothesis may still lack (Vosk
   * decodes in 240 ms steps, so its partial can trail the speech by up to half a second). The
   * utterance goes on; {@link #finish()} still returns the whole of it. Null: this engine cannot,
   * and the caller must make do with the last hypothesis.
   */
  default Settled settle() {
    return null;
  }

  /**
   * The words of an utterance up to a point, and the recognizer's other readings of the same audio
   * that it found nearly as likely (Vosk's n-best, best first; empty when it gives none): a misheard
   * last word ("too" for "to", "arm" for "um") may hide that the sentence goes on, and one of the
   * other readings then usually ends on the word that was said.
   */
  record Settled(String text, List<String> otherReadings) {
    public Settled {
      otherReadings = List.copyOf(otherReadings);
    }

    /** Words with no other reading. */
    public Settled(String text) {
      this(text, List.of());
    }
  }

  /** Ends the current utterance: returns its final text (possibly empty) and starts a new one. */
  String finish();

  /**
   * Where to report a change in how this stream is served that its session should hear about
   * (e.g. a remote worker was lost and an embedded engine took over). Most streams never report.
   */
  default void onWarning(Consumer<String> warnings) {
  }

  @Override
  void close();
}
