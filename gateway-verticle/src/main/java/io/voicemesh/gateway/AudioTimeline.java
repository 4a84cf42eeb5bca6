package io.voicemesh.gateway;

import io.voicemesh.api.audio.Pcm16;

/**
 * When each stretch of a connection's input audio arrived, by its position in the audio the STT
 * stream has received — so a position an STT event names ("speech ended at 2340 ms") becomes a
 * wall-clock time. Keeps the last {@link #CAPACITY} frames.
 */
final class AudioTimeline {
  static final int CAPACITY = 2_048;
  private final long[] endMs = new long[CAPACITY];
  private final long[] arrivedNanos = new long[CAPACITY];
  private int next;
  private int size;
  private long positionMs;

  /** A frame of {@code bytes} that arrived at {@code nanos} went to the STT stream. */
  void forwarded(int rateHz, int bytes, long nanos) {
    positionMs += Pcm16.msFor(rateHz, bytes);
    endMs[next] = positionMs;
    arrivedNanos[next] = nanos;
    next = (next + 1) % CAPACITY;
    size = Math.min(size + 1, CAPACITY);
  }

  /** When the audio at {@code positionMs} arrived, or -1 when that is no longer (or not yet) known. */
  long arrivalOf(long positionMs) {
    for (int i = 0; i < size; i++) {
      int at = Math.floorMod(next - size + i, CAPACITY);
      if (endMs[at] >= positionMs) {
        return i == 0 && positionMs < endMs[at] - 1_000 ? -1 : arrivedNanos[at];
      }
    }
    return -1;
  }

  /** A new STT stream counts positions from zero again. */
  void reset() {
    next = 0;
    size = 0;
    positionMs = 0;
  }
}
