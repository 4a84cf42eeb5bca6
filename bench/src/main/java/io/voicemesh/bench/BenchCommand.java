package io.voicemesh.bench;

import io.vertx.core.Vertx;
import io.voicemesh.launcher.Mesh;
import io.voicemesh.launcher.MeshConfig;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.time.Instant;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code java -jar bench/target/voicemesh-bench.jar}: measures VoiceMesh against its targets and
 * prints one table. Everything runs on loopback, bounded in time, and cleans up after itself.
 */
@Command(name = "voicemesh-bench", mixinStandardHelpOptions = true, version = "VoiceMesh bench 0.1.0",
    description = "Load generator and benchmark for VoiceMesh (not part of the test suite).",
    sortOptions = false, subcommands = {SoakCommand.class, TurnEndCommand.class})
public final class BenchCommand implements Callable<Integer> {
  private static final List<Integer> DEFAULT_RAMP = List.of(250, 500, 750, 1000, 1500, 2000);

  @Option(names = "--sections", split = ",", description = "which figures to measure, 1-8, 10 and 11 (default all); "
      + "3 and 4 come from the same turns, 2 and 5 share the pass-through mesh")
  Set<Integer> sections = new TreeSet<>(List.of(1, 2, 3, 4, 5, 6, 7, 8, 10, 11));

  @Option(names = "--sessions", description = "largest session count of the ramp (default ${DEFAULT-VALUE})")
  int sessions = 2000;

  @Option(names = "--ramp", split = ",", description = "session counts to try, in order (default 250,500,750,1000,1500,2000 up to --sessions)")
  List<Integer> ramp;

  @Option(names = "--seconds", description = "measured seconds per ramp step (default ${DEFAULT-VALUE})")
  int seconds = 15;

  @Option(names = "--warmup-seconds", description = "streaming before each step's measurement (default ${DEFAULT-VALUE})")
  int warmupSeconds = 3;

  @Option(names = "--p99-limit-ms", description = "a ramp step is sustainable below this p99 (default ${DEFAULT-VALUE})")
  double p99LimitMs = 20;

  @Option(names = "--frames", description = "measured event-bus frames (default ${DEFAULT-VALUE})")
  int frames = 20_000;

  @Option(names = "--warmup-frames", description = "event-bus frames sent before measuring (default ${DEFAULT-VALUE})")
  int warmupFrames = 5_000;

  @Option(names = "--streams", description = "event-bus streams (default ${DEFAULT-VALUE})")
  int streams = 50;

  @Option(names = "--fps", description = "frames per second per event-bus stream (default ${DEFAULT-VALUE})")
  int fps = 50;

  @Option(names = "--memory-sessions", description = "sessions for the memory figure (default min(500, --sessions))")
  Integer memorySessions;

  @Option(names = "--memory-active-seconds", description = "streaming before the active-memory reading (default ${DEFAULT-VALUE})")
  int memoryActiveSeconds = 5;

  @Option(names = "--turns", description = "measured voice-to-voice turns (default ${DEFAULT-VALUE})")
  int turns = 12;

  @Option(names = "--v2v-sessions", description = "sessions talking at once in figures 3 and 4 (default ${DEFAULT-VALUE})")
  int v2vSessions = 4;

  @Option(names = "--wav", paramLabel = "FILE", description = "speech for figures 3 and 4: a PCM16 mono 16 kHz WAV "
      + "(default: FreeTTS saying \"what time is it\" and \"calculate eight times nine\")")
  Path wav;

  @Option(names = "--silence-ms", description = "the turn-ending silence for figures 3 and 4 (default: the mesh's, 600)")
  Integer silenceOverrideMs;

  @Option(names = "--warmup-turns", description = "unmeasured turns first (default ${DEFAULT-VALUE})")
  int warmupTurns = 1;

  @Option(names = "--listeners", description = "listener connections of one session in figure 7 (default ${DEFAULT-VALUE})")
  int listeners = 500;

  @Option(names = "--bridge-clients", description = "event-bus bridge (/eventbus) connections in figure 7b (default ${DEFAULT-VALUE})")
  int bridgeClients = 200;

  @Option(names = "--worker-sessions", description = "sessions streaming at real time to the speech worker in figure 8 "
      + "(default ${DEFAULT-VALUE})")
  int workerSessions = 4;

  @Option(names = "--worker-seconds", description = "measured seconds per part of figure 8 (default ${DEFAULT-VALUE})")
  int workerSeconds = 10;

  @Option(names = "--kafka-sessions", description = "sessions writing events in figure 10 (default ${DEFAULT-VALUE})")
  int kafkaSessions = 100;

  @Option(names = "--kafka-events-per-second", description = "events each of them makes per second in figure 10 "
      + "(default ${DEFAULT-VALUE}: a talking session's partial transcripts)")
  int kafkaEventsPerSecond = 10;

  @Option(names = "--jar", description = "the all-in-one jar (default launcher/target/voicemesh.jar, searched upwards from here)")
  Path jar;

  @Option(names = "--cluster-xml", description = "Hazelcast config (default the nearest cluster.xml upwards from here; "
      + "else the same settings built in)")
  Path clusterXml;

  @Option(names = "--log", description = "where the mesh's log goes (default ${DEFAULT-VALUE})")
  Path log = Path.of(System.getProperty("java.io.tmpdir"), "voicemesh-bench.log");

  private final Report report = new Report();

  public static void main(String[] args) {
    System.exit(new CommandLine(new BenchCommand()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    long began = System.nanoTime();
    BenchLogs.install(log.toAbsolutePath());
    Path work = Files.createTempDirectory("voicemesh-bench-");
    // As Mesh does: no JFR metadata loading on an event loop. Vert.x's file cache in our temp dir.
    System.setProperty("io.netty.jfr.enabled", "false");
    System.setProperty("vertx.cacheDirBase", work.resolve("vertx-cache").toString());
    // Hazelcast logs its first lines before it reads cluster.xml's logging type: through slf4j too.
    System.setProperty("hazelcast.logging.type", "slf4j");
    printHeader();
    try {
      if (sections.contains(1)) {
        eventBusHop();
      }
      if (sections.contains(2) || sections.contains(5)) {
        sessionsAndMemory(work);
      }
      if (sections.contains(3) || sections.contains(4)) {
        voiceToVoice(work);
      }
      if (sections.contains(6)) {
        readyTime(work);
      }
      if (sections.contains(7)) {
        listenerFanOut(work);
      }
      if (sections.contains(8)) {
        workerRoundTrip(work);
      }
      if (sections.contains(10)) {
        kafkaRelay(work);
      }
      if (sections.contains(11)) {
        protocolAdapters(work);
      }
    } finally {
      deleteTree(work);
    }
    System.out.println();
    System.out.println("== Results");
    System.out.print(report.render());
    System.out.printf("%nTotal %.1f s. Mesh log: %s%n", (System.nanoTime() - began) / 1e9, log.toAbsolutePath());
    return report.anyFailed() ? 1 : 0;
  }

  private void printHeader() {
    Runtime rt = Runtime.getRuntime();
    System.out.println("VoiceMesh bench — " + ZonedDateTime.now().format(DateTimeFormatter.RFC_1123_DATE_TIME));
    System.out.printf("machine: %d cores, max heap %d MB, Java %s (%s %s), %s %s %s%n", rt.availableProcessors(),
        rt.maxMemory() / (1024 * 1024), System.getProperty("java.version"), System.getProperty("java.vm.vendor"),
        System.getProperty("java.vm.name"), System.getProperty("os.name"), System.getProperty("os.version"),
        System.getProperty("os.arch"));
    System.out.println("JVM args: " + ManagementFactory.getRuntimeMXBean().getInputArguments());
    System.out.println("client and servers share this JVM and its cores: every figure includes the load generator's own cost");
  }

  // ---- 1 -------------------------------------------------------------------------------------

  private void eventBusHop() {
    System.out.printf("%n== 1. Event-bus hop, 640-byte frame: %d streams x %d frames/s, %d warm-up + %d measured frames%n",
        streams, fps, warmupFrames, frames);
    String section = "1. event-bus hop";
    try {
      EventBusHop hop = new EventBusHop(frames, warmupFrames, streams, fps);
      Path xml = clusterXml != null ? clusterXml : EventBusHop.findClusterXml();
      System.out.println("  Hazelcast config: " + (xml == null ? "built-in copy of cluster.xml" : xml)
          + " (cluster name voicemesh-bench-" + ProcessHandle.current().pid() + ")");
      long t = System.nanoTime();
      LatencyRecorder.Percentiles clustered = hop.clustered(xml, "voicemesh-bench-" + ProcessHandle.current().pid());
      System.out.printf("  clustered (2 Hazelcast nodes, this JVM): %s  [%.1f s incl. join]%n", clustered,
          (System.nanoTime() - t) / 1e9);
      LatencyRecorder.Percentiles local = hop.local();
      System.out.println("  local (one Vert.x):                      " + local);
      report.row("1. event-bus hop gateway->STT node, p50", Report.ms(clustered.p50Ms()),
          Report.ms(local.p50Ms()) + " local", "<= 1 ms", clustered.p50Ms() <= 1);
      report.row("1. event-bus hop gateway->STT node, p99", Report.ms(clustered.p99Ms()),
          Report.ms(local.p99Ms()) + " local", "<= 5 ms", clustered.p99Ms() <= 5);
    } catch (Exception e) {
      e.printStackTrace(System.out);
      report.failed(section, e);
    }
  }

  // ---- 10 ------------------------------------------------------------------------------------

  private void kafkaRelay(Path work) {
    System.out.printf("%n== 10. Kafka relay: %d sessions x %d events/s stored through the session role, in-process KRaft "
        + "broker, %d s warm-up + %d s measured%n", kafkaSessions, kafkaEventsPerSecond, warmupSeconds, seconds);
    try {
      KafkaRelayBench.Result result = KafkaRelayBench.run(Files.createDirectories(work.resolve("kafka-relay")),
          kafkaSessions, kafkaEventsPerSecond, TimeUnit.SECONDS.toMillis(warmupSeconds), TimeUnit.SECONDS.toMillis(seconds));
      System.out.println("  " + result);
      report.row("10. Kafka relay, " + kafkaSessions + " sessions: events/s relayed",
          String.format("%.0f", result.relayedPerSecond()), String.format("%.0f offered", result.offeredPerSecond()),
          "= offered", result.relayedPerSecond() >= result.offeredPerSecond() * 0.99);
      report.row("10.   made -> stored -> on the topic (consumed), p50/p99", Report.ms(result.lag().p50Ms()) + " / "
          + Report.ms(result.lag().p99Ms()), "max " + Report.ms(result.lag().maxMs()), "p99 <= 1 s",
          result.lag().p99Ms() <= 1_000);
    } catch (Exception e) {
      e.printStackTrace(System.out);
      report.failed("10. Kafka relay", e);
    }
  }

  // ---- 7 -------------------------------------------------------------------------------------

  private void listenerFanOut(Path work) {
    int rate = 50;
    System.out.printf("%n== 7. Listener fan-out: %d listeners of one session, %d events/s, %d s warm-up + %d s measured%n",
        listeners, rate, warmupSeconds, seconds);
    String section = "7. listener fan-out";
    Vertx clientVertx = Vertx.vertx();
    try (Mesh mesh = GatewayLoad.startPassThroughMesh(Files.createDirectories(work.resolve("fanout")))) {
      ListenerFanOut fanOut = new ListenerFanOut(clientVertx, listeners, rate, TimeUnit.SECONDS.toMillis(warmupSeconds),
          TimeUnit.SECONDS.toMillis(seconds));
      String token = mesh.tokens().mint("bench", null, java.time.Instant.now().plusSeconds(3600)).token();
      String sessionId = GatewayLoad.createSession(clientVertx, mesh.httpPort(), token);
      ListenerFanOut.Result voiceMesh = fanOut.mesh(mesh.vertx(), mesh.httpPort(), sessionId, token);
      System.out.println("  VoiceMesh listeners:            " + voiceMesh);
      ListenerFanOut.Result baseline = fanOut.baseline();
      System.out.println("  baseline (raw WebSocket fan-out): " + baseline);
      report.row("7. " + listeners + " listeners: event latency p50/p99", Report.ms(voiceMesh.latency().p50Ms()) + " / "
              + Report.ms(voiceMesh.latency().p99Ms()),
          Report.ms(baseline.latency().p50Ms()) + " / " + Report.ms(baseline.latency().p99Ms()) + " raw",
          "p99 <= 50 ms", voiceMesh.latency().p99Ms() <= 50);
      report.row("7.   events delivered to every listener", String.format("%.2f%%", voiceMesh.delivered() * 100),
          String.format("%.2f%% raw", baseline.delivered() * 100), "100%", voiceMesh.delivered() >= 1.0);
      // The event-bus bridge: dashboards on /eventbus, beside the raw fan-out to as many connections.
      ListenerFanOut bridgeFanOut = new ListenerFanOut(clientVertx, bridgeClients, rate,
          TimeUnit.SECONDS.toMillis(warmupSeconds), TimeUnit.SECONDS.toMillis(seconds));
      String admin = mesh.tokens().mint("bench-admin", null, java.time.Instant.now().plusSeconds(3600),
          List.of("admin")).token();
      ListenerFanOut.Result bridge = bridgeFanOut.bridge(mesh.vertx(), mesh.httpPort(), sessionId, admin);
      System.out.println("  bridge clients (/eventbus):     " + bridge);
      ListenerFanOut.Result bridgeBaseline = bridgeFanOut.baseline();
      System.out.println("  baseline (raw WebSocket fan-out): " + bridgeBaseline);
      report.row("7b. " + bridgeClients + " bridge clients, session events + dashboard.sessions: p50/p99",
          Report.ms(bridge.latency().p50Ms()) + " / " + Report.ms(bridge.latency().p99Ms()),
          Report.ms(bridgeBaseline.latency().p50Ms()) + " / " + Report.ms(bridgeBaseline.latency().p99Ms()) + " raw",
          "p99 <= 50 ms", bridge.latency().p99Ms() <= 50);
      report.row("7b.  messages delivered to every bridge client", String.format("%.2f%%", bridge.delivered() * 100),
          String.format("%.2f%% raw", bridgeBaseline.delivered() * 100), "100%", bridge.delivered() >= 1.0);
    } catch (Exception e) {
      e.printStackTrace(System.out);
      report.failed(section, e);
    } finally {
      EventBusHop.close(clientVertx);
    }
  }

  // ---- 2 and 5 -------------------------------------------------------------------------------

  private List<Integer> rampSizes() {
    if (ramp != null && !ramp.isEmpty()) {
      return ramp;
    }
    List<Integer> sizes = new ArrayList<>(DEFAULT_RAMP.stream().filter(n -> n <= sessions).toList());
    if (sizes.isEmpty() || sizes.get(sizes.size() - 1) != sessions) {
      sizes.add(sessions);
    }
    return sizes;
  }

  private void sessionsAndMemory(Path work) {
    int memoryN = memorySessions != null ? memorySessions : Math.min(500, sessions);
    List<Integer> sizes = rampSizes();
    System.out.printf("%n== 2. Real-time sessions on one gateway, pass-through STT (ramp %s, %d s warm-up + %d s measured"
        + " each, sustainable: all connected, p99 < %.0f ms, >= %.0f%% of frames delivered)%n", sizes, warmupSeconds,
        seconds, p99LimitMs, Ramp.MIN_DELIVERED * 100);
    List<Ramp.Step> mesh = null;
    List<Ramp.Step> echo = null;
    MemoryPerSession.Result meshMemory = null;
    MemoryPerSession.Result echoMemory = null;
    String section = "2./5. pass-through mesh";
    try (Mesh passThrough = GatewayLoad.startPassThroughMesh(Files.createDirectories(work.resolve("passthrough")));
         LoadClient client = new LoadClient(16)) {
      System.out.println("  VoiceMesh (all-in-one, stt.engine=passthrough) on 127.0.0.1:" + passThrough.httpPort());
      if (sections.contains(5)) {
        meshMemory = MemoryPerSession.measure(client, passThrough.httpPort(), GatewayLoad.voiceUri(passThrough),
            LoadClient.Protocol.VOICEMESH, memoryN, TimeUnit.SECONDS.toMillis(memoryActiveSeconds));
        System.out.println("  5. memory, VoiceMesh: " + meshMemory);
      }
      if (sections.contains(2)) {
        mesh = new Ramp(client, passThrough.httpPort(), GatewayLoad.voiceUri(passThrough), LoadClient.Protocol.VOICEMESH,
            PassThroughSttEngineProvider.LATENCY, TimeUnit.SECONDS.toMillis(warmupSeconds),
            TimeUnit.SECONDS.toMillis(seconds), p99LimitMs).run("VoiceMesh", sizes);
      }
    } catch (Exception e) {
      e.printStackTrace(System.out);
      report.failed(section + " (VoiceMesh)", e);
    }
    section = "2./5. echo baseline";
    try (EchoBaseline server = EchoBaseline.start(); LoadClient client = new LoadClient(16)) {
      System.out.println("  baseline: raw Vert.x WebSocket echo server on 127.0.0.1:" + server.port()
          + " (latency: client send -> echo received)");
      if (sections.contains(5)) {
        echoMemory = MemoryPerSession.measure(client, server.port(), "/", LoadClient.Protocol.ECHO, memoryN,
            TimeUnit.SECONDS.toMillis(memoryActiveSeconds));
        System.out.println("  5. memory, echo:      " + echoMemory);
      }
      if (sections.contains(2)) {
        echo = new Ramp(client, server.port(), "/", LoadClient.Protocol.ECHO, client.echoLatency,
            TimeUnit.SECONDS.toMillis(warmupSeconds), TimeUnit.SECONDS.toMillis(seconds), p99LimitMs)
            .run("echo     ", sizes);
      }
    } catch (Exception e) {
      e.printStackTrace(System.out);
      report.failed(section, e);
    }
    if (sections.contains(2) && mesh != null) {
      sessionRows(mesh, echo, sizes);
    }
    if (sections.contains(5) && meshMemory != null) {
      report.row("5. heap per idle session (" + meshMemory.sessions() + ", incl. client)",
          kb(meshMemory.perIdleSession()), echoMemory == null ? "-" : kb(echoMemory.perIdleSession()) + " echo",
          "<= 64 KB", meshMemory.perIdleSession() <= 64 * 1024);
      report.row("5. heap per active session (" + meshMemory.sessions() + ", incl. client)",
          kb(meshMemory.perActiveSession()), echoMemory == null ? "-" : kb(echoMemory.perActiveSession()) + " echo",
          "<= 1 MB", meshMemory.perActiveSession() <= 1024 * 1024);
    }
  }

  private void sessionRows(List<Ramp.Step> mesh, List<Ramp.Step> echo, List<Integer> sizes) {
    Ramp.Step best = Ramp.best(mesh);
    Ramp.Step echoBest = echo == null ? null : Ramp.best(echo);
    int top = sizes.stream().max(Integer::compare).orElse(0);
    String meshN = best == null ? "none" : best.connected() + (best.connected() == top ? " (ramp top)" : "");
    String echoN = echo == null ? "-" : echoBest == null ? "none"
        : echoBest.connected() + (echoBest.connected() == top ? " (ramp top)" : "") + " echo";
    boolean met = best != null && best.connected() >= 1000
        && (echoBest == null || best.connected() >= 0.5 * echoBest.connected());
    report.row("2. sessions sustained at p99 < " + (int) p99LimitMs + " ms", meshN, echoN,
        ">= 1000 and >= 0.5 x baseline", met);
    if (best != null || echoBest != null) {
      report.row("2.   frames/s at that N", best == null ? "-" : String.format("%.0f", best.framesPerSecond()),
          echoBest == null ? "-" : String.format("%.0f echo", echoBest.framesPerSecond()), ">= 0.5 x baseline",
          best == null ? Boolean.FALSE : echoBest == null ? null : best.framesPerSecond() >= 0.5 * echoBest.framesPerSecond());
      report.row("2.   frame latency p50/p95/p99 at that N", latency(best), latency(echoBest), "p99 < " + (int) p99LimitMs + " ms",
          best == null ? Boolean.FALSE : best.latency().p99Ms() < p99LimitMs);
      report.row("2.   process CPU (% of all cores) / heap at that N", cpuHeap(best), cpuHeap(echoBest), "", null);
    }
    Ramp.Step last = mesh.get(mesh.size() - 1);
    if (!last.sustainable()) {
      report.row("2.   first unsustainable step", "N=" + last.requested() + ": " + whyNot(last),
          echo == null || echo.get(echo.size() - 1).sustainable() ? "-"
              : "N=" + echo.get(echo.size() - 1).requested() + ": " + whyNot(echo.get(echo.size() - 1)), "", null);
    }
  }

  private String whyNot(Ramp.Step s) {
    List<String> why = new ArrayList<>();
    if (s.failed() > 0) {
      why.add(s.failed() + " connects failed");
    }
    if (!s.latency().empty() && s.latency().p99Ms() >= p99LimitMs) {
      why.add("p99 " + Report.ms(s.latency().p99Ms()));
    }
    if (s.delivered() < Ramp.MIN_DELIVERED) {
      why.add(String.format("%.1f%% delivered", 100 * s.delivered()));
    }
    return String.join(", ", why);
  }

  private static String latency(Ramp.Step s) {
    return s == null ? "-" : String.format("%.1f/%.1f/%.1f ms", s.latency().p50Ms(), s.latency().p95Ms(), s.latency().p99Ms());
  }

  private static String cpuHeap(Ramp.Step s) {
    return s == null ? "-" : String.format("%.0f%% / %d MB", s.cpuPercent(), s.heapUsedMb());
  }

  private static String kb(long bytes) {
    return String.format("%.1f KB", bytes / 1024.0);
  }

  // ---- 3 and 4 -------------------------------------------------------------------------------

  private void voiceToVoice(Path work) {
    List<String> phrases = List.of("what time is it", "calculate eight times nine");
    System.out.printf("%n== 3./4. Voice to voice: Vosk + builtin agent + FreeTTS, %d warm-up + %d measured turns, "
        + "one session each, %d talking at once, speech streamed at real time%n", warmupTurns, turns, v2vSessions);
    Vertx clientVertx = Vertx.vertx();
    try {
      Map<String, Object> settings = new HashMap<>(GatewayLoad.meshSettings(
          Files.createDirectories(work.resolve("v2v")), "bench-v2v"));
      if (silenceOverrideMs != null) {
        settings.put("voicemesh.gateway.silenceMs", silenceOverrideMs);
      }
      MeshConfig config = MeshConfig.load(null, settings);
      long silenceMs = config.section("gateway").getLong("silenceMs");
      long t = System.nanoTime();
      try (Mesh mesh = Mesh.start(config).await(5, TimeUnit.MINUTES)) {
        System.out.printf("  mesh with default engines ready in %.1f s (fresh data dir: model extracted, database created)%n",
            (System.nanoTime() - t) / 1e9);
        VoiceToVoice speaker = wav == null ? new VoiceToVoice(clientVertx, mesh.httpPort(), GatewayLoad.voiceUri(mesh), silenceMs, phrases)
            : new VoiceToVoice(clientVertx, mesh.httpPort(), GatewayLoad.voiceUri(mesh), silenceMs, wav);
        List<VoiceToVoice.Turn> measured = speaker.run(warmupTurns, turns, v2vSessions);
        voiceRows(measured, silenceMs);
      }
    } catch (Exception e) {
      e.printStackTrace(System.out);
      report.failed("3./4. voice to voice", e);
    } finally {
      EventBusHop.close(clientVertx);
    }
  }

  private void voiceRows(List<VoiceToVoice.Turn> turns, long silenceMs) {
    List<VoiceToVoice.Turn> ok = turns.stream().filter(VoiceToVoice.Turn::ok).toList();
    String n = ok.size() + "/" + turns.size() + " turns";
    if (ok.isEmpty()) {
      report.row("3. voice-to-voice", "no successful turn (" + n + ")", "-", "p50 <= 500 ms", false);
      return;
    }
    LatencyRecorder.Percentiles v2v = LatencyRecorder.Percentiles.of(ok.stream().mapToLong(VoiceToVoice.Turn::voiceToVoice).toArray());
    LatencyRecorder.Percentiles endpointing = LatencyRecorder.Percentiles.of(ok.stream().mapToLong(VoiceToVoice.Turn::endpointing).toArray());
    LatencyRecorder.Percentiles after = LatencyRecorder.Percentiles.of(ok.stream().mapToLong(VoiceToVoice.Turn::afterEndpointing).toArray());
    LatencyRecorder.Percentiles lag = LatencyRecorder.Percentiles.of(ok.stream().mapToLong(VoiceToVoice.Turn::finalAfterWindow).toArray());
    report.row("3. voice-to-voice p50/p95/p99 (max), " + n, Report.ms(v2v.p50Ms()) + " / " + Report.ms(v2v.p95Ms()) + " / "
        + Report.ms(v2v.p99Ms()) + " (" + Report.ms(v2v.maxMs()) + ")", "-", "p50 <= 500 ms", v2v.p50Ms() <= 500);
    report.row("3.   of which silence endpointing p50 (max)", Report.ms(endpointing.p50Ms()) + " (" + Report.ms(endpointing.maxMs()) + ")",
        "silenceMs = " + silenceMs + " ms", "", null);
    report.row("3.   after endpointing p50 (max): final -> 1st audio", Report.ms(after.p50Ms()) + " (" + Report.ms(after.maxMs()) + ")",
        "-", "", null);
    report.row("4. STT final after end of silence window p50/p99", Report.ms(lag.p50Ms()) + " / " + Report.ms(lag.p99Ms()),
        "-", "p99 <= 350 ms", lag.p99Ms() <= 350);
    // Each stage as the gateway timed it (agent_completed.timings), p50/p95/p99.
    for (String[] stage : new String[][] {{"endpointingMs", "silence endpointing"}, {"sttFinalMs", "STT final (at gateway)"},
        {"llmFirstTokenMs", "LLM first token"}, {"ttsFirstAudioMs", "TTS first audio"}, {"voiceToVoiceMs", "voice-to-voice (gateway)"}}) {
      long[] nanos = ok.stream().map(VoiceToVoice.Turn::serverTimings).filter(t -> t != null && t.containsKey(stage[0]))
          .mapToLong(t -> TimeUnit.MILLISECONDS.toNanos(t.getLong(stage[0]))).toArray();
      if (nanos.length > 0) {
        LatencyRecorder.Percentiles p = LatencyRecorder.Percentiles.of(nanos);
        report.row("3.   stage " + stage[1] + " p50/p95/p99", Report.ms(p.p50Ms()) + " / " + Report.ms(p.p95Ms()) + " / "
            + Report.ms(p.p99Ms()), "-", "", null);
      }
    }
    if (v2v.p50Ms() > 500 && silenceMs >= 500) {
      System.out.printf("  note: the configured end-of-turn silence alone (%d ms) exceeds the 500 ms voice-to-voice target;"
          + " after endpointing the answer took %s (p50).%n", silenceMs, Report.ms(after.p50Ms()));
    }
  }

  // ---- 11 ------------------------------------------------------------------------------------

  /**
   * The same spoken turns through {@code /v1/voice} and through the adapters on one mesh, in
   * alternating rounds so all see the same machine. The Realtime adapter's cost is the difference
   * after endpointing (the end of the user's turn seen by the client → its first agent audio),
   * where its work (JSON, base64, resampling to 24 kHz) lies. Twilio shows no end of turn, so its
   * cost is the difference of voice to voice against {@code /v1/voice} carrying the same phone
   * audio (8 kHz through μ-law), which leaves recognition alike on both.
   */
  private void protocolAdapters(Path work) {
    List<String> phrases = List.of("what time is it", "calculate eight times nine");
    System.out.printf("%n== 11. Protocol adapters: %d measured turns each through /v1/voice, /v1/realtime, /v1/voice "
        + "with phone audio and /v1/twilio, alternating rounds, %d talking at once%n", turns, v2vSessions);
    Vertx clientVertx = Vertx.vertx();
    try {
      MeshConfig config = MeshConfig.load(null, GatewayLoad.meshSettings(
          Files.createDirectories(work.resolve("adapters")), "bench-adapters"));
      long silenceMs = config.section("gateway").getLong("silenceMs");
      try (Mesh mesh = Mesh.start(config).await(5, TimeUnit.MINUTES)) {
        Map<String, byte[]> speech = VoiceToVoice.say(phrases);
        String token = mesh.tokens().mint("bench", null, Instant.now().plus(Duration.ofDays(1))).token();
        VoiceToVoice voice = new VoiceToVoice(clientVertx, mesh.httpPort(), "/v1/voice?token=" + token, silenceMs, speech);
        VoiceToVoice realtime = new VoiceToVoice(clientVertx, mesh.httpPort(), RealtimeWire.uri(token), silenceMs, speech)
            .over(RealtimeWire::new, RealtimeWire.uri(token));
        VoiceToVoice phone = new VoiceToVoice(clientVertx, mesh.httpPort(), PhoneAudioWire.uri(token), silenceMs, speech)
            .over(PhoneAudioWire::new, PhoneAudioWire.uri(token));
        VoiceToVoice twilio = new VoiceToVoice(clientVertx, mesh.httpPort(), TwilioWire.PATH, silenceMs, speech)
            .over(() -> new TwilioWire(token), TwilioWire.PATH);
        List<VoiceToVoice.Turn> viaVoice = new ArrayList<>();
        List<VoiceToVoice.Turn> viaRealtime = new ArrayList<>();
        List<VoiceToVoice.Turn> viaPhone = new ArrayList<>();
        List<VoiceToVoice.Turn> viaTwilio = new ArrayList<>();
        int rounds = 4;
        for (int round = 0; round < rounds; round++) {
          int each = Math.max(1, turns / rounds);
          int warmup = round == 0 ? warmupTurns : 0;
          viaVoice.addAll(voice.run(warmup, each, v2vSessions));
          viaRealtime.addAll(realtime.run(warmup, each, v2vSessions));
          viaPhone.addAll(phone.run(warmup, each, v2vSessions));
          viaTwilio.addAll(twilio.run(warmup, each, v2vSessions));
        }
        adapterRow("/v1/voice", viaVoice);
        adapterRow("/v1/realtime", viaRealtime);
        adapterRow("/v1/voice, phone audio", viaPhone);
        adapterRow("/v1/twilio", viaTwilio);
        Double realtimeAdds = medianDifference(viaRealtime, viaVoice, VoiceToVoice.Turn::afterEndpointing);
        if (realtimeAdds != null) {
          report.row("11. the Realtime adapter adds, after endpointing (per-phrase p50)", Report.ms(realtimeAdds),
              "/v1/voice", "< 5 ms", realtimeAdds < 5);
        }
        Double twilioAdds = medianDifference(viaTwilio, viaPhone, VoiceToVoice.Turn::voiceToVoice);
        if (twilioAdds != null) {
          report.row("11. the Twilio adapter adds, voice to voice (per-phrase p50)", Report.ms(twilioAdds),
              "/v1/voice, phone audio", "< 5 ms", twilioAdds < 5);
        }
      }
    } catch (Exception e) {
      e.printStackTrace(System.out);
      report.failed("11. protocol adapters", e);
    } finally {
      EventBusHop.close(clientVertx);
    }
  }

  /**
   * What {@code measured} adds to {@code baseline}, in ms: per phrase, the difference of their p50s,
   * averaged over the phrases. Per phrase, because each phrase's turns cluster around a time of
   * their own (≈ 350 and ≈ 450 ms): a p50 over both phrases falls between the clusters and moves by
   * 100 ms with one turn. Null when a phrase has no successful turn in one of them.
   */
  private static Double medianDifference(List<VoiceToVoice.Turn> measured, List<VoiceToVoice.Turn> baseline,
      java.util.function.ToLongFunction<VoiceToVoice.Turn> figure) {
    List<String> phrases = baseline.stream().map(VoiceToVoice.Turn::phrase).distinct().toList();
    double sum = 0;
    for (String phrase : phrases) {
      long[] a = measured.stream().filter(t -> t.ok() && t.phrase().equals(phrase)).mapToLong(figure).toArray();
      long[] b = baseline.stream().filter(t -> t.ok() && t.phrase().equals(phrase)).mapToLong(figure).toArray();
      if (a.length == 0 || b.length == 0) {
        return null;
      }
      sum += LatencyRecorder.Percentiles.of(a).p50Ms() - LatencyRecorder.Percentiles.of(b).p50Ms();
    }
    return phrases.isEmpty() ? null : sum / phrases.size();
  }

  /** One protocol's rows. */
  private void adapterRow(String path, List<VoiceToVoice.Turn> turns) {
    List<VoiceToVoice.Turn> ok = turns.stream().filter(VoiceToVoice.Turn::ok).toList();
    String n = ok.size() + "/" + turns.size() + " turns";
    if (ok.isEmpty()) {
      report.row("11. " + path + " voice-to-voice", "no successful turn (" + n + ")", "-", "", false);
      return;
    }
    LatencyRecorder.Percentiles v2v = LatencyRecorder.Percentiles.of(ok.stream().mapToLong(VoiceToVoice.Turn::voiceToVoice).toArray());
    LatencyRecorder.Percentiles after = LatencyRecorder.Percentiles.of(ok.stream().mapToLong(VoiceToVoice.Turn::afterEndpointing).toArray());
    report.row("11. " + path + " voice-to-voice p50/p95, " + n, Report.ms(v2v.p50Ms()) + " / " + Report.ms(v2v.p95Ms()),
        "-", "", null);
    if (ok.stream().anyMatch(t -> t.endpointing() != 0)) { // Twilio, and its baseline, show no end of turn
      report.row("11. " + path + " after endpointing p50/p95", Report.ms(after.p50Ms()) + " / " + Report.ms(after.p95Ms()),
          "-", "", null);
    }
  }

  // ---- 6 -------------------------------------------------------------------------------------

  private void readyTime(Path work) {
    Path allInOne = jar != null ? jar : findUpwards(Path.of("launcher", "target", "voicemesh.jar"));
    System.out.printf("%n== 6. All-in-one ready time: %s as a child JVM, twice on one fresh --data-dir%n", allInOne);
    try {
      List<ReadyTime.Start> starts = ReadyTime.measure(allInOne, Files.createDirectories(work.resolve("ready")));
      ReadyTime.Start first = starts.get(0);
      ReadyTime.Start second = starts.get(1);
      report.row("6. all-in-one ready, first start (fresh data dir)", start(first), "-", "", first.failure() == null ? null : false);
      report.row("6. all-in-one ready, second start", start(second), "-", "<= 5 s",
          second.failure() == null && second.readyMs() <= 5_000);
    } catch (Exception e) {
      e.printStackTrace(System.out);
      report.failed("6. ready time", e);
    }
  }

  // ---- 8 -------------------------------------------------------------------------------------

  private void workerRoundTrip(Path work) {
    Path allInOne = jar != null ? jar : findUpwards(Path.of("launcher", "target", "voicemesh.jar"));
    System.out.printf("%n== 8. Speech worker over gRPC: %s worker as a child JVM, %d sessions at real time, %d s per part%n",
        allInOne, workerSessions, workerSeconds);
    try {
      WorkerRoundTrip.Result r = new WorkerRoundTrip().measure(allInOne, Files.createDirectories(work.resolve("worker")),
          workerSessions, workerSeconds);
      System.out.println("  paced round trip (chunk in -> processed event out): " + r.paced());
      System.out.println("  embedded, same chunks in this JVM (recognizer only): " + r.embedded());
      report.row("8. worker round trip p50 / p99, " + workerSessions + " sessions",
          Report.ms(r.paced().p50Ms()) + " / " + Report.ms(r.paced().p99Ms()),
          Report.ms(r.embedded().p50Ms()) + " / " + Report.ms(r.embedded().p99Ms()), "p50 < 50 ms",
          r.paced().count() > 0 && r.paced().p50Ms() < 50);
      report.row("8.   messages/s at real time, " + workerSessions + " sessions", String.format("%.0f", r.pacedPerSecond()),
          "-", "", null);
      report.row("8.   messages/s flooding (4 sessions, 16 in flight)", String.format("%.0f", r.floodPerSecond()),
          String.format("%.0f", r.embeddedPerSecond()), "> 100 msg/s", r.floodPerSecond() > 100);
    } catch (Exception e) {
      e.printStackTrace(System.out);
      report.failed("8. speech worker", e);
    }
  }

  private static String start(ReadyTime.Start s) {
    return s.failure() == null ? String.format("%.2f s", s.readyMs() / 1000.0) : "FAILED: " + s.failure();
  }

  static Path findUpwards(Path relative) {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.exists(dir.resolve(relative))) {
        return dir.resolve(relative);
      }
    }
    return relative;
  }

  static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> files = Files.walk(root)) {
      for (Path p : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    } catch (Exception e) {
      System.err.println("could not delete " + root + ": " + e);
    }
  }
}
