package io.voicemesh.api.message;

/** Marks a session ended; later opens of it are refused. */
public record SessionEnd(String sessionId) {
}
