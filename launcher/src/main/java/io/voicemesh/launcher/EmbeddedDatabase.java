package io.voicemesh.launcher;

import io.vertx.core.json.JsonObject;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import io.zonky.test.db.postgres.util.LinuxUtils;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real PostgreSQL server run from the binaries inside the zonky jar, its data kept in
 * {@code <dataDir>/postgres} across restarts. For the all-in-one mode and tests; production
 * points {@code postgres.uri} at a managed database.
 *
 * <p>Supervised: when the postmaster dies (a crash, an OOM kill, {@code kill -9}), it is started
 * again on the same port and data folder with the options it ran with ({@code postmaster.opts}),
 * and the session role's pool reconnects to it. A killed postmaster leaves its backends behind for
 * a moment, still attached to its shared memory, and a stale {@code postmaster.pid}: PostgreSQL
 * refuses to start until they are gone (that check is what keeps the data safe), so the start is
 * retried, with growing pauses, until it succeeds. Each death and restart is logged, and
 * {@link #status()} (shown under {@code database} in {@code /health}) says RESTARTING meanwhile.
 */
final class EmbeddedDatabase implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedDatabase.class);
  private static final long RETRY_FIRST_MS = 200;
  private static final long RETRY_MAX_MS = 2_000;
  private static final int PG_CTL_WAIT_SECONDS = 30;
  private static final Pattern QUOTED = Pattern.compile("\"((?:[^\"\\\\]|\\\\.)*)\"");

  /** Holds the data folder's lock for this JVM and stops whichever postmaster runs in it on close. */
  private final EmbeddedPostgres postgres;
  private final Path data;
  private final int port;
  private volatile boolean closed;
  private volatile boolean restarting;
  private volatile long pid;
  private volatile int restarts;
  private volatile Instant lastRestart;
  private Thread supervisor;

  private EmbeddedDatabase(EmbeddedPostgres postgres, Path data) {
    this.postgres = postgres;
    this.data = data;
    this.port = postgres.getPort();
  }

  /** Starts the server (blocks ≈ 1–2 s) and watches it. */
  static EmbeddedDatabase start(Path dataDir) throws IOException {
    Path data = Files.createDirectories(dataDir.resolve("postgres"));
    EmbeddedDatabase database = new EmbeddedDatabase(EmbeddedPostgres.builder()
        .setDataDirectory(data)
        .setCleanDataDirectory(false)
        .setOverrideWorkingDirectory(Files.createDirectories(dataDir.resolve("postgres-bin")).toFile())
        // The default 10 s is too short on a busy 2-core machine starting several nodes at once.
        .setPGStartupWait(Duration.ofSeconds(60))
        // zonky turns it off for tests; a killed server must keep every commit it acknowledged (the
        // gateways tell listeners of events once stored). fsync stays off (-F): that guards only
        // against the machine itself crashing.
        .setServerConfig("synchronous_commit", "on")
        .start(), data);
    database.watch();
    return database;
  }

  String uri() {
    return "postgresql://postgres:postgres@127.0.0.1:" + port + "/postgres";
  }

  /** The data folder (its {@code postmaster.pid} names the running postmaster). */
  Path dataDirectory() {
    return data;
  }

  /** For {@code /health}: UP, or RESTARTING while a dead postmaster is being replaced; restarts so far. */
  JsonObject status() {
    JsonObject status = new JsonObject().put("embedded", true).put("status", restarting ? "RESTARTING" : "UP")
        .put("port", port).put("pid", pid).put("restarts", restarts);
    if (lastRestart != null) {
      status.put("lastRestartAt", lastRestart.toString());
    }
    return status;
  }

  /** Follows the running postmaster; its exit starts a restart. */
  private void watch() {
    long current = readPid();
    pid = current;
    ProcessHandle.of(current).ifPresentOrElse(
        process -> process.onExit().thenRun(this::died),
        this::died);
  }

  private synchronized void died() {
    if (closed || restarting) {
      return;
    }
    restarting = true;
    LOG.error("embedded PostgreSQL (postmaster pid {}) died; restarting it on port {} with data in {}", pid, port, data);
    supervisor = new Thread(this::restart, "embedded-postgres-supervisor");
    supervisor.setDaemon(true);
    supervisor.start();
  }

  private void restart() {
    long began = System.nanoTime();
    long pauseMs = RETRY_FIRST_MS;
    for (int attempt = 1; !closed; attempt++) {
      try {
        startPostmaster();
        restarts++;
        lastRestart = Instant.now();
        restarting = false;
        watch();
        LOG.warn("embedded PostgreSQL restarted (pid {}, port {}) in {} ms, after {} attempt(s); it logs to {}", pid, port,
            (System.nanoTime() - began) / 1_000_000, attempt, serverLog());
        return;
      } catch (IOException e) {
        // Typically: the dead postmaster's backends still hold its shared memory for a moment.
        LOG.info("embedded PostgreSQL did not start yet (attempt {}): {} (see {}); again in {} ms", attempt,
            e.getMessage(), serverLog(), pauseMs);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      try {
        Thread.sleep(pauseMs);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      pauseMs = Math.min(pauseMs * 2, RETRY_MAX_MS);
    }
  }

  /**
   * {@code pg_ctl start} with the options the postmaster last ran with (from {@code postmaster.opts},
   * as {@code pg_ctl restart} does): same binaries, port and settings.
   */
  private void startPostmaster() throws IOException, InterruptedException {
    String opts = Files.readString(data.resolve("postmaster.opts"), StandardCharsets.UTF_8).strip();
    int firstArg = opts.indexOf(" \"");
    if (firstArg < 0) {
      throw new IOException("unexpected postmaster.opts: " + opts);
    }
    Path postgresBinary = Path.of(opts.substring(0, firstArg));
    List<String> args = new ArrayList<>();
    Matcher quoted = QUOTED.matcher(opts.substring(firstArg));
    while (quoted.find()) {
      args.add(quoted.group(1));
    }
    if (!args.contains("-p") || !args.get(args.indexOf("-p") + 1).equals(String.valueOf(port))) {
      throw new IOException("postmaster.opts does not name port " + port + ": " + opts);
    }
    // The server's options for pg_ctl's shell, without the data folder (pg_ctl adds -D itself).
    StringBuilder serverOptions = new StringBuilder();
    for (int i = 0; i < args.size(); i++) {
      if (args.get(i).equals("-D")) {
        i++;
        continue;
      }
      serverOptions.append(serverOptions.isEmpty() ? "" : " ").append('"')
          .append(args.get(i).replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
    }
    List<String> command = new ArrayList<>();
    if (LinuxUtils.isUnshareAvailable()) {
      // As zonky does: PostgreSQL refuses to run as root, so run it as root of a user namespace.
      command.addAll(List.of("unshare", "-U"));
    }
    command.addAll(List.of(postgresBinary.resolveSibling("pg_ctl").toString(), "-D", data.toString(),
        "-w", "-t", String.valueOf(PG_CTL_WAIT_SECONDS), "-l", serverLog().toString(),
        "-o", serverOptions.toString(), "start"));
    Process pgCtl = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(serverLog().toFile()))
        .start();
    if (!pgCtl.waitFor(PG_CTL_WAIT_SECONDS + 5, TimeUnit.SECONDS)) {
      pgCtl.destroyForcibly();
      throw new IOException("pg_ctl start did not finish in " + (PG_CTL_WAIT_SECONDS + 5) + " s");
    }
    if (pgCtl.exitValue() != 0) {
      throw new IOException("pg_ctl start exited " + pgCtl.exitValue());
    }
  }

  /** Where a restarted server logs (and pg_ctl says why a start failed): beside the data folder. */
  private Path serverLog() {
    return data.resolveSibling("postgres-restarted.log");
  }

  /** The postmaster's pid: the first line of {@code postmaster.pid}; 0 if there is none. */
  private long readPid() {
    try {
      return Long.parseLong(Files.readAllLines(data.resolve("postmaster.pid")).get(0).strip());
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  @Override
  public void close() throws IOException {
    closed = true;
    if (supervisor != null) {
      supervisor.interrupt();
    }
    postgres.close();
  }
}
