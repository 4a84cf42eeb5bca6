package io.voicemesh.api.message;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.ErrorCode;

/**
 * The stream an LLM worker sends for a turn: deltas and tool calls, then exactly one
 * {@link LlmDone} or {@link LlmFailed}. Every {@link ToolStarted} is followed by its
 * {@link ToolFinished}, also when the turn is cancelled meanwhile. {@code seq} counts from 0
 * within the turn.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
    @JsonSubTypes.Type(value = LlmEvent.LlmDelta.class, name = "delta"),
    @JsonSubTypes.Type(value = LlmEvent.LlmDone.class, name = "done"),
    @JsonSubTypes.Type(value = LlmEvent.LlmFailed.class, name = "failed"),
    @JsonSubTypes.Type(value = LlmEvent.ToolStarted.class, name = "tool.started"),
    @JsonSubTypes.Type(value = LlmEvent.ToolFinished.class, name = "tool.finished"),
    @JsonSubTypes.Type(value = LlmEvent.ClientToolCall.class, name = "tool.client")
})
public sealed interface LlmEvent {

  String turnId();

  long seq();

  record LlmDelta(String turnId, long seq, String text) implements LlmEvent {
  }

  /** The turn's whole answer. */
  record LlmDone(String turnId, long seq, String text) implements LlmEvent {
  }

  record LlmFailed(String turnId, long seq, ErrorCode code, String message) implements LlmEvent {
  }

  record ToolStarted(String turnId, long seq, ToolCall call) implements LlmEvent {
  }

  /** The call's outcome: {@code result}, or {@code code} and {@code error} when it failed. */
  record ToolFinished(String turnId, long seq, ToolCall call, JsonObject result, ErrorCode code, String error)
      implements LlmEvent {
  }

  /**
   * The model called a tool the client runs ({@code GenerateRequest.clientTools}): the client gets
   * the call; the turn's answer ends with it (an {@link LlmDone} follows).
   */
  record ClientToolCall(String turnId, long seq, ToolCall call) implements LlmEvent {
  }
}
