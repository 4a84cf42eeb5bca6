package io.voicemesh.gateway;

import io.vertx.core.Handler;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A connection's text messages: each must be a JSON object whose {@code type} names one of the
 * connection's commands. Anything else, and any command that refuses its message, is answered
 * with an error reply; the connection goes on.
 */
final class TextCommands {
  private static final Logger LOG = LoggerFactory.getLogger(TextCommands.class);
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
    String type = String.valueOf(message.getValue("type"));
    Handler<JsonObject> command = commands.get(type);
    if (command == null) {
      client.replyError(ErrorCode.UNKNOWN_TYPE, "unknown message type '" + shortened(type) + "'; expected one of "
          + commands.keySet().stream().sorted().toList());
      return;
    }
    try {
      command.handle(message);
    } catch (MeshException e) {
      client.replyError(e.code(), e.getMessage());
    } catch (ClassCastException e) {
      client.replyError(ErrorCode.BAD_REQUEST, "a field of '" + type + "' has the wrong type");
    } catch (RuntimeException e) {
      // A bug, not the client's fault: one line (the type is one of ours; the exception's text may
      // quote the client, so only its class and where it was thrown), and a clean answer.
      StackTraceElement at = e.getStackTrace().length == 0 ? null : e.getStackTrace()[0];
      LOG.error("'{}' command failed: {} at {}", type, e.getClass().getName(), at);
      client.replyError(ErrorCode.INTERNAL, "the '" + type + "' command failed; this is a bug, please report it");
    }
  }

  private static String shortened(String text) {
    return text.length() <= 64 ? text : text.substring(0, 64) + "…";
  }
}
