package io.voicemesh.stt;

import io.voicemesh.api.audio.Pcm16;

/**
 * Energy-based voice activity and end-of-turn detection over 20 ms frames.
 *
 * <p>A frame is voiced when it is louder than both an absolute floor and the tracked background
 * level plus a margin, so steady background noise raises the bar instead of counting as speech.
 * Speech starts after {@code minSpeechMs} of voiced frames (a click does not); the turn ends after
 * {@code silenceMs} of unvoiced frames following speech.
 */
final class SpeechDetector {
  static final int FRAME_MS = 20;
  private static final double ABSOLUTE_FLOOR_DBFS = -50;
  private static final double MARGIN_DB = 15;
  private static final double INITIAL_NOISE_DBFS = -70;

  /** What one frame changed. */
  enum Transition { NONE, SPEECH_STARTED, SPEECH_STOPPED }

  private final int frameBytes;
  private final int minSpeechFrames;
  private final int silenceFrames;
  private double noiseDbfs = INITIAL_NOISE_DBFS;
  private boolean speaking;
  private int voicedRun;
  private int unvoicedRun;
  private long frames;

  SpeechDetector(int sampleRateHz, int minSpeechMs, int silenceMs) {
    if (sampleRateHz < 8000 || minSpeechMs < FRAME_MS || silenceMs < FRAME_MS) {
      throw new IllegalArgumentException("sampleRateHz >= 8000, minSpeechMs and silenceMs >= " + FRAME_MS
          + " required; got " + sampleRateHz + ", " + minSpeechMs + ", " + silenceMs);
    }
    this.frameBytes = Pcm16.bytesFor(sampleRateHz, FRAME_MS);
    this.minSpeechFrames = minSpeechMs / FRAME_MS;
    this.silenceFrames = silenceMs / FRAME_MS;
  }

  int frameBytes() {
    return frameBytes;
  }

  boolean speaking() {
    return speaking;
  }

  /** Audio position after the frames seen so far. */
  long positionMs() {
    return frames * FRAME_MS;
  }

  /** Classifies one frame of exactly {@link #frameBytes()} bytes starting at {@code offset}. */
  Transition accept(byte[] pcm, int offset) {
    frames++;
    double level = Pcm16.rmsDbfs(pcm, offset, frameBytes);
    boolean voiced = level > Math.max(ABSOLUTE_FLOOR_DBFS, noiseDbfs + MARGIN_DB);
    if (!voiced) {
      // Follow the background down at once and up slowly, so speech never drags it up.
      noiseDbfs = level < noiseDbfs ? level : noiseDbfs + 0.05 * (level - noiseDbfs);
    }
    if (voiced) {
      voicedRun++;
      unvoicedRun = 0;
    } else {
      unvoicedRun++;
      if (!speaking || unvoicedRun > 2) {
        voicedRun = 0;
      }
    }
    if (!speaking && voicedRun >= minSpeechFrames) {
      speaking = true;
      return Transition.SPEECH_STARTED;
    }
    if (speaking && unvoicedRun >= silenceFrames) {
      speaking = false;
      voicedRun = 0;
      return Transition.SPEECH_STOPPED;
    }
    return Transition.NONE;
  }

  /** Forgets the current utterance (after a commit), keeping the background estimate. */
  void reset() {
    speaking = false;
    voicedRun = 0;
    unvoicedRun = 0;
  }
}
