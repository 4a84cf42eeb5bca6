package io.voicemesh.api.message;

/** Reads one session ({@code SessionInfo}); {@code session_not_found} when there is none. */
public record SessionGet(String sessionId) {
}
