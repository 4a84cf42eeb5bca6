package io.voicemesh.api.message;

import java.util.List;

/**
 * Appends a writer's events to a session's log. Stored only while {@code writerId} still holds the
 * session's writer role; the reply ({@code EventAppended}) says how many were stored, so a writer that
 * was taken over learns it.
 */
public record EventAppend(String sessionId, String writerId, List<LoggedEvent> events) {
}
