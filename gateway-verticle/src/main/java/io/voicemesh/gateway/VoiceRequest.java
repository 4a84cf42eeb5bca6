package io.voicemesh.gateway;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;

/**
 * What a {@code /v1/voice} upgrade asks for, from its query: {@code sessionId} (resume; a
 * session-scoped token implies it), {@code lastSeq} (the last session event the client has: the ones
 * after it are replayed), {@code role} ({@code speaker}, the default, or {@code listener}),
 * {@code agent} and {@code sampleRate} (new sessions).
 */
record VoiceRequest(Caller caller, String sessionId, Long lastSeq, boolean listener, String agent, int sampleRate) {

  static Future<VoiceRequest> parse(MultiMap query, Caller caller, GatewaySettings settings) {
    try {
      String sessionId = query.get("sessionId") != null ? query.get("sessionId") : caller.sessionScope();
      if (sessionId != null) {
        caller.mayReach(sessionId);
      }
      String role = query.get("role") == null ? "speaker" : query.get("role");
      if (!role.equals("speaker") && !role.equals("listener")) {
        throw new MeshException(ErrorCode.BAD_REQUEST, "role must be speaker or listener");
      }
      boolean listener = role.equals("listener");
      if (listener && sessionId == null) {
        throw new MeshException(ErrorCode.BAD_REQUEST, "a listener names the session it listens to (sessionId)");
      }
      Long lastSeq = query.get("lastSeq") == null ? null : number(query.get("lastSeq"), "lastSeq", 0, Long.MAX_VALUE);
      if (lastSeq != null && sessionId == null) {
        throw new MeshException(ErrorCode.BAD_REQUEST, "lastSeq resumes a session: give its sessionId too");
      }
      int rate = (int) number(query.get("sampleRate") == null ? "16000" : query.get("sampleRate"), "sampleRate",
          8_000, 48_000);
      String agent = settings.agent(query.get("agent"));
      return Future.succeededFuture(new VoiceRequest(caller, sessionId, lastSeq, listener, agent, rate));
    } catch (MeshException e) {
      return Future.failedFuture(e);
    }
  }

  private static long number(String value, String name, long min, long max) {
    try {
      long n = Long.parseLong(value);
      if (n >= min && n <= max) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new MeshException(ErrorCode.BAD_REQUEST, name + " must be a number from " + min + " to " + max);
  }
}
