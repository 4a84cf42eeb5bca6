package io.voicemesh.launcher;

import io.voicemesh.api.Role;
import java.io.File;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code voicemesh node --roles gateway,session,…}: one clustered node with the roles given,
 * joining the others over Hazelcast (the repository's {@code cluster.xml} unless told otherwise).
 */
@Command(name = "node", mixinStandardHelpOptions = true,
    description = "Start a clustered node with some of the roles gateway, session, stt, llm, tts. "
        + "Nodes find each other with the Hazelcast settings of cluster.xml (loopback by default).")
final class NodeCommand implements Callable<Integer> {

  @Option(names = "--roles", required = true, split = ",", paramLabel = "ROLE",
      description = "comma-separated: gateway, session, stt, llm, tts")
  List<String> roles;

  @Mixin
  MeshOptions options;

  @Option(names = "--name", description = "this node's name in health reports, logs and events "
      + "(default: host name and process id, or voicemesh.node)")
  String name;

  @Option(names = "--cluster-config", paramLabel = "FILE",
      description = "Hazelcast XML (default: ./cluster.xml, else the copy inside the jar)")
  File clusterConfig;

  @Option(names = "--cluster-host", paramLabel = "ADDRESS",
      description = "address the event bus binds and announces (default 127.0.0.1; the pod IP on Kubernetes)")
  String clusterHost;

  @Option(names = "--embedded-postgres", description = "start an embedded PostgreSQL in the data folder for the "
      + "session role (a whole cluster on one machine)")
  boolean embeddedPostgres;

  @Override
  public Integer call() throws Exception {
    Set<Role> chosen = EnumSet.noneOf(Role.class);
    roles.forEach(role -> chosen.add(Role.of(role)));
    Map<String, Object> overrides = new HashMap<>();
    if (name != null) {
      overrides.put("voicemesh.node", name);
    }
    if (clusterConfig != null) {
      overrides.put("voicemesh.cluster.config", clusterConfig.getPath());
    }
    if (clusterHost != null) {
      overrides.put("voicemesh.cluster.host", clusterHost);
    }
    MeshConfig config = options.load(overrides);
    long drainMs = config.drainMs();
    Mesh mesh = Mesh.start(config, new Mesh.NodeSpec(chosen, true, embeddedPostgres)).await(10, TimeUnit.MINUTES);
    return GracefulStop.runUntilStopped(mesh, drainMs);
  }
}
