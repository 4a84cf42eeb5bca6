package io.voicemesh.stt;

import io.vertx.core.WorkerExecutor;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executor;

/**
 * The STT node's recognizer threads, shared round-robin between users rather than between streams:
 * each user's streams queue their work ({@code SerialTasks} drains, at most one 20 ms slice each)
 * in the user's own line, and a free thread takes the next slice from the next user with work. A
 * user with five streams that have fallen behind then gets half the threads when one other user
 * speaks, not five sixths: the count of streams a user may hold is bounded by
 * {@code stt.userShare}, the CPU time its streams take by this.
 */
final class UserFairPool {
  private final WorkerExecutor worker;
  private final int threads;
  private final Map<String, ArrayDeque<Runnable>> lines = new HashMap<>();
  /** Users with work waiting, in the order they get their next slice. */
  private final ArrayDeque<String> next = new ArrayDeque<>();
  private int running;

  UserFairPool(WorkerExecutor worker, int threads) {
    this.worker = worker;
    this.threads = threads;
  }

  /** Where one user's streams hand their work. */
  Executor forUser(String user) {
    return task -> submit(user, task);
  }

  private synchronized void submit(String user, Runnable task) {
    ArrayDeque<Runnable> line = lines.computeIfAbsent(user, u -> new ArrayDeque<>());
    if (line.isEmpty()) {
      next.add(user);
    }
    line.add(task);
    dispatch();
  }

  /** Starts the next users' tasks while threads are free (called holding the lock). */
  private void dispatch() {
    while (running < threads && !next.isEmpty()) {
      String user = next.poll();
      ArrayDeque<Runnable> line = lines.get(user);
      Runnable task = line.poll();
      if (line.isEmpty()) {
        lines.remove(user);
      } else {
        next.add(user);
      }
      running++;
      worker.executeBlocking(() -> {
        try {
          task.run();
        } finally {
          finished();
        }
        return null;
      }, false);
    }
  }

  private synchronized void finished() {
    running--;
    dispatch();
  }
}
