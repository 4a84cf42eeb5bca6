package io.voicemesh.stt;

import io.vertx.core.json.JsonObject;
import io.voicemesh.api.engine.SttEngine;
import io.voicemesh.api.engine.SttStream;
import java.io.IOException;
import java.util.List;
import org.vosk.Model;
import org.vosk.Recognizer;

/** One shared Vosk model; a {@link Recognizer} per stream at a time, kept between streams in a {@link RecognizerPool}. */
final class VoskEngine implements SttEngine {
  /**
   * How many readings a stream asks for when it settles. The model's lattice beam keeps them near
   * the best ({@link VoskEngineProvider#LATTICE_BEAM}, {@link VoskResult#READING_MARGIN}); the reading
   * that ends on the word said can come late: "what is ten plus" gave eight readings ending on
   * "last", "lost" or "blast" before "what is to and plus".
   */
  static final int READINGS = 30;
  private final Model model;
  private final RecognizerPool recognizers;

  VoskEngine(Model model, RecognizerPool recognizers) {
    this.model = model;
    this.recognizers = recognizers;
  }

  @Override
  public SttStream open(int sampleRateHz) throws IOException {
    return new VoskStream(recognizers.take(sampleRateHz), recognizers);
  }

  @Override
  public void close() {
    recognizers.close();
    model.close();
  }

  /**
   * Vosk ends segments on its own pauses; the mesh decides where a turn ends, so segments are
   * collected until {@link #finish()} and every hypothesis covers the whole turn.
   */
  private static final class VoskStream implements SttStream {
    private final RecognizerPool.Pooled pooled;
    private final Recognizer recognizer;
    private final RecognizerPool pool;
    private final StringBuilder segments = new StringBuilder();
    /** Vosk's other readings of the utterance so far, from its last segment with words (none before any). */
    private List<String> otherReadings = List.of();
    private boolean closed;

    VoskStream(RecognizerPool.Pooled pooled, RecognizerPool pool) {
      this.pooled = pooled;
      this.recognizer = pooled.recognizer;
      this.pool = pool;
    }

    @Override
    public String accept(byte[] pcm, int length) {
      pooled.decoded(length);
      if (recognizer.acceptWaveForm(pcm, length)) {
        appendResult(recognizer.getResult());
        return segments.toString();
      }
      return join(segments.toString(), text(recognizer.getPartialResult(), "partial"));
    }

    /**
     * Vosk's final result of the audio so far becomes a segment of the utterance, as its own pauses
     * do; this one result gives the recognizer's n-best, for end of turn to read. Every other result
     * is worded by Vosk's minimum-Bayes-risk reading of its lattice: with alternatives on, Vosk gives
     * the top path instead, which can hang on a few hundredths ("the calculator times nine" 0.05
     * below "the calculate eight times nine") and flipped a transcript between test runs.
     */
    @Override
    public Settled settle() {
      recognizer.setMaxAlternatives(READINGS);
      try {
        appendResult(recognizer.getFinalResult());
      } finally {
        recognizer.setMaxAlternatives(0);
      }
      return new Settled(segments.toString(), otherReadings);
    }

    @Override
    public String finish() {
      appendResult(recognizer.getFinalResult());
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
        pool.giveBack(pooled);
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
