package io.voicemesh.stt;

import io.vertx.core.json.JsonObject;
import io.voicemesh.api.engine.Engines;
import io.voicemesh.api.engine.TtsEngine;
import io.voicemesh.api.engine.TtsEngineProvider;
import java.io.ByteArrayOutputStream;
import java.util.Optional;

/**
 * A few sentences of speech to warm a recognizer with before its first stream, spoken by the
 * embedded {@code freetts} engine when the classpath has one (the fat jar does; this module does
 * not depend on it). Common words, so the parts of the decoding graph most streams need are built.
 */
final class WarmupSpeech {
  private static final String TEXT = "Hello there. What time is it? What is twelve times seven? Tell me the date.";

  private WarmupSpeech() {
  }

  /** PCM16LE at the engine's rate, or empty when no embedded TTS engine is at hand. */
  static Optional<Spoken> make() {
    try (TtsEngine tts = Engines.create(TtsEngineProvider.class, "freetts", null, new JsonObject().put("voices", 1))) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      tts.synthesize(TEXT, "kevin16", out::writeBytes, () -> false);
      return Optional.of(new Spoken(out.toByteArray(), tts.sampleRateHz()));
    } catch (Exception | LinkageError none) {
      return Optional.empty();
    }
  }

  record Spoken(byte[] pcm, int rateHz) {
  }
}
