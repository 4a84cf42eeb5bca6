package io.voicemesh.api.engine;

import io.voicemesh.api.audio.SpeechDetector;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a session's audio, window by window, into speech events and utterance transcripts: voice
 * activity from a {@link SpeechDetector}, words from an {@link SttStream}, the end of a turn from
 * {@link EndOfTurn}. The STT verticle and the speech worker both use it, so a turn ends, noise is
 * dropped and a transcript is worded the same whether the recognizer is embedded or behind gRPC.
 * One thread at a time, in order.
 *
 * <p>Once a pause reaches the minimum silence, the recognizer is asked to {@linkplain SttStream#settle()
 * settle} (once per pause): its partial hypothesis can trail the speech by half a second, so the
 * last word (the "and" that makes the turn go on) is often missing from it when the decision is due.
 * A recognizer that cannot settle is judged on its partial, and a complete-sounding one only after
 * {@link #UNSETTLED_LAG_MS} more.
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

  /** How far a partial hypothesis may trail the speech (Vosk: two 240 ms decoding steps, less the first). */
  static final int UNSETTLED_LAG_MS = 300;
  /** Sound that never became speech is dropped after this much quiet at most (see {@link #accept}). */
  static final int QUIET_RESET_MS = 600;
  private static final Logger LOG = LoggerFactory.getLogger(SpeechSegmenter.class);

  private final SttStream recognizer;
  private final SpeechDetector detector;
  private final EndOfTurn endOfTurn;
  private final int quietResetMs;
  private final boolean endOnSilence;
  private final Listener listener;
  private String lastPartial = "";
  /** The recognizer settled in the current pause: true, or false, or null before it was asked. */
  private Boolean settledThisPause;
  /** The recognizer's other readings of the words when it settled (none when it could not say). */
  private List<String> otherReadings = List.of();
  private boolean utteranceHasAudio;
  /** Where the current utterance's speech started; -1 before it has. */
  private long speechStartMs = -1;

  /** Silence alone ends an utterance, after {@code silenceMs}: see the other constructor. */
  public SpeechSegmenter(SttStream recognizer, int sampleRateHz, int minSpeechMs, int silenceMs,
      boolean endOnSilence, Listener listener) {
    this(recognizer, sampleRateHz, minSpeechMs, EndOfTurn.silenceOnly(silenceMs), endOnSilence, listener);
  }

  /**
   * With {@code endOnSilence}, a pause after speech ends the utterance when {@code endOfTurn} says
   * so (after its maximum silence at the latest), and every {@link #QUIET_RESET_MS} (or the maximum
   * silence, if shorter) of quiet without speech resets the recognizer (a cough or a click never
   * becomes a transcript). Without it only {@link #endUtterance()} does either: the caller decides.
   */
  public SpeechSegmenter(SttStream recognizer, int sampleRateHz, int minSpeechMs, EndOfTurn endOfTurn,
      boolean endOnSilence, Listener listener) {
    this.recognizer = recognizer;
    this.detector = new SpeechDetector(sampleRateHz, minSpeechMs, endOfTurn.maxSilenceMs());
    this.endOfTurn = endOfTurn;
    this.quietResetMs = Math.min(QUIET_RESET_MS, endOfTurn.maxSilenceMs());
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
    hypothesis(recognizer.accept(window, window.length));
    if (transition == SpeechDetector.Transition.SPEECH_STOPPED) {
      listener.speechStopped(detector.positionMs());
      if (endOnSilence) {
        endUtterance();
      }
    } else if (endOnSilence && detector.speaking() && pauseEndsTurn()) {
      endUtterance();
    } else if (endOnSilence && !detector.speaking() && detector.quietMs() > 0
        && detector.quietMs() % quietResetMs < SpeechDetector.FRAME_MS) {
      // Every quietResetMs without speech, whatever the recognizer heard never became speech (a
      // cough, a click, noise): drop it, so it neither starts a turn nor leaks into the next
      // transcript. The recognizer keeps at most that much audio from before speech begins.
      recognizer.finish();
      utteranceHasAudio = false;
      listener.checkpoint(detector.positionMs());
    }
  }

  private void hypothesis(String text) {
    if (detector.speaking() && text != null && !text.isEmpty() && !text.equals(lastPartial)) {
      lastPartial = text;
      listener.partial(text, detector.positionMs());
    }
  }

  /** Whether the pause under way, after the words said so far, ends the turn before the maximum silence. */
  private boolean pauseEndsTurn() {
    long quietMs = detector.quietMs();
    if (quietMs == 0) {
      settledThisPause = null;
      return false;
    }
    if (quietMs < endOfTurn.minSilenceMs() || !endOfTurn.readsWords()) {
      return false;
    }
    if (settledThisPause == null) {
      SttStream.Settled settled = recognizer.settle();
      settledThisPause = settled != null;
      otherReadings = settled == null ? List.of() : settled.otherReadings();
      hypothesis(settled == null ? null : settled.text());
    }
    long lagMs = settledThisPause ? 0 : UNSETTLED_LAG_MS;
    boolean ended = endOfTurn.ended(Math.min(quietMs - lagMs, endOfTurn.maxSilenceMs()), lastPartial, otherReadings);
    if (ended) {
      LOG.debug("turn ends after {} ms of quiet on \"{}\" (other readings {}, settled {})", quietMs, lastPartial,
          otherReadings, settledThisPause);
    }
    return ended;
  }

  /**
   * The words of the current utterance up to here: settled by the recognizer (see
   * {@link SttStream#settle()}), or its last hypothesis if it cannot settle.
   */
  public SttStream.Settled settle() {
    SttStream.Settled settled = recognizer.settle();
    hypothesis(settled == null ? null : settled.text());
    return settled != null ? settled : new SttStream.Settled(lastPartial);
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
    settledThisPause = null;
    otherReadings = List.of();
    listener.utteranceEnded(text, detector.positionMs(), startMs, detector.lastVoicedEndMs());
  }
}
