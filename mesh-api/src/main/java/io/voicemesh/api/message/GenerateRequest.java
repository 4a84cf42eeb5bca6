package io.voicemesh.api.message;

import java.util.List;

/**
 * One agent turn for an LLM worker. The worker is stateless: {@code messages} holds the history
 * from the session store and the user's new message last. Events go to {@code replyAddress}.
 */
public record GenerateRequest(String sessionId, String turnId, String agent, List<ChatMessage> messages,
    String replyAddress) {
}
