package io.voicemesh.gateway;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.message.LlmEvent;
import io.voicemesh.api.message.ToolCall;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One turn's answer from an LLM worker: asks for it, watches that the worker keeps talking, and
 * asks once more on another node when the worker's node leaves the cluster.
 *
 * <p>Only the current attempt's events count. A retried attempt repeats the words the client
 * already has: only what goes beyond them is passed on, and a retry that answers differently ends
 * the answer (the client cannot unhear the first words). Tool events are passed on also after the
 * stream was stopped — a worker may have started a call before the cancel reached it, and every
 * call shown must be closed.
 */
final class LlmStream {
  private static final Logger LOG = LoggerFactory.getLogger(LlmStream.class);

  /** What the stream tells its turn. */
  interface Listener {
    /** A worker took the first attempt; the model is working. */
    void llmAccepted();

    /** Answer text the client does not have yet. */
    void llmDelta(String fresh);

    void llmToolStarted(ToolCall call, int attempt);

    void llmToolFinished(LlmEvent.ToolFinished finished);

    /** The model called a tool the client runs; the answer ends after it. */
    void llmClientToolCall(ToolCall call);

    /** The answer is complete: {@code heard} is what the client was sent, {@code text} the last attempt's whole text. */
    void llmDone(String heard, String text);

    /** No answer (more) will come. */
    void llmFailed(MeshException error);
  }

  private final Vertx vertx;
  private final long idleTimeoutMs;
  /** Sends {@code llm.generate} for an attempt; completes with the node of the worker that took it. */
  private final IntFunction<Future<String>> ask;
  private final Listener listener;
  /** The answer text the client has been sent, and the current attempt's text so far. */
  private final StringBuilder sent = new StringBuilder();
  private final StringBuilder attemptText = new StringBuilder();
  /** Completes when the worker's stream has ended (done or failed), or no stream will come. */
  private final Promise<Void> ended = Promise.promise();
  private int attempt;
  private String node;
  private boolean stopped;
  private long watchdog = -1;

  LlmStream(Vertx vertx, long idleTimeoutMs, IntFunction<Future<String>> ask, Listener listener) {
    this.vertx = vertx;
    this.idleTimeoutMs = idleTimeoutMs;
    this.ask = ask;
    this.listener = listener;
  }

  /** Asks for the answer. */
  void start() {
    generate();
  }

  /** The node the current attempt runs on; null until a worker took it. */
  String node() {
    return node;
  }

  int attempt() {
    return attempt;
  }

  /**
   * Completes once the worker's stream has ended, or no stream will come. The stream is ordered,
   * so by then every tool call it started is known.
   */
  Future<Void> ended() {
    return ended.future();
  }

  /** The answer is no longer wanted (or is complete): later text is ignored; tool events still pass. */
  void stop() {
    stopped = true;
    vertx.cancelTimer(watchdog);
  }

  /** Stops, and expects no more of the worker's stream. */
  void abandon() {
    stop();
    ended.tryComplete();
  }

  /** A node with the LLM role left the cluster: if the answer was coming from there, it is asked once more. */
  void nodeLeft(String leftNode) {
    if (stopped || node == null || !node.equals(leftNode)) {
      return;
    }
    if (attempt >= 2) {
      fail(new MeshException(ErrorCode.ENGINE_UNAVAILABLE, "the LLM worker was lost twice"));
      return;
    }
    LOG.info("turn: the answer once more on another LLM node ({} lost)", node);
    attemptText.setLength(0);
    node = null;
    generate();
  }

  void event(LlmEvent event, int eventAttempt) {
    if (eventAttempt != attempt) {
      return; // an earlier attempt's worker, still talking
    }
    if (event instanceof LlmEvent.ToolFinished finished) {
      listener.llmToolFinished(finished);
      return;
    }
    if (event instanceof LlmEvent.ToolStarted started) {
      listener.llmToolStarted(started.call(), attempt);
      return;
    }
    if (event instanceof LlmEvent.ClientToolCall call) {
      if (!stopped) {
        listener.llmClientToolCall(call.call());
      }
      return;
    }
    if (event instanceof LlmEvent.LlmDone || event instanceof LlmEvent.LlmFailed) {
      ended.tryComplete();
    }
    if (stopped) {
      return;
    }
    armWatchdog();
    if (event instanceof LlmEvent.LlmDelta delta) {
      delta(delta.text());
    } else if (event instanceof LlmEvent.LlmDone done) {
      stop();
      // After a retry the client heard the first attempt's words and the second's rest.
      listener.llmDone(attempt == 1 ? done.text() : sent.toString(), done.text());
    } else if (event instanceof LlmEvent.LlmFailed failed) {
      fail(new MeshException(failed.code(), failed.message()));
    }
  }

  private void delta(String text) {
    attemptText.append(text);
    int common = Math.min(attemptText.length(), sent.length());
    if (!attemptText.substring(0, common).equals(sent.substring(0, common))) {
      fail(new MeshException(ErrorCode.ENGINE_UNAVAILABLE,
          "the LLM node was lost mid-answer and the retry answered differently; the answer stops here"));
      return;
    }
    if (attemptText.length() <= sent.length()) {
      return;
    }
    String fresh = attemptText.substring(sent.length());
    sent.append(fresh);
    listener.llmDelta(fresh);
  }

  private void generate() {
    int asked = ++attempt;
    armWatchdog();
    ask.apply(asked).onComplete(accepted -> {
      if (accepted.failed()) {
        if (asked == attempt) {
          fail(MeshException.from(accepted.cause()));
        }
        return;
      }
      if (asked == attempt) {
        node = accepted.result();
      }
      if (asked == 1 && !stopped) {
        listener.llmAccepted();
      }
    });
  }

  private void fail(MeshException error) {
    if (stopped) {
      return;
    }
    abandon();
    listener.llmFailed(error);
  }

  private void armWatchdog() {
    vertx.cancelTimer(watchdog);
    watchdog = vertx.setTimer(Math.max(1, idleTimeoutMs), t -> fail(new MeshException(ErrorCode.ENGINE_UNAVAILABLE,
        "no word from the LLM worker for " + idleTimeoutMs + " ms")));
  }
}
