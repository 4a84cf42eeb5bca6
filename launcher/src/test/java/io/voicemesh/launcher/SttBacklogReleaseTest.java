package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.Bus;
import io.voicemesh.api.Json;
import io.voicemesh.api.audio.Pcm16;
import io.voicemesh.api.message.SttControl;
import io.voicemesh.api.message.SttOpen;
import io.voicemesh.api.message.SttOpened;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An STT node that has fallen behind holds a recognizer (≈ 25 MB native) per stream until its
 * queued audio is done. When the gateway closes a stream nobody will read that audio's results:
 * the recognizer must go at once, not after decoding up to 20 s of queued audio.
 */
@DisplayName("A closed STT stream's queued audio")
@Timeout(120)
class SttBacklogReleaseTest {
  @RegisterExtension
  static final TestMesh mesh = TestMesh.withDefaults();

  @Test
  @DisplayName("19 s of audio queued, then closed by the gateway: the recognizer is released without decoding it")
  void closedStreamSkipsItsBacklog() throws Exception {
    EventBus bus = mesh.meshVertx().eventBus();
    String sessionId = UUID.randomUUID().toString();
    String events = "test.stt.events." + sessionId;
    // How far into the audio the recognizer got: every event carries its position.
    AtomicLong decodedToMs = new AtomicLong();
    MessageConsumer<Object> eventsConsumer = bus.consumer(events, message -> {
      if (message.body() instanceof JsonObject event) {
        decodedToMs.accumulateAndGet(event.getLong("audioMs", 0L), Math::max);
      }
    });
    eventsConsumer.completion().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertEquals(0, recognizersHeld(), "no stream open before");
    SttOpened opened = Bus.request(bus, Addresses.STT_OPEN, new SttOpen(sessionId, events, Pcm16.DEFAULT_RATE_HZ, 600,
            200, "test", "backlog-user", "backlog-token"), SttOpened.class, 10_000)
        .toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);

    // Speech, again and again, sent at once: far more than the recognizer gets through meanwhile.
    byte[] phrase = Speech.say("the quick brown fox jumps over the lazy dog");
    int window = Pcm16.bytesFor(Pcm16.DEFAULT_RATE_HZ, 20);
    long sentMs = 0;
    while (sentMs < 19_000) {
      for (int offset = 0; offset + window <= phrase.length && sentMs < 19_000; offset += window, sentMs += 20) {
        bus.send(opened.nodeAddress(), Buffer.buffer(java.util.Arrays.copyOfRange(phrase, offset, offset + window)),
            opened.delivery(events));
      }
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (recognizersHeld() != 1 && System.nanoTime() < deadline) {
      TimeUnit.MILLISECONDS.sleep(100); // polling, bounded by the deadline
    }
    assertEquals(1, recognizersHeld(), "the stream holds a recognizer");

    long closedAt = System.nanoTime();
    bus.send(opened.nodeAddress(), Json.encode(new SttControl.Close()), opened.delivery(events));
    deadline = closedAt + TimeUnit.SECONDS.toNanos(30);
    while (recognizersHeld() != 0 && System.nanoTime() < deadline) {
      TimeUnit.MILLISECONDS.sleep(250); // polling (a scrape is not free), bounded by the deadline
    }
    long releasedMs = (System.nanoTime() - closedAt) / 1_000_000;
    assertEquals(0, recognizersHeld(), "the recognizer was released");
    // Decoding what was queued would report positions up to 19 s; a recognizer that stops at the
    // close got no further than the audio it had reached when the close came (≈ 1 s of it here).
    assertTrue(decodedToMs.get() < 10_000, "released " + releasedMs + " ms after the close, having decoded up to "
        + decodedToMs.get() + " ms of the 19 000 ms queued");
    eventsConsumer.unregister();
  }

  private static int recognizersHeld() throws Exception {
    return (int) MetricsTest.value(new Rest(mesh.port()).get("/metrics", null).text(), "voicemesh_stt_recognizers");
  }
}
