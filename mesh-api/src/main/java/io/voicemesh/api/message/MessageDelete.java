package io.voicemesh.api.message;

/** Removes the {@code role} message of turn {@code turnId} from the history the model sees. */
public record MessageDelete(String sessionId, String turnId, ChatMessage.Role role) {
}
