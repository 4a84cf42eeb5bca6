package io.voicemesh.gateway;

import io.voicemesh.api.audio.Pcm16;

/**
 * When each stretch of a connection's input audio arrived, by its position in the session's audio
 * (whichever STT node heard it) — so a position an STT event names ("speech ended at 2340 ms") becomes a
 * wall-clock time. Keeps the last {@link #CAPACITY} frames (10 s of 20 ms frames: a final
 * transcript names a position a silence-length ago), allocated on the first frame so an idle
 * connection costs nothing.
 */
final class AudioTimeline {
  static final int CAPACITY = 512;
  private long[] endMs;
  private long[] arrivedNanos;
  private int next;
  private int size;
  private long positionMs;
  /**
   * Counted in samples since the last rate change, so frames that are not whole milliseconds
   * (1024 samples at 48 kHz) do not drift from the STT node's positions.
   */
  private long samples;
  private long rateStartMs;
  private int rateHz;
  /** Positions up to here are no longer kept. */
  private long forgottenMs = -1;

  /** A frame of {@code bytes} arrived at {@code nanos}. */
  void forwarded(int rate, int bytes, long nanos) {
    if (endMs == null) {
      endMs = new long[CAPACITY];
      arrivedNanos = new long[CAPACITY];
    }
    if (rate != rateHz) {
      rateStartMs = positionMs;
      samples = 0;
      rateHz = rate;
    }
    samples += bytes / Pcm16.BYTES_PER_SAMPLE;
    positionMs = rateStartMs + samples * 1000 / rateHz;
    if (size == CAPACITY) {
      forgottenMs = endMs[next];
    }
    endMs[next] = positionMs;
    arrivedNanos[next] = nanos;
    next = (next + 1) % CAPACITY;
    size = Math.min(size + 1, CAPACITY);
  }

  /** Where the next frame starts: the end of the audio so far, in ms. */
  long positionMs() {
    return positionMs;
  }

  /** When the audio at {@code positionMs} arrived, or -1 when that is no longer (or not yet) known. */
  long arrivalOf(long positionMs) {
    if (positionMs <= forgottenMs) {
      return -1;
    }
    for (int i = 0; i < size; i++) {
      int at = Math.floorMod(next - size + i, CAPACITY);
      if (endMs[at] >= positionMs) {
        return arrivedNanos[at];
      }
    }
    return -1;
  }
}
