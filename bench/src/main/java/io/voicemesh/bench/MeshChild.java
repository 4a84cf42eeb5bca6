package io.voicemesh.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The all-in-one jar as a child JVM on 127.0.0.1 (so its heap, RSS and threads are its own), with
 * a JWT secret the bench knows, its data in a folder of the bench's and its log in a file.
 * {@link #close()} stops it with SIGTERM (bounded, then SIGKILL) and whatever it started (PostgreSQL).
 */
final class MeshChild implements AutoCloseable {
  private final Process process;
  private final int port;
  private final Path log;
  private final String dataDir;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private MeshChild(Process process, int port, Path log, Path dataDir) {
    this.process = process;
    this.port = port;
    this.log = log;
    this.dataDir = dataDir.toAbsolutePath().toString();
  }

  static MeshChild start(Path jar, Path workDir, Path log, String jwtSecret, List<String> javaOptions,
      Map<String, String> settings) throws IOException {
    if (!jar.toFile().isFile()) {
      throw new IllegalArgumentException(jar.toAbsolutePath() + " does not exist: build the launcher first");
    }
    int port = ReadyTime.freePort();
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(javaOptions);
    command.add("-Dvertx.cacheDirBase=" + workDir.resolve("vertx-cache"));
    command.addAll(List.of("-jar", jar.toAbsolutePath().toString(), "--port", String.valueOf(port),
        "--data-dir", workDir.resolve("data").toString()));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    builder.environment().put("CONFIG_FORCE_voicemesh_gateway_host", "127.0.0.1"); // loopback only
    builder.environment().put("VOICEMESH_JWT_SECRET", jwtSecret);
    settings.forEach((key, value) -> builder.environment().put("CONFIG_FORCE_" + key.replace('.', '_'), value));
    return new MeshChild(builder.start(), port, log, workDir.resolve("data"));
  }

  int port() {
    return port;
  }

  long pid() {
    return process.pid();
  }

  /**
   * The embedded PostgreSQL's processes, now: its postmaster (started with {@code -D} in this mesh's
   * data folder; pg_ctl detaches it, so it is not a descendant of the JVM) and the postmaster's children.
   */
  List<ProcessHandle> postgres() {
    List<ProcessHandle> all = new ArrayList<>();
    ProcessHandle.allProcesses()
        .filter(p -> p.info().commandLine().map(c -> c.contains("postgres") && c.contains(dataDir)).orElse(false))
        .forEach(postmaster -> {
          all.add(postmaster);
          postmaster.descendants().forEach(all::add);
        });
    return all;
  }

  /** Waits (bounded) for {@code /health} 200; fails if the process exits first. */
  void awaitHealthy(long timeoutMs) throws Exception {
    HttpRequest health = HttpRequest.newBuilder(uri("/health")).timeout(Duration.ofSeconds(2)).GET().build();
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("the mesh exited with " + process.exitValue() + " (see " + log + ")");
      }
      try {
        if (http.send(health, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return;
        }
      } catch (IOException notListeningYet) {
        // poll again
      }
      Thread.sleep(100); // the poll interval
    }
    throw new IllegalStateException("no 200 from /health within " + timeoutMs + " ms (see " + log + ")");
  }

  /** {@code GET /metrics}. */
  PrometheusText metrics() throws Exception {
    HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri("/metrics")).timeout(Duration.ofSeconds(10))
        .GET().build(), HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IllegalStateException("/metrics answered " + response.statusCode());
    }
    return new PrometheusText(response.body());
  }

  boolean alive() {
    return process.isAlive();
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + port + path);
  }

  @Override
  public void close() throws InterruptedException {
    ReadyTime.stop(process);
    // The mesh's shutdown stops its PostgreSQL; if the mesh had to be killed, stop what it left.
    for (ProcessHandle leftover : postgres()) {
      leftover.destroy();
      leftover.onExit().completeOnTimeout(leftover, 15, TimeUnit.SECONDS).join();
      if (leftover.isAlive()) {
        leftover.destroyForcibly();
      }
    }
  }
}
