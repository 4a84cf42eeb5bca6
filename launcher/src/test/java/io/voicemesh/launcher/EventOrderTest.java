package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

@DisplayName("The event-order check every conversation test runs")
class EventOrderTest {
  /** Events of turn t1 by type; "tool_executing:c1" gives a callId; seq counts from 1. */
  private static List<JsonObject> turn(String... types) {
    List<JsonObject> events = new ArrayList<>();
    events.add(new JsonObject().put("type", "session.ready").put("seq", 0L).put("resumed", false).put("role", "speaker"));
    for (String spec : types) {
      String[] parts = spec.split(":");
      JsonObject event = new JsonObject().put("type", parts[0]).put("seq", (long) events.size()).put("turnId", "t1");
      if (parts.length > 1) {
        event.put("callId", parts[1]);
      }
      events.add(event);
    }
    return events;
  }

  @Test
  @DisplayName("passes a whole turn with tools, deltas, audio; and a turn cut off by the client leaving")
  void passes() {
    assertDoesNotThrow(() -> EventOrder.check(turn("user_message", "agent_started", "agent_thinking",
        "tool_executing:c1", "tool_completed:c1", "agent_response.delta", "audio.start", "agent_response.delta",
        "agent_response", "audio.end", "agent_completed")));
    assertDoesNotThrow(() -> EventOrder.check(turn("user_message", "agent_started", "agent_thinking",
        "audio.start", "audio.clear", "agent_completed")), "interrupted, no agent_response");
    assertDoesNotThrow(() -> EventOrder.check(turn("user_message", "agent_started")), "the client left mid-turn");
  }

  static Stream<Arguments> broken() {
    return Stream.of(
        Arguments.of("agent_thinking after tool_executing (issue 15)", new String[] {"user_message", "agent_started",
            "tool_executing:c1", "agent_thinking", "tool_completed:c1", "agent_response", "agent_completed"}),
        Arguments.of("agent_thinking skipped", new String[] {"user_message", "agent_started", "agent_completed"}),
        Arguments.of("agent_started twice", new String[] {"user_message", "agent_started", "agent_started",
            "agent_thinking", "agent_completed"}),
        Arguments.of("a tool call never closed", new String[] {"user_message", "agent_started", "agent_thinking",
            "tool_executing:c1", "agent_completed"}),
        Arguments.of("a tool closed that never started", new String[] {"user_message", "agent_started",
            "agent_thinking", "tool_completed:c9", "agent_completed"}),
        Arguments.of("a delta after agent_response", new String[] {"user_message", "agent_started", "agent_thinking",
            "agent_response", "agent_response.delta", "agent_completed"}),
        Arguments.of("an event after agent_completed", new String[] {"user_message", "agent_started",
            "agent_thinking", "agent_completed", "audio.end"}),
        Arguments.of("no user_message", new String[] {"agent_started", "agent_thinking", "agent_completed"}),
        Arguments.of("audio.clear before audio.start", new String[] {"user_message", "agent_started",
            "agent_thinking", "audio.clear", "agent_completed"}));
  }

  @ParameterizedTest(name = "fails on {0}")
  @MethodSource("broken")
  void fails(String name, String[] types) {
    AssertionError error = assertThrows(AssertionError.class, () -> EventOrder.check(turn(types)));
    assertTrue(error.getMessage().contains("t1"), error.getMessage());
  }

  @Test
  @DisplayName("a client that resumed a session may see a turn from its middle")
  void joinedLate() {
    List<JsonObject> events = turn("agent_thinking", "agent_completed");
    events.get(0).put("resumed", true);
    assertDoesNotThrow(() -> EventOrder.check(events));
  }
}
