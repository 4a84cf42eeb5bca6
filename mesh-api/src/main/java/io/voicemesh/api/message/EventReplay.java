package io.voicemesh.api.message;

/** Reads a session's logged events with {@code seq > afterSeq}, oldest first, at most {@code limit}. */
public record EventReplay(String sessionId, long afterSeq, int limit) {
}
