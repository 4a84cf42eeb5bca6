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
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * A real all-in-one mesh for a test class: embedded PostgreSQL, Vosk, FreeTTS, the builtin agent,
 * on a free port, with Vert.x's blocked-thread checker set to 100 ms. Warnings it logs once the mesh
 * is ready are kept for the test to assert on; those during deployment (class loading of a cold
 * JVM while models load) are only logged. Register it on a test class:
 * {@code @RegisterExtension static final TestMesh MESH = TestMesh.withDefaults();}
 */
final class TestMesh implements BeforeAllCallback, AfterAllCallback {
  static final long MAX_EVENT_LOOP_MS = 100;

  private final Supplier<Map<String, Object>> overrides;
  private final List<String> blockedThreadWarnings = new CopyOnWriteArrayList<>();
  private final List<String> undeployErrors = new CopyOnWriteArrayList<>();
  private AppenderBase<ILoggingEvent> appender;
  private AppenderBase<ILoggingEvent> undeployAppender;
  private Mesh mesh;
  private Vertx clientVertx;
  private Pool database;

  private TestMesh(Supplier<Map<String, Object>> overrides) {
    this.overrides = overrides;
  }

  /** Per-user quotas out of the way: for tests where one user stands in for many. */
  static final Map<String, Object> LIFTED_QUOTAS = Map.of(
      "voicemesh.gateway.limits.connectionsPerUser", 100_000,
      "voicemesh.gateway.limits.sessionsPerUser", 100_000,
      "voicemesh.stt.userShare", 1.0,
      "voicemesh.stt.tokenShare", 1.0);

  /** The per-user quotas as shipped (reference.conf), to put back on top of {@link #LIFTED_QUOTAS}. */
  static Map<String, Object> shippedQuotas() {
    MeshConfig shipped = MeshConfig.load(null, Map.of());
    Map<String, Object> quotas = new HashMap<>();
    LIFTED_QUOTAS.keySet().forEach(key -> {
      String path = key.substring("voicemesh.".length());
      int dot = path.lastIndexOf('.');
      quotas.put(key, shipped.section(path.substring(0, dot)).getValue(path.substring(dot + 1)));
    });
    return quotas;
  }

  static TestMesh withDefaults() {
    return new TestMesh(Map::of);
  }

  /** A mesh with these settings on top of the test defaults, read when the class starts. */
  static TestMesh with(Supplier<Map<String, Object>> overrides) {
    return new TestMesh(overrides);
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
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
    // Most tests speak as one user (USER) standing in for many clients: per-user quotas are lifted
    // unless a test sets them (QuotaAttackTest, SttShareTest test them with the shipped defaults).
    settings.putAll(LIFTED_QUOTAS);
    settings.putAll(overrides.get());
    mesh = Mesh.start(MeshConfig.load(null, settings)).await(3, TimeUnit.MINUTES);
    clientVertx = Vertx.vertx();
    warmUp();
    blockedThreadWarnings.clear();
    database = PgBuilder.pool().connectingTo(mesh.postgresUri()).using(clientVertx).build();
  }

  /**
   * One connection and one API call before the tests: the first use of each code path loads its
   * classes (and links its lambdas) on the event loop, a cold-JVM cost the blocked-thread check
   * would otherwise charge to whichever test comes first.
   */
  private void warmUp() throws Exception {
    try (VoiceClient client = connect("")) {
      client.await("session.ready", java.time.Duration.ofSeconds(30));
      client.send(new io.vertx.core.json.JsonObject().put("type", "session.status"));
      client.await("session.status", java.time.Duration.ofSeconds(30));
    }
    if (mesh.tlsCertificate() == null) {
      new Rest(port()).get("/api/v1/sessions?active=true", token(USER));
    }
  }

  int port() {
    return mesh.httpPort();
  }

  /** The user the tests speak as unless they say otherwise. */
  static final String USER = "tester";

  /** A user name no earlier test or run used: the test database outlives a test class. */
  static String uniqueUser(String name) {
    return name + "-" + java.util.UUID.randomUUID().toString().substring(0, 8);
  }

  /** A token for {@code user}, signed with the mesh's key, valid for an hour. */
  String token(String user) {
    return mesh.tokens().mint(user, null, Instant.now().plusSeconds(3600)).token();
  }

  /** A voice connection; as {@link #USER} unless the query brings its own {@code token}. */
  VoiceClient connect(String query) throws Exception {
    String auth = query.contains("token=") ? "" : "token=" + token(USER);
    String full = query.isEmpty() ? auth : auth.isEmpty() ? query : auth + "&" + query;
    if (mesh.tlsCertificate() == null) {
      return VoiceClient.connect(clientVertx, port(), full);
    }
    // WSS, trusting the mesh's own certificate, checking the host name as any client would.
    return VoiceClient.connect(clientVertx, port(), full, new io.vertx.core.http.WebSocketClientOptions()
        .setSsl(true).setVerifyHost(true).setTrustOptions(new io.vertx.core.net.PemTrustOptions()
            .addCertPath(mesh.tlsCertificate().toString())).setMaxMessageSize(262_144));
  }

  /**
   * Starts a second gateway (its own HTTP server, port chosen by the OS) on the mesh's event bus:
   * a different gateway for a client to reconnect to. Returns its port.
   */
  int startSecondGateway() throws Exception {
    io.voicemesh.gateway.GatewayVerticle second = new io.voicemesh.gateway.GatewayVerticle();
    mesh.vertx().deployVerticle(second, new io.vertx.core.DeploymentOptions().setConfig(
        mesh.gatewayConfig().put("port", 0).put("node", "second-gateway"))).await(30, TimeUnit.SECONDS);
    return second.actualPort();
  }

  Mesh mesh() {
    return mesh;
  }

  /** The mesh's own Vert.x: for test services that live on its event bus, like a tool. */
  Vertx meshVertx() {
    return mesh.vertx();
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
  public void afterAll(ExtensionContext context) throws Exception {
    // A verticle whose stop() fails leaves work behind: every shutdown must be clean.
    undeployAppender = new AppenderBase<>() {
      @Override
      protected void append(ILoggingEvent event) {
        if (event.getLevel().isGreaterOrEqual(ch.qos.logback.classic.Level.ERROR)) {
          undeployErrors.add(event.getFormattedMessage() + (event.getThrowableProxy() == null ? ""
              : ": " + event.getThrowableProxy().getMessage()));
        }
      }
    };
    undeployAppender.start();
    ((Logger) LoggerFactory.getLogger("io.vertx.core.impl.deployment")).addAppender(undeployAppender);
    try {
      if (mesh != null) {
        database.close().await(10, TimeUnit.SECONDS);
        clientVertx.close().await(10, TimeUnit.SECONDS);
        mesh.close();
      }
      if (!undeployErrors.isEmpty()) {
        throw new AssertionError("the mesh did not shut down cleanly: " + undeployErrors);
      }
    } finally {
      ((Logger) LoggerFactory.getLogger("io.vertx.core.impl.deployment")).detachAppender(undeployAppender);
      ((Logger) LoggerFactory.getLogger(BlockedThreadChecker.LOGGER_NAME)).detachAppender(appender);
    }
  }
}
