package io.voicemesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.config.FileSystemXmlConfig;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import io.voicemesh.gateway.JwtTokens;
import io.voicemesh.launcher.ScriptedOpenAiServer.Answer;
import io.voicemesh.launcher.ScriptedOpenAiServer.ScriptedCall;
import io.voicemesh.launcher.ScriptedOpenAiServer.ToolCalls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * Every role on its own JVM, clustered over Hazelcast on loopback, started from the fat jar as an
 * operator would: gateway+session (embedded PostgreSQL), two STT nodes (capacity 2 each), one LLM
 * and one TTS node; later a second LLM, TTS and gateway node join. Nodes are killed with SIGKILL
 * mid-utterance and mid-answer, and the conversation goes on. The LLM nodes also serve agent
 * {@code scripted}, whose model is a scripted OpenAI-compatible server in this JVM.
 */
@DisplayName("a cluster of VoiceMesh JVMs on loopback")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ClusterIT {
  private static final String SECRET = "cluster-it-secret-of-at-least-32-bytes!";
  private static final Duration TURN = Duration.ofSeconds(40);
  private static final String GREETING = "Hello! I'm the VoiceMesh demo agent. Ask me the time, the date, or a sum like twelve times seven.";
  private static ClusterProcesses cluster;
  private static Vertx vertx;
  private static JwtTokens tokens;
  private static int nodeCount;
  private static ScriptedOpenAiServer openAi;
  /** A --config file with agent {@code scripted} and its tool, for the gateway and every LLM node. */
  private static String scriptedAgent;

  @BeforeAll
  static void startCluster() throws Exception {
    vertx = Vertx.vertx();
    openAi = new ScriptedOpenAiServer();
    tokens = JwtTokens.from(vertx, new JsonObject().put("secret", SECRET));
    cluster = new ClusterProcesses(Path.of("target", "cluster-it"), Map.of(
        "VOICEMESH_JWT_SECRET", SECRET,
        "CONFIG_FORCE_voicemesh_stt_capacity", "2",
        // One test user stands in for many clients: per-user quotas out of the way.
        "CONFIG_FORCE_voicemesh_stt_userShare", "1.0",
        "CONFIG_FORCE_voicemesh_stt_tokenShare", "1.0",
        "CONFIG_FORCE_voicemesh_gateway_limits_connectionsPerUser", "1000",
        "CONFIG_FORCE_voicemesh_gateway_limits_sessionsPerUser", "1000",
        // Words come slowly enough that a node can be killed while the answer is still being made.
        "CONFIG_FORCE_voicemesh_llm_agents_default_deltaDelayMs", "150"));
    scriptedAgent = cluster.file("scripted-agent.conf", """
        voicemesh.llm.agents.scripted {
          engine = openai
          baseUrl = "%s"
          model = test-model
          tools = [{name = slow_lookup, description = "Looks up an order; takes a while.",
            parameters = {type = object, properties = {order = {type = string}}}}]
        }
        """.formatted(openAi.baseUrl())).toString();
    // gw-1 keeps no hot standby of its streams, so a lost STT node's streams are replayed elsewhere;
    // gw-2 (sttNodeKilledWithHotStandby) keeps one, the default.
    cluster.start("gw-1", List.of("gateway", "session"), Map.of("CONFIG_FORCE_voicemesh_gateway_failover_sttStandby", "false"),
        "--embedded-postgres", "--config", scriptedAgent);
    // gw-1 joins first and so is the Hazelcast master: the STT nodes killed below never are (a
    // master's death re-partitions the cluster while the next node decodes the replay: 3.6 s
    // instead of 1-2 s in one CI run), and nodes starting at once have a master to find.
    cluster.awaitJoined("gw-1");
    cluster.start("stt-1", List.of("stt"), Map.of());
    cluster.start("stt-2", List.of("stt"), Map.of());
    cluster.start("llm-1", List.of("llm"), Map.of(), "--config", scriptedAgent);
    cluster.start("tts-1", List.of("tts"), Map.of());
    nodeCount = 5;
    cluster.awaitReady(nodeCount, "gw-1", "stt-1", "stt-2", "llm-1", "tts-1");
  }

  @AfterAll
  static void stopCluster() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
    if (openAi != null) {
      openAi.close();
    }
    if (vertx != null) {
      vertx.close();
    }
  }

  @Test
  @Order(1)
  @DisplayName("a voice turn crosses nodes: STT, LLM and TTS each served by its own JVM")
  void voiceTurnCrossesNodes() throws Exception {
    try (VoiceClient client = connect("gw-1", "")) {
      client.await("session.ready", Duration.ofSeconds(10));
      client.speakRealtime(Speech.say("calculate eight times nine"), 1_200);
      JsonObject completed = client.await("agent_completed", TURN);
      JsonObject servedBy = completed.getJsonObject("servedBy");
      assertTrue(Set.of("stt-1", "stt-2").contains(servedBy.getString("stt")), completed.encode());
      assertEquals("llm-1", servedBy.getString("llm"), completed.encode());
      assertEquals(new JsonArray().add("tts-1"), servedBy.getJsonArray("tts"), completed.encode());
      assertTrue(client.await("agent_response", TURN).getString("text").contains("72"), "the LLM node answered");
      assertTrue(client.audio().length > 16_000, "the TTS node's audio reached the client");
      assertFalse(completed.getBoolean("interrupted"));
    }
  }

  @Test
  @Order(2)
  @DisplayName("/health of every node reports its roles, the cluster's members and each role's load")
  void healthOfEveryNode() throws Exception {
    for (String name : List.of("gw-1", "stt-1", "stt-2", "llm-1", "tts-1")) {
      JsonObject health = cluster.healthJson(name);
      assertEquals("UP", health.getString("status"), health.encode());
      assertEquals(name, health.getString("node"));
      assertEquals(new TreeSet<>(cluster.node(name).roles()), new TreeSet<>(health.getJsonObject("roles").fieldNames()),
          health.encode());
      JsonObject members = health.getJsonObject("cluster");
      assertEquals(5, members.getInteger("members"), health.encode());
      assertEquals(Set.of("gw-1", "stt-1", "stt-2", "llm-1", "tts-1"), members.getJsonArray("nodes").stream()
          .map(n -> ((JsonObject) n).getString("node")).collect(Collectors.toSet()));
      health.getJsonObject("roles").forEach(role -> {
        JsonObject load = (JsonObject) role.getValue();
        assertEquals("UP", load.getString("status"));
        assertTrue(load.getInteger("active") >= 0, health.encode());
      });
    }
    assertEquals(2, cluster.healthJson("stt-1").getJsonObject("roles").getJsonObject("stt").getInteger("capacity"));
    JsonObject mesh = cluster.healthJson("gw-1").getJsonObject("mesh");
    for (String role : List.of("session", "stt", "llm", "tts")) {
      assertEquals("UP", mesh.getJsonObject(role).getString("status"), mesh.encode());
    }
  }

  @Test
  @Order(3)
  @DisplayName("capacity: two STT nodes of two sessions each take four; the fifth gets `capacity`; after one leaves, a new one gets in")
  void sttCapacity() throws Exception {
    List<VoiceClient> admitted = new ArrayList<>();
    try {
      for (int i = 0; i < 4; i++) {
        VoiceClient client = connect("gw-1", "");
        admitted.add(client);
        client.await("session.ready", Duration.ofSeconds(10));
        client.speak(Speech.silence(200), 0, 1.0);
        awaitSttLoad(total -> total == admitted.size());
      }
      assertEquals(2, sttActive("stt-1"), "each node serves two");
      assertEquals(2, sttActive("stt-2"), "each node serves two");
      try (VoiceClient fifth = connect("gw-1", "")) {
        fifth.await("session.ready", Duration.ofSeconds(10));
        fifth.speak(Speech.silence(200), 0, 1.0);
        JsonObject error = fifth.await(e -> "error".equals(e.getString("type")), Duration.ofSeconds(20));
        assertEquals("capacity", error.getString("code"), error.encode());
      }
      admitted.remove(0).close();
      awaitSttLoad(total -> total == 3);
      try (VoiceClient sixth = connect("gw-1", "")) {
        sixth.await("session.ready", Duration.ofSeconds(10));
        sixth.speak(Speech.silence(200), 0, 1.0);
        awaitSttLoad(total -> total == 4);
        assertTrue(sixth.events("error").isEmpty(), "admitted without an error: " + sixth.events("error"));
      }
    } finally {
      for (VoiceClient client : admitted) {
        client.close();
      }
    }
    awaitSttLoad(total -> total == 0);
  }

  @Test
  @Order(4)
  @DisplayName("kill -9 of the STT node mid-utterance: the final transcript has the words before and after, and the agent answers")
  void sttNodeKilledMidUtterance() throws Exception {
    // As in a mesh that has run a while: each STT node has warmed a recognizer (it does so in the
    // background after it starts), so the replay lands on one at full speed wherever it goes.
    for (String node : List.of("stt-1", "stt-2")) {
      awaitWarmRecognizer(node);
    }
    try (VoiceClient client = connect("gw-1", "")) {
      client.await("session.ready", Duration.ofSeconds(10));
      byte[] speech = Speech.say("calculate eight times nine");
      var speaking = client.speak(speech, 1_500, 1.0);
      client.await("transcript.partial", Duration.ofSeconds(10));
      String serving = awaitSttLoad(total -> total == 1);
      long sentBeforeKill = client.sentAudioMs();
      long residentMb = cluster.residentMb(serving);
      long killedAt = System.nanoTime();
      cluster.kill(serving);
      long goneAt = System.nanoTime();
      nodeCount--; // gone whatever the assertions below say, so later tests count the members right
      JsonObject next = client.await(e -> e.getLong("_receivedAt") > killedAt
          && e.getString("type").startsWith("transcript."), Duration.ofSeconds(20));
      long pauseMs = (next.getLong("_receivedAt") - killedAt) / 1_000_000;
      speaking.await(20, TimeUnit.SECONDS);
      JsonObject fin = client.await("transcript.final", TURN);
      System.out.printf("STT failover: killed %s (%d MB resident) after %d of %d ms of speech; process gone %d ms after SIGKILL; next transcript event (%s) %d ms after SIGKILL, %d ms after the process was gone%n",
          serving, residentMb, sentBeforeKill, speech.length / 32, (goneAt - killedAt) / 1_000_000, next.getString("type"), pauseMs,
          (next.getLong("_receivedAt") - goneAt) / 1_000_000);
      String text = fin.getString("text");
      assertTrue(text.contains("calculate") || text.contains("eight"), "words before the kill: " + text);
      assertTrue(text.contains("nine"), "words after the kill: " + text);
      // The target is 1 s (issue #13); see docs/BENCHMARKS.md (STT failover) for what this printed on
      // a quiet 2-core machine. CI machines share their cores, so the bound asserted is looser.
      assertTrue(pauseMs <= 5_000, "the next transcript event came " + pauseMs + " ms after the kill; at most 5 s");
      JsonObject completed = client.await("agent_completed", TURN);
      assertNotEquals(serving, completed.getJsonObject("servedBy").getString("stt"), completed.encode());
      assertTrue(client.await("agent_response", TURN).getString("text").contains("72"), "the agent answered");
    }
  }

  @Test
  @Order(5)
  @DisplayName("kill -9 of the STT node mid-utterance with a hot standby: the standby's words come within 1 s, nothing is said twice")
  void sttNodeKilledWithHotStandby() throws Exception {
    // A gateway with the default settings, which keep a standby of each stream on a second STT node;
    // a third STT node joins, so the one left from the test before (or the two, when this test runs
    // alone) has a partner.
    cluster.start("stt-3", List.of("stt"), Map.of());
    cluster.start("gw-2", List.of("gateway"), Map.of());
    nodeCount += 2;
    cluster.awaitReady(nodeCount, "stt-3", "gw-2");
    List<String> sttNodes = Stream.of("stt-1", "stt-2", "stt-3")
        .filter(node -> cluster.node(node).process().isAlive()).toList();
    for (String node : sttNodes) {
      awaitWarmRecognizer(node);
    }
    try (VoiceClient client = connect("gw-2", "")) {
      client.await("session.ready", Duration.ofSeconds(10));
      byte[] speech = Speech.say("calculate eight times nine");
      var speaking = client.speak(speech, 1_500, 1.0);
      client.await("transcript.partial", Duration.ofSeconds(10));
      List<String> servingAndStandby = awaitStandby(sttNodes);
      String serving = servingAndStandby.get(0);
      String survivor = servingAndStandby.get(1);
      long sentBeforeKill = client.sentAudioMs();
      long killedAt = System.nanoTime();
      cluster.kill(serving);
      nodeCount--; // gone whatever the assertions below say, so later tests count the members right
      JsonObject next = client.await(e -> e.getLong("_receivedAt") > killedAt
          && e.getString("type").startsWith("transcript."), Duration.ofSeconds(20));
      long pauseMs = (next.getLong("_receivedAt") - killedAt) / 1_000_000;
      speaking.await(20, TimeUnit.SECONDS);
      JsonObject completed = client.await("agent_completed", TURN);
      System.out.printf("STT failover with a hot standby: killed %s after %d of %d ms of speech; next transcript event (%s \"%s\") "
              + "%d ms after SIGKILL%n", serving, sentBeforeKill, speech.length / 32, next.getString("type"),
          next.getString("text", next.getString("delta", "")), pauseMs);
      assertTrue(pauseMs <= 1_000, "the next transcript event came " + pauseMs + " ms after the kill; at most 1 s");
      // One utterance, one final transcript with words. (When the recognizers lag more than the
      // audio-gap allowance behind the client, which stops sending after its speech, the gateway
      // commits the turn and an empty final follows: no words, no turn.)
      List<JsonObject> finals = client.events("transcript.final").stream()
          .filter(fin -> !fin.getString("text").isBlank()).toList();
      assertEquals(1, finals.size(), "one utterance, one final transcript: " + client.events("transcript.final"));
      String text = finals.get(0).getString("text");
      assertTrue(text.contains("calculate") || text.contains("eight"), "words before the kill: " + text);
      assertTrue(text.contains("nine"), "words after the kill: " + text);
      assertEquals(1, client.events("speech_started").size(), "the speech started once: " + client.events("speech_started"));
      assertNotEquals(serving, completed.getJsonObject("servedBy").getString("stt"), completed.encode());
      assertTrue(client.await("agent_response", TURN).getString("text").contains("72"), "the agent answered");

      // The standby serves the session now: the node left counts it as the session's stream (not a
      // standby), and it hears the next utterance too, with no move and nothing replayed.
      client.speakRealtime(Speech.say("hello there"), 1_200);
      JsonObject second = client.awaitNth("agent_completed", 2, TURN);
      assertEquals(survivor, second.getJsonObject("servedBy").getString("stt"), second.encode());
      assertEquals(2, client.events("transcript.final").stream().filter(fin -> !fin.getString("text").isBlank()).count(),
          "two utterances: " + client.events("transcript.final"));
      assertEquals(0, MetricsTest.value(new Rest(cluster.node(survivor).port()).get("/metrics", null).text(),
          "voicemesh_stt_standby_streams"), "the standby serves");
      assertEquals(1, sttActive(survivor));
      String log = Files.readString(cluster.log("gw-2"));
      assertTrue(log.contains("serves the stream now, nothing replayed"), "the standby took over");
      assertFalse(log.contains("moving its STT stream"), "no stream was moved or replayed");
    }
  }

  @Test
  @Order(6)
  @DisplayName("kill -9 of the LLM node mid-answer: another LLM node finishes the turn; the client sees each word once")
  void llmNodeKilledMidAnswer() throws Exception {
    cluster.start("llm-2", List.of("llm"), Map.of(), "--config", scriptedAgent);
    cluster.start("tts-2", List.of("tts"), Map.of());
    nodeCount += 2;
    cluster.awaitReady(nodeCount, "llm-2", "tts-2");
    try (VoiceClient client = connect("gw-1", "")) {
      client.await("session.ready", Duration.ofSeconds(10));
      client.speakRealtime(Speech.say("hello there"), 1_200);
      client.await("agent_response.delta", TURN);
      String serving = awaitLoad(List.of("llm-1", "llm-2"), "llm");
      long killedAt = System.nanoTime();
      cluster.kill(serving);
      JsonObject nextWord = client.await(e -> e.getLong("_receivedAt") > killedAt
          && "agent_response.delta".equals(e.getString("type")), TURN);
      JsonObject completed = client.await("agent_completed", TURN);
      System.out.printf("LLM failover: killed %s mid-answer; next word %d ms later, turn completed %d ms later%n", serving,
          (nextWord.getLong("_receivedAt") - killedAt) / 1_000_000, (System.nanoTime() - killedAt) / 1_000_000);
      assertFalse(completed.getBoolean("interrupted"), completed.encode());
      assertTrue(client.events("error").isEmpty(), "no error: " + client.events("error"));
      assertNotEquals(serving, completed.getJsonObject("servedBy").getString("llm"), completed.encode());
      String deltas = client.events("agent_response.delta").stream().map(d -> d.getString("delta"))
          .collect(Collectors.joining());
      assertEquals(GREETING, deltas, "each word reached the client once, in order");
      assertEquals(GREETING, client.await("agent_response", TURN).getString("text"));
      assertEquals(GREETING, completed.getString("heardText"));
      greetingAudioMs = client.await("audio.end", TURN).getLong("audioMs");
    }
    nodeCount--;
  }

  private static long greetingAudioMs;

  @Test
  @Order(7)
  @DisplayName("kill -9 of a TTS node mid-answer: its sentences are made again elsewhere and the client hears the whole answer in order")
  void ttsNodeKilledMidAnswer() throws Exception {
    try (VoiceClient client = connect("gw-1", "")) {
      client.await("session.ready", Duration.ofSeconds(10));
      client.speakRealtime(Speech.say("hello there"), 1_200);
      client.await("audio.start", TURN);
      long killedAt = System.nanoTime();
      cluster.kill("tts-1");
      JsonObject completed = client.await("agent_completed", TURN);
      System.out.printf("TTS failover: killed tts-1 mid-answer; turn completed %d ms later%n",
          (System.nanoTime() - killedAt) / 1_000_000);
      assertFalse(completed.getBoolean("interrupted"), completed.encode());
      assertTrue(client.events("error").isEmpty(), "no error: " + client.events("error"));
      assertTrue(completed.getJsonObject("servedBy").getJsonArray("tts").contains("tts-2"), completed.encode());
      assertEquals(GREETING, completed.getString("heardText"));
      long audioMs = client.await("audio.end", TURN).getLong("audioMs");
      assertEquals(greetingAudioMs, audioMs, 1, "the whole answer's audio, no chunk lost or doubled");
    }
    nodeCount--;
  }

  @Test
  @Order(8)
  @DisplayName("kill -9 of a gateway node: the client resumes on another gateway with its session id and goes on")
  void gatewayKilled() throws Exception {
    // gw-2 is the standby gateway of sttNodeKilledWithHotStandby.
    String sessionId;
    long lastSeq;
    try (VoiceClient first = connect("gw-2", "")) {
      first.await("session.ready", Duration.ofSeconds(10));
      sessionId = first.sessionId();
      first.speakRealtime(Speech.say("calculate eight times nine"), 1_200);
      first.await("agent_completed", TURN);
      lastSeq = first.lastSeq();
      cluster.kill("gw-2");
      first.closed().get(10, TimeUnit.SECONDS); // the client saw its gateway go
    }
    try (VoiceClient resumed = connect("gw-1", "sessionId=" + sessionId + "&lastSeq=" + lastSeq)) {
      JsonObject ready = resumed.await("session.ready", Duration.ofSeconds(20));
      assertTrue(ready.getBoolean("resumed"), ready.encode());
      resumed.speakRealtime(Speech.say("hello there"), 1_200);
      JsonObject completed = resumed.await("agent_completed", TURN);
      assertEquals(GREETING, completed.getString("heardText"));
      JsonObject session = new Rest(cluster.node("gw-1").port()).get("/api/v1/sessions/" + sessionId,
          tokens.mint("cluster-it", null, Instant.now().plusSeconds(300)).token()).json();
      assertEquals(2, session.getInteger("turns"), session.encode());
    }
  }

  @Test
  @Order(9)
  @DisplayName("kill -9 of the LLM node while a tool runs for an interrupted turn: the call is closed as lost in seconds, not after toolWaitMs")
  void llmNodeKilledWhileInterruptedTurnWaitsForTool() throws Exception {
    // The tool lives on a cluster member of its own (this JVM), and never answers: the LLM node
    // that asked is killed while it waits.
    Vertx toolHost = Vertx.builder()
        .with(new VertxOptions().setEventBusOptions(new EventBusOptions().setHost("127.0.0.1").setClusterPublicHost("127.0.0.1")))
        .withClusterManager(new HazelcastClusterManager(new FileSystemXmlConfig(cluster.clusterXml().toFile())))
        .buildClustered().await(60, TimeUnit.SECONDS);
    try {
      CompletableFuture<JsonObject> asked = new CompletableFuture<>();
      toolHost.eventBus().<JsonObject>consumer("tool.slow_lookup", message -> asked.complete(message.body()))
          .completion().await(10, TimeUnit.SECONDS);
      openAi.script(new ToolCalls(List.of(new ScriptedCall("call_7", "slow_lookup", List.of("{\"order\":", "\"A17\"}")))),
          new Answer(List.of("Okay.")));
      try (VoiceClient client = connect("gw-1", "agent=scripted")) {
        client.await("session.ready", Duration.ofSeconds(10));
        client.speakRealtime(Speech.say("what time is it"), 1_200);
        String turnId = client.await("tool_executing", TURN).getString("turnId");
        assertEquals("A17", asked.get(20, TimeUnit.SECONDS).getString("order"), "the tool runs");
        String serving = awaitLoad(List.of("llm-1", "llm-2").stream()
            .filter(node -> cluster.node(node).process().isAlive()).toList(), "llm");

        // The user interrupts: the turn now waits only for the tool's outcome. A session.update
        // after the cancel is answered once the cancel was handled (a connection's messages are in order).
        client.send(new JsonObject().put("type", "response.cancel"));
        client.send(new JsonObject().put("type", "session.update").put("falseInterruptionMs", 0));
        client.await("session.updated", Duration.ofSeconds(10));
        assertTrue(client.events("tool_completed").isEmpty(), "the tool is still open: " + client.events());
        long killedAt = System.nanoTime();
        cluster.kill(serving);

        JsonObject toolDone = client.await("tool_completed", TURN);
        long closedMs = (toolDone.getLong("_receivedAt") - killedAt) / 1_000_000;
        System.out.printf("LLM node %s killed while an interrupted turn's tool ran: tool_completed %d ms later%n", serving, closedMs);
        assertEquals("call_7", toolDone.getString("callId"));
        JsonObject error = toolDone.getJsonObject("error");
        assertEquals("engine_unavailable", error.getString("code"), toolDone.encode());
        assertTrue(error.getString("message").contains("LLM node was lost"), toolDone.encode());
        // toolWaitMs is 15 s: the membership view drops a killed node in 1-3 s here.
        assertTrue(closedMs <= 8_000, "the call was closed " + closedMs + " ms after the kill; its node's loss should close it");
        JsonObject completed = client.await(e -> "agent_completed".equals(e.getString("type"))
            && turnId.equals(e.getString("turnId")), TURN);
        assertTrue(completed.getBoolean("interrupted"), completed.encode());
      }
    } finally {
      toolHost.close().await(30, TimeUnit.SECONDS);
    }
  }

  // ---- helpers ------------------------------------------------------------------------------

  private static VoiceClient connect(String node, String query) throws Exception {
    String token = tokens.mint("cluster-it", null, Instant.now().plusSeconds(600)).token();
    return VoiceClient.connect(vertx, cluster.node(node).port(), (query.isEmpty() ? "" : query + "&") + "token=" + token);
  }

  private static int sttActive(String node) throws Exception {
    return cluster.healthJson(node).getJsonObject("roles").getJsonObject("stt").getInteger("active");
  }

  /** Waits until STT node {@code node} has an idle recognizer that has decoded speech. */
  private static void awaitWarmRecognizer(String node) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    Rest rest = new Rest(cluster.node(node).port());
    while (MetricsTest.value(rest.get("/metrics", null).text(), "voicemesh_stt_recognizers_warm") < 1) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(node + " warmed no recognizer within 90 s");
      }
      TimeUnit.MILLISECONDS.sleep(200); // polling interval, bounded by the deadline above
    }
  }

  /**
   * Waits until the session's stream on one of {@code sttNodes} has its hot standby on another;
   * returns the node serving the stream and the standby's.
   */
  private static List<String> awaitStandby(List<String> sttNodes) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (true) {
      String serving = null;
      String standbyNode = null;
      int streams = 0;
      for (String node : sttNodes) {
        double standby = MetricsTest.value(new Rest(cluster.node(node).port()).get("/metrics", null).text(),
            "voicemesh_stt_standby_streams");
        int active = sttActive(node); // streams, not standbys
        streams += active + (int) standby;
        serving = standby == 0 && active == 1 ? node : serving;
        standbyNode = standby == 1 && active == 0 ? node : standbyNode;
      }
      if (serving != null && standbyNode != null && streams == 2) {
        return List.of(serving, standbyNode);
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no stream with a standby on " + sttNodes);
      }
      TimeUnit.MILLISECONDS.sleep(50); // polling interval, bounded by the deadline above
    }
  }

  /** Waits until the live STT nodes' sessions add up as expected; returns a node serving one, if any. */
  private static String awaitSttLoad(Predicate<Integer> total) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (true) {
      int sum = 0;
      String serving = null;
      for (String node : List.of("stt-1", "stt-2")) {
        if (cluster.node(node).process().isAlive()) {
          int active = sttActive(node);
          sum += active;
          serving = active > 0 ? node : serving;
        }
      }
      if (total.test(sum)) {
        return serving;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("STT sessions in the cluster: " + sum);
      }
      TimeUnit.MILLISECONDS.sleep(50); // polling interval, bounded by the deadline above
    }
  }

  /** The node of {@code role} with a request running now. */
  private static String awaitLoad(List<String> nodes, String role) throws Exception {
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
