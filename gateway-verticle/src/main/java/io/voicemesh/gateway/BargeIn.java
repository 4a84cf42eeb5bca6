package io.voicemesh.gateway;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Decides what the user's speech does to an answer being played. Speech pauses the answer at once
 * (what the client has buffered plays out, nothing more is sent); the words then decide:
 * <ul>
 *   <li>a word that is neither an acknowledgement nor a filler: a real interruption, the answer stops;</li>
 *   <li>an utterance of acknowledgements only ("yeah", "uh huh", "okay"): a backchannel, the answer
 *       goes on where it paused and the utterance is logged, not answered;</li>
 *   <li>no words {@code falseInterruptionMs} after the speech began, or an utterance of nothing but
 *       fillers or noise: a false interruption (a cough, a door), the answer goes on.</li>
 * </ul>
 * With {@code falseInterruptionMs} 0 any speech interrupts at once, as a plain barge-in does.
 * Plain object, one thread (the connection's event loop).
 */
final class BargeIn {
  /** What the caller does to the answer. */
  enum Action { NONE, PAUSE, RESUME, INTERRUPT }

  /** What a finished utterance said about the answer it overlapped. */
  enum Utterance {
    /** Words for the agent: a new turn (which ends the answer). */
    TURN,
    /** Acknowledgements only: logged, the answer goes on. */
    BACKCHANNEL,
    /** Nothing recognizable (noise, fillers): ignored, the answer goes on. */
    NOTHING
  }

  /** Heard as noise or hesitation: not enough to stop an answer, not enough to start a turn while one plays. */
  static final Set<String> FILLERS = Set.of("uh", "um", "er", "ah", "hm", "hmm", "huh", "the", "a");
  /** The default acknowledgements; each entry is a word or a phrase of words. */
  static final List<String> DEFAULT_BACKCHANNELS = List.of("yeah", "yes", "yep", "uh huh", "mm hmm", "mhm", "okay",
      "ok", "right", "sure", "i see", "got it", "alright", "all right");

  private final List<String> phrases;
  private final List<List<String>> backchannels;
  private final long falseInterruptionMs;
  private boolean paused;
  private boolean wordsHeard;

  BargeIn(List<String> backchannels, long falseInterruptionMs) {
    this.phrases = normalised(backchannels);
    this.backchannels = phrases.stream().map(BargeIn::words).toList();
    this.falseInterruptionMs = falseInterruptionMs;
  }

  /** The acknowledgements, normalised ("Uh-huh" → "uh huh"). */
  List<String> backchannels() {
    return phrases;
  }

  long falseInterruptionMs() {
    return falseInterruptionMs;
  }

  /** Speech began while an answer plays. */
  Action speechStarted() {
    if (falseInterruptionMs <= 0) {
      return Action.INTERRUPT;
    }
    paused = true;
    wordsHeard = false;
    return Action.PAUSE;
  }

  /** The recognizer's hypothesis for the utterance so far, while an answer plays. */
  Action partial(String text) {
    if (!paused) {
      return Action.NONE;
    }
    List<String> words = words(text);
    if (words.stream().anyMatch(w -> !FILLERS.contains(w))) {
      wordsHeard = true;
    }
    return backchannelOrFillers(words, true) ? Action.NONE : Action.INTERRUPT;
  }

  /** {@code falseInterruptionMs} after the speech began. */
  Action noWordsDeadline() {
    if (paused && !wordsHeard) {
      paused = false;
      return Action.RESUME;
    }
    return Action.NONE;
  }

  /** The utterance ended with {@code text}; the caller resumes the answer unless it is a turn. */
  Utterance finished(String text) {
    paused = false;
    List<String> words = words(text);
    if (words.isEmpty() || words.stream().allMatch(FILLERS::contains)) {
      return Utterance.NOTHING;
    }
    return backchannelOrFillers(words, false) ? Utterance.BACKCHANNEL : Utterance.TURN;
  }

  /** Whether the answer is paused, waiting for the words to decide. */
  boolean paused() {
    return paused;
  }

  /** The interruption was decided elsewhere (a new turn, a cancel): nothing is pending. */
  void reset() {
    paused = false;
    wordsHeard = false;
  }

  /**
   * Whether every word is a filler or part of an acknowledgement, in sequence ("okay yeah", "uh huh");
   * a {@code partial} hypothesis may also end half-way into one.
   */
  private boolean backchannelOrFillers(List<String> words, boolean partial) {
    int i = 0;
    outer:
    while (i < words.size()) {
      if (FILLERS.contains(words.get(i))) {
        i++;
        continue;
      }
      for (List<String> phrase : backchannels) {
        if (i + phrase.size() <= words.size() && words.subList(i, i + phrase.size()).equals(phrase)) {
          i += phrase.size();
          continue outer;
        }
      }
      // A partial may end half-way into a phrase ("uh" of "uh huh", "i" of "i see"): undecided yet.
      int from = i;
      if (partial && backchannels.stream().anyMatch(p -> p.size() > words.size() - from && p.subList(0, words.size() - from)
          .equals(words.subList(from, words.size())))) {
        return true;
      }
      return false;
    }
    return true;
  }

  /** Lower-case words without punctuation ("Uh-huh." → [uh, huh]). */
  static List<String> words(String text) {
    String cleaned = text.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9' ]+", " ").trim();
    return cleaned.isEmpty() ? List.of() : Arrays.stream(cleaned.split("\\s+")).toList();
  }

  /** The phrases as words without punctuation or case, each once, empty ones left out. */
  private static List<String> normalised(List<String> phrases) {
    return phrases.stream().map(p -> String.join(" ", words(p))).filter(p -> !p.isEmpty()).distinct()
        .collect(Collectors.toList());
  }
}
