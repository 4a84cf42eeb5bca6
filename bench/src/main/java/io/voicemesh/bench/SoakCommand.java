package io.voicemesh.bench;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.voicemesh.api.audio.Pcm16;
import io.voicemesh.api.engine.Engines;
import io.voicemesh.api.engine.TtsEngine;
import io.voicemesh.api.engine.TtsEngineProvider;
import io.voicemesh.gateway.JwtTokens;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code java -jar bench/target/voicemesh-bench.jar soak}: the all-in-one jar as a child JVM,
 * sampled every {@code --sample-seconds} (after a forced GC) while idle (the baseline), under
 * {@code --sessions} real-time speech sessions with churn, and after every session left; prints
 * the samples, the slopes of heap and RSS over the steady part of the load beside the idle
 * slopes, and what should return to its baseline (event-bus handlers, timers, connections).
 */
@Command(name = "soak", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Soak: many real-time speech sessions with churn against the all-in-one jar as a child JVM; "
        + "heap, RSS, handlers, threads and timers sampled, slopes reported beside an idle baseline.")
final class SoakCommand implements Callable<Integer> {
  private static final List<String> PHRASES = List.of("what time is it", "calculate eight times nine",
      "what is twelve times seven", "hello there");

  @Option(names = "--sessions", description = "sessions held open at once (default ${DEFAULT-VALUE})")
  int sessions = 200;

  @Option(names = "--minutes", description = "minutes of load (default ${DEFAULT-VALUE})")
  double minutes = 10;

  @Option(names = "--baseline-minutes", description = "minutes the idle mesh is sampled before the load (default ${DEFAULT-VALUE})")
  double baselineMinutes = 2;

  @Option(names = "--steady-after-minutes", description = "the slopes use the load's samples from this minute on "
      + "(default: a third of --minutes)")
  Double steadyAfterMinutes;

  @Option(names = "--sample-seconds", description = "seconds between samples (default ${DEFAULT-VALUE})")
  int sampleSeconds = 10;

  @Option(names = "--life-seconds", split = "-", paramLabel = "MIN-MAX", hideParamSyntax = true, defaultValue = "20-90",
      description = "how long a session stays before it leaves, uniformly random (default ${DEFAULT-VALUE})")
  List<Long> lifeSeconds;

  @Option(names = "--gap-ms", split = "-", paramLabel = "MIN-MAX", hideParamSyntax = true, defaultValue = "1000-4000",
      description = "silence after the agent's turn before the next phrase (default ${DEFAULT-VALUE})")
  List<Long> gapMs;

  @Option(names = "--resume-percent", description = "of the sessions that left, how many are resumed (default ${DEFAULT-VALUE})")
  int resumePercent = 30;

  @Option(names = "--end-percent", description = "of the sessions that leave, how many end with DELETE instead of "
      + "closing the WebSocket (default ${DEFAULT-VALUE})")
  int endPercent = 30;

  @Option(names = "--ramp-seconds", description = "the first connects are spread over this many seconds (default ${DEFAULT-VALUE})")
  int rampSeconds = 20;

  @Option(names = "--leave-seconds", description = "at most this long for everyone to leave and the mesh to let go "
      + "(default ${DEFAULT-VALUE})")
  int leaveSeconds = 60;

  @Option(names = "--after-seconds", description = "sampling after everyone left (default ${DEFAULT-VALUE})")
  int afterSeconds = 30;

  @Option(names = "--heap-slope-limit", description = "MB/min of heap after GC over the steady part that counts as "
      + "an upward trend (default ${DEFAULT-VALUE})")
  double heapSlopeLimit = 1.0;

  @Option(names = "--rss-slope-limit", description = "MB/min of RSS over the steady part that counts as an upward "
      + "trend (default ${DEFAULT-VALUE})")
  double rssSlopeLimit = 2.0;

  @Option(names = "--no-force-gc", negatable = false, description = "sample the heap as it is, without asking the mesh "
      + "for a full GC first (the three class histograms still run one)")
  boolean noForceGc;

  @Option(names = "--stt-capacity", description = "stt.capacity of the mesh (default: the mesh's own, 50)")
  Integer sttCapacity;

  @Option(names = "--mesh-java-option", paramLabel = "OPTION", description = "a JVM option for the mesh, e.g. -Xmx1g (repeatable)")
  List<String> meshJavaOptions = new ArrayList<>();

  @Option(names = "--jar", description = "the all-in-one jar (default launcher/target/voicemesh.jar, searched upwards from here)")
  Path jar;

  @Option(names = "--mesh-log", description = "the mesh's log (default ${DEFAULT-VALUE})")
  Path meshLog = Path.of(System.getProperty("java.io.tmpdir"), "voicemesh-soak-mesh.log");

  @Option(names = "--log", description = "the bench client's log (default ${DEFAULT-VALUE})")
  Path log = Path.of(System.getProperty("java.io.tmpdir"), "voicemesh-soak-client.log");

  private final Report report = new Report();
  private final List<MeshProbe.Sample> samples = new ArrayList<>();
  private final SoakStats stats = new SoakStats();

  @Override
  public Integer call() throws Exception {
    validate();
    long began = System.nanoTime();
    BenchLogs.install(log.toAbsolutePath());
    Path work = Files.createTempDirectory("voicemesh-soak-");
    System.setProperty("io.netty.jfr.enabled", "false");
    System.setProperty("vertx.cacheDirBase", work.resolve("vertx-cache").toString());
    Path allInOne = jar != null ? jar : BenchCommand.findUpwards(Path.of("launcher", "target", "voicemesh.jar"));
    double steadyAfter = steadyAfterMinutes != null ? steadyAfterMinutes : minutes / 3;
    System.out.println("VoiceMesh soak — " + ZonedDateTime.now().format(DateTimeFormatter.RFC_1123_DATE_TIME));
    System.out.printf("%d sessions x %.1f min of real-time speech with churn (life %d-%d s, %d%% of leavers end with DELETE,"
            + " %d%% resumed), idle baseline %.1f min, a sample every %d s %s; slopes from minute %.1f of the"
            + " load; at most %.1f min in all%n", sessions, minutes, lifeSeconds.get(0), lifeSeconds.get(1), endPercent,
        resumePercent, baselineMinutes, sampleSeconds, noForceGc ? "(heap as it is, no forced GC)" : "after a forced GC",
        steadyAfter,
        3 + baselineMinutes + minutes + (leaveSeconds + afterSeconds + 60) / 60.0);
    System.out.printf("machine: %d cores; mesh: %s as a child JVM %s; mesh log %s%n",
        Runtime.getRuntime().availableProcessors(), allInOne, meshJavaOptions, meshLog.toAbsolutePath());
    try {
      soak(allInOne, work, steadyAfter);
    } catch (Exception e) {
      e.printStackTrace(System.out);
      report.failed("soak", e);
    } finally {
      BenchCommand.deleteTree(work);
    }
    System.out.println();
    System.out.println("== Results");
    System.out.print(report.render());
    System.out.printf("%nTotal %.1f min. Mesh log: %s%n", (System.nanoTime() - began) / 60e9, meshLog.toAbsolutePath());
    return report.anyFailed() ? 1 : 0;
  }

  /** Starts the mesh, soaks it, and stops it (also on Ctrl-C). */
  private void soak(Path allInOne, Path work, double steadyAfter) throws Exception {
    List<byte[]> speech = speech();
    String secret = randomSecret();
    Map<String, String> settings = new LinkedHashMap<>();
    if (sttCapacity != null) {
      settings.put("voicemesh.stt.capacity", sttCapacity.toString());
    }
    MeshChild mesh = MeshChild.start(allInOne, work, meshLog, secret, meshJavaOptions, settings);
    Thread cleanup = new Thread(() -> stopQuietly(mesh), "soak-cleanup");
    Runtime.getRuntime().addShutdownHook(cleanup);
    Vertx tokenVertx = Vertx.vertx();
    try {
      long t = System.nanoTime();
      mesh.awaitHealthy(TimeUnit.MINUTES.toMillis(3));
      System.out.printf("mesh pid %d ready on 127.0.0.1:%d in %.1f s%n", mesh.pid(), mesh.port(), (System.nanoTime() - t) / 1e9);
      run(mesh, JwtTokens.from(tokenVertx, new JsonObject().put("secret", secret)), speech, steadyAfter);
    } finally {
      EventBusHop.close(tokenVertx);
      stopQuietly(mesh);
      try {
        Runtime.getRuntime().removeShutdownHook(cleanup);
      } catch (IllegalStateException shuttingDown) {
        // Ctrl-C: the hook is running already
      }
    }
  }

  private void run(MeshChild mesh, JwtTokens tokens, List<byte[]> speech, double steadyAfter) throws Exception {
    long probeStart = System.nanoTime();
    try (MeshProbe probe = new MeshProbe(mesh, probeStart, !noForceGc)) {
      printRow(MeshProbe.tableHeader());
      sample(probe, "idle", baselineMinutes, null);
      ClassHistogram baseline = probe.histogram();
      double loadStart = (System.nanoTime() - probeStart) / 60e9;
      SoakLoad.Script script = new SoakLoad.Script(lifeSeconds.get(0) * 1000, lifeSeconds.get(1) * 1000, gapMs.get(0),
          gapMs.get(1), resumePercent / 100.0, endPercent / 100.0, rampSeconds * 1000L);
      ClassHistogram peak;
      try (SoakLoad load = new SoakLoad(mesh.port(), tokens, speech, script, stats)) {
        load.start(sessions);
        sample(probe, "load", minutes, load);
        peak = probe.histogram();
        long leaving = System.nanoTime();
        int stillOpen = load.leaveAll(TimeUnit.SECONDS.toMillis(leaveSeconds));
        double settledS = awaitSettled(mesh, leaving, baseline(), stillOpen);
        System.out.printf("  everyone left: %d client connections still open; the mesh let go in %s%n", stillOpen,
            settledS < 0 ? "NOT within " + leaveSeconds + " s" : String.format("%.1f s", settledS));
      }
      sample(probe, "after", afterSeconds / 60.0, null);
      ClassHistogram after = probe.histogram();
      PrometheusText finalMetrics = mesh.metrics();
      summarize(baseline, peak, after, loadStart, steadyAfter, finalMetrics, probe.pauses());
    }
  }

  /** Samples every {@code --sample-seconds} for {@code phaseMinutes} (the first at once), printing each. */
  private void sample(MeshProbe probe, String phase, double phaseMinutes, SoakLoad load) throws Exception {
    long end = System.nanoTime() + (long) (phaseMinutes * 60e9);
    long next = System.nanoTime();
    while (true) {
      MeshProbe.Sample s = probe.sample(phase, load == null ? 0 : load.open());
      samples.add(s);
      printRow(row(s, samples.size() > 1 ? samples.get(samples.size() - 2) : null));
      if (load != null && samples.size() % 6 == 0) {
        System.out.println("    client: " + clientLine());
      }
      next += TimeUnit.SECONDS.toNanos(sampleSeconds);
      if (next > end) {
        return;
      }
      long wait = next - System.nanoTime();
      if (wait > 0) {
        TimeUnit.NANOSECONDS.sleep(wait); // pacing: one sample per interval
      }
    }
  }

  private MeshProbe.Sample baseline() {
    return samples.stream().filter(s -> s.phase().equals("idle")).reduce((a, b) -> b).orElseThrow();
  }

  /**
   * Polls (bounded) until the mesh holds no session, stream or connection beyond its baseline and
   * its event-bus handlers are back to the baseline count; returns the seconds since the leave
   * began, or -1 at the deadline.
   */
  private double awaitSettled(MeshChild mesh, long leaving, MeshProbe.Sample base, int stillOpen) throws Exception {
    long deadline = leaving + TimeUnit.SECONDS.toNanos(leaveSeconds);
    while (System.nanoTime() < deadline) {
      PrometheusText m = mesh.metrics();
      if (m.sum("voicemesh_sessions", "role=\"gateway\"") == 0 && m.sum("voicemesh_sessions", "role=\"stt\"") == 0
          && m.sum("vertx_eventbus_handlers") <= base.busHandlers()
          && m.sum("vertx_http_server_active_connections") <= base.httpConnections()) {
        return (System.nanoTime() - leaving) / 1e9;
      }
      Thread.sleep(250); // the poll interval
    }
    return -1;
  }

  // ---- the report ----------------------------------------------------------------------------

  private void summarize(ClassHistogram baseHisto, ClassHistogram peakHisto, ClassHistogram afterHisto, double loadStart,
      double steadyAfter, PrometheusText finalMetrics, List<MeshProbe.Pause> pauses) {
    List<MeshProbe.Sample> idle = phase("idle");
    List<MeshProbe.Sample> load = phase("load");
    List<MeshProbe.Sample> steady = load.stream().filter(s -> s.minutes() - loadStart >= steadyAfter).toList();
    MeshProbe.Sample base = idle.get(idle.size() - 1);
    MeshProbe.Sample after = samples.get(samples.size() - 1);

    System.out.printf("%n== Samples (min since the probe attached; heap %s; CPU %% of all cores since the previous sample)%n",
        noForceGc ? "as it was (no forced GC)" : "after a forced GC");
    printMarkdown();

    Trend heap = trend(steady, MeshProbe.Sample::heapMb);
    Trend heapIdle = trend(idle, MeshProbe.Sample::heapMb);
    Trend rss = trend(steady, MeshProbe.Sample::rssMb);
    Trend rssIdle = trend(idle, MeshProbe.Sample::rssMb);
    Trend pg = trend(steady, MeshProbe.Sample::postgresPssMb);
    Trend pgIdle = trend(idle, MeshProbe.Sample::postgresPssMb);
    Trend threads = trend(steady, s -> s.threads());
    String steadyPart = String.format("min %.1f-%.1f of load", steadyAfter, minutes);
    report.row("soak heap after GC: slope, " + steadyPart, heap.describe("MB/min"), heapIdle.describe("MB/min") + " idle",
        "<= " + heapSlopeLimit + " MB/min", !Double.isNaN(heap.slope()) && heap.slope() <= heapSlopeLimit);
    report.row("soak RSS of the mesh JVM: slope", rss.describe("MB/min"), rssIdle.describe("MB/min") + " idle",
        "<= " + rssSlopeLimit + " MB/min", !Double.isNaN(rss.slope()) && rss.slope() <= rssSlopeLimit);
    report.row("soak PostgreSQL (PSS of its processes): slope", pg.describe("MB/min"), pgIdle.describe("MB/min") + " idle",
        "", null);
    report.row("soak heap after GC: mean 1st / last third of load", thirds(load, MeshProbe.Sample::heapMb),
        String.format("%.1f MB idle", mean(idle, MeshProbe.Sample::heapMb)), "", null);
    report.row("soak RSS: mean 1st / last third of load", thirds(load, MeshProbe.Sample::rssMb),
        String.format("%.1f MB idle", mean(idle, MeshProbe.Sample::rssMb)), "", null);
    report.row("soak heap after GC / RSS after everyone left", String.format("%.1f / %.1f MB", after.heapMb(), after.rssMb()),
        String.format("%.1f / %.1f MB before the load", base.heapMb(), base.rssMb()), "", null);

    int handlersPeak = load.stream().mapToInt(MeshProbe.Sample::busHandlers).max().orElse(0);
    report.row("soak event-bus handlers: before / peak / after", base.busHandlers() + " / " + handlersPeak + " / "
        + after.busHandlers(), "", "after = before", after.busHandlers() == base.busHandlers());
    for (Map.Entry<String, String> watched : ClassHistogram.WATCHED.entrySet()) {
      long b = baseHisto.instances(watched.getKey());
      long p = peakHisto.instances(watched.getKey());
      long a = afterHisto.instances(watched.getKey());
      boolean timers = watched.getKey().endsWith("InternalTimerHandler");
      boolean consumers = watched.getKey().endsWith("MessageConsumerImpl");
      report.row("soak live " + watched.getValue() + ": before / peak / after", b + " / " + p + " / " + a, "",
          timers || consumers ? "after <= before" : "", timers || consumers ? (Boolean) (a <= b) : null);
    }
    int threadsPeak = load.stream().mapToInt(MeshProbe.Sample::threads).max().orElse(0);
    report.row("soak threads (mesh JVM): before / peak / after", base.threads() + " / " + threadsPeak + " / " + after.threads(),
        "slope " + threads.describe("/min"), "after <= peak, no rise", after.threads() <= threadsPeak && !threads.risesSignificantly());
    report.row("soak open files: before / peak / after", base.openFiles() + " / "
        + load.stream().mapToInt(MeshProbe.Sample::openFiles).max().orElse(0) + " / " + after.openFiles(), "", "", null);
    report.row("soak HTTP connections / gateway sessions / STT streams after", after.httpConnections() + " / "
        + after.gatewaySessions() + " / " + after.sttStreams(), base.httpConnections() + " / " + base.gatewaySessions() + " / "
        + base.sttStreams() + " before", "= before", after.httpConnections() <= base.httpConnections()
        && after.gatewaySessions() == 0 && after.sttStreams() == 0);
    report.row("soak CPU of the idle mesh: after everyone left", percent(cpuPercent(phase("after"))),
        percent(cpuPercent(idle)) + " before the load", "", null);
    report.row("soak CPU under load (mean)", percent(cpuPercent(load)), "", "", null);

    report.row("soak client: sessions new / resumed (of tried) / left / ended",
        stats.newSessions.sum() + " / " + stats.resumed.sum() + " (" + stats.resumesTried.sum() + ") / " + stats.left.sum()
            + " / " + stats.ended.sum(), "", "", null);
    report.row("soak client: phrases / transcripts (empty) / turns done, interrupted, failed / unanswered",
        stats.phrasesSpoken.sum() + " / " + stats.transcripts.sum() + " (" + stats.emptyTranscripts.sum() + ") / "
            + stats.turnsCompleted.sum() + ", " + stats.turnsInterrupted.sum() + ", " + stats.turnsFailed.sum() + " / "
            + stats.unanswered.sum(), "", "", null);
    report.row("soak client: error events by code", String.valueOf(SoakStats.snapshot(stats.errors)), "", "", null);
    report.row("soak client: connects failed / server closes", SoakStats.snapshot(stats.connectFailures) + " / "
        + SoakStats.snapshot(stats.serverCloses), "", "", null);
    report.row("soak mesh: voicemesh_errors_total", String.valueOf(finalMetrics.byLabels("voicemesh_errors_total")), "", "", null);
    report.row("soak mesh log: ERROR lines / blocked-thread warnings", logCounts(pauses), "", "", null);
    report.row("soak forced GC pause (bench's System.gc()), mean / max", String.format("%.0f / %d ms",
        samples.stream().mapToLong(MeshProbe.Sample::gcMs).average().orElse(0),
        samples.stream().mapToLong(MeshProbe.Sample::gcMs).max().orElse(0)), "", "", null);
    report.row("soak client: events by type", String.valueOf(SoakStats.snapshot(stats.events)), "", "", null);

    System.out.printf("%nClasses with more live objects after everyone left than before the load (io.voicemesh, io.vertx,"
        + " io.netty; instances before -> after):%n");
    List<ClassHistogram.Change> grown = afterHisto.grownSince(baseHisto, 15, "io.voicemesh.", "io.vertx.", "io.netty.");
    if (grown.isEmpty()) {
      System.out.println("  none");
    }
    grown.forEach(c -> System.out.printf("  %-90s %6d -> %6d (%+d bytes)%n", c.className(), c.instancesBefore(),
        c.instancesAfter(), c.bytesDelta()));
    System.out.printf("Client: %s%n", clientLine());
  }

  private List<MeshProbe.Sample> phase(String name) {
    return samples.stream().filter(s -> s.phase().equals(name)).toList();
  }

  private static Trend trend(List<MeshProbe.Sample> list, ToDoubleFunction<MeshProbe.Sample> value) {
    return Trend.of(list.stream().mapToDouble(MeshProbe.Sample::minutes).toArray(), list.stream().mapToDouble(value).toArray());
  }

  private static double mean(List<MeshProbe.Sample> list, ToDoubleFunction<MeshProbe.Sample> value) {
    return list.stream().mapToDouble(value).average().orElse(Double.NaN);
  }

  private static String thirds(List<MeshProbe.Sample> load, ToDoubleFunction<MeshProbe.Sample> value) {
    int third = load.size() / 3;
    if (third == 0) {
      return "-";
    }
    return String.format("%.1f / %.1f MB", mean(load.subList(0, third), value),
        mean(load.subList(load.size() - third, load.size()), value));
  }

  private static String percent(double value) {
    return Double.isNaN(value) ? "- (fewer than 2 samples)" : String.format("%.1f %%", value);
  }

  /** Mean CPU % of all cores over consecutive samples of the list. */
  private double cpuPercent(List<MeshProbe.Sample> list) {
    if (list.size() < 2) {
      return Double.NaN;
    }
    MeshProbe.Sample first = list.get(0);
    MeshProbe.Sample last = list.get(list.size() - 1);
    return 100 * (last.cpuSeconds() - first.cpuSeconds()) / ((last.minutes() - first.minutes()) * 60)
        / Runtime.getRuntime().availableProcessors();
  }

  private List<String> row(MeshProbe.Sample s, MeshProbe.Sample previous) {
    String cpu = previous == null ? "-" : String.format("%.0f", 100 * (s.cpuSeconds() - previous.cpuSeconds())
        / ((s.minutes() - previous.minutes()) * 60) / Runtime.getRuntime().availableProcessors());
    return List.of(String.format("%.2f", s.minutes()), s.phase(), String.format("%.1f", s.heapMb()),
        String.format("%.1f", s.nonHeapMb()), String.format("%.1f", s.rssMb()), String.format("%.1f", s.postgresPssMb()),
        Integer.toString(s.threads()), Integer.toString(s.javaThreads()), Integer.toString(s.openFiles()),
        Integer.toString(s.busHandlers()), Integer.toString(s.httpConnections()), Integer.toString(s.gatewaySessions()),
        Integer.toString(s.sttStreams()), cpu, String.format("%.0f", s.clientOpen()), Long.toString(s.gcMs()));
  }

  private static void printRow(List<String> cells) {
    StringBuilder line = new StringBuilder(" ");
    for (String cell : cells) {
      line.append(String.format(" %11s", cell));
    }
    System.out.println(line);
  }

  private void printMarkdown() {
    System.out.println("| " + String.join(" | ", MeshProbe.tableHeader()) + " |");
    System.out.println("|" + " --- |".repeat(MeshProbe.tableHeader().size()));
    for (int i = 0; i < samples.size(); i++) {
      System.out.println("| " + String.join(" | ", row(samples.get(i), i == 0 ? null : samples.get(i - 1))) + " |");
    }
  }

  private String clientLine() {
    return String.format("new %d, resumed %d/%d, left %d, ended %d | phrases %d, transcripts %d (+%d empty), turns %d"
            + " (+%d interrupted, %d failed), unanswered %d | agent audio %.0f s | errors %s | connect failures %s |"
            + " server closes %s", stats.newSessions.sum(), stats.resumed.sum(), stats.resumesTried.sum(), stats.left.sum(),
        stats.ended.sum(), stats.phrasesSpoken.sum(), stats.transcripts.sum(), stats.emptyTranscripts.sum(),
        stats.turnsCompleted.sum(), stats.turnsInterrupted.sum(), stats.turnsFailed.sum(), stats.unanswered.sum(),
        stats.agentAudioBytes.sum() / (double) Pcm16.bytesFor(Pcm16.DEFAULT_RATE_HZ, 1000),
        SoakStats.snapshot(stats.errors), SoakStats.snapshot(stats.connectFailures), SoakStats.snapshot(stats.serverCloses));
  }

  /**
   * ERROR lines and blocked-thread warnings in the mesh's log; warnings logged during a forced GC
   * of the bench's (or up to 2 s after it) are counted apart: a stop-the-world pause looks like a
   * blocked event loop to Vert.x's checker.
   */
  private String logCounts(List<MeshProbe.Pause> pauses) {
    try (var lines = Files.lines(meshLog)) {
      long[] counts = new long[3];
      java.time.LocalDate today = java.time.LocalDate.now();
      lines.forEach(line -> {
        if (line.contains(" ERROR ")) {
          counts[0]++;
        }
        if (line.contains("has been blocked for")) {
          long at = java.time.LocalTime.parse(line.substring(0, 12)).atDate(today)
              .atZone(java.time.ZoneId.systemDefault()).toInstant().toEpochMilli();
          boolean duringGc = pauses.stream().anyMatch(p -> at >= p.fromMs() && at <= p.toMs() + 2000);
          counts[duringGc ? 2 : 1]++;
        }
      });
      return counts[0] + " / " + counts[1] + " (+" + counts[2] + " during the bench's forced GCs)";
    } catch (Exception e) {
      return "unreadable: " + e.getMessage();
    }
  }

  // ---- set-up --------------------------------------------------------------------------------

  private void validate() {
    if (sessions < 1 || minutes <= 0 || baselineMinutes < 0 || sampleSeconds < 1 || lifeSeconds.size() != 2
        || gapMs.size() != 2 || lifeSeconds.get(0) < 1 || lifeSeconds.get(0) > lifeSeconds.get(1)
        || gapMs.get(0) < 0 || gapMs.get(0) > gapMs.get(1) || resumePercent < 0 || resumePercent > 100
        || endPercent < 0 || endPercent > 100 || leaveSeconds < 1 || afterSeconds < 0) {
      throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
          "out of range: --sessions >= 1, --minutes > 0, --life-seconds MIN-MAX with 1 <= MIN <= MAX, --gap-ms MIN-MAX,"
              + " percentages 0-100");
    }
  }

  /** FreeTTS saying each phrase, whole 20 ms frames. */
  private static List<byte[]> speech() throws Exception {
    TtsEngine tts = Engines.create(TtsEngineProvider.class, "freetts", null, new JsonObject().put("voices", 1));
    try {
      List<byte[]> all = new ArrayList<>();
      for (String phrase : PHRASES) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        tts.synthesize(phrase, "kevin16", out::writeBytes, () -> false);
        byte[] pcm = out.toByteArray();
        all.add(Arrays.copyOf(pcm, (pcm.length + PcmClock.FRAME_BYTES - 1) / PcmClock.FRAME_BYTES * PcmClock.FRAME_BYTES));
      }
      return all;
    } finally {
      tts.close();
    }
  }

  private static String randomSecret() {
    byte[] random = new byte[48];
    new SecureRandom().nextBytes(random);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(random);
  }

  private static void stopQuietly(MeshChild mesh) {
    try {
      mesh.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
