package io.voicemesh.api.audio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import org.junit.jupiter.api.Test;

/** Sample-rate conversion measured on tones: what it keeps, what it removes, and that chunking leaves no trace. */
class ResamplerTest {

  @Test
  void aToneInThePassBandKeepsItsLevelAndFrequency() {
    for (int[] rates : new int[][] {{24_000, 16_000}, {16_000, 24_000}, {8_000, 16_000}, {48_000, 16_000},
        {44_100, 16_000}, {16_000, 8_000}}) {
      int from = rates[0];
      int to = rates[1];
      byte[] out = Pcm16.resample(tone(1_000, from, 1.0, 0.5), from, to);
      assertEquals((int) Math.ceil(from * 1.0 * to / from), out.length / 2, from + " → " + to + ": samples");
      // Away from the edges (the filter sees silence before and after the tone).
      double level = goertzelDb(out, to, 1_000, to / 10, to - to / 10);
      assertEquals(-6.02, level, 0.2, from + " → " + to + ": a 1 kHz tone at half scale stays at -6 dBFS");
    }
  }

  @Test
  void aToneAboveTheNewNyquistFrequencyIsRemovedNotFoldedBack() {
    // 11 kHz at 24 kHz: above 8 kHz, the Nyquist frequency of 16 kHz. Linear interpolation folds it to 5 kHz.
    byte[] out = Pcm16.resample(tone(11_000, 24_000, 1.0, 0.5), 24_000, 16_000);
    double alias = goertzelDb(out, 16_000, 5_000, 1_600, 14_400);
    assertTrue(alias < -60, "the 5 kHz alias of an 11 kHz tone: " + alias + " dBFS");
    byte[] linear = linear(tone(11_000, 24_000, 1.0, 0.5), 24_000, 16_000);
    assertTrue(goertzelDb(linear, 16_000, 5_000, 1_600, 14_400) > -30, "linear interpolation does fold it back");
  }

  @Test
  void upsamplingAddsNoImagesAboveTheOldBand() {
    // 16 kHz → 24 kHz: the image of a 3 kHz tone (16 - 3 = 13 kHz) would land at 11 kHz once at 24 kHz.
    byte[] out = Pcm16.resample(tone(3_000, 16_000, 1.0, 0.5), 16_000, 24_000);
    assertTrue(goertzelDb(out, 24_000, 11_000, 2_400, 21_600) < -60, "no image of the tone");
    assertEquals(-6.02, goertzelDb(out, 24_000, 3_000, 2_400, 21_600), 0.2);
  }

  @Test
  void chunksGiveExactlyWhatTheWholeGives() {
    byte[] input = tone(440, 16_000, 1.0, 0.3);
    byte[] whole = Pcm16.resample(input, 16_000, 24_000);
    Resampler streaming = new Resampler(16_000, 24_000);
    ByteArrayOutputStream chunked = new ByteArrayOutputStream();
    int[] sizes = {2, 638, 40, 1_000, 6, 3_200};
    int offset = 0;
    for (int i = 0; offset < input.length; i++) {
      int size = Math.min(sizes[i % sizes.length], input.length - offset);
      chunked.writeBytes(streaming.process(java.util.Arrays.copyOfRange(input, offset, offset + size)));
      offset += size;
    }
    chunked.writeBytes(streaming.flush());
    assertArrayEquals(whole, chunked.toByteArray());
  }

  @Test
  void theSameRateIsLeftAlone() {
    byte[] input = tone(440, 16_000, 0.1, 0.3);
    assertArrayEquals(input, Pcm16.resample(input, 16_000, 16_000));
  }

  /** {@code seconds} of a sine at {@code hz}, amplitude {@code amplitude} of full scale. */
  private static byte[] tone(int hz, int rate, double seconds, double amplitude) {
    int samples = (int) (rate * seconds);
    byte[] pcm = new byte[samples * 2];
    for (int i = 0; i < samples; i++) {
      int value = (int) Math.round(amplitude * 32767 * Math.sin(2 * Math.PI * hz * i / rate));
      pcm[2 * i] = (byte) value;
      pcm[2 * i + 1] = (byte) (value >> 8);
    }
    return pcm;
  }

  /** The level (dBFS, of a full-scale sine) of {@code hz} in samples {@code from} to {@code to}. */
  private static double goertzelDb(byte[] pcm, int rate, double hz, int from, int to) {
    double coefficient = 2 * Math.cos(2 * Math.PI * hz / rate);
    double s1 = 0;
    double s2 = 0;
    int n = to - from;
    for (int i = from; i < to; i++) {
      // A Hann window keeps other frequencies' leakage far below the levels measured.
      double w = 0.5 - 0.5 * Math.cos(2 * Math.PI * (i - from) / (n - 1));
      double s = w * Pcm16.sample(pcm, 2 * i) / 32768.0 + coefficient * s1 - s2;
      s2 = s1;
      s1 = s;
    }
    double power = s1 * s1 + s2 * s2 - coefficient * s1 * s2;
    double amplitude = 2 * Math.sqrt(power) / (n * 0.5); // 0.5: the Hann window's coherent gain
    return 20 * Math.log10(Math.max(amplitude, 1e-9));
  }

  /** The linear interpolation the mesh used before, for comparison. */
  private static byte[] linear(byte[] le, int fromHz, int toHz) {
    int samples = le.length / 2;
    int outSamples = (int) ((long) samples * toHz / fromHz);
    byte[] out = new byte[outSamples * 2];
    for (int i = 0; i < outSamples; i++) {
      double at = (double) i * fromHz / toHz;
      int left = (int) at;
      int right = Math.min(left + 1, samples - 1);
      double frac = at - left;
      int value = (int) Math.round(Pcm16.sample(le, left * 2) * (1 - frac) + Pcm16.sample(le, right * 2) * frac);
      out[i * 2] = (byte) value;
      out[i * 2 + 1] = (byte) (value >> 8);
    }
    return out;
  }
}
