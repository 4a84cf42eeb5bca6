package io.voicemesh.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.json.JsonObject;
import io.voicemesh.api.event.ConversationEvent;
import io.voicemesh.api.event.ConversationEvent.AgentCompleted;
import io.voicemesh.api.event.ConversationEvent.AudioEnd;
import io.voicemesh.api.event.ConversationEvent.AudioStart;
import io.voicemesh.api.event.ConversationEvent.ToolCompleted;
import io.voicemesh.api.event.ConversationEvent.ToolExecuting;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("A turn's client events")
class TurnEventsTest {
  private final List<ConversationEvent> sent = new ArrayList<>();
  private final TurnEvents events = new TurnEvents("t1", "what is twelve times seven", sent::add);

  private List<String> types() {
    return sent.stream().map(ConversationEvent::type).toList();
  }

  private static ToolExecuting executing(String callId) {
    return new ToolExecuting("t1", callId, "calculator", new JsonObject());
  }

  private static ToolCompleted completedCall(String callId) {
    return new ToolCompleted("t1", callId, "calculator", new JsonObject(), null, null);
  }

  private static AgentCompleted done(boolean interrupted) {
    return new AgentCompleted("t1", interrupted, "", new JsonObject(), new JsonObject(), null, null);
  }

  @Test
  @DisplayName("a tool call that arrives before the worker's acceptance still comes after agent_thinking")
  void toolBeforeAcceptance() {
    events.userMessage();
    events.started();
    events.toolExecuting(executing("c1"));
    events.toolCompleted(completedCall("c1"));
    events.thinking();
    events.delta("84");
    events.response("84");
    events.completed(done(false));
    assertEquals(List.of("user_message", "agent_started", "agent_thinking", "tool_executing", "tool_completed",
        "agent_response.delta", "agent_response", "agent_completed"), types());
    sent.forEach(e -> assertEquals("t1", e.fields().getString("turnId")));
    assertEquals("what is twelve times seven", sent.get(0).fields().getString("text"));
  }

  @Test
  @DisplayName("a turn that ends before any worker took it still sends every stage once")
  void endsEarly() {
    events.completed(done(true));
    events.userMessage();
    events.started();
    events.delta("late");
    events.audio(new AudioStart("t1", 16_000));
    assertEquals(List.of("user_message", "agent_started", "agent_thinking", "agent_completed"), types(),
        "nothing after agent_completed");
  }

  @Test
  @DisplayName("nothing of the answer follows agent_response but the close of a tool call")
  void afterResponse() {
    events.userMessage();
    events.started();
    events.thinking();
    events.thinking();
    events.response("Hi.");
    events.delta("late");
    events.toolExecuting(executing("c1"));
    events.toolCompleted(completedCall("c0"));
    events.response("again");
    events.audio(new AudioEnd("t1", 0));
    events.completed(done(false));
    events.completed(done(false));
    assertEquals(List.of("user_message", "agent_started", "agent_thinking", "agent_response", "tool_completed",
        "audio.end", "agent_completed"), types());
  }
}
