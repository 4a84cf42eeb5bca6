package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetSocket;
import io.vertx.ext.eventbus.bridge.tcp.impl.protocol.FrameHelper;
import io.vertx.ext.eventbus.bridge.tcp.impl.protocol.FrameParser;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The TCP event-bus bridge ({@code gateway.bridge.tcpPort}, {@code --bridge-port}), spoken to with the
 * library's own framing (4-byte length, JSON): the same authorization as the SockJS bridge, with the
 * token in each frame's headers.
 */
@DisplayName("TCP event-bus bridge authorization")
@Timeout(180)
class TcpBridgeTest {
  private static final int PORT = LoopbackPorts.free();
  @RegisterExtension
  static final TestMesh mesh = TestMesh.with(() -> Map.of("voicemesh.gateway.bridge.tcpPort", PORT));
  private static final Duration WAIT = Duration.ofSeconds(15);
  private static final String ADA = TestMesh.uniqueUser("ada");
  private static final String BOB = TestMesh.uniqueUser("bob");
  private static Rest rest;

  @BeforeAll
  static void start() {
    rest = new Rest(mesh.port());
  }

  /** One TCP bridge connection and the frames it got. */
  private static final class Client implements AutoCloseable {
    private final NetSocket socket;
    private final List<JsonObject> frames = new ArrayList<>();

    Client() throws Exception {
      socket = mesh.clientVertx().createNetClient().connect(PORT, "127.0.0.1").await(10, TimeUnit.SECONDS);
      socket.handler(new FrameParser(frame -> {
        synchronized (frames) {
          frames.add(frame.result());
          frames.notifyAll();
        }
      }));
    }

    void frame(String type, String address, String token, JsonObject body, String replyAddress) {
      JsonObject frame = new JsonObject().put("type", type).put("address", address)
          .put("headers", token == null ? new JsonObject() : new JsonObject().put("token", token));
      if (body != null) {
        frame.put("body", body);
      }
      if (replyAddress != null) {
        frame.put("replyAddress", replyAddress);
      }
      FrameHelper.writeFrame(frame, socket);
    }

    JsonObject await(Predicate<JsonObject> match) throws InterruptedException {
      long deadline = System.nanoTime() + WAIT.toNanos();
      synchronized (frames) {
        while (true) {
          for (JsonObject frame : frames) {
            if (match.test(frame)) {
              return frame;
            }
          }
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            throw new AssertionError("no matching frame within " + WAIT + "; got " + frames);
          }
          frames.wait(Math.max(1, left / 1_000_000));
        }
      }
    }

    /** The next error frame after the {@code n - 1} before it. */
    JsonObject error(int n) throws InterruptedException {
      await(f -> errors().size() >= n);
      return errors().get(n - 1);
    }

    List<JsonObject> errors() {
      synchronized (frames) {
        return frames.stream().filter(f -> "err".equals(f.getString("type"))).toList();
      }
    }

    List<JsonObject> messages(String address) {
      synchronized (frames) {
        return frames.stream().filter(f -> "message".equals(f.getString("type")) && address.equals(f.getString("address")))
            .toList();
      }
    }

    @Override
    public void close() throws Exception {
      socket.close().await(10, TimeUnit.SECONDS);
    }
  }

  private static String token(String user, String session, String... roles) {
    return mesh.mesh().tokens().mint(user, session, Instant.now().plusSeconds(600), List.of(roles)).token();
  }

  @Test
  @DisplayName("admins follow dashboard.* and any session, owners their own sessions; users, other users and "
      + "frames without a token are refused; only session.status may be sent")
  void sameAuthorizationAsSockJs() throws Exception {
    String session = rest.post("/api/v1/sessions", mesh.token(ADA), new JsonObject()).json().getString("sessionId");
    String events = "session." + session + ".events";
    String admin = token("ops", null, "admin");
    String ada = token(ADA, null);
    try (Client ops = new Client(); Client owner = new Client(); Client bob = new Client(); Client nobody = new Client()) {
      // Refusals, one at a time so each error frame answers the frame before it.
      int refused = 0;
      for (String[] cell : new String[][] {{"register", "dashboard.nodes", ada}, {"register", "dashboard.sessions", ada},
          {"send", "session.open", ada}, {"publish", "dashboard.sessions", admin}, {"send", "llm.generate", admin},
          {"register", "session." + session + ".audio", ada}}) {
        owner.frame(cell[0], cell[1], cell[2], new JsonObject().put("sessionId", session), null);
        assertTrue(owner.error(++refused).containsKey("message"), owner.errors().toString());
      }
      bob.frame("register", events, token(BOB, null), null, null);
      bob.error(1);
      bob.frame("send", "session.status", token(BOB, null), new JsonObject().put("sessionId", session), "bob-reply");
      bob.error(2);
      nobody.frame("register", "dashboard.nodes", null, null, null);
      nobody.error(1);
      nobody.frame("register", events, null, null, null);
      nobody.error(2);
      nobody.frame("register", "dashboard.nodes", ada.substring(0, ada.length() - 4) + "AAAA", null, null);
      nobody.error(3);

      ops.frame("register", "dashboard.nodes", admin, null, null);
      ops.frame("register", "dashboard.sessions", admin, null, null);
      ops.frame("register", events, admin, null, null);
      owner.frame("register", events, ada, null, null);
      JsonObject nodes = ops.await(f -> "dashboard.nodes".equals(f.getString("address"))).getJsonObject("body");
      assertTrue(nodes.getJsonObject("roles").containsKey("gateway"), nodes.encode());

      owner.frame("send", "session.status", ada, new JsonObject().put("sessionId", session), "status-1");
      JsonObject status = owner.await(f -> "status-1".equals(f.getString("address")));
      assertEquals(session, status.getJsonObject("body").getString("sessionId"), status.encode());
      assertEquals("active", status.getJsonObject("body").getString("state"));

      // Registrations are in place once a later frame on the same connection was answered (frames are
      // handled in order; each registration's check is short): end the session, and both hear it.
      ops.frame("send", "session.status", admin, new JsonObject().put("sessionId", session), "status-2");
      ops.await(f -> "status-2".equals(f.getString("address")));
      assertEquals(200, rest.call("DELETE", "/api/v1/sessions/" + session, "Bearer " + ada, null).status());
      for (Client allowed : List.of(ops, owner)) {
        JsonObject ended = allowed.await(f -> events.equals(f.getString("address")));
        assertEquals("session.ended", ended.getJsonObject("headers").getString("type"), ended.encode());
        assertEquals("session.ended", new JsonObject(ended.getString("body")).getString("type"));
      }
      JsonObject activity = ops.await(f -> "dashboard.sessions".equals(f.getString("address"))
          && "session.ended".equals(f.getJsonObject("body").getString("type"))).getJsonObject("body");
      assertEquals(session, activity.getString("sessionId"));
      assertEquals(ADA, activity.getString("user"));
      assertEquals("ended", activity.getString("reason"));

      assertEquals(6, owner.errors().size(), owner.errors().toString());
      assertTrue(ops.errors().isEmpty(), ops.errors().toString());
      assertTrue(bob.messages(events).isEmpty() && nobody.messages(events).isEmpty()
          && nobody.messages("dashboard.nodes").isEmpty(), "refused connections got nothing");
      assertEquals(2, bob.errors().size());
      assertEquals(3, nobody.errors().size());
    }
  }
}
