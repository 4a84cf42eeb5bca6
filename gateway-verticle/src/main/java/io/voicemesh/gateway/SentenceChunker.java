package io.voicemesh.gateway;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Cuts a stream of text deltas into sentences, so each can be spoken as soon as it is complete.
 * A sentence ends at {@code . ! ?} (with closing quotes or brackets) followed by white space, or at
 * a line break; a known abbreviation ("Dr.", "e.g.") or a lone initial does not end one. Text that
 * runs on for {@link #MAX_CHARS} without an end is cut at its last comma or space, so a model that
 * never punctuates still gets spoken.
 */
final class SentenceChunker {
  static final int MAX_CHARS = 240;
  private static final Set<String> ABBREVIATIONS = Set.of("mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st",
      "vs", "etc", "e.g", "i.e", "a.m", "p.m", "approx", "no", "fig", "inc", "ltd", "co", "mt");

  private final StringBuilder pending = new StringBuilder();

  /** Adds a delta; returns the sentences it completed, in order. */
  List<String> push(String delta) {
    pending.append(delta);
    List<String> sentences = new ArrayList<>();
    int end;
    while ((end = sentenceEnd()) > 0 || (end = runOnCut()) > 0) {
      String sentence = pending.substring(0, end).strip();
      pending.delete(0, end);
      if (!sentence.isEmpty()) {
        sentences.add(sentence);
      }
    }
    return sentences;
  }

  /** The text left when the stream ends, or empty. */
  String flush() {
    String rest = pending.toString().strip();
    pending.setLength(0);
    return rest;
  }

  /** Index just past the first complete sentence, or -1. */
  private int sentenceEnd() {
    for (int i = 0; i < pending.length(); i++) {
      char c = pending.charAt(i);
      if (c == '\n' && !pending.substring(0, i).isBlank()) {
        return i + 1;
      }
      if (c == '.' || c == '!' || c == '?') {
        int j = i + 1;
        while (j < pending.length() && "\"')]”’".indexOf(pending.charAt(j)) >= 0) {
          j++;
        }
        if (j < pending.length() && Character.isWhitespace(pending.charAt(j)) && !(c == '.' && abbreviationBefore(i))) {
          return j;
        }
      }
    }
    return -1;
  }

  private boolean abbreviationBefore(int dot) {
    int start = dot;
    while (start > 0 && !Character.isWhitespace(pending.charAt(start - 1))) {
      start--;
    }
    String word = pending.substring(start, dot).toLowerCase();
    return ABBREVIATIONS.contains(word) || (word.length() == 1 && Character.isLetter(word.charAt(0)));
  }

  private int runOnCut() {
    if (pending.length() < MAX_CHARS) {
      return -1;
    }
    int comma = pending.lastIndexOf(", ", MAX_CHARS);
    int space = pending.lastIndexOf(" ", MAX_CHARS);
    int cut = comma > MAX_CHARS / 3 ? comma + 1 : space > 0 ? space : MAX_CHARS;
    return cut;
  }
}
