package io.voicemesh.gateway;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;

/**
 * What a {@code /v1/realtime} upgrade asks for. The token comes as the OpenAI SDKs send their API
 * key: {@code Authorization: Bearer}, or — from a browser, which cannot set headers — the
 * subprotocol {@code openai-insecure-api-key.<token>} (also {@code ?token=}). {@code ?model=}
 * names the agent. The session is always a new one, its audio PCM16 at 24 kHz until
 * {@code session.update} says otherwise; {@code OpenAI-Beta: realtime=v1} asks for the beta event names.
 */
final class RealtimeUpgrade {
  static final String PATH = "/v1/realtime";
  /** The subprotocol the gateway answers with (the SDKs offer it beside the key). */
  static final String SUBPROTOCOL = "realtime";
  private static final String KEY_PREFIX = "openai-insecure-api-key.";

  private RealtimeUpgrade() {
  }

  /** The token of a browser's subprotocol list, or null. */
  static String subprotocolToken(HttpServerRequest http) {
    String offered = http.getHeader("Sec-WebSocket-Protocol");
    if (offered == null) {
      return null;
    }
    for (String protocol : offered.split(",")) {
      String name = protocol.trim();
      if (name.startsWith(KEY_PREFIX)) {
        return name.substring(KEY_PREFIX.length());
      }
    }
    return null;
  }

  static boolean beta(HttpServerRequest http) {
    String beta = http.getHeader("OpenAI-Beta");
    String offered = http.getHeader("Sec-WebSocket-Protocol");
    return (beta != null && beta.contains("realtime=v1")) || (offered != null && offered.contains("openai-beta.realtime-v1"));
  }

  static Future<VoiceRequest> parse(MultiMap query, Caller caller, GatewaySettings settings) {
    try {
      return Future.succeededFuture(new VoiceRequest(caller, null, null, false, settings.agent(query.get("model")),
          RealtimeSession.Format.PCM.rateHz));
    } catch (MeshException e) {
      return Future.failedFuture(e);
    }
  }

  /** Whether a refused upgrade is told in the protocol (an error event, then close) rather than by HTTP status. */
  static boolean refusedInProtocol(Throwable failure) {
    ErrorCode code = MeshException.from(failure).code();
    return code == ErrorCode.AGENT_NOT_FOUND || code == ErrorCode.BAD_REQUEST;
  }

  /** An unknown or malformed model: the protocol's error event, then close 1008. */
  static void refuse(HttpServerRequest http, Throwable failure) {
    MeshException error = MeshException.from(failure);
    http.toWebSocket().onSuccess(socket -> {
      socket.writeTextMessage(new JsonObject().put("type", "error").put("event_id", "event_" + RealtimeEvents.shortId())
          .put("error", new JsonObject().put("type", "invalid_request_error").put("code", error.code().wire())
              .put("message", error.getMessage()).put("param", "model").put("event_id", null)).encode());
      socket.close((short) 1008, error.code().wire());
    });
  }
}
