package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.voicemesh.gateway.JwtTokens;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * SIGTERM of clustered nodes while they serve a session, as a rolling update stops them: JVMs
 * started from the fat jar with {@code node --roles …} on a cluster name of their own.
 */
@DisplayName("SIGTERM of a node in a cluster of VoiceMesh JVMs")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ClusterShutdownIT {
  private static final String SECRET = "cluster-shutdown-it-secret-of-32-bytes!";
  private static final Duration TURN = Duration.ofSeconds(40);
  private static final long DRAIN_MS = 10_000;
  /** Closing Vert.x, leaving the cluster and the JVM's exit, beyond the drain budget. */
  private static final long EXIT_SLACK_MS = 5_000;
  private static final String GREETING = "Hello! I'm the VoiceMesh demo agent. Ask me the time, the date, or a sum like twelve times seven.";
  private static ClusterProcesses cluster;
  private static Vertx vertx;
  private static JwtTokens tokens;
  private static final List<String> WORKERS = List.of("work-1", "work-2", "work-3");
  /** Nodes stopped by a test so far. */
  private static final java.util.Set<String> stopped = new java.util.HashSet<>();

  @BeforeAll
  static void startCluster() throws Exception {
    vertx = Vertx.vertx();
    tokens = JwtTokens.from(vertx, new JsonObject().put("secret", SECRET));
    cluster = new ClusterProcesses(Path.of("target", "cluster-shutdown-it"), Map.of(
        "VOICEMESH_JWT_SECRET", SECRET,
        "VOICEMESH_DRAIN_MS", Long.toString(DRAIN_MS),
        // Words come slowly enough that a node can be stopped while the answer is still being made.
        "CONFIG_FORCE_voicemesh_llm_agents_default_deltaDelayMs", "300"));
    // Four JVMs: three that each serve STT and LLM, so one of each role can be stopped and two remain.
    cluster.start("gw-1", List.of("gateway", "session", "tts"), Map.of(), "--embedded-postgres");
    for (String node : WORKERS) {
      cluster.start(node, List.of("stt", "llm"), Map.of());
    }
    cluster.awaitReady(Duration.ofMinutes(4), 4, "gw-1", "work-1", "work-2", "work-3");
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
    if (vertx != null) {
      vertx.close();
    }
  }

  @Test
  @Order(1)
  @DisplayName("the STT node serving an utterance: its stream moves to the other STT node with no word lost, "
      + "and the node exits 0 within its drain")
  void sttNodeStoppedMidUtterance() throws Exception {
    try (VoiceClient client = connect("gw-1")) {
      client.await("session.ready", Duration.ofSeconds(10));
      byte[] speech = Speech.say("calculate eight times nine");
      long speechMs = speech.length / 32;
      // Sent at half speed (the audio itself is unchanged), so the signal lands inside the utterance
      // even when this machine is slow.
      var speaking = client.speak(speech, 1_500, 0.5);
      client.await("speech_started", Duration.ofSeconds(10));
      String serving = busy("stt");
      long sentBeforeSignal = client.sentAudioMs();
      Process process = cluster.node(serving).process();
      long signalled = System.nanoTime();
      CompletableFuture<Long> exited = process.onExit().thenApply(p -> System.nanoTime());
      process.destroy(); // SIGTERM
      // Mid-utterance for the node: it had not ended the utterance (on a busy machine it may lag
      // behind the audio already sent, which is then replayed to the next node too).
      assertTrue(client.events("transcript.final").isEmpty(), "SIGTERM came before the utterance ended");
      JsonObject next = client.await(e -> e.getLong("_receivedAt") > signalled
          && e.getString("type").startsWith("transcript."), Duration.ofSeconds(20));
      long pauseMs = (next.getLong("_receivedAt") - signalled) / 1_000_000;
      speaking.await(20, TimeUnit.SECONDS);
      JsonObject fin = client.await("transcript.final", TURN);
      String text = fin.getString("text");
      assertTrue(text.contains("calculate") || text.contains("eight"), "words before the signal: " + text);
      assertTrue(text.contains("nine"), "words after the signal: " + text);
      JsonObject completed = client.await("agent_completed", TURN);
      assertNotEquals(serving, completed.getJsonObject("servedBy").getString("stt"), completed.encode());
      assertTrue(client.await("agent_response", TURN).getString("text").contains("72"), "the agent answered");
      long exitedMs = exitedWithin(serving, exited, signalled);
      assertTrue(client.events("error").isEmpty(), "no error reached the client: " + client.events("error"));
      System.out.printf("STT node stopped after %d of %d ms of speech: next transcript event (%s) %d ms after SIGTERM; "
          + "exited 0 after %d ms%n", sentBeforeSignal, speechMs, next.getString("type"), pauseMs, exitedMs);
      String gatewayLog = Files.readString(cluster.log("gw-1"));
      // Moved with its audio replayed, or handed to its hot standby (on by default) if it had one yet.
      int moved = Math.max(gatewayLog.indexOf("STT node " + serving + " is gone or stopping; "),
          gatewayLog.indexOf("stream closed on " + serving + ": node " + serving + " stopping; "));
      int left = gatewayLog.indexOf("node " + serving + " left (roles");
      assertTrue(moved >= 0 && (left < 0 || moved < left),
          "the gateway moved the stream when the node said it was stopping, before it left the cluster");
    }
  }

  @Test
  @Order(2)
  @DisplayName("the LLM node making an answer: it takes no new turn but finishes this one, whole; the next turn goes "
      + "to the other LLM node; the node exits 0")
  void llmNodeStoppedMidAnswer() throws Exception {
    try (VoiceClient client = connect("gw-1")) {
      client.await("session.ready", Duration.ofSeconds(10));
      client.speakRealtime(Speech.say("hello there"), 1_200);
      client.await("agent_response.delta", TURN);
      String serving = busy("llm");
      Process process = cluster.node(serving).process();
      long signalled = System.nanoTime();
      CompletableFuture<Long> exited = process.onExit().thenApply(p -> System.nanoTime());
      process.destroy(); // SIGTERM
      JsonObject completed = client.await("agent_completed", TURN);
      assertNull(completed.getValue("error"), completed.encode());
      assertFalse(completed.getBoolean("interrupted"), completed.encode());
      assertEquals(serving, completed.getJsonObject("servedBy").getString("llm"), "the stopping node finished its turn");
      assertEquals(GREETING, client.await("agent_response", TURN).getString("text"));
      assertEquals(GREETING, String.join("", client.events("agent_response.delta").stream()
          .map(e -> e.getString("delta")).toList()), "each word once");
      System.out.printf("LLM node stopped mid-answer: exited 0 after %d ms%n", exitedWithin(serving, exited, signalled));

      client.speakRealtime(Speech.say("calculate eight times nine"), 1_200);
      JsonObject second = client.awaitNth("agent_completed", 2, TURN);
      assertNotEquals(serving, second.getJsonObject("servedBy").getString("llm"), second.encode());
      assertNull(second.getValue("error"), second.encode());
    }
  }

  /** Asserts the node exited 0 within its drain budget (plus exit slack) of the signal; returns after how many ms. */
  private static long exitedWithin(String node, CompletableFuture<Long> exited, long signalledNanos) throws Exception {
    long remainingMs = DRAIN_MS + EXIT_SLACK_MS - (System.nanoTime() - signalledNanos) / 1_000_000;
    Long exitedAt = exited.completeOnTimeout(null, Math.max(0, remainingMs), TimeUnit.MILLISECONDS).get();
    assertTrue(exitedAt != null, node + " still running " + (DRAIN_MS + EXIT_SLACK_MS) + " ms after SIGTERM; see "
        + cluster.log(node));
    assertEquals(0, cluster.node(node).process().exitValue(), "exit code of " + node + "; see " + cluster.log(node));
    return (exitedAt - signalledNanos) / 1_000_000;
  }

  private static VoiceClient connect(String node) throws Exception {
    String token = tokens.mint("cluster-shutdown-it", null, Instant.now().plusSeconds(600)).token();
    return VoiceClient.connect(vertx, cluster.node(node).port(), "token=" + token);
  }

  /** The running worker node with work of {@code role} now (bounded wait); counted as stopped from here. */
  private static String busy(String role) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      for (String node : WORKERS.stream().filter(n -> !stopped.contains(n)).toList()) {
        if (cluster.healthJson(node).getJsonObject("roles").getJsonObject(role).getInteger("active") > 0) {
          stopped.add(node);
          return node;
        }
      }
      TimeUnit.MILLISECONDS.sleep(20); // polling interval, bounded by the deadline above
    }
    throw new AssertionError("no " + role + " node is busy");
  }
}
