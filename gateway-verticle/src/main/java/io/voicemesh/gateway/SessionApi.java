package io.voicemesh.gateway;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.HttpException;
import io.vertx.ext.web.openapi.router.RequestExtractor;
import io.vertx.ext.web.openapi.router.RouterBuilder;
import io.vertx.openapi.contract.OpenAPIContract;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.Bus;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.MeshMetrics;
import io.voicemesh.api.message.SessionInfo;
import io.voicemesh.api.message.SessionList;
import io.voicemesh.api.message.SessionOpen;
import io.voicemesh.api.message.SessionPage;
import java.time.Instant;

/**
 * The REST sessions API, routed and validated from its OpenAPI document
 * ({@code openapi/voicemesh.json}, served at {@code /api/openapi.json}) by Vert.x's OpenAPI router.
 * Every route authenticates the bearer token the same way the WebSocket upgrade does.
 *
 * <pre>
 * POST   /api/v1/sessions              create        201 {sessionId, token, wsUrl, agent, expiresAt}
 * GET    /api/v1/sessions?active=true  the caller's  200 {sessions: [...]}
 * GET    /api/v1/sessions/{id}         status        200 {state, agent, turns, participants, ...}
 * DELETE /api/v1/sessions/{id}         end           200 the ended session
 * </pre>
 */
final class SessionApi {
  static final String CONTRACT = "openapi/voicemesh.json";
  static final String PREFIX = "/api/v1/";
  private static final long MAX_BODY_BYTES = 64 * 1024;
  private static final String CALLER = "voicemesh.caller";

  private final GatewaySettings settings;
  private final JwtTokens tokens;
  private final SessionDirectory sessions;
  private final Vertx vertx;

  private SessionApi(Vertx vertx, GatewaySettings settings, JwtTokens tokens, SessionDirectory sessions) {
    this.vertx = vertx;
    this.settings = settings;
    this.tokens = tokens;
    this.sessions = sessions;
  }

  /** The API's router, for requests under {@link #PREFIX}. */
  static Future<Router> router(Vertx vertx, GatewaySettings settings, JwtTokens tokens, SessionDirectory sessions) {
    SessionApi api = new SessionApi(vertx, settings, tokens, sessions);
    return OpenAPIContract.from(vertx, CONTRACT).map(contract -> {
      RouterBuilder builder = RouterBuilder.create(vertx, contract, RequestExtractor.withBodyHandler())
          .rootHandler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES))
          .rootHandler(api::authenticate);
      // The bearerAuth scheme of the contract is enforced by authenticate(): one code path with the WebSocket.
      builder.getRoutes().forEach(route -> route.setDoSecurity(false));
      builder.getRoute("createSession").addHandler(api::create);
      builder.getRoute("listSessions").addHandler(api::list);
      builder.getRoute("getSession").addHandler(api::get);
      builder.getRoute("endSession").addHandler(api::end);
      Router router = builder.createRouter();
      router.route().handler(ctx -> fail(ctx, ErrorCode.NOT_FOUND.httpStatus(), ErrorCode.NOT_FOUND.wire(),
          "no such route: " + ctx.request().method() + " " + ctx.request().path()));
      router.route().failureHandler(SessionApi::failure);
      return router;
    });
  }

  private void authenticate(RoutingContext ctx) {
    tokens.verify(bearer(ctx.request().getHeader("Authorization")))
        .onSuccess(caller -> {
          ctx.put(CALLER, caller);
          ctx.next();
        })
        .onFailure(ctx::fail);
  }

  /** The token of an {@code Authorization: Bearer} header, or null. */
  static String bearer(String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return null;
    }
    return authorization.substring(7).trim();
  }

  private void create(RoutingContext ctx) {
    Caller caller = ctx.get(CALLER);
    caller.mayUseAllSessions();
    JsonObject body = ctx.body().isEmpty() ? new JsonObject() : ctx.body().asJsonObject();
    if (body.containsKey("agent") && !(body.getValue("agent") instanceof String)) {
      throw new MeshException(ErrorCode.BAD_REQUEST, "agent must be a name");
    }
    String agent = settings.agent(body.getString("agent"));
    Bus.request(vertx.eventBus(), Addresses.SESSION_OPEN,
            new SessionOpen(null, caller.user(), agent, body.getJsonObject("metadata"), null), SessionInfo.class,
            settings.sessionTimeoutMs())
        .onSuccess(info -> {
          JwtTokens.Minted token = tokens.canSign()
              ? tokens.mint(caller.user(), info.sessionId(), Instant.now().plusSeconds(settings.sessionTokenTtlSeconds()))
              // Verify-only node (RS256 without a private key): the caller's own token serves the client.
              : new JwtTokens.Minted(caller.token(), Instant.ofEpochSecond(caller.expiresAtSeconds()));
          json(ctx, 201, new JsonObject()
              .put("sessionId", info.sessionId())
              .put("token", token.token())
              .put("wsUrl", wsUrl(ctx, info.sessionId()))
              .put("agent", info.agent())
              .put("expiresAt", token.expiresAt().toString()));
        })
        .onFailure(ctx::fail);
  }

  private void list(RoutingContext ctx) {
    Caller caller = ctx.get(CALLER);
    caller.mayUseAllSessions();
    boolean active = Boolean.parseBoolean(ctx.queryParams().get("active"));
    int limit = ctx.queryParams().contains("limit") ? Integer.parseInt(ctx.queryParams().get("limit")) : 50;
    boolean everyUser = Boolean.parseBoolean(ctx.queryParams().get("all"));
    if (everyUser && !caller.admin()) {
      throw new MeshException(ErrorCode.FORBIDDEN, "only an admin token may list every user's sessions");
    }
    Bus.request(vertx.eventBus(), Addresses.SESSION_LIST, new SessionList(everyUser ? null : caller.user(), active, limit),
            SessionPage.class, settings.sessionTimeoutMs())
        .onSuccess(page -> json(ctx, 200, new JsonObject().put("sessions",
            new JsonArray(page.sessions().stream()
                .map(s -> (Object) (everyUser ? SessionDirectory.summary(s).put("user", s.userId()) : SessionDirectory.summary(s)))
                .toList()))))
        .onFailure(ctx::fail);
  }

  private void get(RoutingContext ctx) {
    Caller caller = ctx.get(CALLER);
    owned(caller, ctx.pathParam("sessionId"))
        .compose(sessions::status)
        .onSuccess(status -> json(ctx, 200, status))
        .onFailure(ctx::fail);
  }

  private void end(RoutingContext ctx) {
    Caller caller = ctx.get(CALLER);
    owned(caller, ctx.pathParam("sessionId"))
        .compose(info -> sessions.end(info.sessionId()))
        .onSuccess(info -> json(ctx, 200, SessionDirectory.summary(info)))
        .onFailure(ctx::fail);
  }

  /** The session, if it exists (404) and the caller may use it (403). */
  private Future<SessionInfo> owned(Caller caller, String sessionId) {
    return sessions.get(sessionId).map(info -> {
      caller.mayUse(info);
      return info;
    });
  }

  private static String wsUrl(RoutingContext ctx, String sessionId) {
    String proto = ctx.request().getHeader("X-Forwarded-Proto");
    boolean secure = proto != null ? proto.equalsIgnoreCase("https") : ctx.request().isSSL();
    String host = ctx.request().authority() == null ? "localhost" : ctx.request().authority().toString();
    return (secure ? "wss://" : "ws://") + host + "/v1/voice?sessionId=" + sessionId;
  }

  private static void failure(RoutingContext ctx) {
    Throwable failure = ctx.failure();
    if (failure instanceof MeshException mesh) {
      MeshMetrics.error(mesh.code());
      fail(ctx, mesh.code().httpStatus(), mesh.code().wire(), mesh.getMessage());
      return;
    }
    int status = failure instanceof HttpException http ? http.getStatusCode() : ctx.statusCode();
    if (status == 413) {
      fail(ctx, 413, ErrorCode.FRAME_TOO_LARGE.wire(), "request bodies are limited to " + MAX_BODY_BYTES + " bytes");
    } else if (status == 400 || failure instanceof io.vertx.openapi.validation.ValidatorException
        || failure instanceof io.vertx.core.json.DecodeException || failure instanceof NumberFormatException) {
      // The validator's message says which rule the request broke; a parser's would quote Java.
      String why = failure instanceof io.vertx.openapi.validation.ValidatorException ? failure.getMessage()
          : failure instanceof io.vertx.core.json.DecodeException ? "the body is not valid JSON" : "bad request";
      fail(ctx, 400, ErrorCode.BAD_REQUEST.wire(), why);
    } else if (status == 401) {
      fail(ctx, 401, ErrorCode.UNAUTHORIZED.wire(), "a valid bearer token is required");
    } else {
      MeshException mesh = GatewayVerticle.clientSafe(failure == null ? new IllegalStateException("status " + status)
          : failure);
      fail(ctx, mesh.code().httpStatus(), mesh.code().wire(), mesh.getMessage());
    }
  }

  private static void fail(RoutingContext ctx, int status, String code, String message) {
    json(ctx, status, new JsonObject().put("code", code).put("message", message));
  }

  private static void json(RoutingContext ctx, int status, JsonObject body) {
    if (!ctx.response().ended()) {
      ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.encode());
    }
  }
}
