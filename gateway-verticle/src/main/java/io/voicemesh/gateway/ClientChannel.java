package io.voicemesh.gateway;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshMetrics;

/**
 * The server side of the wire protocol for one connection: every event gets the next per-session
 * {@code seq}, the session id and a timestamp, goes to the client, and is published on
 * {@code session.<id>.events} for dashboards.
 */
final class ClientChannel {
  private final ServerWebSocket socket;
  private final EventBus bus;
  private String sessionId;
  private long seq;
  private boolean muted;

  ClientChannel(ServerWebSocket socket, EventBus bus) {
    this.socket = socket;
    this.bus = bus;
  }

  void session(String sessionId) {
    this.sessionId = sessionId;
  }

  void muted(boolean muted) {
    this.muted = muted;
  }

  /** Sends an event of {@code type} with {@code fields}; returns the event as sent. */
  JsonObject emit(String type, JsonObject fields) {
    JsonObject event = new JsonObject()
        .put("type", type)
        .put("seq", seq++)
        .put("sessionId", sessionId)
        .put("ts", System.currentTimeMillis())
        .mergeIn(fields);
    if (!socket.isClosed()) {
      socket.writeTextMessage(event.encode());
    }
    if (sessionId != null) {
      bus.publish(Addresses.sessionEvents(sessionId), event);
    }
    return event;
  }

  JsonObject emit(String type) {
    return emit(type, new JsonObject());
  }

  void error(ErrorCode code, String message) {
    MeshMetrics.error(code);
    emit("error", new JsonObject().put("code", code.wire()).put("message", message));
  }

  /** Agent audio: PCM16LE, unless the client muted the agent. */
  void audio(Buffer pcm) {
    if (!muted && !socket.isClosed()) {
      socket.writeBinaryMessage(pcm);
    }
  }
}
