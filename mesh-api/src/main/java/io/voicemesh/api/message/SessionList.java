package io.voicemesh.api.message;

/**
 * One user's sessions, newest first: only active ones when {@code activeOnly}; at most {@code limit}.
 * A null {@code userId} lists every user's (for an admin's dashboard; the gateway checks who may).
 */
public record SessionList(String userId, boolean activeOnly, int limit) {
}
