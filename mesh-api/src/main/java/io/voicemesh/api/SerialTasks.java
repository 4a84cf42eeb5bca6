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
 */
public final class SerialTasks {
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
    do {
      Runnable task;
      while ((task = tasks.poll()) != null) {
        try {
          task.run();
        } catch (RuntimeException e) {
          onFailure.accept(e);
        }
      }
      draining.set(false);
    } while (!tasks.isEmpty() && draining.compareAndSet(false, true));
  }
}
