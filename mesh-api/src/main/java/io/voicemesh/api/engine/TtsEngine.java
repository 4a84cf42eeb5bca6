package io.voicemesh.api.engine;

import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/** A speech synthesizer. Calls block and run on worker threads. */
public interface TtsEngine extends AutoCloseable {

  /** The rate of the PCM16LE audio it produces. */
  int sampleRateHz();

  /**
   * Speaks {@code text}, handing PCM16LE audio to {@code sink} as it is produced (in pieces of any
   * size) and stopping early once {@code cancelled} says so. A remote engine that loses its
   * worker throws {@link EngineUnavailableException}, possibly after some audio.
   */
  void synthesize(String text, String voice, Consumer<byte[]> sink, BooleanSupplier cancelled) throws Exception;

  /**
   * {@link #synthesize}, and when each word of {@code text} (split at white space) has been spoken:
   * one end time per word, in ms from the start of the audio, so an interrupted answer is known to
   * the word. Empty when the engine cannot tell (the default): callers then spread the words over
   * the audio by their length.
   */
  default List<Long> synthesizeTimed(String text, String voice, Consumer<byte[]> sink, BooleanSupplier cancelled)
      throws Exception {
    synthesize(text, voice, sink, cancelled);
    return List.of();
  }

  /** False while a remote engine can take no new work: callers with a fallback use it instead. */
  default boolean available() {
    return true;
  }

  /** A remote engine's workers (address → OK, DEGRADED, UNHEALTHY), for health reports; empty otherwise. */
  default java.util.Map<String, String> workers() {
    return java.util.Map.of();
  }

  @Override
  void close();
}
