package io.voicemesh.api.message;

import io.vertx.core.json.JsonObject;

/**
 * A session as the store knows it; times are epoch milliseconds, {@code endedAt} 0 while active.
 * {@code turns} counts the user's messages; {@code lastSeq} is the newest event in the session's
 * event log (0 before the first).
 */
public record SessionInfo(String sessionId, String userId, String agent, String status,
    long createdAt, long lastActivity, long endedAt, boolean resumed, JsonObject metadata, int turns, long lastSeq) {
}
