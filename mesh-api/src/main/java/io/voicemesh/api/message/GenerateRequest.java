package io.voicemesh.api.message;

import java.util.List;

/**
 * One agent turn for an LLM worker. The worker is stateless: {@code messages} holds the history
 * from the session store and the user's new message last. Events go to {@code replyAddress}.
 */
public record GenerateRequest(String sessionId, String turnId, String agent, List<ChatMessage> messages,
    String replyAddress, int attempt) {
  /**
   * Each {@code LlmEvent} of the turn carries the request's {@code attempt} in this header: when a
   * turn is asked again of another node, events of the earlier attempt can be told apart.
   */
  public static final String ATTEMPT_HEADER = "attempt";

  public GenerateRequest(String sessionId, String turnId, String agent, List<ChatMessage> messages, String replyAddress) {
    this(sessionId, turnId, agent, messages, replyAddress, 1);
  }
}
