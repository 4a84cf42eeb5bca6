package io.voicemesh.bench;

import io.vertx.core.http.WebSocket;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.audio.Resampler;
import java.util.Base64;
import java.util.List;

/**
 * The OpenAI Realtime protocol on {@code /v1/realtime}, as its SDKs speak it: audio as base64
 * PCM16 at 24 kHz in {@code input_audio_buffer.append}, transcription on so the end of the user's
 * turn is seen ({@code conversation.item.input_audio_transcription.completed}, sent when our
 * {@code transcript.final} is), the first {@code response.output_audio.delta} as the first agent audio.
 */
final class RealtimeWire implements VoiceToVoice.Wire {
  private final Resampler to24k = new Resampler(16_000, 24_000);

  static String uri(String token) {
    return "/v1/realtime?model=default&token=" + token;
  }

  @Override
  public List<String> setup() {
    return List.of(new JsonObject().put("type", "session.update").put("session", new JsonObject().put("type", "realtime")
        .put("audio", new JsonObject().put("input", new JsonObject()
            .put("transcription", new JsonObject().put("model", "default"))))).encode());
  }

  @Override
  public void frame(WebSocket socket, byte[] pcm) {
    socket.writeTextMessage(new JsonObject().put("type", "input_audio_buffer.append")
        .put("audio", Base64.getEncoder().encodeToString(to24k.process(pcm))).encode());
  }

  @Override
  public void text(VoiceToVoice.Observed seen, JsonObject event) {
    switch (String.valueOf(event.getString("type"))) {
      case "session.created" -> seen.ready();
      case "session.updated" -> seen.updated();
      case "conversation.item.input_audio_transcription.completed" -> seen.transcript(event.getString("transcript", ""), -1);
      case "response.output_audio.delta" -> seen.agentAudio();
      case "response.output_audio_transcript.done" -> seen.answer(event.getString("transcript", ""));
      case "response.done" -> seen.completed(null);
      case "error" -> seen.error("error " + event.getJsonObject("error", new JsonObject()).encode());
      default -> { }
    }
  }
}
