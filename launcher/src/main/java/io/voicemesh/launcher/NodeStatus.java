package io.voicemesh.launcher;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.Json;
import io.voicemesh.api.Role;
import io.voicemesh.api.message.RoleStatus;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Answers {@code Addresses.NODE_STATUS} on this node: its name, each of its roles with its load
 * (asked of the role's verticle on {@code Addresses.nodeHealth}), and the cluster's members.
 *
 * <pre>
 * {"status":"UP","node":"stt-1",
 *  "roles":{"stt":{"status":"UP","active":1,"capacity":2}},
 *  "cluster":{"clustered":true,"members":5,"nodes":[{"node":"gw-1","roles":["gateway","session"],…},…]}}
 * </pre>
 * A role that does not answer (still starting, or failed) is DOWN, and so is the node. A role that
 * answers but works only in part (the session role whose database does not answer) is DEGRADED,
 * with its {@code reason}, and so is the node unless another role is DOWN.
 */
final class NodeStatus {
  private static final long ROLE_TIMEOUT_MS = 2_000;

  private NodeStatus() {
  }

  static MessageConsumer<Object> serve(Vertx vertx, String node, Set<Role> roles, Supplier<JsonArray> members,
      boolean clustered) {
    return serve(vertx, node, roles, members, clustered, () -> null);
  }

  /**
   * {@code database} (may answer null) describes the node's embedded PostgreSQL, shown as
   * {@code database}; one that is being restarted makes the node DEGRADED.
   */
  static MessageConsumer<Object> serve(Vertx vertx, String node, Set<Role> roles, Supplier<JsonArray> members,
      boolean clustered, Supplier<JsonObject> database) {
    return vertx.eventBus().localConsumer(Addresses.NODE_STATUS, request -> {
      List<Role> ordered = roles.stream().sorted().toList();
      List<Future<RoleStatus>> checks = ordered.stream()
          .map(role -> vertx.eventBus().request(Addresses.nodeHealth(role), null,
                  new DeliveryOptions().setSendTimeout(ROLE_TIMEOUT_MS))
              .map(reply -> Json.decode(reply.body(), RoleStatus.class)))
          .toList();
      Future.join(checks).onComplete(done -> {
        JsonObject byRole = new JsonObject();
        boolean up = true;
        boolean degraded = false;
        for (int i = 0; i < ordered.size(); i++) {
          Future<RoleStatus> check = checks.get(i);
          if (check.succeeded() && check.result().ready()) {
            RoleStatus status = check.result();
            JsonObject role = new JsonObject().put("status", status.health())
                .put("active", status.active()).put("capacity", status.capacity());
            if (status.degraded() != null) {
              degraded = true;
              role.put("reason", status.degraded());
            }
            if (status.workers() != null && !status.workers().isEmpty()) {
              role.put("workers", new JsonObject(new java.util.TreeMap<String, Object>(status.workers())));
            }
            if (status.kafka() != null) {
              role.put("kafka", Json.encode(status.kafka()));
            }
            byRole.put(ordered.get(i).id(), role);
          } else {
            up = false;
            byRole.put(ordered.get(i).id(), new JsonObject().put("status", "DOWN")
                .put("reason", check.failed() ? check.cause().getMessage()
                    : check.result().degraded() != null ? check.result().degraded() : "not ready"));
          }
        }
        JsonArray nodes = members.get();
        JsonObject body = new JsonObject()
            .put("status", !up ? "DOWN" : degraded ? "DEGRADED" : "UP")
            .put("node", node)
            .put("roles", byRole)
            .put("cluster", new JsonObject().put("clustered", clustered).put("members", nodes.size()).put("nodes", nodes));
        JsonObject db = database.get();
        if (db != null) {
          body.put("database", db);
          if (up && !"UP".equals(db.getString("status"))) {
            body.put("status", "DEGRADED");
          }
        }
        request.reply(body);
      });
    });
  }

  /** UP and DEGRADED (the node still talks) answer 200; DOWN 503. */
  static int httpStatus(String status) {
    return "UP".equals(status) || "DEGRADED".equals(status) ? 200 : 503;
  }
}
