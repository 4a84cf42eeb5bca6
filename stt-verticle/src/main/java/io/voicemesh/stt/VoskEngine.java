package io.voicemesh.stt;

import io.vertx.core.json.JsonObject;
import io.voicemesh.api.audio.Pcm16;
import io.voicemesh.api.engine.SttEngine;
import io.voicemesh.api.engine.SttStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import org.vosk.Model;
import org.vosk.Recognizer;

/**
 * One shared Vosk model, and {@link Recognizer}s kept in a {@link RecognizerPool}. A stream holds
 * one only while its audio is not quiet: a conversation is mostly the user listening, and a
 * recognizer held through that decodes silence (CPU) and grows its decoding graph per stream
 * (native memory, up to ≈ 90 MB each; docs/BENCHMARKS.md, "Soak"). So a few recognizers serve many
 * streams, each recognizer meets more speech, and its graph stops growing sooner.
 */
final class VoskEngine implements SttEngine {
  /**
   * How many readings a stream asks for when it settles. The model's lattice beam keeps them near
   * the best ({@link VoskEngineProvider#LATTICE_BEAM}, {@link VoskResult#READING_MARGIN}); the reading
   * that ends on the word said can come late: "what is ten plus" gave eight readings ending on
   * "last", "lost" or "blast" before "what is to and plus".
   */
  static final int READINGS = 30;
  /**
   * Audio below this level (RMS in PCM16 units: −50 dBFS) is quiet: no recognizer needed. Speech is
   * far above it; a noisy line stays above it, and its stream keeps its recognizer as before.
   */
  static final double QUIET_RMS = 32768 * Math.pow(10, -50 / 20.0);
  /** Quiet audio kept and decoded ahead of the first louder chunk, so a soft onset is heard whole. */
  static final int PRE_ROLL_MS = 500;
  /**
   * Quiet this long and the recognizer goes back, its segment final (n-best kept for the end of the
   * turn): longer than the pauses at which the mesh settles a turn, so those find it still held.
   */
  static final int RELEASE_AFTER_QUIET_MS = 2_000;
  /** At the end of an utterance the recognizer goes back if the audio has been quiet this long, else it is kept: the user goes on. */
  static final int RELEASE_AT_FINISH_QUIET_MS = 300;
  private final Model model;
  private final RecognizerPool recognizers;

  VoskEngine(Model model, RecognizerPool recognizers) {
    this.model = model;
    this.recognizers = recognizers;
  }

  @Override
  public SttStream open(int sampleRateHz) throws IOException {
    return new VoskStream(recognizers, sampleRateHz);
  }

  @Override
  public void close() {
    recognizers.close();
    model.close();
  }

  /**
   * Vosk ends segments on its own pauses; the mesh decides where a turn ends, so segments are
   * collected until {@link #finish()} and every hypothesis covers the whole turn. A recognizer is
   * taken at the first chunk that is not quiet and given back after a quiet stretch; a segment
   * ends there, as at Vosk's own pauses, so the utterance reads the same.
   */
  private static final class VoskStream implements SttStream {
    private final RecognizerPool pool;
    private final int rateHz;
    /** The recognizer decoding this stream's audio; null in a quiet stretch. */
    private RecognizerPool.Pooled pooled;
    /** Quiet audio no recognizer has decoded, the last {@link #PRE_ROLL_MS} of it. */
    private final ArrayDeque<byte[]> preRoll = new ArrayDeque<>();
    private int preRollBytes;
    /** Quiet audio the recognizer decoded since the last chunk that was not quiet. */
    private int quietBytes;
    private final StringBuilder segments = new StringBuilder();
    /** Vosk's other readings of the utterance so far, from its last segment with words (none before any). */
    private List<String> otherReadings = List.of();
    private boolean closed;

    VoskStream(RecognizerPool pool, int rateHz) {
      this.pool = pool;
      this.rateHz = rateHz;
    }

    @Override
    public String accept(byte[] pcm, int length) {
      boolean quiet = quiet(pcm, length);
      if (pooled == null) {
        if (quiet) {
          keepForPreRoll(pcm, length);
          return segments.toString();
        }
        take();
      }
      quietBytes = quiet ? quietBytes + length : 0;
      String hypothesis = decode(pcm, length);
      if (quietBytes >= Pcm16.bytesFor(rateHz, RELEASE_AFTER_QUIET_MS)) {
        // With the n-best, which a later settle() reports: it has no recognizer to ask.
        endSegment(true);
        giveBack();
        return segments.toString();
      }
      return hypothesis;
    }

    private void take() {
      try {
        pooled = pool.take(rateHz);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      quietBytes = 0;
      for (byte[] before = preRoll.poll(); before != null; before = preRoll.poll()) {
        decode(before, before.length);
      }
      preRollBytes = 0;
    }

    /**
     * Vosk's final result of the audio so far becomes a segment of the utterance, as its own pauses
     * do; {@code withReadings}: with the recognizer's n-best, for end of turn to read. Every other
     * result is worded by Vosk's minimum-Bayes-risk reading of its lattice: with alternatives on,
     * Vosk gives the top path instead, which can hang on a few hundredths ("the calculator times
     * nine" 0.05 below "the calculate eight times nine") and flipped a transcript between test runs.
     */
    private void endSegment(boolean withReadings) {
      Recognizer recognizer = pooled.recognizer;
      recognizer.setMaxAlternatives(withReadings ? READINGS : 0);
      try {
        appendResult(recognizer.getFinalResult());
      } finally {
        recognizer.setMaxAlternatives(0);
      }
    }

    private void giveBack() {
      pool.giveBack(pooled);
      pooled = null;
    }

    private void keepForPreRoll(byte[] pcm, int length) {
      preRoll.add(Arrays.copyOf(pcm, length));
      preRollBytes += length;
      int limit = Pcm16.bytesFor(rateHz, PRE_ROLL_MS);
      while (preRollBytes - preRoll.peek().length >= limit) {
        preRollBytes -= preRoll.poll().length;
      }
    }

    private static boolean quiet(byte[] pcm, int length) {
      int samples = length / 2;
      double sum = 0;
      for (int i = 0; i < samples * 2; i += 2) {
        int sample = (short) ((pcm[i] & 0xff) | (pcm[i + 1] << 8));
        sum += (double) sample * sample;
      }
      return samples == 0 || Math.sqrt(sum / samples) < QUIET_RMS;
    }

    private String decode(byte[] pcm, int length) {
      Recognizer recognizer = pooled.recognizer;
      pooled.decoded(length);
      if (recognizer.acceptWaveForm(pcm, length)) {
        appendResult(recognizer.getResult());
        return segments.toString();
      }
      return join(segments.toString(), text(recognizer.getPartialResult(), "partial"));
    }

    /** In a quiet stretch the segment was ended, with its n-best, when the recognizer went back. */
    @Override
    public Settled settle() {
      if (pooled != null) {
        endSegment(true);
      }
      return new Settled(segments.toString(), otherReadings);
    }

    @Override
    public String finish() {
      if (pooled != null) {
        endSegment(false);
        if (quietBytes >= Pcm16.bytesFor(rateHz, RELEASE_AT_FINISH_QUIET_MS)) {
          giveBack();
        }
      }
      String turn = segments.toString();
      segments.setLength(0);
      otherReadings = List.of();
      return turn;
    }

    /**
     * A segment's result: its best reading joins the utterance; the others, each after the segments
     * before, are the utterance's other readings (none unless the result was asked for with
     * alternatives, as {@link #settle()} does). A segment whose best reading has no words (a breath, the silence after a segment Vosk ended
     * itself) adds nothing and keeps the readings of the last one with words.
     */
    private void appendResult(String voskJson) {
      VoskResult result = VoskResult.parse(voskJson);
      if (result.empty()) {
        return;
      }
      String before = segments.toString();
      append(result.best());
      otherReadings = result.others().stream().map(reading -> join(before, reading)).toList();
    }

    @Override
    public void close() {
      if (!closed) {
        closed = true;
        if (pooled != null) {
          giveBack();
        }
      }
    }

    private void append(String text) {
      String joined = join(segments.toString(), text);
      segments.setLength(0);
      segments.append(joined);
    }

    private static String join(String a, String b) {
      return a.isEmpty() ? b : b.isEmpty() ? a : a + " " + b;
    }

    private static String text(String voskJson, String field) {
      return new JsonObject(voskJson).getString(field, "").trim();
    }
  }
}
