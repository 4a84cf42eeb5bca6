package io.voicemesh.api.message;

import java.util.List;

/**
 * One agent turn for an LLM worker. The worker is stateless: {@code messages} holds the history
 * from the session store and the user's new message last (or, after a call of a client tool, the
 * call and the client's output). Events go to {@code replyAddress}.
 */
public record GenerateRequest(String sessionId, String turnId, String agent, List<ChatMessage> messages,
    String replyAddress, int attempt, List<ToolSpec> clientTools) {
  /**
   * Each {@code LlmEvent} of the turn carries the request's {@code attempt} in this header: when a
   * turn is asked again of another node, events of the earlier attempt can be told apart.
   */
  public static final String ATTEMPT_HEADER = "attempt";

  public GenerateRequest(String sessionId, String turnId, String agent, List<ChatMessage> messages, String replyAddress) {
    this(sessionId, turnId, agent, messages, replyAddress, 1, List.of());
  }

  /**
   * {@code clientTools}: tools the client runs itself (the Realtime protocol's function calling). A
   * model that calls one ends the turn with a {@link LlmEvent.ClientToolCall}; its output comes with
   * the next turn's messages. Engines that know no such thing (the builtin agent) ignore them.
   */
  public List<ToolSpec> clientTools() {
    return clientTools == null ? List.of() : clientTools;
  }
}
