package io.voicemesh.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.engine.GenerationListener;
import io.voicemesh.api.engine.Toolbox;
import io.voicemesh.api.message.ChatMessage;
import io.voicemesh.api.message.GenerateRequest;
import io.voicemesh.api.message.ToolCall;
import io.voicemesh.api.message.ToolSpec;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

@ExtendWith(VertxExtension.class)
@DisplayName("The builtin demo agent")
class BuiltinAgentTest {
  private static final BuiltinTools TOOLS = new BuiltinTools(
      Clock.fixed(Instant.parse("2026-11-21T18:05:30Z"), ZoneId.of("UTC")));

  /** The builtin tools themselves, called in-process instead of over the bus. */
  private static final Toolbox IN_PROCESS = new Toolbox() {
    @Override
    public List<ToolSpec> specs() {
      return List.of(BuiltinTools.CURRENT_TIME, BuiltinTools.CALCULATE);
    }

    @Override
    public Future<JsonObject> call(String name, JsonObject arguments) {
      try {
        return Future.succeededFuture(name.equals("calculate") ? BuiltinTools.calculate(arguments) : TOOLS.currentTime());
      } catch (MeshException e) {
        return Future.failedFuture(e);
      }
    }
  };

  /** Records what the agent reports, in order. */
  private static final class Recorder implements GenerationListener {
    final List<String> deltas = new ArrayList<>();
    final List<String> tools = new ArrayList<>();

    @Override
    public void delta(String text) {
      deltas.add(text);
    }

    @Override
    public void toolStarted(ToolCall call) {
      tools.add("started " + call.name() + " " + call.arguments().encode());
    }

    @Override
    public void toolFinished(ToolCall call, JsonObject result, Throwable failure) {
      tools.add("finished " + call.name() + " " + (failure == null ? result.encode() : failure.getMessage()));
    }
  }

  @ParameterizedTest(name = "\"{0}\" → \"{1}\"")
  @CsvSource(delimiter = '|', value = {
      "what time is it | The time is 6:05 PM.",
      "while time is it | The time is 6:05 PM.",
      "what is the date today | Today is Saturday, November 21, 2026.",
      "what is twelve times seven | 12 times 7 is 84.",
      "i want is six times seven | 6 times 7 is 42.",
      "calculate eight times nine | 8 times 9 is 72.",
      "what is nine times eight | 9 times 8 is 72.",
      "what is one hundred and twelve plus three | 112 plus 3 is 115.",
      "what is ten divided by four | 10 divided by 4 is 2.5.",
      "what is five over zero | I can't divide 5 by zero.",
      "twenty minus thirty | 20 minus 30 is -10.",
      "hello there | Hello! I'm the VoiceMesh demo agent. Ask me the time, the date, or a sum like twelve times seven.",
      "the sea is blue | You said: the sea is blue.",
      "'' | Sorry, I didn't catch that."})
  void answers(String heard, String expected) {
    assertEquals(expected, new BuiltinAgent(null, 1).answer(heard, IN_PROCESS, new Recorder()).result());
  }

  @Test
  @DisplayName("asks its tools for the time and for sums, each call announced and closed once")
  void usesTools() {
    Recorder recorder = new Recorder();
    BuiltinAgent agent = new BuiltinAgent(null, 1);
    agent.answer("what is twelve times seven", IN_PROCESS, recorder).result();
    agent.answer("what time is it", IN_PROCESS, recorder).result();
    agent.answer("hello", IN_PROCESS, recorder).result();
    assertEquals(List.of(
        "started calculate {\"a\":12,\"op\":\"times\",\"b\":7}",
        "finished calculate {\"result\":\"84\"}",
        "started get_current_time {}",
        "finished get_current_time {\"time\":\"6:05 PM\",\"date\":\"Saturday, November 21, 2026\",\"timeZone\":\"UTC\"}"),
        recorder.tools);
  }

  @Test
  @DisplayName("the calculate tool is exact and refuses what it cannot do with bad_request")
  void calculateTool() {
    assertEquals("0.3", BuiltinTools.calculate(new JsonObject().put("a", 0.1).put("op", "plus").put("b", 0.2)).getString("result"));
    assertEquals("0.333333", BuiltinTools.calculate(new JsonObject().put("a", 1).put("op", "divided by").put("b", 3)).getString("result"));
    for (JsonObject bad : List.of(new JsonObject().put("a", 1).put("op", "divided by").put("b", 0),
        new JsonObject().put("a", 1).put("op", "modulo").put("b", 2), new JsonObject().put("a", "x").put("op", "plus").put("b", 2))) {
      assertEquals(ErrorCode.BAD_REQUEST, assertThrows(MeshException.class, () -> BuiltinTools.calculate(bad)).code());
    }
  }

  @Test
  @DisplayName("streams the answer in word-sized deltas that add up to the whole answer")
  void streamsDeltas(Vertx vertx, VertxTestContext test) {
    BuiltinAgent agent = new BuiltinAgent(vertx, 1);
    Recorder recorder = new Recorder();
    GenerateRequest request = new GenerateRequest("s", "t", "default",
        List.of(ChatMessage.assistant("earlier"), ChatMessage.user("what is twelve times seven")), "reply");
    vertx.runOnContext(v -> agent.generate(request, IN_PROCESS, recorder).result().onComplete(test.succeeding(text -> test.verify(() -> {
      assertEquals("12 times 7 is 84.", text);
      assertEquals(List.of("12 ", "times ", "7 ", "is ", "84."), recorder.deltas);
      test.completeNow();
    }))));
  }

  @Test
  @DisplayName("a cancelled answer completes with the words streamed so far")
  void cancel(Vertx vertx, VertxTestContext test) throws Exception {
    BuiltinAgent agent = new BuiltinAgent(vertx, 50);
    Recorder recorder = new Recorder();
    GenerateRequest request = new GenerateRequest("s", "t", "default", List.of(ChatMessage.user("hello")), "reply");
    vertx.runOnContext(v -> {
      var generation = agent.generate(request, IN_PROCESS, recorder);
      vertx.setTimer(120, t -> generation.cancel());
      generation.result().onComplete(test.succeeding(text -> test.verify(() -> {
        assertEquals(String.join("", recorder.deltas), text);
        assertTrue(recorder.deltas.size() >= 1 && recorder.deltas.size() < 5, "deltas: " + recorder.deltas);
        test.completeNow();
      })));
    });
    assertTrue(test.awaitCompletion(5, TimeUnit.SECONDS));
  }
}
