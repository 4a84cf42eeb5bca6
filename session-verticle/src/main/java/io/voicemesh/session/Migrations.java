package io.voicemesh.session;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Versioned schema migrations, applied in order at start, each once, each in its own transaction.
 * An advisory lock makes several session nodes starting together apply them exactly once.
 * A migration file is never edited after release: add the next version instead.
 */
final class Migrations {
  /** In order; the file is {@code db/migration/V<n>__<name>.sql}. */
  private static final List<String> VERSIONS = List.of("V1__sessions_and_messages", "V2__event_log",
      "V3__idempotent_messages", "V4__kafka_outbox");
  private static final long LOCK_KEY = 0x766d_6d69_67L;

  private Migrations() {
  }

  static Future<Integer> apply(Pool pool) {
    return pool.withTransaction(conn -> conn.query("SELECT pg_advisory_xact_lock(" + LOCK_KEY + ")").execute()
        .compose(v -> conn.query("CREATE TABLE IF NOT EXISTS schema_migrations ("
            + "version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())").execute())
        .compose(v -> conn.query("SELECT coalesce(max(version), 0) AS v FROM schema_migrations").execute())
        .compose(rows -> applyFrom(conn, rows.iterator().next().getInteger("v"))));
  }

  private static Future<Integer> applyFrom(SqlConnection conn, int current) {
    Future<Void> chain = Future.succeededFuture();
    for (int i = current; i < VERSIONS.size(); i++) {
      int version = i + 1;
      String name = VERSIONS.get(i);
      chain = chain.compose(v -> conn.query(load(name)).execute())
          .compose(v -> conn.preparedQuery("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)")
              .execute(Tuple.of(version, name)))
          .mapEmpty();
    }
    return chain.map(v -> VERSIONS.size());
  }

  private static String load(String name) {
    String path = "db/migration/" + name + ".sql";
    try (InputStream in = Migrations.class.getClassLoader().getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException("missing migration " + path);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
