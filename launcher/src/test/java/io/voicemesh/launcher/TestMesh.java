package io.voicemesh.launcher;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import io.vertx.core.internal.threadchecker.BlockedThreadChecker;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.slf4j.LoggerFactory;

/**
 * A real all-in-one mesh for a test class: embedded PostgreSQL, Vosk, FreeTTS, the builtin agent,
 * on a free port, with Vert.x's blocked-thread checker set to 100 ms. Warnings it logs once the mesh
 * is ready are kept for the test to assert on; those during deployment (class loading of a cold
 * JVM while models load) are only logged.
 */
final class TestMesh implements AutoCloseable {
  static final long MAX_EVENT_LOOP_MS = 100;

  private final Mesh mesh;
  private final List<String> blockedThreadWarnings = new CopyOnWriteArrayList<>();
  private final AppenderBase<ILoggingEvent> appender;
  private final Vertx clientVertx;
  private final Pool database;

  private TestMesh(Map<String, Object> overrides) throws Exception {
    appender = new AppenderBase<>() {
      @Override
      protected void append(ILoggingEvent event) {
        blockedThreadWarnings.add(event.getFormattedMessage());
      }
    };
    appender.start();
    ((Logger) LoggerFactory.getLogger(BlockedThreadChecker.LOGGER_NAME)).addAppender(appender);
    Map<String, Object> settings = new HashMap<>();
    settings.put("voicemesh.gateway.port", 0);
    settings.put("voicemesh.gateway.host", "127.0.0.1");
    settings.put("voicemesh.dataDir", Path.of("target", "test-data").toString());
    settings.put("voicemesh.vertx.maxEventLoopExecuteTimeMs", MAX_EVENT_LOOP_MS);
    settings.putAll(overrides);
    mesh = Mesh.start(MeshConfig.load(null, settings)).await(3, TimeUnit.MINUTES);
    blockedThreadWarnings.clear();
    clientVertx = Vertx.vertx();
    database = PgBuilder.pool().connectingTo(mesh.postgresUri()).using(clientVertx).build();
  }

  static TestMesh start() throws Exception {
    return new TestMesh(Map.of());
  }

  static TestMesh start(Map<String, Object> overrides) throws Exception {
    return new TestMesh(overrides);
  }

  int port() {
    return mesh.httpPort();
  }

  VoiceClient connect(String query) throws Exception {
    return VoiceClient.connect(clientVertx, port(), query);
  }

  Vertx clientVertx() {
    return clientVertx;
  }

  /** Blocked-thread warnings logged since the mesh became ready. */
  List<String> blockedThreadWarnings() {
    return blockedThreadWarnings;
  }

  /** Rows of a query against the mesh's own PostgreSQL, as maps of column to value. */
  List<Map<String, Object>> query(String sql, Object... params) throws Exception {
    List<Map<String, Object>> result = new ArrayList<>();
    for (Row row : database.preparedQuery(sql).execute(Tuple.wrap(params)).await(10, TimeUnit.SECONDS)) {
      Map<String, Object> columns = new HashMap<>();
      for (int i = 0; i < row.size(); i++) {
        columns.put(row.getColumnName(i), row.getValue(i));
      }
      result.add(columns);
    }
    return result;
  }

  @Override
  public void close() throws Exception {
    try {
      database.close().await(10, TimeUnit.SECONDS);
      clientVertx.close().await(10, TimeUnit.SECONDS);
      mesh.close();
    } finally {
      ((Logger) LoggerFactory.getLogger(BlockedThreadChecker.LOGGER_NAME)).detachAppender(appender);
    }
  }
}
