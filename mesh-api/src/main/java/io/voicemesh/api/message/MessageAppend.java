package io.voicemesh.api.message;

/** Stores one message of a turn. */
public record MessageAppend(String sessionId, String turnId, ChatMessage.Role role, String text) {
}
