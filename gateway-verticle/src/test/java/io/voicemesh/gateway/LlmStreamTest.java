package io.voicemesh.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.message.LlmEvent;
import io.voicemesh.api.message.ToolCall;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
@DisplayName("The LLM stream of a turn")
class LlmStreamTest {
  private static final String TURN = "t1";
  private final List<String> heard = new ArrayList<>();
  /** The accept promise of each attempt asked, in order. */
  private final List<Promise<String>> asked = new ArrayList<>();

  private final LlmStream.Listener listener = new LlmStream.Listener() {
    @Override
    public void llmAccepted() {
      heard.add("accepted");
    }

    @Override
    public void llmDelta(String fresh) {
      heard.add("delta:" + fresh);
    }

    @Override
    public void llmToolStarted(ToolCall call, int attempt) {
      heard.add("tool:" + call.callId() + "@" + attempt);
    }

    @Override
    public void llmToolFinished(LlmEvent.ToolFinished finished) {
      heard.add("toolDone:" + finished.call().callId());
    }

    @Override
    public void llmClientToolCall(ToolCall call) {
      heard.add("clientTool:" + call.callId());
    }

    @Override
    public void llmDone(String heardText, String text) {
      heard.add("done:" + heardText + "|" + text);
    }

    @Override
    public void llmFailed(MeshException error) {
      heard.add("failed:" + error.code().wire());
    }
  };

  private LlmStream stream(Vertx vertx, long idleMs) {
    return new LlmStream(vertx, idleMs, attempt -> {
      Promise<String> accept = Promise.promise();
      asked.add(accept);
      return accept.future();
    }, listener);
  }

  private static LlmEvent delta(String text) {
    return new LlmEvent.LlmDelta(TURN, 0, text);
  }

  @Test
  @DisplayName("passes the answer on and says once that a worker took it")
  void answers(Vertx vertx) {
    LlmStream stream = stream(vertx, 60_000);
    stream.start();
    asked.get(0).complete("node-a");
    stream.event(delta("Hello "), 1);
    stream.event(delta("there."), 1);
    stream.event(new LlmEvent.LlmDone(TURN, 2, "Hello there."), 1);
    assertEquals(List.of("accepted", "delta:Hello ", "delta:there.", "done:Hello there.|Hello there."), heard);
    assertEquals("node-a", stream.node());
    assertTrue(stream.ended().isComplete());
  }

  @Test
  @DisplayName("a retry on another node sends only the words beyond those the client has, and ignores the lost attempt")
  void retryResumes(Vertx vertx) {
    LlmStream stream = stream(vertx, 60_000);
    stream.start();
    asked.get(0).complete("node-a");
    stream.event(delta("One two "), 1);
    stream.nodeLeft("node-b");
    assertEquals(1, asked.size(), "another node leaving changes nothing");
    stream.nodeLeft("node-a");
    assertEquals(2, asked.size(), "asked once more");
    asked.get(1).complete("node-c");
    stream.event(delta("late words"), 1);
    stream.event(delta("One "), 2);
    stream.event(delta("two three."), 2);
    stream.event(new LlmEvent.LlmDone(TURN, 3, "One two three."), 2);
    assertEquals(List.of("accepted", "delta:One two ", "delta:three.", "done:One two three.|One two three."), heard);
    assertEquals("node-c", stream.node());
  }

  @Test
  @DisplayName("a retry that answers differently ends the answer with engine_unavailable")
  void retryDiverges(Vertx vertx) {
    LlmStream stream = stream(vertx, 60_000);
    stream.start();
    asked.get(0).complete("node-a");
    stream.event(delta("Yes, "), 1);
    stream.nodeLeft("node-a");
    asked.get(1).complete("node-b");
    stream.event(delta("No."), 2);
    stream.event(delta(" more"), 2);
    assertEquals(List.of("accepted", "delta:Yes, ", "failed:engine_unavailable"), heard);
    assertTrue(stream.ended().isComplete());
  }

  @Test
  @DisplayName("a worker lost twice fails the answer")
  void lostTwice(Vertx vertx) {
    LlmStream stream = stream(vertx, 60_000);
    stream.start();
    asked.get(0).complete("node-a");
    stream.nodeLeft("node-a");
    asked.get(1).complete("node-b");
    stream.nodeLeft("node-b");
    assertEquals(2, asked.size());
    assertEquals(List.of("accepted", "failed:engine_unavailable"), heard);
  }

  @Test
  @DisplayName("no worker to take the request fails the answer with the request's error")
  void notTaken(Vertx vertx) {
    LlmStream stream = stream(vertx, 60_000);
    stream.start();
    asked.get(0).fail(new MeshException(ErrorCode.CAPACITY, "full"));
    assertEquals(List.of("failed:capacity"), heard);
    assertNull(stream.node());
  }

  @Test
  @DisplayName("tool events pass also after the stream was stopped; text does not")
  void toolsAfterStop(Vertx vertx) {
    LlmStream stream = stream(vertx, 60_000);
    stream.start();
    asked.get(0).complete("node-a");
    stream.stop();
    ToolCall call = new ToolCall("c1", "calculate", new JsonObject());
    stream.event(new LlmEvent.ToolStarted(TURN, 0, call), 1);
    stream.event(delta("ignored"), 1);
    stream.event(new LlmEvent.ToolFinished(TURN, 1, call, new JsonObject(), null, null), 1);
    assertTrue(!stream.ended().isComplete(), "the worker's stream has not ended yet");
    stream.event(new LlmEvent.LlmDone(TURN, 2, "ignored"), 1);
    assertEquals(List.of("accepted", "tool:c1@1", "toolDone:c1"), heard);
    assertTrue(stream.ended().isComplete(), "its done marker ends it");
  }

  @Test
  @DisplayName("a worker that says nothing for the idle timeout fails the answer")
  void watchdog(Vertx vertx, VertxTestContext test) {
    vertx.runOnContext(v -> {
      LlmStream stream = stream(vertx, 100);
      long start = System.nanoTime();
      stream.start();
      asked.get(0).complete("node-a");
      vertx.setTimer(60, t -> stream.event(delta("word "), 1)); // re-arms the watchdog
      vertx.setPeriodic(20, id -> {
        if (heard.contains("failed:engine_unavailable")) {
          vertx.cancelTimer(id);
          long ms = (System.nanoTime() - start) / 1_000_000;
          test.verify(() -> {
            assertTrue(ms >= 150, "failed after " + ms + " ms: the delta re-armed it");
            assertEquals(List.of("accepted", "delta:word ", "failed:engine_unavailable"), heard);
          });
          test.completeNow();
        }
      });
    });
  }
}
