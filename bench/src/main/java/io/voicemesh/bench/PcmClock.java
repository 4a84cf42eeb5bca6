package io.voicemesh.bench;

/**
 * Puts a {@link System#nanoTime()} send time into a PCM16LE audio frame and reads it back.
 *
 * <p>The 8 bytes of the time (little-endian) go into the low bytes of the first 8 samples, whose
 * high bytes stay 0: every sample is 0..255, so the frame stays far below the STT detector's
 * -50 dBFS floor (at most -58 dBFS) and is never mistaken for speech. The 8 raw bytes in
 * bytes 0–7 would make 4 samples of up to ±32767 (about -19 dBFS) whose loudness varies frame to
 * frame with the clock, which the detector could take for speech.
 */
final class PcmClock {
  static final int FRAME_BYTES = 640;
  static final int FRAME_MS = 20;

  private PcmClock() {
  }

  static void write(byte[] frame, long nanos) {
    for (int i = 0; i < 8; i++) {
      frame[2 * i] = (byte) (nanos >>> (8 * i));
      frame[2 * i + 1] = 0;
    }
  }

  static long read(byte[] frame) {
    long nanos = 0;
    for (int i = 0; i < 8; i++) {
      nanos |= (frame[2 * i] & 0xFFL) << (8 * i);
    }
    return nanos;
  }

  static long read(io.vertx.core.buffer.Buffer frame) {
    long nanos = 0;
    for (int i = 0; i < 8; i++) {
      nanos |= (frame.getByte(2 * i) & 0xFFL) << (8 * i);
    }
    return nanos;
  }
}
