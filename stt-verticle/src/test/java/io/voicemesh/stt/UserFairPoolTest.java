package io.voicemesh.stt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.voicemesh.api.SerialTasks;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("UserFairPool")
class UserFairPoolTest {

  private static void work(long ms) {
    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
    while (System.nanoTime() < until) {
      Thread.onSpinWait();
    }
  }

  @Test
  @DisplayName("one user's five backlogged streams leave another user's stream half the threads, each stream in order")
  void usersShareThreadsEqually() throws Exception {
    Vertx vertx = Vertx.vertx();
    WorkerExecutor worker = vertx.createSharedWorkerExecutor("fair-pool-test", 2);
    try {
      UserFairPool pool = new UserFairPool(worker, 2);
      AtomicBoolean stop = new AtomicBoolean();
      AtomicInteger greedyDone = new AtomicInteger();
      List<List<Integer>> orders = new ArrayList<>();
      for (int s = 0; s < 5; s++) {
        List<Integer> order = Collections.synchronizedList(new ArrayList<>());
        orders.add(order);
        SerialTasks stream = new SerialTasks(pool.forUser("greedy"), e -> { });
        for (int i = 0; i < 400; i++) {
          int n = i;
          stream.submit(() -> {
            if (!stop.get()) {
              work(2);
              greedyDone.incrementAndGet();
            }
            order.add(n);
          });
        }
      }
      TimeUnit.MILLISECONDS.sleep(50);
      // The other user's 100 tasks of 2 ms: with equal shares of 2 threads, about 200 ms; by streams, 600 ms.
      CountDownLatch other = new CountDownLatch(100);
      SerialTasks polite = new SerialTasks(pool.forUser("polite"), e -> { });
      int greedyBefore = greedyDone.get();
      for (int i = 0; i < 100; i++) {
        polite.submit(() -> {
          work(2);
          other.countDown();
        });
      }
      assertTrue(other.await(10, TimeUnit.SECONDS), "the other user's work never finished");
      int greedyMeanwhile = greedyDone.get() - greedyBefore;
      stop.set(true);
      assertTrue(greedyMeanwhile < 250, "the greedy user got " + greedyMeanwhile
          + " slices of work while the other did 100: more than its half");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (orders.stream().anyMatch(o -> o.size() < 400) && System.nanoTime() < deadline) {
        TimeUnit.MILLISECONDS.sleep(20); // polling interval, bounded by the deadline
      }
      for (List<Integer> order : orders) {
        assertEquals(400, order.size());
        for (int i = 0; i < order.size(); i++) {
          assertEquals(i, order.get(i), "a stream's tasks run in order");
        }
      }
    } finally {
      worker.close();
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }
}
