package io.voicemesh.api.audio;

/**
 * Mono signed 16-bit PCM, little-endian unless a method says otherwise: the only audio format on
 * the wire and on the event bus.
 */
public final class Pcm16 {
  public static final int BYTES_PER_SAMPLE = 2;
  /** The default input and output rate of a session. */
  public static final int DEFAULT_RATE_HZ = 16_000;
  private static final double FULL_SCALE = 32768.0;

  private Pcm16() {
  }

  /** Bytes of {@code ms} milliseconds of audio, rounded down to a whole sample. */
  public static int bytesFor(int rateHz, int ms) {
    return (int) ((long) rateHz * ms / 1000) * BYTES_PER_SAMPLE;
  }

  public static long msFor(int rateHz, long bytes) {
    return bytes * 1000 / ((long) rateHz * BYTES_PER_SAMPLE);
  }

  public static int sample(byte[] le, int byteOffset) {
    return (short) ((le[byteOffset] & 0xff) | (le[byteOffset + 1] << 8));
  }

  /** Converts big-endian samples (Java Sound's default) to little-endian, in place. */
  public static byte[] swapByteOrder(byte[] pcm, int offset, int length) {
    for (int i = offset; i + 1 < offset + length; i += 2) {
      byte b = pcm[i];
      pcm[i] = pcm[i + 1];
      pcm[i + 1] = b;
    }
    return pcm;
  }

  /** Loudness of a stretch of audio in dB relative to full scale; -120 for digital silence. */
  public static double rmsDbfs(byte[] le, int offset, int length) {
    int samples = length / BYTES_PER_SAMPLE;
    if (samples == 0) {
      return -120;
    }
    double sum = 0;
    for (int i = 0; i < samples; i++) {
      double s = sample(le, offset + i * BYTES_PER_SAMPLE) / FULL_SCALE;
      sum += s * s;
    }
    double rms = Math.sqrt(sum / samples);
    return rms <= 1e-6 ? -120 : 20 * Math.log10(rms);
  }

  /**
   * The same audio at another rate (a whole recording; a stream that arrives in chunks keeps one
   * {@link Resampler} instead). An odd trailing byte is dropped.
   */
  public static byte[] resample(byte[] le, int fromHz, int toHz) {
    Resampler resampler = new Resampler(fromHz, toHz);
    byte[] head = resampler.process(le);
    byte[] tail = resampler.flush();
    byte[] all = java.util.Arrays.copyOf(head, head.length + tail.length);
    System.arraycopy(tail, 0, all, head.length, tail.length);
    return all;
  }
}
