package io.voicemesh.api.engine;

import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Decides when the user's turn is over, from the silence since the last voiced audio and the words
 * said so far. Words that sound complete end the turn after {@code minSilenceMs}; words that stop
 * where a sentence cannot (on "and", "the", "to", "because", "um", on "twelve times") end it only
 * after {@code maxSilenceMs}: the user is most likely still thinking of the rest.
 *
 * <pre>
 * "what is twelve times seven"      ──silence ≥ min──▶ ended
 * "what is twelve times seven and"  ──silence ≥ max──▶ ended (speech before that: the turn goes on)
 * </pre>
 * Erring towards "incomplete" costs only latency; erring towards "complete" cuts the user off, so
 * every doubtful ending (an auxiliary verb, an article, a contraction, another reading of the audio
 * that the recognizer found nearly as likely and that stops on such a word) counts as incomplete.
 * With {@code minSilenceMs == maxSilenceMs} the words play no part: silence alone decides.
 */
public final class EndOfTurn {

  /**
   * How soon a complete-sounding turn ends (the name OpenAI's {@code semantic_vad} uses). Each
   * level sets the minimum and maximum silence; {@code AUTO} is {@code MEDIUM}.
   */
  public enum Eagerness {
    LOW(400, 2_000), MEDIUM(200, 1_200), HIGH(120, 800), AUTO(200, 1_200);

    public final int minSilenceMs;
    public final int maxSilenceMs;

    Eagerness(int minSilenceMs, int maxSilenceMs) {
      this.minSilenceMs = minSilenceMs;
      this.maxSilenceMs = maxSilenceMs;
    }

    /** The level named {@code name} (any case), or null when there is none. */
    public static Eagerness named(String name) {
      for (Eagerness e : values()) {
        if (e.name().equalsIgnoreCase(name)) {
          return e;
        }
      }
      return null;
    }

    public String wire() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * Words after which an English sentence almost always goes on: conjunctions, articles, prepositions,
   * fillers, auxiliaries. Words that often end a sentence too ("that", "this", "like", "then", "well")
   * are left out: waiting on them would slow many complete turns.
   */
  static final Set<String> CONTINUATIONS = Set.of(
      // conjunctions
      "and", "or", "but", "so", "because", "if", "than", "when", "while", "although", "though", "unless",
      "until", "whether", "nor", "since",
      // articles, determiners, possessives
      "a", "an", "the", "my", "your", "his", "her", "our", "their", "its", "some", "every", "each", "another",
      // prepositions
      "to", "of", "in", "on", "at", "for", "from", "with", "by", "about", "into", "onto", "under", "between",
      "as", "through", "without", "during", "against", "toward", "towards", "per", "via", "versus",
      // fillers (Vosk writes FreeTTS's "um" as "i'm", below)
      "um", "uh", "uhm", "umm", "er", "erm", "ah", "hmm", "mm", "mhm",
      // auxiliaries and copulas ("yes it is" waits a little longer: a cost, not a cut)
      "is", "are", "was", "were", "am", "be", "been", "being", "will", "would", "can", "could", "should",
      "shall", "must", "might", "may", "do", "does", "did", "have", "has", "had",
      // subject contractions
      "i'm", "it's", "that's", "there's", "you're", "we're", "they're", "he's", "she's", "what's", "let's",
      "i'd", "i'll", "i've", "we'll", "you'll");

  /** Words that leave a number or a sum unfinished: "twelve times", "three hundred", "two point". */
  static final Set<String> MID_NUMBER = Set.of(
      "times", "plus", "minus", "divided", "multiplied", "point", "hundred", "thousand", "million", "billion",
      "equals");

  private final int minSilenceMs;
  private final int maxSilenceMs;

  /** {@code 0 < minSilenceMs <= maxSilenceMs}. */
  public EndOfTurn(int minSilenceMs, int maxSilenceMs) {
    if (minSilenceMs <= 0 || maxSilenceMs < minSilenceMs) {
      throw new IllegalArgumentException("0 < minSilenceMs <= maxSilenceMs required; got " + minSilenceMs + ", "
          + maxSilenceMs);
    }
    this.minSilenceMs = minSilenceMs;
    this.maxSilenceMs = maxSilenceMs;
  }

  /**
   * As a stream's settings ask ({@code SttOpen}, the worker's {@code CreateSession}): words decide
   * between the two silences, unless {@code minSilenceMs} is 0 (not given) or not below
   * {@code maxSilenceMs}, when silence alone does.
   */
  public static EndOfTurn forStream(int minSilenceMs, int maxSilenceMs) {
    return minSilenceMs <= 0 || minSilenceMs >= maxSilenceMs ? silenceOnly(maxSilenceMs)
        : new EndOfTurn(minSilenceMs, maxSilenceMs);
  }

  /** Silence alone ends the turn, after {@code silenceMs}. */
  public static EndOfTurn silenceOnly(int silenceMs) {
    return new EndOfTurn(silenceMs, silenceMs);
  }

  public int minSilenceMs() {
    return minSilenceMs;
  }

  public int maxSilenceMs() {
    return maxSilenceMs;
  }

  /** Whether the words matter at all (else every turn ends after the same silence). */
  public boolean readsWords() {
    return minSilenceMs < maxSilenceMs;
  }

  /** The silence after {@code words} that ends the turn. */
  public int silenceNeededMs(String words) {
    return silenceNeededMs(words, List.of());
  }

  /**
   * The silence after {@code words} that ends the turn, the recognizer having found
   * {@code otherReadings} of the same audio nearly as likely. If any of them stops where a sentence
   * cannot, the last word may be a continuation misheard ("how far as it too" beside "how far as
   * it to", "i was thinking arm" beside "i was thinking on"), so the turn waits as for one. A
   * recognizer unsure between two complete readings ("what is the day today", "… the day to day")
   * does not delay the turn: its doubt is about which words, not whether more will come.
   */
  public int silenceNeededMs(String words, List<String> otherReadings) {
    // No words yet is no answer yet: the speech may have just begun (a failover replay opens on the
    // silence before it), or be noise, whose empty end starts no turn either way.
    boolean doubtful = lastWord(words).isEmpty() || needsContinuation(words)
        || otherReadings.stream().anyMatch(EndOfTurn::needsContinuation);
    return readsWords() && doubtful ? maxSilenceMs : minSilenceMs;
  }

  /** Whether {@code silenceMs} of quiet after {@code words} ends the turn. */
  public boolean ended(long silenceMs, String words) {
    return ended(silenceMs, words, List.of());
  }

  /** Whether {@code silenceMs} of quiet after {@code words}, read also as {@code otherReadings}, ends the turn. */
  public boolean ended(long silenceMs, String words, List<String> otherReadings) {
    return silenceMs >= silenceNeededMs(words, otherReadings);
  }

  /**
   * Whether {@code words} stop where a sentence cannot: on a word that needs what follows, or in
   * the middle of a number or a sum.
   */
  public static boolean needsContinuation(String words) {
    String last = lastWord(words);
    return !last.isEmpty() && (CONTINUATIONS.contains(last) || MID_NUMBER.contains(last));
  }

  private static String lastWord(String words) {
    String trimmed = words == null ? "" : words.strip().toLowerCase(Locale.ROOT);
    // Punctuation an engine may add ("seven and," / "um...") says nothing about the word.
    int end = trimmed.length();
    while (end > 0 && !Character.isLetterOrDigit(trimmed.charAt(end - 1))) {
      end--;
    }
    int start = end;
    while (start > 0 && !Character.isWhitespace(trimmed.charAt(start - 1))) {
      start--;
    }
    return trimmed.substring(start, end);
  }

  @Override
  public String toString() {
    return "EndOfTurn[" + minSilenceMs + ".." + maxSilenceMs + " ms]";
  }
}
