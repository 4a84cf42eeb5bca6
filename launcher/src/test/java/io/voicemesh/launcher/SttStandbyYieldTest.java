package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
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
 * never takes a stream's. One STT node of capacity 2, a user's share 1.
 */
@DisplayName("Hot standbys give way to streams")
@Timeout(120)
class SttStandbyYieldTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  @RegisterExtension
  static final TestMesh mesh = TestMesh.with(() -> Map.of(
      "voicemesh.stt.capacity", 2,
      "voicemesh.stt.userShare", 0.5,
      "voicemesh.stt.tokenShare", 0.5));

  @Test
  @DisplayName("a node full of standbys, one of them the user's: the user's stream takes that one's place, the other stays, a new standby is refused")
  void standbysGiveWay() throws Exception {
    EventBus bus = mesh.meshVertx().eventBus();
    String user = TestMesh.uniqueUser("speaker");
    Standby own = Standby.open(bus, user, "own-token");
    Standby other = Standby.open(bus, TestMesh.uniqueUser("bystander"), "other-token");
    assertEquals(2.0, metric("voicemesh_stt_standby_streams"), "the node's two places hold standbys");

    try (VoiceClient client = mesh.connect("token=" + mesh.token(user))) {
      client.sessionId();
      client.speakRealtime(Speech.say("what time is it"), 1200);
      JsonObject heard = client.await("transcript.final", WAIT);
      assertTrue(heard.getString("text").contains("time"), heard.encode());
      assertNull(client.await("agent_completed", WAIT).getValue("error"));
      assertEquals(List.of(), client.events("error"), "no capacity or quota error for the user's stream");
    }
    JsonObject closed = own.closed.get(10, TimeUnit.SECONDS);
    assertTrue(closed.getString("reason").contains("standby gives way"), closed.encode());
    assertTrue(!other.closed.isDone(), "the other user's standby was not needed and stays: " + other.events);
    other.consumer.unregister();
    own.consumer.unregister();

    // Once the user's stream has closed, the standby left holds one place. Fill the other with a
    // stream, and a further standby finds no room.
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (metric("voicemesh_stt_recognizers") != 1 && System.nanoTime() < deadline) {
      TimeUnit.MILLISECONDS.sleep(100); // polling, bounded by the deadline
    }
    assertEquals(1.0, metric("voicemesh_stt_recognizers"), "the user's stream closed, the standby left holds one");
    Standby stream = Standby.open(bus, TestMesh.uniqueUser("streamer"), "stream-token", false);
    ExecutionException refused = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
        () -> Standby.open(bus, TestMesh.uniqueUser("late"), "late-token"));
    MeshException why = (MeshException) refused.getCause();
    assertEquals(ErrorCode.CAPACITY, why.code(), why.getMessage());
    assertTrue(!other.closed.isDone() && !stream.closed.isDone(), "a standby takes no stream's place, nor a standby's");
    stream.consumer.unregister();
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
