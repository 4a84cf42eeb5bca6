package io.voicemesh.launcher;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A real PostgreSQL server run from the binaries inside the zonky jar, its data kept in
 * {@code <dataDir>/postgres} across restarts. For the all-in-one mode and tests; production
 * points {@code postgres.uri} at a managed database.
 */
final class EmbeddedDatabase implements AutoCloseable {
  private final EmbeddedPostgres postgres;

  private EmbeddedDatabase(EmbeddedPostgres postgres) {
    this.postgres = postgres;
  }

  /** Starts the server (blocks ≈ 1–2 s). */
  static EmbeddedDatabase start(Path dataDir) throws IOException {
    Path data = Files.createDirectories(dataDir.resolve("postgres"));
    return new EmbeddedDatabase(EmbeddedPostgres.builder()
        .setDataDirectory(data)
        .setCleanDataDirectory(false)
        .setOverrideWorkingDirectory(Files.createDirectories(dataDir.resolve("postgres-bin")).toFile())
        // The default 10 s is too short on a busy 2-core machine starting several nodes at once.
        .setPGStartupWait(Duration.ofSeconds(60))
        .start());
  }

  String uri() {
    return "postgresql://postgres:postgres@127.0.0.1:" + postgres.getPort() + "/postgres";
  }

  @Override
  public void close() throws IOException {
    postgres.close();
  }
}
