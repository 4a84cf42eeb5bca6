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
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import io.voicemesh.llm.LlmVerticle;
import io.voicemesh.session.SessionVerticle;
import io.voicemesh.stt.SttVerticle;
import io.voicemesh.tts.TtsVerticle;
import io.vertx.core.VertxBuilder;
import io.vertx.core.json.JsonArray;
import io.voicemesh.api.Drainable;
import io.voicemesh.api.Json;
import io.voicemesh.api.Role;
import io.voicemesh.api.message.MessageTypes;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running VoiceMesh node: the roles it was given, on a local event bus (the all-in-one mesh,
 * every role) or on a Hazelcast-clustered one ({@code voicemesh node --roles …}). The HTTP side
 * listens first, so {@code /health} answers 503 while PostgreSQL starts and models load, then 200.
 */
public final class Mesh implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Mesh.class);

  static {
    // Netty 4.2 registers JDK Flight Recorder events on its first buffer allocation, which loads
    // JFR's metadata on an event loop (~300 ms stall). Off unless the operator asks for it.
    if (System.getProperty("io.netty.jfr.enabled") == null) {
      System.setProperty("io.netty.jfr.enabled", "false");
    }
    // Hazelcast logs through SLF4J (logback) from its first line, not java.util.logging until it reads its config.
    if (System.getProperty("hazelcast.logging.type") == null) {
      System.setProperty("hazelcast.logging.type", "slf4j");
    }
  }

  /**
   * What a node runs: its roles, whether it joins a cluster, and whether it starts an embedded
   * PostgreSQL for its session role when no URI is configured.
   */
  public record NodeSpec(Set<Role> roles, boolean clustered, boolean embeddedPostgres) {
    /** The all-in-one mesh: every role, local event bus, embedded PostgreSQL unless a URI is set. */
    public static NodeSpec allInOne() {
      return new NodeSpec(EnumSet.allOf(Role.class), false, true);
    }
  }

  private final Vertx vertx;
  private final NodeSpec spec;
  private final Cluster cluster;
  private final String node;
  private GatewayVerticle gateway;
  /** What the gateway serves TLS with; null: plain HTTP. */
  private TlsFiles tls;
  private NodeHttpVerticle nodeHttp;
  private JwtTokens tokens;
  /** The JWT key is this data folder's own random secret: the start-up hint says how to get a token. */
  private boolean generatedKeys;
  private JsonObject gatewayConfig;
  /** The embedded PostgreSQL, once started (set on a worker thread, read by {@code /health}). */
  private volatile EmbeddedDatabase database;
  private String postgresUri;
  /** The embedded Kafka broker ({@code kafka.embedded}), once started. */
  private volatile EmbeddedKafka kafka;
  /** The STT, LLM and TTS roles of this node, drained after the gateway and before the session role. */
  private final List<Drainable> stages = new ArrayList<>();
  /** This node's reports on dashboard.nodes. */
  private NodeReports nodeReports;

  private Mesh(Vertx vertx, NodeSpec spec, Cluster cluster, String node) {
    this.vertx = vertx;
    this.spec = spec;
    this.cluster = cluster;
    this.node = node;
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

  /** Starts the all-in-one mesh; the future completes when every role is deployed and ready. */
  public static Future<Mesh> start(MeshConfig config) {
    return start(config, NodeSpec.allInOne());
  }

  /** Starts a node with the spec's roles; the future completes when all are deployed and ready. */
  public static Future<Mesh> start(MeshConfig config, NodeSpec spec) {
    long started = System.nanoTime();
    String node = config.node();
    if (spec.roles().contains(Role.SESSION) && config.postgresUri().isBlank() && !spec.embeddedPostgres()) {
      return Future.failedFuture(new IllegalArgumentException(
          "the session role needs PostgreSQL: --postgres-uri URI (or VOICEMESH_POSTGRES_URI), or --embedded-postgres"));
    }
    // Vert.x's own meters (HTTP, event bus, pools, JVM) and the mesh's (MeshMetrics) in one
    // Prometheus registry, scraped at /metrics.
    VertxOptions options = vertxOptions(config).setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true)
        .setJvmMetricsEnabled(true).setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true)));
    if (spec.clustered()) {
      options.setEventBusOptions(Cluster.eventBusOptions(config));
    }
    VertxBuilder builder = Vertx.builder().with(options)
        .withMetrics(new MicrometerMetricsFactory(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT)));
    Future<Mesh> created = spec.clustered()
        ? Cluster.join(builder, config, node, spec.roles()).map(cluster -> new Mesh(cluster.vertx(), spec, cluster, node))
        : Future.succeededFuture(new Mesh(builder.build(), spec, null, node));
    // Message mappings are built now, on a worker thread, not by the first turn on an event loop.
    return created.compose(mesh -> mesh.vertx.executeBlocking(() -> Json.prepare(MessageTypes.ALL))
        .compose(prepared -> mesh.deploy(config))
        .map(v -> {
          LOG.info("VoiceMesh node {} ({}) ready in {} ms{}", node, spec.roles(), (System.nanoTime() - started) / 1_000_000,
              mesh.gateway != null ? " on " + mesh.baseUrl() : ", /health on port " + mesh.httpPort());
          if (mesh.tls != null && mesh.tls.selfSigned()) {
            // Printed, not only logged: the one thing a client needs to connect.
            System.out.printf("TLS certificate (self-signed, for localhost and 127.0.0.1) to trust: %s%n",
                mesh.tls.cert().toAbsolutePath());
          }
          if (mesh.gateway != null) {
            mesh.tokenHint();
          }
          return mesh;
        })
        // Fail now and close in the background: once Vert.x is closed, callbacks chained here would never run.
        .recover(e -> {
          LOG.error("VoiceMesh failed to start", e);
          mesh.closeAsync();
          return Future.failedFuture(e);
        }));
  }

  private Future<Void> deploy(MeshConfig config) {
    Set<Role> roles = spec.roles();
    NodeStatus.serve(vertx, node, roles, this::members, spec.clustered(), this::databaseStatus);
    nodeReports = NodeReports.start(vertx, node, config.section("dashboard").getLong("nodeReportMs", 1_000L));
    Future<String> http;
    if (roles.contains(Role.GATEWAY)) {
      AuthKeys keys = AuthKeys.resolve(config);
      generatedKeys = keys.generatedLocally();
      tokens = JwtTokens.from(vertx, keys.gatewayAuth());
      tls = TlsFiles.resolve(config.section("gateway").getJsonObject("tls", new JsonObject()), config.dataDir());
      gatewayConfig = config.section("gateway").put("node", node).put("auth", keys.gatewayAuth())
          .put("tls", tls == null ? new JsonObject() : new JsonObject().put("certPath", tls.cert().toString())
              .put("keyPath", tls.key().toString()))
          .put("session", config.section("session"))
          // The agents the LLM role serves, by name: the gateway refuses others at the upgrade (404 agent_not_found).
          .put("agents", new JsonArray(config.section("llm").getJsonObject("agents",
              new JsonObject()).fieldNames().stream().sorted().map(name -> (Object) name).toList()));
      gateway = new GatewayVerticle();
      http = vertx.deployVerticle(gateway, new DeploymentOptions().setConfig(gatewayConfig.copy()));
    } else {
      nodeHttp = new NodeHttpVerticle();
      JsonObject gatewaySection = config.section("gateway");
      http = vertx.deployVerticle(nodeHttp, new DeploymentOptions().setConfig(new JsonObject()
          .put("host", gatewaySection.getString("host")).put("port", gatewaySection.getInteger("port")).put("node", node)));
    }
    List<Future<String>> deployed = new ArrayList<>();
    return http.compose(id -> {
      if (roles.contains(Role.SESSION)) {
        deployed.add(postgresUri(vertx, config, this).compose(uri -> kafkaSection(config).compose(kafka ->
            vertx.deployVerticle(new SessionVerticle(), new DeploymentOptions().setConfig(new JsonObject()
                .put("postgres", config.section("postgres").put("uri", uri)).put("node", node)
                .put("session", config.section("session")).put("kafka", kafka))))));
      }
      if (roles.contains(Role.STT)) {
        SttVerticle stt = new SttVerticle();
        stages.add(stt);
        deployed.add(vertx.deployVerticle(stt, new DeploymentOptions().setConfig(sttConfig(config, node))));
      }
      if (roles.contains(Role.LLM)) {
        LlmVerticle llm = new LlmVerticle();
        stages.add(llm);
        deployed.add(vertx.deployVerticle(llm, options(config, "llm", node)));
      }
      if (roles.contains(Role.TTS)) {
        TtsVerticle tts = new TtsVerticle();
        stages.add(tts);
        deployed.add(vertx.deployVerticle(tts, options(config, "tts", node)));
      }
      return Future.all(deployed).mapEmpty();
    });
  }

  /** With the local default key, says how to get in; the link itself holds a credential, so only on a terminal. */
  private void tokenHint() {
    if (!generatedKeys) {
      return;
    }
    LOG.info("Tokens for this mesh: java -jar launcher/target/voicemesh.jar token --user NAME [--ttl 1h]");
    if (System.console() != null) {
      System.out.printf("Open %s#token=%s (user 'local', valid 12 h)%n", baseUrl(),
          tokens.mint("local", null, Instant.now().plus(Duration.ofHours(12))).token());
    }
  }

  /** The embedded PostgreSQL's state for {@code /health}, or null with an external database. */
  private JsonObject databaseStatus() {
    EmbeddedDatabase embedded = database;
    return embedded == null ? null : embedded.status();
  }

  private JsonArray members() {
    if (cluster != null) {
      return cluster.members();
    }
    return new JsonArray().add(new JsonObject().put("node", node)
        .put("roles", new JsonArray(spec.roles().stream().map(Role::id).sorted().toList())).put("self", true));
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

  /** The {@code kafka} section; with {@code kafka.embedded}, the broker started first and its address in it. */
  private Future<JsonObject> kafkaSection(MeshConfig config) {
    JsonObject section = config.section("kafka");
    if (!section.getBoolean("embedded", false)) {
      return Future.succeededFuture(section);
    }
    return vertx.executeBlocking(() -> {
      kafka = EmbeddedKafka.start(config.dataDir().resolve("kafka"), section.getInteger("embeddedPort", 9092));
      return section.put("bootstrapServers", kafka.bootstrapServers());
    });
  }

  /** The embedded Kafka broker, or null. */
  public EmbeddedKafka embeddedKafka() {
    return kafka;
  }

  /** The STT section as a verticle (or a speech worker) takes it: the bundled model cached in the data folder. */
  public static JsonObject sttConfig(MeshConfig config, String node) {
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

  /** The gateway's address on this host: https when it serves TLS. */
  public String baseUrl() {
    return (tls != null ? "https" : "http") + "://localhost:" + httpPort() + "/";
  }

  /** The file of the certificate the gateway serves, or null when it serves plain HTTP. */
  public Path tlsCertificate() {
    return tls == null ? null : tls.cert();
  }

  /** The node's HTTP port: the gateway's, or the health server's on a node without one. */
  public int httpPort() {
    return gateway != null ? gateway.actualPort() : nodeHttp.actualPort();
  }

  public NodeSpec spec() {
    return spec;
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

  /**
   * The graceful part of stopping, within {@code drainMs} less what {@link #closeAsync} needs: first
   * the gateway (stops listening, lets turns in flight finish, sends its clients away, stores their
   * events), then the STT, LLM and TTS roles (take nothing new, finish or hand over what they hold)
   * — in the all-in-one mesh the gateway's turns need them until it is done. The session role and
   * PostgreSQL stay until {@link #closeAsync}. The future completes when all are done, or fails at
   * the deadline.
   */
  public Future<Void> drain(long drainMs) {
    long start = System.currentTimeMillis();
    long deadline = start + drainMs - Math.min(CLOSE_RESERVE_MS, drainMs / 5);
    Future<Void> front = gateway != null ? gateway.drain(deadline) : Future.succeededFuture();
    return front
        .transform(v -> Future.join(stages.stream().map(stage -> stage.drain(deadline)).toList()))
        .<Void>mapEmpty()
        .andThen(done -> LOG.info("node {} drained in {} ms", node, System.currentTimeMillis() - start));
  }

  /** The end of a drain kept for closing Vert.x (leaving the cluster) and PostgreSQL. */
  private static final long CLOSE_RESERVE_MS = 1_500;

  public Future<Void> closeAsync() {
    if (nodeReports != null) {
      nodeReports.stop();
    }
    return vertx.close().eventually(() -> {
      try {
        if (kafka != null) {
          kafka.close();
        }
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
