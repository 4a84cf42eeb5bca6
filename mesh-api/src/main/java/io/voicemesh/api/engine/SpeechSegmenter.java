package io.voicemesh.api.engine;

import io.voicemesh.api.audio.SpeechDetector;

/**
 * Turns a session's audio, window by window, into speech events and utterance transcripts: voice
 * activity from a {@link SpeechDetector}, words from an {@link SttStream}. The STT verticle and
 * the speech worker both use it, so a turn ends, noise is dropped and a transcript is worded the
 * same whether the recognizer is embedded or behind gRPC. One thread at a time, in order.
 */
public final class SpeechSegmenter {

  /**
   * What the segmenter saw; positions are ms of the session's audio. Only the end of an utterance
   * must be heard; the other findings are ignored unless overridden.
   */
  @FunctionalInterface
  public interface Listener {
    default void speechStarted(long audioMs) {
    }

    /** The hypothesis for the whole current utterance changed. */
    default void partial(String text, long audioMs) {
    }

    default void speechStopped(long audioMs) {
    }

    /**
     * The utterance is over at {@code audioMs}; {@code text} may be empty. The speech in it ran
     * from {@code speechStartMs} to {@code speechEndMs} as far as the detector heard any.
     */
    void utteranceEnded(String text, long audioMs, long speechStartMs, long speechEndMs);

    /** The recognizer was reset in silence: nothing it holds comes from before {@code audioMs}. */
    default void checkpoint(long audioMs) {
    }
  }

  private final SttStream recognizer;
  private final SpeechDetector detector;
  private final int silenceMs;
  private final boolean endOnSilence;
  private final Listener listener;
  private String lastPartial = "";
  private boolean utteranceHasAudio;
  /** Where the current utterance's speech started; -1 before it has. */
  private long speechStartMs = -1;

  /**
   * With {@code endOnSilence}, {@code silenceMs} of quiet after speech ends the utterance, and
   * every {@code silenceMs} of quiet without speech resets the recognizer (a cough or a click never
   * becomes a transcript). Without it only {@link #endUtterance()} does either: the caller decides.
   */
  public SpeechSegmenter(SttStream recognizer, int sampleRateHz, int minSpeechMs, int silenceMs,
      boolean endOnSilence, Listener listener) {
    this.recognizer = recognizer;
    this.detector = new SpeechDetector(sampleRateHz, minSpeechMs, silenceMs);
    this.silenceMs = silenceMs;
    this.endOnSilence = endOnSilence;
    this.listener = listener;
  }

  /** The size of the windows {@link #accept} takes: 20 ms of audio. */
  public int windowBytes() {
    return detector.frameBytes();
  }

  /** Where the audio seen so far ends, in ms. */
  public long positionMs() {
    return detector.positionMs();
  }

  /** Whether audio arrived since the last end of an utterance (or reset in silence). */
  public boolean utteranceOpen() {
    return utteranceHasAudio;
  }

  /**
   * The audio to come continues an utterance already under way (see {@code SttOpen.inSpeech}): it is
   * speech from its first window, so partials are reported at once. No {@code speechStarted} is
   * reported for it: whoever asked already told its client.
   */
  public void continueSpeech() {
    detector.continueSpeech();
    speechStartMs = 0;
  }

  /** One window of exactly {@link #windowBytes()} bytes. */
  public void accept(byte[] window) {
    SpeechDetector.Transition transition = detector.accept(window, 0);
    if (transition == SpeechDetector.Transition.SPEECH_STARTED) {
      speechStartMs = detector.positionMs();
      listener.speechStarted(speechStartMs);
    }
    utteranceHasAudio = true;
    String hypothesis = recognizer.accept(window, window.length);
    if (detector.speaking() && !hypothesis.isEmpty() && !hypothesis.equals(lastPartial)) {
      lastPartial = hypothesis;
      listener.partial(hypothesis, detector.positionMs());
    }
    if (transition == SpeechDetector.Transition.SPEECH_STOPPED) {
      listener.speechStopped(detector.positionMs());
      if (endOnSilence) {
        endUtterance();
      }
    } else if (endOnSilence && !detector.speaking() && detector.quietMs() > 0
        && detector.quietMs() % silenceMs < SpeechDetector.FRAME_MS) {
      // Every silenceMs without speech, whatever the recognizer heard never became speech (a
      // cough, a click, noise): drop it, so it neither starts a turn nor leaks into the next
      // transcript. The recognizer keeps at most that much audio from before speech begins.
      recognizer.finish();
      utteranceHasAudio = false;
      listener.checkpoint(detector.positionMs());
    }
  }

  /** Ends the current utterance now (silence, a commit, the caller's own turn detection). */
  public void endUtterance() {
    String text = utteranceHasAudio ? recognizer.finish() : "";
    if (detector.speaking()) {
      listener.speechStopped(detector.positionMs());
    }
    long startMs = Math.max(0, speechStartMs);
    speechStartMs = -1;
    detector.reset();
    utteranceHasAudio = false;
    lastPartial = "";
    listener.utteranceEnded(text, detector.positionMs(), startMs, detector.lastVoicedEndMs());
  }
}
