package io.voicemesh.api.engine;

/**
 * One session's recognizer. Calls block and come from one thread at a time, in order; the STT
 * verticle decides where an utterance ends and calls {@link #finish()}.
 */
public interface SttStream extends AutoCloseable {

  /** Feeds PCM16LE audio; returns the hypothesis for the whole current utterance so far. */
  String accept(byte[] pcm, int length);

  /** Ends the current utterance: returns its final text (possibly empty) and starts a new one. */
  String finish();

  @Override
  void close();
}
