package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.worker.HealthCheckResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The mesh with {@code stt.engine = grpc} and {@code tts.engine = grpc} on a {@code voicemesh worker}
 * in its own JVM, over loopback: a turn goes through the worker, survives its death on the
 * embedded engines, and goes back to it once it returns.
 */
@DisplayName("A mesh on a speech worker process")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WorkerMeshIT {
  private static final Duration TURN = Duration.ofSeconds(30);
  private static final int SILENCE_MS = 600;
  private static final int MIN_SPEECH_MS = 300;
  private static final int PORT = LoopbackPorts.free();
  private static final Vertx VERTX = Vertx.vertx();
  private static final WorkerClient CLIENT = new WorkerClient(VERTX, PORT);
  private static WorkerProcess worker;

  /** The worker starts first, so the mesh's first health round finds it. */
  @RegisterExtension
  static final TestMesh mesh = TestMesh.with(() -> {
    try {
      worker = WorkerProcess.start("mesh-worker-1", PORT);
      worker.awaitHealthy(CLIENT);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    String address = "127.0.0.1:" + PORT;
    return Map.of("voicemesh.stt.engine", "grpc", "voicemesh.stt.grpc.workers", address,
        "voicemesh.tts.engine", "grpc", "voicemesh.tts.grpc.workers", address,
        "voicemesh.gateway.silenceMs", SILENCE_MS, "voicemesh.gateway.minSpeechMs", MIN_SPEECH_MS);
  });

  @AfterAll
  static void stopWorker() throws Exception {
    CLIENT.close();
    if (worker != null) {
      worker.close();
    }
    VERTX.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  @Order(1)
  @DisplayName("a voice turn through the worker hears what the embedded path hears and speaks the answer")
  void turnThroughTheWorker() throws Exception {
    HealthCheckResponse before = CLIENT.health();
    // Lead-in silence, as from a microphone: a first window that is already speech makes Vosk's
    // first word a coin toss ("the calculate…") that differs between processes even on the same bytes.
    byte[] pcm = Speech.concat(Speech.silence(300), Speech.say("calculate eight times nine"));
    String embedded = Speech.turnTranscript(Speech.concat(pcm, Speech.silence(1200)), SILENCE_MS, MIN_SPEECH_MS);
    assertNotNull(embedded);
    try (VoiceClient voice = mesh.connect("")) {
      voice.await("session.ready", TURN);
      voice.speak(pcm, 1200, 3.0).await(30, TimeUnit.SECONDS);
      assertEquals(embedded, voice.await("transcript.final", TURN).getString("text"));
      JsonObject completed = voice.await("agent_completed", TURN);
      assertNull(completed.getValue("error"), completed.encode());
      assertTrue(voice.await("agent_response", TURN).getString("text").contains("72"));
      voice.await("audio.end", TURN);
      assertTrue(voice.audio().length > 0);
      assertTrue(voice.events("warning").isEmpty(), voice.events("warning").toString());
    }
    HealthCheckResponse after = CLIENT.health();
    assertTrue(after.getSessionsTotal() > before.getSessionsTotal(), "the worker recognized the turn: " + after);
    assertTrue(after.getSynthesesTotal() > before.getSynthesesTotal(), "the worker spoke the answer: " + after);
    JsonObject health = meshHealth();
    assertEquals("OK", health.getJsonObject("roles").getJsonObject("stt").getJsonObject("workers").getString(worker.address()));
    assertEquals("OK", health.getJsonObject("roles").getJsonObject("tts").getJsonObject("workers").getString(worker.address()));
    assertTrue(mesh.blockedThreadWarnings().isEmpty(), mesh.blockedThreadWarnings().toString());
  }

  @Test
  @Order(2)
  @DisplayName("kill -9 of the worker mid-utterance: the embedded engines finish the turn, with warnings")
  void workerKilledMidUtterance() throws Exception {
    byte[] pcm = Speech.concat(Speech.silence(300), Speech.say("calculate eight times nine"));
    String embedded = Speech.turnTranscript(Speech.concat(pcm, Speech.silence(1500)), SILENCE_MS, MIN_SPEECH_MS);
    try (VoiceClient voice = mesh.connect("")) {
      voice.await("session.ready", TURN);
      var speaking = voice.speak(pcm, 1500, 1.0);
      // A partial means the worker is recognizing this very utterance.
      voice.await("transcript.partial", TURN);
      worker.kill();
      JsonObject sttWarning = voice.await(e -> "warning".equals(e.getString("type")) && "stt".equals(e.getString("stage")), TURN);
      assertEquals("engine_fallback", sttWarning.getString("code"));
      assertTrue(sttWarning.getString("message").contains("embedded vosk"), sttWarning.encode());
      assertEquals(embedded, voice.await("transcript.final", TURN).getString("text"),
          "the embedded engine heard the whole utterance, also what the worker had");
      JsonObject completed = voice.await("agent_completed", TURN);
      assertNull(completed.getValue("error"), completed.encode());
      voice.await("audio.end", TURN);
      JsonObject ttsWarning = voice.await(e -> "warning".equals(e.getString("type")) && "tts".equals(e.getString("stage")), TURN);
      assertEquals("engine_fallback", ttsWarning.getString("code"));
      assertTrue(voice.audio().length > 0);
      assertTrue(voice.events("error").isEmpty(), voice.events("error").toString());
      assertTrue(voice.isOpen());
      speaking.await(10, TimeUnit.SECONDS);
    }
    JsonObject stt = meshHealth().getJsonObject("roles").getJsonObject("stt");
    assertEquals("UP", stt.getString("status"), "the STT role stays up on its fallback");
    assertEquals("UNHEALTHY", stt.getJsonObject("workers").getString(worker.address()));

    // A session that starts while the worker is down is on the embedded engine from its first word.
    try (VoiceClient voice = mesh.connect("")) {
      voice.await("session.ready", TURN);
      voice.speak(Speech.concat(Speech.silence(300), Speech.say("hello there")), 1200, 3.0).await(30, TimeUnit.SECONDS);
      JsonObject warning = voice.await(e -> "warning".equals(e.getString("type")) && "stt".equals(e.getString("stage")), TURN);
      assertTrue(warning.getString("message").contains("no speech worker is healthy"), warning.encode());
      assertEquals("hello there", voice.await("transcript.final", TURN).getString("text"));
      voice.await("audio.end", TURN);
      assertEquals(1, voice.events("warning").stream().filter(e -> "tts".equals(e.getString("stage"))).count(),
          "one TTS warning per turn: " + voice.events("warning"));
    }
  }

  @Test
  @Order(3)
  @DisplayName("a restarted worker gets the new sessions again")
  void workerBack() throws Exception {
    worker = WorkerProcess.start("mesh-worker-2", PORT);
    worker.awaitHealthy(CLIENT);
    awaitMeshSeesWorker("OK");
    byte[] pcm = Speech.say("hello there");
    try (VoiceClient voice = mesh.connect("")) {
      voice.await("session.ready", TURN);
      voice.speak(pcm, 1200, 3.0).await(30, TimeUnit.SECONDS);
      assertEquals("hello there", voice.await("transcript.final", TURN).getString("text"));
      voice.await("agent_completed", TURN);
      voice.await("audio.end", TURN);
      assertTrue(voice.events("warning").isEmpty(), voice.events("warning").toString());
    }
    HealthCheckResponse served = CLIENT.health();
    assertEquals("mesh-worker-2", served.getWorkerId());
    assertTrue(served.getSessionsTotal() >= 1 && served.getSynthesesTotal() >= 1, served.toString());
    assertFalse(mesh.blockedThreadWarnings().stream().anyMatch(w -> w.contains("voicemesh")), mesh.blockedThreadWarnings().toString());
  }

  private static JsonObject meshHealth() throws Exception {
    return new Rest(mesh.port()).call("GET", "/health", null, null).json();
  }

  /** Polls the mesh's /health until both roles report the worker {@code status} (the health loop runs every second). */
  private static void awaitMeshSeesWorker(String status) throws Exception {
    long deadline = System.nanoTime() + TURN.toNanos();
    JsonObject roles = null;
    while (System.nanoTime() < deadline) {
      roles = meshHealth().getJsonObject("roles");
      if (status.equals(roles.getJsonObject("stt").getJsonObject("workers").getString(worker.address()))
          && status.equals(roles.getJsonObject("tts").getJsonObject("workers").getString(worker.address()))) {
        return;
      }
      TimeUnit.MILLISECONDS.sleep(100); // polling interval, bounded by the deadline
    }
    throw new AssertionError("the mesh does not see the worker " + status + ": " + roles);
  }
}
