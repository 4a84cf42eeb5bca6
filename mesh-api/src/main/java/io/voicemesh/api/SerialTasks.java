package io.voicemesh.api;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Runs one stream's blocking work (a recognizer, a synthesizer) in submission order, one task at a
 * time, on a shared pool: at most one drain per stream is on the pool at once, so under load a busy
 * stream's tasks share one hand-off instead of taking a thread each, and streams never wait on
 * each other's order.
 *
 * <p>A drain holds its thread for at most {@value #SLICE_MS} ms while other work may be waiting:
 * then it goes to the back of the pool's queue and carries on when its turn comes again. Without
 * that, streams that have fallen behind (more audio than the CPU recognizes in real time) keep
 * every thread for as long as they stay behind, and a new stream's open, or another user's audio,
 * waits for ever behind them: the pool is shared round-robin instead.
 */
public final class SerialTasks {
  static final long SLICE_MS = 20;
  private static final long SLICE_NANOS = SLICE_MS * 1_000_000;
  private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean draining = new AtomicBoolean();
  private final Executor pool;
  private final Consumer<RuntimeException> onFailure;

  /** {@code onFailure} hears about a task that threw; the tasks after it still run. */
  public SerialTasks(Executor pool, Consumer<RuntimeException> onFailure) {
    this.pool = pool;
    this.onFailure = onFailure;
  }

  public void submit(Runnable task) {
    tasks.add(task);
    if (draining.compareAndSet(false, true)) {
      pool.execute(this::drain);
    }
  }

  private void drain() {
    long yieldAt = System.nanoTime() + SLICE_NANOS;
    do {
      Runnable task;
      while ((task = tasks.poll()) != null) {
        try {
          task.run();
        } catch (RuntimeException e) {
          onFailure.accept(e);
        }
        if (System.nanoTime() - yieldAt >= 0 && !tasks.isEmpty()) {
          // Still this stream's drain (draining stays set): the rest runs after what queued meanwhile.
          pool.execute(this::drain);
          return;
        }
      }
      draining.set(false);
    } while (!tasks.isEmpty() && draining.compareAndSet(false, true));
  }
}
