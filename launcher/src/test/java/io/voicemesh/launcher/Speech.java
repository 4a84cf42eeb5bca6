package io.voicemesh.launcher;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.audio.Pcm16;
import io.voicemesh.api.engine.Engines;
import io.voicemesh.api.engine.SttEngine;
import io.voicemesh.api.engine.SttEngineProvider;
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
