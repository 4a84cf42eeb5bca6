package io.voicemesh.api.audio;

import java.util.Arrays;

/**
 * Changes the sample rate of a PCM16 stream with a polyphase windowed-sinc filter: the rates'
 * ratio is reduced to {@code up/down}, each output sample lies at one of {@code up} fractional
 * positions between input samples, and each position has its own precomputed filter (a sinc cut
 * off just below the lower rate's Nyquist frequency, under a Blackman window, 16 zero crossings
 * each side). Unlike linear interpolation it neither aliases what lies above the new Nyquist
 * frequency back into speech nor dulls the highs below it.
 *
 * <p>Streaming: feed the audio chunk by chunk with {@link #process}; the filter's look-ahead is
 * held back until the next chunk or {@link #flush}, so chunk boundaries leave no trace. N input
 * samples give {@code ceil(N · up / down)} output samples in all. One stream per instance, one
 * thread at a time.
 */
public final class Resampler {
  private static final int ZERO_CROSSINGS = 16;
  /** The pass band ends this far below the lower Nyquist frequency, where the transition band begins. */
  private static final double CUTOFF = 0.92;

  private final int up;
  private final int down;
  /** Input samples each side of an output position that the filter reads. */
  private final int half;
  /** {@code phases[p][j]}: the weight of input sample {@code k0 - half + 1 + j} for an output at {@code k0 + p/up}. */
  private final float[][] phases;
  /** Input not yet consumed: {@code pending[0]} is input sample number {@code base}. */
  private float[] pending = new float[0];
  private int pendingLength;
  private long base;
  private long inputCount;
  private long nextOutput;
  private final boolean passThrough;

  public Resampler(int fromHz, int toHz) {
    if (fromHz <= 0 || toHz <= 0) {
      throw new IllegalArgumentException("sample rates must be positive: " + fromHz + " → " + toHz);
    }
    int gcd = gcd(fromHz, toHz);
    this.up = toHz / gcd;
    this.down = fromHz / gcd;
    this.passThrough = up == down;
    double cutoff = CUTOFF * Math.min(1.0, (double) up / down);
    this.half = (int) Math.ceil(ZERO_CROSSINGS / cutoff);
    this.phases = new float[passThrough ? 0 : up][2 * half];
    for (int p = 0; p < phases.length; p++) {
      double frac = (double) p / up;
      double sum = 0;
      for (int j = 0; j < 2 * half; j++) {
        double t = frac - (j - half + 1); // distance from the output position to this input sample
        double weight = cutoff * sinc(cutoff * t) * blackman(t / half);
        phases[p][j] = (float) weight;
        sum += weight;
      }
      for (int j = 0; j < 2 * half; j++) {
        phases[p][j] /= (float) sum; // unity gain at 0 Hz for every phase
      }
    }
    // The first outputs read input before the stream began: silence.
    append(new float[half - 1], half - 1);
    base = -(half - 1);
  }

  /** The resampled audio that {@code pcm} (little-endian PCM16) completes; an odd trailing byte is dropped. */
  public byte[] process(byte[] pcm) {
    int samples = pcm.length / Pcm16.BYTES_PER_SAMPLE;
    if (passThrough) {
      return pcm.length % 2 == 0 ? pcm : Arrays.copyOf(pcm, samples * Pcm16.BYTES_PER_SAMPLE);
    }
    float[] in = new float[samples];
    for (int i = 0; i < samples; i++) {
      in[i] = Pcm16.sample(pcm, i * Pcm16.BYTES_PER_SAMPLE);
    }
    append(in, samples);
    inputCount += samples;
    return produce();
  }

  /** The rest of the stream: the outputs that waited for look-ahead, with silence after the end. */
  public byte[] flush() {
    if (passThrough) {
      return new byte[0];
    }
    append(new float[half], half);
    return produce();
  }

  /** Every output whose position lies within the input so far and whose look-ahead has arrived. */
  private byte[] produce() {
    long limit = ceilDiv(inputCount * up, down);
    long lastKnown = base + pendingLength - 1; // padding included
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    while (nextOutput < limit) {
      long position = nextOutput * down;
      long k0 = Math.floorDiv(position, up);
      if (k0 + half > lastKnown) {
        break; // its look-ahead has not arrived yet
      }
      float[] weights = phases[(int) (position - k0 * up)];
      int from = (int) (k0 - half + 1 - base);
      double sum = 0;
      for (int j = 0; j < weights.length; j++) {
        sum += weights[j] * pending[from + j];
      }
      int value = (int) Math.max(Short.MIN_VALUE, Math.min(Short.MAX_VALUE, Math.round(sum)));
      out.write(value);
      out.write(value >> 8);
      nextOutput++;
    }
    discardConsumed();
    return out.toByteArray();
  }

  /** Drops the input no future output reads. */
  private void discardConsumed() {
    long k0 = Math.floorDiv(nextOutput * down, up);
    int drop = (int) Math.max(0, Math.min(pendingLength, k0 - half + 1 - base));
    if (drop > 0) {
      System.arraycopy(pending, drop, pending, 0, pendingLength - drop);
      pendingLength -= drop;
      base += drop;
    }
  }

  private void append(float[] samples, int count) {
    if (pendingLength + count > pending.length) {
      pending = Arrays.copyOf(pending, Math.max(2 * pending.length, pendingLength + count));
    }
    System.arraycopy(samples, 0, pending, pendingLength, count);
    pendingLength += count;
  }

  private static double sinc(double x) {
    return x == 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
  }

  /** The Blackman window over {@code [-1, 1]}. */
  private static double blackman(double x) {
    if (Math.abs(x) >= 1) {
      return 0;
    }
    double a = Math.PI * (x + 1); // 0 … 2π across the window
    return 0.42 - 0.5 * Math.cos(a) + 0.08 * Math.cos(2 * a);
  }

  private static int gcd(int a, int b) {
    return b == 0 ? a : gcd(b, a % b);
  }

  private static long ceilDiv(long a, long b) {
    return -Math.floorDiv(-a, b);
  }
}
