package io.voicemesh.gateway;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.AsyncMap;
import java.time.Instant;
import java.util.Comparator;

/**
 * Who is connected to which session, across every gateway node: one entry per connection in a
 * cluster-wide map, put with a time-to-live and renewed while the connection lives, so the entries
 * of a gateway that died expire by themselves.
 */
final class Participants {
  private static final String MAP = "voicemesh.participants";
  private static final long TTL_MS = 60_000;
  private static final long RENEW_MS = 20_000;

  private Participants() {
  }

  /** A connection's entry; {@link #leave} removes it. */
  static final class Lease {
    private final Vertx vertx;
    private final String connectionId;
    private final JsonObject entry;
    private long renewTimer = -1;
    private boolean left;

    private Lease(Vertx vertx, String connectionId, JsonObject entry) {
      this.vertx = vertx;
      this.connectionId = connectionId;
      this.entry = entry;
    }

    private void renew() {
      if (!left) {
        map(vertx).compose(m -> m.put(connectionId, entry, TTL_MS));
      }
    }

    void leave() {
      if (left) {
        return;
      }
      left = true;
      vertx.cancelTimer(renewTimer);
      map(vertx).compose(m -> m.remove(connectionId));
    }
  }

  static Lease join(Vertx vertx, String sessionId, String connectionId, String role, String node) {
    JsonObject entry = new JsonObject().put("sessionId", sessionId).put("connectionId", connectionId).put("role", role)
        .put("node", node).put("connectedAt", Instant.now().toString());
    Lease lease = new Lease(vertx, connectionId, entry);
    lease.renew();
    lease.renewTimer = vertx.setPeriodic(RENEW_MS, t -> lease.renew());
    return lease;
  }

  /** The live connections of a session, oldest first. */
  static Future<JsonArray> of(Vertx vertx, String sessionId) {
    return map(vertx).compose(AsyncMap::values).map(values -> new JsonArray(values.stream()
        .filter(e -> sessionId.equals(e.getString("sessionId")))
        .sorted(Comparator.comparing(e -> e.getString("connectedAt")))
        .map(e -> {
          JsonObject participant = e.copy();
          participant.remove("sessionId");
          return (Object) participant;
        })
        .toList()));
  }

  private static Future<AsyncMap<String, JsonObject>> map(Vertx vertx) {
    return vertx.sharedData().getAsyncMap(MAP);
  }
}
