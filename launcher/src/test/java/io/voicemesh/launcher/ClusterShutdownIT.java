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
@Timeout(value = 240, unit = TimeUnit.SECONDS)
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

  @BeforeAll
  static void startCluster() throws Exception {
    vertx = Vertx.vertx();
    tokens = JwtTokens.from(vertx, new JsonObject().put("secret", SECRET));
    cluster = new ClusterProcesses(Path.of("target", "cluster-shutdown-it"), Map.of(
        "VOICEMESH_JWT_SECRET", SECRET,
        "VOICEMESH_DRAIN_MS", Long.toString(DRAIN_MS),
        // Words come slowly enough that a node can be stopped while the answer is still being made.
        "CONFIG_FORCE_voicemesh_llm_agents_default_deltaDelayMs", "150"));
    cluster.start("gw-1", List.of("gateway", "session"), Map.of(), "--embedded-postgres");
    cluster.start("stt-1", List.of("stt"), Map.of());
    cluster.start("stt-2", List.of("stt"), Map.of());
    cluster.start("llm-1", List.of("llm"), Map.of());
    cluster.start("llm-2", List.of("llm"), Map.of());
    cluster.start("tts-1", List.of("tts"), Map.of());
    cluster.awaitReady(6, "gw-1", "stt-1", "stt-2", "llm-1", "llm-2", "tts-1");
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
      var speaking = client.speak(speech, 1_500, 1.0);
      client.await("transcript.partial", Duration.ofSeconds(10));
      String serving = busy(List.of("stt-1", "stt-2"), "stt");
      long sentBeforeSignal = client.sentAudioMs();
      Process process = cluster.node(serving).process();
      long signalled = System.nanoTime();
      process.destroy(); // SIGTERM
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
      assertTrue(process.waitFor(DRAIN_MS + EXIT_SLACK_MS, TimeUnit.MILLISECONDS), serving + " exited; see "
          + cluster.log(serving));
      long exitedMs = (System.nanoTime() - signalled) / 1_000_000;
      assertEquals(0, process.exitValue(), "exit code of " + serving + "; see " + cluster.log(serving));
      assertTrue(client.events("error").isEmpty(), "no error reached the client: " + client.events("error"));
      System.out.printf("STT node stopped after %d of %d ms of speech: next transcript event (%s) %d ms after SIGTERM; "
          + "exited 0 after %d ms%n", sentBeforeSignal, speech.length / 32, next.getString("type"), pauseMs, exitedMs);
      String gatewayLog = Files.readString(cluster.log("gw-1"));
      int moved = Math.max(gatewayLog.indexOf("STT node " + serving + " left the cluster or is stopping; moving"),
          gatewayLog.indexOf("stream closed on " + serving + ": node " + serving + " stopping; moving"));
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
      String serving = busy(List.of("llm-1", "llm-2"), "llm");
      Process process = cluster.node(serving).process();
      long signalled = System.nanoTime();
      process.destroy(); // SIGTERM
      JsonObject completed = client.await("agent_completed", TURN);
      assertNull(completed.getValue("error"), completed.encode());
      assertFalse(completed.getBoolean("interrupted"), completed.encode());
      assertEquals(serving, completed.getJsonObject("servedBy").getString("llm"), "the stopping node finished its turn");
      assertEquals(GREETING, client.await("agent_response", TURN).getString("text"));
      assertEquals(GREETING, String.join("", client.events("agent_response.delta").stream()
          .map(e -> e.getString("delta")).toList()), "each word once");
      assertTrue(process.waitFor(DRAIN_MS + EXIT_SLACK_MS, TimeUnit.MILLISECONDS), serving + " exited; see "
          + cluster.log(serving));
      assertEquals(0, process.exitValue(), "exit code of " + serving + "; see " + cluster.log(serving));
      System.out.printf("LLM node stopped mid-answer: exited 0 after %d ms%n", (System.nanoTime() - signalled) / 1_000_000);

      client.speakRealtime(Speech.say("calculate eight times nine"), 1_200);
      JsonObject second = client.awaitNth("agent_completed", 2, TURN);
      assertNotEquals(serving, second.getJsonObject("servedBy").getString("llm"), second.encode());
      assertNull(second.getValue("error"), second.encode());
    }
  }

  private static VoiceClient connect(String node) throws Exception {
    String token = tokens.mint("cluster-shutdown-it", null, Instant.now().plusSeconds(600)).token();
    return VoiceClient.connect(vertx, cluster.node(node).port(), "token=" + token);
  }

  /** The node of {@code role} with work running now (bounded wait). */
  private static String busy(List<String> nodes, String role) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      for (String node : nodes) {
        if (cluster.healthJson(node).getJsonObject("roles").getJsonObject(role).getInteger("active") > 0) {
          return node;
        }
      }
      TimeUnit.MILLISECONDS.sleep(20); // polling interval, bounded by the deadline above
    }
    throw new AssertionError("no " + role + " node is busy");
  }
}
