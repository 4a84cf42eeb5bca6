package io.voicemesh.api.audio;

/**
 * Energy-based voice activity and end-of-turn detection over 20 ms frames.
 *
 * <p>A frame is voiced when it is louder than both an absolute floor and the background level plus
 * a margin. The background is the quietest frame of the last {@link #BACKGROUND_WINDOW_MS}: speech
 * always dips between syllables, steady noise does not, so steady noise raises the bar instead of
 * counting as speech (the price: a perfectly steady tone is taken for noise too). Speech starts
 * once {@code minSpeechMs} of voiced frames have accumulated with no gap longer than
 * {@link #MAX_GAP_MS} (the stops between syllables are such gaps; a cough or click is too short);
 * the turn ends after {@code silenceMs} of unvoiced frames following speech.
 */
public final class SpeechDetector {
  public static final int FRAME_MS = 20;
  static final int BACKGROUND_WINDOW_MS = 1_500;
  static final int MAX_GAP_MS = 160;
  private static final double ABSOLUTE_FLOOR_DBFS = -50;
  private static final double MARGIN_DB = 12;

  /** What one frame changed. */
  public enum Transition { NONE, SPEECH_STARTED, SPEECH_STOPPED }

  private final int frameBytes;
  private final int minSpeechFrames;
  private final int silenceFrames;
  /** Recent frame levels, oldest first, each later one louder (a sliding-window minimum). */
  private final java.util.ArrayDeque<double[]> quietest = new java.util.ArrayDeque<>();
  private boolean speaking;
  private int voicedFrames;
  private int unvoicedRun;
  private long frames;
  private long lastVoicedEndMs;

  public SpeechDetector(int sampleRateHz, int minSpeechMs, int silenceMs) {
    if (sampleRateHz < 8000 || minSpeechMs < FRAME_MS || silenceMs < FRAME_MS) {
      throw new IllegalArgumentException("sampleRateHz >= 8000, minSpeechMs and silenceMs >= " + FRAME_MS
          + " required; got " + sampleRateHz + ", " + minSpeechMs + ", " + silenceMs);
    }
    this.frameBytes = Pcm16.bytesFor(sampleRateHz, FRAME_MS);
    this.minSpeechFrames = minSpeechMs / FRAME_MS;
    this.silenceFrames = silenceMs / FRAME_MS;
  }

  public int frameBytes() {
    return frameBytes;
  }

  public boolean speaking() {
    return speaking;
  }

  /** How long it has been quiet (or never loud enough to be speech). */
  public long quietMs() {
    return (long) unvoicedRun * FRAME_MS;
  }

  /** Audio position at the end of the last voiced frame: where the speech ended, once it has. */
  public long lastVoicedEndMs() {
    return lastVoicedEndMs;
  }

  /** Audio position after the frames seen so far. */
  public long positionMs() {
    return frames * FRAME_MS;
  }

  /** Classifies one frame of exactly {@link #frameBytes()} bytes starting at {@code offset}. */
  public Transition accept(byte[] pcm, int offset) {
    frames++;
    double level = Pcm16.rmsDbfs(pcm, offset, frameBytes);
    boolean voiced = level > Math.max(ABSOLUTE_FLOOR_DBFS, background(level) + MARGIN_DB);
    if (voiced) {
      voicedFrames++;
      unvoicedRun = 0;
      lastVoicedEndMs = positionMs();
    } else if (++unvoicedRun > MAX_GAP_MS / FRAME_MS && !speaking) {
      voicedFrames = 0;
    }
    if (!speaking && voicedFrames >= minSpeechFrames) {
      speaking = true;
      return Transition.SPEECH_STARTED;
    }
    if (speaking && unvoicedRun >= silenceFrames) {
      speaking = false;
      voicedFrames = 0;
      return Transition.SPEECH_STOPPED;
    }
    return Transition.NONE;
  }

  /** The quietest level within the window, this frame included. */
  private double background(double level) {
    while (!quietest.isEmpty() && quietest.peekLast()[1] >= level) {
      quietest.removeLast();
    }
    quietest.addLast(new double[] {frames, level});
    while (quietest.peekFirst()[0] <= frames - BACKGROUND_WINDOW_MS / FRAME_MS) {
      quietest.removeFirst();
    }
    return quietest.peekFirst()[1];
  }

  /**
   * Starts in speech, as if {@code minSpeechMs} had already been heard: for a stream that continues
   * an utterance begun elsewhere. Silence then ends it as usual.
   */
  public void continueSpeech() {
    speaking = true;
    voicedFrames = minSpeechFrames;
  }

  /** Forgets the current utterance (after a commit), keeping the background estimate. */
  public void reset() {
    speaking = false;
    voicedFrames = 0;
    unvoicedRun = 0;
  }
}
