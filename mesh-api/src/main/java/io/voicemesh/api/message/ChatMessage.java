package io.voicemesh.api.message;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.List;
import java.util.Locale;

/**
 * One message of a conversation, as an LLM sees it. Besides text: an assistant message may carry
 * the {@code toolCalls} the model made of tools the client runs, and a {@code TOOL} message the
 * client's output for one of them ({@code toolCallId}); those live in one exchange between two turns
 * (the session store keeps text messages only).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ChatMessage(Role role, String text, List<ToolCall> toolCalls, String toolCallId) {

  public ChatMessage(Role role, String text) {
    this(role, text, null, null);
  }

  public enum Role {
    SYSTEM, USER, ASSISTANT, TOOL;

    @JsonValue
    public String wire() {
      return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static Role ofWire(String wire) {
      return valueOf(wire.toUpperCase(Locale.ROOT));
    }
  }

  public static ChatMessage user(String text) {
    return new ChatMessage(Role.USER, text);
  }

  public static ChatMessage assistant(String text) {
    return new ChatMessage(Role.ASSISTANT, text);
  }

  public static ChatMessage system(String text) {
    return new ChatMessage(Role.SYSTEM, text);
  }

  /** The model's calls of tools the client runs. */
  public static ChatMessage toolCalls(List<ToolCall> calls) {
    return new ChatMessage(Role.ASSISTANT, null, List.copyOf(calls), null);
  }

  /** The client's output of call {@code callId}. */
  public static ChatMessage toolOutput(String callId, String output) {
    return new ChatMessage(Role.TOOL, output, null, callId);
  }
}
