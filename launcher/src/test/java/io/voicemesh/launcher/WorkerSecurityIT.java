package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import io.voicemesh.api.grpc.WorkerChannel;
import io.voicemesh.api.worker.CreateSessionRequest;
import io.voicemesh.api.worker.Endpointing;
import io.voicemesh.api.worker.HealthCheckResponse;
import io.voicemesh.api.worker.ServingStatus;
import io.voicemesh.api.worker.SynthesizeRequest;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Who can reach a {@code voicemesh worker}: loopback only unless told otherwise, never a
 * non-loopback address without a token unless {@code --insecure}, calls without the token
 * refused, and TLS with a certificate made here, through the mesh's grpc engines end to end.
 */
@DisplayName("A speech worker's exposure")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WorkerSecurityIT {
  private static final Duration TURN = Duration.ofSeconds(30);
  private static final String TOKEN = "worker-secret-" + UUID.randomUUID();
  private static final int PORT = LoopbackPorts.free();
  private static final Vertx VERTX = Vertx.vertx();
  private static TestCertificates.Pem certificate;
  private static WorkerProcess worker;
  private static WorkerClient client;

  /** The worker (default host, TLS, token) starts first, so the mesh's first health round finds it. */
  @RegisterExtension
  static final TestMesh mesh = TestMesh.with(() -> {
    try {
      certificate = TestCertificates.selfSigned(Path.of("target", "worker-it", "tls"), "worker",
          "ip:127.0.0.1,dns:localhost");
      worker = WorkerProcess.startWithout("secure-worker", PORT, "--auth-token", TOKEN,
          "--tls-cert", certificate.certificate().toString(), "--tls-key", certificate.key().toString());
      client = new WorkerClient(VERTX, PORT, channel(TOKEN));
      worker.awaitHealthy(client);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    String address = "127.0.0.1:" + PORT;
    String ca = certificate.certificate().toString();
    Map<String, Object> settings = new HashMap<>();
    for (String stage : List.of("stt", "tts")) {
      settings.put("voicemesh." + stage + ".engine", "grpc");
      settings.put("voicemesh." + stage + ".grpc.workers", address);
      settings.put("voicemesh." + stage + ".grpc.token", TOKEN);
      settings.put("voicemesh." + stage + ".grpc.tls.caFile", ca);
      // Bounds for a loaded 2-core machine (what is tested is who may connect, not how fast): a
      // late answer would send the turn to the embedded fallback, and the test would fail.
      settings.put("voicemesh." + stage + ".grpc.callTimeoutMs", 5_000);
    }
    settings.put("voicemesh.stt.grpc.finalTimeoutMs", 20_000);
    settings.put("voicemesh.tts.grpc.chunkTimeoutMs", 20_000);
    settings.put("voicemesh.gateway.silenceMs", 600);
    settings.put("voicemesh.gateway.minSpeechMs", 300);
    return settings;
  });

  private static WorkerChannel channel(String token) {
    return new WorkerChannel(token, true, certificate.certificate().toString());
  }

  @AfterAll
  static void stopWorker() throws Exception {
    if (client != null) {
      client.close();
    }
    if (worker != null) {
      worker.close();
    }
    VERTX.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  @Order(1)
  @DisplayName("listens on 127.0.0.1 when no --host is given: not reachable on this machine's other addresses")
  void loopbackByDefault() throws Exception {
    assertTrue(worker.log().contains("listening on 127.0.0.1:" + PORT + " (TLS, token required)"), worker.log());
    List<InetAddress> others = NetworkInterface.networkInterfaces()
        .filter(nic -> {
          try {
            return nic.isUp() && !nic.isLoopback();
          } catch (IOException e) {
            return false;
          }
        })
        .flatMap(NetworkInterface::inetAddresses)
        .filter(a -> a instanceof Inet4Address && !a.isLoopbackAddress() && !a.isLinkLocalAddress())
        .toList();
    System.out.println("non-loopback addresses of this machine: " + others);
    for (InetAddress other : others) {
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress(other, PORT), 2000);
        fail("the worker's port answers on " + other.getHostAddress() + ", not only on loopback");
      } catch (IOException refused) {
        // what loopback-only means
      }
    }
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", PORT), 2000); // the control: the port is open on loopback
    }
  }

  @Test
  @Order(2)
  @DisplayName("answers UNAUTHENTICATED to every call without the token or with a wrong one, HealthCheck included")
  void token() throws Exception {
    for (String wrong : List.of("", "worker-secret-but-not-this-one", TOKEN + "x", TOKEN.substring(0, TOKEN.length() - 1))) {
      try (WorkerClient stranger = new WorkerClient(VERTX, PORT, channel(wrong))) {
        WorkerClient.Outcome health = WorkerClient.refusal(stranger::health);
        assertEquals(GrpcStatus.UNAUTHENTICATED, health.status(), "token '" + wrong + "': " + health);
        assertTrue(health.message().contains("authorization: Bearer"), health.message());
        assertEquals(GrpcStatus.UNAUTHENTICATED, WorkerClient.refusal(() -> stranger.create(session())).status());
        assertEquals(GrpcStatus.UNAUTHENTICATED, WorkerClient.refusal(() -> stranger.stop("any")).status());
        assertEquals(GrpcStatus.UNAUTHENTICATED,
            stranger.synthesize(SynthesizeRequest.newBuilder().setText("hello").build()).outcome().status());
        WorkerClient.AudioStream stream = stranger.stream();
        try {
          stream.send(WorkerClient.chunk("any", 0, 0, new byte[320], false));
        } catch (Exception closed) {
          // the worker may have ended the stream before the chunk went out
        }
        assertEquals(GrpcStatus.UNAUTHENTICATED, stream.outcome(TURN).status());
      }
    }
    HealthCheckResponse health = client.health();
    assertEquals(ServingStatus.OK, health.getStatus());
    assertEquals(0, health.getSessionsTotal(), "no refused call got as far as a session: " + health);
    CreateSessionRequest request = session();
    assertEquals("secure-worker", client.create(request).getWorkerId());
    WorkerClient.AudioStream stream = client.stream();
    long next = stream.sendAudio(request.getSessionId(), 0, Speech.say("hello there"), 16_000, 100);
    stream.send(WorkerClient.chunk(request.getSessionId(), next, next * 100, new byte[0], true));
    assertEquals("hello there", stream.await(event -> event.hasFinal(), TURN).getFinal().getText(),
        "recognized over TLS with the token");
    client.stop(request.getSessionId());
    assertEquals(GrpcStatus.OK, stream.outcome(TURN).status());
  }

  @Test
  @Order(3)
  @DisplayName("refuses plaintext clients and clients that do not trust its certificate")
  void tlsOnly() throws Exception {
    try (WorkerClient plaintext = new WorkerClient(VERTX, PORT, new WorkerChannel(TOKEN, false, ""))) {
      assertNoAnswer(plaintext);
    }
    try (WorkerClient untrusting = new WorkerClient(VERTX, PORT, new WorkerChannel(TOKEN, true, ""))) {
      assertNoAnswer(untrusting); // the JDK's CAs did not sign it
    }
  }

  private static void assertNoAnswer(WorkerClient stranger) {
    try {
      HealthCheckResponse answered = stranger.health();
      fail("the worker answered: " + answered);
    } catch (Exception refused) {
      System.out.println("refused as expected: " + refused);
    }
  }

  @Test
  @Order(4)
  @DisplayName("serves the mesh's grpc engines over TLS with the token: a voice turn heard and spoken by the worker")
  void meshOverTls() throws Exception {
    HealthCheckResponse before = client.health();
    byte[] pcm = Speech.concat(Speech.silence(300), Speech.say("calculate eight times nine"));
    String embedded = Speech.turnTranscript(Speech.concat(pcm, Speech.silence(1200)), 600, 300);
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
      assertTrue(voice.events("warning").isEmpty(), "no fallback to the embedded engines: " + voice.events("warning"));
    }
    HealthCheckResponse after = client.health();
    assertTrue(after.getSessionsTotal() > before.getSessionsTotal(), "the worker recognized the turn: " + after);
    assertTrue(after.getSynthesesTotal() > before.getSynthesesTotal(), "the worker spoke the answer: " + after);
    JsonObject roles = new Rest(mesh.port()).call("GET", "/health", null, null).json().getJsonObject("roles");
    assertEquals("OK", roles.getJsonObject("stt").getJsonObject("workers").getString(worker.address()));
    assertEquals("OK", roles.getJsonObject("tts").getJsonObject("workers").getString(worker.address()));
  }

  @Test
  @Order(5)
  @DisplayName("refuses to start on 0.0.0.0 without a token, saying why, and exits 2")
  void refusesExposedWithoutToken() throws Exception {
    try (WorkerProcess exposed = WorkerProcess.startWithout("exposed-worker", LoopbackPorts.free(),
        "--host", "0.0.0.0")) {
      Integer exit = exposed.exitCode(Duration.ofSeconds(60));
      assertNotNull(exit, "still running: " + exposed.log());
      assertEquals(2, exit, exposed.log());
      assertTrue(exposed.log().contains("refusing to listen on 0.0.0.0"), exposed.log());
      assertTrue(exposed.log().contains("--insecure"), "the message names the way out: " + exposed.log());
      assertFalse(exposed.log().contains("listening on"), exposed.log());
      assertFalse(exposed.log().contains("Exception"), "a message, not a stack trace: " + exposed.log());
    }
  }

  private static CreateSessionRequest session() {
    return CreateSessionRequest.newBuilder().setSessionId(UUID.randomUUID().toString())
        .setEndpointing(Endpointing.ENDPOINTING_CLIENT).build();
  }
}
