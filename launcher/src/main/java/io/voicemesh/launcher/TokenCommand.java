package io.voicemesh.launcher;

import com.typesafe.config.ConfigFactory;
import io.vertx.core.Vertx;
import io.voicemesh.gateway.JwtTokens;
import java.io.File;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code voicemesh token --user NAME [--ttl 12h] [--session ID] [--admin]}: prints a token signed with
 * the configured key; {@code --admin} grants the role {@code admin} (dashboards: every session and node).
 */
@Command(name = "token", mixinStandardHelpOptions = true,
    description = "Print a JWT for a user, signed with the mesh's key (auth.secret, auth.privateKeyFile, "
        + "or the local secret in the data folder).")
final class TokenCommand implements Callable<Integer> {

  @Option(names = "--user", required = true, description = "the user the token names (sub)")
  String user;

  @Option(names = "--ttl", defaultValue = "12h", description = "how long it is valid, e.g. 30m, 12h, 7d (default 12h)")
  String ttl;

  @Option(names = "--session", paramLabel = "ID", description = "limit the token to this session")
  String session;

  @Option(names = "--admin", description = "grant the admin role (roles: [\"admin\"]): watch every session and "
      + "node on the event-bus bridge and /dashboard")
  boolean admin;

  @Option(names = "--config", paramLabel = "FILE", description = "HOCON or JSON file with voicemesh.* settings")
  File configFile;

  @Option(names = "--data-dir", paramLabel = "DIR", description = "the data folder of the mesh (default ./voicemesh-data)")
  File dataDir;

  @Override
  public Integer call() throws Exception {
    // stdout carries the token alone (TOKEN=$(voicemesh token ...)): no informational log lines.
    ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
        .setLevel(ch.qos.logback.classic.Level.ERROR);
    Duration validFor = ConfigFactory.parseString("ttl = \"" + ttl.replace("\"", "") + "\"").getDuration("ttl");
    if (validFor.isNegative() || validFor.isZero()) {
      throw new IllegalArgumentException("--ttl must be positive");
    }
    Map<String, Object> overrides = new HashMap<>();
    if (dataDir != null) {
      overrides.put("voicemesh.dataDir", dataDir.getPath());
    }
    AuthKeys keys = AuthKeys.resolve(MeshConfig.load(configFile, overrides));
    Vertx vertx = Vertx.vertx();
    try {
      JwtTokens tokens = JwtTokens.from(vertx, keys.gatewayAuth());
      if (validFor.toSeconds() > tokens.maxLifetimeSeconds()) {
        throw new IllegalArgumentException("--ttl " + ttl + " is longer than the mesh accepts: auth.maxTokenLifetimeSeconds is "
            + tokens.maxLifetimeSeconds() + " s (" + Duration.ofSeconds(tokens.maxLifetimeSeconds()).toDays() + " days)");
      }
      System.out.println(tokens.mint(user, session, Instant.now().plus(validFor),
          admin ? java.util.List.of(io.voicemesh.gateway.Caller.ADMIN) : java.util.List.of()).token());
      return 0;
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }
}
