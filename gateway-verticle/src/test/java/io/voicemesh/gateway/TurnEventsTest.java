package io.voicemesh.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("A turn's client events")
class TurnEventsTest {
  private final List<JsonObject> sent = new ArrayList<>();
  private final TurnEvents events = new TurnEvents("t1", "what is twelve times seven",
      (type, fields) -> sent.add(fields.put("type", type)));

  private List<String> types() {
    return sent.stream().map(e -> e.getString("type")).toList();
  }

  @Test
  @DisplayName("a tool call that arrives before the worker's acceptance still comes after agent_thinking")
  void toolBeforeAcceptance() {
    events.userMessage();
    events.started();
    events.toolExecuting(new JsonObject().put("callId", "c1"));
    events.toolCompleted(new JsonObject().put("callId", "c1"));
    events.thinking();
    events.delta("84");
    events.response("84");
    events.completed(new JsonObject().put("interrupted", false));
    assertEquals(List.of("user_message", "agent_started", "agent_thinking", "tool_executing", "tool_completed",
        "agent_response.delta", "agent_response", "agent_completed"), types());
    sent.forEach(e -> assertEquals("t1", e.getString("turnId")));
    assertEquals("what is twelve times seven", sent.get(0).getString("text"));
  }

  @Test
  @DisplayName("a turn that ends before any worker took it still sends every stage once")
  void endsEarly() {
    events.completed(new JsonObject().put("interrupted", true));
    events.userMessage();
    events.started();
    events.delta("late");
    events.audio("audio.start", new JsonObject());
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
    events.toolExecuting(new JsonObject().put("callId", "c1"));
    events.toolCompleted(new JsonObject().put("callId", "c0"));
    events.response("again");
    events.audio("audio.end", new JsonObject());
    events.completed(new JsonObject());
    events.completed(new JsonObject());
    assertEquals(List.of("user_message", "agent_started", "agent_thinking", "agent_response", "tool_completed",
        "audio.end", "agent_completed"), types());
  }
}
