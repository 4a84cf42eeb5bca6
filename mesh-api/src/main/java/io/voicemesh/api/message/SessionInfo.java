package io.voicemesh.api.message;

/** A session as the store knows it; times are epoch milliseconds, {@code endedAt} 0 while active. */
public record SessionInfo(String sessionId, String userId, String agent, String status,
    long createdAt, long lastActivity, long endedAt, boolean resumed) {
}
