package io.voicemesh.gateway;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.audio.Pcm16;
import java.util.Map;

/**
 * {@code voicemesh.v1} on {@code /v1/voice}: binary frames are the user's PCM16 audio, text frames
 * JSON commands (README, "The wire protocol"). Rendering is {@link ClientChannel}'s own: the logged
 * events as they are.
 */
final class VoiceMeshProtocol implements WireProtocol {
  private final ConversationControl conversation;
  private final ClientChannel client;
  private final TextCommands commands;

  VoiceMeshProtocol(ConversationControl conversation, ClientChannel client) {
    this.conversation = conversation;
    this.client = client;
    this.commands = new TextCommands(client, Map.of(
        "session.update", m -> client.reply("session.updated", conversation.update(m)),
        "input.commit", m -> conversation.commit(),
        "response.cancel", m -> conversation.cancelResponse(),
        "control", m -> conversation.control(String.valueOf(m.getValue("action"))),
        "playback.mark", this::playbackMark,
        "ping", m -> client.reply("pong", new JsonObject().put("id", m.getValue("id"))),
        "session.status", m -> conversation.status().onSuccess(status -> client.reply("session.status", status))
            .onFailure(client::replyError)));
  }

  @Override
  public void text(String text) {
    if (conversation.textAllowed()) {
      commands.handle(text);
    }
  }

  @Override
  public void binary(Buffer frame) {
    if (frame.length() % Pcm16.BYTES_PER_SAMPLE != 0) {
      client.replyError(ErrorCode.BAD_AUDIO, "audio frames are PCM16: an even number of bytes; got " + frame.length());
      return;
    }
    conversation.audio(frame);
  }

  private void playbackMark(JsonObject m) {
    Object ms = m.getValue("ms");
    if (!(ms instanceof Number played) || played.longValue() < 0) {
      throw new MeshException(ErrorCode.BAD_REQUEST, "playback.mark needs ms: the audio played so far this turn");
    }
    Object turnId = m.getValue("turnId");
    if (turnId != null && !(turnId instanceof String)) {
      throw new MeshException(ErrorCode.BAD_REQUEST, "playback.mark's turnId must be the turn's id");
    }
    conversation.playbackMark((String) turnId, played.longValue());
  }
}
