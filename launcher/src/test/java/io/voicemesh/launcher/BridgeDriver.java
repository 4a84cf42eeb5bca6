package io.voicemesh.launcher;

import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A Node script of {@code src/test/node} driving an official client (npm, pinned there): it takes
 * commands as JSON lines and prints what its clients see as JSON lines. {@code bridge-driver.js}
 * runs {@code @vertx/eventbus-bridge-client.js} (open, close, message, reply, error, each tagged
 * with its connection's name); {@code realtime-driver.js} the {@code openai} SDK's Realtime client.
 * {@code .ci/run} installs the packages with {@code npm ci}; a checkout without them gets them here.
 */
final class BridgeDriver implements AutoCloseable {
  static final Path DIR = Path.of("src", "test", "node");
  private final Process node;
  private final Writer commands;
  private final List<JsonObject> seen = new ArrayList<>();
  private final Path log;

  private BridgeDriver(Process node, Path log) {
    this.node = node;
    this.log = log;
    this.commands = new OutputStreamWriter(node.getOutputStream(), StandardCharsets.UTF_8);
    Thread reader = new Thread(this::read, "bridge-driver-stdout");
    reader.setDaemon(true);
    reader.start();
  }

  static BridgeDriver start() throws Exception {
    return start(Map.of());
  }

  /** A driver whose Node process has these environment variables too (NODE_EXTRA_CA_CERTS for TLS). */
  static BridgeDriver start(Map<String, String> environment) throws Exception {
    return start("bridge-driver.js", environment);
  }

  /** {@code script} of {@code src/test/node}, with these environment variables too. */
  static BridgeDriver start(String script, Map<String, String> environment) throws Exception {
    if (!Files.isDirectory(DIR.resolve("node_modules/@vertx/eventbus-bridge-client.js"))
        || !Files.isDirectory(DIR.resolve("node_modules/openai"))) {
      // Not inheritIO: the test JVM's stdin and stdout are surefire's channel to its fork.
      Path npmLog = Files.createDirectories(Path.of("target", "bridge-driver")).resolve("npm-ci.log");
      Process ci = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund").directory(DIR.toFile())
          .redirectErrorStream(true).redirectOutput(npmLog.toFile()).start();
      ci.getOutputStream().close();
      if (!ci.waitFor(5, TimeUnit.MINUTES) || ci.exitValue() != 0) {
        ci.destroyForcibly();
        throw new IllegalStateException("npm ci in " + DIR + " failed");
      }
    }
    Path log = Files.createDirectories(Path.of("target", "bridge-driver")).resolve("stderr-" + ProcessHandle.current().pid()
        + "-" + System.nanoTime() + ".log");
    ProcessBuilder builder = new ProcessBuilder("node", script).directory(DIR.toFile())
        .redirectError(log.toFile());
    builder.environment().putAll(environment);
    Process node = builder.start();
    BridgeDriver driver = new BridgeDriver(node, log);
    driver.await(e -> "ready".equals(e.getString("event")), Duration.ofSeconds(30));
    return driver;
  }

  private void read() {
    try (BufferedReader lines = new BufferedReader(new InputStreamReader(node.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = lines.readLine()) != null; ) {
        JsonObject event = new JsonObject(line);
        synchronized (this) {
          seen.add(event);
          notifyAll();
        }
      }
    } catch (IOException | RuntimeException e) {
      // the process ended
    }
  }

  synchronized void command(JsonObject command) throws IOException {
    commands.write(command.encode() + "\n");
    commands.flush();
  }

  /** Opens connection {@code conn} to {@code url} and waits until it is open (or closed, returned either way). */
  JsonObject connect(String conn, String url) throws Exception {
    command(new JsonObject().put("op", "connect").put("conn", conn).put("url", url));
    return await(e -> conn.equals(e.getString("conn")) && ("open".equals(e.getString("event"))
        || "close".equals(e.getString("event"))), Duration.ofSeconds(20));
  }

  void register(String conn, String address, JsonObject headers) throws IOException {
    command(new JsonObject().put("op", "register").put("conn", conn).put("address", address).put("headers", headers));
  }

  void send(String conn, String id, String address, JsonObject body, JsonObject headers) throws IOException {
    command(new JsonObject().put("op", "send").put("conn", conn).put("id", id).put("address", address).put("body", body)
        .put("headers", headers));
  }

  void publish(String conn, String address, JsonObject body, JsonObject headers) throws IOException {
    command(new JsonObject().put("op", "publish").put("conn", conn).put("address", address).put("body", body)
        .put("headers", headers));
  }

  /** The first event (from the start) that matches, waiting up to {@code timeout} for it. */
  synchronized JsonObject await(Predicate<JsonObject> match, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      for (JsonObject event : seen) {
        if (match.test(event)) {
          return event;
        }
      }
      long left = deadline - System.nanoTime();
      if (left <= 0 || !node.isAlive() && seen.stream().noneMatch(match)) {
        throw new AssertionError("no bridge event matched within " + timeout + "; seen: " + seen
            + "; node stderr: " + Files.readString(log));
      }
      wait(Math.max(1, left / 1_000_000));
    }
  }

  /** The {@code n}th event (1-based) of a connection of this kind, waiting for it. */
  JsonObject awaitNth(String conn, String event, int n, Duration timeout) throws Exception {
    return await(new Predicate<>() {
      @Override
      public boolean test(JsonObject e) {
        return conn.equals(e.getString("conn")) && event.equals(e.getString("event")) && events(conn, event).indexOf(e) == n - 1;
      }
    }, timeout);
  }

  /** Waits until connection {@code conn} has seen at least {@code n} events of these kinds together. */
  synchronized void awaitCount(String conn, Set<String> kinds, int n, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (seen.stream().filter(e -> conn.equals(e.getString("conn")) && kinds.contains(e.getString("event"))).count() < n) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError(conn + " saw fewer than " + n + " of " + kinds + " within " + timeout + ": " + seen);
      }
      wait(Math.max(1, left / 1_000_000));
    }
  }

  /** What connection {@code conn} has seen of one kind, in order. */
  synchronized List<JsonObject> events(String conn, String event) {
    return seen.stream().filter(e -> conn.equals(e.getString("conn")) && event.equals(e.getString("event"))).toList();
  }

  /** Everything seen so far, in order. */
  synchronized List<JsonObject> seen() {
    return List.copyOf(seen);
  }

  /** Messages connection {@code conn} received on {@code address}. */
  synchronized List<JsonObject> messages(String conn, String address) {
    return events(conn, "message").stream().filter(e -> address.equals(e.getString("address"))).toList();
  }

  @Override
  public void close() throws Exception {
    try {
      commands.close();
    } catch (IOException ignored) {
      // already gone
    }
    if (!node.waitFor(5, TimeUnit.SECONDS)) {
      node.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }
}
