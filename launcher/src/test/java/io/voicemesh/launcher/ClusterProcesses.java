package io.voicemesh.launcher;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * VoiceMesh nodes as child JVMs started from the fat jar ({@code voicemesh node --roles …}), on a
 * cluster of their own (a copy of cluster.xml under a unique cluster name, so nothing else on the
 * machine joins it). Every process is killed when the test ends, and by a shutdown hook if the
 * test JVM itself goes away first.
 */
final class ClusterProcesses implements AutoCloseable {
  static final Duration READY_WITHIN = Duration.ofSeconds(120);
  private static final int LOG_TAIL_LINES = 40;

  /** A node: its process, HTTP port and roles. */
  record Node(String name, Process process, int port, List<String> roles) {
    URI uri(String path) {
      return URI.create("http://127.0.0.1:" + port + path);
    }
  }

  private final Path workDir;
  private final Path clusterXml;
  private final Map<String, String> environment;
  private final Map<String, Node> nodes = new LinkedHashMap<>();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final Thread reaper = new Thread(this::killAll, "cluster-it-reaper");

  ClusterProcesses(Path workDir, Map<String, String> environment) throws IOException {
    TestFiles.deleteTree(workDir);
    this.workDir = Files.createDirectories(workDir);
    this.environment = environment;
    String cluster = Files.readString(Path.of("..", "cluster.xml"))
        .replace("<cluster-name>voicemesh</cluster-name>", "<cluster-name>voicemesh-it-" + UUID.randomUUID() + "</cluster-name>");
    this.clusterXml = workDir.resolve("cluster.xml");
    Files.writeString(clusterXml, cluster);
    Runtime.getRuntime().addShutdownHook(reaper);
  }

  /** The cluster's Hazelcast configuration, for a test's own member (one serving a tool). */
  Path clusterXml() {
    return clusterXml;
  }

  /** A file in the cluster's work folder (a node's --config). */
  Path file(String name, String content) throws IOException {
    return Files.writeString(workDir.resolve(name), content);
  }

  /** Starts a node; {@link #awaitReady} waits for it. Extra environment entries override the shared ones. */
  Node start(String name, List<String> roles, Map<String, String> extraEnvironment, String... extraArgs) throws IOException {
    int port = LoopbackPorts.free();
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx512m", "-XX:+UseSerialGC", "-Dvertx.cacheDirBase=" + workDir.resolve("vertx-cache-" + name),
        "-jar", System.getProperty("voicemesh.jar", "target/voicemesh.jar"),
        "node", "--name", name, "--roles", String.join(",", roles), "--port", Integer.toString(port),
        "--cluster-config", clusterXml.toString(), "--data-dir", workDir.resolve("data-" + name).toString()));
    command.addAll(List.of(extraArgs));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(workDir.resolve(name + ".log").toFile());
    builder.environment().putAll(environment);
    builder.environment().putAll(extraEnvironment);
    Node node = new Node(name, builder.start(), port, roles);
    nodes.put(name, node);
    return node;
  }

  /** Waits until every named node answers /health with 200 and sees {@code members} cluster members. */
  void awaitReady(int members, String... names) throws Exception {
    awaitReady(READY_WITHIN, members, names);
  }

  /** {@link #awaitReady(int, String...)} with a bound of its own. */
  void awaitReady(Duration within, int members, String... names) throws Exception {
    awaitHealth(within, members + " members expected", health -> health.statusCode() == 200
        && new JsonObject(health.body()).getJsonObject("cluster").getInteger("members") == members, names);
  }

  /**
   * Waits until the node answers /health at all, whatever its status: it has joined the cluster
   * (a node's HTTP server starts after the join), though the roles it needs elsewhere may be missing.
   */
  void awaitJoined(String name) throws Exception {
    awaitHealth(READY_WITHIN, "an answer expected", health -> true, name);
  }

  /**
   * Polls every named node's /health until each answer satisfies {@code ready}. Every node is
   * watched on each pass: one that exits, or has not answered so at the deadline, fails the wait
   * with the end of its log, since CI keeps only the test's output.
   */
  private void awaitHealth(Duration within, String expected, Predicate<HttpResponse<String>> ready, String... names)
      throws Exception {
    long deadline = System.nanoTime() + within.toNanos();
    Map<String, String> waiting = new LinkedHashMap<>();
    for (String name : names) {
      waiting.put(name, "no answer");
    }
    while (true) {
      for (var entry : new ArrayList<>(waiting.entrySet())) {
        String name = entry.getKey();
        Node node = nodes.get(name);
        if (!node.process().isAlive()) {
          throw new IllegalStateException(name + " exited with " + node.process().exitValue() + "; " + logTail(name));
        }
        try {
          HttpResponse<String> health = health(node);
          waiting.put(name, health.statusCode() + " " + health.body());
          if (ready.test(health)) {
            waiting.remove(name);
          }
        } catch (IOException notListeningYet) {
          // still starting
        }
      }
      if (waiting.isEmpty()) {
        return;
      }
      if (System.nanoTime() > deadline) {
        StringBuilder report = new StringBuilder("not ready within " + within + " (" + expected + "):");
        waiting.forEach((name, last) -> report.append("\n").append(name).append(": ").append(last)
            .append("\n").append(logTail(name)));
        throw new IllegalStateException(report.toString());
      }
      TimeUnit.MILLISECONDS.sleep(200); // polling interval, bounded by the deadline above
    }
  }

  /** The last lines of a node's log, for a failure message. */
  String logTail(String name) {
    try {
      List<String> lines = Files.readAllLines(log(name));
      return "last lines of " + log(name) + ":\n  "
          + String.join("\n  ", lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size()));
    } catch (IOException | UncheckedIOException unreadable) {
      return "no log at " + log(name) + " (" + unreadable + ")";
    }
  }

  HttpResponse<String> health(Node node) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(node.uri("/health")).timeout(Duration.ofSeconds(5)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  JsonObject healthJson(String name) throws IOException, InterruptedException {
    return new JsonObject(health(nodes.get(name)).body());
  }

  Node node(String name) {
    return nodes.get(name);
  }

  /** kill -9: the JVM gets no chance to say goodbye. Returns when the process is gone. */
  void kill(String name) throws InterruptedException {
    kill(nodes.get(name).process(), name);
  }

  /** kill -9 of any child JVM ({@code name} for the message). Returns when the process is gone. */
  static void kill(Process process, String name) throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      throw new IllegalStateException(name + " survived SIGKILL");
    }
  }

  /** The node's resident memory in MB (Linux), or -1 when it cannot be read. */
  long residentMb(String name) {
    return residentMb(nodes.get(name).process().pid());
  }

  /** A process's resident memory in MB (Linux), or -1 when it cannot be read. */
  static long residentMb(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
        }
      }
    } catch (IOException | RuntimeException unreadable) {
      // not Linux, or the process is gone
    }
    return -1;
  }

  Path log(String name) {
    return workDir.resolve(name + ".log");
  }

  private void killAll() {
    nodes.values().forEach(node -> node.process().destroyForcibly());
    nodes.values().forEach(node -> {
      try {
        node.process().waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    // A node's embedded PostgreSQL is a process of its own: a JVM killed with -9 leaves it running.
    nodes.keySet().forEach(name -> stopEmbeddedPostgres(workDir.resolve("data-" + name)));
  }

  /** Kills the PostgreSQL server a node started in {@code dataDir}, if one still runs (its postmaster.pid). */
  static void stopEmbeddedPostgres(Path dataDir) {
    Path pidFile = dataDir.resolve("postgres").resolve("postmaster.pid");
    try {
      if (Files.exists(pidFile)) {
        long pid = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
      }
    } catch (IOException | RuntimeException e) {
      // Best effort: nothing else to do in a test's cleanup.
    }
  }

  @Override
  public void close() {
    killAll();
    try {
      Runtime.getRuntime().removeShutdownHook(reaper);
    } catch (IllegalStateException shuttingDown) {
      // the hook runs anyway
    }
  }
}
