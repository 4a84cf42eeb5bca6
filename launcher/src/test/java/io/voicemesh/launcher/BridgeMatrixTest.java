package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The SockJS event-bus bridge at {@code /eventbus}, driven by the official
 * {@code @vertx/eventbus-bridge-client.js} under Node: what each kind of token may follow and ask.
 */
@DisplayName("Event-bus bridge authorization (official Node client)")
@Timeout(240)
class BridgeMatrixTest {
  @RegisterExtension
  static final TestMesh mesh = TestMesh.with(() -> java.util.Map.of("voicemesh.gateway.bridge.maxRegistrations", 10));
  private static final Duration WAIT = Duration.ofSeconds(15);
  private static final Duration TURN = Duration.ofSeconds(60);
  private static final String ADA = TestMesh.uniqueUser("ada");
  private static final String BOB = TestMesh.uniqueUser("bob");
  private static final String OPS = TestMesh.uniqueUser("ops");
  private static final AtomicInteger CONNECTIONS = new AtomicInteger();
  private static BridgeDriver node;
  private static Rest rest;
  private static String adaSession;
  private static String adaOtherSession;
  private static String bobSession;

  @BeforeAll
  static void start() throws Exception {
    node = BridgeDriver.start();
    rest = new Rest(mesh.port());
    adaSession = session(ADA);
    adaOtherSession = session(ADA);
    bobSession = session(BOB);
  }

  @AfterAll
  static void stop() throws Exception {
    if (node != null) {
      node.close();
    }
  }

  private static String session(String user) throws Exception {
    return rest.post("/api/v1/sessions", mesh.token(user), new JsonObject()).json().getString("sessionId");
  }

  private static String token(String user, String session, String... roles) {
    return mesh.mesh().tokens().mint(user, session, Instant.now().plusSeconds(600), List.of(roles)).token();
  }

  private static String url(String token) {
    return "http://127.0.0.1:" + mesh.port() + "/eventbus" + (token == null ? "" : "?token=" + token);
  }

  private static JsonObject headers(String token) {
    return token == null ? new JsonObject() : new JsonObject().put("token", token);
  }

  /** A new connection, open; its name. */
  private static String open(String urlToken) throws Exception {
    String conn = "c" + CONNECTIONS.incrementAndGet();
    JsonObject opened = node.connect(conn, url(urlToken));
    assertEquals("open", opened.getString("event"), "the SockJS connection opens: " + opened);
    return conn;
  }

  /** One cell: who (URL token, header token) does what, refused with the bridge's error frame. */
  private record Refused(String name, String urlToken, String headerToken, String op, String address, JsonObject body) {
  }

  @TestFactory
  @DisplayName("refused: dashboard.* to users, other users' sessions, sessions outside a sid, no token, "
      + "and every send but session.status")
  Stream<DynamicTest> refusals() {
    String ada = token(ADA, null);
    String adaScoped = token(ADA, adaSession);
    String adminScoped = token(OPS, adaSession, "admin");
    String admin = token(OPS, null, "admin");
    String expired = mesh.mesh().tokens().mint(OPS, null, Instant.now().minusSeconds(60), List.of("admin")).token();
    JsonObject status = new JsonObject().put("sessionId", adaSession);
    List<Refused> cells = new ArrayList<>(List.of(
        new Refused("user: register dashboard.sessions", ada, null, "register", "dashboard.sessions", null),
        new Refused("user: register dashboard.nodes", ada, null, "register", "dashboard.nodes", null),
        new Refused("user (header token): register dashboard.nodes", null, ada, "register", "dashboard.nodes", null),
        new Refused("user: register another user's session events", ada, null, "register",
            "session." + bobSession + ".events", null),
        new Refused("user: session.status of another user's session", ada, null, "send", "session.status",
            new JsonObject().put("sessionId", bobSession)),
        new Refused("user: register an unknown session's events", ada, null, "register",
            "session.00000000-0000-4000-8000-000000000000.events", null),
        new Refused("sid token: register another session of the same user", adaScoped, null, "register",
            "session." + adaOtherSession + ".events", null),
        new Refused("sid token with admin role: register dashboard.nodes", adminScoped, null, "register",
            "dashboard.nodes", null),
        new Refused("no token: register dashboard.nodes", null, null, "register", "dashboard.nodes", null),
        new Refused("no token: register a session's events", null, null, "register", "session." + adaSession + ".events",
            null),
        new Refused("no token: session.status", null, null, "send", "session.status", status),
        new Refused("expired admin token in the header: register dashboard.nodes", null, expired, "register",
            "dashboard.nodes", null),
        new Refused("forged token in the header: register dashboard.nodes", null, admin.substring(0, admin.length() - 4)
            + "AAAA", "register", "dashboard.nodes", null),
        new Refused("owner: register the session's audio", ada, null, "register", "session." + adaSession + ".audio", null),
        new Refused("owner: register the session's writer address", ada, null, "register",
            "session." + adaSession + ".writer", null)));
    for (String address : List.of("session.open", "session.end", "session.events.append", "llm.generate", "tts.cancel",
        "mesh.node.status", "dashboard.sessions", "session." + adaSession + ".events")) {
      cells.add(new Refused("admin: send to " + address, admin, null, "send", address, new JsonObject()
          .put("sessionId", adaSession)));
      cells.add(new Refused("admin: publish to " + address, admin, null, "publish", address, new JsonObject()
          .put("sessionId", adaSession)));
    }
    cells.add(new Refused("admin: publish to session.status", admin, null, "publish", "session.status", status));
    return cells.stream().map(cell -> dynamicTest(cell.name(), () -> {
      String conn = open(cell.urlToken());
      switch (cell.op()) {
        case "register" -> node.register(conn, cell.address(), headers(cell.headerToken()));
        case "send" -> node.send(conn, "r", cell.address(), cell.body(), headers(cell.headerToken()));
        default -> node.publish(conn, cell.address(), cell.body(), headers(cell.headerToken()));
      }
      JsonObject error = node.awaitNth(conn, "error", 1, WAIT);
      assertEquals("err", error.getJsonObject("error").getString("type"), error.encode());
      assertTrue(Set.of("rejected", "access_denied").contains(error.getJsonObject("error").getString("body")),
          error.encode());
      assertTrue(node.events(conn, "reply").isEmpty(), "no reply to a refused send");
    }));
  }

  @Test
  @DisplayName("an invalid ?token= closes the SockJS connection: it gets nothing at all")
  void invalidUrlToken() throws Exception {
    String conn = "bad" + CONNECTIONS.incrementAndGet();
    node.command(new JsonObject().put("op", "connect").put("conn", conn).put("url", url("not.a.jwt")));
    node.await(e -> conn.equals(e.getString("conn")) && "close".equals(e.getString("event")), WAIT);
    assertTrue(node.events(conn, "message").isEmpty());
  }

  @Test
  @DisplayName("session.status over the bridge answers the owner, a sid token of that session (header) and an admin")
  void sessionStatus() throws Exception {
    String owner = open(token(ADA, null));
    node.send(owner, "s1", "session.status", new JsonObject().put("sessionId", adaSession), new JsonObject());
    String scoped = open(null);
    node.send(scoped, "s2", "session.status", new JsonObject().put("sessionId", adaSession), headers(token(ADA, adaSession)));
    String admin = open(token(OPS, null, "admin"));
    node.send(admin, "s3", "session.status", new JsonObject().put("sessionId", bobSession), new JsonObject());
    for (String[] asked : new String[][] {{owner, adaSession}, {scoped, adaSession}, {admin, bobSession}}) {
      JsonObject reply = node.awaitNth(asked[0], "reply", 1, WAIT);
      assertFalse(reply.containsKey("error"), reply.encode());
      JsonObject status = reply.getJsonObject("body");
      assertEquals(asked[1], status.getString("sessionId"), reply.encode());
      assertEquals("active", status.getString("state"));
      assertTrue(status.containsKey("participants") && status.containsKey("turns"), status.encode());
      assertTrue(node.events(asked[0], "error").isEmpty(), node.events(asked[0], "error").toString());
    }
  }

  @Test
  @DisplayName("during a spoken turn: an admin gets dashboard.sessions, dashboard.nodes and the session's events; "
      + "the owner and its sid token get the events; another user and no token get nothing")
  void liveTurn() throws Exception {
    String admin = open(token(OPS, null, "admin"));
    node.register(admin, "dashboard.sessions", new JsonObject());
    node.register(admin, "dashboard.nodes", new JsonObject());
    JsonObject nodes = node.await(e -> admin.equals(e.getString("conn")) && "dashboard.nodes".equals(e.getString("address")),
        WAIT);
    JsonObject report = nodes.getJsonObject("body");
    assertTrue(report.getJsonObject("roles").containsKey("gateway") && report.getJsonObject("roles").containsKey("stt"),
        report.encode());
    assertTrue(report.getJsonObject("roles").getJsonObject("stt").getInteger("capacity") > 0, report.encode());
    assertTrue(report.getLong("heapUsedBytes") > 0 && report.getLong("heapMaxBytes") >= report.getLong("heapUsedBytes"));
    assertTrue(report.getDouble("eventLoopDelayMs") >= 0 && report.getJsonArray("members").size() == 1, report.encode());
    // The registration is in place (a dashboard.nodes message came): a session started now is seen starting.
    String sessionId = session(ADA);
    String adaToken = token(ADA, null);
    String ownerConn = open(adaToken);
    String scopedConn = open(null);
    String bobConn = open(token(BOB, null));
    String nobody = open(null);
    String events = "session." + sessionId + ".events";
    node.register(admin, events, new JsonObject());
    node.register(ownerConn, events, new JsonObject());
    node.register(scopedConn, events, headers(token(ADA, sessionId)));
    node.register(bobConn, events, new JsonObject());
    node.register(nobody, events, new JsonObject());
    node.awaitNth(bobConn, "error", 1, WAIT);
    node.awaitNth(nobody, "error", 1, WAIT);
    JsonObject started = node.await(e -> admin.equals(e.getString("conn")) && "dashboard.sessions".equals(e.getString("address"))
        && sessionId.equals(e.getJsonObject("body").getString("sessionId")), WAIT).getJsonObject("body");
    assertEquals("session.started", started.getString("type"));
    assertEquals(ADA, started.getString("user"));
    assertEquals("default", started.getString("agent"));

    // The registrations are asynchronous (token, session lookup): ask status after them on each connection,
    // and speak once they have had the time the refusals above took.
    try (VoiceClient client = mesh.connect("token=" + adaToken + "&sessionId=" + sessionId)) {
      client.await("session.ready", WAIT);
      client.speakRealtime(Speech.say("what time is it"), 1200);
      JsonObject completed = client.await("agent_completed", TURN);

      JsonObject turn = node.await(e -> admin.equals(e.getString("conn")) && "dashboard.sessions".equals(e.getString("address"))
          && "turn.completed".equals(e.getJsonObject("body").getString("type")), TURN).getJsonObject("body");
      assertEquals(sessionId, turn.getString("sessionId"));
      assertEquals(ADA, turn.getString("user"));
      assertEquals("default", turn.getString("agent"));
      assertEquals(completed.getString("turnId"), turn.getString("turnId"));
      assertFalse(turn.getBoolean("interrupted"));
      assertEquals(completed.getJsonObject("timings"), turn.getJsonObject("timings"));
      assertEquals(completed.getJsonObject("servedBy"), turn.getJsonObject("servedBy"));
      assertTrue(turn.getJsonObject("timings").containsKey("voiceToVoiceMs"), turn.encode());

      long completedSeq = completed.getLong("seq");
      for (String conn : List.of(admin, ownerConn, scopedConn)) {
        node.await(e -> conn.equals(e.getString("conn")) && events.equals(e.getString("address"))
            && String.valueOf(completedSeq).equals(e.getJsonObject("headers").getString("seq")), TURN);
        // Exactly what listeners get: the stored JSON text, seq and type in the headers.
        for (JsonObject message : node.messages(conn, events)) {
          JsonObject body = new JsonObject(message.getString("body"));
          JsonObject headers = message.getJsonObject("headers");
          assertEquals(String.valueOf(body.getLong("seq")), headers.getString("seq"), message.encode());
          assertEquals(body.getString("type"), headers.getString("type"), message.encode());
          JsonObject sent = client.sessionEvents().stream().filter(e -> e.getLong("seq").equals(body.getLong("seq")))
              .findFirst().orElseThrow(() -> new AssertionError("the speaker never got " + body)).copy();
          sent.remove("_receivedAt");
          assertEquals(sent, body, "seq " + body.getLong("seq"));
        }
      }
      List<String> types = node.messages(ownerConn, events).stream().map(m -> m.getJsonObject("headers").getString("type"))
          .toList();
      assertTrue(types.containsAll(List.of("transcript.final", "user_message", "agent_response", "agent_completed")),
          types.toString());
    }
    assertTrue(node.events(bobConn, "message").isEmpty(), "another user's connection got " + node.events(bobConn, "message"));
    assertTrue(node.events(nobody, "message").isEmpty(), "a connection without a token got " + node.events(nobody, "message"));
    assertEquals(1, node.events(bobConn, "error").size());
    assertTrue(node.events(ownerConn, "error").isEmpty() && node.events(scopedConn, "error").isEmpty()
        && node.events(admin, "error").isEmpty(), "nothing refused to those allowed");
  }

  @Test
  @DisplayName("a connection holds at most gateway.bridge.maxRegistrations (10 here); one more is refused")
  void registrationLimit() throws Exception {
    String admin = open(token(OPS, null, "admin"));
    for (int i = 0; i < 10; i++) {
      node.register(admin, "session." + java.util.UUID.randomUUID() + ".events", new JsonObject());
    }
    node.register(admin, "dashboard.nodes", new JsonObject());
    JsonObject error = node.awaitNth(admin, "error", 1, WAIT);
    assertTrue(Set.of("max_handlers_reached", "rejected").contains(error.getJsonObject("error").getString("body")),
        error.encode());
    // The refused one is the eleventh: nothing arrives on dashboard.nodes, though it is published every second.
    String other = open(token(OPS, null, "admin"));
    node.register(other, "dashboard.nodes", new JsonObject());
    node.await(e -> other.equals(e.getString("conn")) && "dashboard.nodes".equals(e.getString("address")), WAIT);
    node.awaitNth(other, "message", 2, WAIT);
    assertEquals(1, node.events(admin, "error").size(), node.events(admin, "error").toString());
    assertTrue(node.messages(admin, "dashboard.nodes").isEmpty());
  }

  @Test
  @DisplayName("inbound frames beyond gateway.bridge.inboundPerSecond (10/s, burst 20) are refused")
  void inboundRate() throws Exception {
    String owner = open(token(ADA, null));
    int asked = 60;
    for (int i = 0; i < asked; i++) {
      node.send(owner, "q" + i, "session.status", new JsonObject().put("sessionId", adaSession), new JsonObject());
    }
    node.awaitCount(owner, Set.of("reply", "error"), asked, WAIT);
    long rateRefused = node.events(owner, "error").stream()
        .filter(e -> "rejected".equals(e.getJsonObject("error").getString("body"))).count();
    assertTrue(rateRefused >= 30 && rateRefused <= 40, "beyond the burst of 20 (and the refill meanwhile): " + rateRefused
        + " of " + asked + " refused; " + node.events(owner, "error"));
    // Of those let through, at most maxRegistrations wait for their reply at once (the bridge's own bound).
    assertTrue(node.events(owner, "reply").size() >= 10, node.events(owner, "reply").toString());
    node.events(owner, "reply").forEach(reply -> assertEquals(adaSession, reply.getJsonObject("body").getString("sessionId")));
  }
}
