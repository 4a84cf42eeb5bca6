package io.voicemesh.launcher;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Exit;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Kafka broker (KRaft: broker and controller in one, no ZooKeeper) in this JVM,
 * bound to 127.0.0.1, its log kept in {@code <dir>} across restarts: {@code --embedded-kafka} for
 * local use, and the tests. Production points {@code kafka.bootstrapServers} at a real cluster.
 *
 * <p>The storage is formatted once (cluster id and controller port kept in {@code <dir>/embedded.properties}),
 * so a broker started again on the same folder finds its topics and offsets.
 */
public final class EmbeddedKafka implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);

  private final Path dir;
  private final int port;
  private final int controllerPort;
  private final KafkaRaftServer server;

  private EmbeddedKafka(Path dir, int port, int controllerPort, KafkaRaftServer server) {
    this.dir = dir;
    this.port = port;
    this.controllerPort = controllerPort;
    this.server = server;
  }

  /** Starts a broker on {@code 127.0.0.1:port} (0: a free port) with its log in {@code dir}; blocks ≈ 1–2 s. */
  public static EmbeddedKafka start(Path dir, int port) throws IOException {
    Path logs = Files.createDirectories(dir.resolve("logs"));
    Path saved = dir.resolve("embedded.properties");
    Properties identity = new Properties();
    if (Files.isRegularFile(saved)) {
      try (var in = Files.newInputStream(saved)) {
        identity.load(in);
      }
    } else {
      identity.setProperty("cluster.id", Uuid.randomUuid().toString());
      identity.setProperty("controller.port", Integer.toString(freePort()));
    }
    int brokerPort = port > 0 ? port : freePort();
    int controllerPort = Integer.parseInt(identity.getProperty("controller.port"));
    Properties props = new Properties();
    props.setProperty("process.roles", "broker,controller");
    props.setProperty("node.id", "1");
    props.setProperty("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
    props.setProperty("listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
    props.setProperty("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort);
    props.setProperty("controller.listener.names", "CONTROLLER");
    props.setProperty("inter.broker.listener.name", "PLAINTEXT");
    props.setProperty("listener.security.protocol.map", "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT");
    props.setProperty("log.dirs", logs.toString());
    props.setProperty("offsets.topic.replication.factor", "1");
    props.setProperty("transaction.state.log.replication.factor", "1");
    props.setProperty("transaction.state.log.min.isr", "1");
    props.setProperty("group.initial.rebalance.delay.ms", "0");
    props.setProperty("num.partitions", "1");
    props.setProperty("auto.create.topics.enable", "true");
    Path config = dir.resolve("server.properties");
    try (OutputStream out = Files.newOutputStream(config)) {
      props.store(out, "written by VoiceMesh's embedded Kafka at each start");
    }
    format(identity.getProperty("cluster.id"), config);
    if (!Files.isRegularFile(saved)) {
      try (OutputStream out = Files.newOutputStream(saved)) {
        identity.store(out, "the embedded broker's cluster id and controller port, kept for restarts");
      }
    }
    KafkaRaftServer server = new KafkaRaftServer(KafkaConfig.fromProps(props), Time.SYSTEM);
    server.startup();
    LOG.info("embedded Kafka (KRaft) on 127.0.0.1:{}, log in {}", brokerPort, logs);
    return new EmbeddedKafka(dir, brokerPort, controllerPort, server);
  }

  /** {@code kafka-storage format --ignore-formatted}: StorageTool ends with Exit.exit, caught here. */
  private static synchronized void format(String clusterId, Path config) {
    final class Exited extends RuntimeException {
      final int code;

      Exited(int code) {
        super(null, null, false, false);
        this.code = code;
      }
    }
    Exit.setExitProcedure((code, message) -> {
      throw new Exited(code);
    });
    try {
      StorageTool.main(new String[] {"format", "-t", clusterId, "-c", config.toString(), "--ignore-formatted"});
    } catch (Exited exited) {
      if (exited.code != 0) {
        throw new IllegalStateException("formatting the embedded Kafka storage failed (exit " + exited.code + ")");
      }
    } finally {
      Exit.resetExitProcedure();
    }
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public String bootstrapServers() {
    return "127.0.0.1:" + port;
  }

  public int port() {
    return port;
  }

  public Path dir() {
    return dir;
  }

  @Override
  public void close() {
    server.shutdown();
    server.awaitShutdown();
    LOG.info("embedded Kafka on 127.0.0.1:{} stopped", port);
  }
}
