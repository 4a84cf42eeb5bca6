package io.voicemesh.gateway;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.message.LlmEvent;
import io.voicemesh.api.message.ToolCall;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Pairs one turn's tool events: every {@code tool_executing} shown gets exactly one
 * {@code tool_completed} — with the tool's outcome when it comes, or an error when it does not come
 * in time. When the answer is asked again of another LLM node, the retry makes the same calls
 * again: a call already shown (same name and arguments) is not shown twice, and its outcome closes
 * the call the client saw.
 */
final class ToolEvents {
  /** Where the paired events go: the client. */
  interface Sink {
    void executing(ToolCall call);

    /** {@code result}, or {@code code} and {@code error} when the call failed. */
    void completed(String callId, ToolCall call, JsonObject result, ErrorCode code, String error);
  }

  private final Vertx vertx;
  private final Sink sink;
  /** Calls shown to the client, by name and arguments, with the callId they were shown with. */
  private final Map<String, String> shown = new HashMap<>();
  /** A retried attempt's callIds: shown under an earlier callId, or not at all (null). */
  private final Map<String, String> retried = new HashMap<>();
  /** Calls shown and not yet closed, by callId. */
  private final Map<String, ToolCall> open = new LinkedHashMap<>();
  private Promise<Void> allClosed;

  ToolEvents(Vertx vertx, Sink sink) {
    this.vertx = vertx;
    this.sink = sink;
  }

  /** The LLM worker of attempt {@code attempt} started a call. */
  void started(ToolCall call, int attempt) {
    String signature = call.name() + call.arguments();
    String shownAs = shown.get(signature);
    if (shownAs != null && attempt > 1) {
      // A retried answer makes the same call again: the client saw it once (and its outcome, if any).
      retried.put(call.callId(), open.containsKey(shownAs) ? shownAs : null);
      return;
    }
    shown.put(signature, call.callId());
    open.put(call.callId(), call);
    sink.executing(call);
  }

  /** A call's outcome: closes the call the client saw, once. */
  void finished(LlmEvent.ToolFinished finished) {
    String callId = finished.call().callId();
    if (retried.containsKey(callId)) {
      callId = retried.get(callId);
      if (callId == null) {
        return;
      }
    }
    close(callId, finished.call(), finished.result(), finished.code(), finished.error());
  }

  /**
   * Completes once every call shown is closed; a call whose outcome does not come within
   * {@code waitMs} is closed with an error.
   */
  Future<Void> settled(long waitMs) {
    if (open.isEmpty()) {
      return Future.succeededFuture();
    }
    allClosed = Promise.promise();
    long timer = vertx.setTimer(Math.max(1, waitMs),
        t -> closeAll(ErrorCode.ENGINE_UNAVAILABLE, "no outcome within " + waitMs + " ms"));
    return allClosed.future().andThen(done -> vertx.cancelTimer(timer));
  }

  /** Closes every call still open with this error. */
  void closeAll(ErrorCode code, String error) {
    List.copyOf(open.values()).forEach(call -> close(call.callId(), call, null, code, error));
  }

  private void close(String callId, ToolCall call, JsonObject result, ErrorCode code, String error) {
    if (open.remove(callId) == null) {
      return;
    }
    sink.completed(callId, call, result, code, error);
    if (open.isEmpty() && allClosed != null) {
      allClosed.tryComplete();
    }
  }
}
