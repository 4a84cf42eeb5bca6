package io.voicemesh.gateway;

import io.vertx.core.Handler;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;
import java.util.Map;

/**
 * A connection's text messages: each must be a JSON object whose {@code type} names one of the
 * connection's commands. Anything else, and any command that refuses its message, is answered
 * with an error reply; the connection goes on.
 */
final class TextCommands {
  private final ClientChannel client;
  private final Map<String, Handler<JsonObject>> commands;

  TextCommands(ClientChannel client, Map<String, Handler<JsonObject>> commands) {
    this.client = client;
    this.commands = commands;
  }

  void handle(String text) {
    JsonObject message;
    try {
      message = new JsonObject(text);
    } catch (DecodeException | ClassCastException e) {
      client.replyError(ErrorCode.BAD_FRAME, "text frames must be JSON objects");
      return;
    }
    Handler<JsonObject> command = commands.get(String.valueOf(message.getValue("type")));
    if (command == null) {
      client.replyError(ErrorCode.UNKNOWN_TYPE, "unknown message type '" + message.getValue("type") + "'; expected one of "
          + commands.keySet().stream().sorted().toList());
      return;
    }
    try {
      command.handle(message);
    } catch (MeshException e) {
      client.replyError(e.code(), e.getMessage());
    } catch (ClassCastException e) {
      client.replyError(ErrorCode.BAD_REQUEST, "a field of '" + message.getValue("type") + "' has the wrong type");
    }
  }
}
