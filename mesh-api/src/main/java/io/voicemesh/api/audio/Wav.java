package io.voicemesh.api.audio;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * RIFF/WAVE reading and writing for PCM16 mono audio.
 *
 * <pre>
 * "RIFF" size "WAVE" ("fmt " 16 fmt-fields) … ("data" size samples…)
 * </pre>
 * Reading walks the chunks, so extra chunks (LIST, fact) are skipped, and a data size that is a
 * placeholder (as some encoders write when streaming to stdout) means "to the end of the file".
 */
public final class Wav {
  private static final int HEADER_BYTES = 44;

  /** Decoded audio: little-endian PCM16 samples at {@code sampleRateHz}. */
  public record Audio(int sampleRateHz, byte[] pcm) {
    public long durationMs() {
      return Pcm16.msFor(sampleRateHz, pcm.length);
    }
  }

  private Wav() {
  }

  public static byte[] write(int sampleRateHz, byte[] pcm) {
    ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES + pcm.length).order(ByteOrder.LITTLE_ENDIAN);
    b.put("RIFF".getBytes()).putInt(36 + pcm.length).put("WAVE".getBytes());
    b.put("fmt ".getBytes()).putInt(16).putShort((short) 1).putShort((short) 1)
        .putInt(sampleRateHz).putInt(sampleRateHz * Pcm16.BYTES_PER_SAMPLE)
        .putShort((short) Pcm16.BYTES_PER_SAMPLE).putShort((short) 16);
    b.put("data".getBytes()).putInt(pcm.length).put(pcm);
    return b.array();
  }

  /** Reads a PCM16 WAV; stereo is rejected rather than silently mixed. */
  public static Audio read(byte[] wav) {
    ByteBuffer b = ByteBuffer.wrap(wav).order(ByteOrder.LITTLE_ENDIAN);
    if (wav.length < 12 || !tag(b, 0, "RIFF") || !tag(b, 8, "WAVE")) {
      throw new IllegalArgumentException("not a RIFF/WAVE file");
    }
    int rate = -1;
    int pos = 12;
    while (pos + 8 <= wav.length) {
      int size = b.getInt(pos + 4);
      if (tag(b, pos, "fmt ")) {
        int format = b.getShort(pos + 8);
        int channels = b.getShort(pos + 10);
        int bits = b.getShort(pos + 22);
        if (format != 1 || channels != 1 || bits != 16) {
          throw new IllegalArgumentException(
              "expected PCM16 mono, got format " + format + ", " + channels + " channels, " + bits + " bits");
        }
        rate = b.getInt(pos + 12);
      } else if (tag(b, pos, "data")) {
        if (rate < 0) {
          throw new IllegalArgumentException("data chunk before fmt chunk");
        }
        int start = pos + 8;
        int end = size <= 0 || start + (long) size > wav.length ? wav.length : start + size;
        int even = start + ((end - start) & ~1);
        return new Audio(rate, Arrays.copyOfRange(wav, start, even));
      }
      pos += 8 + Math.max(0, size) + (size & 1);
    }
    throw new IllegalArgumentException("no data chunk");
  }

  private static boolean tag(ByteBuffer b, int pos, String tag) {
    for (int i = 0; i < 4; i++) {
      if (b.get(pos + i) != tag.charAt(i)) {
        return false;
      }
    }
    return true;
  }
}
