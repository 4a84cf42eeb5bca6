package io.voicemesh.gateway;

import io.vertx.core.json.JsonObject;
import java.util.function.BiConsumer;

/**
 * The client-visible events of one turn, in the order the protocol promises on every path —
 * answered, failed, interrupted, retried on another node:
 *
 * <pre>
 * user_message → agent_started → agent_thinking → (tool_executing → tool_completed)* · agent_response.delta*
 *              → agent_response (when the answer was completed) → agent_completed
 * </pre>
 * The stages of a turn run on different nodes and their reports race (the LLM worker's first tool
 * call can arrive before its reply to {@code llm.generate}). So an event whose predecessors were not
 * sent yet sends them first, an event of a stage already passed is not sent again, and nothing of
 * the turn is sent after {@code agent_completed}. Audio events ({@code audio.*}) come between
 * {@code agent_thinking} and {@code agent_completed}.
 */
final class TurnEvents {
  private enum Stage { NEW, USER_MESSAGE, STARTED, THINKING, RESPONDED, COMPLETED }

  private final String turnId;
  private final BiConsumer<String, JsonObject> emit;
  private Stage stage = Stage.NEW;
  private final String userText;

  TurnEvents(String turnId, String userText, BiConsumer<String, JsonObject> emit) {
    this.turnId = turnId;
    this.userText = userText;
    this.emit = emit;
  }

  void userMessage() {
    reach(Stage.USER_MESSAGE);
  }

  void started() {
    reach(Stage.STARTED);
  }

  /** An LLM worker took the turn; the model is working. */
  void thinking() {
    reach(Stage.THINKING);
  }

  void toolExecuting(JsonObject fields) {
    during("tool_executing", fields);
  }

  /** Also after agent_response: a call shown is always closed (its pair is worth more than the order). */
  void toolCompleted(JsonObject fields) {
    if (stage != Stage.COMPLETED) {
      reach(Stage.THINKING);
      send("tool_completed", fields);
    }
  }

  void delta(String text) {
    during("agent_response.delta", new JsonObject().put("delta", text));
  }

  /** {@code audio.start}, {@code audio.end}, {@code audio.clear}. */
  void audio(String type, JsonObject fields) {
    if (stage != Stage.COMPLETED) {
      reach(Stage.THINKING);
      send(type, fields);
    }
  }

  /** The whole answer, once the model completed it. */
  void response(String text) {
    if (stage.compareTo(Stage.RESPONDED) < 0) {
      reach(Stage.THINKING);
      stage = Stage.RESPONDED;
      send("agent_response", new JsonObject().put("text", text));
    }
  }

  void completed(JsonObject fields) {
    if (stage != Stage.COMPLETED) {
      reach(Stage.THINKING);
      stage = Stage.COMPLETED;
      send("agent_completed", fields);
    }
  }

  /** An event of the answer in progress: after agent_thinking, before agent_response. */
  private void during(String type, JsonObject fields) {
    if (stage.compareTo(Stage.RESPONDED) < 0) {
      reach(Stage.THINKING);
      send(type, fields);
    }
  }

  /** Sends the events of every stage from the current one up to {@code target}. */
  private void reach(Stage target) {
    while (stage.compareTo(target) < 0) {
      stage = Stage.values()[stage.ordinal() + 1];
      switch (stage) {
        case USER_MESSAGE -> send("user_message", new JsonObject().put("text", userText));
        case STARTED -> send("agent_started", new JsonObject());
        case THINKING -> send("agent_thinking", new JsonObject());
        default -> throw new IllegalStateException("no event for " + stage);
      }
    }
  }

  private void send(String type, JsonObject fields) {
    emit.accept(type, new JsonObject().put("turnId", turnId).mergeIn(fields));
  }
}
