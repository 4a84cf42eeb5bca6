package io.voicemesh.gateway;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.audio.G711;
import java.util.regex.Pattern;

/**
 * Twilio Media Streams on {@code /v1/twilio}, once the stream has started ({@link TwilioUpgrade}):
 * {@code media} is the caller's audio (base64 μ-law at 8 kHz: the session's input rate is 8 kHz),
 * {@code mark} an echo of a mark {@link TwilioPlayback} sent (the caller has heard the audio before it),
 * {@code dtmf} a key pressed (a {@code dtmf} session event), {@code stop} the call's end (the session
 * ends). Twilio has no error message: a message that cannot be used (not JSON, bad base64, a
 * second {@code start}) is counted as an error of its code, logged at debug level and ignored, and
 * the call goes on. A mark this stream did not send, or whose audio was cleared, changes nothing.
 */
final class TwilioProtocol implements WireProtocol {
  /** The keys of a phone keypad, as Twilio reports them. */
  private static final Pattern DIGIT = Pattern.compile("[0-9*#A-D]");
  private final ConversationControl conversation;
  private final ClientChannel client;
  private final TwilioPlayback playback;

  /** Makes the protocol of a stream that has started. */
  record Factory(TwilioUpgrade.Start start) implements WireProtocol.Factory {
    @Override
    public WireProtocol create(ConversationControl conversation, ClientChannel client) {
      return new TwilioProtocol(conversation, client, new TwilioPlayback(start.streamSid(), client::sendText));
    }
  }

  TwilioProtocol(ConversationControl conversation, ClientChannel client, TwilioPlayback playback) {
    this.conversation = conversation;
    this.client = client;
    this.playback = playback;
  }

  @Override
  public void text(String text) {
    JsonObject message;
    try {
      message = new JsonObject(text);
    } catch (DecodeException | ClassCastException e) {
      client.replyError(ErrorCode.BAD_FRAME, "ignored a message that is not a JSON object");
      return;
    }
    Object event = message.getValue("event");
    try {
      if ("media".equals(event)) {
        // Audio is limited by its rate (as audio), other messages by the text message rate; the end
        // of the call is never dropped.
        media(message);
      } else if ("stop".equals(event)) {
        conversation.endSession();
      } else if (conversation.textAllowed()) {
        switch (String.valueOf(event)) {
          case "mark" -> mark(message);
          case "dtmf" -> dtmf(message);
          case "connected", "start" -> client.replyError(ErrorCode.BAD_REQUEST, "ignored " + event + ": the stream has started");
          default -> client.replyError(ErrorCode.UNKNOWN_TYPE, "ignored an unknown event");
        }
      }
    } catch (MeshException e) {
      client.replyError(e.code(), e.getMessage());
    }
  }

  @Override
  public void binary(Buffer frame) {
    client.replyError(ErrorCode.BAD_FRAME, "ignored a binary message: Twilio sends media as JSON");
  }

  @Override
  public ClientChannel.Renderer renderer() {
    return playback;
  }

  private void media(JsonObject message) {
    JsonObject media = object(message, "media");
    Object track = media.getValue("track");
    if (track != null && !"inbound".equals(track)) {
      return; // a stream of both tracks also sends the call's outbound audio: not the caller
    }
    byte[] codes = Fields.base64Audio(media, "payload");
    conversation.audio(Buffer.buffer(G711.ULAW.decode(codes)));
  }

  private void mark(JsonObject message) {
    Object name = object(message, "mark").getValue("name");
    TwilioPlayback.Mark played = name instanceof String given ? playback.played(given) : null;
    // Null also for the echoes of marks whose audio was cleared: they were not heard.
    if (played != null) {
      conversation.playbackMark(played.turnId(), played.ms());
    }
  }

  private void dtmf(JsonObject message) {
    Object digit = object(message, "dtmf").getValue("digit");
    if (!(digit instanceof String key) || !DIGIT.matcher(key).matches()) {
      throw new MeshException(ErrorCode.BAD_REQUEST, "dtmf.digit must be one of 0-9 * # A-D");
    }
    conversation.dtmf(key);
  }

  private static JsonObject object(JsonObject message, String field) {
    if (!(message.getValue(field) instanceof JsonObject body)) {
      throw new MeshException(ErrorCode.BAD_REQUEST, message.getValue("event") + " needs its " + field + " object");
    }
    return body;
  }
}
