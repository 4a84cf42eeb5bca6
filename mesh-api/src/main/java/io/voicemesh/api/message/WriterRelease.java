package io.voicemesh.api.message;

/**
 * Sent to a session's current writer ({@code Addresses.sessionWriter}) before another connection
 * takes the session over or the session ends: the writer stops its turn, waits (bounded) until its
 * events are stored, replies, and closes. {@code reason} is told to its client.
 */
public record WriterRelease(String reason) {
}
