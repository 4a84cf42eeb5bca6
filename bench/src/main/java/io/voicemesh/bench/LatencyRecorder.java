package io.voicemesh.bench;

import java.util.Arrays;

/**
 * Collects latency samples (nanoseconds) from any thread while recording is on; bounded, so a
 * runaway load cannot exhaust the heap. Percentiles are computed over a sorted copy.
 */
final class LatencyRecorder {
  private static final int MAX_SAMPLES = 20_000_000;

  private long[] samples = new long[1 << 16];
  private int count;
  private long dropped;
  private volatile boolean recording;

  void start() {
    synchronized (this) {
      count = 0;
      dropped = 0;
    }
    recording = true;
  }

  void stop() {
    recording = false;
  }

  boolean recording() {
    return recording;
  }

  void record(long nanos) {
    if (!recording) {
      return;
    }
    synchronized (this) {
      if (count == samples.length) {
        if (count >= MAX_SAMPLES) {
          dropped++;
          return;
        }
        samples = Arrays.copyOf(samples, Math.min(MAX_SAMPLES, count * 2));
      }
      samples[count++] = nanos;
    }
  }

  synchronized int count() {
    return count;
  }

  synchronized Percentiles percentiles() {
    return Percentiles.of(Arrays.copyOf(samples, count));
  }

  /** Percentiles of a set of nanosecond samples. */
  record Percentiles(int count, long p50, long p95, long p99, long max) {
    static Percentiles of(long[] nanos) {
      long[] sorted = nanos.clone();
      Arrays.sort(sorted);
      return new Percentiles(sorted.length, at(sorted, 0.50), at(sorted, 0.95), at(sorted, 0.99),
          sorted.length == 0 ? 0 : sorted[sorted.length - 1]);
    }

    /** Nearest-rank percentile. */
    static long at(long[] sorted, double p) {
      if (sorted.length == 0) {
        return 0;
      }
      int rank = (int) Math.ceil(p * sorted.length);
      return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    boolean empty() {
      return count == 0;
    }

    double p50Ms() {
      return p50 / 1e6;
    }

    double p95Ms() {
      return p95 / 1e6;
    }

    double p99Ms() {
      return p99 / 1e6;
    }

    double maxMs() {
      return max / 1e6;
    }

    @Override
    public String toString() {
      return empty() ? "no samples"
          : String.format("n=%d p50=%.3f ms p95=%.3f ms p99=%.3f ms max=%.3f ms", count, p50Ms(), p95Ms(), p99Ms(), maxMs());
    }
  }
}
