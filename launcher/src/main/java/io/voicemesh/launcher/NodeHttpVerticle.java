package io.voicemesh.launcher;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.MeshMetrics;
import io.voicemesh.gateway.GatewayVerticle;

/**
 * The HTTP face of a node without the gateway role: {@code GET /health} (200 when every role of
 * the node is up or degraded, else 503; the body is the node's status), {@code GET /health/live} and
 * {@code GET /metrics}, for Kubernetes probes and Prometheus. Config: {@code host}, {@code port}, {@code node}.
 */
final class NodeHttpVerticle extends VerticleBase {
  private HttpServer server;

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    router.get("/health").handler(ctx -> vertx.eventBus().<JsonObject>request(Addresses.NODE_STATUS, null)
        .onComplete(reply -> {
          JsonObject status = reply.succeeded() ? reply.result().body()
              : new JsonObject().put("status", "DOWN").put("reason", reply.cause().getMessage());
          ctx.response().setStatusCode(NodeStatus.httpStatus(status.getString("status")))
              .putHeader("Content-Type", "application/json").end(status.encode());
        }));
    router.get("/health/live").handler(ctx -> GatewayVerticle.live(ctx, config().getString("node")));
    if (MeshMetrics.registry() instanceof PrometheusMeterRegistry prometheus) {
      router.get("/metrics").handler(ctx -> GatewayVerticle.metrics(ctx, prometheus));
    }
    server = vertx.createHttpServer();
    return server.requestHandler(router)
        .listen(config().getInteger("port", 8080), config().getString("host", "0.0.0.0"));
  }

  int actualPort() {
    return server.actualPort();
  }
}
