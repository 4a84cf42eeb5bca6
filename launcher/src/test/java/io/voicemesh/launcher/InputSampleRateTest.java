package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import io.voicemesh.api.audio.G711;
import io.voicemesh.api.audio.Resampler;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The user's words come through at every input rate a client may choose: phone audio (8 kHz, also
 * after a μ-law round trip), the Realtime protocol's 24 kHz, 48 kHz. Vosk given 8 kHz audio for its
 * 16 kHz model heard nothing at all; the gateway now resamples to 16 kHz.
 */
@DisplayName("Speech at other sample rates than 16 kHz")
class InputSampleRateTest {
  @RegisterExtension
  static final TestMesh mesh = TestMesh.withDefaults();

  @ParameterizedTest(name = "{0} Hz, μ-law round trip: {1}")
  @CsvSource({"8000, false", "8000, true", "24000, false", "48000, false"})
  void wordsComeThrough(int rate, boolean mulaw) throws Exception {
    Resampler resampler = new Resampler(16_000, rate);
    byte[] pcm = Speech.concat(resampler.process(Speech.concat(Speech.say("what time is it"), Speech.silence(1_500))),
        resampler.flush());
    if (mulaw) {
      pcm = G711.ULAW.decode(G711.ULAW.encode(pcm));
    }
    try (VoiceClient client = mesh.connect("sampleRate=" + rate)) {
      client.sessionId();
      client.speak(pcm, 1_000, 3).await(20, TimeUnit.SECONDS);
      JsonObject heard = client.await("transcript.final", Duration.ofSeconds(30));
      assertTrue(heard.getString("text").contains("time is it"), heard.encode());
    }
  }
}
