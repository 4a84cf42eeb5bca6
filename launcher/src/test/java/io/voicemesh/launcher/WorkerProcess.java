package io.voicemesh.launcher;

import io.voicemesh.api.worker.ServingStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code voicemesh worker} as a child JVM started from the fat jar, on loopback. Killed when the
 * test closes it, and by a shutdown hook if the test JVM goes first.
 */
final class WorkerProcess implements AutoCloseable {
  static final Duration READY_WITHIN = Duration.ofSeconds(120);

  private final String name;
  private final int port;
  private final Path log;
  private final Process process;
  private final Thread reaper;

  private WorkerProcess(String name, int port, Path log, Process process) {
    this.name = name;
    this.port = port;
    this.log = log;
    this.process = process;
    this.reaper = new Thread(process::destroyForcibly, "worker-reaper-" + name);
    Runtime.getRuntime().addShutdownHook(reaper);
  }

  /** Starts a worker on {@code port} (127.0.0.1) with {@code args} added to the command line. */
  static WorkerProcess start(String name, int port, String... args) throws IOException {
    List<String> all = new ArrayList<>(List.of("--host", "127.0.0.1"));
    all.addAll(List.of(args));
    return startWithout(name, port, all.toArray(String[]::new));
  }

  /** Starts a worker on {@code port} with only {@code args} beyond the port, name and data folder: no --host. */
  static WorkerProcess startWithout(String name, int port, String... args) throws IOException {
    Path dir = Files.createDirectories(Path.of("target", "worker-it"));
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx384m", "-XX:+UseSerialGC", "-Dvertx.cacheDirBase=" + dir.resolve("vertx-cache-" + name),
        "-jar", System.getProperty("voicemesh.jar", "target/voicemesh.jar"),
        "worker", "--grpc-port", Integer.toString(port), "--worker-id", name,
        // The bundled model is unpacked once for all the test's processes.
        "--data-dir", Path.of("target", "test-data").toString()));
    command.addAll(List.of(args));
    Path log = dir.resolve(name + ".log");
    Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    return new WorkerProcess(name, port, log, process);
  }

  int port() {
    return port;
  }

  String address() {
    return "127.0.0.1:" + port;
  }

  /** Polls HealthCheck until the worker answers OK. */
  void awaitHealthy(WorkerClient client) throws Exception {
    long deadline = System.nanoTime() + READY_WITHIN.toNanos();
    String last = "no answer";
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(name + " exited with " + process.exitValue() + ": " + Files.readString(log));
      }
      try {
        var health = client.health();
        if (health.getStatus() == ServingStatus.OK) {
          return;
        }
        last = health.toString();
      } catch (Exception notYet) {
        last = notYet.toString();
      }
      TimeUnit.MILLISECONDS.sleep(100); // polling interval, bounded by the deadline
    }
    throw new IllegalStateException(name + " not healthy within " + READY_WITHIN + ": " + last + "; see " + log);
  }

  /** kill -9. Returns once the process is gone. */
  void kill() throws InterruptedException {
    ClusterProcesses.kill(process, name);
  }

  /** The exit code once the process ends by itself, or null when it still runs after {@code within}. */
  Integer exitCode(Duration within) throws InterruptedException {
    return process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : null;
  }

  /** SIGTERM; the exit code, or null when it is still running after {@code within}. */
  Integer terminate(Duration within) throws InterruptedException {
    process.destroy();
    return process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : null;
  }

  String log() throws IOException {
    return Files.readString(log);
  }

  @Override
  public void close() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
    try {
      Runtime.getRuntime().removeShutdownHook(reaper);
    } catch (IllegalStateException shuttingDown) {
      // the hook runs anyway
    }
  }
}
