package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.zip.Deflater;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * What WebSocket compression (permessage-deflate) would buy for the audio the protocol carries,
 * measured on the speech the tests speak (FreeTTS), in 20 ms messages as clients send them. The
 * gateway turns compression off (a deflate bomb held its event loop for 17 s); this is the figure
 * in docs/BENCHMARKS.md that says little is lost.
 */
@DisplayName("Deflate on PCM speech")
class SpeechCompressionTest {
  private static final List<String> PHRASES = List.of("calculate eight times nine", "what time is it",
      "hello there, how are you today", "tell me a story about a dragon and a knight");
  private static final int FRAME_BYTES = 640; // 20 ms at 16 kHz, PCM16

  @Test
  @DisplayName("saves less than a quarter of the bytes of 20 ms speech messages, with or without a noise floor")
  void deflateBarelyCompressesSpeech() {
    ByteArrayOutputStream speech = new ByteArrayOutputStream();
    PHRASES.forEach(phrase -> speech.writeBytes(Speech.say(phrase)));
    byte[] clean = speech.toByteArray();
    byte[] noisy = withNoiseFloor(clean, -60);
    double cleanTakeover = ratio(clean, true);
    double cleanFresh = ratio(clean, false);
    double noisyTakeover = ratio(noisy, true);
    double noisyFresh = ratio(noisy, false);
    System.out.printf("deflate on %d ms of FreeTTS speech in 20 ms messages, compressed/original: "
            + "context takeover %.3f, no takeover %.3f; with a -60 dBFS noise floor: %.3f, %.3f%n",
        clean.length / 32, cleanTakeover, cleanFresh, noisyTakeover, noisyFresh);
    // Real microphones always have a noise floor; synthetic speech has exact digital silence between words.
    assertTrue(noisyTakeover > 0.75 && noisyFresh > 0.75, "deflate saves more than a quarter: " + noisyTakeover);
  }

  /** Compressed bytes over original bytes, message by message as permessage-deflate sends them. */
  private static double ratio(byte[] pcm, boolean contextTakeover) {
    long compressed = 0;
    Deflater shared = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
    byte[] out = new byte[FRAME_BYTES * 2 + 64];
    for (int offset = 0; offset + FRAME_BYTES <= pcm.length; offset += FRAME_BYTES) {
      Deflater deflater = contextTakeover ? shared : new Deflater(Deflater.DEFAULT_COMPRESSION, true);
      deflater.setInput(pcm, offset, FRAME_BYTES);
      int n = deflater.deflate(out, 0, out.length, Deflater.SYNC_FLUSH);
      compressed += n - 4; // RFC 7692: the trailing 00 00 ff ff is not sent
      if (!contextTakeover) {
        deflater.end();
      }
    }
    shared.end();
    return (double) compressed / (pcm.length / FRAME_BYTES * FRAME_BYTES);
  }

  private static byte[] withNoiseFloor(byte[] pcm, double dbfs) {
    byte[] noise = Speech.noise(pcm.length / 32, dbfs, 11);
    byte[] mixed = new byte[pcm.length];
    for (int i = 0; i + 1 < pcm.length && i + 1 < noise.length; i += 2) {
      int sample = (short) ((pcm[i] & 0xFF) | pcm[i + 1] << 8) + (short) ((noise[i] & 0xFF) | noise[i + 1] << 8);
      sample = Math.max(Short.MIN_VALUE, Math.min(Short.MAX_VALUE, sample));
      mixed[i] = (byte) sample;
      mixed[i + 1] = (byte) (sample >> 8);
    }
    return mixed;
  }
}
