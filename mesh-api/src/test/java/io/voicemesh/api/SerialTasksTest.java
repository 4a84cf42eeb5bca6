package io.voicemesh.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("SerialTasks")
class SerialTasksTest {

  /** A task that keeps a CPU busy for {@code ms}, like a recognizer on a frame. */
  private static void work(long ms) {
    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
    while (System.nanoTime() < until) {
      Thread.onSpinWait();
    }
  }

  @Test
  @DisplayName("streams that have fallen behind share the pool: a new stream's task runs within a few slices, and order holds")
  void backloggedStreamsDoNotStarveOthers() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      AtomicBoolean stop = new AtomicBoolean();
      List<List<Integer>> done = new ArrayList<>();
      CountDownLatch allDone = new CountDownLatch(3 * 500);
      // Three streams, each with far more work queued than the pool's two threads get through.
      for (int s = 0; s < 3; s++) {
        List<Integer> order = java.util.Collections.synchronizedList(new ArrayList<>());
        done.add(order);
        SerialTasks busy = new SerialTasks(pool, e -> { });
        for (int i = 0; i < 500; i++) {
          int n = i;
          busy.submit(() -> {
            if (!stop.get()) {
              work(5);
            }
            order.add(n);
            allDone.countDown();
          });
        }
      }
      TimeUnit.MILLISECONDS.sleep(50);
      CountDownLatch ran = new CountDownLatch(1);
      long submitted = System.nanoTime();
      new SerialTasks(pool, e -> { }).submit(ran::countDown);
      assertTrue(ran.await(5, TimeUnit.SECONDS), "the newcomer's task never ran");
      long waitedMs = (System.nanoTime() - submitted) / 1_000_000;
      stop.set(true);
      // Without slices it would wait for a backlog of 500 x 5 ms = 2.5 s to drain.
      assertTrue(waitedMs < 500, "the newcomer waited " + waitedMs + " ms");
      // Wait for the backlog itself, not for the pool's shutdown: a drain that re-queues itself
      // after its slice would be refused by a pool that is shutting down.
      assertTrue(allDone.await(10, TimeUnit.SECONDS), "the backlogged streams never finished");
      for (List<Integer> order : done) {
        assertEquals(500, order.size());
        for (int i = 0; i < order.size(); i++) {
          assertEquals(i, order.get(i), "each stream's tasks run in submission order");
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
