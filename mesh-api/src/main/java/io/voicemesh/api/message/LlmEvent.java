package io.voicemesh.api.message;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.voicemesh.api.ErrorCode;

/**
 * The stream an LLM worker sends for a turn: deltas, then exactly one {@link LlmDone} or
 * {@link LlmFailed}. {@code seq} counts from 0 within the turn.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
    @JsonSubTypes.Type(value = LlmEvent.LlmDelta.class, name = "delta"),
    @JsonSubTypes.Type(value = LlmEvent.LlmDone.class, name = "done"),
    @JsonSubTypes.Type(value = LlmEvent.LlmFailed.class, name = "failed")
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
}
