package io.voicemesh.launcher;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;
import io.vertx.core.json.JsonObject;
import java.io.File;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.Map;

/**
 * The layered configuration, highest first: command-line options, {@code CONFIG_FORCE_*}
 * environment variables, the {@code VOICEMESH_*} variables of {@code env.conf}, the file given
 * with {@code --config}, and {@code reference.conf}.
 */
public final class MeshConfig {
  private final Config config;

  private MeshConfig(Config config) {
    this.config = config;
  }

  public static MeshConfig load(File file, Map<String, Object> overrides) {
    if (file != null && !file.isFile()) {
      throw new IllegalArgumentException("no configuration file " + file);
    }
    Config fromFile = file == null ? ConfigFactory.empty()
        : ConfigFactory.parseFile(file, ConfigParseOptions.defaults().setAllowMissing(false));
    Config env = ConfigFactory.parseResources(MeshConfig.class.getClassLoader(), "env.conf");
    Config cli = ConfigFactory.parseMap(overrides);
    Config reference = ConfigFactory.defaultReference(MeshConfig.class.getClassLoader());
    Config merged = cli
        .withFallback(ConfigFactory.systemEnvironmentOverrides())
        .withFallback(env)
        .withFallback(fromFile)
        .withFallback(reference)
        .resolve();
    return new MeshConfig(typedLikeReference(merged, reference).getConfig("voicemesh"));
  }

  /**
   * Environment variables are strings ("8080"); where reference.conf has a number or a boolean, the
   * value becomes one, so the verticles' JSON config holds 8080, not "8080". A value that is no
   * number fails here, naming its key.
   */
  private static Config typedLikeReference(Config merged, Config reference) {
    Config typed = merged;
    for (var entry : reference.entrySet()) {
      String path = entry.getKey();
      ConfigValueType expected = entry.getValue().valueType();
      if (!merged.hasPath(path) || merged.getValue(path).valueType() != ConfigValueType.STRING) {
        continue;
      }
      if (expected == ConfigValueType.NUMBER) {
        typed = typed.withValue(path, ConfigValueFactory.fromAnyRef(merged.getNumber(path)));
      } else if (expected == ConfigValueType.BOOLEAN) {
        typed = typed.withValue(path, ConfigValueFactory.fromAnyRef(merged.getBoolean(path)));
      }
    }
    return typed;
  }

  public MeshConfig with(String path, Object value) {
    return new MeshConfig(config.withValue(path, ConfigValueFactory.fromAnyRef(value)));
  }

  public String node() {
    String node = config.getString("node");
    if (!node.isBlank()) {
      return node;
    }
    try {
      return InetAddress.getLocalHost().getHostName() + "-" + ProcessHandle.current().pid();
    } catch (java.net.UnknownHostException e) {
      return "node-" + ProcessHandle.current().pid();
    }
  }

  public Path dataDir() {
    return Path.of(config.getString("dataDir")).toAbsolutePath();
  }

  public String postgresUri() {
    return config.getString("postgres.uri");
  }

  /** The Hazelcast XML of a clustered node; empty: ./cluster.xml, else the copy in the jar. */
  public String clusterConfig() {
    return config.getString("cluster.config");
  }

  /** The address this node's event bus binds and announces to the others. */
  public String clusterHost() {
    return config.getString("cluster.host");
  }

  public int clusterEventBusPort() {
    return config.getInt("cluster.eventBusPort");
  }

  /** How long a node may take to stop gracefully on SIGTERM (drain, then close); rejected at start if not positive. */
  public long drainMs() {
    long drainMs = config.getLong("drainMs");
    if (drainMs <= 0) {
      throw new IllegalArgumentException("voicemesh.drainMs must be a positive number of milliseconds; got " + drainMs);
    }
    return drainMs;
  }

  public long maxEventLoopExecuteTimeMs() {
    return config.getLong("vertx.maxEventLoopExecuteTimeMs");
  }

  /** One section as the JSON a verticle takes as its config. */
  public JsonObject section(String path) {
    return new JsonObject(config.getConfig(path).root().render(ConfigRenderOptions.concise()));
  }
}
