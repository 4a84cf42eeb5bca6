package io.voicemesh.api.message;

/** Asks for the most recent {@code limit} messages of a session. */
public record ContextRequest(String sessionId, int limit) {
}
