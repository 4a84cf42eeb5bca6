package io.voicemesh.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.message.LlmEvent;
import io.voicemesh.api.message.ToolCall;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
@DisplayName("Tool events of a turn")
class ToolEventsTest {
  private final List<String> shown = new ArrayList<>();

  private ToolEvents tools(Vertx vertx) {
    return new ToolEvents(vertx, new ToolEvents.Sink() {
      @Override
      public void executing(ToolCall call) {
        shown.add("executing:" + call.callId());
      }

      @Override
      public void completed(String callId, ToolCall call, JsonObject result, ErrorCode code, String error) {
        shown.add("completed:" + callId + ":" + (code == null ? result.getString("r") : code.wire()));
      }
    });
  }

  private static ToolCall call(String id, int a) {
    return new ToolCall(id, "calculate", new JsonObject().put("a", a));
  }

  private static LlmEvent.ToolFinished done(ToolCall call, String result) {
    return new LlmEvent.ToolFinished("t", 0, call, new JsonObject().put("r", result), null, null);
  }

  @Test
  @DisplayName("pairs each call with its outcome, once")
  void pairs(Vertx vertx) {
    ToolEvents tools = tools(vertx);
    tools.started(call("c1", 1), 1);
    tools.started(call("c2", 2), 1);
    tools.finished(done(call("c2", 2), "two"));
    tools.finished(done(call("c1", 1), "one"));
    tools.finished(done(call("c1", 1), "again"));
    assertEquals(List.of("executing:c1", "executing:c2", "completed:c2:two", "completed:c1:one"), shown);
    assertTrue(tools.settled(10).isComplete(), "nothing open");
  }

  @Test
  @DisplayName("a retried attempt's same call is not shown twice; its outcome closes the call the client saw")
  void retriedCall(Vertx vertx) {
    ToolEvents tools = tools(vertx);
    tools.started(call("c1", 1), 1);
    tools.started(call("r1", 1), 2);
    tools.finished(done(call("r1", 1), "from the retry"));
    tools.started(call("r2", 7), 2);
    assertEquals(List.of("executing:c1", "completed:c1:from the retry", "executing:r2"), shown);
  }

  @Test
  @DisplayName("a call already closed and made again by the retry shows nothing more")
  void retriedClosedCall(Vertx vertx) {
    ToolEvents tools = tools(vertx);
    tools.started(call("c1", 1), 1);
    tools.finished(done(call("c1", 1), "one"));
    tools.started(call("r1", 1), 2);
    tools.finished(done(call("r1", 1), "one again"));
    assertEquals(List.of("executing:c1", "completed:c1:one"), shown);
  }

  @Test
  @DisplayName("a call with no outcome in time is closed with engine_unavailable")
  void closesLateCalls(Vertx vertx) throws Exception {
    ToolEvents tools = tools(vertx);
    Future<Void> settled = vertx.<Future<Void>>executeBlocking(() -> null)
        .compose(v -> {
          tools.started(call("c1", 1), 1);
          return tools.settled(50);
        });
    settled.await(5, TimeUnit.SECONDS);
    assertEquals(List.of("executing:c1", "completed:c1:engine_unavailable"), shown);
  }
}
