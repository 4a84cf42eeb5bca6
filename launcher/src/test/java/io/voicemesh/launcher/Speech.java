package io.voicemesh.launcher;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.audio.Pcm16;
import io.voicemesh.api.engine.Engines;
import io.voicemesh.api.engine.SttEngine;
import io.voicemesh.api.engine.SttEngineProvider;
import io.voicemesh.api.engine.SpeechSegmenter;
import io.voicemesh.api.engine.SttStream;
import io.voicemesh.api.engine.TtsEngine;
import io.voicemesh.api.engine.TtsEngineProvider;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Real speech for tests, made and heard by the mesh's own engines through their public SPI:
 * FreeTTS speaks the test's words, Vosk transcribes what the agent said.
 */
final class Speech {
  private static final Map<String, byte[]> SPOKEN = new ConcurrentHashMap<>();
  private static TtsEngine tts;
  private static SttEngine stt;

  private Speech() {
  }

  /** PCM16LE at 16 kHz of {@code text} spoken by FreeTTS (cached per text). */
  static byte[] say(String text) {
    return SPOKEN.computeIfAbsent(text, t -> {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try {
        tts().synthesize(t, "kevin16", out::writeBytes, () -> false);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
      return out.toByteArray();
    });
  }

  /** Gaussian noise at a steady {@code dbfs} RMS, PCM16LE 16 kHz. */
  static byte[] noise(int ms, double dbfs, long seed) {
    java.util.Random random = new java.util.Random(seed);
    return shaped(ms, i -> Math.pow(10, dbfs / 20) * random.nextGaussian());
  }

  /**
   * A cough: a burst of noise peaking at {@code dbfs}, rising in 20 ms and decaying over the rest,
   * as loud as speech but short.
   */
  static byte[] cough(int ms, double dbfs) {
    java.util.Random random = new java.util.Random(7);
    int samples = Pcm16.bytesFor(Pcm16.DEFAULT_RATE_HZ, ms) / 2;
    int rise = Pcm16.bytesFor(Pcm16.DEFAULT_RATE_HZ, 20) / 2;
    return shaped(ms, i -> Math.pow(10, dbfs / 20) * random.nextGaussian()
        * (i < rise ? (double) i / rise : Math.exp(-3.0 * (i - rise) / (samples - rise))));
  }

  static byte[] silence(int ms) {
    return new byte[Pcm16.bytesFor(Pcm16.DEFAULT_RATE_HZ, ms)];
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }

  /**
   * The recording without the quiet FreeTTS puts around words (≈ 200 ms before, 100 ms after):
   * from the first to the last 20 ms frame louder than -50 dBFS, so a pause put between two
   * recordings is the pause a listener hears.
   */
  static byte[] voiced(byte[] pcm) {
    int frame = Pcm16.bytesFor(Pcm16.DEFAULT_RATE_HZ, 20);
    int first = -1;
    int end = -1;
    for (int offset = 0; offset + frame <= pcm.length; offset += frame) {
      if (Pcm16.rmsDbfs(pcm, offset, frame) > -50) {
        first = first < 0 ? offset : first;
        end = offset + frame;
      }
    }
    if (first < 0) {
      throw new IllegalArgumentException("no speech in the recording");
    }
    return java.util.Arrays.copyOfRange(pcm, first, end);
  }

  /** Position (ms) of the first 20 ms frame louder than -40 dBFS: where speech begins in a recording. */
  static long onsetMs(byte[] pcm) {
    int frame = Pcm16.bytesFor(Pcm16.DEFAULT_RATE_HZ, 20);
    for (int offset = 0; offset + frame <= pcm.length; offset += frame) {
      if (Pcm16.rmsDbfs(pcm, offset, frame) > -40) {
        return Pcm16.msFor(Pcm16.DEFAULT_RATE_HZ, offset);
      }
    }
    throw new IllegalArgumentException("no speech in the recording");
  }

  /** Position (ms) of the end of the last 20 ms frame louder than -40 dBFS: where speech ends in a recording. */
  static long speechEndMs(byte[] pcm) {
    int frame = Pcm16.bytesFor(Pcm16.DEFAULT_RATE_HZ, 20);
    for (int offset = pcm.length / frame * frame - frame; offset >= 0; offset -= frame) {
      if (Pcm16.rmsDbfs(pcm, offset, frame) > -40) {
        return Pcm16.msFor(Pcm16.DEFAULT_RATE_HZ, offset + frame);
      }
    }
    throw new IllegalArgumentException("no speech in the recording");
  }

  private static byte[] shaped(int ms, java.util.function.IntToDoubleFunction sampleAt) {
    byte[] pcm = new byte[Pcm16.bytesFor(Pcm16.DEFAULT_RATE_HZ, ms)];
    for (int i = 0; i < pcm.length / 2; i++) {
      int s = (int) Math.max(-32768, Math.min(32767, sampleAt.applyAsDouble(i) * 32768));
      pcm[2 * i] = (byte) s;
      pcm[2 * i + 1] = (byte) (s >> 8);
    }
    return pcm;
  }

  /** What Vosk hears in PCM16LE 16 kHz audio. */
  static synchronized String transcribe(byte[] pcm) throws Exception {
    try (SttStream stream = stt().open(Pcm16.DEFAULT_RATE_HZ)) {
      int step = Pcm16.bytesFor(Pcm16.DEFAULT_RATE_HZ, 100);
      for (int offset = 0; offset < pcm.length; offset += step) {
        byte[] chunk = java.util.Arrays.copyOfRange(pcm, offset, Math.min(pcm.length, offset + step));
        stream.accept(chunk, chunk.length);
      }
      return stream.finish();
    }
  }

  /**
   * The transcript of the first turn in PCM16LE 16 kHz audio as an STT node with the embedded
   * engine words it: 20 ms windows through the same segmenter and Vosk, ending on silence.
   */
  static synchronized String turnTranscript(byte[] pcm, int silenceMs, int minSpeechMs) throws Exception {
    try (SttStream stream = stt().open(Pcm16.DEFAULT_RATE_HZ)) {
      String[] first = {null};
      SpeechSegmenter segmenter = new SpeechSegmenter(stream, Pcm16.DEFAULT_RATE_HZ, minSpeechMs, silenceMs, true,
          (text, audioMs, speechStartMs, speechEndMs) -> {
            if (first[0] == null && !text.isBlank()) {
              first[0] = text;
            }
          });
      int window = segmenter.windowBytes();
      for (int offset = 0; offset + window <= pcm.length && first[0] == null; offset += window) {
        segmenter.accept(java.util.Arrays.copyOfRange(pcm, offset, offset + window));
      }
      return first[0];
    }
  }

  private static synchronized TtsEngine tts() throws Exception {
    if (tts == null) {
      tts = Engines.create(TtsEngineProvider.class, "freetts", null, new JsonObject().put("voices", 1).put("rate", Double.parseDouble(System.getProperty("speech.rate", "0"))));
    }
    return tts;
  }

  private static synchronized SttEngine stt() throws Exception {
    if (stt == null) {
      stt = Engines.create(SttEngineProvider.class, "vosk", (Vertx) null,
          new JsonObject().put("modelCacheDir", Path.of("target", "test-data", "models").toString()));
    }
    return stt;
  }
}
