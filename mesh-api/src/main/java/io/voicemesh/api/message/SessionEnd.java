package io.voicemesh.api.message;

/**
 * Marks a session ended; later opens of it are refused. The store appends a {@code session.ended}
 * event to the log, releases the writer role, and the session role publishes the event to the
 * session's connections, which then close.
 */
public record SessionEnd(String sessionId) {
}
