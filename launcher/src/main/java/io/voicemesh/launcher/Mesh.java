package io.voicemesh.launcher;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.voicemesh.gateway.GatewayVerticle;
import io.voicemesh.gateway.JwtTokens;
import java.time.Duration;
import java.time.Instant;
import io.voicemesh.llm.LlmVerticle;
import io.voicemesh.session.SessionVerticle;
import io.voicemesh.stt.SttVerticle;
import io.voicemesh.tts.TtsVerticle;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The all-in-one mesh: every role in one JVM on a local event bus. The gateway listens first, so
 * {@code /health} answers 503 while PostgreSQL starts and models load, then 200.
 */
public final class Mesh implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Mesh.class);

  static {
    // Netty 4.2 registers JDK Flight Recorder events on its first buffer allocation, which loads
    // JFR's metadata on an event loop (~300 ms stall). Off unless the operator asks for it.
    if (System.getProperty("io.netty.jfr.enabled") == null) {
      System.setProperty("io.netty.jfr.enabled", "false");
    }
  }

  private final Vertx vertx;
  private final GatewayVerticle gateway;
  private JwtTokens tokens;
  private JsonObject gatewayConfig;
  private EmbeddedDatabase database;
  private String postgresUri;

  private Mesh(Vertx vertx, GatewayVerticle gateway) {
    this.vertx = vertx;
    this.gateway = gateway;
  }

  public static VertxOptions vertxOptions(MeshConfig config) {
    return new VertxOptions()
        .setMaxEventLoopExecuteTime(config.maxEventLoopExecuteTimeMs())
        .setMaxEventLoopExecuteTimeUnit(TimeUnit.MILLISECONDS)
        .setBlockedThreadCheckInterval(Math.max(10, config.maxEventLoopExecuteTimeMs() / 2))
        .setBlockedThreadCheckIntervalUnit(TimeUnit.MILLISECONDS)
        // Log where the loop was stuck, not only that it was.
        .setWarningExceptionTime(config.maxEventLoopExecuteTimeMs())
        .setWarningExceptionTimeUnit(TimeUnit.MILLISECONDS);
  }

  /** Starts every role; the future completes when all are deployed and ready. */
  public static Future<Mesh> start(MeshConfig config) {
    long started = System.nanoTime();
    String node = config.node();
    // Vert.x's own meters (HTTP, event bus, pools, JVM) and the mesh's (MeshMetrics) in one
    // Prometheus registry, scraped by the gateway at /metrics.
    Vertx vertx = Vertx.builder()
        .with(vertxOptions(config).setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true)
            .setJvmMetricsEnabled(true).setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true))))
        .withMetrics(new MicrometerMetricsFactory(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT)))
        .build();
    Mesh mesh = new Mesh(vertx, new GatewayVerticle());
    AuthKeys keys = AuthKeys.resolve(config);
    mesh.tokens = JwtTokens.from(vertx, keys.gatewayAuth());
    mesh.gatewayConfig = config.section("gateway").put("node", node).put("auth", keys.gatewayAuth());
    return vertx.deployVerticle(mesh.gateway, new DeploymentOptions().setConfig(mesh.gatewayConfig.copy()))
        .compose(id -> postgresUri(vertx, config, mesh))
        .compose(uri -> Future.all(
            vertx.deployVerticle(new SessionVerticle(), new DeploymentOptions().setConfig(
                new JsonObject().put("postgres", config.section("postgres").put("uri", uri)).put("node", node))),
            vertx.deployVerticle(new SttVerticle(), new DeploymentOptions().setConfig(sttConfig(config, node))),
            vertx.deployVerticle(new LlmVerticle(), options(config, "llm", node)),
            vertx.deployVerticle(new TtsVerticle(), options(config, "tts", node))))
        .map(all -> {
          LOG.info("VoiceMesh ready on http://localhost:{}/ in {} ms", mesh.httpPort(),
              (System.nanoTime() - started) / 1_000_000);
          if (keys.generatedLocally()) {
            // The local default: a secret of this data folder. Say how to get in; the link itself
            // holds a credential, so only on a terminal, never into a log file.
            LOG.info("Tokens for this mesh: java -jar launcher/target/voicemesh.jar token --user NAME [--ttl 1h]");
            if (System.console() != null) {
              System.out.printf("Open http://localhost:%d/#token=%s (user 'local', valid 12 h)%n", mesh.httpPort(),
                  mesh.tokens.mint("local", null, Instant.now().plus(Duration.ofHours(12))).token());
            }
          }
          return mesh;
        })
        // Fail now and close in the background: once Vert.x is closed, callbacks chained here would never run.
        .recover(e -> {
          LOG.error("VoiceMesh failed to start", e);
          mesh.closeAsync();
          return Future.failedFuture(e);
        });
  }

  private static Future<String> postgresUri(Vertx vertx, MeshConfig config, Mesh mesh) {
    if (!config.postgresUri().isBlank()) {
      mesh.postgresUri = config.postgresUri();
      return Future.succeededFuture(mesh.postgresUri);
    }
    return vertx.executeBlocking(() -> {
      mesh.database = EmbeddedDatabase.start(config.dataDir());
      mesh.postgresUri = mesh.database.uri();
      return mesh.postgresUri;
    });
  }

  private static JsonObject sttConfig(MeshConfig config, String node) {
    JsonObject stt = config.section("stt").put("node", node);
    JsonObject vosk = stt.getJsonObject("vosk", new JsonObject());
    if (vosk.getString("modelPath", "").isBlank()) {
      vosk.remove("modelPath");
    }
    vosk.put("modelCacheDir", config.dataDir().resolve("models").toString());
    return stt.put("vosk", vosk);
  }

  private static DeploymentOptions options(MeshConfig config, String section, String node) {
    return new DeploymentOptions().setConfig(config.section(section).put("node", node));
  }

  public int httpPort() {
    return gateway.actualPort();
  }

  /** The gateway's configuration (another gateway on this node takes it with its own port). */
  public JsonObject gatewayConfig() {
    return gatewayConfig.copy();
  }

  /** Mints tokens with the mesh's key (tests, the start-up hint). */
  public JwtTokens tokens() {
    return tokens;
  }

  public Vertx vertx() {
    return vertx;
  }

  /** The PostgreSQL the session role uses: the configured one, or the embedded one. */
  public String postgresUri() {
    return postgresUri;
  }

  public Future<Void> closeAsync() {
    return vertx.close().eventually(() -> {
      try {
        if (database != null) {
          database.close();
        }
        return Future.succeededFuture();
      } catch (Exception e) {
        return Future.failedFuture(e);
      }
    });
  }

  @Override
  public void close() throws Exception {
    closeAsync().await(30, TimeUnit.SECONDS);
  }
}
