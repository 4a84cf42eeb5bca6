package io.voicemesh.api.message;

import io.vertx.core.json.JsonObject;

/**
 * Asks the session store for a session: {@code sessionId} null creates a new one (with {@code agent}
 * and {@code metadata}), otherwise the existing session is resumed (or {@code session_not_found},
 * {@code forbidden} for another user, {@code session_ended}).
 *
 * <p>A non-null {@code writerId} makes that connection the session's only event writer: the store
 * fences out appends from any earlier writer, and the reply's {@code lastSeq} is where the new
 * writer continues the session's event sequence.
 */
public record SessionOpen(String sessionId, String userId, String agent, JsonObject metadata, String writerId) {

  /** Open without metadata and without taking the writer role. */
  public SessionOpen(String sessionId, String userId, String agent) {
    this(sessionId, userId, agent, null, null);
  }
}
