package io.voicemesh.gateway;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.voicemesh.api.audio.Pcm16;
import java.util.HashMap;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * Plays one turn's synthesized audio to the client strictly in order — sentence by sentence,
 * chunk by chunk, whatever order the chunks arrive in — and paced at real time with at most
 * {@code leadMs} sent ahead of what the client can have played. Pacing keeps "what was sent"
 * close to "what was heard", so an interruption stops the voice at once and the heard text is
 * known.
 *
 * <pre>
 * sentence 0: c0 c1 c2 (3 chunks, complete) │ sentence 1: c0 _ c2 …   → sends 0.0 0.1 0.2 1.0, waits for 1.1
 * </pre>
 */
final class AudioPlayout {
  /** Audio of one sentence as it arrives; {@code expected} is known once its synthesis is done. */
  private static final class SentenceAudio {
    final Map<Integer, Buffer> chunks = new HashMap<>();
    int expected = -1;
  }

  private final Vertx vertx;
  private final int rateHz;
  private final long leadMs;
  private final Handler<Buffer> output;
  private final IntConsumer onSentencePlayed;
  private final Runnable onDrained;
  private final Map<Integer, SentenceAudio> sentences = new HashMap<>();
  private int sentence;
  private int chunk;
  private int totalSentences = -1;
  private long sentBytes;
  private long clockStartNanos = -1;
  private long timer = -1;
  private boolean stopped;
  /** Held by {@link #pause}: nothing more is sent until {@link #resume}; what arrives is kept. */
  private boolean held;

  AudioPlayout(Vertx vertx, int rateHz, long leadMs, Handler<Buffer> output, IntConsumer onSentencePlayed,
      Runnable onDrained) {
    this.vertx = vertx;
    this.rateHz = rateHz;
    this.leadMs = leadMs;
    this.output = output;
    this.onSentencePlayed = onSentencePlayed;
    this.onDrained = onDrained;
  }

  void chunk(int sentenceIndex, int chunkIndex, Buffer pcm) {
    // A retried sentence repeats the chunks already played: they are skipped by index.
    boolean played = sentenceIndex < sentence || (sentenceIndex == sentence && chunkIndex < chunk);
    if (!stopped && !played) {
      audioOf(sentenceIndex).chunks.put(chunkIndex, pcm);
      pump();
    }
  }

  /** The sentence's synthesis ended after {@code chunks} chunks (0 when it produced nothing or failed). */
  void sentenceDone(int sentenceIndex, int chunks) {
    if (!stopped && sentenceIndex >= sentence) {
      audioOf(sentenceIndex).expected = chunks;
      pump();
    }
  }

  /** No sentence beyond {@code count - 1} will come. */
  void lastSentence(int count) {
    totalSentences = count;
    pump();
  }

  /** Milliseconds of audio sent so far this turn. */
  long sentMs() {
    return Pcm16.msFor(rateHz, sentBytes);
  }

  /**
   * Sends nothing more until {@link #resume}; the audio keeps arriving and waits. The client plays
   * out at most {@code leadMs} it already has, then falls silent.
   */
  void pause() {
    held = true;
    vertx.cancelTimer(timer);
    timer = -1;
  }

  /** Goes on where {@link #pause} stopped: the client ran dry, so its playback clock restarts now. */
  void resume() {
    if (held) {
      held = false;
      pump();
    }
  }

  /** Stops at once: nothing more is sent, whatever is queued is dropped. */
  void stop() {
    stopped = true;
    vertx.cancelTimer(timer);
    sentences.clear();
  }

  private SentenceAudio audioOf(int index) {
    return sentences.computeIfAbsent(index, i -> new SentenceAudio());
  }

  private void pump() {
    vertx.cancelTimer(timer);
    timer = -1;
    while (!stopped && !held) {
      if (totalSentences >= 0 && sentence >= totalSentences) {
        stopped = true;
        onDrained.run();
        return;
      }
      SentenceAudio current = sentences.get(sentence);
      if (current == null) {
        return;
      }
      // ">=": a sentence whose synthesis failed part-way is done with fewer chunks than were played.
      if (current.expected >= 0 && chunk >= current.expected) {
        sentences.remove(sentence);
        onSentencePlayed.accept(sentence);
        sentence++;
        chunk = 0;
        continue;
      }
      Buffer next = current.chunks.get(chunk);
      if (next == null) {
        return;
      }
      long aheadMs = aheadMs();
      if (aheadMs >= leadMs) {
        timer = vertx.setTimer(Math.max(1, aheadMs - leadMs + 1), id -> pump());
        return;
      }
      current.chunks.remove(chunk++);
      sentBytes += next.length();
      output.handle(next);
    }
  }

  /**
   * How far the audio sent runs ahead of the client's playback clock. When the client has run dry
   * (an underrun), its clock restarts from now: the next audio starts playing as it arrives.
   */
  private long aheadMs() {
    long now = System.nanoTime();
    long sent = sentMs();
    if (clockStartNanos < 0) {
      clockStartNanos = now;
    }
    long playedMs = (now - clockStartNanos) / 1_000_000;
    if (playedMs > sent) {
      clockStartNanos = now - sent * 1_000_000;
      playedMs = sent;
    }
    return sent - playedMs;
  }
}
