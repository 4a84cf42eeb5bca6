package io.voicemesh.launcher;

import java.io.File;
import java.util.HashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/** The options every command that starts a node shares: where its settings, data and database are. */
final class MeshOptions {

  @Option(names = "--port", description = "HTTP port: the gateway's, or /health and /metrics on a node without it "
      + "(default 8080, or voicemesh.gateway.port)")
  Integer port;

  @Option(names = "--config", paramLabel = "FILE", description = "HOCON or JSON file with voicemesh.* settings")
  File configFile;

  @Option(names = "--data-dir", paramLabel = "DIR", description = "where embedded PostgreSQL, models and keys live "
      + "(default ./voicemesh-data)")
  File dataDir;

  @Option(names = "--postgres-uri", paramLabel = "URI", description = "PostgreSQL for the session role "
      + "(all-in-one default: an embedded one)")
  String postgresUri;

  /** The configuration with these options on top, and any further {@code overrides} above them. */
  MeshConfig load(Map<String, Object> overrides) {
    Map<String, Object> all = new HashMap<>(overrides);
    if (port != null) {
      all.put("voicemesh.gateway.port", port);
    }
    if (dataDir != null) {
      all.put("voicemesh.dataDir", dataDir.getPath());
    }
    if (postgresUri != null) {
      all.put("voicemesh.postgres.uri", postgresUri);
    }
    return MeshConfig.load(configFile, all);
  }
}
