package io.voicemesh.stt;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.engine.SttEngine;
import io.voicemesh.api.engine.SttStream;
import java.io.IOException;
import org.vosk.Model;
import org.vosk.Recognizer;

/** One shared Vosk model; a {@link Recognizer} per stream at a time, kept between streams in a {@link RecognizerPool}. */
final class VoskEngine implements SttEngine {
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
    /** Vosk's confidence in the utterance's last word so far (1 before any). */
    private double lastWordConfidence = 1;
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

    /** Vosk's final result of the audio so far becomes a segment of the utterance, as its own pauses do. */
    @Override
    public Settled settle() {
      appendResult(recognizer.getFinalResult());
      return new Settled(segments.toString(), lastWordConfidence);
    }

    @Override
    public String finish() {
      appendResult(recognizer.getFinalResult());
      String turn = segments.toString();
      segments.setLength(0);
      lastWordConfidence = 1;
      return turn;
    }

    /** A segment's result: its text, and its words' confidences (the recognizer is set to give them). */
    private void appendResult(String voskJson) {
      JsonObject result = new JsonObject(voskJson);
      append(result.getString("text", "").trim());
      JsonArray words = result.getJsonArray("result");
      if (words != null && !words.isEmpty()) {
        lastWordConfidence = words.getJsonObject(words.size() - 1).getDouble("conf", 1.0);
      }
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
