package io.voicemesh.api.audio;

/**
 * ITU-T G.711 companding, μ-law and A-law: one byte per sample at 8 kHz, the audio of telephone
 * networks (Twilio Media Streams, the Realtime protocol's {@code audio/pcmu} and {@code audio/pcma}).
 * Converts to and from PCM16LE. The textbook segment algorithm (as in the ITU reference and the
 * JDK's own {@code UlawCodec}); decoding goes through a 256-entry table.
 */
public enum G711 {
  ULAW {
    @Override
    byte encodeSample(int pcm) {
      int sign = (pcm >> 8) & 0x80;
      if (sign != 0) {
        pcm = -pcm;
      }
      pcm = Math.min(pcm, CLIP) + BIAS;
      int exponent = exponentOf(pcm >> 7);
      int mantissa = (pcm >> (exponent + 3)) & 0x0F;
      return (byte) ~(sign | (exponent << 4) | mantissa);
    }

    @Override
    int decodeSample(byte code) {
      int u = ~code & 0xFF;
      int exponent = (u >> 4) & 0x07;
      int sample = (((u & 0x0F) << 3) + BIAS) << exponent;
      sample -= BIAS;
      return (u & 0x80) != 0 ? -sample : sample;
    }
  },
  ALAW {
    @Override
    byte encodeSample(int pcm) {
      int value = pcm >> 3; // A-law codes 13-bit samples
      int mask = 0xD5;
      if (value < 0) {
        mask = 0x55;
        value = -value - 1;
      }
      int segment = 0;
      while (segment < 8 && value > (0x20 << segment) - 1) {
        segment++;
      }
      if (segment >= 8) {
        return (byte) (0x7F ^ mask);
      }
      int code = (segment << 4) | ((segment < 2 ? value >> 1 : value >> segment) & 0x0F);
      return (byte) (code ^ mask);
    }

    @Override
    int decodeSample(byte code) {
      int a = (code ^ 0x55) & 0xFF;
      int exponent = (a >> 4) & 0x07;
      int sample = (a & 0x0F) << 4;
      sample = exponent == 0 ? sample + 8 : (sample + 0x108) << (exponent - 1);
      return (a & 0x80) != 0 ? sample : -sample;
    }
  };

  private static final int BIAS = 0x84;
  private static final int CLIP = 32_635;
  /** The sample rate G.711 is defined at. */
  public static final int RATE_HZ = 8_000;

  private final short[] decoded = new short[256];

  G711() {
    for (int code = 0; code < 256; code++) {
      decoded[code] = (short) decodeSample((byte) code);
    }
  }

  abstract byte encodeSample(int pcm);

  abstract int decodeSample(byte code);

  /** The segment (0–7) of a magnitude already shifted right by the segment's base. */
  private static int exponentOf(int shifted) {
    int exponent = 0;
    while (shifted > 1 && exponent < 7) {
      shifted >>= 1;
      exponent++;
    }
    return exponent;
  }

  /** PCM16LE ({@code length} bytes from {@code offset}) to one code byte per sample. */
  public byte[] encode(byte[] pcm, int offset, int length) {
    byte[] codes = new byte[length / Pcm16.BYTES_PER_SAMPLE];
    for (int i = 0; i < codes.length; i++) {
      codes[i] = encodeSample(Pcm16.sample(pcm, offset + i * Pcm16.BYTES_PER_SAMPLE));
    }
    return codes;
  }

  public byte[] encode(byte[] pcm) {
    return encode(pcm, 0, pcm.length);
  }

  /** Code bytes to PCM16LE. */
  public byte[] decode(byte[] codes) {
    byte[] pcm = new byte[codes.length * Pcm16.BYTES_PER_SAMPLE];
    for (int i = 0; i < codes.length; i++) {
      short sample = decoded[codes[i] & 0xFF];
      pcm[2 * i] = (byte) sample;
      pcm[2 * i + 1] = (byte) (sample >> 8);
    }
    return pcm;
  }
}
