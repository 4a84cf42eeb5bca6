package io.voicemesh.api.engine;

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
