package io.voicemesh.gateway;

import io.voicemesh.api.event.ConversationEvent;
import io.voicemesh.api.event.ConversationEvent.AgentCompleted;
import io.voicemesh.api.event.ConversationEvent.AgentDelta;
import io.voicemesh.api.event.ConversationEvent.AgentResponse;
import io.voicemesh.api.event.ConversationEvent.AgentStarted;
import io.voicemesh.api.event.ConversationEvent.AgentThinking;
import io.voicemesh.api.event.ConversationEvent.ToolCompleted;
import io.voicemesh.api.event.ConversationEvent.ToolExecuting;
import io.voicemesh.api.event.ConversationEvent.UserMessage;
import java.util.function.Consumer;

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
  private final Consumer<ConversationEvent> emit;
  private Stage stage = Stage.NEW;
  private final String userText;

  TurnEvents(String turnId, String userText, Consumer<ConversationEvent> emit) {
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

  void toolExecuting(ToolExecuting event) {
    during(event);
  }

  /** Also after agent_response: a call shown is always closed (its pair is worth more than the order). */
  void toolCompleted(ToolCompleted event) {
    if (stage != Stage.COMPLETED) {
      reach(Stage.THINKING);
      emit.accept(event);
    }
  }

  void functionCall(ConversationEvent.FunctionCall event) {
    during(event);
  }

  void delta(String text) {
    during(new AgentDelta(turnId, text));
  }

  /** {@code audio.start}, {@code audio.end}, {@code audio.clear}. */
  void audio(ConversationEvent.OfTurn event) {
    if (stage != Stage.COMPLETED) {
      reach(Stage.THINKING);
      emit.accept(event);
    }
  }

  /** The whole answer, once the model completed it. */
  void response(String text) {
    if (stage.compareTo(Stage.RESPONDED) < 0) {
      reach(Stage.THINKING);
      stage = Stage.RESPONDED;
      emit.accept(new AgentResponse(turnId, text));
    }
  }

  void completed(AgentCompleted event) {
    if (stage != Stage.COMPLETED) {
      reach(Stage.THINKING);
      stage = Stage.COMPLETED;
      emit.accept(event);
    }
  }

  /** An event of the answer in progress: after agent_thinking, before agent_response. */
  private void during(ConversationEvent event) {
    if (stage.compareTo(Stage.RESPONDED) < 0) {
      reach(Stage.THINKING);
      emit.accept(event);
    }
  }

  /** Sends the events of every stage from the current one up to {@code target}. */
  private void reach(Stage target) {
    while (stage.compareTo(target) < 0) {
      stage = Stage.values()[stage.ordinal() + 1];
      switch (stage) {
        case USER_MESSAGE -> emit.accept(new UserMessage(turnId, userText));
        case STARTED -> emit.accept(new AgentStarted(turnId));
        case THINKING -> emit.accept(new AgentThinking(turnId));
        default -> throw new IllegalStateException("no event for " + stage);
      }
    }
  }
}
