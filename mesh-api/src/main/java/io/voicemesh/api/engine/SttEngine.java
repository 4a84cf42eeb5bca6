package io.voicemesh.api.engine;

/** A speech recognizer: one shared model, one {@link SttStream} per session. */
public interface SttEngine extends AutoCloseable {

  /** Opens a recognition stream for PCM16LE audio at {@code sampleRateHz}; may block. */
  SttStream open(int sampleRateHz) throws Exception;

  /**
   * False while a remote engine can take no new stream (its workers are down or full): callers
   * with a fallback use it instead of waiting for {@link #open} to fail.
   */
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
