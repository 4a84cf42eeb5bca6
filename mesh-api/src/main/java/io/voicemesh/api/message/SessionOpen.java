package io.voicemesh.api.message;

/**
 * Asks the session store for a session: {@code sessionId} null creates a new one, otherwise the
 * existing session is resumed (or {@code session_not_found}, or {@code forbidden} for another user).
 */
public record SessionOpen(String sessionId, String userId, String agent) {
}
