package io.voicemesh.api.engine;

import io.vertx.core.json.JsonObject;
import io.voicemesh.api.message.ToolCall;

/** What an engine reports while it generates, on the verticle's context. */
public interface GenerationListener {

  void delta(String text);

  void toolStarted(ToolCall call);

  /** Exactly once per {@link #toolStarted}: {@code result}, or the {@code failure}. */
  void toolFinished(ToolCall call, JsonObject result, Throwable failure);

  /** The model called a tool the client runs: the generation ends after it (see {@code LlmEvent.ClientToolCall}). */
  default void clientToolCall(ToolCall call) {
  }
}
