package io.voicemesh.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.voicemesh.api.message.ChatMessage;
import io.voicemesh.api.message.GenerateRequest;
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
  private static final Clock SATURDAY_EVENING = Clock.fixed(Instant.parse("2026-11-21T18:05:30Z"), ZoneId.of("UTC"));

  @ParameterizedTest(name = "\"{0}\" → \"{1}\"")
  @CsvSource(delimiter = '|', value = {
      "what time is it | The time is 6:05 PM.",
      "while time is it | The time is 6:05 PM.",
      "what is the date today | Today is Saturday, November 21, 2026.",
      "what is twelve times seven | 12 times 7 is 84.",
      "i want is six times seven | 6 times 7 is 42.",
      "calculate eight times nine | 8 times 9 is 72.",
      "what is one hundred and twelve plus three | 112 plus 3 is 115.",
      "what is ten divided by four | 10 divided by 4 is 2.5.",
      "what is five over zero | I can't divide 5 by zero.",
      "twenty minus thirty | 20 minus 30 is -10.",
      "hello there | Hello! I'm the VoiceMesh demo agent. Ask me the time, the date, or a sum like twelve times seven.",
      "the sea is blue | You said: the sea is blue.",
      "'' | Sorry, I didn't catch that."})
  void answers(String heard, String expected) {
    assertEquals(expected, new BuiltinAgent(null, SATURDAY_EVENING, 1).answer(heard));
  }

  @Test
  @DisplayName("streams the answer in word-sized deltas that add up to the whole answer")
  void streamsDeltas(Vertx vertx, VertxTestContext test) {
    BuiltinAgent agent = new BuiltinAgent(vertx, SATURDAY_EVENING, 1);
    List<String> deltas = new ArrayList<>();
    GenerateRequest request = new GenerateRequest("s", "t", "default",
        List.of(ChatMessage.assistant("earlier"), ChatMessage.user("what is twelve times seven")), "reply");
    vertx.runOnContext(v -> agent.generate(request, deltas::add).result().onComplete(test.succeeding(text -> test.verify(() -> {
      assertEquals("12 times 7 is 84.", text);
      assertEquals(List.of("12 ", "times ", "7 ", "is ", "84."), deltas);
      test.completeNow();
    }))));
  }

  @Test
  @DisplayName("a cancelled answer completes with the words streamed so far")
  void cancel(Vertx vertx, VertxTestContext test) throws Exception {
    BuiltinAgent agent = new BuiltinAgent(vertx, SATURDAY_EVENING, 50);
    List<String> deltas = new ArrayList<>();
    GenerateRequest request = new GenerateRequest("s", "t", "default", List.of(ChatMessage.user("hello")), "reply");
    vertx.runOnContext(v -> {
      var generation = agent.generate(request, delta -> {
        deltas.add(delta);
      });
      vertx.setTimer(120, t -> generation.cancel());
      generation.result().onComplete(test.succeeding(text -> test.verify(() -> {
        assertEquals(String.join("", deltas), text);
        assertTrue(deltas.size() >= 1 && deltas.size() < 5, "deltas: " + deltas);
        test.completeNow();
      })));
    });
    assertTrue(test.awaitCompletion(5, TimeUnit.SECONDS));
  }
}
