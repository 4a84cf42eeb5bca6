package io.voicemesh.launcher;

import static io.voicemesh.launcher.WorkerClient.chunk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.grpc.common.GrpcStatus;
import io.voicemesh.api.audio.Pcm16;
import io.voicemesh.api.worker.CreateSessionRequest;
import io.voicemesh.api.worker.Endpointing;
import io.voicemesh.api.worker.ServingStatus;
import io.voicemesh.api.worker.SpeechEvent;
import io.voicemesh.api.worker.SynthesizeRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * {@code voicemesh worker} in its own JVM, spoken to over gRPC on loopback by a plain client:
 * the limits and the shutdown the protocol promises (docs/SPEECH_WORKER.md).
 */
@DisplayName("A speech worker process")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WorkerProtocolIT {
  private static final Duration EVENT = Duration.ofSeconds(20);
  private static final int RATE = Pcm16.DEFAULT_RATE_HZ;
  private static final long DRAIN_MS = 3000;
  private static Vertx vertx;
  private static WorkerProcess worker;
  private static WorkerClient client;

  @BeforeAll
  static void startWorker() throws Exception {
    vertx = Vertx.vertx();
    worker = WorkerProcess.start("protocol", LoopbackPorts.free(), "--max-sessions", "10",
        "--drain-ms", Long.toString(DRAIN_MS));
    client = new WorkerClient(vertx, worker.port());
    worker.awaitHealthy(client);
  }

  @AfterAll
  static void stopWorker() throws Exception {
    if (client != null) {
      client.close();
    }
    if (worker != null) {
      worker.close();
    }
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  private static CreateSessionRequest.Builder session(Endpointing endpointing) {
    return CreateSessionRequest.newBuilder().setSessionId(UUID.randomUUID().toString()).setSampleRateHz(RATE)
        .setEndpointing(endpointing);
  }

  @Test
  @Order(1)
  @DisplayName("refuses the 11th session with RESOURCE_EXHAUSTED and reports DEGRADED until one stops")
  void capacity() throws Exception {
    List<String> open = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      CreateSessionRequest request = session(Endpointing.ENDPOINTING_AUTO).build();
      var created = client.create(request);
      assertEquals("protocol", created.getWorkerId());
      assertEquals(RATE, created.getInputFormat().getSampleRateHz());
      open.add(request.getSessionId());
    }
    var full = client.health();
    assertEquals(ServingStatus.DEGRADED, full.getStatus(), full.toString());
    assertEquals(10, full.getActiveSessions());
    assertEquals(10, full.getMaxSessions());
    assertEquals("protocol", full.getWorkerId());
    assertTrue(full.getMemoryUsedBytes() > 0 && full.getMemoryMaxBytes() >= full.getMemoryUsedBytes(), full.toString());
    assertTrue(full.getUptimeMs() > 0);

    WorkerClient.Outcome refused = WorkerClient.refusal(() -> client.create(session(Endpointing.ENDPOINTING_AUTO).build()));
    assertEquals(GrpcStatus.RESOURCE_EXHAUSTED, refused.status());
    assertTrue(refused.message().contains("maximum of 10 sessions"), refused.message());
    WorkerClient.Synthesis synthesis = client.synthesize(SynthesizeRequest.newBuilder().setText("hello").build());
    assertEquals(GrpcStatus.RESOURCE_EXHAUSTED, synthesis.outcome().status(), "a synthesis without a session counts as one");

    client.stop(open.remove(0));
    var room = client.health();
    assertEquals(ServingStatus.OK, room.getStatus(), room.toString());
    assertEquals(9, room.getActiveSessions());
    CreateSessionRequest again = session(Endpointing.ENDPOINTING_AUTO).build();
    client.create(again);
    open.add(again.getSessionId());
    for (String id : open) {
      client.stop(id);
    }
    assertEquals(0, client.health().getActiveSessions());
    assertEquals(GrpcStatus.NOT_FOUND, WorkerClient.refusal(() -> client.stop(open.get(0))).status());
  }

  @Test
  @Order(2)
  @DisplayName("re-sequences chunks that arrive out of order and rejects a repeated one")
  void outOfOrder() throws Exception {
    byte[] speech = Speech.concat(Speech.say("calculate eight times nine"), Speech.silence(300));
    String inOrder = transcribe(speech, false);
    assertTrue(inOrder.contains("calculate eight times nine"), inOrder);
    // The same words, not the same string: the second stream may take the recognizer the first one
    // gave back, whose speaker adaptation has moved (a stray "the" came and went with it). Chunks
    // decoded out of order would garble the words themselves.
    String shuffled = transcribe(speech, true);
    assertTrue(shuffled.contains("calculate eight times nine"), "the shuffled chunks give the same words: " + shuffled
        + " (in order: " + inOrder + ")");
  }

  /**
   * Sends {@code pcm} as 100 ms chunks (neighbours swapped when {@code shuffled}) and ends the
   * utterance; checks the chunks went through in seq order; returns the final text.
   */
  private static String transcribe(byte[] pcm, boolean shuffled) throws Exception {
    CreateSessionRequest request = session(Endpointing.ENDPOINTING_CLIENT).setAckChunks(true).build();
    String id = request.getSessionId();
    client.create(request);
    WorkerClient.AudioStream stream = client.stream();
    int step = Pcm16.bytesFor(RATE, 100);
    List<byte[]> pieces = new ArrayList<>();
    for (int offset = 0; offset < pcm.length; offset += step) {
      pieces.add(Arrays.copyOfRange(pcm, offset, Math.min(pcm.length, offset + step)));
    }
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < pieces.size(); i += 2) {
      if (shuffled && i + 1 < pieces.size()) {
        order.add(i + 1);
      }
      order.add(i);
      if (!shuffled && i + 1 < pieces.size()) {
        order.add(i + 1);
      }
    }
    if (shuffled) {
      // The first chunk names the session, whatever its seq: here seq 1 arrives before seq 0.
      assertEquals(1, order.get(0));
    }
    for (int index : order) {
      stream.send(chunk(id, index, index * 100L, pieces.get(index), false));
    }
    stream.send(chunk(id, pieces.size(), pieces.size() * 100L, new byte[0], true));
    SpeechEvent fin = stream.await(SpeechEvent::hasFinal, EVENT);
    assertEquals(pieces.size(), fin.getSeq(), "the final refers to the end_of_utterance chunk");
    stream.await(event -> event.hasProcessed() && event.getSeq() == pieces.size(), EVENT);
    List<Long> processed = stream.events().stream().filter(SpeechEvent::hasProcessed).map(SpeechEvent::getSeq).toList();
    List<Long> expected = new ArrayList<>();
    for (long seq = 0; seq <= pieces.size(); seq++) {
      expected.add(seq);
    }
    assertEquals(expected, processed, "every chunk processed once, in seq order");
    if (shuffled) {
      stream.send(chunk(id, 3, 300, pieces.get(3), false));
      WorkerClient.Outcome rejected = stream.outcome(EVENT);
      assertEquals(GrpcStatus.INVALID_ARGUMENT, rejected.status());
      assertTrue(rejected.message().contains("chunk seq 3 was already received"), rejected.message());
      assertEquals(GrpcStatus.NOT_FOUND, WorkerClient.refusal(() -> client.stop(id)).status(),
          "a stream that fails takes its session with it");
    } else {
      client.stop(id);
    }
    return fin.getFinal().getText();
  }

  @Test
  @Order(3)
  @DisplayName("ends a stream whose chunk is too far ahead with OUT_OF_RANGE")
  void tooFarAhead() throws Exception {
    CreateSessionRequest request = session(Endpointing.ENDPOINTING_AUTO).build();
    client.create(request);
    WorkerClient.AudioStream stream = client.stream();
    stream.send(chunk(request.getSessionId(), 5000, 0, new byte[640], false));
    WorkerClient.Outcome outcome = stream.outcome(EVENT);
    assertEquals(GrpcStatus.OUT_OF_RANGE, outcome.status());
    assertTrue(outcome.message().contains("at most 1024 chunks are held"), outcome.message());
  }

  @Test
  @Order(4)
  @DisplayName("ends a stream with RESOURCE_EXHAUSTED when a session's waiting audio passes 10 MB")
  void bufferCap() throws Exception {
    CreateSessionRequest request = session(Endpointing.ENDPOINTING_CLIENT).build();
    client.create(request);
    WorkerClient.AudioStream stream = client.stream();
    byte[] big = new byte[64 * 1024];
    // seq 0 never comes: everything after it is held, and counts against the cap.
    long seq = 1;
    while (!stream.isEnded() && seq < 400) {
      stream.send(chunk(request.getSessionId(), seq++, 0, big, false));
    }
    WorkerClient.Outcome outcome = stream.outcome(EVENT);
    assertEquals(GrpcStatus.RESOURCE_EXHAUSTED, outcome.status());
    assertTrue(outcome.message().contains("would hold " + (10 * 1024 * 1024 + big.length)
        + " bytes of audio not yet recognized; the cap is 10485760 bytes"), "refused exactly past the cap: " + outcome.message());
    assertEquals(0, client.health().getActiveSessions(), "its session ended and freed its slot");
  }

  @Test
  @Order(5)
  @DisplayName("ignores empty chunks: no event, no error, their seq taken")
  void emptyChunks() throws Exception {
    CreateSessionRequest request = session(Endpointing.ENDPOINTING_CLIENT).setAckChunks(true).build();
    String id = request.getSessionId();
    client.create(request);
    WorkerClient.AudioStream stream = client.stream();
    byte[] hello = Speech.say("hello there");
    stream.send(chunk(id, 0, 0, new byte[0], false));
    stream.send(chunk(id, 1, 0, hello, false));
    stream.send(chunk(id, 2, 0, new byte[0], false));
    stream.send(chunk(id, 3, 0, new byte[0], true));
    SpeechEvent fin = stream.await(SpeechEvent::hasFinal, EVENT);
    assertEquals("hello there", fin.getFinal().getText());
    stream.await(event -> event.hasProcessed() && event.getSeq() == 3, EVENT);
    assertEquals(List.of(1L, 3L), stream.events().stream().filter(SpeechEvent::hasProcessed).map(SpeechEvent::getSeq).toList());
    stream.end();
    assertEquals(GrpcStatus.OK, stream.outcome(EVENT).status());
    var stopped = client.stop(id);
    assertEquals(4, stopped.getChunksReceived());
    assertEquals(Pcm16.msFor(RATE, hello.length) / 20 * 20, stopped.getAudioMs() / 20 * 20);
  }

  @Test
  @Order(6)
  @DisplayName("recognizes 48 kHz audio as it does 16 kHz, with its own endpointing")
  void fortyEightKhz() throws Exception {
    byte[] at16k = Speech.concat(Speech.silence(300), Speech.say("hello there"), Speech.silence(1000));
    byte[] at48k = Pcm16.resample(at16k, RATE, 48_000);
    CreateSessionRequest request = session(Endpointing.ENDPOINTING_AUTO).setSampleRateHz(48_000).build();
    var created = client.create(request);
    assertEquals(48_000, created.getInputFormat().getSampleRateHz());
    WorkerClient.AudioStream stream = client.stream();
    stream.sendAudio(request.getSessionId(), 0, at48k, 48_000, 20);
    SpeechEvent started = stream.await(SpeechEvent::hasSpeechStarted, EVENT);
    SpeechEvent fin = stream.await(SpeechEvent::hasFinal, EVENT);
    assertEquals("hello there", fin.getFinal().getText());
    assertTrue(started.getAudioMs() >= 300 && fin.getAudioMs() > started.getAudioMs(), started + " " + fin);
    assertTrue(fin.getFinal().getSpeechEndMs() > fin.getFinal().getSpeechStartMs());
    client.stop(request.getSessionId());
    assertEquals(GrpcStatus.OK, stream.outcome(EVENT).status(), "StopSession ends the stream with OK");
  }

  @Test
  @Order(7)
  @DisplayName("synthesizes at the rate asked, in numbered chunks, and refuses text it cannot take")
  void synthesize() throws Exception {
    WorkerClient.Synthesis spoken = client.synthesize(SynthesizeRequest.newBuilder().setText("hello there")
        .setSampleRateHz(48_000).build());
    assertEquals(GrpcStatus.OK, spoken.outcome().status(), String.valueOf(spoken.outcome()));
    assertFalse(spoken.chunks().isEmpty());
    for (int i = 0; i < spoken.chunks().size(); i++) {
      assertEquals(i, spoken.chunks().get(i).getSeq());
      assertEquals(48_000, spoken.chunks().get(i).getSampleRateHz());
      assertEquals(i * 100L, spoken.chunks().get(i).getTimestampMs());
    }
    assertEquals("hello there", Speech.transcribe(Pcm16.resample(spoken.pcm(), 48_000, RATE)));
    WorkerClient.Synthesis native16k = client.synthesize(SynthesizeRequest.newBuilder().setText("hello there").build());
    assertEquals(RATE, native16k.chunks().get(0).getSampleRateHz(), "0 asks for the engine's own rate");
    assertEquals(Speech.say("hello there").length, native16k.pcm().length, "every sample, the short last chunk too");
    assertEquals(spoken.pcm().length / 2, native16k.pcm().length * 3 / 2, 3, "48 kHz is three times the samples");
    WorkerClient.Outcome empty = client.synthesize(SynthesizeRequest.newBuilder().setText(" ").build()).outcome();
    assertEquals(GrpcStatus.INVALID_ARGUMENT, empty.status());
    assertTrue(empty.message().contains("1 to 2000 characters"), empty.message());
    assertEquals(GrpcStatus.NOT_FOUND, client.synthesize(SynthesizeRequest.newBuilder().setText("hi")
        .setSessionId("nobody").build()).outcome().status());
    assertEquals(GrpcStatus.INVALID_ARGUMENT, WorkerClient.refusal(() -> client.create(session(Endpointing.ENDPOINTING_AUTO)
        .setSampleRateHz(96_000).build())).status());
    assertEquals(GrpcStatus.INVALID_ARGUMENT, WorkerClient.refusal(() -> client.create(session(Endpointing.ENDPOINTING_AUTO)
        .setLanguage("fr-FR").build())).status());
  }

  @Test
  @Order(100)
  @DisplayName("on SIGTERM finalizes open streams, ends them UNAVAILABLE and exits 0 within its drain bound (plus JVM exit)")
  void sigterm() throws Exception {
    List<WorkerClient.AudioStream> streams = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      CreateSessionRequest request = session(Endpointing.ENDPOINTING_CLIENT).setAckChunks(true).build();
      client.create(request);
      WorkerClient.AudioStream stream = client.stream();
      long next = stream.sendAudio(request.getSessionId(), 0, Speech.say("hello there"), RATE, 100);
      stream.await(event -> event.hasProcessed() && event.getSeq() == next - 1, EVENT);
      streams.add(stream);
    }
    long started = System.nanoTime();
    Integer exit = worker.terminate(Duration.ofMillis(DRAIN_MS + 5_000));
    long tookMs = (System.nanoTime() - started) / 1_000_000;
    assertNotNull(exit, "still running " + tookMs + " ms after SIGTERM");
    assertEquals(0, exit, worker.log());
    System.out.println("worker drained and exited in " + tookMs + " ms");
    for (WorkerClient.AudioStream stream : streams) {
      assertEquals("hello there", stream.await(SpeechEvent::hasFinal, EVENT).getFinal().getText(),
          "the open utterance was finalized before the stream closed");
      WorkerClient.Outcome outcome = stream.outcome(EVENT);
      assertEquals(GrpcStatus.UNAVAILABLE, outcome.status(), outcome.toString());
      assertTrue(String.valueOf(outcome.message()).contains("shutting down"), outcome.toString());
    }
  }
}
