package io.voicemesh.bench;

import com.hazelcast.config.Config;
import com.hazelcast.config.FileSystemXmlConfig;
import com.hazelcast.config.MultiMapConfig;
import com.hazelcast.config.NetworkConfig;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Figure 1: one-way latency of a 20 ms audio frame (640-byte Buffer) on the event bus, gateway →
 * STT, between two clustered Vert.x nodes (Hazelcast, loopback) in this JVM, and on one local
 * Vert.x as the baseline. {@code streams} consumers (one address each, like the STT streams) get
 * frames at {@code streams × fps} per second, paced by deadline; the send time travels in the body.
 */
final class EventBusHop {
  private static final int PROBE = 1;
  private static final int WARMUP = 2;
  private static final int MEASURED = 3;

  private final int frames;
  private final int warmupFrames;
  private final int streams;
  private final int fps;

  EventBusHop(int frames, int warmupFrames, int streams, int fps) {
    this.frames = frames;
    this.warmupFrames = warmupFrames;
    this.streams = streams;
    this.fps = fps;
  }

  /** Two clustered nodes: consumers on B, sender on A. */
  LatencyRecorder.Percentiles clustered(Path clusterXml, String clusterName) throws Exception {
    Vertx a = null;
    Vertx b = null;
    try {
      HazelcastClusterManager managerA = new HazelcastClusterManager(hazelcastConfig(clusterXml, clusterName));
      a = clusteredNode(managerA);
      b = clusteredNode(new HazelcastClusterManager(hazelcastConfig(clusterXml, clusterName)));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (managerA.getNodes().size() < 2) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the two Hazelcast nodes did not see each other within 60 s");
        }
        Thread.sleep(50);
      }
      return measure(a, b);
    } finally {
      close(a);
      close(b);
    }
  }

  /** Baseline: sender and consumers on one non-clustered Vert.x (local delivery). */
  LatencyRecorder.Percentiles local() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      return measure(vertx, vertx);
    } finally {
      close(vertx);
    }
  }

  private LatencyRecorder.Percentiles measure(Vertx sender, Vertx receiver) throws Exception {
    LatencyRecorder recorder = new LatencyRecorder();
    CountDownLatch measured = new CountDownLatch(frames);
    String prefix = "bench.hop." + java.util.UUID.randomUUID() + ".";
    List<MessageConsumer<Buffer>> consumers = new ArrayList<>();
    for (int s = 0; s < streams; s++) {
      consumers.add(receiver.eventBus().<Buffer>consumer(prefix + s, message -> {
        long now = System.nanoTime();
        Buffer body = message.body();
        switch (body.getByte(8)) {
          case PROBE -> message.reply("ok");
          case MEASURED -> {
            recorder.record(now - body.getLong(0));
            measured.countDown();
          }
          default -> { }
        }
      }));
    }
    Future.all(consumers.stream().map(MessageConsumer::completion).toList()).await(30, TimeUnit.SECONDS);
    // The registrations must have reached the sender's node: probe every address until it answers.
    long probeDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    for (int s = 0; s < streams; s++) {
      while (true) {
        Buffer probe = Buffer.buffer(new byte[PcmClock.FRAME_BYTES]);
        probe.setByte(8, (byte) PROBE);
        try {
          sender.eventBus().request(prefix + s, probe, new DeliveryOptions().setSendTimeout(2_000))
              .await(5, TimeUnit.SECONDS);
          break;
        } catch (Exception notYet) {
          if (System.nanoTime() > probeDeadline) {
            throw new IllegalStateException("consumer " + s + " unreachable from the sending node", notYet);
          }
          Thread.sleep(50);
        }
      }
    }

    int total = warmupFrames + frames;
    double perSecond = (double) streams * fps;
    AtomicLong sent = new AtomicLong();
    long[] timer = {-1};
    Context context = sender.getOrCreateContext();
    CountDownLatch started = new CountDownLatch(1);
    recorder.start();
    context.runOnContext(v -> {
      long start = System.nanoTime();
      timer[0] = sender.setPeriodic(2, id -> {
        long due = Math.min(total, (long) ((System.nanoTime() - start) * perSecond / 1e9) + 1);
        for (long n = sent.get(); n < due; n++) {
          Buffer frame = Buffer.buffer(new byte[PcmClock.FRAME_BYTES]);
          frame.setByte(8, (byte) (n < warmupFrames ? WARMUP : MEASURED));
          frame.setLong(0, System.nanoTime());
          sender.eventBus().send(prefix + (n % streams), frame);
          sent.set(n + 1);
        }
        if (sent.get() >= total) {
          sender.cancelTimer(id);
        }
      });
      started.countDown();
    });
    long expectedMs = (long) (total / perSecond * 1000);
    try {
      started.await(10, TimeUnit.SECONDS);
      if (!measured.await(expectedMs + 30_000, TimeUnit.MILLISECONDS)) {
        throw new IllegalStateException("only " + (frames - measured.getCount()) + " of " + frames
            + " frames arrived within " + (expectedMs + 30_000) + " ms");
      }
    } finally {
      recorder.stop();
      context.runOnContext(v -> sender.cancelTimer(timer[0]));
      Future.join(consumers.stream().map(MessageConsumer::unregister).toList()).await(10, TimeUnit.SECONDS);
    }
    return recorder.percentiles();
  }

  private static Vertx clusteredNode(HazelcastClusterManager manager) throws Exception {
    VertxOptions options = new VertxOptions().setEventBusOptions(new EventBusOptions()
        .setHost("127.0.0.1").setClusterPublicHost("127.0.0.1").setPort(0));
    return Vertx.builder().with(options).withClusterManager(manager)
        .buildClustered().await(90, TimeUnit.SECONDS);
  }

  /**
   * The repository's cluster.xml when given, else the same settings written here; always under
   * our own cluster name, so the bench never joins a VoiceMesh cluster running on this host.
   */
  static Config hazelcastConfig(Path clusterXml, String clusterName) throws IOException {
    Config config = clusterXml != null && Files.isRegularFile(clusterXml)
        ? new FileSystemXmlConfig(clusterXml.toFile()) : sameAsClusterXml();
    return config.setClusterName(clusterName);
  }

  private static Config sameAsClusterXml() {
    Config config = new Config();
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.setProperty("hazelcast.wait.seconds.before.join", "1");
    config.setProperty("hazelcast.max.wait.seconds.before.join", "2");
    config.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    config.setProperty("hazelcast.max.no.heartbeat.seconds", "10");
    config.setProperty("hazelcast.logging.type", "slf4j");
    NetworkConfig network = config.getNetworkConfig();
    network.setPort(5701).setPortAutoIncrement(true).setPortCount(20);
    network.getJoin().getAutoDetectionConfig().setEnabled(false);
    network.getJoin().getMulticastConfig().setEnabled(false);
    network.getJoin().getTcpIpConfig().setEnabled(true).addMember("127.0.0.1");
    network.getInterfaces().setEnabled(true).addInterface("127.0.0.1");
    config.addMultiMapConfig(new MultiMapConfig("__vertx.subs").setBackupCount(1)
        .setValueCollectionType(MultiMapConfig.ValueCollectionType.SET));
    config.getMapConfig("__vertx.haInfo").setBackupCount(1);
    config.getMapConfig("__vertx.nodeInfo").setBackupCount(1);
    config.getCPSubsystemConfig().setCPMemberCount(0);
    return config;
  }

  /** cluster.xml in the working directory or the nearest parent that has one. */
  static Path findClusterXml() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve("cluster.xml");
      if (Files.isRegularFile(candidate)) {
        return candidate;
      }
    }
    return null;
  }

  static void close(Vertx vertx) {
    if (vertx != null) {
      try {
        vertx.close().await(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        System.err.println("closing a Vert.x instance: " + e);
      }
    }
  }
}
