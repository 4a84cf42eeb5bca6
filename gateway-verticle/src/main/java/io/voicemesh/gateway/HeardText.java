package io.voicemesh.gateway;

import java.util.ArrayList;
import java.util.List;

/**
 * What the user heard of an answer: the sentences whose audio was entirely sent and — when the
 * client reports playback with {@code playback.mark} — entirely played.
 */
final class HeardText {
  private final List<String> sentences = new ArrayList<>();
  /** Where each fully sent sentence ends in the turn's audio, in order. */
  private final List<Long> sentenceEndsMs = new ArrayList<>();
  /** The client's latest {@code playback.mark}: audio it has actually played; -1 until one comes. */
  private long playedMs = -1;

  /** The next sentence of the answer is being spoken. */
  void sentence(String text) {
    sentences.add(text);
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

  /** The answer as far as it is spoken in the first {@code audioMs} of the turn's audio. */
  String textAt(long audioMs) {
    int whole = 0;
    while (whole < sentenceEndsMs.size() && sentenceEndsMs.get(whole) <= audioMs) {
      whole++;
    }
    return String.join(" ", sentences.subList(0, whole));
  }
}
