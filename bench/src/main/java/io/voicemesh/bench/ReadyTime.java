package io.voicemesh.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Figure 6: how long the all-in-one jar takes, as a child JVM, from process start until
 * {@code /health} answers 200; started twice on the same fresh data directory (the first start
 * creates the database and extracts the speech model, the second finds them).
 */
final class ReadyTime {
  private static final long READY_TIMEOUT_MS = 180_000;

  record Start(long readyMs, String failure) {
  }

  private ReadyTime() {
  }

  static List<Start> measure(Path jar, Path workDir) throws Exception {
    if (!Files.isRegularFile(jar)) {
      throw new IllegalArgumentException(jar.toAbsolutePath() + " does not exist: build the launcher first");
    }
    Path dataDir = Files.createDirectories(workDir.resolve("data"));
    Start first = start(jar, workDir, dataDir, 1);
    System.out.println("  first start: " + describe(first));
    Start second = start(jar, workDir, dataDir, 2);
    System.out.println("  second start: " + describe(second));
    return List.of(first, second);
  }

  static String describe(Start s) {
    return s.failure() == null ? s.readyMs() + " ms to /health 200" : "FAILED: " + s.failure();
  }

  private static Start start(Path jar, Path workDir, Path dataDir, int n) throws Exception {
    int port = freePort();
    Path log = workDir.resolve("voicemesh-" + n + ".log");
    ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Dvertx.cacheDirBase=" + workDir.resolve("vertx-cache"),
        "-jar", jar.toAbsolutePath().toString(), "--port", String.valueOf(port), "--data-dir", dataDir.toString())
        .redirectErrorStream(true)
        .redirectOutput(log.toFile());
    // Loopback only.
    builder.environment().put("CONFIG_FORCE_voicemesh_gateway_host", "127.0.0.1");
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    HttpRequest health = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
        .timeout(Duration.ofSeconds(2)).GET().build();
    long started = System.nanoTime();
    Process process = builder.start();
    try {
      long deadline = started + TimeUnit.MILLISECONDS.toNanos(READY_TIMEOUT_MS);
      while (System.nanoTime() < deadline) {
        if (!process.isAlive()) {
          return new Start(0, "exited with " + process.exitValue() + " (see " + log + ")");
        }
        try {
          if (http.send(health, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
            return new Start((System.nanoTime() - started) / 1_000_000, null);
          }
        } catch (IOException notListeningYet) {
          // poll again
        }
        Thread.sleep(50); // the poll interval
      }
      return new Start(0, "no 200 from /health within " + READY_TIMEOUT_MS + " ms (see " + log + ")");
    } finally {
      stop(process);
    }
  }

  /** SIGTERM (the mesh's shutdown hook stops PostgreSQL), bounded; then anything it left behind. */
  static void stop(Process process) throws InterruptedException {
    List<ProcessHandle> descendants = process.descendants().toList();
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
    for (ProcessHandle child : descendants) {
      if (child.isAlive()) {
        child.destroy();
        child.onExit().completeOnTimeout(child, 10, TimeUnit.SECONDS).join();
        if (child.isAlive()) {
          child.destroyForcibly();
        }
      }
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
