package io.voicemesh.stt;

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
        append(text(recognizer.getResult(), "text"));
        return segments.toString();
      }
      return join(segments.toString(), text(recognizer.getPartialResult(), "partial"));
    }

    /** Vosk's final result of the audio so far becomes a segment of the utterance, as its own pauses do. */
    @Override
    public String settle() {
      append(text(recognizer.getFinalResult(), "text"));
      return segments.toString();
    }

    @Override
    public String finish() {
      append(text(recognizer.getFinalResult(), "text"));
      String turn = segments.toString();
      segments.setLength(0);
      return turn;
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
