package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.Addresses;
import io.voicemesh.api.Bus;
import io.voicemesh.api.Json;
import io.voicemesh.api.audio.Pcm16;
import io.voicemesh.api.message.SttControl;
import io.voicemesh.api.message.SttEvent;
import io.voicemesh.api.message.SttOpen;
import io.voicemesh.api.message.SttOpened;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An STT node takes every stream's messages on one address, registered at start, and routes them by
 * the stream id in their header. A stream it does not know must not swallow audio in silence: its
 * gateway is told {@code stream.closed} and moves the stream.
 */
@DisplayName("An STT node's stream address")
@Timeout(90)
class SttStreamRoutingTest {
  @RegisterExtension
  static final TestMesh mesh = TestMesh.withDefaults();

  @Test
  @DisplayName("routes by stream id, answers a probe, and answers audio for an unknown or closed stream with stream.closed")
  void routesByStreamId() throws Exception {
    EventBus bus = mesh.meshVertx().eventBus();
    String sessionId = UUID.randomUUID().toString();
    String events = "test.stt.events." + sessionId;
    LinkedBlockingQueue<Object[]> received = new LinkedBlockingQueue<>();
    MessageConsumer<Object> consumer = listen(bus, events, received);
    SttOpened opened = await(Bus.request(bus, Addresses.STT_OPEN, new SttOpen(sessionId, events, Pcm16.DEFAULT_RATE_HZ,
        600, 200, "test", "routing-user", "routing-token"), SttOpened.class, 10_000).toCompletionStage().toCompletableFuture());
    assertEquals(Addresses.sttStreams(opened.node()), opened.nodeAddress());

    Object probed = await(bus.request(Addresses.sttStreams(opened.node()), Json.encode(new SttControl.Probe()))
        .toCompletionStage().toCompletableFuture()).body();
    assertEquals("ok", probed);

    byte[] silence = new byte[Pcm16.bytesFor(Pcm16.DEFAULT_RATE_HZ, 20)];
    String unknown = UUID.randomUUID().toString();
    bus.send(opened.nodeAddress(), Buffer.buffer(silence), new DeliveryOptions()
        .addHeader(SttOpen.STREAM_HEADER, unknown).addHeader(SttOpen.EVENTS_HEADER, events));
    Object[] answer = received.poll(10, TimeUnit.SECONDS);
    assertNotNull(answer, "no stream.closed for audio to an unknown stream");
    assertEquals(unknown, answer[1], "the answer names the stream it is about");
    assertEquals(unknown, ((SttEvent.StreamClosed) answer[0]).streamId());

    // The real stream gets its audio: speech sent with its id is heard by it.
    assertHears(bus, opened, events, received);

    // Then the gateway closes it: audio after that (a frame that was on its way) is answered with
    // stream.closed as well.
    bus.send(opened.nodeAddress(), Json.encode(new SttControl.Close()), opened.delivery(events));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    Object[] next = null;
    while (System.nanoTime() < deadline && (next == null || !(next[0] instanceof SttEvent.StreamClosed))) {
      next = received.poll(100, TimeUnit.MILLISECONDS);
      bus.send(opened.nodeAddress(), Buffer.buffer(silence), opened.delivery(events));
    }
    assertNotNull(next, "no stream.closed for audio sent after the close");
    assertInstanceOf(SttEvent.StreamClosed.class, next[0]);
    assertEquals(opened.streamId(), next[1], "the closed stream's late audio is answered");
    consumer.unregister();
  }

  @Test
  @DisplayName("the same open twice (raced or retried) gets the same stream, which goes on hearing; another open replaces it")
  void sameOpenTwice() throws Exception {
    EventBus bus = mesh.meshVertx().eventBus();
    String sessionId = UUID.randomUUID().toString();
    String events = "test.stt.events." + sessionId;
    LinkedBlockingQueue<Object[]> received = new LinkedBlockingQueue<>();
    MessageConsumer<Object> consumer = listen(bus, events, received);
    SttOpen spec = new SttOpen(sessionId, events, Pcm16.DEFAULT_RATE_HZ, 600, 200, "test", "routing-user",
        "routing-token", false, 0, false, UUID.randomUUID().toString());
    // Both on their way at once, as a moved stream's racing opens are.
    var first = Bus.request(bus, Addresses.STT_OPEN, spec, SttOpened.class, 10_000).toCompletionStage().toCompletableFuture();
    var second = Bus.request(bus, Addresses.STT_OPEN, spec, SttOpened.class, 10_000).toCompletionStage().toCompletableFuture();
    SttOpened opened = await(first);
    assertEquals(opened, await(second), "one stream for the one open");

    assertHears(bus, opened, events, received);

    // Another open of the session (another id) is a new stream, which replaces this one.
    SttOpened replacement = await(Bus.request(bus, Addresses.STT_OPEN, new SttOpen(sessionId, events,
        Pcm16.DEFAULT_RATE_HZ, 600, 200, "test", "routing-user", "routing-token", false, 0, false,
        UUID.randomUUID().toString()), SttOpened.class, 10_000).toCompletionStage().toCompletableFuture());
    assertNotEquals(opened.streamId(), replacement.streamId());
    Object[] closed = null;
    long closedBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < closedBy && (closed == null || !(closed[0] instanceof SttEvent.StreamClosed))) {
      closed = received.poll(100, TimeUnit.MILLISECONDS);
    }
    assertNotNull(closed, "the replaced stream was not closed");
    assertEquals(opened.streamId(), closed[1]);
    bus.send(replacement.nodeAddress(), Json.encode(new SttControl.Close()), replacement.delivery(events));
    consumer.unregister();
  }

  /** The events sent to {@code events}, each with the stream id it came with. */
  private static MessageConsumer<Object> listen(EventBus bus, String events, LinkedBlockingQueue<Object[]> received)
      throws Exception {
    MessageConsumer<Object> consumer = bus.consumer(events, m -> received.add(new Object[] {
        Json.decode(m.body(), SttEvent.class), m.headers().get(SttOpen.STREAM_HEADER)}));
    await(consumer.completion().toCompletionStage().toCompletableFuture());
    return consumer;
  }

  /** Speech sent to the stream with its id is heard by it: speech_started, with no stream.closed before. */
  private static void assertHears(EventBus bus, SttOpened opened, String events, LinkedBlockingQueue<Object[]> received)
      throws Exception {
    byte[] speech = Speech.say("hello there");
    int window = Pcm16.bytesFor(Pcm16.DEFAULT_RATE_HZ, 20);
    for (int offset = 0; offset + window <= speech.length; offset += window) {
      bus.send(opened.nodeAddress(), Buffer.buffer(java.util.Arrays.copyOfRange(speech, offset, offset + window)),
          opened.delivery(events));
    }
    Object[] heard = null;
    long heardBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < heardBy && (heard == null || !(heard[0] instanceof SttEvent.SpeechStarted))) {
      Object[] event = received.poll(100, TimeUnit.MILLISECONDS);
      assertFalse(event != null && event[0] instanceof SttEvent.StreamClosed, () -> "the stream was closed: " + event[0]);
      heard = event;
    }
    assertNotNull(heard, "the stream never reported the speech sent to it");
    assertInstanceOf(SttEvent.SpeechStarted.class, heard[0]);
    assertEquals(opened.streamId(), heard[1]);
  }

  private static <T> T await(CompletableFuture<T> future) throws Exception {
    return future.get(20, TimeUnit.SECONDS);
  }
}
