package io.voicemesh.gateway;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.MultiMap;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.Bus;
import io.voicemesh.api.Drainable;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.Json;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.MeshMetrics;
import io.voicemesh.api.Role;
import io.voicemesh.api.message.RoleStatus;
import io.voicemesh.api.message.SessionInfo;
import io.voicemesh.api.message.SessionStatusRequest;
import io.voicemesh.api.message.SessionTouch;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway role: HTTP server with the WebSocket voice endpoint, the sessions API, health, and the web page.
 *
 * <pre>
 * GET  /v1/voice          WebSocket, the voice protocol (README); bearer token required; one
 *                         {@link Conversation} (speaker) or {@link ListenerConnection} per connection
 * GET  /v1/realtime       WebSocket, the OpenAI Realtime protocol ({@link RealtimeProtocol}) on a
 *                         {@link Conversation} of its own
 * GET  /v1/twilio         WebSocket, Twilio Media Streams ({@link TwilioUpgrade}, {@link TwilioProtocol})
 * /api/v1/sessions...     REST sessions API ({@link SessionApi}); GET /api/openapi.json describes it
 * GET  /health/live       200 while the node's event loop answers (Kubernetes liveness)
 * GET  /health            this node's roles, load and cluster members, and whether every role the
 *                         gateway needs answers in the cluster: 200 when all are up (or DEGRADED:
 *                         a role works in part, e.g. the session store's database is away), else 503
 * GET  /metrics           Prometheus text: Vert.x's own meters and the mesh's (MeshMetrics)
 * /eventbus/*             the SockJS event-bus bridge for dashboards ({@link EventBusBridge}); the TCP
 *                         bridge listens on gateway.bridge.tcpPort when set
 * GET  /dashboard         the operations dashboard (webroot/dashboard.html); /webjars/* its libraries
 * GET  /*                 the browser client (webroot/)
 * </pre>
 *
 * <p>{@link #drain}: the node is stopping. The server stops listening, answers turns in flight
 * (no new ones start), then tells each client to go elsewhere ({@code going_away}, close 1001).
 */
public final class GatewayVerticle extends VerticleBase implements Drainable {
  private static final Logger LOG = LoggerFactory.getLogger(GatewayVerticle.class);
  private static final long HEALTH_TIMEOUT_MS = 2_000;
  /** The end of a drain kept for interrupted turns to settle and store their events before clients go. */
  private static final long GO_AWAY_RESERVE_MS = 2_500;
  private static final String VOICE_PATH = "/v1/voice";
  private final AtomicInteger connections = new AtomicInteger();
  /** Live speaker connections, until each has stored what it made; and live listeners. */
  private final Set<Conversation> speakers = new HashSet<>();
  private final Set<ListenerConnection> listeners = new HashSet<>();
  private boolean draining;
  private GatewaySettings settings;
  private JwtTokens tokens;
  private SessionDirectory sessions;
  private SttNodeAddresses sttNodes;
  private NodeConnections held;
  private HttpServer server;
  private io.vertx.ext.eventbus.bridge.tcp.TcpEventBusBridge tcpBridge;

  @Override
  public Future<?> start() {
    settings = GatewaySettings.from(config());
    tokens = JwtTokens.from(vertx, config().getJsonObject("auth", new JsonObject()));
    if (settings.sessionTokenTtlSeconds() > tokens.maxLifetimeSeconds()) {
      throw new IllegalArgumentException("auth.sessionTokenTtlSeconds is longer than auth.maxTokenLifetimeSeconds");
    }
    sessions = new SessionDirectory(vertx, settings);
    sttNodes = new SttNodeAddresses(vertx);
    sttNodes.start();
    held = new NodeConnections(settings.connectionsPerUser(), settings.sessionsPerUser());
    if (settings.sessionTouchMs() > 0) {
      vertx.setPeriodic(settings.sessionTouchMs(), t -> touchSessions());
    }
    Router router = Router.router(vertx);
    router.get("/health").handler(this::health);
    router.get("/health/live").handler(ctx -> live(ctx, settings.node()));
    router.get("/api/openapi.json").handler(ctx -> ctx.response().putHeader("Content-Type", "application/json")
        .sendFile(SessionApi.CONTRACT));
    if (MeshMetrics.registry() instanceof PrometheusMeterRegistry prometheus) {
      router.get("/metrics").handler(ctx -> metrics(ctx, prometheus));
    }
    MeshMetrics.sessions(Role.GATEWAY, settings.node(), connections::get);
    Bus.serveStatus(vertx.eventBus(), Role.GATEWAY,
        () -> Future.succeededFuture(new RoleStatus(Role.GATEWAY.id(), settings.node(), true, connections.get(), 0)));
    BridgeSettings bridgeSettings = BridgeSettings.from(config().getJsonObject("bridge", new JsonObject()));
    EventBusBridge bridge = new EventBusBridge(tokens, sessions, bridgeSettings);
    vertx.eventBus().localConsumer(Addresses.SESSION_STATUS, this::sessionStatus);
    if (bridgeSettings.enabled()) {
      router.route(EventBusBridge.PATH + "/*").subRouter(bridge.sockJsRouter(vertx));
    }
    router.get("/dashboard").handler(ctx -> ctx.reroute("/dashboard.html"));
    router.route("/webjars/*").handler(StaticHandler.create("META-INF/resources/webjars"));
    router.route("/*").handler(StaticHandler.create("webroot"));
    Future<?> tcp = bridgeSettings.tcpPort() == 0 ? Future.succeededFuture()
        : bridge.listenTcp(vertx, settings.host(), bridgeSettings.tcpPort()).andThen(listening -> {
          if (listening.succeeded()) {
            tcpBridge = listening.result();
            LOG.info("event-bus TCP bridge on {}:{}", settings.host(), bridgeSettings.tcpPort());
          }
        });
    return tcp.compose(v -> SessionApi.router(vertx, settings, tokens, sessions)).compose(api -> {
      HttpServerOptions options = new HttpServerOptions();
      if (settings.tls()) {
        // HTTPS and WSS on the same port; ALPN offers HTTP/1.1 only (no h2: the WebSocket needs 1.1).
        options.setSsl(true).setKeyCertOptions(new PemKeyCertOptions().setCertPath(settings.tlsCertPath())
            .setKeyPath(settings.tlsKeyPath()));
      }
      server = vertx.createHttpServer(options
          .setHost(settings.host())
          .setPort(settings.port())
          // Plain HTTP/1.1: no h2c upgrade. The JDK's HttpClient asks for one on every request, and
          // the upgraded connection broke a large /metrics response in CI; Vert.x's maintainers advise
          // against h2c-by-upgrade in production (quarkusio/quarkus#35180). The WebSocket needs 1.1 anyway.
          .setHttp2ClearTextEnabled(false)
          .setMaxWebSocketFrameSize(GatewaySettings.HARD_FRAME_LIMIT_BYTES)
          .setMaxWebSocketMessageSize(GatewaySettings.HARD_FRAME_LIMIT_BYTES)
          // No WebSocket compression: the frame limit would bound the compressed size only, and one
          // 65 KB frame inflating to 64 MiB held the event loop for 17 s. PCM speech barely compresses
          // (docs/BENCHMARKS.md), so nothing is lost. permessage-deflate is not negotiated, and a
          // frame with RSV1 set is then a protocol violation (1002).
          .setPerMessageWebSocketCompressionSupported(false)
          .setPerFrameWebSocketCompressionSupported(false)
          // The OpenAI SDKs in a browser offer "realtime" beside the key's subprotocol; one must be chosen.
          .setWebSocketSubProtocols(List.of(RealtimeUpgrade.SUBPROTOCOL)));
      server.connectionHandler(connection -> HeaderDeadline.watch(connection, settings.headerTimeoutMs()));
      return server.requestHandler(request -> {
        if ((VOICE_PATH.equals(request.path()) || RealtimeUpgrade.PATH.equals(request.path())
            || TwilioUpgrade.PATH.equals(request.path())) && request.method() == HttpMethod.GET) {
          // Not through the router: Vert.x Web would hand over its wrapper of the WebSocket, and the
          // connection's guards need Vert.x's own (SocketGuard, ProtocolViolations).
          voice(request);
        } else {
          (request.path().startsWith(SessionApi.PREFIX) ? api : router).handle(request);
        }
      }).listen();
    });
  }

  /**
   * {@code session.status} ({@code SessionStatusRequest}): the session's status as REST shows it. Local
   * to this node; the event-bus bridge sends here once it has checked the caller may read the session.
   */
  private void sessionStatus(io.vertx.core.eventbus.Message<Object> message) {
    Future<JsonObject> status;
    try {
      status = sessions.status(Json.decode(message.body(), SessionStatusRequest.class).sessionId());
    } catch (RuntimeException e) {
      status = Future.failedFuture(e);
    }
    status.onSuccess(message::reply).onFailure(e -> MeshException.fail(message, clientSafe(e)));
  }

  /** The port actually bound (useful with port 0). */
  public int actualPort() {
    return server.actualPort();
  }

  /**
   * The WebSocket upgrade: authenticated, checked against the session it names and the user's
   * quotas ({@link NodeConnections}) before it is accepted, so a refusal is a plain HTTP status
   * (401, 403, 404, 410, 429) with a JSON error body.
   */
  private void voice(HttpServerRequest http) {
    String upgrade = http.getHeader("Upgrade");
    boolean realtime = RealtimeUpgrade.PATH.equals(http.path());
    if (upgrade == null || !upgrade.equalsIgnoreCase("websocket")) {
      fail(http, new MeshException(ErrorCode.BAD_REQUEST, http.path() + " is a WebSocket endpoint"));
      return;
    }
    MultiMap query;
    try {
      query = http.params();
    } catch (RuntimeException e) {
      fail(http, new MeshException(ErrorCode.BAD_REQUEST, "the query string is not well-formed"));
      return;
    }
    if (TwilioUpgrade.PATH.equals(http.path())) {
      twilio(http, query.get("token"));
      return;
    }
    // Checks below are asynchronous: hold the request so it can still be upgraded after them.
    http.pause();
    String header = SessionApi.bearer(http.getHeader("Authorization"));
    String token = header != null ? header : query.get("token");
    if (token == null && realtime) {
      token = RealtimeUpgrade.subprotocolToken(http);
    }
    WireProtocol.Factory protocol = realtime
        ? new RealtimeProtocol.Factory(query.get("model") == null ? settings.agent(null) : query.get("model"),
            RealtimeUpgrade.beta(http))
        : VoiceMeshProtocol::new;
    tokens.verify(token)
        .compose(caller -> realtime ? RealtimeUpgrade.parse(query, caller, settings)
            : VoiceRequest.parse(query, caller, settings))
        .compose(this::admit)
        .onSuccess(admitted -> {
          if (draining) {
            admitted.slot().release();
            fail(http, new MeshException(ErrorCode.GOING_AWAY, "this gateway is shutting down; connect to another one"));
            return;
          }
          http.toWebSocket()
              .onSuccess(socket -> serve(socket, admitted, protocol))
              .onFailure(e -> {
                admitted.slot().release();
                fail(http, new MeshException(ErrorCode.BAD_REQUEST, "not a valid WebSocket upgrade"));
              });
        })
        .onFailure(e -> {
          if (realtime && RealtimeUpgrade.refusedInProtocol(e)) {
            RealtimeUpgrade.refuse(http, e);
          } else {
            fail(http, e);
          }
        });
  }

  /** An upgrade within the user's quotas, with its reserved place. */
  private record Admitted(Accepted accepted, NodeConnections.Slot slot) {
  }

  /**
   * Checks the session a request names (the caller's, not ended) and reserves the connection's
   * place in the user's quotas.
   */
  private Future<Admitted> admit(VoiceRequest request) {
    Future<Accepted> accepted = request.sessionId() == null ? Future.succeededFuture(new Accepted(request, null))
        : sessions.get(request.sessionId()).map(info -> {
          request.caller().mayUse(info);
          if ("ended".equals(info.status())) {
            throw new MeshException(ErrorCode.SESSION_ENDED, "session " + info.sessionId() + " has ended");
          }
          return new Accepted(request, info);
        });
    // Reserved on this loop, so upgrades in flight cannot all pass the same check.
    return accepted.map(ok -> new Admitted(ok, held.admit(request.caller().user(), request.sessionId(), request.listener())));
  }

  /** An admitted connection, upgraded: its speaker {@link Conversation} or its listener starts. */
  private void serve(ServerWebSocket socket, Admitted admitted, WireProtocol.Factory protocol) {
    NodeConnections.Slot slot = admitted.slot();
    if (draining) {
      slot.release();
      socket.close((short) 1001, ErrorCode.GOING_AWAY.wire());
      return;
    }
    connections.incrementAndGet();
    VoiceRequest request = admitted.accepted().request();
    if (request.listener()) {
      ListenerConnection[] listener = new ListenerConnection[1];
      listener[0] = new ListenerConnection(vertx, socket, settings, sessions, () -> {
        connections.decrementAndGet();
        slot.release();
        listeners.remove(listener[0]);
      });
      listeners.add(listener[0]);
      listener[0].start(admitted.accepted().session(), request);
    } else {
      Conversation speaker = new Conversation(vertx, socket, settings, sessions, () -> {
        connections.decrementAndGet();
        slot.release();
      }, slot, protocol, sttNodes::count);
      speakers.add(speaker);
      speaker.released().onComplete(v -> speakers.remove(speaker));
      speaker.start(request);
    }
  }

  /**
   * {@code /v1/twilio}: the upgrade is accepted before the token is known (it comes in the stream's
   * {@code start}, see {@link TwilioUpgrade}); a {@code ?token=} is checked first when there is one.
   * After {@code start}, the same checks as any speaker's; a refusal closes the stream.
   */
  private void twilio(HttpServerRequest http, String queryToken) {
    if (draining) {
      fail(http, new MeshException(ErrorCode.GOING_AWAY, "this gateway is shutting down; connect to another one"));
      return;
    }
    http.pause();
    Future<Caller> early = queryToken == null ? Future.succeededFuture() : tokens.verify(queryToken);
    early.compose(caller -> http.toWebSocket().onSuccess(socket -> twilioStream(socket, caller))
            .recover(e -> Future.failedFuture(new MeshException(ErrorCode.BAD_REQUEST, "not a valid WebSocket upgrade"))))
        .onFailure(e -> fail(http, e));
  }

  /** An upgraded Twilio stream: its {@code start}, then the checks; {@code queryCaller} is null when the token is in {@code start}. */
  private void twilioStream(ServerWebSocket socket, Caller queryCaller) {
    TwilioUpgrade.awaitStart(vertx, socket, settings)
        .compose(start -> (queryCaller != null ? Future.succeededFuture(queryCaller) : tokens.verify(start.parameter("token")))
            .map(caller -> start.request(caller, settings))
            .compose(this::admit)
            .onSuccess(admitted -> {
              if (socket.isClosed()) {
                admitted.slot().release(); // Twilio hung up while the checks ran
              } else {
                serve(socket, admitted, new TwilioProtocol.Factory(start));
              }
            }))
        .onFailure(e -> TwilioUpgrade.refuse(socket, e));
  }

  /**
   * Tells the session role, in one message per node (or a few, for many thousands), which sessions
   * have a connection here: they must not end as idle. One message per node, not per connection,
   * costs the same at 10 or 10,000 connections; the session role's UPDATE is one statement.
   */
  private void touchSessions() {
    List<String> live = held.liveSessions();
    for (int from = 0; from < live.size(); from += TOUCH_BATCH) {
      vertx.eventBus().send(Addresses.SESSION_TOUCH,
          Json.encode(new SessionTouch(live.subList(from, Math.min(live.size(), from + TOUCH_BATCH)))));
    }
  }

  private static final int TOUCH_BATCH = 2_000;

  /**
   * The node is stopping: the server stops listening at once (new connections are refused, an
   * upgrade still being checked gets 503 {@code going_away}); each speaker's turn in flight may play
   * out, with a reserve before {@code deadlineMillis} for an interrupted one to store its events;
   * then every client gets {@code going_away} and close 1001 — listeners last, so they have the
   * speakers' final events. Whatever is still open at the deadline is closed by the server.
   */
  @Override
  public Future<Void> drain(long deadlineMillis) {
    Promise<Void> drained = Promise.promise();
    context.runOnContext(v -> drainHere(deadlineMillis).onComplete(drained));
    return drained.future();
  }

  private Future<Void> drainHere(long deadlineMillis) {
    if (draining) {
      return Future.succeededFuture();
    }
    draining = true;
    long budget = Math.max(0, deadlineMillis - System.currentTimeMillis());
    long turnDeadline = deadlineMillis - Math.min(GO_AWAY_RESERVE_MS, budget / 3);
    LOG.info("gateway {} draining: {} speaker and {} listener connections, {} ms", settings.node(), speakers.size(),
        listeners.size(), budget);
    if (server != null) {
      server.shutdown(budget, TimeUnit.MILLISECONDS);
    }
    List<Future<Void>> speakersGone = List.copyOf(speakers).stream()
        .map(speaker -> speaker.goAway(turnDeadline, deadlineMillis)).toList();
    return Future.join(speakersGone).transform(all -> {
      List.copyOf(listeners).forEach(ListenerConnection::goAway);
      return Future.<Void>succeededFuture();
    });
  }

  /** An upgrade that passed its checks, with the session it joins (null: a new one). */
  private record Accepted(VoiceRequest request, SessionInfo session) {
  }

  /**
   * This node's status (its roles and their load, the cluster's members; answered by the launcher
   * on {@code Addresses.NODE_STATUS}) plus, under {@code mesh}, whether each role the gateway needs
   * answers somewhere in the cluster. 200 when both are up or DEGRADED, else 503.
   */
  private void health(RoutingContext ctx) {
    Future<JsonObject> node = vertx.eventBus().<JsonObject>request(Addresses.NODE_STATUS, null,
            new DeliveryOptions().setSendTimeout(HEALTH_TIMEOUT_MS))
        .map(reply -> reply.body())
        .otherwise(e -> e instanceof ReplyException reply && reply.failureType() == ReplyFailure.NO_HANDLERS
            // Embedded without the launcher (tests, bench): the gateway speaks for itself.
            ? new JsonObject().put("status", "UP").put("node", settings.node()).put("roles", new JsonObject())
            : new JsonObject().put("status", "DOWN").put("node", settings.node()).put("reason", e.getMessage()));
    List<Role> needed = settings.requiredRoles().stream().filter(role -> role != Role.GATEWAY).toList();
    List<Future<RoleStatus>> checks = needed.stream()
        .map(role -> Bus.request(vertx.eventBus(), Addresses.health(role), new JsonObject(), RoleStatus.class,
            HEALTH_TIMEOUT_MS))
        .toList();
    Future.join(node, Future.join(checks)).onComplete(done -> {
      JsonObject mesh = new JsonObject();
      String nodeStatus = node.result().getString("status");
      boolean up = "UP".equals(nodeStatus) || "DEGRADED".equals(nodeStatus);
      boolean degraded = "DEGRADED".equals(nodeStatus);
      for (int i = 0; i < checks.size(); i++) {
        Future<RoleStatus> check = checks.get(i);
        if (check.succeeded() && check.result().ready()) {
          RoleStatus status = check.result();
          JsonObject role = new JsonObject().put("status", status.health()).put("node", status.node());
          if (status.degraded() != null) {
            degraded = true;
            role.put("reason", status.degraded());
          }
          mesh.put(needed.get(i).id(), role);
        } else {
          up = false;
          mesh.put(needed.get(i).id(), new JsonObject().put("status", "DOWN")
              .put("reason", check.failed() ? check.cause().getMessage() : "not ready"));
        }
      }
      // DEGRADED still talks (e.g. the database is away and conversations go on): 200, not 503.
      JsonObject body = node.result().copy().put("status", !up ? "DOWN" : degraded ? "DEGRADED" : "UP").put("mesh", mesh);
      ctx.response().setStatusCode(up ? 200 : 503).putHeader("Content-Type", "application/json").end(body.encode());
    });
  }

  /**
   * {@code /metrics}: rendered on a worker thread. A scrape writes every histogram's buckets, 100–250 ms
   * of CPU on a 2-core machine: on the event loop it held up every connection of that loop.
   */
  public static void metrics(RoutingContext ctx, PrometheusMeterRegistry prometheus) {
    ctx.vertx().executeBlocking(prometheus::scrape, false)
        .onSuccess(text -> ctx.response().putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8").end(text))
        .onFailure(ctx::fail);
  }

  /** Liveness: the event loop answers. Never depends on other nodes, so an outage elsewhere restarts nothing. */
  public static void live(RoutingContext ctx, String node) {
    ctx.response().putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("status", "UP").put("node", node).encode());
  }

  private static void fail(HttpServerRequest request, Throwable failure) {
    MeshException error = clientSafe(failure);
    MeshMetrics.error(error.code());
    if (!request.response().ended() && !request.response().closed()) {
      request.response().setStatusCode(error.code().httpStatus()).putHeader("Content-Type", "application/json")
          .end(new JsonObject().put("code", error.code().wire()).put("message", error.getMessage()).encode());
    }
  }

  /**
   * A failure as a client may see it: a {@code MeshException} or an event-bus failure keeps its
   * code and message; anything else is a bug whose text (Java's) stays in the log.
   */
  static MeshException clientSafe(Throwable failure) {
    if (failure instanceof MeshException || failure instanceof ReplyException) {
      return MeshException.from(failure);
    }
    LOG.error("request failed", failure);
    return new MeshException(ErrorCode.INTERNAL, "internal error; this is a bug, please report it");
  }

  @Override
  public Future<?> stop() {
    Future<Void> bridgeClosed = tcpBridge == null ? Future.succeededFuture() : tcpBridge.close();
    return bridgeClosed.compose(v -> server == null ? Future.succeededFuture() : server.close());
  }
}
