package io.voicemesh.api.message;

import java.util.List;

/**
 * A sentence is fully synthesized: {@code chunks} chunks of PCM16LE at {@code sampleRateHz} were
 * sent by {@code node}. {@code warning}, when not null, is for the session: the sentence was not
 * spoken the way it should have been (its speech worker was lost and the embedded engine spoke it).
 * {@code wordEndsMs} says when each word of the sentence's text (split at white space) has been
 * spoken, in ms from the start of its audio; empty when the engine cannot tell.
 */
public record SynthesizeDone(int chunks, int sampleRateHz, long audioMs, String node, String warning,
    List<Long> wordEndsMs) {
  public SynthesizeDone {
    wordEndsMs = wordEndsMs == null ? List.of() : List.copyOf(wordEndsMs);
  }
}
