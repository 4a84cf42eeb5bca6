package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import io.voicemesh.gateway.JwtTokens;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * SIGTERM of the all-in-one jar in the middle of an answer, as Kubernetes or a process manager
 * sends it. The mesh stores its session log in a PostgreSQL this test starts itself, so the log can
 * be read after the mesh is gone.
 */
@DisplayName("SIGTERM of java -jar voicemesh.jar")
@Timeout(300)
class GracefulShutdownIT {
  private static final long DRAIN_MS = 8_000;
  /** JVM start-up of the exit path and process teardown, beyond the drain budget itself. */
  private static final long EXIT_SLACK_MS = 3_000;
  private static final Duration TURN = Duration.ofSeconds(45);
  private static final String SECRET = "graceful-shutdown-it-secret-of-32-bytes-or-more";
  private static final Path WORK = Path.of("target", "shutdown-it");
  private static Vertx vertx;
  private static EmbeddedDatabase database;

  @BeforeAll
  static void startDatabase() throws Exception {
    TestFiles.deleteTree(WORK);
    Files.createDirectories(WORK);
    vertx = Vertx.vertx();
    database = EmbeddedDatabase.start(WORK.resolve("test-postgres"));
  }

  @AfterAll
  static void stopDatabase() throws Exception {
    if (database != null) {
      database.close();
    }
    if (vertx != null) {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  /** The all-in-one jar on the test's PostgreSQL, its output in {@code <name>.log}; returns once /health is 200. */
  private static Process startMesh(String name, int port, long drainMs) throws Exception {
    Path jar = Path.of(System.getProperty("voicemesh.jar", "target/voicemesh.jar"));
    assertTrue(Files.isRegularFile(jar), "the fat jar exists: " + jar.toAbsolutePath());
    ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Dvertx.cacheDirBase=" + WORK.resolve("vertx-cache-" + name),
        "-jar", jar.toString(), "--port", Integer.toString(port), "--data-dir", WORK.resolve("data").toString(),
        "--postgres-uri", database.uri(), "--drain-ms", Long.toString(drainMs))
        .redirectErrorStream(true)
        .redirectOutput(WORK.resolve(name + ".log").toFile());
    builder.environment().put("VOICEMESH_JWT_SECRET", SECRET);
    Process process = builder.start();
    try {
      awaitHealthy(process, port);
    } catch (Throwable e) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      throw e;
    }
    return process;
  }

  private static VoiceClient connect(int port) throws Exception {
    String token = JwtTokens.from(vertx, new JsonObject().put("secret", SECRET))
        .mint("shutdown-it", null, Instant.now().plusSeconds(600)).token();
    return VoiceClient.connect(vertx, port, "token=" + token);
  }

  @Test
  @DisplayName("mid-answer: no new connection is accepted, the answer plays out and is stored with agent_completed, "
      + "the client gets going_away with where to resume and close 1001, and the process exits 0 within --drain-ms")
  void sigtermMidAnswer() throws Exception {
    int port = LoopbackPorts.free();
    Process process = startMesh("mid-answer", port, DRAIN_MS);
    Path log = WORK.resolve("mid-answer.log");
    try {
      VoiceClient client = connect(port);
      String sessionId = client.sessionId();
      client.speakRealtime(Speech.say("what is nine times eight"), 1_200);
      client.await("audio.start", TURN);
      // The first of the answer's audio has arrived: the agent is speaking.
      long audioDeadline = System.nanoTime() + TURN.toNanos();
      while (client.audio().length == 0 && System.nanoTime() < audioDeadline) {
        TimeUnit.MILLISECONDS.sleep(10); // polling interval, bounded by the deadline above
      }
      assertTrue(client.audio().length > 0, "the agent's audio is arriving");
      assertTrue(client.events("agent_completed").isEmpty(), "SIGTERM comes mid-answer");

      long signalled = System.nanoTime();
      java.util.concurrent.CompletableFuture<Long> exited = process.onExit().thenApply(p -> System.nanoTime());
      process.destroy(); // SIGTERM

      // New connections are refused while the answer still plays.
      long refusedAfterMs = awaitRefused(port, signalled);
      assertTrue(process.isAlive(), "the process is still draining when the port refuses connections");
      assertFalse(client.closed().isDone(), "the connected client is still being served when new ones are refused");

      JsonObject completed = client.await("agent_completed", TURN);
      assertFalse(completed.getBoolean("interrupted"), "the answer in flight plays out: " + completed.encode());
      assertTrue(client.events("audio.end").size() == 1, "the whole answer was sent: " + client.events());
      JsonObject goingAway = client.await(e -> "error".equals(e.getString("type")), TURN);
      assertEquals("going_away", goingAway.getString("code"), goingAway.encode());
      assertFalse(goingAway.containsKey("seq"), "a reply to this connection, not a session event");
      JsonObject resume = goingAway.getJsonObject("resume");
      assertNotNull(resume, goingAway.encode());
      assertEquals(sessionId, resume.getString("sessionId"));
      assertEquals(client.lastSeq(), resume.getLong("lastSeq"), "lastSeq is the newest event the client has");
      assertEquals((short) 1001, client.closed().get(10, TimeUnit.SECONDS));
      assertTrue(client.closeReason().contains("sessionId=" + sessionId)
          && client.closeReason().contains("lastSeq=" + client.lastSeq()), "resume hint: " + client.closeReason());

      Long exitedAt = exited.completeOnTimeout(null, Math.max(0, DRAIN_MS + EXIT_SLACK_MS
          - (System.nanoTime() - signalled) / 1_000_000), TimeUnit.MILLISECONDS).get();
      assertNotNull(exitedAt, "exited within the drain budget; log: " + log);
      long exitedAfterMs = (exitedAt - signalled) / 1_000_000;
      assertEquals(0, process.exitValue(), "exit code; log: " + log);
      System.out.printf("SIGTERM mid-answer: port refused after %d ms, process exited 0 after %d ms%n",
          refusedAfterMs, exitedAfterMs);

      // The mesh is gone; its log holds every event the client got, agent_completed included.
      Pool pool = PgBuilder.pool().connectingTo(database.uri()).using(vertx).build();
      List<String> stored = new ArrayList<>();
      List<Long> seqs = new ArrayList<>();
      for (Row row : pool.preparedQuery("SELECT seq, type FROM session_events WHERE session_id = $1 ORDER BY seq")
          .execute(Tuple.of(UUID.fromString(sessionId))).await(10, TimeUnit.SECONDS)) {
        seqs.add(row.getLong("seq"));
        stored.add(row.getString("type"));
      }
      pool.close().await(10, TimeUnit.SECONDS);
      assertEquals(client.sessionEvents().stream().map(e -> e.getString("type")).toList(), stored,
          "the log holds exactly the session events the client received");
      assertEquals(client.lastSeq(), seqs.get(seqs.size() - 1));
      assertTrue(stored.contains("agent_completed"), "stored: " + stored);
      assertTrue(Files.readString(log).contains("SIGTERM: stopping gracefully"), "the log says why it stops");
    } finally {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  @DisplayName("a second SIGTERM during the drain stops the process at once (exit 1), however long the drain may be")
  void secondSigtermStopsAtOnce() throws Exception {
    long longDrainMs = 60_000;
    int port = LoopbackPorts.free();
    Process process = startMesh("second-signal", port, longDrainMs);
    try (VoiceClient client = connect(port)) {
      client.sessionId();
      // The greeting is several seconds of speech: the drain would wait for it.
      client.speakRealtime(Speech.say("hello there"), 1_200);
      client.await("audio.start", TURN);
      process.destroy(); // SIGTERM: the drain starts
      awaitRefused(port, System.nanoTime());
      long second = System.nanoTime();
      process.destroy(); // and again: stop now
      assertTrue(process.waitFor(10, TimeUnit.SECONDS), "stopped within 10 s of the second signal");
      long stoppedMs = (System.nanoTime() - second) / 1_000_000;
      assertEquals(1, process.exitValue(), "a drain cut short exits 1");
      assertTrue(Files.readString(WORK.resolve("second-signal.log")).contains("stopping at once: a second SIGTERM"));
      System.out.printf("second SIGTERM: exited 1 after %d ms%n", stoppedMs);
    } finally {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  private static void awaitHealthy(Process process, int port) throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    URI health = URI.create("http://127.0.0.1:" + port + "/health");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline && process.isAlive()) {
      try {
        if (http.send(HttpRequest.newBuilder(health).timeout(Duration.ofSeconds(5)).build(),
            HttpResponse.BodyHandlers.ofString()).statusCode() == 200) {
          return;
        }
      } catch (IOException notListeningYet) {
        // still starting
      }
      TimeUnit.MILLISECONDS.sleep(200); // polling interval, bounded by the deadline above
    }
    throw new AssertionError("not healthy within 120 s (alive: " + process.isAlive() + ")");
  }

  /** Waits (bounded) until a TCP connect to the port is refused; returns how long after the signal. */
  private static long awaitRefused(int port, long signalledNanos) throws Exception {
    long deadline = signalledNanos + TimeUnit.SECONDS.toNanos(3);
    while (System.nanoTime() < deadline) {
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress("127.0.0.1", port), 500);
      } catch (ConnectException refused) {
        return (System.nanoTime() - signalledNanos) / 1_000_000;
      }
      TimeUnit.MILLISECONDS.sleep(10); // polling interval, bounded by the deadline above
    }
    throw new AssertionError("port " + port + " still accepts connections 3 s after SIGTERM");
  }
}
