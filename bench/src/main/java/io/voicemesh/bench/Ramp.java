package io.voicemesh.bench;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Figure 2's ramp: for each size, connect that many sessions, stream 20 ms frames from all of
 * them, and measure over a window after a warm-up. Stops at the first size that is not
 * sustainable (a connection failed, p99 at or over the limit, or frames lost).
 */
final class Ramp {
  /** Frames that arrived in the window / frames sent in it, below which a step is not sustainable. */
  static final double MIN_DELIVERED = 0.99;

  record Step(int requested, int connected, int failed, String firstFailure, long connectMs,
      double framesPerSecond, double delivered, LatencyRecorder.Percentiles latency,
      double cpuPercent, long heapUsedMb, Map<String, Long> serverErrors, long blockedThreadWarnings,
      boolean sustainable) {
  }

  private final LoadClient client;
  private final int port;
  private final String uri;
  private final LoadClient.Protocol protocol;
  private final LatencyRecorder recorder;
  private final long warmupMs;
  private final long measureMs;
  private final double p99LimitMs;

  Ramp(LoadClient client, int port, String uri, LoadClient.Protocol protocol, LatencyRecorder recorder,
      long warmupMs, long measureMs, double p99LimitMs) {
    this.client = client;
    this.port = port;
    this.uri = uri;
    this.protocol = protocol;
    this.recorder = recorder;
    this.warmupMs = warmupMs;
    this.measureMs = measureMs;
    this.p99LimitMs = p99LimitMs;
  }

  List<Step> run(String label, List<Integer> sizes) throws Exception {
    List<Step> steps = new ArrayList<>();
    for (int n : sizes) {
      Step step = step(n);
      steps.add(step);
      System.out.println("  " + label + " " + describe(step));
      if (!step.sustainable()) {
        break;
      }
    }
    return steps;
  }

  Step step(int n) throws Exception {
    client.takeServerErrors();
    LoadClient.Connected connected = client.connect(port, uri, n, protocol);
    if (connected.sessions().isEmpty()) {
      return new Step(n, 0, connected.failed(), connected.firstFailure(), connected.millis(), 0, 0,
          LatencyRecorder.Percentiles.of(new long[0]), 0, heapUsedMb(), client.takeServerErrors(), 0, false);
    }
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    LoadClient.Streaming streaming = client.startStreaming(connected.sessions());
    long sent0;
    long sent1;
    long cpu0;
    long cpu1;
    long wall0;
    long wall1;
    long blocked0;
    long heapMb;
    try {
      Thread.sleep(warmupMs); // pacing: the warm-up is a duration, not a wait for an event
      blocked0 = BenchLogs.blockedThreadWarnings();
      cpu0 = os.getProcessCpuTime();
      wall0 = System.nanoTime();
      sent0 = client.framesSent();
      recorder.start();
      Thread.sleep(measureMs);
      recorder.stop();
      sent1 = client.framesSent();
      wall1 = System.nanoTime();
      cpu1 = os.getProcessCpuTime();
      heapMb = heapUsedMb();
    } finally {
      recorder.stop();
      streaming.stop();
      client.closeAll(connected.sessions());
    }
    LatencyRecorder.Percentiles latency = recorder.percentiles();
    double seconds = (wall1 - wall0) / 1e9;
    double delivered = sent1 == sent0 ? 0 : (double) latency.count() / (sent1 - sent0);
    double cpu = 100.0 * (cpu1 - cpu0) / ((wall1 - wall0) * (double) Runtime.getRuntime().availableProcessors());
    boolean sustainable = connected.failed() == 0 && !latency.empty() && latency.p99Ms() < p99LimitMs
        && delivered >= MIN_DELIVERED;
    return new Step(n, connected.sessions().size(), connected.failed(), connected.firstFailure(), connected.millis(),
        latency.count() / seconds, delivered, latency, cpu, heapMb, client.takeServerErrors(),
        BenchLogs.blockedThreadWarnings() - blocked0, sustainable);
  }

  /** The largest sustainable step, or null. */
  static Step best(List<Step> steps) {
    Step best = null;
    for (Step step : steps) {
      if (step.sustainable() && (best == null || step.connected() > best.connected())) {
        best = step;
      }
    }
    return best;
  }

  static String describe(Step s) {
    String failures = s.failed() == 0 ? "" : " FAILED " + s.failed() + " (" + s.firstFailure() + ")";
    return String.format("N=%-5d connected %d in %d ms%s | %.0f frames/s, delivered %.1f%% | latency p50 %.2f p95 %.2f"
            + " p99 %.2f max %.1f ms | CPU %.0f%% | heap %d MB%s%s | %s",
        s.requested(), s.connected(), s.connectMs(), failures, s.framesPerSecond(), 100 * s.delivered(),
        s.latency().p50Ms(), s.latency().p95Ms(), s.latency().p99Ms(), s.latency().maxMs(), s.cpuPercent(),
        s.heapUsedMb(), s.serverErrors().isEmpty() ? "" : " | server errors " + s.serverErrors(),
        s.blockedThreadWarnings() == 0 ? "" : " | blocked-thread warnings " + s.blockedThreadWarnings(),
        s.sustainable() ? "sustainable" : "NOT sustainable");
  }

  static long heapUsedMb() {
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / (1024 * 1024);
  }
}
