package io.voicemesh.launcher;

import java.io.File;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code voicemesh}: with no subcommand, the whole mesh in this JVM. */
@Command(name = "voicemesh", mixinStandardHelpOptions = true, version = "VoiceMesh 0.1.0",
    subcommands = {NodeCommand.class, TokenCommand.class},
    description = "Real-time voice-agent server. With no command: every role in one JVM, "
        + "embedded PostgreSQL and speech engines, web page on http://localhost:8080/.")
public final class VoiceMeshCommand implements Callable<Integer> {

  @Option(names = "--port", description = "HTTP port (default 8080, or voicemesh.gateway.port)")
  Integer port;

  @Option(names = "--config", paramLabel = "FILE", description = "HOCON or JSON file with voicemesh.* settings")
  File configFile;

  @Option(names = "--data-dir", paramLabel = "DIR", description = "where embedded PostgreSQL and models live "
      + "(default ./voicemesh-data)")
  File dataDir;

  @Option(names = "--postgres-uri", paramLabel = "URI", description = "use this PostgreSQL instead of the embedded one")
  String postgresUri;

  @Override
  public Integer call() throws Exception {
    Map<String, Object> overrides = new HashMap<>();
    if (port != null) {
      overrides.put("voicemesh.gateway.port", port);
    }
    if (dataDir != null) {
      overrides.put("voicemesh.dataDir", dataDir.getPath());
    }
    if (postgresUri != null) {
      overrides.put("voicemesh.postgres.uri", postgresUri);
    }
    return runUntilStopped(Mesh.start(MeshConfig.load(configFile, overrides)).await(10, TimeUnit.MINUTES));
  }

  /** Keeps the process up until SIGTERM / Ctrl-C, then closes the node (its verticles stop cleanly). */
  static int runUntilStopped(Mesh mesh) throws InterruptedException {
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        mesh.close();
      } catch (Exception e) {
        System.err.println("shutdown: " + e);
      }
      stopped.countDown();
    }, "voicemesh-shutdown"));
    stopped.await();
    return 0;
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new VoiceMeshCommand()).execute(args));
  }
}
