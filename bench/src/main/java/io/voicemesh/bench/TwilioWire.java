package io.voicemesh.bench;

import io.vertx.core.http.WebSocket;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.audio.G711;
import io.voicemesh.api.audio.Resampler;
import java.util.Base64;
import java.util.List;

/**
 * Twilio Media Streams on {@code /v1/twilio}, as Twilio speaks it: {@code connected}, {@code start}
 * (the token in {@code customParameters}), then the caller's audio as base64 μ-law at 8 kHz in
 * {@code media} messages. Twilio shows no transcript: the first agent {@code media} after the end of
 * speech ends the measured turn.
 */
final class TwilioWire implements VoiceToVoice.Wire {
  static final String PATH = "/v1/twilio";
  private final String token;
  private final String streamSid = "MZ" + Long.toHexString(System.nanoTime());
  private final Resampler to8k = new Resampler(16_000, G711.RATE_HZ);
  private long chunk;

  TwilioWire(String token) {
    this.token = token;
  }

  @Override
  public List<String> opening(VoiceToVoice.Observed seen) {
    seen.ready(); // Twilio gets no answer to its start
    return List.of(new JsonObject().put("event", "connected").put("protocol", "Call").put("version", "1.0.0").encode(),
        new JsonObject().put("event", "start").put("sequenceNumber", "1").put("streamSid", streamSid)
            .put("start", new JsonObject().put("accountSid", "AC" + "0".repeat(32)).put("streamSid", streamSid)
                .put("callSid", "CA" + streamSid.substring(2)).put("tracks", new JsonArray().add("inbound"))
                .put("mediaFormat", new JsonObject().put("encoding", "audio/x-mulaw").put("sampleRate", 8000)
                    .put("channels", 1))
                .put("customParameters", new JsonObject().put("token", token))).encode());
  }

  @Override
  public void frame(WebSocket socket, byte[] pcm) {
    chunk++;
    socket.writeTextMessage(new JsonObject().put("event", "media").put("sequenceNumber", String.valueOf(chunk + 1))
        .put("streamSid", streamSid)
        .put("media", new JsonObject().put("track", "inbound").put("chunk", String.valueOf(chunk))
            .put("timestamp", String.valueOf(chunk * 20))
            .put("payload", Base64.getEncoder().encodeToString(G711.ULAW.encode(to8k.process(pcm)))))
        .encode());
  }

  @Override
  public void text(VoiceToVoice.Observed seen, JsonObject event) {
    if ("media".equals(event.getString("event"))) {
      seen.agentAudioWithoutTurnEvents();
    }
  }
}
