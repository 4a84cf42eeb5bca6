package io.voicemesh.api.audio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import javax.sound.sampled.AudioFormat;
import javax.sound.sampled.AudioInputStream;
import javax.sound.sampled.AudioSystem;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class G711Test {
  private static final AudioFormat PCM = new AudioFormat(8_000, 16, 1, true, false);

  private static AudioFormat.Encoding encodingOf(G711 law) {
    return law == G711.ULAW ? AudioFormat.Encoding.ULAW : AudioFormat.Encoding.ALAW;
  }

  /** Every 16-bit sample, little-endian. */
  private static byte[] everySample() {
    byte[] pcm = new byte[65_536 * 2];
    for (int i = 0; i < 65_536; i++) {
      short sample = (short) (i - 32_768);
      pcm[2 * i] = (byte) sample;
      pcm[2 * i + 1] = (byte) (sample >> 8);
    }
    return pcm;
  }

  /**
   * Encoding is checked against decoding (which matches the JDK's codecs exactly, below): every
   * code's own value encodes to that code. The JDK's encoders are no reference: its μ-law encoder
   * maps samples near −32768 to zero (an overflow), and its A-law encoder rounds where G.711 truncates.
   */
  @ParameterizedTest
  @EnumSource(G711.class)
  void encodesEachCodesValueToThatCode(G711 law) {
    for (int code = 0; code < 256; code++) {
      byte[] value = law.decode(new byte[] {(byte) code});
      int again = law.encode(value)[0] & 0xFF;
      boolean negativeZero = law == G711.ULAW && code == 0x7F; // −0 and +0 are one value
      assertEquals(negativeZero ? 0xFF : code, again, law + " code " + code + " (" + Pcm16.sample(value, 0) + ")");
    }
  }

  @ParameterizedTest
  @EnumSource(G711.class)
  void decodesEveryCodeAsTheJdkCodecDoes(G711 law) throws Exception {
    byte[] codes = new byte[256];
    for (int i = 0; i < 256; i++) {
      codes[i] = (byte) i;
    }
    AudioFormat coded = new AudioFormat(encodingOf(law), 8_000, 8, 1, 1, 8_000, false);
    try (AudioInputStream in = AudioSystem.getAudioInputStream(PCM,
        new AudioInputStream(new ByteArrayInputStream(codes), coded, codes.length))) {
      assertArrayEquals(in.readAllBytes(), law.decode(codes));
    }
  }

  @ParameterizedTest
  @EnumSource(G711.class)
  void roundTripKeepsTheSignalWithinTheStepOfItsSegment(G711 law) {
    byte[] pcm = everySample();
    byte[] back = law.decode(law.encode(pcm));
    for (int i = 0; i < pcm.length; i += 2) {
      int original = Pcm16.sample(pcm, i);
      int error = Math.abs(original - Pcm16.sample(back, i));
      // The quantisation step grows with the magnitude: at most 1/16 of it, plus the small-signal step.
      assertTrue(error <= Math.abs(original) / 16 + 16 || Math.abs(original) > 32_000,
          law + ": " + original + " came back " + Pcm16.sample(back, i));
    }
  }
}
