package io.voicemesh.api.engine;

/** A speech recognizer: one shared model, one {@link SttStream} per session. */
public interface SttEngine extends AutoCloseable {

  /** Opens a recognition stream for PCM16LE audio at {@code sampleRateHz}; may block. */
  SttStream open(int sampleRateHz) throws Exception;

  @Override
  void close();
}
