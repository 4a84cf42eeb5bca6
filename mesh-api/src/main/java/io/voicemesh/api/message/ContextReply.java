package io.voicemesh.api.message;

import java.util.List;

/** The recent messages of a session, oldest first. */
public record ContextReply(List<ChatMessage> messages) {
}
