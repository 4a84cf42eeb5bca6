package io.voicemesh.launcher;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * How a node started from the command line stops. SIGTERM (how Kubernetes and process managers
 * stop a process) or Ctrl-C drains it ({@link Mesh#drain}) within the drain budget, then closes it
 * and the process exits 0. A second signal, or the budget running out, closes it at once: exit 1.
 * The signals are handled here rather than by a shutdown hook, so the drain runs on a live JVM
 * instead of one that is already exiting (143).
 */
final class GracefulStop {
  private static final Logger LOG = LoggerFactory.getLogger(GracefulStop.class);
  /** How long closing may take when the drain was cut short. */
  private static final long FORCED_CLOSE_MS = 5_000;
  /** The least time closing gets after a drain that used up (nearly) all its budget. */
  private static final long MIN_CLOSE_MS = 1_000;

  private GracefulStop() {
  }

  /** Blocks until SIGTERM or SIGINT, then stops the node; returns the process's exit code. */
  static int runUntilStopped(Mesh mesh, long drainMs) throws InterruptedException {
    CompletableFuture<String> firstSignal = new CompletableFuture<>();
    CompletableFuture<String> secondSignal = new CompletableFuture<>();
    SignalHandler onSignal = signal -> {
      if (!firstSignal.complete("SIG" + signal.getName())) {
        secondSignal.complete("SIG" + signal.getName());
      }
    };
    Signal.handle(new Signal("TERM"), onSignal);
    Signal.handle(new Signal("INT"), onSignal);
    String signal = await(firstSignal);
    long started = System.nanoTime();
    LOG.info("{}: stopping gracefully within {} ms (a second signal stops at once)", signal, drainMs);
    CompletableFuture<Void> drained = mesh.drain(drainMs).toCompletionStage().toCompletableFuture();
    try {
      CompletableFuture.anyOf(drained, secondSignal).get(drainMs, TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException cutShort) {
      // told apart below
    }
    if (!drained.isDone() || drained.isCompletedExceptionally()) {
      LOG.warn("stopping at once: {}", secondSignal.isDone() ? "a second " + secondSignal.getNow("signal")
          : drained.isDone() ? "the drain failed: " + drained.handle((v, e) -> String.valueOf(e)).join()
          : "the drain took all of its " + drainMs + " ms");
      close(mesh, FORCED_CLOSE_MS);
      return 1;
    }
    long leftMs = drainMs - elapsedMs(started);
    if (!close(mesh, Math.max(MIN_CLOSE_MS, leftMs))) {
      return 1;
    }
    LOG.info("stopped in {} ms", elapsedMs(started));
    return 0;
  }

  private static boolean close(Mesh mesh, long withinMs) {
    try {
      mesh.closeAsync().await(withinMs, TimeUnit.MILLISECONDS);
      return true;
    } catch (Exception e) {
      LOG.warn("closing did not finish within {} ms: {}", withinMs, e.toString());
      return false;
    }
  }

  private static String await(CompletableFuture<String> signal) throws InterruptedException {
    try {
      return signal.get();
    } catch (ExecutionException impossible) {
      throw new IllegalStateException(impossible);
    }
  }

  private static long elapsedMs(long startedNanos) {
    return (System.nanoTime() - startedNanos) / 1_000_000;
  }
}
