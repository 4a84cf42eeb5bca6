package io.voicemesh.launcher;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValueFactory;
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
    Config merged = cli
        .withFallback(ConfigFactory.systemEnvironmentOverrides())
        .withFallback(env)
        .withFallback(fromFile)
        .withFallback(ConfigFactory.defaultReference(MeshConfig.class.getClassLoader()))
        .resolve();
    return new MeshConfig(merged.getConfig("voicemesh"));
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

  public long maxEventLoopExecuteTimeMs() {
    return config.getLong("vertx.maxEventLoopExecuteTimeMs");
  }

  /** One section as the JSON a verticle takes as its config. */
  public JsonObject section(String path) {
    return new JsonObject(config.getConfig(path).root().render(ConfigRenderOptions.concise()));
  }
}
