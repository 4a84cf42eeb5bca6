package io.voicemesh.launcher;

import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.Json;
import io.voicemesh.api.message.NodeReport;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.MemoryUsage;

/**
 * Publishes this node's {@code NodeReport} on {@code Addresses.DASHBOARD_NODES} every
 * {@code dashboard.nodeReportMs}: its status as {@code /health} shows it ({@code Addresses.NODE_STATUS}),
 * heap, and how late the report's own timer fired, which is the event loop's delay.
 */
final class NodeReports {
  private static final long STATUS_TIMEOUT_MS = 2_000;
  private static final MemoryMXBean MEMORY = ManagementFactory.getMemoryMXBean();

  private final Vertx vertx;
  private final String node;
  private final long everyMs;
  /** When the pending timer should fire (System.nanoTime), to measure how late it does. */
  private long dueNanos;
  private volatile boolean stopped;

  private NodeReports(Vertx vertx, String node, long everyMs) {
    this.vertx = vertx;
    this.node = node;
    this.everyMs = everyMs;
  }

  /** Starts publishing; nothing when {@code everyMs} is 0. */
  static NodeReports start(Vertx vertx, String node, long everyMs) {
    if (everyMs < 0) {
      throw new IllegalArgumentException("dashboard.nodeReportMs must be 0 (off) or positive");
    }
    NodeReports reports = new NodeReports(vertx, node, everyMs);
    if (everyMs > 0) {
      vertx.runOnContext(v -> reports.schedule());
    }
    return reports;
  }

  void stop() {
    stopped = true;
  }

  private void schedule() {
    if (stopped) {
      return;
    }
    dueNanos = System.nanoTime() + everyMs * 1_000_000;
    vertx.setTimer(everyMs, t -> {
      double delayMs = Math.max(0, System.nanoTime() - dueNanos) / 1e6;
      vertx.eventBus().<JsonObject>request(Addresses.NODE_STATUS, null, new DeliveryOptions().setSendTimeout(STATUS_TIMEOUT_MS))
          .onComplete(reply -> {
            if (reply.succeeded()) {
              vertx.eventBus().publish(Addresses.DASHBOARD_NODES, Json.encode(report(reply.result().body(), delayMs)));
            }
            schedule();
          });
    });
  }

  private NodeReport report(JsonObject status, double delayMs) {
    MemoryUsage heap = MEMORY.getHeapMemoryUsage();
    JsonArray members = new JsonArray();
    status.getJsonObject("cluster", new JsonObject()).getJsonArray("nodes", new JsonArray()).forEach(member -> {
      if (member instanceof JsonObject m) {
        members.add(new JsonObject().put("node", m.getString("node")).put("roles", m.getJsonArray("roles")));
      }
    });
    return new NodeReport(node, status.getString("status"), status.getJsonObject("roles", new JsonObject()), heap.getUsed(),
        heap.getMax(), Math.round(delayMs * 10) / 10.0, members, System.currentTimeMillis());
  }
}
