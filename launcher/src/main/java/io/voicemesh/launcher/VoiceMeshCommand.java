package io.voicemesh.launcher;

import io.voicemesh.launcher.worker.WorkerCommand;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code voicemesh}: with no subcommand, the whole mesh in this JVM. */
@Command(name = "voicemesh", mixinStandardHelpOptions = true, version = "VoiceMesh 0.1.0",
    subcommands = {NodeCommand.class, WorkerCommand.class, TokenCommand.class},
    description = "Real-time voice-agent server. With no command: every role in one JVM, "
        + "embedded PostgreSQL and speech engines, web page on http://localhost:8080/.")
public final class VoiceMeshCommand implements Callable<Integer> {

  @Mixin
  MeshOptions options;

  @Override
  public Integer call() throws Exception {
    MeshConfig config = options.load(Map.of());
    long drainMs = config.drainMs();
    return GracefulStop.runUntilStopped(Mesh.start(config).await(10, TimeUnit.MINUTES), drainMs);
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new VoiceMeshCommand()).execute(args));
  }
}
