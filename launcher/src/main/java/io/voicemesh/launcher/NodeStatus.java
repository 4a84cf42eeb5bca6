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
 * A role that does not answer (still starting, or failed) is DOWN, and so is the node.
 */
final class NodeStatus {
  private static final long ROLE_TIMEOUT_MS = 2_000;

  private NodeStatus() {
  }

  static MessageConsumer<Object> serve(Vertx vertx, String node, Set<Role> roles, Supplier<JsonArray> members,
      boolean clustered) {
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
        for (int i = 0; i < ordered.size(); i++) {
          Future<RoleStatus> check = checks.get(i);
          if (check.succeeded() && check.result().ready()) {
            JsonObject role = new JsonObject().put("status", "UP")
                .put("active", check.result().active()).put("capacity", check.result().capacity());
            if (check.result().workers() != null && !check.result().workers().isEmpty()) {
              role.put("workers", new JsonObject(new java.util.TreeMap<String, Object>(check.result().workers())));
            }
            byRole.put(ordered.get(i).id(), role);
          } else {
            up = false;
            byRole.put(ordered.get(i).id(), new JsonObject().put("status", "DOWN")
                .put("reason", check.failed() ? check.cause().getMessage() : "not ready"));
          }
        }
        JsonArray nodes = members.get();
        request.reply(new JsonObject()
            .put("status", up ? "UP" : "DOWN")
            .put("node", node)
            .put("roles", byRole)
            .put("cluster", new JsonObject().put("clustered", clustered).put("members", nodes.size()).put("nodes", nodes)));
      });
    });
  }
}
