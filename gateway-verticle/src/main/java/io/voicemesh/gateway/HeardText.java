package io.voicemesh.gateway;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the user heard of an answer, to the word: the answer up to the last word whose audio was
 * entirely sent and — when the client reports playback with {@code playback.mark} — entirely
 * played.
 *
 * <p>Each sentence's audio starts where the one before it ended in the turn's audio; within it,
 * each word ends when the TTS engine says (FreeTTS knows), or — for an engine that cannot tell —
 * at its share of the sentence's audio by length. {@link #textAt} cuts the answer at any audio
 * position, so the same cut serves a client that truncates the answer itself.
 *
 * <pre>
 * turn audio  0 ──── sentence 0 ────┤1840 ──── sentence 1 ──── …
 * words            Once│upon│a│time│    The│sailor│watched│…
 * textAt(2500) = "Once upon a time. The sailor"   (sailor ends at 1840 + 610)
 * </pre>
 */
final class HeardText {
  private static final Pattern WORD = Pattern.compile("\\S+");

  /** A sentence of the answer: its text, where its words end in it (chars), and in its audio (ms) once known. */
  private static final class Sentence {
    final String text;
    final List<Integer> wordEndChars = new ArrayList<>();
    List<Long> wordEndsMs;

    Sentence(String text) {
      this.text = text;
      Matcher word = WORD.matcher(text);
      while (word.find()) {
        wordEndChars.add(word.end());
      }
    }

    void timed(long audioMs, List<Long> engineEndsMs) {
      if (engineEndsMs.size() == wordEndChars.size()) {
        wordEndsMs = List.copyOf(engineEndsMs);
        return;
      }
      List<Long> spread = new ArrayList<>();
      for (int end : wordEndChars) {
        spread.add(audioMs * end / Math.max(1, text.length()));
      }
      wordEndsMs = spread;
    }
  }

  private final List<Sentence> sentences = new ArrayList<>();
  /** Where each fully sent sentence ends in the turn's audio, in order. */
  private final List<Long> sentenceEndsMs = new ArrayList<>();
  /** The client's latest {@code playback.mark}: audio it has actually played; -1 until one comes. */
  private long playedMs = -1;

  /** The next sentence of the answer is being spoken. */
  void sentence(String text) {
    sentences.add(new Sentence(text));
  }

  /**
   * Sentence {@code index} is synthesized: {@code audioMs} of audio, its words ending at
   * {@code wordEndsMs} as the engine says (empty when it cannot tell).
   */
  void timed(int index, long audioMs, List<Long> wordEndsMs) {
    sentences.get(index).timed(audioMs, wordEndsMs);
  }

  /** All audio of the next sentence in order has been sent; the turn's audio sent so far is {@code endMs}. */
  void sentencePlayed(long endMs) {
    sentenceEndsMs.add(endMs);
  }

  /** The client says it has played {@code ms} of this turn's audio. */
  void playbackMark(long ms) {
    playedMs = Math.max(playedMs, ms);
  }

  /** What was heard once {@code sentMs} of the turn's audio was sent: by the client's marks when it sends them. */
  String heard(long sentMs) {
    return textAt(playedMs < 0 ? sentMs : Math.min(playedMs, sentMs));
  }

  /** The answer as far as its words are spoken in the first {@code audioMs} of the turn's audio. */
  String textAt(long audioMs) {
    StringBuilder heard = new StringBuilder();
    long startMs = 0;
    for (int i = 0; i < sentences.size() && i <= sentenceEndsMs.size(); i++) {
      Sentence sentence = sentences.get(i);
      boolean whole = i < sentenceEndsMs.size() && sentenceEndsMs.get(i) <= audioMs;
      String part = whole ? sentence.text : wordsWithin(sentence, audioMs - startMs);
      if (!part.isEmpty()) {
        heard.append(heard.length() == 0 ? "" : " ").append(part);
      }
      if (!whole) {
        break;
      }
      startMs = sentenceEndsMs.get(i);
    }
    return heard.toString();
  }

  /** The sentence's words that end within its first {@code ms} of audio; none while its timing is unknown. */
  private static String wordsWithin(Sentence sentence, long ms) {
    if (sentence.wordEndsMs == null) {
      return "";
    }
    int words = 0;
    while (words < sentence.wordEndsMs.size() && sentence.wordEndsMs.get(words) <= ms) {
      words++;
    }
    return words == 0 ? "" : sentence.text.substring(0, sentence.wordEndChars.get(words - 1));
  }
}
