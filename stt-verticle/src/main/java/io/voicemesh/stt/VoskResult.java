package io.voicemesh.stt;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * One Vosk result (a segment's words) read from its JSON: the best reading and the others the
 * recognizer scored within {@link #READING_MARGIN} of it. A recognizer set to give alternatives
 * answers {@code {"alternatives": [{"text", "confidence"}, …]}}, best first; one that is not,
 * {@code {"text": …}}; one whose lattice held no path, {@code null}.
 */
record VoskResult(String best, List<String> others) {
  /**
   * How far below the best reading's score another reading may be and still be read: the bundled
   * model's lattice beam ({@link VoskEngineProvider#LATTICE_BEAM}), in the same units. On the
   * turn-end bench's utterances the reading that ended on the word said lay up to 2.72 below the
   * best; a model of one's own with a wider beam would otherwise make end of turn read readings
   * the recognizer all but ruled out.
   */
  static final double READING_MARGIN = 3.0;
  static final VoskResult NOTHING = new VoskResult("", List.of());

  VoskResult {
    others = List.copyOf(others);
  }

  /** Whether the segment has no words: its best reading is empty. */
  boolean empty() {
    return best.isEmpty();
  }

  static VoskResult parse(String voskJson) {
    Object parsed;
    try {
      parsed = voskJson == null ? null : new JsonObject(voskJson);
    } catch (DecodeException notAnObject) {
      parsed = null;
    }
    if (!(parsed instanceof JsonObject result)) {
      return NOTHING;
    }
    JsonArray alternatives = result.getJsonArray("alternatives");
    if (alternatives == null || alternatives.isEmpty()) {
      return new VoskResult(result.getString("text", "").trim(), List.of());
    }
    JsonObject first = alternatives.getJsonObject(0);
    double bestScore = first.getDouble("confidence", 0.0);
    List<String> others = new ArrayList<>();
    for (int i = 1; i < alternatives.size(); i++) {
      JsonObject alternative = alternatives.getJsonObject(i);
      String text = alternative.getString("text", "").trim();
      if (!text.isEmpty() && bestScore - alternative.getDouble("confidence", bestScore) <= READING_MARGIN) {
        others.add(text);
      }
    }
    return new VoskResult(first.getString("text", "").trim(), others);
  }
}
