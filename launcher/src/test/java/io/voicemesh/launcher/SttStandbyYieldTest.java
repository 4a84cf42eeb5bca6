package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.Bus;
import io.voicemesh.api.ErrorCode;
import io.voicemesh.api.MeshException;
import io.voicemesh.api.audio.Pcm16;
import io.voicemesh.api.message.SttOpen;
import io.voicemesh.api.message.SttOpened;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Hot standbys (on by default in a cluster of STT nodes) live on spare capacity: a session's stream
 * that finds its node full of standbys, or its user's share held by one, gets its place; a standby
 * never takes a stream's, and none gives way for an open refused anyway. One STT node of capacity 3;
 * a user, and a token, may hold one of its places.
 */
@DisplayName("Hot standbys give way to streams")
@Timeout(120)
class SttStandbyYieldTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  @RegisterExtension
  static final TestMesh mesh = TestMesh.with(() -> Map.of(
      "voicemesh.stt.capacity", 3,
      "voicemesh.stt.userShare", 0.3,
      "voicemesh.stt.tokenShare", 0.3));

  @Test
  @DisplayName("a standby gives its place for its user's share and for a full node, only when that lets the stream in; a standby takes no place from a stream")
  void standbysGiveWay() throws Exception {
    EventBus bus = mesh.meshVertx().eventBus();
    String user = TestMesh.uniqueUser("speaker");
    Standby own = Standby.open(bus, user, "own-token");
    Standby other = Standby.open(bus, TestMesh.uniqueUser("bystander"), "other-token");
    assertEquals(2.0, metric("voicemesh_stt_standby_streams"), "two of the node's three places hold standbys");

    // The user's share is held by its standby (the node has room): that one gives way, not the other.
    try (VoiceClient client = mesh.connect("token=" + mesh.token(user))) {
      client.sessionId();
      client.speakRealtime(Speech.say("what time is it"), 1200);
      JsonObject heard = client.await("transcript.final", WAIT);
      assertTrue(heard.getString("text").contains("time"), heard.encode());
      assertNull(client.await("agent_completed", WAIT).getValue("error"));
      assertEquals(List.of(), client.events("error"), "no quota error for the user's stream");
    }
    JsonObject closed = own.closed.get(10, TimeUnit.SECONDS);
    assertTrue(closed.getString("reason").contains("standby gives way"), closed.encode());
    assertFalse(other.closed.isDone(), "the other user's standby was not in the way: " + other.events);
    awaitRecognizers(1); // the user's stream closed with its connection; the other standby is left

    // A stream refused anyway (its user's share is held by a stream) costs no standby its place.
    String streamer = TestMesh.uniqueUser("streamer");
    Standby first = Standby.open(bus, streamer, "streamer-token", false);
    MeshException quota = refused(() -> Standby.open(bus, streamer, "streamer-token-2", false));
    assertEquals(ErrorCode.QUOTA_EXCEEDED, quota.code(), quota.getMessage());
    assertFalse(other.closed.isDone(), "no standby closed for an open refused anyway");

    // The node full (a standby and two streams): the next stream takes the standby's place.
    Standby second = Standby.open(bus, TestMesh.uniqueUser("second"), "second-token", false);
    Standby third = Standby.open(bus, TestMesh.uniqueUser("third"), "third-token", false);
    assertTrue(other.closed.get(10, TimeUnit.SECONDS).getString("reason").contains("standby gives way"));
    assertEquals(0.0, metric("voicemesh_stt_standby_streams"));
    assertEquals(3.0, metric("voicemesh_sessions{node=\"[^\"]*\",role=\"stt\"}"), "three streams serve");

    // A node full of streams leaves the stt.open round-robin: no place for a standby (nor a stream).
    MeshException full = refused(() -> Standby.open(bus, TestMesh.uniqueUser("late"), "late-token"));
    assertTrue(full.getMessage().contains("No handlers for address stt.open"), full.code() + ": " + full.getMessage());
    assertFalse(first.closed.isDone() || second.closed.isDone() || third.closed.isDone(), "a standby takes no stream's place");
    for (Standby stream : List.of(own, other, first, second, third)) {
      stream.consumer.unregister();
    }
  }

  private static MeshException refused(java.util.concurrent.Callable<Standby> open) {
    ExecutionException refused = assertThrows(ExecutionException.class, open::call);
    return (MeshException) refused.getCause();
  }

  private static void awaitRecognizers(int held) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (metric("voicemesh_stt_recognizers") != held && System.nanoTime() < deadline) {
      TimeUnit.MILLISECONDS.sleep(100); // polling, bounded by the deadline
    }
    assertEquals(held, metric("voicemesh_stt_recognizers"), "recognizers held");
  }

  private static double metric(String name) throws Exception {
    return MetricsTest.value(new Rest(mesh.port()).get("/metrics", null).text(), name);
  }

  /** A stream opened over the event bus as a gateway would, and its {@code stream.closed}, if it comes. */
  private record Standby(MessageConsumer<Object> consumer, List<JsonObject> events, CompletableFuture<JsonObject> closed) {
    static Standby open(EventBus bus, String user, String token) throws Exception {
      return open(bus, user, token, true);
    }

    static Standby open(EventBus bus, String user, String token, boolean standby) throws Exception {
      String sessionId = UUID.randomUUID().toString();
      String events = "test.stt.events." + sessionId;
      List<JsonObject> seen = new CopyOnWriteArrayList<>();
      CompletableFuture<JsonObject> closed = new CompletableFuture<>();
      MessageConsumer<Object> consumer = bus.consumer(events, message -> {
        if (message.body() instanceof JsonObject event) {
          seen.add(event);
          if ("stream.closed".equals(event.getString("type"))) {
            closed.complete(event);
          }
        }
      });
      consumer.completion().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      try {
        SttOpened opened = Bus.request(bus, Addresses.STT_OPEN, new SttOpen(sessionId, events, Pcm16.DEFAULT_RATE_HZ,
                600, 200, "test", user, token, false, 0, standby, UUID.randomUUID().toString()), SttOpened.class, 10_000)
            .toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
        // A stream never fed is closed as unclaimed after 10 s; one frame makes it an idle one (120 s).
        bus.send(opened.nodeAddress(), Buffer.buffer(new byte[Pcm16.bytesFor(Pcm16.DEFAULT_RATE_HZ, 20)]),
            opened.delivery(events));
      } catch (ExecutionException refused) {
        consumer.unregister();
        throw refused;
      }
      return new Standby(consumer, seen, closed);
    }
  }
}
