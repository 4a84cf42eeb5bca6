package io.voicemesh.gateway;

import io.netty.handler.codec.http.QueryStringDecoder;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.bridge.BaseBridgeEvent;
import io.vertx.ext.bridge.BridgeEventType;
import io.vertx.ext.bridge.BridgeOptions;
import io.vertx.ext.bridge.PermittedOptions;
import io.vertx.ext.eventbus.bridge.tcp.TcpEventBusBridge;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.sockjs.SockJSBridgeOptions;
import io.vertx.ext.web.handler.sockjs.SockJSHandler;
import io.vertx.ext.web.handler.sockjs.SockJSHandlerOptions;
import io.vertx.ext.web.handler.sockjs.SockJSSocket;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The event-bus bridge for dashboards: SockJS at {@code /eventbus} (vertx-web's
 * {@code SockJSHandler.bridge}, for the official {@code @vertx/eventbus-bridge-client.js}) and, on an
 * opt-in port, the TCP bridge (vertx-tcp-eventbus-bridge). Both ask {@link #handle} about every
 * frame; what it allows:
 *
 * <pre>
 * REGISTER session.&lt;id&gt;.events   the session's owner, a token scoped to it (sid), or an admin
 * REGISTER dashboard.sessions       admin ({@code roles: ["admin"]} in the token, no sid)
 * REGISTER dashboard.nodes          admin
 * SEND     session.status           {sessionId}: whoever may read that session; replies its status
 * anything else                     refused (the bridge's error frame); nothing else happens
 * </pre>
 *
 * The token (the mesh's JWT, as for REST) comes as {@code ?token=} on the SockJS URL, checked when
 * the connection opens (an invalid one closes it), or as a {@code token} header on each register
 * or send (the client's {@code headers} argument), which wins. A connection without either gets
 * nothing. Per connection: at most {@code maxRegistrations} registrations, and inbound frames
 * (register, send, publish) beyond {@code inboundPerSecond} are refused. A registration whose token
 * has expired delivers nothing more.
 */
final class EventBusBridge {
  static final String PATH = "/eventbus";
  private static final Logger LOG = LoggerFactory.getLogger(EventBusBridge.class);
  private static final Pattern SESSION_EVENTS = Pattern.compile("session\\.([0-9a-fA-F-]{1,64})\\.events");
  private static final String TOKEN_HEADER = "token";

  private final JwtTokens tokens;
  private final SessionDirectory sessions;
  private final BridgeSettings settings;
  /** Per bridge connection (a SockJS or a TCP socket). */
  private final Map<Object, Connection> connections = new ConcurrentHashMap<>();

  EventBusBridge(JwtTokens tokens, SessionDirectory sessions, BridgeSettings settings) {
    this.tokens = tokens;
    this.sessions = sessions;
    this.settings = settings;
  }

  /** What the bridges let through at all; {@link #handle} then decides per caller. */
  private static <T extends BridgeOptions> T permitted(T options) {
    options.addInboundPermitted(new PermittedOptions().setAddress(Addresses.SESSION_STATUS));
    options.addOutboundPermitted(new PermittedOptions().setAddressRegex(SESSION_EVENTS.pattern()));
    options.addOutboundPermitted(new PermittedOptions().setAddress(Addresses.DASHBOARD_SESSIONS));
    options.addOutboundPermitted(new PermittedOptions().setAddress(Addresses.DASHBOARD_NODES));
    return options;
  }

  /** The SockJS bridge's router, mounted at {@value #PATH}. */
  Router sockJsRouter(Vertx vertx) {
    SockJSBridgeOptions options = permitted(new SockJSBridgeOptions())
        .setMaxHandlersPerSocket(settings.maxRegistrations())
        .setPingTimeout(settings.pingTimeoutMs());
    return SockJSHandler.create(vertx, new SockJSHandlerOptions().setRegisterWriteHandler(false))
        .bridge(options, event -> handle(event, event.socket(), event.socket() == null ? null : event.socket().uri()));
  }

  /** The TCP bridge on {@code host:port} (tokens only in headers: a TCP connection has no URL). */
  Future<TcpEventBusBridge> listenTcp(Vertx vertx, String host, int port) {
    return TcpEventBusBridge.create(vertx, permitted(new BridgeOptions()), new NetServerOptions(),
            event -> handle(event, event.socket(), null))
        .listen(port, host);
  }

  /** One bridge frame, or a socket opening or closing: completes the event true to let it through. */
  private void handle(BaseBridgeEvent event, Object socket, String uri) {
    BridgeEventType type = event.type();
    switch (type) {
      case SOCKET_CREATED -> opened(event, socket, uri);
      case SOCKET_CLOSED -> {
        connections.remove(socket);
        event.tryComplete(true);
      }
      case REGISTER -> register(event, connection(socket));
      case UNREGISTER -> {
        Connection connection = connection(socket);
        String address = event.getRawMessage() == null ? null : event.getRawMessage().getString("address");
        if (connection != null && address != null && connection.grants.remove(address) != null) {
          connection.registrations--;
        }
        event.tryComplete(true);
      }
      case SEND -> send(event, connection(socket));
      case RECEIVE -> event.tryComplete(deliverable(connection(socket), event.getRawMessage()));
      case PUBLISH -> refuse(event, "publishing is not allowed over the bridge");
      default -> event.tryComplete(true); // SOCKET_IDLE, SOCKET_PING, SOCKET_ERROR
    }
  }

  /**
   * The connection a frame came on. The TCP bridge announces no SOCKET_CREATED or SOCKET_CLOSED: its
   * connections start with their first frame and end when their socket closes.
   */
  private Connection connection(Object socket) {
    if (socket == null) {
      return null;
    }
    Connection known = connections.get(socket);
    if (known != null || !(socket instanceof NetSocket tcp)) {
      return known;
    }
    Connection started = new Connection(null, settings);
    connections.put(socket, started);
    tcp.closeHandler(v -> connections.remove(socket));
    return started;
  }

  private void opened(BaseBridgeEvent event, Object socket, String uri) {
    String token = uri == null ? null : new QueryStringDecoder(uri).parameters()
        .getOrDefault(TOKEN_HEADER, List.of()).stream().findFirst().orElse(null);
    // Accepted at once, so the socket reads from its first frame (a raw WebSocket client may register
    // before any answer); frames wait for the token's check. One that does not verify closes the
    // connection: it gets nothing at all.
    Future<Caller> caller = token == null ? null : tokens.verify(token);
    connections.put(socket, new Connection(caller, settings));
    if (caller != null && socket instanceof SockJSSocket sockJs) {
      caller.onFailure(e -> sockJs.close());
    }
    event.tryComplete(true);
  }

  private void register(BaseBridgeEvent event, Connection connection) {
    if (connection == null || !connection.inbound.tryAcquire(1)) {
      refuse(event, "inbound rate");
      return;
    }
    if (connection.registrations >= settings.maxRegistrations()) {
      refuse(event, "more than " + settings.maxRegistrations() + " registrations");
      return;
    }
    String address = event.getRawMessage().getString("address");
    if (!Addresses.DASHBOARD_SESSIONS.equals(address) && !Addresses.DASHBOARD_NODES.equals(address)
        && (address == null || !SESSION_EVENTS.matcher(address).matches())) {
      refuse(event, "not a permitted address");
      return;
    }
    caller(event.getRawMessage(), connection)
        .compose(caller -> mayFollow(caller, address).map(caller))
        .onSuccess(caller -> {
          // Counted at once: registrations in flight cannot all pass the limit.
          connection.registrations++;
          connection.grants.put(address, caller.expiresAtSeconds());
          event.tryComplete(true);
        })
        .onFailure(e -> refuse(event, e.getMessage()));
  }

  /** Only {@code session.status} with a session the caller may read; its token header is not passed on. */
  private void send(BaseBridgeEvent event, Connection connection) {
    JsonObject raw = event.getRawMessage();
    if (connection == null || !connection.inbound.tryAcquire(1)) {
      refuse(event, "inbound rate");
      return;
    }
    if (!Addresses.SESSION_STATUS.equals(raw.getString("address"))) {
      refuse(event, "not a permitted address");
      return;
    }
    String sessionId = raw.getValue("body") instanceof JsonObject body && body.getValue("sessionId") instanceof String id
        ? id : null;
    if (sessionId == null) {
      refuse(event, "session.status needs {sessionId}");
      return;
    }
    caller(raw, connection)
        .compose(caller -> mayRead(caller, sessionId))
        .onSuccess(v -> {
          event.setRawMessage(raw.copy().put("body", new JsonObject().put("sessionId", sessionId)).put("headers",
              new JsonObject()));
          event.tryComplete(true);
        })
        .onFailure(e -> refuse(event, e.getMessage()));
  }

  /** The caller of one frame: its {@code token} header, else the connection's URL token. */
  private Future<Caller> caller(JsonObject raw, Connection connection) {
    Object header = raw.getValue("headers") instanceof JsonObject headers ? headers.getValue(TOKEN_HEADER) : null;
    if (header instanceof String token) {
      return tokens.verify(token);
    }
    if (connection.caller != null) {
      return connection.caller;
    }
    return Future.failedFuture(new MeshException(ErrorCode.UNAUTHORIZED, "no token"));
  }

  private Future<Void> mayFollow(Caller caller, String address) {
    if (Addresses.DASHBOARD_SESSIONS.equals(address) || Addresses.DASHBOARD_NODES.equals(address)) {
      return caller.admin() ? Future.succeededFuture()
          : Future.failedFuture(new MeshException(ErrorCode.FORBIDDEN, address + " is for admins"));
    }
    Matcher events = address == null ? null : SESSION_EVENTS.matcher(address);
    if (events != null && events.matches()) {
      return mayRead(caller, events.group(1));
    }
    return Future.failedFuture(new MeshException(ErrorCode.FORBIDDEN, "not a permitted address"));
  }

  /** An admin reads every session; anyone else their own, within the token's session scope. */
  private Future<Void> mayRead(Caller caller, String sessionId) {
    if (caller.admin()) {
      return Future.succeededFuture();
    }
    try {
      caller.mayReach(sessionId);
    } catch (MeshException e) {
      return Future.failedFuture(e);
    }
    return sessions.get(sessionId).map(info -> {
      caller.mayUse(info);
      return null;
    });
  }

  /** A message to a registration whose token has since expired is not delivered (replies pass). */
  private static boolean deliverable(Connection connection, JsonObject envelope) {
    if (connection == null || envelope == null) {
      return true;
    }
    Long expires = connection.grants.get(envelope.getString("address"));
    return expires == null || expires >= Instant.now().getEpochSecond();
  }

  private static void refuse(BaseBridgeEvent event, String why) {
    LOG.debug("bridge {} refused: {}", event.type(), why);
    event.tryComplete(false);
  }

  /** What one bridge connection holds. */
  private static final class Connection {
    /** From the URL's token, once checked; null: every frame must bring its own. */
    final Future<Caller> caller;
    final RateLimiter inbound;
    /** Registered addresses and when the token that registered each expires (epoch seconds). */
    final Map<String, Long> grants = new HashMap<>();
    int registrations;

    Connection(Future<Caller> caller, BridgeSettings settings) {
      this.caller = caller;
      this.inbound = new RateLimiter(settings.inboundPerSecond(), settings.inboundBurst());
    }
  }
}
