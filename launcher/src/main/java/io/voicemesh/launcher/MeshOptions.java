package io.voicemesh.launcher;

import java.util.HashMap;
import java.util.Map;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The options every command that starts a node shares: where its settings, data and database are. */
final class MeshOptions {

  @Mixin
  ConfigOptions config;

  @Option(names = "--port", description = "HTTP port: the gateway's, or /health and /metrics on a node without it "
      + "(default 8080, or voicemesh.gateway.port)")
  Integer port;

  @Option(names = "--postgres-uri", paramLabel = "URI", description = "PostgreSQL for the session role "
      + "(all-in-one default: an embedded one)")
  String postgresUri;

  @Option(names = "--drain-ms", paramLabel = "MS", description = "on SIGTERM or Ctrl-C, how long the node may take "
      + "to stop gracefully: finish turns in flight, send clients away, store every event (default 10000, or voicemesh.drainMs)")
  Long drainMs;

  @Option(names = "--bridge-port", paramLabel = "PORT", description = "also serve the event-bus bridge over TCP "
      + "(vertx-tcp-eventbus-bridge) on this port, for non-browser dashboards (default: off, or voicemesh.gateway.bridge.tcpPort)")
  Integer bridgePort;

  @Option(names = "--tls-cert", paramLabel = "FILE", description = "serve HTTPS and WSS with this certificate "
      + "(PEM, with its chain); needs --tls-key (or voicemesh.gateway.tls.certPath)")
  java.io.File tlsCert;

  @Option(names = "--tls-key", paramLabel = "FILE", description = "the certificate's private key (PEM) "
      + "(or voicemesh.gateway.tls.keyPath)")
  java.io.File tlsKey;

  @Option(names = "--tls-self-signed", description = "serve HTTPS and WSS with a certificate for localhost and "
      + "127.0.0.1 made once in the data folder; its path is printed for clients to trust (or voicemesh.gateway.tls.selfSigned)")
  boolean tlsSelfSigned;

  /** The configuration with these options on top, and any further {@code overrides} above them. */
  MeshConfig load(Map<String, Object> overrides) {
    Map<String, Object> all = new HashMap<>(overrides);
    if (port != null) {
      all.put("voicemesh.gateway.port", port);
    }
    if (postgresUri != null) {
      all.put("voicemesh.postgres.uri", postgresUri);
    }
    if (bridgePort != null) {
      all.put("voicemesh.gateway.bridge.tcpPort", bridgePort);
    }
    if (tlsCert != null) {
      all.put("voicemesh.gateway.tls.certPath", tlsCert.getPath());
    }
    if (tlsKey != null) {
      all.put("voicemesh.gateway.tls.keyPath", tlsKey.getPath());
    }
    if (tlsSelfSigned) {
      all.put("voicemesh.gateway.tls.selfSigned", true);
    }
    if (drainMs != null) {
      all.put("voicemesh.drainMs", drainMs);
    }
    return config.load(all);
  }
}
