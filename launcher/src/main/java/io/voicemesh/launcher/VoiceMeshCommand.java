package io.voicemesh.launcher;

import io.voicemesh.launcher.worker.WorkerCommand;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code voicemesh}: with no subcommand, the whole mesh in this JVM. */
@Command(name = "voicemesh", mixinStandardHelpOptions = true, version = "VoiceMesh 0.1.0",
    subcommands = {NodeCommand.class, WorkerCommand.class, TokenCommand.class},
    description = "Real-time voice-agent server. With no command: every role in one JVM, "
        + "embedded PostgreSQL and speech engines, web page on http://localhost:8080/.")
public final class VoiceMeshCommand implements Callable<Integer> {

  @Mixin
  MeshOptions options;

  @Option(names = "--embedded-kafka", description = "start a Kafka broker (KRaft) in this JVM on 127.0.0.1, its log "
      + "in the data folder, and relay every session event to it (topic voicemesh.session-events)")
  boolean embeddedKafka;

  @Option(names = "--kafka-port", paramLabel = "PORT", description = "the embedded broker's port (default 9092)")
  Integer kafkaPort;

  @Override
  public Integer call() throws Exception {
    Map<String, Object> overrides = new HashMap<>();
    if (embeddedKafka) {
      overrides.put("voicemesh.kafka.embedded", true);
    }
    if (kafkaPort != null) {
      overrides.put("voicemesh.kafka.embeddedPort", kafkaPort);
    }
    MeshConfig config = options.load(overrides);
    long drainMs = config.drainMs();
    return GracefulStop.runUntilStopped(Mesh.start(config).await(10, TimeUnit.MINUTES), drainMs);
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new VoiceMeshCommand()).execute(args));
  }
}
