package io.voicemesh.gateway;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.Bus;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshMetrics;
import io.voicemesh.api.Role;
import io.voicemesh.api.message.RoleStatus;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.micrometer.PrometheusScrapingHandler;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The gateway role: HTTP server with the WebSocket voice endpoint, health, and the web page.
 *
 * <pre>
 * GET /v1/voice   WebSocket, the voice protocol (README); one {@link Conversation} per connection
 * GET /health     200 once every required role answers, else 503
 * GET /metrics    Prometheus text: Vert.x's own meters and the mesh's (MeshMetrics)
 * GET /*          the browser client (webroot/)
 * </pre>
 */
public final class GatewayVerticle extends VerticleBase {
  private final AtomicInteger connections = new AtomicInteger();
  private GatewaySettings settings;
  private HttpServer server;

  @Override
  public Future<?> start() {
    settings = GatewaySettings.from(config());
    Router router = Router.router(vertx);
    router.get("/health").handler(this::health);
    router.get("/v1/voice").handler(this::voice);
    if (MeshMetrics.registry() instanceof PrometheusMeterRegistry prometheus) {
      router.get("/metrics").handler(PrometheusScrapingHandler.create(prometheus));
    }
    MeshMetrics.sessions(Role.GATEWAY, settings.node(), connections::get);
    router.route("/*").handler(StaticHandler.create("webroot"));
    server = vertx.createHttpServer(new HttpServerOptions()
        .setHost(settings.host())
        .setPort(settings.port())
        .setMaxWebSocketFrameSize(GatewaySettings.HARD_FRAME_LIMIT_BYTES)
        .setMaxWebSocketMessageSize(GatewaySettings.HARD_FRAME_LIMIT_BYTES));
    return server.requestHandler(router).listen();
  }

  /** The port actually bound (useful with port 0). */
  public int actualPort() {
    return server.actualPort();
  }

  private void voice(RoutingContext ctx) {
    String upgrade = ctx.request().getHeader("Upgrade");
    if (upgrade == null || !upgrade.equalsIgnoreCase("websocket")) {
      fail(ctx, ErrorCode.BAD_REQUEST, "/v1/voice is a WebSocket endpoint");
      return;
    }
    String sessionId = ctx.queryParams().get("sessionId");
    String user = ctx.queryParams().get("user") == null ? "anonymous" : ctx.queryParams().get("user");
    String agent = ctx.queryParams().get("agent") == null ? settings.defaultAgent() : ctx.queryParams().get("agent");
    int rate;
    try {
      rate = Integer.parseInt(ctx.queryParams().contains("sampleRate") ? ctx.queryParams().get("sampleRate") : "16000");
    } catch (NumberFormatException e) {
      fail(ctx, ErrorCode.BAD_REQUEST, "sampleRate must be a number");
      return;
    }
    if (rate < 8_000 || rate > 48_000) {
      fail(ctx, ErrorCode.BAD_REQUEST, "sampleRate must be 8000 to 48000");
      return;
    }
    ctx.request().toWebSocket()
        .onSuccess(socket -> {
          connections.incrementAndGet();
          new Conversation(vertx, socket, settings, connections::decrementAndGet).start(sessionId, user, agent, rate);
        })
        .onFailure(ctx::fail);
  }

  private void health(RoutingContext ctx) {
    List<Future<RoleStatus>> checks = settings.requiredRoles().stream()
        .map(role -> role == Role.GATEWAY
            ? Future.succeededFuture(new RoleStatus(Role.GATEWAY.id(), settings.node(), true, 0, 0))
            : Bus.request(vertx.eventBus(), Addresses.health(role), new JsonObject(), RoleStatus.class, 2_000))
        .toList();
    Future.join(checks).onComplete(done -> {
      JsonObject roles = new JsonObject();
      boolean up = true;
      for (int i = 0; i < checks.size(); i++) {
        Future<RoleStatus> check = checks.get(i);
        String role = settings.requiredRoles().get(i).id();
        if (check.succeeded() && check.result().ready()) {
          RoleStatus status = check.result();
          roles.put(role, new JsonObject().put("status", "UP").put("node", status.node())
              .put("active", status.active()).put("capacity", status.capacity()));
        } else {
          up = false;
          roles.put(role, new JsonObject().put("status", "DOWN")
              .put("reason", check.failed() ? check.cause().getMessage() : "not ready"));
        }
      }
      ctx.response().setStatusCode(up ? 200 : 503).putHeader("Content-Type", "application/json")
          .end(new JsonObject().put("status", up ? "UP" : "DOWN").put("node", settings.node()).put("roles", roles).encode());
    });
  }

  private static void fail(RoutingContext ctx, ErrorCode code, String message) {
    ctx.response().setStatusCode(code.httpStatus()).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("code", code.wire()).put("message", message).encode());
  }

  @Override
  public Future<?> stop() {
    return server == null ? Future.succeededFuture() : server.close();
  }
}
