package io.voicemesh.api.message;

/** One user's sessions, newest first: only active ones when {@code activeOnly}; at most {@code limit}. */
public record SessionList(String userId, boolean activeOnly, int limit) {
}
