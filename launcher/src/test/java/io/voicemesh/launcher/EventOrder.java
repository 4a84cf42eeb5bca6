package io.voicemesh.launcher;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The event-order contract of a turn, checked on what a client received:
 *
 * <pre>
 * user_message → agent_started → agent_thinking → (tool_executing → tool_completed)* · agent_response.delta*
 *              → agent_response (when the answer was completed) → agent_completed
 * </pre>
 * Each of user_message, agent_started, agent_thinking and agent_completed once per turn and none
 * skipped; every tool_executing closed by one tool_completed with its callId before agent_response
 * and agent_completed; audio.* between agent_thinking and agent_completed; nothing of a turn after
 * its agent_completed. A turn still going when the client stopped listening may end early (its
 * prefix is checked). A client that joined a running session (resumed, or a listener) may see a turn
 * from its middle: such a turn is left out.
 *
 * <p>{@link VoiceClient#close} runs it on every client, so every conversation test checks it.
 */
final class EventOrder {
  private static final Set<String> TURN_EVENTS = Set.of("user_message", "agent_started", "agent_thinking",
      "tool_executing", "tool_completed", "agent_response.delta", "agent_response", "audio.start", "audio.end",
      "audio.clear", "agent_completed");
  private static final List<String> STAGES = List.of("user_message", "agent_started", "agent_thinking");

  private EventOrder() {
  }

  /** Throws an AssertionError unless {@code expected} appear in this order in {@code types} (others may stand between). */
  static void assertInOrder(List<String> expected, List<String> types) {
    int at = 0;
    for (String type : expected) {
      int found = types.subList(at, types.size()).indexOf(type);
      if (found < 0) {
        throw new AssertionError(type + " missing after position " + at + " in " + types);
      }
      at += found + 1;
    }
  }

  /** Throws an AssertionError naming the first broken rule; {@code events} as received, in order. */
  static void check(List<JsonObject> events) {
    boolean joinedLate = events.stream().anyMatch(e -> "session.ready".equals(e.getString("type"))
        && (e.getBoolean("resumed", false) || "listener".equals(e.getString("role"))));
    Set<Long> seen = new HashSet<>();
    Map<String, List<String>> turns = new LinkedHashMap<>();
    Map<String, List<JsonObject>> turnEvents = new LinkedHashMap<>();
    for (JsonObject event : events) {
      String type = event.getString("type");
      Long seq = event.getLong("seq");
      if (!TURN_EVENTS.contains(type) || (seq != null && !seen.add(seq))) {
        continue; // not a turn's event, or a replay of one already seen
      }
      String turnId = event.getString("turnId");
      if (turnId == null) {
        throw new AssertionError(type + " without a turnId: " + event.encode());
      }
      turnEvents.computeIfAbsent(turnId, t -> new ArrayList<>()).add(event);
    }
    turnEvents.forEach((turnId, list) -> {
      if (joinedLate && !"user_message".equals(list.get(0).getString("type"))) {
        return; // begun before this client came
      }
      checkTurn(turnId, list);
    });
  }

  private static void checkTurn(String turnId, List<JsonObject> events) {
    List<String> types = events.stream().map(e -> e.getString("type")).toList();
    int stage = 0; // how many of user_message, agent_started, agent_thinking have come
    Set<String> openCalls = new HashSet<>();
    Set<String> calls = new HashSet<>();
    boolean responded = false;
    boolean audioStarted = false;
    boolean completed = false;
    for (JsonObject event : events) {
      String type = event.getString("type");
      String where = "turn " + turnId + ": " + type + " in " + types;
      if (completed) {
        throw new AssertionError(where + ": nothing of a turn comes after its agent_completed");
      }
      int expectedStage = STAGES.indexOf(type);
      if (expectedStage >= 0) {
        if (stage != expectedStage) {
          throw new AssertionError(where + ": expected " + (stage < STAGES.size() ? STAGES.get(stage) : "no")
              + " here; " + String.join(" → ", STAGES) + " come once each, first, in this order");
        }
        stage++;
        continue;
      }
      if (stage < STAGES.size()) {
        throw new AssertionError(where + ": comes before " + STAGES.get(stage));
      }
      switch (type) {
        case "tool_executing" -> {
          String callId = event.getString("callId");
          if (responded || !calls.add(callId)) {
            throw new AssertionError(where + ": a tool call starts once, before agent_response");
          }
          openCalls.add(callId);
        }
        case "tool_completed" -> {
          if (!openCalls.remove(event.getString("callId"))) {
            throw new AssertionError(where + ": tool_completed without its open tool_executing");
          }
          if (responded) {
            throw new AssertionError(where + ": tool_completed after agent_response");
          }
        }
        case "agent_response.delta" -> {
          if (responded) {
            throw new AssertionError(where + ": a delta after agent_response");
          }
        }
        case "agent_response" -> {
          if (responded || !openCalls.isEmpty()) {
            throw new AssertionError(where + ": agent_response once, after every tool call closed " + openCalls);
          }
          responded = true;
        }
        case "audio.start" -> {
          if (audioStarted) {
            throw new AssertionError(where + ": audio.start twice");
          }
          audioStarted = true;
        }
        case "audio.end", "audio.clear" -> {
          if (!audioStarted) {
            throw new AssertionError(where + ": before audio.start");
          }
        }
        case "agent_completed" -> {
          if (!openCalls.isEmpty()) {
            throw new AssertionError(where + ": tool calls never closed " + openCalls);
          }
          completed = true;
        }
        default -> throw new AssertionError(where + ": unknown turn event");
      }
    }
  }
}
