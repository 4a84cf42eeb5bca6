package io.voicemesh.bench;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.audio.G711;
import io.voicemesh.api.audio.Resampler;

/**
 * {@code voicemesh.v1} carrying exactly the audio a phone call carries (8 kHz, through μ-law and
 * back, {@code ?sampleRate=8000}), the first agent audio after the end of speech ending the turn as
 * for Twilio: the baseline that leaves only the Twilio adapter's own work in the difference.
 */
final class PhoneAudioWire implements VoiceToVoice.Wire {
  private final Resampler to8k = new Resampler(16_000, G711.RATE_HZ);

  static String uri(String token) {
    return "/v1/voice?sampleRate=8000&token=" + token;
  }

  @Override
  public void frame(WebSocket socket, byte[] pcm) {
    socket.writeBinaryMessage(Buffer.buffer(G711.ULAW.decode(G711.ULAW.encode(to8k.process(pcm)))));
  }

  @Override
  public void binary(VoiceToVoice.Observed seen) {
    seen.agentAudioWithoutTurnEvents();
  }

  @Override
  public void text(VoiceToVoice.Observed seen, JsonObject event) {
    if ("session.ready".equals(event.getString("type"))) {
      seen.ready();
    }
  }
}
